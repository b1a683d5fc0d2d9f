// Greedy-by-size, best-fit activation memory planner (see memory_planner.h).
#include "builder/memory_planner.h"

#include <algorithm>
#include <numeric>

namespace trt {

MemoryPlan planMemory(const std::vector<TensorLifetime>& tensors) {
  MemoryPlan plan;
  plan.offsets.assign(tensors.size(), -1);
  auto aligned = [](int64_t b) { return (b + kArenaAlignment - 1) / kArenaAlignment * kArenaAlignment; };
  std::vector<size_t> order(tensors.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return tensors[a].bytes > tensors[b].bytes; });
  struct Placed {
    int64_t offset, size;
    int first, last;
  };
  std::vector<Placed> placed;
  for (size_t idx : order) {
    const TensorLifetime& t = tensors[idx];
    if (t.bytes <= 0) continue;
    const int64_t size = aligned(t.bytes);
    plan.totalBytes += size;
    // Intervals already placed whose lifetimes overlap, sorted by offset.
    std::vector<Placed> live;
    for (const Placed& p : placed)
      if (p.first <= t.last && t.first <= p.last) live.push_back(p);
    std::sort(live.begin(), live.end(), [](const Placed& a, const Placed& b) { return a.offset < b.offset; });
    // Best fit: the smallest gap between live intervals that holds the tensor, else the top.
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

}  // namespace trt
