// Tactic timing and the timing cache (see tactics.h).
#include "builder/tactics.h"

#include <algorithm>
#include <chrono>
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

namespace {

// The fixed pattern the timed activations hold (values that keep every float kernel finite).
HostTensor patternTensor(const TensorDesc& t) {
  HostTensor h(t.type, toDims(t.shape));
  for (int64_t e = 0; e < h.numel(); ++e) {
    const float v = 0.25f * static_cast<float>((e * 7) % 13) - 1.5f;
    if (t.type == DataType::kFloat16)
      h.as<uint16_t>()[e] = floatToHalf(v);
    else
      h.as<float>()[e] = v;
  }
  return h;
}

size_t aligned(size_t b) {
  return (b + 255) / 256 * 256;
}

}  // namespace

bool isDeviceFailure(const Status& st) {
  return st.message().find(kDeviceFailure) != std::string::npos;
}

std::vector<Expected<double>> timeTactics(const Backend& backend, const Layer& layer, const Network& net,
                                          const std::vector<std::string>& tactics, int runs,
                                          std::vector<int64_t>* workspaces) {
  if (workspaces) workspaces->assign(tactics.size(), -1);
  auto failAll = [&](const Status& st) { return std::vector<Expected<double>>(tactics.size(), st); };
  // The layer's buffers, once: host copies of the inputs (constants as they are, activations as a
  // pattern), then `sets` device copies of every input and output, side by side in one
  // allocation. Run r uses set r % sets, so that (where the sets add up to twice the device's
  // last-level cache) no run finds its inputs, weights or outputs left in the cache by the last.
  std::vector<HostTensor> hosts(layer.inputs.size());
  std::vector<size_t> inBytes(layer.inputs.size(), 0), outBytes(layer.outputs.size(), 0);
  size_t setBytes = 0;
  for (size_t k = 0; k < layer.inputs.size(); ++k) {
    const int i = layer.inputs[k];
    if (i < 0) continue;
    const TensorDesc& t = net.tensor(i);
    if (!isStatic(t.shape)) return failAll(makeError(StatusCode::kUnsupported, "dynamic shape"));
    if (t.isConstant()) {
      hosts[k] = *t.constant;
    } else {
      if (t.type != DataType::kFloat32 && t.type != DataType::kFloat16)
        return failAll(makeError(StatusCode::kUnsupported, "non-float activation"));
      hosts[k] = patternTensor(t);
    }
    inBytes[k] = aligned(std::max<size_t>(hosts[k].byteSize(), 1));
    setBytes += inBytes[k];
  }
  for (size_t k = 0; k < layer.outputs.size(); ++k) {
    const TensorDesc& t = net.tensor(layer.outputs[k]);
    if (!isStatic(t.shape)) return failAll(makeError(StatusCode::kUnsupported, "dynamic shape"));
    outBytes[k] =
        aligned(std::max<size_t>(static_cast<size_t>(volume(toDims(t.shape))) * dataTypeSize(t.type), 1));
    setBytes += outBytes[k];
  }
  const size_t cache = backend.cacheBytes();
  const int sets =
      cache ? static_cast<int>(std::clamp<size_t>((2 * cache + setBytes - 1) / setBytes, 1, 256)) : 1;
  auto mem = backend.allocate(setBytes * sets);
  if (!mem.isOk()) return failAll(mem.status());
  std::vector<std::vector<TensorView>> ins(sets), outs(sets);
  for (int r = 0; r < sets; ++r) {
    auto* base = static_cast<uint8_t*>(mem->get()) + setBytes * r;
    for (size_t k = 0; k < layer.inputs.size(); ++k) {
      if (layer.inputs[k] < 0) {
        ins[r].push_back(TensorView{});
        continue;
      }
      const HostTensor& h = hosts[k];
      Status st = backend.copy(base, h.data(), h.byteSize(), CopyKind::kHostToDevice, nullptr);
      if (!st.isOk()) return failAll(st);
      ins[r].push_back(TensorView{h.type(), h.dims(), base, h.data()});
      base += inBytes[k];
    }
    for (size_t k = 0; k < layer.outputs.size(); ++k) {
      const TensorDesc& t = net.tensor(layer.outputs[k]);
      outs[r].push_back(TensorView{t.type, toDims(t.shape), base});
      base += outBytes[k];
    }
  }
  std::vector<TensorView> shapeIns = ins[0], shapeOuts = outs[0];  // prepare sees dims only
  for (auto& v : shapeIns) v.data = nullptr;
  for (auto& v : shapeOuts) v.data = nullptr;
  auto streamOr = backend.createStream();
  if (!streamOr.isOk()) return failAll(streamOr.status());
  std::shared_ptr<void> streamGuard(*streamOr, [&](void* s) { backend.destroyStream(s); });
  void* stream = *streamOr;

  std::vector<Expected<double>> result;
  for (const std::string& tactic : tactics) {
    result.push_back([&]() -> Expected<double> {
      Layer probe = layer;
      probe.tactic = tactic;
      TRT_ASSIGN_OR_RETURN(std::unique_ptr<LayerImpl> impl, backend.configure(probe, net));
      TRT_ASSIGN_OR_RETURN(std::shared_ptr<void> state, impl->prepare(shapeIns, shapeOuts));
      const size_t wsBytes = impl->preparedWorkspaceSize(shapeIns, shapeOuts, state.get());
      if (workspaces) (*workspaces)[result.size()] = static_cast<int64_t>(wsBytes);
      DevicePtr ws;
      if (wsBytes) {
        TRT_ASSIGN_OR_RETURN(ws, backend.allocate(wsBytes));
      }
      int next = 0;
      auto run = [&] {
        const int r = next++ % sets;
        return impl->enqueueWithState(ins[r], outs[r], ws.get(), stream, state.get());
      };
      // Two warm-ups; the second measures the host's launch time. Each timed run then starts behind
      // a delay of twice that on the stream, so the device times the kernels, not the host's
      // launches (cuDNN's legacy calls take tens of microseconds of host time each).
      TRT_RETURN_IF_ERROR(run());
      TRT_RETURN_IF_ERROR(backend.synchronize(stream));
      const auto h0 = std::chrono::steady_clock::now();
      TRT_RETURN_IF_ERROR(run());
      const double hostMs =
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - h0).count();
      TRT_RETURN_IF_ERROR(backend.synchronize(stream));
      std::vector<double> ms;
      for (int i = 0; i < runs; ++i) {
        TRT_RETURN_IF_ERROR(backend.delayStream(stream, static_cast<float>(std::max(0.02, 2 * hostMs))));
        TRT_ASSIGN_OR_RETURN(float t, backend.timeOnStream(stream, run));
        ms.push_back(t);
      }
      std::sort(ms.begin(), ms.end());
      return ms[ms.size() / 2];
    }());
    // A candidate that failed on the device may leave an error behind: drain the stream. If the
    // device itself is broken after it (a sticky error such as an illegal address), nothing more
    // can run in this process: every remaining candidate fails with the culprit named, and the
    // builder stops (isDeviceFailure).
    if (!result.back().isOk()) {
      (void)backend.synchronize(stream);
      Status device = backend.synchronize(nullptr);
      if (!device.isOk()) {
        const Status broken = makeError(StatusCode::kRuntime,
                                        std::string(kDeviceFailure) + " tactic '" + tactic + "' of layer '" +
                                            layer.name + "' (" + layer.type + "): " + device.message());
        result.back() = broken;
        while (result.size() < tactics.size()) result.push_back(broken);
        break;
      }
    }
  }
  return result;
}

}  // namespace trt
