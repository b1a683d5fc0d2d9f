// Shape inference for normalisation (BatchNormalization, LayerNormalization, Softmax, LogSoftmax)
// and the matrix ops (Gemm, MatMul, Einsum).
#include <algorithm>

#include "ir/op_registry.h"
#include "ir/ops/activation.h"
#include "ir/ops/einsum.h"

namespace trt {
namespace {

Status requireFloat(InferContext& c, int i) {
  if (c.type(i) != DataType::kFloat32 && c.type(i) != DataType::kFloat16)
    return c.unsupported(std::string("input type ") + dataTypeName(c.type(i)) + " (floating point only)");
  return Status::ok();
}

// A matrix product's output has its inputs' type unless the builder asked for another
// ("out_dtype": FP16 inputs with an FP32 output).
DataType outputType(const InferContext& c) {
  const std::string t = c.attrs().getString("out_dtype");
  if (t.empty()) return c.type(0);
  auto dt = dataTypeFromName(t);
  return dt.isOk() ? *dt : c.type(0);
}

Status inferMatMul(InferContext& c) {
  TRT_RETURN_IF_ERROR(requireFloat(c, 0));
  Shape a = c.shape(0), b = c.shape(1);
  if (a.empty() || b.empty()) return c.error("MatMul inputs must have rank >= 1");
  // Internal attribute transB (set by fold-transpose-into-matmul): B is stored with its last two
  // dims swapped, as a tied embedding matrix is.
  if (c.attrs().getInt("transB", 0)) {
    if (b.size() < 2) return c.error("MatMul with transB needs B of rank >= 2");
    std::swap(b[b.size() - 1], b[b.size() - 2]);
  }
  bool aVec = a.size() == 1, bVec = b.size() == 1;
  if (aVec) a.insert(a.begin(), Dim(1));
  if (bVec) b.push_back(Dim(1));
  const Dim& k1 = a.back();
  const Dim& k2 = b[b.size() - 2];
  if (k1.isStatic() && k2.isStatic() && k1.value != k2.value)
    return c.error("MatMul inner dims differ: " + shapeToString(c.shape(0)) + " x " +
                   shapeToString(c.shape(1)));
  Shape ba(a.begin(), a.end() - 2), bb(b.begin(), b.end() - 2);
  TRT_ASSIGN_OR_RETURN(Shape batch, broadcastShapes({ba, bb}));
  Shape out = batch;
  if (!aVec) out.push_back(a[a.size() - 2]);
  if (!bVec) out.push_back(b.back());
  // Internal attribute columns (set by pad-matmul-n): B holds zero columns past the first
  // `columns`, which alone form the output.
  if (const int64_t cols = c.attrs().getInt("columns", 0); cols > 0) {
    if (bVec || !b.back().isStatic() || cols > b.back().value)
      return c.error("MatMul columns " + std::to_string(cols) + " past B's " + shapeToString(c.shape(1)));
    out.back() = Dim(cols);
  }
  c.setOutput(0, outputType(c), out);
  return Status::ok();
}

// FusedMatMul: Y = activation(MatMul(A, B) + bias + Z); bias has one value per column of Y (the
// last dim), Z has Y's shape.
Status inferFusedMatMul(InferContext& c) {
  TRT_RETURN_IF_ERROR(inferMatMul(c));
  const Shape out = c.outputs()[0].shape;
  if (out.empty()) return c.error("FusedMatMul needs a matrix output");
  if (c.hasInput(2) && isStatic(c.shape(2)) && out.back().isStatic() &&
      volume(toDims(c.shape(2))) != out.back().value)
    return c.error("the bias must have one value per output column");
  if (c.hasInput(3)) {
    const Shape& z = c.shape(3);
    bool same = z.size() == out.size();
    for (size_t i = 0; same && i < z.size(); ++i)
      same = !(z[i].isStatic() && out[i].isStatic() && z[i].value != out[i].value);
    if (!same)
      return c.error("the residual input Z " + shapeToString(z) + " must have the output's shape " +
                     shapeToString(out));
  }
  TRT_ASSIGN_OR_RETURN(ActivationSpec act, activationOf(c.attrs()));
  (void)act;
  return Status::ok();
}

// Attention (internal, made by fuse-attention): multi-head scaled dot-product attention on
// [B, S, H*D] activations.
//   inputs: 0 Q [B, Sq, H*D] (or, with packed = 1, QKV [B, S, 3*H*D]), 1 K [B, Sk, H*D], 2 V [B, Sk, H*D]
//           (absent when packed), 3 additive mask, 4 bool mask (true = keep, else mask_fill); both
//           optional and broadcastable to [B, H, Sq, Sk]
//   attrs:  num_heads, head_size, scale, packed, mask_fill
//   output: [B, Sq, H*D] = per head softmax(scale Q K^T + mask) V
Status inferAttention(InferContext& c) {
  TRT_RETURN_IF_ERROR(requireFloat(c, 0));
  const int64_t h = c.attrs().getInt("num_heads", 0), d = c.attrs().getInt("head_size", 0);
  const bool packed = c.attrs().getInt("packed", 0) != 0;
  if (h <= 0 || d <= 0) return c.error("Attention needs num_heads and head_size");
  const Shape& q = c.shape(0);
  if (q.size() != 3) return c.error("Attention's Q must be [batch, seq, heads*head_size]");
  const int64_t width = (packed ? 3 : 1) * h * d;
  if (q[2].isStatic() && q[2].value != width)
    return c.error("Attention's Q width " + std::to_string(q[2].value) + " != " + std::to_string(width));
  if (!packed) {
    if (!c.hasInput(1) || !c.hasInput(2)) return c.error("Attention needs K and V unless packed");
    for (int i : {1, 2}) {
      const Shape& k = c.shape(i);
      if (k.size() != 3 || (k[2].isStatic() && k[2].value != h * d))
        return c.error("Attention's K and V must be [batch, seq, heads*head_size]");
    }
  }
  for (int i : {3, 4})
    if (c.hasInput(i) && c.rank(i) > 4) return c.error("Attention masks must have rank <= 4");
  if (c.hasInput(4) && c.type(4) != DataType::kBool)
    return c.error("Attention's input 4 must be a bool mask");
  // Inputs 5-7: the Reshape targets that split Q, K and V into heads in the source graph, and 8
  // the one that merged them back; whenever their values are known (always at run time) they must
  // mean [B, S, H, D] and [B, S, H*D], or the fusion's reading of the graph was wrong.
  for (int i = 5; i <= 8; ++i) {
    const HostTensor* t = c.value(i);
    if (!t) continue;
    const Shape& src = i == 8 || i == 5 || packed ? q : c.shape(i - 5);
    if (!isStatic(src)) continue;
    const int64_t b = src[0].value, sq = src[1].value;
    const std::vector<int64_t> want =
        i == 8 ? std::vector<int64_t>{b, sq, h * d} : std::vector<int64_t>{b, sq, h, d};
    const std::vector<int64_t> in =
        i == 8 ? std::vector<int64_t>{b, sq, h, d} : std::vector<int64_t>{b, sq, h * d};
    std::vector<int64_t> got;
    int64_t known = 1, minus = -1, total = 1;
    for (int64_t v : in) total *= v;
    for (int64_t k = 0; k < t->numel(); ++k) {
      int64_t v = t->intAt(k);
      if (v == 0 && k < static_cast<int64_t>(in.size())) v = in[k];
      if (v == -1)
        minus = k;
      else
        known *= v;
      got.push_back(v);
    }
    if (minus >= 0 && known > 0) got[minus] = total / known;
    if (got != want)
      return c.error("the fused attention's head " + std::string(i == 8 ? "merge" : "split") +
                     " does not match the source graph's Reshape for these shapes");
  }
  c.setOutput(0, c.type(0), Shape{q[0], q[1], Dim(h * d)});
  return Status::ok();
}

Status inferGemm(InferContext& c) {
  TRT_RETURN_IF_ERROR(requireFloat(c, 0));
  const Shape &a = c.shape(0), &b = c.shape(1);
  if (a.size() != 2 || b.size() != 2) return c.error("Gemm inputs must be 2-D");
  bool ta = c.attrs().getInt("transA", 0), tb = c.attrs().getInt("transB", 0);
  Dim m = ta ? a[1] : a[0], k1 = ta ? a[0] : a[1];
  Dim k2 = tb ? b[1] : b[0], n = tb ? b[0] : b[1];
  if (k1.isStatic() && k2.isStatic() && k1.value != k2.value)
    return c.error("Gemm inner dims differ: " + shapeToString(a) + " x " + shapeToString(b));
  if (c.hasInput(2)) {
    auto bs = broadcastShapes({c.shape(2), Shape{m, n}});
    if (!bs.isOk() || bs->size() != 2) return c.error("Gemm's C does not broadcast to [M,N]");
  }
  c.setOutput(0, outputType(c), Shape{m, n});
  return Status::ok();
}

Status inferEinsum(InferContext& c) {
  TRT_ASSIGN_OR_RETURN(EinsumSpec spec, parseEinsum(c.attrs().getString("equation"), c.numInputs()));
  std::map<char, Dim> sizes;
  for (int i = 0; i < c.numInputs(); ++i) {
    TRT_RETURN_IF_ERROR(requireFloat(c, i));
    const std::string& labels = spec.inputs[i];
    if (labels.size() != c.shape(i).size())
      return c.error("Einsum operand " + std::to_string(i) + " has rank " +
                     std::to_string(c.shape(i).size()) + " but the equation gives " +
                     std::to_string(labels.size()) + " labels");
    for (size_t k = 0; k < labels.size(); ++k) {
      const Dim& d = c.shape(i)[k];
      auto it = sizes.find(labels[k]);
      if (it == sizes.end() || (it->second.isStatic() && it->second.value == 1)) {
        sizes[labels[k]] = d;
      } else if (d.isStatic() && it->second.isStatic() && d.value != it->second.value && d.value != 1) {
        return c.error(std::string("Einsum label '") + labels[k] + "' has two sizes");
      }
    }
  }
  Shape out;
  for (char l : spec.output) out.push_back(sizes[l]);
  c.setOutput(0, c.type(0), out);
  return Status::ok();
}

}  // namespace

void registerNormOps(OpRegistry& r) {
  r.add("BatchNormalization", 5, 5, 1, 1, [](InferContext& c) {
    TRT_RETURN_IF_ERROR(requireFloat(c, 0));
    if (c.rank(0) < 2) return c.error("BatchNormalization needs rank >= 2");
    c.setOutput(0, c.type(0), c.shape(0));
    return Status::ok();
  });
  r.add("LayerNormalization", 2, 3, 1, 3, [](InferContext& c) {
    TRT_RETURN_IF_ERROR(requireFloat(c, 0));
    TRT_ASSIGN_OR_RETURN(int axis, normalizeAxis(c.attrs().getInt("axis", -1), c.rank(0)));
    c.setOutput(0, c.type(0), c.shape(0));
    Shape stat = c.shape(0);
    for (size_t i = axis; i < stat.size(); ++i) stat[i] = Dim(1);
    for (int k = 1; k < c.numOutputs(); ++k) c.setOutput(k, DataType::kFloat32, stat);
    return Status::ok();
  });
  // AddLayerNorm (internal, fuse-add-layernorm): S = X + R, Y = LayerNormalization(S, Scale, Bias);
  // inputs X, R, Scale, [Bias]; outputs Y and, when other layers read the sum, S. R repeats along
  // X's leading dims (its shape, right-aligned, is X's with leading dims 1 or absent).
  r.add("AddLayerNorm", 3, 4, 1, 2, [](InferContext& c) {
    TRT_RETURN_IF_ERROR(requireFloat(c, 0));
    TRT_RETURN_IF_ERROR(normalizeAxis(c.attrs().getInt("axis", -1), c.rank(0)).status());
    const Shape &x = c.shape(0), &rs = c.shape(1);
    if (rs.size() > x.size()) return c.error("AddLayerNorm's R has more dims than X");
    bool leading = true;  // still in R's leading 1s
    for (size_t i = 0; i < rs.size(); ++i) {
      const Dim &rd = rs[i], &xd = x[x.size() - rs.size() + i];
      if (leading && rd.isStatic() && rd.value == 1 && !(xd.isStatic() && xd.value == 1)) continue;
      leading = false;
      if (rd.isStatic() && xd.isStatic() && rd.value != xd.value)
        return c.error("AddLayerNorm's R " + shapeToString(rs) + " does not repeat along X " +
                       shapeToString(x));
    }
    c.setOutput(0, c.type(0), x);
    if (c.numOutputs() > 1) c.setOutput(1, c.type(0), x);
    return Status::ok();
  });
  for (const char* op : {"Softmax", "LogSoftmax"})
    r.add(op, 1, 1, 1, 1, [](InferContext& c) {
      TRT_RETURN_IF_ERROR(requireFloat(c, 0));
      TRT_RETURN_IF_ERROR(normalizeAxis(c.attrs().getInt("axis", -1), c.rank(0)).status());
      c.setOutput(0, c.type(0), c.shape(0));
      return Status::ok();
    });
}

// MatMulLayerNorm (internal, fuse-matmul-layernorm, device engines): a linear layer whose sum
// goes straight into a LayerNormalization over its last axis.
//   inputs: 0 A, 1 B (as MatMul, with transB), 2 bias [N] (optional: -1), 3 residual Z (the
//           output's shape; optional), 4 Scale [N], 5 LayerNorm bias [N] (optional)
//   attrs:  FusedMatMul's (transB, alpha; no activation), epsilon
//   outputs: 0 Y = LayerNormalization(S), S = alpha A B + bias + Z; 1 S (when other layers read it)
Status inferMatMulLayerNorm(InferContext& c) {
  TRT_RETURN_IF_ERROR(inferFusedMatMul(c));
  const Shape out = c.outputs()[0].shape;
  if (out.back().isStatic())
    for (int k : {4, 5})
      if (c.hasInput(k) && isStatic(c.shape(k)) && volume(toDims(c.shape(k))) != out.back().value)
        return c.error("MatMulLayerNorm's scale and bias need one value per output column");
  if (c.numOutputs() > 1) c.setOutput(1, c.outputs()[0].type, out);
  return Status::ok();
}

void registerMatmulOps(OpRegistry& r) {
  r.add("MatMul", 2, 2, 1, 1, inferMatMul);
  r.add("FusedMatMul", 2, 4, 1, 1, inferFusedMatMul);
  r.add("MatMulLayerNorm", 5, 6, 1, 2, inferMatMulLayerNorm);
  r.add("Attention", 1, 9, 1, 1, inferAttention);
  r.setShapeInputs("Attention", {5, 6, 7, 8});
  r.add("Gemm", 2, 3, 1, 1, inferGemm);
  r.add("Einsum", 1, 2, 1, 1, inferEinsum);
}

}  // namespace trt
