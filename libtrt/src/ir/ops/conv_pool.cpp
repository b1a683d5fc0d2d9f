// Shape inference for Conv, ConvTranspose and the pooling ops.
#include "ir/op_registry.h"
#include "ir/ops/window.h"

namespace trt {
namespace {

std::vector<int64_t> spatialOf(const Shape& s) {
  std::vector<int64_t> r;
  for (size_t i = 2; i < s.size(); ++i) r.push_back(s[i].value);
  return r;
}

Status inferConv(InferContext& c, bool transposed) {
  if (c.type(0) != DataType::kFloat32 && c.type(0) != DataType::kFloat16)
    return c.unsupported(std::string("input type ") + dataTypeName(c.type(0)));
  const Shape& x = c.shape(0);
  const Shape& w = c.shape(1);
  if (x.size() < 3 || w.size() != x.size()) return c.error("input and weight ranks must match and be >= 3");
  if (!isStatic(w)) return c.unsupported("the weight shape must be static");
  std::vector<int64_t> kernel;
  for (size_t i = 2; i < w.size(); ++i) kernel.push_back(w[i].value);
  kernel = c.attrs().getInts("kernel_shape", kernel);
  int64_t group = c.attrs().getInt("group", 1);
  TRT_ASSIGN_OR_RETURN(WindowParams p, resolveWindow(c.attrs(), kernel, spatialOf(x), transposed));
  Shape out{x[0]};
  if (!transposed) {
    if (x[1].isStatic() && x[1].value != w[1].value * group)
      return c.error("input channels " + std::to_string(x[1].value) + " != weight channels " +
                     std::to_string(w[1].value) + " x group " + std::to_string(group));
    out.push_back(w[0]);
  } else {
    if (x[1].isStatic() && x[1].value != w[0].value)
      return c.error("input channels do not match the weight");
    out.push_back(Dim(w[1].value * group));
  }
  std::vector<int64_t> outputShape = c.attrs().getInts("output_shape");
  for (size_t d = 0; d + 2 < x.size(); ++d) {
    if (transposed && !outputShape.empty()) {
      out.push_back(Dim(outputShape[outputShape.size() - (x.size() - 2) + d]));
      continue;
    }
    int64_t o = windowOutput(p, d, x[d + 2].value, transposed);
    out.push_back(o < 0 ? Dim() : Dim(o));
  }
  if (c.hasInput(2) && isStatic(c.shape(2)) && (c.shape(2).size() != 1 || c.shape(2)[0].value != out[1].value))
    return c.error("bias must have one value per output channel");
  c.setOutput(0, c.type(0), out);
  return Status::ok();
}

Status inferPool(InferContext& c) {
  const Shape& x = c.shape(0);
  if (x.size() < 3) return c.error("pooling needs an input of rank >= 3");
  if (c.type(0) != DataType::kFloat32 && c.type(0) != DataType::kFloat16)
    return c.unsupported(std::string("input type ") + dataTypeName(c.type(0)));
  std::vector<int64_t> kernel = c.attrs().getInts("kernel_shape");
  if (kernel.size() + 2 != x.size()) return c.error("kernel_shape does not match the input rank");
  TRT_ASSIGN_OR_RETURN(WindowParams p, resolveWindow(c.attrs(), kernel, spatialOf(x), false));
  Shape out{x[0], x[1]};
  for (size_t d = 0; d + 2 < x.size(); ++d) {
    int64_t o = windowOutput(p, d, x[d + 2].value, false);
    out.push_back(o < 0 ? Dim() : Dim(o));
  }
  c.setOutput(0, c.type(0), out);
  if (c.numOutputs() > 1) return c.unsupported("MaxPool's Indices output");
  return Status::ok();
}

Status inferGlobalPool(InferContext& c) {
  const Shape& x = c.shape(0);
  if (x.size() < 3) return c.error("global pooling needs an input of rank >= 3");
  if (c.type(0) != DataType::kFloat32 && c.type(0) != DataType::kFloat16)
    return c.unsupported(std::string("input type ") + dataTypeName(c.type(0)));
  Shape out{x[0], x[1]};
  for (size_t d = 2; d < x.size(); ++d) out.push_back(Dim(1));
  c.setOutput(0, c.type(0), out);
  return Status::ok();
}

}  // namespace

void registerConvOps(OpRegistry& r) {
  r.add("Conv", 2, 3, 1, 1, [](InferContext& c) { return inferConv(c, false); });
  r.add("ConvTranspose", 2, 3, 1, 1, [](InferContext& c) { return inferConv(c, true); });
}

void registerPoolOps(OpRegistry& r) {
  r.add("MaxPool", 1, 1, 1, 2, inferPool);
  r.add("AveragePool", 1, 1, 1, 1, inferPool);
  r.add("GlobalAveragePool", 1, 1, 1, 1, inferGlobalPool);
  r.add("GlobalMaxPool", 1, 1, 1, 1, inferGlobalPool);
}

}  // namespace trt
