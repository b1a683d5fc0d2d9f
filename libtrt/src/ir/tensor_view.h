// TensorView: a non-owning typed view of memory with concrete dims (what kernels receive).
#pragma once

#include "trt/tensor.h"
#include "trt/types.h"

namespace trt {

struct TensorView {
  DataType type = DataType::kFloat32;
  Dims dims;
  void* data = nullptr;

  int64_t numel() const { return volume(dims); }
  size_t byteSize() const { return static_cast<size_t>(numel()) * dataTypeSize(type); }
  template <typename T>
  T* as() const { return static_cast<T*>(data); }
  static TensorView of(HostTensor& t) { return TensorView{t.type(), t.dims(), t.data()}; }
  static TensorView of(const HostTensor& t) {
    return TensorView{t.type(), t.dims(), const_cast<void*>(t.data())};
  }
};

}  // namespace trt
