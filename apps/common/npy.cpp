// .npy I/O (see npy.h).
#include "common/npy.h"

#include "common/tool_util.h"

#include <cstdio>
#include <fstream>
#include <regex>
#include <sstream>

namespace trt {
namespace tools {
namespace {

const char* descrOf(DataType t) {
  switch (t) {
    case DataType::kFloat32: return "<f4";
    case DataType::kFloat16: return "<f2";
    case DataType::kInt8: return "|i1";
    case DataType::kInt32: return "<i4";
    case DataType::kInt64: return "<i8";
    case DataType::kBool: return "|b1";
  }
  return "";
}

Expected<DataType> typeOfDescr(const std::string& d, const std::string& path) {
  static const std::pair<const char*, DataType> table[] = {
      {"<f4", DataType::kFloat32}, {"<f2", DataType::kFloat16}, {"|i1", DataType::kInt8}, {"<i1", DataType::kInt8},
      {"<i4", DataType::kInt32},   {"<i8", DataType::kInt64},   {"|b1", DataType::kBool}, {"<b1", DataType::kBool}};
  for (auto& e : table)
    if (d == e.first) return e.second;
  return makeError(StatusCode::kUnsupported, "'" + path + "': .npy dtype '" + d +
                                                 "' is not supported (float32, float16, int8, int32, int64, bool)");
}

}  // namespace

Expected<HostTensor> readNpy(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return makeError(StatusCode::kNotFound, "cannot open '" + path + "'");
  char magic[8];
  if (!f.read(magic, 8) || std::memcmp(magic, "\x93NUMPY", 6) != 0)
    return makeError(StatusCode::kCorrupt, "'" + path + "' is not a .npy file");
  const int major = static_cast<unsigned char>(magic[6]);
  uint32_t hlen = 0;
  if (major == 1) {
    uint16_t h;
    if (!f.read(reinterpret_cast<char*>(&h), 2)) return makeError(StatusCode::kCorrupt, "'" + path + "' is truncated");
    hlen = h;
  } else if (major == 2 || major == 3) {
    if (!f.read(reinterpret_cast<char*>(&hlen), 4)) return makeError(StatusCode::kCorrupt, "'" + path + "' is truncated");
  } else {
    return makeError(StatusCode::kUnsupported, "'" + path + "': .npy version " + std::to_string(major));
  }
  if (hlen > (1u << 20)) return makeError(StatusCode::kCorrupt, "'" + path + "' has an oversized header");
  std::string header(hlen, '\0');
  if (!f.read(header.data(), hlen)) return makeError(StatusCode::kCorrupt, "'" + path + "' is truncated");
  std::smatch m;
  if (!std::regex_search(header, m, std::regex("'descr'\\s*:\\s*'([^']*)'")))
    return makeError(StatusCode::kCorrupt, "'" + path + "': .npy header has no descr");
  TRT_ASSIGN_OR_RETURN(DataType t, typeOfDescr(m[1], path));
  if (std::regex_search(header, m, std::regex("'fortran_order'\\s*:\\s*True")))
    return makeError(StatusCode::kUnsupported, "'" + path + "': Fortran-order arrays (save with C order)");
  if (!std::regex_search(header, m, std::regex("'shape'\\s*:\\s*\\(([^)]*)\\)")))
    return makeError(StatusCode::kCorrupt, "'" + path + "': .npy header has no shape");
  Dims dims;
  std::string s = m[1];
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) {
    size_t b = item.find_first_not_of(" \t"), e = item.find_last_not_of(" \tL");
    if (b == std::string::npos) continue;
    try {
      dims.push_back(std::stoll(item.substr(b, e - b + 1)));
    } catch (...) {
      return makeError(StatusCode::kCorrupt, "'" + path + "': bad shape in .npy header");
    }
  }
  HostTensor out(t, dims);
  if (out.byteSize() && !f.read(static_cast<char*>(out.data()), static_cast<std::streamsize>(out.byteSize())))
    return makeError(StatusCode::kCorrupt, "'" + path + "' is truncated: expected " + std::to_string(out.byteSize()) +
                                               " data bytes for shape " + dimsToString(dims));
  return out;
}

Status writeNpy(const std::string& path, const HostTensor& t) {
  std::string shape = "(";
  for (size_t i = 0; i < t.dims().size(); ++i) shape += std::to_string(t.dims()[i]) + (t.dims().size() == 1 ? "," : (i + 1 < t.dims().size() ? ", " : ""));
  shape += ")";
  std::string header = std::string("{'descr': '") + descrOf(t.type()) + "', 'fortran_order': False, 'shape': " + shape + ", }";
  size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  std::string bytes("\x93NUMPY\x01\x00", 8);
  const uint16_t hl = static_cast<uint16_t>(header.size());
  bytes.append(reinterpret_cast<const char*>(&hl), 2);
  bytes += header;
  bytes.append(static_cast<const char*>(t.data()), t.byteSize());
  return writeFileAtomic(path, bytes.data(), bytes.size());
}

Expected<HostTensor> readRaw(const std::string& path, DataType type, const Dims& dims) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return makeError(StatusCode::kNotFound, "cannot open '" + path + "'");
  HostTensor out(type, dims);
  f.seekg(0, std::ios::end);
  const auto size = static_cast<size_t>(f.tellg());
  if (size != out.byteSize())
    return makeError(StatusCode::kInvalidArgument, "'" + path + "' has " + std::to_string(size) + " bytes, input needs " +
                                                       std::to_string(out.byteSize()) + " for " + dimsToString(dims));
  f.seekg(0);
  f.read(static_cast<char*>(out.data()), static_cast<std::streamsize>(size));
  return out;
}

}  // namespace tools
}  // namespace trt
