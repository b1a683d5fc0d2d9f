// trtbench: latency and throughput of an engine (or of a model, built first).
//   trtbench ENGINE.plan|MODEL.onnx [--iterations N] [--warmup N] [--shapes ...] [--threads N]
// This first version measures host wall-clock latency per synchronous execute() on the CPU
// backend. GPU timing, per-layer profiles and trtexec's JSON exports arrive with issue 6.
#include <algorithm>
#include <chrono>
#include <iomanip>
#include <iostream>
#include <numeric>

#include "common/options.h"
#include "common/tool_util.h"

using namespace trt;
using namespace trt::tools;

int main(int argc, char** argv) {
  CLI::App app{"trtbench: measure engine latency and throughput", "trtbench"};
  std::string target;
  int iterations = 20, warmup = 3;
  BuildOptions build;
  InferenceOptions inf;
  std::string exportProfile, exportTimes;
  int threads = 0;
  bool dumpProfile = false;
  app.add_option("target", target, "engine plan or ONNX model")->required();
  app.add_option("--iterations", iterations, "timed runs")->check(CLI::PositiveNumber);
  app.add_option("--warmup", warmup, "untimed runs first")->check(CLI::NonNegativeNumber);
  app.add_option("--threads", threads, "CPU backend threads (default: all cores)")->check(CLI::PositiveNumber);
  app.add_option("--device", build.device, "backend when building from a model")->check(CLI::IsMember({"cpu", "cuda"}));
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
  IoBuffers io;
  if (Status st = prepareInputs(*engine, *ctx, inf, io); !st.isOk()) return fail("trtbench", st);
  if (Status st = bindOutputs(*engine, *ctx, io); !st.isOk()) return fail("trtbench", st);
  for (int i = 0; i < warmup; ++i)
    if (Status st = ctx->execute(); !st.isOk()) return fail("trtbench", st);
  std::vector<double> ms;
  auto wallStart = std::chrono::steady_clock::now();
  for (int i = 0; i < iterations; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    if (Status st = ctx->execute(); !st.isOk()) return fail("trtbench", st);
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wallStart).count();
  std::vector<double> s = ms;
  std::sort(s.begin(), s.end());
  auto pct = [&](double p) { return s[std::min(s.size() - 1, static_cast<size_t>(p / 100.0 * (s.size() - 1) + 0.5))]; };
  double mean = std::accumulate(s.begin(), s.end(), 0.0) / static_cast<double>(s.size());
  std::cout << std::fixed << std::setprecision(3);
  std::cout << "=== Performance summary (" << engine->backend() << ", host wall clock) ===\n"
            << "Throughput: " << iterations / wall << " qps\n"
            << "Latency: min = " << s.front() << " ms, max = " << s.back() << " ms, mean = " << mean
            << " ms, median = " << pct(50) << " ms, percentile(90%) = " << pct(90) << " ms, percentile(99%) = " << pct(99)
            << " ms\n"
            << "Activation arena: " << ctx->activationBytes() << " bytes, weights: " << engine->weightBytes() << " bytes\n"
            << "Iterations: " << iterations << ", warm-up: " << warmup << ", CPU threads: " << cpuThreads() << "\n";
  return kExitOk;
}
