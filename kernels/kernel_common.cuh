// Helpers shared by trt's CUDA kernel files: launch geometry and float/half conversion.
// Included by .cu files only.
#pragma once

#include <cuda_fp16.h>

#include <cstdint>

#include "kernels.h"
#include "unary_apply.cuh"

// Programmatic dependent launch: every trt kernel starts by waiting for the grid before it in the
// stream (griddepcontrol.wait; a no-op unless the kernel was launched with a programmatic
// dependency). The CUDA backend may then give the captured graph's edges into trt kernels that
// type (by default; TRT_PDL=0 not, cuda_backend.cpp), so a kernel's launch overlaps its predecessor's last
// blocks; a trt kernel without this first statement would race there.
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
#define TRT_WAIT_PRIOR_GRID() asm volatile("griddepcontrol.wait;" ::: "memory")
#else
#define TRT_WAIT_PRIOR_GRID() \
  do {                        \
  } while (0)
#endif

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

// Tensor-core helpers (mma.sync, sm_80 and later).
__device__ __forceinline__ uint32_t sharedAddr(const void* ptr) {
  return static_cast<uint32_t>(__cvta_generic_to_shared(ptr));
}
// c (16x8, FP32) += a (16x16, row-major halves) b (16x8, column-major halves)
__device__ __forceinline__ void mma16816(float (&c)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1) {
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
      "{%0, %1, %2, %3};\n"
      : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}
__device__ __forceinline__ uint32_t packHalves(float lo, float hi) {
  const __half2 v = __floats2half2_rn(lo, hi);
  return *reinterpret_cast<const uint32_t*>(&v);
}

}  // namespace common
}  // namespace kernels
}  // namespace trt
