// The unary ops of trt's kernels (enum only: plain C++ that the host code, nvcc and NVRTC all
// compile; kernels/unary_apply.cuh has their math).
#pragma once

namespace trt {
namespace kernels {

enum class UnaryOp : int {
  kRelu,
  kLeakyRelu,
  kSigmoid,
  kTanh,
  kHardSigmoid,
  kHardSwish,
  kSoftplus,
  kElu,
  kGeluErf,
  kGeluTanh,
  kErf,
  kSqrt,
  kExp,
  kLog,
  kReciprocal,
  kNeg,
  kAbs,
  kIdentity,
  kClip,
  kScale,
  kSilu
};

}  // namespace kernels
}  // namespace trt
