// TensorView: a non-owning typed view of memory with concrete dims (what kernels receive).
#pragma once

#include "trt/tensor.h"
#include "trt/types.h"

namespace trt {

// Dims seen as [outer, n, inner] around `axis`: the shape every per-axis kernel loops over.
struct AxisSplit {
  int64_t outer = 1, n = 1, inner = 1;
};
inline AxisSplit splitAt(const Dims& d, int axis) {
  AxisSplit s;
  for (int i = 0; i < axis; ++i) s.outer *= d[i];
  s.n = d[axis];
  for (size_t i = axis + 1; i < d.size(); ++i) s.inner *= d[i];
  return s;
}

struct TensorView {
  DataType type = DataType::kFloat32;
  Dims dims;
  void* data = nullptr;
  // The same values in host memory when they are known there (constants and shape tensors), else
  // null. Device layers read shape parameters (Slice starts, Pad pads, ...) from here.
  const void* host = nullptr;
  // Elements from one row of the last axis to the next when the tensor is a part of a wider one
  // (channel-concat elision: an NHWC convolution writing its channels into the concatenation's
  // buffer); 0: dense. Only outputs of layers that say they write so (Backend::writesRowStrided)
  // are ever strided, and only layers that say they read so (Backend::readsRowStrided) read them
  // besides the Concat.
  int64_t rowStride = 0;

  int64_t numel() const { return volume(dims); }
  size_t byteSize() const { return static_cast<size_t>(numel()) * dataTypeSize(type); }
  template <typename T>
  T* as() const {
    return static_cast<T*>(data);
  }
  // Element i of the host copy as int64 (int32/int64/bool host data).
  int64_t hostInt(int64_t i) const {
    switch (type) {
      case DataType::kInt32:
        return static_cast<const int32_t*>(host)[i];
      case DataType::kInt64:
        return static_cast<const int64_t*>(host)[i];
      case DataType::kInt8:
      case DataType::kBool:
        return static_cast<const int8_t*>(host)[i];
      case DataType::kFloat32:
        return static_cast<int64_t>(static_cast<const float*>(host)[i]);
      default:
        return 0;
    }
  }
  static TensorView of(HostTensor& t) { return TensorView{t.type(), t.dims(), t.data(), t.data()}; }
  static TensorView of(const HostTensor& t) {
    return TensorView{t.type(), t.dims(), const_cast<void*>(t.data()), t.data()};
  }
};

}  // namespace trt
