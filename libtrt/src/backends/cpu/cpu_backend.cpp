// The CPU backend: the kernel table, the Backend implementation and host evaluation.
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <mutex>

#ifdef _OPENMP
#include <omp.h>
#endif
#ifdef TRT_HAVE_OPENBLAS
#include <cblas.h>
#endif

#include <set>

#include "backends/backend.h"
#include "backends/cpu/cpu_kernels.h"
#include "trt/builder.h"

namespace trt {
namespace cpu {

const std::set<DataType> kFloatOnly = {DataType::kFloat32};
const std::set<DataType> kNumeric = {DataType::kFloat32, DataType::kInt32, DataType::kInt64};
const std::set<DataType> kAnyType = {DataType::kFloat32, DataType::kFloat16, DataType::kInt8,
                                     DataType::kInt32,   DataType::kInt64,   DataType::kBool};

std::vector<int64_t> stridesOf(const Dims& d) {
  std::vector<int64_t> s(d.size(), 1);
  for (int i = static_cast<int>(d.size()) - 2; i >= 0; --i) s[i] = s[i + 1] * d[i + 1];
  return s;
}

const KernelTable& KernelTable::instance() {
  static KernelTable t;
  static std::once_flag once;
  std::call_once(once, [] {
    registerElementwiseKernels(t);
    registerConvPoolKernels(t);
    registerNormKernels(t);
    registerMatmulKernels(t);
    registerShapeKernels(t);
    registerMovementKernels(t);
    registerReduceKernels(t);
  });
  return t;
}

void KernelTable::add(const std::string& op, std::set<DataType> types, KernelFn fn, std::string tactic) {
  if (table_.count(op)) {
    if (status_.isOk())
      status_ = makeError(StatusCode::kInternal, "CPU kernel '" + op + "' registered twice");
    return;
  }
  if (tactic.empty()) tactic = "cpu_ref_" + op;
  table_[op] = KernelEntry{std::move(fn), nullptr, nullptr, std::move(types), std::move(tactic)};
}

void KernelTable::addWithWorkspace(const std::string& op, std::set<DataType> types, WorkspaceKernelFn fn,
                                   WorkspaceSizeFn size, std::string tactic) {
  if (table_.count(op)) {
    if (status_.isOk())
      status_ = makeError(StatusCode::kInternal, "CPU kernel '" + op + "' registered twice");
    return;
  }
  table_[op] = KernelEntry{nullptr, std::move(fn), std::move(size), std::move(types), std::move(tactic)};
}

namespace {
// Rows of the last axis `stride` elements apart <-> dense, `bytes` an element.
void copyRows(const uint8_t* src, int64_t srcStride, uint8_t* dst, int64_t dstStride, int64_t rows,
              int64_t width, size_t bytes) {
  for (int64_t r = 0; r < rows; ++r)
    std::memcpy(dst + r * dstStride * bytes, src + r * srcStride * bytes, static_cast<size_t>(width) * bytes);
}
}  // namespace

Status runKernel(const KernelEntry& k, const Layer& layer, const std::vector<TensorView>& inputs,
                 std::vector<TensorView>& outputs, void* workspace) {
  // Channel-concat elision (Backend::writesRowStrided, readsRowStrided): the kernels see dense
  // copies of the strided views, and the strided outputs get the dense rows back.
  auto strided = [](const TensorView& v) { return v.rowStride != 0 && v.data && !v.dims.empty(); };
  if (std::any_of(inputs.begin(), inputs.end(), strided) ||
      std::any_of(outputs.begin(), outputs.end(), strided)) {
    std::vector<std::vector<uint8_t>> copies;
    auto densify = [&](const TensorView& v, bool fill) {
      TensorView d = v;
      const size_t bytes = dataTypeSize(v.type);
      const int64_t width = v.dims.back(), rows = width ? v.numel() / width : 0;
      copies.emplace_back(static_cast<size_t>(v.numel()) * bytes);
      if (fill)
        copyRows(static_cast<const uint8_t*>(v.data), v.rowStride, copies.back().data(), width, rows, width,
                 bytes);
      d.data = copies.back().data();
      d.rowStride = 0;
      return d;
    };
    std::vector<TensorView> in = inputs, out = outputs;
    copies.reserve(in.size() + out.size());
    for (auto& v : in)
      if (strided(v)) v = densify(v, true);
    for (auto& v : out)
      if (strided(v)) v = densify(v, false);
    TRT_RETURN_IF_ERROR(runKernel(k, layer, in, out, workspace));
    for (size_t i = 0; i < out.size(); ++i) {
      if (!strided(outputs[i])) continue;
      const int64_t width = out[i].dims.back(), rows = width ? out[i].numel() / width : 0;
      copyRows(static_cast<const uint8_t*>(out[i].data), width, static_cast<uint8_t*>(outputs[i].data),
               outputs[i].rowStride, rows, width, dataTypeSize(out[i].type));
    }
    return Status::ok();
  }
  if (k.fn) return k.fn(layer, inputs, outputs);
  if (workspace) return k.wsFn(layer, inputs, outputs, workspace);
  // Host evaluation (constant folding) brings no workspace: allocate it here.
  std::vector<uint8_t> scratch(k.wsSize(layer, inputs, outputs));
  return k.wsFn(layer, inputs, outputs, scratch.data());
}

void KernelTable::addAlternative(const std::string& op, KernelFn fn, std::string tactic) {
  auto it = table_.find(op);
  if (it == table_.end()) {
    if (status_.isOk())
      status_ = makeError(StatusCode::kInternal, "CPU alternative for unregistered '" + op + "'");
    return;
  }
  alternatives_[op].push_back(
      KernelEntry{std::move(fn), nullptr, nullptr, it->second.types, std::move(tactic)});
}

const std::vector<KernelEntry>& KernelTable::alternatives(const std::string& op) const {
  static const std::vector<KernelEntry> none;
  auto it = alternatives_.find(op);
  return it == alternatives_.end() ? none : it->second;
}

const KernelEntry* KernelTable::find(const std::string& op) const {
  auto it = table_.find(op);
  return it == table_.end() ? nullptr : &it->second;
}

std::vector<std::string> KernelTable::ops() const {
  std::vector<std::string> r;
  for (auto& kv : table_) r.push_back(kv.first);
  return r;
}

namespace {

class CpuLayerImpl : public LayerImpl {
 public:
  CpuLayerImpl(const Layer& layer, const KernelEntry& k) : layer_(layer), kernel_(k) {}
  std::string tacticName() const override { return kernel_.tactic; }
  size_t workspaceSize(const std::vector<TensorView>& inputs,
                       const std::vector<TensorView>& outputs) const override {
    return kernel_.wsSize ? kernel_.wsSize(layer_, inputs, outputs) : 0;
  }
  Status enqueue(const std::vector<TensorView>& inputs, std::vector<TensorView>& outputs, void* workspace,
                 void*) const override {
    return runKernel(kernel_, layer_, inputs, outputs, workspace);
  }

 private:
  Layer layer_;  // a copy: attributes are read at run time; no mutable state
  const KernelEntry& kernel_;
};

}  // namespace

class CpuBackend : public Backend {
 public:
  std::string name() const override { return "cpu"; }
  // The elementwise kernels read element i before writing element i (elementwise.cpp), so their
  // output may reuse an input of the same shape: either operand of Add/Sub/Mul/Div, the first of
  // the rest (Max/Min fold later inputs into a copy of the first).
  std::vector<int> inPlaceInputs(const Layer& l) const override {
    static const std::set<std::string> unary = {
        "Relu", "LeakyRelu", "Sigmoid", "Tanh", "HardSigmoid", "HardSwish", "Softplus",
        "Elu",  "Gelu",      "Erf",     "Sqrt", "Exp",         "Log",       "Reciprocal",
        "Neg",  "Abs",       "Clip",    "Max",  "Min"};
    if (l.type == "Add" || l.type == "Sub" || l.type == "Mul" || l.type == "Div") return {0, 1};
    if (unary.count(l.type)) return {0};
    return {};
  }
  // The reference for the CUDA backend's strided convolutions and Resize (channel-concat elision):
  // an NHWC FusedConv or a Resize copies strided rows in densely, computes, and copies its rows
  // out (throughDenseRows, cpu_kernels.h).
  bool writesRowStrided(const Layer& l) const override {
    return l.type == "Resize" || (l.type == "FusedConv" && l.attrs.getString("layout", "NCHW") == "NHWC");
  }
  bool readsRowStrided(const Layer& l, int input) const override { return input == 0 && writesRowStrided(l); }
  std::string deviceName() const override {
#if defined(__x86_64__)
    return "cpu-x86_64";
#elif defined(__aarch64__)
    return "cpu-aarch64";
#else
    return "cpu-unknown";
#endif
  }
  Status supports(const Layer& layer, const std::vector<DataType>& inputTypes) const override {
    const KernelEntry* k = KernelTable::instance().find(layer.type);
    if (!k) return makeError(StatusCode::kUnsupported, "the CPU backend has no kernel for " + layer.type);
    if (!inputTypes.empty() && !k->types.count(inputTypes[0]))
      return makeError(StatusCode::kUnsupported, std::string("the CPU backend's ") + layer.type +
                                                     " does not take " + dataTypeName(inputTypes[0]) +
                                                     " input");
    return Status::ok();
  }
  // The primary kernel first (the untimed choice), then its registered alternatives. The plain
  // GEMM loop is a candidate only for small products (a large one would make the build crawl and
  // never win): static shapes, at most 2^22 multiply-adds.
  std::vector<std::string> tactics(const Layer& layer, const Network& net) const override {
    const KernelTable& t = KernelTable::instance();
    const KernelEntry* k = t.find(layer.type);
    if (!k || t.alternatives(layer.type).empty() || layer.inputs.size() < 2 || layer.outputs.empty())
      return {};
    const Shape &a = net.tensor(layer.inputs[0]).shape, &y = net.tensor(layer.outputs[0]).shape;
    if (!isStatic(a) || !isStatic(y) || a.empty()) return {};
    const double macs = static_cast<double>(volume(toDims(y))) * static_cast<double>(a.back().value);
    if (macs > static_cast<double>(1 << 22)) return {};
    std::vector<std::string> r = {k->tactic};
    for (const KernelEntry& a : t.alternatives(layer.type)) r.push_back(a.tactic);
    return r;
  }
  Expected<std::unique_ptr<LayerImpl>> configure(const Layer& layer, const Network&) const override {
    const KernelTable& t = KernelTable::instance();
    const KernelEntry* k = t.find(layer.type);
    if (!k) return makeError(StatusCode::kUnsupported, "the CPU backend has no kernel for " + layer.type);
    for (const KernelEntry& a : t.alternatives(layer.type))
      if (a.tactic == layer.tactic) return std::unique_ptr<LayerImpl>(new CpuLayerImpl(layer, a));
    return std::unique_ptr<LayerImpl>(new CpuLayerImpl(layer, *k));
  }
};

const Backend* cpuBackend() {
  static CpuBackend backend;
  return &backend;
}

}  // namespace cpu

Expected<DevicePtr> Backend::allocate(size_t bytes) const {
  size_t rounded = std::max<size_t>(256, (bytes + 255) / 256 * 256);
  void* p = std::aligned_alloc(256, rounded);
  if (!p)
    return makeError(StatusCode::kRuntime,
                     "cannot allocate " + std::to_string(bytes) + " bytes of host memory");
  return DevicePtr(p, [](void* q) { std::free(q); });
}

Expected<float> Backend::timeOnStream(void*, const std::function<Status()>& work) const {
  const auto t0 = std::chrono::steady_clock::now();
  TRT_RETURN_IF_ERROR(work());
  return std::chrono::duration<float, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

namespace {
class HostMarks : public Backend::StreamMarks {
 public:
  Status mark(void*) override {
    t_.push_back(std::chrono::steady_clock::now());
    return Status::ok();
  }
  Expected<std::vector<float>> intervals() override {
    std::vector<float> v;
    for (size_t i = 1; i < t_.size(); ++i)
      v.push_back(std::chrono::duration<float, std::milli>(t_[i] - t_[i - 1]).count());
    return v;
  }

 private:
  std::vector<std::chrono::steady_clock::time_point> t_;
};
}  // namespace

Expected<std::unique_ptr<Backend::StreamMarks>> Backend::createMarks() const {
  return std::unique_ptr<StreamMarks>(new HostMarks());
}

Status Backend::copy(void* dst, const void* src, size_t bytes, CopyKind, void*) const {
  if (bytes && dst != src) std::memcpy(dst, src, bytes);
  return Status::ok();
}

void setCpuThreads(int n) {
  if (n <= 0) return;
#ifdef _OPENMP
  omp_set_num_threads(n);
#endif
#ifdef TRT_HAVE_OPENBLAS
  openblas_set_num_threads(n);
#endif
}

int cpuThreads() {
#ifdef _OPENMP
  return omp_get_max_threads();
#else
  return 1;
#endif
}

Status evaluateOnHost(const Layer& layer, const std::vector<TensorView>& inputs,
                      std::vector<TensorView>& outputs) {
  const cpu::KernelEntry* k = cpu::KernelTable::instance().find(layer.type);
  if (!k) return makeError(StatusCode::kUnsupported, "no CPU kernel for " + layer.type);
  if (inputs.empty() || !inputs[0].data || k->types.count(inputs[0].type))
    return cpu::runKernel(*k, layer, inputs, outputs, nullptr);
  if (inputs[0].type != DataType::kFloat16 || !k->types.count(DataType::kFloat32))
    return makeError(StatusCode::kUnsupported,
                     std::string("the CPU ") + layer.type + " does not take " + dataTypeName(inputs[0].type));
  // FP16 layers (an FP16 engine's shape computations, such as YOLOv5's grid) run in float32 on the
  // host: widen float16 inputs, compute, narrow float16 outputs.
  std::vector<HostTensor> wide;
  std::vector<TensorView> in = inputs, out = outputs;
  auto widen = [&](TensorView& v, bool copy) {
    if (v.type != DataType::kFloat16 || !v.data) return;
    wide.emplace_back(DataType::kFloat32, v.dims);
    if (copy)
      for (int64_t i = 0; i < v.numel(); ++i) wide.back().as<float>()[i] = halfToFloat(v.as<uint16_t>()[i]);
    v = TensorView::of(wide.back());
  };
  wide.reserve(in.size() + out.size());
  for (auto& v : in) widen(v, true);
  for (auto& v : out) widen(v, false);
  TRT_RETURN_IF_ERROR(cpu::runKernel(*k, layer, in, out, nullptr));
  for (size_t i = 0; i < outputs.size(); ++i) {
    if (outputs[i].type != DataType::kFloat16) continue;
    for (int64_t j = 0; j < outputs[i].numel(); ++j)
      outputs[i].as<uint16_t>()[j] = floatToHalf(out[i].as<float>()[j]);
  }
  return Status::ok();
}

}  // namespace trt
