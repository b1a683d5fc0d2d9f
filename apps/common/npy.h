// .npy reading and writing (format versions 1.0-3.0 read, 1.0 written) for float32, float16,
// int8, int32, int64 and bool arrays in C order, plus trtexec's raw .bin inputs.
#pragma once

#include <string>

#include "trt/tensor.h"

namespace trt {
namespace tools {

Expected<HostTensor> readNpy(const std::string& path);
// Writes atomically: a temporary file renamed into place, so a failure leaves no partial file.
Status writeNpy(const std::string& path, const HostTensor& t);
// Reads raw little-endian bytes of `type` with `dims` (trtexec --loadInputs .bin).
Expected<HostTensor> readRaw(const std::string& path, DataType type, const Dims& dims);

}  // namespace tools
}  // namespace trt
