// Network construction, compaction and validation.
#include <set>
#include <sstream>

#include "trt/network.h"

namespace trt {

std::string Attributes::key() const {
  std::ostringstream os;
  for (const auto& kv : values_) {
    os << kv.first << "=";
    const AttrValue& v = kv.second;
    if (auto p = std::get_if<int64_t>(&v))
      os << *p;
    else if (auto p = std::get_if<float>(&v))
      os << *p;
    else if (auto p = std::get_if<std::string>(&v))
      os << '"' << *p << '"';
    else if (auto p = std::get_if<std::vector<int64_t>>(&v)) {
      for (int64_t x : *p) os << x << ',';
    } else if (auto p = std::get_if<std::vector<float>>(&v)) {
      for (float x : *p) os << x << ',';
    } else if (auto p = std::get_if<HostTensor>(&v)) {
      os << "tensor:";
      const auto* b = static_cast<const uint8_t*>(p->data());
      for (size_t i = 0; i < p->byteSize(); ++i) os << static_cast<int>(b[i]) << '.';
    }
    os << ';';
  }
  return os.str();
}

int64_t Attributes::getInt(const std::string& name, int64_t def) const {
  auto it = values_.find(name);
  if (it == values_.end()) return def;
  if (auto p = std::get_if<int64_t>(&it->second)) return *p;
  return def;
}
float Attributes::getFloat(const std::string& name, float def) const {
  auto it = values_.find(name);
  if (it == values_.end()) return def;
  if (auto p = std::get_if<float>(&it->second)) return *p;
  return def;
}
std::string Attributes::getString(const std::string& name, const std::string& def) const {
  auto it = values_.find(name);
  if (it == values_.end()) return def;
  if (auto p = std::get_if<std::string>(&it->second)) return *p;
  return def;
}
std::vector<int64_t> Attributes::getInts(const std::string& name, std::vector<int64_t> def) const {
  auto it = values_.find(name);
  if (it == values_.end()) return def;
  if (auto p = std::get_if<std::vector<int64_t>>(&it->second)) return *p;
  return def;
}
std::vector<float> Attributes::getFloats(const std::string& name, std::vector<float> def) const {
  auto it = values_.find(name);
  if (it == values_.end()) return def;
  if (auto p = std::get_if<std::vector<float>>(&it->second)) return *p;
  return def;
}
const HostTensor* Attributes::getTensor(const std::string& name) const {
  auto it = values_.find(name);
  if (it == values_.end()) return nullptr;
  return std::get_if<HostTensor>(&it->second);
}

int Network::addInput(const std::string& name, DataType type, Shape shape) {
  int id = addTensor(name, type, std::move(shape));
  tensors_[id].isInput = true;
  inputs_.push_back(id);
  return id;
}

int Network::addConstant(const std::string& name, HostTensor value) {
  int id = addTensor(name, value.type(), toShape(value.dims()));
  tensors_[id].constant = std::make_shared<HostTensor>(std::move(value));
  return id;
}

int Network::addTensor(const std::string& name, DataType type, Shape shape) {
  TensorDesc t;
  t.name = name;
  t.type = type;
  t.shape = std::move(shape);
  tensors_.push_back(std::move(t));
  int id = static_cast<int>(tensors_.size()) - 1;
  byName_[name] = id;
  return id;
}

void Network::markOutput(int tensorId) {
  tensors_[tensorId].isOutput = true;
  outputs_.push_back(tensorId);
}

int Network::findTensor(const std::string& name) const {
  auto it = byName_.find(name);
  return it == byName_.end() ? -1 : it->second;
}

int Network::addLayer(Layer layer) {
  int idx = static_cast<int>(layers_.size());
  for (int o : layer.outputs) tensors_[o].producer = idx;
  layers_.push_back(std::move(layer));
  return idx;
}

void Network::rebuildProducers() {
  for (auto& t : tensors_) t.producer = -1;
  for (size_t i = 0; i < layers_.size(); ++i)
    for (int o : layers_[i].outputs) tensors_[o].producer = static_cast<int>(i);
}

void Network::compact(const std::vector<bool>& keepLayer) {
  std::vector<Layer> layers;
  for (size_t i = 0; i < layers_.size(); ++i)
    if (keepLayer[i]) layers.push_back(std::move(layers_[i]));
  std::vector<bool> used(tensors_.size(), false);
  for (int i : inputs_) used[i] = true;
  for (int o : outputs_) used[o] = true;
  for (auto& l : layers) {
    for (int i : l.inputs)
      if (i >= 0) used[i] = true;
    for (int o : l.outputs) used[o] = true;
  }
  std::vector<int> remap(tensors_.size(), -1);
  std::vector<TensorDesc> tensors;
  for (size_t i = 0; i < tensors_.size(); ++i) {
    if (!used[i]) continue;
    remap[i] = static_cast<int>(tensors.size());
    tensors.push_back(std::move(tensors_[i]));
  }
  for (auto& l : layers) {
    for (int& i : l.inputs)
      if (i >= 0) i = remap[i];
    for (int& o : l.outputs) o = remap[o];
  }
  for (int& i : inputs_) i = remap[i];
  for (int& o : outputs_) o = remap[o];
  tensors_ = std::move(tensors);
  layers_ = std::move(layers);
  byName_.clear();
  for (size_t i = 0; i < tensors_.size(); ++i) byName_[tensors_[i].name] = static_cast<int>(i);
  rebuildProducers();
}

Status Network::validate() const {
  const int n = static_cast<int>(tensors_.size());
  std::vector<bool> ready(tensors_.size(), false);
  for (int i = 0; i < n; ++i) ready[i] = tensors_[i].isInput || tensors_[i].isConstant();
  std::set<int> produced;
  for (const Layer& l : layers_) {
    for (int i : l.inputs) {
      if (i == kNoTensor) continue;
      if (i < 0 || i >= n)
        return makeError(StatusCode::kInternal, "layer '" + l.name + "' has a bad input id");
      if (!ready[i])
        return makeError(StatusCode::kInvalidArgument, "layer '" + l.name + "' reads tensor '" +
                                                           tensors_[i].name + "' before it is produced");
    }
    for (int o : l.outputs) {
      if (o < 0 || o >= n)
        return makeError(StatusCode::kInternal, "layer '" + l.name + "' has a bad output id");
      if (ready[o])
        return makeError(StatusCode::kInvalidArgument,
                         "tensor '" + tensors_[o].name + "' has more than one producer");
      ready[o] = true;
    }
  }
  for (int o : outputs_)
    if (!ready[o])
      return makeError(StatusCode::kInvalidArgument,
                       "graph output '" + tensors_[o].name + "' is never produced");
  return Status::ok();
}

}  // namespace trt

namespace trt {
void Network::setInputs(const std::vector<int>& ids) {
  inputs_ = ids;
  for (int i : ids) tensors_[i].isInput = true;
}
}  // namespace trt
