// What the CUTLASS kernels (cutlass_gemm.cu, cutlass_conv.cu) share: FP16 with 16-byte accesses,
// the bias + activation epilogues (D = act(alpha acc + beta C), FP32 math, FP16 stores), the
// activation dispatch, and one launch that maps CUTLASS's status onto a CUDA error.
// Include only under TRT_HAVE_CUTLASS.
#pragma once

#include <cutlass/cutlass.h>
#include <cutlass/epilogue/thread/linear_combination.h>
#include <cutlass/epilogue/thread/linear_combination_generic.h>
#include <cutlass/epilogue/thread/linear_combination_silu.h>

#include <cutlass/device_kernel.h>

#include <type_traits>

#include "kernel_common.cuh"
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

// Checks, initializes and runs one CUTLASS device operator. The workspace (`ws`, `wsBytes`) holds
// the serial split-K kernels' semaphores (initialize zeroes them on the stream); the unsplit
// kernels need none.
// The PDL twin of cutlass::Kernel<K> (kernels.h): the same parameter and body, in namespace trt,
// waiting for the grid before it first.
template <typename K>
__global__ void pdlTwin(typename K::Params params) {
  TRT_WAIT_PRIOR_GRID();
  extern __shared__ int storage[];
  K op;
  op(params, *reinterpret_cast<typename K::SharedStorage*>(storage));
}

// The kernel type a CUTLASS device operator launches as cutlass::Kernel<type>: GemmKernel
// (device::Gemm) or UnderlyingKernel (conv::device::ImplicitGemmConvolution).
template <typename Op, typename = void>
struct KernelOf {
  using type = typename Op::GemmKernel;
};
template <typename Op>
struct KernelOf<Op, std::void_t<typename Op::UnderlyingKernel>> {
  using type = typename Op::UnderlyingKernel;
};

// Registers K's twin, once (cuda_backend.cpp gives it the captured node's shared memory size
// when it swaps it in).
template <typename K>
void registerTwin() {
  static const bool registered = [] {
    registerPdlTwin(reinterpret_cast<const void*>(cutlass::Kernel<K>),
                    reinterpret_cast<const void*>(pdlTwin<K>));
    return true;
  }();
  (void)registered;
}

template <typename Op>
cudaError_t launch(const typename Op::Arguments& args, cudaStream_t s, void* ws = nullptr,
                   size_t wsBytes = 0) {
  registerTwin<typename KernelOf<Op>::type>();
  Op op;
  if (op.can_implement(args) != cutlass::Status::kSuccess || Op::get_workspace_size(args) > wsBytes ||
      op.initialize(args, ws, s) != cutlass::Status::kSuccess)
    return cudaErrorNotSupported;
  if (op(s) != cutlass::Status::kSuccess) {  // the CUDA error behind it, if there is one
    const cudaError_t e = cudaGetLastError();
    return e != cudaSuccess ? e : cudaErrorNotSupported;
  }
  return cudaGetLastError();
}

}  // namespace cutlass_common
}  // namespace kernels
}  // namespace trt
