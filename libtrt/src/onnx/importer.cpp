// ONNX ModelProto -> Network: model checks, initializers (with external data), graph inputs and
// outputs, and dispatch of each node to its op importer.
#include "onnx/importer.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <mutex>
#include <sstream>

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include "trt/onnx_parser.h"

#ifndef TRT_MAX_ONNX_OPSET
#define TRT_MAX_ONNX_OPSET 23
#endif

namespace trt {
namespace onnximport {

const HostTensor* NodeContext::constInput(int i) const {
  if (!hasInput(i)) return nullptr;
  return net_.tensor(layer_.inputs[i]).constant.get();
}

Status NodeContext::inputToIntsAttr(int i, const std::string& name) {
  if (!hasInput(i)) return Status::ok();
  const HostTensor* v = constInput(i);
  if (!v) return Status::ok();  // stays an input: a shape tensor whose value is known at run time
  std::vector<int64_t> vals;
  for (int64_t k = 0; k < v->numel(); ++k) vals.push_back(v->intAt(k));
  attrs().set(name, vals);
  layer_.inputs[i] = kNoTensor;
  while (!layer_.inputs.empty() && layer_.inputs.back() == kNoTensor) layer_.inputs.pop_back();
  return Status::ok();
}

Status NodeContext::requireOneOf(const std::string& name, const std::string& def,
                                 const std::set<std::string>& allowed) {
  std::string v = attrs().getString(name, def);
  if (!allowed.count(v)) return unsupported("attribute " + name + "='" + v + "'");
  return Status::ok();
}

Status NodeContext::requireIntIn(const std::string& name, int64_t def, const std::set<int64_t>& allowed) {
  int64_t v = attrs().getInt(name, def);
  if (!allowed.count(v)) return unsupported("attribute " + name + "=" + std::to_string(v));
  return Status::ok();
}

const ImporterTable& ImporterTable::instance() {
  static ImporterTable t;
  static std::once_flag once;
  std::call_once(once, [] {
    registerElementwiseImporters(t);
    registerConvPoolImporters(t);
    registerNormMatmulImporters(t);
    registerShapeImporters(t);
    registerMovementImporters(t);
    registerReduceImporters(t);
  });
  return t;
}

void ImporterTable::add(const std::string& op, std::set<std::string> attributes, FixupFn fixup) {
  if (table_.count(op)) {
    if (status_.isOk())
      status_ = makeError(StatusCode::kInternal, "ONNX importer for '" + op + "' registered twice");
    return;
  }
  table_[op] = OpImporter{std::move(attributes), std::move(fixup)};
}

const OpImporter* ImporterTable::find(const std::string& op) const {
  auto it = table_.find(op);
  return it == table_.end() ? nullptr : &it->second;
}

std::vector<std::string> ImporterTable::ops() const {
  std::vector<std::string> r;
  for (auto& kv : table_) r.push_back(kv.first);
  return r;
}

Expected<DataType> dataTypeFromOnnx(int elemType) {
  switch (elemType) {
    case onnx::TensorProto::FLOAT:
      return DataType::kFloat32;
    case onnx::TensorProto::FLOAT16:
      return DataType::kFloat16;
    case onnx::TensorProto::INT8:
      return DataType::kInt8;
    case onnx::TensorProto::INT32:
      return DataType::kInt32;
    case onnx::TensorProto::INT64:
      return DataType::kInt64;
    case onnx::TensorProto::BOOL:
      return DataType::kBool;
    default:
      break;
  }
  std::string name =
      onnx::TensorProto::DataType_IsValid(elemType)
          ? onnx::TensorProto::DataType_Name(static_cast<onnx::TensorProto::DataType>(elemType))
          : std::to_string(elemType);
  return makeError(StatusCode::kUnsupported, "data type " + name);
}

namespace {

Status readExternal(const onnx::TensorProto& t, const std::string& baseDir, HostTensor& out) {
  std::string location;
  int64_t offset = 0, length = -1;
  for (const auto& kv : t.external_data()) {
    if (kv.key() == "location")
      location = kv.value();
    else if (kv.key() == "offset")
      offset = std::stoll(kv.value());
    else if (kv.key() == "length")
      length = std::stoll(kv.value());
  }
  if (location.empty())
    return makeError(StatusCode::kCorrupt, "tensor '" + t.name() + "' has external data without a location");
  std::string path = location[0] == '/' ? location : baseDir + "/" + location;
  std::ifstream f(path, std::ios::binary);
  if (!f)
    return makeError(StatusCode::kNotFound,
                     "external data file '" + path + "' of tensor '" + t.name() + "' not found");
  f.seekg(0, std::ios::end);
  int64_t fileSize = f.tellg();
  int64_t need = static_cast<int64_t>(out.byteSize());
  if (length >= 0 && length != need)
    return makeError(StatusCode::kCorrupt, "external data of tensor '" + t.name() + "' has length " +
                                               std::to_string(length) + ", expected " + std::to_string(need));
  if (offset < 0 || offset + need > fileSize)
    return makeError(StatusCode::kCorrupt,
                     "external data file '" + path + "' is too short for tensor '" + t.name() + "'");
  f.seekg(offset);
  f.read(static_cast<char*>(out.data()), need);
  if (!f) return makeError(StatusCode::kCorrupt, "cannot read external data of tensor '" + t.name() + "'");
  return Status::ok();
}

}  // namespace

Expected<HostTensor> tensorFromProto(const onnx::TensorProto& t, const std::string& baseDir) {
  auto dt = dataTypeFromOnnx(t.data_type());
  if (!dt.isOk()) return Status(dt.status()).withContext("tensor '" + t.name() + "'");
  Dims dims(t.dims().begin(), t.dims().end());
  for (int64_t d : dims)
    if (d < 0) return makeError(StatusCode::kCorrupt, "tensor '" + t.name() + "' has a negative dim");
  HostTensor out(*dt, dims);
  const int64_t n = out.numel();
  const size_t bytes = out.byteSize();
  if (t.data_location() == onnx::TensorProto::EXTERNAL) {
    TRT_RETURN_IF_ERROR(readExternal(t, baseDir, out));
    return out;
  }
  if (t.has_raw_data()) {
    if (t.raw_data().size() != bytes)
      return makeError(StatusCode::kCorrupt, "tensor '" + t.name() + "' has " +
                                                 std::to_string(t.raw_data().size()) +
                                                 " bytes of raw data, expected " + std::to_string(bytes));
    std::memcpy(out.data(), t.raw_data().data(), bytes);
    return out;
  }
  auto sizeError = [&](int64_t got) {
    return makeError(StatusCode::kCorrupt, "tensor '" + t.name() + "' has " + std::to_string(got) +
                                               " values, expected " + std::to_string(n));
  };
  switch (*dt) {
    case DataType::kFloat32:
      if (t.float_data_size() != n) return sizeError(t.float_data_size());
      std::copy(t.float_data().begin(), t.float_data().end(), out.as<float>());
      break;
    case DataType::kInt64:
      if (t.int64_data_size() != n) return sizeError(t.int64_data_size());
      std::copy(t.int64_data().begin(), t.int64_data().end(), out.as<int64_t>());
      break;
    case DataType::kInt32:
      if (t.int32_data_size() != n) return sizeError(t.int32_data_size());
      std::copy(t.int32_data().begin(), t.int32_data().end(), out.as<int32_t>());
      break;
    case DataType::kInt8:
    case DataType::kBool:
      if (t.int32_data_size() != n) return sizeError(t.int32_data_size());
      for (int64_t i = 0; i < n; ++i) out.as<int8_t>()[i] = static_cast<int8_t>(t.int32_data(i));
      break;
    case DataType::kFloat16:
      if (t.int32_data_size() != n) return sizeError(t.int32_data_size());
      for (int64_t i = 0; i < n; ++i) out.as<uint16_t>()[i] = static_cast<uint16_t>(t.int32_data(i));
      break;
  }
  return out;
}

namespace {

Expected<AttrValue> convertAttribute(const onnx::AttributeProto& a, const std::string& baseDir) {
  switch (a.type()) {
    case onnx::AttributeProto::INT:
      return AttrValue(static_cast<int64_t>(a.i()));
    case onnx::AttributeProto::FLOAT:
      return AttrValue(a.f());
    case onnx::AttributeProto::STRING:
      return AttrValue(a.s());
    case onnx::AttributeProto::INTS:
      return AttrValue(std::vector<int64_t>(a.ints().begin(), a.ints().end()));
    case onnx::AttributeProto::FLOATS:
      return AttrValue(std::vector<float>(a.floats().begin(), a.floats().end()));
    case onnx::AttributeProto::TENSOR: {
      TRT_ASSIGN_OR_RETURN(HostTensor t, tensorFromProto(a.t(), baseDir));
      return AttrValue(std::move(t));
    }
    default:
      break;
  }
  return makeError(StatusCode::kUnsupported, "attribute '" + a.name() + "' of type " +
                                                 onnx::AttributeProto::AttributeType_Name(a.type()));
}

Expected<Shape> shapeFromValueInfo(const onnx::ValueInfoProto& vi, DataType& type) {
  if (!vi.type().has_tensor_type())
    return makeError(StatusCode::kUnsupported, "graph value '" + vi.name() + "' is not a tensor");
  const auto& tt = vi.type().tensor_type();
  auto dt = dataTypeFromOnnx(tt.elem_type());
  if (!dt.isOk()) return Status(dt.status()).withContext("graph value '" + vi.name() + "'");
  type = *dt;
  Shape s;
  if (!tt.has_shape())
    return makeError(StatusCode::kUnsupported, "graph input '" + vi.name() + "' has no shape");
  for (const auto& d : tt.shape().dim()) {
    if (d.has_dim_value())
      s.push_back(Dim(d.dim_value()));
    else if (d.has_dim_param() && !d.dim_param().empty())
      s.push_back(Dim::symbolic(d.dim_param()));
    else
      s.push_back(Dim());
  }
  return s;
}

Status importConstantNode(const onnx::NodeProto& node, Network& net, const std::string& baseDir) {
  if (node.output_size() != 1)
    return makeError(StatusCode::kInvalidArgument, "Constant must have one output");
  if (node.attribute_size() != 1)
    return makeError(StatusCode::kInvalidArgument, "Constant needs exactly one value attribute");
  const auto& a = node.attribute(0);
  HostTensor value;
  if (a.name() == "value") {
    TRT_ASSIGN_OR_RETURN(value, tensorFromProto(a.t(), baseDir));
  } else if (a.name() == "value_float") {
    value = HostTensor(DataType::kFloat32, {});
    value.as<float>()[0] = a.f();
  } else if (a.name() == "value_floats") {
    value = HostTensor(DataType::kFloat32, {a.floats_size()});
    std::copy(a.floats().begin(), a.floats().end(), value.as<float>());
  } else if (a.name() == "value_int") {
    value = HostTensor(DataType::kInt64, {});
    value.as<int64_t>()[0] = a.i();
  } else if (a.name() == "value_ints") {
    value = HostTensor(DataType::kInt64, {a.ints_size()});
    std::copy(a.ints().begin(), a.ints().end(), value.as<int64_t>());
  } else {
    return makeError(StatusCode::kUnsupported, "Constant attribute '" + a.name() + "'");
  }
  net.addConstant(node.output(0), std::move(value));
  return Status::ok();
}

std::string nodeWhere(const onnx::NodeProto& node, const std::string& name, int opset) {
  return "node '" + name + "' (" + node.op_type() + ", opset " + std::to_string(opset) + ")";
}

Expected<std::unique_ptr<Network>> importModel(const onnx::ModelProto& model, const std::string& baseDir) {
  const auto& table = ImporterTable::instance();
  TRT_RETURN_IF_ERROR(table.registrationStatus());
  int opset = -1;
  for (const auto& o : model.opset_import())
    if (o.domain().empty() || o.domain() == "ai.onnx") opset = static_cast<int>(o.version());
  if (opset < 0) {
    if (model.opset_import_size() == 0 && model.ir_version() < 3)
      opset = 1;
    else
      return makeError(StatusCode::kUnsupported, "model imports no default-domain (ai.onnx) opset");
  }
  if (opset < minSupportedOpset() || opset > maxSupportedOpset())
    return makeError(StatusCode::kUnsupported, "opset " + std::to_string(opset) +
                                                   " (supported: " + std::to_string(minSupportedOpset()) +
                                                   " to " + std::to_string(maxSupportedOpset()) + ")");
  const auto& g = model.graph();
  auto net = std::make_unique<Network>();
  std::set<std::string> initNames;
  for (const auto& init : g.initializer()) {
    TRT_ASSIGN_OR_RETURN(HostTensor t, tensorFromProto(init, baseDir));
    if (net->findTensor(init.name()) >= 0)
      return makeError(StatusCode::kInvalidArgument, "initializer '" + init.name() + "' is defined twice");
    net->addConstant(init.name(), std::move(t));
    initNames.insert(init.name());
  }
  if (g.sparse_initializer_size() > 0) return makeError(StatusCode::kUnsupported, "sparse initializers");
  for (const auto& in : g.input()) {
    if (initNames.count(in.name())) continue;  // IR < 4 lists initializers as inputs: they are constants
    DataType t;
    TRT_ASSIGN_OR_RETURN(Shape s, shapeFromValueInfo(in, t));
    net->addInput(in.name(), t, s);
  }
  std::set<std::string> usedNames;
  int index = 0;
  for (const auto& node : g.node()) {
    std::string name = node.name().empty() ? node.op_type() + "_" + std::to_string(index) : node.name();
    while (usedNames.count(name)) name += "_";
    usedNames.insert(name);
    ++index;
    std::string where = nodeWhere(node, name, opset);
    if (!node.domain().empty() && node.domain() != "ai.onnx")
      return makeError(StatusCode::kUnsupported, "op domain '" + node.domain() + "'").withContext(where);
    if (node.op_type() == "Constant") {
      Status st = importConstantNode(node, *net, baseDir);
      if (!st.isOk()) return st.withContext(where);
      continue;
    }
    const OpImporter* imp = table.find(node.op_type());
    if (!imp) return makeError(StatusCode::kUnsupported, "unsupported op").withContext(where);
    Layer layer;
    layer.name = name;
    layer.type = node.op_type();
    layer.origins.push_back(name);
    for (const auto& a : node.attribute()) {
      if (!imp->attributes.count(a.name()))
        return makeError(StatusCode::kUnsupported, "unsupported attribute '" + a.name() + "'")
            .withContext(where);
      auto v = convertAttribute(a, baseDir);
      if (!v.isOk()) return Status(v.status()).withContext(where);
      layer.attrs.set(a.name(), std::move(v).value());
    }
    for (const auto& in : node.input()) {
      if (in.empty()) {
        layer.inputs.push_back(kNoTensor);
        continue;
      }
      int id = net->findTensor(in);
      if (id < 0)
        return makeError(StatusCode::kInvalidArgument, "input '" + in + "' is not defined")
            .withContext(where);
      layer.inputs.push_back(id);
    }
    while (!layer.inputs.empty() && layer.inputs.back() == kNoTensor) layer.inputs.pop_back();
    std::vector<std::string> outs;
    for (const auto& o : node.output()) outs.push_back(o);
    while (!outs.empty() && outs.back().empty()) outs.pop_back();
    for (const auto& o : outs) {
      if (o.empty())
        return makeError(StatusCode::kUnsupported, "an omitted output before a used one").withContext(where);
      if (net->findTensor(o) >= 0)
        return makeError(StatusCode::kInvalidArgument, "output '" + o + "' is defined twice")
            .withContext(where);
      layer.outputs.push_back(net->addTensor(o));
    }
    NodeContext ctx(node, opset, *net, layer);
    if (imp->fixup) {
      Status st = imp->fixup(ctx);
      if (!st.isOk()) return st.withContext(where);
    }
    net->addLayer(std::move(layer));
  }
  for (const auto& out : g.output()) {
    int id = net->findTensor(out.name());
    if (id < 0)
      return makeError(StatusCode::kInvalidArgument, "graph output '" + out.name() + "' is never produced");
    TensorDesc& t = net->tensor(id);
    if (t.isInput)
      return makeError(StatusCode::kUnsupported, "graph output '" + out.name() + "' is also a graph input");
    if (t.isOutput)
      return makeError(StatusCode::kInvalidArgument, "graph output '" + out.name() + "' is listed twice");
    if (t.isConstant()) {
      // An output must be produced by a layer: route a constant output through an Identity.
      t.name = out.name() + "__const";
      int dst = net->addTensor(out.name(), t.type, t.shape);
      Layer l;
      l.name = out.name() + "_output";
      l.type = "Identity";
      l.inputs = {id};
      l.outputs = {dst};
      l.origins = {out.name()};
      net->addLayer(std::move(l));
      id = dst;
    }
    net->markOutput(id);
  }
  TRT_RETURN_IF_ERROR(net->validate());
  return net;
}

}  // namespace
}  // namespace onnximport

int minSupportedOpset() {
  return 11;
}
int maxSupportedOpset() {
  return TRT_MAX_ONNX_OPSET;
}

Expected<std::unique_ptr<Network>> parseOnnxBuffer(const void* data, size_t size,
                                                   const std::string& baseDir) {
  onnx::ModelProto model;
  google::protobuf::io::ArrayInputStream raw(data, static_cast<int>(size));
  google::protobuf::io::CodedInputStream coded(&raw);
  coded.SetTotalBytesLimit(INT32_MAX);
  if (size == 0 || !model.ParseFromCodedStream(&coded) || !coded.ConsumedEntireMessage())
    return makeError(StatusCode::kCorrupt, "not a valid ONNX model (protobuf parse failed)");
  if (!model.has_graph()) return makeError(StatusCode::kCorrupt, "not a valid ONNX model (no graph)");
  return onnximport::importModel(model, baseDir);
}

Expected<std::unique_ptr<Network>> parseOnnxFile(const std::string& path) {
  std::string dir = ".";
  size_t slash = path.find_last_of('/');
  if (slash != std::string::npos) dir = path.substr(0, slash);
  // Mapped, not read: protobuf parses straight from the page cache (a 440 MB BERT-Base was one more
  // copy of itself through read()); a file that cannot be mapped is read.
  const int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) return makeError(StatusCode::kNotFound, "cannot open ONNX model '" + path + "'");
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return makeError(StatusCode::kInvalidArgument, "ONNX model '" + path + "' is not a regular file");
  }
  const size_t size = static_cast<size_t>(st.st_size);
  if (size > static_cast<size_t>(INT32_MAX)) {
    ::close(fd);
    return makeError(StatusCode::kUnsupported,
                     "'" + path + "' is over 2 GiB: store weights as external data");
  }
  void* mapped = size > 0 ? ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0) : MAP_FAILED;
  std::string bytes;
  if (mapped == MAP_FAILED) {  // empty, or not mappable: read it
    bytes.resize(size);
    size_t got = 0;
    while (got < size) {
      const ssize_t n = ::read(fd, bytes.data() + got, size - got);
      if (n <= 0) break;
      got += static_cast<size_t>(n);
    }
    if (got != size) {
      ::close(fd);
      return makeError(StatusCode::kCorrupt, "cannot read ONNX model '" + path + "'");
    }
  }
  ::close(fd);
  auto r = mapped != MAP_FAILED ? parseOnnxBuffer(mapped, size, dir)
                                : parseOnnxBuffer(bytes.data(), bytes.size(), dir);
  if (mapped != MAP_FAILED) ::munmap(mapped, size);
  if (!r.isOk()) return Status(r.status()).withContext(path);
  return r;
}

}  // namespace trt
