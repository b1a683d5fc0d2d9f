// Direct convolution for few input channels (RGB stems), NHWC, float32 or float16 storage with
// float32 math on the CUDA cores.
//
// Why: a 3-channel convolution gives the tensor-core kernels almost nothing to multiply (cuDNN's
// NHWC FP16 kernels want channels in multiples of 8; YOLOv5s's 6x6 stride-2 stem took 64 us NCHW
// on the H200 at 640x640, and its NHWC form was slower still), while its weights are tiny: all of
// them for a group of output channels fit in shared memory.
//
// Layout: x [N, H, W, C], w [K, R, S, C] (OHWI), bias [K] or null, y [N, P, Q, K]; K a multiple of
// 8. One thread computes one output pixel for KPT consecutive output channels (blockIdx.y picks
// the group): it walks the R x S window, reads the C input values of each tap once and multiplies
// them by that tap's weights for its KPT channels (shared memory, laid out [r][s][c][k] so the KPT
// weights of a tap are contiguous). Then bias, activation, and one vector store per 8 channels.
#include <cuda_fp16.h>

#include <algorithm>

#include "kernel_common.cuh"
#include "kernels.h"

namespace trt {
namespace kernels {
namespace {

using namespace common;

template <typename T, int KPT>
__global__ void directConvKernel(const T* __restrict__ x, const T* __restrict__ w, const T* __restrict__ bias,
                                 T* __restrict__ y, DirectConvShape sh, UnaryOp act, float a, float b) {
  extern __shared__ float ws[];  // [R][S][C][KPT]
  const int k0 = blockIdx.y * KPT;
  const int taps = sh.r * sh.s * sh.c;
  for (int i = threadIdx.x; i < taps * KPT; i += blockDim.x) {
    const int k = i % KPT, t = i / KPT;  // t = (r * S + s) * C + c
    ws[i] = toF(w[static_cast<int64_t>(k0 + k) * taps + t]);
  }
  __syncthreads();
  const int64_t pixels = static_cast<int64_t>(sh.n) * sh.p * sh.q;
  for (int64_t pix = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; pix < pixels;
       pix += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int q = static_cast<int>(pix % sh.q);
    const int p = static_cast<int>((pix / sh.q) % sh.p);
    const int n = static_cast<int>(pix / (static_cast<int64_t>(sh.q) * sh.p));
    float acc[KPT];
#pragma unroll
    for (int k = 0; k < KPT; ++k) acc[k] = 0.f;
    for (int r = 0; r < sh.r; ++r) {
      const int ih = p * sh.strideH - sh.padH + r * sh.dilH;
      if (ih < 0 || ih >= sh.h) continue;
      for (int s = 0; s < sh.s; ++s) {
        const int iw = q * sh.strideW - sh.padW + s * sh.dilW;
        if (iw < 0 || iw >= sh.w) continue;
        const T* xp = x + ((static_cast<int64_t>(n) * sh.h + ih) * sh.w + iw) * sh.c;
        const float* wp = ws + (r * sh.s + s) * sh.c * KPT;
        for (int c = 0; c < sh.c; ++c) {
          const float xv = toF(xp[c]);
#pragma unroll
          for (int k = 0; k < KPT; ++k) acc[k] = fmaf(xv, wp[c * KPT + k], acc[k]);
        }
      }
    }
    T out[KPT];
#pragma unroll
    for (int k = 0; k < KPT; ++k) {
      float v = acc[k];
      if (bias) v += toF(bias[k0 + k]);
      out[k] = fromF<T>(unaryApply(act, v, a, b));
    }
    T* yp = y + pix * sh.k + k0;
    constexpr int kVec = 16 / sizeof(T);  // elements per 16-byte store
#pragma unroll
    for (int k = 0; k < KPT; k += kVec)
      *reinterpret_cast<uint4*>(yp + k) = *reinterpret_cast<const uint4*>(out + k);
  }
}

template <typename T>
cudaError_t launch(const void* x, const void* w, const void* bias, void* y, const DirectConvShape& sh,
                   UnaryOp act, float a, float b, cudaStream_t s) {
  const int64_t pixels = static_cast<int64_t>(sh.n) * sh.p * sh.q;
  const int kpt = sh.k % 16 == 0 ? 16 : 8;
  const size_t smem = static_cast<size_t>(sh.r) * sh.s * sh.c * kpt * sizeof(float);
  const dim3 grid(static_cast<unsigned>(std::min<int64_t>((pixels + kThreads - 1) / kThreads, 65535 * 8)),
                  static_cast<unsigned>(sh.k / kpt));
  const auto* xt = static_cast<const T*>(x);
  const auto* wt = static_cast<const T*>(w);
  const auto* bt = static_cast<const T*>(bias);
  auto* yt = static_cast<T*>(y);
  if (kpt == 16)
    directConvKernel<T, 16><<<grid, kThreads, smem, s>>>(xt, wt, bt, yt, sh, act, a, b);
  else
    directConvKernel<T, 8><<<grid, kThreads, smem, s>>>(xt, wt, bt, yt, sh, act, a, b);
  return cudaGetLastError();
}

}  // namespace

bool directConvApplies(const DirectConvShape& sh, KType t) {
  if (t != KType::kF32 && t != KType::kF16) return false;
  const int kpt = sh.k % 16 == 0 ? 16 : 8;
  return sh.c >= 1 && sh.c <= kDirectConvMaxChannels && sh.k % 8 == 0 && sh.r >= 1 && sh.s >= 1 &&
         static_cast<size_t>(sh.r) * sh.s * sh.c * kpt * sizeof(float) <= 48 * 1024;
}

cudaError_t directConv(KType t, const void* x, const void* w, const void* bias, void* y,
                       const DirectConvShape& sh, UnaryOp act, float alpha, float beta, cudaStream_t s) {
  if (!directConvApplies(sh, t) || reinterpret_cast<uintptr_t>(y) % 16 != 0) return cudaErrorNotSupported;
  if (static_cast<int64_t>(sh.n) * sh.p * sh.q == 0) return cudaSuccess;
  return t == KType::kF32 ? launch<float>(x, w, bias, y, sh, act, alpha, beta, s)
                          : launch<__half>(x, w, bias, y, sh, act, alpha, beta, s);
}

}  // namespace kernels
}  // namespace trt
