// Data types, dimensions and shapes of the network IR.
//
// A Dim is either static (value >= 0) or dynamic: value -1 with an optional symbol such as
// "batch" or "seq". Dims with the same non-empty symbol are equal at run time. At run time every
// shape is concrete (a Dims vector of int64).
// Thread safety: plain values.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "trt/status.h"

namespace trt {

enum class DataType : uint8_t { kFloat32, kFloat16, kInt8, kInt32, kInt64, kBool };

// Stable names used in plans, JSON and messages: "float32", "float16", "int8", "int32", "int64", "bool".
const char* dataTypeName(DataType t);
Expected<DataType> dataTypeFromName(const std::string& name);
size_t dataTypeSize(DataType t);
bool isIntegerType(DataType t);  // int8, int32, int64

struct Dim {
  int64_t value = -1;  // >= 0 when static
  std::string symbol;  // name of a dynamic dim; empty when unknown or static

  Dim() = default;
  Dim(int64_t v) : value(v) {}  // NOLINT: a static dim converts implicitly
  static Dim symbolic(std::string name) {
    Dim d;
    d.symbol = std::move(name);
    return d;
  }
  bool isStatic() const { return value >= 0; }
  bool operator==(const Dim& o) const { return value == o.value && symbol == o.symbol; }
  bool operator!=(const Dim& o) const { return !(*this == o); }
  std::string toString() const;  // "3", "batch" or "?"
};

using Shape = std::vector<Dim>;      // possibly symbolic
using Dims = std::vector<int64_t>;   // concrete

bool isStatic(const Shape& s);
Dims toDims(const Shape& s);  // requires isStatic(s)
Shape toShape(const Dims& d);
int64_t volume(const Dims& d);
std::string shapeToString(const Shape& s);  // "[batch,3,224,224]"
std::string dimsToString(const Dims& d);    // "[1,3,224,224]"

}  // namespace trt
