// Pointwise: one layer for a connected group of elementwise ops (the fuse-pointwise pass).
//
// Inputs are the group's outside values (activations and constants, up to kPwMaxInputs), each
// broadcast numpy-style to the output shape. The attribute "program" holds one instruction per
// fused op as three ints [op, a, b]: instruction i computes register numInputs + i from registers a
// and b (b = -1 for a unary op); registers 0..numInputs-1 are the inputs. The last instruction's
// register is the output. "params" holds two floats per instruction (LeakyRelu/Elu alpha,
// HardSigmoid alpha and beta, Clip's bounds), and "expression" the same program as text for people
// (trtinspect). Math is float32 whatever the storage type (float32 or float16).
//
// Pieces (the fuse-piecewise pass: Split -> per-piece ops -> Concat along one axis): the output
// is cut along "piece_axis" at the exclusive ends "piece_ends" (the last is the axis's size), and
// an element of piece p takes register "piece_results"[p] (instead of the last instruction's).
// "piece_inputs" holds one int per input: -1 for an input that broadcasts over the whole output,
// p for one that broadcasts over piece p's shape (the output's with the axis cut to the piece),
// read at the element's position within the piece. Every instruction runs for every element; the
// piece inputs of other pieces are read at a clamped position (their values are not selected).
// (The pieces' instruction ranges are disjoint programs joined in one list.)
//
// Permuted inputs (fold-transpose-into-pointwise: a Transpose read only by this layer): the
// attribute "input_perms" holds, per input in order, its rank r and then r axes (r = 0: read as
// it is); the layer reads input j as Transpose(input j, perm), through strides, without the copy.
#pragma once

#include <cmath>
#include <string>
#include <vector>

#include "trt/network.h"
#include "trt/status.h"

namespace trt {

enum class PwOp : int {
  // binary
  kAdd = 0,
  kSub = 1,
  kMul = 2,
  kDiv = 3,
  kPow = 4,
  kMax = 5,
  kMin = 6,
  // unary
  kRelu = 16,
  kLeakyRelu = 17,
  kSigmoid = 18,
  kTanh = 19,
  kHardSigmoid = 20,
  kHardSwish = 21,
  kSoftplus = 22,
  kElu = 23,
  kGeluErf = 24,
  kGeluTanh = 25,
  kErf = 26,
  kSqrt = 27,
  kExp = 28,
  kLog = 29,
  kReciprocal = 30,
  kNeg = 31,
  kAbs = 32,
  kClip = 33,
};

constexpr int kPwMaxInputs = 8;
constexpr int kPwMaxInstructions = 16;
constexpr int kPwMaxPieces = 8;

struct PwInstr {
  PwOp op = PwOp::kAdd;
  int a = 0, b = -1;
  float p0 = 0.f, p1 = 0.f;
};

inline bool pwIsBinary(PwOp op) {
  return static_cast<int>(op) < 16;
}

// The op's ONNX-style name ("Add", "Sigmoid", "Gelu(tanh)"); nullptr for an unknown code.
const char* pwOpName(PwOp op);

// The code whose pwOpName is `name` ("Gelu" gives the erf form); false for none.
bool pwOpFromName(const std::string& name, PwOp& op);

// The layer's program, checked: every register read is defined before, codes are known, sizes
// within the limits.
Expected<std::vector<PwInstr>> decodePointwise(const Layer& layer, int numInputs);

// A Pointwise layer's pieces (see above); axis -1 when it has none.
struct PwPieces {
  int axis = -1;
  std::vector<int64_t> ends;    // exclusive, increasing
  std::vector<int> results;     // register per piece
  std::vector<int> inputPiece;  // per input: -1 whole, else the piece
  int64_t start(size_t p) const { return p ? ends[p - 1] : 0; }
  int64_t length(size_t p) const { return ends[p] - start(p); }
};

// The layer's pieces, checked against its inputs and program (registers defined, ends increasing,
// at most kPwMaxPieces). A layer without "piece_axis" has none.
Expected<PwPieces> decodePieces(const Layer& layer, int numInputs, int numInstructions, size_t outRank);

// Each input's permutation ("input_perms"; an empty vector: none), checked to be permutations of
// the inputs' ranks (`ranks`).
Expected<std::vector<std::vector<int>>> decodeInputPerms(const Layer& layer,
                                                         const std::vector<size_t>& ranks);
// The same for `numInputs` inputs of ranks not known yet (a backend configuring the layer): each
// permutation checked against the rank it states; the caller checks the bound inputs' ranks.
Expected<std::vector<std::vector<int>>> decodeInputPerms(const Layer& layer, size_t numInputs);
// Writes `perms` (one per input; empty: none) as the layer's "input_perms".
void setInputPerms(Layer& layer, const std::vector<std::vector<int>>& perms);

// The element strides, over `target`'s dims, at which a layer reads a dense input of dims `in`
// through `perm` (empty: none), broadcast numpy-style (0 along broadcast dims).
std::vector<int64_t> pointwiseInputStrides(const Dims& in, const std::vector<int>& perm, const Dims& target);

class InferContext;
// Shape inference: the inputs broadcast to the output; one float type throughout.
Status inferPointwise(InferContext& c);

// The host's reference arithmetic (the CPU backend; the CUDA kernel mirrors it).
inline float pwApply(PwOp op, float a, float b, float p0, float p1) {
  switch (op) {
    case PwOp::kAdd:
      return a + b;
    case PwOp::kSub:
      return a - b;
    case PwOp::kMul:
      return a * b;
    case PwOp::kDiv:
      return a / b;
    case PwOp::kPow:
      return b == 2.f ? a * a : std::pow(a, b);
    case PwOp::kMax:
      return std::isnan(a) || std::isnan(b) ? NAN : (a > b ? a : b);
    case PwOp::kMin:
      return std::isnan(a) || std::isnan(b) ? NAN : (a < b ? a : b);
    case PwOp::kRelu:
      return a > 0.f ? a : 0.f;
    case PwOp::kLeakyRelu:
      return a >= 0.f ? a : p0 * a;
    case PwOp::kSigmoid:
      return 1.f / (1.f + std::exp(-a));
    case PwOp::kTanh:
      return std::tanh(a);
    case PwOp::kHardSigmoid:
      return std::fmax(0.f, std::fmin(1.f, p0 * a + p1));
    case PwOp::kHardSwish:
      return a * std::fmax(0.f, std::fmin(1.f, a / 6.f + 0.5f));
    case PwOp::kSoftplus:
      return a > 20.f ? a : std::log1p(std::exp(a));
    case PwOp::kElu:
      return a >= 0.f ? a : p0 * (std::exp(a) - 1.f);
    case PwOp::kGeluErf:
      return 0.5f * a * (1.f + std::erf(a * 0.70710678118654752f));
    case PwOp::kGeluTanh:
      return 0.5f * a * (1.f + std::tanh(0.7978845608028654f * (a + 0.044715f * a * a * a)));
    case PwOp::kErf:
      return std::erf(a);
    case PwOp::kSqrt:
      return std::sqrt(a);
    case PwOp::kExp:
      return std::exp(a);
    case PwOp::kLog:
      return std::log(a);
    case PwOp::kReciprocal:
      return 1.f / a;
    case PwOp::kNeg:
      return -a;
    case PwOp::kAbs:
      return std::fabs(a);
    case PwOp::kClip:
      return std::isnan(a) ? a : std::fmin(std::fmax(a, p0), p1);
  }
  return a;
}

}  // namespace trt
