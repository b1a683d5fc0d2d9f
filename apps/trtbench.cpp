// trtbench: latency and throughput of an engine (or of a model, built first).
//   trtbench ENGINE.plan|MODEL.onnx [--iterations N] [--warmup N] [--shapes ...] [--threads N]
//            [--no-cuda-graph] [--include-data-transfers]
// GPU compute time comes from CUDA events around each inference (replayed as a CUDA graph unless
// --no-cuda-graph); on the CPU backend it is host wall clock. Per-layer profiles and trtexec's
// JSON exports arrive with issue 6.
#include <algorithm>
#include <chrono>
#include <iomanip>
#include <iostream>
#include <numeric>

#include "common/options.h"
#include "common/tool_util.h"

using namespace trt;
using namespace trt::tools;

namespace {

struct Stats {
  double min, max, mean, median, p90, p99;
};

Stats summarize(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  auto pct = [&](double p) { return v[std::min(v.size() - 1, static_cast<size_t>(p / 100.0 * (v.size() - 1) + 0.5))]; };
  return {v.front(), v.back(), std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size()), pct(50), pct(90),
          pct(99)};
}

void print(const char* what, const Stats& s) {
  std::cout << what << ": min = " << s.min << " ms, max = " << s.max << " ms, mean = " << s.mean
            << " ms, median = " << s.median << " ms, percentile(90%) = " << s.p90 << " ms, percentile(99%) = " << s.p99
            << " ms\n";
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"trtbench: measure engine latency and throughput", "trtbench"};
  std::string target;
  int iterations = 20, warmup = 3, threads = 0;
  bool noGraph = false, includeTransfers = false;
  BuildOptions build;
  InferenceOptions inf;
  std::string exportProfile, exportTimes;
  bool dumpProfile = false;
  app.add_option("target", target, "engine plan or ONNX model")->required();
  app.add_option("--iterations", iterations, "timed runs")->check(CLI::PositiveNumber);
  app.add_option("--warmup", warmup, "untimed runs first")->check(CLI::NonNegativeNumber);
  app.add_option("--threads", threads, "CPU backend threads (default: all cores)")->check(CLI::PositiveNumber);
  app.add_option("--device", build.device, "backend when building from a model")->check(CLI::IsMember({"cpu", "cuda"}));
  app.add_flag("--no-cuda-graph", noGraph, "launch layer by layer instead of replaying a CUDA graph");
  app.add_flag("--include-data-transfers", includeTransfers, "time host-to-device and device-to-host copies too");
  app.add_option("--export-profile,--exportProfile", exportProfile, "per-layer profile JSON (issue 6)");
  app.add_option("--export-times,--exportTimes", exportTimes, "per-iteration times JSON (issue 6)");
  app.add_flag("--dump-profile,--dumpProfile", dumpProfile, "per-layer table (issue 6)");
  addInferenceOptions(app, inf, false);
  inf.randomInputs = true;
  if (int rc = parseCommandLine(app, argc, argv); rc >= 0) return rc;
  if (!exportProfile.empty() || !exportTimes.empty() || dumpProfile)
    return notYet("trtbench", "per-layer profiling and trtexec JSON exports arrive with issue 6");
  setCpuThreads(threads);
  std::shared_ptr<Engine> engine;
  if (target.size() > 5 && target.substr(target.size() - 5) == ".onnx") {
    auto plan = buildFromOnnx(target, build, defaultLogger());
    if (!plan.isOk()) return fail("trtbench", plan.status());
    auto e = Engine::deserialize(plan->data(), plan->size());
    if (!e.isOk()) return fail("trtbench", e.status());
    engine = *e;
  } else {
    auto e = Engine::loadFile(target);
    if (!e.isOk()) return fail("trtbench", e.status());
    engine = *e;
  }
  auto ctx = engine->createExecutionContext();
  ctx->setUseGraphs(!noGraph);
  IoBuffers io;
  if (Status st = prepareInputs(*engine, *ctx, inf, io); !st.isOk()) return fail("trtbench", st);
  if (Status st = bindOutputs(*engine, *ctx, io); !st.isOk()) return fail("trtbench", st);
  // One iteration: with transfers, host inputs up, inference, outputs down (host wall clock);
  // without, the inference's device time.
  auto once = [&](double& gpuMs) -> Status {
    if (!includeTransfers) {
      TRT_ASSIGN_OR_RETURN(float ms, ctx->executeTimed());
      gpuMs = ms;
      return Status::ok();
    }
    for (auto& kv : io.device) {
      if (engine->network().tensor(engine->network().findTensor(kv.first)).isInput)
        TRT_RETURN_IF_ERROR(kv.second.copyFromHost(io.host[kv.first].data(), io.host[kv.first].byteSize()));
    }
    TRT_ASSIGN_OR_RETURN(float ms, ctx->executeTimed());
    gpuMs = ms;
    return downloadOutputs(*engine, io);
  };
  double gpu = 0;
  for (int i = 0; i < warmup; ++i)
    if (Status st = once(gpu); !st.isOk()) return fail("trtbench", st);
  std::vector<double> gpuMs, wallMs;
  auto wallStart = std::chrono::steady_clock::now();
  for (int i = 0; i < iterations; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    if (Status st = once(gpu); !st.isOk()) return fail("trtbench", st);
    wallMs.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    gpuMs.push_back(gpu);
  }
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wallStart).count();
  std::cout << std::fixed << std::setprecision(3);
  const bool onGpu = !engine->usesHostMemory();
  std::cout << "=== Performance summary (" << engine->backend() << (onGpu && !noGraph ? ", CUDA graph" : "")
            << (includeTransfers ? ", with data transfers" : "") << ") ===\n"
            << "Throughput: " << iterations / wall << " qps\n";
  print(onGpu ? "GPU Compute Time" : "Compute Time", summarize(gpuMs));
  print("Latency", summarize(wallMs));
  std::cout << "Device memory: weights " << engine->weightBytes() << " bytes, activations " << ctx->activationBytes()
            << " bytes, workspace " << ctx->workspaceBytes() << " bytes\n"
            << "Iterations: " << iterations << ", warm-up: " << warmup;
  if (!onGpu) std::cout << ", CPU threads: " << cpuThreads();
  std::cout << "\n";
  return kExitOk;
}
