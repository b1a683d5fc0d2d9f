// What the CUTLASS implicit-GEMM convolutions share (cutlass_conv.cu, cutlass_conv_fixed.cu,
// cutlass_conv_residual.cu): a CutlassConvShape as CUTLASS's problem and packed NHWC layouts, the
// Conv2dFprop kernel over FP16 NHWC with FP32 accumulation (CUTLASS 2.x SM80, runs on SM90), and the
// tile variants. Include only under TRT_HAVE_CUTLASS.
#pragma once

// conv2d_problem_size.h first: the device header uses its helpers without including it.
#include <cutlass/conv/conv2d_problem_size.h>
#include <cutlass/conv/device/implicit_gemm_convolution.h>
#include <cutlass/conv/kernel/default_conv2d_fprop.h>

#include "cutlass_common.cuh"

namespace trt {
namespace kernels {
namespace cutlass_common {

using Nhwc = cutlass::layout::TensorNHWC;

inline cutlass::conv::Conv2dProblemSize convProblem(const CutlassConvShape& p, int splitK = 1) {
  return cutlass::conv::Conv2dProblemSize(p.n, p.h, p.w, p.c, p.k, p.r, p.s, p.p, p.q, p.padH, p.padW,
                                          p.strideH, p.strideW, p.dilationH, p.dilationW,
                                          cutlass::conv::Mode::kCrossCorrelation, splitK);
}

// X [n, h, w, c], W [k, r, s, c] (KRSC), Z [n, p, q, k] packed; Y [n, p, q, k] packed or with
// yRowStride elements from one pixel to the next (a part of a channel concatenation); the bias as
// a tensor reads bias[k] for every (n, p, q) (all strides 0).
struct ConvLayouts {
  Nhwc x, w, y, z, bias;
};
// X likewise with xRowStride (CUTLASS's activation iterators step by the layout's strides).
inline Nhwc pixelStrided(int64_t rs, int h, int w) {
  return Nhwc(
      cutlass::make_Coord(static_cast<int>(rs), static_cast<int>(rs * w), static_cast<int>(rs * w * h)));
}
inline ConvLayouts convLayouts(const CutlassConvShape& p) {
  const Nhwc packedY = Nhwc::packed({p.n, p.p, p.q, p.k});
  const Nhwc y = p.yRowStride ? pixelStrided(p.yRowStride, p.p, p.q) : packedY;
  const Nhwc x = p.xRowStride ? pixelStrided(p.xRowStride, p.h, p.w) : Nhwc::packed({p.n, p.h, p.w, p.c});
  return {x, Nhwc::packed({p.k, p.r, p.s, p.c}), y, packedY, Nhwc(Nhwc::Stride(0))};
}

// Y's and X's pixel strides: packed, or a multiple of 8 halves at least k (c) (16-byte accesses).
inline bool stridesOk(const CutlassConvShape& p) {
  return (p.yRowStride == 0 || (p.yRowStride % kAlign == 0 && p.yRowStride >= p.k)) &&
         (p.xRowStride == 0 || (p.xRowStride % kAlign == 0 && p.xRowStride >= p.c));
}

inline Half* halfPtr(const void* p) {
  return static_cast<Half*>(const_cast<void*>(p));
}

// Conv2dFprop's kernel for FP16 NHWC with tile `Tile` (a ConvTile), epilogue `Epilogue`, iterator
// algorithm `Algo` and `Align` halves per A / B access, 3 stages.
template <typename Epilogue, typename Tile, cutlass::conv::IteratorAlgorithm Algo, int Align>
using FpropKernel = typename cutlass::conv::kernel::DefaultConv2dFprop<
    Half, Nhwc, Half, Nhwc, Half, Nhwc, float, cutlass::arch::OpClassTensorOp, cutlass::arch::Sm80,
    typename Tile::Block, typename Tile::Warp, cutlass::gemm::GemmShape<16, 8, 16>, Epilogue,
    cutlass::gemm::threadblock::GemmIdentityThreadblockSwizzle<>, 3, cutlass::arch::OpMultiplyAdd, Algo,
    cutlass::conv::StrideSupport::kStrided, Align, Align>::Kernel;

template <typename B, typename W>
struct ConvTile {
  using Block = B;
  using Warp = W;
};

// f(ConvTile<..>{}) for the tile of `variant`: 0: 128x128x64 block, 64x64 warps; 1: 128x64x64,
// 64x32 warps; 2 and the split-K variant 3: 64x64x64, 32x32 warps; 4: 64x32x64 and 5: 32x64x64,
// two 32x32 warps; 6: 128x64x32, 64x32 warps, and 7: 64x32x32, two 32x32 warps, for 32 input
// channels (the 64-deep K tiles walk one filter tap at a time, half of each tile zeros there:
// YOLOv5s's 3x3 convolutions on 32 channels). (A 16-deep tile is refused by CUTLASS's pipelined
// mainloop: it needs two warp-level steps.)
template <typename F>
cudaError_t withConvTile(int variant, F&& f) {
  using cutlass::gemm::GemmShape;
  switch (variant) {
    case 0:
      return f(ConvTile<GemmShape<128, 128, 64>, GemmShape<64, 64, 64>>{});
    case 1:
      return f(ConvTile<GemmShape<128, 64, 64>, GemmShape<64, 32, 64>>{});
    case 2:
    case kCutlassSplitKVariant:
      return f(ConvTile<GemmShape<64, 64, 64>, GemmShape<32, 32, 64>>{});
    case 4:
      return f(ConvTile<GemmShape<64, 32, 64>, GemmShape<32, 32, 64>>{});
    case 5:
      return f(ConvTile<GemmShape<32, 64, 64>, GemmShape<32, 32, 64>>{});
    case 6:
      return f(ConvTile<GemmShape<128, 64, 32>, GemmShape<64, 32, 32>>{});
    case 7:
      return f(ConvTile<GemmShape<64, 32, 32>, GemmShape<32, 32, 32>>{});
  }
  return cudaErrorInvalidValue;
}

}  // namespace cutlass_common
}  // namespace kernels
}  // namespace trt
