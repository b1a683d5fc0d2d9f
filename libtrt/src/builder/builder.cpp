// Builder: passes, shape inference, backend selection per layer, then the plan file.
#include "trt/builder.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <map>
#include <set>
#include <sstream>
#include <tuple>
#include <utility>

#include "backends/backend.h"
#include "builder/batch_tiling.h"
#include "builder/layout.h"
#include "builder/precision.h"
#include "builder/tactics.h"
#include "ir/shape_inference.h"
#include "passes/pass.h"
#include "plan/plan_file.h"
#include "trt/version.h"

namespace trt {

Builder::Builder(BuilderConfig config) : config_(std::move(config)) {}

std::vector<std::string> availableBackends() {
  return backendNames();
}

std::string backendUnavailableReasonForTools(const std::string& name) {
  return findBackend(name) ? "" : backendUnavailableReason(name);
}

namespace {

std::string joinFormats(const std::vector<std::string>& f) {
  if (f.empty()) return "as declared";
  std::string s;
  for (const std::string& x : f) s += (s.empty() ? "" : ",") + x;
  return s;
}

std::string hostArch() {
#if defined(__x86_64__)
  return "x86_64";
#elif defined(__aarch64__)
  return "aarch64";
#else
  return "unknown";
#endif
}

std::string layerWhere(const Layer& l) {
  std::string w = "layer '" + l.name + "' (" + l.type + ")";
  if (!l.origins.empty() && !(l.origins.size() == 1 && l.origins[0] == l.name)) {
    w += " from node";
    for (const auto& o : l.origins) w += " '" + o + "'";
  }
  return w;
}

}  // namespace

Expected<std::vector<uint8_t>> Builder::buildSerialized(Network& net) {
  report_ = BuildReport();
  const auto start = std::chrono::steady_clock::now();
  auto phaseStart = start;
  // Records the phase since the last mark.
  auto mark = [&](const std::string& name, int before, const std::string& note = "") {
    const auto now = std::chrono::steady_clock::now();
    report_.phases.push_back({name, std::chrono::duration<double, std::milli>(now - phaseStart).count(),
                              before, static_cast<int>(net.layers().size()), note});
    phaseStart = now;
  };
  auto result = buildImpl(net, mark);
  report_.totalMs =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  return result;
}

Expected<std::vector<uint8_t>> Builder::buildImpl(
    Network& net, const std::function<void(const std::string&, int, const std::string&)>& mark) {
  Logger& log = config_.logger ? *config_.logger : defaultLogger();
  const Backend* backend = findBackend(config_.device);
  if (!backend)
    return makeError(config_.device == "cuda" ? StatusCode::kUnsupported : StatusCode::kInvalidArgument,
                     "device '" + config_.device + "': " + backendUnavailableReason(config_.device));
  TRT_RETURN_IF_ERROR(net.validate());
  std::map<int, Shape> declaredShapes;  // the inputs' shapes as the model declares them
  for (int i : net.inputs()) declaredShapes[i] = net.tensor(i).shape;
  for (const auto& [name, dims] : config_.inputShapes) {
    const int id = net.findTensor(name);
    if (id < 0 || !net.tensor(id).isInput) {
      std::string names;
      for (int i : net.inputs()) names += (names.empty() ? "" : ", ") + net.tensor(i).name;
      return makeError(StatusCode::kInvalidArgument,
                       "build shapes name '" + name + "', which is not an input (inputs: " + names + ")");
    }
    Shape& s = net.tensor(id).shape;
    bool agrees = s.size() == dims.size();
    for (size_t d = 0; agrees && d < dims.size(); ++d)
      agrees = dims[d] >= 0 && (s[d].value < 0 || s[d].value == dims[d]);
    if (!agrees)
      return makeError(StatusCode::kInvalidArgument, "build shape " + dimsToString(dims) + " for input '" +
                                                         name + "' does not fit its shape " +
                                                         shapeToString(s));
    Shape fixed;
    for (int64_t v : dims) fixed.push_back(Dim(v));
    s = fixed;
  }
  // ONNX names the dims that must agree (BERT's input_ids, attention_mask and token_type_ids are
  // all [batch, seq]): the sizes the build shapes give a named dim hold for every input that
  // shares the name, so `--shapes input_ids:1x128` makes the masks static too.
  std::map<std::string, std::pair<int64_t, std::string>> bound;  // dim name -> size, input
  for (const auto& [name, dims] : config_.inputShapes) {
    const int id = net.findTensor(name);
    const Shape& declared = declaredShapes.at(id);
    for (size_t d = 0; d < dims.size(); ++d) {
      if (declared[d].symbol.empty()) continue;
      auto [it, fresh] = bound.emplace(declared[d].symbol, std::make_pair(dims[d], name));
      if (!fresh && it->second.first != dims[d])
        return makeError(StatusCode::kInvalidArgument,
                         "build shapes give dim '" + declared[d].symbol + "' two sizes: " +
                             std::to_string(it->second.first) + " for input '" + it->second.second + "', " +
                             std::to_string(dims[d]) + " for input '" + name + "'");
    }
  }
  for (int i : net.inputs()) {
    if (config_.inputShapes.count(net.tensor(i).name)) continue;
    for (Dim& d : net.tensor(i).shape)
      if (auto it = bound.find(d.symbol); !d.isStatic() && it != bound.end()) d = Dim(it->second.first);
  }
  // Shapes first: an inconsistent model fails here with the layer named, before any pass.
  TRT_RETURN_IF_ERROR(inferNetworkShapes(net, evaluateOnHost));
  mark("shape inference", static_cast<int>(net.layers().size()), "");
  PipelineOptions po;
  po.optLevel = config_.optLevel;
  po.disabled = config_.disabledPasses;
  po.logger = &log;
  po.onPass = [&](const std::string& name, double ms, int before, int after, const std::string& note) {
    report_.phases.push_back({"pass " + name, ms, before, after, note});
  };
  TRT_RETURN_IF_ERROR(runPassPipeline(net, po));
  TRT_RETURN_IF_ERROR(inferNetworkShapes(net, evaluateOnHost));
  // Device engines: GEMM output widths padded to a multiple of 8 (tensor-core GEMMs need aligned
  // rows; pad_matmul.cpp), and linear layers fused with the LayerNormalization after them
  // (fuse-matmul-layernorm: split-K partial sums reduced by the normalisation kernel). Not in the
  // pipeline: the CPU's GEMM has no alignment cliff and nothing to gain from either.
  if (!backend->hostMemory() && config_.optLevel > 0) {
    std::vector<std::unique_ptr<Pass>> device;
    device.push_back(makePadMatMulNPass());
    device.push_back(makeFuseMatMulLayerNormPass());
    for (auto& pass : device) {
      const std::string name = pass->name();
      if (std::find(config_.disabledPasses.begin(), config_.disabledPasses.end(), name) !=
          config_.disabledPasses.end())
        continue;
      const auto t0 = std::chrono::steady_clock::now();
      const int before = static_cast<int>(net.layers().size());
      bool changed = false;
      TRT_RETURN_IF_ERROR(pass->run(net, changed));
      if (changed) {
        bool dropped = false;  // what the pass replaced (pad-matmul-n's unpadded biases)
        TRT_RETURN_IF_ERROR(makeDeadCodePass()->run(net, dropped));
        TRT_RETURN_IF_ERROR(inferNetworkShapes(net, evaluateOnHost));
      }
      const double ms =
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
      const int after = static_cast<int>(net.layers().size());
      report_.phases.push_back({"pass " + name, ms, before, after, changed ? "changed" : "no change"});
      if (changed)
        log.log(Severity::kVerbose, "pass " + name + ": changed, layers " + std::to_string(before) + " -> " +
                                        std::to_string(after));
    }
  }
  {
    // the passes' own times are recorded; this phase is what remains (re-inference)
    double passes = 0;
    for (const auto& p : report_.phases)
      if (p.name.rfind("pass ", 0) == 0) passes += p.ms;
    const int n = static_cast<int>(net.layers().size());
    mark("passes (total, with re-inference)", n, std::to_string(static_cast<int>(passes)) + " ms in passes");
  }
  if ((config_.fp16 || config_.tf32) && backend->hostMemory())
    return makeError(StatusCode::kInvalidArgument, "FP16 and TF32 need the CUDA backend (--device cuda)");
  if (config_.fp16 || config_.tf32) {
    const int before = static_cast<int>(net.layers().size());
    TRT_RETURN_IF_ERROR(assignPrecisions(net, *backend, PrecisionOptions{config_.fp16, config_.tf32}));
    TRT_RETURN_IF_ERROR(inferNetworkShapes(net, evaluateOnHost));
    mark("precision", before, config_.fp16 ? "fp16" : "tf32");
  }
  if (!config_.inputIOFormats.empty() || !config_.outputIOFormats.empty()) {
    const int before = static_cast<int>(net.layers().size());
    TRT_RETURN_IF_ERROR(applyIOFormats(net, config_.inputIOFormats, config_.outputIOFormats));
    TRT_RETURN_IF_ERROR(inferNetworkShapes(net, evaluateOnHost));
    mark("io formats", before,
         "inputs " + joinFormats(config_.inputIOFormats) + ", outputs " +
             joinFormats(config_.outputIOFormats));
  }
  // The timing cache's device key: backend, device, compute capability and library versions,
  // engine version.
  const DeviceInfo dev = backend->deviceInfo();
  std::string deviceKey = backend->name() + " " + backend->deviceName();
  for (const auto& [what, v] :
       std::vector<std::pair<std::string, std::string>>{{"cc", dev.computeCapability},
                                                        {"cuda", dev.cudaVersion},
                                                        {"cudnn", dev.cudnnVersion},
                                                        {"cublas", dev.cublasVersion}})
    if (!v.empty()) deviceKey += " " + what + " " + v;
  TimingCache cache(deviceKey + " engine " + kEngineVersion);
  if (!config_.timingCachePath.empty()) cache.load(config_.timingCachePath, log);
  if (config_.builderOptLevel < 0 || config_.builderOptLevel > 5)
    return makeError(StatusCode::kInvalidArgument,
                     "builder optimisation level " + std::to_string(config_.builderOptLevel) + " (0..5)");
  const int timingRuns = std::vector<int>{0, 1, 3, 5, 9, 15}[config_.builderOptLevel];
  const bool timing = config_.timeTactics && config_.builderOptLevel > 0;
  // Also the search breadth: at builder optimisation levels 4 and 5 the layers offer more
  // candidates (the "tactic_breadth" attribute: cuBLASLt heuristic results 8 and 16, default 4).
  auto applyWorkspaceLimit = [&](Network& n) {
    for (Layer& l : n.layers()) {
      if (config_.workspaceLimitBytes >= 0) l.attrs.set("workspace_limit", config_.workspaceLimitBytes);
      if (config_.builderOptLevel >= 4)
        l.attrs.set("tactic_breadth", int64_t{config_.builderOptLevel == 4 ? 8 : 16});
    }
  };
  // One layer's fastest candidate: from the timing cache, else timed here (and cached). With
  // `single`, a layer with one implementation is timed too (for whole-network totals). An empty
  // tactic: nothing timed (one candidate, or the layer cannot run in isolation).
  struct Choice {
    std::string tactic;
    double ms = -1;
    std::vector<std::pair<std::string, double>> tried;
    std::vector<int64_t> workspace;  // per tried candidate (-1: not known)
    bool cached = false;
    std::string zInPlace;  // the fastest timed candidate that writes Y over Z (input 3), if any
  };
  // The timing cache keeps that candidate under the layer's key with this suffix.
  const std::string kZInPlaceKey = " | writes Y over Z";
  auto writesOverZ = [&](const Layer& layer, const std::string& tactic) {
    Layer probe = layer;
    probe.tactic = tactic;
    const std::vector<int> slots = backend->inPlaceInputs(probe);
    return std::find(slots.begin(), slots.end(), 3) != slots.end();
  };
  std::map<std::string, Choice> timedHere;  // signature -> what this build measured
  Status deviceFailure = Status::ok();      // set when a candidate broke the device (the build stops)
  auto choose = [&](const Layer& layer, const Network& n, bool single) -> Choice {
    Choice ch;
    if (!timing) return ch;
    std::vector<std::string> candidates = backend->tactics(layer, n);
    if (candidates.size() <= 1) {
      if (!single) return ch;
      Layer bare = layer;
      bare.tactic.clear();
      auto impl = backend->configure(bare, n);
      if (!impl.isOk()) return ch;
      candidates = {(*impl)->tacticName()};
    }
    const std::string key = layerSignature(layer, n);
    if (auto it = timedHere.find(key); it != timedHere.end()) return it->second;
    const TimingCache::Entry* hit = cache.find(key);
    if (hit && std::find(candidates.begin(), candidates.end(), hit->tactic) != candidates.end()) {
      ch.tactic = hit->tactic;
      ch.ms = hit->ms;
      ch.tried = {{hit->tactic, hit->ms}};
      ch.workspace = {-1};
      ch.cached = true;
      const TimingCache::Entry* z = cache.find(key + kZInPlaceKey);
      if (z && std::find(candidates.begin(), candidates.end(), z->tactic) != candidates.end())
        ch.zInPlace = z->tactic;
      return ch;
    }
    std::vector<int64_t> workspace;
    std::vector<Expected<double>> times = timeTactics(*backend, layer, n, candidates, timingRuns, &workspace);
    ch.workspace = workspace;
    for (size_t c = 0; c < candidates.size(); ++c) {
      Expected<double>& ms = times[c];
      if (!ms.isOk() && isDeviceFailure(ms.status()) && deviceFailure.isOk()) deviceFailure = ms.status();
      ch.tried.push_back({candidates[c], ms.isOk() ? *ms : -1.0});
      if (ms.isOk() && (ch.ms < 0 || *ms < ch.ms)) {
        ch.ms = *ms;
        ch.tactic = candidates[c];
      }
    }
    // Memory: the workspace is one buffer for the whole engine, as large as the largest need of
    // its layers. A candidate within kWorkspaceSlack of the fastest that needs less workspace wins
    // (YOLOv5s FP16 on the H200: an 11 MiB cuDNN algorithm, the engine's whole workspace, beside a
    // 9.4 MiB activation arena). Requiring a saving of at least 1 MiB (a823e9b) coincided on the
    // H200 with slower engines in the next run (YOLOv5s bs1 0.490 -> 0.500 ms, GPT-2 bs16 1.42 ->
    // 1.47, ResNet-50 bs128 FP16 3.19 at 0b763c0 -> 4.02): reverted; the per-layer times in
    // isolation do not rank the zero-workspace kernels as the whole engine does.
    constexpr double kWorkspaceSlack = 1.05;
    if (ch.ms >= 0) {
      const double fastest = ch.ms;
      size_t pick = 0;
      while (pick < ch.tried.size() && ch.tried[pick].first != ch.tactic) ++pick;
      for (size_t c = 0; c < ch.tried.size() && pick < ch.tried.size(); ++c) {
        const double ms = ch.tried[c].second;
        const int64_t ws = ch.workspace[c], wsPick = ch.workspace[pick];
        if (ms >= 0 && ws >= 0 && wsPick >= 0 && ms <= fastest * kWorkspaceSlack &&
            (ws < wsPick || (ws == wsPick && ms < ch.tried[pick].second)))
          pick = c;
      }
      if (pick < ch.tried.size()) {
        ch.tactic = ch.tried[pick].first;
        ch.ms = ch.tried[pick].second;
      }
    }
    // Memory: where the layer's residual Z is read by no later layer (and by this one only as Z),
    // a candidate that writes its output over Z (Backend::inPlaceInputs) and times within
    // kInPlaceSlack of the fastest wins: the output then needs no buffer of its own (ResNet-50 bs8
    // FP16 on the H200: one bottleneck's end on cuDNN left the arena at 27.6 MiB, 0.65 of PyTorch's
    // activations, where 18.4 MiB is the in-place peak). The time given up is within the noise.
    constexpr double kInPlaceSlack = 1.05;
    auto lastReadHere = [&](int t) {
      const ptrdiff_t at = &layer - n.layers().data();
      if (t < 0 || at < 0 || at >= static_cast<ptrdiff_t>(n.layers().size())) return false;
      const TensorDesc& d = n.tensor(t);
      if (d.isOutput || d.isInput || d.isConstant()) return false;
      for (size_t k = 0; k < layer.inputs.size(); ++k)
        if (k != 3 && layer.inputs[k] == t) return false;
      for (size_t j = static_cast<size_t>(at) + 1; j < n.layers().size(); ++j)
        for (int i : n.layers()[j].inputs)
          if (i == t) return false;
      return true;
    };
    auto inPlace = [&](const std::string& tactic) { return writesOverZ(layer, tactic); };
    if (ch.ms >= 0 && layer.inputs.size() > 3 && lastReadHere(layer.inputs[3])) {
      if (!inPlace(ch.tactic)) {
        double bestInPlace = -1;
        std::string pick;
        for (const auto& [tactic, ms] : ch.tried)
          if (ms >= 0 && ms <= ch.ms * kInPlaceSlack && (bestInPlace < 0 || ms < bestInPlace) &&
              inPlace(tactic)) {
            bestInPlace = ms;
            pick = tactic;
          }
        if (!pick.empty()) {
          ch.tactic = pick;
          ch.ms = bestInPlace;
        }
      }
    }
    if (ch.ms >= 0) cache.put(key, TimingCache::Entry{ch.tactic, ch.ms});
    if (layer.inputs.size() > 3) {
      double best = -1;
      for (const auto& [tactic, ms] : ch.tried)
        if (ms >= 0 && (best < 0 || ms < best) && inPlace(tactic)) {
          best = ms;
          ch.zInPlace = tactic;
        }
      if (best >= 0) cache.put(key + kZInPlaceKey, TimingCache::Entry{ch.zInPlace, best});
    }
    timedHere[key] = ch;
    return ch;
  };
  // Layouts after precisions: the backend prefers NHWC by precision (FP16 convolutions). With
  // tactic timing, "auto" chooses by the whole network's time, reformats included: the backend's
  // NHWC choice, all NCHW, and a mix in which the convolutions whose NCHW kernel timed faster
  // than their NHWC one stay NCHW (RGB stems, where NHWC has 3 channels and no tensor-core path),
  // each network timed layer by layer (the reformats it needs are layers too). The fastest total wins.
  if (config_.optLevel > 0 || config_.layout == "nhwc") {
    constexpr int kChannelPad = 8;       // tensor-core kernels take channels in multiples of 8
    constexpr int kFixedChannelPad = 4;  // or exactly 4 (CUTLASS's fixed-channels convolutions)
    const size_t before = net.layers().size();
    std::string note = config_.layout;
    bool prefersSome = false;
    for (const Layer& l : net.layers()) prefersSome = prefersSome || backend->prefersChannelsLast(l);
    // The reformats the layouts add can make Transpose -> Reshape -> Transpose chains (an NHWC
    // convolution's output viewed and permuted): one view and one Transpose instead; and the
    // reformats next to precision's Casts (an FP32 input cast to FP16, then to NHWC) become one
    // converting Transpose each. Run on every arrangement before it is timed, so that no layout is
    // charged for reformats that fold away.
    auto foldReformats = [&](Network& n, std::string* note) -> Status {
      if (config_.optLevel <= 0) return Status::ok();
      // One fold: run (unless --disable-pass names it and it may be switched off), re-infer the
      // shapes and say so in the note where it changed something.
      auto fold = [&](std::unique_ptr<Pass> pass, bool disableable, const char* what) -> Status {
        if (disableable && std::find(config_.disabledPasses.begin(), config_.disabledPasses.end(),
                                     pass->name()) != config_.disabledPasses.end())
          return Status::ok();
        bool changed = false;
        TRT_RETURN_IF_ERROR(pass->run(n, changed));
        if (!changed) return Status::ok();
        TRT_RETURN_IF_ERROR(inferNetworkShapes(n, evaluateOnHost));
        if (note) *note += what;
        return Status::ok();
      };
      TRT_RETURN_IF_ERROR(
          fold(makeFoldTransposeThroughReshapePass(), false, "; transposes folded through reshapes"));
      TRT_RETURN_IF_ERROR(fold(makeFuseCastTransposePass(), false, "; casts fused into reformats"));
      TRT_RETURN_IF_ERROR(
          fold(makeFoldTransposeIntoPointwisePass(), true, "; transposes read by Pointwise layers"));
      TRT_RETURN_IF_ERROR(fold(makeFoldTransposeIntoPadPass(), true, "; transposes read by Pads"));
      return Status::ok();
    };
    if (config_.layout == "auto" && timing && prefersSome) {
      applyWorkspaceLimit(net);
      auto arrange = [&](const std::set<std::string>& keepNchw, Network& out, int padTo) -> Status {
        out = net;
        TRT_RETURN_IF_ERROR(assignLayouts(out, *backend, "auto", keepNchw, padTo, padTo == kChannelPad));
        TRT_RETURN_IF_ERROR(inferNetworkShapes(out, evaluateOnHost));
        TRT_RETURN_IF_ERROR(foldReformats(out, nullptr));
        applyWorkspaceLimit(out);
        return Status::ok();
      };
      struct Total {
        double ms = 0;
        int untimed = 0;
        std::map<std::string, double> perLayer;
      };
      auto total = [&](const Network& n) {
        Total t;
        for (const Layer& l : n.layers()) {
          const Choice ch = choose(l, n, true);
          if (ch.ms >= 0) {
            t.ms += ch.ms;
            t.perLayer[l.name] = ch.ms;
          } else {
            ++t.untimed;
          }
        }
        return t;
      };
      // NHWC twice: with the few-channel convolutions (RGB stems) padded to 8 input channels, and
      // without; the padded one is the NHWC candidate (and the base of the mixed one) where it is
      // faster and does not raise the activation peak (YOLOv5s at 640x640: the padded 8-channel
      // input is as large as the stem's output).
      // Padded to 4 channels as well: CUTLASS's fixed-channels kernels take exactly 4 (a 4-channel
      // input is half the size of the 8-channel one). The 8-channel arrangement also turns the
      // stride-2 stems with even kernels into stride-1 convolutions over 2x2 blocks (layout.h:
      // YOLOv5's 6x6 stem becomes 3x3 on 16 channels).
      Network nhwc, nhwcPadded, nhwcPadded4;
      TRT_RETURN_IF_ERROR(arrange({}, nhwcPadded, kChannelPad));
      TRT_RETURN_IF_ERROR(arrange({}, nhwcPadded4, kFixedChannelPad));
      TRT_RETURN_IF_ERROR(arrange({}, nhwc, 0));
      Network nchw = net;
      TRT_RETURN_IF_ERROR(foldReformats(nchw, nullptr));
      const Total tPadded = total(nhwcPadded), tPadded4 = total(nhwcPadded4), tPlain = total(nhwc),
                  tNchw = total(nchw);
      TRT_RETURN_IF_ERROR(deviceFailure);
      int padTo = 0;
      Total tNhwc = tPlain;
      const int64_t plainPeak = estimateActivationPeak(nhwc);
      // A padded arrangement counts where it pads: some convolution reads other channels than in
      // the plain one. (Not the layer count: fold-transpose-into-pad makes the padded stem's
      // Transpose + Pad one layer, as many as the plain stem's Transpose; comparing counts kept
      // ResNet-50 at bs128 on the unpadded 3-channel stem, 1.22 ms against 0.31 + 0.09 padded.)
      std::map<std::string, Shape> plainConvInputs;
      for (const Layer& l : nhwc.layers())
        if (l.type == "FusedConv" && !l.inputs.empty())
          plainConvInputs[l.name] = nhwc.tensor(l.inputs[0]).shape;
      auto padsSomething = [&](const Network& n) {
        for (const Layer& l : n.layers()) {
          if (l.type != "FusedConv" || l.inputs.empty()) continue;
          const auto it = plainConvInputs.find(l.name);
          if (it == plainConvInputs.end() || it->second != n.tensor(l.inputs[0]).shape) return true;
        }
        return false;
      };
      for (auto [cand, t, pad] :
           {std::tuple<Network*, const Total*, int>{&nhwcPadded4, &tPadded4, kFixedChannelPad},
            std::tuple<Network*, const Total*, int>{&nhwcPadded, &tPadded, kChannelPad}}) {
        if (t->ms < tNhwc.ms && padsSomething(*cand) && estimateActivationPeak(*cand) <= plainPeak) {
          tNhwc = *t;
          padTo = pad;
        }
      }
      if (padTo == kChannelPad) nhwc = std::move(nhwcPadded);
      if (padTo == kFixedChannelPad) nhwc = std::move(nhwcPadded4);
      std::set<std::string> slowerNhwc;
      for (const Layer& l : nhwc.layers()) {
        if (l.type != "FusedConv" || l.attrs.getString("layout", "NCHW") != "NHWC") continue;
        const auto a = std::as_const(tNhwc.perLayer).find(l.name);
        const auto b = tNchw.perLayer.find(l.name);
        if (a != tNhwc.perLayer.end() && b != tNchw.perLayer.end() && b->second < a->second)
          slowerNhwc.insert(l.name);
      }
      char buf[200];
      std::snprintf(buf, sizeof buf,
                    "auto by timing, reformats folded: backend's NHWC %.3f ms (%s), all NCHW %.3f ms",
                    tNhwc.ms,
                    padTo == kChannelPad        ? "stems as 2x2 blocks or padded to 8 channels"
                    : padTo == kFixedChannelPad ? "stems padded to 4 channels"
                                                : "stems unpadded",
                    tNchw.ms);
      note = buf;
      int pick = tNchw.ms < tNhwc.ms ? 1 : 0;  // 0 NHWC, 1 NCHW, 2 mixed
      double best = std::min(tNhwc.ms, tNchw.ms);
      Network mixed;
      if (!slowerNhwc.empty()) {
        TRT_RETURN_IF_ERROR(arrange(slowerNhwc, mixed, padTo));
        const Total tMixed = total(mixed);
        TRT_RETURN_IF_ERROR(deviceFailure);
        std::snprintf(buf, sizeof buf, ", mixed (%zu convolutions NCHW) %.3f ms", slowerNhwc.size(),
                      tMixed.ms);
        note += buf;
        if (tMixed.ms < best) {
          best = tMixed.ms;
          pick = 2;
        }
      }
      note += std::string(" -> ") + (pick == 0 ? "nhwc" : pick == 1 ? "nchw" : "mixed");
      if (tNhwc.untimed || tNchw.untimed)
        note += " (" + std::to_string(tNhwc.untimed) + " / " + std::to_string(tNchw.untimed) +
                " layers not timed)";
      if (pick == 0) net = std::move(nhwc);
      if (pick == 1) net = std::move(nchw);
      if (pick == 2) net = std::move(mixed);
    } else {
      TRT_RETURN_IF_ERROR(assignLayouts(net, *backend, config_.layout));
      TRT_RETURN_IF_ERROR(inferNetworkShapes(net, evaluateOnHost));
    }
    log.log(Severity::kVerbose, "layout assignment (" + note + "): layers " + std::to_string(before) +
                                    " -> " + std::to_string(net.layers().size()));
    // (The timed arrangements are folded already; the all-NCHW one and the untimed path here.)
    TRT_RETURN_IF_ERROR(foldReformats(net, &note));
    mark("layout", static_cast<int>(before), note);
  }
  // Batch tiling after the layouts (the reformats around the convolutions are links of the chain
  // too) and before tactics (the chunks are timed at their own batch).
  if (config_.optLevel >= 2 && config_.batchTiling) {
    const int before = static_cast<int>(net.layers().size());
    TRT_ASSIGN_OR_RETURN(BatchTiling tiling, tileBatchAtPeak(net, backend));
    log.log(Severity::kVerbose, "batch tiling: " + tiling.note);
    mark("batch tiling", before, tiling.note);
  }
  const int beforeTactics = static_cast<int>(net.layers().size());
  applyWorkspaceLimit(net);
  int timedLayers = 0, cachedLayers = 0;
  std::map<int, std::string> zInPlace;  // layer index -> its candidate that writes Y over Z
  for (Layer& layer : net.layers()) {
    std::vector<DataType> types;
    for (int i : layer.inputs) types.push_back(i >= 0 ? net.tensor(i).type : DataType::kFloat32);
    Status st = backend->supports(layer, types);
    if (!st.isOk()) return st.withContext(layerWhere(layer));
    // Tactic candidates: from the timing cache, else timed here; the fastest is configured.
    layer.tactic.clear();
    Choice ch = choose(layer, net, false);
    TRT_RETURN_IF_ERROR(deviceFailure);
    layer.tactic = ch.tactic;
    if (!ch.tactic.empty()) ++(ch.cached ? cachedLayers : timedLayers);
    auto impl = backend->configure(layer, net);
    if (!impl.isOk()) return Status(impl.status()).withContext(layerWhere(layer));
    layer.tactic = (*impl)->tacticName();
    if (ch.tried.empty()) ch.tried.push_back({layer.tactic, -1.0});
    if (ch.workspace.size() != ch.tried.size()) ch.workspace.assign(ch.tried.size(), -1);
    report_.layers.push_back({layer.name, layer.type, layer.precision, layer.tactic, ch.tried, ch.workspace});
    if (!ch.zInPlace.empty() && ch.zInPlace != layer.tactic)
      zInPlace[static_cast<int>(&layer - net.layers().data())] = ch.zInPlace;
  }
  if (!config_.timingCachePath.empty()) {
    Status saved = cache.save(config_.timingCachePath);
    if (!saved.isOk()) log.log(Severity::kWarning, saved.message());
  }
  mark("tactics", beforeTactics,
       std::to_string(timedLayers) + " layers timed, " + std::to_string(cachedLayers) +
           " from the timing cache, the rest by heuristic");
  // Channel-concat elision by tactics (builder/memory_planner.h): a Concat along the last axis runs
  // no copy where every input's producer writes its rows with a stride (Backend::writesRowStrided:
  // the CUTLASS convolutions and Resize on CUDA) and every other reader of an input reads them so
  // (readsRowStrided). Where a producer's fastest candidate does not, its fastest timed candidate
  // that does is taken, when the producers' extra time is less than the Concat's own (timed here):
  // YOLOv5s's C3 joins whose bottleneck ends on cuDNN. Readers keep their tactics: on the H200 the
  // stride-2 convolutions after YOLOv5s's neck joins went from cuDNN to CUTLASS that way at 6 us
  // more each in the graph, for a copy of about 3 (the standalone timings said otherwise).
  if (timing) {
    const size_t base = report_.layers.size() - net.layers().size();
    std::vector<std::vector<std::pair<int, int>>> readBy(net.tensors().size());  // (layer, slot)
    std::vector<int> producer(net.tensors().size(), -1);
    for (size_t li = 0; li < net.layers().size(); ++li) {
      const Layer& l = net.layers()[li];
      for (size_t k = 0; k < l.inputs.size(); ++k)
        if (l.inputs[k] >= 0) readBy[l.inputs[k]].emplace_back(static_cast<int>(li), static_cast<int>(k));
      for (int o : l.outputs)
        if (o >= 0) producer[o] = static_cast<int>(li);
    }
    for (size_t ci = 0; ci < net.layers().size(); ++ci) {
      const Layer& cat = net.layers()[ci];
      if (cat.type != "Concat" || cat.outputs.size() != 1 || cat.inputs.size() < 2) continue;
      const Shape& os = net.tensor(cat.outputs[0]).shape;
      int64_t axis = cat.attrs.getInt("axis", 0);
      if (axis < 0) axis += static_cast<int64_t>(os.size());
      if (os.size() < 2 || axis != static_cast<int64_t>(os.size()) - 1 || !isStatic(os)) continue;
      const int64_t align = std::max<size_t>(1, 16 / dataTypeSize(net.tensor(cat.outputs[0]).type));
      bool ok = os.back().value % align == 0;
      double extra = 0;
      std::vector<std::pair<int, std::string>> switches;
      for (int i : cat.inputs) {
        const int p = i >= 0 ? producer[i] : -1;
        ok = ok && p >= 0 && net.tensor(i).shape.back().value % align == 0;
        if (!ok) break;
        int byCat = 0;  // (the Concat reads each part once, the other readers with the stride)
        for (const auto& [rl, slot] : readBy[i])
          if (rl == static_cast<int>(ci))
            ++byCat;
          else
            ok = ok && backend->readsRowStrided(net.layers()[rl], slot);
        ok = ok && byCat == 1;
        if (!ok) break;
        const Layer& prod = net.layers()[p];
        if (backend->writesRowStrided(prod)) continue;
        double chosen = -1, best = -1;
        std::string pick;
        for (const auto& [tactic, ms] : report_.layers[base + p].candidates) {
          if (tactic == prod.tactic) chosen = ms;
          Layer probe = prod;
          probe.tactic = tactic;
          if (ms >= 0 && backend->writesRowStrided(probe) && (best < 0 || ms < best)) {
            best = ms;
            pick = tactic;
          }
        }
        ok = chosen >= 0 && best >= 0;
        if (!ok) break;
        extra += best - chosen;
        switches.emplace_back(p, pick);
      }
      if (!ok || switches.empty()) continue;
      const Choice copy = choose(cat, net, true);
      TRT_RETURN_IF_ERROR(deviceFailure);
      if (copy.ms < 0 || extra >= copy.ms) continue;
      for (const auto& [p, tactic] : switches) {
        Layer& layer = net.layers()[p];
        const std::string from = layer.tactic;
        layer.tactic = tactic;
        auto impl = backend->configure(layer, net);
        if (!impl.isOk()) return Status(impl.status()).withContext(layerWhere(layer));
        report_.layers[base + p].tactic = layer.tactic = (*impl)->tacticName();
        log.log(Severity::kVerbose, "concat elision: " + layerWhere(layer) + " tactic " + from + " -> " +
                                        layer.tactic + " (writes into " + cat.name + ")");
      }
    }
  }
  // Memory at the activation peak (builder/batch_tiling.h): the layers that hold it with Y beside
  // their residual Z take their timed candidate that writes Y over Z.
  if (!zInPlace.empty()) {
    const InPlaceAtPeak peak = writeOverZAtPeak(net, *backend, zInPlace);
    for (const InPlaceSwitch& sw : peak.switched) {
      Layer& layer = net.layers()[sw.layer];
      auto impl = backend->configure(layer, net);
      if (!impl.isOk()) return Status(impl.status()).withContext(layerWhere(layer));
      report_.layers[sw.layer].tactic = layer.tactic = (*impl)->tacticName();
      log.log(Severity::kVerbose, "memory at the peak: " + layerWhere(layer) + " tactic " + sw.from + " -> " +
                                      layer.tactic + " (writes its output over its residual input)");
    }
    log.log(Severity::kVerbose, "memory at the peak: " + peak.note);
    if (!peak.switched.empty()) mark("memory at the peak", static_cast<int>(net.layers().size()), peak.note);
  }
  log.log(Severity::kInfo,
          "built " + std::to_string(net.layers().size()) + " layers for backend " + backend->name());
  PlanFingerprint fp;
  fp.engineVersion = kEngineVersion;
  fp.backend = backend->name();
  fp.deviceName = backend->deviceName();
  const DeviceInfo info = backend->deviceInfo();
  fp.computeCapability = info.computeCapability;
  fp.cudaVersion = info.cudaVersion;
  fp.cudnnVersion = info.cudnnVersion;
  fp.cublasVersion = info.cublasVersion;
  fp.hostArch = hostArch();
  auto plan = writePlan(net, fp, config_.sourceModel);
  mark("serialize", static_cast<int>(net.layers().size()), "");
  for (const auto& p : report_.phases)
    if (p.name.rfind("pass ", 0) != 0)
      log.log(Severity::kVerbose, "phase " + p.name + ": " + std::to_string(p.ms) + " ms" +
                                      (p.note.empty() ? "" : " (" + p.note + ")"));
  return plan;
}

}  // namespace trt
