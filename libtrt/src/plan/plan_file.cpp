// Engine plan writer and reader (see plan_file.h and docs/plan-format.md).
#include "plan/plan_file.h"

#include <cstring>

#include "plan/plan.pb.h"
#include "trt/version.h"

namespace trt {
namespace {

void putU32(std::vector<uint8_t>& b, size_t at, uint32_t v) { std::memcpy(b.data() + at, &v, 4); }
void putU64(std::vector<uint8_t>& b, size_t at, uint64_t v) { std::memcpy(b.data() + at, &v, 8); }
uint32_t getU32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}
uint64_t getU64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}
size_t alignUp(size_t v, size_t a) { return (v + a - 1) / a * a; }

// Collects blobs while the manifest is written; their bytes are appended after it.
struct BlobWriter {
  std::vector<const HostTensor*> blobs;
  std::vector<uint64_t> rel;  // offsets relative to the weight section
  uint64_t size = 0;
  void add(const HostTensor& t, trtplan::BlobRef* ref) {
    ref->set_dtype(dataTypeName(t.type()));
    for (int64_t d : t.dims()) ref->add_dims(d);
    ref->set_nbytes(t.byteSize());
    ref->set_offset(size);  // relative for now; made absolute once the section starts
    blobs.push_back(&t);
    rel.push_back(size);
    size = alignUp(size + t.byteSize(), kPlanBlobAlignment);
  }
};

void relocate(trtplan::BlobRef* ref, uint64_t base) { ref->set_offset(ref->offset() + base); }

}  // namespace

std::string PlanFingerprint::toString() const {
  std::string s = "trt " + engineVersion + ", backend " + backend + ", device " + deviceName;
  if (!computeCapability.empty()) s += " (sm " + computeCapability + ")";
  if (!cudaVersion.empty()) s += ", CUDA " + cudaVersion;
  if (!cudnnVersion.empty()) s += ", cuDNN " + cudnnVersion;
  if (!cublasVersion.empty()) s += ", cuBLAS " + cublasVersion;
  return s + ", " + hostArch;
}

uint64_t planChecksum(const uint8_t* data, size_t size) {
  uint64_t h = 1469598103934665603ull;
  const uint64_t prime = 1099511628211ull;
  size_t i = 0;
  for (; i + 8 <= size; i += 8) {
    uint64_t w;
    std::memcpy(&w, data + i, 8);
    h = (h ^ w) * prime;
  }
  for (; i < size; ++i) h = (h ^ data[i]) * prime;
  return h;
}

std::vector<uint8_t> writePlan(const Network& net, const PlanFingerprint& fp, const std::string& sourceModel) {
  trtplan::Manifest m;
  auto* f = m.mutable_fingerprint();
  f->set_engine_version(fp.engineVersion);
  f->set_backend(fp.backend);
  f->set_device_name(fp.deviceName);
  f->set_compute_capability(fp.computeCapability);
  f->set_cuda_version(fp.cudaVersion);
  f->set_cudnn_version(fp.cudnnVersion);
  f->set_cublas_version(fp.cublasVersion);
  f->set_host_arch(fp.hostArch);
  m.set_producer(std::string("trt ") + kEngineVersion);
  m.set_source_model(sourceModel);
  BlobWriter blobs;
  std::vector<trtplan::BlobRef*> refs;
  for (const TensorDesc& t : net.tensors()) {
    auto* pt = m.add_tensors();
    pt->set_name(t.name);
    pt->set_dtype(dataTypeName(t.type));
    for (const Dim& d : t.shape) {
      auto* pd = pt->add_dims();
      pd->set_value(d.value);
      pd->set_symbol(d.symbol);
    }
    pt->set_is_input(t.isInput);
    pt->set_is_output(t.isOutput);
    if (t.isConstant()) {
      blobs.add(*t.constant, pt->mutable_constant());
    }
  }
  for (const Layer& l : net.layers()) {
    auto* pl = m.add_layers();
    pl->set_name(l.name);
    pl->set_type(l.type);
    for (int i : l.inputs) pl->add_inputs(i);
    for (int o : l.outputs) pl->add_outputs(o);
    for (const auto& o : l.origins) pl->add_origins(o);
    pl->set_precision(l.precision);
    pl->set_tactic(l.tactic);
    for (const auto& kv : l.attrs.all()) {
      auto* a = pl->add_attrs();
      a->set_name(kv.first);
      const AttrValue& v = kv.second;
      if (auto p = std::get_if<int64_t>(&v)) a->set_i(*p);
      else if (auto p = std::get_if<float>(&v)) a->set_f(*p);
      else if (auto p = std::get_if<std::string>(&v)) a->set_s(*p);
      else if (auto p = std::get_if<std::vector<int64_t>>(&v)) {
        for (int64_t x : *p) a->mutable_ints()->add_v(x);
        a->mutable_ints();
      } else if (auto p = std::get_if<std::vector<float>>(&v)) {
        for (float x : *p) a->mutable_floats()->add_v(x);
        a->mutable_floats();
      } else if (auto p = std::get_if<HostTensor>(&v)) {
        blobs.add(*p, a->mutable_t());
      }
    }
  }
  for (int i : net.inputs()) m.add_inputs(i);
  for (int o : net.outputs()) m.add_outputs(o);
  m.set_weight_bytes(blobs.size);
  // The manifest's size depends on the absolute offsets, which depend on its size: reserve room
  // by serialising once with relative offsets, then relocate with a generous aligned section start.
  size_t manifestGuess = m.ByteSizeLong() + 16 * (blobs.blobs.size() + 1) + 64;
  const uint64_t weightsOffset = alignUp(kPlanHeaderBytes + manifestGuess, kPlanBlobAlignment);
  for (auto& t : *m.mutable_tensors())
    if (t.has_constant()) relocate(t.mutable_constant(), weightsOffset);
  for (auto& l : *m.mutable_layers())
    for (auto& a : *l.mutable_attrs())
      if (a.has_t()) relocate(a.mutable_t(), weightsOffset);
  std::string manifest = m.SerializeAsString();
  const uint64_t fileSize = weightsOffset + blobs.size + 8;
  std::vector<uint8_t> out(fileSize, 0);
  std::memcpy(out.data(), kPlanMagic, 8);
  putU32(out, 8, kPlanFormatVersion);
  putU32(out, 12, 0);
  putU64(out, 16, kPlanHeaderBytes);
  putU64(out, 24, manifest.size());
  putU64(out, 32, weightsOffset);
  putU64(out, 40, blobs.size);
  putU64(out, 48, fileSize);
  std::memcpy(out.data() + kPlanHeaderBytes, manifest.data(), manifest.size());
  for (size_t i = 0; i < blobs.blobs.size(); ++i)
    std::memcpy(out.data() + weightsOffset + blobs.rel[i], blobs.blobs[i]->data(), blobs.blobs[i]->byteSize());
  putU64(out, fileSize - 8, planChecksum(out.data(), fileSize - 8));
  return out;
}

namespace {

Expected<HostTensor> readBlob(const trtplan::BlobRef& ref, const uint8_t* base, uint64_t wOff, uint64_t wSize) {
  TRT_ASSIGN_OR_RETURN(DataType t, dataTypeFromName(ref.dtype()));
  Dims dims(ref.dims().begin(), ref.dims().end());
  for (int64_t d : dims)
    if (d < 0) return makeError(StatusCode::kCorrupt, "plan blob has a negative dim");
  HostTensor h(t, dims);
  if (ref.nbytes() != h.byteSize() || ref.offset() < wOff || ref.offset() + ref.nbytes() > wOff + wSize)
    return makeError(StatusCode::kCorrupt, "plan blob lies outside the weight section");
  std::memcpy(h.data(), base + ref.offset(), h.byteSize());
  return h;
}

}  // namespace

Expected<PlanContents> readPlan(const void* data, size_t size) {
  const auto* p = static_cast<const uint8_t*>(data);
  if (size < kPlanHeaderBytes + 8 || std::memcmp(p, kPlanMagic, 8) != 0)
    return makeError(StatusCode::kCorrupt, "not a trt engine plan (bad magic)");
  const uint32_t version = getU32(p + 8);
  if (version != static_cast<uint32_t>(kPlanFormatVersion))
    return makeError(StatusCode::kMismatch, "plan format version " + std::to_string(version) +
                                                " cannot be read by this trt (it reads version " +
                                                std::to_string(kPlanFormatVersion) + "); rebuild the engine");
  const uint64_t mOff = getU64(p + 16), mSize = getU64(p + 24), wOff = getU64(p + 32), wSize = getU64(p + 40),
                 fileSize = getU64(p + 48);
  if (fileSize != size)
    return makeError(StatusCode::kCorrupt, "plan is truncated or padded: " + std::to_string(size) + " bytes, header says " +
                                               std::to_string(fileSize));
  if (planChecksum(p, size - 8) != getU64(p + size - 8))
    return makeError(StatusCode::kCorrupt, "plan checksum mismatch (the file is corrupt)");
  if (mOff != kPlanHeaderBytes || mOff + mSize > wOff || wOff + wSize + 8 != size)
    return makeError(StatusCode::kCorrupt, "plan sections are inconsistent");
  trtplan::Manifest m;
  if (!m.ParseFromArray(p + mOff, static_cast<int>(mSize)))
    return makeError(StatusCode::kCorrupt, "plan manifest does not parse");
  PlanContents c;
  c.formatVersion = static_cast<int>(version);
  c.weightBytes = m.weight_bytes();
  c.sourceModel = m.source_model();
  const auto& f = m.fingerprint();
  c.fingerprint = {f.engine_version(), f.backend(),       f.device_name(),    f.compute_capability(),
                   f.cuda_version(),   f.cudnn_version(), f.cublas_version(), f.host_arch()};
  auto net = std::make_unique<Network>();
  const int nt = m.tensors_size();
  for (const auto& t : m.tensors()) {
    TRT_ASSIGN_OR_RETURN(DataType dt, dataTypeFromName(t.dtype()));
    Shape s;
    for (const auto& d : t.dims()) {
      Dim x;
      x.value = d.value();
      x.symbol = d.symbol();
      s.push_back(x);
    }
    int id;
    if (t.has_constant()) {
      TRT_ASSIGN_OR_RETURN(HostTensor h, readBlob(t.constant(), p, wOff, wSize));
      id = net->addConstant(t.name(), std::move(h));
    } else {
      id = net->addTensor(t.name(), dt, s);
    }
    net->tensor(id).isInput = t.is_input();
  }
  auto checkId = [&](int id, bool optional) {
    return (optional && id == kNoTensor) || (id >= 0 && id < nt);
  };
  for (const auto& pl : m.layers()) {
    Layer l;
    l.name = pl.name();
    l.type = pl.type();
    for (int i : pl.inputs()) {
      if (!checkId(i, true)) return makeError(StatusCode::kCorrupt, "plan layer '" + l.name + "' has a bad input");
      l.inputs.push_back(i);
    }
    for (int o : pl.outputs()) {
      if (!checkId(o, false)) return makeError(StatusCode::kCorrupt, "plan layer '" + l.name + "' has a bad output");
      l.outputs.push_back(o);
    }
    l.origins.assign(pl.origins().begin(), pl.origins().end());
    l.precision = pl.precision();
    l.tactic = pl.tactic();
    for (const auto& a : pl.attrs()) {
      switch (a.value_case()) {
        case trtplan::Attr::kI: l.attrs.set(a.name(), static_cast<int64_t>(a.i())); break;
        case trtplan::Attr::kF: l.attrs.set(a.name(), a.f()); break;
        case trtplan::Attr::kS: l.attrs.set(a.name(), a.s()); break;
        case trtplan::Attr::kInts: l.attrs.set(a.name(), std::vector<int64_t>(a.ints().v().begin(), a.ints().v().end())); break;
        case trtplan::Attr::kFloats: l.attrs.set(a.name(), std::vector<float>(a.floats().v().begin(), a.floats().v().end())); break;
        case trtplan::Attr::kT: {
          TRT_ASSIGN_OR_RETURN(HostTensor h, readBlob(a.t(), p, wOff, wSize));
          l.attrs.set(a.name(), std::move(h));
          break;
        }
        default: return makeError(StatusCode::kCorrupt, "plan attribute '" + a.name() + "' has no value");
      }
    }
    net->addLayer(std::move(l));
  }
  // Inputs and outputs: rebuild the lists through the Network API.
  Network& n = *net;
  std::vector<int> inputs(m.inputs().begin(), m.inputs().end());
  for (int i : inputs)
    if (!checkId(i, false)) return makeError(StatusCode::kCorrupt, "plan input id out of range");
  for (int o : m.outputs()) {
    if (!checkId(o, false)) return makeError(StatusCode::kCorrupt, "plan output id out of range");
    n.markOutput(o);
  }
  n.setInputs(inputs);
  TRT_RETURN_IF_ERROR(Status(n.validate()).withContext("plan network"));
  c.network = std::move(net);
  return c;
}

}  // namespace trt
