// Layout assignment: which convolutions run channels-last (NHWC), and the reformats around them.
//
// FP16 convolutions on the CUDA backend run NHWC (cuDNN's tensor-core kernels are channels-last,
// and an NHWC 1x1 convolution is a plain GEMM). The pass turns each chosen Conv/FusedConv into an
// NHWC FusedConv with OHWI weights (transposed once at build time) and carries the NHWC form
// through the layers between convolutions that do not care about the layout: elementwise ops
// (Pointwise groups too) with same-shape or scalar operands, Cast, MaxPool/AveragePool (NHWC
// attribute), Concat (axis remapped), Resize (constant scales or sizes permuted) and
// GlobalAveragePool (a ReduceMean over H and W). Transposes ("reformat_nhwc" / "reformat_nchw")
// remain only where an NCHW layer reads an NHWC value or the reverse; dead code removes the rest.
#pragma once

#include <set>
#include <string>

#include "backends/backend.h"
#include "trt/network.h"

namespace trt {

// "auto": the backend decides per layer (Backend::prefersChannelsLast); "nchw": none; "nhwc":
// every 2-D convolution with constant weights (also on the CPU backend, where it tests the pass).
// Convolutions named in `keepNchw` stay NCHW whatever the mode (the builder's per-layer choice by
// timing: a layer whose NCHW kernel beats its NHWC one by more than the reformats cost).
// With `padChannelsTo` > 1, a converted convolution (one group) with fewer input channels than
// that (an RGB stem) reads its NHWC input through a "reformat_pad" Pad layer that appends zero
// channels up to `padChannelsTo`, and its OHWI weights get zero input channels to match: the
// tensor-core kernels need channels in multiples of 8 (YOLOv5s's 6x6 stem on the H200 in FP16:
// 64 us NCHW, where NHWC with 3 channels was slower still).
// With `spaceToDepthStems` as well, a few-channel convolution of stride 2 with an even kernel and
// even pads reads its input as 2x2 blocks instead ("reformat_s2d": a stride-1 convolution of half
// the kernel on four times the channels, padded to `padChannelsTo`; see spaceToDepthStem).
Status assignLayouts(Network& net, const Backend& backend, const std::string& mode,
                     const std::set<std::string>& keepNchw = {}, int padChannelsTo = 0,
                     bool spaceToDepthStems = false);

}  // namespace trt
