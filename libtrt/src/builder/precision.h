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

// I/O formats (BuilderConfig::inputIOFormats / outputIOFormats): a float32 graph input asked for
// as fp16 becomes float16, its boundary Cast to float16 (assignPrecisions') goes and its float32
// readers get one Cast to float32; a float32 graph output asked for as fp16 becomes float16 and is
// written by the FP16 layer behind its boundary Cast, or by a FP16 MatMul that wrote float32
// logits, or else through a new Cast to float16. Run after assignPrecisions.
Status applyIOFormats(Network& net, const std::vector<std::string>& inputFormats,
                      const std::vector<std::string>& outputFormats);

}  // namespace trt
