// Activation memory planning: offsets in one arena for tensors with known sizes and lifetimes.
//
// Algorithm: best-fit placement in three greedy orders, keeping the smallest arena. Each tensor goes
// into the smallest gap between the already-placed tensors whose lifetimes intersect its own that
// holds it (or on top of them when none does). The orders: largest first; greedy by breadth (the
// steps with the most live bytes first, each step's tensors largest first); largest size x
// lifetime first. No single order wins everywhere (YOLOv5s FP32 at batch 4 NHWC: by size 83.5 MiB
// against a 62.5 MiB peak of live bytes). Offsets are 256-byte aligned. Lifetimes are inclusive
// [first, last] layer indices.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "trt/tensor.h"

namespace trt {

struct Layer;
class Network;
class Backend;

constexpr int64_t kArenaAlignment = 256;

struct TensorLifetime {
  int64_t bytes = 0;
  int first = 0;  // layer index that writes it
  int last = 0;   // last layer index that reads it
};

struct MemoryPlan {
  std::vector<int64_t> offsets;  // one per lifetime; -1 for zero-byte tensors
  int64_t arenaBytes = 0;
  int64_t totalBytes = 0;  // sum of aligned sizes (what no reuse would need)
};

MemoryPlan planMemory(const std::vector<TensorLifetime>& tensors);

// Layers whose output is their input's bytes under another shape (the engine plans no buffer for
// it when both live in the arena).
bool isViewOp(const std::string& type);

// Whether input `slot` of `layer` (one of the slots it may write its output over, `inPlaceSlots`)
// is also read through an input that is not such a slot: then it cannot be written over.
bool readElsewhere(const Layer& layer, int slot, const std::vector<int>& inPlaceSlots);

// The aliases the engine plans (runtime/engine.cpp, and the builder's peak estimate with it), over
// the layers in execution order that `skip` does not mark: first views — a view layer (isViewOp)
// between arena tensors of one type and size writes nothing, its output takes the input's bytes
// and the layer is marked in `skip`; with `first` and `offset` given, also Slice elision — a Slice
// that takes one contiguous block of its input (one axis sliced with step 1, every dim before it
// 1) is that input's bytes at a byte offset; then in place — an output may take the bytes of an
// input the backend names (Backend::inPlaceInputs) when their types and dims match, nothing reads
// those bytes later, and the layer reads them through no other input; then (with `first` and
// `offset`) Concat elision — a Concat along an axis with only 1s before it is its inputs one after
// another: each input's bytes (whole, in the arena, not written over in place, not placed in
// another tensor already) become the output's block at its offset, and the Concat is marked in
// `skip`. Offsets are multiples of kArenaAlignment. `tensors` describes each tensor; `last` (each
// tensor's last reading layer) is stretched over its aliases' readers, `first` (the layer that
// writes it) back over theirs. Returns root[t], the tensor whose bytes t uses (t itself when
// none), and in `offset` where in them (bytes).
struct AliasTensor {
  bool inArena = false;
  DataType type = DataType::kFloat32;
  Dims dims;
};
// With `rowStride` as well (and `first`, `offset`), channel-concat elision: a Concat along the last
// axis (not an outer one) whose inputs are each written by a layer the backend lets write rows with
// a stride (Backend::writesRowStrided) and read by nothing else but layers that read it with the
// stride (Backend::readsRowStrided): each input is the output's
// columns at its offset, rowStride[t] (elements) = the output's last dim, 0 for every dense tensor.
// `beforeTactics`: the layers have no tactics yet (the builder's estimates): a producer counts
// where one of its candidates may write so (Backend::mayWriteRowStrided), a reader where one may
// read so (mayReadRowStrided).
std::vector<int> planAliases(const Network& net, const Backend& backend,
                             const std::vector<AliasTensor>& tensors, std::vector<bool>& skip,
                             std::vector<int>& last, std::vector<int>* first = nullptr,
                             std::vector<int64_t>* offset = nullptr,
                             std::vector<int64_t>* rowStride = nullptr, bool beforeTactics = false);

}  // namespace trt
