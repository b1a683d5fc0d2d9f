// Sliding-window geometry (see window.h).
#include "ir/ops/window.h"

namespace trt {

Expected<WindowParams> resolveWindow(const Attributes& attrs, const std::vector<int64_t>& kernel,
                                     const std::vector<int64_t>& in, bool transposed) {
  WindowParams p;
  const size_t n = kernel.size();
  p.kernel = kernel;
  p.strides = attrs.getInts("strides", std::vector<int64_t>(n, 1));
  p.dilations = attrs.getInts("dilations", std::vector<int64_t>(n, 1));
  p.outputPadding = attrs.getInts("output_padding", std::vector<int64_t>(n, 0));
  p.ceilMode = attrs.getInt("ceil_mode", 0) != 0;
  std::vector<int64_t> pads = attrs.getInts("pads", std::vector<int64_t>(2 * n, 0));
  if (p.strides.size() != n || p.dilations.size() != n || pads.size() != 2 * n || p.outputPadding.size() != n)
    return makeError(StatusCode::kInvalidArgument, "strides/dilations/pads do not match the kernel rank");
  for (size_t i = 0; i < n; ++i) {
    if (p.strides[i] <= 0 || p.dilations[i] <= 0 || kernel[i] <= 0)
      return makeError(StatusCode::kInvalidArgument, "kernel, strides and dilations must be positive");
  }
  p.padBegin.assign(pads.begin(), pads.begin() + n);
  p.padEnd.assign(pads.begin() + n, pads.end());
  std::string autoPad = attrs.getString("auto_pad", "NOTSET");
  if (autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER") {
    for (size_t i = 0; i < n; ++i) {
      if (i >= in.size() || in[i] < 0) {
        p.padBegin[i] = p.padEnd[i] = 0;
        continue;
      }
      int64_t eff = (kernel[i] - 1) * p.dilations[i] + 1;
      int64_t total;
      if (!transposed) {
        int64_t out = (in[i] + p.strides[i] - 1) / p.strides[i];
        total = std::max<int64_t>(0, (out - 1) * p.strides[i] + eff - in[i]);
      } else {
        total = std::max<int64_t>(0, p.strides[i] * (in[i] - 1) + p.outputPadding[i] + eff - in[i] * p.strides[i]);
      }
      int64_t small = total / 2, big = total - total / 2;
      bool upper = autoPad == "SAME_UPPER";
      p.padBegin[i] = upper ? small : big;
      p.padEnd[i] = upper ? big : small;
    }
  } else if (autoPad == "VALID") {
    std::fill(p.padBegin.begin(), p.padBegin.end(), 0);
    std::fill(p.padEnd.begin(), p.padEnd.end(), 0);
  }
  return p;
}

int64_t windowOutput(const WindowParams& p, size_t d, int64_t in, bool transposed) {
  if (in < 0) return -1;
  int64_t eff = (p.kernel[d] - 1) * p.dilations[d] + 1;
  if (transposed) return p.strides[d] * (in - 1) + p.outputPadding[d] + eff - p.padBegin[d] - p.padEnd[d];
  int64_t span = in + p.padBegin[d] + p.padEnd[d] - eff;
  if (span < 0) return 0;
  int64_t out = p.ceilMode ? (span + p.strides[d] - 1) / p.strides[d] + 1 : span / p.strides[d] + 1;
  // ceil mode: the last window must start inside the input or left padding
  if (p.ceilMode && (out - 1) * p.strides[d] >= in + p.padBegin[d]) --out;
  return out;
}

}  // namespace trt
