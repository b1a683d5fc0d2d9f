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
  TRT_WAIT_PRIOR_GRID();
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

// The tensor-core form (FP16, mma.sync m16n8k16, FP32 accumulation): an implicit GEMM whose K
// runs over all (r, s, c) taps at once (YOLOv5s's 6x6x3 stem: 108, padded to 112: 7 MMA steps),
// where cuDNN and CUTLASS take the taps channel block by channel block. A block of 4 warps
// computes 64 consecutive output pixels of one row for 32 output channels (blockIdx.y); each warp
// 16 pixels. The block stages in shared memory the input window its pixels read (R rows, every
// column they touch, zeros outside the image: the padding), its 32 filters as [k][tap] halves
// (zero taps up to the K padding), and per tap its offset in the window; each A fragment element
// is then one shared-memory load at (tap offset + pixel * stride). The output tile goes through
// shared memory again for 16-byte stores, after the bias and activation.
constexpr int kMmaPix = 64;  // output pixels a block (4 warps of 16)
constexpr int kMmaK = 32;    // output channels a block

struct MmaConvSmem {
  int kp, ldw, wp, window, ldo;  // padded taps, filter row, window width, window halves, out row
  size_t bytes;
};
__host__ __device__ inline MmaConvSmem mmaConvSmem(const DirectConvShape& sh) {
  MmaConvSmem m;
  const int taps = sh.r * sh.s * sh.c;
  m.kp = (taps + 15) / 16 * 16;
  m.ldw = m.kp + 8;  // (rows 16 bytes apart in the banks)
  m.wp = (kMmaPix - 1) * sh.strideW + (sh.s - 1) * sh.dilW + 1;
  m.window = sh.r * m.wp * sh.c;
  m.ldo = kMmaK + 8;
  m.bytes = (static_cast<size_t>(kMmaK) * m.ldw + (m.window + 1) / 2 * 2 + kMmaPix * m.ldo) * sizeof(__half) +
            static_cast<size_t>(m.kp) * sizeof(int);
  return m;
}

// The activation of the tensor-core kernel: ReLU, SiLU and none inline; others through
// unaryApply's switch (which, inlined 32 times a thread, made the kernel's code large).
template <int Act>
__device__ __forceinline__ float stemAct(UnaryOp op, float v, float a, float b) {
  if constexpr (Act == 1) return v > 0.f ? v : 0.f;
  if constexpr (Act == 2) return v / (1.f + __expf(-v));
  if constexpr (Act == 3) return v;
  return unaryApply(op, v, a, b);
}

template <int Act>
__global__ __launch_bounds__(128) void directConvMmaKernel(const __half* __restrict__ x,
                                                           const __half* __restrict__ w,
                                                           const __half* __restrict__ bias,
                                                           __half* __restrict__ y, DirectConvShape sh,
                                                           UnaryOp act, float a, float b) {
  TRT_WAIT_PRIOR_GRID();
  extern __shared__ __align__(16) unsigned char smem[];
  const MmaConvSmem L = mmaConvSmem(sh);
  __half* ws = reinterpret_cast<__half*>(smem);                     // [kMmaK][ldw]
  __half* os = ws + kMmaK * L.ldw;                                  // [kMmaPix][ldo]
  __half* xs = os + kMmaPix * L.ldo;                                // [r][wp][c]
  int* koff = reinterpret_cast<int*>(xs + (L.window + 1) / 2 * 2);  // [kp]
  const int taps = sh.r * sh.s * sh.c;
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32, g = lane >> 2, t = lane & 3;
  const int k0 = blockIdx.y * kMmaK;
  // Once a block: its filters (each warp 8 of them, a lane every 32nd tap, all loads of a tap
  // column in flight together; zero taps past the end) and each tap's offset in the window.
  for (int i = lane; i < L.kp; i += 32) {
    __half v[kMmaK / 4];
#pragma unroll
    for (int u = 0; u < kMmaK / 4; ++u)
      v[u] = i < taps ? w[static_cast<int64_t>(k0 + warp + 4 * u) * taps + i] : __float2half(0.f);
#pragma unroll
    for (int u = 0; u < kMmaK / 4; ++u) ws[(warp + 4 * u) * L.ldw + i] = v[u];
  }
  for (int i = threadIdx.x; i < L.kp; i += blockDim.x) {
    const int c = i % sh.c, rs = i / sh.c, s = rs % sh.s, r = rs / sh.s;
    koff[i] = i < taps ? (r * L.wp + s * sh.dilW) * sh.c + c : -1;
  }
  const int pix[2] = {(warp * 16 + g) * sh.strideW * sh.c, (warp * 16 + g + 8) * sh.strideW * sh.c};
  const uint16_t* xh = reinterpret_cast<const uint16_t*>(xs);
  const int qBlocks = (sh.q + kMmaPix - 1) / kMmaPix;
  const int64_t items = static_cast<int64_t>(sh.n) * sh.p * qBlocks;
  const int rowHalves = L.wp * sh.c;
  float bk[kMmaK / 8][2];  // this lane's bias pairs
#pragma unroll
  for (int j = 0; j < kMmaK / 8; ++j)
#pragma unroll
    for (int e = 0; e < 2; ++e) bk[j][e] = bias ? __half2float(bias[k0 + j * 8 + 2 * t + e]) : 0.f;
  // Work items (an output row's 64 pixels) in turn: the filters stay, the window is reloaded.
  for (int64_t item = blockIdx.x; item < items; item += gridDim.x) {
    const int q0 = static_cast<int>(item % qBlocks) * kMmaPix;
    const int64_t row = item / qBlocks;  // n * P + p
    const int p = static_cast<int>(row % sh.p), n = static_cast<int>(row / sh.p);
    // The window, R input rows of wp pixels from column ix0: each a run of whole pixels of the
    // NHWC row, zeros left of column 0 and right of column W (halves lo .. hi are inside); four
    // loads a thread in flight.
    const int ix0 = q0 * sh.strideW - sh.padW;
    const int lo = max(0, -ix0) * sh.c, hi = min(L.wp, sh.w - ix0) * sh.c;
    __syncthreads();  // (the previous item's window and output tile are consumed)
    for (int r = 0; r < sh.r; ++r) {
      const int ih = p * sh.strideH - sh.padH + r * sh.dilH;
      const bool inside = ih >= 0 && ih < sh.h;
      const __half* src = x + ((static_cast<int64_t>(n) * sh.h + (inside ? ih : 0)) * sh.w + ix0) * sh.c;
      __half* dst = xs + r * rowHalves;
      for (int e = threadIdx.x; e < rowHalves; e += 4 * 128) {
        __half v[4];
#pragma unroll
        for (int u = 0; u < 4; ++u) {
          const int i = e + u * 128;
          v[u] = inside && i >= lo && i < hi ? src[i] : __float2half(0.f);
        }
#pragma unroll
        for (int u = 0; u < 4; ++u)
          if (e + u * 128 < rowHalves) dst[e + u * 128] = v[u];
      }
    }
    __syncthreads();
    float acc[kMmaK / 8][4] = {};
    for (int kk = 0; kk < L.kp; kk += 16) {
      const int o[4] = {koff[kk + 2 * t], koff[kk + 2 * t + 1], koff[kk + 2 * t + 8], koff[kk + 2 * t + 9]};
      uint32_t h[2][4];
#pragma unroll
      for (int i = 0; i < 2; ++i)
#pragma unroll
        for (int f = 0; f < 4; ++f) h[i][f] = o[f] < 0 ? 0u : xh[o[f] + pix[i]];
      const uint32_t af[4] = {h[0][0] | h[0][1] << 16, h[1][0] | h[1][1] << 16, h[0][2] | h[0][3] << 16,
                              h[1][2] | h[1][3] << 16};
#pragma unroll
      for (int j = 0; j < kMmaK / 8; ++j) {
        const __half* wr = ws + (j * 8 + g) * L.ldw + kk + 2 * t;
        mma16816(acc[j], af, *reinterpret_cast<const uint32_t*>(wr),
                 *reinterpret_cast<const uint32_t*>(wr + 8));
      }
    }
    // bias, activation, halves into the output tile: rows g and g + 8 of this warp's 16 pixels
#pragma unroll
    for (int j = 0; j < kMmaK / 8; ++j)
#pragma unroll
      for (int i = 0; i < 2; ++i)
        *reinterpret_cast<uint32_t*>(os + (warp * 16 + g + 8 * i) * L.ldo + j * 8 + 2 * t) =
            packHalves(stemAct<Act>(act, acc[j][2 * i] + bk[j][0], a, b),
                       stemAct<Act>(act, acc[j][2 * i + 1] + bk[j][1], a, b));
    __syncthreads();
    constexpr int kVecs = kMmaK / 8;  // 16-byte vectors a pixel
#pragma unroll
    for (int u = 0; u < kMmaPix * kVecs / 128; ++u) {
      const int i = threadIdx.x + u * 128, px = i / kVecs, v = i % kVecs;
      if (q0 + px < sh.q)
        *reinterpret_cast<uint4*>(y + (row * sh.q + q0 + px) * sh.k + k0 + v * 8) =
            *reinterpret_cast<const uint4*>(os + px * L.ldo + v * 8);
    }
  }
}
}  // namespace

bool directConvApplies(const DirectConvShape& sh, KType t) {
  if (t != KType::kF32 && t != KType::kF16) return false;
  const int kpt = sh.k % 16 == 0 ? 16 : 8;
  return sh.c >= 1 && sh.c <= kDirectConvMaxChannels && sh.k % 8 == 0 && sh.r >= 1 && sh.s >= 1 &&
         static_cast<size_t>(sh.r) * sh.s * sh.c * kpt * sizeof(float) <= 48 * 1024;
}

bool directConvMmaApplies(const DirectConvShape& sh, KType t) {
  return t == KType::kF16 && sh.c >= 1 && sh.c <= kDirectConvMaxChannels && sh.k % kMmaK == 0 && sh.r >= 1 &&
         sh.s >= 1 && mmaConvSmem(sh).bytes <= 48 * 1024;
}

cudaError_t directConv(KType t, const void* x, const void* w, const void* bias, void* y,
                       const DirectConvShape& sh, UnaryOp act, float alpha, float beta, cudaStream_t s,
                       bool tensorCores) {
  if (tensorCores) {
    if (!directConvMmaApplies(sh, t) || reinterpret_cast<uintptr_t>(y) % 16 != 0)
      return cudaErrorNotSupported;
    // each block takes items in turn, its filters loaded once: 4 blocks an SM in all (H100/H200:
    // 132 SMs), about 3 items a block for YOLOv5s's stem at 640x640
    const int64_t items = static_cast<int64_t>(sh.n) * sh.p * ((sh.q + kMmaPix - 1) / kMmaPix);
    if (items == 0) return cudaSuccess;
    const dim3 grid(static_cast<unsigned>(std::min<int64_t>(items, std::max(1, 528 / (sh.k / kMmaK)))),
                    sh.k / kMmaK);
    const size_t smem = mmaConvSmem(sh).bytes;
    const auto* xt = static_cast<const __half*>(x);
    const auto* wt = static_cast<const __half*>(w);
    const auto* bt = static_cast<const __half*>(bias);
    auto* yt = static_cast<__half*>(y);
    if (act == UnaryOp::kRelu)
      directConvMmaKernel<1><<<grid, 128, smem, s>>>(xt, wt, bt, yt, sh, act, alpha, beta);
    else if (act == UnaryOp::kSilu)
      directConvMmaKernel<2><<<grid, 128, smem, s>>>(xt, wt, bt, yt, sh, act, alpha, beta);
    else if (act == UnaryOp::kIdentity)
      directConvMmaKernel<3><<<grid, 128, smem, s>>>(xt, wt, bt, yt, sh, act, alpha, beta);
    else
      directConvMmaKernel<0><<<grid, 128, smem, s>>>(xt, wt, bt, yt, sh, act, alpha, beta);
    return cudaGetLastError();
  }
  if (!directConvApplies(sh, t) || reinterpret_cast<uintptr_t>(y) % 16 != 0) return cudaErrorNotSupported;
  if (static_cast<int64_t>(sh.n) * sh.p * sh.q == 0) return cudaSuccess;
  return t == KType::kF32 ? launch<float>(x, w, bias, y, sh, act, alpha, beta, s)
                          : launch<__half>(x, w, bias, y, sh, act, alpha, beta, s);
}

}  // namespace kernels
}  // namespace trt
