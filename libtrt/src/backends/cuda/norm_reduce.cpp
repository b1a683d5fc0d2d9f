// CUDA layer implementations of Softmax/LogSoftmax, LayerNormalization, Reduce*, ArgMax, TopK and
// CumSum. Kernels: kernels/norm_reduce.cu (FP32 accumulation).
#include "backends/cuda/cuda_util.h"
#include "ir/op_registry.h"

namespace trt {
namespace cuda {
namespace {

using Views = std::vector<TensorView>;

EnqueueFn softmaxFn(const Layer& l) {
  const int64_t axisAttr = l.attrs.getInt("axis", -1);
  const bool coerce = l.attrs.getInt("coerce_2d", 0) != 0, isLog = l.type == "LogSoftmax";
  return [axisAttr, coerce, isLog](const Views& in, Views& out, void*, cudaStream_t s) {
    const Dims& d = in[0].dims;
    TRT_ASSIGN_OR_RETURN(int axis, normalizeAxis(axisAttr, static_cast<int>(d.size())));
    AxisSplit sp = splitAt(d, axis);
    if (coerce) {
      sp.n *= sp.inner;
      sp.inner = 1;
    }
    TRT_CUDA_CHECK(
        kernels::softmax(ktype(in[0].type), in[0].data, out[0].data, sp.outer, sp.n, sp.inner, isLog, s));
    return Status::ok();
  };
}

// LayerNormalization (X, Scale, [Bias] -> Y, [Mean], [InvStdDev]) and AddLayerNorm (X, R, Scale,
// [Bias] -> Y, [X + R]; R's rows repeat along X's leading dims) in one kernel each.
EnqueueFn layerNormFn(const Layer& l) {
  const int64_t axisAttr = l.attrs.getInt("axis", -1);
  const float eps = l.attrs.getFloat("epsilon", 1e-5f);
  const bool residual = l.type == "AddLayerNorm";
  return [axisAttr, eps, residual](const Views& in, Views& out, void*, cudaStream_t s) {
    const Dims& d = in[0].dims;
    TRT_ASSIGN_OR_RETURN(int axis, normalizeAxis(axisAttr, static_cast<int>(d.size())));
    int64_t rows = 1, inner = 1;
    for (int i = 0; i < axis; ++i) rows *= d[i];
    for (size_t i = axis; i < d.size(); ++i) inner *= d[i];
    if (rows * inner == 0) return Status::ok();
    const size_t sc = residual ? 2 : 1;  // the scale's slot; the bias follows it
    const void* bias = in.size() > sc + 1 && in[sc + 1].data ? in[sc + 1].data : nullptr;
    const int64_t rNumel = residual ? in[1].numel() : inner;
    if (in[sc].numel() != inner || (bias && in[sc + 1].numel() != inner) || rNumel == 0 ||
        rNumel % inner != 0 || rows % (rNumel / inner) != 0)
      return makeError(StatusCode::kUnsupported,
                       std::string(residual ? "AddLayerNorm" : "LayerNormalization") +
                           " with broadcast scale/bias, or a residual shorter than a row, "
                           "on the CUDA backend");
    auto stat = [&](size_t k) { return !residual && out.size() > k ? out[k].as<float>() : nullptr; };
    TRT_CUDA_CHECK(kernels::addLayerNorm(ktype(in[0].type), in[0].data, residual ? in[1].data : nullptr,
                                         rNumel / inner, residual && out.size() > 1 ? out[1].data : nullptr,
                                         in[sc].data, bias, eps, out[0].data, stat(1), stat(2), rows, inner,
                                         s));
    return Status::ok();
  };
}

EnqueueFn reduceFn(const Layer& l) {
  const int op = l.type == "ReduceSum" ? 0 : l.type == "ReduceMean" ? 1 : l.type == "ReduceMax" ? 2 : 3;
  const std::vector<int64_t> attrAxes = l.attrs.getInts("axes");
  const bool noop = l.attrs.getInt("noop_with_empty_axes", 0) != 0;
  return [op, attrAxes, noop](const Views& in, Views& out, void*, cudaStream_t s) {
    const Dims& d = in[0].dims;
    std::vector<int64_t> axes = attrAxes;
    if (axes.empty() && in.size() > 1 && in[1].data) {
      if (!in[1].host) return makeError(StatusCode::kUnsupported, "Reduce axes must be known on the host");
      for (int64_t i = 0; i < in[1].numel(); ++i) axes.push_back(in[1].hostInt(i));
    }
    Dims kept = d;
    if (axes.empty()) {
      if (noop) {
        TRT_CUDA_CHECK(
            cudaMemcpyAsync(out[0].data, in[0].data, in[0].byteSize(), cudaMemcpyDeviceToDevice, s));
        return Status::ok();
      }
      std::fill(kept.begin(), kept.end(), 1);
    }
    for (int64_t a : axes) {
      TRT_ASSIGN_OR_RETURN(int ax, normalizeAxis(a, static_cast<int>(d.size())));
      kept[ax] = 1;
    }
    TRT_CUDA_CHECK(kernels::reduce(op, ktype(in[0].type), in[0].data, dense(d), out[0].data, dense(kept), s));
    return Status::ok();
  };
}

EnqueueFn argMaxFn(const Layer& l) {
  const int64_t axisAttr = l.attrs.getInt("axis", 0);
  const bool last = l.attrs.getInt("select_last_index", 0) != 0;
  return [axisAttr, last](const Views& in, Views& out, void*, cudaStream_t s) {
    TRT_ASSIGN_OR_RETURN(int axis, normalizeAxis(axisAttr, static_cast<int>(in[0].dims.size())));
    AxisSplit sp = splitAt(in[0].dims, axis);
    TRT_CUDA_CHECK(kernels::argMax(ktype(in[0].type), in[0].data, out[0].as<int64_t>(), sp.outer, sp.n,
                                   sp.inner, last, s));
    return Status::ok();
  };
}

EnqueueFn topKFn(const Layer& l) {
  const int64_t axisAttr = l.attrs.getInt("axis", -1);
  const bool largest = l.attrs.getInt("largest", 1) != 0;
  return [axisAttr, largest](const Views& in, Views& out, void*, cudaStream_t s) {
    TRT_ASSIGN_OR_RETURN(int axis, normalizeAxis(axisAttr, static_cast<int>(in[0].dims.size())));
    AxisSplit sp = splitAt(in[0].dims, axis);
    TRT_CUDA_CHECK(kernels::topK(ktype(in[0].type), in[0].data, out[0].data, out[1].as<int64_t>(), sp.outer,
                                 sp.n, sp.inner, out[0].dims[axis], largest, s));
    return Status::ok();
  };
}

EnqueueFn cumSumFn(const Layer& l) {
  const bool exclusive = l.attrs.getInt("exclusive", 0), reverse = l.attrs.getInt("reverse", 0);
  return [exclusive, reverse](const Views& in, Views& out, void*, cudaStream_t s) {
    if (!in[1].host) return makeError(StatusCode::kUnsupported, "CumSum's axis must be known on the host");
    TRT_ASSIGN_OR_RETURN(int axis, normalizeAxis(in[1].hostInt(0), static_cast<int>(in[0].dims.size())));
    AxisSplit sp = splitAt(in[0].dims, axis);
    TRT_CUDA_CHECK(kernels::cumSum(ktype(in[0].type), in[0].data, out[0].data, sp.outer, sp.n, sp.inner,
                                   exclusive, reverse, s));
    return Status::ok();
  };
}

}  // namespace

void registerNormReduceOps(CudaOpTable& t) {
  t.add("Softmax", kF32, simple("cuda_softmax", softmaxFn));
  t.add("LogSoftmax", kF32, simple("cuda_softmax", softmaxFn));
  t.add("LayerNormalization", kF32, simple("cuda_layernorm", layerNormFn));
  t.add("AddLayerNorm", kF32, simple("cuda_add_layernorm", layerNormFn));
  // Reductions are not FP16 layers (the precision pass keeps them FP32), but the kernel reads
  // float16 with float32 accumulation: the layout pass turns an FP16 GlobalAveragePool into one.
  std::set<DataType> reduceTypes = kNumeric;
  reduceTypes.insert(DataType::kFloat16);
  for (const char* op : {"ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin"})
    t.add(op, reduceTypes, simple("cuda_reduce", reduceFn));
  t.add("ArgMax", kNumeric, simple("cuda_argmax", argMaxFn));
  t.add("TopK", kNumeric, simple("cuda_topk_select", topKFn));
  t.add("CumSum", kNumeric, simple("cuda_cumsum", cumSumFn));
}

}  // namespace cuda
}  // namespace trt
