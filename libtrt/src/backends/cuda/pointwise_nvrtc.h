// Generated Pointwise kernels: a Pointwise layer's program (ir/ops/pointwise.h, as the CUDA
// backend encodes it in kernels::PointwiseProgram) written out as straight-line CUDA C++ and
// compiled with NVRTC for the device when the layer is configured, instead of interpreted per
// element (kernels/elementwise.cu's pointwiseKernel / piecewise kernels). Each register is a local
// float, each instruction one expression (the unary ops through kernels/unary_apply.cuh, compiled
// in with their op known), pieces one branch each with only what that piece needs. Shapes and
// strides are launch arguments, so one kernel serves every shape of the layer; a layer whose
// shapes are static gets a kernel for that one shape instead, the dims and strides literals (the
// index math constant divisions, broadcast inputs' zero terms gone).
//
// YOLOv5's decode on the H200 ran ~850 instructions per row of 85 through the interpreter (the xy
// and wh columns dispatching op by op); generated, a score column is a load and a store.
// Compiled kernels are cached per source text for the process. Where NVRTC or the module load
// fails the layer keeps the interpreter.
#pragma once

#include <memory>
#include <string>

#include "kernels.h"
#include "trt/status.h"

namespace trt {
namespace cuda_pointwise {

// The CUDA C++ source of `prog`'s kernel over float (`half` false) or half storage, entry point
// "trt_pointwise". Pieces along prog.pieceAxis when it is >= 0. With `shape`, the kernel runs that
// dense output shape only, reading the inputs with prog.inStrides (written into the source).
std::string pointwiseSource(const kernels::PointwiseProgram& prog, bool half,
                            const kernels::Shape8* shape = nullptr);

// Compiles `source` with NVRTC for compute capability `major`.`minor` into a cubin (no device
// needed): the check that the generated source is valid CUDA.
Expected<std::string> compileToCubin(const std::string& source, int major, int minor);

class GeneratedKernel;

// The kernel of `prog` for the current device, compiled once per source per process; an error when
// NVRTC or the module load fails (the caller keeps the interpreter).
Expected<std::shared_ptr<const GeneratedKernel>> generatedKernel(const kernels::PointwiseProgram& prog,
                                                                 bool half,
                                                                 const kernels::Shape8* shape = nullptr);

// Launches `k` over the dense output `os` of n < 2^31 elements; `prog` carries the input pointers
// and strides (over the output's dims; a piece input's over its piece's).
cudaError_t launchGenerated(const GeneratedKernel& k, const kernels::PointwiseProgram& prog, void* out,
                            const kernels::Shape8& os, cudaStream_t stream);

}  // namespace cuda_pointwise
}  // namespace trt
