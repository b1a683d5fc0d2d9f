// Status, data types, shapes, HostTensor and the stderr logger: the leaf utilities of the IR.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <mutex>
#include <sstream>

#include "trt/logger.h"
#include "trt/status.h"
#include "trt/tensor.h"
#include "trt/types.h"

namespace trt {

const char* statusCodeName(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return "ok";
    case StatusCode::kInvalidArgument: return "invalid argument";
    case StatusCode::kNotFound: return "not found";
    case StatusCode::kUnsupported: return "unsupported";
    case StatusCode::kCorrupt: return "corrupt";
    case StatusCode::kMismatch: return "mismatch";
    case StatusCode::kRuntime: return "runtime error";
    case StatusCode::kInternal: return "internal error";
  }
  return "unknown";
}

Status& Status::withContext(const std::string& where) {
  if (!isOk()) message_ = where + ": " + message_;
  return *this;
}

std::string Status::toString() const { return isOk() ? "ok" : message_; }

const char* dataTypeName(DataType t) {
  switch (t) {
    case DataType::kFloat32: return "float32";
    case DataType::kFloat16: return "float16";
    case DataType::kInt8: return "int8";
    case DataType::kInt32: return "int32";
    case DataType::kInt64: return "int64";
    case DataType::kBool: return "bool";
  }
  return "?";
}

Expected<DataType> dataTypeFromName(const std::string& name) {
  for (DataType t : {DataType::kFloat32, DataType::kFloat16, DataType::kInt8, DataType::kInt32,
                     DataType::kInt64, DataType::kBool}) {
    if (name == dataTypeName(t)) return t;
  }
  return makeError(StatusCode::kInvalidArgument, "unknown data type '" + name + "'");
}

size_t dataTypeSize(DataType t) {
  switch (t) {
    case DataType::kFloat32: return 4;
    case DataType::kFloat16: return 2;
    case DataType::kInt8: return 1;
    case DataType::kInt32: return 4;
    case DataType::kInt64: return 8;
    case DataType::kBool: return 1;
  }
  return 0;
}

bool isIntegerType(DataType t) {
  return t == DataType::kInt8 || t == DataType::kInt32 || t == DataType::kInt64;
}

std::string Dim::toString() const {
  if (isStatic()) return std::to_string(value);
  return symbol.empty() || symbol[0] == '?' ? "?" : symbol;  // "?N_A": an unknown dim's own name
}

bool isStatic(const Shape& s) {
  for (const Dim& d : s)
    if (!d.isStatic()) return false;
  return true;
}

Dims toDims(const Shape& s) {
  Dims d;
  d.reserve(s.size());
  for (const Dim& x : s) d.push_back(x.value);
  return d;
}

Shape toShape(const Dims& d) { return Shape(d.begin(), d.end()); }

int64_t volume(const Dims& d) {
  int64_t v = 1;
  for (int64_t x : d) v *= x;
  return v;
}

std::string shapeToString(const Shape& s) {
  std::string r = "[";
  for (size_t i = 0; i < s.size(); ++i) r += (i ? "," : "") + s[i].toString();
  return r + "]";
}

std::string dimsToString(const Dims& d) { return shapeToString(toShape(d)); }

HostTensor::HostTensor(DataType type, Dims dims) : type_(type), dims_(std::move(dims)) {
  size_t bytes = byteSize();
  size_t alloc = (bytes + 63) / 64 * 64;
  if (alloc == 0) alloc = 64;
  void* p = std::aligned_alloc(64, alloc);
  std::memset(p, 0, alloc);
  storage_ = std::shared_ptr<uint8_t>(static_cast<uint8_t*>(p), [](uint8_t* q) { std::free(q); });
}

HostTensor HostTensor::clone() const {
  HostTensor t(type_, dims_);
  if (byteSize()) std::memcpy(t.data(), data(), byteSize());
  return t;
}

Status HostTensor::reshape(const Dims& dims) {
  if (volume(dims) != numel())
    return makeError(StatusCode::kInvalidArgument,
                     "cannot reshape " + dimsToString(dims_) + " to " + dimsToString(dims));
  dims_ = dims;
  return Status::ok();
}

int64_t HostTensor::intAt(int64_t i) const {
  switch (type_) {
    case DataType::kInt64: return as<int64_t>()[i];
    case DataType::kInt32: return as<int32_t>()[i];
    case DataType::kInt8: return as<int8_t>()[i];
    case DataType::kBool: return as<uint8_t>()[i];
    case DataType::kFloat32: return static_cast<int64_t>(as<float>()[i]);
    case DataType::kFloat16: return static_cast<int64_t>(halfToFloat(as<uint16_t>()[i]));
  }
  return 0;
}

double HostTensor::doubleAt(int64_t i) const {
  switch (type_) {
    case DataType::kFloat32: return as<float>()[i];
    case DataType::kFloat16: return halfToFloat(as<uint16_t>()[i]);
    default: return static_cast<double>(intAt(i));
  }
}

uint16_t floatToHalf(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  uint32_t sign = (x >> 16) & 0x8000;
  uint32_t mant = x & 0x7fffff;
  int32_t exp = static_cast<int32_t>((x >> 23) & 0xff);
  if (exp == 0xff) return static_cast<uint16_t>(sign | 0x7c00 | (mant ? 0x200 : 0));
  int32_t e = exp - 127 + 15;
  if (e >= 0x1f) return static_cast<uint16_t>(sign | 0x7c00);
  if (e <= 0) {
    if (e < -10) return static_cast<uint16_t>(sign);
    mant |= 0x800000;
    uint32_t shift = static_cast<uint32_t>(14 - e);
    uint32_t half = mant >> shift;
    uint32_t rem = mant & ((1u << shift) - 1);
    uint32_t mid = 1u << (shift - 1);
    if (rem > mid || (rem == mid && (half & 1))) ++half;
    return static_cast<uint16_t>(sign | half);
  }
  uint32_t half = sign | (static_cast<uint32_t>(e) << 10) | (mant >> 13);
  uint32_t rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem == 0x1000 && (half & 1))) ++half;
  return static_cast<uint16_t>(half);
}

float halfToFloat(uint16_t h) {
  uint32_t sign = (h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1f;
  uint32_t mant = h & 0x3ff;
  uint32_t x;
  if (exp == 0) {
    if (mant == 0) {
      x = sign;
    } else {
      int e = -1;
      do {
        ++e;
        mant <<= 1;
      } while (!(mant & 0x400));
      x = sign | (static_cast<uint32_t>(127 - 15 - e) << 23) | ((mant & 0x3ff) << 13);
    }
  } else if (exp == 0x1f) {
    x = sign | 0x7f800000 | (mant << 13);
  } else {
    x = sign | ((exp + 127 - 15) << 23) | (mant << 13);
  }
  float f;
  std::memcpy(&f, &x, 4);
  return f;
}

void StderrLogger::log(Severity severity, const std::string& message) {
  if (static_cast<int>(severity) > static_cast<int>(min_)) return;
  static std::mutex mu;
  static const char* tags[] = {"E", "W", "I", "V"};
  std::lock_guard<std::mutex> lock(mu);
  std::cerr << "[trt] " << tags[static_cast<int>(severity)] << ": " << message << "\n";
}

Logger& defaultLogger() {
  static StderrLogger logger;
  return logger;
}

}  // namespace trt
