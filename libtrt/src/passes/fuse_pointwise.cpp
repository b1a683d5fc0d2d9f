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
#include <cstdint>
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

// fuse-piecewise: a Split whose pieces each go through elementwise ops (or none) and meet again
// in a Concat along the same axis, in order, becomes one Pointwise layer with pieces
// (ir/ops/pointwise.h) — YOLOv5's Detect decode: xy, wh and the class scores of each anchor
// decoded differently and concatenated back.
//
//   x ─▶ Split(axis a) ─┬▶ s0 ─▶ [f0 with leaves L0] ─┐
//                       ├▶ s1 ─▶ [f1 with leaves L1] ─┼▶ Concat(axis a) ─▶ y
//                       └▶ s2 ────────────────────────┘
//   becomes   x, L0, L1 ─▶ [Pointwise, pieces along a: f0 | f1 | identity] ─▶ y
//
// Each piece's ops are a Pointwise layer or one elementwise layer (fuse-pointwise leaves single
// ops alone) reading its piece once and nothing else of the Split; every intermediate has one
// reader. A leaf whose size along a is the piece's (not 1) is read within the piece (a piece
// input); others broadcast over the whole output. Static shapes, axis a > 0 (batch chunks cut axis
// 0), at most 8 pieces, inputs and 16 instructions in all.
class FusePiecewisePass : public Pass {
  // A piece op's instructions in the fused program: the first, how many, and its input registers
  // (its leaves) as the fused layer's inputs.
  struct PieceOp {
    int start, count, inputs;
    std::vector<int> reg;
  };

 public:
  const char* name() const override { return "fuse-piecewise"; }
  Status run(Network& net, bool& changed) override {
    changed = false;
    bool again = true;
    while (again) {
      again = false;
      const std::vector<int> uses = countUses(net);
      for (size_t ci = 0; ci < net.layers().size() && !again; ++ci) {
        if (net.layers()[ci].type != "Concat") continue;
        Layer fused;
        std::vector<int> drop;
        if (match(net, uses, static_cast<int>(ci), fused, drop)) {
          std::vector<bool> keep(net.layers().size(), true);
          for (int d : drop) keep[d] = false;
          net.layers()[ci] = std::move(fused);
          net.compact(keep);
          changed = again = true;
        }
      }
    }
    return Status::ok();
  }

 private:
  static int axisOf(const Layer& l, size_t rank) {
    int64_t a = l.attrs.getInt("axis", 0);
    if (a < 0) a += static_cast<int64_t>(rank);
    return a >= 0 && a < static_cast<int64_t>(rank) ? static_cast<int>(a) : -1;
  }

  // The Concat at `ci` as a piecewise Pointwise layer in `fused`, the layers it replaces in `drop`.
  bool match(const Network& net, const std::vector<int>& uses, int ci, Layer& fused, std::vector<int>& drop) {
    const Layer& cat = net.layers()[ci];
    if (cat.outputs.size() != 1 || cat.inputs.size() < 2 ||
        cat.inputs.size() > static_cast<size_t>(kPwMaxPieces))
      return false;
    const TensorDesc& y = net.tensor(cat.outputs[0]);
    if (!isStatic(y.shape) || y.type != DataType::kFloat32) return false;
    const size_t rank = y.shape.size();
    const int axis = axisOf(cat, rank);
    if (axis <= 0) return false;
    // Each piece: the piece tensor of the Split and the layer applied to it (-1: none).
    const size_t n = cat.inputs.size();
    int split = -1;
    std::vector<int> op(n, -1), piece(n, -1);
    for (size_t i = 0; i < n; ++i) {
      const int u = cat.inputs[i];
      if (u < 0 || uses[u] != 1 || net.tensor(u).isOutput) return false;
      int p = net.tensor(u).producer;
      if (p < 0) return false;
      if (net.layers()[p].type != "Split") {
        const Layer& f = net.layers()[p];
        PwOp code;
        float p0 = 0, p1 = 0;
        if (f.outputs.size() != 1 || (f.type != "Pointwise" && !encode(net, f, code, p0, p1))) return false;
        op[i] = p;
        for (int t : f.inputs) {
          const int q = t >= 0 ? net.tensor(t).producer : -1;
          if (q >= 0 && net.layers()[q].type == "Split") {
            if (piece[i] >= 0) return false;  // two pieces read
            piece[i] = t;
          }
        }
        if (piece[i] < 0) return false;
        p = net.tensor(piece[i]).producer;
        if (uses[piece[i]] != 1 || net.tensor(piece[i]).isOutput) return false;
      } else {
        piece[i] = u;
      }
      if (split >= 0 && p != split) return false;
      split = p;
    }
    const Layer& sp = net.layers()[split];
    if (sp.outputs.size() != n || sp.inputs.empty() || sp.inputs[0] < 0) return false;
    const TensorDesc& x = net.tensor(sp.inputs[0]);
    if (!isStatic(x.shape) || x.shape.size() != rank || axisOf(sp, rank) != axis || x.type != y.type)
      return false;
    for (size_t d = 0; d < rank; ++d)
      if (x.shape[d].value != y.shape[d].value) return false;
    std::vector<int64_t> ends;
    for (size_t i = 0; i < n; ++i) {
      if (sp.outputs[i] != piece[i]) return false;  // in order, each piece once
      const Shape& ps = net.tensor(piece[i]).shape;
      ends.push_back((ends.empty() ? 0 : ends.back()) + ps[axis].value);
      if (op[i] >= 0) {  // the piece's op keeps the piece's shape
        const Shape& os = net.tensor(net.layers()[op[i]].outputs[0]).shape;
        if (os.size() != rank || os[axis].value != ps[axis].value) return false;
      }
    }
    if (ends.back() != x.shape[axis].value) return false;
    // Inputs: x first (whole), then each piece's leaves; the program: each piece's instructions.
    fused = Layer();
    fused.type = "Pointwise";
    fused.inputs = {sp.inputs[0]};
    std::vector<int64_t> inputPiece = {-1}, code, results;
    std::vector<float> params;
    auto inputOf = [&](int t, int64_t pc) -> int {
      for (size_t j = 0; j < fused.inputs.size(); ++j)
        if (fused.inputs[j] == t && inputPiece[j] == pc) return static_cast<int>(j);
      fused.inputs.push_back(t);
      inputPiece.push_back(pc);
      return static_cast<int>(fused.inputs.size() - 1);
    };
    std::vector<PieceOp> pieceOps;  // how to renumber each piece op's instructions
    for (size_t i = 0; i < n; ++i) {
      if (op[i] < 0) {
        results.push_back(0);  // x itself
        continue;
      }
      const Layer& f = net.layers()[op[i]];
      std::vector<PwInstr> prog;
      if (f.type == "Pointwise") {
        auto decoded = decodePointwise(f, static_cast<int>(f.inputs.size()));
        if (!decoded.isOk() || f.attrs.has("piece_axis")) return false;
        prog = *decoded;
      } else {
        PwInstr one;
        if (!encode(net, f, one.op, one.p0, one.p1)) return false;
        one.a = 0;
        one.b = pwIsBinary(one.op) ? 1 : -1;
        prog = {one};
      }
      // the op's registers -> the fused layer's
      std::vector<int> reg;
      const int64_t len = ends[i] - (i ? ends[i - 1] : 0);
      const size_t opInputs = f.type == "Pointwise" ? f.inputs.size() : (pwIsBinary(prog[0].op) ? 2 : 1);
      for (size_t k = 0; k < opInputs; ++k) {
        const int t = f.inputs[k];
        if (t == piece[i]) {
          reg.push_back(0);
          continue;
        }
        const Shape& ts = net.tensor(t).shape;
        if (!isStatic(ts) || ts.size() > rank) return false;
        const size_t at = axis + ts.size() >= rank ? axis + ts.size() - rank : SIZE_MAX;  // the leaf's axis
        const bool perPiece = at != SIZE_MAX && at < ts.size() && ts[at].value != 1;
        if (perPiece && ts[at].value != len) return false;
        reg.push_back(inputOf(t, perPiece ? static_cast<int64_t>(i) : -1));
        if (fused.inputs.size() > static_cast<size_t>(kPwMaxInputs)) return false;
      }
      const int start = static_cast<int>(code.size() / 3);
      for (const PwInstr& in : prog) {
        code.push_back(static_cast<int64_t>(in.op));
        code.push_back(in.a);  // placeholders: registers are renumbered below
        code.push_back(in.b);
        params.push_back(in.p0);
        params.push_back(in.p1);
      }
      pieceOps.push_back({start, static_cast<int>(prog.size()), static_cast<int>(opInputs), reg});
      results.push_back(-1 - static_cast<int64_t>(pieceOps.size() - 1));  // the op's last register
    }
    const int instructions = static_cast<int>(code.size() / 3);
    if (instructions < 1 || instructions > kPwMaxInstructions) return false;
    const int numInputs = static_cast<int>(fused.inputs.size());
    for (const PieceOp& po : pieceOps) {
      auto renumber = [&](int64_t r) -> int64_t {
        if (r < 0) return r;
        if (r < po.inputs) return po.reg[r];
        return numInputs + po.start + (r - po.inputs);
      };
      for (int k = 0; k < po.count; ++k) {
        code[3 * (po.start + k) + 1] = renumber(code[3 * (po.start + k) + 1]);
        code[3 * (po.start + k) + 2] = renumber(code[3 * (po.start + k) + 2]);
      }
    }
    for (int64_t& r : results)
      if (r < 0) {
        const PieceOp& po = pieceOps[static_cast<size_t>(-1 - r)];
        r = numInputs + po.start + po.count - 1;
      }
    fused.outputs = cat.outputs;
    fused.attrs.set("program", code);
    fused.attrs.set("params", params);
    fused.attrs.set("piece_axis", static_cast<int64_t>(axis));
    fused.attrs.set("piece_ends", ends);
    fused.attrs.set("piece_results", results);
    fused.attrs.set("piece_inputs", inputPiece);
    std::string expr;
    for (size_t i = 0; i < n; ++i) {
      const Layer* f = op[i] >= 0 ? &net.layers()[op[i]] : nullptr;
      expr += (i ? " | " : "") +
              (f ? (f->type == "Pointwise" ? f->attrs.getString("expression", f->type) : f->type)
                 : std::string("x"));
    }
    fused.attrs.set("expression", "pieces along axis " + std::to_string(axis) + ": " + expr);
    fused.name = sp.name;
    fused.origins = sp.origins;
    drop = {split};
    for (size_t i = 0; i < n; ++i)
      if (op[i] >= 0) {
        const Layer& f = net.layers()[op[i]];
        fused.name += " + " + f.name;
        fused.origins.insert(fused.origins.end(), f.origins.begin(), f.origins.end());
        drop.push_back(op[i]);
      }
    fused.name += " + " + cat.name;
    fused.origins.insert(fused.origins.end(), cat.origins.begin(), cat.origins.end());
    return true;
  }
};

// fold-transpose-into-pointwise: a Transpose whose only reader is a Pointwise layer becomes that
// input's permutation ("input_perms"): the Pointwise layer reads the Transpose's input through
// strides, and the copy goes (YOLOv5's Detect head: each scale's NHWC convolution output viewed as
// [1, H, W, 3, 85] and permuted to [1, 3, H, W, 85] before the decode).
//   x ─▶ Transpose(perm) ─▶ t ─▶ Pointwise(.., t, ..)     becomes     x ─▶ Pointwise(.., x^perm, ..)
// Not a converting Transpose (the internal `to`), nor one whose output is a graph output or read
// elsewhere.
class FoldTransposeIntoPointwisePass : public Pass {
 public:
  const char* name() const override { return "fold-transpose-into-pointwise"; }
  Status run(Network& net, bool& changed) override {
    changed = false;
    const std::vector<int> uses = countUses(net);
    std::vector<bool> keep(net.layers().size(), true);
    for (size_t pi = 0; pi < net.layers().size(); ++pi) {
      Layer& p = net.layers()[pi];
      if (p.type != "Pointwise") continue;
      std::vector<size_t> ranks;
      for (int t : p.inputs) ranks.push_back(t >= 0 ? net.tensor(t).shape.size() : 0);
      auto decoded = decodeInputPerms(p, ranks);
      if (!decoded.isOk()) continue;
      std::vector<std::vector<int>> perms = *decoded;
      bool folded = false;
      for (size_t j = 0; j < p.inputs.size(); ++j) {
        if (!perms[j].empty()) continue;
        int x = -1;
        std::vector<int64_t> perm;
        const int ti = foldableTranspose(net, uses, keep, p.inputs[j], &x, &perm);
        if (ti < 0) continue;
        const Layer& tr = net.layers()[ti];
        perms[j].assign(perm.begin(), perm.end());
        p.inputs[j] = x;
        p.name = tr.name + " + " + p.name;
        p.origins.insert(p.origins.begin(), tr.origins.begin(), tr.origins.end());
        keep[ti] = false;
        folded = true;
      }
      if (!folded) continue;
      setInputPerms(p, perms);
      changed = true;
    }
    if (changed) net.compact(keep);
    return Status::ok();
  }
};

}  // namespace

std::unique_ptr<Pass> makeFusePointwisePass() {
  return std::make_unique<FusePointwisePass>();
}

std::unique_ptr<Pass> makeFusePiecewisePass() {
  return std::make_unique<FusePiecewisePass>();
}

std::unique_ptr<Pass> makeFoldTransposeIntoPointwisePass() {
  return std::make_unique<FoldTransposeIntoPointwisePass>();
}

}  // namespace trt
