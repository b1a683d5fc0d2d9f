// Pointwise: program decoding and shape inference (see pointwise.h).
#include "ir/ops/pointwise.h"

#include <algorithm>

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

Expected<PwPieces> decodePieces(const Layer& layer, int numInputs, int numInstructions, size_t outRank) {
  PwPieces pc;
  if (!layer.attrs.has("piece_axis")) return pc;
  auto bad = [&](const std::string& why) {
    return makeError(StatusCode::kCorrupt, "Pointwise layer '" + layer.name + "': " + why);
  };
  const int64_t axis = layer.attrs.getInt("piece_axis", -1);
  pc.ends = layer.attrs.getInts("piece_ends");
  const std::vector<int64_t> results = layer.attrs.getInts("piece_results"),
                             inputs = layer.attrs.getInts("piece_inputs");
  if (axis < 0 || static_cast<size_t>(axis) >= outRank)
    return bad("piece_axis " + std::to_string(axis) + " outside the output's rank " +
               std::to_string(outRank));
  pc.axis = static_cast<int>(axis);
  if (pc.ends.empty() || pc.ends.size() > static_cast<size_t>(kPwMaxPieces) ||
      results.size() != pc.ends.size())
    return bad("piece_ends and piece_results need 1..8 entries each, one per piece");
  for (size_t p = 0; p < pc.ends.size(); ++p)
    if (pc.ends[p] <= pc.start(p)) return bad("piece_ends must increase from above 0");
  for (int64_t r : results) {
    if (r < 0 || r >= numInputs + numInstructions) return bad("piece result register " + std::to_string(r));
    pc.results.push_back(static_cast<int>(r));
  }
  if (inputs.size() != static_cast<size_t>(numInputs)) return bad("piece_inputs needs one entry per input");
  for (int64_t p : inputs) {
    if (p < -1 || p >= static_cast<int64_t>(pc.ends.size()))
      return bad("piece input of piece " + std::to_string(p));
    pc.inputPiece.push_back(static_cast<int>(p));
  }
  return pc;
}

namespace {

// decodeInputPerms over `n` inputs; `ranks` (when given) are the inputs' ranks to match.
Expected<std::vector<std::vector<int>>> decodePerms(const Layer& layer, size_t n,
                                                    const std::vector<size_t>* ranks) {
  std::vector<std::vector<int>> perms(n);
  if (!layer.attrs.has("input_perms")) return perms;
  const std::vector<int64_t> v = layer.attrs.getInts("input_perms");
  auto bad = [&](const std::string& why) {
    return makeError(StatusCode::kCorrupt, "Pointwise layer '" + layer.name + "': input_perms " + why);
  };
  size_t at = 0;
  for (size_t j = 0; j < n; ++j) {
    if (at >= v.size()) return bad("ends before input " + std::to_string(j));
    const int64_t r = v[at++];
    if (r == 0) continue;
    if (r < 0 || at + r > v.size() || (ranks && r != static_cast<int64_t>((*ranks)[j])))
      return bad("for input " + std::to_string(j) + " does not match its rank");
    std::vector<bool> seen(r, false);
    for (int64_t k = 0; k < r; ++k) {
      const int64_t a = v[at++];
      if (a < 0 || a >= r || seen[a]) return bad("for input " + std::to_string(j) + " is not a permutation");
      seen[a] = true;
      perms[j].push_back(static_cast<int>(a));
    }
  }
  if (at != v.size()) return bad("has " + std::to_string(v.size() - at) + " ints too many");
  return perms;
}

}  // namespace

Expected<std::vector<std::vector<int>>> decodeInputPerms(const Layer& layer,
                                                         const std::vector<size_t>& ranks) {
  return decodePerms(layer, ranks.size(), &ranks);
}

Expected<std::vector<std::vector<int>>> decodeInputPerms(const Layer& layer, size_t numInputs) {
  return decodePerms(layer, numInputs, nullptr);
}

void setInputPerms(Layer& layer, const std::vector<std::vector<int>>& perms) {
  std::vector<int64_t> flat;
  for (const auto& p : perms) {
    flat.push_back(static_cast<int64_t>(p.size()));
    flat.insert(flat.end(), p.begin(), p.end());
  }
  layer.attrs.set("input_perms", flat);
}

std::vector<int64_t> pointwiseInputStrides(const Dims& in, const std::vector<int>& perm, const Dims& target) {
  std::vector<int64_t> dense(in.size());
  int64_t st = 1;
  for (size_t k = in.size(); k-- > 0;) {
    dense[k] = st;
    st *= in[k];
  }
  std::vector<int64_t> pd = in, ps = dense;
  if (!perm.empty())
    for (size_t k = 0; k < perm.size(); ++k) {
      pd[k] = in[perm[k]];
      ps[k] = dense[perm[k]];
    }
  std::vector<int64_t> s(target.size(), 0);
  for (int i = static_cast<int>(pd.size()) - 1, o = static_cast<int>(target.size()) - 1; i >= 0 && o >= 0;
       --i, --o)
    s[o] = pd[i] == 1 ? 0 : ps[i];
  return s;
}

Status inferPointwise(InferContext& c) {
  std::vector<Shape> shapes;
  for (int i = 0; i < c.numInputs(); ++i) {
    if (!c.hasInput(i)) return c.error("Pointwise inputs cannot be absent");
    if (c.type(i) != c.type(0)) return c.error("Pointwise input types differ");
  }
  if (c.type(0) != DataType::kFloat32 && c.type(0) != DataType::kFloat16)
    return c.unsupported(std::string("input type ") + dataTypeName(c.type(0)) + " (floating point only)");
  TRT_ASSIGN_OR_RETURN(std::vector<PwInstr> prog, decodePointwise(c.layer(), c.numInputs()));
  std::vector<size_t> ranks;
  for (int i = 0; i < c.numInputs(); ++i) ranks.push_back(c.shape(i).size());
  TRT_ASSIGN_OR_RETURN(std::vector<std::vector<int>> perms, decodeInputPerms(c.layer(), ranks));
  auto shapeOf = [&](int i) {  // input i as the layer reads it
    if (perms[i].empty()) return c.shape(i);
    Shape s(perms[i].size());
    for (size_t k = 0; k < perms[i].size(); ++k) s[k] = c.shape(i)[perms[i][k]];
    return s;
  };
  if (!c.layer().attrs.has("piece_axis")) {
    for (int i = 0; i < c.numInputs(); ++i) shapes.push_back(shapeOf(i));
    TRT_ASSIGN_OR_RETURN(Shape s, broadcastShapes(shapes));
    c.setOutput(0, c.type(0), s);
    return Status::ok();
  }
  // Pieces: the whole inputs give the output's shape (the axis must be static and end where the
  // last piece does); each piece input broadcasts to its piece's shape.
  size_t rank = 0;
  for (int i = 0; i < c.numInputs(); ++i) rank = std::max(rank, shapeOf(i).size());
  TRT_ASSIGN_OR_RETURN(PwPieces pc,
                       decodePieces(c.layer(), c.numInputs(), static_cast<int>(prog.size()), rank));
  for (int i = 0; i < c.numInputs(); ++i)
    if (pc.inputPiece[i] < 0) shapes.push_back(shapeOf(i));
  if (shapes.empty()) return c.error("a Pointwise layer with pieces needs an input over the whole output");
  TRT_ASSIGN_OR_RETURN(Shape s, broadcastShapes(shapes));
  if (s.size() != rank || !s[pc.axis].isStatic() || s[pc.axis].value != pc.ends.back())
    return c.error("the whole inputs' axis " + std::to_string(pc.axis) +
                   " does not end where the last piece does");
  for (int i = 0; i < c.numInputs(); ++i) {
    if (pc.inputPiece[i] < 0) continue;
    Shape piece = s;
    piece[pc.axis] = Dim(pc.length(pc.inputPiece[i]));
    TRT_ASSIGN_OR_RETURN(Shape b, broadcastShapes({piece, shapeOf(i)}));
    if (b.size() != piece.size() || !(b[pc.axis].isStatic() && b[pc.axis].value == piece[pc.axis].value))
      return c.error("input " + std::to_string(i) + " does not broadcast to its piece");
    for (size_t d = 0; d < b.size(); ++d)
      if (b[d].isStatic() != piece[d].isStatic() || (b[d].isStatic() && b[d].value != piece[d].value))
        return c.error("input " + std::to_string(i) + " does not broadcast to its piece");
  }
  c.setOutput(0, c.type(0), s);
  return Status::ok();
}

}  // namespace trt
