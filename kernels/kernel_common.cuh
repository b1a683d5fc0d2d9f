// Helpers shared by trt's CUDA kernel files: launch geometry and float/half conversion.
// Included by .cu files only.
#pragma once

#include <cuda_fp16.h>

#include <cstdint>

#include "kernels.h"

namespace trt {
namespace kernels {
namespace common {

constexpr int kThreads = 256;

// Blocks for a grid-stride loop over n elements (at least one, capped well under the grid limit).
inline int blocksFor(int64_t n) {
  int64_t b = (n + kThreads - 1) / kThreads;
  return static_cast<int>(b < 65535 * 8 ? (b > 0 ? b : 1) : 65535 * 8);
}

__device__ __forceinline__ float toF(float v) {
  return v;
}
__device__ __forceinline__ float toF(__half v) {
  return __half2float(v);
}
template <typename T>
__device__ __forceinline__ T fromF(float v);
template <>
__device__ __forceinline__ float fromF<float>(float v) {
  return v;
}
template <>
__device__ __forceinline__ __half fromF<__half>(float v) {
  return __float2half(v);
}

// y = op(v) for one float (UnaryOp in kernels.h; alpha a, beta b).
__device__ __forceinline__ float unaryApply(UnaryOp op, float v, float a, float b) {
  switch (op) {
    case UnaryOp::kRelu:
      return v > 0.f ? v : 0.f;
    case UnaryOp::kLeakyRelu:
      return v >= 0.f ? v : a * v;
    case UnaryOp::kSigmoid:
      return 1.f / (1.f + expf(-v));
    case UnaryOp::kTanh:
      return tanhf(v);
    case UnaryOp::kHardSigmoid:
      return fmaxf(0.f, fminf(1.f, a * v + b));
    case UnaryOp::kHardSwish:
      return v * fmaxf(0.f, fminf(1.f, v / 6.f + 0.5f));
    case UnaryOp::kSoftplus:
      return v > 20.f ? v : log1pf(expf(v));
    case UnaryOp::kElu:
      return v >= 0.f ? v : a * (expf(v) - 1.f);
    case UnaryOp::kGeluErf:
      return 0.5f * v * (1.f + erff(v * 0.70710678118654752f));
    case UnaryOp::kGeluTanh:
      return 0.5f * v * (1.f + tanhf(0.7978845608028654f * (v + 0.044715f * v * v * v)));
    case UnaryOp::kErf:
      return erff(v);
    case UnaryOp::kSqrt:
      return sqrtf(v);
    case UnaryOp::kExp:
      return expf(v);
    case UnaryOp::kLog:
      return logf(v);
    case UnaryOp::kReciprocal:
      return 1.f / v;
    case UnaryOp::kNeg:
      return -v;
    case UnaryOp::kAbs:
      return fabsf(v);
    case UnaryOp::kIdentity:
      return v;
    case UnaryOp::kScale:
      return a * v;
    case UnaryOp::kSilu:
      return v / (1.f + expf(-v));
    case UnaryOp::kClip: {
      if (isnan(v)) return v;
      v = v < a ? a : v;
      return v > b ? b : v;
    }
  }
  return v;
}

}  // namespace common
}  // namespace kernels
}  // namespace trt
