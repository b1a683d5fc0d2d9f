// Precision assignment (see precision.h).
#include "builder/precision.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "ir/op_registry.h"
#include "ir/shape_inference.h"

namespace trt {
namespace {

// Inputs that keep their own precision whatever the layer's: BatchNormalization's statistics are
// read as float32 by the kernel; Resize's roi/scales are shape parameters read on the host.
bool keepsFp32(const Layer& l, size_t slot, bool fp32Output) {
  if (l.type == "BatchNormalization") return slot >= 1;
  if (l.type == "Resize") return slot >= 1;
  if (l.type == "Gemm" && fp32Output) return slot == 2;  // C is added into the FP32 output
  return false;
}

// Matrix products that produce a graph output write it in FP32 straight from their FP32
// accumulators (cuBLASLt takes FP16 A/B with an FP32 D): logits keep their resolution.
bool keepsFp32Output(const Layer& l) {
  return l.type == "MatMul" || l.type == "Gemm";
}

// Weights to FP16, saturating at the FP16 range as TensorRT does: a float32 "minus infinity"
// mask constant (finfo.min) must stay finite, or 0 * mask turns into NaN.
// (Parallel: a transformer's weights are 10^8 values, and this runs in every FP16 build.)
HostTensor toHalf(const HostTensor& t) {
  HostTensor h(DataType::kFloat16, t.dims());
  const float* src = t.as<float>();
  uint16_t* dst = h.as<uint16_t>();
  const int64_t n = t.numel();
#pragma omp parallel for if (n > (1 << 16))
  for (int64_t i = 0; i < n; ++i) {
    const float v = src[i];
    dst[i] = floatToHalf(std::isfinite(v) ? std::max(-65504.f, std::min(65504.f, v)) : v);
  }
  return h;
}

}  // namespace

Status assignPrecisions(Network& net, const Backend& backend, const PrecisionOptions& options) {
  if (!options.fp16) {
    if (options.tf32)
      for (Layer& l : net.layers()) l.precision = "tf32";
    return Status::ok();
  }
  std::vector<Layer> layers = std::move(net.layers());
  net.layers().clear();
  std::map<std::pair<int, DataType>, int> castCache;  // (tensor, to) -> cast output
  int castCount = 0;
  auto castTo = [&](int t, DataType to, const std::string& origin) -> int {
    auto key = std::make_pair(t, to);
    auto it = castCache.find(key);
    if (it != castCache.end()) return it->second;
    // Copies: adding tensors below may move the tensor list.
    const std::string srcName = net.tensor(t).name;
    const Shape srcShape = net.tensor(t).shape;
    const std::shared_ptr<HostTensor> srcConst = net.tensor(t).constant;
    int out;
    if (srcConst && to == DataType::kFloat16) {
      out = net.addConstant(srcName + "__fp16", toHalf(*srcConst));
    } else {
      out = net.addTensor(srcName + (to == DataType::kFloat16 ? "__fp16" : "__fp32"), to, srcShape);
      Layer cast;
      cast.name =
          "reformat_" + std::to_string(castCount++) + " (" + srcName + " to " + dataTypeName(to) + ")";
      cast.type = "Cast";
      cast.attrs.set("to", std::string(dataTypeName(to)));
      cast.inputs = {t};
      cast.outputs = {out};
      cast.origins = {origin};
      cast.precision = to == DataType::kFloat16 ? "fp16" : "fp32";
      net.addLayer(std::move(cast));
    }
    castCache[key] = out;
    return out;
  };
  for (Layer& l : layers) {
    // Shape and Size read only their input's shape: no reformat for them (it would run for nothing).
    const OpSchema* schema = OpRegistry::instance().find(l.type);
    if (schema && schema->readsOnlyShapes) {
      l.precision = options.tf32 ? "tf32" : "fp32";
      net.addLayer(std::move(l));
      continue;
    }
    bool hasFloatData = false;
    for (int i : l.inputs)
      if (i >= 0 && net.tensor(i).type == DataType::kFloat32 && !net.tensor(i).isConstant())
        hasFloatData = true;
    for (int o : l.outputs)
      if (net.tensor(o).type == DataType::kFloat32) hasFloatData = true;
    const bool fp16 = hasFloatData && backend.supportsPrecision(l, "fp16");
    const std::string origin = l.origins.empty() ? l.name : l.origins[0];
    if (fp16) {
      bool fp32Output = keepsFp32Output(l);
      for (int o : l.outputs)
        fp32Output = fp32Output && net.tensor(o).isOutput && net.tensor(o).type == DataType::kFloat32;
      if (fp32Output) l.attrs.set("out_dtype", std::string("float32"));
      for (size_t k = 0; k < l.inputs.size(); ++k) {
        int t = l.inputs[k];
        if (t < 0 || keepsFp32(l, k, fp32Output)) continue;
        if (net.tensor(t).type == DataType::kFloat32) l.inputs[k] = castTo(t, DataType::kFloat16, origin);
      }
      std::vector<std::pair<int, int>> restore;  // (fp16 output, declared fp32 graph output)
      for (int& o : l.outputs) {
        if (net.tensor(o).type != DataType::kFloat32) continue;
        if (net.tensor(o).isOutput) {
          if (fp32Output) continue;  // FP16 inputs, FP32 output from the same kernel
          const std::string name = net.tensor(o).name;
          const Shape shape = net.tensor(o).shape;
          int half = net.addTensor(name + "__fp16", DataType::kFloat16, shape);
          restore.push_back({half, o});
          o = half;
        } else {
          net.tensor(o).type = DataType::kFloat16;
        }
      }
      l.precision = "fp16";
      net.addLayer(std::move(l));
      for (auto& [half, declared] : restore) {
        Layer cast;
        cast.name =
            "reformat_" + std::to_string(castCount++) + " (" + net.tensor(declared).name + " to float32)";
        cast.type = "Cast";
        cast.attrs.set("to", std::string("float32"));
        cast.inputs = {half};
        cast.outputs = {declared};
        cast.origins = {origin};
        cast.precision = "fp32";
        net.addLayer(std::move(cast));
      }
    } else {
      for (int& t : l.inputs)
        if (t >= 0 && net.tensor(t).type == DataType::kFloat16 && !net.tensor(t).isInput &&
            !net.tensor(t).isConstant())
          t = castTo(t, DataType::kFloat32, origin);
      l.precision = options.tf32 ? "tf32" : "fp32";
      net.addLayer(std::move(l));
    }
  }
  net.rebuildProducers();
  // Drop weights that only their FP16 copies use now.
  std::vector<bool> keep(net.layers().size(), true);
  net.compact(keep);
  return net.validate();
}

}  // namespace trt
