// Parameter resolution for Slice, Pad and Resize, shared by inference and the kernels.
#pragma once

#include <string>
#include <vector>

#include "trt/network.h"

namespace trt {

// Per input axis: first index, step and count taken (axes not sliced: 0, 1, dim).
struct SliceRange {
  std::vector<int64_t> start, step, count;
};
Expected<SliceRange> resolveSlice(const Dims& in, const std::vector<int64_t>& starts,
                                  const std::vector<int64_t>& ends, const std::vector<int64_t>& axes,
                                  const std::vector<int64_t>& steps);

// Pads as [begin..., end...] over all axes of a rank-`rank` tensor, from ONNX pads and optional axes.
Expected<std::vector<int64_t>> resolvePads(int rank, const std::vector<int64_t>& pads,
                                           const std::vector<int64_t>& axes);

// Resize: per-axis output size and scale (output/input unless scales were given).
struct ResizeGeometry {
  Dims out;
  std::vector<float> scales;
};
// `scales` or `sizes` (one of them non-empty); `axes` optional (opset 18).
Expected<ResizeGeometry> resolveResize(const Dims& in, const std::vector<float>& scales,
                                       const std::vector<int64_t>& sizes, const std::vector<int64_t>& axes);

}  // namespace trt
