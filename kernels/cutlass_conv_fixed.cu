// CUTLASS implicit-GEMM convolutions for 4-channel inputs (RGB stems, padded from 3 to 4 channels
// by the layout pass): CUTLASS's fixed-channels iterators (IteratorAlgorithm::kFixedChannels), whose
// GEMM K runs over (r, s, c) together, so one 64-wide K tile takes 16 filter taps of 4 channels.
// The general kernels (cutlass_conv.cu) walk the taps one by one with a K tile per tap and need
// channels in multiples of 8: a 3-channel stem either ran there padded to 8 (7/8 of every tile
// zeros) or on the CUDA cores (kernels/direct_conv.cu: YOLOv5s's 6x6 stride-2 stem, 34 us per
// half-image row band at 640x640 on the H200).
//
// Same epilogue and contract as cutlassConvBiasAct (bias as C with stride 0, activation none /
// ReLU / SiLU, FP32 accumulation, FP16 NHWC in and out, KRSC weights) with C == 4 exactly, K a
// multiple of 8, 8-byte aligned X and W. Tile variants as there: 0: 128x128x64, 1: 128x64x64,
// 2: 64x64x64.
#include "kernels.h"

#if TRT_HAVE_CUTLASS
#include <cutlass/conv/conv2d_problem_size.h>
#include <cutlass/conv/device/implicit_gemm_convolution.h>
#include <cutlass/conv/kernel/default_conv2d_fprop.h>

#include "cutlass_common.cuh"
#endif

namespace trt {
namespace kernels {

#if TRT_HAVE_CUTLASS
namespace {

using namespace cutlass_common;
using Nhwc = cutlass::layout::TensorNHWC;
constexpr int kFixedChannels = 4;  // halves per 8-byte access: the input's whole channel vector

template <typename Epilogue, typename Block, typename Warp>
using Conv =
    cutlass::conv::device::ImplicitGemmConvolution<typename cutlass::conv::kernel::DefaultConv2dFprop<
        Half, Nhwc, Half, Nhwc, Half, Nhwc, float, cutlass::arch::OpClassTensorOp, cutlass::arch::Sm80, Block,
        Warp, cutlass::gemm::GemmShape<16, 8, 16>, Epilogue,
        cutlass::gemm::threadblock::GemmIdentityThreadblockSwizzle<>, 3, cutlass::arch::OpMultiplyAdd,
        cutlass::conv::IteratorAlgorithm::kFixedChannels, cutlass::conv::StrideSupport::kStrided,
        kFixedChannels, kFixedChannels>::Kernel>;

template <typename C>
cudaError_t run(const CutlassConvShape& p, const void* x, const void* w, const void* bias, void* y,
                cudaStream_t s) {
  cutlass::conv::Conv2dProblemSize problem(p.n, p.h, p.w, p.c, p.k, p.r, p.s, p.p, p.q, p.padH, p.padW,
                                           p.strideH, p.strideW, p.dilationH, p.dilationW,
                                           cutlass::conv::Mode::kCrossCorrelation);
  const Nhwc xl = Nhwc::packed({p.n, p.h, p.w, p.c});
  const Nhwc wl = Nhwc::packed({p.k, p.r, p.s, p.c});
  const Nhwc yl = Nhwc::packed({p.n, p.p, p.q, p.k});
  const Nhwc bl(Nhwc::Stride(0));
  typename C::Arguments args(
      problem, {static_cast<Half*>(const_cast<void*>(x)), xl}, {static_cast<Half*>(const_cast<void*>(w)), wl},
      {static_cast<Half*>(const_cast<void*>(bias)), bl}, {static_cast<Half*>(y), yl}, {1.f, 1.f});
  return launch<C>(args, s);
}

template <typename Epilogue>
cudaError_t byVariant(int variant, const CutlassConvShape& p, const void* x, const void* w, const void* bias,
                      void* y, cudaStream_t s) {
  using cutlass::gemm::GemmShape;
  switch (variant) {
    case 0:
      return run<Conv<Epilogue, GemmShape<128, 128, 64>, GemmShape<64, 64, 64>>>(p, x, w, bias, y, s);
    case 1:
      return run<Conv<Epilogue, GemmShape<128, 64, 64>, GemmShape<64, 32, 64>>>(p, x, w, bias, y, s);
    case 2:
      return run<Conv<Epilogue, GemmShape<64, 64, 64>, GemmShape<32, 32, 64>>>(p, x, w, bias, y, s);
  }
  return cudaErrorInvalidValue;
}

}  // namespace

cudaError_t cutlassConvFixedChannelsBiasAct(int variant, CutlassAct act, const CutlassConvShape& p,
                                            const void* x, const void* w, const void* bias, void* y,
                                            cudaStream_t s) {
  if (int64_t(p.n) * p.p * p.q * p.k == 0) return cudaSuccess;
  if (p.c != kFixedChannels || p.k % kAlign || !bias) return cudaErrorNotSupported;
  return withEpilogue(
      act, [&](auto e) { return byVariant<typename decltype(e)::type>(variant, p, x, w, bias, y, s); });
}

#else

cudaError_t cutlassConvFixedChannelsBiasAct(int, CutlassAct, const CutlassConvShape&, const void*,
                                            const void*, const void*, void*, cudaStream_t) {
  return cudaErrorNotSupported;
}

#endif

}  // namespace kernels
}  // namespace trt
