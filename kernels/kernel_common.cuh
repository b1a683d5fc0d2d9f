// Helpers shared by trt's CUDA kernel files: launch geometry and float/half conversion.
// Included by .cu files only.
#pragma once

#include <cuda_fp16.h>

#include <cstdint>

#include "kernels.h"
#include "unary_apply.cuh"

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

}  // namespace common
}  // namespace kernels
}  // namespace trt
