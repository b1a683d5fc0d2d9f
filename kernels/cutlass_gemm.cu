// CUTLASS GEMMs with a fused bias + activation epilogue, for NHWC 1x1 convolutions in FP16:
// Y[M, N] = act(X[M, K] W[N, K]^T + bias[N]), FP32 accumulation on tensor cores (CUTLASS 2.x
// SM80 kernels, which run on SM90). cuBLASLt's epilogues have no SiLU, so there the activation
// is a second pass over Y; here it is part of the GEMM. The bias enters as the epilogue's source
// operand C with a row stride of 0 (every row reads the same N values, beta = 1).
//
// Tile variants (the builder times each as its own tactic): 0: 128x128x32 block, 64x64 warps,
// 3 stages; 1: 128x64x32, 64x32 warps, 4 stages; 2: 64x64x32, 32x32 warps, 5 stages (small M);
// 4: 64x32x32, 5: 32x64x32, both of two 32x32 warps, 4 stages (twice the blocks of variant 2 on a
// small map; aligned N only);
// 3: variant 2 with serial split-K (kCutlassSplitKVariant): `splitK` blocks share each output tile's
// K range and add up in turn through Y (semaphores in the workspace; the partial sums are FP16 and
// the bias and activation come with the last), for GEMMs of fewer tiles than the GPU has SMs
// (YOLOv5s's 20x20 and 40x40 maps at batch 1: 28-50 tiles of 64x64 on 132 SMs).
// Alignment: 8 halves (K and N multiples of 8, 16-byte aligned pointers); an N that is not a
// multiple of 8 (YOLOv5's Detect convolutions: 255) runs variants 1 and 2 with an epilogue that
// stores one half at a time (the operands stay 16-byte aligned). Activations: none, ReLU, SiLU and
// sigmoid (the Detect head's).
//
// Built when CMake finds the CUTLASS headers (nvidia-cutlass, installed by scripts/setup.sh):
// TRT_HAVE_CUTLASS. Without them cutlassAvailable() is false and the tactics are not offered.
#include "kernels.h"

#if TRT_HAVE_CUTLASS
#include <cutlass/gemm/device/gemm.h>

#include "cutlass_common.cuh"
#endif

namespace trt {
namespace kernels {

#if TRT_HAVE_CUTLASS
namespace {

using namespace cutlass_common;

template <typename Epilogue, typename Block, typename Warp, int Stages, bool SplitKSerial = false>
using Gemm = cutlass::gemm::device::Gemm<Half, cutlass::layout::RowMajor,     // X [M, K]
                                         Half, cutlass::layout::ColumnMajor,  // W [N, K] = [K, N] col-major
                                         Half, cutlass::layout::RowMajor,     // Y [M, N]
                                         float, cutlass::arch::OpClassTensorOp, cutlass::arch::Sm80, Block,
                                         Warp, cutlass::gemm::GemmShape<16, 8, 16>, Epilogue,
                                         cutlass::gemm::threadblock::GemmIdentityThreadblockSwizzle<>, Stages,
                                         kAlign, kAlign, SplitKSerial>;

template <typename G>
cudaError_t run(const void* x, const void* w, const void* bias, void* y, int64_t M, int64_t N, int64_t K,
                int64_t ldx, int64_t ldy, cudaStream_t s, int splitK = 1, void* ws = nullptr,
                size_t wsBytes = 0) {
  const int m = static_cast<int>(M), n = static_cast<int>(N), k = static_cast<int>(K);
  typename G::Arguments args({m, n, k}, {static_cast<const Half*>(x), ldx}, {static_cast<const Half*>(w), k},
                             {static_cast<const Half*>(bias), 0}, {static_cast<Half*>(y), ldy}, {1.f, 1.f},
                             splitK);
  return launch<G>(args, s, ws, wsBytes);
}

template <typename Epilogue>
cudaError_t byVariant(int variant, const void* x, const void* w, const void* bias, void* y, int64_t M,
                      int64_t N, int64_t K, int64_t ldx, int64_t ldy, cudaStream_t s, int splitK, void* ws,
                      size_t wsBytes) {
  using cutlass::gemm::GemmShape;
  if ((variant == kCutlassSplitKVariant) != (splitK > 1)) return cudaErrorNotSupported;
  switch (variant) {
    case 1:
      return run<Gemm<Epilogue, GemmShape<128, 64, 32>, GemmShape<64, 32, 32>, 4>>(x, w, bias, y, M, N, K,
                                                                                   ldx, ldy, s);
    case 2:
      return run<Gemm<Epilogue, GemmShape<64, 64, 32>, GemmShape<32, 32, 32>, 5>>(x, w, bias, y, M, N, K, ldx,
                                                                                  ldy, s);
  }
  if (variant == 4 || variant == 5) {  // two warps a block
    if constexpr (Epilogue::kCount == 1) {
      return cudaErrorNotSupported;
    } else {
      if (variant == 4)
        return run<Gemm<Epilogue, GemmShape<64, 32, 32>, GemmShape<32, 32, 32>, 4>>(x, w, bias, y, M, N, K,
                                                                                    ldx, ldy, s);
      return run<Gemm<Epilogue, GemmShape<32, 64, 32>, GemmShape<32, 32, 32>, 4>>(x, w, bias, y, M, N, K, ldx,
                                                                                  ldy, s);
    }
  }
  if constexpr (Epilogue::kCount == 1) {  // an unaligned N: variants 1 and 2 only
    return cudaErrorNotSupported;
  } else {
    switch (variant) {
      case kCutlassSplitKVariant:
        return run<Gemm<Epilogue, GemmShape<64, 64, 32>, GemmShape<32, 32, 32>, 5, true>>(
            x, w, bias, y, M, N, K, ldx, ldy, s, splitK, ws, wsBytes);
      case 0:
        return run<Gemm<Epilogue, GemmShape<128, 128, 32>, GemmShape<64, 64, 32>, 3>>(x, w, bias, y, M, N, K,
                                                                                      ldx, ldy, s);
    }
    return cudaErrorInvalidValue;
  }
}

}  // namespace

bool cutlassAvailable() {
  return true;
}

cudaError_t cutlassGemmBiasAct(int variant, CutlassAct act, const void* x, const void* w, const void* bias,
                               void* y, int64_t M, int64_t N, int64_t K, cudaStream_t s, int splitK, void* ws,
                               size_t wsBytes, int64_t ldy, int64_t ldx) {
  if (M == 0 || N == 0) return cudaSuccess;
  if (K % kAlign || M > INT32_MAX || N > INT32_MAX || K > INT32_MAX || !bias) return cudaErrorNotSupported;
  if (ldy == 0) ldy = N;
  if (ldx == 0) ldx = K;
  if (ldy < N || (ldy != N && (ldy % kAlign || N % kAlign)) || ldx < K || ldx % kAlign || ldx > INT32_MAX)
    return cudaErrorNotSupported;
  auto go = [&](auto e) {
    return byVariant<typename decltype(e)::type>(variant, x, w, bias, y, M, N, K, ldx, ldy, s, splitK, ws,
                                                 wsBytes);
  };
  if (N % kAlign) {
    if (!cutlassUnalignedN(variant)) return cudaErrorNotSupported;
    return withEpilogue<1, true>(act, go);
  }
  return withEpilogue<kAlign, true>(act, go);
}

#else

bool cutlassAvailable() {
  return false;
}

cudaError_t cutlassGemmBiasAct(int, CutlassAct, const void*, const void*, const void*, void*, int64_t,
                               int64_t, int64_t, cudaStream_t, int, void*, size_t, int64_t) {
  return cudaErrorNotSupported;
}

#endif

}  // namespace kernels
}  // namespace trt
