// Whole-network shape propagation, shared by the builder (symbolic shapes, constant folding) and
// the runtime (concrete shapes, shape tensors evaluated on the host).
#include "ir/shape_inference.h"

#include <algorithm>

namespace trt {
namespace {

// Largest result the run-time policy computes on the host: shape computations are tiny (a Cast
// of a dim to float for a Range, a Gather of a shape), anything larger belongs on the device.
constexpr int64_t kMaxShapeValueElems = 1 << 16;

bool shouldEvaluate(EvalPolicy policy, const std::vector<TensorState>& outs) {
  if (policy == EvalPolicy::kNone) return false;
  for (auto& o : outs) {
    if (!o.known || !isStatic(o.shape)) return false;
    if (policy == EvalPolicy::kShapeValues && volume(toDims(o.shape)) > kMaxShapeValueElems) return false;
    if (policy == EvalPolicy::kFoldAll &&
        static_cast<size_t>(volume(toDims(o.shape))) * dataTypeSize(o.type) > kMaxFoldBytes)
      return false;
  }
  return true;
}

std::string layerWhere(const Layer& l) {
  std::string w = "layer '" + l.name + "' (" + l.type + ")";
  return w;
}

}  // namespace

// Symbolic contents of small integer shape tensors, so that Reshape(x, Concat(Shape(x)[0],
// Shape(x)[1], 12, 64)) infers [batch, seq, 12, 64] instead of four unknown dims. Covers the
// Shape -> Gather/Slice -> Unsqueeze/Squeeze/Cast -> Concat chains exporters emit.
void propagateDimValues(const Layer& l, const InferContext& c, std::vector<TensorState>& outs) {
  if (outs.size() != 1 || outs[0].value) return;
  TensorState& o = outs[0];
  if (o.type != DataType::kInt64 && o.type != DataType::kInt32) return;
  std::vector<Dim> d, part;
  if (l.type == "Shape" && c.hasInput(0)) {
    const Shape& in = c.shape(0);
    const int r = static_cast<int>(in.size());
    int64_t start = l.attrs.getInt("start", 0), end = l.attrs.getInt("end", r);
    if (start < 0) start += r;
    if (end < 0) end += r;
    start = std::clamp<int64_t>(start, 0, r);
    end = std::clamp<int64_t>(end, 0, r);
    for (int64_t k = start; k < end; ++k) d.push_back(in[k]);
  } else if (l.type == "Gather" && l.attrs.getInt("axis", 0) == 0 && c.dimValues(0, part) && c.value(1)) {
    const HostTensor& idx = *c.value(1);
    if (idx.dims().size() > 1) return;
    for (int64_t k = 0; k < idx.numel(); ++k) {
      int64_t i = idx.intAt(k);
      if (i < 0) i += static_cast<int64_t>(part.size());
      if (i < 0 || i >= static_cast<int64_t>(part.size())) return;
      d.push_back(part[i]);
    }
  } else if ((l.type == "Unsqueeze" || l.type == "Squeeze" || l.type == "Cast" || l.type == "Identity") &&
             c.dimValues(0, part)) {
    d = part;
  } else if (l.type == "Slice" && c.dimValues(0, part) && c.value(1) && c.value(2)) {
    // 1-D slice with constant starts/ends (axis 0, step 1 or absent)
    if ((c.hasInput(3) && (!c.value(3) || c.value(3)->intAt(0) != 0)) ||
        (c.hasInput(4) && (!c.value(4) || c.value(4)->intAt(0) != 1)) || c.value(1)->numel() != 1)
      return;
    const int64_t n = static_cast<int64_t>(part.size());
    int64_t b0 = c.value(1)->intAt(0), e0 = c.value(2)->intAt(0);
    if (b0 < 0) b0 += n;
    if (e0 < 0) e0 += n;
    b0 = std::clamp<int64_t>(b0, 0, n);
    e0 = std::clamp<int64_t>(e0, 0, n);
    for (int64_t k = b0; k < e0; ++k) d.push_back(part[k]);
  } else if ((l.type == "Add" || l.type == "Sub" || l.type == "Mul") && c.numInputs() == 2) {
    // Arithmetic on dims where the result is a dim again: static values, x - x = 0, x + 0 and
    // x * 1 (GPT-2's mask slice starts at key length - query length: 0 for self-attention).
    std::vector<Dim> a, b;
    if (!c.dimValues(0, a) || !c.dimValues(1, b) || a.empty() || b.empty()) return;
    if (a.size() != b.size() && a.size() != 1 && b.size() != 1) return;
    const size_t n = std::max(a.size(), b.size());
    const auto known = [](const Dim& x) {
      return x.isStatic() || (!x.symbol.empty() && x.symbol != kMinusOneSymbol);
    };
    for (size_t k = 0; k < n; ++k) {
      const Dim& x = a[a.size() == 1 ? 0 : k];
      const Dim& y = b[b.size() == 1 ? 0 : k];
      if (!known(x) || !known(y)) return;
      if (x.isStatic() && y.isStatic()) {
        const int64_t v = l.type == "Add"   ? x.value + y.value
                          : l.type == "Sub" ? x.value - y.value
                                            : x.value * y.value;
        if (v < 0) return;
        d.push_back(Dim(v));
      } else if (l.type == "Sub" && x == y) {
        d.push_back(Dim(0));
      } else if (l.type != "Sub" && y.isStatic() && y.value == (l.type == "Add" ? 0 : 1)) {
        d.push_back(x);
      } else if (l.type != "Sub" && x.isStatic() && x.value == (l.type == "Add" ? 0 : 1)) {
        d.push_back(y);
      } else {
        return;
      }
    }
  } else if (l.type == "Concat" && l.attrs.getInt("axis", 0) == 0) {
    for (int i = 0; i < c.numInputs(); ++i) {
      if (!c.dimValues(i, part)) return;
      d.insert(d.end(), part.begin(), part.end());
    }
  } else {
    return;
  }
  if (static_cast<int64_t>(d.size()) != volume(toDims(o.shape)) && !o.shape.empty()) return;
  o.dimValues = std::move(d);
  o.hasDimValues = true;
}

Status propagateShapes(const Network& net, const std::vector<TensorState>& inputStates, EvalPolicy policy,
                       const HostEvaluator& evaluator, std::vector<TensorState>& states) {
  const auto& reg = OpRegistry::instance();
  states.assign(net.tensors().size(), TensorState{});
  if (inputStates.size() != net.inputs().size())
    return makeError(StatusCode::kInternal, "propagateShapes: wrong number of input states");
  for (size_t i = 0; i < net.inputs().size(); ++i) states[net.inputs()[i]] = inputStates[i];
  for (size_t i = 0; i < net.tensors().size(); ++i) {
    const TensorDesc& t = net.tensors()[i];
    if (t.isConstant()) {
      states[i].type = t.constant->type();
      states[i].shape = toShape(t.constant->dims());
      states[i].known = true;
      states[i].value = t.constant;
    }
  }
  for (const Layer& layer : net.layers()) {
    const OpSchema* schema = reg.find(layer.type);
    if (!schema)
      return makeError(StatusCode::kUnsupported, layerWhere(layer) + ": no shape inference for this op");
    std::vector<const TensorState*> ins;
    bool allValued = true;
    for (int id : layer.inputs) {
      if (id == kNoTensor) {
        ins.push_back(nullptr);
        continue;
      }
      if (!states[id].known)
        return makeError(StatusCode::kInternal,
                         layerWhere(layer) + ": input '" + net.tensor(id).name + "' has no shape");
      ins.push_back(&states[id]);
      if (!states[id].value) allValued = false;
    }
    InferContext ctx(layer, ins, layer.outputs.size());
    Status st = schema->infer(ctx);
    if (!st.isOk()) return st.withContext(layerWhere(layer));
    auto& outs = ctx.outputs();
    propagateDimValues(layer, ctx, outs);
    bool valuesSet = true;
    for (auto& o : outs) valuesSet = valuesSet && o.value;
    if (!valuesSet && allValued && evaluator && shouldEvaluate(policy, outs)) {
      std::vector<TensorView> inViews;
      for (auto* s : ins) inViews.push_back(s ? TensorView::of(*s->value) : TensorView{});
      std::vector<HostTensor> results;
      std::vector<TensorView> outViews;
      results.reserve(outs.size());
      for (auto& o : outs) {
        results.emplace_back(o.type, toDims(o.shape));
        outViews.push_back(TensorView::of(results.back()));
      }
      Status es = evaluator(layer, inViews, outViews);
      if (!es.isOk()) return es.withContext(layerWhere(layer));
      for (size_t k = 0; k < outs.size(); ++k)
        outs[k].value = std::make_shared<HostTensor>(std::move(results[k]));
    }
    for (size_t k = 0; k < layer.outputs.size(); ++k) {
      if (!outs[k].known)
        return makeError(StatusCode::kInternal, layerWhere(layer) + ": output type not inferred");
      // An unknown dim gets a name of its own ("?<tensor>_<axis>", printed as "?"), so that a later
      // Shape of this tensor and the tensor itself agree on it: Reshape(x, [x.shape[0], -1, 64])
      // can then resolve the -1 by cancelling x.shape[0].
      for (size_t a = 0; a < outs[k].shape.size(); ++a) {
        Dim& d = outs[k].shape[a];
        if (!d.isStatic() && d.symbol.empty())
          d.symbol = "?" + std::to_string(layer.outputs[k]) + "_" + std::to_string(a);
      }
      states[layer.outputs[k]] = std::move(outs[k]);
    }
  }
  return Status::ok();
}

std::vector<TensorState> declaredInputStates(const Network& net) {
  std::vector<TensorState> inputs;
  for (int id : net.inputs()) {
    TensorState s;
    s.type = net.tensor(id).type;
    s.shape = net.tensor(id).shape;
    s.known = true;
    inputs.push_back(s);
  }
  return inputs;
}

Status inferNetworkShapes(Network& net, const HostEvaluator& evaluator) {
  std::vector<TensorState> states;
  TRT_RETURN_IF_ERROR(propagateShapes(net, declaredInputStates(net),
                                      evaluator ? EvalPolicy::kShapeValues : EvalPolicy::kNone, evaluator,
                                      states));
  for (size_t i = 0; i < states.size(); ++i) {
    auto& t = net.tensors()[i];
    if (t.isInput || t.isConstant()) continue;
    t.type = states[i].type;
    t.shape = states[i].shape;
  }
  return Status::ok();
}

}  // namespace trt
