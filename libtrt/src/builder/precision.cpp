// Precision assignment (see precision.h).
#include "builder/precision.h"

#include <map>
#include <set>

#include "ir/shape_inference.h"

namespace trt {
namespace {


// Inputs that keep their own precision whatever the layer's: BatchNormalization's statistics are
// read as float32 by the kernel; Resize's roi/scales are shape parameters read on the host.
bool keepsFp32(const Layer& l, size_t slot) {
  if (l.type == "BatchNormalization") return slot >= 1;
  if (l.type == "Resize") return slot >= 1;
  return false;
}

HostTensor toHalf(const HostTensor& t) {
  HostTensor h(DataType::kFloat16, t.dims());
  for (int64_t i = 0; i < t.numel(); ++i) h.as<uint16_t>()[i] = floatToHalf(t.as<float>()[i]);
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
    const TensorDesc& src = net.tensor(t);
    int out;
    if (src.isConstant() && to == DataType::kFloat16) {
      out = net.addConstant(src.name + "__fp16", toHalf(*src.constant));
    } else {
      out = net.addTensor(src.name + (to == DataType::kFloat16 ? "__fp16" : "__fp32"), to, src.shape);
      Layer cast;
      cast.name = "reformat_" + std::to_string(castCount++) + " (" + src.name + " to " + dataTypeName(to) + ")";
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
    bool hasFloatData = false;
    for (int i : l.inputs)
      if (i >= 0 && net.tensor(i).type == DataType::kFloat32 && !net.tensor(i).isConstant()) hasFloatData = true;
    for (int o : l.outputs)
      if (net.tensor(o).type == DataType::kFloat32) hasFloatData = true;
    const bool fp16 = hasFloatData && backend.supportsPrecision(l, "fp16");
    const std::string origin = l.origins.empty() ? l.name : l.origins[0];
    if (fp16) {
      for (size_t k = 0; k < l.inputs.size(); ++k) {
        int t = l.inputs[k];
        if (t < 0 || keepsFp32(l, k)) continue;
        if (net.tensor(t).type == DataType::kFloat32) l.inputs[k] = castTo(t, DataType::kFloat16, origin);
      }
      std::vector<std::pair<int, int>> restore;  // (fp16 output, declared fp32 graph output)
      for (int& o : l.outputs) {
        TensorDesc& t = net.tensor(o);
        if (t.type != DataType::kFloat32) continue;
        if (t.isOutput) {
          int half = net.addTensor(t.name + "__fp16", DataType::kFloat16, t.shape);
          restore.push_back({half, o});
          o = half;
        } else {
          t.type = DataType::kFloat16;
        }
      }
      l.precision = "fp16";
      net.addLayer(std::move(l));
      for (auto& [half, declared] : restore) {
        Layer cast;
        cast.name = "reformat_" + std::to_string(castCount++) + " (" + net.tensor(declared).name + " to float32)";
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
        if (t >= 0 && net.tensor(t).type == DataType::kFloat16 && !net.tensor(t).isInput && !net.tensor(t).isConstant())
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
