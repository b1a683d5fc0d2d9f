// Passes "fuse-conv" and "fuse-matmul": the epilogue of a convolution or of a linear layer (a
// MatMul by a constant 2-D weight) becomes part of it.
//
// fuse-conv: activations and residual additions after a convolution become part of it.
//
//     x ─▶ Conv(W, b) ─▶ t ─▶ Add(t, z) ─▶ u ─▶ act ─▶ y
//   becomes
//     x ─▶ FusedConv(W, b, z; activation = act) ─▶ y        y = act(conv(x) + b + z)
//
// Activations: Relu, LeakyRelu, Sigmoid, Tanh, HardSigmoid, HardSwish, Clip (constant bounds),
// Gelu (erf and tanh forms) and SiLU written as Mul(t, Sigmoid(t)). The residual Add fuses when
// z has exactly t's shape (no broadcasting), before the activation (Add then act) or, for
// convolutions, after it (YOLOv5's bottlenecks: x + SiLU(BN(conv(..)))):
//     x ─▶ FusedConv(W, b; act) ─▶ t ─▶ Add(t, z) ─▶ y
//   becomes
//     x ─▶ FusedConv(W, b, z; act, z_after_activation = 1) ─▶ y      y = act(conv(x) + b) + z
// (a convolution with both a residual and an activation takes nothing more). Each
// intermediate must feed only the next op of the pattern and must not be a graph output. The
// fused layer takes the place of the last op of the pattern, so its inputs (z included) are all
// computed before it; it is named "conv + add + relu" and keeps every origin.
//
// fuse-matmul: the same for MatMul(A, W) with W a constant matrix, plus the bias Add first:
//     A ─▶ MatMul(W) ─▶ Add(bias[N]) ─▶ [Add(z)] ─▶ [act] ─▶ y    becomes    FusedMatMul(A, W, bias, z; act)
// The bias is a float constant of N values (leading dims 1); on CUDA it runs as cuBLASLt's bias
// epilogue, with z as the GEMM's C operand.
#include <algorithm>
#include <cfloat>
#include <cmath>
#include <set>

#include "ir/ops/activation.h"
#include "passes/pass.h"

namespace trt {
namespace {

// Shapes that are equal wherever they are known: static dims equal, dynamic dims dynamic in both.
// (Exporters lose dim names through broadcasts, so two residual-stream tensors often read
// [batch, ?, 768]; the fused layer's shape inference checks Z against the output once shapes are
// concrete, so a broadcasting Add that slipped through fails loudly instead of computing wrong.)
bool sameStaticShape(const Shape& a, const Shape& b) {
  if (a.empty() || a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].isStatic() != b[i].isStatic()) return false;
    if (a[i].isStatic() && a[i].value != b[i].value) return false;
    // named dims must agree; unknown ones ("?N_A" names from inference) may be anything
    const bool namedA = !a[i].symbol.empty() && a[i].symbol[0] != '?';
    const bool namedB = !b[i].symbol.empty() && b[i].symbol[0] != '?';
    if (namedA && namedB && a[i].symbol != b[i].symbol) return false;
  }
  return true;
}

// The activation `l` applies to its input 0, if it is one this pass fuses.
bool asActivation(const Network& net, const Layer& l, ActivationSpec& a) {
  if (l.inputs.empty() || l.outputs.size() != 1) return false;
  if (l.type == "Relu")
    a.kind = Activation::kRelu;
  else if (l.type == "Sigmoid")
    a.kind = Activation::kSigmoid;
  else if (l.type == "Tanh")
    a.kind = Activation::kTanh;
  else if (l.type == "HardSwish")
    a.kind = Activation::kHardSwish;
  else if (l.type == "LeakyRelu")
    a = {Activation::kLeakyRelu, l.attrs.getFloat("alpha", 0.01f), 0.f};
  else if (l.type == "HardSigmoid")
    a = {Activation::kHardSigmoid, l.attrs.getFloat("alpha", 0.2f), l.attrs.getFloat("beta", 0.5f)};
  else if (l.type == "Gelu")
    a.kind =
        l.attrs.getString("approximate", "none") == "tanh" ? Activation::kGeluTanh : Activation::kGeluErf;
  else if (l.type == "Clip") {
    a = {Activation::kClip, l.attrs.getFloat("min", -FLT_MAX), l.attrs.getFloat("max", FLT_MAX)};
    for (size_t s = 1; s < l.inputs.size(); ++s) {
      if (l.inputs[s] < 0) continue;
      const HostTensor* v = floatConstant(net, l.inputs[s]);
      if (!v || v->numel() != 1) return false;
      (s == 1 ? a.alpha : a.beta) = v->as<float>()[0];
    }
  } else {
    return false;
  }
  return l.inputs.size() == 1 || l.type == "Clip";
}

// A constant that is a per-column bias of a [.., N] product: N values, all leading dims 1.
bool isColumnBias(const Network& net, int t, int64_t n) {
  if (t < 0 || !net.tensor(t).isConstant() || net.tensor(t).constant->type() != DataType::kFloat32)
    return false;
  const Dims& d = net.tensor(t).constant->dims();
  if (d.empty() || d.back() != n) return false;
  for (size_t i = 0; i + 1 < d.size(); ++i)
    if (d[i] != 1) return false;
  return true;
}

// The fused form of each producer family: Conv -> FusedConv, MatMul (constant 2-D B) -> FusedMatMul.
struct Family {
  const char* plain;
  const char* fused;
};
constexpr Family kConvFamily{"Conv", "FusedConv"};
constexpr Family kMatMulFamily{"MatMul", "FusedMatMul"};

class FuseEpiloguePass : public Pass {
 public:
  FuseEpiloguePass(Family f, const char* name) : family_(f), name_(name) {}
  const char* name() const override { return name_; }
  Status run(Network& net, bool& changed) override {
    changed = false;
    bool again = true;
    while (again) {
      again = false;
      const std::vector<int> uses = countUses(net);
      std::vector<bool> keep(net.layers().size(), true);
      // The producer of t that may absorb the next op (t has `readers` readers, is no output, and
      // the producer has not applied its activation yet; needNoZ: nor added a residual).
      auto producerOf = [&](int t, int readers, bool needNoZ) -> int {
        if (t < 0 || uses[t] != readers || net.tensor(t).isOutput) return -1;
        const int p = net.tensor(t).producer;
        if (p < 0 || !keep[p]) return -1;
        const Layer& c = net.layers()[p];
        if (c.outputs.size() != 1) return -1;
        if (c.type == family_.plain) {
          if (c.type == std::string("MatMul")) {
            const int b = c.inputs[1];
            if (b < 0 || !net.tensor(b).isConstant() || net.tensor(b).constant->dims().size() != 2) return -1;
          }
          return p;
        }
        if (c.type != family_.fused || !c.attrs.getString("activation", "").empty()) return -1;
        if (needNoZ && c.inputs.size() > 3 && c.inputs[3] >= 0) return -1;
        return p;
      };
      auto hasBias = [&](int p) {
        const Layer& c = net.layers()[p];
        return c.inputs.size() > 2 && c.inputs[2] >= 0;
      };
      auto hasZ = [&](int p) {
        const Layer& c = net.layers()[p];
        return c.inputs.size() > 3 && c.inputs[3] >= 0;
      };
      for (size_t li = 0; li < net.layers().size(); ++li) {
        Layer& l = net.layers()[li];
        int ci = -1, removeToo = -1, z = -1, bias = -1;
        bool zAfterAct = false;
        ActivationSpec act;
        bool isAct = false;
        if (asActivation(net, l, act)) {
          ci = producerOf(l.inputs[0], 1, false);
          isAct = true;
        } else if (l.type == "Mul" && l.inputs.size() == 2) {
          // SiLU: Mul(t, Sigmoid(t)) in either operand order
          for (int k = 0; k < 2 && ci < 0; ++k) {
            const int t = l.inputs[k], s = l.inputs[1 - k];
            const int sp = s >= 0 ? net.tensor(s).producer : -1;
            if (sp < 0 || !keep[sp] || net.layers()[sp].type != "Sigmoid" ||
                net.layers()[sp].inputs[0] != t || uses[s] != 1 || net.tensor(s).isOutput)
              continue;
            ci = producerOf(t, 2, false);
            if (ci >= 0) {
              removeToo = sp;
              act.kind = Activation::kSilu;
              isAct = true;
            }
          }
        } else if (l.type == "Add" && l.inputs.size() == 2) {
          for (int k = 0; k < 2 && ci < 0; ++k) {
            const int t = l.inputs[k], other = l.inputs[1 - k];
            if (other < 0 || other == t) continue;
            const Shape& ts = net.tensor(t).shape;
            if (net.tensor(other).isConstant()) {
              // MatMul + per-column bias (before any residual)
              // (a column bias of rank <= the product's never changes the product's shape)
              if (std::string(family_.plain) != "MatMul" || ts.empty() || !ts.back().isStatic() ||
                  !isColumnBias(net, other, ts.back().value) ||
                  net.tensor(t).type != net.tensor(other).type ||
                  net.tensor(other).constant->dims().size() > ts.size())
                continue;
              const int p = producerOf(t, 1, true);
              if (p >= 0 && !hasBias(p) && !hasZ(p)) {
                ci = p;
                bias = other;
              }
              continue;
            }
            if (!sameStaticShape(ts, net.tensor(other).shape) ||
                !sameStaticShape(ts, net.tensor(l.outputs[0]).shape) ||
                net.tensor(t).type != net.tensor(other).type)
              continue;
            ci = producerOf(t, 1, true);
            if (ci >= 0) z = other;
          }
          // After the activation (only where no operand takes the residual before it): a
          // FusedConv with an activation and no residual yet.
          for (int k = 0; k < 2 && ci < 0 && std::string(family_.fused) == "FusedConv"; ++k) {
            const int t = l.inputs[k], other = l.inputs[1 - k];
            if (t < 0 || other < 0 || other == t || net.tensor(other).isConstant() || uses[t] != 1 ||
                net.tensor(t).isOutput || !sameStaticShape(net.tensor(t).shape, net.tensor(other).shape) ||
                !sameStaticShape(net.tensor(t).shape, net.tensor(l.outputs[0]).shape) ||
                net.tensor(t).type != net.tensor(other).type)
              continue;
            const int p = net.tensor(t).producer;
            if (p >= 0 && keep[p] && net.layers()[p].type == "FusedConv" &&
                !net.layers()[p].attrs.getString("activation", "").empty() && !hasZ(p) &&
                net.layers()[p].outputs.size() == 1) {
              ci = p;
              z = other;
              zAfterAct = true;
            }
          }
        }
        if (ci < 0) continue;
        Layer fused = std::move(net.layers()[ci]);
        keep[ci] = false;
        if (fused.type == family_.plain) {
          fused.type = family_.fused;
          fused.inputs.resize(3, kNoTensor);
        }
        if (bias >= 0) {
          // stored as a 1-D [N] constant
          HostTensor b = net.tensor(bias).constant->clone();
          const int64_t n = b.numel();
          HostTensor flat(DataType::kFloat32, {n});
          std::copy(b.as<float>(), b.as<float>() + n, flat.as<float>());
          fused.inputs[2] = net.addConstant(net.tensor(bias).name + "__bias", std::move(flat));
        } else if (z >= 0) {
          fused.inputs.resize(4, kNoTensor);
          fused.inputs[3] = z;
          if (zAfterAct) fused.attrs.set("z_after_activation", int64_t{1});
        } else if (isAct) {
          fused.attrs.set("activation", std::string(activationName(act.kind)));
          if (act.kind == Activation::kLeakyRelu || act.kind == Activation::kClip ||
              act.kind == Activation::kHardSigmoid) {
            fused.attrs.set("activation_alpha", act.alpha);
            fused.attrs.set("activation_beta", act.beta);
          }
        }
        if (removeToo >= 0) {
          keep[removeToo] = false;
          fused.name += " + " + net.layers()[removeToo].name;
          for (const auto& o : net.layers()[removeToo].origins) fused.origins.push_back(o);
        }
        Layer& consumer = net.layers()[li];
        fused.name += " + " + consumer.name;
        for (const auto& o : consumer.origins) fused.origins.push_back(o);
        fused.outputs = consumer.outputs;
        consumer = std::move(fused);
        changed = again = true;
      }
      if (again) net.compact(keep);
    }
    return Status::ok();
  }

 private:
  Family family_;
  const char* name_;
};

// Pass "fold-matmul-scale": a MatMul followed by Div or Mul by a float scalar constant takes the
// scale as its alpha (attention's scores / sqrt(d)):
//     MatMul(A, B) ─▶ Div(c) ─▶ y        becomes        MatMul(A, B; alpha = 1/c) ─▶ y
// The MatMul's output must feed only the Div/Mul and not be a graph output.
class FoldMatMulScalePass : public Pass {
 public:
  const char* name() const override { return "fold-matmul-scale"; }
  Status run(Network& net, bool& changed) override {
    changed = false;
    const std::vector<int> uses = countUses(net);
    std::vector<bool> keep(net.layers().size(), true);
    for (size_t li = 0; li < net.layers().size(); ++li) {
      const Layer& l = net.layers()[li];
      if ((l.type != "Div" && l.type != "Mul") || l.inputs.size() != 2) continue;
      for (int k = 0; k < (l.type == "Div" ? 1 : 2); ++k) {
        const int t = l.inputs[k], c = l.inputs[1 - k];
        const int mi = soleProducer(net, uses, keep, t);
        if (mi < 0 || c < 0 || !net.tensor(c).isConstant() || net.layers()[mi].type != "MatMul") continue;
        const HostTensor& cv = *net.tensor(c).constant;
        if (cv.type() != DataType::kFloat32 || cv.numel() != 1 || !cv.dims().empty()) continue;
        const float v = cv.as<float>()[0];
        if (v == 0.f || !std::isfinite(v)) continue;
        Layer mm = std::move(net.layers()[mi]);
        keep[mi] = false;
        mm.attrs.set("alpha", mm.attrs.getFloat("alpha", 1.f) * (l.type == "Div" ? 1.f / v : v));
        mm.name += " + " + l.name;
        for (const auto& o : l.origins) mm.origins.push_back(o);
        mm.outputs = l.outputs;
        net.layers()[li] = std::move(mm);
        changed = true;
        break;
      }
    }
    if (changed) net.compact(keep);
    return Status::ok();
  }
};

// Pass "gemm-to-matmul": a linear layer written as 2-D Gemm between two Reshapes (the dynamo
// exporter's view -> addmm -> view) becomes one FusedMatMul on the original tensor:
//     x [.., K] ─▶ Reshape [M, K] ─▶ Gemm(W, c) ─▶ Reshape [.., N] ─▶ y
//   becomes
//     x ─▶ FusedMatMul(W', bias = beta c) ─▶ y        (W' = W, or W^T for transB = 1)
// Applies when transA = 0, W is a constant matrix, c is absent or a constant of N values, the
// first Reshape keeps x's last dim (so it only flattens the leading ones), the second restores
// exactly x's leading dims (equal static values or names), and the intermediates have one reader.
// fuse-matmul can then absorb the activation and residual that follow.
class GemmToMatMulPass : public Pass {
 public:
  const char* name() const override { return "gemm-to-matmul"; }
  Status run(Network& net, bool& changed) override {
    changed = false;
    const std::vector<int> uses = countUses(net);
    std::vector<bool> keep(net.layers().size(), true);
    auto same = [](const Dim& a, const Dim& b) { return a == b && (a.isStatic() || !a.symbol.empty()); };
    for (size_t ri = 0; ri < net.layers().size(); ++ri) {
      const Layer& r2 = net.layers()[ri];
      if (r2.type != "Reshape" || r2.inputs.empty()) continue;
      const int gi = soleProducer(net, uses, keep, r2.inputs[0]);
      if (gi < 0 || net.layers()[gi].type != "Gemm") continue;
      const Layer& g = net.layers()[gi];
      if (g.attrs.getInt("transA", 0) != 0 || g.inputs.size() < 2) continue;
      const int w = g.inputs[1];
      if (w < 0 || !net.tensor(w).isConstant() || net.tensor(w).constant->type() != DataType::kFloat32 ||
          net.tensor(w).constant->dims().size() != 2)
        continue;
      const int r1i = soleProducer(net, uses, keep, g.inputs[0]);
      if (r1i < 0 || net.layers()[r1i].type != "Reshape") continue;
      const int x = net.layers()[r1i].inputs[0];
      const Shape &xs = net.tensor(x).shape, &r1s = net.tensor(g.inputs[0]).shape,
                  &ys = net.tensor(r2.outputs[0]).shape;
      if (xs.size() < 3 || r1s.size() != 2 || !xs.back().isStatic() || !same(r1s[1], xs.back())) continue;
      const bool transB = g.attrs.getInt("transB", 0) != 0;
      const HostTensor& wt = *net.tensor(w).constant;
      const int64_t K = transB ? wt.dims()[1] : wt.dims()[0], N = transB ? wt.dims()[0] : wt.dims()[1];
      if (K != xs.back().value || ys.size() != xs.size() || !ys.back().isStatic() || ys.back().value != N)
        continue;
      // The view back must restore x's leading dims. A dynamic first dim flattened into [-1, K]
      // comes back as an unknown (the dynamo exporter's [-1, S, N] targets): it is still x's
      // first dim when every other dim matches statically, since a Reshape keeps the volume.
      bool rest = true;
      for (size_t i = 1; i + 1 < xs.size(); ++i) rest = rest && same(ys[i], xs[i]);
      bool restStatic = rest;
      for (size_t i = 1; i + 1 < xs.size(); ++i) restStatic = restStatic && xs[i].isStatic();
      if (!rest || !(same(ys[0], xs[0]) || (restStatic && !ys[0].isStatic()))) continue;
      int bias = -1;
      if (g.inputs.size() > 2 && g.inputs[2] >= 0) {
        const TensorDesc& c = net.tensor(g.inputs[2]);
        if (!c.isConstant() || c.constant->type() != DataType::kFloat32 || c.constant->numel() != N) continue;
        bias = g.inputs[2];
      }
      Layer mm;
      mm.type = "FusedMatMul";
      mm.name = net.layers()[r1i].name + " + " + g.name + " + " + r2.name;
      for (int li : {r1i, gi, static_cast<int>(ri)})
        for (const auto& o : net.layers()[li].origins) mm.origins.push_back(o);
      mm.precision = g.precision;
      const float alpha = g.attrs.getFloat("alpha", 1.f), beta = g.attrs.getFloat("beta", 1.f);
      if (alpha != 1.f) mm.attrs.set("alpha", alpha);
      int wId = w;
      if (transB) {
        HostTensor t(DataType::kFloat32, {K, N});
        for (int64_t k = 0; k < K; ++k)
          for (int64_t n = 0; n < N; ++n) t.as<float>()[k * N + n] = wt.as<float>()[n * K + k];
        wId = net.addConstant(net.tensor(w).name + "__T", std::move(t));
      }
      mm.inputs = {x, wId};
      if (bias >= 0) {
        HostTensor b(DataType::kFloat32, {N});
        const HostTensor& c = *net.tensor(bias).constant;
        for (int64_t n = 0; n < N; ++n) b.as<float>()[n] = beta * c.as<float>()[n];
        mm.inputs.push_back(net.addConstant(net.tensor(bias).name + "__bias", std::move(b)));
      }
      mm.outputs = net.layers()[ri].outputs;
      keep[r1i] = keep[gi] = false;
      net.layers()[ri] = std::move(mm);
      changed = true;
    }
    if (changed) net.compact(keep);
    return Status::ok();
  }
};

// Pass "fuse-activation-through-views": an activation that follows a convolution through layers
// that only move data (Reshape, Transpose, Flatten, Squeeze, Unsqueeze, Identity) becomes the
// convolution's: an elementwise function commutes with any rearrangement of the elements.
//
//     x ─▶ Conv ─▶ Reshape ─▶ Transpose ─▶ Sigmoid ─▶ y
//   becomes
//     x ─▶ FusedConv(activation = Sigmoid) ─▶ Reshape ─▶ Transpose ─▶ y
//
// (YOLOv5's Detect head: one pass over each scale's predictions fewer.) Every intermediate must
// have that one reader and not be a graph output; the convolution must not have an activation yet.
class FuseActivationThroughViewsPass : public Pass {
 public:
  const char* name() const override { return "fuse-activation-through-views"; }
  Status run(Network& net, bool& changed) override {
    static const std::set<std::string> kMovement = {"Reshape", "Transpose", "Flatten",
                                                    "Squeeze", "Unsqueeze", "Identity"};
    changed = false;
    const std::vector<int> uses = countUses(net);
    std::vector<bool> keep(net.layers().size(), true);
    for (size_t li = 0; li < net.layers().size(); ++li) {
      ActivationSpec act;
      if (!keep[li] || !asActivation(net, net.layers()[li], act)) continue;
      // Walk back through single-reader movement layers to the producer.
      int t = net.layers()[li].inputs[0], last = -1, conv = -1;
      while (t >= 0 && uses[t] == 1 && !net.tensor(t).isOutput) {
        const int p = net.tensor(t).producer;
        if (p < 0 || !keep[p]) break;
        const Layer& pl = net.layers()[p];
        if (kMovement.count(pl.type) && pl.outputs.size() == 1 && !pl.inputs.empty()) {
          if (last < 0) last = p;
          t = pl.inputs[0];
          continue;
        }
        if ((pl.type == "Conv" || pl.type == "FusedConv") && pl.outputs.size() == 1 &&
            pl.attrs.getString("activation", "").empty())
          conv = p;
        break;
      }
      if (conv < 0 || last < 0) continue;
      Layer& c = net.layers()[conv];
      Layer& a = net.layers()[li];
      if (c.type == "Conv") {
        c.type = "FusedConv";
        c.inputs.resize(3, kNoTensor);
      }
      c.attrs.set("activation", std::string(activationName(act.kind)));
      if (act.kind == Activation::kLeakyRelu || act.kind == Activation::kClip ||
          act.kind == Activation::kHardSigmoid) {
        c.attrs.set("activation_alpha", act.alpha);
        c.attrs.set("activation_beta", act.beta);
      }
      c.name += " + " + a.name;
      c.origins.insert(c.origins.end(), a.origins.begin(), a.origins.end());
      net.layers()[last].outputs[0] = a.outputs[0];  // the view chain now ends in y
      keep[li] = false;
      changed = true;
    }
    if (changed) net.compact(keep);
    return Status::ok();
  }
};

// fuse-maxpool-cascade: a channel Concat of x and a chain of equal max pools over it (YOLOv5's
// SPPF), each a k x k window (k odd) at stride 1 with k / 2 pads on every side, so each keeps x's
// size, becomes one MaxPoolCascade layer:
//
//     x ─▶ MaxPool ─▶ p1 ─▶ MaxPool ─▶ p2 ─▶ MaxPool ─▶ p3
//     Concat(x, p1, p2, p3; axis 1) ─▶ y          becomes    x ─▶ MaxPoolCascade(k, count 3) ─▶ y
//
// Each p_i feeds only the next pool and the Concat (the last only the Concat) and is no graph
// output; x is 4-D. So does the parallel form (SPP, YOLOv3's and older YOLOv5's): p_i =
// MaxPool(x) with a window of i (k - 1) + 1 (5, 9, 13), each read by the Concat alone. On CUDA one kernel
// reads each window once and writes the four channel blocks (three pools and a concatenation were four
// launches); the layer is named "pool + .. + concat".
class FuseMaxPoolCascadePass : public Pass {
 public:
  const char* name() const override { return "fuse-maxpool-cascade"; }
  Status run(Network& net, bool& changed) override {
    changed = false;
    const std::vector<int> uses = countUses(net);
    std::vector<bool> keep(net.layers().size(), true);
    for (Layer& cat : net.layers()) {
      if (cat.type != "Concat" || cat.inputs.size() < 2 || cat.outputs.size() != 1) continue;
      const int x = cat.inputs[0];
      if (x < 0 || net.tensor(x).shape.size() != 4) continue;
      int64_t axis = cat.attrs.getInt("axis", 0);
      if (axis < 0) axis += 4;
      if (axis != 1) continue;
      // The chain (SPPF: pool i reads pool i - 1, all k x k) or the parallel form (SPP: pool i
      // reads x with a window of i (k - 1) + 1, e.g. 5, 9, 13): the same maxima.
      int64_t k = -1;
      std::vector<int> pools;
      for (bool parallel : {false, true}) {
        k = -1;
        pools.clear();
        for (size_t i = 1; i < cat.inputs.size(); ++i) {
          const int t = cat.inputs[i];
          const int pi = t >= 0 ? net.tensor(t).producer : -1;
          const bool last = i + 1 == cat.inputs.size();
          if (pi < 0 || !keep[pi] || net.tensor(t).isOutput || uses[t] != (last || parallel ? 1 : 2)) break;
          const Layer& pool = net.layers()[pi];
          const int64_t pk = samePool(pool);
          if (pk < 0 || pool.inputs[0] != (parallel ? x : cat.inputs[i - 1])) break;
          if (i == 1) k = pk;
          if (pk != (parallel ? static_cast<int64_t>(i) * (k - 1) + 1 : k)) break;
          pools.push_back(pi);
        }
        if (pools.size() + 1 == cat.inputs.size()) break;
      }
      if (pools.size() + 1 != cat.inputs.size()) continue;
      std::string name;
      std::vector<std::string> origins;
      for (int pi : pools) {
        const Layer& pool = net.layers()[pi];
        name += pool.name + " + ";
        origins.insert(origins.end(), pool.origins.begin(), pool.origins.end());
        keep[pi] = false;
      }
      cat.name = name + cat.name;
      cat.origins.insert(cat.origins.begin(), origins.begin(), origins.end());
      cat.type = "MaxPoolCascade";
      cat.inputs = {x};
      cat.attrs = Attributes();
      cat.attrs.set("kernel_shape", std::vector<int64_t>{k, k});
      cat.attrs.set("count", static_cast<int64_t>(pools.size()));
      changed = true;
    }
    if (changed) net.compact(keep);
    return Status::ok();
  }

 private:
  // k when `pool` is a single-output k x k max pool (k odd) at stride 1, dilation 1, with k / 2
  // explicit pads on every side (no auto_pad, no Indices output); else -1.
  static int64_t samePool(const Layer& pool) {
    if (pool.type != "MaxPool" || pool.inputs.empty() || pool.outputs.size() != 1) return -1;
    const std::vector<int64_t> ks = pool.attrs.getInts("kernel_shape", {});
    if (ks.size() != 2 || ks[0] != ks[1] || ks[0] < 1 || ks[0] % 2 == 0) return -1;
    const int64_t k = ks[0], h = k / 2;
    const std::string autoPad = pool.attrs.getString("auto_pad", "NOTSET");
    if ((autoPad != "NOTSET" && autoPad != "") || pool.attrs.getInt("storage_order", 0) != 0) return -1;
    for (int64_t v : pool.attrs.getInts("strides", {1, 1}))
      if (v != 1) return -1;
    for (int64_t v : pool.attrs.getInts("dilations", {1, 1}))
      if (v != 1) return -1;
    const std::vector<int64_t> pads = pool.attrs.getInts("pads", {0, 0, 0, 0});
    if (pads.size() != 4) return -1;
    for (int64_t v : pads)
      if (v != h) return -1;
    return k;
  }
};

}  // namespace

std::unique_ptr<Pass> makeGemmToMatMulPass() {
  return std::make_unique<GemmToMatMulPass>();
}

std::unique_ptr<Pass> makeFoldMatMulScalePass() {
  return std::make_unique<FoldMatMulScalePass>();
}

std::unique_ptr<Pass> makeFuseConvPass() {
  return std::make_unique<FuseEpiloguePass>(kConvFamily, "fuse-conv");
}
std::unique_ptr<Pass> makeFuseMatMulPass() {
  return std::make_unique<FuseEpiloguePass>(kMatMulFamily, "fuse-matmul");
}
std::unique_ptr<Pass> makeFuseActivationThroughViewsPass() {
  return std::make_unique<FuseActivationThroughViewsPass>();
}

std::unique_ptr<Pass> makeFuseMaxPoolCascadePass() {
  return std::make_unique<FuseMaxPoolCascadePass>();
}

}  // namespace trt
