// Activation memory planner: best-fit placement over several greedy orders (see memory_planner.h).
#include "builder/memory_planner.h"

#include <algorithm>
#include <numeric>

#include "backends/backend.h"
#include "ir/ops/movement_params.h"
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

namespace {

// Tensor t's int64 (or int32) constant values; empty when it is not such a constant.
std::vector<int64_t> constInts(const Network& net, int t) {
  if (t < 0 || !net.tensor(t).isConstant()) return {};
  const HostTensor& c = *net.tensor(t).constant;
  std::vector<int64_t> v(static_cast<size_t>(c.numel()));
  if (c.type() == DataType::kInt64)
    std::copy(c.as<int64_t>(), c.as<int64_t>() + c.numel(), v.begin());
  else if (c.type() == DataType::kInt32)
    std::copy(c.as<int32_t>(), c.as<int32_t>() + c.numel(), v.begin());
  else
    return {};
  return v;
}

// Whether every dim of `d` before `axis` is 1: then a block of `axis` indices is contiguous.
bool outerOnes(const Dims& d, size_t axis) {
  for (size_t k = 0; k < axis && k < d.size(); ++k)
    if (d[k] != 1) return false;
  return axis < d.size();
}

// The byte offset in its input of what a Slice takes, when that is one contiguous block: one
// axis sliced with step 1, every dim before it 1; -1 otherwise.
int64_t sliceBlock(const Network& net, const Layer& l, const AliasTensor& in, const AliasTensor& out) {
  if (l.inputs.size() < 3 || in.dims.size() != out.dims.size()) return -1;
  const std::vector<int64_t> starts = constInts(net, l.inputs[1]);
  std::vector<int64_t> axes = l.inputs.size() > 3 ? constInts(net, l.inputs[3]) : std::vector<int64_t>{},
                       steps = l.inputs.size() > 4 ? constInts(net, l.inputs[4]) : std::vector<int64_t>{};
  if ((l.inputs.size() > 3 && l.inputs[3] >= 0 && axes.empty()) ||
      (l.inputs.size() > 4 && l.inputs[4] >= 0 && steps.empty()) || starts.empty())
    return -1;
  auto r = resolveSlice(in.dims, starts, constInts(net, l.inputs[2]), axes, steps);
  if (!r.isOk()) return -1;
  int cut = -1;
  for (size_t d = 0; d < in.dims.size(); ++d) {
    if (r->count[d] == in.dims[d] && r->start[d] == 0) continue;
    if (cut >= 0 || r->step[d] != 1) return -1;
    cut = static_cast<int>(d);
  }
  if (cut < 0 || !outerOnes(in.dims, static_cast<size_t>(cut))) return -1;
  int64_t inner = 1;
  for (size_t d = static_cast<size_t>(cut) + 1; d < in.dims.size(); ++d) inner *= in.dims[d];
  return r->start[cut] * inner * static_cast<int64_t>(dataTypeSize(in.type));
}

}  // namespace

std::vector<int> planAliases(const Network& net, const Backend& backend,
                             const std::vector<AliasTensor>& tensors, std::vector<bool>& skip,
                             std::vector<int>& last, std::vector<int>* first, std::vector<int64_t>* offset,
                             std::vector<int64_t>* rowStride, bool beforeTactics) {
  const int nl = static_cast<int>(net.layers().size());
  std::vector<int> root(tensors.size());
  std::vector<int64_t> off(tensors.size(), 0);  // byte offset of t in root[t]
  for (size_t t = 0; t < root.size(); ++t) root[t] = static_cast<int>(t);
  auto bytes = [&](int t) {
    return volume(tensors[t].dims) * static_cast<int64_t>(dataTypeSize(tensors[t].type));
  };
  auto find = [&](int t) {
    int64_t o = 0;
    while (root[t] != t) {
      o += off[t];
      t = root[t];
    }
    return std::make_pair(t, o);
  };
  const bool offsets = first && offset;
  for (int li = 0; li < nl; ++li) {
    const Layer& l = net.layers()[li];
    if (skip[li] || l.inputs.empty() || l.inputs[0] < 0 || l.outputs.size() != 1) continue;
    const AliasTensor &in = tensors[l.inputs[0]], &out = tensors[l.outputs[0]];
    if (!in.inArena || !out.inArena || in.type != out.type) continue;
    if (isViewOp(l.type) && volume(in.dims) == volume(out.dims)) {
      root[l.outputs[0]] = l.inputs[0];
      skip[li] = true;
    } else if (offsets && l.type == "Slice") {
      // Slice elision: a contiguous block of its input (an outer-axis slice: row bands at batch 1,
      // batch chunks) is that input's bytes at an offset; aligned blocks only.
      const int64_t at = sliceBlock(net, l, in, out);
      if (at < 0 || at % kArenaAlignment) continue;
      root[l.outputs[0]] = l.inputs[0];
      off[l.outputs[0]] = at;
      skip[li] = true;
    }
  }
  for (size_t t = 0; t < root.size(); ++t) {
    const int r = find(static_cast<int>(t)).first;
    if (r != static_cast<int>(t)) last[r] = std::max(last[r], last[t]);
  }
  std::vector<bool> writtenOver(tensors.size(), false);  // some output took these bytes in place
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
      const auto [r, o] = find(in);
      if (last[r] != li) continue;  // the bytes are read later
      root[out] = r;
      off[out] = o;
      writtenOver[r] = true;
      last[r] = std::max(last[r], last[out]);
      break;
    }
  }
  if (offsets) {
    // Channel-concat elision (first, so that a concatenation with strided parts can still be a
    // block of an outer one below): a Concat along the last axis (NHWC channels: YOLOv5's C3 blocks)
    // whose every input is written by a layer that can write rows with a stride
    // (Backend::writesRowStrided) and read by the Concat once: each input becomes the output's
    // columns [at, at + width), rows `rowStride` = the output's width apart, its producer writes
    // it there, and the Concat writes nothing. Column offsets and the width in 16-byte multiples.
    // Other readers of an input are allowed where each reads it with the stride itself
    // (Backend::readsRowStrided: YOLOv5's necks, a 1x1 convolution's output read by a Resize and
    // the Concat after it).
    if (rowStride) {
      rowStride->assign(tensors.size(), 0);
      std::vector<std::vector<std::pair<int, int>>> readBy(tensors.size());  // (layer, input slot)
      std::vector<int> producer(tensors.size(), -1);
      for (int li = 0; li < nl; ++li) {
        const Layer& l = net.layers()[li];
        for (size_t k = 0; k < l.inputs.size(); ++k)
          if (l.inputs[k] >= 0) readBy[l.inputs[k]].emplace_back(li, static_cast<int>(k));
        for (int o : l.outputs)
          if (o >= 0) producer[o] = li;
      }
      auto othersReadStrided = [&](int i, int cat) {
        int byCat = 0;
        for (const auto& [rl, slot] : readBy[i]) {
          if (rl == cat) {
            ++byCat;
            continue;
          }
          const Layer& r = net.layers()[rl];
          if (skip[rl] ||
              !(beforeTactics ? backend.mayReadRowStrided(r, slot) : backend.readsRowStrided(r, slot)))
            return false;
        }
        return byCat == 1;
      };
      std::vector<bool> hasParts(tensors.size(), false);
      for (int li = 0; li < nl; ++li) {
        const Layer& l = net.layers()[li];
        if (skip[li] || l.type != "Concat" || l.outputs.size() != 1 || l.inputs.size() < 2) continue;
        const int o = l.outputs[0];
        const Dims& od = tensors[o].dims;
        if (!tensors[o].inArena || root[o] != o || writtenOver[o] || od.size() < 2) continue;
        int64_t axis = l.attrs.getInt("axis", 0);
        if (axis < 0) axis += static_cast<int64_t>(od.size());
        if (axis != static_cast<int64_t>(od.size()) - 1 || outerOnes(od, static_cast<size_t>(axis))) continue;
        const int64_t esize = static_cast<int64_t>(dataTypeSize(tensors[o].type));
        const int64_t align = std::max<int64_t>(1, 16 / esize), width = od.back();
        if (width % align) continue;
        std::vector<std::pair<int, int64_t>> place;  // input, its first column in o
        int64_t at = 0;
        bool ok = true;
        for (int i : l.inputs) {
          const int p = i >= 0 ? producer[i] : -1;
          ok = i >= 0 && p >= 0 && tensors[i].inArena && tensors[i].type == tensors[o].type && root[i] == i &&
               !writtenOver[i] && !hasParts[i] && othersReadStrided(i, li) && (*rowStride)[i] == 0 &&
               !skip[p] && net.layers()[p].outputs.size() == 1 &&
               (beforeTactics ? backend.mayWriteRowStrided(net.layers()[p])
                              : backend.writesRowStrided(net.layers()[p])) &&
               at % align == 0;
          for (int j = 0; ok && j < static_cast<int>(place.size()); ++j) ok = place[j].first != i;
          if (!ok) break;
          place.emplace_back(i, at);
          at += tensors[i].dims.back();
        }
        if (!ok || at != width) continue;
        for (const auto& [i, col] : place) {
          root[i] = o;
          off[i] = col * esize;
          (*rowStride)[i] = width;
          (*first)[o] = (*first)[o] < 0 ? (*first)[i] : std::min((*first)[o], (*first)[i]);
        }
        hasParts[o] = true;
        skip[li] = true;
      }
    }
    // Concat elision: a Concat along an axis with only 1s before it (row bands' outputs at batch
    // 1, batch chunks, YOLOv5's per-scale detections) is its inputs' bytes one after another: each
    // input's own bytes (a tensor no output was written over, whole, not already placed in another)
    // become the block of the output at its offset, and the Concat writes nothing.
    for (int li = 0; li < nl; ++li) {
      const Layer& l = net.layers()[li];
      if (skip[li] || l.type != "Concat" || l.outputs.size() != 1 || l.inputs.size() < 2) continue;
      const int o = l.outputs[0];
      if (!tensors[o].inArena || root[o] != o || writtenOver[o]) continue;
      int64_t axis = l.attrs.getInt("axis", 0);
      if (axis < 0) axis += static_cast<int64_t>(tensors[o].dims.size());
      if (axis < 0 || !outerOnes(tensors[o].dims, static_cast<size_t>(axis))) continue;
      std::vector<std::pair<int, int64_t>> place;  // input root, its offset in o
      int64_t at = 0;
      bool ok = true;
      for (int i : l.inputs) {
        if (i < 0 || !tensors[i].inArena || tensors[i].type != tensors[o].type) {
          ok = false;
          break;
        }
        const auto [r, ro] = find(i);
        bool seen = false;
        for (const auto& p : place) seen = seen || p.first == r;
        if (seen || r == o || ro != 0 || writtenOver[r] || bytes(r) != bytes(i) || at % kArenaAlignment) {
          ok = false;
          break;
        }
        place.emplace_back(r, at);
        at += bytes(i);
      }
      if (!ok || at != bytes(o)) continue;
      for (const auto& [r, ro] : place) {
        root[r] = o;
        off[r] = ro;
        (*first)[o] = (*first)[o] < 0 ? (*first)[r] : std::min((*first)[o], (*first)[r]);
      }
      skip[li] = true;
    }
  }
  std::vector<int64_t> resolved(tensors.size(), 0);
  for (size_t t = 0; t < root.size(); ++t) {
    const auto [r, o] = find(static_cast<int>(t));
    resolved[t] = o;
    if (first && r != static_cast<int>(t) && (*first)[t] >= 0)
      (*first)[r] = (*first)[r] < 0 ? (*first)[t] : std::min((*first)[r], (*first)[t]);
    root[t] = r;
  }
  for (size_t t = 0; t < root.size(); ++t)
    if (root[t] != static_cast<int>(t)) last[root[t]] = std::max(last[root[t]], last[t]);
  if (offset) *offset = std::move(resolved);
  return root;
}

}  // namespace trt
