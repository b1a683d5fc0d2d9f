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
#include "cutlass_conv_common.cuh"
#endif

namespace trt {
namespace kernels {

#if TRT_HAVE_CUTLASS
namespace {

using namespace cutlass_common;

template <typename Epilogue>
cudaError_t byVariant(int variant, const CutlassConvShape& p, const void* x, const void* w, const void* bias,
                      void* y, cudaStream_t s, int splitK, void* ws, size_t wsBytes) {
  if ((variant == kCutlassSplitKVariant) != (splitK > 1)) return cudaErrorNotSupported;
  return withConvTile(variant, [&](auto tile) {
    using C = cutlass::conv::device::ImplicitGemmConvolution<
        FpropKernel<Epilogue, decltype(tile), cutlass::conv::IteratorAlgorithm::kOptimized, kAlign>>;
    const ConvLayouts l = convLayouts(p);
    typename C::Arguments args(convProblem(p, splitK), {halfPtr(x), l.x}, {halfPtr(w), l.w},
                               {halfPtr(bias), l.bias}, {halfPtr(y), l.y}, {1.f, 1.f},
                               cutlass::conv::SplitKMode::kSerial);
    return launch<C>(args, s, ws, wsBytes);
  });
}

}  // namespace

cudaError_t cutlassConvBiasAct(int variant, CutlassAct act, const CutlassConvShape& p, const void* x,
                               const void* w, const void* bias, void* y, cudaStream_t s, int splitK, void* ws,
                               size_t wsBytes) {
  if (int64_t(p.n) * p.p * p.q * p.k == 0) return cudaSuccess;
  if (p.c % kAlign || p.k % kAlign || !bias || !stridesOk(p)) return cudaErrorNotSupported;
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
