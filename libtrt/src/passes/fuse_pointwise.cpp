// fuse-pointwise: connected elementwise layers become one Pointwise layer (ir/ops/pointwise.h).
//
//   a ──▶ Sigmoid ──▶ Mul(·, 2) ──▶ Sub(·, 0.5) ──▶ Add(·, grid) ──▶ Mul(·, stride) ──▶ y
//                    becomes   a, 2, 0.5, grid, stride ──▶ [Pointwise] ──▶ y
//
// Groups grow backwards from a sink (the last elementwise layer of a group, in execution order):
// the producer of a member's input joins when it is elementwise on float32 and every reader of
// its output is a member already (and it is no graph output), so no intermediate value is needed
// outside the group and the group is convex. Leaves (the inputs from outside, constants included)
// are read once each, broadcast to the output shape; every member's value broadcasts into the
// sink's, so evaluating the whole expression per output element is exact. A group needs two or
// more members, at most 8 leaves and 16 members (the kernels' limits); a larger one is left alone.
// The fused layer is named "a + b + c" after its members and keeps their origins.
#include <algorithm>
#include <limits>
#include <map>
#include <set>

#include "ir/ops/pointwise.h"
#include "passes/pass.h"

namespace trt {
namespace {

// The op code and its two parameters for a fusible layer; false when the layer is not one.
bool encode(const Network& net, const Layer& l, PwOp& op, float& p0, float& p1) {
  if (l.outputs.size() != 1 || l.inputs.empty()) return false;
  auto isFloat = [&](int t) { return t >= 0 && net.tensor(t).type == DataType::kFloat32; };
  if (!isFloat(l.outputs[0])) return false;
  p0 = p1 = 0.f;
  // Gelu and Clip take their form and bounds from attributes and inputs (below).
  PwOp named;
  const bool simple = l.type != "Gelu" && l.type != "Clip" && pwOpFromName(l.type, named);
  if (simple && pwIsBinary(named)) {
    if (l.inputs.size() != 2 || !isFloat(l.inputs[0]) || !isFloat(l.inputs[1])) return false;
    op = named;
    return true;
  }
  if (!isFloat(l.inputs[0])) return false;
  if (simple) {
    if (l.inputs.size() != 1) return false;
    op = named;
    if (op == PwOp::kLeakyRelu) p0 = l.attrs.getFloat("alpha", 0.01f);
    if (op == PwOp::kElu) p0 = l.attrs.getFloat("alpha", 1.f);
    if (op == PwOp::kHardSigmoid) {
      p0 = l.attrs.getFloat("alpha", 0.2f);
      p1 = l.attrs.getFloat("beta", 0.5f);
    }
    return true;
  }
  if (l.type == "Gelu" && l.inputs.size() == 1) {
    op = l.attrs.getString("approximate", "none") == "tanh" ? PwOp::kGeluTanh : PwOp::kGeluErf;
    return true;
  }
  if (l.type == "Clip") {
    // Bounds: absent, or scalar float constants (they become the instruction's parameters).
    p0 = -std::numeric_limits<float>::infinity();
    p1 = std::numeric_limits<float>::infinity();
    for (size_t k = 1; k < l.inputs.size() && k < 3; ++k) {
      if (l.inputs[k] < 0) continue;
      const HostTensor* c = floatConstant(net, l.inputs[k]);
      if (!c || c->numel() != 1) return false;
      (k == 1 ? p0 : p1) = c->as<float>()[0];
    }
    if (l.inputs.size() > 3) return false;
    op = PwOp::kClip;
    return true;
  }
  return false;
}

class FusePointwisePass : public Pass {
 public:
  const char* name() const override { return "fuse-pointwise"; }
  Status run(Network& net, bool& changed) override {
    changed = false;
    const int nl = static_cast<int>(net.layers().size());
    std::vector<std::vector<int>> readers(net.tensors().size());
    for (int li = 0; li < nl; ++li)
      for (int t : net.layers()[li].inputs)
        if (t >= 0 && (readers[t].empty() || readers[t].back() != li)) readers[t].push_back(li);
    std::vector<bool> fusible(nl, false), taken(nl, false);
    std::vector<PwOp> ops(nl);
    std::vector<std::pair<float, float>> params(nl);
    for (int li = 0; li < nl; ++li)
      fusible[li] = encode(net, net.layers()[li], ops[li], params[li].first, params[li].second);
    struct Group {
      std::vector<int> members;  // ascending layer index; the last is the sink
      std::vector<int> leaves;   // tensor ids, first-use order
    };
    std::vector<Group> groups;
    for (int sink = nl - 1; sink >= 0; --sink) {
      if (!fusible[sink] || taken[sink]) continue;
      std::set<int> members = {sink};
      for (bool grew = true; grew;) {  // to a fixpoint: a producer may join once its other readers have
        grew = false;
        for (int m : std::vector<int>(members.begin(), members.end()))
          for (int t : net.layers()[m].inputs) {
            const int p = t >= 0 ? net.tensor(t).producer : -1;
            if (p < 0 || members.count(p) || !fusible[p] || taken[p] || net.tensor(t).isOutput) continue;
            bool inside = true;
            for (int r : readers[t]) inside = inside && members.count(r);
            if (!inside) continue;
            members.insert(p);
            grew = true;
          }
      }
      if (members.size() < 2 || members.size() > static_cast<size_t>(kPwMaxInstructions)) continue;
      Group g;
      g.members.assign(members.begin(), members.end());
      std::set<int> produced;
      for (int m : g.members) produced.insert(net.layers()[m].outputs[0]);
      for (int m : g.members) {
        const Layer& l = net.layers()[m];
        const size_t operands = pwIsBinary(ops[m]) ? 2 : 1;
        for (size_t k = 0; k < operands; ++k)
          if (!produced.count(l.inputs[k]) &&
              std::find(g.leaves.begin(), g.leaves.end(), l.inputs[k]) == g.leaves.end())
            g.leaves.push_back(l.inputs[k]);
      }
      if (g.leaves.size() > static_cast<size_t>(kPwMaxInputs)) continue;
      for (int m : g.members) taken[m] = true;
      groups.push_back(std::move(g));
    }
    if (groups.empty()) return Status::ok();
    // One Pointwise layer per group, in the sink's place.
    std::map<int, Layer> replacement;  // sink index -> fused layer
    std::set<int> removed;
    for (const Group& g : groups) {
      Layer f;
      f.type = "Pointwise";
      f.inputs = g.leaves;
      f.outputs = {net.layers()[g.members.back()].outputs[0]};
      std::map<int, int> reg;  // tensor -> register
      for (size_t j = 0; j < g.leaves.size(); ++j) reg[g.leaves[j]] = static_cast<int>(j);
      std::vector<int64_t> code;
      std::vector<float> ps;
      std::map<int, std::string> text;  // tensor -> expression
      for (size_t j = 0; j < g.leaves.size(); ++j) text[g.leaves[j]] = "x" + std::to_string(j);
      for (size_t i = 0; i < g.members.size(); ++i) {
        const int m = g.members[i];
        const Layer& l = net.layers()[m];
        const bool bin = pwIsBinary(ops[m]);
        code.push_back(static_cast<int64_t>(ops[m]));
        code.push_back(reg.at(l.inputs[0]));
        code.push_back(bin ? reg.at(l.inputs[1]) : -1);
        ps.push_back(params[m].first);
        ps.push_back(params[m].second);
        reg[l.outputs[0]] = static_cast<int>(g.leaves.size() + i);
        text[l.outputs[0]] = std::string(pwOpName(ops[m])) + "(" + text.at(l.inputs[0]) +
                             (bin ? ", " + text.at(l.inputs[1]) : std::string()) + ")";
        f.name += (i ? " + " : "") + l.name;
        f.origins.insert(f.origins.end(), l.origins.begin(), l.origins.end());
        if (i + 1 < g.members.size()) removed.insert(m);
      }
      f.attrs.set("program", code);
      f.attrs.set("params", ps);
      f.attrs.set("expression", text.at(f.outputs[0]));
      replacement[g.members.back()] = std::move(f);
    }
    std::vector<Layer> layers = std::move(net.layers());
    net.layers().clear();
    for (int li = 0; li < nl; ++li) {
      if (removed.count(li)) continue;
      auto r = replacement.find(li);
      net.addLayer(r != replacement.end() ? std::move(r->second) : std::move(layers[li]));
    }
    net.rebuildProducers();
    changed = true;
    return Status::ok();
  }
};

}  // namespace

std::unique_ptr<Pass> makeFusePointwisePass() {
  return std::make_unique<FusePointwisePass>();
}

}  // namespace trt
