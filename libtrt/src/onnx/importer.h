// ONNX importer internals: the per-node context and the op importer table.
//
// Each ONNX op has one entry: the attributes it accepts and an optional fix-up that normalises the
// node to the form trt's layers use (for example, axes given as a constant input in newer opsets
// become an `axes` attribute). Entries are registered per op family (onnx/*.cpp) through
// registerAllOnnxImporters(); a duplicate is an error.
#pragma once

#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "onnx/onnx.pb.h"
#include "trt/network.h"

namespace trt {
namespace onnximport {

class NodeContext {
 public:
  NodeContext(const onnx::NodeProto& node, int opset, Network& net, Layer& layer)
      : node_(node), opset_(opset), net_(net), layer_(layer) {}
  const onnx::NodeProto& node() const { return node_; }
  int opset() const { return opset_; }
  Layer& layer() { return layer_; }
  Attributes& attrs() { return layer_.attrs; }
  Network& network() { return net_; }

  int numInputs() const { return static_cast<int>(layer_.inputs.size()); }
  bool hasInput(int i) const { return i < numInputs() && layer_.inputs[i] != kNoTensor; }
  // The constant value of input i, or null when it is not a constant.
  const HostTensor* constInput(int i) const;
  // Moves constant input i into attribute `name` as ints. An absent input does nothing; a
  // non-constant one stays an input (the layer reads its value at run time, as a shape tensor).
  Status inputToIntsAttr(int i, const std::string& name);
  // Drops inputs from index i on.
  void truncateInputs(int i) {
    if (numInputs() > i) layer_.inputs.resize(i);
  }

  Status unsupported(const std::string& what) const { return makeError(StatusCode::kUnsupported, what); }
  Status invalid(const std::string& what) const { return makeError(StatusCode::kInvalidArgument, what); }
  // Checks that string attribute `name` (default `def`) is one of `allowed`.
  Status requireOneOf(const std::string& name, const std::string& def, const std::set<std::string>& allowed);
  // Checks that int attribute `name` (default `def`) is one of `allowed`.
  Status requireIntIn(const std::string& name, int64_t def, const std::set<int64_t>& allowed);

 private:
  const onnx::NodeProto& node_;
  int opset_;
  Network& net_;
  Layer& layer_;
};

using FixupFn = std::function<Status(NodeContext&)>;

struct OpImporter {
  std::set<std::string> attributes;  // accepted attribute names
  FixupFn fixup;                     // may be empty
};

class ImporterTable {
 public:
  static const ImporterTable& instance();
  void add(const std::string& op, std::set<std::string> attributes, FixupFn fixup = nullptr);
  const OpImporter* find(const std::string& op) const;
  std::vector<std::string> ops() const;
  const Status& registrationStatus() const { return status_; }

 private:
  std::map<std::string, OpImporter> table_;
  Status status_;
};

void registerElementwiseImporters(ImporterTable& t);
void registerConvPoolImporters(ImporterTable& t);
void registerNormMatmulImporters(ImporterTable& t);
void registerShapeImporters(ImporterTable& t);
void registerMovementImporters(ImporterTable& t);
void registerReduceImporters(ImporterTable& t);

// TensorProto -> HostTensor (external data resolved against baseDir).
Expected<HostTensor> tensorFromProto(const onnx::TensorProto& t, const std::string& baseDir);
// ONNX elem_type -> DataType; kUnsupported for types trt lacks.
Expected<DataType> dataTypeFromOnnx(int elemType);

}  // namespace onnximport
}  // namespace trt
