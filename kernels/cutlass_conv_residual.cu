// CUTLASS implicit-GEMM convolutions with a residual added after the activation (NHWC FP16, FP32
// accumulation, CUTLASS 2.x SM80 kernels that run on SM90):
// Y = act(conv(X, W) + bias) + Z, the pattern of YOLOv5's bottlenecks (x + SiLU(BN(conv(..)))),
// where the residual otherwise costs an Add over the whole map after the convolution.
// CUTLASS's broadcast epilogue (DefaultConv2dFpropWithBroadcast) with its residual-block functor
// (LinearCombinationResidualBlock: Identity(plus(act(acc + bias), Z))): the bias is the broadcast
// vector (one value per output channel) and Z the source tensor C.
//
// Same tiles, alignment and conditions as cutlass_conv.cu (channels multiples of 8, one group, any
// pads), activations ReLU and SiLU. Z may be Y itself: each epilogue thread reads its Z fragment
// before it writes the same elements of Y.
#include "kernels.h"

#if TRT_HAVE_CUTLASS
#include <cutlass/conv/kernel/default_conv2d_fprop_with_broadcast.h>
#include <cutlass/epilogue/thread/activation.h>
#include <cutlass/epilogue/thread/linear_combination_residual_block.h>
#include <cutlass/functional.h>

#include "cutlass_conv_common.cuh"
#endif

namespace trt {
namespace kernels {

#if TRT_HAVE_CUTLASS
namespace {

using namespace cutlass_common;

template <template <typename> class Act>
using Residual = cutlass::epilogue::thread::LinearCombinationResidualBlock<
    Half, float, float, Half, kAlign, Act, cutlass::plus, cutlass::epilogue::thread::Identity>;

template <typename Epilogue>
cudaError_t byVariant(int variant, const CutlassConvShape& p, const void* x, const void* w, const void* bias,
                      const void* z, void* y, cudaStream_t s) {
  if (variant == kCutlassSplitKVariant) return cudaErrorNotSupported;
  return withConvTile(variant, [&](auto tile) {
    using Tile = decltype(tile);
    using C = cutlass::conv::device::ImplicitGemmConvolution<
        typename cutlass::conv::kernel::DefaultConv2dFpropWithBroadcast<
            Half, Nhwc, Half, Nhwc, Half, Nhwc, float, cutlass::arch::OpClassTensorOp, cutlass::arch::Sm80,
            typename Tile::Block, typename Tile::Warp, cutlass::gemm::GemmShape<16, 8, 16>, Epilogue,
            cutlass::gemm::threadblock::GemmIdentityThreadblockSwizzle<>, 3, cutlass::arch::OpMultiplyAdd,
            cutlass::conv::IteratorAlgorithm::kOptimized, cutlass::conv::StrideSupport::kStrided, kAlign,
            kAlign>::Kernel>;
    const ConvLayouts l = convLayouts(p);
    typename C::Arguments args(convProblem(p), {halfPtr(x), l.x}, {halfPtr(w), l.w}, {halfPtr(z), l.z},
                               {halfPtr(y), l.y}, {1.f, 1.f}, cutlass::conv::SplitKMode::kSerial,
                               halfPtr(bias), nullptr);
    return launch<C>(args, s);
  });
}

}  // namespace

cudaError_t cutlassConvBiasActResidual(int variant, CutlassAct act, const CutlassConvShape& p, const void* x,
                                       const void* w, const void* bias, const void* z, void* y,
                                       cudaStream_t s) {
  if (int64_t(p.n) * p.p * p.q * p.k == 0) return cudaSuccess;
  if (p.c % kAlign || p.k % kAlign || !bias || !z || !stridesOk(p)) return cudaErrorNotSupported;
  switch (act) {
    case CutlassAct::kRelu:
      return byVariant<Residual<cutlass::epilogue::thread::ReLu>>(variant, p, x, w, bias, z, y, s);
    case CutlassAct::kSilu:
      return byVariant<Residual<cutlass::epilogue::thread::SiLu>>(variant, p, x, w, bias, z, y, s);
    case CutlassAct::kNone:  // a residual before or after no activation is the same: cuDNN's fused call, or Z
                             // as C
    case CutlassAct::kSigmoid:
      break;
  }
  return cudaErrorNotSupported;
}

#else

cudaError_t cutlassConvBiasActResidual(int, CutlassAct, const CutlassConvShape&, const void*, const void*,
                                       const void*, const void*, void*, cudaStream_t) {
  return cudaErrorNotSupported;
}

#endif

}  // namespace kernels
}  // namespace trt
