// The op registry and the helpers shared by inference functions.
#include "ir/op_registry.h"

#include <algorithm>
#include <mutex>

namespace trt {

bool InferContext::dimValues(int i, std::vector<Dim>& out) const {
  out.clear();
  if (!hasInput(i)) return false;
  const TensorState& s = *in_[i];
  if (s.value && (s.value->type() == DataType::kInt64 || s.value->type() == DataType::kInt32) &&
      s.value->dims().size() <= 1) {
    for (int64_t k = 0; k < s.value->numel(); ++k) {
      const int64_t v = s.value->intAt(k);
      out.push_back(v >= 0 ? Dim(v) : (v == -1 ? Dim::symbolic(kMinusOneSymbol) : Dim()));
    }
    return true;
  }
  if (!s.hasDimValues) return false;
  out = s.dimValues;
  return true;
}

Expected<std::vector<int64_t>> InferContext::intValues(int i, const char* what) const {
  const HostTensor* v = value(i);
  if (!v)
    return makeError(StatusCode::kUnsupported,
                     std::string(what) + " must be a constant or computable from shapes at build/run time");
  std::vector<int64_t> r(static_cast<size_t>(v->numel()));
  for (int64_t k = 0; k < v->numel(); ++k) r[k] = v->intAt(k);
  return r;
}

std::vector<int64_t> InferContext::intsFromAttrOrInput(const std::string& name, int slot, bool& known) const {
  known = true;
  if (attrs().has(name)) return attrs().getInts(name);
  if (!hasInput(slot)) return {};
  auto v = intValues(slot, name.c_str());
  if (!v.isOk()) {
    known = false;
    return {};
  }
  return *v;
}

void OpRegistry::add(OpSchema schema) {
  if (ops_.count(schema.name)) {
    if (status_.isOk()) status_ = makeError(StatusCode::kInternal, "op '" + schema.name + "' registered twice");
    return;
  }
  std::string name = schema.name;
  ops_.emplace(name, std::move(schema));
}

void OpRegistry::add(const std::string& name, int minIn, int maxIn, int minOut, int maxOut, InferFn infer) {
  add(OpSchema{name, minIn, maxIn, minOut, maxOut, std::move(infer), {}});
}

void OpRegistry::setShapeInputs(const std::string& name, std::set<int> inputs) {
  auto it = ops_.find(name);
  if (it == ops_.end()) {
    if (status_.isOk()) status_ = makeError(StatusCode::kInternal, "shape inputs for unknown op '" + name + "'");
    return;
  }
  it->second.shapeInputs = std::move(inputs);
}

void OpRegistry::setReadsOnlyShapes(const std::string& name) {
  auto it = ops_.find(name);
  if (it == ops_.end()) {
    if (status_.isOk()) status_ = makeError(StatusCode::kInternal, "readsOnlyShapes for unknown op '" + name + "'");
    return;
  }
  it->second.readsOnlyShapes = true;
}

std::vector<bool> shapeTensorMask(const Network& net) {
  const auto& reg = OpRegistry::instance();
  std::vector<bool> mask(net.tensors().size(), false);
  for (int li = static_cast<int>(net.layers().size()) - 1; li >= 0; --li) {
    const Layer& l = net.layers()[li];
    bool outputNeeded = false;
    for (int o : l.outputs) outputNeeded = outputNeeded || mask[o];
    const OpSchema* s = reg.find(l.type);
    if (s && s->readsOnlyShapes) continue;
    for (size_t i = 0; i < l.inputs.size(); ++i) {
      if (l.inputs[i] < 0) continue;
      if (outputNeeded || (s && s->shapeInputs.count(static_cast<int>(i)))) mask[l.inputs[i]] = true;
    }
  }
  return mask;
}

const OpSchema* OpRegistry::find(const std::string& name) const {
  auto it = ops_.find(name);
  return it == ops_.end() ? nullptr : &it->second;
}

std::vector<std::string> OpRegistry::names() const {
  std::vector<std::string> r;
  for (auto& kv : ops_) r.push_back(kv.first);
  return r;
}

const OpRegistry& OpRegistry::instance() {
  static OpRegistry reg;
  static std::once_flag once;
  std::call_once(once, [] {
    registerElementwiseOps(reg);
    registerConvOps(reg);
    registerNormOps(reg);
    registerPoolOps(reg);
    registerMatmulOps(reg);
    registerShapeOps(reg);
    registerMovementOps(reg);
    registerReduceOps(reg);
  });
  return reg;
}

Expected<int> normalizeAxis(int64_t axis, int rank) {
  int64_t a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= std::max(rank, 1))
    return makeError(StatusCode::kInvalidArgument,
                     "axis " + std::to_string(axis) + " is out of range for rank " + std::to_string(rank));
  return static_cast<int>(a);
}

Expected<Shape> broadcastShapes(const std::vector<Shape>& shapes) {
  size_t rank = 0;
  for (auto& s : shapes) rank = std::max(rank, s.size());
  Shape out(rank, Dim(1));
  for (size_t k = 0; k < rank; ++k) {
    Dim cur(1);
    for (auto& s : shapes) {
      if (s.size() + k < rank) continue;
      const Dim& d = s[s.size() - rank + k];
      if (d.isStatic() && d.value == 1) continue;
      if (cur.isStatic() && cur.value == 1) {
        cur = d;
      } else if (d.isStatic() && cur.isStatic()) {
        if (d.value != cur.value)
          return makeError(StatusCode::kInvalidArgument,
                           "shapes cannot broadcast: dim " + std::to_string(cur.value) + " vs " +
                               std::to_string(d.value));
      } else if (!d.isStatic() && cur.isStatic()) {
        // the static dim wins: a dynamic dim must equal it (or be 1) at run time
      } else if (d.isStatic() && !cur.isStatic()) {
        cur = d;
      } else if (d.symbol != cur.symbol) {
        cur = Dim();  // two different unknowns
      }
    }
    out[k] = cur;
  }
  return out;
}

Dim dimProduct(const Shape& s, size_t begin, size_t end) {
  int64_t p = 1;
  for (size_t i = begin; i < end && i < s.size(); ++i) {
    if (!s[i].isStatic()) {
      if (end - begin == 1) return s[i];
      return Dim();
    }
    p *= s[i].value;
  }
  return Dim(p);
}

}  // namespace trt
