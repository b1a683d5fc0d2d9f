// The CUDA backend: device discovery, memory, streams, library handles and the op table.
#include <nvtx3/nvToolsExt.h>

#include "backends/cuda/cuda_util.h"
#include "ir/ops/pointwise.h"

#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <sstream>

#include <cuda.h>

namespace trt {
namespace cuda {

namespace {
// Programmatic dependent launch in captured graphs, on by default (TRT_PDL=0 switches it off; on
// the H200 YOLOv5s bs1 0.479 -> 0.473 ms, GPT-2 and BERT at bs16 unchanged). Every chain edge
// (one out of its node, one into the next) from a kernel node into a trt kernel (the namespace trt's and the
// generated trt_pointwise: each begins with griddepcontrol.wait, kernel_common.cuh's TRT_WAIT_PRIOR_GRID)
// becomes a programmatic one from the upstream kernel's programmatic port: the trt kernel may launch once
// every block upstream has finished, instead of after the upstream kernel's completion and memory flush, and
// waits for those in its first instruction. The CUTLASS kernels trt launches count as trt kernels: their
// nodes first take their waiting twins (kernels.h). Edges into cuBLAS and cuDNN kernels and from other nodes
// stay.
bool programmaticLaunch() {  // (read at each capture: captures are few, and tests switch it)
  const char* v = std::getenv("TRT_PDL");
  return !(v && std::string(v) == "0");
}

bool isKernelNode(cudaGraphNode_t node) {
  cudaGraphNodeType t{};
  return cudaGraphNodeGetType(node, &t) == cudaSuccess && t == cudaGraphNodeTypeKernel;
}

// The driver's view of kernel nodes: the runtime's cudaGraphKernelNodeGetParams fails
// (cudaErrorInvalidDeviceFunction, which compute-sanitizer counts) on kernels another runtime
// launched (cuBLAS's, cuDNN's), the driver reads any node. Null entries: no programmatic launch.
struct DriverGraph {
  CUresult (*getParams)(CUgraphNode, CUDA_KERNEL_NODE_PARAMS*) = nullptr;
  CUresult (*funcName)(const char**, CUfunction) = nullptr;
};
const DriverGraph& driverGraph() {
  static const DriverGraph d = [] {
    DriverGraph r;
    auto entry = [](const char* name, unsigned version) -> void* {
      void* f = nullptr;
      cudaDriverEntryPointQueryResult q{};
      if (cudaGetDriverEntryPointByVersion(name, &f, version, cudaEnableDefault, &q) != cudaSuccess ||
          q != cudaDriverEntryPointSuccess) {
        cudaGetLastError();
        return nullptr;
      }
      return f;
    };
    r.getParams = reinterpret_cast<CUresult (*)(CUgraphNode, CUDA_KERNEL_NODE_PARAMS*)>(
        entry("cuGraphKernelNodeGetParams", 12000));
    r.funcName = reinterpret_cast<CUresult (*)(const char**, CUfunction)>(entry("cuFuncGetName", 12030));
    return r;
  }();
  return d;
}

// A kernel node's driver function and its (mangled) name; null where the driver cannot say.
CUfunction nodeFunction(cudaGraphNode_t node, const char** name) {
  const DriverGraph& d = driverGraph();
  CUDA_KERNEL_NODE_PARAMS p{};
  *name = nullptr;
  if (!isKernelNode(node) || d.getParams(node, &p) != CUDA_SUCCESS || !p.func ||
      d.funcName(name, p.func) != CUDA_SUCCESS || !*name)
    return nullptr;
  return p.func;
}

bool isTrtKernelNode(cudaGraphNode_t node) {
  const char* name = nullptr;
  if (!nodeFunction(node, &name)) return false;  // (its edges stay)
  return std::strncmp(name, "_ZN3trt", 7) == 0 || std::strncmp(name, "trt_", 4) == 0;
}

std::mutex statsMutex;
GraphRewriteStats lastStats;

cudaError_t makeEdgesProgrammatic(cudaGraph_t graph) {
  GraphRewriteStats stats;
  struct Publish {  // (whatever the exit)
    GraphRewriteStats& s;
    ~Publish() {
      std::lock_guard<std::mutex> lock(statsMutex);
      lastStats = s;
    }
  } publish{stats};
  if (!driverGraph().getParams || !driverGraph().funcName) return cudaSuccess;  // (an older driver)
  // First the CUDA kernels trt launched from CUTLASS become their twins that wait (kernels.h).
  size_t nodes = 0;
  cudaError_t e = cudaGraphGetNodes(graph, nullptr, &nodes);
  if (e != cudaSuccess) return e;
  std::vector<cudaGraphNode_t> all(nodes);
  if (nodes && (e = cudaGraphGetNodes(graph, all.data(), &nodes)) != cudaSuccess) return e;
  for (cudaGraphNode_t node : all) {
    const char* name = nullptr;
    const CUfunction f = nodeFunction(node, &name);
    const void* twin = f ? kernels::pdlTwinOf(f) : nullptr;
    if (!twin) continue;
    cudaKernelNodeParams p{};  // (trt's own kernel: the runtime reads it)
    if ((e = cudaGraphKernelNodeGetParams(node, &p)) != cudaSuccess) return e;
    p.func = const_cast<void*>(twin);
    // (the shared-memory opt-in CUTLASS gave its own kernel, here, not at each launch)
    if (p.sharedMemBytes > (48u << 10) &&
        (e = cudaFuncSetAttribute(p.func, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                  static_cast<int>(p.sharedMemBytes))) != cudaSuccess)
      return e;
    if ((e = cudaGraphKernelNodeSetParams(node, &p)) != cudaSuccess) return e;
    ++stats.twins;
  }
  size_t n = 0;
  e = cudaGraphGetEdges(graph, nullptr, nullptr, nullptr, &n);
  if (e != cudaSuccess || n == 0) return e;
  std::vector<cudaGraphNode_t> from(n), to(n);
  std::vector<cudaGraphEdgeData> data(n);
  if ((e = cudaGraphGetEdges(graph, from.data(), to.data(), data.data(), &n)) != cudaSuccess) return e;
  // Only the edges of a chain: one out of the upstream node and one into the trt kernel (the
  // fork and join of parallel branches, side_stream.h, keep theirs).
  stats.edges = static_cast<int>(n);
  std::map<cudaGraphNode_t, int> outs, ins;
  for (size_t i = 0; i < n; ++i) {
    ++outs[from[i]];
    ++ins[to[i]];
  }
  for (size_t i = 0; i < n; ++i) {
    if (outs[from[i]] != 1 || ins[to[i]] != 1) continue;
    if (data[i].type != cudaGraphDependencyTypeDefault ||
        data[i].from_port != cudaGraphKernelNodePortDefault || !isKernelNode(from[i]) ||
        !isTrtKernelNode(to[i]))
      continue;
    cudaGraphEdgeData programmatic{};
    programmatic.from_port = cudaGraphKernelNodePortProgrammatic;
    programmatic.type = cudaGraphDependencyTypeProgrammatic;
    if ((e = cudaGraphRemoveDependencies(graph, &from[i], &to[i], &data[i], 1)) != cudaSuccess) return e;
    if ((e = cudaGraphAddDependencies(graph, &from[i], &to[i], &programmatic, 1)) != cudaSuccess) return e;
    ++stats.programmatic;
  }
  return cudaSuccess;
}
}  // namespace

GraphRewriteStats lastGraphRewrite() {
  std::lock_guard<std::mutex> lock(statsMutex);
  return lastStats;
}

const std::set<DataType> kF32 = {DataType::kFloat32};
const std::set<DataType> kFloats = {DataType::kFloat32, DataType::kFloat16};
const std::set<DataType> kNumeric = {DataType::kFloat32, DataType::kInt32, DataType::kInt64};
const std::set<DataType> kAll = {DataType::kFloat32, DataType::kFloat16, DataType::kInt8,
                                 DataType::kInt32,   DataType::kInt64,   DataType::kBool};

Status cudaStatus(cudaError_t e, const char* what) {
  if (e == cudaSuccess) return Status::ok();
  return makeError(StatusCode::kRuntime, std::string("CUDA error ") + cudaGetErrorName(e) + " (" +
                                             cudaGetErrorString(e) + ") in " + what);
}

Status cublasStatus(cublasStatus_t e, const char* what) {
  if (e == CUBLAS_STATUS_SUCCESS) return Status::ok();
  return makeError(StatusCode::kRuntime,
                   "cuBLAS error " + std::to_string(static_cast<int>(e)) + " in " + what);
}

Status cudnnStatus(cudnnStatus_t e, const char* what) {
  if (e == CUDNN_STATUS_SUCCESS) return Status::ok();
  return makeError(StatusCode::kRuntime,
                   std::string("cuDNN error ") + cudnnGetErrorString(e) + " in " + what);
}

Expected<cublasLtHandle_t> cublasLt() {
  static cublasLtHandle_t handle = nullptr;
  static cublasStatus_t status = CUBLAS_STATUS_SUCCESS;
  static std::once_flag once;
  std::call_once(once, [] { status = cublasLtCreate(&handle); });
  TRT_CUBLAS_CHECK(status);
  return handle;
}

Expected<cudnnHandle_t> cudnnForThisThread() {
  struct Holder {
    cudnnHandle_t h = nullptr;
    cudnnStatus_t st = CUDNN_STATUS_SUCCESS;
    Holder() {
      cudaFree(nullptr);  // the device's primary context current, should this be the thread's first call
      st = cudnnCreate(&h);
    }
    ~Holder() {
      if (h) cudnnDestroy(h);
    }
  };
  thread_local Holder holder;
  TRT_CUDNN_CHECK(holder.st);
  return holder.h;
}

kernels::KType ktype(DataType t) {
  return static_cast<kernels::KType>(static_cast<int>(t));
}

kernels::Shape8 dense(const Dims& d) {
  kernels::Shape8 s;
  s.rank = static_cast<int>(d.size());
  int64_t st = 1;
  for (int i = s.rank - 1; i >= 0; --i) {
    s.dims[i] = d[i];
    s.strides[i] = st;
    st *= d[i];
  }
  return s;
}

kernels::Shape8 broadcastTo(const Dims& in, const Dims& out) {
  kernels::Shape8 s;
  s.rank = static_cast<int>(out.size());
  int64_t st = 1;
  for (int i = static_cast<int>(in.size()) - 1, o = s.rank - 1; o >= 0; --i, --o) {
    s.dims[o] = out[o];
    if (i < 0) {
      s.strides[o] = 0;
      continue;
    }
    s.strides[o] = in[i] == 1 ? 0 : st;
    st *= in[i];
  }
  return s;
}

const CudaOpTable& CudaOpTable::instance() {
  static CudaOpTable t;
  static std::once_flag once;
  std::call_once(once, [] {
    registerElementwiseOps(t);
    registerMovementOps(t);
    registerMatmulOps(t);
    registerConvOps(t);
    registerNormReduceOps(t);
    // FP16 layers: storage in float16, accumulation in float32 inside the kernels. Reductions
    // (ReduceMean/Sum) stay FP32 for accuracy.
    t.allowFp16({"Conv",
                 "FusedConv",
                 "MatMul",
                 "FusedMatMul",
                 "MatMulLayerNorm",
                 "Attention",
                 "Gemm",
                 "BatchNormalization",
                 "Relu",
                 "LeakyRelu",
                 "Sigmoid",
                 "Tanh",
                 "HardSigmoid",
                 "HardSwish",
                 "Softplus",
                 "Elu",
                 "Gelu",
                 "Erf",
                 "Sqrt",
                 "Exp",
                 "Log",
                 "Reciprocal",
                 "Neg",
                 "Abs",
                 "Add",
                 "Sub",
                 "Mul",
                 "Div",
                 "Pow",
                 "Max",
                 "Min",
                 "Pointwise",
                 "Softmax",
                 "LogSoftmax",
                 "LayerNormalization",
                 "AddLayerNorm",
                 "MaxPool",
                 "MaxPoolCascade",
                 "AveragePool",
                 "GlobalAveragePool",
                 "GlobalMaxPool",
                 "Transpose",
                 "Reshape",
                 "Flatten",
                 "Squeeze",
                 "Unsqueeze",
                 "Identity",
                 "Dropout",
                 "Concat",
                 "Split",
                 "Slice",
                 "Gather",
                 "Expand",
                 "Tile",
                 "Where",
                 "Resize",
                 "Pad"});
  });
  return t;
}

void CudaOpTable::add(const std::string& op, std::set<DataType> types, ImplFactory make, TacticsFn tactics) {
  if (ops_.count(op)) {
    if (status_.isOk()) status_ = makeError(StatusCode::kInternal, "CUDA op '" + op + "' registered twice");
    return;
  }
  ops_[op] = CudaOp{std::move(types), std::move(make), false, std::move(tactics)};
}

void CudaOpTable::allowFp16(std::initializer_list<const char*> ops) {
  for (const char* op : ops) {
    auto it = ops_.find(op);
    if (it == ops_.end()) {
      if (status_.isOk())
        status_ = makeError(StatusCode::kInternal, std::string("FP16 for unknown CUDA op ") + op);
      continue;
    }
    it->second.fp16 = true;
    it->second.types.insert(DataType::kFloat16);
  }
}

const CudaOp* CudaOpTable::find(const std::string& op) const {
  auto it = ops_.find(op);
  return it == ops_.end() ? nullptr : &it->second;
}

namespace {

class CudaBackend : public Backend {
 public:
  explicit CudaBackend(const cudaDeviceProp& prop) : prop_(prop) {}
  std::string name() const override { return "cuda"; }
  std::string deviceName() const override { return prop_.name; }
  DeviceInfo deviceInfo() const override {
    int rt = 0;
    cudaRuntimeGetVersion(&rt);
    return {std::to_string(prop_.major) + "." + std::to_string(prop_.minor),
            std::to_string(rt / 1000) + "." + std::to_string((rt % 1000) / 10),
            std::to_string(cudnnGetVersion()), std::to_string(cublasLtGetVersion())};
  }
  bool hostMemory() const override { return false; }

  Status supports(const Layer& layer, const std::vector<DataType>& inputTypes) const override {
    const CudaOp* op = CudaOpTable::instance().find(layer.type);
    if (!op)
      return makeError(StatusCode::kUnsupported, "the CUDA backend has no implementation of " + layer.type);
    if (!inputTypes.empty() && !op->types.count(inputTypes[0]))
      return makeError(StatusCode::kUnsupported, std::string("the CUDA backend's ") + layer.type +
                                                     " does not take " + dataTypeName(inputTypes[0]) +
                                                     " input");
    return Status::ok();
  }
  bool supportsPrecision(const Layer& layer, const std::string& precision) const override {
    if (precision == "fp32" || precision == "tf32") return true;
    const CudaOp* op = CudaOpTable::instance().find(layer.type);
    return precision == "fp16" && op && op->fp16;
  }
  // FP16 convolutions: cuDNN's tensor-core kernels are channels-last, and NHWC 1x1 is a GEMM.
  // Channel-concat parts: the CUTLASS convolutions (1x1 GEMMs through their leading dimensions,
  // implicit GEMMs, fixed-channel stems, the residual epilogue through their layouts' strides,
  // kernels/cutlass_conv_common.cuh) and Resize (movement.cu) write and read rows with a pixel
  // stride; the planner keeps the parts' widths and offsets in multiples of 16 bytes.
  bool writesRowStrided(const Layer& l) const override {
    return l.type == "Resize" || (l.type == "FusedConv" && l.attrs.getString("layout", "NCHW") == "NHWC" &&
                                  (l.tactic.rfind("cutlass_conv1x1_nhwc_fp16_t", 0) == 0 ||
                                   l.tactic.rfind("cutlass_conv_nhwc_fp16_t", 0) == 0));
  }
  bool readsRowStrided(const Layer& l, int input) const override { return input == 0 && writesRowStrided(l); }
  // (the builder takes those tactics for a Concat's producers and readers where they cost less
  // than its copy)
  bool mayWriteRowStrided(const Layer& l) const override {
    return l.type == "Resize" || (l.type == "FusedConv" && l.attrs.getString("layout", "NCHW") == "NHWC" &&
                                  l.precision == "fp16" && kernels::cutlassAvailable());
  }
  bool mayReadRowStrided(const Layer& l, int input) const override {
    return input == 0 && mayWriteRowStrided(l);
  }
  bool prefersChannelsLast(const Layer& layer) const override {
    return (layer.type == "Conv" || layer.type == "FusedConv") && layer.precision == "fp16";
  }
  // In place (the engine checks that nothing reads the input afterwards and that shapes and types
  // match): the elementwise kernels read element i before writing it; FusedMatMul and the FusedConv
  // layers whose tactic is the 1x1 GEMM take their residual Z as the GEMM's C (cuBLASLt allows
  // C == D; FusedMatMul's batched modes accumulate onto Y with beta = 1), and those whose tactic is
  // cudnn_conv_acc accumulate the convolution onto Y = Z (cuDNN's beta = 1).
  std::vector<int> inPlaceInputs(const Layer& l) const override {
    static const std::set<std::string> unary = {
        "Relu", "LeakyRelu", "Sigmoid", "Tanh", "HardSigmoid", "HardSwish", "Softplus",
        "Elu",  "Gelu",      "Erf",     "Sqrt", "Exp",         "Log",       "Reciprocal"};
    if (l.type == "Add" || l.type == "Sub" || l.type == "Mul" || l.type == "Div") return {0, 1};
    if (l.type == "Pointwise") {  // reads every input element before writing the output's
      // (at the output's own position: not an input read through a permutation, input_perms)
      auto perms = decodeInputPerms(l, l.inputs.size());
      if (!perms.isOk()) return {};
      std::vector<int> all;
      for (size_t k = 0; k < l.inputs.size(); ++k)
        if ((*perms)[k].empty()) all.push_back(static_cast<int>(k));
      return all;
    }
    if (unary.count(l.type)) return {0};
    // (a FusedConv's Z after its activation is read by the epilogue kernel after the GEMM wrote Y)
    if (l.type == "FusedMatMul" ||
        (l.type == "FusedConv" && l.attrs.getInt("z_after_activation", 0) == 0 &&
         (l.tactic.rfind("cublaslt_conv1x1_", 0) == 0 || l.tactic.rfind("cudnn_conv_acc_", 0) == 0)))
      return {3};
    return {};
  }
  std::vector<std::string> tactics(const Layer& layer, const Network& net) const override {
    const CudaOp* op = CudaOpTable::instance().find(layer.type);
    return op && op->tactics ? op->tactics(layer, net) : std::vector<std::string>{};
  }
  Expected<std::unique_ptr<LayerImpl>> configure(const Layer& layer, const Network& net) const override {
    const CudaOp* op = CudaOpTable::instance().find(layer.type);
    if (!op)
      return makeError(StatusCode::kUnsupported, "the CUDA backend has no implementation of " + layer.type);
    return op->make(layer, net);
  }

  Expected<DevicePtr> allocate(size_t bytes) const override {
    void* p = nullptr;
    TRT_CUDA_CHECK(cudaMalloc(&p, std::max<size_t>(bytes, 256)));
    return DevicePtr(p, [](void* q) { cudaFree(q); });
  }
  Expected<DevicePtr> allocateHost(size_t bytes) const override {
    void* p = nullptr;
    TRT_CUDA_CHECK(cudaHostAlloc(&p, std::max<size_t>(bytes, 256), cudaHostAllocDefault));
    return DevicePtr(p, [](void* q) { cudaFreeHost(q); });
  }
  Status copy(void* dst, const void* src, size_t bytes, CopyKind kind, void* stream) const override {
    if (!bytes) return Status::ok();
    cudaMemcpyKind k = kind == CopyKind::kHostToDevice   ? cudaMemcpyHostToDevice
                       : kind == CopyKind::kDeviceToHost ? cudaMemcpyDeviceToHost
                                                         : cudaMemcpyDeviceToDevice;
    TRT_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, k, streamOf(stream)));
    return Status::ok();
  }
  Expected<void*> createStream() const override {
    cudaStream_t s;
    TRT_CUDA_CHECK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
    return static_cast<void*>(s);
  }
  void destroyStream(void* stream) const override {
    if (stream) cudaStreamDestroy(streamOf(stream));
  }
  Expected<void*> createEvent() const override {
    cudaEvent_t e;
    TRT_CUDA_CHECK(cudaEventCreateWithFlags(&e, cudaEventDisableTiming));
    return static_cast<void*>(e);
  }
  void destroyEvent(void* event) const override {
    if (event) cudaEventDestroy(static_cast<cudaEvent_t>(event));
  }
  Status recordEvent(void* event, void* stream) const override {
    TRT_CUDA_CHECK(cudaEventRecord(static_cast<cudaEvent_t>(event), streamOf(stream)));
    return Status::ok();
  }
  Status waitEvent(void* stream, void* event) const override {
    TRT_CUDA_CHECK(cudaStreamWaitEvent(streamOf(stream), static_cast<cudaEvent_t>(event), 0));
    return Status::ok();
  }
  // Parallel branches: a convolution without a residual (YOLOv5's C3 cv2, ResNet's projection
  // shortcut) may run on the side stream; TRT_SIDE_STREAM=0 keeps one stream.
  bool runsBeside(const Layer& l) const override {
    static const bool off = [] {
      const char* v = std::getenv("TRT_SIDE_STREAM");
      return v && std::string(v) == "0";
    }();
    return !off && l.type == "FusedConv" && (l.inputs.size() < 4 || l.inputs[3] < 0);
  }
  Status checkAddress(const void* ptr) const override {
    if (!ptr) return Status::ok();
    cudaPointerAttributes a{};
    if (cudaPointerGetAttributes(&a, ptr) != cudaSuccess) {
      (void)cudaGetLastError();  // not a sticky error: clear it
      return Status::ok();       // cannot tell; let the kernels decide
    }
    if (a.type == cudaMemoryTypeUnregistered)
      return makeError(StatusCode::kInvalidArgument,
                       "is host memory; the CUDA backend needs device memory (cudaMalloc, DeviceBuffer) "
                       "or pinned host memory");
    return Status::ok();
  }
  Status synchronize(void* stream) const override {
    TRT_CUDA_CHECK(cudaStreamSynchronize(streamOf(stream)));
    return Status::ok();
  }
  size_t cacheBytes() const override { return static_cast<size_t>(std::max(0, prop_.l2CacheSize)); }
  bool supportsGraphs() const override { return true; }
  Status beginCapture(void* stream) const override {
    // This thread's cuDNN handle must exist before the capture: creating it allocates device
    // memory, which a capturing thread may not (a context prepared in one thread and run in
    // another, as trtbench --streams does, would otherwise create it mid-capture).
    TRT_RETURN_IF_ERROR(cudnnForThisThread().status());
    TRT_CUDA_CHECK(cudaStreamBeginCapture(streamOf(stream), cudaStreamCaptureModeThreadLocal));
    return Status::ok();
  }
  Expected<std::shared_ptr<void>> endCapture(void* stream) const override {
    cudaGraph_t graph = nullptr;
    TRT_CUDA_CHECK(cudaStreamEndCapture(streamOf(stream), &graph));
    cudaError_t e = programmaticLaunch() ? makeEdgesProgrammatic(graph) : cudaSuccess;
    cudaGraphExec_t exec = nullptr;
    if (e == cudaSuccess) e = cudaGraphInstantiate(&exec, graph, 0);
    cudaGraphDestroy(graph);
    TRT_CUDA_CHECK(e);
    return std::shared_ptr<void>(exec,
                                 [](void* g) { cudaGraphExecDestroy(static_cast<cudaGraphExec_t>(g)); });
  }
  Status launchGraph(const void* graph, void* stream) const override {
    TRT_CUDA_CHECK(cudaGraphLaunch(static_cast<cudaGraphExec_t>(const_cast<void*>(graph)), streamOf(stream)));
    return Status::ok();
  }
  // NVTX ranges (header-only NVTX3: free unless a profiler such as Nsight Systems is attached).
  void rangePush(const std::string& name) const override { nvtxRangePushA(name.c_str()); }
  void rangePop() const override { nvtxRangePop(); }

  Expected<float> timeOnStream(void* stream, const std::function<Status()>& work) const override {
    cudaEvent_t start, stop;
    TRT_CUDA_CHECK(cudaEventCreate(&start));
    TRT_CUDA_CHECK(cudaEventCreate(&stop));
    std::shared_ptr<void> cleanup(nullptr, [&](void*) {
      cudaEventDestroy(start);
      cudaEventDestroy(stop);
    });
    TRT_CUDA_CHECK(cudaEventRecord(start, streamOf(stream)));
    TRT_RETURN_IF_ERROR(work());
    TRT_CUDA_CHECK(cudaEventRecord(stop, streamOf(stream)));
    TRT_CUDA_CHECK(cudaEventSynchronize(stop));
    float ms = 0.f;
    TRT_CUDA_CHECK(cudaEventElapsedTime(&ms, start, stop));
    return ms;
  }

  // Events recorded as marks; created once per mark and read after the last one completes.
  class EventMarks : public StreamMarks {
   public:
    ~EventMarks() override {
      for (cudaEvent_t e : events_) cudaEventDestroy(e);
    }
    Status mark(void* stream) override {
      cudaEvent_t e;
      TRT_CUDA_CHECK(cudaEventCreate(&e));
      events_.push_back(e);
      TRT_CUDA_CHECK(cudaEventRecord(e, streamOf(stream)));
      return Status::ok();
    }
    Expected<std::vector<float>> intervals() override {
      std::vector<float> v;
      if (events_.empty()) return v;
      TRT_CUDA_CHECK(cudaEventSynchronize(events_.back()));
      for (size_t i = 1; i < events_.size(); ++i) {
        float ms = 0.f;
        TRT_CUDA_CHECK(cudaEventElapsedTime(&ms, events_[i - 1], events_[i]));
        v.push_back(ms);
      }
      return v;
    }

   private:
    std::vector<cudaEvent_t> events_;
  };
  Expected<std::unique_ptr<StreamMarks>> createMarks() const override {
    return std::unique_ptr<StreamMarks>(new EventMarks());
  }
  Status delayStream(void* stream, float ms) const override {
    TRT_CUDA_CHECK(kernels::spin(static_cast<int64_t>(ms * 1e6f), streamOf(stream)));
    return Status::ok();
  }

 private:
  cudaDeviceProp prop_;
};

}  // namespace

// The CUDA backend when a device exists; null otherwise (with the reason in `why`).
const Backend* cudaBackend(std::string* why) {
  static std::unique_ptr<CudaBackend> backend;
  static std::string reason;
  static std::once_flag once;
  std::call_once(once, [] {
    int n = 0;
    cudaError_t e = cudaGetDeviceCount(&n);
    if (e != cudaSuccess || n == 0) {
      reason = e != cudaSuccess ? std::string("no CUDA device is available (") + cudaGetErrorString(e) + ")"
                                : "no CUDA device is available";
      cudaGetLastError();
      return;
    }
    cudaDeviceProp prop;
    if (cudaGetDeviceProperties(&prop, 0) != cudaSuccess) {
      reason = "cannot query CUDA device 0";
      return;
    }
    backend = std::make_unique<CudaBackend>(prop);
  });
  if (why) *why = reason;
  return backend.get();
}

kernels::UnaryOp unaryForActivation(Activation a) {
  switch (a) {
    case Activation::kNone:
      return kernels::UnaryOp::kIdentity;
    case Activation::kRelu:
      return kernels::UnaryOp::kRelu;
    case Activation::kLeakyRelu:
      return kernels::UnaryOp::kLeakyRelu;
    case Activation::kSigmoid:
      return kernels::UnaryOp::kSigmoid;
    case Activation::kTanh:
      return kernels::UnaryOp::kTanh;
    case Activation::kHardSigmoid:
      return kernels::UnaryOp::kHardSigmoid;
    case Activation::kHardSwish:
      return kernels::UnaryOp::kHardSwish;
    case Activation::kClip:
      return kernels::UnaryOp::kClip;
    case Activation::kSilu:
      return kernels::UnaryOp::kSilu;
    case Activation::kGeluErf:
      return kernels::UnaryOp::kGeluErf;
    case Activation::kGeluTanh:
      return kernels::UnaryOp::kGeluTanh;
  }
  return kernels::UnaryOp::kIdentity;
}

}  // namespace cuda
}  // namespace trt
