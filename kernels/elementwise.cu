// Elementwise kernels: unary math, broadcasting binary ops, Where, Cast, fills.
// Layout: dense row-major; broadcasting through per-operand element strides (Shape8).
// Precision: float32 math in float32 (erf/tanh/exp from CUDA's math library); integer ops in the
// integer type; comparisons write bool as uint8 0/1. Grid-stride loops, 256 threads per block;
// contiguous same-shape operands take a vectorised float4 path where aligned.
#include <cuda_fp16.h>

#include <algorithm>

#include "kernel_common.cuh"
#include "kernels.h"

namespace trt {
namespace kernels {
namespace {

using namespace common;

__global__ void unaryF32Kernel(UnaryOp op, const float* x, float* y, int64_t n, float a, float b) {
  TRT_WAIT_PRIOR_GRID();
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  const int64_t n4 = n / 4;
  const bool vec = (reinterpret_cast<uintptr_t>(x) % 16 == 0) && (reinterpret_cast<uintptr_t>(y) % 16 == 0);
  if (vec) {
    for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n4; i += stride) {
      float4 v = reinterpret_cast<const float4*>(x)[i];
      v.x = unaryApply(op, v.x, a, b);
      v.y = unaryApply(op, v.y, a, b);
      v.z = unaryApply(op, v.z, a, b);
      v.w = unaryApply(op, v.w, a, b);
      reinterpret_cast<float4*>(y)[i] = v;
    }
    for (int64_t i = n4 * 4 + blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n; i += stride)
      y[i] = unaryApply(op, x[i], a, b);
  } else {
    for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n; i += stride)
      y[i] = unaryApply(op, x[i], a, b);
  }
}

__global__ void unaryF16Kernel(UnaryOp op, const __half* x, __half* y, int64_t n, float a, float b) {
  TRT_WAIT_PRIOR_GRID();
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    y[i] = __float2half(unaryApply(op, __half2float(x[i]), a, b));
}

template <typename T>
__global__ void unaryIntKernel(UnaryOp op, const T* x, T* y, int64_t n, int64_t lo, int64_t hi) {
  TRT_WAIT_PRIOR_GRID();
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    T v = x[i];
    if (op == UnaryOp::kNeg)
      v = static_cast<T>(-v);
    else if (op == UnaryOp::kAbs)
      v = v < 0 ? static_cast<T>(-v) : v;
    else if (op == UnaryOp::kClip) {
      v = v < static_cast<T>(lo) ? static_cast<T>(lo) : v;
      v = v > static_cast<T>(hi) ? static_cast<T>(hi) : v;
    }
    y[i] = v;
  }
}

// Element offset of out index `o` in an operand with strides `st` over out dims `os`. I is the
// index type: 32-bit whenever the tensors allow it (64-bit division is many times slower).
template <typename I = int64_t>
__device__ __forceinline__ I offsetOf(I o, const Shape8& os, const Shape8& st) {
  I off = 0;
  for (int d = os.rank - 1; d >= 0; --d) {
    const I dim = static_cast<I>(os.dims[d]);
    const I i = o % dim;
    o /= dim;
    off += i * static_cast<I>(st.strides[d]);
  }
  return off;
}

template <typename T, typename B>
__device__ __forceinline__ T arith(BinaryOp op, T x, B yb) {
  const T y = static_cast<T>(yb);
  switch (op) {
    case BinaryOp::kAdd:
      return x + y;
    case BinaryOp::kSub:
      return x - y;
    case BinaryOp::kMul:
      return x * y;
    case BinaryOp::kDiv:
      return y == T(0) && !(T(0.5) > T(0)) ? T(0) : x / y;
    case BinaryOp::kMax:
      return x > y ? x : y;
    case BinaryOp::kMin:
      return x < y ? x : y;
    default:
      return x;
  }
}

template <typename T>
__device__ __forceinline__ uint8_t compare(BinaryOp op, T x, T y) {
  switch (op) {
    case BinaryOp::kEqual:
      return x == y;
    case BinaryOp::kLess:
      return x < y;
    case BinaryOp::kGreater:
      return x > y;
    case BinaryOp::kGreaterOrEqual:
      return x >= y;
    case BinaryOp::kLessOrEqual:
      return x <= y;
    case BinaryOp::kAnd:
      return x && y;
    case BinaryOp::kOr:
      return x || y;
    default:
      return 0;
  }
}

// How an operand is indexed from the output index: general strides, or the cheap cases (same
// shape: i; a repeated trailing block of `period` elements: i % period; a scalar: period 1).
struct Access {
  int mode = 0;  // 0 strided, 1 direct, 2 periodic
  int64_t period = 0;
};

template <typename I>
__device__ __forceinline__ I indexOf(I o, const Access& ac, const Shape8& os, const Shape8& st) {
  if (ac.mode == 1) return o;
  if (ac.mode == 2) return o % static_cast<I>(ac.period);
  return offsetOf<I>(o, os, st);
}

template <typename T, typename B, typename I>
__global__ void binaryKernel(BinaryOp op, const T* a, Shape8 as, Access aa, const B* b, Shape8 bs, Access ba,
                             void* out, Shape8 os, I n) {
  TRT_WAIT_PRIOR_GRID();
  const bool cmp = op >= BinaryOp::kEqual;
  for (I o = blockIdx.x * static_cast<I>(blockDim.x) + threadIdx.x; o < n;
       o += static_cast<I>(gridDim.x) * blockDim.x) {
    const T x = a[indexOf<I>(o, aa, os, as)];
    const B y = b[indexOf<I>(o, ba, os, bs)];
    if (cmp) {
      static_cast<uint8_t*>(out)[o] = compare<T>(op, x, static_cast<T>(y));
    } else if (op == BinaryOp::kPow) {
      const float fy = static_cast<float>(y);
      static_cast<T*>(out)[o] = static_cast<T>(fy == 2.f ? static_cast<float>(x) * static_cast<float>(x)
                                                         : powf(static_cast<float>(x), fy));
    } else if ((op == BinaryOp::kMax || op == BinaryOp::kMin) && (x != x || y != y)) {
      static_cast<T*>(out)[o] = x != x ? x : static_cast<T>(y);  // NaN propagates
    } else {
      static_cast<T*>(out)[o] = arith<T, B>(op, x, y);
    }
  }
}

// Same-shape float fast path (residual adds, activations of two tensors). The elementwise kernels
// read element i before writing element i and take no __restrict__: y may be a or b (in place).
__global__ void binarySameF32(BinaryOp op, const float* a, const float* b, float* y, int64_t n) {
  TRT_WAIT_PRIOR_GRID();
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    y[i] = arith<float, float>(op, a[i], b[i]);
}

template <typename E>
__global__ void whereKernel(const uint8_t* c, Shape8 cs, const E* x, Shape8 xs, const E* y, Shape8 ys, E* out,
                            Shape8 os, int32_t n) {
  TRT_WAIT_PRIOR_GRID();
  for (int32_t o = blockIdx.x * blockDim.x + threadIdx.x; o < n; o += gridDim.x * blockDim.x)
    out[o] =
        c[offsetOf<int32_t>(o, os, cs)] ? x[offsetOf<int32_t>(o, os, xs)] : y[offsetOf<int32_t>(o, os, ys)];
}

__device__ __forceinline__ double loadAny(KType t, const void* p, int64_t i) {
  switch (t) {
    case KType::kF32:
      return static_cast<const float*>(p)[i];
    case KType::kF16:
      return __half2float(static_cast<const __half*>(p)[i]);
    case KType::kI8:
      return static_cast<const int8_t*>(p)[i];
    case KType::kI32:
      return static_cast<const int32_t*>(p)[i];
    case KType::kI64:
      return static_cast<double>(static_cast<const int64_t*>(p)[i]);
    case KType::kBool:
      return static_cast<const uint8_t*>(p)[i] ? 1.0 : 0.0;
  }
  return 0;
}

__device__ __forceinline__ void storeAny(KType t, void* p, int64_t i, double v) {
  switch (t) {
    case KType::kF32:
      static_cast<float*>(p)[i] = static_cast<float>(v);
      break;
    case KType::kF16:
      static_cast<__half*>(p)[i] = __float2half(static_cast<float>(v));
      break;
    case KType::kI8:
      static_cast<int8_t*>(p)[i] = static_cast<int8_t>(static_cast<int64_t>(v));
      break;
    case KType::kI32:
      static_cast<int32_t*>(p)[i] = static_cast<int32_t>(static_cast<int64_t>(v));
      break;
    case KType::kI64:
      static_cast<int64_t*>(p)[i] = isfinite(v) ? static_cast<int64_t>(v) : INT64_MIN;
      break;
    case KType::kBool:
      static_cast<uint8_t*>(p)[i] = v != 0.0;
      break;
  }
}

__global__ void castKernel(KType from, KType to, const void* x, void* y, int64_t n) {
  TRT_WAIT_PRIOR_GRID();
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    if (from == KType::kI64 && to == KType::kI32) {
      static_cast<int32_t*>(y)[i] = static_cast<int32_t>(static_cast<const int64_t*>(x)[i]);
    } else if (from == KType::kI32 && to == KType::kI64) {
      static_cast<int64_t*>(y)[i] = static_cast<const int32_t*>(x)[i];
    } else if (from == KType::kI64 && to == KType::kI64) {
      static_cast<int64_t*>(y)[i] = static_cast<const int64_t*>(x)[i];
    } else {
      storeAny(to, y, i, loadAny(from, x, i));
    }
  }
}

__global__ void notKernel(const uint8_t* x, uint8_t* y, int64_t n) {
  TRT_WAIT_PRIOR_GRID();
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    y[i] = !x[i];
}

__global__ void isNanKernel(const float* x, uint8_t* y, int64_t n) {
  TRT_WAIT_PRIOR_GRID();
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    y[i] = isnan(x[i]);
}

__global__ void fillKernel(uint8_t* y, int64_t n, int es, uint64_t value) {
  TRT_WAIT_PRIOR_GRID();
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    for (int k = 0; k < es; ++k) y[i * es + k] = static_cast<uint8_t>(value >> (8 * k));
}

__global__ void rangeKernel(KType t, double start, double delta, void* y, int64_t n) {
  TRT_WAIT_PRIOR_GRID();
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    if (t == KType::kI64)
      static_cast<int64_t*>(y)[i] = static_cast<int64_t>(start) + i * static_cast<int64_t>(delta);
    else if (t == KType::kI32)
      static_cast<int32_t*>(y)[i] = static_cast<int32_t>(start + i * delta);
    else
      static_cast<float*>(y)[i] =
          static_cast<float>(start) + static_cast<float>(i) * static_cast<float>(delta);
  }
}

template <typename T>
__global__ void channelAffineKernel(const T* x, const float* scale, const float* bias, const float* mean,
                                    const float* var, float eps, T* y, int64_t c, int64_t inner, int64_t n) {
  TRT_WAIT_PRIOR_GRID();
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t ch = (i / inner) % c;
    const float a = scale[ch] * rsqrtf(var[ch] + eps);
    y[i] = fromF<T>(toF(x[i]) * a + (bias[ch] - mean[ch] * a));
  }
}

template <typename T>
__global__ void addChannelBiasKernel(T* y, const T* bias, int64_t c, int64_t inner, int64_t n) {
  TRT_WAIT_PRIOR_GRID();
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    y[i] = fromF<T>(toF(y[i]) + toF(bias[(i / inner) % c]));
}

// y = act(y + bias[(i / inner) % c] + z[i]) (or act(..) + z[i]: zAfterAct); VEC consecutive elements per
// thread, loaded and stored as one 16-byte access when VEC * sizeof(T) == 16.
template <typename T, int VEC>
__global__ void biasActivationKernel(T* __restrict__ y, const T* __restrict__ bias, const T* __restrict__ z,
                                     int64_t c, int64_t inner, int64_t nvec, UnaryOp act, float a, float b,
                                     bool zAfterAct) {
  TRT_WAIT_PRIOR_GRID();
  for (int64_t v = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; v < nvec;
       v += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t i0 = v * VEC;
    T yv[VEC], zv[VEC];
    if (sizeof(T) * VEC == 16) {
      *reinterpret_cast<uint4*>(yv) = reinterpret_cast<const uint4*>(y)[v];
      if (z) *reinterpret_cast<uint4*>(zv) = reinterpret_cast<const uint4*>(z)[v];
    } else {
#pragma unroll
      for (int k = 0; k < VEC; ++k) {
        yv[k] = y[i0 + k];
        if (z) zv[k] = z[i0 + k];
      }
    }
#pragma unroll
    for (int k = 0; k < VEC; ++k) {
      float f = toF(yv[k]);
      if (bias) f += toF(bias[((i0 + k) / inner) % c]);
      if (z && !zAfterAct) f += toF(zv[k]);
      f = unaryApply(act, f, a, b);
      if (z && zAfterAct) f += toF(zv[k]);
      yv[k] = fromF<T>(f);
    }
    if (sizeof(T) * VEC == 16) {
      reinterpret_cast<uint4*>(y)[v] = *reinterpret_cast<uint4*>(yv);
    } else {
#pragma unroll
      for (int k = 0; k < VEC; ++k) y[i0 + k] = yv[k];
    }
  }
}

// The channels-innermost case (NHWC, or rows of a GEMM) with channels a multiple of VEC and 32-bit
// sizes: the VEC channels of a thread are consecutive, so the bias is one vector load at one
// 32-bit remainder, where the general kernel above takes a 64-bit division and remainder and a
// scalar bias load per element (12 us against ~4 for YOLOv5s's 320x320x32 stem output on the H200).
// ACT >= 0: the activation fixed at compile time (UnaryOp ACT: the switch folds away; SiLU after
// cuDNN's convolutions, 9.7 us for that stem output with the per-element switch); -1: `act`.
template <typename T, int VEC, int ACT>
__global__ void biasActivationRowsKernel(T* __restrict__ y, const T* __restrict__ bias,
                                         const T* __restrict__ z, int c, int nvec, UnaryOp act, float a,
                                         float b, bool zAfterAct) {
  TRT_WAIT_PRIOR_GRID();
  static_assert(sizeof(T) * VEC == 16, "one 16-byte access per thread");
  for (int v = blockIdx.x * blockDim.x + threadIdx.x; v < nvec; v += gridDim.x * blockDim.x) {
    T yv[VEC], zv[VEC], bv[VEC];
    *reinterpret_cast<uint4*>(yv) = reinterpret_cast<const uint4*>(y)[v];
    if (z) *reinterpret_cast<uint4*>(zv) = reinterpret_cast<const uint4*>(z)[v];
    if (bias) *reinterpret_cast<uint4*>(bv) = __ldg(reinterpret_cast<const uint4*>(bias + (v * VEC) % c));
#pragma unroll
    for (int k = 0; k < VEC; ++k) {
      float f = toF(yv[k]);
      if (bias) f += toF(bv[k]);
      if (z && !zAfterAct) f += toF(zv[k]);
      f = unaryApply(ACT >= 0 ? static_cast<UnaryOp>(ACT) : act, f, a, b);
      if (z && zAfterAct) f += toF(zv[k]);
      yv[k] = fromF<T>(f);
    }
    reinterpret_cast<uint4*>(y)[v] = *reinterpret_cast<uint4*>(yv);
  }
}

template <typename T>
cudaError_t launchBiasActivation(T* y, const T* bias, const T* z, int64_t total, int64_t c, int64_t inner,
                                 UnaryOp act, float a, float b, cudaStream_t s, bool zAfterAct) {
  constexpr int kVec = 16 / sizeof(T);
  const bool aligned =
      reinterpret_cast<uintptr_t>(y) % 16 == 0 && (!z || reinterpret_cast<uintptr_t>(z) % 16 == 0);
  if (aligned && total % kVec == 0 && inner == 1 && c % kVec == 0 && total <= INT32_MAX &&
      (!bias || reinterpret_cast<uintptr_t>(bias) % 16 == 0)) {
    const int nvec = static_cast<int>(total / kVec);
    const int ci = static_cast<int>(c);
    const unsigned blocks = static_cast<unsigned>(blocksFor(nvec));
    if (act == UnaryOp::kSilu)
      biasActivationRowsKernel<T, kVec, static_cast<int>(UnaryOp::kSilu)>
          <<<blocks, kThreads, 0, s>>>(y, bias, z, ci, nvec, act, a, b, zAfterAct);
    else if (act == UnaryOp::kIdentity)
      biasActivationRowsKernel<T, kVec, static_cast<int>(UnaryOp::kIdentity)>
          <<<blocks, kThreads, 0, s>>>(y, bias, z, ci, nvec, act, a, b, zAfterAct);
    else if (act == UnaryOp::kRelu)
      biasActivationRowsKernel<T, kVec, static_cast<int>(UnaryOp::kRelu)>
          <<<blocks, kThreads, 0, s>>>(y, bias, z, ci, nvec, act, a, b, zAfterAct);
    else
      biasActivationRowsKernel<T, kVec, -1>
          <<<blocks, kThreads, 0, s>>>(y, bias, z, ci, nvec, act, a, b, zAfterAct);
  } else if (aligned && total % kVec == 0) {
    const int64_t nvec = total / kVec;
    biasActivationKernel<T, kVec>
        <<<blocksFor(nvec), kThreads, 0, s>>>(y, bias, z, c, inner, nvec, act, a, b, zAfterAct);
  } else {
    biasActivationKernel<T, 1>
        <<<blocksFor(total), kThreads, 0, s>>>(y, bias, z, c, inner, total, act, a, b, zAfterAct);
  }
  return cudaGetLastError();
}

// The cheapest way to index operand `st` over output `os`.
Access accessFor(const Shape8& st, const Shape8& os) {
  Access ac;
  // dense strides of the trailing dims, zero strides before them
  int64_t expect = 1, period = 1;
  int d = os.rank - 1;
  for (; d >= 0; --d) {
    if (os.dims[d] == 1) continue;
    if (st.strides[d] != expect) break;
    expect *= os.dims[d];
    period = expect;
  }
  bool leadingZero = true;
  for (int k = d; k >= 0; --k)
    if (os.dims[k] != 1 && st.strides[k] != 0) leadingZero = false;
  if (!leadingZero) return ac;  // general strides
  int64_t total = 1;
  for (int k = 0; k < os.rank; ++k) total *= os.dims[k];
  ac.mode = period == total ? 1 : 2;
  ac.period = period;
  return ac;
}

template <typename T, typename B>
void launchBinaryTyped(BinaryOp op, const void* a, const Shape8& as, const void* b, const Shape8& bs,
                       void* out, const Shape8& os, int64_t n, cudaStream_t s) {
  const Access aa = accessFor(as, os), ba = accessFor(bs, os);
  if (n < (int64_t{1} << 31))
    binaryKernel<T, B, int32_t><<<blocksFor(n), kThreads, 0, s>>>(op, static_cast<const T*>(a), as, aa,
                                                                  static_cast<const B*>(b), bs, ba, out, os,
                                                                  static_cast<int32_t>(n));
  else
    binaryKernel<T, B, int64_t><<<blocksFor(n), kThreads, 0, s>>>(
        op, static_cast<const T*>(a), as, aa, static_cast<const B*>(b), bs, ba, out, os, n);
}

template <typename T>
cudaError_t launchBinary(BinaryOp op, KType bt, const void* a, const Shape8& as, const void* b,
                         const Shape8& bs, void* out, const Shape8& os, int64_t n, cudaStream_t s) {
  switch (bt) {
    case KType::kI64:
      launchBinaryTyped<T, int64_t>(op, a, as, b, bs, out, os, n, s);
      break;
    case KType::kI32:
      launchBinaryTyped<T, int32_t>(op, a, as, b, bs, out, os, n, s);
      break;
    default:
      launchBinaryTyped<T, T>(op, a, as, b, bs, out, os, n, s);
  }
  return cudaGetLastError();
}

int64_t volumeOf(const Shape8& s) {
  int64_t v = 1;
  for (int i = 0; i < s.rank; ++i) v *= s.dims[i];
  return v;
}

bool contiguousSame(const Shape8& x, const Shape8& o) {
  int64_t st = 1;
  for (int d = o.rank - 1; d >= 0; --d) {
    if (x.strides[d] != st && o.dims[d] != 1) return false;
    st *= o.dims[d];
  }
  return true;
}

}  // namespace

cudaError_t unaryF32(UnaryOp op, const float* x, float* y, int64_t n, float alpha, float beta,
                     cudaStream_t s) {
  if (n == 0) return cudaSuccess;
  unaryF32Kernel<<<blocksFor((n + 3) / 4), kThreads, 0, s>>>(op, x, y, n, alpha, beta);
  return cudaGetLastError();
}

cudaError_t unaryF16(UnaryOp op, const void* x, void* y, int64_t n, float alpha, float beta, cudaStream_t s) {
  if (n == 0) return cudaSuccess;
  unaryF16Kernel<<<blocksFor(n), kThreads, 0, s>>>(op, static_cast<const __half*>(x), static_cast<__half*>(y),
                                                   n, alpha, beta);
  return cudaGetLastError();
}

cudaError_t unaryInt(UnaryOp op, KType t, const void* x, void* y, int64_t n, int64_t lo, int64_t hi,
                     cudaStream_t s) {
  if (n == 0) return cudaSuccess;
  switch (t) {
    case KType::kI8:
      unaryIntKernel<<<blocksFor(n), kThreads, 0, s>>>(op, static_cast<const int8_t*>(x),
                                                       static_cast<int8_t*>(y), n, lo, hi);
      break;
    case KType::kI32:
      unaryIntKernel<<<blocksFor(n), kThreads, 0, s>>>(op, static_cast<const int32_t*>(x),
                                                       static_cast<int32_t*>(y), n, lo, hi);
      break;
    case KType::kI64:
      unaryIntKernel<<<blocksFor(n), kThreads, 0, s>>>(op, static_cast<const int64_t*>(x),
                                                       static_cast<int64_t*>(y), n, lo, hi);
      break;
    default:
      return cudaErrorInvalidValue;
  }
  return cudaGetLastError();
}

namespace {

__device__ __forceinline__ float pwBinary(int op, float x, float y) {
  switch (op) {
    case 0:
      return x + y;
    case 1:
      return x - y;
    case 2:
      return x * y;
    case 3:
      return x / y;
    case 4:
      return y == 2.f ? x * x : powf(x, y);
    case 5:
      return isnan(x) || isnan(y) ? __int_as_float(0x7fc00000) : fmaxf(x, y);
    case 6:
      return isnan(x) || isnan(y) ? __int_as_float(0x7fc00000) : fminf(x, y);
  }
  return x;
}

__device__ __forceinline__ float loadF(const float* p, int64_t i) {
  return p[i];
}
__device__ __forceinline__ float loadF(const __half* p, int64_t i) {
  return __half2float(p[i]);
}
__device__ __forceinline__ void storeF(float* p, int64_t i, float v) {
  p[i] = v;
}
__device__ __forceinline__ void storeF(__half* p, int64_t i, float v) {
  p[i] = __float2half(v);
}

struct PwParams {
  PointwiseProgram p;
  Access acc[kPwInputs];
};

// Per piece, in order, the inputs to load and the instructions to run for its result (and the
// inputs as a mask: bit j for input j).
struct PieceNeeds {
  uint32_t lenMul[kPwPieces] = {}, lenShift[kPwPieces] = {};  // division by each piece's length
  uint8_t numInputs[kPwPieces] = {}, numInstructions[kPwPieces] = {};
  uint8_t inputs[kPwPieces][kPwInputs] = {};
  uint8_t instructions[kPwPieces][kPwInstructions] = {};
};

// Division by the output's dims without the divide instruction sequence: per dim a multiplier and
// a shift (the round-up method: q = (umulhi(n, mul) + n) >> shift, exact for n < 2^31).
struct Divisors {
  uint32_t mul[kMaxRank] = {}, shift[kMaxRank] = {}, dim[kMaxRank] = {};
};

Divisors divisorsOf(const Shape8& os) {
  Divisors v;
  for (int d = 0; d < os.rank; ++d) {
    divisionBy(os.dims[d], v.mul[d], v.shift[d]);
    v.dim[d] = static_cast<uint32_t>(os.dims[d] > 0 ? os.dims[d] : 1);
  }
  return v;
}

PieceNeeds pieceNeeds(const PointwiseProgram& p) {
  PieceNeeds n;
  for (int piece = 0; piece < p.numPieces; ++piece) {
    const uint32_t m = pointwiseNeeds(p, p.pieceResult[piece]);
    for (int j = 0; j < p.numInputs; ++j)
      if (m >> j & 1u) n.inputs[piece][n.numInputs[piece]++] = static_cast<uint8_t>(j);
    divisionBy(p.pieceEnd[piece] - (piece ? p.pieceEnd[piece - 1] : 0), n.lenMul[piece], n.lenShift[piece]);
    for (int i = 0; i < p.numInstructions; ++i)
      if (m >> (p.numInputs + i) & 1u)
        n.instructions[piece][n.numInstructions[piece]++] = static_cast<uint8_t>(i);
  }
  return n;
}

template <typename T, typename I>
__global__ void pointwiseKernel(PwParams q, T* out, Shape8 os, I n) {
  TRT_WAIT_PRIOR_GRID();
  for (I o = blockIdx.x * static_cast<I>(blockDim.x) + threadIdx.x; o < n;
       o += static_cast<I>(gridDim.x) * blockDim.x) {
    float r[kPwInputs + kPwInstructions];
    for (int j = 0; j < q.p.numInputs; ++j)
      r[j] = loadF(static_cast<const T*>(q.p.in[j]), indexOf<I>(o, q.acc[j], os, q.p.inStrides[j]));
    for (int i = 0; i < q.p.numInstructions; ++i) {
      const int op = q.p.op[i];
      const float x = r[q.p.a[i]];
      r[q.p.numInputs + i] = op < 100 ? pwBinary(op, x, r[q.p.b[i]])
                                      : unaryApply(static_cast<UnaryOp>(op - 100), x, q.p.p0[i], q.p.p1[i]);
    }
    storeF(out, o, r[q.p.numInputs + q.p.numInstructions - 1]);
  }
}

// With pieces: the element's position along the axis picks the piece (its result register), and
// each piece input is read at the element's position within its own piece, clamped. An element
// loads and computes only what its piece's result needs (`needs`: per piece the inputs and the
// instructions, from pieceNeeds): YOLOv5's decode passes 81 of 85 columns through untouched, and computing
// every piece's expression for every element (the Pow among them) made the 80x80 scale's layer 49 us on the
// H200. The index arithmetic is unrolled over kMaxRank so that it stays in registers.
template <typename T, typename I>
__global__ void piecewiseKernel(PwParams q, PieceNeeds needs, Divisors divs, T* out, Shape8 os, I n) {
  TRT_WAIT_PRIOR_GRID();
  const int axis = q.p.pieceAxis;
  for (I o = blockIdx.x * static_cast<I>(blockDim.x) + threadIdx.x; o < n;
       o += static_cast<I>(gridDim.x) * blockDim.x) {
    I idx[kMaxRank];
    I rem = o, at = 0;
#pragma unroll
    for (int d = kMaxRank - 1; d >= 0; --d) {
      idx[d] = 0;
      if (d < os.rank) {
        if constexpr (sizeof(I) == 4) {  // o < 2^31: the multiplier's division
          const uint32_t u = static_cast<uint32_t>(rem);
          const uint32_t qd = (__umulhi(u, divs.mul[d]) + u) >> divs.shift[d];
          idx[d] = static_cast<I>(u - qd * divs.dim[d]);
          rem = static_cast<I>(qd);
        } else {
          const I dim = static_cast<I>(os.dims[d]);
          idx[d] = rem % dim;
          rem /= dim;
        }
        if (d == axis) at = idx[d];
      }
    }
    int piece = 0;
    while (piece + 1 < q.p.numPieces && at >= static_cast<I>(q.p.pieceEnd[piece])) ++piece;
    float r[kPwInputs + kPwInstructions];
    for (int k = 0; k < needs.numInputs[piece]; ++k) {
      const int j = needs.inputs[piece][k];
      const int pj = q.p.inPiece[j];
      I off = 0;
#pragma unroll
      for (int d = 0; d < kMaxRank; ++d) {
        if (d >= os.rank) break;
        I i = idx[d];
        if (d == axis && pj >= 0) {
          const I start = pj ? static_cast<I>(q.p.pieceEnd[pj - 1]) : 0;
          const I len = static_cast<I>(q.p.pieceEnd[pj]) - start;
          i = i < start ? 0 : (i - start >= len ? len - 1 : i - start);
        }
        off += i * static_cast<I>(q.p.inStrides[j].strides[d]);
      }
      r[j] = loadF(static_cast<const T*>(q.p.in[j]), off);
    }
    for (int k = 0; k < needs.numInstructions[piece]; ++k) {
      const int i = needs.instructions[piece][k];
      const int op = q.p.op[i];
      const float x = r[q.p.a[i]];
      r[q.p.numInputs + i] = op < 100 ? pwBinary(op, x, r[q.p.b[i]])
                                      : unaryApply(static_cast<UnaryOp>(op - 100), x, q.p.p0[i], q.p.p1[i]);
    }
    storeF(out, o, r[q.p.pieceResult[piece]]);
  }
}

// Pieces along the last axis (YOLOv5's decode: 85 columns of xy, wh, and scores), by row groups:
// a warp takes kRowGroup output rows; a lane per row works out its position and every input's
// offset at its start (shared memory), then the warp walks the group piece by piece, the piece's
// columns of all its rows, so that its lanes run one piece's instructions together. The program is staged in
// shared memory per block (indexed by piece and input, kernel parameters are serialized
// constant-cache loads). On the H200 a warp per row ran 850 instructions per row of the 80x80 scale
// (the xy and wh columns' interpreted instructions diverging across the lanes of the row's first
// 32 columns): 28 us. Offsets in 32 bits (the caller checks n < 2^31).
// (4 rows: the 80x80 scale still has 4800 warps; 32 rows per warp left 75 blocks, 55 us)
constexpr int kRowGroup = 4;
template <typename T>
__global__ void piecewiseRowsKernel(PwParams q, PieceNeeds needs, Divisors divs, T* out, Shape8 os,
                                    int32_t rows) {
  TRT_WAIT_PRIOR_GRID();
  __shared__ int32_t sStrideLast[kPwInputs];
  __shared__ const T* sIn[kPwInputs];
  __shared__ int32_t sInPiece[kPwInputs], sPieceEnd[kPwPieces], sResult[kPwPieces];
  __shared__ uint32_t sLenMul[kPwPieces], sLenShift[kPwPieces];  // division by each piece's length
  __shared__ uint8_t sNumIn[kPwPieces], sNumInstr[kPwPieces];
  __shared__ uint8_t sIns[kPwPieces][kPwInputs], sInstr[kPwPieces][kPwInstructions];
  __shared__ int32_t sOp[kPwInstructions], sA[kPwInstructions], sB[kPwInstructions];
  __shared__ float sP0[kPwInstructions], sP1[kPwInstructions];
  __shared__ int32_t sBase[kThreads / 32][kRowGroup][kPwInputs];  // per warp: each row's input offsets
  const int last = os.rank - 1, numPieces = q.p.numPieces, numInputs = q.p.numInputs;
  for (int t = threadIdx.x; t < kPwInputs; t += blockDim.x) {
    sIn[t] = static_cast<const T*>(q.p.in[t]);
    sInPiece[t] = q.p.inPiece[t];
    sStrideLast[t] = static_cast<int32_t>(q.p.inStrides[t].strides[last]);
  }
  for (int t = threadIdx.x; t < kPwPieces; t += blockDim.x) {
    sPieceEnd[t] = static_cast<int32_t>(q.p.pieceEnd[t]);
    sResult[t] = q.p.pieceResult[t];
    sNumIn[t] = needs.numInputs[t];
    sNumInstr[t] = needs.numInstructions[t];
    sLenMul[t] = needs.lenMul[t];
    sLenShift[t] = needs.lenShift[t];
    for (int k = 0; k < kPwInputs; ++k) sIns[t][k] = needs.inputs[t][k];
    for (int k = 0; k < kPwInstructions; ++k) sInstr[t][k] = needs.instructions[t][k];
  }
  for (int t = threadIdx.x; t < kPwInstructions; t += blockDim.x) {
    sOp[t] = q.p.op[t];
    sA[t] = q.p.a[t];
    sB[t] = q.p.b[t];
    sP0[t] = q.p.p0[t];
    sP1[t] = q.p.p1[t];
  }
  __syncthreads();
  const int32_t len = static_cast<int32_t>(os.dims[last]);
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
  int32_t(*base)[kPwInputs] = sBase[warp];
  for (int32_t row0 = (blockIdx.x * warps + warp) * kRowGroup; row0 < rows;
       row0 += gridDim.x * warps * kRowGroup) {
    // this lane's row: its position, and each input's offset at its start
    const int32_t myRow = row0 + lane;
    if (lane < kRowGroup && myRow < rows) {
      int32_t idx[kMaxRank];
      uint32_t rem = static_cast<uint32_t>(myRow);
#pragma unroll
      for (int d = kMaxRank - 1; d >= 0; --d) {
        idx[d] = 0;
        if (d < last) {
          const uint32_t qd = (__umulhi(rem, divs.mul[d]) + rem) >> divs.shift[d];
          idx[d] = static_cast<int32_t>(rem - qd * divs.dim[d]);
          rem = qd;
        }
      }
#pragma unroll
      for (int j = 0; j < kPwInputs; ++j) {
        if (j >= numInputs) break;
        int32_t off = 0;
#pragma unroll
        for (int d = 0; d < kMaxRank; ++d)
          if (d < last) off += idx[d] * static_cast<int32_t>(q.p.inStrides[j].strides[d]);
        base[lane][j] = off;
      }
    }
    __syncwarp();
    const int32_t groupRows = min(kRowGroup, rows - row0);
    for (int piece = 0; piece < numPieces; ++piece) {
      const int32_t start = piece ? sPieceEnd[piece - 1] : 0, plen = sPieceEnd[piece] - start;
      const int32_t count = groupRows * plen;
      for (int32_t e = lane; e < count; e += 32) {
        const uint32_t ue = static_cast<uint32_t>(e);
        const int32_t rl = static_cast<int32_t>((__umulhi(ue, sLenMul[piece]) + ue) >> sLenShift[piece]);
        const int32_t c = start + (e - rl * plen);
        float r[kPwInputs + kPwInstructions];
        for (int k = 0; k < sNumIn[piece]; ++k) {  // the piece's inputs only
          const int j = sIns[piece][k];
          const int pj = sInPiece[j];
          int32_t i = c;
          if (pj >= 0) {
            const int32_t ps = pj ? sPieceEnd[pj - 1] : 0;
            const int32_t pn = sPieceEnd[pj] - ps;
            i = i < ps ? 0 : (i - ps >= pn ? pn - 1 : i - ps);
          }
          r[j] = loadF(sIn[j], base[rl][j] + i * sStrideLast[j]);
        }
        for (int k = 0; k < sNumInstr[piece]; ++k) {
          const int i = sInstr[piece][k];
          const int op = sOp[i];
          const float x = r[sA[i]];
          r[numInputs + i] = op < 100 ? pwBinary(op, x, r[sB[i]])
                                      : unaryApply(static_cast<UnaryOp>(op - 100), x, sP0[i], sP1[i]);
        }
        storeF(out, static_cast<int64_t>(row0 + rl) * len + c, r[sResult[piece]]);
      }
    }
    __syncwarp();  // the group's offsets are read before the next group writes them
  }
}

template <typename T>
void launchPointwise(const PwParams& q, void* out, const Shape8& os, int64_t n, cudaStream_t s) {
  if (q.p.pieceAxis >= 0) {
    const PieceNeeds needs = pieceNeeds(q.p);
    const Divisors divs = divisorsOf(os);
    if (n < (int64_t{1} << 31) && q.p.pieceAxis == os.rank - 1) {
      const int64_t rows = n / os.dims[os.rank - 1];
      constexpr int kRowsPerBlock = kThreads / 32 * kRowGroup;
      // at most about one wave of blocks: each stages the program once and then loops over rows
      const int64_t blocks = std::min<int64_t>((rows + kRowsPerBlock - 1) / kRowsPerBlock, 1024);
      piecewiseRowsKernel<T><<<static_cast<int>(blocks), kThreads, 0, s>>>(
          q, needs, divs, static_cast<T*>(out), os, static_cast<int32_t>(rows));
    } else if (n < (int64_t{1} << 31))
      piecewiseKernel<T, int32_t><<<blocksFor(n), kThreads, 0, s>>>(q, needs, divs, static_cast<T*>(out), os,
                                                                    static_cast<int32_t>(n));
    else
      piecewiseKernel<T, int64_t>
          <<<blocksFor(n), kThreads, 0, s>>>(q, needs, divs, static_cast<T*>(out), os, n);
    return;
  }
  if (n < (int64_t{1} << 31))
    pointwiseKernel<T, int32_t>
        <<<blocksFor(n), kThreads, 0, s>>>(q, static_cast<T*>(out), os, static_cast<int32_t>(n));
  else
    pointwiseKernel<T, int64_t><<<blocksFor(n), kThreads, 0, s>>>(q, static_cast<T*>(out), os, n);
}

}  // namespace

cudaError_t pointwise(KType t, const PointwiseProgram& p, void* out, const Shape8& os, cudaStream_t s) {
  if (p.numInputs < 1 || p.numInputs > kPwInputs || p.numInstructions < 0 ||
      p.numInstructions > kPwInstructions || (p.numInstructions == 0 && p.pieceAxis < 0) ||
      (p.pieceAxis >= 0 && (p.pieceAxis >= os.rank || p.numPieces < 1 || p.numPieces > kPwPieces)))
    return cudaErrorInvalidValue;
  const int64_t n = volumeOf(os);
  if (n == 0) return cudaSuccess;
  PwParams q;
  q.p = p;
  for (int j = 0; j < p.numInputs; ++j) q.acc[j] = accessFor(p.inStrides[j], os);
  if (t == KType::kF32)
    launchPointwise<float>(q, out, os, n, s);
  else if (t == KType::kF16)
    launchPointwise<__half>(q, out, os, n, s);
  else
    return cudaErrorInvalidValue;
  return cudaGetLastError();
}

cudaError_t binary(BinaryOp op, KType t, KType bt, const void* a, const Shape8& as, const void* b,
                   const Shape8& bs, void* out, const Shape8& os, cudaStream_t s) {
  const int64_t n = volumeOf(os);
  if (n == 0) return cudaSuccess;
  if (t == KType::kF32 && bt == KType::kF32 && op < BinaryOp::kPow && contiguousSame(as, os) &&
      contiguousSame(bs, os)) {
    binarySameF32<<<blocksFor(n), kThreads, 0, s>>>(
        op, static_cast<const float*>(a), static_cast<const float*>(b), static_cast<float*>(out), n);
    return cudaGetLastError();
  }
  switch (t) {
    case KType::kF32:
      return launchBinary<float>(op, bt, a, as, b, bs, out, os, n, s);
    case KType::kF16:
      return launchBinary<__half>(op, bt, a, as, b, bs, out, os, n, s);
    case KType::kI32:
      return launchBinary<int32_t>(op, bt, a, as, b, bs, out, os, n, s);
    case KType::kI64:
      return launchBinary<int64_t>(op, bt, a, as, b, bs, out, os, n, s);
    case KType::kI8:
      return launchBinary<int8_t>(op, bt, a, as, b, bs, out, os, n, s);
    case KType::kBool:
      return launchBinary<uint8_t>(op, bt, a, as, b, bs, out, os, n, s);
    default:
      return cudaErrorInvalidValue;
  }
}

cudaError_t where(const uint8_t* cond, const Shape8& cs, const void* x, const Shape8& xs, const void* y,
                  const Shape8& ys, void* out, const Shape8& os, int elemSize, cudaStream_t s) {
  const int64_t n = volumeOf(os);
  if (n == 0) return cudaSuccess;
  if (n >= (int64_t{1} << 31)) return cudaErrorInvalidValue;
  const int32_t n32 = static_cast<int32_t>(n);
  switch (elemSize) {
    case 1:
      whereKernel<uint8_t><<<blocksFor(n), kThreads, 0, s>>>(cond, cs, static_cast<const uint8_t*>(x), xs,
                                                             static_cast<const uint8_t*>(y), ys,
                                                             static_cast<uint8_t*>(out), os, n32);
      break;
    case 2:
      whereKernel<uint16_t><<<blocksFor(n), kThreads, 0, s>>>(cond, cs, static_cast<const uint16_t*>(x), xs,
                                                              static_cast<const uint16_t*>(y), ys,
                                                              static_cast<uint16_t*>(out), os, n32);
      break;
    case 4:
      whereKernel<uint32_t><<<blocksFor(n), kThreads, 0, s>>>(cond, cs, static_cast<const uint32_t*>(x), xs,
                                                              static_cast<const uint32_t*>(y), ys,
                                                              static_cast<uint32_t*>(out), os, n32);
      break;
    case 8:
      whereKernel<uint64_t><<<blocksFor(n), kThreads, 0, s>>>(cond, cs, static_cast<const uint64_t*>(x), xs,
                                                              static_cast<const uint64_t*>(y), ys,
                                                              static_cast<uint64_t*>(out), os, n32);
      break;
    default:
      return cudaErrorInvalidValue;
  }
  return cudaGetLastError();
}

cudaError_t cast(KType from, KType to, const void* x, void* y, int64_t n, cudaStream_t s) {
  if (n == 0) return cudaSuccess;
  castKernel<<<blocksFor(n), kThreads, 0, s>>>(from, to, x, y, n);
  return cudaGetLastError();
}

namespace {
// Rows of ldx elements packed into a dense output of `cols` a row, the output as a flat array of
// groups of G elements (16 bytes): each thread converts its group, which may span two rows, and
// stores it at once where y is 16-byte aligned. widenRows: FP16 to FP32, four a group (GPT-2's LM
// head at bs16: 2048 rows of 50257, where a block per row with scalar stores ran at half the
// bandwidth); packRows: 2-byte elements as they are, eight a group (the copy engine's strided copy
// moved that head's 206 MB at about 2.2 TB/s of reads and writes on the H200). I: 32-bit when the
// element count fits.
__device__ __forceinline__ float convertTo(__half v, float*) {
  return __half2float(v);
}
__device__ __forceinline__ uint16_t convertTo(uint16_t v, uint16_t*) {
  return v;
}
template <typename In, typename Out, typename I>
__global__ void flatRowsKernel(const In* __restrict__ x, I ldx, Out* __restrict__ y, I cols, I total,
                               bool aligned) {
  TRT_WAIT_PRIOR_GRID();
  constexpr int G = 16 / sizeof(Out);
  const I groups = (total + G - 1) / G;
  for (I g = blockIdx.x * static_cast<I>(blockDim.x) + threadIdx.x; g < groups;
       g += static_cast<I>(gridDim.x) * blockDim.x) {
    const I i = g * G;
    I r = i / cols, c = i - r * cols;
    union {
      uint4 q;
      Out e[G];
    } v;
#pragma unroll
    for (int k = 0; k < G; ++k) {
      v.e[k] = i + k < total ? convertTo(x[r * ldx + c], static_cast<Out*>(nullptr)) : Out(0);
      if (++c == cols) {
        c = 0;
        ++r;
      }
    }
    if (aligned && i + G <= total) {
      reinterpret_cast<uint4*>(y)[g] = v.q;
    } else {
      for (I k = 0; k < G && i + k < total; ++k) y[i + k] = v.e[k];
    }
  }
}

template <typename In, typename Out>
cudaError_t flatRows(const void* x, int64_t ldx, void* y, int64_t rows, int64_t cols, cudaStream_t s) {
  constexpr int64_t G = 16 / sizeof(Out);
  const int64_t total = rows * cols;
  if (total == 0) return cudaSuccess;
  const bool aligned = reinterpret_cast<uintptr_t>(y) % 16 == 0;
  const int64_t groups = (total + G - 1) / G;
  const auto* in = static_cast<const In*>(x);
  auto* out = static_cast<Out*>(y);
  if (rows * ldx < (int64_t{1} << 31) && total < (int64_t{1} << 31) - G)
    flatRowsKernel<In, Out, int32_t><<<blocksFor(groups), kThreads, 0, s>>>(
        in, static_cast<int32_t>(ldx), out, static_cast<int32_t>(cols), static_cast<int32_t>(total), aligned);
  else
    flatRowsKernel<In, Out, int64_t>
        <<<blocksFor(groups), kThreads, 0, s>>>(in, ldx, out, cols, total, aligned);
  return cudaGetLastError();
}
}  // namespace

cudaError_t widenRows(const void* x, int64_t ldx, float* y, int64_t rows, int64_t cols, cudaStream_t s) {
  return flatRows<__half, float>(x, ldx, y, rows, cols, s);
}

namespace {
// packRows where x's rows start 16-byte aligned (x aligned, ldx a multiple of 8) and y is aligned:
// each thread's group of 8 output halves that lies in one row is 8 halves from x at an arbitrary
// offset, read as the two aligned 16-byte vectors that hold them and shifted into place (a
// funnel shift by the odd half, a word select by the rest), then stored as one 16-byte vector;
// a group across a row end takes its halves one by one. (flatRowsKernel reads 2 bytes a load:
// GPT-2's LM head at bs16, 206 MB each way, took 163 us, 2.5 TB/s, on the H200.)
template <typename I>
__global__ void packRowsAlignedKernel(const uint16_t* __restrict__ x, I ldx, uint16_t* __restrict__ y, I cols,
                                      I total) {
  TRT_WAIT_PRIOR_GRID();
  const I groups = (total + 7) / 8;
  for (I g = blockIdx.x * static_cast<I>(blockDim.x) + threadIdx.x; g < groups;
       g += static_cast<I>(gridDim.x) * blockDim.x) {
    const I i = g * 8;
    const I r = i / cols, c = i - r * cols;
    if (c + 8 <= cols) {
      const I base = r * ldx + c;
      const int shift = static_cast<int>(base & 7);
      const uint4* src = reinterpret_cast<const uint4*>(x + (base - shift));
      const uint4 v0 = __ldg(src);
      const uint4 v1 = shift ? __ldg(src + 1) : v0;
      const uint32_t w[8] = {v0.x, v0.y, v0.z, v0.w, v1.x, v1.y, v1.z, v1.w};
      const int j = shift >> 1;
      const bool odd = shift & 1;
      uint32_t o[4];
#pragma unroll
      for (int k = 0; k < 4; ++k) {
        const uint32_t lo = j == 0 ? w[k] : j == 1 ? w[k + 1] : j == 2 ? w[k + 2] : w[k + 3];
        const uint32_t hi = j == 0 ? w[k + 1] : j == 1 ? w[k + 2] : j == 2 ? w[k + 3] : w[k + 4];
        o[k] = odd ? __funnelshift_r(lo, hi, 16) : lo;
      }
      reinterpret_cast<uint4*>(y)[g] = make_uint4(o[0], o[1], o[2], o[3]);
    } else {
      I rr = r, cc = c;
      for (I k = 0; k < 8 && i + k < total; ++k) {
        y[i + k] = x[rr * ldx + cc];
        if (++cc == cols) {
          cc = 0;
          ++rr;
        }
      }
    }
  }
}
}  // namespace

cudaError_t packRows(const void* x, int64_t ldx, void* y, int64_t rows, int64_t cols, cudaStream_t s) {
  const int64_t total = rows * cols;
  if (total == 0) return cudaSuccess;
  if ((reinterpret_cast<uintptr_t>(x) | reinterpret_cast<uintptr_t>(y)) % 16 || ldx % 8)
    return flatRows<uint16_t, uint16_t>(x, ldx, y, rows, cols, s);
  const auto* in = static_cast<const uint16_t*>(x);
  auto* out = static_cast<uint16_t*>(y);
  const int64_t groups = (total + 7) / 8;
  if (rows * ldx < (int64_t{1} << 31) && total < (int64_t{1} << 31) - 8)
    packRowsAlignedKernel<int32_t><<<blocksFor(groups), kThreads, 0, s>>>(
        in, static_cast<int32_t>(ldx), out, static_cast<int32_t>(cols), static_cast<int32_t>(total));
  else
    packRowsAlignedKernel<int64_t><<<blocksFor(groups), kThreads, 0, s>>>(in, ldx, out, cols, total);
  return cudaGetLastError();
}

cudaError_t logicalNot(const uint8_t* x, uint8_t* y, int64_t n, cudaStream_t s) {
  if (n == 0) return cudaSuccess;
  notKernel<<<blocksFor(n), kThreads, 0, s>>>(x, y, n);
  return cudaGetLastError();
}

cudaError_t isNan(const float* x, uint8_t* y, int64_t n, cudaStream_t s) {
  if (n == 0) return cudaSuccess;
  isNanKernel<<<blocksFor(n), kThreads, 0, s>>>(x, y, n);
  return cudaGetLastError();
}

cudaError_t fill(void* y, int64_t n, int elemSize, uint64_t value, cudaStream_t s) {
  if (n == 0) return cudaSuccess;
  fillKernel<<<blocksFor(n), kThreads, 0, s>>>(static_cast<uint8_t*>(y), n, elemSize, value);
  return cudaGetLastError();
}

cudaError_t range(KType t, double start, double delta, void* y, int64_t n, cudaStream_t s) {
  if (n == 0) return cudaSuccess;
  rangeKernel<<<blocksFor(n), kThreads, 0, s>>>(t, start, delta, y, n);
  return cudaGetLastError();
}

cudaError_t channelAffine(KType t, const void* x, const float* scale, const float* bias, const float* mean,
                          const float* var, float eps, void* y, int64_t n, int64_t c, int64_t inner,
                          cudaStream_t s) {
  const int64_t total = n * c * inner;
  if (total == 0) return cudaSuccess;
  if (t == KType::kF16)
    channelAffineKernel<__half><<<blocksFor(total), kThreads, 0, s>>>(
        static_cast<const __half*>(x), scale, bias, mean, var, eps, static_cast<__half*>(y), c, inner, total);
  else
    channelAffineKernel<float><<<blocksFor(total), kThreads, 0, s>>>(
        static_cast<const float*>(x), scale, bias, mean, var, eps, static_cast<float*>(y), c, inner, total);
  return cudaGetLastError();
}

cudaError_t addChannelBias(KType t, void* y, const void* bias, int64_t n, int64_t c, int64_t inner,
                           cudaStream_t s) {
  const int64_t total = n * c * inner;
  if (total == 0) return cudaSuccess;
  if (t == KType::kF16)
    addChannelBiasKernel<__half><<<blocksFor(total), kThreads, 0, s>>>(
        static_cast<__half*>(y), static_cast<const __half*>(bias), c, inner, total);
  else
    addChannelBiasKernel<float><<<blocksFor(total), kThreads, 0, s>>>(
        static_cast<float*>(y), static_cast<const float*>(bias), c, inner, total);
  return cudaGetLastError();
}

cudaError_t biasActivation(KType t, void* y, const void* bias, const void* z, int64_t outer, int64_t c,
                           int64_t inner, UnaryOp act, float alpha, float beta, cudaStream_t s,
                           bool zAfterAct) {
  const int64_t total = outer * c * inner;
  if (total == 0) return cudaSuccess;
  if (t == KType::kF16)
    return launchBiasActivation(static_cast<__half*>(y), static_cast<const __half*>(bias),
                                static_cast<const __half*>(z), total, c, inner, act, alpha, beta, s,
                                zAfterAct);
  return launchBiasActivation(static_cast<float*>(y), static_cast<const float*>(bias),
                              static_cast<const float*>(z), total, c, inner, act, alpha, beta, s, zAfterAct);
}

}  // namespace kernels
}  // namespace trt
