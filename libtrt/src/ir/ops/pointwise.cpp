// Pointwise: program decoding and shape inference (see pointwise.h).
#include "ir/ops/pointwise.h"

#include "ir/op_registry.h"

namespace trt {

const char* pwOpName(PwOp op) {
  switch (op) {
    case PwOp::kAdd:
      return "Add";
    case PwOp::kSub:
      return "Sub";
    case PwOp::kMul:
      return "Mul";
    case PwOp::kDiv:
      return "Div";
    case PwOp::kPow:
      return "Pow";
    case PwOp::kMax:
      return "Max";
    case PwOp::kMin:
      return "Min";
    case PwOp::kRelu:
      return "Relu";
    case PwOp::kLeakyRelu:
      return "LeakyRelu";
    case PwOp::kSigmoid:
      return "Sigmoid";
    case PwOp::kTanh:
      return "Tanh";
    case PwOp::kHardSigmoid:
      return "HardSigmoid";
    case PwOp::kHardSwish:
      return "HardSwish";
    case PwOp::kSoftplus:
      return "Softplus";
    case PwOp::kElu:
      return "Elu";
    case PwOp::kGeluErf:
      return "Gelu";
    case PwOp::kGeluTanh:
      return "Gelu(tanh)";
    case PwOp::kErf:
      return "Erf";
    case PwOp::kSqrt:
      return "Sqrt";
    case PwOp::kExp:
      return "Exp";
    case PwOp::kLog:
      return "Log";
    case PwOp::kReciprocal:
      return "Reciprocal";
    case PwOp::kNeg:
      return "Neg";
    case PwOp::kAbs:
      return "Abs";
    case PwOp::kClip:
      return "Clip";
  }
  return nullptr;
}

bool pwOpFromName(const std::string& name, PwOp& op) {
  for (int code = 0; code <= static_cast<int>(PwOp::kClip); ++code) {
    const char* n = pwOpName(static_cast<PwOp>(code));
    if (n && name == n) {
      op = static_cast<PwOp>(code);
      return true;
    }
  }
  return false;
}

Expected<std::vector<PwInstr>> decodePointwise(const Layer& layer, int numInputs) {
  const std::vector<int64_t> code = layer.attrs.getInts("program");
  const std::vector<float> params = layer.attrs.getFloats("params");
  auto bad = [&](const std::string& why) {
    return makeError(StatusCode::kCorrupt, "Pointwise layer '" + layer.name + "': " + why);
  };
  if (numInputs < 1 || numInputs > kPwMaxInputs) return bad(std::to_string(numInputs) + " inputs (1..8)");
  if (code.empty() || code.size() % 3 || code.size() / 3 > kPwMaxInstructions)
    return bad("program of " + std::to_string(code.size()) + " ints (3 per instruction, 1..16 instructions)");
  const size_t n = code.size() / 3;
  if (params.size() != 2 * n) return bad("params must hold 2 floats per instruction");
  std::vector<PwInstr> prog(n);
  for (size_t i = 0; i < n; ++i) {
    PwInstr& p = prog[i];
    p.op = static_cast<PwOp>(code[3 * i]);
    if (!pwOpName(p.op)) return bad("unknown op code " + std::to_string(code[3 * i]));
    const int64_t defined = numInputs + static_cast<int64_t>(i);  // registers 0..defined-1 exist
    const int64_t a = code[3 * i + 1], b = code[3 * i + 2];
    if (a < 0 || a >= defined)
      return bad("instruction " + std::to_string(i) + " reads register " + std::to_string(a));
    if (pwIsBinary(p.op) ? (b < 0 || b >= defined) : b != -1)
      return bad("instruction " + std::to_string(i) + " has operand b = " + std::to_string(b));
    p.a = static_cast<int>(a);
    p.b = static_cast<int>(b);
    p.p0 = params[2 * i];
    p.p1 = params[2 * i + 1];
  }
  return prog;
}

Status inferPointwise(InferContext& c) {
  std::vector<Shape> shapes;
  for (int i = 0; i < c.numInputs(); ++i) {
    if (!c.hasInput(i)) return c.error("Pointwise inputs cannot be absent");
    if (c.type(i) != c.type(0)) return c.error("Pointwise input types differ");
    shapes.push_back(c.shape(i));
  }
  if (c.type(0) != DataType::kFloat32 && c.type(0) != DataType::kFloat16)
    return c.unsupported(std::string("input type ") + dataTypeName(c.type(0)) + " (floating point only)");
  TRT_RETURN_IF_ERROR(decodePointwise(c.layer(), c.numInputs()).status());
  TRT_ASSIGN_OR_RETURN(Shape s, broadcastShapes(shapes));
  c.setOutput(0, c.type(0), s);
  return Status::ok();
}

}  // namespace trt
