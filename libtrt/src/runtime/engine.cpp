// Engine (a loaded plan with bound layer implementations) and ExecutionContext (shapes, arena,
// addresses, execution).
#include "trt/engine.h"

#include <chrono>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <mutex>

#include "backends/backend.h"
#include "builder/memory_planner.h"
#include "ir/shape_inference.h"
#include "plan/plan_file.h"
#include "runtime/side_stream.h"

namespace trt {

struct EngineImpl {
  PlanContents plan;
  const Backend* backend = nullptr;
  std::vector<std::unique_ptr<LayerImpl>> impls;
  std::vector<BindingInfo> bindings;
  std::map<std::string, int> bindingTensor;  // binding name -> tensor id
  std::vector<bool> shapeTensors;            // shapeTensorMask() of the network
  // Constants in backend memory, by tensor id (for the CPU backend: the host data itself).
  std::map<int, DevicePtr> constants;
  std::string inspectOnly;         // non-empty: loaded for inspection only, and why it cannot run
  std::vector<std::string> roles;  // per layer: "compute", "shape" or "view"
};

Engine::Engine() : impl_(std::make_unique<EngineImpl>()) {}

// What each layer does at run time (Engine::layerRole). Shape values: Shape/Size, layers whose
// outputs are all shape tensors, and (walking back from the graph outputs) layers whose outputs
// only such layers read: none of them runs a kernel. Views: Reshape-like layers between arena
// tensors.
static std::vector<std::string> layerRoles(const Network& net, const std::vector<bool>& shape) {
  std::vector<std::string> roles(net.layers().size(), "compute");
  std::vector<bool> needed(net.tensors().size(), false);
  for (int o : net.outputs()) needed[o] = true;
  for (int li = static_cast<int>(net.layers().size()) - 1; li >= 0; --li) {
    const Layer& l = net.layers()[li];
    bool allShape = !l.outputs.empty(), any = false;
    for (int o : l.outputs) {
      allShape = allShape && shape[o] && !net.tensor(o).isOutput;
      any = any || needed[o];
    }
    if (allShape || l.type == "Shape" || l.type == "Size" || !any) {
      roles[li] = "shape";
      continue;
    }
    for (int in : l.inputs)
      if (in >= 0) needed[in] = true;
    if (isViewOp(l.type) && !l.inputs.empty() && l.inputs[0] >= 0 && l.outputs.size() == 1) {
      const TensorDesc& in = net.tensor(l.inputs[0]);
      if (!in.isInput && !in.isConstant() && !net.tensor(l.outputs[0]).isOutput && !shape[l.inputs[0]])
        roles[li] = "view";
    }
  }
  return roles;
}

// Bindings, shape tensors and layer roles: what both a runnable and an inspection-only engine know.
static void describeNetwork(EngineImpl& impl, const Network& net) {
  for (int id : net.inputs()) {
    impl.bindings.push_back({net.tensor(id).name, net.tensor(id).type, net.tensor(id).shape, true});
    impl.bindingTensor[net.tensor(id).name] = id;
  }
  for (int id : net.outputs()) {
    impl.bindings.push_back({net.tensor(id).name, net.tensor(id).type, net.tensor(id).shape, false});
    impl.bindingTensor[net.tensor(id).name] = id;
  }
  impl.shapeTensors = shapeTensorMask(net);
  impl.roles = layerRoles(net, impl.shapeTensors);
}
Engine::~Engine() = default;

Expected<std::shared_ptr<Engine>> Engine::deserialize(const void* data, size_t size) {
  TRT_ASSIGN_OR_RETURN(PlanContents plan, readPlan(data, size));
  const Backend* backend = findBackend(plan.fingerprint.backend);
  if (!backend)
    return makeError(StatusCode::kMismatch, "plan was built for backend '" + plan.fingerprint.backend +
                                                "', which is not available here: " +
                                                backendUnavailableReason(plan.fingerprint.backend));
  if (backend->deviceName() != plan.fingerprint.deviceName)
    return makeError(StatusCode::kMismatch, "plan was built for device '" + plan.fingerprint.deviceName +
                                                "', this machine is '" + backend->deviceName() +
                                                "'; rebuild the engine");
  if (backend->deviceInfo().computeCapability != plan.fingerprint.computeCapability)
    return makeError(StatusCode::kMismatch, "plan was built for compute capability " +
                                                plan.fingerprint.computeCapability + ", this device has " +
                                                backend->deviceInfo().computeCapability +
                                                "; rebuild the engine");
  std::shared_ptr<Engine> e(new Engine());
  EngineImpl& impl = *e->impl_;
  impl.backend = backend;
  for (const Layer& l : plan.network->layers()) {
    auto li = backend->configure(l, *plan.network);
    if (!li.isOk()) return Status(li.status()).withContext("plan layer '" + l.name + "'");
    if ((*li)->tacticName() != l.tactic)
      return makeError(StatusCode::kMismatch, "plan layer '" + l.name + "' uses tactic '" + l.tactic +
                                                  "', which this trt provides as '" + (*li)->tacticName() +
                                                  "'");
    impl.impls.push_back(std::move(li).value());
  }
  const Network& net = *plan.network;
  describeNetwork(impl, net);
  // Weights are uploaded once, here; layers read them from backend memory.
  for (const Layer& l : net.layers()) {
    for (int i : l.inputs) {
      if (i < 0 || !net.tensor(i).isConstant() || impl.constants.count(i)) continue;
      const std::shared_ptr<HostTensor>& h = net.tensor(i).constant;
      if (backend->hostMemory()) {
        impl.constants[i] = DevicePtr(h, h->data());
        continue;
      }
      TRT_ASSIGN_OR_RETURN(DevicePtr d, backend->allocate(h->byteSize()));
      TRT_RETURN_IF_ERROR(backend->copy(d.get(), h->data(), h->byteSize(), CopyKind::kHostToDevice, nullptr));
      impl.constants[i] = d;
    }
  }
  TRT_RETURN_IF_ERROR(backend->synchronize(nullptr));
  impl.plan = std::move(plan);
  return e;
}

bool Engine::isShapeInferenceIO(const std::string& name) const {
  int id = network().findTensor(name);
  return id >= 0 && network().tensor(id).isInput && impl_->shapeTensors[id];
}

bool Engine::usesHostMemory() const {
  return impl_->backend ? impl_->backend->hostMemory() : impl_->plan.fingerprint.backend == "cpu";
}

std::string Engine::inspectionReason() const {
  return impl_->inspectOnly;
}

Expected<std::shared_ptr<Engine>> Engine::loadForInspection(const std::string& path) {
  auto full = loadFile(path);
  if (full.isOk()) return full;
  if (full.status().code() != StatusCode::kMismatch)
    return full;  // unreadable or corrupt: no inspection either
  std::ifstream f(path, std::ios::binary);
  std::vector<char> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  auto plan = readPlan(bytes.data(), bytes.size());
  if (!plan.isOk()) return Status(plan.status()).withContext(path);
  std::shared_ptr<Engine> e(new Engine());
  EngineImpl& impl = *e->impl_;
  impl.inspectOnly = full.status().message();
  const Network& net = *plan->network;
  describeNetwork(impl, net);
  impl.plan = std::move(plan).value();
  return e;
}

Expected<DeviceBuffer> DeviceBuffer::allocate(const Engine& engine, size_t bytes) {
  const Backend* b = findBackend(engine.backend());
  if (!b) return makeError(StatusCode::kInternal, "engine backend vanished");
  TRT_ASSIGN_OR_RETURN(DevicePtr p, b->allocate(bytes));
  DeviceBuffer buf;
  buf.ptr_ = p;
  buf.size_ = bytes;
  buf.backend_ = b;
  if (!b->hostMemory()) {
    TRT_ASSIGN_OR_RETURN(buf.staging_, b->allocateHost(bytes));
  }
  return buf;
}

// Host <-> device through the page-locked staging buffer: a DMA copy at full bandwidth.
Status DeviceBuffer::copyFromHost(const void* src, size_t bytes) {
  if (bytes > size_) return makeError(StatusCode::kInvalidArgument, "copy larger than the device buffer");
  const Backend* b = static_cast<const Backend*>(backend_);
  const void* from = src;
  if (staging_) {
    std::memcpy(staging_.get(), src, bytes);
    from = staging_.get();
  }
  TRT_RETURN_IF_ERROR(b->copy(ptr_.get(), from, bytes, CopyKind::kHostToDevice, nullptr));
  return b->synchronize(nullptr);
}

Status DeviceBuffer::copyToHost(void* dst, size_t bytes) const {
  if (bytes > size_) return makeError(StatusCode::kInvalidArgument, "copy larger than the device buffer");
  const Backend* b = static_cast<const Backend*>(backend_);
  void* to = staging_ ? staging_.get() : dst;
  TRT_RETURN_IF_ERROR(b->copy(to, ptr_.get(), bytes, CopyKind::kDeviceToHost, nullptr));
  TRT_RETURN_IF_ERROR(b->synchronize(nullptr));
  if (staging_) std::memcpy(dst, staging_.get(), bytes);
  return Status::ok();
}

Expected<std::shared_ptr<Engine>> Engine::loadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return makeError(StatusCode::kNotFound, "cannot open engine plan '" + path + "'");
  f.seekg(0, std::ios::end);
  std::vector<char> bytes(static_cast<size_t>(f.tellg()));
  f.seekg(0);
  if (!f.read(bytes.data(), static_cast<std::streamsize>(bytes.size())))
    return makeError(StatusCode::kCorrupt, "cannot read engine plan '" + path + "'");
  auto e = deserialize(bytes.data(), bytes.size());
  if (!e.isOk()) return Status(e.status()).withContext(path);
  return e;
}

const std::vector<BindingInfo>& Engine::bindings() const {
  return impl_->bindings;
}
const Network& Engine::network() const {
  return *impl_->plan.network;
}
std::string Engine::backend() const {
  return impl_->plan.fingerprint.backend;
}
std::string Engine::fingerprint() const {
  return impl_->plan.fingerprint.toString();
}
int64_t Engine::weightBytes() const {
  return static_cast<int64_t>(impl_->plan.weightBytes);
}

std::string Engine::layerRole(size_t i) const {
  return i < impl_->roles.size() ? impl_->roles[i] : "";
}
int Engine::formatVersion() const {
  return impl_->plan.formatVersion;
}

std::vector<LayerInfo> Engine::layers() const {
  std::vector<LayerInfo> r;
  const Network& net = network();
  for (const Layer& l : net.layers()) {
    LayerInfo info{l.name, l.type, {}, {}, l.precision, l.tactic, l.origins};
    for (int i : l.inputs) info.inputs.push_back(i >= 0 ? net.tensor(i).name : "");
    for (int o : l.outputs) info.outputs.push_back(net.tensor(o).name);
    r.push_back(std::move(info));
  }
  return r;
}

std::unique_ptr<ExecutionContext> Engine::createExecutionContext() {
  return std::unique_ptr<ExecutionContext>(new ExecutionContext(shared_from_this()));
}

// ---------------------------------------------------------------------------------------------

struct ContextImpl {
  std::shared_ptr<Engine> engine;
  std::map<std::string, Dims> inputShapes;
  std::map<std::string, void*> addresses;
  bool prepared = false;
  std::vector<TensorState> states;
  std::vector<bool> skip;           // layers whose outputs were all computed during prepare
  std::vector<int64_t> offsets;     // arena offset per tensor, -1 when not in the arena
  std::vector<int64_t> rowStrides;  // per tensor: its TensorView::rowStride (channel-concat parts), else 0
  DevicePtr arena;
  int64_t arenaBytes = 0;
  int64_t totalActivationBytes = 0;
  bool ranges = false;  // NVTX ranges per layer
  double lastEnqueueMs = 0;
  std::vector<ExecutionContext::PlannedTensor> planned;  // for memoryPlan()
  DevicePtr workspace;                                   // shared by the main stream's layers
  size_t workspaceBytes = 0;
  // Parallel branches (runtime/side_stream.h): the side layers, per layer index the side layers
  // to launch (forksAt) and to wait for (joinsAt) before it, their stream, workspace and events.
  std::vector<SideLayer> side;
  std::vector<bool> isSide;
  std::vector<std::vector<int>> forksAt, joinsAt;  // indices into `side`; joinsAt has nl + 1
  void* sideStream = nullptr;
  DevicePtr sideWorkspace;
  size_t sideWorkspaceBytes = 0;
  std::vector<void*> forkEvents, doneEvents;  // per side layer
  // Host-computed values that device layers read, copied to backend memory at prepare (for the
  // CPU backend the host values are used in place).
  std::map<int, DevicePtr> uploadedValues;
  std::vector<std::shared_ptr<void>> layerState;  // LayerImpl::prepare results, per layer
  void* stream = nullptr;                         // the context's own stream for execute()
  bool ownsStream = false;
  bool useGraphs = true;
  std::shared_ptr<void> graph;  // captured for the current shapes, addresses and stream
  void* graphStream = nullptr;
  // Shape-tensor inputs (as TensorRT has them), whose values prepare() reads from host memory.
  // Input id -> the bytes seen; a change means prepare again.
  std::map<int, std::vector<uint8_t>> valueInputs;

  Status prepare();
  // The context's own stream for execute()/executeTimed()/profiling (backends with streams), made
  // on first use; an error for engines loaded for inspection only.
  Status ensureStream();
  bool valueInputsChanged() const;
};

namespace {
// Shape-tensor inputs at most this large are read on the host when prepare runs, so that shape
// computations (Reshape's shape, Slice's ends, TopK's K) may come from the user.
constexpr int64_t kMaxHostValueInputElems = 1 << 12;
}  // namespace

bool ContextImpl::valueInputsChanged() const {
  const Network& net = engine->network();
  for (const auto& kv : valueInputs) {
    auto it = addresses.find(net.tensor(kv.first).name);
    if (it == addresses.end() || std::memcmp(it->second, kv.second.data(), kv.second.size()) != 0)
      return true;
  }
  return false;
}

ExecutionContext::ExecutionContext(std::shared_ptr<Engine> engine) : impl_(std::make_unique<ContextImpl>()) {
  impl_->engine = std::move(engine);
}
ExecutionContext::~ExecutionContext() {
  const Backend* b = impl_->engine->impl_->backend;
  if (!b) return;
  for (void* e : impl_->forkEvents) b->destroyEvent(e);
  for (void* e : impl_->doneEvents) b->destroyEvent(e);
  if (impl_->sideStream) b->destroyStream(impl_->sideStream);
  if (impl_->ownsStream) b->destroyStream(impl_->stream);
}

Status ExecutionContext::setInputShape(const std::string& name, const Dims& dims) {
  const Network& net = impl_->engine->network();
  int id = net.findTensor(name);
  if (id < 0 || !net.tensor(id).isInput) {
    std::string names;
    for (int i : net.inputs()) names += (names.empty() ? "" : ", ") + net.tensor(i).name;
    return makeError(StatusCode::kNotFound,
                     "engine has no input named '" + name + "' (inputs: " + names + ")");
  }
  const Shape& built = net.tensor(id).shape;
  if (built.size() != dims.size())
    return makeError(StatusCode::kInvalidArgument, "input '" + name + "' has rank " +
                                                       std::to_string(built.size()) + " " +
                                                       shapeToString(built) + ", got " + dimsToString(dims));
  for (size_t i = 0; i < dims.size(); ++i) {
    if (dims[i] < 0)
      return makeError(StatusCode::kInvalidArgument,
                       "input '" + name + "': negative dim in " + dimsToString(dims));
    if (built[i].isStatic() && built[i].value != dims[i])
      return makeError(
          StatusCode::kInvalidArgument,
          "input '" + name + "' expects shape " + shapeToString(built) + ", got " + dimsToString(dims));
  }
  impl_->inputShapes[name] = dims;
  impl_->prepared = false;
  return Status::ok();
}

Status ContextImpl::ensureStream() {
  if (!engine->impl_->inspectOnly.empty())
    return makeError(StatusCode::kUnsupported,
                     "engine loaded for inspection only: " + engine->impl_->inspectOnly);
  const Backend& backend = *engine->impl_->backend;
  if (!stream && !backend.hostMemory()) {
    TRT_ASSIGN_OR_RETURN(stream, backend.createStream());
    ownsStream = true;
  }
  return Status::ok();
}

// Preparing a context (allocations, library handles, algorithm choice) and capturing its CUDA
// graph happen one context at a time in a process: a capture in one thread must not see another
// thread's allocations or library set-up. Replays and plain launches run concurrently.
static std::mutex& setupMutex() {
  static std::mutex m;
  return m;
}

Status ContextImpl::prepare() {
  if (prepared) return Status::ok();
  std::lock_guard<std::mutex> lock(setupMutex());
  if (!engine->impl_->inspectOnly.empty())
    return makeError(StatusCode::kUnsupported,
                     "engine loaded for inspection only: " + engine->impl_->inspectOnly);
  const Network& net = engine->network();
  valueInputs.clear();
  graph.reset();
  std::vector<TensorState> inputs;
  std::map<std::string, int64_t> symbols;
  for (int id : net.inputs()) {
    const TensorDesc& t = net.tensor(id);
    Dims dims;
    auto it = inputShapes.find(t.name);
    if (it != inputShapes.end()) {
      dims = it->second;
    } else if (isStatic(t.shape)) {
      dims = toDims(t.shape);
    } else {
      return makeError(StatusCode::kInvalidArgument,
                       "input '" + t.name + "' has dynamic shape " + shapeToString(t.shape) +
                           ": give its shape (e.g. --shapes=" + t.name + ":1x...)");
    }
    for (size_t i = 0; i < t.shape.size(); ++i) {
      const std::string& sym = t.shape[i].symbol;
      if (sym.empty()) continue;
      auto s = symbols.find(sym);
      if (s == symbols.end())
        symbols[sym] = dims[i];
      else if (s->second != dims[i])
        return makeError(StatusCode::kInvalidArgument,
                         "dynamic dim '" + sym + "' is " + std::to_string(s->second) + " in one input and " +
                             std::to_string(dims[i]) + " in input '" + t.name + "'");
    }
    TensorState s;
    s.type = t.type;
    s.shape = toShape(dims);
    s.known = true;
    auto addr = addresses.find(t.name);
    if (engine->impl_->shapeTensors[id] && volume(dims) <= kMaxHostValueInputElems &&
        addr != addresses.end() && addr->second) {
      s.value = std::make_shared<HostTensor>(t.type, dims);
      std::memcpy(s.value->data(), addr->second, s.value->byteSize());
      const auto* b = static_cast<const uint8_t*>(addr->second);
      valueInputs[id] = std::vector<uint8_t>(b, b + s.value->byteSize());
    }
    inputs.push_back(s);
  }
  TRT_RETURN_IF_ERROR(propagateShapes(net, inputs, EvalPolicy::kShapeValues, evaluateOnHost, states));
  const int nl = static_cast<int>(net.layers().size());
  skip.assign(nl, false);
  std::vector<TensorLifetime> lifetimes;
  std::vector<int> lifetimeTensor;
  std::vector<int> first(net.tensors().size(), -1), last(net.tensors().size(), -1);
  // Layers whose outputs are all known on the host do not run; nor do layers whose outputs only
  // such layers read (a Transpose kept alive by a Shape after fusion): walk back from the outputs.
  for (int li = 0; li < nl; ++li) {
    bool all = true;
    for (int o : net.layers()[li].outputs) all = all && states[o].value;
    skip[li] = all;
  }
  {
    std::vector<bool> needed(net.tensors().size(), false);
    for (int o : net.outputs()) needed[o] = true;
    for (int li = nl - 1; li >= 0; --li) {
      if (skip[li]) continue;
      bool any = false;
      for (int o : net.layers()[li].outputs) any = any || needed[o];
      if (!any) {
        skip[li] = true;
        continue;
      }
      for (int i : net.layers()[li].inputs)
        if (i >= 0) needed[i] = true;
    }
  }
  for (int li = 0; li < nl; ++li) {
    const Layer& l = net.layers()[li];
    const bool all = skip[li];
    for (int o : l.outputs) {
      if (!isStatic(states[o].shape))
        return makeError(StatusCode::kInvalidArgument,
                         "cannot determine the shape of tensor '" + net.tensor(o).name + "' (" +
                             shapeToString(states[o].shape) + ") for these inputs");
      if (!all && first[o] < 0) first[o] = li;
    }
    if (all) continue;
    for (int i : l.inputs)
      if (i >= 0) last[i] = li;
  }
  auto inArena = [&](int t) {
    const TensorDesc& d = net.tensor(t);
    return !(d.isInput || d.isConstant() || d.isOutput || states[t].value || first[t] < 0);
  };
  // The arena with or without parallel branches, from the lifetimes above.
  const std::vector<int> firstBase = first, lastBase = last;
  const std::vector<bool> skipBase = skip;
  std::vector<int> root;
  std::vector<int64_t> aliasOffset;
  MemoryPlan mp;
  auto planArena = [&](bool withSide) {
    first = firstBase;
    last = lastBase;
    skip = skipBase;
    // Parallel branches: a side layer may run from its fork to its join, so its inputs live
    // until the join and its output from the fork (side_stream.h).
    side = withSide ? planSideLayers(net, skip, *engine->impl_->backend) : std::vector<SideLayer>{};
    isSide.assign(nl, false);
    forksAt.assign(nl, {});
    joinsAt.assign(nl + 1, {});
    for (size_t k = 0; k < side.size(); ++k) {
      const SideLayer& sl = side[k];
      isSide[sl.layer] = true;
      forksAt[sl.fork].push_back(static_cast<int>(k));
      joinsAt[sl.join].push_back(static_cast<int>(k));
      for (int i : net.layers()[sl.layer].inputs)
        if (i >= 0) last[i] = std::max(last[i], sl.join);
      for (int o : net.layers()[sl.layer].outputs)
        if (o >= 0 && first[o] >= 0) first[o] = std::min(first[o], sl.fork);
    }
    // Views (a Reshape-like layer between arena tensors writes nothing: tensors are never written
    // after they are produced), outer-axis Slices and Concats as byte ranges of one buffer, in
    // place (Backend::inPlaceInputs): outputs that take an input's bytes, the lifetimes stretched
    // over each other's, and channel Concats whose parts their producers write with a row stride
    // (Backend::writesRowStrided, TensorView::rowStride) (planAliases, builder/memory_planner.h).
    std::vector<AliasTensor> aliasTensors(net.tensors().size());
    for (size_t t = 0; t < aliasTensors.size(); ++t)
      if (inArena(static_cast<int>(t))) aliasTensors[t] = {true, states[t].type, toDims(states[t].shape)};
    aliasOffset.clear();
    root = planAliases(net, *engine->impl_->backend, aliasTensors, skip, last, &first, &aliasOffset,
                       &rowStrides);
    lifetimes.clear();
    lifetimeTensor.clear();
    for (size_t t = 0; t < net.tensors().size(); ++t) {
      if (!inArena(static_cast<int>(t)) || root[t] != static_cast<int>(t)) continue;
      TensorLifetime lt;
      lt.bytes = static_cast<int64_t>(volume(toDims(states[t].shape)) * dataTypeSize(states[t].type));
      lt.first = first[t];
      lt.last = std::max(last[t], first[t]);
      lifetimes.push_back(lt);
      lifetimeTensor.push_back(static_cast<int>(t));
    }
    mp = planMemory(lifetimes);
  };
  // Parallel branches only where they cost no activation memory: on the H200 they took ResNet-50's
  // FP16 arena from 0.47 to 0.61 of eager PyTorch's activations (its projection shortcuts stretch
  // the block inputs over the peak) for no time, and YOLOv5s's none for 7%.
  planArena(true);
  if (!side.empty()) {
    const int64_t withSide = mp.arenaBytes;
    planArena(false);
    if (mp.arenaBytes >= withSide) planArena(true);
  }
  auto bytesOf = [&](int t) {
    return volume(toDims(states[t].shape)) * static_cast<int64_t>(dataTypeSize(states[t].type));
  };
  offsets.assign(net.tensors().size(), -1);
  for (size_t k = 0; k < lifetimes.size(); ++k) offsets[lifetimeTensor[k]] = mp.offsets[k];
  for (size_t t = 0; t < root.size(); ++t)
    if (root[t] != static_cast<int>(t)) offsets[t] = offsets[root[t]] + aliasOffset[t];
  // Every activation counts, aliases included: what one buffer per tensor would take.
  totalActivationBytes = 0;
  for (size_t t = 0; t < root.size(); ++t)
    if (inArena(static_cast<int>(t)))
      totalActivationBytes +=
          (bytesOf(static_cast<int>(t)) + kArenaAlignment - 1) / kArenaAlignment * kArenaAlignment;
  planned.clear();
  for (size_t k = 0; k < lifetimes.size(); ++k)
    planned.push_back({net.tensor(lifetimeTensor[k]).name, mp.offsets[k], lifetimes[k].bytes,
                       lifetimes[k].first, lifetimes[k].last, false});
  for (size_t t = 0; t < root.size(); ++t)
    if (root[t] != static_cast<int>(t) && inArena(static_cast<int>(t)))
      planned.push_back({net.tensor(static_cast<int>(t)).name, offsets[t],
                         static_cast<int64_t>(volume(toDims(states[t].shape)) * dataTypeSize(states[t].type)),
                         first[t], std::max(last[t], first[t]), true, rowStrides[t]});
  const Backend& backend = *engine->impl_->backend;
  if (mp.arenaBytes > arenaBytes || !arena) {
    auto a = backend.allocate(static_cast<size_t>(mp.arenaBytes));
    if (!a.isOk())
      return Status(a.status())
          .withContext("activation arena of " + std::to_string(mp.arenaBytes) + " bytes");
    arena = *a;
  }
  arenaBytes = mp.arenaBytes;
  // Values computed on the host that a layer still to run reads: give them backend memory.
  uploadedValues.clear();
  if (!backend.hostMemory()) {
    for (int li = 0; li < nl; ++li) {
      if (skip[li]) continue;
      for (int i : net.layers()[li].inputs) {
        if (i < 0 || !states[i].value || net.tensor(i).isInput || net.tensor(i).isConstant() ||
            uploadedValues.count(i))
          continue;
        const HostTensor& h = *states[i].value;
        TRT_ASSIGN_OR_RETURN(DevicePtr d, backend.allocate(h.byteSize()));
        TRT_RETURN_IF_ERROR(backend.copy(d.get(), h.data(), h.byteSize(), CopyKind::kHostToDevice, nullptr));
        uploadedValues[i] = d;
      }
    }
    TRT_RETURN_IF_ERROR(backend.synchronize(nullptr));
  }
  // Per-layer state for these shapes, and the workspace: the largest any layer needs with the
  // algorithm it prepared (a cuDNN or cuBLASLt algorithm's own scratch, not the search limit).
  size_t ws = 0, sideWs = 0;
  layerState.assign(nl, nullptr);
  for (int li = 0; li < nl; ++li) {
    if (skip[li]) continue;
    const Layer& l = net.layers()[li];
    std::vector<TensorView> ins, outs;
    for (int i : l.inputs) {
      const HostTensor* hv = i >= 0 ? states[i].value.get() : nullptr;
      ins.push_back(i >= 0 ? TensorView{states[i].type, toDims(states[i].shape), nullptr,
                                        hv ? hv->data() : nullptr, rowStrides[i]}
                           : TensorView{});
    }
    for (int o : l.outputs)
      outs.push_back(TensorView{states[o].type, toDims(states[o].shape), nullptr, nullptr, rowStrides[o]});
    const LayerImpl& impl = *engine->impl_->impls[li];
    auto st = impl.prepare(ins, outs);
    if (!st.isOk()) return Status(st.status()).withContext("layer '" + l.name + "' (" + l.type + ")");
    layerState[li] = *st;
    (isSide[li] ? sideWs : ws) =
        std::max(isSide[li] ? sideWs : ws, impl.preparedWorkspaceSize(ins, outs, layerState[li].get()));
  }
  if (ws > workspaceBytes) {
    auto w = backend.allocate(ws);
    if (!w.isOk()) return Status(w.status()).withContext("workspace of " + std::to_string(ws) + " bytes");
    workspace = *w;
    workspaceBytes = ws;
  }
  if (sideWs > sideWorkspaceBytes) {
    auto w = backend.allocate(sideWs);
    if (!w.isOk())
      return Status(w.status()).withContext("side-stream workspace of " + std::to_string(sideWs) + " bytes");
    sideWorkspace = *w;
    sideWorkspaceBytes = sideWs;
  }
  if (!side.empty()) {
    if (!sideStream) {
      TRT_ASSIGN_OR_RETURN(sideStream, backend.createStream());
    }
    while (forkEvents.size() < side.size()) {
      TRT_ASSIGN_OR_RETURN(void* f, backend.createEvent());
      forkEvents.push_back(f);
      TRT_ASSIGN_OR_RETURN(void* d, backend.createEvent());
      doneEvents.push_back(d);
    }
  }
  prepared = true;
  return Status::ok();
}

Expected<Dims> ExecutionContext::getTensorShape(const std::string& name) {
  const Network& net = impl_->engine->network();
  int id = net.findTensor(name);
  if (id < 0 || !(net.tensor(id).isInput || net.tensor(id).isOutput))
    return makeError(StatusCode::kNotFound, "engine has no binding named '" + name + "'");
  TRT_RETURN_IF_ERROR(impl_->prepare());
  return toDims(impl_->states[id].shape);
}

Status ExecutionContext::setTensorAddress(const std::string& name, void* ptr) {
  const Network& net = impl_->engine->network();
  int id = net.findTensor(name);
  if (id < 0 || !(net.tensor(id).isInput || net.tensor(id).isOutput))
    return makeError(StatusCode::kNotFound, "engine has no binding named '" + name + "'");
  // Device kernels read the binding, unless its values are read on the host (shape inputs).
  if (!impl_->engine->isShapeInferenceIO(name)) {
    Status usable = impl_->engine->impl_->backend->checkAddress(ptr);
    if (!usable.isOk()) return makeError(usable.code(), "tensor '" + name + "': address " + usable.message());
  }
  if (impl_->addresses[name] != ptr) {
    if (net.tensor(id).isInput) impl_->prepared = false;
    impl_->graph.reset();  // a graph bakes addresses in
  }
  impl_->addresses[name] = ptr;
  return Status::ok();
}

int64_t ExecutionContext::activationBytes() const {
  return impl_->arenaBytes;
}
double ExecutionContext::lastEnqueueMs() const {
  return impl_->lastEnqueueMs;
}

Expected<ExecutionContext::MemoryPlanReport> ExecutionContext::memoryPlan() {
  ContextImpl& c = *impl_;
  if (c.prepared && c.valueInputsChanged()) c.prepared = false;
  TRT_RETURN_IF_ERROR(c.prepare());
  MemoryPlanReport r;
  r.arenaBytes = c.arenaBytes;
  r.totalActivationBytes = c.totalActivationBytes;
  r.workspaceBytes = static_cast<int64_t>(c.workspaceBytes + c.sideWorkspaceBytes);  // (both streams')
  r.tensors = c.planned;
  return r;
}

Status ExecutionContext::execute() {
  ContextImpl& c = *impl_;
  TRT_RETURN_IF_ERROR(c.ensureStream());
  const Backend& backend = *c.engine->impl_->backend;
  TRT_RETURN_IF_ERROR(enqueue(c.stream));
  return backend.synchronize(c.stream);
}

int64_t ExecutionContext::workspaceBytes() const {
  return static_cast<int64_t>(impl_->workspaceBytes + impl_->sideWorkspaceBytes);  // (both streams')
}

void ExecutionContext::setProfilerRanges(bool on) {
  impl_->ranges = on;
}

void ExecutionContext::setUseGraphs(bool on) {
  impl_->useGraphs = on;
  impl_->graph.reset();
}

Expected<float> ExecutionContext::executeTimed() {
  ContextImpl& c = *impl_;
  TRT_RETURN_IF_ERROR(c.ensureStream());
  const Backend& backend = *c.engine->impl_->backend;
  // Prepare (and capture) outside the timed region, as a warm context would have.
  if (c.prepared && c.valueInputsChanged()) c.prepared = false;
  TRT_RETURN_IF_ERROR(c.prepare());
  return backend.timeOnStream(c.stream, [&] {
    const auto t0 = std::chrono::steady_clock::now();
    Status st = enqueue(c.stream);
    c.lastEnqueueMs =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    return st;
  });
}

Status ExecutionContext::enqueue(void* stream) {
  ContextImpl& c = *impl_;
  if (c.prepared && c.valueInputsChanged()) c.prepared = false;
  TRT_RETURN_IF_ERROR(c.prepare());
  const Backend& backend = *c.engine->impl_->backend;
  if (c.useGraphs && backend.supportsGraphs() && stream) {
    if (!c.graph || c.graphStream != stream) {
      std::lock_guard<std::mutex> lock(setupMutex());
      c.graph.reset();
      TRT_RETURN_IF_ERROR(backend.beginCapture(stream));
      Status st = enqueueLayers(stream);
      auto g = backend.endCapture(stream);
      if (!st.isOk()) return st;
      if (!g.isOk()) return Status(g.status()).withContext("capturing a CUDA graph");
      c.graph = *g;
      c.graphStream = stream;
    }
    TRT_RETURN_IF_ERROR(backend.launchGraph(c.graph.get(), stream));
    return copyHostValuedOutputs(stream);
  }
  TRT_RETURN_IF_ERROR(enqueueLayers(stream));
  return copyHostValuedOutputs(stream);
}

Expected<std::vector<ExecutionContext::LayerTime>> ExecutionContext::profileLayers(int iterations,
                                                                                   double* endToEndMs) {
  ContextImpl& c = *impl_;
  TRT_RETURN_IF_ERROR(c.ensureStream());
  const Backend& backend = *c.engine->impl_->backend;
  if (c.prepared && c.valueInputsChanged()) c.prepared = false;
  TRT_RETURN_IF_ERROR(c.prepare());
  std::vector<LayerTime> times;
  const Network& net = c.engine->network();
  for (size_t li = 0; li < net.layers().size(); ++li) {
    const Layer& l = net.layers()[li];
    times.push_back(LayerTime{l.name, l.type, l.tactic, {}});
  }
  // One untimed pass measures how long the host takes to launch the layers. Each timed pass then
  // starts with the stream held busy for longer than that (Backend::delayStream), so the host is
  // ahead and the marks between layers time the device's work alone, not the launches. A host
  // backend has no delay and its marks are the host clock.
  auto h0 = std::chrono::steady_clock::now();
  TRT_RETURN_IF_ERROR(enqueueLayers(c.stream));
  const double launchMs =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - h0).count();
  TRT_RETURN_IF_ERROR(backend.synchronize(c.stream));
  const float delayMs = backend.hostMemory() ? 0.f : static_cast<float>(2.0 * launchMs + 0.2);
  double wallMs = 0;
  for (int it = 0; it < iterations; ++it) {
    const auto t0 = std::chrono::steady_clock::now();
    TRT_RETURN_IF_ERROR(backend.delayStream(c.stream, delayMs));
    TRT_RETURN_IF_ERROR(enqueueLayers(c.stream, &times));
    TRT_RETURN_IF_ERROR(copyHostValuedOutputs(c.stream));
    TRT_RETURN_IF_ERROR(backend.synchronize(c.stream));
    // The pass's wall clock less the delay: what the inference took, for comparison with the
    // layers' sum.
    wallMs +=
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count() - delayMs;
  }
  if (endToEndMs) *endToEndMs = wallMs / std::max(1, iterations);
  return times;
}

Status ExecutionContext::enqueueLayers(void* stream, std::vector<LayerTime>* times) {
  ContextImpl& c = *impl_;
  const Network& net = c.engine->network();
  EngineImpl& e = *c.engine->impl_;
  auto addressOf = [&](int id) -> Expected<void*> {
    const TensorDesc& t = net.tensor(id);
    if (t.isInput || t.isOutput) {
      auto it = c.addresses.find(t.name);
      if (it == c.addresses.end() || !it->second)
        return makeError(StatusCode::kInvalidArgument, "no address set for binding '" + t.name + "'");
      return it->second;
    }
    if (t.isConstant()) return e.constants.at(id).get();
    if (c.states[id].value) {
      auto u = c.uploadedValues.find(id);
      return u != c.uploadedValues.end() ? u->second.get() : c.states[id].value->data();
    }
    if (c.offsets[id] >= 0) return static_cast<void*>(static_cast<uint8_t*>(c.arena.get()) + c.offsets[id]);
    return static_cast<void*>(nullptr);  // zero-sized
  };
  for (int id : net.inputs()) TRT_RETURN_IF_ERROR(addressOf(id).status());
  for (int id : net.outputs()) TRT_RETURN_IF_ERROR(addressOf(id).status());
  // Profiling: a mark before the first layer and after each one; read back once at the end.
  std::unique_ptr<Backend::StreamMarks> marks;
  std::vector<size_t> timed;
  if (times) {
    TRT_ASSIGN_OR_RETURN(marks, e.backend->createMarks());
    TRT_RETURN_IF_ERROR(marks->mark(stream));
  }
  // Parallel branches, unless the layers are being timed one by one (side_stream.h).
  const bool beside = !times && !c.side.empty() && c.sideStream;
  auto runLayer = [&](size_t li, void* on, void* workspace) -> Status {
    const Layer& l = net.layers()[li];
    std::vector<TensorView> ins, outs;
    for (int i : l.inputs) {
      if (i < 0) {
        ins.push_back(TensorView{});
        continue;
      }
      TRT_ASSIGN_OR_RETURN(void* p, addressOf(i));
      const HostTensor* hv = c.states[i].value.get();
      ins.push_back(TensorView{c.states[i].type, toDims(c.states[i].shape), p, hv ? hv->data() : nullptr,
                               c.rowStrides[i]});
    }
    for (int o : l.outputs) {
      TRT_ASSIGN_OR_RETURN(void* p, addressOf(o));
      outs.push_back(TensorView{c.states[o].type, toDims(c.states[o].shape), p, nullptr, c.rowStrides[o]});
    }
    if (c.ranges) e.backend->rangePush(l.name);
    Status s = e.impls[li]->enqueueWithState(ins, outs, workspace, on, c.layerState[li].get());
    if (c.ranges) e.backend->rangePop();
    return s.isOk() ? s : s.withContext("layer '" + l.name + "' (" + l.type + ")");
  };
  const Backend& backend = *e.backend;
  for (size_t li = 0; li < net.layers().size(); ++li) {
    if (beside) {
      for (int k : c.joinsAt[li]) TRT_RETURN_IF_ERROR(backend.waitEvent(stream, c.doneEvents[k]));
      for (int k : c.forksAt[li]) {
        TRT_RETURN_IF_ERROR(backend.recordEvent(c.forkEvents[k], stream));
        TRT_RETURN_IF_ERROR(backend.waitEvent(c.sideStream, c.forkEvents[k]));
        TRT_RETURN_IF_ERROR(
            runLayer(static_cast<size_t>(c.side[k].layer), c.sideStream, c.sideWorkspace.get()));
        TRT_RETURN_IF_ERROR(backend.recordEvent(c.doneEvents[k], c.sideStream));
      }
    }
    if (c.skip[li] || (beside && c.isSide[li])) continue;
    TRT_RETURN_IF_ERROR(runLayer(li, stream, c.isSide[li] ? c.sideWorkspace.get() : c.workspace.get()));
    if (marks) {
      TRT_RETURN_IF_ERROR(marks->mark(stream));
      timed.push_back(li);
    }
  }
  if (beside)
    for (int k : c.joinsAt[net.layers().size()])
      TRT_RETURN_IF_ERROR(backend.waitEvent(stream, c.doneEvents[k]));
  if (marks) {
    TRT_ASSIGN_OR_RETURN(std::vector<float> ms, marks->intervals());
    for (size_t k = 0; k < timed.size() && k < ms.size(); ++k) (*times)[timed[k]].ms.push_back(ms[k]);
  }
  return Status::ok();
}

// Outputs computed on the host during prepare (shape-valued outputs) are copied out; outside any
// graph, since they come from host memory.
Status ExecutionContext::copyHostValuedOutputs(void* stream) {
  ContextImpl& c = *impl_;
  const Network& net = c.engine->network();
  const Backend& backend = *c.engine->impl_->backend;
  for (int id : net.outputs()) {
    if (!c.states[id].value) continue;
    auto it = c.addresses.find(net.tensor(id).name);
    if (it == c.addresses.end() || !it->second)
      return makeError(StatusCode::kInvalidArgument,
                       "no address set for binding '" + net.tensor(id).name + "'");
    TRT_RETURN_IF_ERROR(backend.copy(it->second, c.states[id].value->data(), c.states[id].value->byteSize(),
                                     CopyKind::kHostToDevice, stream));
  }
  return Status::ok();
}

}  // namespace trt
