// Graph passes (DESIGN rule 6): small named units over the Network.
//
// A pass that finds nothing to do is not an error: it sets changed = false. Each pass documents
// its pattern in its header comment and is listed, with the reason for its place, in pipeline.cpp.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "trt/logger.h"
#include "trt/network.h"

namespace trt {

class Pass {
 public:
  virtual ~Pass() = default;
  virtual const char* name() const = 0;
  virtual Status run(Network& net, bool& changed) = 0;
};

// How many layer inputs read each tensor (graph outputs not counted); pattern passes use it to
// check that an intermediate has a single reader.
std::vector<int> countUses(const Network& net);

// The layer producing `t` when `t` is an intermediate that pattern passes may fuse through: one
// reader, not a graph output, its producer still kept (keep[i]: not yet removed by this pass);
// else -1.
int soleProducer(const Network& net, const std::vector<int>& uses, const std::vector<bool>& keep, int t);
// A Transpose that a layer may read through (the fold-transpose-into-* passes): t's sole producer
// (soleProducer) when it is a plain Transpose (no converting `to`) whose input has t's type. Returns
// its index, with its input in *x and its perm in *perm (the default reversal spelled out); -1
// otherwise.
int foldableTranspose(const Network& net, const std::vector<int>& uses, const std::vector<bool>& keep, int t,
                      int* x, std::vector<int64_t>* perm);

// Tensor `id` as a float32 constant, or null (absent, an activation, another type).
const HostTensor* floatConstant(const Network& net, int id);

// Constant folding: a layer whose inputs are all constants (or computable from static shapes,
// like Shape of a static tensor) is computed on the host by the CPU kernels and its outputs become
// constants. Graph outputs are left to their layers.
//     const ──▶ [op] ──▶ t        becomes        t := const value
std::unique_ptr<Pass> makeConstantFoldingPass();

// Dead-code elimination: drops layers none of whose outputs reach a graph output, and constants
// nothing reads.
std::unique_ptr<Pass> makeResolveShapeValuesPass();

std::unique_ptr<Pass> makeDeadCodePass();

// Fold BatchNormalization into the Conv, ConvTranspose or constant-weight MatMul/Gemm before it
// (fold_affine.cpp has the patterns).
std::unique_ptr<Pass> makeFoldBatchNormPass();
// Remove Identity and Dropout: consumers read their input (remove_identity.cpp).
// Zero constant Pad of spatial dims into the Conv after it (fold_affine.cpp has the patterns).
std::unique_ptr<Pass> makeFoldPadIntoConvPass();
// Per-channel constant Mul/Add after a Conv into its weights and bias.
std::unique_ptr<Pass> makeFoldConvAffinePass();

std::unique_ptr<Pass> makeRemoveIdentityPass();

// Conv + residual Add + activation into one FusedConv layer (fuse_conv.cpp has the pattern).
std::unique_ptr<Pass> makeFuseConvPass();
// An activation after a convolution and data-movement layers becomes the convolution's (fuse_conv.cpp).
std::unique_ptr<Pass> makeFuseActivationThroughViewsPass();
// A channel Concat of x and a chain of equal same-size max pools over it (YOLOv5's SPPF) into one
// MaxPoolCascade layer (fuse_conv.cpp has the pattern).
std::unique_ptr<Pass> makeFuseMaxPoolCascadePass();
// Reshape [M, K] -> Gemm -> Reshape back (a linear layer on a 3-D tensor) into one FusedMatMul.
std::unique_ptr<Pass> makeGemmToMatMulPass();
// MatMul followed by Div/Mul by a scalar constant: the scale becomes the MatMul's alpha.
std::unique_ptr<Pass> makeFoldMatMulScalePass();
// MatMul by a constant matrix + bias Add + residual Add + activation into one FusedMatMul.
std::unique_ptr<Pass> makeFuseMatMulPass();

// Decomposed erf-GELU into one Gelu layer (fuse_transformer.cpp has the pattern).
std::unique_ptr<Pass> makeFuseGeluPass();
// Multi-head attention (Reshape/Transpose, MatMul, scale, mask, Softmax, MatMul) into one Attention layer.
std::unique_ptr<Pass> makeFuseAttentionPass();
// Residual Add -> LayerNormalization into one AddLayerNorm layer (fuse_transformer.cpp).
std::unique_ptr<Pass> makeFuseAddLayerNormPass();
// Decomposed LayerNorm (ReduceMean/Sub/Pow/Sqrt/Div/Mul/Add) into LayerNormalization.
std::unique_ptr<Pass> makeFuseLayerNormPass();

// No-op Reshape/Transpose removal, Transpose∘Transpose and Reshape chains collapsed (simplify.cpp).
std::unique_ptr<Pass> makeSimplifyShapesPass();
// MatMul(A, Transpose(W)) swapping W's last two dims -> MatMul(A, W) with transB (simplify.cpp).
std::unique_ptr<Pass> makeFoldTransposeIntoMatMulPass();
// Transpose -> split-only Reshape -> Transpose into a view and one Transpose (simplify.cpp); the
// builder runs it again after the layouts, where the NHWC reformats make such chains.
std::unique_ptr<Pass> makeFoldTransposeThroughReshapePass();
// Cast (float32 <-> float16) next to a Transpose, the intermediate read by the other alone: one
// Transpose with the internal "to" attribute, converting as it permutes (simplify.cpp); the builder
// runs it after the layouts, where precision's Cast of an input meets the NHWC reformat.
std::unique_ptr<Pass> makeFuseCastTransposePass();
// A MatMul by a constant whose output width N is not a multiple of 8 computes round8(N) columns
// and a Slice keeps N (pad_matmul.cpp); the builder runs it for device (CUDA) engines.
std::unique_ptr<Pass> makePadMatMulNPass();
// A MatMul / FusedMatMul whose sum feeds a last-axis LayerNormalization into one MatMulLayerNorm
// (fuse_transformer.cpp); the builder runs it for device (CUDA) engines.
std::unique_ptr<Pass> makeFuseMatMulLayerNormPass();
// Common-subexpression elimination (simplify.cpp).
std::unique_ptr<Pass> makeCsePass();
// Connected elementwise layers (float32, broadcast constants) into one Pointwise layer
// (fuse_pointwise.cpp has the pattern).
std::unique_ptr<Pass> makeFusePointwisePass();
// fuse-piecewise (fuse_pointwise.cpp): Split -> per-piece elementwise ops -> Concat along the same
// axis as one Pointwise layer with pieces.
std::unique_ptr<Pass> makeFusePiecewisePass();
// fold-transpose-into-pointwise (fuse_pointwise.cpp): a Transpose read only by a Pointwise layer
// becomes that input's permutation (input_perms); the builder runs it after the layouts too.
std::unique_ptr<Pass> makeFoldTransposeIntoPointwisePass();
// fold-transpose-into-pad (simplify.cpp): a constant-mode Pad reading a Transpose that nothing else
// reads takes the Transpose's input and perm (internal attribute input_perm); the builder runs it
// after the layouts too (their input reformat and stem channel padding).
std::unique_ptr<Pass> makeFoldTransposeIntoPadPass();

struct PipelineOptions {
  int optLevel = 3;                   // 0: no optional pass
  std::vector<std::string> disabled;  // pass names switched off
  Logger* logger = nullptr;
  // Called after each pass: name, milliseconds, layers before and after, "changed" / "no change" /
  // "disabled".
  std::function<void(const std::string&, double, int, int, const std::string&)> onPass;
};

// Runs the ordered pipeline (pipeline.cpp).
Status runPassPipeline(Network& net, const PipelineOptions& options);

}  // namespace trt
