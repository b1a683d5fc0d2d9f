// Sliding-window geometry shared by Conv, ConvTranspose and the pooling ops, in inference and in
// the kernels, so both agree on padding and output size.
#pragma once

#include <string>
#include <vector>

#include "trt/network.h"

namespace trt {

struct WindowParams {
  std::vector<int64_t> kernel, strides, dilations;
  std::vector<int64_t> padBegin, padEnd;
  std::vector<int64_t> outputPadding;  // ConvTranspose only
  bool ceilMode = false;
};

// Reads kernel_shape/strides/dilations/pads/auto_pad/ceil_mode from `attrs` and resolves the pads
// for concrete input spatial dims `in` (SAME_UPPER/SAME_LOWER need them). `spatial` = number of
// spatial dims. For ConvTranspose set `transposed`.
Expected<WindowParams> resolveWindow(const Attributes& attrs, const std::vector<int64_t>& kernel,
                                     const std::vector<int64_t>& in, bool transposed);

// Output spatial size of one dim; returns -1 when the input dim is unknown (< 0).
int64_t windowOutput(const WindowParams& p, size_t d, int64_t in, bool transposed);

}  // namespace trt
