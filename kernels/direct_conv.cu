// Direct convolution for few input channels (RGB stems), NHWC, float32 or float16 storage with
// float32 math on the CUDA cores.
//
// Why: a 3-channel convolution gives the tensor-core kernels almost nothing to multiply (cuDNN's
// NHWC FP16 kernels want channels in multiples of 8; YOLOv5s's 6x6 stride-2 stem took 64 us NCHW
// on the H200 at 640x640, and its NHWC form was slower still), while its weights are tiny: all of
// them for a group of output channels fit in shared memory.
//
// Layout: x [N, H, W, C], w [K, R, S, C] (OHWI), bias [K] or null, y [N, P, Q, K]; K a multiple of
// 8. One thread computes kPix consecutive output pixels of a row for KPT consecutive output
// channels (blockIdx.y picks the group): it walks the R x S window, reads the C input values of
// each tap per pixel and multiplies them by that tap's weights for its KPT channels (shared memory,
// laid out [r][s][c][k] so the KPT weights of a tap are contiguous: KPT / 4 vector loads serve all
// kPix pixels). Then bias, activation, and one vector store per 8 channels.
#include <cuda_fp16.h>

#include <algorithm>

#include "kernel_common.cuh"
#include "kernels.h"

namespace trt {
namespace kernels {
namespace {

using namespace common;

constexpr int kPix = 2;            // output columns per thread
constexpr int kConvThreads = 128;  // small blocks: a stem's row band is a few hundred of them

template <typename T, int KPT>
__global__ void directConvKernel(const T* __restrict__ x, const T* __restrict__ w, const T* __restrict__ bias,
                                 T* __restrict__ y, DirectConvShape sh, UnaryOp act, float a, float b) {
  extern __shared__ float4 ws4[];  // [R][S][C][KPT] floats
  float* ws = reinterpret_cast<float*>(ws4);
  const int k0 = blockIdx.y * KPT;
  const int taps = sh.r * sh.s * sh.c;
  for (int i = threadIdx.x; i < taps * KPT; i += blockDim.x) {
    const int k = i % KPT, t = i / KPT;  // t = (r * S + s) * C + c
    ws[i] = toF(w[static_cast<int64_t>(k0 + k) * taps + t]);
  }
  __syncthreads();
  // kPix consecutive output columns per thread: each tap's KPT weights (KPT / 4 shared-memory
  // vector loads) serve kPix pixels, so the FMAs, not the shared-memory loads, bound the loop.
  const int qGroups = (sh.q + kPix - 1) / kPix;
  const int64_t items = static_cast<int64_t>(sh.n) * sh.p * qGroups;
  for (int64_t it = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; it < items;
       it += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int q0 = static_cast<int>(it % qGroups) * kPix;
    const int64_t row = it / qGroups;  // n * P + p
    const int p = static_cast<int>(row % sh.p);
    const int n = static_cast<int>(row / sh.p);
    float acc[kPix][KPT];
#pragma unroll
    for (int j = 0; j < kPix; ++j)
#pragma unroll
      for (int k = 0; k < KPT; ++k) acc[j][k] = 0.f;
    for (int r = 0; r < sh.r; ++r) {
      const int ih = p * sh.strideH - sh.padH + r * sh.dilH;
      if (ih < 0 || ih >= sh.h) continue;
      const T* xrow = x + (static_cast<int64_t>(n) * sh.h + ih) * sh.w * sh.c;
      for (int s = 0; s < sh.s; ++s) {
        const float4* wp = ws4 + (r * sh.s + s) * sh.c * (KPT / 4);
        for (int c = 0; c < sh.c; ++c) {
          float xv[kPix];
#pragma unroll
          for (int j = 0; j < kPix; ++j) {
            const int iw = (q0 + j) * sh.strideW - sh.padW + s * sh.dilW;
            xv[j] = iw >= 0 && iw < sh.w ? toF(xrow[iw * sh.c + c]) : 0.f;
          }
#pragma unroll
          for (int k4 = 0; k4 < KPT / 4; ++k4) {
            const float4 wv = wp[c * (KPT / 4) + k4];
#pragma unroll
            for (int j = 0; j < kPix; ++j) {
              acc[j][4 * k4] = fmaf(xv[j], wv.x, acc[j][4 * k4]);
              acc[j][4 * k4 + 1] = fmaf(xv[j], wv.y, acc[j][4 * k4 + 1]);
              acc[j][4 * k4 + 2] = fmaf(xv[j], wv.z, acc[j][4 * k4 + 2]);
              acc[j][4 * k4 + 3] = fmaf(xv[j], wv.w, acc[j][4 * k4 + 3]);
            }
          }
        }
      }
    }
    float bk[KPT];
#pragma unroll
    for (int k = 0; k < KPT; ++k) bk[k] = bias ? toF(bias[k0 + k]) : 0.f;
#pragma unroll
    for (int j = 0; j < kPix; ++j) {
      if (q0 + j >= sh.q) break;
      T out[KPT];
#pragma unroll
      for (int k = 0; k < KPT; ++k) out[k] = fromF<T>(unaryApply(act, acc[j][k] + bk[k], a, b));
      T* yp = y + (row * sh.q + q0 + j) * sh.k + k0;
      constexpr int kVec = 16 / sizeof(T);  // elements per 16-byte store
#pragma unroll
      for (int k = 0; k < KPT; k += kVec)
        *reinterpret_cast<uint4*>(yp + k) = *reinterpret_cast<const uint4*>(out + k);
    }
  }
}

template <typename T>
cudaError_t launch(const void* x, const void* w, const void* bias, void* y, const DirectConvShape& sh,
                   UnaryOp act, float a, float b, cudaStream_t s) {
  const int64_t items = static_cast<int64_t>(sh.n) * sh.p * ((sh.q + kPix - 1) / kPix);
  const int kpt = sh.k % 16 == 0 ? 16 : 8;
  const size_t smem = static_cast<size_t>(sh.r) * sh.s * sh.c * kpt * sizeof(float);
  const dim3 grid(
      static_cast<unsigned>(std::min<int64_t>((items + kConvThreads - 1) / kConvThreads, 65535 * 8)),
      static_cast<unsigned>(sh.k / kpt));
  const auto* xt = static_cast<const T*>(x);
  const auto* wt = static_cast<const T*>(w);
  const auto* bt = static_cast<const T*>(bias);
  auto* yt = static_cast<T*>(y);
  if (kpt == 16)
    directConvKernel<T, 16><<<grid, kConvThreads, smem, s>>>(xt, wt, bt, yt, sh, act, a, b);
  else
    directConvKernel<T, 8><<<grid, kConvThreads, smem, s>>>(xt, wt, bt, yt, sh, act, a, b);
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
