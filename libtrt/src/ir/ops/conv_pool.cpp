// Shape inference for Conv, ConvTranspose and the pooling ops.
#include "ir/op_registry.h"
#include "ir/ops/activation.h"
#include "ir/ops/window.h"

namespace trt {
namespace {

std::vector<int64_t> spatialOf(const Shape& s) {
  std::vector<int64_t> r;
  for (size_t i = 2; i < s.size(); ++i) r.push_back(s[i].value);
  return r;
}

// Output shape of a convolution over NC + spatial input x and weight w (OI + kernel dims).
Expected<Shape> convShape(const Attributes& attrs, const Shape& x, const Shape& w, bool transposed) {
  auto err = [](const std::string& m) { return makeError(StatusCode::kInvalidArgument, m); };
  if (x.size() < 3 || w.size() != x.size()) return err("input and weight ranks must match and be >= 3");
  if (!isStatic(w)) return makeError(StatusCode::kUnsupported, "the weight shape must be static");
  std::vector<int64_t> kernel;
  for (size_t i = 2; i < w.size(); ++i) kernel.push_back(w[i].value);
  kernel = attrs.getInts("kernel_shape", kernel);
  int64_t group = attrs.getInt("group", 1);
  TRT_ASSIGN_OR_RETURN(WindowParams p, resolveWindow(attrs, kernel, spatialOf(x), transposed));
  Shape out{x[0]};
  if (!transposed) {
    if (x[1].isStatic() && x[1].value != w[1].value * group)
      return err("input channels " + std::to_string(x[1].value) + " != weight channels " +
                 std::to_string(w[1].value) + " x group " + std::to_string(group));
    out.push_back(w[0]);
  } else {
    if (x[1].isStatic() && x[1].value != w[0].value) return err("input channels do not match the weight");
    out.push_back(Dim(w[1].value * group));
  }
  std::vector<int64_t> outputShape = attrs.getInts("output_shape");
  for (size_t d = 0; d + 2 < x.size(); ++d) {
    if (transposed && !outputShape.empty()) {
      out.push_back(Dim(outputShape[outputShape.size() - (x.size() - 2) + d]));
      continue;
    }
    int64_t o = windowOutput(p, d, x[d + 2].value, transposed);
    out.push_back(o < 0 ? Dim() : Dim(o));
  }
  return out;
}

Shape permuted(const Shape& s, std::initializer_list<int> perm) {
  Shape r;
  for (int p : perm) r.push_back(s[p]);
  return r;
}

Status inferConv(InferContext& c, bool transposed) {
  if (c.type(0) != DataType::kFloat32 && c.type(0) != DataType::kFloat16)
    return c.unsupported(std::string("input type ") + dataTypeName(c.type(0)));
  TRT_ASSIGN_OR_RETURN(Shape out, convShape(c.attrs(), c.shape(0), c.shape(1), transposed));
  if (c.hasInput(2) && isStatic(c.shape(2)) &&
      (c.shape(2).size() != 1 || c.shape(2)[0].value != out[1].value))
    return c.error("bias must have one value per output channel");
  c.setOutput(0, c.type(0), out);
  return Status::ok();
}

// FusedConv: Y = activation(Conv(X, W) + B + Z), or activation(Conv(X, W) + B) + Z when the
// attribute z_after_activation is 1; X/Y/Z NCHW, or NHWC with W as OHWI when the attribute layout
// is "NHWC" (2-D only).
Status inferFusedConv(InferContext& c) {
  if (c.type(0) != DataType::kFloat32 && c.type(0) != DataType::kFloat16)
    return c.unsupported(std::string("input type ") + dataTypeName(c.type(0)));
  const std::string layout = c.attrs().getString("layout", "NCHW");
  if (layout != "NCHW" && layout != "NHWC") return c.error("unknown layout '" + layout + "'");
  const bool nhwc = layout == "NHWC";
  if (nhwc && (c.rank(0) != 4 || c.rank(1) != 4))
    return c.error("the NHWC layout needs 4-D input and weight");
  Shape x = nhwc ? permuted(c.shape(0), {0, 3, 1, 2}) : c.shape(0);
  Shape w = nhwc ? permuted(c.shape(1), {0, 3, 1, 2}) : c.shape(1);
  TRT_ASSIGN_OR_RETURN(Shape out, convShape(c.attrs(), x, w, false));
  if (c.hasInput(2) && isStatic(c.shape(2)) &&
      (c.shape(2).size() != 1 || c.shape(2)[0].value != out[1].value))
    return c.error("bias must have one value per output channel");
  if (nhwc) out = permuted(out, {0, 2, 3, 1});
  if (c.hasInput(3)) {
    const Shape& z = c.shape(3);
    bool same = z.size() == out.size();
    for (size_t i = 0; same && i < z.size(); ++i)
      same = !(z[i].isStatic() && out[i].isStatic() && z[i].value != out[i].value);
    if (!same) return c.error("the residual input Z must have the output's shape");
  }
  TRT_ASSIGN_OR_RETURN(ActivationSpec act, activationOf(c.attrs()));
  (void)act;
  c.setOutput(0, c.type(0), out);
  return Status::ok();
}

// MaxPool/AveragePool; the internal attribute layout = "NHWC" (set by the builder's layout
// assignment, 4-D only) says the input and output are channels-last.
Status inferPool(InferContext& c) {
  const bool nhwc = c.attrs().getString("layout", "NCHW") == "NHWC";
  if (nhwc && c.rank(0) != 4) return c.error("the NHWC layout needs a 4-D input");
  const Shape x = nhwc ? permuted(c.shape(0), {0, 3, 1, 2}) : c.shape(0);
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
  c.setOutput(0, c.type(0), nhwc ? permuted(out, {0, 2, 3, 1}) : out);
  if (c.numOutputs() > 1) return c.unsupported("MaxPool's Indices output");
  return Status::ok();
}

// MaxPoolCascade (fuse-maxpool-cascade, YOLOv5's SPPF): X and `count` max pools in a chain, each
// over the previous one with a k x k window, stride 1 and k / 2 pads on every side (which a max
// pool ignores), so each keeps X's size, concatenated along the channels: Y = [X, P1, .., Pcount].
// kernel_shape [k, k] with k odd; layout NHWC as for MaxPool.
Status inferMaxPoolCascade(InferContext& c) {
  const bool nhwc = c.attrs().getString("layout", "NCHW") == "NHWC";
  if (c.rank(0) != 4) return c.error("MaxPoolCascade needs a 4-D input");
  if (c.type(0) != DataType::kFloat32 && c.type(0) != DataType::kFloat16)
    return c.unsupported(std::string("input type ") + dataTypeName(c.type(0)));
  const std::vector<int64_t> k = c.attrs().getInts("kernel_shape");
  const int64_t count = c.attrs().getInt("count", 0);
  if (k.size() != 2 || k[0] != k[1] || k[0] < 1 || k[0] % 2 == 0)
    return c.error("MaxPoolCascade needs kernel_shape [k, k] with k odd");
  if (count < 1) return c.error("MaxPoolCascade needs count >= 1");
  Shape out = c.shape(0);
  Dim& ch = out[nhwc ? 3 : 1];
  if (ch.isStatic())
    ch = Dim(ch.value * (count + 1));
  else
    ch = Dim();
  c.setOutput(0, c.type(0), out);
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
  r.add("FusedConv", 2, 4, 1, 1, inferFusedConv);
}

void registerPoolOps(OpRegistry& r) {
  r.add("MaxPool", 1, 1, 1, 2, inferPool);
  r.add("AveragePool", 1, 1, 1, 1, inferPool);
  r.add("GlobalAveragePool", 1, 1, 1, 1, inferGlobalPool);
  r.add("GlobalMaxPool", 1, 1, 1, 1, inferGlobalPool);
  r.add("MaxPoolCascade", 1, 1, 1, 1, inferMaxPoolCascade);
}

}  // namespace trt
