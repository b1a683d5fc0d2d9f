// Tactic timing and the timing cache (see tactics.h).
#include "builder/tactics.h"

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace trt {

namespace {
constexpr const char* kFormat = "trt-timing-cache";
constexpr int kVersion = 1;
}  // namespace

void TimingCache::load(const std::string& path, Logger& log) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return;  // no cache yet: this build writes it
  auto warn = [&](const std::string& why) {
    log.log(Severity::kWarning,
            "timing cache " + path + ": " + why + "; ignored (it is rewritten after the build)");
    entries_.clear();
  };
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(f);
  } catch (const std::exception&) {
    return warn("not a timing cache (does not parse as JSON)");
  }
  if (!j.is_object() || j.value("Format", "") != kFormat || !j.contains("Version") ||
      !j["Version"].is_number())
    return warn("not a timing cache");
  if (j["Version"].get<int>() != kVersion) return warn("version " + j["Version"].dump() + ", expected 1");
  if (j.value("Device", "") != device_)
    return warn("made for '" + j.value("Device", "") + "', this build is for '" + device_ + "'");
  if (!j.contains("Entries") || !j["Entries"].is_array()) return warn("no entries");
  for (const auto& e : j["Entries"]) {
    if (!e.is_object() || !e.contains("Key") || !e["Key"].is_string() || !e.contains("Tactic") ||
        !e["Tactic"].is_string() || !e.contains("Ms") || !e["Ms"].is_number())
      return warn("a malformed entry");
    entries_[e["Key"].get<std::string>()] = Entry{e["Tactic"].get<std::string>(), e["Ms"].get<double>()};
  }
}

Status TimingCache::save(const std::string& path) const {
  nlohmann::json entries = nlohmann::json::array();
  for (const auto& [k, e] : entries_) entries.push_back({{"Key", k}, {"Tactic", e.tactic}, {"Ms", e.ms}});
  const std::string text =
      nlohmann::json{{"Format", kFormat}, {"Version", kVersion}, {"Device", device_}, {"Entries", entries}}
          .dump(1) +
      "\n";
  const std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f || !f.write(text.data(), static_cast<std::streamsize>(text.size())) || !f.flush())
      return makeError(StatusCode::kRuntime, "cannot write timing cache " + path);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    return makeError(StatusCode::kRuntime, "cannot write timing cache " + path);
  }
  return Status::ok();
}

const TimingCache::Entry* TimingCache::find(const std::string& key) const {
  auto it = entries_.find(key);
  return it == entries_.end() ? nullptr : &it->second;
}

std::string layerSignature(const Layer& layer, const Network& net) {
  std::ostringstream k;
  k << layer.type << '|' << layer.precision << '|';
  for (int i : layer.inputs) {
    if (i < 0) {
      k << "-;";
      continue;
    }
    const TensorDesc& t = net.tensor(i);
    k << dataTypeName(t.type) << shapeToString(t.shape) << (t.isConstant() ? "c" : "") << ';';
  }
  k << '|' << layer.attrs.key();
  return k.str();
}

Expected<double> timeTactic(const Backend& backend, const Layer& layer, const Network& net, int runs) {
  TRT_ASSIGN_OR_RETURN(std::unique_ptr<LayerImpl> impl, backend.configure(layer, net));
  std::vector<DevicePtr> keep;
  std::vector<HostTensor> hosts;
  hosts.reserve(layer.inputs.size());
  std::vector<TensorView> ins, outs;
  for (int i : layer.inputs) {
    if (i < 0) {
      ins.push_back(TensorView{});
      continue;
    }
    const TensorDesc& t = net.tensor(i);
    if (!isStatic(t.shape)) return makeError(StatusCode::kUnsupported, "dynamic shape");
    if (t.isConstant()) {
      hosts.push_back(*t.constant);
    } else {
      if (t.type != DataType::kFloat32 && t.type != DataType::kFloat16)
        return makeError(StatusCode::kUnsupported, "non-float activation");
      HostTensor h(t.type, toDims(t.shape));
      for (int64_t e = 0; e < h.numel(); ++e) {
        const float v = 0.25f * static_cast<float>((e * 7) % 13) - 1.5f;
        if (t.type == DataType::kFloat16)
          h.as<uint16_t>()[e] = floatToHalf(v);
        else
          h.as<float>()[e] = v;
      }
      hosts.push_back(std::move(h));
    }
    const HostTensor& h = hosts.back();
    TRT_ASSIGN_OR_RETURN(DevicePtr d, backend.allocate(std::max<size_t>(h.byteSize(), 1)));
    TRT_RETURN_IF_ERROR(backend.copy(d.get(), h.data(), h.byteSize(), CopyKind::kHostToDevice, nullptr));
    ins.push_back(TensorView{t.type, toDims(t.shape), d.get(), h.data()});
    keep.push_back(d);
  }
  for (int o : layer.outputs) {
    const TensorDesc& t = net.tensor(o);
    if (!isStatic(t.shape)) return makeError(StatusCode::kUnsupported, "dynamic shape");
    const size_t bytes = static_cast<size_t>(volume(toDims(t.shape))) * dataTypeSize(t.type);
    TRT_ASSIGN_OR_RETURN(DevicePtr d, backend.allocate(std::max<size_t>(bytes, 1)));
    outs.push_back(TensorView{t.type, toDims(t.shape), d.get()});
    keep.push_back(d);
  }
  std::vector<TensorView> shapeIns = ins, shapeOuts = outs;  // prepare sees dims only
  for (auto& v : shapeIns) v.data = nullptr;
  for (auto& v : shapeOuts) v.data = nullptr;
  TRT_ASSIGN_OR_RETURN(std::shared_ptr<void> state, impl->prepare(shapeIns, shapeOuts));
  const size_t wsBytes = impl->preparedWorkspaceSize(shapeIns, shapeOuts, state.get());
  DevicePtr ws;
  if (wsBytes) {
    TRT_ASSIGN_OR_RETURN(ws, backend.allocate(wsBytes));
  }
  TRT_ASSIGN_OR_RETURN(void* stream, backend.createStream());
  std::shared_ptr<void> streamGuard(stream, [&](void* s) { backend.destroyStream(s); });
  auto run = [&] { return impl->enqueueWithState(ins, outs, ws.get(), stream, state.get()); };
  TRT_RETURN_IF_ERROR(run());  // warm-up
  TRT_RETURN_IF_ERROR(backend.synchronize(stream));
  std::vector<double> ms;
  for (int r = 0; r < runs; ++r) {
    TRT_ASSIGN_OR_RETURN(float t, backend.timeOnStream(stream, run));
    ms.push_back(t);
  }
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() / 2];
}

}  // namespace trt
