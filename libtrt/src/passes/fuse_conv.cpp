// Pass "fuse-conv": activations and residual additions after a convolution become part of it.
//
//     x ─▶ Conv(W, b) ─▶ t ─▶ Add(t, z) ─▶ u ─▶ act ─▶ y
//   becomes
//     x ─▶ FusedConv(W, b, z; activation = act) ─▶ y        y = act(conv(x) + b + z)
//
// Activations: Relu, LeakyRelu, Sigmoid, Tanh, HardSigmoid, HardSwish, Clip (constant bounds),
// Gelu (erf and tanh forms) and SiLU written as Mul(t, Sigmoid(t)). The residual Add fuses when
// z has exactly t's shape (no broadcasting) and comes before the activation (Add then act). Each
// intermediate must feed only the next op of the pattern and must not be a graph output. The
// fused layer takes the place of the last op of the pattern, so its inputs (z included) are all
// computed before it; it is named "conv + add + relu" and keeps every origin.
#include <cfloat>

#include "ir/ops/activation.h"
#include "passes/pass.h"

namespace trt {
namespace {

bool sameStaticShape(const Shape& a, const Shape& b) {
  if (a.empty() || a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (a[i] != b[i] || (!a[i].isStatic() && a[i].symbol.empty())) return false;
  return true;
}

const HostTensor* scalarConst(const Network& net, const Layer& l, size_t slot) {
  if (slot >= l.inputs.size() || l.inputs[slot] < 0) return nullptr;
  const TensorDesc& t = net.tensor(l.inputs[slot]);
  if (!t.isConstant() || t.constant->type() != DataType::kFloat32 || t.constant->numel() != 1) return nullptr;
  return t.constant.get();
}

// The activation `l` applies to its input 0, if it is one this pass fuses.
bool asActivation(const Network& net, const Layer& l, ActivationSpec& a) {
  if (l.inputs.empty() || l.outputs.size() != 1) return false;
  if (l.type == "Relu") a.kind = Activation::kRelu;
  else if (l.type == "Sigmoid") a.kind = Activation::kSigmoid;
  else if (l.type == "Tanh") a.kind = Activation::kTanh;
  else if (l.type == "HardSwish") a.kind = Activation::kHardSwish;
  else if (l.type == "LeakyRelu") a = {Activation::kLeakyRelu, l.attrs.getFloat("alpha", 0.01f), 0.f};
  else if (l.type == "HardSigmoid")
    a = {Activation::kHardSigmoid, l.attrs.getFloat("alpha", 0.2f), l.attrs.getFloat("beta", 0.5f)};
  else if (l.type == "Gelu")
    a.kind = l.attrs.getString("approximate", "none") == "tanh" ? Activation::kGeluTanh : Activation::kGeluErf;
  else if (l.type == "Clip") {
    a = {Activation::kClip, l.attrs.getFloat("min", -FLT_MAX), l.attrs.getFloat("max", FLT_MAX)};
    for (size_t s = 1; s < l.inputs.size(); ++s) {
      if (l.inputs[s] < 0) continue;
      const HostTensor* v = scalarConst(net, l, s);
      if (!v) return false;
      (s == 1 ? a.alpha : a.beta) = v->as<float>()[0];
    }
  } else {
    return false;
  }
  return l.inputs.size() == 1 || l.type == "Clip";
}

class FuseConvPass : public Pass {
 public:
  const char* name() const override { return "fuse-conv"; }
  Status run(Network& net, bool& changed) override {
    changed = false;
    bool again = true;
    while (again) {
      again = false;
      const std::vector<int> uses = countUses(net);
      std::vector<bool> keep(net.layers().size(), true);
      // The convolution producing t, when t may be absorbed (single reader, not an output).
      auto convOf = [&](int t, int readers, bool needNoResidual) -> int {
        if (t < 0 || uses[t] != readers || net.tensor(t).isOutput) return -1;
        const int p = net.tensor(t).producer;
        if (p < 0 || !keep[p]) return -1;
        const Layer& c = net.layers()[p];
        if (c.type == "Conv" && c.outputs.size() == 1) return p;
        if (c.type != "FusedConv" || !c.attrs.getString("activation", "").empty()) return -1;
        if (needNoResidual && c.inputs.size() > 3 && c.inputs[3] >= 0) return -1;
        return p;
      };
      for (size_t li = 0; li < net.layers().size(); ++li) {
        Layer& l = net.layers()[li];
        int ci = -1, removeToo = -1;
        ActivationSpec act;
        int z = -1;
        if (asActivation(net, l, act)) {
          ci = convOf(l.inputs[0], 1, false);
        } else if (l.type == "Mul" && l.inputs.size() == 2) {
          // SiLU: Mul(t, Sigmoid(t)) in either operand order
          for (int k = 0; k < 2 && ci < 0; ++k) {
            const int t = l.inputs[k], s = l.inputs[1 - k];
            const int sp = s >= 0 ? net.tensor(s).producer : -1;
            if (sp < 0 || !keep[sp] || net.layers()[sp].type != "Sigmoid" || net.layers()[sp].inputs[0] != t ||
                uses[s] != 1 || net.tensor(s).isOutput)
              continue;
            ci = convOf(t, 2, false);
            if (ci >= 0) {
              removeToo = sp;
              act.kind = Activation::kSilu;
            }
          }
        } else if (l.type == "Add" && l.inputs.size() == 2) {
          for (int k = 0; k < 2 && ci < 0; ++k) {
            const int t = l.inputs[k], other = l.inputs[1 - k];
            if (other < 0 || other == t || net.tensor(other).isConstant()) continue;
            if (!sameStaticShape(net.tensor(t).shape, net.tensor(other).shape) ||
                !sameStaticShape(net.tensor(t).shape, net.tensor(l.outputs[0]).shape) ||
                net.tensor(t).type != net.tensor(other).type)
              continue;
            ci = convOf(t, 1, true);
            if (ci >= 0) z = other;
          }
        }
        if (ci < 0) continue;
        Layer fused = std::move(net.layers()[ci]);
        keep[ci] = false;
        if (fused.type == "Conv") {
          fused.type = "FusedConv";
          fused.inputs.resize(3, kNoTensor);
        }
        if (z >= 0) {
          fused.inputs.resize(4, kNoTensor);
          fused.inputs[3] = z;
        } else {
          fused.attrs.set("activation", std::string(activationName(act.kind)));
          if (act.kind == Activation::kLeakyRelu || act.kind == Activation::kClip || act.kind == Activation::kHardSigmoid) {
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
};

}  // namespace

std::unique_ptr<Pass> makeFuseConvPass() { return std::make_unique<FuseConvPass>(); }

}  // namespace trt
