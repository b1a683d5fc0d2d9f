// Option groups and the input/output preparation shared by the tools.
#include "common/options.h"

#include <iostream>
#include <random>

#include "common/npy.h"
#include "common/tool_util.h"

namespace trt {
namespace tools {

void addModelOptions(CLI::App& app, ModelOptions& o, bool required) {
  auto* pos = app.add_option("model", o.onnx, "ONNX model file");
  auto* alias = app.add_option("--onnx", o.onnx, "ONNX model file (trtexec spelling)");
  pos->excludes(alias);
  if (required) pos->check(CLI::ExistingFile);
}

void addBuildOptions(CLI::App& app, BuildOptions& o) {
  app.add_option("-o,--output,--saveEngine", o.saveEngine, "engine plan to write (default: MODEL.plan)");
  app.add_option("--device", o.device, "backend: cpu or cuda")->check(CLI::IsMember({"cpu", "cuda"}));
  app.add_option("--opt-level", o.optLevel, "graph optimisation level 0..3")->check(CLI::Range(0, 3));
  app.add_flag("--verbose,-v", o.verbose, "log each build stage and pass");
  app.add_option("--disable-pass", o.disabledPasses, "skip a graph pass by name (repeatable)");
  app.add_flag("--fp16", o.fp16, "allow FP16 kernels (CUDA backend)");
  app.add_flag("--tf32", o.tf32, "allow TF32 (CUDA backend)");
  app.add_option("--export-build-log", o.exportBuildLog,
                 "write the build's phases, passes and tactics as JSON");
  app.add_option("--layout", o.layout,
                 "convolution layout: auto (the backend chooses: NHWC for FP16 on CUDA), nchw or nhwc")
      ->check(CLI::IsMember({"auto", "nchw", "nhwc"}));
  app.add_flag("--no-batch-tiling", o.noBatchTiling,
               "keep the chain of layers at the activation peak whole (by default it runs in batch chunks, "
               "at batch 1 in bands of rows, where that lowers the planned arena by 10% or more)");
  app.add_flag("--int8", o.int8, "allow INT8 kernels (needs calibration)");
  app.add_option(
         "--builder-opt-level,--builderOptimizationLevel", o.builderOptLevel,
         "tactic search: 0 heuristic choices, no timing; 1..5 time every candidate with 1/3/5/9/15 runs "
         "(default 3); 4 and 5 also offer more candidates (8 / 16 cuBLASLt heuristic results, else 4)")
      ->check(CLI::Range(0, 5));
  app.add_option(
      "--timing-cache,--timingCacheFile", o.timingCache,
      "tactic timing cache: read before the build, written after (a cache for another device is ignored)");
  app.add_option("--workspace,--memPoolSize", o.workspace,
                 "most scratch memory one layer may use: MiB, or trtexec's workspace:N[K|M|G] (N in MiB "
                 "without a unit)");
  app.add_option("--calib", o.calib, "calibration data directory or cache");
  app.add_option("--input-io-formats,--inputIOFormats", o.inputIOFormats,
                 "types of the float inputs: fp32 or fp16 (':chw' accepted), one for all or one per float "
                 "input, comma-separated (default: as the model declares them)")
      ->delimiter(',');
  app.add_option(
         "--output-io-formats,--outputIOFormats", o.outputIOFormats,
         "types of the float outputs, as --input-io-formats (fp16 outputs: an FP16 engine writes them "
         "without a conversion)")
      ->delimiter(',');
}

void addEngineOptions(CLI::App& app, EngineOptions& o) {
  auto* pos = app.add_option("engine", o.engine, "engine plan file");
  auto* alias = app.add_option("--loadEngine", o.engine, "engine plan file (trtexec spelling)");
  pos->excludes(alias);
}

void addInferenceOptions(CLI::App& app, InferenceOptions& o, bool withOutputDir) {
  app.add_option("--input,-i", o.inputs, "NAME:FILE.npy, or FILE.npy for a single-input engine")->take_all();
  app.add_option("--loadInputs", o.loadInputs, "NAME:FILE[,NAME:FILE] (.npy or raw .bin; trtexec spelling)")
      ->take_all();
  app.add_option("--shapes", o.shapes, "NAME:1x3x224x224[,NAME:...] for dynamic inputs")->take_all();
  app.add_flag("--random-inputs", o.randomInputs, "fill inputs that are not given with random values");
  app.add_option("--seed", o.seed, "seed for --random-inputs");
  if (withOutputDir) app.add_option("--output-dir", o.outputDir, "directory for the output .npy files");
}

int parseCommandLine(CLI::App& app, int argc, char** argv) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::string msg = e.what();
    for (char& c : msg)
      if (c == '\n') c = ' ';
    std::cerr << app.get_name() << ": error: " << msg << " (see --help)" << std::endl;
    return kExitNotYet;
  }
  return -1;
}

namespace {

HostTensor randomTensor(DataType t, const Dims& dims, std::mt19937& rng) {
  HostTensor h(t, dims);
  std::uniform_real_distribution<float> uf(-1.f, 1.f);
  std::uniform_int_distribution<int> ui(0, 1);
  for (int64_t i = 0; i < h.numel(); ++i) {
    switch (t) {
      case DataType::kFloat32:
        h.as<float>()[i] = uf(rng);
        break;
      case DataType::kFloat16:
        h.as<uint16_t>()[i] = floatToHalf(uf(rng));
        break;
      case DataType::kInt8:
        h.as<int8_t>()[i] = static_cast<int8_t>(ui(rng));
        break;
      case DataType::kInt32:
        h.as<int32_t>()[i] = ui(rng);
        break;
      case DataType::kInt64:
        h.as<int64_t>()[i] = ui(rng);
        break;
      case DataType::kBool:
        h.as<uint8_t>()[i] = static_cast<uint8_t>(ui(rng));
        break;
    }
  }
  return h;
}

}  // namespace

namespace {

// Binds io.host[name] directly (host-memory engines, shape tensors) or through a device copy.
Status bindTensor(const Engine& engine, ExecutionContext& ctx, IoBuffers& io, const std::string& name,
                  bool upload) {
  HostTensor& h = io.host[name];
  if (engine.usesHostMemory() || engine.isShapeInferenceIO(name)) return ctx.setTensorAddress(name, h.data());
  TRT_ASSIGN_OR_RETURN(DeviceBuffer d, DeviceBuffer::allocate(engine, std::max<size_t>(h.byteSize(), 1)));
  if (upload) TRT_RETURN_IF_ERROR(d.copyFromHost(h.data(), h.byteSize()));
  io.device[name] = d;
  return ctx.setTensorAddress(name, d.data());
}

}  // namespace

Status prepareInputs(const Engine& engine, ExecutionContext& ctx, const InferenceOptions& o, IoBuffers& io) {
  std::vector<const BindingInfo*> inputs;
  for (const auto& b : engine.bindings())
    if (b.isInput) inputs.push_back(&b);
  auto findInput = [&](const std::string& name) -> const BindingInfo* {
    for (auto* b : inputs)
      if (b->name == name) return b;
    return nullptr;
  };
  std::string names;
  for (auto* b : inputs) names += (names.empty() ? "" : ", ") + b->name;
  // name -> file
  std::map<std::string, std::string> files;
  std::vector<std::string> specs = o.inputs;
  for (const auto& group : o.loadInputs) {
    std::stringstream ss(group);
    std::string s;
    while (std::getline(ss, s, ',')) specs.push_back(s);
  }
  for (const std::string& spec : specs) {
    auto [name, file] = splitNameValue(spec);
    if (name.empty()) {
      if (inputs.size() != 1)
        return makeError(StatusCode::kInvalidArgument,
                         "--input '" + spec + "' has no NAME: and the engine has " +
                             std::to_string(inputs.size()) + " inputs (" + names + ")");
      name = inputs[0]->name;
    }
    if (!findInput(name))
      return makeError(StatusCode::kNotFound,
                       "--input names '" + name + "', but the engine's inputs are: " + names);
    if (files.count(name)) return makeError(StatusCode::kInvalidArgument, "input '" + name + "' given twice");
    files[name] = file;
  }
  TRT_ASSIGN_OR_RETURN(auto shapes, parseShapeSpecs(o.shapes));
  for (auto& kv : shapes)
    if (!findInput(kv.first))
      return makeError(StatusCode::kNotFound,
                       "--shapes names '" + kv.first + "', but the engine's inputs are: " + names);
  std::mt19937 rng(o.seed);
  for (auto* b : inputs) {
    HostTensor t;
    auto f = files.find(b->name);
    if (f != files.end()) {
      const std::string& path = f->second;
      bool raw = path.size() > 4 && path.substr(path.size() - 4) == ".bin";
      if (raw) {
        auto s = shapes.find(b->name);
        Dims dims;
        if (s != shapes.end())
          dims = s->second;
        else if (isStatic(b->shape))
          dims = toDims(b->shape);
        else
          return makeError(StatusCode::kInvalidArgument,
                           "raw input '" + path + "' for dynamic input '" + b->name + "' needs --shapes");
        TRT_ASSIGN_OR_RETURN(t, readRaw(path, b->type, dims));
      } else {
        TRT_ASSIGN_OR_RETURN(t, readNpy(path));
      }
      if (t.type() != b->type)
        return makeError(StatusCode::kInvalidArgument, "input '" + b->name + "' expects " +
                                                           dataTypeName(b->type) + ", '" + path + "' holds " +
                                                           dataTypeName(t.type()));
      auto s = shapes.find(b->name);
      if (s != shapes.end() && s->second != t.dims())
        return makeError(StatusCode::kInvalidArgument, "input '" + b->name + "': --shapes says " +
                                                           dimsToX(s->second) + " but '" + path + "' is " +
                                                           dimsToX(t.dims()));
    } else if (o.randomInputs) {
      Dims dims;
      auto s = shapes.find(b->name);
      if (s != shapes.end()) {
        dims = s->second;
      } else {
        for (const Dim& d : b->shape) dims.push_back(d.isStatic() ? d.value : 1);
        if (!isStatic(b->shape))
          std::cerr << "note: dynamic input '" << b->name << "' " << shapeToString(b->shape)
                    << " gets size 1 in its dynamic dims (use --shapes to choose)" << std::endl;
      }
      t = randomTensor(b->type, dims, rng);
    } else {
      return makeError(StatusCode::kInvalidArgument, "input '" + b->name + "' is not given (use --input " +
                                                         b->name + ":FILE.npy or --random-inputs)");
    }
    TRT_RETURN_IF_ERROR(ctx.setInputShape(b->name, t.dims()));
    io.host[b->name] = t;
  }
  for (auto* b : inputs) TRT_RETURN_IF_ERROR(bindTensor(engine, ctx, io, b->name, true));
  return Status::ok();
}

Status bindOutputs(const Engine& engine, ExecutionContext& ctx, IoBuffers& io) {
  for (const auto& b : engine.bindings()) {
    if (b.isInput) continue;
    TRT_ASSIGN_OR_RETURN(Dims d, ctx.getTensorShape(b.name));
    io.host[b.name] = HostTensor(b.type, d);
    TRT_RETURN_IF_ERROR(bindTensor(engine, ctx, io, b.name, false));
  }
  return Status::ok();
}

Status downloadOutputs(const Engine& engine, IoBuffers& io) {
  for (const auto& b : engine.bindings()) {
    if (b.isInput) continue;
    auto it = io.device.find(b.name);
    if (it == io.device.end()) continue;
    HostTensor& h = io.host[b.name];
    TRT_RETURN_IF_ERROR(it->second.copyToHost(h.data(), h.byteSize()));
  }
  return Status::ok();
}

// "64" (MiB), or trtexec's memPoolSize list "workspace:64", "workspace:1.5G", "workspace:512K".
Expected<int64_t> parseWorkspace(const std::string& spec) {
  auto bad = [&](const std::string& why) {
    return makeError(StatusCode::kInvalidArgument, "--workspace/--memPoolSize '" + spec + "': " + why);
  };
  std::string value;
  size_t start = 0;
  while (start <= spec.size()) {
    const size_t comma = spec.find(',', start);
    const std::string part =
        spec.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    const size_t colon = part.find(':');
    if (colon == std::string::npos) {
      value = part;
    } else if (part.substr(0, colon) == "workspace") {
      value = part.substr(colon + 1);
    } else {
      return bad("unknown memory pool '" + part.substr(0, colon) + "' (this engine has only 'workspace')");
    }
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  if (value.empty()) return bad("no size");
  double scale = 1024.0 * 1024.0;  // MiB without a unit
  const char unit = value.back();
  if (unit == 'K' || unit == 'M' || unit == 'G') {
    scale = unit == 'K' ? 1024.0 : unit == 'M' ? 1024.0 * 1024.0 : 1024.0 * 1024.0 * 1024.0;
    value.pop_back();
  }
  size_t used = 0;
  double n = 0;
  try {
    n = std::stod(value, &used);
  } catch (const std::exception&) {
    return bad("not a number");
  }
  if (used != value.size() || !(n >= 0) || n * scale > 1e15) return bad("not a size");
  return static_cast<int64_t>(n * scale);
}

Expected<std::vector<uint8_t>> buildFromOnnx(const std::string& path, const BuildOptions& o, Logger& logger,
                                             BuildReport* report) {
  if (o.int8 || !o.calib.empty())
    return makeError(StatusCode::kUnsupported,
                     "--int8/--calib: INT8 arrives with a later issue (not in this build)");
  TRT_ASSIGN_OR_RETURN(std::unique_ptr<Network> net, parseOnnxFile(path));
  BuilderConfig cfg;
  cfg.device = o.device;
  cfg.optLevel = o.optLevel;
  cfg.logger = &logger;
  cfg.fp16 = o.fp16;
  cfg.tf32 = o.tf32;
  cfg.layout = o.layout;
  cfg.batchTiling = !o.noBatchTiling;
  cfg.disabledPasses = o.disabledPasses;
  cfg.timingCachePath = o.timingCache;
  cfg.builderOptLevel = o.builderOptLevel;
  cfg.inputIOFormats = o.inputIOFormats;
  cfg.outputIOFormats = o.outputIOFormats;
  TRT_ASSIGN_OR_RETURN(cfg.inputShapes, parseShapeSpecs(o.shapes));
  if (!o.workspace.empty()) {
    TRT_ASSIGN_OR_RETURN(cfg.workspaceLimitBytes, parseWorkspace(o.workspace));
  }
  size_t slash = path.find_last_of('/');
  cfg.sourceModel = slash == std::string::npos ? path : path.substr(slash + 1);
  Builder builder(cfg);
  auto plan = builder.buildSerialized(*net);
  if (report) *report = builder.report();
  if (!plan.isOk()) return Status(plan.status()).withContext(path);
  return plan;
}

}  // namespace tools
}  // namespace trt
