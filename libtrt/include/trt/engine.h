// Engine and ExecutionContext: the runtime.
//
// An Engine is a deserialized plan: the optimised network, its weights and one bound layer
// implementation per layer. It is immutable after load and can serve many ExecutionContexts at
// once. An ExecutionContext holds what one inference needs: concrete input shapes, the activation
// arena and tensor addresses. Use one context per thread.
//
// Typical use:
//   auto engine = Engine::loadFile("model.plan");
//   auto ctx = (*engine)->createExecutionContext();
//   ctx->setInputShape("x", {1, 3, 224, 224});
//   ctx->setTensorAddress("x", inputPtr);      // device memory (host memory on the CPU backend)
//   Dims outDims = ctx->getTensorShape("y");   // valid once every input shape is set
//   ctx->setTensorAddress("y", outputPtr);
//   ctx->execute();                            // or enqueue(stream) and synchronise yourself
// Inputs for which isShapeInferenceIO() is true are shape tensors: their addresses are host memory,
// read when the context prepares (as in TensorRT).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "trt/network.h"
#include "trt/status.h"

namespace trt {

class ExecutionContext;
struct EngineImpl;

// One engine input or output as seen by users.
struct BindingInfo {
  std::string name;
  DataType type;
  Shape shape;  // as built, possibly symbolic
  bool isInput;
};

// One layer as reported by trtinspect.
struct LayerInfo {
  std::string name;
  std::string type;
  std::vector<std::string> inputs;
  std::vector<std::string> outputs;
  std::string precision;
  std::string tactic;
  std::vector<std::string> origins;
};

class Engine : public std::enable_shared_from_this<Engine> {
 public:
  static Expected<std::shared_ptr<Engine>> deserialize(const void* data, size_t size);
  static Expected<std::shared_ptr<Engine>> loadFile(const std::string& path);
  // Reads a plan for inspection only (trtinspect on a machine without the plan's device): the
  // network, bindings and fingerprint are there; no layer is bound and no weight is uploaded, so
  // execution contexts report `inspectionReason()` when asked to prepare.
  static Expected<std::shared_ptr<Engine>> loadForInspection(const std::string& path);
  // Why this engine cannot run here (empty when it can).
  std::string inspectionReason() const;
  ~Engine();

  const std::vector<BindingInfo>& bindings() const;
  std::vector<LayerInfo> layers() const;
  const Network& network() const;
  std::string backend() const;
  std::string fingerprint() const;  // human readable
  int64_t weightBytes() const;
  // What layer i does at run time: "compute" (a kernel runs), "shape" (its outputs are shape
  // values, computed on the host when a context prepares) or "view" (a Reshape-like layer whose
  // output aliases its input: no work).
  std::string layerRole(size_t i) const;
  int formatVersion() const;
  // True for inputs whose values decide shapes (shape tensors): bind host memory for them.
  bool isShapeInferenceIO(const std::string& name) const;
  // True when the engine's device memory is host memory (the CPU backend).
  bool usesHostMemory() const;

  std::unique_ptr<ExecutionContext> createExecutionContext();

 private:
  Engine();
  std::unique_ptr<EngineImpl> impl_;
  friend class ExecutionContext;
  friend struct ContextImpl;
};

struct ContextImpl;

// A block of the engine's device memory (host memory on the CPU backend), for inputs and
// outputs. Copies to and from the host go through a page-locked staging buffer of the same size
// (allocated with the block on device backends). Copyable handle; freed with the last copy.
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  static Expected<DeviceBuffer> allocate(const Engine& engine, size_t bytes);
  void* data() const { return ptr_.get(); }
  size_t size() const { return size_; }
  Status copyFromHost(const void* src, size_t bytes);
  Status copyToHost(void* dst, size_t bytes) const;

 private:
  std::shared_ptr<void> ptr_;
  std::shared_ptr<void> staging_;  // page-locked host memory (device backends only)
  size_t size_ = 0;
  const void* backend_ = nullptr;
};

class ExecutionContext {
 public:
  ~ExecutionContext();
  // Sets a concrete shape for an input; checked against the built shape.
  Status setInputShape(const std::string& name, const Dims& dims);
  // The concrete shape of any binding, once all inputs have shapes.
  Expected<Dims> getTensorShape(const std::string& name);
  // Binds user memory for an input or output (host memory for the CPU backend; device or pinned
  // memory for CUDA: a pageable host pointer is an error there, except for shape inputs, whose
  // values are read on the host).
  Status setTensorAddress(const std::string& name, void* ptr);
  // Runs one inference synchronously.
  Status execute();
  // Enqueues one inference on `stream` (a cudaStream_t for the CUDA backend; ignored on the CPU,
  // which runs synchronously). Does no allocation and no synchronisation once shapes are prepared.
  Status enqueue(void* stream);
  // Activation arena size for the current shapes.
  int64_t activationBytes() const;
  // Runs one inference on the context's stream and returns the device time in milliseconds
  // (host wall clock on the CPU backend); used by trtbench.
  Expected<float> executeTimed();
  // Host milliseconds the last executeTimed spent enqueueing (launching) its work.
  double lastEnqueueMs() const;
  // CUDA graphs: on by default where the backend has them. The work of one inference is captured
  // the first time it runs for a given set of shapes and addresses, and replayed after.
  void setUseGraphs(bool on);
  // Profiler ranges named after each layer around its launch (NVTX on CUDA), off by default.
  void setProfilerRanges(bool on);
  // Device memory this context holds: activation arena plus workspace.
  int64_t workspaceBytes() const;

  // The activation memory plan for the current input shapes (prepares the context if needed).
  struct PlannedTensor {
    std::string name;
    int64_t offset = 0, bytes = 0;  // in the arena (a view shares its source's offset)
    int firstLayer = 0, lastLayer = 0;
    bool view = false;
    int64_t rowStride = 0;  // a part of a concatenation along the last axis: elements between its rows
  };
  struct MemoryPlanReport {
    int64_t arenaBytes = 0;            // the one arena all activations share
    int64_t totalActivationBytes = 0;  // what one buffer per activation would take (256-byte aligned)
    int64_t workspaceBytes = 0;        // scratch shared by every layer
    std::vector<PlannedTensor> tensors;
  };
  Expected<MemoryPlanReport> memoryPlan();

  // One layer's device time in a profiling run (host wall clock on the CPU backend).
  struct LayerTime {
    std::string name, type, tactic;
    std::vector<float> ms;  // one entry per profiled inference
  };
  // Runs `iterations` inferences layer by layer (no CUDA graph), timing each layer on the
  // stream, like TensorRT's IProfiler. On a device the stream is held back before each pass so
  // that the host's launches run ahead: layer times are device times, not launch overhead.
  // `endToEndMs`, when given, receives the wall clock of one profiled inference (average, less
  // that hold).
  Expected<std::vector<LayerTime>> profileLayers(int iterations, double* endToEndMs = nullptr);

 private:
  friend class Engine;
  explicit ExecutionContext(std::shared_ptr<Engine> engine);
  Status enqueueLayers(void* stream, std::vector<LayerTime>* times = nullptr);
  Status copyHostValuedOutputs(void* stream);
  std::unique_ptr<ContextImpl> impl_;
};

}  // namespace trt
