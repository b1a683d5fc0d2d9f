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
#include "cutlass_conv_common.cuh"
#endif

namespace trt {
namespace kernels {

#if TRT_HAVE_CUTLASS
namespace {

using namespace cutlass_common;
constexpr int kFixedChannels = 4;  // halves per 8-byte access: the input's whole channel vector

template <typename Epilogue>
cudaError_t byVariant(int variant, const CutlassConvShape& p, const void* x, const void* w, const void* bias,
                      void* y, cudaStream_t s) {
  if (variant == kCutlassSplitKVariant) return cudaErrorNotSupported;
  return withConvTile(variant, [&](auto tile) {
    using C = cutlass::conv::device::ImplicitGemmConvolution<FpropKernel<
        Epilogue, decltype(tile), cutlass::conv::IteratorAlgorithm::kFixedChannels, kFixedChannels>>;
    const ConvLayouts l = convLayouts(p);
    typename C::Arguments args(convProblem(p), {halfPtr(x), l.x}, {halfPtr(w), l.w}, {halfPtr(bias), l.bias},
                               {halfPtr(y), l.y}, {1.f, 1.f});
    return launch<C>(args, s);
  });
}

}  // namespace

cudaError_t cutlassConvFixedChannelsBiasAct(int variant, CutlassAct act, const CutlassConvShape& p,
                                            const void* x, const void* w, const void* bias, void* y,
                                            cudaStream_t s) {
  if (int64_t(p.n) * p.p * p.q * p.k == 0) return cudaSuccess;
  if (p.c != kFixedChannels || p.k % kAlign || !bias || !stridesOk(p) || p.xRowStride)
    return cudaErrorNotSupported;
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
