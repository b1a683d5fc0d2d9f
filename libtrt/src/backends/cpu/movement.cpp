// CPU reference kernels for data movement: Transpose, Concat, Split, Slice, Gather,
// GatherElements, Tile, Pad and Resize. Layout: dense row-major. Any element type (moved as
// bytes), except Resize (float32) and the fill value of Pad (typed).
#include <algorithm>
#include <cmath>
#include <cstring>

#include "backends/cpu/cpu_kernels.h"
#include "ir/op_registry.h"
#include "ir/ops/movement_params.h"

namespace trt {
namespace cpu {
namespace {

using Views = std::vector<TensorView>;

std::vector<int64_t> readInts(const TensorView& v) {
  std::vector<int64_t> r(static_cast<size_t>(v.numel()));
  for (int64_t i = 0; i < v.numel(); ++i)
    r[i] = v.type == DataType::kInt32 ? v.as<int32_t>()[i] : v.as<int64_t>()[i];
  return r;
}

// Decomposes linear index `i` over dims into coordinates.
inline void unravel(int64_t i, const Dims& dims, std::vector<int64_t>& idx) {
  for (int d = static_cast<int>(dims.size()) - 1; d >= 0; --d) {
    idx[d] = dims[d] ? i % dims[d] : 0;
    i = dims[d] ? i / dims[d] : 0;
  }
}

Status transposeKernel(const Layer& l, const Views& in, Views& out) {
  if (out[0].type != in[0].type) {  // internal "to" (fuse-cast-transpose): convert, then permute
    HostTensor converted(out[0].type, in[0].dims);
    TensorView c{converted.type(), converted.dims(), converted.data()};
    TRT_RETURN_IF_ERROR(castValues(in[0], c));
    Layer plain = l;
    plain.attrs.erase("to");
    Views cin = {c};
    return transposeKernel(plain, cin, out);
  }
  const TensorView& x = in[0];
  const int r = static_cast<int>(x.dims.size());
  std::vector<int64_t> perm = l.attrs.getInts("perm");
  if (perm.empty())
    for (int i = r - 1; i >= 0; --i) perm.push_back(i);
  const size_t es = dataTypeSize(x.type);
  std::vector<int64_t> inSt = stridesOf(x.dims), st(r);
  for (int i = 0; i < r; ++i) st[i] = inSt[perm[i]];
  const auto* src = static_cast<const uint8_t*>(x.data);
  auto* dst = static_cast<uint8_t*>(out[0].data);
  const Dims& od = out[0].dims;
  if (r == 0 || x.numel() == 0) {
    std::memcpy(dst, src, x.byteSize());
    return Status::ok();
  }
  // One output row (last dim) at a time; rows are independent.
  const int64_t inner = od[r - 1], rows = x.numel() / inner, innerStride = st[r - 1];
  Dims rowDims(od.begin(), od.end() - 1);
#pragma omp parallel for if (x.numel() > (1 << 15))
  for (int64_t row = 0; row < rows; ++row) {
    int64_t rem = row, off = 0;
    for (int d = r - 2; d >= 0; --d) {
      off += (rem % rowDims[d]) * st[d];
      rem /= rowDims[d];
    }
    uint8_t* o = dst + row * inner * es;
    if (es == 4) {
      for (int64_t k = 0; k < inner; ++k)
        reinterpret_cast<uint32_t*>(o)[k] = reinterpret_cast<const uint32_t*>(src)[off + k * innerStride];
    } else {
      for (int64_t k = 0; k < inner; ++k) std::memcpy(o + k * es, src + (off + k * innerStride) * es, es);
    }
  }
  return Status::ok();
}

Status concatKernel(const Layer& l, const Views& in, Views& out) {
  TensorView& y = out[0];
  TRT_ASSIGN_OR_RETURN(int axis, normalizeAxis(l.attrs.getInt("axis", 0), static_cast<int>(y.dims.size())));
  const size_t es = dataTypeSize(y.type);
  int64_t outer = 1, inner = es;
  for (int i = 0; i < axis; ++i) outer *= y.dims[i];
  for (size_t i = axis + 1; i < y.dims.size(); ++i) inner *= y.dims[i];
  const int64_t yRow = y.dims[axis] * inner;
  int64_t at = 0;
  for (const TensorView& x : in) {
    const int64_t row = x.dims[axis] * inner;
    for (int64_t o = 0; o < outer; ++o)
      std::memcpy(static_cast<uint8_t*>(y.data) + o * yRow + at,
                  static_cast<const uint8_t*>(x.data) + o * row, row);
    at += row;
  }
  return Status::ok();
}

Status splitKernel(const Layer& l, const Views& in, Views& out) {
  const TensorView& x = in[0];
  TRT_ASSIGN_OR_RETURN(int axis, normalizeAxis(l.attrs.getInt("axis", 0), static_cast<int>(x.dims.size())));
  const size_t es = dataTypeSize(x.type);
  int64_t outer = 1, inner = es;
  for (int i = 0; i < axis; ++i) outer *= x.dims[i];
  for (size_t i = axis + 1; i < x.dims.size(); ++i) inner *= x.dims[i];
  const int64_t xRow = x.dims[axis] * inner;
  int64_t at = 0;
  for (TensorView& y : out) {
    const int64_t row = y.dims[axis] * inner;
    for (int64_t o = 0; o < outer; ++o)
      std::memcpy(static_cast<uint8_t*>(y.data) + o * row,
                  static_cast<const uint8_t*>(x.data) + o * xRow + at, row);
    at += row;
  }
  return Status::ok();
}

Status sliceKernel(const Layer&, const Views& in, Views& out) {
  const TensorView& x = in[0];
  std::vector<int64_t> axes, steps;
  if (in.size() > 3 && in[3].data) axes = readInts(in[3]);
  if (in.size() > 4 && in[4].data) steps = readInts(in[4]);
  TRT_ASSIGN_OR_RETURN(SliceRange r, resolveSlice(x.dims, readInts(in[1]), readInts(in[2]), axes, steps));
  const size_t es = dataTypeSize(x.type);
  const int rank = static_cast<int>(x.dims.size());
  std::vector<int64_t> st = stridesOf(x.dims), idx(rank);
  const auto* src = static_cast<const uint8_t*>(x.data);
  auto* dst = static_cast<uint8_t*>(out[0].data);
  for (int64_t o = 0; o < out[0].numel(); ++o) {
    unravel(o, out[0].dims, idx);
    int64_t off = 0;
    for (int d = 0; d < rank; ++d) off += (r.start[d] + idx[d] * r.step[d]) * st[d];
    std::memcpy(dst + o * es, src + off * es, es);
  }
  return Status::ok();
}

Status gatherKernel(const Layer& l, const Views& in, Views& out) {
  const TensorView &x = in[0], &ind = in[1];
  TRT_ASSIGN_OR_RETURN(int axis, normalizeAxis(l.attrs.getInt("axis", 0), static_cast<int>(x.dims.size())));
  const size_t es = dataTypeSize(x.type);
  int64_t outer = 1, inner = es;
  for (int i = 0; i < axis; ++i) outer *= x.dims[i];
  for (size_t i = axis + 1; i < x.dims.size(); ++i) inner *= x.dims[i];
  const int64_t dim = x.dims[axis];
  // "axis_size" (internal, set by pad-matmul-n on a table padded past its valid rows): the size
  // indices wrap by and are checked against.
  const int64_t valid = l.attrs.getInt("axis_size", dim);
  std::vector<int64_t> idx = readInts(ind);
  for (int64_t& v : idx) {
    if (v < 0) v += valid;
    if (v < 0 || v >= valid)
      return makeError(StatusCode::kRuntime,
                       "Gather index out of range for axis size " + std::to_string(valid));
  }
  const auto* src = static_cast<const uint8_t*>(x.data);
  auto* dst = static_cast<uint8_t*>(out[0].data);
  const int64_t n = static_cast<int64_t>(idx.size());
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t k = 0; k < n; ++k)
      std::memcpy(dst + (o * n + k) * inner, src + (o * dim + idx[k]) * inner, inner);
  return Status::ok();
}

Status gatherElementsKernel(const Layer& l, const Views& in, Views& out) {
  const TensorView &x = in[0], &ind = in[1];
  const int rank = static_cast<int>(x.dims.size());
  TRT_ASSIGN_OR_RETURN(int axis, normalizeAxis(l.attrs.getInt("axis", 0), rank));
  const size_t es = dataTypeSize(x.type);
  std::vector<int64_t> st = stridesOf(x.dims), idx(rank), iv = readInts(ind);
  const auto* src = static_cast<const uint8_t*>(x.data);
  auto* dst = static_cast<uint8_t*>(out[0].data);
  for (int64_t o = 0; o < ind.numel(); ++o) {
    unravel(o, ind.dims, idx);
    int64_t v = iv[o];
    if (v < 0) v += x.dims[axis];
    if (v < 0 || v >= x.dims[axis])
      return makeError(StatusCode::kRuntime, "GatherElements index out of range");
    idx[axis] = v;
    int64_t off = 0;
    for (int d = 0; d < rank; ++d) off += idx[d] * st[d];
    std::memcpy(dst + o * es, src + off * es, es);
  }
  return Status::ok();
}

// GatherND: each index tuple (the last dim of indices) picks a slice of data within its batch.
Status gatherNDKernel(const Layer& l, const Views& in, Views& out) {
  const TensorView &x = in[0], &ind = in[1];
  const int b = static_cast<int>(l.attrs.getInt("batch_dims", 0));
  const int last = static_cast<int>(ind.dims.back());
  const size_t es = dataTypeSize(x.type);
  const std::vector<int64_t> st = stridesOf(x.dims), iv = readInts(ind);
  int64_t slice = 1, perBatch = 1;
  for (size_t d = b + last; d < x.dims.size(); ++d) slice *= x.dims[d];
  for (size_t d = b; d + 1 < ind.dims.size(); ++d) perBatch *= ind.dims[d];
  const int64_t batchStride = b > 0 ? st[b - 1] : 0;
  const int64_t tuples = static_cast<int64_t>(iv.size()) / last;
  const auto* src = static_cast<const uint8_t*>(x.data);
  auto* dst = static_cast<uint8_t*>(out[0].data);
  for (int64_t t = 0; t < tuples; ++t) {
    int64_t off = (perBatch > 0 ? t / perBatch : 0) * batchStride;
    for (int j = 0; j < last; ++j) {
      int64_t v = iv[t * last + j];
      const int64_t dim = x.dims[b + j];
      if (v < 0) v += dim;
      if (v < 0 || v >= dim) return makeError(StatusCode::kRuntime, "GatherND index out of range");
      off += v * st[b + j];
    }
    std::memcpy(dst + t * slice * es, src + off * es, slice * es);
  }
  return Status::ok();
}

Status tileKernel(const Layer&, const Views& in, Views& out) {
  const TensorView& x = in[0];
  const size_t es = dataTypeSize(x.type);
  const int rank = static_cast<int>(x.dims.size());
  std::vector<int64_t> st = stridesOf(x.dims), idx(rank);
  const auto* src = static_cast<const uint8_t*>(x.data);
  auto* dst = static_cast<uint8_t*>(out[0].data);
  for (int64_t o = 0; o < out[0].numel(); ++o) {
    unravel(o, out[0].dims, idx);
    int64_t off = 0;
    for (int d = 0; d < rank; ++d) off += (idx[d] % x.dims[d]) * st[d];
    std::memcpy(dst + o * es, src + off * es, es);
  }
  return Status::ok();
}

Status padKernel(const Layer& l, const Views& in, Views& out) {
  const TensorView& x = in[0];
  const int rank = static_cast<int>(x.dims.size());
  std::vector<int64_t> axes;
  if (in.size() > 3 && in[3].data) axes = readInts(in[3]);
  TRT_ASSIGN_OR_RETURN(std::vector<int64_t> pads, resolvePads(rank, readInts(in[1]), axes));
  const std::string mode = l.attrs.getString("mode", "constant");
  const size_t es = dataTypeSize(x.type);
  std::vector<uint8_t> fill(es, 0);
  if (in.size() > 2 && in[2].data && in[2].numel()) std::memcpy(fill.data(), in[2].data, es);
  // The data as the Pad reads it: x's dims and strides, permuted by input_perm where given
  // (fold-transpose-into-pad; shape inference checked the permutation).
  Dims xd = x.dims;
  std::vector<int64_t> st = stridesOf(x.dims), idx(rank);
  if (l.attrs.has("input_perm")) {
    const std::vector<int64_t> perm = l.attrs.getInts("input_perm");
    if (perm.size() != static_cast<size_t>(rank))
      return makeError(StatusCode::kInvalidArgument, "Pad input_perm of another rank than its input");
    const std::vector<int64_t> dense = st;
    for (int d = 0; d < rank; ++d) {
      xd[d] = x.dims[perm[d]];
      st[d] = dense[perm[d]];
    }
  }
  for (int d = 0; d < rank; ++d)
    if (mode != "constant" && xd[d] == 0 && (pads[d] || pads[d + rank]))
      return makeError(StatusCode::kInvalidArgument, "Pad " + mode + " on an empty axis");
  const auto* src = static_cast<const uint8_t*>(x.data);
  auto* dst = static_cast<uint8_t*>(out[0].data);
  for (int64_t o = 0; o < out[0].numel(); ++o) {
    unravel(o, out[0].dims, idx);
    int64_t off = 0;
    bool outside = false;
    for (int d = 0; d < rank; ++d) {
      int64_t i = idx[d] - pads[d];
      const int64_t n = xd[d];
      if (i < 0 || i >= n) {
        if (mode == "constant") {
          outside = true;
          break;
        }
        if (mode == "edge") {
          i = std::clamp<int64_t>(i, 0, n - 1);
        } else {  // reflect, without repeating the edge
          if (n == 1) i = 0;
          const int64_t period = 2 * (n - 1);
          if (n > 1) {
            i = ((i % period) + period) % period;
            if (i >= n) i = period - i;
          }
        }
      }
      off += i * st[d];
    }
    std::memcpy(dst + o * es, outside ? fill.data() : src + off * es, es);
  }
  return Status::ok();
}

// Maps an output coordinate to the input coordinate for one axis (ONNX Resize's transforms).
double sourceCoord(const std::string& mode, int64_t x, float scale, int64_t inLen, int64_t outLen) {
  const double s = scale;
  if (mode == "asymmetric") return x / s;
  if (mode == "align_corners") {
    // The unrounded output length (in * scale), as ONNX's reference computes it.
    const double outF = s * inLen;
    return outLen == 1 || outF == 1.0 ? 0.0 : static_cast<double>(x) * (inLen - 1) / (outF - 1);
  }
  if (mode == "pytorch_half_pixel") return outLen > 1 ? (x + 0.5) / s - 0.5 : 0.0;
  if (mode == "half_pixel_symmetric") {
    const double adjustment = outLen / (s * inLen);
    const double center = inLen / 2.0;
    return center * (1 - adjustment) + (x + 0.5) / s - 0.5;
  }
  return (x + 0.5) / s - 0.5;  // half_pixel
}

int64_t nearestIndex(const std::string& mode, double v, int64_t inLen) {
  int64_t i;
  if (mode == "floor")
    i = static_cast<int64_t>(std::floor(v));
  else if (mode == "ceil")
    i = static_cast<int64_t>(std::ceil(v));
  else {
    double f = std::floor(v);
    double frac = v - f;
    if (frac == 0.5)
      i = static_cast<int64_t>(mode == "round_prefer_ceil" ? f + 1 : f);
    else
      i = static_cast<int64_t>(std::round(v));
  }
  return std::clamp<int64_t>(i, 0, inLen - 1);
}

Status resizeKernel(const Layer& l, const Views& in, Views& out) {
  const TensorView& x = in[0];
  TensorView& y = out[0];
  const int rank = static_cast<int>(x.dims.size());
  std::vector<float> scales(rank, 1.f);
  const bool haveSizes = in.size() > 3 && in[3].data && in[3].numel() > 0;
  std::vector<int64_t> axes = l.attrs.getInts("axes");
  if (axes.empty())
    for (int i = 0; i < rank; ++i) axes.push_back(i);
  if (!haveSizes && in.size() > 2 && in[2].data) {
    for (size_t i = 0; i < axes.size() && static_cast<int64_t>(i) < in[2].numel(); ++i) {
      TRT_ASSIGN_OR_RETURN(int ax, normalizeAxis(axes[i], rank));
      scales[ax] = in[2].as<float>()[i];
    }
  } else {
    for (int d = 0; d < rank; ++d) scales[d] = x.dims[d] ? static_cast<float>(y.dims[d]) / x.dims[d] : 1.f;
  }
  const std::string mode = l.attrs.getString("mode", "nearest");
  const std::string ctm = l.attrs.getString("coordinate_transformation_mode", "half_pixel");
  const std::string nm = l.attrs.getString("nearest_mode", "round_prefer_floor");
  // Per axis and output index: two source indices and the weight of the second.
  std::vector<std::vector<int64_t>> i0(rank), i1(rank);
  std::vector<std::vector<float>> w1(rank);
  for (int d = 0; d < rank; ++d) {
    for (int64_t o = 0; o < y.dims[d]; ++o) {
      double v = sourceCoord(ctm, o, scales[d], x.dims[d], y.dims[d]);
      if (mode == "nearest") {
        int64_t i = nearestIndex(nm, v, x.dims[d]);
        i0[d].push_back(i);
        i1[d].push_back(i);
        w1[d].push_back(0.f);
      } else {
        v = std::clamp(v, 0.0, static_cast<double>(x.dims[d] - 1));
        int64_t f = static_cast<int64_t>(std::floor(v));
        i0[d].push_back(f);
        i1[d].push_back(std::min(f + 1, x.dims[d] - 1));
        w1[d].push_back(static_cast<float>(v - f));
      }
    }
  }
  std::vector<int64_t> st = stridesOf(x.dims), idx(rank);
  const float* src = x.as<float>();
  float* dst = y.as<float>();
  for (int64_t o = 0; o < y.numel(); ++o) {
    unravel(o, y.dims, idx);
    float acc = 0.f;
    for (int corner = 0; corner < (1 << rank); ++corner) {
      float w = 1.f;
      int64_t off = 0;
      for (int d = 0; d < rank && w != 0.f; ++d) {
        const bool hi = (corner >> d) & 1;
        const float wd = hi ? w1[d][idx[d]] : 1.f - w1[d][idx[d]];
        w *= wd;
        off += (hi ? i1[d][idx[d]] : i0[d][idx[d]]) * st[d];
      }
      if (w != 0.f) acc += w * src[off];
    }
    dst[o] = acc;
  }
  return Status::ok();
}

}  // namespace

void registerMovementKernels(KernelTable& t) {
  t.add("Transpose", kAnyType, transposeKernel);
  t.add("Concat", kAnyType, concatKernel);
  t.add("Split", kAnyType, splitKernel);
  t.add("Slice", kAnyType, sliceKernel);
  t.add("Gather", kAnyType, gatherKernel);
  t.add("GatherElements", kAnyType, gatherElementsKernel);
  t.add("GatherND", kAnyType, gatherNDKernel);
  t.add("Tile", kAnyType, tileKernel);
  t.add("Pad", kAnyType, padKernel);
  t.add("Resize", kFloatOnly, resizeKernel);
}

}  // namespace cpu
}  // namespace trt
