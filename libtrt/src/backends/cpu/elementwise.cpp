// CPU reference kernels for elementwise ops. Layout: dense row-major, numpy broadcasting.
// Precision: float32 math; integer arithmetic in the integer type; comparisons produce bool (uint8).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "backends/cpu/broadcast.h"
#include "backends/cpu/cpu_kernels.h"
#include "ir/ops/pointwise.h"

namespace trt {
namespace cpu {

namespace {

using Views = std::vector<TensorView>;

// Loops over more elements than this run on OpenMP threads.
constexpr int64_t kParallelElems = 1 << 15;

template <typename F>
Status unaryFloat(const TensorView& in, TensorView& out, F f) {
  const float* x = in.as<float>();
  float* y = out.as<float>();
  const int64_t n = in.numel();
#pragma omp parallel for if (n > kParallelElems)
  for (int64_t i = 0; i < n; ++i) y[i] = f(x[i]);
  return Status::ok();
}

// True when `in` broadcasts against `out` only by repetition: its dims equal out's trailing dims.
bool isTrailingBroadcast(const Dims& in, const Dims& out) {
  if (in.size() > out.size()) return false;
  for (size_t i = 0; i < in.size(); ++i)
    if (in[in.size() - 1 - i] != out[out.size() - 1 - i]) return false;
  return true;
}

// Runs `op` on inputs a and b broadcast to out (types A, B -> O).
template <typename A, typename B, typename O, typename F>
void binary(const TensorView& a, const TensorView& b, TensorView& out, F op) {
  const A* pa = a.as<A>();
  const B* pb = b.as<B>();
  O* po = out.as<O>();
  const int64_t n = out.numel();
  if (a.dims == out.dims && b.dims == out.dims) {
#pragma omp parallel for if (n > kParallelElems)
    for (int64_t i = 0; i < n; ++i) po[i] = op(pa[i], pb[i]);
    return;
  }
  if (a.dims == out.dims && b.numel() == 1) {
    const B s = pb[0];
#pragma omp parallel for if (n > kParallelElems)
    for (int64_t i = 0; i < n; ++i) po[i] = op(pa[i], s);
    return;
  }
  // A bias-like operand repeated along the leading dims (x + b[C], x * g[H, W]).
  if (a.dims == out.dims && b.numel() > 0 && isTrailingBroadcast(b.dims, out.dims)) {
    const int64_t nb = b.numel(), rows = n / nb;
#pragma omp parallel for if (n > kParallelElems)
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t i = 0; i < nb; ++i) po[r * nb + i] = op(pa[r * nb + i], pb[i]);
    return;
  }
  if (b.dims == out.dims && a.numel() > 0 && isTrailingBroadcast(a.dims, out.dims)) {
    const int64_t na = a.numel(), rows = n / na;
#pragma omp parallel for if (n > kParallelElems)
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t i = 0; i < na; ++i) po[r * na + i] = op(pa[i], pb[r * na + i]);
    return;
  }
  broadcastLoop<2>(out.dims, {a.dims, b.dims},
                   [&](int64_t o, const std::array<int64_t, 2>& off) { po[o] = op(pa[off[0]], pb[off[1]]); });
}

template <typename T>
Status arith(const std::string& op, const TensorView& a, const TensorView& b, TensorView& out) {
  if (op == "Add")
    binary<T, T, T>(a, b, out, [](T x, T y) { return x + y; });
  else if (op == "Sub")
    binary<T, T, T>(a, b, out, [](T x, T y) { return x - y; });
  else if (op == "Mul")
    binary<T, T, T>(a, b, out, [](T x, T y) { return x * y; });
  else if (op == "Div") {
    if constexpr (std::is_integral_v<T>) {
      bool divZero = false;
      binary<T, T, T>(a, b, out, [&](T x, T y) {
        if (y == 0) {
          divZero = true;
          return T(0);
        }
        return static_cast<T>(x / y);
      });
      if (divZero) return makeError(StatusCode::kRuntime, "integer division by zero");
    } else {
      binary<T, T, T>(a, b, out, [](T x, T y) { return x / y; });
    }
  } else if (op == "Max") {
    binary<T, T, T>(a, b, out, [](T x, T y) {
      if constexpr (std::is_floating_point_v<T>)
        if (std::isnan(x) || std::isnan(y)) return std::numeric_limits<T>::quiet_NaN();
      return x > y ? x : y;
    });
  } else if (op == "Min") {
    binary<T, T, T>(a, b, out, [](T x, T y) {
      if constexpr (std::is_floating_point_v<T>)
        if (std::isnan(x) || std::isnan(y)) return std::numeric_limits<T>::quiet_NaN();
      return x < y ? x : y;
    });
  } else {
    return makeError(StatusCode::kInternal, "arith: unknown op " + op);
  }
  return Status::ok();
}

Status arithKernel(const Layer& l, const Views& in, Views& out) {
  switch (in[0].type) {
    case DataType::kFloat32:
      return arith<float>(l.type, in[0], in[1], out[0]);
    case DataType::kInt32:
      return arith<int32_t>(l.type, in[0], in[1], out[0]);
    case DataType::kInt64:
      return arith<int64_t>(l.type, in[0], in[1], out[0]);
    case DataType::kInt8:
      return arith<int8_t>(l.type, in[0], in[1], out[0]);
    default:
      return makeError(StatusCode::kUnsupported, std::string("type ") + dataTypeName(in[0].type));
  }
}

// Max/Min over 1..N inputs: the first is broadcast into the output, the rest folded in place.
Status variadicKernel(const Layer& l, const Views& in, Views& out) {
  TensorView& o = out[0];
  const size_t es = dataTypeSize(o.type);
  auto* dst = static_cast<uint8_t*>(o.data);
  const auto* src = static_cast<const uint8_t*>(in[0].data);
  if (dst != src)  // (in place over the first input: nothing to copy)
    broadcastLoop<1>(o.dims, {in[0].dims}, [&](int64_t i, const std::array<int64_t, 1>& off) {
      std::memcpy(dst + i * es, src + off[0] * es, es);
    });
  for (size_t k = 1; k < in.size(); ++k) TRT_RETURN_IF_ERROR(arithKernel(l, {o, in[k]}, out));
  return Status::ok();
}

template <typename T>
void compare(const std::string& op, const TensorView& a, const TensorView& b, TensorView& out) {
  using U = uint8_t;
  if (op == "Equal")
    binary<T, T, U>(a, b, out, [](T x, T y) { return U(x == y); });
  else if (op == "Less")
    binary<T, T, U>(a, b, out, [](T x, T y) { return U(x < y); });
  else if (op == "Greater")
    binary<T, T, U>(a, b, out, [](T x, T y) { return U(x > y); });
  else if (op == "GreaterOrEqual")
    binary<T, T, U>(a, b, out, [](T x, T y) { return U(x >= y); });
  else if (op == "LessOrEqual")
    binary<T, T, U>(a, b, out, [](T x, T y) { return U(x <= y); });
}

Status compareKernel(const Layer& l, const Views& in, Views& out) {
  switch (in[0].type) {
    case DataType::kFloat32:
      compare<float>(l.type, in[0], in[1], out[0]);
      break;
    case DataType::kInt32:
      compare<int32_t>(l.type, in[0], in[1], out[0]);
      break;
    case DataType::kInt64:
      compare<int64_t>(l.type, in[0], in[1], out[0]);
      break;
    case DataType::kInt8:
      compare<int8_t>(l.type, in[0], in[1], out[0]);
      break;
    case DataType::kBool:
      compare<uint8_t>(l.type, in[0], in[1], out[0]);
      break;
    default:
      return makeError(StatusCode::kUnsupported, std::string("type ") + dataTypeName(in[0].type));
  }
  return Status::ok();
}

Status logicKernel(const Layer& l, const Views& in, Views& out) {
  if (l.type == "And")
    binary<uint8_t, uint8_t, uint8_t>(in[0], in[1], out[0],
                                      [](uint8_t x, uint8_t y) { return uint8_t(x && y); });
  else
    binary<uint8_t, uint8_t, uint8_t>(in[0], in[1], out[0],
                                      [](uint8_t x, uint8_t y) { return uint8_t(x || y); });
  return Status::ok();
}

Status powKernel(const Layer& l, const Views& in, Views& out) {
  const TensorView& e = in[1];
  if (e.type == DataType::kFloat32) {
    binary<float, float, float>(in[0], e, out[0], [](float x, float y) {
      if (y == 2.f) return x * x;
      return std::pow(x, y);
    });
  } else if (e.type == DataType::kInt64) {
    binary<float, int64_t, float>(in[0], e, out[0],
                                  [](float x, int64_t y) { return std::pow(x, static_cast<float>(y)); });
  } else if (e.type == DataType::kInt32) {
    binary<float, int32_t, float>(in[0], e, out[0],
                                  [](float x, int32_t y) { return std::pow(x, static_cast<float>(y)); });
  } else {
    return makeError(StatusCode::kUnsupported, std::string("Pow exponent type ") + dataTypeName(e.type));
  }
  return Status::ok();
}

Status whereKernel(const Layer&, const Views& in, Views& out) {
  TensorView& o = out[0];
  const size_t es = dataTypeSize(o.type);
  const auto* c = in[0].as<uint8_t>();
  const auto* x = static_cast<const uint8_t*>(in[1].data);
  const auto* y = static_cast<const uint8_t*>(in[2].data);
  auto* dst = static_cast<uint8_t*>(o.data);
  broadcastLoop<3>(o.dims, {in[0].dims, in[1].dims, in[2].dims},
                   [&](int64_t i, const std::array<int64_t, 3>& off) {
                     std::memcpy(dst + i * es, c[off[0]] ? x + off[1] * es : y + off[2] * es, es);
                   });
  return Status::ok();
}

template <typename T>
Status clipT(const Views& in, TensorView& out) {
  T lo = std::numeric_limits<T>::lowest(), hi = std::numeric_limits<T>::max();
  if (in.size() > 1 && in[1].data && in[1].numel()) lo = in[1].as<T>()[0];
  if (in.size() > 2 && in[2].data && in[2].numel()) hi = in[2].as<T>()[0];
  const T* x = in[0].as<T>();
  T* y = out.as<T>();
  for (int64_t i = 0; i < in[0].numel(); ++i) {
    T v = x[i];
    if constexpr (std::is_floating_point_v<T>) {
      if (std::isnan(v)) {
        y[i] = v;
        continue;
      }
    }
    // min first, then max: with min > max every value becomes max (ONNX)
    v = v < lo ? lo : v;
    y[i] = v > hi ? hi : v;
  }
  return Status::ok();
}

Status clipKernel(const Layer&, const Views& in, Views& out) {
  switch (in[0].type) {
    case DataType::kFloat32:
      return clipT<float>(in, out[0]);
    case DataType::kInt32:
      return clipT<int32_t>(in, out[0]);
    case DataType::kInt64:
      return clipT<int64_t>(in, out[0]);
    case DataType::kInt8:
      return clipT<int8_t>(in, out[0]);
    default:
      return makeError(StatusCode::kUnsupported, std::string("Clip type ") + dataTypeName(in[0].type));
  }
}

template <typename T>
Status negAbs(bool neg, const TensorView& in, TensorView& out) {
  const T* x = in.as<T>();
  T* y = out.as<T>();
  for (int64_t i = 0; i < in.numel(); ++i)
    y[i] = neg ? static_cast<T>(-x[i]) : (x[i] < 0 ? static_cast<T>(-x[i]) : x[i]);
  return Status::ok();
}

Status negAbsKernel(const Layer& l, const Views& in, Views& out) {
  bool neg = l.type == "Neg";
  switch (in[0].type) {
    case DataType::kFloat32:
      return negAbs<float>(neg, in[0], out[0]);
    case DataType::kInt32:
      return negAbs<int32_t>(neg, in[0], out[0]);
    case DataType::kInt64:
      return negAbs<int64_t>(neg, in[0], out[0]);
    case DataType::kInt8:
      return negAbs<int8_t>(neg, in[0], out[0]);
    default:
      return makeError(StatusCode::kUnsupported, std::string("type ") + dataTypeName(in[0].type));
  }
}

Status copyKernel(const Layer& l, const Views& in, Views& out) {
  if (out[0].data != in[0].data) std::memcpy(out[0].data, in[0].data, in[0].byteSize());
  if (out.size() > 1) std::memset(out[1].data, 1, out[1].byteSize());  // Dropout's mask: every element kept
  return Status::ok();
}

// Reads element i of any type as double / writes it back, for Cast.
double loadAsDouble(const TensorView& v, int64_t i) {
  switch (v.type) {
    case DataType::kFloat32:
      return v.as<float>()[i];
    case DataType::kFloat16:
      return halfToFloat(v.as<uint16_t>()[i]);
    case DataType::kInt8:
      return v.as<int8_t>()[i];
    case DataType::kInt32:
      return v.as<int32_t>()[i];
    case DataType::kInt64:
      return static_cast<double>(v.as<int64_t>()[i]);
    case DataType::kBool:
      return v.as<uint8_t>()[i] ? 1.0 : 0.0;
  }
  return 0;
}

Status castKernel(const Layer&, const Views& in, Views& out) {
  return castValues(in[0], out[0]);
}

Status floatUnaryKernel(const Layer& l, const Views& in, Views& out) {
  const std::string& op = l.type;
  const TensorView& x = in[0];
  TensorView& y = out[0];
  if (op == "Relu") return unaryFloat(x, y, [](float v) { return v > 0.f ? v : 0.f; });
  if (op == "LeakyRelu") {
    float a = l.attrs.getFloat("alpha", 0.01f);
    return unaryFloat(x, y, [a](float v) { return v >= 0.f ? v : a * v; });
  }
  if (op == "Sigmoid") return unaryFloat(x, y, [](float v) { return 1.f / (1.f + std::exp(-v)); });
  if (op == "Tanh") return unaryFloat(x, y, [](float v) { return std::tanh(v); });
  if (op == "HardSigmoid") {
    float a = l.attrs.getFloat("alpha", 0.2f), b = l.attrs.getFloat("beta", 0.5f);
    return unaryFloat(x, y, [a, b](float v) { return std::max(0.f, std::min(1.f, a * v + b)); });
  }
  if (op == "HardSwish")
    return unaryFloat(x, y, [](float v) { return v * std::max(0.f, std::min(1.f, v / 6.f + 0.5f)); });
  if (op == "Softplus")
    return unaryFloat(x, y, [](float v) { return v > 20.f ? v : std::log1p(std::exp(v)); });
  if (op == "Elu") {
    float a = l.attrs.getFloat("alpha", 1.f);
    return unaryFloat(x, y, [a](float v) { return v >= 0.f ? v : a * (std::exp(v) - 1.f); });
  }
  if (op == "Gelu") {
    if (l.attrs.getString("approximate", "none") == "tanh") {
      const float k = std::sqrt(2.f / static_cast<float>(M_PI));
      return unaryFloat(
          x, y, [k](float v) { return 0.5f * v * (1.f + std::tanh(k * (v + 0.044715f * v * v * v))); });
    }
    return unaryFloat(x, y,
                      [](float v) { return 0.5f * v * (1.f + std::erf(v * static_cast<float>(M_SQRT1_2))); });
  }
  if (op == "Erf") return unaryFloat(x, y, [](float v) { return std::erf(v); });
  if (op == "Sqrt") return unaryFloat(x, y, [](float v) { return std::sqrt(v); });
  if (op == "Exp") return unaryFloat(x, y, [](float v) { return std::exp(v); });
  if (op == "Log") return unaryFloat(x, y, [](float v) { return std::log(v); });
  if (op == "Reciprocal") return unaryFloat(x, y, [](float v) { return 1.f / v; });
  return makeError(StatusCode::kInternal, "no float unary kernel for " + op);
}

// Pointwise (a fused group of elementwise ops): the program runs per output element on registers
// that start as the inputs' broadcast elements (pwApply: the reference arithmetic).
// With pieces (Split -> per-piece ops -> Concat as one layer): per output element, the piece its
// position along the axis falls in picks the result register, and a piece input is read at the
// element's position within its piece (clamped into the piece where the element lies in another).
Status piecewiseKernel(const Layer& l, const std::vector<PwInstr>& prog, const PwPieces& pc,
                       const std::vector<std::vector<int>>& perms, const Views& in, Views& out) {
  const Dims& od = out[0].dims;
  const int rank = static_cast<int>(od.size());
  const int64_t total = volume(od);
  const size_t nin = in.size();
  std::vector<std::vector<int64_t>> strides(nin);
  for (size_t j = 0; j < nin; ++j) {
    Dims target = od;
    if (pc.inputPiece[j] >= 0) target[pc.axis] = pc.length(pc.inputPiece[j]);
    strides[j] = pointwiseInputStrides(in[j].dims, perms[j], target);
  }
  float* y = out[0].as<float>();
#pragma omp parallel for if (total > kParallelElems)
  for (int64_t o = 0; o < total; ++o) {
    std::vector<int64_t> idx(rank);
    int64_t rem = o;
    for (int d = rank - 1; d >= 0; --d) {
      idx[d] = rem % od[d];
      rem /= od[d];
    }
    size_t piece = 0;
    while (idx[pc.axis] >= pc.ends[piece]) ++piece;
    float r[kPwMaxInputs + kPwMaxInstructions];
    for (size_t j = 0; j < nin; ++j) {
      int64_t off = 0;
      for (int d = 0; d < rank; ++d) {
        int64_t i = idx[d];
        if (d == pc.axis && pc.inputPiece[j] >= 0) {
          const size_t p = static_cast<size_t>(pc.inputPiece[j]);
          i = std::min(std::max<int64_t>(i - pc.start(p), 0), pc.length(p) - 1);
        }
        off += i * strides[j][d];
      }
      r[j] = in[j].as<float>()[off];
    }
    for (size_t i = 0; i < prog.size(); ++i) {
      const PwInstr& p = prog[i];
      r[nin + i] = pwApply(p.op, r[p.a], p.b >= 0 ? r[p.b] : 0.f, p.p0, p.p1);
    }
    y[o] = r[pc.results[piece]];
  }
  return Status::ok();
}

Status pointwiseKernel(const Layer& l, const Views& in, Views& out) {
  TRT_ASSIGN_OR_RETURN(std::vector<PwInstr> prog, decodePointwise(l, static_cast<int>(in.size())));
  const Dims& od = out[0].dims;
  TRT_ASSIGN_OR_RETURN(PwPieces pieces, decodePieces(l, static_cast<int>(in.size()),
                                                     static_cast<int>(prog.size()), od.size()));
  std::vector<size_t> ranks;
  for (const TensorView& v : in) ranks.push_back(v.dims.size());
  TRT_ASSIGN_OR_RETURN(std::vector<std::vector<int>> perms, decodeInputPerms(l, ranks));
  if (pieces.axis >= 0) return piecewiseKernel(l, prog, pieces, perms, in, out);
  const int rank = static_cast<int>(od.size());
  const int64_t total = volume(od);
  const size_t nin = in.size();
  std::vector<std::vector<int64_t>> strides(nin);
  for (size_t j = 0; j < nin; ++j) strides[j] = pointwiseInputStrides(in[j].dims, perms[j], od);
  float* y = out[0].as<float>();
  const int64_t rows = rank == 0 ? 1 : total / std::max<int64_t>(od[rank - 1], 1);
  const int64_t inner = rank == 0 ? 1 : od[rank - 1];
  if (total == 0) return Status::ok();
#pragma omp parallel for if (total > kParallelElems)
  for (int64_t row = 0; row < rows; ++row) {
    // The offsets of this row's first element in each input.
    std::vector<int64_t> base(nin, 0);
    int64_t rem = row;
    for (int d = rank - 2; d >= 0; --d) {
      const int64_t i = rem % od[d];
      rem /= od[d];
      for (size_t j = 0; j < nin; ++j) base[j] += i * strides[j][d];
    }
    float r[kPwMaxInputs + kPwMaxInstructions];
    for (int64_t k = 0; k < inner; ++k) {
      for (size_t j = 0; j < nin; ++j)
        r[j] = in[j].as<float>()[base[j] + (rank ? k * strides[j][rank - 1] : 0)];
      for (size_t i = 0; i < prog.size(); ++i) {
        const PwInstr& p = prog[i];
        r[nin + i] = pwApply(p.op, r[p.a], p.b >= 0 ? r[p.b] : 0.f, p.p0, p.p1);
      }
      y[row * inner + k] = r[nin + prog.size() - 1];
    }
  }
  return Status::ok();
}

}  // namespace

// y = x converted to y's type (Cast's semantics), element by element.
Status castValues(const TensorView& x, TensorView& y) {
  const int64_t n = x.numel();
  if (x.type == y.type) {
    std::memcpy(y.data, x.data, x.byteSize());
    return Status::ok();
  }
  if (x.type == DataType::kInt64 && y.type == DataType::kInt32) {
    for (int64_t i = 0; i < n; ++i) y.as<int32_t>()[i] = static_cast<int32_t>(x.as<int64_t>()[i]);
    return Status::ok();
  }
  if (x.type == DataType::kInt32 && y.type == DataType::kInt64) {
    for (int64_t i = 0; i < n; ++i) y.as<int64_t>()[i] = x.as<int32_t>()[i];
    return Status::ok();
  }
  for (int64_t i = 0; i < n; ++i) {
    double v = loadAsDouble(x, i);
    switch (y.type) {
      case DataType::kFloat32:
        y.as<float>()[i] = static_cast<float>(v);
        break;
      case DataType::kFloat16:
        y.as<uint16_t>()[i] = floatToHalf(static_cast<float>(v));
        break;
      case DataType::kInt8:
        y.as<int8_t>()[i] = static_cast<int8_t>(static_cast<int64_t>(v));
        break;
      case DataType::kInt32:
        y.as<int32_t>()[i] = static_cast<int32_t>(static_cast<int64_t>(v));
        break;
      case DataType::kInt64:
        y.as<int64_t>()[i] = std::isfinite(v) ? static_cast<int64_t>(v) : INT64_MIN;
        break;
      case DataType::kBool:
        y.as<uint8_t>()[i] = v != 0.0;
        break;
    }
  }
  return Status::ok();
}

void registerElementwiseKernels(KernelTable& t) {
  for (const char* op : {"Relu", "LeakyRelu", "Sigmoid", "Tanh", "HardSigmoid", "HardSwish", "Softplus",
                         "Elu", "Gelu", "Erf", "Sqrt", "Exp", "Log", "Reciprocal"})
    t.add(op, kFloatOnly, floatUnaryKernel);
  const std::set<DataType> arithTypes = {DataType::kFloat32, DataType::kInt32, DataType::kInt64,
                                         DataType::kInt8};
  for (const char* op : {"Add", "Sub", "Mul", "Div"}) t.add(op, arithTypes, arithKernel);
  for (const char* op : {"Max", "Min"}) t.add(op, arithTypes, variadicKernel);
  for (const char* op : {"Equal", "Less", "Greater", "GreaterOrEqual", "LessOrEqual"})
    t.add(op, {DataType::kFloat32, DataType::kInt32, DataType::kInt64, DataType::kInt8, DataType::kBool},
          compareKernel);
  for (const char* op : {"And", "Or"}) t.add(op, {DataType::kBool}, logicKernel);
  t.add("Not", {DataType::kBool}, [](const Layer&, const Views& in, Views& out) {
    for (int64_t i = 0; i < in[0].numel(); ++i) out[0].as<uint8_t>()[i] = !in[0].as<uint8_t>()[i];
    return Status::ok();
  });
  t.add("IsNaN", kFloatOnly, [](const Layer&, const Views& in, Views& out) {
    for (int64_t i = 0; i < in[0].numel(); ++i) out[0].as<uint8_t>()[i] = std::isnan(in[0].as<float>()[i]);
    return Status::ok();
  });
  t.add("Pow", kFloatOnly, powKernel);
  t.add("Where", {DataType::kBool}, whereKernel);
  t.add("Clip", {DataType::kFloat32, DataType::kInt32, DataType::kInt64, DataType::kInt8}, clipKernel);
  t.add("Neg", {DataType::kFloat32, DataType::kInt32, DataType::kInt64, DataType::kInt8}, negAbsKernel);
  t.add("Abs", {DataType::kFloat32, DataType::kInt32, DataType::kInt64, DataType::kInt8}, negAbsKernel);
  t.add("Identity", kAnyType, copyKernel, "cpu_copy");
  t.add("Dropout", kAnyType, copyKernel, "cpu_copy");
  t.add("Cast", kAnyType, castKernel);
  t.add("Pointwise", kFloatOnly, pointwiseKernel);
}

}  // namespace cpu
}  // namespace trt
