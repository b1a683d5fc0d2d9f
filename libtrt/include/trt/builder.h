// Builder: turns a Network into a serialized engine plan.
//
// Stages: shape and type inference, graph passes (constant folding, dead code), backend
// selection per layer (`supports` then `configure`), memory plan, then the plan file.
// Thread safety: one build at a time per Builder; Builders are independent.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "trt/logger.h"
#include "trt/network.h"
#include "trt/status.h"

namespace trt {

struct BuilderConfig {
  std::string device = "cpu";  // backend name: "cpu" or "cuda"
  int optLevel = 3;            // graph optimisation level; 0 runs only what correctness needs
  Logger* logger = nullptr;    // defaultLogger() when null
  std::string sourceModel;     // recorded in the plan (e.g. the ONNX file name)
  bool fp16 = false;           // allow FP16 layers (CUDA backend)
  // I/O formats (trtexec's --inputIOFormats / --outputIOFormats): the types of the engine's float
  // inputs and outputs, in their order: one entry for all, or one per float tensor; "fp32" or
  // "fp16" (":chw" / ":linear" accepted). Empty: as the model declares them. The engine converts
  // at the boundary where its layers run another precision (no conversion where they match).
  std::vector<std::string> inputIOFormats, outputIOFormats;
  bool tf32 = false;                        // allow TF32 for FP32 layers (CUDA backend)
  std::vector<std::string> disabledPasses;  // pass names to skip (see trtbuild --verbose for names)
  // Convolution layout: "auto" (the backend chooses per layer: NHWC for FP16 convolutions on
  // CUDA), "nchw", or "nhwc" (every 2-D convolution, on any backend).
  std::string layout = "auto";
  // The most scratch one layer's algorithm may use (trtexec's --memPoolSize=workspace:N); -1 = the
  // backend's own limits (cuDNN 64 MiB, cuBLASLt 32 MiB). Recorded on each layer as the internal
  // attribute "workspace_limit", so the engine's algorithm choices respect it at run time too.
  int64_t workspaceLimitBytes = -1;
  // Time the backend's tactic candidates per layer and keep the fastest (off: the first, the
  // heuristic choice). timingCachePath: read before and written after the build (trtexec's
  // --timingCacheFile); a cache for another device or in another format is ignored with a warning.
  bool timeTactics = true;
  std::string timingCachePath;
  // Build time against search (trtexec's --builderOptimizationLevel): 0 takes the heuristic choice
  // without timing; 1..5 time every candidate with 1, 3, 5 (default), 9 or 15 runs per candidate.
  int builderOptLevel = 3;
  // Input shapes fixed for the build (trtexec's --shapes at build time): each named input takes
  // these dims (they must agree with the model's static dims), so the engine is built, and its
  // tactics timed, for exactly these shapes. Inputs left out keep the model's shapes.
  std::map<std::string, Dims> inputShapes;
  // Memory: run the chain of batchwise layers at the activation peak in batch chunks where that
  // lowers the planned arena by 10% or more (static shapes, optLevel >= 2; see trtbuild
  // --no-batch-tiling). It trades a copy in and out of the chain for the smaller peak.
  bool batchTiling = true;
};

// What the last build did, for `trtbuild --verbose` and `--export-build-log`.
struct BuildReport {
  struct Phase {
    std::string name;  // "shape inference", "pass fuse-conv", "precision", "layout", "tactics", "serialize"
    double ms = 0;
    int layersBefore = 0, layersAfter = 0;
    std::string note;  // "changed", "no change", "disabled", ...
  };
  struct LayerChoice {
    std::string name, type, precision, tactic;
    // Candidates considered with their measured times; one heuristic choice (time < 0: not timed)
    // until the builder times tactics on the device.
    std::vector<std::pair<std::string, double>> candidates;
    // Each candidate's workspace in bytes, parallel to `candidates` (-1: not known, e.g. from the
    // timing cache).
    std::vector<int64_t> workspaceBytes;
  };
  std::vector<Phase> phases;
  std::vector<LayerChoice> layers;
  double totalMs = 0;
};

class Builder {
 public:
  explicit Builder(BuilderConfig config = {});
  // Builds and serializes; `network` is consumed (it is optimised in place).
  Expected<std::vector<uint8_t>> buildSerialized(Network& network);
  // The report of the last buildSerialized (empty before the first).
  const BuildReport& report() const { return report_; }

 private:
  Expected<std::vector<uint8_t>> buildImpl(
      Network& network, const std::function<void(const std::string&, int, const std::string&)>& mark);
  BuilderConfig config_;
  BuildReport report_;
};

// Names of the backends usable here ("cpu", and "cuda" when built with CUDA and a device exists).
std::vector<std::string> availableBackends();
// Why a backend is not available, as one line (empty when it is).
std::string backendUnavailableReasonForTools(const std::string& name);

// Threads the CPU backend uses (OpenMP loops and OpenBLAS GEMM). Process-wide; n <= 0 leaves the
// default (all cores, or OMP_NUM_THREADS).
void setCpuThreads(int n);
int cpuThreads();

}  // namespace trt
