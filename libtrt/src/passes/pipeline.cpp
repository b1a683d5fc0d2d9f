// The ordered pass pipeline.
//
// Order and why:
//   1. dead-code         first, so folding does not compute values nothing reads;
//   2. remove-identity   Identity/Dropout out of the way, so patterns see producer -> consumer;
//   2b. cse              duplicate layers (PyTorch exports repeat Shape/Gather chains per use)
//                        merge before folding, so each value is computed once;
//   3. constant-folding  evaluates weight preprocessing and static shape subgraphs
//                        (Shape -> Gather -> Concat -> Reshape of static dims) once, at build time,
//                        so the fusions below see constant weights;
//   3b. resolve-shape-values, cse, dead-code  with dynamic shapes: shape values known in terms
//                        of the inputs' dims become constants or read the input's shape, so
//                        every block's shape chain is the same and cse merges them; the layers
//                        that were only measured (Split/Reshape/Transpose before a Shape) die
//                        before the fusions, which then take them whole;
//   4. fold-batchnorm    BatchNormalization into the Conv/ConvTranspose/MatMul/Gemm before it
//                        (needs constant weights);
//   4b. fold-pad-into-conv, fold-conv-affine: the other folds into
//                        weights (after constant folding, before the conv fusions that need the
//                        Conv to end in its activation);
//   5. fuse-layernorm    the decomposed LayerNorm older exporters emit (its constants must be
//                        constants already: after folding);
//   6. fuse-gelu         the erf GELU (same reason);
//   6b. fuse-conv       Conv + residual Add + activation (after fold-batchnorm, so Conv+BN+ReLU
//                        becomes one layer; after fuse-gelu, so a decomposed GELU is one op);
//   6b''. fuse-activation-through-views  an activation behind Reshape/Transpose views of a
//                        convolution's output (after fuse-conv, which takes the direct ones);
//   6b'''. fuse-maxpool-cascade  SPPF's chain of same-size max pools and their Concat as one
//                        layer (independent of the others; with the convolution passes);
//   6b'. gemm-to-matmul linear layers written as Reshape -> 2-D Gemm -> Reshape become FusedMatMul
//                        first, so fuse-matmul sees them;
//   6c. fuse-matmul     linear layers: MatMul + bias + residual + activation (after fuse-gelu,
//                        so the GELU after the first FFN GEMM is one op it can absorb);
//   6d. fold-matmul-scale  attention's scores / sqrt(d) into the MatMul's alpha;
//   7. simplify-shapes   no-op Reshape/Transpose and chains, now that folding made shapes static;
//   7'. fold-transpose-through-reshape  Transpose -> split-only Reshape -> Transpose as one view
//                        and one Transpose (the builder runs it again after the layouts);
//   7b. fuse-attention  after simplify-shapes (K's two Transposes are one by then) and after
//                        fold-matmul-scale (the scale is the MatMul's alpha);
//   7b'. simplify-shapes again: the Reshape to [B, S, H*D] after an Attention layer (which
//                        writes that shape itself) is a no-op where shapes are dynamic;
//   7c. gemm-to-matmul, fuse-matmul again, for the linear layers after the attention;
//   7d. fold-transpose-into-matmul  MatMul(A, Transpose(W)) reads W with transB; last among
//                        the linear-layer passes, which all expect B as [K, N];
//   7d'. fuse-add-layernorm  a residual Add before a LayerNormalization into it (after the
//                        fuse-matmul runs, which take residual Adds into GEMM epilogues first);
//   7e. fuse-pointwise  last of the fusions: every pattern above matches single elementwise ops
//                        (SiLU and residual Adds into convolutions, GELU, LayerNorm's pieces,
//                        attention's scale and mask), so only what none of them took is left to
//                        group into Pointwise layers;
//   7f. fuse-piecewise  a Split whose pieces go through elementwise ops into a Concat along the
//                        same axis: one Pointwise layer with pieces (after fuse-pointwise, whose
//                        groups become the pieces' programs);
//   7g. fold-transpose-into-pointwise  a Transpose read only by a Pointwise layer: that input's
//                        permutation (last: the patterns above match Transposes; the builder runs
//                        it again after the layouts, whose reformats it takes too);
//   7h. fold-transpose-into-pad  a Transpose read only by a constant-mode Pad: the Pad's
//                        input_perm (the builder runs it again after the layouts: the input
//                        reformat before the stem's channel padding);
//   8. dead-code         again: folding leaves constants and layers that fed only folded layers.
#include <algorithm>
#include <chrono>

#include "passes/pass.h"

namespace trt {

std::vector<int> countUses(const Network& net) {
  std::vector<int> uses(net.tensors().size(), 0);
  for (const Layer& l : net.layers())
    for (int i : l.inputs)
      if (i >= 0) ++uses[i];
  return uses;
}

int soleProducer(const Network& net, const std::vector<int>& uses, const std::vector<bool>& keep, int t) {
  if (t < 0 || uses[t] != 1 || net.tensor(t).isOutput) return -1;
  const int p = net.tensor(t).producer;
  return p >= 0 && keep[p] ? p : -1;
}

int foldableTranspose(const Network& net, const std::vector<int>& uses, const std::vector<bool>& keep, int t,
                      int* x, std::vector<int64_t>* perm) {
  const int ti = soleProducer(net, uses, keep, t);
  if (ti < 0) return -1;
  const Layer& tr = net.layers()[ti];
  if (tr.type != "Transpose" || tr.attrs.has("to") || tr.inputs.empty() || tr.inputs[0] < 0 ||
      tr.outputs.size() != 1)
    return -1;
  const size_t rank = net.tensor(tr.inputs[0]).shape.size();
  std::vector<int64_t> p = tr.attrs.getInts("perm", {});
  if (p.empty())
    for (size_t k = rank; k-- > 0;) p.push_back(static_cast<int64_t>(k));
  if (rank == 0 || p.size() != rank || net.tensor(tr.inputs[0]).type != net.tensor(t).type) return -1;
  *x = tr.inputs[0];
  *perm = std::move(p);
  return ti;
}

const HostTensor* floatConstant(const Network& net, int id) {
  if (id < 0 || !net.tensor(id).isConstant() || net.tensor(id).constant->type() != DataType::kFloat32)
    return nullptr;
  return net.tensor(id).constant.get();
}

Status runPassPipeline(Network& net, const PipelineOptions& options) {
  Logger& log = options.logger ? *options.logger : defaultLogger();
  if (options.optLevel <= 0) return Status::ok();
  std::vector<std::unique_ptr<Pass>> passes;
  passes.push_back(makeDeadCodePass());
  passes.push_back(makeRemoveIdentityPass());
  passes.push_back(makeCsePass());
  passes.push_back(makeConstantFoldingPass());
  passes.push_back(makeResolveShapeValuesPass());
  passes.push_back(makeCsePass());
  passes.push_back(makeDeadCodePass());
  passes.push_back(makeFoldBatchNormPass());
  passes.push_back(makeFoldPadIntoConvPass());
  passes.push_back(makeFoldConvAffinePass());
  passes.push_back(makeFuseLayerNormPass());
  passes.push_back(makeFuseGeluPass());
  passes.push_back(makeFuseConvPass());
  passes.push_back(makeFuseActivationThroughViewsPass());
  passes.push_back(makeFuseMaxPoolCascadePass());
  passes.push_back(makeGemmToMatMulPass());
  passes.push_back(makeFuseMatMulPass());
  passes.push_back(makeFoldMatMulScalePass());
  passes.push_back(makeSimplifyShapesPass());
  passes.push_back(makeFoldTransposeThroughReshapePass());
  passes.push_back(makeFuseAttentionPass());
  // The head merge's Reshape after an Attention layer, which now writes [B, S, H*D] itself.
  passes.push_back(makeSimplifyShapesPass());
  // Linear layers that read the attention's output (a view to [B*S, H*D] before a Gemm) only
  // become visible once attention is one layer: the linear-layer passes run again.
  passes.push_back(makeGemmToMatMulPass());
  passes.push_back(makeFuseMatMulPass());
  passes.push_back(makeFoldTransposeIntoMatMulPass());
  passes.push_back(makeFuseAddLayerNormPass());
  passes.push_back(makeFusePointwisePass());
  passes.push_back(makeFusePiecewisePass());
  passes.push_back(makeFoldTransposeIntoPointwisePass());
  passes.push_back(makeFoldTransposeIntoPadPass());
  passes.push_back(makeDeadCodePass());
  // Passes the builder runs outside this list (device engines only) can be disabled by name too.
  std::vector<std::unique_ptr<Pass>> outside;
  outside.push_back(makePadMatMulNPass());
  outside.push_back(makeFuseMatMulLayerNormPass());
  for (const std::string& d : options.disabled) {
    bool known = false;
    std::string names;
    for (const auto* list : {&passes, &outside})
      for (auto& p : *list) {
        known = known || d == p->name();
        if (names.find(p->name()) == std::string::npos)
          names += (names.empty() ? "" : ", ") + std::string(p->name());
      }
    if (!known)
      return makeError(StatusCode::kInvalidArgument, "unknown pass '" + d + "' (passes: " + names + ")");
  }
  for (auto& p : passes) {
    const int n0 = static_cast<int>(net.layers().size());
    if (std::find(options.disabled.begin(), options.disabled.end(), p->name()) != options.disabled.end()) {
      log.log(Severity::kVerbose, std::string("pass ") + p->name() + ": disabled");
      if (options.onPass) options.onPass(p->name(), 0.0, n0, n0, "disabled");
      continue;
    }
    size_t before = net.layers().size();
    bool changed = false;
    const auto t0 = std::chrono::steady_clock::now();
    Status st = p->run(net, changed);
    if (!st.isOk()) return st.withContext(std::string("pass ") + p->name());
    if (options.onPass)
      options.onPass(p->name(),
                     std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count(),
                     n0, static_cast<int>(net.layers().size()), changed ? "changed" : "no change");
    log.log(Severity::kVerbose, std::string("pass ") + p->name() + ": " +
                                    (changed ? "changed, layers " + std::to_string(before) + " -> " +
                                                   std::to_string(net.layers().size())
                                             : "no change"));
  }
  return net.validate();
}

}  // namespace trt
