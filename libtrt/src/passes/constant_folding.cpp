// Constant folding (see pass.h).
#include <algorithm>
#include <map>

#include "backends/backend.h"
#include "ir/shape_inference.h"
#include "passes/pass.h"

namespace trt {
namespace {

class ConstantFoldingPass : public Pass {
 public:
  const char* name() const override { return "constant-folding"; }
  Status run(Network& net, bool& changed) override {
    changed = false;
    std::vector<TensorState> states;
    TRT_RETURN_IF_ERROR(
        propagateShapes(net, declaredInputStates(net), EvalPolicy::kFoldAll, evaluateOnHost, states));
    std::vector<bool> keep(net.layers().size(), true);
    for (size_t li = 0; li < net.layers().size(); ++li) {
      const Layer& l = net.layers()[li];
      bool foldable = true;
      for (int o : l.outputs) {
        const TensorState& s = states[o];
        if (!s.value || net.tensor(o).isOutput || s.value->byteSize() > kMaxFoldBytes) foldable = false;
      }
      if (!foldable) continue;
      for (int o : l.outputs) {
        TensorDesc& t = net.tensor(o);
        t.constant = states[o].value;
        t.type = states[o].value->type();
        t.shape = toShape(states[o].value->dims());
        t.producer = -1;
      }
      keep[li] = false;
      changed = true;
    }
    if (changed) net.compact(keep);
    return Status::ok();
  }
};

// Pass "resolve-shape-values": shape values that shape inference knows in terms of the network
// inputs' dims. A dynamic export computes each block's shapes from that block's own tensors:
// Shape(x) -> Gather -> Unsqueeze -> Concat -> Reshape, once per use, through Split / Reshape /
// Transpose layers that exist only for their shapes. Here
//   - a small integer value whose every element is static (seq - seq) becomes a constant;
//   - Shape(x) of a tensor that is not an input, whose dims are static or named after an input's
//     dim, reads the input's shape instead: Gather(Concat(Shape(input), statics), index).
// Every block's shape chain then reads the same tensors, `cse` (which runs next) merges them into
// one, and the layers that were there only to be measured are dead.
class ResolveShapeValuesPass : public Pass {
 public:
  const char* name() const override { return "resolve-shape-values"; }
  Status run(Network& net, bool& changed) override {
    changed = false;
    std::vector<TensorState> states;
    TRT_RETURN_IF_ERROR(propagateShapes(net, declaredInputStates(net), EvalPolicy::kNone, nullptr, states));
    // Each symbol's first appearance among the inputs' dims.
    std::map<std::string, std::pair<int, int>> where;
    for (int in : net.inputs()) {
      const Shape& sh = net.tensor(in).shape;
      for (size_t a = 0; a < sh.size(); ++a)
        if (!sh[a].isStatic() && !sh[a].symbol.empty())
          where.emplace(sh[a].symbol, std::make_pair(in, int(a)));
    }
    const auto resolvable = [&](const Dim& d) { return d.isStatic() || where.count(d.symbol) != 0; };
    std::map<int, int> inputShape;                     // input tensor -> the tensor of its Shape, made here
    const auto fresh = [&](const std::string& name) {  // a tensor name not taken yet
      std::string n = name;
      for (int k = 1; net.findTensor(n) >= 0; ++k) n = name + "_" + std::to_string(k);
      return n;
    };
    std::vector<Layer> layers;
    layers.reserve(net.layers().size());
    for (Layer& l : net.layers()) {
      const int t = l.outputs.size() == 1 ? l.outputs[0] : -1;
      const TensorState* st = t >= 0 ? &states[t] : nullptr;
      const bool integral = st && (st->type == DataType::kInt64 || st->type == DataType::kInt32);
      if (!integral || net.tensor(t).isOutput || st->value || !st->hasDimValues || st->shape.size() > 1 ||
          !std::all_of(st->dimValues.begin(), st->dimValues.end(), resolvable)) {
        layers.push_back(std::move(l));
        continue;
      }
      const std::vector<Dim>& dv = st->dimValues;
      if (std::all_of(dv.begin(), dv.end(), [](const Dim& d) { return d.isStatic(); })) {
        HostTensor v(st->type, toDims(st->shape));
        for (size_t k = 0; k < dv.size(); ++k) {
          if (st->type == DataType::kInt64)
            v.as<int64_t>()[k] = dv[k].value;
          else
            v.as<int32_t>()[k] = static_cast<int32_t>(dv[k].value);
        }
        TensorDesc& td = net.tensor(t);
        td.constant = std::make_shared<HostTensor>(std::move(v));
        td.producer = -1;
        changed = true;
        continue;
      }
      const bool fromInput = !l.inputs.empty() && l.inputs[0] >= 0 && net.tensor(l.inputs[0]).isInput;
      if (l.type != "Shape" || fromInput || st->type != DataType::kInt64) {
        layers.push_back(std::move(l));
        continue;
      }
      // The source: the shapes of the inputs these dims name, then the static dims.
      std::vector<int> parts;
      std::map<int, int64_t> offset;  // input -> its shape's offset in the source
      int64_t n = 0;
      std::vector<int64_t> index, statics;
      for (const Dim& d : dv) {
        if (d.isStatic()) continue;
        const auto [in, axis] = where.at(d.symbol);
        if (!offset.count(in)) {
          if (!inputShape.count(in)) {
            Layer sh;
            sh.type = "Shape";
            sh.name = net.tensor(in).name + "/Shape";
            sh.origins = l.origins;
            sh.inputs = {in};
            const int out = net.addTensor(fresh(sh.name + "_output"), DataType::kInt64,
                                          Shape{Dim(static_cast<int64_t>(net.tensor(in).shape.size()))});
            sh.outputs = {out};
            inputShape[in] = out;
            layers.push_back(std::move(sh));
          }
          offset[in] = n;
          parts.push_back(inputShape[in]);
          n += static_cast<int64_t>(net.tensor(in).shape.size());
        }
      }
      for (const Dim& d : dv) {
        if (d.isStatic()) {
          index.push_back(n + static_cast<int64_t>(statics.size()));
          statics.push_back(d.value);
        } else {
          const auto [in, axis] = where.at(d.symbol);
          index.push_back(offset[in] + axis);
        }
      }
      int source = parts[0];
      if (parts.size() > 1 || !statics.empty()) {
        if (!statics.empty()) {
          HostTensor sv(DataType::kInt64, {static_cast<int64_t>(statics.size())});
          std::copy(statics.begin(), statics.end(), sv.as<int64_t>());
          parts.push_back(net.addConstant(fresh(l.name + "/static_dims"), std::move(sv)));
        }
        Layer cat;
        cat.type = "Concat";
        cat.name = l.name + "/dims";
        cat.origins = l.origins;
        cat.attrs.set("axis", int64_t{0});
        cat.inputs = parts;
        source = net.addTensor(fresh(cat.name + "_output"), DataType::kInt64,
                               Shape{Dim(n + static_cast<int64_t>(statics.size()))});
        cat.outputs = {source};
        layers.push_back(std::move(cat));
      }
      HostTensor iv(DataType::kInt64, toDims(st->shape));
      std::copy(index.begin(), index.end(), iv.as<int64_t>());
      Layer g;
      g.type = "Gather";
      g.name = l.name;
      g.origins = l.origins;
      g.precision = l.precision;
      g.attrs.set("axis", int64_t{0});
      g.inputs = {source, net.addConstant(fresh(l.name + "/index"), std::move(iv))};
      g.outputs = {t};
      layers.push_back(std::move(g));
      changed = true;
    }
    // (every layer moved into `layers`, changed or not)
    net.layers() = std::move(layers);
    net.rebuildProducers();
    // The dims these values resolve (Range(0, seq) is [seq]) reach the tensors' shapes, so the
    // passes below can compare them.
    if (changed) TRT_RETURN_IF_ERROR(inferNetworkShapes(net, evaluateOnHost));
    return Status::ok();
  }
};

class DeadCodePass : public Pass {
 public:
  const char* name() const override { return "dead-code"; }
  Status run(Network& net, bool& changed) override {
    std::vector<bool> live(net.tensors().size(), false);
    for (int o : net.outputs()) live[o] = true;
    std::vector<bool> keep(net.layers().size(), false);
    for (int li = static_cast<int>(net.layers().size()) - 1; li >= 0; --li) {
      const Layer& l = net.layers()[li];
      bool used = false;
      for (int o : l.outputs) used = used || live[o];
      if (!used) continue;
      keep[li] = true;
      for (int i : l.inputs)
        if (i >= 0) live[i] = true;
    }
    size_t before = net.tensors().size();
    size_t layersBefore = net.layers().size();
    net.compact(keep);
    changed = net.layers().size() != layersBefore || net.tensors().size() != before;
    return Status::ok();
  }
};

}  // namespace

std::unique_ptr<Pass> makeConstantFoldingPass() {
  return std::make_unique<ConstantFoldingPass>();
}
std::unique_ptr<Pass> makeResolveShapeValuesPass() {
  return std::make_unique<ResolveShapeValuesPass>();
}
std::unique_ptr<Pass> makeDeadCodePass() {
  return std::make_unique<DeadCodePass>();
}

}  // namespace trt
