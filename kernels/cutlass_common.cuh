// What the CUTLASS kernels (cutlass_gemm.cu, cutlass_conv.cu) share: FP16 with 16-byte accesses,
// the bias + activation epilogues (D = act(alpha acc + beta C), FP32 math, FP16 stores), the
// activation dispatch, and one launch that maps CUTLASS's status onto a CUDA error.
// Include only under TRT_HAVE_CUTLASS.
#pragma once

#include <cutlass/cutlass.h>
#include <cutlass/gemm/gemm.h>

#include <cutlass/epilogue/thread/linear_combination.h>
#include <cutlass/epilogue/thread/linear_combination_generic.h>
#include <cutlass/epilogue/thread/linear_combination_silu.h>
#include <cstdlib>
#include <type_traits>

#include "kernels.h"

namespace trt {
namespace kernels {
namespace cutlass_common {

using Half = cutlass::half_t;
constexpr int kAlign = 8;  // halves per 16-byte access

// The epilogues by output alignment `Count` (halves per access: kAlign, or 1 for an output row
// length that is not a multiple of 8).
template <int Count = kAlign>
using EpiNoneT = cutlass::epilogue::thread::LinearCombination<Half, Count, float, float>;
// ReLU through the generic epilogue, not LinearCombinationRelu: serial split-K (the `_t3` variants)
// leaves the activation to the last K partition, and LinearCombinationRelu does that by setting its
// threshold to NaN, which this CUTLASS's NaN-propagating maximum turns into NaN outputs (seen on the
// H200). The generic epilogue skips the activation outright (skip_elementwise_).
template <int Count = kAlign>
using EpiReluT = cutlass::epilogue::thread::LinearCombinationGeneric<cutlass::epilogue::thread::ReLu, Half,
                                                                     Count, float, float>;
template <int Count = kAlign>
using EpiSiluT = cutlass::epilogue::thread::LinearCombinationSilu<Half, Count, float, float>;
template <int Count = kAlign>
using EpiSigmoidT = cutlass::epilogue::thread::LinearCombinationGeneric<cutlass::epilogue::thread::Sigmoid,
                                                                        Half, Count, float, float>;

template <typename E>
struct EpilogueTag {
  using type = E;
};

// f(EpilogueTag<E>{}) with the epilogue of `act` at output alignment Count. Sigmoid only where
// the caller instantiates it (`WithSigmoid`: the 1x1 GEMMs of detection heads); elsewhere
// cudaErrorNotSupported.
template <int Count = kAlign, bool WithSigmoid = false, typename F>
cudaError_t withEpilogue(CutlassAct act, F&& f) {
  switch (act) {
    case CutlassAct::kNone:
      return f(EpilogueTag<EpiNoneT<Count>>{});
    case CutlassAct::kRelu:
      return f(EpilogueTag<EpiReluT<Count>>{});
    case CutlassAct::kSilu:
      return f(EpilogueTag<EpiSiluT<Count>>{});
    case CutlassAct::kSigmoid:
      if constexpr (WithSigmoid)
        return f(EpilogueTag<EpiSigmoidT<Count>>{});
      else
        return cudaErrorNotSupported;
  }
  return cudaErrorInvalidValue;
}

// Programmatic dependent launch (PDL, sm_90): the CUTLASS kernels run through this entry instead
// of cutlass::Kernel, launched with cudaLaunchAttributeProgrammaticStreamSerialization. A block
// first waits until the grids before it on the stream have finished and their writes are visible
// (griddepcontrol.wait: so it neither reads an input early nor writes over a buffer that an
// earlier layer still reads), then lets the next grid launch (griddepcontrol.launch_dependents);
// the next grid's blocks are then resident and waiting when this one ends, instead of being
// launched after it: the launch latency between two such kernels is hidden (CUDA graphs keep
// the programmatic edges).
template <typename K>
__global__ void pdlKernel(typename K::Params params) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  asm volatile("griddepcontrol.wait;" ::: "memory");
  asm volatile("griddepcontrol.launch_dependents;");
#endif
  extern __shared__ int pdlSmem[];
  K op;
  op(params, *reinterpret_cast<typename K::SharedStorage*>(pdlSmem));
}

// Whether the CUTLASS kernels launch with PDL: TRT_PDL=1 (off by default until measured).
inline bool pdlEnabled() {
  static const bool on = [] {
    const char* v = std::getenv("TRT_PDL");
    return v && v[0] == '1';
  }();
  return on;
}

// The kernel parameters and grid that Op's initialize() and run() would use (CUTLASS keeps them
// private): the convolutions' from their arguments, the GEMMs' as gemm::device::Gemm builds them.
template <typename Op, typename = void>
struct LaunchShape {  // cutlass::conv::device::ImplicitGemmConvolution
  using K = typename Op::UnderlyingKernel;
  static typename K::Params params(const typename Op::Arguments& args, void* ws) {
    return typename K::Params(args, static_cast<int*>(ws));
  }
  static dim3 block() { return dim3(32 * Op::kWarpCount, 1, 1); }
};
template <typename Op>
struct LaunchShape<Op, std::void_t<typename Op::GemmKernel>> {  // cutlass::gemm::device::Gemm
  using K = typename Op::GemmKernel;
  static typename K::Params params(const typename Op::Arguments& args, void* ws) {
    typename Op::ThreadblockSwizzle swizzle;
    const cutlass::gemm::GemmCoord grid = swizzle.get_tiled_shape(
        args.problem_size, {Op::ThreadblockShape::kM, Op::ThreadblockShape::kN, Op::ThreadblockShape::kK},
        args.split_k_slices);
    return typename K::Params{args.problem_size,
                              grid,
                              args.ref_A.non_const_ref(),
                              args.ref_B.non_const_ref(),
                              args.ref_C.non_const_ref(),
                              args.ref_D,
                              args.epilogue,
                              static_cast<int*>(ws),
                              args.gather_A_indices,
                              args.gather_B_indices,
                              args.scatter_D_indices};
  }
  static dim3 block() { return dim3(K::kThreadCount, 1, 1); }
};

template <typename Op>
cudaError_t launchPdl(const typename Op::Arguments& args, cudaStream_t s, void* ws) {
  using Shape = LaunchShape<Op>;
  using K = typename Shape::K;
  typename K::Params params = Shape::params(args, ws);
  const dim3 grid = typename Op::ThreadblockSwizzle().get_grid_shape(params.grid_tiled_shape);
  const int smem = static_cast<int>(sizeof(typename K::SharedStorage));
  if (smem >= (48 << 10)) {  // once per kernel (before any capture)
    static const cudaError_t optIn =
        cudaFuncSetAttribute(pdlKernel<K>, cudaFuncAttributeMaxDynamicSharedMemorySize, smem);
    if (optIn != cudaSuccess) return optIn;
  }
  cudaLaunchAttribute attr[1];
  attr[0].id = cudaLaunchAttributeProgrammaticStreamSerialization;
  attr[0].val.programmaticStreamSerializationAllowed = 1;
  cudaLaunchConfig_t cfg = {};
  cfg.gridDim = grid;
  cfg.blockDim = Shape::block();
  cfg.dynamicSmemBytes = static_cast<size_t>(smem);
  cfg.stream = s;
  cfg.attrs = attr;
  cfg.numAttrs = 1;
  return cudaLaunchKernelEx(&cfg, pdlKernel<K>, params);
}

// Checks, initializes and runs one CUTLASS device operator. The workspace (`ws`, `wsBytes`) holds
// the serial split-K kernels' semaphores (initialize zeroes them on the stream); the unsplit
// kernels need none.
template <typename Op>
cudaError_t launch(const typename Op::Arguments& args, cudaStream_t s, void* ws = nullptr,
                   size_t wsBytes = 0) {
  Op op;
  if (op.can_implement(args) != cutlass::Status::kSuccess || Op::get_workspace_size(args) > wsBytes ||
      op.initialize(args, ws, s) != cutlass::Status::kSuccess)
    return cudaErrorNotSupported;
  if (pdlEnabled()) {
    const cudaError_t e = launchPdl<Op>(args, s, ws);
    return e != cudaSuccess ? e : cudaGetLastError();
  }
  if (op(s) != cutlass::Status::kSuccess) {  // the CUDA error behind it, if there is one
    const cudaError_t e = cudaGetLastError();
    return e != cudaSuccess ? e : cudaErrorNotSupported;
  }
  return cudaGetLastError();
}

}  // namespace cutlass_common
}  // namespace kernels
}  // namespace trt
