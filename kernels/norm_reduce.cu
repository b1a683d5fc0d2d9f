// Normalisation, reductions and ordering: Softmax/LogSoftmax, LayerNorm, Reduce*, ArgMax, TopK,
// CumSum, pooling and a reference Einsum. Layout: dense row-major (NC + spatial for pooling).
// Precision: float32 inputs with float32 accumulation (softmax and layer-norm statistics
// accumulate in float32 with a two-pass mean/variance); integer reductions in their own type.
#include <cuda_fp16.h>

#include <cfloat>
#include <type_traits>

#include "kernel_common.cuh"
#include "kernels.h"

namespace trt {
namespace kernels {
namespace {

using namespace common;

__device__ __forceinline__ float warpSum(float v) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffff, v, o);
  return v;
}
__device__ __forceinline__ float warpMax(float v) {
  for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffff, v, o));
  return v;
}

// Block-wide reduction of one float (sum or max); every thread gets the result.
__device__ float blockReduce(float v, bool isMax) {
  __shared__ float partial[32];
  __shared__ float result;
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  v = isMax ? warpMax(v) : warpSum(v);
  if (lane == 0) partial[warp] = v;
  __syncthreads();
  if (warp == 0) {
    const int nw = (blockDim.x + 31) / 32;
    float x = lane < nw ? partial[lane] : (isMax ? -FLT_MAX : 0.f);
    x = isMax ? warpMax(x) : warpSum(x);
    if (lane == 0) result = x;
  }
  __syncthreads();
  const float r = result;
  __syncthreads();
  return r;
}

// One block per contiguous row.
template <typename T>
__global__ void softmaxRows(const T* x, T* y, int64_t n, bool log) {
  TRT_WAIT_PRIOR_GRID();
  const T* row = x + blockIdx.x * n;
  T* out = y + blockIdx.x * n;
  float m = -INFINITY;
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x) m = fmaxf(m, toF(row[i]));
  m = blockReduce(m, true);
  float sum = 0.f;
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x) sum += expf(toF(row[i]) - m);
  sum = blockReduce(sum, false);
  const float ls = logf(sum);
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x)
    out[i] = fromF<T>(log ? toF(row[i]) - m - ls : expf(toF(row[i]) - m) / sum);
}

// One thread per (outer, inner) column when the softmax axis is not the last.
template <typename T>
__global__ void softmaxStrided(const T* x, T* y, int64_t outer, int64_t n, int64_t inner, bool log) {
  TRT_WAIT_PRIOR_GRID();
  const int64_t cols = outer * inner;
  for (int64_t c = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; c < cols;
       c += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t o = c / inner, i = c % inner;
    const T* p = x + o * n * inner + i;
    T* q = y + o * n * inner + i;
    float m = -INFINITY;
    for (int64_t k = 0; k < n; ++k) m = fmaxf(m, toF(p[k * inner]));
    float sum = 0.f;
    for (int64_t k = 0; k < n; ++k) sum += expf(toF(p[k * inner]) - m);
    const float ls = logf(sum);
    for (int64_t k = 0; k < n; ++k)
      q[k * inner] = fromF<T>(log ? toF(p[k * inner]) - m - ls : expf(toF(p[k * inner]) - m) / sum);
  }
}

// One block per row. With `r` (AddLayerNorm) the row is x + r (r's row `row % rRows`), rounded
// to T as the unfused Add would store it, and written to `sum` when that is given.
template <typename T>
__global__ void layerNormRows(const T* x, const T* r, int64_t rRows, T* sum, const T* scale, const T* bias,
                              float eps, T* y, float* mean, float* invStd, int64_t inner) {
  TRT_WAIT_PRIOR_GRID();
  const T* row = x + blockIdx.x * inner;
  const T* rrow = r ? r + (blockIdx.x % rRows) * inner : nullptr;
  T* srow = sum ? sum + blockIdx.x * inner : nullptr;
  T* out = y + blockIdx.x * inner;
  auto at = [&](int64_t i) { return rrow ? toF(fromF<T>(toF(row[i]) + toF(rrow[i]))) : toF(row[i]); };
  float s = 0.f;
  for (int64_t i = threadIdx.x; i < inner; i += blockDim.x) {
    const float v = at(i);
    if (srow) srow[i] = fromF<T>(v);
    s += v;
  }
  const float mu = blockReduce(s, false) / inner;
  float v = 0.f;
  for (int64_t i = threadIdx.x; i < inner; i += blockDim.x) {
    const float d = at(i) - mu;
    v += d * d;
  }
  const float inv = rsqrtf(blockReduce(v, false) / inner + eps);
  for (int64_t i = threadIdx.x; i < inner; i += blockDim.x)
    out[i] = fromF<T>((at(i) - mu) * inv * toF(scale[i]) + (bias ? toF(bias[i]) : 0.f));
  if (threadIdx.x == 0) {
    if (mean) mean[blockIdx.x] = mu;
    if (invStd) invStd[blockIdx.x] = inv;
  }
}

// One warp per row, the row held in registers (read once): rows of up to kWarpLnMaxVec vectors of
// 16 bytes per lane (FP16: 8 values a vector, up to 2048 a row; FP32: 4, up to 1024), `inner` a
// multiple of 32 vectors, 16-byte aligned pointers. Same arithmetic as layerNormRows (FP32, mean
// first, then the sum of squared deviations), reduced by warp shuffles instead of through shared
// memory; four rows (warps) a block. BERT's and GPT-2's rows of 768 are 3 vectors a lane in FP16.
constexpr int kWarpLnMaxVec = 8;
// NV, the vectors per lane, is a template parameter: the loops have fixed trip counts, so every
// load of the row is issued before the first wait and the registers are what the row needs.
template <typename T, int NV>
__global__ __launch_bounds__(128) void layerNormWarpRows(const T* x, const T* r, int64_t rRows, T* sum,
                                                         const T* scale, const T* bias, float eps, T* y,
                                                         float* mean, float* invStd, int64_t rows,
                                                         int64_t inner) {
  TRT_WAIT_PRIOR_GRID();
  constexpr int kPer = 16 / sizeof(T);  // values per 16-byte vector
  const int64_t row = blockIdx.x * 4 + threadIdx.x / 32;
  if (row >= rows) return;
  const int lane = threadIdx.x % 32;
  const T* xr = x + row * inner;
  const T* rr = r ? r + (row % rRows) * inner : nullptr;
  float v[NV][kPer];
  // scale and bias are loaded first, so their latency overlaps x's and the reductions'.
  uint4 gv[NV], bv[NV];
#pragma unroll
  for (int k = 0; k < NV; ++k) {
    const int64_t off = (int64_t(k) * 32 + lane) * kPer;
    gv[k] = *reinterpret_cast<const uint4*>(scale + off);
    if (bias) bv[k] = *reinterpret_cast<const uint4*>(bias + off);
  }
  float s = 0.f;
#pragma unroll
  for (int k = 0; k < NV; ++k) {
    const int64_t off = (int64_t(k) * 32 + lane) * kPer;
    __align__(16) T xv[kPer];
    *reinterpret_cast<uint4*>(xv) = *reinterpret_cast<const uint4*>(xr + off);
    if (rr) {
      __align__(16) T rv[kPer];
      *reinterpret_cast<uint4*>(rv) = *reinterpret_cast<const uint4*>(rr + off);
#pragma unroll
      for (int e = 0; e < kPer; ++e)
        xv[e] = fromF<T>(toF(xv[e]) + toF(rv[e]));  // rounded as the Add stores it
      if (sum) *reinterpret_cast<uint4*>(sum + row * inner + off) = *reinterpret_cast<const uint4*>(xv);
    }
#pragma unroll
    for (int e = 0; e < kPer; ++e) {
      v[k][e] = toF(xv[e]);
      s += v[k][e];
    }
  }
  const float mu = warpSum(s) / inner;
  float q = 0.f;
#pragma unroll
  for (int k = 0; k < NV; ++k) {
#pragma unroll
    for (int e = 0; e < kPer; ++e) {
      const float d = v[k][e] - mu;
      q += d * d;
    }
  }
  const float inv = rsqrtf(warpSum(q) / inner + eps);
#pragma unroll
  for (int k = 0; k < NV; ++k) {
    const int64_t off = (int64_t(k) * 32 + lane) * kPer;
    __align__(16) T g[kPer], b[kPer], o[kPer];
    *reinterpret_cast<uint4*>(g) = gv[k];
    if (bias) *reinterpret_cast<uint4*>(b) = bv[k];
#pragma unroll
    for (int e = 0; e < kPer; ++e)
      o[e] = fromF<T>((v[k][e] - mu) * inv * toF(g[e]) + (bias ? toF(b[e]) : 0.f));
    *reinterpret_cast<uint4*>(y + row * inner + off) = *reinterpret_cast<const uint4*>(o);
  }
  if (lane == 0) {
    if (mean) mean[row] = mu;
    if (invStd) invStd[row] = inv;
  }
}

template <typename T>
bool warpRowsApply(const void* x, const void* r, const void* sum, const void* scale, const void* bias,
                   const void* y, int64_t inner) {
  constexpr int64_t kPer = 16 / sizeof(T);
  const uintptr_t ptrs = reinterpret_cast<uintptr_t>(x) | reinterpret_cast<uintptr_t>(r) |
                         reinterpret_cast<uintptr_t>(sum) | reinterpret_cast<uintptr_t>(scale) |
                         reinterpret_cast<uintptr_t>(bias) | reinterpret_cast<uintptr_t>(y);
  return inner > 0 && inner % (32 * kPer) == 0 && inner / (32 * kPer) <= kWarpLnMaxVec && ptrs % 16 == 0;
}

// splitSumLayerNorm: four values of T at a time (8 bytes of FP16, 16 of FP32).
template <typename T>
struct Quad;
template <>
struct Quad<float> {
  static __device__ __forceinline__ void load(const float* p, float v[4]) {
    const float4 q = *reinterpret_cast<const float4*>(p);
    v[0] = q.x, v[1] = q.y, v[2] = q.z, v[3] = q.w;
  }
  static __device__ __forceinline__ void store(float* p, const float v[4]) {
    *reinterpret_cast<float4*>(p) = make_float4(v[0], v[1], v[2], v[3]);
  }
};
template <>
struct Quad<__half> {
  static __device__ __forceinline__ void load(const __half* p, float v[4]) {
    const uint2 q = *reinterpret_cast<const uint2*>(p);
    const float2 a = __half22float2(*reinterpret_cast<const __half2*>(&q.x));
    const float2 b = __half22float2(*reinterpret_cast<const __half2*>(&q.y));
    v[0] = a.x, v[1] = a.y, v[2] = b.x, v[3] = b.y;
  }
  static __device__ __forceinline__ void store(__half* p, const float v[4]) {
    uint2 q;
    *reinterpret_cast<__half2*>(&q.x) = __floats2half2_rn(v[0], v[1]);
    *reinterpret_cast<__half2*>(&q.y) = __floats2half2_rn(v[2], v[3]);
    *reinterpret_cast<uint2*>(p) = q;
  }
};

// Sum over a block of up to 1024 threads, returned to every thread (`red`: 32 floats of shared
// memory, one reduction at a time per array).
__device__ __forceinline__ float blockSum(float v, float* red) {
  v = warpSum(v);
  const int warp = threadIdx.x / 32, warps = blockDim.x / 32;
  if (threadIdx.x % 32 == 0) red[warp] = v;
  __syncthreads();
  float t = 0.f;
  for (int w = 0; w < warps; ++w) t += red[w];
  return t;
}

// One block a row, four values a thread (n / 4 threads): every load of the row (the S partial
// sums, bias, residual, scale and LayerNorm bias) is issued before anything waits on one, so the
// row costs one memory latency. The partials, bias and residual add up in FP32 and round to T (as
// the unfused GEMM epilogue stores its sum); mean and variance come from the rounded values.
template <typename T, int S>
__global__ __launch_bounds__(1024) void splitSumLayerNormRows(const float* __restrict__ p, int64_t pStride,
                                                              const T* __restrict__ bias,
                                                              const T* __restrict__ z, T* __restrict__ sum,
                                                              const T* __restrict__ scale,
                                                              const T* __restrict__ lnBias, float eps,
                                                              T* __restrict__ y, int64_t n) {
  TRT_WAIT_PRIOR_GRID();
  __shared__ float red[2][32];
  const int64_t col = threadIdx.x * 4, off = blockIdx.x * n + col;
  float part[S][4], b[4] = {0.f, 0.f, 0.f, 0.f}, r[4] = {0.f, 0.f, 0.f, 0.f}, g[4],
                    lb[4] = {0.f, 0.f, 0.f, 0.f};
#pragma unroll
  for (int j = 0; j < S; ++j) Quad<float>::load(p + j * pStride + off, part[j]);
  if (bias) Quad<T>::load(bias + col, b);
  if (z) Quad<T>::load(z + off, r);
  Quad<T>::load(scale + col, g);
  if (lnBias) Quad<T>::load(lnBias + col, lb);
  float v[4], t = 0.f;
#pragma unroll
  for (int e = 0; e < 4; ++e) {
    float a = part[0][e];
#pragma unroll
    for (int j = 1; j < S; ++j) a += part[j][e];
    v[e] = toF(fromF<T>(a + b[e] + r[e]));  // S as stored in T
    t += v[e];
  }
  if (sum) Quad<T>::store(sum + off, v);
  const float mu = blockSum(t, red[0]) / n;
  float q = 0.f;
#pragma unroll
  for (int e = 0; e < 4; ++e) q += (v[e] - mu) * (v[e] - mu);
  const float inv = rsqrtf(blockSum(q, red[1]) / n + eps);
  float o[4];
#pragma unroll
  for (int e = 0; e < 4; ++e) o[e] = (v[e] - mu) * inv * g[e] + lb[e];
  Quad<T>::store(y + off, o);
}

// f(std::integral_constant<int, n>()) where n is one of Ks (kernels with a compile-time count);
// `none` otherwise.
template <int... Ks, typename F>
cudaError_t withCountIn(int n, cudaError_t none, F&& f) {
  cudaError_t r = none;
  (void)((n == Ks && (r = f(std::integral_constant<int, Ks>()), true)) || ...);
  return r;
}

template <typename T>
cudaError_t splitSumLayerNormT(const float* p, int splits, int64_t pStride, const void* bias, const void* z,
                               void* sum, const void* scale, const void* lnBias, float eps, void* y,
                               int64_t rows, int64_t n, cudaStream_t s) {
  const dim3 grid(static_cast<unsigned>(rows)), block(static_cast<unsigned>(n / 4));
  auto go = [&](auto k) {
    splitSumLayerNormRows<T, decltype(k)::value><<<grid, block, 0, s>>>(
        p, pStride, static_cast<const T*>(bias), static_cast<const T*>(z), static_cast<T*>(sum),
        static_cast<const T*>(scale), static_cast<const T*>(lnBias), eps, static_cast<T*>(y), n);
    return cudaGetLastError();
  };
  return withCountIn<1, 2, 3, 4, 6>(splits, cudaErrorNotSupported, go);
}

// layerNormWarpRows for the row's vectors per lane (1 to kWarpLnMaxVec; warpRowsApply checked).
template <typename T>
cudaError_t launchWarpRows(const void* x, const void* r, int64_t rRows, void* sum, const void* scale,
                           const void* bias, float eps, void* y, float* mean, float* invStd, int64_t rows,
                           int64_t inner, cudaStream_t s) {
  const unsigned blocks = static_cast<unsigned>((rows + 3) / 4);
  const int nv = static_cast<int>(inner / (32 * (16 / sizeof(T))));
  auto go = [&](auto k) {
    layerNormWarpRows<T, decltype(k)::value><<<blocks, 128, 0, s>>>(
        static_cast<const T*>(x), static_cast<const T*>(r), rRows, static_cast<T*>(sum),
        static_cast<const T*>(scale), static_cast<const T*>(bias), eps, static_cast<T*>(y), mean, invStd,
        rows, inner);
    return cudaGetLastError();
  };
  return withCountIn<1, 2, 3, 4, 5, 6, 7, 8>(nv, cudaErrorInvalidValue, go);
}

template <typename T>
struct ReduceTraits {
  static __device__ T lowest();
  static __device__ T highest();
};
template <>
struct ReduceTraits<float> {
  static __device__ float lowest() { return -INFINITY; }
  static __device__ float highest() { return INFINITY; }
};
template <>
struct ReduceTraits<int32_t> {
  static __device__ int32_t lowest() { return INT32_MIN; }
  static __device__ int32_t highest() { return INT32_MAX; }
};
template <>
struct ReduceTraits<int64_t> {
  static __device__ int64_t lowest() { return INT64_MIN; }
  static __device__ int64_t highest() { return INT64_MAX; }
};

// One step of a reduction (op 0 sum, 1 mean, 2 max, 3 min) and the float start value.
template <typename A>
__device__ __forceinline__ A reduceStep(int op, A acc, A v) {
  return op == 2 ? (v > acc ? v : acc) : op == 3 ? (v < acc ? v : acc) : acc + v;
}
__device__ __forceinline__ float reduceStart(int op) {
  return op == 2 ? -INFINITY : (op == 3 ? INFINITY : 0.f);
}

// One thread per output element; loops over the reduced sub-space.
template <typename T>
__global__ void reduceGeneric(int op, const T* x, Shape8 xs, T* y, Shape8 kept, int64_t nOut, int64_t nRed) {
  TRT_WAIT_PRIOR_GRID();
  for (int64_t o = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; o < nOut;
       o += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    // base offset from the kept coordinates
    int64_t r = o, base = 0;
    for (int d = kept.rank - 1; d >= 0; --d) {
      const int64_t i = r % kept.dims[d];
      r /= kept.dims[d];
      base += i * xs.strides[d];
    }
    using Acc = typename std::conditional<std::is_same<T, float>::value, float, T>::type;
    Acc acc = op == 2 ? ReduceTraits<T>::lowest() : (op == 3 ? ReduceTraits<T>::highest() : Acc(0));
    for (int64_t k = 0; k < nRed; ++k) {
      int64_t rk = k, off = base;
      for (int d = xs.rank - 1; d >= 0; --d) {
        if (kept.dims[d] != 1 || xs.dims[d] == 1) continue;
        const int64_t i = rk % xs.dims[d];
        rk /= xs.dims[d];
        off += i * xs.strides[d];
      }
      acc = reduceStep(op, acc, static_cast<Acc>(x[off]));
    }
    if (op == 1) acc = nRed ? acc / static_cast<Acc>(nRed) : acc;
    y[o] = static_cast<T>(acc);
  }
}

// Reduction over contiguous trailing rows (ReduceMean over the hidden dim): a block per row.
template <typename T>
__global__ void reduceRowsFloat(int op, const T* x, T* y, int64_t n) {
  TRT_WAIT_PRIOR_GRID();
  const T* row = x + blockIdx.x * n;
  const bool isMax = op == 2;
  float acc = op == 2 ? -INFINITY : (op == 3 ? INFINITY : 0.f);
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x) {
    const float v = toF(row[i]);
    acc = op == 2 ? fmaxf(acc, v) : (op == 3 ? fminf(acc, v) : acc + v);
  }
  if (op == 3)
    acc = -blockReduce(-acc, true);
  else
    acc = blockReduce(acc, isMax);
  if (threadIdx.x == 0) y[blockIdx.x] = fromF<T>(op == 1 ? acc / n : acc);
}

template <typename T>
__global__ void argMaxKernel(const T* x, int64_t* y, int64_t outer, int64_t n, int64_t inner, bool last) {
  TRT_WAIT_PRIOR_GRID();
  for (int64_t c = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; c < outer * inner;
       c += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const T* p = x + (c / inner) * n * inner + c % inner;
    int64_t best = 0;
    for (int64_t k = 1; k < n; ++k) {
      const T v = p[k * inner], b = p[best * inner];
      if (v > b || (last && v == b)) best = k;
    }
    y[c] = best;
  }
}

// Per (outer, inner) column: k rounds of "next in order" selection (stable: ties by index).
template <typename T>
__global__ void topKKernel(const T* x, T* values, int64_t* indices, int64_t outer, int64_t n, int64_t inner,
                           int64_t k, bool largest) {
  TRT_WAIT_PRIOR_GRID();
  for (int64_t c = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; c < outer * inner;
       c += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t o = c / inner, i = c % inner;
    const T* p = x + o * n * inner + i;
    int64_t prevIdx = -1;
    T prev = T();
    for (int64_t j = 0; j < k; ++j) {
      int64_t best = -1;
      for (int64_t m = 0; m < n; ++m) {
        const T v = p[m * inner];
        // after prev in the order (value first, then index)?
        if (prevIdx >= 0) {
          const bool after =
              largest ? (v < prev || (v == prev && m > prevIdx)) : (v > prev || (v == prev && m > prevIdx));
          if (!after) continue;
        }
        if (best < 0) {
          best = m;
          continue;
        }
        const T b = p[best * inner];
        if (largest ? v > b : v < b) best = m;
      }
      prevIdx = best;
      prev = p[best * inner];
      values[(o * k + j) * inner + i] = prev;
      indices[(o * k + j) * inner + i] = best;
    }
  }
}

template <typename T>
__global__ void cumSumKernel(const T* x, T* y, int64_t outer, int64_t n, int64_t inner, bool exclusive,
                             bool reverse) {
  TRT_WAIT_PRIOR_GRID();
  for (int64_t c = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; c < outer * inner;
       c += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t base = (c / inner) * n * inner + c % inner;
    T acc = 0;
    for (int64_t j = 0; j < n; ++j) {
      const int64_t k = reverse ? n - 1 - j : j;
      const T v = x[base + k * inner];
      if (exclusive) {
        y[base + k * inner] = acc;
        acc += v;
      } else {
        acc += v;
        y[base + k * inner] = acc;
      }
    }
  }
}

template <typename T>
__global__ void poolKernel(const T* x, T* y, PoolParams p, int64_t n) {
  TRT_WAIT_PRIOR_GRID();
  for (int64_t o = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; o < n;
       o += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    int64_t r = o, oc[3] = {0, 0, 0}, inSize = 1, ch = 0;
    if (p.channelsLast) {  // o = ((n * out...) * C + c)
      ch = r % p.channels;
      r /= p.channels;
    }
    for (int d = p.spatial - 1; d >= 0; --d) {
      oc[d] = r % p.out[d];
      r /= p.out[d];
      inSize *= p.in[d];
    }
    const int64_t cs = p.channelsLast ? p.channels : 1;  // element stride between spatial positions
    const T* src = p.channelsLast ? x + r * inSize * p.channels + ch : x + r * inSize;
    float acc = p.isMax ? -INFINITY : 0.f;
    int64_t valid = 0, padded = 0;
    const int64_t k0 = p.kernel[0], k1 = p.spatial > 1 ? p.kernel[1] : 1,
                  k2 = p.spatial > 2 ? p.kernel[2] : 1;
    for (int64_t a = 0; a < k0; ++a)
      for (int64_t b = 0; b < k1; ++b)
        for (int64_t c = 0; c < k2; ++c) {
          const int64_t kk[3] = {a, b, c};
          int64_t off = 0;
          bool inside = true, inPad = true;
          for (int d = 0; d < p.spatial; ++d) {
            const int64_t pos = oc[d] * p.stride[d] - p.padBegin[d] + kk[d] * p.dilation[d];
            if (pos < -p.padBegin[d] || pos >= p.in[d] + p.padEnd[d]) inPad = false;
            if (pos < 0 || pos >= p.in[d]) inside = false;
            off = off * p.in[d] + pos;
          }
          if (inPad) ++padded;
          if (!inside) continue;
          ++valid;
          const float v = toF(src[off * cs]);
          if (p.isMax)
            acc = (v > acc || isnan(v)) ? v : acc;
          else
            acc += v;
        }
    if (!p.isMax) acc /= static_cast<float>(p.countPad ? padded : (valid > 0 ? valid : 1));
    y[o] = fromF<T>(acc);
  }
}

__global__ void einsumKernel(const float* a, const float* b, float* y, EinsumParams p, int64_t outElems) {
  TRT_WAIT_PRIOR_GRID();
  for (int64_t o = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; o < outElems;
       o += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    // output coordinates occupy labels [0, nOut); contracted labels follow
    int64_t r = o, offA = 0, offB = 0;
    for (int d = p.nOut - 1; d >= 0; --d) {
      const int64_t i = r % p.dims[d];
      r /= p.dims[d];
      offA += i * p.inStrides[0][d];
      offB += i * p.inStrides[1][d];
    }
    int64_t nRed = 1;
    for (int d = p.nOut; d < p.nLabels; ++d) nRed *= p.dims[d];
    float acc = 0.f;
    for (int64_t k = 0; k < nRed; ++k) {
      int64_t rk = k, ca = offA, cb = offB;
      for (int d = p.nLabels - 1; d >= p.nOut; --d) {
        const int64_t i = rk % p.dims[d];
        rk /= p.dims[d];
        ca += i * p.inStrides[0][d];
        cb += i * p.inStrides[1][d];
      }
      acc += a[ca] * (p.nIn > 1 ? b[cb] : 1.f);
    }
    y[o] = acc;
  }
}

// Reduction over one contiguous block of middle axes: x [outer, r, inner] -> y [outer, inner] (an
// NHWC global pool: [N, H*W, C]). One thread per output, consecutive threads on consecutive inner
// elements, so every step of the loop over r reads a coalesced row; float32 accumulation.
template <typename T>
__global__ void reduceMiddle(int op, const T* __restrict__ x, T* __restrict__ y, int64_t outer, int64_t r,
                             int64_t inner) {
  TRT_WAIT_PRIOR_GRID();
  const int64_t nOut = outer * inner;
  for (int64_t o = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; o < nOut;
       o += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t i = o % inner, b = o / inner;
    const T* p = x + b * r * inner + i;
    float acc = reduceStart(op);
    for (int64_t k = 0; k < r; ++k, p += inner) acc = reduceStep(op, acc, toF(*p));
    if (op == 1 && r) acc /= static_cast<float>(r);
    y[o] = fromF<T>(acc);
  }
}

// float16 storage, float32 accumulation; one thread per output element as in reduceGeneric.
__global__ void reduceGenericHalf(int op, const __half* x, Shape8 xs, __half* y, Shape8 kept, int64_t nOut,
                                  int64_t nRed) {
  TRT_WAIT_PRIOR_GRID();
  for (int64_t o = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; o < nOut;
       o += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    int64_t r = o, base = 0;
    for (int d = kept.rank - 1; d >= 0; --d) {
      const int64_t i = r % kept.dims[d];
      r /= kept.dims[d];
      base += i * xs.strides[d];
    }
    float acc = reduceStart(op);
    for (int64_t k = 0; k < nRed; ++k) {
      int64_t rk = k, off = base;
      for (int d = xs.rank - 1; d >= 0; --d) {
        if (kept.dims[d] != 1 || xs.dims[d] == 1) continue;
        const int64_t i = rk % xs.dims[d];
        rk /= xs.dims[d];
        off += i * xs.strides[d];
      }
      acc = reduceStep(op, acc, __half2float(x[off]));
    }
    if (op == 1 && nRed) acc /= static_cast<float>(nRed);
    y[o] = __float2half(acc);
  }
}

template <typename F>
cudaError_t byType(KType t, F f) {
  switch (t) {
    case KType::kF32:
      f(float());
      break;
    case KType::kI32:
      f(int32_t());
      break;
    case KType::kI64:
      f(int64_t());
      break;
    default:
      return cudaErrorInvalidValue;
  }
  return cudaGetLastError();
}

}  // namespace

template <typename T>
void launchSoftmax(const void* x, void* y, int64_t outer, int64_t n, int64_t inner, bool log,
                   cudaStream_t s) {
  if (inner == 1)
    softmaxRows<T><<<static_cast<unsigned>(outer), n >= 1024 ? 1024 : 256, 0, s>>>(
        static_cast<const T*>(x), static_cast<T*>(y), n, log);
  else
    softmaxStrided<T><<<blocksFor(outer * inner), kThreads, 0, s>>>(static_cast<const T*>(x),
                                                                    static_cast<T*>(y), outer, n, inner, log);
}

cudaError_t softmax(KType t, const void* x, void* y, int64_t outer, int64_t n, int64_t inner, bool log,
                    cudaStream_t s) {
  if (outer * n * inner == 0) return cudaSuccess;
  if (t == KType::kF16)
    launchSoftmax<__half>(x, y, outer, n, inner, log, s);
  else
    launchSoftmax<float>(x, y, outer, n, inner, log, s);
  return cudaGetLastError();
}

cudaError_t addLayerNorm(KType t, const void* x, const void* r, int64_t rRows, void* sum, const void* scale,
                         const void* bias, float eps, void* y, float* mean, float* invStd, int64_t rows,
                         int64_t inner, cudaStream_t s) {
  if (rows * inner == 0) return cudaSuccess;
  if (r && (rRows <= 0 || rows % rRows != 0)) return cudaErrorInvalidValue;
  if (t == KType::kF16 && warpRowsApply<__half>(x, r, sum, scale, bias, y, inner))
    return launchWarpRows<__half>(x, r, rRows, sum, scale, bias, eps, y, mean, invStd, rows, inner, s);
  if (t == KType::kF32 && warpRowsApply<float>(x, r, sum, scale, bias, y, inner))
    return launchWarpRows<float>(x, r, rRows, sum, scale, bias, eps, y, mean, invStd, rows, inner, s);
  const unsigned threads = inner >= 1024 ? 1024 : 256;
  if (t == KType::kF16)
    layerNormRows<__half><<<static_cast<unsigned>(rows), threads, 0, s>>>(
        static_cast<const __half*>(x), static_cast<const __half*>(r), rRows, static_cast<__half*>(sum),
        static_cast<const __half*>(scale), static_cast<const __half*>(bias), eps, static_cast<__half*>(y),
        mean, invStd, inner);
  else
    layerNormRows<float><<<static_cast<unsigned>(rows), threads, 0, s>>>(
        static_cast<const float*>(x), static_cast<const float*>(r), rRows, static_cast<float*>(sum),
        static_cast<const float*>(scale), static_cast<const float*>(bias), eps, static_cast<float*>(y), mean,
        invStd, inner);
  return cudaGetLastError();
}

cudaError_t splitSumLayerNorm(KType t, const float* p, int splits, int64_t pStride, const void* bias,
                              const void* z, void* sum, const void* scale, const void* lnBias, float eps,
                              void* y, int64_t rows, int64_t n, cudaStream_t s) {
  if (rows == 0) return cudaSuccess;
  const uintptr_t ptrs = reinterpret_cast<uintptr_t>(p) | reinterpret_cast<uintptr_t>(bias) |
                         reinterpret_cast<uintptr_t>(z) | reinterpret_cast<uintptr_t>(sum) |
                         reinterpret_cast<uintptr_t>(scale) | reinterpret_cast<uintptr_t>(lnBias) |
                         reinterpret_cast<uintptr_t>(y);
  if (n <= 0 || n % 128 || n > 4096 || rows > INT32_MAX || ptrs % 16) return cudaErrorNotSupported;
  if (t == KType::kF16)
    return splitSumLayerNormT<__half>(p, splits, pStride, bias, z, sum, scale, lnBias, eps, y, rows, n, s);
  if (t == KType::kF32)
    return splitSumLayerNormT<float>(p, splits, pStride, bias, z, sum, scale, lnBias, eps, y, rows, n, s);
  return cudaErrorNotSupported;
}

cudaError_t reduce(int op, KType t, const void* x, const Shape8& xs, void* y, const Shape8& kept,
                   cudaStream_t s) {
  int64_t nOut = 1, nIn = 1;
  for (int d = 0; d < kept.rank; ++d) nOut *= kept.dims[d];
  for (int d = 0; d < xs.rank; ++d) nIn *= xs.dims[d];
  if (nOut == 0) return cudaSuccess;
  const int64_t nRed = nIn / nOut;
  // trailing-axes reduction of a float tensor: rows
  bool trailing = t == KType::kF32 || t == KType::kF16;
  bool seenReduced = false;
  for (int d = 0; d < xs.rank && trailing; ++d) {
    const bool red = kept.dims[d] == 1 && xs.dims[d] != 1;
    if (red)
      seenReduced = true;
    else if (seenReduced && xs.dims[d] != 1)
      trailing = false;
  }
  if (trailing && (nRed > 1 || t == KType::kF16)) {
    if (t == KType::kF16)
      reduceRowsFloat<__half><<<static_cast<unsigned>(nOut), 256, 0, s>>>(op, static_cast<const __half*>(x),
                                                                          static_cast<__half*>(y), nRed);
    else
      reduceRowsFloat<float><<<static_cast<unsigned>(nOut), 256, 0, s>>>(op, static_cast<const float*>(x),
                                                                         static_cast<float*>(y), nRed);
    return cudaGetLastError();
  }
  // Float over one contiguous block of middle axes (an NHWC global pool): [outer, r, inner].
  if ((t == KType::kF32 || t == KType::kF16) && op >= 0 && op <= 3) {
    int first = -1, last = -1;
    for (int d = 0; d < xs.rank; ++d)
      if (kept.dims[d] == 1 && xs.dims[d] != 1) {
        if (first < 0) first = d;
        last = d;
      }
    bool block = first >= 0;
    for (int d = first; block && d <= last; ++d) block = kept.dims[d] == 1;  // no kept axis inside
    if (block) {
      int64_t outer = 1, r = 1, inner = 1;
      for (int d = 0; d < first; ++d) outer *= xs.dims[d];
      for (int d = first; d <= last; ++d) r *= xs.dims[d];
      for (int d = last + 1; d < xs.rank; ++d) inner *= xs.dims[d];
      if (t == KType::kF16)
        reduceMiddle<__half><<<blocksFor(nOut), kThreads, 0, s>>>(op, static_cast<const __half*>(x),
                                                                  static_cast<__half*>(y), outer, r, inner);
      else
        reduceMiddle<float><<<blocksFor(nOut), kThreads, 0, s>>>(op, static_cast<const float*>(x),
                                                                 static_cast<float*>(y), outer, r, inner);
      return cudaGetLastError();
    }
  }
  if (t == KType::kF16) {  // float16 over non-trailing axes (an NHWC global pool): float32 accumulation
    reduceGenericHalf<<<blocksFor(nOut), kThreads, 0, s>>>(op, static_cast<const __half*>(x), xs,
                                                           static_cast<__half*>(y), kept, nOut, nRed);
    return cudaGetLastError();
  }
  return byType(t, [&](auto v) {
    using T = decltype(v);
    reduceGeneric<T><<<blocksFor(nOut), kThreads, 0, s>>>(op, static_cast<const T*>(x), xs,
                                                          static_cast<T*>(y), kept, nOut, nRed);
  });
}

cudaError_t argMax(KType t, const void* x, int64_t* y, int64_t outer, int64_t n, int64_t inner, bool last,
                   cudaStream_t s) {
  if (outer * inner == 0) return cudaSuccess;
  return byType(t, [&](auto v) {
    using T = decltype(v);
    argMaxKernel<T>
        <<<blocksFor(outer * inner), kThreads, 0, s>>>(static_cast<const T*>(x), y, outer, n, inner, last);
  });
}

cudaError_t topK(KType t, const void* x, void* values, int64_t* indices, int64_t outer, int64_t n,
                 int64_t inner, int64_t k, bool largest, cudaStream_t s) {
  if (outer * inner * k == 0) return cudaSuccess;
  return byType(t, [&](auto v) {
    using T = decltype(v);
    topKKernel<T><<<blocksFor(outer * inner), kThreads, 0, s>>>(
        static_cast<const T*>(x), static_cast<T*>(values), indices, outer, n, inner, k, largest);
  });
}

cudaError_t cumSum(KType t, const void* x, void* y, int64_t outer, int64_t n, int64_t inner, bool exclusive,
                   bool reverse, cudaStream_t s) {
  if (outer * inner == 0) return cudaSuccess;
  return byType(t, [&](auto v) {
    using T = decltype(v);
    cumSumKernel<T><<<blocksFor(outer * inner), kThreads, 0, s>>>(
        static_cast<const T*>(x), static_cast<T*>(y), outer, n, inner, exclusive, reverse);
  });
}

// 2-D NHWC FP16 pooling, 8 channels per thread (16-byte loads), 32-bit index math.
__global__ void pool2dNhwcHalf8(const uint4* x, uint4* y, PoolParams p, int64_t n) {
  TRT_WAIT_PRIOR_GRID();
  const int c8 = static_cast<int>(p.channels / 8), ih = static_cast<int>(p.in[0]),
            iw = static_cast<int>(p.in[1]);
  const int oh = static_cast<int>(p.out[0]), ow = static_cast<int>(p.out[1]);
  for (int64_t o = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; o < n;
       o += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int c = static_cast<int>(o % c8);
    int64_t r = o / c8;
    const int xo = static_cast<int>(r % ow);
    r /= ow;
    const int yo = static_cast<int>(r % oh);
    const int64_t b = r / oh;
    float acc[8];
    for (int k = 0; k < 8; ++k) acc[k] = p.isMax ? -INFINITY : 0.f;
    int valid = 0, padded = 0;
    for (int a = 0; a < p.kernel[0]; ++a) {
      const int yi = yo * static_cast<int>(p.stride[0]) - static_cast<int>(p.padBegin[0]) +
                     a * static_cast<int>(p.dilation[0]);
      for (int bb = 0; bb < p.kernel[1]; ++bb) {
        const int xi = xo * static_cast<int>(p.stride[1]) - static_cast<int>(p.padBegin[1]) +
                       bb * static_cast<int>(p.dilation[1]);
        if (yi >= -p.padBegin[0] && yi < ih + p.padEnd[0] && xi >= -p.padBegin[1] && xi < iw + p.padEnd[1])
          ++padded;
        if (yi < 0 || yi >= ih || xi < 0 || xi >= iw) continue;
        ++valid;
        const uint4 u = x[((b * ih + yi) * iw + xi) * c8 + c];
        const __half2* h = reinterpret_cast<const __half2*>(&u);
        for (int k = 0; k < 4; ++k) {
          const float2 f = __half22float2(h[k]);
          if (p.isMax) {
            acc[2 * k] = (f.x > acc[2 * k] || isnan(f.x)) ? f.x : acc[2 * k];
            acc[2 * k + 1] = (f.y > acc[2 * k + 1] || isnan(f.y)) ? f.y : acc[2 * k + 1];
          } else {
            acc[2 * k] += f.x;
            acc[2 * k + 1] += f.y;
          }
        }
      }
    }
    const float div = p.isMax ? 1.f : static_cast<float>(p.countPad ? padded : (valid > 0 ? valid : 1));
    uint4 out;
    __half2* oh2 = reinterpret_cast<__half2*>(&out);
    for (int k = 0; k < 4; ++k) oh2[k] = __floats2half2_rn(acc[2 * k] / div, acc[2 * k + 1] / div);
    y[o] = out;
  }
}

// Eight halves at -inf, and their NaN-propagating maximum with eight more (the FP16 NHWC pools).
__device__ __forceinline__ uint4 lowestHalf8() {
  const uint32_t inf2 = 0xFC00FC00u;  // two -inf halves
  return make_uint4(inf2, inf2, inf2, inf2);
}
__device__ __forceinline__ uint4 maxHalf8(uint4 acc, uint4 v) {
  __half2* a = reinterpret_cast<__half2*>(&acc);
  const __half2* b = reinterpret_cast<const __half2*>(&v);
#pragma unroll
  for (int k = 0; k < 4; ++k) a[k] = __hmax2_nan(a[k], b[k]);
  return acc;
}

// 2-D NHWC FP16 max pooling with a K x K window known at compile time (YOLOv5's SPPF: 5x5,
// stride 1): the window's loads are unrolled and independent, so all of them are in flight at
// once, where the general kernel above walks them one after another (13 us against ~3 for a
// 20x20x256 map on the H200). Taps outside the input are skipped (as -inf); NaN propagates.
template <int K>
__global__ void maxPool2dNhwcHalf8(const uint4* x, uint4* y, PoolParams p, int n) {
  TRT_WAIT_PRIOR_GRID();
  const int c8 = static_cast<int>(p.channels / 8), ih = static_cast<int>(p.in[0]),
            iw = static_cast<int>(p.in[1]);
  const int oh = static_cast<int>(p.out[0]), ow = static_cast<int>(p.out[1]);
  const int sh = static_cast<int>(p.stride[0]), sw = static_cast<int>(p.stride[1]);
  const int ph = static_cast<int>(p.padBegin[0]), pw = static_cast<int>(p.padBegin[1]);
  for (int o = blockIdx.x * blockDim.x + threadIdx.x; o < n; o += gridDim.x * blockDim.x) {
    const int c = o % c8;
    int r = o / c8;
    const int xo = r % ow;
    r /= ow;
    const int yo = r % oh;
    const int b = r / oh;
    uint4 acc = lowestHalf8();
#pragma unroll
    for (int a = 0; a < K; ++a) {
      const int yi = yo * sh - ph + a;
#pragma unroll
      for (int bb = 0; bb < K; ++bb) {
        const int xi = xo * sw - pw + bb;
        if (yi < 0 || yi >= ih || xi < 0 || xi >= iw) continue;
        acc = maxHalf8(acc, __ldg(x + ((b * ih + yi) * iw + xi) * c8 + c));
      }
    }
    y[o] = acc;
  }
}

namespace {
// One thread per input element: it reads the element's (2 count r + 1)^2 window once, keeps each
// value's maximum at the first pool level whose window holds it (Chebyshev distance d: level
// ceil(d / r), the centre at level 1), takes the running maximum over the levels (the windows
// nest), and writes x and the count levels into their channel blocks.
__device__ __forceinline__ float nanMax(float acc, float v) {
  return v > acc || v != v ? v : acc;
}
template <typename T>
__global__ void maxPoolCascadeKernel(const T* __restrict__ x, T* __restrict__ y, int64_t n, int64_t c, int h,
                                     int w, int r, int count, bool nhwc) {
  TRT_WAIT_PRIOR_GRID();
  const int64_t total = n * c * h * w;
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < total;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    int64_t b, ch;
    int yy, xx;
    if (nhwc) {
      ch = i % c;
      const int64_t pix = i / c;
      xx = static_cast<int>(pix % w);
      yy = static_cast<int>(pix / w % h);
      b = pix / (static_cast<int64_t>(w) * h);
    } else {
      xx = static_cast<int>(i % w);
      yy = static_cast<int>(i / w % h);
      ch = i / (static_cast<int64_t>(w) * h) % c;
      b = i / (static_cast<int64_t>(w) * h * c);
    }
    // element (b, ch, y, x) of x
    auto at = [&](int py, int px) {
      return nhwc ? ((b * h + py) * w + px) * c + ch : ((b * c + ch) * h + py) * w + px;
    };
    float m[kMaxPoolCascade + 1];
    for (int l = 0; l <= count; ++l) m[l] = -INFINITY;
    const int reach = r * count;
    for (int dy = -reach; dy <= reach; ++dy) {
      const int py = yy + dy;
      if (py < 0 || py >= h) continue;
      for (int dx = -reach; dx <= reach; ++dx) {
        const int px = xx + dx;
        if (px < 0 || px >= w) continue;
        const int d = max(abs(dy), abs(dx));
        const int level = d == 0 ? 1 : (d + r - 1) / r;
        m[level] = nanMax(m[level], toF(x[at(py, px)]));
      }
    }
    for (int l = 2; l <= count; ++l) m[l] = nanMax(m[l], m[l - 1]);
    const int64_t parts = count + 1;
    for (int l = 0; l <= count; ++l) {
      const int64_t o = nhwc ? ((b * h + yy) * w + xx) * parts * c + l * c + ch
                             : ((b * parts + l) * c + ch) * h * w + static_cast<int64_t>(yy) * w + xx;
      y[o] = l == 0 ? x[i] : fromF<T>(m[l]);
    }
  }
}

// FP16 NHWC with channels in 8s (YOLOv5's SPPF): one block per (image, 8-channel group) holds the
// group's whole plane in shared memory, and each level is the k x k max of the one before it
// (chained stride-1 pools with -inf padding take the same maxima as the nested windows), taken
// separably: the rows into `t`, then the columns back into `a`. A level costs 2k reads a pixel,
// from shared memory, against (2 count r + 1)^2 from global memory above.
__global__ void maxPoolCascadeNhwcHalf8(const uint4* __restrict__ x, uint4* __restrict__ y, int c8, int h,
                                        int w, int r, int count) {
  TRT_WAIT_PRIOR_GRID();
  extern __shared__ uint4 plane[];
  const int hw = h * w;
  uint4* a = plane;
  uint4* t = plane + hw;
  const int64_t b = blockIdx.x / c8, g = blockIdx.x % c8, parts = count + 1;
  const uint4* xb = x + b * hw * c8 + g;
  uint4* yb = y + b * hw * parts * c8 + g;
  for (int p = threadIdx.x; p < hw; p += blockDim.x) {
    const uint4 v = xb[static_cast<int64_t>(p) * c8];
    a[p] = v;
    yb[static_cast<int64_t>(p) * parts * c8] = v;
  }
  for (int l = 1; l <= count; ++l) {
    for (int pass = 0; pass < 2; ++pass) {
      __syncthreads();
      const uint4* src = pass == 0 ? a : t;
      uint4* dst = pass == 0 ? t : a;
      for (int p = threadIdx.x; p < hw; p += blockDim.x) {
        const int row = p / w, col = p - row * w;
        const int pos = pass == 0 ? col : row, len = pass == 0 ? w : h, step = pass == 0 ? 1 : w;
        const int lo = max(pos - r, 0) - pos, hi = min(pos + r, len - 1) - pos;
        uint4 acc = lowestHalf8();
        for (int d = lo; d <= hi; ++d) acc = maxHalf8(acc, src[p + d * step]);
        dst[p] = acc;
        if (pass == 1) yb[(static_cast<int64_t>(p) * parts + l) * c8] = acc;
      }
    }
  }
}
constexpr int64_t kCascadePlaneBytes = 160 << 10;  // the shared-memory path's limit (2 planes)
}  // namespace

cudaError_t maxPoolCascade(KType t, const void* x, void* y, int64_t n, int64_t c, int64_t h, int64_t w, int k,
                           int count, bool nhwc, cudaStream_t s) {
  if (count < 1 || count > kMaxPoolCascade || k < 1 || k % 2 == 0 || h > INT32_MAX || w > INT32_MAX)
    return cudaErrorNotSupported;
  const int64_t total = n * c * h * w;
  if (total == 0) return cudaSuccess;
  const int r = k / 2;  // (0: 1x1 pools, every level x; the window is the centre alone)
  const int64_t planeBytes = 2 * h * w * static_cast<int64_t>(sizeof(uint4));
  if (t == KType::kF16 && nhwc && c % 8 == 0 && planeBytes <= kCascadePlaneBytes &&
      n * (c / 8) <= INT32_MAX &&
      (reinterpret_cast<uintptr_t>(x) | reinterpret_cast<uintptr_t>(y)) % 16 == 0) {
    static const cudaError_t optIn =
        cudaFuncSetAttribute(maxPoolCascadeNhwcHalf8, cudaFuncAttributeMaxDynamicSharedMemorySize,
                             static_cast<int>(kCascadePlaneBytes));
    if (optIn == cudaSuccess) {
      maxPoolCascadeNhwcHalf8<<<static_cast<unsigned>(n * (c / 8)), kThreads, planeBytes, s>>>(
          static_cast<const uint4*>(x), static_cast<uint4*>(y), static_cast<int>(c / 8), static_cast<int>(h),
          static_cast<int>(w), r, count);
      return cudaGetLastError();
    }
    cudaGetLastError();  // (no opt-in: the global-memory kernel below)
  }
  if (t == KType::kF16)
    maxPoolCascadeKernel<__half>
        <<<blocksFor(total), kThreads, 0, s>>>(static_cast<const __half*>(x), static_cast<__half*>(y), n, c,
                                               static_cast<int>(h), static_cast<int>(w), r, count, nhwc);
  else if (t == KType::kF32)
    maxPoolCascadeKernel<float>
        <<<blocksFor(total), kThreads, 0, s>>>(static_cast<const float*>(x), static_cast<float*>(y), n, c,
                                               static_cast<int>(h), static_cast<int>(w), r, count, nhwc);
  else
    return cudaErrorNotSupported;
  return cudaGetLastError();
}

cudaError_t pool(KType t, const void* x, void* y, const PoolParams& p, cudaStream_t s) {
  int64_t n = p.planes;
  for (int d = 0; d < p.spatial; ++d) n *= p.out[d];
  if (n == 0) return cudaSuccess;
  if (t == KType::kF16 && p.channelsLast && p.spatial == 2 && p.channels % 8 == 0 &&
      (reinterpret_cast<uintptr_t>(x) | reinterpret_cast<uintptr_t>(y)) % 16 == 0) {
    const bool square = p.kernel[0] == p.kernel[1] && p.dilation[0] == 1 && p.dilation[1] == 1;
    const int64_t inElems = p.planes / p.channels * p.in[0] * p.in[1] * p.channels;
    if (p.isMax && square && n <= INT32_MAX && inElems <= INT32_MAX) {
      const auto* xv = static_cast<const uint4*>(x);
      auto* yv = static_cast<uint4*>(y);
      const int n8 = static_cast<int>(n / 8);
      switch (p.kernel[0]) {
        case 2:
          maxPool2dNhwcHalf8<2><<<blocksFor(n8), kThreads, 0, s>>>(xv, yv, p, n8);
          return cudaGetLastError();
        case 3:
          maxPool2dNhwcHalf8<3><<<blocksFor(n8), kThreads, 0, s>>>(xv, yv, p, n8);
          return cudaGetLastError();
        case 5:
          maxPool2dNhwcHalf8<5><<<blocksFor(n8), kThreads, 0, s>>>(xv, yv, p, n8);
          return cudaGetLastError();
        default:
          break;
      }
    }
    pool2dNhwcHalf8<<<blocksFor(n / 8), kThreads, 0, s>>>(static_cast<const uint4*>(x),
                                                          static_cast<uint4*>(y), p, n / 8);
    return cudaGetLastError();
  }
  if (t == KType::kF16)
    poolKernel<__half>
        <<<blocksFor(n), kThreads, 0, s>>>(static_cast<const __half*>(x), static_cast<__half*>(y), p, n);
  else
    poolKernel<float>
        <<<blocksFor(n), kThreads, 0, s>>>(static_cast<const float*>(x), static_cast<float*>(y), p, n);
  return cudaGetLastError();
}

cudaError_t einsum(const float* a, const float* b, float* y, const EinsumParams& p, int64_t outElems,
                   cudaStream_t s) {
  if (outElems == 0) return cudaSuccess;
  einsumKernel<<<blocksFor(outElems), kThreads, 0, s>>>(a, b, y, p, outElems);
  return cudaGetLastError();
}

}  // namespace kernels
}  // namespace trt
