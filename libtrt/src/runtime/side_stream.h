// Parallel branches: layers that run on a second stream beside the main one.
//
// The engine runs its layers in order on one stream, so two independent branches run one after
// the other. At small batch a branch's GEMM fills few SMs, and its neighbour could run beside
// it: YOLOv5's C3 computes cv2(x) independently of cv1(x) and the bottlenecks after it, ResNet's
// projection shortcut independently of its block's first convolutions. planSideLayers picks such
// layers (Backend::runsBeside), each with
//   fork: the layer index at which it may start (after its inputs' producers), and
//   join: the first layer that reads its output (the main stream waits for it there);
// a side layer is taken where some main-stream layer runs in [fork, join) to overlap with. The
// execution context launches it on its side stream at `fork` (after an event recorded on the main
// stream), records a done event, and makes the main stream wait for that at `join`; captured
// into a CUDA graph, these are the graph's fork and join edges. Memory stays safe because the
// context stretches the side layer's inputs' lifetimes to `join` and its output's back to `fork`
// before it plans the arena (nothing takes those bytes while the side stream may use them), and
// the side layers use their own workspace (one side stream: they run one after another).
#pragma once

#include <vector>

#include "backends/backend.h"
#include "trt/network.h"

namespace trt {

struct SideLayer {
  int layer = -1;
  int fork = -1;  // launched on the side stream before this layer index runs
  int join = -1;  // the main stream waits for it before this layer index (nl: at the end)
};

// `skip`: layers that do not run (computed in prepare, views). In layer order.
std::vector<SideLayer> planSideLayers(const Network& net, const std::vector<bool>& skip,
                                      const Backend& backend);

}  // namespace trt
