// Shared helpers of the command-line tools: error reporting, shape specs, binding formatting,
// atomic file writes.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "trt/trt.h"

namespace trt {
namespace tools {

// Exit codes shared by all tools.
constexpr int kExitOk = 0;
constexpr int kExitError = 1;
constexpr int kExitNotYet = 2;  // a feature that belongs to a later issue (and CLI usage errors)

// Prints "<tool>: error: <message>" as one line on stderr and returns kExitError.
int fail(const char* tool, const Status& st);
// Prints "<tool>: <message>" as one line on stderr and returns kExitNotYet.
int notYet(const char* tool, const std::string& what);

// Parses "name:1x3x224x224[,name2:...]" (trtexec --shapes). Repeated names are an error.
Expected<std::map<std::string, Dims>> parseShapeSpecs(const std::vector<std::string>& specs);
// Splits "name:value" at the last ':' (first component may be empty when no ':').
std::pair<std::string, std::string> splitNameValue(const std::string& spec);

// Reads a whole file; writes a file atomically (temp + rename).
Expected<std::vector<uint8_t>> readFile(const std::string& path);
Status writeFileAtomic(const std::string& path, const void* data, size_t size);

// "1x3x224x224" style for messages.
std::string dimsToX(const Dims& d);
// TensorRT's Format/Datatype wording: "Row major linear FP32".
std::string formatDatatype(DataType t);

}  // namespace tools
}  // namespace trt
