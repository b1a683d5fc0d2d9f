// Precision assignment: which layers run in FP16 (or TF32), and the casts at the boundaries.
//
// With FP16 allowed, every layer the backend can run in FP16 gets precision "fp16": its float32
// activations become float16, its float weights are converted once at build time, and Cast layers
// ("reformats") are inserted wherever an FP16 layer meets an FP32 one. Engine inputs and outputs
// keep the model's declared types. Reductions keep FP32 (accuracy); softmax and layer norm run in
// FP16 storage with FP32 accumulation inside their kernels. With TF32 allowed, the remaining FP32
// layers are marked "tf32" (cuDNN and cuBLASLt may then use TF32 tensor cores).
#pragma once

#include "backends/backend.h"
#include "trt/network.h"

namespace trt {

struct PrecisionOptions {
  bool fp16 = false;
  bool tf32 = false;
};

Status assignPrecisions(Network& net, const Backend& backend, const PrecisionOptions& options);

}  // namespace trt
