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

namespace trt {

struct Layer;

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

}  // namespace trt
