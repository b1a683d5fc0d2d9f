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
// the rewrite is kept only where it brings the network's estimated peak below 90% of what it was,
// and of the trials within 2% of the best peak the one with the fewest chunks and the shortest
// chain wins (each chunk is more launches). It costs one copy of x and one of y (Slice and
// Concat), a few percent of the chain's time.
#pragma once

#include <cstdint>
#include <string>

#include "trt/network.h"
#include "trt/status.h"

namespace trt {

struct BatchTiling {
  bool applied = false;
  int chunks = 1;
  int chainLength = 0;
  int64_t peakBefore = 0, peakAfter = 0;  // estimated activation peak (bytes)
  std::string note;                       // one line for the build log
};

// The peak of live activation bytes over the layers in execution order, one buffer per tensor
// (inputs, outputs and constants excluded); -1 when a shape is not static. `atLayer`: where.
int64_t estimateActivationPeak(const Network& net, int* atLayer = nullptr);

// Rewrites `net` (shapes inferred, static) as above where it pays; otherwise leaves it unchanged.
Expected<BatchTiling> tileBatchAtPeak(Network& net);

}  // namespace trt
