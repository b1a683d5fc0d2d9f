// Parameter resolution for Slice, Pad and Resize (see movement_params.h).
#include "ir/ops/movement_params.h"

#include <algorithm>
#include <cmath>

#include "ir/op_registry.h"

namespace trt {

Expected<SliceRange> resolveSlice(const Dims& in, const std::vector<int64_t>& starts,
                                  const std::vector<int64_t>& ends, const std::vector<int64_t>& axesIn,
                                  const std::vector<int64_t>& stepsIn) {
  const int rank = static_cast<int>(in.size());
  if (starts.size() != ends.size()) return makeError(StatusCode::kInvalidArgument, "Slice starts and ends differ in length");
  std::vector<int64_t> axes = axesIn;
  if (axes.empty())
    for (size_t i = 0; i < starts.size(); ++i) axes.push_back(static_cast<int64_t>(i));
  std::vector<int64_t> steps = stepsIn.empty() ? std::vector<int64_t>(starts.size(), 1) : stepsIn;
  if (axes.size() != starts.size() || steps.size() != starts.size())
    return makeError(StatusCode::kInvalidArgument, "Slice axes/steps do not match starts");
  SliceRange r;
  r.start.assign(rank, 0);
  r.step.assign(rank, 1);
  r.count.assign(in.begin(), in.end());
  std::vector<bool> seen(rank, false);
  for (size_t i = 0; i < starts.size(); ++i) {
    TRT_ASSIGN_OR_RETURN(int ax, normalizeAxis(axes[i], rank));
    if (seen[ax]) return makeError(StatusCode::kInvalidArgument, "Slice axis repeats");
    seen[ax] = true;
    int64_t dim = in[ax], step = steps[i];
    if (step == 0) return makeError(StatusCode::kInvalidArgument, "Slice step is 0");
    int64_t s = starts[i], e = ends[i];
    if (s < 0) s += dim;
    if (e < 0 && e > INT64_MIN / 2) e += dim;
    int64_t cnt;
    if (step > 0) {
      s = std::clamp<int64_t>(s, 0, dim);
      e = std::clamp<int64_t>(e, 0, dim);
      cnt = e > s ? (e - s + step - 1) / step : 0;
    } else {
      s = std::clamp<int64_t>(s, 0, dim - 1);
      e = std::clamp<int64_t>(e, -1, dim - 1);
      cnt = s > e ? (s - e + (-step) - 1) / (-step) : 0;
    }
    r.start[ax] = s;
    r.step[ax] = step;
    r.count[ax] = cnt;
  }
  return r;
}

Expected<std::vector<int64_t>> resolvePads(int rank, const std::vector<int64_t>& pads,
                                           const std::vector<int64_t>& axesIn) {
  std::vector<int64_t> axes = axesIn;
  if (axes.empty())
    for (int i = 0; i < rank; ++i) axes.push_back(i);
  if (pads.size() != 2 * axes.size())
    return makeError(StatusCode::kInvalidArgument, "Pad's pads length " + std::to_string(pads.size()) +
                                                       " does not match 2 x " + std::to_string(axes.size()) + " axes");
  std::vector<int64_t> r(2 * rank, 0);
  for (size_t i = 0; i < axes.size(); ++i) {
    TRT_ASSIGN_OR_RETURN(int ax, normalizeAxis(axes[i], rank));
    r[ax] = pads[i];
    r[rank + ax] = pads[axes.size() + i];
  }
  return r;
}

Expected<ResizeGeometry> resolveResize(const Dims& in, const std::vector<float>& scales,
                                       const std::vector<int64_t>& sizes, const std::vector<int64_t>& axesIn) {
  const int rank = static_cast<int>(in.size());
  std::vector<int64_t> axes = axesIn;
  size_t n = scales.empty() ? sizes.size() : scales.size();
  if (axes.empty())
    for (int i = 0; i < rank; ++i) axes.push_back(i);
  if (n != axes.size())
    return makeError(StatusCode::kInvalidArgument, "Resize scales/sizes length does not match the input rank");
  ResizeGeometry g;
  g.out = in;
  g.scales.assign(rank, 1.f);
  for (size_t i = 0; i < axes.size(); ++i) {
    TRT_ASSIGN_OR_RETURN(int ax, normalizeAxis(axes[i], rank));
    if (!scales.empty()) {
      if (scales[i] <= 0) return makeError(StatusCode::kInvalidArgument, "Resize scale must be positive");
      g.scales[ax] = scales[i];
      g.out[ax] = static_cast<int64_t>(std::floor(static_cast<double>(in[ax]) * scales[i]));
    } else {
      g.out[ax] = sizes[i];
      g.scales[ax] = in[ax] ? static_cast<float>(sizes[i]) / static_cast<float>(in[ax]) : 1.f;
    }
  }
  return g;
}

}  // namespace trt
