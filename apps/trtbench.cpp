// trtbench: latency and throughput of an engine (or of a model, built first).
//   trtbench ENGINE.plan|MODEL.onnx [--iterations N] [--duration S] [--warmup MS] [--avg-runs N]
//            [--percentile 90,95,99] [--shapes ...] [--threads N] [--no-cuda-graph]
//            [--include-data-transfers]
//            [--dump-profile] [--export-profile F] [--export-times F] [--streams N]
//   given a model: [--device cpu|cuda] [--fp16] [--tf32] [--int8 --calib D] [--opt-level N] [--saveEngine F]
//   trtexec spellings: --loadEngine= --onnx= --iterations= --duration= --warmUp= --avgRuns= --percentile=
//            --exportTimes= --exportProfile= --dumpProfile --useCudaGraph --noDataTransfers
// GPU compute time comes from CUDA events around each inference (replayed as a CUDA graph unless
// --no-cuda-graph); on the CPU backend it is host wall clock. --dump-profile / --export-profile
// time each layer in a separate layer-by-layer run; --export-times writes every iteration.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <iomanip>
#include <iostream>
#include <numeric>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "common/options.h"
#include "common/tool_util.h"

using namespace trt;
using namespace trt::tools;

namespace {

// Per-iteration times averaged over groups of `avgRuns` consecutive runs (trtexec's --avgRuns),
// then min/max/mean/median and the requested percentiles (nearest rank).
void print(const char* what, std::vector<double> v, int avgRuns, const std::vector<double>& percentiles) {
  if (avgRuns > 1 && v.size() >= static_cast<size_t>(avgRuns)) {
    std::vector<double> g;
    for (size_t i = 0; i + avgRuns <= v.size(); i += avgRuns)
      g.push_back(std::accumulate(v.begin() + i, v.begin() + i + avgRuns, 0.0) / avgRuns);
    v = g;
  }
  std::sort(v.begin(), v.end());
  auto pct = [&](double p) {
    return v[std::min(v.size() - 1, static_cast<size_t>(p / 100.0 * (v.size() - 1) + 0.5))];
  };
  std::cout << what << ": min = " << v.front() << " ms, max = " << v.back()
            << " ms, mean = " << std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size())
            << " ms, median = " << pct(50);
  for (double p : percentiles) {
    std::ostringstream label;  // "90", "99.9": default float formatting, whatever the stream's
    label << p;
    std::cout << " ms, percentile(" << label.str() << "%) = " << pct(p);
  }
  std::cout << " ms\n";
}

}  // namespace

// Per-layer profile: a table on stdout (--dump-profile) and/or trtexec's profile JSON
// ([{"count": N}, {"name", "timeMs", "averageMs", "medianMs", "percentage"}, ...]).
Status reportProfile(const std::vector<ExecutionContext::LayerTime>& layers, int iterations, bool dump,
                     const std::string& exportPath, double endToEndMs) {
  double total = 0;
  for (const auto& l : layers)
    for (float v : l.ms) total += v;
  nlohmann::json j = nlohmann::json::array();
  j.push_back({{"count", iterations}});
  if (dump)
    std::cout << "=== Profile (" << iterations << " iterations, layer by layer) ===\n"
              << std::setw(10) << "Time(ms)" << std::setw(10) << "Avg(ms)" << std::setw(11) << "Median(ms)"
              << std::setw(9) << "Time(%)"
              << "  Layer [type, tactic]\n";
  for (const auto& l : layers) {
    if (l.ms.empty()) continue;  // computed on the host while preparing
    double sum = 0;
    for (float v : l.ms) sum += v;
    std::vector<float> sorted = l.ms;
    std::sort(sorted.begin(), sorted.end());
    const double med = sorted[sorted.size() / 2], avg = sum / static_cast<double>(l.ms.size());
    const double pct = total > 0 ? 100.0 * sum / total : 0.0;
    j.push_back(
        {{"name", l.name}, {"timeMs", sum}, {"averageMs", avg}, {"medianMs", med}, {"percentage", pct}});
    if (dump)
      std::cout << std::setw(10) << sum << std::setw(10) << avg << std::setw(11) << med << std::setw(9) << pct
                << "  " << l.name << " [" << l.type << ", " << l.tactic << "]\n";
  }
  if (dump) {
    std::cout << std::setw(10) << total << std::setw(10) << total / std::max(1, iterations) << std::setw(11)
              << "" << std::setw(9) << 100.0 << "  Total\n";
    std::cout << "Layers add up to " << total / std::max(1, iterations)
              << " ms per inference; the layer-by-layer run took " << endToEndMs
              << " ms per inference end to end\n";
  }
  if (!exportPath.empty()) {
    const std::string text = j.dump(2) + "\n";
    TRT_RETURN_IF_ERROR(writeFileAtomic(exportPath, text.data(), text.size()));
  }
  return Status::ok();
}

int main(int argc, char** argv) {
  CLI::App app{"trtbench: measure engine latency and throughput", "trtbench"};
  std::string target;
  int iterations = 20, threads = 0, streams = 1;
  bool noGraph = false, includeTransfers = false;
  BuildOptions build;
  InferenceOptions inf;
  std::string exportProfile, exportTimes;
  bool dumpProfile = false;
  std::string loadEngine, onnxModel;
  double warmupMs = 200, durationS = 0;
  int avgRuns = 1;
  std::vector<double> percentiles = {90, 95, 99};
  bool useCudaGraph = false, noDataTransfers = false;
  app.add_option("target", target, "engine plan or ONNX model");
  app.add_option("--loadEngine", loadEngine, "engine plan (trtexec spelling)");
  app.add_option("--onnx", onnxModel, "ONNX model, built first (trtexec spelling)");
  app.add_option("--iterations", iterations, "at least this many timed runs (default 20)")
      ->check(CLI::PositiveNumber);
  app.add_option("--duration", durationS, "and for at least this many seconds (default 0)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--warmup,--warmUp", warmupMs,
                 "untimed runs first for this many milliseconds (default 200; at least one run)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--avg-runs,--avgRuns", avgRuns, "report times averaged over N consecutive runs (default 1)")
      ->check(CLI::PositiveNumber);
  app.add_option("--percentile", percentiles, "percentiles to report (default 90,95,99)")
      ->delimiter(',')
      ->check(CLI::Range(0.0, 100.0));
  bool nvtx = false;
  app.add_flag(
      "--nvtx", nvtx,
      "mark each layer with an NVTX range for Nsight Systems (with --no-cuda-graph: a captured graph "
      "carries them only in its capture)");
  app.add_flag("--useCudaGraph", useCudaGraph, "replay a CUDA graph (the default; trtexec spelling)");
  app.add_flag("--noDataTransfers", noDataTransfers,
               "time without host/device copies (the default; trtexec spelling)");
  app.add_option("--threads", threads, "CPU backend threads (default: all cores)")
      ->check(CLI::PositiveNumber);
  app.add_option("--streams", streams,
                 "run N execution contexts of the engine at once, each on its own stream and thread")
      ->check(CLI::Range(1, 64));
  app.add_option("--device", build.device,
                 "backend when building from a model (default: cuda when there is a GPU)")
      ->check(CLI::IsMember({"cpu", "cuda"}));
  // Building from a model (trtexec's builder flags).
  app.add_flag("--fp16", build.fp16, "build: allow FP16 kernels");
  app.add_flag("--tf32", build.tf32, "build: allow TF32");
  app.add_flag("--int8", build.int8, "build: allow INT8 kernels (needs --calib)");
  app.add_option("--calib", build.calib, "build: calibration data directory or cache");
  app.add_option("--opt-level", build.optLevel, "build: graph optimisation level 0..3")
      ->check(CLI::Range(0, 3));
  app.add_option("--layout", build.layout, "build: convolution layout auto, nchw or nhwc")
      ->check(CLI::IsMember({"auto", "nchw", "nhwc"}));
  app.add_option("--saveEngine", build.saveEngine, "build: also write the engine plan built from the model");
  app.add_option("--workspace,--memPoolSize", build.workspace,
                 "build: most scratch memory one layer may use (MiB, or workspace:N[K|M|G])");
  app.add_flag("--no-cuda-graph", noGraph, "launch layer by layer instead of replaying a CUDA graph");
  app.add_flag("--include-data-transfers", includeTransfers,
               "time host-to-device and device-to-host copies too");
  app.add_option("--export-profile,--exportProfile", exportProfile,
                 "per-layer profile JSON (trtexec's schema)");
  app.add_option("--export-times,--exportTimes", exportTimes, "per-iteration times JSON (trtexec's schema)");
  app.add_flag("--dump-profile,--dumpProfile", dumpProfile, "per-layer table from a separate profiling run");
  addInferenceOptions(app, inf, false);
  inf.randomInputs = true;
  if (int rc = parseCommandLine(app, argc, argv); rc >= 0) return rc;
  if (!loadEngine.empty()) target = loadEngine;
  if (!onnxModel.empty()) target = onnxModel;
  if (target.empty())
    return fail("trtbench",
                makeError(StatusCode::kInvalidArgument, "no engine or model given (trtbench ENGINE.plan)"));
  if (useCudaGraph && noGraph)
    return fail("trtbench",
                makeError(StatusCode::kInvalidArgument, "--useCudaGraph and --no-cuda-graph contradict"));
  if (noDataTransfers && includeTransfers)
    return fail("trtbench", makeError(StatusCode::kInvalidArgument,
                                      "--noDataTransfers and --include-data-transfers contradict"));

  setCpuThreads(threads);
  std::shared_ptr<Engine> engine;
  const bool fromModel = target.size() > 5 && target.substr(target.size() - 5) == ".onnx";
  if (!fromModel && (build.fp16 || build.tf32 || build.int8 || !build.calib.empty() ||
                     !build.saveEngine.empty() || !build.workspace.empty()))
    return fail(
        "trtbench",
        makeError(StatusCode::kInvalidArgument,
                  "build flags (--fp16, --tf32, --int8, --calib, --saveEngine, --workspace) need an ONNX "
                  "model, not "
                  "an engine plan: " +
                      target));
  if (fromModel) {
    if (app.count("--device") == 0) {
      const auto avail = availableBackends();
      build.device = std::find(avail.begin(), avail.end(), "cuda") != avail.end() ? "cuda" : "cpu";
    }
    build.shapes = inf.shapes;  // as trtexec: --shapes is the build's profile too (a static engine)
    auto plan = buildFromOnnx(target, build, defaultLogger());
    if (!plan.isOk()) return fail("trtbench", plan.status());
    if (!build.saveEngine.empty())
      if (Status st = writeFileAtomic(build.saveEngine, plan->data(), plan->size()); !st.isOk())
        return fail("trtbench", st);
    auto e = Engine::deserialize(plan->data(), plan->size());
    if (!e.isOk()) return fail("trtbench", e.status());
    engine = *e;
  } else {
    auto e = Engine::loadFile(target);
    if (!e.isOk()) return fail("trtbench", e.status());
    engine = *e;
  }
  // One execution context per stream (--streams N): the engine is shared, each context has its
  // own activations, stream and CUDA graph, and runs in its own host thread.
  struct Worker {
    std::unique_ptr<ExecutionContext> ctx;
    IoBuffers io;
    std::vector<double> gpuMs, wallMs, startMs, enqMs, h2dMs, d2hMs;
    int warmup = 0;
    Status status;
  };
  std::vector<Worker> workers(streams);
  for (auto& w : workers) {
    w.ctx = engine->createExecutionContext();
    w.ctx->setUseGraphs(!noGraph);
    w.ctx->setProfilerRanges(nvtx);
    if (Status st = prepareInputs(*engine, *w.ctx, inf, w.io); !st.isOk()) return fail("trtbench", st);
    if (Status st = bindOutputs(*engine, *w.ctx, w.io); !st.isOk()) return fail("trtbench", st);
  }
  auto msSince = [](std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t).count();
  };
  // One iteration: with transfers, host inputs up, inference, outputs down (H2D and D2H are host
  // wall-clock times of the synchronous copies); without, the inference's device time.
  auto once = [&](Worker& w, double& gpuMs, double& h2d, double& d2h) -> Status {
    if (!includeTransfers) {
      TRT_ASSIGN_OR_RETURN(float ms, w.ctx->executeTimed());
      gpuMs = ms;
      return Status::ok();
    }
    auto t0 = std::chrono::steady_clock::now();
    for (auto& kv : w.io.device) {
      if (engine->network().tensor(engine->network().findTensor(kv.first)).isInput)
        TRT_RETURN_IF_ERROR(
            kv.second.copyFromHost(w.io.host[kv.first].data(), w.io.host[kv.first].byteSize()));
    }
    h2d = msSince(t0);
    TRT_ASSIGN_OR_RETURN(float ms, w.ctx->executeTimed());
    gpuMs = ms;
    t0 = std::chrono::steady_clock::now();
    TRT_RETURN_IF_ERROR(downloadOutputs(*engine, w.io));
    d2h = msSince(t0);
    return Status::ok();
  };
  std::chrono::steady_clock::time_point wallStart;
  auto run = [&](Worker& w) {
    double gpu = 0, h2d = 0, d2h = 0;
    const auto warmStart = std::chrono::steady_clock::now();
    do {
      if (w.status = once(w, gpu, h2d, d2h); !w.status.isOk()) return;
      ++w.warmup;
    } while (msSince(warmStart) < warmupMs);
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < iterations || msSince(start) < durationS * 1000.0; ++i) {
      auto t0 = std::chrono::steady_clock::now();
      if (w.status = once(w, gpu, h2d, d2h); !w.status.isOk()) return;
      w.wallMs.push_back(msSince(t0));
      w.h2dMs.push_back(h2d);
      w.d2hMs.push_back(d2h);
      w.enqMs.push_back(w.ctx->lastEnqueueMs());
      w.startMs.push_back(std::chrono::duration<double, std::milli>(t0 - wallStart).count());
      w.gpuMs.push_back(gpu);
    }
  };
  wallStart = std::chrono::steady_clock::now();
  if (streams == 1) {
    run(workers[0]);
  } else {
    std::vector<std::thread> threads;
    for (auto& w : workers) threads.emplace_back(run, std::ref(w));
    for (auto& t : threads) t.join();
  }
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wallStart).count();
  for (auto& w : workers)
    if (!w.status.isOk()) return fail("trtbench", w.status);
  // Every stream's iterations together, in start order (one stream: as they ran).
  std::vector<double> gpuMs, wallMs, startMs, enqMs, h2dMs, d2hMs;
  {
    std::vector<std::pair<double, std::pair<size_t, size_t>>> order;
    for (size_t wi = 0; wi < workers.size(); ++wi)
      for (size_t i = 0; i < workers[wi].gpuMs.size(); ++i)
        order.push_back({workers[wi].startMs[i], {wi, i}});
    std::stable_sort(order.begin(), order.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    for (const auto& o : order) {
      const Worker& w = workers[o.second.first];
      const size_t i = o.second.second;
      gpuMs.push_back(w.gpuMs[i]);
      wallMs.push_back(w.wallMs[i]);
      startMs.push_back(w.startMs[i]);
      enqMs.push_back(w.enqMs[i]);
      h2dMs.push_back(w.h2dMs[i]);
      d2hMs.push_back(w.d2hMs[i]);
    }
  }
  int warmup = 0;
  for (const auto& w : workers) warmup += w.warmup;
  ExecutionContext* ctx = workers[0].ctx.get();
  if (!exportTimes.empty()) {
    // trtexec's --exportTimes schema, one object per timed iteration (ms since the first one).
    // Copies are timed with --include-data-transfers, else 0.
    nlohmann::json times = nlohmann::json::array();
    for (size_t i = 0; i < gpuMs.size(); ++i)
      times.push_back({{"startEnqMs", startMs[i] + h2dMs[i]},
                       {"endEnqMs", startMs[i] + h2dMs[i] + enqMs[i]},
                       {"startH2dMs", startMs[i]},
                       {"endH2dMs", startMs[i] + h2dMs[i]},
                       {"startComputeMs", startMs[i] + h2dMs[i]},
                       {"endComputeMs", startMs[i] + h2dMs[i] + gpuMs[i]},
                       {"startD2hMs", startMs[i] + wallMs[i] - d2hMs[i]},
                       {"endD2hMs", startMs[i] + wallMs[i]},
                       {"h2dMs", h2dMs[i]},
                       {"computeMs", gpuMs[i]},
                       {"d2hMs", d2hMs[i]},
                       {"latencyMs", wallMs[i]}});
    const std::string text = times.dump(2) + "\n";
    if (Status st = writeFileAtomic(exportTimes, text.data(), text.size()); !st.isOk())
      return fail("trtbench", st);
  }
  std::cout << std::fixed << std::setprecision(3);
  const bool onGpu = !engine->usesHostMemory();
  std::cout << "=== Performance summary (" << engine->backend() << (onGpu && !noGraph ? ", CUDA graph" : "")
            << (includeTransfers ? ", with data transfers" : "")
            << (streams > 1 ? ", " + std::to_string(streams) + " streams" : std::string()) << ") ===\n"
            << "Throughput: " << static_cast<double>(gpuMs.size()) / wall << " qps\n";
  print(onGpu ? "GPU Compute Time" : "Compute Time", gpuMs, avgRuns, percentiles);
  print("Latency", wallMs, avgRuns, percentiles);
  if (onGpu) print("Enqueue Time", enqMs, avgRuns, percentiles);
  if (includeTransfers) {
    print("H2D Latency", h2dMs, avgRuns, percentiles);
    print("D2H Latency", d2hMs, avgRuns, percentiles);
  }
  const double gpuTotalS = std::accumulate(gpuMs.begin(), gpuMs.end(), 0.0) / 1000.0;
  std::cout << "Total Host Walltime: " << wall << " s\n"
            << "Total " << (onGpu ? "GPU " : "") << "Compute Time: " << gpuTotalS << " s\n";
  // Weights are shared; each context (stream) has its own activations and workspace.
  std::cout << "Device memory: weights " << engine->weightBytes() << " bytes, activations "
            << ctx->activationBytes() * streams << " bytes, workspace " << ctx->workspaceBytes() * streams
            << " bytes";
  if (streams > 1) std::cout << " (" << streams << " execution contexts)";
  std::cout << "\n"
            << "Iterations: " << gpuMs.size() << ", warm-up: " << warmup << " runs";
  if (!onGpu) std::cout << ", CPU threads: " << cpuThreads();
  std::cout << "\n";
  // trtexec's warnings: unstable timing, and copies that dominate the latency.
  {
    double mean = std::accumulate(gpuMs.begin(), gpuMs.end(), 0.0) / static_cast<double>(gpuMs.size()),
           var = 0;
    for (double v : gpuMs) var += (v - mean) * (v - mean);
    const double cov = mean > 0 ? std::sqrt(var / static_cast<double>(gpuMs.size())) / mean : 0.0;
    if (cov > 0.025)
      std::cout << "[W] The coefficient of variation of " << (onGpu ? "GPU compute" : "compute")
                << " time is " << 100.0 * cov
                << "%, above 2.5%: the timing is not stable (other load on the device or host?)\n";
    const double enqTotal = std::accumulate(enqMs.begin(), enqMs.end(), 0.0);
    if (onGpu && enqTotal > std::accumulate(gpuMs.begin(), gpuMs.end(), 0.0))
      std::cout
          << "[W] Enqueueing takes longer than the GPU compute: throughput is bound by the host (try CUDA "
             "graphs, or larger batches)\n";
    if (includeTransfers) {
      const double copies =
          std::accumulate(h2dMs.begin(), h2dMs.end(), 0.0) + std::accumulate(d2hMs.begin(), d2hMs.end(), 0.0);
      if (copies > std::accumulate(gpuMs.begin(), gpuMs.end(), 0.0))
        std::cout << "[W] Host-device copies take longer than the compute: the latency is copy-bound\n";
    }
  }
  if (dumpProfile || !exportProfile.empty()) {
    // A separate profiling run, layer by layer, as trtexec does.
    double endToEnd = 0;
    auto prof = ctx->profileLayers(iterations, &endToEnd);
    if (!prof.isOk()) return fail("trtbench", prof.status());
    if (Status st = reportProfile(*prof, iterations, dumpProfile, exportProfile, endToEnd); !st.isOk())
      return fail("trtbench", st);
  }
  return kExitOk;
}
