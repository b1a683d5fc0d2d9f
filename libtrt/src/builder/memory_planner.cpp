// Activation memory planner: best-fit placement over several greedy orders (see memory_planner.h).
#include "builder/memory_planner.h"

#include <algorithm>
#include <numeric>

#include "backends/backend.h"
#include "trt/network.h"

namespace trt {
namespace {

int64_t aligned(int64_t b) {
  return (b + kArenaAlignment - 1) / kArenaAlignment * kArenaAlignment;
}

// Places the tensors in `order`, each into the smallest gap between the already-placed tensors
// whose lifetimes intersect its own that holds it, else on top of them.
MemoryPlan placeInOrder(const std::vector<TensorLifetime>& tensors, const std::vector<size_t>& order) {
  MemoryPlan plan;
  plan.offsets.assign(tensors.size(), -1);
  struct Placed {
    int64_t offset, size;
    int first, last;
  };
  std::vector<Placed> placed, live;
  for (size_t idx : order) {
    const TensorLifetime& t = tensors[idx];
    if (t.bytes <= 0) continue;
    const int64_t size = aligned(t.bytes);
    plan.totalBytes += size;
    live.clear();
    for (const Placed& p : placed)
      if (p.first <= t.last && t.first <= p.last) live.push_back(p);
    std::sort(live.begin(), live.end(), [](const Placed& a, const Placed& b) { return a.offset < b.offset; });
    int64_t offset = -1, bestGap = 0, cursor = 0;
    for (const Placed& p : live) {
      const int64_t gap = p.offset - cursor;
      if (gap >= size && (offset < 0 || gap < bestGap)) {
        offset = cursor;
        bestGap = gap;
      }
      cursor = std::max(cursor, p.offset + p.size);
    }
    if (offset < 0) offset = cursor;
    placed.push_back({offset, size, t.first, t.last});
    plan.offsets[idx] = offset;
    plan.arenaBytes = std::max(plan.arenaBytes, offset + size);
  }
  return plan;
}

// Greedy by breadth (Pisarchyk and Lee, "Efficient Memory Management for Deep Neural Net
// Inference", 2020): the steps with the most live bytes first, each step's unplaced tensors
// largest first, so the tensors that make up the peaks are packed before anything can fragment
// the space they need.
std::vector<size_t> breadthOrder(const std::vector<TensorLifetime>& t) {
  int steps = 0;
  for (const auto& x : t) steps = std::max(steps, x.last + 1);
  std::vector<int64_t> breadth(steps, 0);
  for (const auto& x : t)
    for (int s = x.first; s <= x.last; ++s) breadth[s] += aligned(x.bytes);
  std::vector<int> byBreadth(steps);
  std::iota(byBreadth.begin(), byBreadth.end(), 0);
  std::stable_sort(byBreadth.begin(), byBreadth.end(), [&](int a, int b) { return breadth[a] > breadth[b]; });
  std::vector<size_t> bySize(t.size());
  std::iota(bySize.begin(), bySize.end(), 0);
  std::stable_sort(bySize.begin(), bySize.end(), [&](size_t a, size_t b) { return t[a].bytes > t[b].bytes; });
  std::vector<bool> taken(t.size(), false);
  std::vector<size_t> order;
  for (int s : byBreadth)
    for (size_t i : bySize)
      if (!taken[i] && t[i].first <= s && s <= t[i].last) {
        taken[i] = true;
        order.push_back(i);
      }
  for (size_t i : bySize)
    if (!taken[i]) order.push_back(i);
  return order;
}

}  // namespace

MemoryPlan planMemory(const std::vector<TensorLifetime>& tensors) {
  std::vector<size_t> bySize(tensors.size());
  std::iota(bySize.begin(), bySize.end(), 0);
  auto duration = [&](size_t i) { return static_cast<int64_t>(tensors[i].last - tensors[i].first + 1); };
  std::stable_sort(bySize.begin(), bySize.end(), [&](size_t a, size_t b) {
    return tensors[a].bytes != tensors[b].bytes ? tensors[a].bytes > tensors[b].bytes
                                                : duration(a) > duration(b);
  });
  std::vector<size_t> byArea = bySize;
  std::stable_sort(byArea.begin(), byArea.end(), [&](size_t a, size_t b) {
    return tensors[a].bytes * duration(a) > tensors[b].bytes * duration(b);
  });
  MemoryPlan best = placeInOrder(tensors, bySize);
  for (const std::vector<size_t>& order : {breadthOrder(tensors), byArea}) {
    MemoryPlan p = placeInOrder(tensors, order);
    if (p.arenaBytes < best.arenaBytes) best = std::move(p);
  }
  return best;
}

bool isViewOp(const std::string& type) {
  return type == "Reshape" || type == "Flatten" || type == "Squeeze" || type == "Unsqueeze" ||
         type == "Identity";
}

bool readElsewhere(const Layer& layer, int slot, const std::vector<int>& inPlaceSlots) {
  const int t = layer.inputs[slot];
  for (size_t k = 0; k < layer.inputs.size(); ++k)
    if (layer.inputs[k] == t &&
        std::find(inPlaceSlots.begin(), inPlaceSlots.end(), static_cast<int>(k)) == inPlaceSlots.end())
      return true;
  return false;
}

std::vector<int> planAliases(const Network& net, const Backend& backend,
                             const std::vector<AliasTensor>& tensors, std::vector<bool>& skip,
                             std::vector<int>& last) {
  const int nl = static_cast<int>(net.layers().size());
  std::vector<int> root(tensors.size());
  for (size_t t = 0; t < root.size(); ++t) root[t] = static_cast<int>(t);
  for (int li = 0; li < nl; ++li) {
    const Layer& l = net.layers()[li];
    if (skip[li] || !isViewOp(l.type) || l.inputs.empty() || l.inputs[0] < 0 || l.outputs.size() != 1)
      continue;
    const AliasTensor &in = tensors[l.inputs[0]], &out = tensors[l.outputs[0]];
    if (!in.inArena || !out.inArena || in.type != out.type || volume(in.dims) != volume(out.dims)) continue;
    root[l.outputs[0]] = root[l.inputs[0]];
    skip[li] = true;
  }
  for (size_t t = 0; t < root.size(); ++t)
    if (root[t] != static_cast<int>(t)) last[root[t]] = std::max(last[root[t]], last[t]);
  auto find = [&](int t) {
    while (root[t] != t) t = root[t];
    return t;
  };
  for (int li = 0; li < nl; ++li) {
    const Layer& l = net.layers()[li];
    if (skip[li] || l.outputs.size() != 1) continue;
    const int out = l.outputs[0];
    if (!tensors[out].inArena || root[out] != out) continue;
    const std::vector<int> slots = backend.inPlaceInputs(l);
    for (int slot : slots) {
      if (slot >= static_cast<int>(l.inputs.size())) continue;
      const int in = l.inputs[slot];
      if (in < 0 || !tensors[in].inArena || tensors[in].type != tensors[out].type ||
          tensors[in].dims != tensors[out].dims || readElsewhere(l, slot, slots))
        continue;
      const int r = find(in);
      if (last[r] != li) continue;  // the bytes are read later
      root[out] = r;
      last[r] = std::max(last[r], last[out]);
      break;
    }
  }
  for (size_t t = 0; t < root.size(); ++t) root[t] = find(static_cast<int>(t));
  for (size_t t = 0; t < root.size(); ++t)
    if (root[t] != static_cast<int>(t)) last[root[t]] = std::max(last[root[t]], last[t]);
  return root;
}

}  // namespace trt
