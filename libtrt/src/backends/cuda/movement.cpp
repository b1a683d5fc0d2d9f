// CUDA layer implementations of data movement: Transpose, Concat, Split, Slice, Expand, Tile,
// Pad, Gather, GatherElements, Resize and Range. Shape parameters (starts, pads, scales) are read
// from the inputs' host copies (TensorView::host), which the runtime provides for shape tensors.
// Kernels: kernels/movement.cu.
#include <cstring>

#include "backends/cuda/cuda_util.h"
#include "ir/op_registry.h"
#include "ir/ops/movement_params.h"

namespace trt {
namespace cuda {
namespace {

using Views = std::vector<TensorView>;

Expected<std::vector<int64_t>> hostInts(const TensorView& v, const char* what) {
  if (!v.host)
    return makeError(StatusCode::kUnsupported,
                     std::string(what) + " must be known on the host (a shape tensor)");
  std::vector<int64_t> r(static_cast<size_t>(v.numel()));
  for (int64_t i = 0; i < v.numel(); ++i) r[i] = v.hostInt(i);
  return r;
}

int es(const TensorView& v) {
  return static_cast<int>(dataTypeSize(v.type));
}

// out = in viewed with `inStrides` (per out dim) starting at `inOffset`.
Status strided(const TensorView& in, TensorView& out, const int64_t* inStrides, int64_t inOffset,
               cudaStream_t s) {
  kernels::StridedCopy p;
  p.out = dense(out.dims);
  for (int d = 0; d < p.out.rank; ++d) {
    p.inStrides[d] = inStrides[d];
    p.outStrides[d] = p.out.strides[d];
  }
  p.inOffset = inOffset;
  TRT_CUDA_CHECK(kernels::stridedCopy(in.data, out.data, p, es(in), s));
  return Status::ok();
}

EnqueueFn transposeFn(const Layer& l) {
  std::vector<int64_t> perm = l.attrs.getInts("perm");
  return [perm](const Views& in, Views& out, void*, cudaStream_t s) {
    const int r = static_cast<int>(in[0].dims.size());
    std::vector<int64_t> p = perm;
    if (p.empty())
      for (int i = r - 1; i >= 0; --i) p.push_back(i);
    // To channels last with few channels (an RGB input's reformat): the pixel-per-thread kernel.
    bool toChannelsLast = r >= 3 && p[0] == 0 && p[r - 1] == 1;
    for (int d = 1; d + 1 < r; ++d) toChannelsLast = toChannelsLast && p[d] == d + 1;
    const bool floats = (in[0].type == DataType::kFloat32 || in[0].type == DataType::kFloat16) &&
                        (out[0].type == DataType::kFloat32 || out[0].type == DataType::kFloat16);
    if (toChannelsLast && floats && in[0].dims[1] >= 1 && in[0].dims[1] <= kernels::kMaxChannelsLastSmall) {
      int64_t spatial = 1;
      for (int d = 2; d < r; ++d) spatial *= in[0].dims[d];
      TRT_CUDA_CHECK(kernels::channelsLastSmall(in[0].data, ktype(in[0].type), out[0].data,
                                                ktype(out[0].type), in[0].dims[0], in[0].dims[1], spatial,
                                                s));
      return Status::ok();
    }
    kernels::Shape8 ins = dense(in[0].dims);
    int64_t st[kernels::kMaxRank] = {};
    for (int d = 0; d < r; ++d) st[d] = ins.strides[p[d]];
    if (out[0].type != in[0].type) {  // internal "to" (fuse-cast-transpose): one converting copy
      kernels::StridedCopy q;
      q.out = dense(out[0].dims);
      for (int d = 0; d < q.out.rank; ++d) {
        q.inStrides[d] = st[d];
        q.outStrides[d] = q.out.strides[d];
      }
      TRT_CUDA_CHECK(
          kernels::stridedConvert(in[0].data, ktype(in[0].type), out[0].data, ktype(out[0].type), q, s));
      return Status::ok();
    }
    return strided(in[0], out[0], st, 0, s);
  };
}

// Concat's inputs / Split's outputs as row parts of the whole (kernels::RowParts): outer is the
// product of the whole's dims before `axis`, each part's row its dims from `axis` on.
kernels::RowParts rowParts(const Dims& whole, int axis, const Views& parts) {
  kernels::RowParts p;
  p.parts = static_cast<int>(parts.size());
  p.outer = 1;
  for (int d = 0; d < axis; ++d) p.outer *= whole[d];
  for (size_t k = 0; k < parts.size(); ++k) {
    int64_t inner = 1;
    for (size_t d = static_cast<size_t>(axis); d < parts[k].dims.size(); ++d) inner *= parts[k].dims[d];
    p.inner[k] = inner;
    p.data[k] = parts[k].data;
  }
  return p;
}

EnqueueFn concatFn(const Layer& l) {
  int64_t axisAttr = l.attrs.getInt("axis", 0);
  return [axisAttr](const Views& in, Views& out, void*, cudaStream_t s) {
    TRT_ASSIGN_OR_RETURN(int axis, normalizeAxis(axisAttr, static_cast<int>(out[0].dims.size())));
    if (in.size() <= static_cast<size_t>(kernels::kMaxRowParts)) {  // one launch for every input
      kernels::RowParts p = rowParts(out[0].dims, axis, in);
      TRT_CUDA_CHECK(kernels::concatRows(p, out[0].data, es(out[0]), s));
      return Status::ok();
    }
    const kernels::Shape8 os = dense(out[0].dims);
    int64_t at = 0;
    for (const TensorView& x : in) {
      kernels::StridedCopy p;
      p.out = dense(x.dims);
      const kernels::Shape8 xs = dense(x.dims);
      for (int d = 0; d < p.out.rank; ++d) {
        p.inStrides[d] = xs.strides[d];
        p.outStrides[d] = os.strides[d];
      }
      p.outOffset = at * os.strides[axis];
      TRT_CUDA_CHECK(kernels::stridedCopy(x.data, out[0].data, p, es(x), s));
      at += x.dims[axis];
    }
    return Status::ok();
  };
}

EnqueueFn splitFn(const Layer& l) {
  int64_t axisAttr = l.attrs.getInt("axis", 0);
  return [axisAttr](const Views& in, Views& out, void*, cudaStream_t s) {
    TRT_ASSIGN_OR_RETURN(int axis, normalizeAxis(axisAttr, static_cast<int>(in[0].dims.size())));
    if (out.size() <= static_cast<size_t>(kernels::kMaxRowParts)) {  // one launch for every output
      kernels::RowParts p = rowParts(in[0].dims, axis, out);
      TRT_CUDA_CHECK(kernels::splitRows(in[0].data, p, es(in[0]), s));
      return Status::ok();
    }
    const kernels::Shape8 xs = dense(in[0].dims);
    int64_t at = 0;
    for (TensorView& y : out) {
      TRT_RETURN_IF_ERROR(strided(in[0], y, xs.strides, at * xs.strides[axis], s));
      at += y.dims[axis];
    }
    return Status::ok();
  };
}

EnqueueFn sliceFn(const Layer&) {
  return [](const Views& in, Views& out, void*, cudaStream_t s) {
    TRT_ASSIGN_OR_RETURN(auto starts, hostInts(in[1], "Slice starts"));
    TRT_ASSIGN_OR_RETURN(auto ends, hostInts(in[2], "Slice ends"));
    std::vector<int64_t> axes, steps;
    if (in.size() > 3 && in[3].data) {
      TRT_ASSIGN_OR_RETURN(axes, hostInts(in[3], "Slice axes"));
    }
    if (in.size() > 4 && in[4].data) {
      TRT_ASSIGN_OR_RETURN(steps, hostInts(in[4], "Slice steps"));
    }
    TRT_ASSIGN_OR_RETURN(SliceRange r, resolveSlice(in[0].dims, starts, ends, axes, steps));
    const kernels::Shape8 xs = dense(in[0].dims);
    int64_t st[kernels::kMaxRank] = {}, offset = 0;
    for (int d = 0; d < xs.rank; ++d) {
      st[d] = xs.strides[d] * r.step[d];
      offset += r.start[d] * xs.strides[d];
    }
    return strided(in[0], out[0], st, offset, s);
  };
}

EnqueueFn expandFn(const Layer&) {
  return [](const Views& in, Views& out, void*, cudaStream_t s) {
    const kernels::Shape8 b = broadcastTo(in[0].dims, out[0].dims);
    return strided(in[0], out[0], b.strides, 0, s);
  };
}

EnqueueFn tileFn(const Layer&) {
  return [](const Views& in, Views& out, void*, cudaStream_t s) {
    TRT_CUDA_CHECK(
        kernels::tile(in[0].data, dense(in[0].dims), out[0].data, dense(out[0].dims), es(in[0]), s));
    return Status::ok();
  };
}

EnqueueFn padFn(const Layer& l) {
  const std::string mode = l.attrs.getString("mode", "constant");
  const int m = mode == "reflect" ? 1 : (mode == "edge" ? 2 : 0);
  const std::vector<int64_t> perm = l.attrs.getInts("input_perm", {});  // fold-transpose-into-pad
  return [m, perm](const Views& in, Views& out, void*, cudaStream_t s) {
    const int rank = static_cast<int>(in[0].dims.size());
    // The data as the Pad reads it: a permuted (strided) view of the input with input_perm.
    kernels::Shape8 ins = dense(in[0].dims);
    if (!perm.empty()) {
      if (perm.size() != static_cast<size_t>(rank))
        return makeError(StatusCode::kInternal, "Pad input_perm of another rank than its input");
      const kernels::Shape8 d = ins;
      for (int k = 0; k < rank; ++k) {
        ins.dims[k] = d.dims[perm[k]];
        ins.strides[k] = d.strides[perm[k]];
      }
    }
    TRT_ASSIGN_OR_RETURN(auto padsIn, hostInts(in[1], "Pad pads"));
    std::vector<int64_t> axes;
    if (in.size() > 3 && in[3].data) {
      TRT_ASSIGN_OR_RETURN(axes, hostInts(in[3], "Pad axes"));
    }
    TRT_ASSIGN_OR_RETURN(std::vector<int64_t> pads, resolvePads(rank, padsIn, axes));
    uint64_t fill = 0;
    if (in.size() > 2 && in[2].data && in[2].numel()) {
      if (!in[2].host) return makeError(StatusCode::kUnsupported, "Pad's constant_value must be a constant");
      std::memcpy(&fill, in[2].host, dataTypeSize(in[2].type));
    }
    TRT_CUDA_CHECK(
        kernels::pad(in[0].data, ins, out[0].data, dense(out[0].dims), pads.data(), m, fill, es(in[0]), s));
    return Status::ok();
  };
}

EnqueueFn gatherFn(const Layer& l) {
  int64_t axisAttr = l.attrs.getInt("axis", 0);
  // "axis_size": a table padded past its valid rows (pad-matmul-n; axis 0 only, where the size
  // is not a stride) wraps negative indices by its valid size.
  const int64_t validRows = l.attrs.getInt("axis_size", -1);
  return [axisAttr, validRows](const Views& in, Views& out, void*, cudaStream_t s) {
    const TensorView& x = in[0];
    TRT_ASSIGN_OR_RETURN(int axis, normalizeAxis(axisAttr, static_cast<int>(x.dims.size())));
    int64_t outer = 1, inner = 1;
    for (int i = 0; i < axis; ++i) outer *= x.dims[i];
    for (size_t i = axis + 1; i < x.dims.size(); ++i) inner *= x.dims[i];
    const int64_t dim = validRows >= 0 && axis == 0 ? validRows : x.dims[axis];
    TRT_CUDA_CHECK(kernels::gather(x.data, in[1].data, in[1].type == DataType::kInt64, out[0].data, outer,
                                   dim, in[1].numel(), inner, es(x), nullptr, s));
    return Status::ok();
  };
}

EnqueueFn gatherElementsFn(const Layer& l) {
  int64_t axisAttr = l.attrs.getInt("axis", 0);
  return [axisAttr](const Views& in, Views& out, void*, cudaStream_t s) {
    TRT_ASSIGN_OR_RETURN(int axis, normalizeAxis(axisAttr, static_cast<int>(in[0].dims.size())));
    TRT_CUDA_CHECK(kernels::gatherElements(in[0].data, dense(in[0].dims), in[1].data,
                                           in[1].type == DataType::kInt64, dense(in[1].dims), axis,
                                           out[0].data, es(in[0]), s));
    return Status::ok();
  };
}

EnqueueFn gatherNDFn(const Layer& l) {
  const int b = static_cast<int>(l.attrs.getInt("batch_dims", 0));
  return [b](const Views& in, Views& out, void*, cudaStream_t s) {
    const Dims &x = in[0].dims, &ind = in[1].dims;
    const int last = static_cast<int>(ind.back());
    int64_t slice = 1, perBatch = 1;
    for (size_t d = b + last; d < x.size(); ++d) slice *= x[d];
    for (size_t d = b; d + 1 < ind.size(); ++d) perBatch *= ind[d];
    TRT_CUDA_CHECK(kernels::gatherND(in[0].data, dense(x), in[1].data, in[1].type == DataType::kInt64,
                                     in[1].numel() / std::max(1, last), last, b,
                                     std::max<int64_t>(1, perBatch), slice, out[0].data, es(in[0]), s));
    return Status::ok();
  };
}

EnqueueFn resizeFn(const Layer& l) {
  static const std::map<std::string, int> ctms = {{"half_pixel", 0},
                                                  {"asymmetric", 1},
                                                  {"align_corners", 2},
                                                  {"pytorch_half_pixel", 3},
                                                  {"half_pixel_symmetric", 4}};
  static const std::map<std::string, int> nearest = {
      {"round_prefer_floor", 0}, {"round_prefer_ceil", 1}, {"floor", 2}, {"ceil", 3}};
  const int mode = l.attrs.getString("mode", "nearest") == "linear" ? 1 : 0;
  const int ctm = ctms.at(l.attrs.getString("coordinate_transformation_mode", "half_pixel"));
  const int nm = nearest.at(l.attrs.getString("nearest_mode", "round_prefer_floor"));
  std::vector<int64_t> axes = l.attrs.getInts("axes");
  return [mode, ctm, nm, axes](const Views& in, Views& out, void*, cudaStream_t s) {
    const TensorView& x = in[0];
    const int rank = static_cast<int>(x.dims.size());
    kernels::ResizeParams p;
    p.in = dense(x.dims);
    p.out = dense(out[0].dims);
    // (a channel concatenation's part in or out: CudaBackend::readsRowStrided, writesRowStrided)
    p.xRowStride = x.rowStride;
    p.yRowStride = out[0].rowStride;
    if (x.rowStride && rank > 0) {
      Dims rows = x.dims;
      rows.back() = x.rowStride;
      const kernels::Shape8 r = dense(rows);
      std::copy(r.strides, r.strides + rank, p.in.strides);
    }
    p.mode = mode;
    p.ctm = ctm;
    p.nearest = nm;
    for (int d = 0; d < rank; ++d)
      p.scales[d] = x.dims[d] ? static_cast<float>(out[0].dims[d]) / x.dims[d] : 1.f;
    const bool haveSizes = in.size() > 3 && in[3].data && in[3].numel() > 0;
    if (!haveSizes && in.size() > 2 && in[2].data && in[2].numel() > 0) {
      if (!in[2].host) return makeError(StatusCode::kUnsupported, "Resize scales must be known on the host");
      std::vector<int64_t> ax = axes;
      if (ax.empty())
        for (int i = 0; i < rank; ++i) ax.push_back(i);
      for (size_t i = 0; i < ax.size() && static_cast<int64_t>(i) < in[2].numel(); ++i) {
        TRT_ASSIGN_OR_RETURN(int a, normalizeAxis(ax[i], rank));
        p.scales[a] = static_cast<const float*>(in[2].host)[i];
      }
    }
    TRT_CUDA_CHECK(kernels::resize(ktype(x.type), x.data, out[0].data, p, s));
    return Status::ok();
  };
}

EnqueueFn rangeFn(const Layer&) {
  return [](const Views& in, Views& out, void*, cudaStream_t s) {
    if (!in[0].host || !in[2].host)
      return makeError(StatusCode::kUnsupported, "Range inputs must be known on the host");
    auto scalar = [](const TensorView& v) {
      return v.type == DataType::kFloat32 ? static_cast<double>(*static_cast<const float*>(v.host))
                                          : static_cast<double>(v.hostInt(0));
    };
    TRT_CUDA_CHECK(
        kernels::range(ktype(out[0].type), scalar(in[0]), scalar(in[2]), out[0].data, out[0].numel(), s));
    return Status::ok();
  };
}

}  // namespace

void registerMovementOps(CudaOpTable& t) {
  t.add("Transpose", kAll, simple("cuda_strided_copy", transposeFn));
  t.add("Concat", kAll, simple("cuda_strided_copy", concatFn));
  t.add("Split", kAll, simple("cuda_strided_copy", splitFn));
  t.add("Slice", kAll, simple("cuda_strided_copy", sliceFn));
  t.add("Expand", kAll, simple("cuda_strided_copy", expandFn));
  t.add("Tile", kAll, simple("cuda_tile", tileFn));
  t.add("Pad", kAll, simple("cuda_pad", padFn));
  t.add("Gather", kAll, simple("cuda_gather", gatherFn));
  t.add("GatherElements", kAll, simple("cuda_gather_elements", gatherElementsFn));
  t.add("GatherND", kAll, simple("cuda_gather_nd", gatherNDFn));
  t.add("Resize", kF32, simple("cuda_resize", resizeFn));
  t.add("Range", kNumeric, simple("cuda_range", rangeFn));
}

}  // namespace cuda
}  // namespace trt
