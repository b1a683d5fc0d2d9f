// ONNX importers for normalisation, softmax and the matrix ops.
#include "onnx/importer.h"

namespace trt {
namespace onnximport {
namespace {

Status fixSoftmax(NodeContext& c) {
  // Before opset 13, Softmax coerced its input to 2-D at `axis` (default 1): the reduction spans
  // every dim from axis on. From 13 it runs along one axis (default -1).
  if (c.opset() < 13) {
    c.attrs().set("axis", c.attrs().getInt("axis", 1));
    c.attrs().set("coerce_2d", int64_t{1});
  }
  return Status::ok();
}

}  // namespace

void registerNormMatmulImporters(ImporterTable& t) {
  t.add("BatchNormalization", {"epsilon", "momentum", "training_mode"}, [](NodeContext& c) {
    TRT_RETURN_IF_ERROR(c.requireIntIn("training_mode", 0, {0}));
    if (c.layer().outputs.size() > 1) return c.unsupported("BatchNormalization training outputs");
    c.attrs().erase("momentum");
    return Status::ok();
  });
  t.add("LayerNormalization", {"axis", "epsilon", "stash_type"},
        [](NodeContext& c) { return c.requireIntIn("stash_type", 1, {1}); });
  t.add("Softmax", {"axis"}, fixSoftmax);
  t.add("LogSoftmax", {"axis"}, fixSoftmax);
  t.add("Gemm", {"alpha", "beta", "transA", "transB"});
  t.add("MatMul", {});
  t.add("Einsum", {"equation"});
}

}  // namespace onnximport
}  // namespace trt
