// Activation attributes of fused layers (see activation.h).
#include "ir/ops/activation.h"

namespace trt {
namespace {

struct Named {
  Activation kind;
  const char* name;
};
constexpr Named kNames[] = {
    {Activation::kNone, ""},           {Activation::kRelu, "Relu"},       {Activation::kLeakyRelu, "LeakyRelu"},
    {Activation::kSigmoid, "Sigmoid"}, {Activation::kTanh, "Tanh"},       {Activation::kHardSigmoid, "HardSigmoid"},
    {Activation::kHardSwish, "HardSwish"}, {Activation::kClip, "Clip"}, {Activation::kSilu, "Silu"},
    {Activation::kGeluErf, "Gelu"},    {Activation::kGeluTanh, "GeluTanh"},
};

}  // namespace

const char* activationName(Activation a) {
  for (const Named& n : kNames)
    if (n.kind == a) return n.name;
  return "";
}

Expected<ActivationSpec> activationOf(const Attributes& attrs) {
  ActivationSpec s;
  const std::string name = attrs.getString("activation", "");
  for (const Named& n : kNames)
    if (name == n.name) {
      s.kind = n.kind;
      s.alpha = attrs.getFloat("activation_alpha", 0.f);
      s.beta = attrs.getFloat("activation_beta", 0.f);
      return s;
    }
  return makeError(StatusCode::kInvalidArgument, "unknown fused activation '" + name + "'");
}

}  // namespace trt
