// HostTensor: a typed, shaped block of host memory (weights, constants, shape values, .npy data).
//
// Storage is 64-byte aligned and shared between copies (copy-on-nothing: a HostTensor copy shares
// its bytes; use clone() for a deep copy). float16 values are stored as IEEE binary16 bit patterns.
// Thread safety: concurrent reads are safe; writes need external synchronisation.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>

#include "trt/types.h"

namespace trt {

class HostTensor {
 public:
  HostTensor() = default;
  // Allocates zero-initialised storage for `dims` elements of `type`.
  HostTensor(DataType type, Dims dims);

  DataType type() const { return type_; }
  const Dims& dims() const { return dims_; }
  int64_t numel() const { return volume(dims_); }
  size_t byteSize() const { return static_cast<size_t>(numel()) * dataTypeSize(type_); }
  bool empty() const { return !storage_; }

  void* data() { return storage_.get(); }
  const void* data() const { return storage_.get(); }
  template <typename T>
  T* as() { return static_cast<T*>(data()); }
  template <typename T>
  const T* as() const { return static_cast<const T*>(data()); }

  HostTensor clone() const;
  // Same bytes, new dims (numel must match).
  Status reshape(const Dims& dims);
  // Reads element i as int64 / double whatever the integer or float type.
  int64_t intAt(int64_t i) const;
  double doubleAt(int64_t i) const;

 private:
  DataType type_ = DataType::kFloat32;
  Dims dims_;
  std::shared_ptr<uint8_t> storage_;
};

// IEEE binary16 conversion (round to nearest even).
uint16_t floatToHalf(float f);
float halfToFloat(uint16_t h);

}  // namespace trt
