// Passes "simplify-shapes", "fold-transpose-into-matmul" and "cse".
//
// simplify-shapes:
//   Reshape whose static output shape equals its static input shape   -> removed
//   Transpose with the identity permutation                            -> removed
//   Transpose(p1) -> Transpose(p2), the first read only by the second  -> one Transpose(p1∘p2),
//                                                                         removed when that is the identity
//   Reshape -> Reshape, the first read only by the second              -> the second reads the first's input
// fold-transpose-into-matmul, fold-transpose-through-reshape: see the classes below.
// cse: equal small constants are merged first; then layers of the same type with the same inputs
//   and attributes compute the same values, and the later one's consumers read the earlier one's
//   outputs.
// Graph outputs are never removed or renamed. Expects inferred shapes (the builder infers them
// before the pipeline).
#include <algorithm>
#include <map>
#include <sstream>

#include "ir/ops/pointwise.h"
#include "passes/pass.h"

namespace trt {
namespace {

// Rewrites inputs through `replace` and drops layers not kept.
void finish(Network& net, std::vector<bool>& keep, const std::vector<int>& replace) {
  for (Layer& l : net.layers())
    for (int& i : l.inputs) {
      while (i >= 0 && replace[i] >= 0) i = replace[i];
    }
  net.compact(keep);
}

class SimplifyShapesPass : public Pass {
 public:
  const char* name() const override { return "simplify-shapes"; }
  Status run(Network& net, bool& changed) override {
    changed = false;
    const std::vector<int> uses = countUses(net);
    std::vector<bool> keep(net.layers().size(), true);
    std::vector<int> replace(net.tensors().size(), -1);
    for (size_t li = 0; li < net.layers().size(); ++li) {
      Layer& l = net.layers()[li];
      for (int& i : l.inputs)
        while (i >= 0 && replace[i] >= 0) i = replace[i];
      if (l.outputs.size() != 1 || net.tensor(l.outputs[0]).isOutput) continue;
      const int in = l.inputs.empty() ? -1 : l.inputs[0], out = l.outputs[0];
      if (in < 0) continue;
      if (l.type == "Reshape" || l.type == "Transpose") {
        std::vector<int64_t> perm = l.attrs.getInts("perm");
        bool identityPerm = l.type == "Transpose" && !perm.empty();
        for (size_t k = 0; k < perm.size(); ++k)
          identityPerm = identityPerm && perm[k] == static_cast<int64_t>(k);
        // (dims with the same symbol are equal at run time; an unnamed dynamic dim proves nothing)
        const Shape& inShape = net.tensor(in).shape;
        const bool named = std::all_of(inShape.begin(), inShape.end(),
                                       [](const Dim& d) { return d.isStatic() || !d.symbol.empty(); });
        const bool sameShape = l.type == "Reshape" && named && inShape == net.tensor(out).shape;
        if (identityPerm || sameShape) {
          replace[out] = in;
          keep[li] = false;
          changed = true;
          continue;
        }
      }
      const int pi = soleProducer(net, uses, keep, in);
      if (pi < 0) continue;
      Layer& prev = net.layers()[pi];
      if (l.type == "Reshape" && prev.type == "Reshape") {
        // The last reshape alone decides the shape, unless it copies dims (0) from its input.
        const int shapeId = l.inputs.size() > 1 ? l.inputs[1] : -1;
        if (shapeId < 0 || !net.tensor(shapeId).isConstant()) continue;
        bool copiesDims = false;
        const HostTensor& sv = *net.tensor(shapeId).constant;
        for (int64_t k = 0; k < sv.numel(); ++k) copiesDims = copiesDims || sv.intAt(k) == 0;
        if (copiesDims && !l.attrs.getInt("allowzero", 0)) continue;
        l.inputs[0] = prev.inputs[0];
        keep[pi] = false;
        changed = true;
      } else if (l.type == "Transpose" && prev.type == "Transpose") {
        const std::vector<int64_t> p1 = prev.attrs.getInts("perm"), p2 = l.attrs.getInts("perm");
        if (p1.empty() || p2.empty() || p1.size() != p2.size()) continue;
        std::vector<int64_t> p(p2.size());
        bool identity = true;
        for (size_t k = 0; k < p2.size(); ++k) {
          p[k] = p1[p2[k]];
          identity = identity && p[k] == static_cast<int64_t>(k);
        }
        keep[pi] = false;
        changed = true;
        if (identity) {
          replace[out] = prev.inputs[0];
          keep[li] = false;
        } else {
          l.inputs[0] = prev.inputs[0];
          l.attrs.set("perm", p);
          l.name = prev.name + " + " + l.name;
          l.origins.insert(l.origins.begin(), prev.origins.begin(), prev.origins.end());
        }
      }
    }
    if (changed) finish(net, keep, replace);
    return Status::ok();
  }
};

// fold-transpose-through-reshape: a Transpose, a Reshape that only splits axes, and a Transpose
// move the data once instead of twice:
//
//     A[S] ─▶ Transpose(P1) ─▶ Reshape(R) ─▶ Transpose(P2) ─▶ y
//   becomes
//     A[S] ─▶ Reshape(R') ─▶ Transpose(P) ─▶ y
//
// R' splits each axis j of A as R splits the axis that P1 moved j to; P sends each output axis to
// the place its factor has in R'. The Reshape to R' is a view. (YOLOv5's Detect head under NHWC:
// the reformat to NCHW, the [B, 3, 85, H, W] view and the permute to [B, 3, H, W, 85] become one
// view of the NHWC output and one Transpose.) The second permutation may also be a Pointwise
// layer's input permutation (fold-transpose-into-pointwise took the Transpose already, before the
// layouts made the first one): the Pointwise layer then reads the view through P, and no Transpose
// runs at all. Static shapes, a constant Reshape target, and each intermediate read by the next
// layer alone.
class FoldTransposeThroughReshapePass : public Pass {
 public:
  const char* name() const override { return "fold-transpose-through-reshape"; }
  Status run(Network& net, bool& changed) override {
    changed = false;
    const std::vector<int> uses = countUses(net);
    std::vector<bool> keep(net.layers().size(), true);
    // The Reshape ri (read by the second permutation p2) and the Transpose before it, if they
    // fold: the Reshape reads the Transpose's input through R', and the composed permutation is
    // returned for the reader to take (its name and origins take the Transpose's).
    auto fold = [&](int ri, const std::vector<int64_t>& p2, Layer& reader) -> std::vector<int64_t> {
      if (ri < 0 || net.layers()[ri].type != "Reshape") return {};
      const Layer& r = net.layers()[ri];
      const int t1i = soleProducer(net, uses, keep, r.inputs[0]);
      if (t1i < 0 || net.layers()[t1i].type != "Transpose" || net.layers()[t1i].attrs.has("to")) return {};
      const Layer& t1 = net.layers()[t1i];
      const int a = t1.inputs[0];
      const std::vector<int64_t> p1 = t1.attrs.getInts("perm");
      const Shape& sa = net.tensor(a).shape;
      const Shape& s1 = net.tensor(t1.outputs[0]).shape;
      const Shape& sr = net.tensor(r.outputs[0]).shape;
      if (!isStatic(sa) || !isStatic(s1) || !isStatic(sr) || p1.size() != sa.size() || p2.size() != sr.size())
        return {};
      const Dims S1 = toDims(s1), R = toDims(sr);
      // R's axes grouped onto S1's: each S1 axis is the product of consecutive R axes.
      std::vector<std::vector<int>> groups(S1.size());
      size_t next = 0;
      bool splitsOnly = true;
      for (size_t i = 0; i < S1.size() && splitsOnly; ++i) {
        int64_t prod = 1;
        if (S1[i] == 1) {
          if (next < R.size() && R[next] == 1) groups[i].push_back(static_cast<int>(next++));
          continue;
        }
        while (prod < S1[i] && next < R.size()) {
          prod *= R[next];
          groups[i].push_back(static_cast<int>(next++));
        }
        splitsOnly = prod == S1[i];
      }
      if (!splitsOnly || next != R.size() || volume(R) == 0) return {};
      // A's axis j is S1's axis inv[j]; R' lists A's axes in order, each split like its S1 axis.
      std::vector<int> inv(p1.size());
      for (size_t i = 0; i < p1.size(); ++i) inv[p1[i]] = static_cast<int>(i);
      std::vector<int64_t> rPrime, offset(p1.size());
      for (size_t j = 0; j < p1.size(); ++j) {
        offset[j] = static_cast<int64_t>(rPrime.size());
        for (int g : groups[inv[j]]) rPrime.push_back(R[g]);
      }
      std::vector<int64_t> pos(R.size());
      for (size_t i = 0; i < groups.size(); ++i)
        for (size_t k = 0; k < groups[i].size(); ++k)
          pos[groups[i][k]] = offset[p1[i]] + static_cast<int64_t>(k);
      std::vector<int64_t> perm(p2.size());
      for (size_t m = 0; m < p2.size(); ++m) perm[m] = pos[p2[m]];
      // The Reshape now reads A with target R'.
      Layer& reshape = net.layers()[ri];
      HostTensor target(DataType::kInt64, {static_cast<int64_t>(rPrime.size())});
      std::copy(rPrime.begin(), rPrime.end(), target.as<int64_t>());
      reshape.inputs = {a, net.addConstant(reshape.name + " (through " + t1.name + ")", std::move(target))};
      net.tensor(reshape.outputs[0]).shape = toShape(rPrime);
      reader.name = t1.name + " + " + (reader.type == "Transpose" ? reshape.name + " + " : "") + reader.name;
      reader.origins.insert(reader.origins.begin(), t1.origins.begin(), t1.origins.end());
      keep[t1i] = false;
      changed = true;
      return perm;
    };
    for (size_t li = 0; li < net.layers().size(); ++li) {
      Layer& l = net.layers()[li];
      if (l.type == "Transpose" && !l.inputs.empty()) {
        const std::vector<int64_t> perm =
            fold(soleProducer(net, uses, keep, l.inputs[0]), l.attrs.getInts("perm"), l);
        if (!perm.empty()) l.attrs.set("perm", perm);
      } else if (l.type == "Pointwise" && l.attrs.has("input_perms")) {
        auto decoded = decodeInputPerms(l, l.inputs.size());
        if (!decoded.isOk()) continue;
        std::vector<std::vector<int>> perms = *decoded;
        bool folded = false;
        for (size_t j = 0; j < l.inputs.size(); ++j) {
          if (perms[j].empty() || std::count(l.inputs.begin(), l.inputs.end(), l.inputs[j]) != 1) continue;
          const std::vector<int64_t> perm = fold(soleProducer(net, uses, keep, l.inputs[j]),
                                                 std::vector<int64_t>(perms[j].begin(), perms[j].end()), l);
          if (perm.empty()) continue;
          perms[j].assign(perm.begin(), perm.end());
          folded = true;
        }
        if (!folded) continue;
        setInputPerms(l, perms);
      }
    }
    if (changed) net.compact(keep);
    return Status::ok();
  }
};

// fuse-cast-transpose: Cast(x -> T) -> Transpose, or Transpose -> Cast(-> T), between float32 and
// float16, the intermediate read by the second layer alone and not a graph output: one Transpose
// of x with the internal attribute "to" = T (its output type), named "a + b". One pass over the
// data instead of two (ResNet-50 FP16 on the H200 at bs32: the input's Cast 22 us, then its NHWC
// reformat 36 us).
class FuseCastTransposePass : public Pass {
 public:
  const char* name() const override { return "fuse-cast-transpose"; }
  Status run(Network& net, bool& changed) override {
    changed = false;
    const std::vector<int> uses = countUses(net);
    std::vector<bool> keep(net.layers().size(), true);
    auto floatPair = [](DataType a, DataType b) {
      return a != b && (a == DataType::kFloat32 || a == DataType::kFloat16) &&
             (b == DataType::kFloat32 || b == DataType::kFloat16);
    };
    for (size_t li = 0; li < net.layers().size(); ++li) {
      Layer& second = net.layers()[li];
      if ((second.type != "Transpose" && second.type != "Cast") || second.inputs.empty()) continue;
      if (second.type == "Transpose" && second.attrs.has("to")) continue;
      const int fi = soleProducer(net, uses, keep, second.inputs[0]);
      if (fi < 0) continue;
      const Layer& first = net.layers()[fi];
      const bool castThenTranspose = first.type == "Cast" && second.type == "Transpose";
      const bool transposeThenCast =
          first.type == "Transpose" && second.type == "Cast" && !first.attrs.has("to");
      if (!castThenTranspose && !transposeThenCast) continue;
      const int x = first.inputs[0];
      const int y = second.outputs[0];
      if (x < 0 || !floatPair(net.tensor(x).type, net.tensor(y).type)) continue;
      Layer fused = castThenTranspose ? second : first;
      fused.inputs = {x};
      fused.outputs = {y};
      fused.attrs.set("to", std::string(dataTypeName(net.tensor(y).type)));
      fused.name = first.name + " + " + second.name;
      fused.origins = first.origins;
      fused.origins.insert(fused.origins.end(), second.origins.begin(), second.origins.end());
      fused.precision = net.tensor(y).type == DataType::kFloat16 ? "fp16" : "fp32";
      second = std::move(fused);
      keep[fi] = false;
      changed = true;
    }
    if (changed) net.compact(keep);
    return Status::ok();
  }
};

// fold-transpose-into-matmul: MatMul(A, Transpose(W)) with the Transpose swapping B's last two
// dims reads W directly with transB = 1 (cuBLASLt and BLAS transpose on the fly). A model that ties
// its LM head to its embedding (GPT-2: logits = h x wte^T) then keeps one copy of the matrix and
// runs no transpose; the Transpose is left to dead-code when nothing else reads it.
class FoldTransposeIntoMatMulPass : public Pass {
 public:
  const char* name() const override { return "fold-transpose-into-matmul"; }
  Status run(Network& net, bool& changed) override {
    changed = false;
    for (Layer& l : net.layers()) {
      if ((l.type != "MatMul" && l.type != "FusedMatMul") || l.inputs.size() < 2 ||
          l.attrs.getInt("transB", 0))
        continue;
      const int b = l.inputs[1];
      const int pi = b >= 0 ? net.tensor(b).producer : -1;
      if (pi < 0) continue;
      const Layer& t = net.layers()[pi];
      if (t.type != "Transpose" || t.inputs.empty() || t.inputs[0] < 0) continue;
      const std::vector<int64_t> perm = t.attrs.getInts("perm");
      const size_t r = perm.size();
      bool swapsLastTwo =
          r >= 2 && perm[r - 1] == static_cast<int64_t>(r - 2) && perm[r - 2] == static_cast<int64_t>(r - 1);
      for (size_t k = 0; swapsLastTwo && k + 2 < r; ++k) swapsLastTwo = perm[k] == static_cast<int64_t>(k);
      if (!swapsLastTwo) continue;
      l.inputs[1] = t.inputs[0];
      l.attrs.set("transB", int64_t{1});
      l.name = t.name + " + " + l.name;
      l.origins.insert(l.origins.begin(), t.origins.begin(), t.origins.end());
      changed = true;
    }
    return Status::ok();
  }
};

// fold-transpose-into-pad: a constant-mode Pad whose data input is a Transpose's output that
// nothing else reads (and no graph output) reads the Transpose's input through the internal
// attribute input_perm (the Transpose's perm) instead: one pass over the data instead of two. The
// layouts' input reformats make this pattern (NCHW -> NHWC, then the RGB channels padded to 4 or
// 8 for the stem): on CUDA one kernel gathers each pixel's channels and stores the padded row.
//
//     x ──▶ Transpose(perm) ──▶ Pad(pads) ──▶ y     becomes     x ──▶ Pad(pads, input_perm) ──▶ y
class FoldTransposeIntoPadPass : public Pass {
 public:
  const char* name() const override { return "fold-transpose-into-pad"; }
  Status run(Network& net, bool& changed) override {
    changed = false;
    const std::vector<int> uses = countUses(net);
    std::vector<bool> keep(net.layers().size(), true);
    for (Layer& l : net.layers()) {
      if (l.type != "Pad" || l.inputs.empty() || l.attrs.has("input_perm") ||
          l.attrs.getString("mode", "constant") != "constant")
        continue;
      int x = -1;
      std::vector<int64_t> perm;
      const int ti = foldableTranspose(net, uses, keep, l.inputs[0], &x, &perm);
      if (ti < 0) continue;
      const Layer& tr = net.layers()[ti];
      l.inputs[0] = x;
      l.attrs.set("input_perm", perm);
      l.name = tr.name + " + " + l.name;
      l.origins.insert(l.origins.begin(), tr.origins.begin(), tr.origins.end());
      keep[ti] = false;
      changed = true;
    }
    if (changed) net.compact(keep);
    return Status::ok();
  }
};

class CsePass : public Pass {
 public:
  const char* name() const override { return "cse"; }
  Status run(Network& net, bool& changed) override {
    changed = false;
    std::vector<bool> keep(net.layers().size(), true);
    std::vector<int> replace(net.tensors().size(), -1);
    // Equal small constants (exporters emit one Constant node per literal) become one tensor, so
    // layers reading them compare equal below.
    std::map<std::string, int> constants;
    for (size_t t = 0; t < net.tensors().size(); ++t) {
      const TensorDesc& d = net.tensors()[t];
      if (!d.isConstant() || d.isOutput || d.constant->numel() > 64) continue;
      std::ostringstream key;
      key << dataTypeName(d.constant->type()) << dimsToString(d.constant->dims()) << ':';
      const auto* bytes = static_cast<const uint8_t*>(d.constant->data());
      for (size_t i = 0; i < d.constant->byteSize(); ++i) key << static_cast<int>(bytes[i]) << '.';
      auto [it, inserted] = constants.emplace(key.str(), static_cast<int>(t));
      if (!inserted) replace[t] = it->second;
    }
    std::map<std::string, int> seen;  // key -> layer index
    for (size_t li = 0; li < net.layers().size(); ++li) {
      Layer& l = net.layers()[li];
      for (int& i : l.inputs)
        while (i >= 0 && replace[i] >= 0) i = replace[i];
      bool graphOutput = false;
      for (int o : l.outputs) graphOutput = graphOutput || net.tensor(o).isOutput;
      std::ostringstream key;
      key << l.type << '|' << l.outputs.size() << '|';
      for (int i : l.inputs) key << i << ',';
      key << '|' << l.attrs.key();
      auto it = seen.find(key.str());
      if (it == seen.end() || graphOutput) {
        seen.emplace(key.str(), static_cast<int>(li));
        continue;
      }
      Layer& first = net.layers()[it->second];
      for (size_t k = 0; k < l.outputs.size(); ++k) replace[l.outputs[k]] = first.outputs[k];
      first.origins.insert(first.origins.end(), l.origins.begin(), l.origins.end());
      keep[li] = false;
      changed = true;
    }
    if (changed) finish(net, keep, replace);
    return Status::ok();
  }
};

}  // namespace

std::unique_ptr<Pass> makeSimplifyShapesPass() {
  return std::make_unique<SimplifyShapesPass>();
}
std::unique_ptr<Pass> makeFoldTransposeIntoMatMulPass() {
  return std::make_unique<FoldTransposeIntoMatMulPass>();
}
std::unique_ptr<Pass> makeFoldTransposeThroughReshapePass() {
  return std::make_unique<FoldTransposeThroughReshapePass>();
}
std::unique_ptr<Pass> makeFuseCastTransposePass() {
  return std::make_unique<FuseCastTransposePass>();
}
std::unique_ptr<Pass> makeFoldTransposeIntoPadPass() {
  return std::make_unique<FoldTransposeIntoPadPass>();
}

std::unique_ptr<Pass> makeCsePass() {
  return std::make_unique<CsePass>();
}

}  // namespace trt
