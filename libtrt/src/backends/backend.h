// The layer-implementation interface every backend implements (DESIGN rule 5).
//
// For each layer the builder asks a backend whether it `supports` the layer with its input types,
// then `configure`s a LayerImpl (which may precompute and may ask for workspace). At run time
// LayerImpl::enqueue is called with views of the inputs and outputs; it keeps no mutable state,
// so one engine can serve many execution contexts at once.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "ir/tensor_view.h"
#include "trt/network.h"

namespace trt {

class LayerImpl {
 public:
  virtual ~LayerImpl() = default;
  // Stable name recorded in the plan and shown by trtinspect, e.g. "cpu_conv_im2col_openblas".
  virtual std::string tacticName() const = 0;
  // Scratch bytes enqueue needs for these concrete dims (views' data pointers are not read).
  virtual size_t workspaceSize(const std::vector<TensorView>& inputs,
                               const std::vector<TensorView>& outputs) const {
    return 0;
  }
  // The scratch the layer needs once prepare() chose its algorithm for these shapes (at most
  // workspaceSize); the context's workspace is the largest of these. Default: workspaceSize.
  virtual size_t preparedWorkspaceSize(const std::vector<TensorView>& inputs,
                                       const std::vector<TensorView>& outputs, const void* state) const {
    return workspaceSize(inputs, outputs);
  }
  // Computes the outputs. `stream` is the backend's stream handle (unused on the CPU).
  virtual Status enqueue(const std::vector<TensorView>& inputs, std::vector<TensorView>& outputs,
                         void* workspace, void* stream) const = 0;

  // Per-shape state, made when an execution context prepares for new input shapes (descriptors,
  // chosen algorithms) and handed back to enqueueWithState. The context owns it, so the LayerImpl
  // itself stays immutable. Default: no state. Views carry dims only (data pointers are null).
  virtual Expected<std::shared_ptr<void>> prepare(const std::vector<TensorView>& inputs,
                                                  const std::vector<TensorView>& outputs) const {
    return std::shared_ptr<void>();
  }
  virtual Status enqueueWithState(const std::vector<TensorView>& inputs, std::vector<TensorView>& outputs,
                                  void* workspace, void* stream, const void* state) const {
    return enqueue(inputs, outputs, workspace, stream);
  }
};

// What a plan's fingerprint records about the device, beyond its name.
struct DeviceInfo {
  std::string computeCapability, cudaVersion, cudnnVersion, cublasVersion;
};

// Where a copy goes. "Device" is the backend's memory (host memory for the CPU backend).
enum class CopyKind { kHostToDevice, kDeviceToHost, kDeviceToDevice };

// Owned backend memory; the deleter returns it to the backend.
using DevicePtr = std::shared_ptr<void>;

class Backend {
 public:
  virtual ~Backend() = default;

  // ---- memory and streams (defaults: host memory, synchronous, no streams) ----
  // True when the backend's memory is ordinary host memory (the CPU backend).
  virtual bool hostMemory() const { return true; }
  // `bytes` of backend memory, 256-byte aligned.
  virtual Expected<DevicePtr> allocate(size_t bytes) const;
  // `bytes` of page-locked host memory for staging copies (plain host memory on the CPU backend).
  virtual Expected<DevicePtr> allocateHost(size_t bytes) const { return allocate(bytes); }
  // Copies on `stream` (asynchronous where the backend has streams).
  virtual Status copy(void* dst, const void* src, size_t bytes, CopyKind kind, void* stream) const;
  virtual Expected<void*> createStream() const { return static_cast<void*>(nullptr); }
  virtual void destroyStream(void* stream) const {}
  // Events between streams (parallel branches, runtime/side_stream.h); null where there are none.
  virtual Expected<void*> createEvent() const { return static_cast<void*>(nullptr); }
  virtual void destroyEvent(void* event) const {}
  virtual Status recordEvent(void* event, void* stream) const { return Status::ok(); }
  virtual Status waitEvent(void* stream, void* event) const { return Status::ok(); }
  // Whether `layer` may run on a second stream beside the layers after it (parallel branches,
  // runtime/side_stream.h): it reads its inputs and writes its one output, nothing in place.
  // Default: none (one stream).
  virtual bool runsBeside(const Layer& layer) const { return false; }
  virtual Status synchronize(void* stream) const { return Status::ok(); }
  // Whether the backend's kernels can read and write `ptr` (a binding's address); an error says
  // why not (CUDA: pageable host memory, where a kernel would fault).
  virtual Status checkAddress(const void* ptr) const { return Status::ok(); }
  // Bytes of the device's last-level cache (0: not known); tactic timing rotates buffers past it.
  virtual size_t cacheBytes() const { return 0; }

  // ---- graphs: record the work enqueued on a stream once, replay it cheaply ----
  virtual bool supportsGraphs() const { return false; }
  virtual Status beginCapture(void* stream) const { return makeError(StatusCode::kUnsupported, "no graphs"); }
  // Ends the capture and returns an executable graph (freed by the deleter).
  virtual Expected<std::shared_ptr<void>> endCapture(void* stream) const {
    return makeError(StatusCode::kUnsupported, "no graphs");
  }
  virtual Status launchGraph(const void* graph, void* stream) const {
    return makeError(StatusCode::kUnsupported, "no graphs");
  }

  // Inputs of `layer` whose memory its output may take over (in place) when nothing reads them
  // afterwards: the kernel reads each element before writing the same element. Default: none.
  virtual std::vector<int> inPlaceInputs(const Layer& layer) const { return {}; }

  // Whether `layer` (its tactic set) can write its single output with a row stride
  // (TensorView::rowStride): rows of the last axis `rowStride` elements apart inside a wider
  // tensor. The engine then places the output of each such layer that a Concat along the last
  // axis alone reads inside the Concat's output, and skips the Concat. Default: none.
  virtual bool writesRowStrided(const Layer& layer) const { return false; }
  // Before tactics are chosen (the builder's memory estimates): whether one of `layer`'s
  // candidates writes so. Default: writesRowStrided.
  virtual bool mayWriteRowStrided(const Layer& layer) const { return writesRowStrided(layer); }
  // Whether `layer` (its tactic) can read its input `input` with a row stride: such a tensor may be
  // a Concat's part (above) though the layer reads it as well (YOLOv5's necks: a 1x1
  // convolution's output feeds a Resize and the Concat after it). Default: none.
  virtual bool readsRowStrided(const Layer& layer, int input) const { return false; }
  virtual bool mayReadRowStrided(const Layer& layer, int input) const {
    return readsRowStrided(layer, input);
  }

  // ---- profiler ranges (NVTX on CUDA; nothing on the CPU) ----
  virtual void rangePush(const std::string& name) const {}
  virtual void rangePop() const {}

  // ---- timing: device milliseconds of the work enqueued by `work` on `stream` ----
  virtual Expected<float> timeOnStream(void* stream, const std::function<Status()>& work) const;
  // Marks on a stream, read back together (no synchronisation until intervals()): the device
  // milliseconds between consecutive marks. Default: the host clock, for synchronous backends.
  class StreamMarks {
   public:
    virtual ~StreamMarks() = default;
    virtual Status mark(void* stream) = 0;
    virtual Expected<std::vector<float>> intervals() = 0;
  };
  virtual Expected<std::unique_ptr<StreamMarks>> createMarks() const;
  // Holds `stream` busy for about `ms` (a device that waits on its host measures the host's
  // launch time as its own; a profiler delays the stream so the host gets ahead). Default: none.
  virtual Status delayStream(void* stream, float ms) const { return Status::ok(); }

  virtual std::string name() const = 0;
  // A short description of the device, recorded in plan fingerprints ("cpu-x86_64").
  virtual std::string deviceName() const = 0;
  virtual DeviceInfo deviceInfo() const { return {}; }
  // Ok when this backend can run `layer` with the given input types; otherwise why not.
  virtual Status supports(const Layer& layer, const std::vector<DataType>& inputTypes) const = 0;
  virtual Expected<std::unique_ptr<LayerImpl>> configure(const Layer& layer, const Network& net) const = 0;
  // Tactic candidates for `layer`, by name, the untimed (heuristic) choice first; empty when there
  // is one way. configure() builds the candidate that layer.tactic names (else the first). The
  // builder times them on the device and keeps the fastest (and its timing cache remembers it).
  virtual std::vector<std::string> tactics(const Layer& layer, const Network& net) const { return {}; }
  // Whether `layer` can run in `precision` ("fp16", ...) on this backend (FP32 always can).
  virtual bool supportsPrecision(const Layer& layer, const std::string& precision) const {
    return precision == "fp32";
  }
  // Whether `layer` (a 2-D convolution, after precision assignment) runs faster channels-last.
  virtual bool prefersChannelsLast(const Layer& layer) const { return false; }
};

// Backends by name; "cpu" always, "cuda" when compiled in and a device exists.
const Backend* findBackend(const std::string& name);
std::vector<std::string> backendNames();
// Why findBackend(name) returned null, as one line.
std::string backendUnavailableReason(const std::string& name);

// The CPU backend's host evaluation (used for constant folding and shape tensors).
Status evaluateOnHost(const Layer& layer, const std::vector<TensorView>& inputs,
                      std::vector<TensorView>& outputs);

}  // namespace trt
