// CUTLASS implicit-GEMM convolutions (Conv2dFprop, NHWC FP16, FP32 accumulation, CUTLASS 2.x SM80
// kernels that run on SM90) with a fused bias + activation epilogue:
// Y[n, p, q, k] = act(sum_{r, s, c} X[n, p*sh - ph + r, q*sw - pw + s, c] W[k, r, s, c] + bias[k]).
// cuDNN's legacy fused call has ReLU and identity only, so a SiLU convolution there is two passes;
// here it is one kernel. The bias is the epilogue's source operand C with all strides 0.
//
// Tile variants: 0: 128x128x64 block, 64x64 warps; 1: 128x64x64, 64x32 warps; 2: 64x64x64, 32x32
// warps; 3 stages each; 3: variant 2 with serial split-K (see cutlass_gemm.cu). Channels (C and K) multiples
// of 8, any padding (the problem takes the top / left pads and the output size; rows and columns outside the
// input read as zero), any stride and dilation, one group. Built with TRT_HAVE_CUTLASS (see cutlass_gemm.cu).
#include "kernels.h"

#if TRT_HAVE_CUTLASS
// conv2d_problem_size.h first: the device header uses its helpers without including it.
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

template <typename Epilogue, typename Block, typename Warp>
using Conv =
    cutlass::conv::device::ImplicitGemmConvolution<typename cutlass::conv::kernel::DefaultConv2dFprop<
        Half, Nhwc, Half, Nhwc, Half, Nhwc, float, cutlass::arch::OpClassTensorOp, cutlass::arch::Sm80, Block,
        Warp, cutlass::gemm::GemmShape<16, 8, 16>, Epilogue,
        cutlass::gemm::threadblock::GemmIdentityThreadblockSwizzle<>, 3, cutlass::arch::OpMultiplyAdd,
        cutlass::conv::IteratorAlgorithm::kOptimized, cutlass::conv::StrideSupport::kStrided, kAlign,
        kAlign>::Kernel>;

template <typename C>
cudaError_t run(const CutlassConvShape& p, const void* x, const void* w, const void* bias, void* y,
                cudaStream_t s, int splitK = 1, void* ws = nullptr, size_t wsBytes = 0) {
  cutlass::conv::Conv2dProblemSize problem(p.n, p.h, p.w, p.c, p.k, p.r, p.s, p.p, p.q, p.padH, p.padW,
                                           p.strideH, p.strideW, p.dilationH, p.dilationW,
                                           cutlass::conv::Mode::kCrossCorrelation, splitK);
  const Nhwc xl = Nhwc::packed({p.n, p.h, p.w, p.c});
  const Nhwc wl = Nhwc::packed({p.k, p.r, p.s, p.c});
  const Nhwc yl = Nhwc::packed({p.n, p.p, p.q, p.k});
  const Nhwc bl(Nhwc::Stride(0));  // bias[k] for every (n, p, q)
  typename C::Arguments args(problem, {static_cast<Half*>(const_cast<void*>(x)), xl},
                             {static_cast<Half*>(const_cast<void*>(w)), wl},
                             {static_cast<Half*>(const_cast<void*>(bias)), bl}, {static_cast<Half*>(y), yl},
                             {1.f, 1.f}, cutlass::conv::SplitKMode::kSerial);
  return launch<C>(args, s, ws, wsBytes);
}

template <typename Epilogue>
cudaError_t byVariant(int variant, const CutlassConvShape& p, const void* x, const void* w, const void* bias,
                      void* y, cudaStream_t s, int splitK, void* ws, size_t wsBytes) {
  using cutlass::gemm::GemmShape;
  if ((variant == kCutlassSplitKVariant) != (splitK > 1)) return cudaErrorNotSupported;
  switch (variant) {
    case kCutlassSplitKVariant:
      return run<Conv<Epilogue, GemmShape<64, 64, 64>, GemmShape<32, 32, 64>>>(p, x, w, bias, y, s, splitK,
                                                                               ws, wsBytes);
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

cudaError_t cutlassConvBiasAct(int variant, CutlassAct act, const CutlassConvShape& p, const void* x,
                               const void* w, const void* bias, void* y, cudaStream_t s, int splitK, void* ws,
                               size_t wsBytes) {
  if (int64_t(p.n) * p.p * p.q * p.k == 0) return cudaSuccess;
  if (p.c % kAlign || p.k % kAlign || !bias) return cudaErrorNotSupported;
  return withEpilogue(act, [&](auto e) {
    return byVariant<typename decltype(e)::type>(variant, p, x, w, bias, y, s, splitK, ws, wsBytes);
  });
}

#else

cudaError_t cutlassConvBiasAct(int, CutlassAct, const CutlassConvShape&, const void*, const void*,
                               const void*, void*, cudaStream_t, int, void*, size_t) {
  return cudaErrorNotSupported;
}

#endif

}  // namespace kernels
}  // namespace trt
