// Shape and type inference for elementwise ops: unary activations and math, broadcasting binary
// and comparison ops, Where, Clip, Cast, Identity and Dropout.
#include "ir/op_registry.h"
#include "ir/ops/pointwise.h"

namespace trt {
namespace {

Status sameAsInput(InferContext& c) {
  c.setOutput(0, c.type(0), c.shape(0));
  return Status::ok();
}

Status requireFloat(InferContext& c) {
  if (c.type(0) != DataType::kFloat32 && c.type(0) != DataType::kFloat16)
    return c.unsupported(std::string("input type ") + dataTypeName(c.type(0)) + " (floating point only)");
  return sameAsInput(c);
}

Status broadcastInputs(InferContext& c, DataType outType) {
  std::vector<Shape> shapes;
  for (int i = 0; i < c.numInputs(); ++i) {
    if (!c.hasInput(i)) continue;
    shapes.push_back(c.shape(i));
  }
  for (int i = 1; i < c.numInputs(); ++i)
    if (c.hasInput(i) && c.type(i) != c.type(0) && c.layer().type != "Pow")
      return c.error(std::string("input types differ: ") + dataTypeName(c.type(0)) + " vs " +
                     dataTypeName(c.type(i)));
  TRT_ASSIGN_OR_RETURN(Shape s, broadcastShapes(shapes));
  c.setOutput(0, outType, s);
  return Status::ok();
}

}  // namespace

void registerElementwiseOps(OpRegistry& r) {
  for (const char* op : {"Relu", "LeakyRelu", "Sigmoid", "Tanh", "HardSigmoid", "HardSwish", "Softplus", "Elu",
                         "Gelu", "Erf", "Sqrt", "Exp", "Log", "Reciprocal"})
    r.add(op, 1, 1, 1, 1, requireFloat);
  for (const char* op : {"Neg", "Abs", "Identity"}) r.add(op, 1, 1, 1, 1, sameAsInput);
  r.add("Clip", 1, 3, 1, 1, sameAsInput);
  r.add("Not", 1, 1, 1, 1, [](InferContext& c) {
    if (c.type(0) != DataType::kBool) return c.error("Not needs a bool input");
    return sameAsInput(c);
  });
  r.add("IsNaN", 1, 1, 1, 1, [](InferContext& c) {
    c.setOutput(0, DataType::kBool, c.shape(0));
    return Status::ok();
  });
  r.add("Dropout", 1, 3, 1, 2, [](InferContext& c) {
    c.setOutput(0, c.type(0), c.shape(0));
    if (c.numOutputs() > 1) c.setOutput(1, DataType::kBool, c.shape(0));
    return Status::ok();
  });
  r.add("Cast", 1, 1, 1, 1, [](InferContext& c) {
    TRT_ASSIGN_OR_RETURN(DataType to, dataTypeFromName(c.attrs().getString("to")));
    c.setOutput(0, to, c.shape(0));
    return Status::ok();
  });
  for (const char* op : {"Add", "Sub", "Mul", "Div", "Pow"})
    r.add(op, 2, 2, 1, 1, [](InferContext& c) { return broadcastInputs(c, c.type(0)); });
  for (const char* op : {"Max", "Min"})
    r.add(op, 1, 64, 1, 1, [](InferContext& c) { return broadcastInputs(c, c.type(0)); });
  for (const char* op : {"Equal", "Less", "Greater", "GreaterOrEqual", "LessOrEqual"})
    r.add(op, 2, 2, 1, 1, [](InferContext& c) { return broadcastInputs(c, DataType::kBool); });
  for (const char* op : {"And", "Or"})
    r.add(op, 2, 2, 1, 1, [](InferContext& c) {
      if (c.type(0) != DataType::kBool) return c.error("And/Or need bool inputs");
      return broadcastInputs(c, DataType::kBool);
    });
  r.add("Pointwise", 1, kPwMaxInputs, 1, 1, inferPointwise);
  r.add("Where", 3, 3, 1, 1, [](InferContext& c) {
    if (c.type(0) != DataType::kBool) return c.error("Where's condition must be bool");
    if (c.type(1) != c.type(2)) return c.error("Where's X and Y types differ");
    TRT_ASSIGN_OR_RETURN(Shape s, broadcastShapes({c.shape(0), c.shape(1), c.shape(2)}));
    c.setOutput(0, c.type(1), s);
    return Status::ok();
  });
}

}  // namespace trt
