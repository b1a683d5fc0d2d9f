// The unary ops' math, one float at a time: the kernels' (through kernel_common.cuh) and the
// Pointwise kernels that trt generates and compiles with NVRTC at run time
// (libtrt/src/backends/cuda/pointwise_nvrtc.cpp), which compile this file as it is: device math
// only, no includes but unary_op.h.
#pragma once

#include "unary_op.h"

namespace trt {
namespace kernels {

// y = op(v) for one float (alpha a, beta b).
__device__ __forceinline__ float unaryApply(UnaryOp op, float v, float a, float b) {
  switch (op) {
    case UnaryOp::kRelu:
      return v > 0.f ? v : 0.f;
    case UnaryOp::kLeakyRelu:
      return v >= 0.f ? v : a * v;
    case UnaryOp::kSigmoid:
      return 1.f / (1.f + expf(-v));
    case UnaryOp::kTanh:
      return tanhf(v);
    case UnaryOp::kHardSigmoid:
      return fmaxf(0.f, fminf(1.f, a * v + b));
    case UnaryOp::kHardSwish:
      return v * fmaxf(0.f, fminf(1.f, v / 6.f + 0.5f));
    case UnaryOp::kSoftplus:
      return v > 20.f ? v : log1pf(expf(v));
    case UnaryOp::kElu:
      return v >= 0.f ? v : a * (expf(v) - 1.f);
    case UnaryOp::kGeluErf:
      return 0.5f * v * (1.f + erff(v * 0.70710678118654752f));
    case UnaryOp::kGeluTanh:
      return 0.5f * v * (1.f + tanhf(0.7978845608028654f * (v + 0.044715f * v * v * v)));
    case UnaryOp::kErf:
      return erff(v);
    case UnaryOp::kSqrt:
      return sqrtf(v);
    case UnaryOp::kExp:
      return expf(v);
    case UnaryOp::kLog:
      return logf(v);
    case UnaryOp::kReciprocal:
      return 1.f / v;
    case UnaryOp::kNeg:
      return -v;
    case UnaryOp::kAbs:
      return fabsf(v);
    case UnaryOp::kIdentity:
      return v;
    case UnaryOp::kScale:
      return a * v;
    case UnaryOp::kSilu:
      return v / (1.f + expf(-v));
    case UnaryOp::kClip: {
      if (isnan(v)) return v;
      v = v < a ? a : v;
      return v > b ? b : v;
    }
  }
  return v;
}

}  // namespace kernels
}  // namespace trt
