// Parallel branches (side_stream.h).
#include "runtime/side_stream.h"

#include <algorithm>

namespace trt {

std::vector<SideLayer> planSideLayers(const Network& net, const std::vector<bool>& skip,
                                      const Backend& backend) {
  const int nl = static_cast<int>(net.layers().size());
  std::vector<int> producer(net.tensors().size(), -1);
  for (int li = 0; li < nl; ++li)
    if (!skip[li])
      for (int o : net.layers()[li].outputs)
        if (o >= 0) producer[o] = li;
  std::vector<bool> side(nl, false);
  std::vector<SideLayer> r;
  for (int li = 0; li < nl; ++li) {
    const Layer& l = net.layers()[li];
    if (skip[li] || l.outputs.size() != 1 || l.outputs[0] < 0 || !backend.runsBeside(l)) continue;
    const int out = l.outputs[0];
    if (net.tensor(out).isOutput) continue;  // (bound by the user: the join would be the end)
    int fork = 0;
    for (int i : l.inputs)
      if (i >= 0) fork = std::max(fork, producer[i] + 1);
    int join = nl;
    for (int k = li + 1; k < nl && join == nl; ++k)
      for (int i : net.layers()[k].inputs)
        if (i == out) join = k;
    // Something on the main stream to overlap with, between the fork and the join.
    bool overlap = false;
    for (int k = fork; k < join && !overlap; ++k) overlap = k != li && !skip[k] && !side[k];
    if (!overlap) continue;
    side[li] = true;
    r.push_back({li, fork, join});
  }
  return r;
}

}  // namespace trt
