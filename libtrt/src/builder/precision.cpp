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

namespace {

// The type a format names ("fp32", "fp16", with ":chw" / ":linear"); an error for any other.
Expected<DataType> ioFormatType(const std::string& f) {
  std::string base = f, layout;
  const size_t colon = f.find(':');
  if (colon != std::string::npos) {
    base = f.substr(0, colon);
    layout = f.substr(colon + 1);
  }
  if (!layout.empty() && layout != "chw" && layout != "linear")
    return makeError(StatusCode::kUnsupported, "I/O format '" + f + "': only linear (chw) layouts");
  if (base == "fp32") return DataType::kFloat32;
  if (base == "fp16") return DataType::kFloat16;
  return makeError(StatusCode::kUnsupported,
                   "I/O format '" + f + "': fp32 or fp16 (int8 I/O is not supported)");
}

// The float32 tensors of `ids` that `formats` asks to be float16, in order.
Expected<std::vector<int>> halfIO(const Network& net, const std::vector<int>& ids,
                                  const std::vector<std::string>& formats, const char* what) {
  std::vector<int> floats, half;
  for (int t : ids)
    if (net.tensor(t).type == DataType::kFloat32) floats.push_back(t);
  if (formats.empty()) return half;
  if (formats.size() != 1 && formats.size() != floats.size())
    return makeError(StatusCode::kInvalidArgument,
                     std::string(what) + " formats: " + std::to_string(formats.size()) +
                         " given, the model has " + std::to_string(floats.size()) + " float " + what +
                         "s (give one for all, or one each)");
  for (size_t k = 0; k < floats.size(); ++k) {
    TRT_ASSIGN_OR_RETURN(DataType type, ioFormatType(formats.size() == 1 ? formats[0] : formats[k]));
    if (type == DataType::kFloat16) half.push_back(floats[k]);
  }
  return half;
}

}  // namespace

Status applyIOFormats(Network& net, const std::vector<std::string>& inputFormats,
                      const std::vector<std::string>& outputFormats) {
  if (inputFormats.empty() && outputFormats.empty()) return Status::ok();
  TRT_ASSIGN_OR_RETURN(const std::vector<int> ins, halfIO(net, net.inputs(), inputFormats, "input"));
  TRT_ASSIGN_OR_RETURN(const std::vector<int> outs, halfIO(net, net.outputs(), outputFormats, "output"));
  std::vector<Layer> layers = std::move(net.layers());
  net.layers().clear();
  std::vector<bool> drop(layers.size(), false);
  std::vector<Layer> front;                    // casts of fp16 inputs for their float32 readers
  std::map<size_t, std::vector<Layer>> after;  // layer index -> casts to add after it
  auto makeCast = [&](int in, int out, DataType to, const std::string& origin) {
    Layer c;
    c.name = "reformat_io (" + net.tensor(out).name + " to " + dataTypeName(to) + ")";
    c.type = "Cast";
    c.attrs.set("to", std::string(dataTypeName(to)));
    c.inputs = {in};
    c.outputs = {out};
    c.origins = {origin};
    c.precision = to == DataType::kFloat16 ? "fp16" : "fp32";
    return c;
  };
  for (size_t k = 0; k < ins.size(); ++k) {
    const int t = ins[k];
    net.tensor(t).type = DataType::kFloat16;
    int t32 = -1;
    for (size_t li = 0; li < layers.size(); ++li) {
      Layer& l = layers[li];
      for (size_t slot = 0; slot < l.inputs.size(); ++slot) {
        if (l.inputs[slot] != t) continue;
        if (l.type == "Cast" && l.attrs.getString("to", "") == "float16" && l.outputs.size() == 1 &&
            !net.tensor(l.outputs[0]).isOutput) {
          // the boundary cast: its readers read the input itself
          const int half = l.outputs[0];
          for (Layer& r : layers)
            for (int& i : r.inputs)
              if (i == half) i = t;
          drop[li] = true;
          continue;
        }
        if (l.precision == "fp16") continue;  // an FP16 layer (a boundary cast's reader, now) reads it
        if (t32 < 0) {
          t32 = net.addTensor(net.tensor(t).name + "__fp32", DataType::kFloat32, net.tensor(t).shape);
          front.push_back(makeCast(t, t32, DataType::kFloat32, l.origins.empty() ? l.name : l.origins[0]));
        }
        l.inputs[slot] = t32;
      }
    }
  }
  for (size_t k = 0; k < outs.size(); ++k) {
    const int o = outs[k];
    size_t p = layers.size();
    for (size_t li = 0; li < layers.size() && p == layers.size(); ++li)
      if (!drop[li] &&
          std::find(layers[li].outputs.begin(), layers[li].outputs.end(), o) != layers[li].outputs.end())
        p = li;
    net.tensor(o).type = DataType::kFloat16;
    if (p == layers.size()) continue;  // an input passed through, or a constant: typed above
    Layer& l = layers[p];
    if (l.type == "Cast" && l.inputs.size() == 1 && l.inputs[0] >= 0 &&
        net.tensor(l.inputs[0]).type == DataType::kFloat16) {
      // the boundary cast: the FP16 layer behind it writes the output (where it is its only reader)
      const int half = l.inputs[0];
      int readers = 0;
      size_t q = layers.size();
      for (size_t li = 0; li < layers.size(); ++li) {
        if (drop[li]) continue;
        for (int i : layers[li].inputs) readers += i == half;
        if (std::find(layers[li].outputs.begin(), layers[li].outputs.end(), half) != layers[li].outputs.end())
          q = li;
      }
      if (readers == 1 && q < layers.size() && !net.tensor(half).isOutput) {
        for (int& x : layers[q].outputs)
          if (x == half) x = o;
        drop[p] = true;
      } else {
        l.attrs.set("to", std::string("float16"));  // a copy: the value is read elsewhere too
        l.precision = "fp16";
      }
      continue;
    }
    if (l.attrs.getString("out_dtype", "") == "float32") {  // FP16 MatMul writing float32 logits
      l.attrs.erase("out_dtype");
      continue;
    }
    if (l.precision == "fp16") continue;  // writes its output in FP16 already
    const int o32 = net.addTensor(net.tensor(o).name + "__fp32", DataType::kFloat32, net.tensor(o).shape);
    for (Layer& r : layers)  // the producer writes, and its readers read, the float32 value
      for (int& x : (&r == &l ? r.outputs : r.inputs))
        if (x == o) x = o32;
    after[p].push_back(makeCast(o32, o, DataType::kFloat16, l.origins.empty() ? l.name : l.origins[0]));
  }
  for (Layer& c : front) net.addLayer(std::move(c));
  for (size_t li = 0; li < layers.size(); ++li) {
    if (drop[li]) continue;
    net.addLayer(std::move(layers[li]));
    auto a = after.find(li);
    if (a != after.end())
      for (Layer& c : a->second) net.addLayer(std::move(c));
  }
  net.rebuildProducers();
  std::vector<bool> keep(net.layers().size(), true);
  net.compact(keep);
  return net.validate();
}

}  // namespace trt
