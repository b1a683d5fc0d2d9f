// Pass "fold-batchnorm": BatchNormalization after Conv folds into the Conv's weights and bias.
//
//     x ─▶ Conv(W, b) ─▶ t ─▶ BatchNormalization(γ, β, μ, σ²) ─▶ y
//   becomes
//     x ─▶ Conv(W', b') ─▶ y      a = γ / sqrt(σ² + ε),  W'[k] = a[k] W[k],  b' = a (b − μ) + β
//
// Applies when t feeds only the BatchNormalization, is not a graph output, and W, b, γ, β, μ, σ²
// are float32 constants. The fused layer is named "conv + bn" and keeps both origins.
#include <cmath>

#include "passes/pass.h"

namespace trt {
namespace {

class FoldBatchNormPass : public Pass {
 public:
  const char* name() const override { return "fold-batchnorm"; }
  Status run(Network& net, bool& changed) override {
    changed = false;
    const std::vector<int> uses = countUses(net);
    std::vector<bool> keep(net.layers().size(), true);
    for (size_t bi = 0; bi < net.layers().size(); ++bi) {
      Layer& bn = net.layers()[bi];
      if (bn.type != "BatchNormalization" || bn.inputs.size() != 5) continue;
      const int t = bn.inputs[0];
      const int ci = net.tensor(t).producer;
      if (ci < 0 || !keep[ci] || uses[t] != 1 || net.tensor(t).isOutput) continue;
      Layer& conv = net.layers()[ci];
      if (conv.type != "Conv") continue;
      const HostTensor* w = floatConstant(net, conv.inputs[1]);
      const HostTensor* b = conv.inputs.size() > 2 ? floatConstant(net, conv.inputs[2]) : nullptr;
      const HostTensor *gamma = floatConstant(net, bn.inputs[1]), *beta = floatConstant(net, bn.inputs[2]), *mean = floatConstant(net, bn.inputs[3]),
                       *var = floatConstant(net, bn.inputs[4]);
      if (!w || !gamma || !beta || !mean || !var || (conv.inputs.size() > 2 && conv.inputs[2] >= 0 && !b)) continue;
      const int64_t k = w->dims()[0];
      if (gamma->numel() != k || beta->numel() != k || mean->numel() != k || var->numel() != k) continue;
      const float eps = bn.attrs.getFloat("epsilon", 1e-5f);
      HostTensor w2 = w->clone(), b2(DataType::kFloat32, {k});
      const int64_t per = w->numel() / k;
      for (int64_t c = 0; c < k; ++c) {
        const float a = gamma->as<float>()[c] / std::sqrt(var->as<float>()[c] + eps);
        for (int64_t i = 0; i < per; ++i) w2.as<float>()[c * per + i] *= a;
        b2.as<float>()[c] = a * ((b ? b->as<float>()[c] : 0.f) - mean->as<float>()[c]) + beta->as<float>()[c];
      }
      const int wId = net.addConstant(conv.name + ".folded_weight", std::move(w2));
      const int bId = net.addConstant(conv.name + ".folded_bias", std::move(b2));
      Layer& fused = net.layers()[ci];  // re-fetch: addConstant does not move layers, but be explicit
      fused.inputs = {fused.inputs[0], wId, bId};
      fused.outputs = {net.layers()[bi].outputs[0]};
      fused.name = fused.name + " + " + net.layers()[bi].name;
      for (const auto& o : net.layers()[bi].origins) fused.origins.push_back(o);
      keep[bi] = false;
      changed = true;
    }
    if (changed) net.compact(keep);
    return Status::ok();
  }
};

// Pass "remove-identity": Identity, Dropout (inference) and a Cast to the type its input already
// has pass their input through; consumers read the input directly. Kept when the output is a graph
// output.
class RemoveIdentityPass : public Pass {
 public:
  const char* name() const override { return "remove-identity"; }
  Status run(Network& net, bool& changed) override {
    changed = false;
    std::vector<bool> keep(net.layers().size(), true);
    std::vector<int> replace(net.tensors().size(), -1);
    for (size_t li = 0; li < net.layers().size(); ++li) {
      Layer& l = net.layers()[li];
      for (int& i : l.inputs)
        if (i >= 0 && replace[i] >= 0) i = replace[i];
      const bool sameTypeCast = l.type == "Cast" && !l.inputs.empty() && l.inputs[0] >= 0 &&
                                l.attrs.getString("to") == dataTypeName(net.tensor(l.inputs[0]).type);
      if ((l.type != "Identity" && l.type != "Dropout" && !sameTypeCast) || l.outputs.size() != 1) continue;
      const int out = l.outputs[0];
      if (net.tensor(out).isOutput) continue;
      replace[out] = l.inputs[0];
      keep[li] = false;
      changed = true;
    }
    if (changed) net.compact(keep);
    return Status::ok();
  }
};

}  // namespace

std::unique_ptr<Pass> makeFoldBatchNormPass() { return std::make_unique<FoldBatchNormPass>(); }
std::unique_ptr<Pass> makeRemoveIdentityPass() { return std::make_unique<RemoveIdentityPass>(); }

}  // namespace trt
