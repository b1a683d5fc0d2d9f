// Shared tool helpers (see tool_util.h).
#include "common/tool_util.h"

#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

namespace trt {
namespace tools {

namespace {
std::string oneLine(std::string s) {
  for (char& c : s)
    if (c == '\n' || c == '\r') c = ' ';
  return s;
}
}  // namespace

int fail(const char* tool, const Status& st) {
  std::cerr << tool << ": error: " << oneLine(st.message()) << std::endl;
  return st.code() == StatusCode::kUnsupported && st.message().find("arrives with") != std::string::npos
             ? kExitNotYet
             : kExitError;
}

int notYet(const char* tool, const std::string& what) {
  std::cerr << tool << ": " << oneLine(what) << std::endl;
  return kExitNotYet;
}

std::pair<std::string, std::string> splitNameValue(const std::string& spec) {
  size_t c = spec.rfind(':');
  if (c == std::string::npos) return {"", spec};
  return {spec.substr(0, c), spec.substr(c + 1)};
}

Expected<std::map<std::string, Dims>> parseShapeSpecs(const std::vector<std::string>& specs) {
  std::map<std::string, Dims> out;
  for (const std::string& group : specs) {
    std::stringstream ss(group);
    std::string spec;
    while (std::getline(ss, spec, ',')) {
      if (spec.empty()) continue;
      auto [name, dims] = splitNameValue(spec);
      if (name.empty() || dims.empty())
        return makeError(StatusCode::kInvalidArgument, "bad shape spec '" + spec + "' (expected name:1x3x224x224)");
      Dims d;
      std::stringstream ds(dims);
      std::string x;
      while (std::getline(ds, x, 'x')) {
        char* end = nullptr;
        long long v = std::strtoll(x.c_str(), &end, 10);
        if (x.empty() || *end != '\0' || v < 0)
          return makeError(StatusCode::kInvalidArgument, "bad dim '" + x + "' in shape spec '" + spec + "'");
        d.push_back(v);
      }
      if (out.count(name)) return makeError(StatusCode::kInvalidArgument, "shape of '" + name + "' given twice");
      out[name] = d;
    }
  }
  return out;
}

Expected<std::vector<uint8_t>> readFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return makeError(StatusCode::kNotFound, "cannot open '" + path + "'");
  return std::vector<uint8_t>((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

Status writeFileAtomic(const std::string& path, const void* data, size_t size) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary);
    if (!f) return makeError(StatusCode::kNotFound, "cannot write '" + path + "'");
    f.write(static_cast<const char*>(data), static_cast<std::streamsize>(size));
    if (!f) {
      f.close();
      std::remove(tmp.c_str());
      return makeError(StatusCode::kRuntime, "failed writing '" + path + "'");
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    return makeError(StatusCode::kRuntime, "cannot move output into '" + path + "'");
  }
  return Status::ok();
}

std::string dimsToX(const Dims& d) {
  std::string s;
  for (size_t i = 0; i < d.size(); ++i) s += (i ? "x" : "") + std::to_string(d[i]);
  return s.empty() ? "scalar" : s;
}

std::string formatDatatype(DataType t) {
  switch (t) {
    case DataType::kFloat32: return "Row major linear FP32";
    case DataType::kFloat16: return "Row major linear FP16";
    case DataType::kInt8: return "Row major linear Int8";
    case DataType::kInt32: return "Row major linear Int32";
    case DataType::kInt64: return "Row major linear Int64";
    case DataType::kBool: return "Row major linear Bool";
  }
  return "?";
}

}  // namespace tools
}  // namespace trt
