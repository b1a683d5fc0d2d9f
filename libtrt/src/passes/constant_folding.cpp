// Constant folding (see pass.h).
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
std::unique_ptr<Pass> makeDeadCodePass() {
  return std::make_unique<DeadCodePass>();
}

}  // namespace trt
