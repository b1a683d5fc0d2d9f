// ONNX importers for elementwise ops (see ir/ops/elementwise.cpp for their inference).
#include "onnx/importer.h"

namespace trt {
namespace onnximport {
namespace {

Status fixCast(NodeContext& c) {
  if (!c.attrs().has("to")) return c.invalid("Cast needs attribute 'to'");
  TRT_ASSIGN_OR_RETURN(DataType to, dataTypeFromOnnx(static_cast<int>(c.attrs().getInt("to"))));
  c.attrs().set("to", std::string(dataTypeName(to)));
  c.attrs().erase("saturate");
  return Status::ok();
}

Status fixDropout(NodeContext& c) {
  // Inference: the output is the input. A constant training_mode must be false.
  if (c.hasInput(2)) {
    const HostTensor* t = c.constInput(2);
    if (!t) return c.unsupported("a non-constant training_mode");
    if (t->numel() && t->intAt(0)) return c.unsupported("training_mode=true");
  }
  c.truncateInputs(1);
  c.attrs().erase("seed");
  c.attrs().erase("ratio");
  return Status::ok();
}

}  // namespace

void registerElementwiseImporters(ImporterTable& t) {
  for (const char* op : {"Relu", "Sigmoid", "Tanh", "HardSwish", "Softplus", "Erf", "Sqrt", "Exp", "Log", "Neg",
                         "Abs", "Reciprocal", "Not", "IsNaN", "Identity", "Clip", "Add", "Sub", "Mul", "Div",
                         "Max", "Min", "Equal", "Less", "Greater", "GreaterOrEqual", "LessOrEqual", "And",
                         "Or", "Where", "Pow"})
    t.add(op, {});
  t.add("LeakyRelu", {"alpha"});
  t.add("Elu", {"alpha"});
  t.add("HardSigmoid", {"alpha", "beta"});
  t.add("Gelu", {"approximate"}, [](NodeContext& c) { return c.requireOneOf("approximate", "none", {"none", "tanh"}); });
  t.add("Cast", {"to", "saturate"}, fixCast);
  t.add("Dropout", {"ratio", "seed"}, fixDropout);
}

}  // namespace onnximport
}  // namespace trt
