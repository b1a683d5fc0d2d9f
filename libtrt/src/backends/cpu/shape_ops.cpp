// CPU reference kernels for the shape family. Reshape-like ops copy bytes (the output has the
// input's elements in the same order); Shape, Size, ConstantOfShape, Expand and Range fill their
// outputs. Any element type.
#include <cstring>

#include "backends/cpu/broadcast.h"
#include "backends/cpu/cpu_kernels.h"

namespace trt {
namespace cpu {
namespace {

using Views = std::vector<TensorView>;

Status copyBytes(const Layer&, const Views& in, Views& out) {
  if (in[0].byteSize() != out[0].byteSize())
    return makeError(StatusCode::kInternal, "reshape-like copy with mismatched sizes");
  if (out[0].data != in[0].data) std::memcpy(out[0].data, in[0].data, in[0].byteSize());
  return Status::ok();
}

Status shapeKernel(const Layer& l, const Views& in, Views& out) {
  const int r = static_cast<int>(in[0].dims.size());
  int64_t start = l.attrs.getInt("start", 0), end = l.attrs.getInt("end", r);
  if (start < 0) start += r;
  if (end < 0) end += r;
  start = std::clamp<int64_t>(start, 0, r);
  for (int64_t i = 0; i < out[0].numel(); ++i) out[0].as<int64_t>()[i] = in[0].dims[start + i];
  return Status::ok();
}

Status constantOfShapeKernel(const Layer& l, const Views&, Views& out) {
  const HostTensor* v = l.attrs.getTensor("value");
  TensorView& y = out[0];
  const size_t es = dataTypeSize(y.type);
  if (!v) {
    std::memset(y.data, 0, y.byteSize());
    return Status::ok();
  }
  auto* dst = static_cast<uint8_t*>(y.data);
  for (int64_t i = 0; i < y.numel(); ++i) std::memcpy(dst + i * es, v->data(), es);
  return Status::ok();
}

Status expandKernel(const Layer&, const Views& in, Views& out) {
  const size_t es = dataTypeSize(out[0].type);
  const auto* src = static_cast<const uint8_t*>(in[0].data);
  auto* dst = static_cast<uint8_t*>(out[0].data);
  broadcastLoop<1>(out[0].dims, {in[0].dims}, [&](int64_t i, const std::array<int64_t, 1>& off) {
    std::memcpy(dst + i * es, src + off[0] * es, es);
  });
  return Status::ok();
}

template <typename T>
void rangeT(const Views& in, TensorView& y) {
  const T start = in[0].as<T>()[0], delta = in[2].as<T>()[0];
  for (int64_t i = 0; i < y.numel(); ++i) y.as<T>()[i] = static_cast<T>(start + static_cast<T>(i) * delta);
}

Status rangeKernel(const Layer&, const Views& in, Views& out) {
  switch (in[0].type) {
    case DataType::kFloat32:
      rangeT<float>(in, out[0]);
      break;
    case DataType::kInt32:
      rangeT<int32_t>(in, out[0]);
      break;
    case DataType::kInt64:
      rangeT<int64_t>(in, out[0]);
      break;
    default:
      return makeError(StatusCode::kUnsupported, std::string("Range type ") + dataTypeName(in[0].type));
  }
  return Status::ok();
}

}  // namespace

void registerShapeKernels(KernelTable& t) {
  for (const char* op : {"Reshape", "Flatten", "Squeeze", "Unsqueeze"})
    t.add(op, kAnyType, copyBytes, "cpu_copy");
  t.add("Shape", kAnyType, shapeKernel);
  t.add("Size", kAnyType, [](const Layer&, const Views& in, Views& out) {
    out[0].as<int64_t>()[0] = in[0].numel();
    return Status::ok();
  });
  t.add("ConstantOfShape", {DataType::kInt64}, constantOfShapeKernel);
  t.add("Expand", kAnyType, expandKernel);
  t.add("Range", kNumeric, rangeKernel);
}

}  // namespace cpu
}  // namespace trt
