// ONNX import: ModelProto -> Network.
//
// Reads opset 11 up to the newest opset of the onnx package trt was built against, including models
// whose tensors live in external data files (resolved relative to the model's directory). Each node
// becomes one layer whose origins name the node. An unsupported op, attribute or data type fails
// with the node's name, op type and opset.
#pragma once

#include <memory>
#include <string>

#include "trt/network.h"
#include "trt/status.h"

namespace trt {

// Parses the file at `path`.
Expected<std::unique_ptr<Network>> parseOnnxFile(const std::string& path);
// Parses an in-memory ModelProto; external data is resolved against `baseDir`.
Expected<std::unique_ptr<Network>> parseOnnxBuffer(const void* data, size_t size,
                                                   const std::string& baseDir = ".");
// Lowest and highest default-domain opsets accepted.
int minSupportedOpset();
int maxSupportedOpset();

}  // namespace trt
