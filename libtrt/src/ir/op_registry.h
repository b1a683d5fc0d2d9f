// Op schemas: per op type, the number of inputs/outputs and the shape and type inference.
//
// Inference works on symbolic shapes at build time and on concrete shapes at run time with the
// same function. An inference function may read an input's host value when it is known (a
// constant, or a shape tensor computed on the host) and may set an output's value itself (Shape,
// Size). Registration is explicit through registerAllOps() (DESIGN rule 1).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "trt/network.h"

namespace trt {

// What inference knows about one tensor.
struct TensorState {
  DataType type = DataType::kFloat32;
  Shape shape;
  bool known = false;                  // type and rank are set
  std::shared_ptr<HostTensor> value;   // host value when known
  // Symbolic contents of a small integer shape tensor whose value is not known (Shape of a
  // dynamic tensor, and Gather/Unsqueeze/Squeeze/Concat/Cast of such): one Dim per element.
  std::vector<Dim> dimValues;
  bool hasDimValues = false;
};

class InferContext {
 public:
  InferContext(const Layer& layer, std::vector<const TensorState*> inputs, size_t numOutputs)
      : layer_(layer), in_(std::move(inputs)), out_(numOutputs) {}
  const Layer& layer() const { return layer_; }
  const Attributes& attrs() const { return layer_.attrs; }
  int numInputs() const { return static_cast<int>(in_.size()); }
  int numOutputs() const { return static_cast<int>(out_.size()); }
  bool hasInput(int i) const { return i < numInputs() && in_[i] != nullptr; }
  const Shape& shape(int i) const { return in_[i]->shape; }
  int rank(int i) const { return static_cast<int>(in_[i]->shape.size()); }
  DataType type(int i) const { return in_[i]->type; }
  const HostTensor* value(int i) const { return hasInput(i) ? in_[i]->value.get() : nullptr; }
  // Input i's elements as Dims: from its value (static), or its symbolic contents; false when neither.
  // A -1 element (Reshape's "infer this dim") reads as Dim::symbolic(kMinusOneSymbol).
  bool dimValues(int i, std::vector<Dim>& out) const;
  // The value of input i as int64s; an error naming the input when it is not known on the host.
  Expected<std::vector<int64_t>> intValues(int i, const char* what) const;
  // Int list from attribute `name`, or else from input `slot` (absent: empty). `known` is false
  // when the input exists but its value is not known yet (build time).
  std::vector<int64_t> intsFromAttrOrInput(const std::string& name, int slot, bool& known) const;

  void setOutput(int i, DataType t, Shape s) {
    out_[i].type = t;
    out_[i].shape = std::move(s);
    out_[i].known = true;
  }
  void setOutputValue(int i, HostTensor v) {
    out_[i].type = v.type();
    out_[i].shape = toShape(v.dims());
    out_[i].known = true;
    out_[i].value = std::make_shared<HostTensor>(std::move(v));
  }
  std::vector<TensorState>& outputs() { return out_; }

  // An error about this layer.
  Status error(const std::string& msg) const { return makeError(StatusCode::kInvalidArgument, msg); }
  Status unsupported(const std::string& msg) const { return makeError(StatusCode::kUnsupported, msg); }

 private:
  const Layer& layer_;
  std::vector<const TensorState*> in_;
  std::vector<TensorState> out_;
};

inline const char* const kMinusOneSymbol = "<-1>";

using InferFn = std::function<Status(InferContext&)>;

struct OpSchema {
  std::string name;
  int minInputs = 1;
  int maxInputs = 1;
  int minOutputs = 1;
  int maxOutputs = 1;
  InferFn infer;
  // Inputs whose values (not just shapes) decide output shapes: Reshape's shape, Slice's starts,
  // TopK's K. A graph input that reaches one of these is a shape tensor, read on the host.
  std::set<int> shapeInputs;
  // True when the outputs depend only on the inputs' shapes, not their values (Shape, Size): a
  // shape tensor computed by such a layer does not make its input a shape tensor.
  bool readsOnlyShapes = false;
};

class OpRegistry {
 public:
  // The registry with every op registered (registerAllOps() runs once).
  static const OpRegistry& instance();
  // Adds a schema. A duplicate name is a bug: it is recorded and reported by registrationStatus().
  void add(OpSchema schema);
  void add(const std::string& name, int minIn, int maxIn, int minOut, int maxOut, InferFn infer);
  const Status& registrationStatus() const { return status_; }
  void setShapeInputs(const std::string& name, std::set<int> inputs);
  void setReadsOnlyShapes(const std::string& name);
  const OpSchema* find(const std::string& name) const;
  std::vector<std::string> names() const;

 private:
  std::map<std::string, OpSchema> ops_;
  Status status_;
};

// One registration function per op family (ir/ops/*.cpp).
void registerElementwiseOps(OpRegistry& r);
void registerConvOps(OpRegistry& r);
void registerNormOps(OpRegistry& r);
void registerPoolOps(OpRegistry& r);
void registerMatmulOps(OpRegistry& r);
void registerShapeOps(OpRegistry& r);
void registerMovementOps(OpRegistry& r);
void registerReduceOps(OpRegistry& r);

// Marks every tensor whose value decides some shape: the shapeInputs of each layer, and,
// transitively, the inputs of the layers producing them.
std::vector<bool> shapeTensorMask(const Network& net);

// ---- helpers shared by inference functions ----
// Normalises a possibly negative axis against `rank`; error when out of range.
Expected<int> normalizeAxis(int64_t axis, int rank);
// Numpy-style broadcast of shapes; error on incompatible static dims.
Expected<Shape> broadcastShapes(const std::vector<Shape>& shapes);
// Product of dims; unknown (-1) when any is dynamic.
Dim dimProduct(const Shape& s, size_t begin, size_t end);

}  // namespace trt
