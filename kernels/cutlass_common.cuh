// What the CUTLASS kernels (cutlass_gemm.cu, cutlass_conv.cu) share: FP16 with 16-byte accesses,
// the bias + activation epilogues (D = act(alpha acc + beta C), FP32 math, FP16 stores), the
// activation dispatch, and one launch that maps CUTLASS's status onto a CUDA error.
// Include only under TRT_HAVE_CUTLASS.
#pragma once

#include <cutlass/cutlass.h>
#include <cutlass/epilogue/thread/linear_combination.h>
#include <cutlass/epilogue/thread/linear_combination_relu.h>
#include <cutlass/epilogue/thread/linear_combination_silu.h>

#include "kernels.h"

namespace trt {
namespace kernels {
namespace cutlass_common {

using Half = cutlass::half_t;
constexpr int kAlign = 8;  // halves per 16-byte access

using EpiNone = cutlass::epilogue::thread::LinearCombination<Half, kAlign, float, float>;
using EpiRelu = cutlass::epilogue::thread::LinearCombinationRelu<Half, kAlign, float, float>;
using EpiSilu = cutlass::epilogue::thread::LinearCombinationSilu<Half, kAlign, float, float>;

template <typename E>
struct EpilogueTag {
  using type = E;
};

// f(EpilogueTag<E>{}) with the epilogue of `act`.
template <typename F>
cudaError_t withEpilogue(CutlassAct act, F&& f) {
  switch (act) {
    case CutlassAct::kNone:
      return f(EpilogueTag<EpiNone>{});
    case CutlassAct::kRelu:
      return f(EpilogueTag<EpiRelu>{});
    case CutlassAct::kSilu:
      return f(EpilogueTag<EpiSilu>{});
  }
  return cudaErrorInvalidValue;
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
  if (op(s) != cutlass::Status::kSuccess) {  // the CUDA error behind it, if there is one
    const cudaError_t e = cudaGetLastError();
    return e != cudaSuccess ? e : cudaErrorNotSupported;
  }
  return cudaGetLastError();
}

}  // namespace cutlass_common
}  // namespace kernels
}  // namespace trt
