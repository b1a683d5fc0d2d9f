// Passes "fuse-gelu" and "fuse-layernorm": the decomposed forms exporters emit become one layer.
//
// fuse-gelu (erf form, as BERT exports it):
//     x ─▶ Div(√2) ─▶ Erf ─▶ Add(1) ─┐
//     x ──────────────────────────── Mul ─▶ Mul(0.5) ─▶ y        (or Mul(x, 0.5) first)
//   becomes  x ─▶ Gelu ─▶ y
// and the tanh form (GPT-2's NewGELU), 0.5 x (1 + tanh(√(2/π)(x + 0.044715 x³))), becomes
// Gelu(approximate = "tanh").
// fuse-layernorm (older exporters' nn.LayerNorm):
//     m = ReduceMean(x, axes=[-1]); d = Sub(x, m); v = ReduceMean(Pow(d, 2), axes=[-1])
//     y = Add(Mul(Div(d, Sqrt(Add(v, ε))), γ), β)
//   becomes  y = LayerNormalization(x, γ, β, axis=-1, epsilon=ε)
// Both apply only when every intermediate has a single consumer (d has two) and is not a graph
// output, and the constants have the expected values. The fused layer lists every source node.
#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

#include "ir/ops/activation.h"
#include "passes/pass.h"

namespace trt {
namespace {

struct Graph {
  Network& net;
  std::vector<std::vector<int>> consumers;  // tensor -> layer indices
  explicit Graph(Network& n) : net(n), consumers(n.tensors().size()) {
    for (size_t li = 0; li < n.layers().size(); ++li)
      for (int i : n.layers()[li].inputs)
        if (i >= 0) consumers[i].push_back(static_cast<int>(li));
  }
  // The single consumer of tensor t of the given type, or -1.
  int only(int t, const char* type) const {
    if (t < 0 || consumers[t].size() != 1 || net.tensor(t).isOutput) return -1;
    int li = consumers[t][0];
    return net.layers()[li].type == type ? li : -1;
  }
  // True when tensor t is a constant holding one float value near `v`.
  bool scalar(int t, float v) const {
    if (t < 0 || !net.tensor(t).isConstant()) return false;
    const HostTensor& c = *net.tensor(t).constant;
    return c.type() == DataType::kFloat32 && c.numel() == 1 &&
           std::abs(c.as<float>()[0] - v) <= 1e-4f * std::abs(v) + 1e-7f;
  }
  // For a binary layer with input `a`, its other input.
  int other(int li, int a) const {
    const Layer& l = net.layers()[li];
    if (l.inputs.size() != 2) return -1;
    return l.inputs[0] == a ? l.inputs[1] : (l.inputs[1] == a ? l.inputs[0] : -1);
  }
};

// Replaces layers `parts` (in order; the last one's output is the result) by `fused`.
void replace(Network& net, const std::vector<int>& parts, Layer fused, std::vector<bool>& keep) {
  fused.outputs = net.layers()[parts.back()].outputs;
  for (int p : parts) {
    fused.origins.insert(fused.origins.end(), net.layers()[p].origins.begin(), net.layers()[p].origins.end());
    keep[p] = false;
  }
  // The fused layer takes the place of the last part, so its inputs are already computed there.
  keep[parts.back()] = true;
  net.layers()[parts.back()] = std::move(fused);
}

std::string joinNames(const Network& net, const std::vector<int>& parts) {
  std::string s;
  for (int p : parts) s += (s.empty() ? "" : " + ") + net.layers()[p].name;
  return s;
}

class FuseGeluPass : public Pass {
 public:
  const char* name() const override { return "fuse-gelu"; }
  Status run(Network& net, bool& changed) override {
    changed = false;
    Graph g(net);
    std::vector<bool> keep(net.layers().size(), true);
    std::set<int> used;
    for (size_t ei = 0; ei < net.layers().size(); ++ei) {
      const Layer& erf = net.layers()[ei];
      if (erf.type != "Erf" || used.count(static_cast<int>(ei))) continue;
      const int scaledId = erf.inputs[0];
      const int si = net.tensor(scaledId).producer;
      if (si < 0 || g.consumers[scaledId].size() != 1) continue;
      const Layer& scale = net.layers()[si];
      int x = -1;
      if (scale.type == "Div" && g.scalar(scale.inputs[1], static_cast<float>(M_SQRT2))) x = scale.inputs[0];
      if (scale.type == "Mul" && g.scalar(scale.inputs[1], static_cast<float>(M_SQRT1_2)))
        x = scale.inputs[0];
      if (x < 0) continue;
      const int ai = g.only(erf.outputs[0], "Add");
      if (ai < 0 || !g.scalar(g.other(ai, erf.outputs[0]), 1.f)) continue;
      const int m1 = g.only(net.layers()[ai].outputs[0], "Mul");
      if (m1 < 0) continue;
      const int partner = g.other(m1, net.layers()[ai].outputs[0]);
      std::vector<int> parts;
      if (partner == x) {  // (x * (1 + erf)) * 0.5
        const int m2 = g.only(net.layers()[m1].outputs[0], "Mul");
        if (m2 < 0 || !g.scalar(g.other(m2, net.layers()[m1].outputs[0]), 0.5f)) continue;
        parts = {si, static_cast<int>(ei), ai, m1, m2};
      } else {  // (x * 0.5) * (1 + erf)
        const int hi = partner >= 0 ? net.tensor(partner).producer : -1;
        if (hi < 0 || net.layers()[hi].type != "Mul" || g.consumers[partner].size() != 1) continue;
        if (g.other(hi, x) < 0 || !g.scalar(g.other(hi, x), 0.5f)) continue;
        parts = {si, static_cast<int>(ei), ai, hi, m1};
      }
      Layer gelu;
      gelu.type = "Gelu";
      gelu.name = joinNames(net, parts);
      gelu.inputs = {x};
      gelu.precision = net.layers()[parts.back()].precision;
      for (int p : parts) used.insert(p);
      replace(net, parts, std::move(gelu), keep);
      changed = true;
    }
    fuseTanhForm(net, g, keep, used, changed);
    if (changed) net.compact(keep);
    return Status::ok();
  }

 private:
  // 0.5 x (1 + tanh(√(2/π) (x + 0.044715 x³))), as GPT-2's NewGELU exports it:
  //     p = Pow(x, 3); s = Add(x, Mul(p, 0.044715)); t = Tanh(Mul(s, √(2/π))); a = Add(t, 1)
  //     y = Mul(Mul(x, 0.5), a)      or      y = Mul(Mul(x, a), 0.5)
  void fuseTanhForm(Network& net, Graph& g, std::vector<bool>& keep, std::set<int>& used, bool& changed) {
    for (size_t ti = 0; ti < net.layers().size(); ++ti) {
      const Layer& th = net.layers()[ti];
      if (th.type != "Tanh" || used.count(static_cast<int>(ti))) continue;
      const int ui = net.tensor(th.inputs[0]).producer;
      if (ui < 0 || g.consumers[th.inputs[0]].size() != 1 || net.layers()[ui].type != "Mul") continue;
      const Layer& um = net.layers()[ui];
      int s = -1;
      for (int k = 0; k < 2; ++k)
        if (g.scalar(um.inputs[1 - k], 0.7978845608f)) s = um.inputs[k];
      if (s < 0 || g.consumers[s].size() != 1) continue;
      const int si = net.tensor(s).producer;
      if (si < 0 || net.layers()[si].type != "Add") continue;
      // s = Add(x, m): find which operand is the cubic term
      int x = -1, mi = -1, pi = -1;
      for (int k = 0; k < 2 && x < 0; ++k) {
        const int m = net.layers()[si].inputs[k], cand = net.layers()[si].inputs[1 - k];
        const int mli = m >= 0 ? net.tensor(m).producer : -1;
        if (mli < 0 || net.layers()[mli].type != "Mul" || g.consumers[m].size() != 1) continue;
        int p = -1;
        for (int j = 0; j < 2; ++j)
          if (g.scalar(net.layers()[mli].inputs[1 - j], 0.044715f)) p = net.layers()[mli].inputs[j];
        const int pli = p >= 0 ? net.tensor(p).producer : -1;
        if (pli < 0 || net.layers()[pli].type != "Pow" || g.consumers[p].size() != 1 ||
            net.layers()[pli].inputs[0] != cand || !g.scalar(net.layers()[pli].inputs[1], 3.f))
          continue;
        x = cand;
        mi = mli;
        pi = pli;
      }
      if (x < 0) continue;
      const int ai = g.only(th.outputs[0], "Add");
      if (ai < 0 || !g.scalar(g.other(ai, th.outputs[0]), 1.f)) continue;
      const int m1 = g.only(net.layers()[ai].outputs[0], "Mul");
      if (m1 < 0) continue;
      const int partner = g.other(m1, net.layers()[ai].outputs[0]);
      std::vector<int> parts = {pi, mi, si, ui, static_cast<int>(ti), ai};
      if (partner == x) {  // (x * (1 + tanh)) * 0.5
        const int m2 = g.only(net.layers()[m1].outputs[0], "Mul");
        if (m2 < 0 || !g.scalar(g.other(m2, net.layers()[m1].outputs[0]), 0.5f)) continue;
        parts.push_back(m1);
        parts.push_back(m2);
      } else {  // (x * 0.5) * (1 + tanh)
        const int hi = partner >= 0 ? net.tensor(partner).producer : -1;
        if (hi < 0 || net.layers()[hi].type != "Mul" || g.consumers[partner].size() != 1) continue;
        if (g.other(hi, x) < 0 || !g.scalar(g.other(hi, x), 0.5f)) continue;
        parts.push_back(hi);
        parts.push_back(m1);
      }
      bool clash = false;
      for (int p : parts) clash = clash || used.count(p) || !keep[p];
      if (clash) continue;
      Layer gelu;
      gelu.type = "Gelu";
      gelu.name = joinNames(net, parts);
      gelu.attrs.set("approximate", std::string("tanh"));
      gelu.inputs = {x};
      gelu.precision = net.layers()[parts.back()].precision;
      for (int p : parts) used.insert(p);
      // the last part in execution order holds the result
      int last = parts[0];
      for (int p : parts) last = std::max(last, p);
      std::vector<int> ordered = parts;
      std::sort(ordered.begin(), ordered.end());
      const int resultLayer = parts.back();
      if (resultLayer != last) continue;
      replace(net, ordered, std::move(gelu), keep);
      changed = true;
    }
  }
};

// Pass "fuse-attention": multi-head attention as exporters write it becomes one Attention layer.
//
//     q3 ─▶ Reshape[B,S,H,D] ─▶ Transpose(0,2,1,3) ─▶ [Mul(c)] ─┐
//     k3 ─▶ Reshape[B,S,H,D] ─▶ Transpose(0,2,3,1) ─▶ [Mul(c)] ─ MatMul(alpha) ─▶ [Add(mask) | Where(cond, .,
//     fill)]
//        ─▶ Softmax(-1) ─┐
//     v3 ─▶ Reshape ─▶ Transpose(0,2,1,3) ─────────────────── MatMul ─▶ Transpose(0,2,1,3) ─▶
//     Reshape[B,S,H*D] ─▶ y
//   becomes  y = Attention(q3, k3, v3, mask, cond; num_heads H, head_size D, scale alpha*c)
// When q3, k3, v3 are the three equal outputs of one Split of [B, S, 3*H*D] (GPT-2's c_attn), the
// Split is absorbed too and Attention reads the packed tensor. Every intermediate must have a
// single reader and not be a graph output.
class FuseAttentionPass : public Pass {
 public:
  const char* name() const override { return "fuse-attention"; }
  Status run(Network& net, bool& changed) override {
    changed = false;
    Graph g(net);
    std::vector<bool> keep(net.layers().size(), true);
    std::set<int> used;
    for (size_t si = 0; si < net.layers().size(); ++si) {
      const Layer& sm = net.layers()[si];
      if (sm.type != "Softmax" || used.count(static_cast<int>(si))) continue;
      const int rank = static_cast<int>(net.tensor(sm.inputs[0]).shape.size());
      const int64_t axis = sm.attrs.getInt("axis", -1);
      if (rank != 4 || (axis != -1 && axis != 3)) continue;
      Match m;
      if (match(net, g, static_cast<int>(si), m)) {
        keepShapeReadParts(net, g, m);
        bool clash = false;
        for (int p : m.parts) clash = clash || used.count(p) || !keep[p];
        if (clash) continue;
        Layer att;
        att.type = "Attention";
        att.name = joinNames(net, m.partsInOrder());
        att.attrs.set("num_heads", m.heads);
        att.attrs.set("head_size", m.headSize);
        att.attrs.set("scale", m.scale);
        att.attrs.set("packed", int64_t{m.packed ? 1 : 0});
        // An additive causal mask (torch.export's GPT-2: 0 at key <= query, finfo.min past it)
        // becomes the bool tril with that value as the fill: the form the causal hint reads.
        float addFill = 0.f;
        if (m.boolMask < 0 && m.addMask >= 0 && isCausalAdditiveMask(net, m.addMask, addFill)) {
          const Dims& dims = net.tensor(m.addMask).constant->dims();
          HostTensor tril(DataType::kBool, dims);
          const int64_t S = dims.back(), slices = tril.numel() / (S * S);
          for (int64_t sl = 0; sl < slices; ++sl)
            for (int64_t q = 0; q < S; ++q)
              for (int64_t k = 0; k < S; ++k) tril.as<uint8_t>()[(sl * S + q) * S + k] = k <= q;
          m.boolMask = net.addConstant(net.tensor(m.addMask).name + "__causal_keep", std::move(tril));
          m.addMask = -1;
          m.fill = std::max(addFill, std::numeric_limits<float>::lowest());  // (-inf: finfo.min)
        }
        att.attrs.set("mask_fill", m.fill);
        if (m.boolMask >= 0 && m.fill <= kCausalFill &&
            (isCausalMask(net, m.boolMask) || isCausalCrop(net, m.boolMask)))
          att.attrs.set("causal", int64_t{1});
        att.inputs = {m.q, m.packed ? kNoTensor : m.k, m.packed ? kNoTensor : m.v, m.addMask, m.boolMask};
        // The targets are checked whenever their values are known (constants at build time, the
        // rest at run time).
        for (int t : m.targets) att.inputs.push_back(t);
        while (!att.inputs.empty() && att.inputs.back() < 0) att.inputs.pop_back();
        att.precision = sm.precision;
        for (int p : m.parts) used.insert(p);
        const int resultLayer = m.partsInOrder().back();
        if (!m.packed && mergeQkv(net, g, m, keep)) {
          att.inputs[0] = m.q;
          att.inputs[1] = att.inputs[2] = kNoTensor;
          att.attrs.set("packed", int64_t{1});
          for (int p : m.qkvLayers) used.insert(p);
        }
        replace(net, m.partsInOrder(), std::move(att), keep);
        if (m.mergeKept) {
          // the Transpose's [B, S, H, D] output now holds [B, S, H*D], B and S the query's (the
          // Transpose's own S may be unnamed where a dynamic mask met the scores)
          const int outT = net.layers()[resultLayer].outputs[0];
          const Shape& sh = net.tensor(outT).shape;
          const Shape& q = net.tensor(m.q).shape;
          if (sh.size() == 4 && q.size() == 3)
            net.tensor(outT).shape = Shape{q[0], q[1], Dim(m.heads * m.headSize)};
        }
        changed = true;
      }
    }
    if (changed) net.compact(keep);
    return Status::ok();
  }

 private:
  struct Match {
    std::vector<int> parts;
    int q = -1, k = -1, v = -1, addMask = -1, boolMask = -1;
    int targets[4] = {-1, -1, -1, -1};  // the head split Reshapes' targets (Q, K, V) and the merge's
    bool mergeKept = false;             // the output tensor is the head-merge Transpose's
    std::vector<int> qkvLayers;         // the three linear layers merged into one (QKV merge)
    int64_t heads = 0, headSize = 0;
    float scale = 1.f, fill = 0.f;
    bool packed = false;
    std::vector<int> partsInOrder() const {
      std::vector<int> p = parts;
      std::sort(p.begin(), p.end());
      p.erase(std::unique(p.begin(), p.end()), p.end());
      return p;
    }
  };

  // The "causal" hint (kernels::AttentionParams::causal): a constant bool mask [.., S, S] that is
  // true exactly where key <= query in every slice (GPT-2's sliced tril buffer), with a fill so far
  // below any score that exp(fill - max) is 0: the masked keys past a query add nothing.
  static constexpr float kCausalFill = -1e4f;
  static bool isCausalMask(const Network& net, int t) {
    const TensorDesc& d = net.tensor(t);
    if (!d.isConstant() || d.constant->type() != DataType::kBool) return false;
    const Dims& dims = d.constant->dims();
    // (S >= 2: a [1, 1] mask is broadcast to every query and key, whatever their number)
    if (dims.size() < 2 || dims[dims.size() - 1] != dims[dims.size() - 2] || dims.back() < 2) return false;
    const int64_t S = dims.back(), slices = d.constant->numel() / (S * S);
    const uint8_t* v = d.constant->as<uint8_t>();
    for (int64_t sl = 0; sl < slices; ++sl)
      for (int64_t q = 0; q < S; ++q)
        for (int64_t k = 0; k < S; ++k)
          if ((v[(sl * S + q) * S + k] != 0) != (k <= q)) return false;
    return true;
  }
  // A crop from the top-left corner of such a mask: Slices with constant starts 0 and steps 1
  // (any ends, constant or not) of a causal constant. GPT-2's dynamic-shape export slices its
  // [1, 1, 1024, 1024] tril buffer to [.., seq, seq] (start seq - seq: 0 once
  // resolve-shape-values made it a constant); element (q, k) of any such crop is key <= query.
  static bool isCausalCrop(const Network& net, int t) {
    int slices = 0;
    for (; slices < 4; ++slices) {
      const int pi = t >= 0 ? net.tensor(t).producer : -1;
      if (pi < 0 || net.layers()[pi].type != "Slice") break;
      const Layer& sl = net.layers()[pi];
      const auto allEqual = [&](int slot, int64_t v) {
        if (slot >= static_cast<int>(sl.inputs.size()) || sl.inputs[slot] < 0) return slot == 4;  // steps: 1
        const TensorDesc& d = net.tensor(sl.inputs[slot]);
        if (!d.isConstant()) return false;
        for (int64_t k = 0; k < d.constant->numel(); ++k)
          if (d.constant->intAt(k) != v) return false;
        return true;
      };
      if (sl.inputs.size() < 3 || !allEqual(1, 0) || !allEqual(4, 1)) return false;
      t = sl.inputs[0];
    }
    return slices > 0 && isCausalMask(net, t);
  }
  // A constant additive mask [.., S, S] (S >= 2) that is 0 where key <= query and one value at
  // most kCausalFill (finfo.min, -inf) past it in every slice; that value in `fill`.
  static bool isCausalAdditiveMask(const Network& net, int t, float& fill) {
    const HostTensor* c = floatConstant(net, t);
    if (!c) return false;
    const Dims& dims = c->dims();
    if (dims.size() < 2 || dims[dims.size() - 1] != dims[dims.size() - 2] || dims.back() < 2) return false;
    const int64_t S = dims.back(), slices = c->numel() / (S * S);
    const float* v = c->as<float>();
    fill = v[1];  // (query 0, key 1: past the query)
    if (!(fill <= kCausalFill)) return false;
    for (int64_t sl = 0; sl < slices; ++sl)
      for (int64_t q = 0; q < S; ++q)
        for (int64_t k = 0; k < S; ++k)
          if (v[(sl * S + q) * S + k] != (k <= q ? 0.f : fill)) return false;
    return true;
  }
  // Readers of t other than Shape/Size (which read only its shape).
  static int dataReaders(const Network& net, const Graph& g, int t) {
    int n = 0;
    for (int li : g.consumers[t]) {
      const std::string& ty = net.layers()[li].type;
      n += (ty == "Shape" || ty == "Size") ? 0 : 1;
    }
    return n;
  }
  static int producerIf(const Network& net, const Graph& g, int t, const char* type, int readers = 1) {
    if (t < 0 || net.tensor(t).isOutput || dataReaders(net, g, t) != readers) return -1;
    const int p = net.tensor(t).producer;
    return p >= 0 && net.layers()[p].type == type ? p : -1;
  }
  static bool scalarValue(const Network& net, int t, float& v) {
    const HostTensor* c = floatConstant(net, t);
    if (!c || c->numel() != 1) return false;
    v = c->as<float>()[0];
    return std::isfinite(v);
  }
  // Follows t back through single-reader Mul/Div by a scalar constant, multiplying `scale`.
  static int skipScale(const Network& net, const Graph& g, int t, float& scale, std::vector<int>& parts) {
    for (;;) {
      const int p =
          t >= 0 && !net.tensor(t).isOutput && dataReaders(net, g, t) == 1 ? net.tensor(t).producer : -1;
      if (p < 0) return t;
      const Layer& l = net.layers()[p];
      float v = 0.f;
      if (l.type == "Mul" && l.inputs.size() == 2 && scalarValue(net, l.inputs[1], v)) {
        scale *= v;
        t = l.inputs[0];
      } else if (l.type == "Mul" && l.inputs.size() == 2 && scalarValue(net, l.inputs[0], v)) {
        scale *= v;
        t = l.inputs[1];
      } else if (l.type == "Div" && l.inputs.size() == 2 && scalarValue(net, l.inputs[1], v) && v != 0.f) {
        scale /= v;
        t = l.inputs[0];
      } else {
        return t;
      }
      parts.push_back(p);
    }
  }
  // t = Transpose(perm)(Reshape(x3 [B,S,H*D] -> [B,S,H,D])): returns x3 and sets H, D.
  static int headsOf(const Network& net, const Graph& g, int t, const std::vector<int64_t>& perm, int64_t& H,
                     int64_t& D, std::vector<int>& parts, int* target = nullptr) {
    const int ti = producerIf(net, g, t, "Transpose");
    if (ti < 0 || net.layers()[ti].attrs.getInts("perm") != perm) return -1;
    const int r = net.layers()[ti].inputs[0];
    const int ri = producerIf(net, g, r, "Reshape");
    if (ri < 0) return -1;
    const Shape& rs = net.tensor(r).shape;
    const int x = net.layers()[ri].inputs[0];
    const Shape& xs = net.tensor(x).shape;
    // [B, S, H*D] -> [B, S, H, D]: D must be static; H static or (when the exporter wrote -1 and
    // the batch dim lost its name) implied by H*D / D, with the Reshape's target checked by the
    // Attention layer whenever its value is known.
    if (rs.size() != 4 || xs.size() != 3 || !rs[3].isStatic() || !xs[2].isStatic() || rs[3].value <= 0 ||
        xs[2].value % rs[3].value != 0)
      return -1;
    D = rs[3].value;
    H = xs[2].value / D;
    if ((rs[2].isStatic() && rs[2].value != H) ||
        (rs[1].isStatic() && xs[1].isStatic() && rs[1].value != xs[1].value))
      return -1;
    // Proven at build time when the leading dims are the input's own (same static value or name);
    // otherwise the Attention layer checks the target's value.
    auto same = [](const Dim& a, const Dim& b) { return a == b && (a.isStatic() || !a.symbol.empty()); };
    const bool proven = rs[2].isStatic() && same(rs[0], xs[0]) && same(rs[1], xs[1]);
    if (target) *target = proven ? -1 : net.layers()[ri].inputs[1];
    parts.push_back(ti);
    parts.push_back(ri);
    return x;
  }

  // QKV merge: when Q, K and V come from three linear layers on the same input (constant [K, N]
  // weights, biases in all three or none, nothing else fused, each read only by its head split),
  // one linear layer with [K, 3N] weights computes them and the Attention reads it packed.
  static bool mergeQkv(Network& net, const Graph& g, Match& m, std::vector<bool>& keep) {
    int li[3];
    const int outs[3] = {m.q, m.k, m.v};
    for (int i = 0; i < 3; ++i) {
      const int t = outs[i];
      li[i] = t >= 0 ? net.tensor(t).producer : -1;
      if (li[i] < 0 || !keep[li[i]] || g.consumers[t].size() != 1 || net.tensor(t).isOutput) return false;
      // its one reader (the head split) must be going away with the pattern
      if (std::find(m.parts.begin(), m.parts.end(), g.consumers[t][0]) == m.parts.end()) return false;
      const Layer& l = net.layers()[li[i]];
      if ((l.type != "MatMul" && l.type != "FusedMatMul") || l.attrs.has("alpha") ||
          !l.attrs.getString("activation", "").empty() || (l.inputs.size() > 3 && l.inputs[3] >= 0))
        return false;
      if (l.inputs[0] != net.layers()[li[0]].inputs[0]) return false;
      const int w = l.inputs[1];
      if (w < 0 || !net.tensor(w).isConstant() || net.tensor(w).constant->type() != DataType::kFloat32 ||
          net.tensor(w).constant->dims().size() != 2)
        return false;
      const bool hasBias = l.inputs.size() > 2 && l.inputs[2] >= 0;
      const Layer& l0 = net.layers()[li[0]];
      if (hasBias != (l0.inputs.size() > 2 && l0.inputs[2] >= 0)) return false;
      if (hasBias &&
          (!net.tensor(l.inputs[2]).isConstant() || net.tensor(l.inputs[2]).constant->dims().size() != 1))
        return false;
    }
    const Dims wd = net.tensor(net.layers()[li[0]].inputs[1]).constant->dims();
    const int64_t K = wd[0], N = wd[1];
    for (int i = 1; i < 3; ++i)
      if (net.tensor(net.layers()[li[i]].inputs[1]).constant->dims() != wd) return false;
    const bool hasBias = net.layers()[li[0]].inputs.size() > 2 && net.layers()[li[0]].inputs[2] >= 0;
    HostTensor w(DataType::kFloat32, {K, 3 * N}), b(DataType::kFloat32, {3 * N});
    for (int i = 0; i < 3; ++i) {
      const HostTensor& wi = *net.tensor(net.layers()[li[i]].inputs[1]).constant;
      for (int64_t k = 0; k < K; ++k)
        std::copy(wi.as<float>() + k * N, wi.as<float>() + (k + 1) * N, w.as<float>() + k * 3 * N + i * N);
      if (hasBias) {
        const HostTensor& bi = *net.tensor(net.layers()[li[i]].inputs[2]).constant;
        std::copy(bi.as<float>(), bi.as<float>() + N, b.as<float>() + i * N);
      }
    }
    const int last = std::max(li[0], std::max(li[1], li[2]));
    const TensorDesc q = net.tensor(m.q);
    Shape shape = q.shape;
    if (!shape.empty()) shape.back() = Dim(3 * N);
    const int packed = net.addTensor(q.name + "__qkv", q.type, shape);
    Layer merged = net.layers()[li[0]];
    merged.type = "FusedMatMul";
    merged.name =
        net.layers()[li[0]].name + " + " + net.layers()[li[1]].name + " + " + net.layers()[li[2]].name;
    merged.origins.clear();
    for (int i = 0; i < 3; ++i)
      for (const auto& o : net.layers()[li[i]].origins) merged.origins.push_back(o);
    merged.inputs = {merged.inputs[0], net.addConstant(q.name + "__qkv_weight", std::move(w))};
    if (hasBias) merged.inputs.push_back(net.addConstant(q.name + "__qkv_bias", std::move(b)));
    merged.outputs = {packed};
    for (int i = 0; i < 3; ++i) keep[li[i]] = li[i] == last;
    net.layers()[last] = std::move(merged);
    m.q = packed;
    m.packed = true;
    m.qkvLayers = {li[0], li[1], li[2]};
    return true;
  }

  // Parts whose outputs a Shape/Size outside the pattern still reads stay in the graph (with the
  // parts they read); at run time nothing reads their data, so they do not run.
  static void keepShapeReadParts(const Network& net, const Graph& g, Match& m) {
    std::set<int> parts(m.parts.begin(), m.parts.end()), kept;
    const int result = *parts.rbegin();  // its output becomes the Attention's output
    for (int p : parts)
      for (int o : p == result ? std::vector<int>{} : net.layers()[p].outputs)
        for (int c : g.consumers[o])
          if (!parts.count(c)) kept.insert(p);
    bool grew = true;
    while (grew) {
      grew = false;
      for (int p : std::set<int>(kept))
        for (int i : net.layers()[p].inputs) {
          const int q = i >= 0 ? net.tensor(i).producer : -1;
          if (q >= 0 && parts.count(q) && !kept.count(q)) {
            kept.insert(q);
            grew = true;
          }
        }
    }
    std::vector<int> rest;
    for (int p : m.parts)
      if (!kept.count(p)) rest.push_back(p);
    m.parts = rest;
  }

  static bool match(const Network& net, const Graph& g, int si, Match& m) {
    const Layer& sm = net.layers()[si];
    m.parts.push_back(si);
    int s = sm.inputs[0];
    int mm1 = -1;
    if (int ai = producerIf(net, g, s, "Add"); ai >= 0) {
      const Layer& add = net.layers()[ai];
      for (int k = 0; k < 2 && mm1 < 0; ++k) {
        const int p = producerIf(net, g, add.inputs[k], "MatMul");
        if (p >= 0) {
          mm1 = p;
          m.addMask = add.inputs[1 - k];
        }
      }
      if (mm1 < 0 || m.addMask < 0 || net.tensor(m.addMask).shape.size() > 4) return false;
      m.parts.push_back(ai);
    } else if (int wi = producerIf(net, g, s, "Where"); wi >= 0) {
      const Layer& w = net.layers()[wi];
      // the fill: one float constant (finfo.min as exporters write it, or -inf)
      const HostTensor* fill = w.inputs.size() == 3 ? floatConstant(net, w.inputs[2]) : nullptr;
      if (!fill || fill->numel() != 1) return false;
      m.fill = fill->as<float>()[0];
      mm1 = producerIf(net, g, w.inputs[1], "MatMul");
      m.boolMask = w.inputs[0];
      if (mm1 < 0 || net.tensor(m.boolMask).type != DataType::kBool ||
          net.tensor(m.boolMask).shape.size() > 4)
        return false;
      m.parts.push_back(wi);
    } else {
      mm1 = producerIf(net, g, s, "MatMul");
    }
    if (mm1 < 0) return false;
    m.parts.push_back(mm1);
    m.scale = net.layers()[mm1].attrs.getFloat("alpha", 1.f);
    int64_t H = 0, D = 0, Hk = 0, Dk = 0, Hv = 0, Dv = 0;
    const int qIn = skipScale(net, g, net.layers()[mm1].inputs[0], m.scale, m.parts);
    const int kIn = skipScale(net, g, net.layers()[mm1].inputs[1], m.scale, m.parts);
    m.q = headsOf(net, g, qIn, {0, 2, 1, 3}, H, D, m.parts, &m.targets[0]);
    m.k = headsOf(net, g, kIn, {0, 2, 3, 1}, Hk, Dk, m.parts, &m.targets[1]);
    if (m.q < 0 || m.k < 0 || H != Hk || D != Dk) return false;
    // softmax -> MatMul(probs, v)
    const int p = sm.outputs[0];
    if (net.tensor(p).isOutput || g.consumers[p].size() != 1) return false;
    const int mm2 = g.consumers[p][0];  // (Softmax output: no Shape readers expected)
    const Layer& l2 = net.layers()[mm2];
    if (l2.type != "MatMul" || l2.inputs[0] != p || l2.attrs.has("alpha")) return false;
    m.parts.push_back(mm2);
    m.v = headsOf(net, g, l2.inputs[1], {0, 2, 1, 3}, Hv, Dv, m.parts, &m.targets[2]);
    if (m.v < 0 || Hv != H || Dv != D) return false;
    // -> Transpose(0,2,1,3) -> Reshape [B, S, H*D]
    const int o = l2.outputs[0];
    if (net.tensor(o).isOutput || g.consumers[o].size() != 1) return false;
    const int ti = g.consumers[o][0];
    if (net.layers()[ti].type != "Transpose" ||
        net.layers()[ti].attrs.getInts("perm") != std::vector<int64_t>{0, 2, 1, 3})
      return false;
    const int t = net.layers()[ti].outputs[0];
    if (net.tensor(t).isOutput || g.consumers[t].size() != 1) return false;
    const int ri = g.consumers[t][0];
    const Layer& r = net.layers()[ri];
    const Shape& rs = net.tensor(r.outputs[0]).shape;
    m.parts.push_back(ti);
    const Shape& ts = net.tensor(t).shape;  // [B, S, H, D]
    auto same = [](const Dim& a, const Dim& b) { return a == b && (a.isStatic() || !a.symbol.empty()); };
    if (r.type == "Reshape" && r.inputs[0] == t && rs.size() == 3 && rs[2].isStatic() &&
        rs[2].value == H * D && ts.size() == 4 && same(rs[0], ts[0]) && same(rs[1], ts[1])) {
      m.parts.push_back(ri);  // [B, S, H*D] merge absorbed: the largest index, the fused layer goes here
    } else {
      // Any other consumer (a Reshape to [B*S, H*D] before a Gemm, ...) reads the Attention's
      // [B, S, H*D] output in place of the [B, S, H, D] tensor: same elements in the same order.
      m.mergeKept = true;
    }
    const int ri2 = m.parts.back();
    m.heads = H;
    m.headSize = D;
    // the result position must be the last part in execution order
    for (int x : m.parts)
      if (x > ri2) return false;
    // packed: q3, k3, v3 are the three outputs of one equal Split of [B, S, 3*H*D]
    const int sp = net.tensor(m.q).producer;
    if (sp >= 0 && net.layers()[sp].type == "Split" && net.layers()[sp].outputs.size() == 3 &&
        net.tensor(m.k).producer == sp && net.tensor(m.v).producer == sp) {
      const Layer& split = net.layers()[sp];
      const Shape& in = net.tensor(split.inputs[0]).shape;
      const int64_t ax = split.attrs.getInt("axis", 0);
      const bool order = split.outputs[0] == m.q && split.outputs[1] == m.k && split.outputs[2] == m.v;
      bool single = true;
      for (int so : split.outputs)
        single = single && dataReaders(net, g, so) == 1 && !net.tensor(so).isOutput;
      if (order && single && in.size() == 3 && (ax == 2 || ax == -1) && in[2].isStatic() &&
          in[2].value == 3 * H * D) {
        m.packed = true;
        m.q = split.inputs[0];
        m.parts.push_back(sp);
      }
    }
    return true;
  }
};

class FuseLayerNormPass : public Pass {
 public:
  const char* name() const override { return "fuse-layernorm"; }
  Status run(Network& net, bool& changed) override {
    changed = false;
    Graph g(net);
    std::vector<bool> keep(net.layers().size(), true);
    auto lastAxis = [&](const Layer& l, int rank) {
      std::vector<int64_t> axes = l.attrs.getInts("axes");
      return axes.size() == 1 && (axes[0] == -1 || axes[0] == rank - 1) &&
             l.attrs.getInt("keepdims", 1) == 1 && l.inputs.size() == 1;
    };
    for (size_t mi = 0; mi < net.layers().size(); ++mi) {
      const Layer& mean = net.layers()[mi];
      if (mean.type != "ReduceMean" || !keep[mi]) continue;
      const int x = mean.inputs[0];
      const int rank = static_cast<int>(net.tensor(x).shape.size());
      if (!lastAxis(mean, rank) || net.tensor(x).type != DataType::kFloat32) continue;
      const int sub = g.only(mean.outputs[0], "Sub");
      if (sub < 0 || net.layers()[sub].inputs[0] != x) continue;
      const int d = net.layers()[sub].outputs[0];
      if (g.consumers[d].size() != 2 || net.tensor(d).isOutput) continue;
      int pw = -1, dv = -1;
      for (int c : g.consumers[d]) {
        if (net.layers()[c].type == "Pow") pw = c;
        if (net.layers()[c].type == "Div") dv = c;
      }
      if (pw < 0 || dv < 0 || net.layers()[pw].inputs[0] != d || !g.scalar(net.layers()[pw].inputs[1], 2.f))
        continue;
      const int var = g.only(net.layers()[pw].outputs[0], "ReduceMean");
      if (var < 0 || !lastAxis(net.layers()[var], rank)) continue;
      const int addEps = g.only(net.layers()[var].outputs[0], "Add");
      if (addEps < 0) continue;
      const int epsId = g.other(addEps, net.layers()[var].outputs[0]);
      if (epsId < 0 || !net.tensor(epsId).isConstant() || net.tensor(epsId).constant->numel() != 1 ||
          net.tensor(epsId).constant->type() != DataType::kFloat32)
        continue;
      const float eps = net.tensor(epsId).constant->as<float>()[0];
      const int sq = g.only(net.layers()[addEps].outputs[0], "Sqrt");
      if (sq < 0 || g.only(net.layers()[sq].outputs[0], "Div") != dv || net.layers()[dv].inputs[0] != d)
        continue;
      const int mul = g.only(net.layers()[dv].outputs[0], "Mul");
      if (mul < 0) continue;
      const int gamma = g.other(mul, net.layers()[dv].outputs[0]);
      const int add = g.only(net.layers()[mul].outputs[0], "Add");
      if (add < 0) continue;
      const int beta = g.other(add, net.layers()[mul].outputs[0]);
      const Dim& hidden = net.tensor(x).shape.back();
      auto isVector = [&](int t) {
        return t >= 0 && net.tensor(t).isConstant() && net.tensor(t).constant->dims().size() == 1 &&
               hidden.isStatic() && net.tensor(t).constant->dims()[0] == hidden.value &&
               net.tensor(t).constant->type() == DataType::kFloat32;
      };
      if (!isVector(gamma) || !isVector(beta)) continue;
      const std::vector<int> parts = {static_cast<int>(mi), sub, pw, var, addEps, sq, dv, mul, add};
      Layer ln;
      ln.type = "LayerNormalization";
      ln.name = joinNames(net, parts);
      ln.inputs = {x, gamma, beta};
      ln.attrs.set("axis", int64_t{-1});
      ln.attrs.set("epsilon", eps);
      ln.precision = net.layers()[add].precision;
      replace(net, parts, std::move(ln), keep);
      changed = true;
    }
    if (changed) net.compact(keep);
    return Status::ok();
  }
};

// Shared by fuse-add-layernorm and fuse-matmul-layernorm: for each LayerNormalization (one output)
// whose input s comes from a layer still in place, fuse(ln, producer, fused) fills in the fused
// layer's type, name, inputs, attributes and precision, or returns false. The fused layer takes the
// producer's place (the LayerNormalization's other inputs are constants, so readers of the sum
// still come after it), outputs the normalised rows and, where other layers read it, s; its
// origins are the producer's, then the LayerNormalization's.
template <typename F>
bool fuseLayerNormProducers(Network& net, F&& fuse) {
  const std::vector<int> uses = countUses(net);
  std::vector<bool> keep(net.layers().size(), true);
  bool changed = false;
  for (size_t li = 0; li < net.layers().size(); ++li) {
    const Layer& ln = net.layers()[li];
    if (ln.type != "LayerNormalization" || ln.outputs.size() != 1 || ln.inputs.size() < 2 || ln.inputs[0] < 0)
      continue;
    const int s = ln.inputs[0];
    const int pi = net.tensor(s).producer;
    if (pi < 0 || !keep[pi]) continue;
    Layer fused;
    const Layer& producer = net.layers()[pi];
    if (!fuse(ln, producer, fused)) continue;
    fused.outputs = {ln.outputs[0]};
    if (uses[s] > 1 || net.tensor(s).isOutput) fused.outputs.push_back(s);  // the sum is read elsewhere too
    fused.origins = producer.origins;
    fused.origins.insert(fused.origins.end(), ln.origins.begin(), ln.origins.end());
    keep[li] = false;
    net.layers()[pi] = std::move(fused);
    changed = true;
  }
  if (changed) net.compact(keep);
  return changed;
}

// fuse-add-layernorm: the residual Add before a LayerNormalization becomes part of it.
//     a ─▶ Add(a, r) ─▶ s ─▶ LayerNormalization(γ, β) ─▶ y
//   becomes  AddLayerNorm(a, r, γ, β) ─▶ y (and ─▶ s when other layers read the sum)
// a has the sum's shape; r repeats along its leading dims (right-aligned, r's dims are the sum's or
// leading 1s: GPT-2's position embedding [1, S, H] under [B, S, H], a bias row [H]); γ and β are
// constants; the LayerNormalization writes no Mean/InvStdDev. The fused layer sits where the Add
// was (its other inputs are constants), so readers of the sum still come after it. It runs after
// fuse-matmul, which takes the residual Adds that follow a linear layer into the GEMM's epilogue:
// what is left here are the sums no GEMM produces (GPT-2's token + position embedding).
class FuseAddLayerNormPass : public Pass {
 public:
  const char* name() const override { return "fuse-add-layernorm"; }
  Status run(Network& net, bool& changed) override {
    changed = fuseLayerNormProducers(net, [&](const Layer& ln, const Layer& add, Layer& fused) {
      if (add.type != "Add" || add.inputs.size() != 2 || add.outputs.size() != 1) return false;
      for (size_t k = 1; k < ln.inputs.size(); ++k)
        if (ln.inputs[k] >= 0 && !net.tensor(ln.inputs[k]).isConstant()) return false;
      const Shape& out = net.tensor(ln.inputs[0]).shape;
      for (int k : {0, 1}) {
        const int a = add.inputs[k], r = add.inputs[1 - k];
        if (a >= 0 && r >= 0 && net.tensor(a).type == DataType::kFloat32 &&
            net.tensor(r).type == DataType::kFloat32 && net.tensor(a).shape == out &&
            repeatsAlongLeading(net.tensor(r).shape, out)) {
          fused.type = "AddLayerNorm";
          fused.name = add.name + " + " + ln.name;
          fused.inputs = {a, r};
          fused.inputs.insert(fused.inputs.end(), ln.inputs.begin() + 1, ln.inputs.end());
          fused.attrs.set("axis", ln.attrs.getInt("axis", -1));
          fused.attrs.set("epsilon", ln.attrs.getFloat("epsilon", 1e-5f));
          fused.precision = ln.precision;
          return true;
        }
      }
      return false;
    });
    return Status::ok();
  }

 private:
  // r, right-aligned under `out`, equals it except for leading 1s (or absent leading dims).
  static bool repeatsAlongLeading(const Shape& r, const Shape& out) {
    if (r.empty() || r.size() > out.size()) return false;
    const size_t off = out.size() - r.size();
    size_t k = 0;
    while (k < r.size() && r[k].isStatic() && r[k].value == 1 &&
           !(out[off + k].isStatic() && out[off + k].value == 1))
      ++k;
    for (; k < r.size(); ++k)
      if (!(r[k] == out[off + k])) return false;
    return k == r.size() && !r.empty();
  }
};

// fuse-matmul-layernorm (device engines; the builder runs it after the pipeline): a linear layer
// whose sum goes straight into a LayerNormalization over the last axis becomes one layer.
//     a ─▶ FusedMatMul(W, bias, Z) ─▶ s ─▶ LayerNormalization(γ, β) ─▶ y
//   becomes  MatMulLayerNorm(a, W, bias, Z, γ, β) ─▶ y (and ─▶ s when other layers read the sum)
// BERT's attention output and FFN (post-norm) and GPT-2's projections into the next block's
// ln_1 / ln_2 (pre-norm, the sum read again as the next residual). On CUDA the layer can split the
// GEMM's K into partial sums that the normalisation kernel adds up with the bias and the residual,
// so the small-batch GEMMs get more blocks and cuBLASLt's own split-K reduction pass is gone
// (backends/cuda/matmul.cpp, MatMulLnImpl); its tactic "_t0" runs the two layers as they were.
// Conditions: a MatMul or FusedMatMul without activation or padded columns, B a constant matrix,
// the normalisation over the last axis with constant γ and β of N values and no Mean/InvStdDev
// outputs. The fused layer sits where the MatMul was (γ and β are constants).
class FuseMatMulLayerNormPass : public Pass {
 public:
  const char* name() const override { return "fuse-matmul-layernorm"; }
  Status run(Network& net, bool& changed) override {
    changed = fuseLayerNormProducers(net, [&](const Layer& ln, const Layer& mm, Layer& fused) {
      if ((mm.type != "MatMul" && mm.type != "FusedMatMul") || mm.outputs.size() != 1 ||
          mm.inputs.size() < 2 || mm.attrs.getInt("columns", 0) > 0)
        return false;
      auto act = activationOf(mm.attrs);
      if (!act.isOk() || act->kind != Activation::kNone) return false;
      const Shape& out = net.tensor(ln.inputs[0]).shape;
      const int w = mm.inputs[1];
      if (out.size() < 2 || !out.back().isStatic() || w < 0 || !net.tensor(w).isConstant() ||
          net.tensor(w).shape.size() != 2)
        return false;
      const int64_t n = out.back().value;
      const int64_t axis = ln.attrs.getInt("axis", -1);
      if (axis != -1 && axis != static_cast<int64_t>(out.size()) - 1) return false;
      if (ln.inputs[1] < 0) return false;
      for (size_t k = 1; k < ln.inputs.size(); ++k)
        if (ln.inputs[k] >= 0 &&
            !(net.tensor(ln.inputs[k]).isConstant() && net.tensor(ln.inputs[k]).constant->numel() == n))
          return false;
      fused.type = "MatMulLayerNorm";
      fused.name = mm.name + " + " + ln.name;
      fused.attrs = mm.attrs;
      fused.attrs.set("epsilon", ln.attrs.getFloat("epsilon", 1e-5f));
      fused.inputs = {mm.inputs[0], w, mm.inputs.size() > 2 ? mm.inputs[2] : -1,
                      mm.inputs.size() > 3 ? mm.inputs[3] : -1, ln.inputs[1]};
      if (ln.inputs.size() > 2 && ln.inputs[2] >= 0) fused.inputs.push_back(ln.inputs[2]);
      fused.precision = mm.precision;
      return true;
    });
    return Status::ok();
  }
};

}  // namespace

std::unique_ptr<Pass> makeFuseMatMulLayerNormPass() {
  return std::make_unique<FuseMatMulLayerNormPass>();
}
std::unique_ptr<Pass> makeFuseAddLayerNormPass() {
  return std::make_unique<FuseAddLayerNormPass>();
}
std::unique_ptr<Pass> makeFuseAttentionPass() {
  return std::make_unique<FuseAttentionPass>();
}
std::unique_ptr<Pass> makeFuseGeluPass() {
  return std::make_unique<FuseGeluPass>();
}
std::unique_ptr<Pass> makeFuseLayerNormPass() {
  return std::make_unique<FuseLayerNormPass>();
}

}  // namespace trt
