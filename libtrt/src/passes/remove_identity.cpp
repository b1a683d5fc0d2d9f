// Pass "remove-identity" (fold-batchnorm and the other folds into weights are in fold_affine.cpp).
#include "passes/pass.h"

namespace trt {
namespace {

// Pass "remove-identity": Identity, Dropout (inference) and a Cast to the type its input already
// has pass their input through; consumers read the input directly. Kept when the output is a graph
// output.
class RemoveIdentityPass : public Pass {
 public:
  const char* name() const override { return "remove-identity"; }
  Status run(Network& net, bool& changed) override {
    changed = false;
    std::vector<bool> keep(net.layers().size(), true);
    std::vector<int> replace(net.tensors().size(), -1);
    for (size_t li = 0; li < net.layers().size(); ++li) {
      Layer& l = net.layers()[li];
      for (int& i : l.inputs)
        if (i >= 0 && replace[i] >= 0) i = replace[i];
      const bool sameTypeCast = l.type == "Cast" && !l.inputs.empty() && l.inputs[0] >= 0 &&
                                l.attrs.getString("to") == dataTypeName(net.tensor(l.inputs[0]).type);
      if ((l.type != "Identity" && l.type != "Dropout" && !sameTypeCast) || l.outputs.size() != 1) continue;
      const int out = l.outputs[0];
      if (net.tensor(out).isOutput) continue;
      replace[out] = l.inputs[0];
      keep[li] = false;
      changed = true;
    }
    if (changed) net.compact(keep);
    return Status::ok();
  }
};

}  // namespace

std::unique_ptr<Pass> makeRemoveIdentityPass() {
  return std::make_unique<RemoveIdentityPass>();
}

}  // namespace trt
