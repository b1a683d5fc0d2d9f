// Batch tiling for memory: the activation peak of a convolutional network is often one chain of
// layers at full resolution (YOLOv5s: the 6x6 stem's 32-channel output at 320x320 beside the
// next convolution's output; 9.4 MiB an image, the whole arena). Run per batch chunk, such a chain
// only ever holds one chunk of its intermediates:
//
//   x ─ L1 ─ L2 ─ ... ─ Lm ─ y          x ─ Slice[0:n) ─ L1 ─ ... ─ Lm ─┐
//                                  =>    x ─ Slice[n:2n) ─ L1 ─ ... ─ Lm ─┼─ Concat(axis 0) ─ y
//                                        ...                              ┘
//
// The chain holds the layer where the estimated peak (tensor lifetimes in execution order, one
// buffer each) is reached and extends backwards while each layer reads one activation, batch
// element by batch element (convolutions without a residual input, pooling, Cast, Transpose that
// keeps axis 0, unary elementwise), and its producer's output is read by the next link alone; it
// may end at that layer or up to 8 such layers after it (each output read by the next alone). It
// must hold a convolution. Every end and every chunk count that divides the batch (2..4) is tried;
// the rewrite is kept only where it brings the network's planned arena (the memory planner's
// layout of those lifetimes, which gaps can make larger than the peak) below 90% of what it was,
// and of the trials within 2% of the best arena the one with the fewest chunks and the shortest
// chain wins (each chunk is more launches). It costs one copy of x and one of y (Slice and
// Concat), a few percent of the chain's time.
//
// At batch 1 the chain runs in bands of output rows instead (`row bands`): its links are then the
// row-local layers (2-D convolutions without a residual input, unary elementwise; all
// convolutions in one layout, H on axis 2 for NCHW, 1 for NHWC). Each band slices the input rows
// its output rows need through every convolution's window, and each convolution keeps the original
// padding only at the image's top and bottom edges (asymmetric pads inside the band's layers);
// the bands are concatenated along H. YOLOv5s at 640x640 lowers its peak of live bytes that way
// (FP32 on the CPU: 18.8 -> 15.6 MiB) but not its arena: with the engine's aliases its first C3
// block's Concat holds as much (18.8 MiB planned both ways), so the bands are not taken there;
// before the arena decided, they were, and cost the H200 48 us of 578 for nothing.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "trt/network.h"
#include "trt/status.h"

namespace trt {

class Backend;

struct BatchTiling {
  bool applied = false;
  bool rowBands = false;  // batch 1: bands of output rows instead of batch chunks
  int chunks = 1;
  int chainLength = 0;
  int64_t peakBefore = 0, peakAfter = 0;  // estimated activation peak (bytes)
  std::string note;                       // one line for the build log
};

// The peak of live activation bytes over the layers in execution order, one buffer per tensor
// (inputs, outputs and constants excluded); -1 when a shape is not static. `atLayer`: where.
// With a backend, the engine's aliases count as it plans them: a view (Reshape, Flatten, ...) and
// an output written over an input the backend names for the layer's tactic
// (Backend::inPlaceInputs) take no bytes of their own.
int64_t estimateActivationPeak(const Network& net, int* atLayer = nullptr, const Backend* backend = nullptr);

// Memory at the peak, after tactic selection. A layer with a residual input Z (input 3: FusedConv,
// FusedMatMul) whose tactic writes Y beside Z holds both at its step; where that step is the
// network's activation peak and the layer has a timed alternative that writes Y over Z
// (`alternatives`: layer index -> tactic), the alternative is taken, and again at the next peak,
// until the peak is at a layer without one. Each switch lowers that step's live bytes by Y and
// raises no other step's, so only the layers that set the peak pay the alternative's time
// (ResNet-50 FP32 on cuDNN: the fused conv + bias + Z + ReLU is faster, the accumulating
// convolution needs no buffer for Y; its three layer1 residual convolutions hold the peak).
struct InPlaceSwitch {
  int layer = -1;
  std::string from, to;
};
struct InPlaceAtPeak {
  std::vector<InPlaceSwitch> switched;
  int64_t peakBefore = 0, peakAfter = 0;  // estimated (bytes)
  std::string note;                       // one line for the build log
};
InPlaceAtPeak writeOverZAtPeak(Network& net, const Backend& backend,
                               const std::map<int, std::string>& alternatives);

// Rewrites `net` (shapes inferred, static) as above where it pays; otherwise leaves it unchanged.
// With `backend`, the planned arenas count the aliases the engine will plan (views, in place,
// Concat parts as their output's blocks).
Expected<BatchTiling> tileBatchAtPeak(Network& net, const Backend* backend = nullptr);

}  // namespace trt
