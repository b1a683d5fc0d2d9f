// CPU reference kernels for ReduceMean/Sum/Max/Min, ArgMax, TopK and CumSum. Layout: dense
// row-major. Precision: float32 sums accumulate in double; int32/int64 in their own type.
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <set>

#include "backends/cpu/broadcast.h"
#include "backends/cpu/cpu_kernels.h"
#include "ir/op_registry.h"

namespace trt {
namespace cpu {
namespace {

using Views = std::vector<TensorView>;

// The input dims with reduced axes set to 1 (the keepdims shape).
Expected<Dims> keptDims(const Layer& l, const Dims& in, const Views& inputs) {
  Dims k = in;
  std::vector<int64_t> axes = l.attrs.getInts("axes");
  if (axes.empty() && inputs.size() > 1 && inputs[1].data)
    for (int64_t i = 0; i < inputs[1].numel(); ++i) axes.push_back(inputs[1].as<int64_t>()[i]);
  if (axes.empty()) {
    if (l.attrs.getInt("noop_with_empty_axes", 0)) return k;
    std::fill(k.begin(), k.end(), 1);
    return k;
  }
  for (int64_t a : axes) {
    TRT_ASSIGN_OR_RETURN(int ax, normalizeAxis(a, static_cast<int>(in.size())));
    k[ax] = 1;
  }
  return k;
}

template <typename T>
Status reduceT(const Layer& l, const Views& in, TensorView& y) {
  const TensorView& x = in[0];
  TRT_ASSIGN_OR_RETURN(Dims kd, keptDims(l, x.dims, in));
  const std::string& op = l.type;
  const int64_t n = y.numel();
  using Acc = std::conditional_t<std::is_floating_point_v<T>, double, T>;
  std::vector<Acc> acc(static_cast<size_t>(n));
  if (op == "ReduceMax")
    std::fill(acc.begin(), acc.end(), std::numeric_limits<T>::lowest());
  else if (op == "ReduceMin")
    std::fill(acc.begin(), acc.end(), std::numeric_limits<T>::max());
  else
    std::fill(acc.begin(), acc.end(), Acc(0));
  if constexpr (std::is_floating_point_v<T>) {
    if (op == "ReduceMax") std::fill(acc.begin(), acc.end(), -std::numeric_limits<double>::infinity());
    if (op == "ReduceMin") std::fill(acc.begin(), acc.end(), std::numeric_limits<double>::infinity());
  }
  const T* src = x.as<T>();
  const bool isMax = op == "ReduceMax", isMin = op == "ReduceMin";
  broadcastLoop<1>(x.dims, {kd}, [&](int64_t i, const std::array<int64_t, 1>& off) {
    Acc v = static_cast<Acc>(src[i]);
    Acc& a = acc[off[0]];
    if (isMax)
      a = (v > a) ? v : a;
    else if (isMin)
      a = (v < a) ? v : a;
    else
      a += v;
  });
  const int64_t count = n ? x.numel() / n : 0;
  for (int64_t i = 0; i < n; ++i) {
    Acc v = acc[i];
    if (op == "ReduceMean") v = count ? static_cast<Acc>(v / static_cast<Acc>(count)) : v;
    y.as<T>()[i] = static_cast<T>(v);
  }
  return Status::ok();
}

Status reduceKernel(const Layer& l, const Views& in, Views& out) {
  switch (in[0].type) {
    case DataType::kFloat32:
      return reduceT<float>(l, in, out[0]);
    case DataType::kInt32:
      return reduceT<int32_t>(l, in, out[0]);
    case DataType::kInt64:
      return reduceT<int64_t>(l, in, out[0]);
    default:
      return makeError(StatusCode::kUnsupported, std::string("reduce type ") + dataTypeName(in[0].type));
  }
}

template <typename T>
Status argMaxT(const Layer& l, const TensorView& x, TensorView& y) {
  TRT_ASSIGN_OR_RETURN(int axis, normalizeAxis(l.attrs.getInt("axis", 0), static_cast<int>(x.dims.size())));
  const bool last = l.attrs.getInt("select_last_index", 0) != 0;
  AxisSplit s = splitAt(x.dims, axis);
  for (int64_t o = 0; o < s.outer; ++o)
    for (int64_t i = 0; i < s.inner; ++i) {
      const T* p = x.as<T>() + o * s.n * s.inner + i;
      int64_t best = 0;
      for (int64_t k = 1; k < s.n; ++k) {
        T v = p[k * s.inner], b = p[best * s.inner];
        if (v > b || (last && v == b)) best = k;
      }
      y.as<int64_t>()[o * s.inner + i] = best;
    }
  return Status::ok();
}

Status argMaxKernel(const Layer& l, const Views& in, Views& out) {
  switch (in[0].type) {
    case DataType::kFloat32:
      return argMaxT<float>(l, in[0], out[0]);
    case DataType::kInt32:
      return argMaxT<int32_t>(l, in[0], out[0]);
    case DataType::kInt64:
      return argMaxT<int64_t>(l, in[0], out[0]);
    default:
      return makeError(StatusCode::kUnsupported, "ArgMax type");
  }
}

template <typename T>
Status topKT(const Layer& l, const Views& in, Views& out) {
  const TensorView& x = in[0];
  TRT_ASSIGN_OR_RETURN(int axis, normalizeAxis(l.attrs.getInt("axis", -1), static_cast<int>(x.dims.size())));
  const bool largest = l.attrs.getInt("largest", 1) != 0;
  const int64_t k = out[0].dims[axis];
  AxisSplit s = splitAt(x.dims, axis);
  std::vector<int64_t> order(static_cast<size_t>(s.n));
  for (int64_t o = 0; o < s.outer; ++o)
    for (int64_t i = 0; i < s.inner; ++i) {
      const T* p = x.as<T>() + o * s.n * s.inner + i;
      std::iota(order.begin(), order.end(), 0);
      // Ties keep the lower index first (ONNX), so a stable sort on the value alone.
      std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
        return largest ? p[a * s.inner] > p[b * s.inner] : p[a * s.inner] < p[b * s.inner];
      });
      for (int64_t j = 0; j < k; ++j) {
        out[0].as<T>()[(o * k + j) * s.inner + i] = p[order[j] * s.inner];
        out[1].as<int64_t>()[(o * k + j) * s.inner + i] = order[j];
      }
    }
  return Status::ok();
}

Status topKKernel(const Layer& l, const Views& in, Views& out) {
  switch (in[0].type) {
    case DataType::kFloat32:
      return topKT<float>(l, in, out);
    case DataType::kInt32:
      return topKT<int32_t>(l, in, out);
    case DataType::kInt64:
      return topKT<int64_t>(l, in, out);
    default:
      return makeError(StatusCode::kUnsupported, "TopK type");
  }
}

template <typename T>
Status cumSumT(const Layer& l, const Views& in, Views& out) {
  const TensorView& x = in[0];
  int64_t a = in[1].type == DataType::kInt32 ? in[1].as<int32_t>()[0] : in[1].as<int64_t>()[0];
  TRT_ASSIGN_OR_RETURN(int axis, normalizeAxis(a, static_cast<int>(x.dims.size())));
  const bool exclusive = l.attrs.getInt("exclusive", 0), reverse = l.attrs.getInt("reverse", 0);
  AxisSplit s = splitAt(x.dims, axis);
  for (int64_t o = 0; o < s.outer; ++o)
    for (int64_t i = 0; i < s.inner; ++i) {
      const T* p = x.as<T>() + o * s.n * s.inner + i;
      T* q = out[0].as<T>() + o * s.n * s.inner + i;
      T acc = 0;
      for (int64_t j = 0; j < s.n; ++j) {
        int64_t k = reverse ? s.n - 1 - j : j;
        if (exclusive) {
          q[k * s.inner] = acc;
          acc += p[k * s.inner];
        } else {
          acc += p[k * s.inner];
          q[k * s.inner] = acc;
        }
      }
    }
  return Status::ok();
}

Status cumSumKernel(const Layer& l, const Views& in, Views& out) {
  switch (in[0].type) {
    case DataType::kFloat32:
      return cumSumT<float>(l, in, out);
    case DataType::kInt32:
      return cumSumT<int32_t>(l, in, out);
    case DataType::kInt64:
      return cumSumT<int64_t>(l, in, out);
    default:
      return makeError(StatusCode::kUnsupported, "CumSum type");
  }
}

}  // namespace

void registerReduceKernels(KernelTable& t) {
  for (const char* op : {"ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin"})
    t.add(op, kNumeric, reduceKernel);
  t.add("ArgMax", kNumeric, argMaxKernel);
  t.add("TopK", kNumeric, topKKernel);
  t.add("CumSum", kNumeric, cumSumKernel);
}

}  // namespace cpu
}  // namespace trt
