// Network: the IR that every stage of trt consumes and produces.
//
// A Network is a list of tensors and a list of layers in topological order. A tensor is an
// activation (produced by a layer or a graph input) or a constant (it carries its HostTensor
// value: weights, biases, folded shape values). A layer has a type (the ONNX op name for layers
// imported one-to-one, later a fused type), typed attributes, input and output tensor ids, the
// ONNX node names it came from (`origins`), a precision and, once built, a tactic name.
// The IR knows nothing about devices or tactics other than the tactic's name.
// Ownership: a Network owns its tensors, layers and constants. Thread safety: not thread-safe for
// writes; concurrent const access is safe.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "trt/tensor.h"
#include "trt/types.h"

namespace trt {

// One typed attribute value.
using AttrValue =
    std::variant<int64_t, float, std::string, std::vector<int64_t>, std::vector<float>, HostTensor>;

class Attributes {
 public:
  bool has(const std::string& name) const { return values_.count(name) != 0; }
  void set(const std::string& name, AttrValue v) { values_[name] = std::move(v); }
  void erase(const std::string& name) { values_.erase(name); }
  const std::map<std::string, AttrValue>& all() const { return values_; }

  // Typed getters with a default when absent; a present attribute of another type is an error
  // caught at import time, so these return the default for a mismatch too.
  int64_t getInt(const std::string& name, int64_t def = 0) const;
  float getFloat(const std::string& name, float def = 0.f) const;
  std::string getString(const std::string& name, const std::string& def = "") const;
  std::vector<int64_t> getInts(const std::string& name, std::vector<int64_t> def = {}) const;
  std::vector<float> getFloats(const std::string& name, std::vector<float> def = {}) const;
  const HostTensor* getTensor(const std::string& name) const;
  // Every attribute and its value as one string: equal strings, equal attributes (CSE, the
  // timing cache's layer signature).
  std::string key() const;

 private:
  std::map<std::string, AttrValue> values_;
};

struct TensorDesc {
  std::string name;
  DataType type = DataType::kFloat32;
  Shape shape;
  int producer = -1;  // layer index, -1 for inputs and constants
  bool isInput = false;
  bool isOutput = false;
  std::shared_ptr<HostTensor> constant;  // set for constants (weights)
  bool isConstant() const { return constant != nullptr; }
};

constexpr int kNoTensor = -1;  // an absent optional input

struct Layer {
  std::string name;
  std::string type;
  std::vector<int> inputs;   // tensor ids; kNoTensor for an absent optional input
  std::vector<int> outputs;  // tensor ids
  Attributes attrs;
  std::vector<std::string> origins;  // ONNX node names this layer came from
  std::string precision = "fp32";
  std::string tactic;  // set by the builder
};

class Network {
 public:
  // Tensors ---------------------------------------------------------------------------------
  int addInput(const std::string& name, DataType type, Shape shape);
  int addConstant(const std::string& name, HostTensor value);
  // Adds an activation tensor (to be produced by a layer added later).
  int addTensor(const std::string& name, DataType type = DataType::kFloat32, Shape shape = {});
  void markOutput(int tensorId);
  // Replaces the input list (used when a plan is read back); marks the tensors as inputs.
  void setInputs(const std::vector<int>& ids);
  int findTensor(const std::string& name) const;  // -1 when absent

  // Layers ----------------------------------------------------------------------------------
  // Appends a layer; sets producer of its outputs.
  int addLayer(Layer layer);

  std::vector<TensorDesc>& tensors() { return tensors_; }
  const std::vector<TensorDesc>& tensors() const { return tensors_; }
  std::vector<Layer>& layers() { return layers_; }
  const std::vector<Layer>& layers() const { return layers_; }
  const std::vector<int>& inputs() const { return inputs_; }
  const std::vector<int>& outputs() const { return outputs_; }
  std::vector<int>& outputs() { return outputs_; }
  TensorDesc& tensor(int id) { return tensors_[id]; }
  const TensorDesc& tensor(int id) const { return tensors_[id]; }

  // Drops layers and tensors that are not marked (keeps ids dense) and recomputes producers.
  // `keepLayer[i]` says whether layer i stays; unreferenced non-input tensors are dropped.
  void compact(const std::vector<bool>& keepLayer);
  // Re-derives producer fields from the layer list.
  void rebuildProducers();
  // Checks ids, topological order and single producers; returns a descriptive error.
  Status validate() const;

 private:
  std::vector<TensorDesc> tensors_;
  std::vector<Layer> layers_;
  std::vector<int> inputs_;
  std::vector<int> outputs_;
  std::map<std::string, int> byName_;
};

}  // namespace trt
