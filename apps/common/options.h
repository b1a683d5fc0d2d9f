// Option groups shared by the tools (DESIGN rule 8). Each tool's main() adds the groups it needs
// to a CLI11 app and wires them to the library. trtexec spellings are registered as aliases.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "trt/trt.h"

namespace trt {
namespace tools {

struct ModelOptions {
  std::string onnx;  // positional MODEL.onnx or --onnx=
};
struct BuildOptions {
  std::string saveEngine;  // -o / --saveEngine=
  std::string device = "cpu";
  int optLevel = 3;
  int builderOptLevel = 3;  // --builder-opt-level / --builderOptimizationLevel
  bool verbose = false;
  bool fp16 = false, int8 = false, tf32 = false;
  std::string calib;
  std::vector<std::string> disabledPasses;
  std::string layout = "auto";
  bool noBatchTiling = false;
  std::string exportBuildLog;       // --export-build-log FILE.json
  std::string workspace;            // --workspace MiB, or trtexec's --memPoolSize=workspace:N[K|M|G]
  std::string timingCache;          // --timing-cache FILE (trtexec --timingCacheFile)
  std::vector<std::string> shapes;  // trtbuild --shapes NAME:DIMS: build for these input shapes
  std::vector<std::string> inputIOFormats, outputIOFormats;  // --inputIOFormats=fp16[:chw][,...]
};
struct EngineOptions {
  std::string engine;  // positional ENGINE.plan or --loadEngine=
};
struct InferenceOptions {
  std::vector<std::string> inputs;      // --input NAME:FILE.npy or FILE.npy
  std::vector<std::string> loadInputs;  // --loadInputs=NAME:FILE[.npy|.bin]
  std::vector<std::string> shapes;      // --shapes=NAME:1x3x224x224
  bool randomInputs = false;
  std::string outputDir = ".";
  unsigned seed = 1;
};

void addModelOptions(CLI::App& app, ModelOptions& o, bool required);
void addBuildOptions(CLI::App& app, BuildOptions& o);
void addEngineOptions(CLI::App& app, EngineOptions& o);
void addInferenceOptions(CLI::App& app, InferenceOptions& o, bool withOutputDir);

// Parses argv with the app; on a usage error prints one line and returns its exit code
// (kExitNotYet), on --help prints help and returns 0; returns -1 when the tool should go on.
int parseCommandLine(CLI::App& app, int argc, char** argv);

// Host tensors for every binding, and their device copies when the engine's memory is not host
// memory (shape-tensor inputs stay on the host, as TensorRT wants them).
struct IoBuffers {
  std::map<std::string, HostTensor> host;
  std::map<std::string, DeviceBuffer> device;
};

// Turns the inference options into concrete input tensors for `engine`, sets their shapes and
// binds them on `ctx` (uploading them for device engines). Checks names, dtypes and shapes; fills
// missing inputs when randomInputs.
Status prepareInputs(const Engine& engine, ExecutionContext& ctx, const InferenceOptions& o, IoBuffers& io);
// Allocates outputs of the right shapes and binds them.
Status bindOutputs(const Engine& engine, ExecutionContext& ctx, IoBuffers& io);
// Copies device outputs back into io.host (nothing to do for host-memory engines).
Status downloadOutputs(const Engine& engine, IoBuffers& io);

// --workspace / --memPoolSize: "N" MiB, or "workspace:N[K|M|G]" (trtexec), to bytes.
Expected<int64_t> parseWorkspace(const std::string& spec);

// Builds an engine from an ONNX model in memory (used by trtbench given a model).
// `report`, when given, receives the builder's report (phases, passes, tactics).
Expected<std::vector<uint8_t>> buildFromOnnx(const std::string& path, const BuildOptions& o, Logger& logger,
                                             BuildReport* report = nullptr);

}  // namespace tools
}  // namespace trt
