// Activations that fused layers (FusedConv, and later GEMM epilogues) apply to their result.
//
// A fused layer carries them as attributes: "activation" (the name below, absent or "" for none),
// "activation_alpha" and "activation_beta" (LeakyRelu: alpha; Clip: min, max; HardSigmoid:
// alpha, beta). The CPU reference applies them with applyActivation; the CUDA kernels map them
// onto their own unary ops.
#pragma once

#include <cmath>
#include <string>

#include "trt/network.h"

namespace trt {

enum class Activation { kNone, kRelu, kLeakyRelu, kSigmoid, kTanh, kHardSigmoid, kHardSwish, kClip, kSilu, kGeluErf, kGeluTanh };

struct ActivationSpec {
  Activation kind = Activation::kNone;
  float alpha = 0.f, beta = 0.f;
};

// Parses a layer's activation attributes; an unknown name is an error naming it.
Expected<ActivationSpec> activationOf(const Attributes& attrs);
// The attribute spelling of an activation ("Relu", "Silu", ...; "" for none).
const char* activationName(Activation a);

inline float applyActivation(const ActivationSpec& a, float v) {
  switch (a.kind) {
    case Activation::kNone: return v;
    case Activation::kRelu: return v > 0.f ? v : 0.f;
    case Activation::kLeakyRelu: return v >= 0.f ? v : a.alpha * v;
    case Activation::kSigmoid: return 1.f / (1.f + std::exp(-v));
    case Activation::kTanh: return std::tanh(v);
    case Activation::kHardSigmoid: return std::fmax(0.f, std::fmin(1.f, a.alpha * v + a.beta));
    case Activation::kHardSwish: return v * std::fmax(0.f, std::fmin(1.f, v / 6.f + 0.5f));
    case Activation::kClip: return std::isnan(v) ? v : std::fmin(std::fmax(v, a.alpha), a.beta);
    case Activation::kSilu: return v / (1.f + std::exp(-v));
    case Activation::kGeluErf: return 0.5f * v * (1.f + std::erf(v * 0.70710678118654752f));
    case Activation::kGeluTanh:
      return 0.5f * v * (1.f + std::tanh(0.7978845608028654f * (v + 0.044715f * v * v * v)));
  }
  return v;
}

}  // namespace trt
