// Passes that fold cheap per-channel work into the weights of the layer before it.
//
// "fold-pad-into-conv": a zero constant Pad of the spatial dims only, read only by a Conv (explicit
// pads, no auto_pad), becomes part of the Conv's pads:
//     x ─▶ Pad(0; spatial pads p) ─▶ Conv(pads q) ─▶ y      becomes      x ─▶ Conv(pads p + q) ─▶ y
//
// "fold-conv-affine": per-output-channel (or scalar) constant Mul and Add after a Conv become its
// weights and bias:
//     Conv(W, b) ─▶ Mul(s) ─▶ Add(a)      becomes      Conv(s·W, s·b + a)
// with s and a broadcast as [C, 1, ..] or [1, C, 1, ..] (or one value).
//
// "fold-batchnorm": BatchNormalization after Conv or ConvTranspose (per output channel) or after a
// 2-D MatMul/Gemm by a constant matrix (per column) folds into the weights and bias:
//     Conv(W, b) ─▶ BatchNormalization(γ, β, μ, σ²)   becomes   Conv(a·W, a (b − μ) + β),  a = γ / sqrt(σ² +
//     ε)
//
// Each applies only when the intermediate has a single reader and is not a graph output, and every
// folded operand is a float32 constant. The folded layer keeps every origin and is named "a + b".
#include <cmath>

#include "ir/ops/movement_params.h"
#include "passes/pass.h"

namespace trt {
namespace {

// Per-channel values of a constant broadcast against an output [N, C, spatial...] (rank r): a
// scalar, [C, 1, ...] (rank r-1) or [1, C, 1, ...] (rank r). Empty when it is anything else.
std::vector<float> perChannel(const HostTensor& t, int64_t c, size_t rank) {
  const Dims& d = t.dims();
  if (t.numel() == 1) return std::vector<float>(static_cast<size_t>(c), t.as<float>()[0]);
  size_t at = 0;
  if (d.size() == rank) {
    if (d[0] != 1) return {};
    at = 1;
  } else if (d.size() != rank - 1) {
    return {};
  }
  if (d[at] != c) return {};
  for (size_t i = 0; i < d.size(); ++i)
    if (i != at && d[i] != 1) return {};
  return std::vector<float>(t.as<float>(), t.as<float>() + c);
}

void absorb(Layer& into, const Layer& from) {
  into.name += " + " + from.name;
  for (const auto& o : from.origins) into.origins.push_back(o);
  into.outputs = from.outputs;
}

class FoldPadIntoConvPass : public Pass {
 public:
  const char* name() const override { return "fold-pad-into-conv"; }
  Status run(Network& net, bool& changed) override {
    changed = false;
    const std::vector<int> uses = countUses(net);
    std::vector<bool> keep(net.layers().size(), true);
    for (size_t ci = 0; ci < net.layers().size(); ++ci) {
      Layer& conv = net.layers()[ci];
      if (conv.type != "Conv" || conv.inputs.empty()) continue;
      const std::string ap = conv.attrs.getString("auto_pad", "NOTSET");
      if (ap != "NOTSET") continue;
      const int t = conv.inputs[0];
      const int pi = soleProducer(net, uses, keep, t);
      if (pi < 0) continue;
      const Layer& pad = net.layers()[pi];
      if (pad.type != "Pad" || pad.attrs.getString("mode", "constant") != "constant" ||
          pad.attrs.has("input_perm"))  // (a permuted read is not the convolution's own input)
        continue;
      const int x = pad.inputs[0];
      const size_t rank = net.tensor(x).shape.size();
      if (rank < 3 || pad.inputs.size() < 2 || pad.inputs[1] < 0 || !net.tensor(pad.inputs[1]).isConstant())
        continue;
      if (pad.inputs.size() > 2 && pad.inputs[2] >= 0) {  // the fill value must be a constant zero
        const TensorDesc& v = net.tensor(pad.inputs[2]);
        if (!v.isConstant() || v.constant->numel() != 1 || v.constant->doubleAt(0) != 0.0) continue;
      }
      std::vector<int64_t> axes;
      if (pad.inputs.size() > 3 && pad.inputs[3] >= 0) {
        if (!net.tensor(pad.inputs[3]).isConstant()) continue;
        const HostTensor& a = *net.tensor(pad.inputs[3]).constant;
        for (int64_t k = 0; k < a.numel(); ++k) axes.push_back(a.intAt(k));
      }
      const HostTensor& pv = *net.tensor(pad.inputs[1]).constant;
      std::vector<int64_t> raw;
      for (int64_t k = 0; k < pv.numel(); ++k) raw.push_back(pv.intAt(k));
      auto p = resolvePads(static_cast<int>(rank), raw, axes);
      if (!p.isOk()) continue;
      bool ok = (*p)[0] == 0 && (*p)[1] == 0 && (*p)[rank] == 0 && (*p)[rank + 1] == 0;
      for (int64_t v : *p) ok = ok && v >= 0;
      if (!ok) continue;
      const size_t sp = rank - 2;
      std::vector<int64_t> pads = conv.attrs.getInts("pads", std::vector<int64_t>(2 * sp, 0));
      if (pads.size() != 2 * sp) continue;
      for (size_t d = 0; d < sp; ++d) {
        pads[d] += (*p)[2 + d];
        pads[sp + d] += (*p)[rank + 2 + d];
      }
      Layer folded = net.layers()[pi];
      folded.type = conv.type;
      folded.attrs = conv.attrs;
      folded.attrs.set("pads", pads);
      folded.inputs = conv.inputs;
      folded.inputs[0] = x;
      folded.precision = conv.precision;
      absorb(folded, conv);
      keep[pi] = false;
      conv = std::move(folded);
      changed = true;
    }
    if (changed) net.compact(keep);
    return Status::ok();
  }
};

class FoldConvAffinePass : public Pass {
 public:
  const char* name() const override { return "fold-conv-affine"; }
  Status run(Network& net, bool& changed) override {
    changed = false;
    bool again = true;
    while (again) {
      again = false;
      const std::vector<int> uses = countUses(net);
      std::vector<bool> keep(net.layers().size(), true);
      for (size_t li = 0; li < net.layers().size(); ++li) {
        Layer& op = net.layers()[li];
        if ((op.type != "Mul" && op.type != "Add") || op.inputs.size() != 2) continue;
        for (int k = 0; k < 2; ++k) {
          const int t = op.inputs[k];
          const HostTensor* c = floatConstant(net, op.inputs[1 - k]);
          const int ci = soleProducer(net, uses, keep, t);
          if (!c || ci < 0) continue;
          const Layer& conv = net.layers()[ci];
          if (conv.type != "Conv") continue;
          const HostTensor* w = floatConstant(net, conv.inputs[1]);
          const bool hasBias = conv.inputs.size() > 2 && conv.inputs[2] >= 0;
          const HostTensor* b = hasBias ? floatConstant(net, conv.inputs[2]) : nullptr;
          if (!w || (hasBias && !b)) continue;
          const int64_t ch = w->dims()[0];
          const std::vector<float> v = perChannel(*c, ch, net.tensor(t).shape.size());
          if (v.empty()) continue;
          HostTensor w2 = w->clone(), b2(DataType::kFloat32, {ch});
          const int64_t per = w->numel() / ch;
          for (int64_t o = 0; o < ch; ++o) {
            const float bias = b ? b->as<float>()[o] : 0.f;
            if (op.type == "Mul") {
              for (int64_t i = 0; i < per; ++i) w2.as<float>()[o * per + i] *= v[o];
              b2.as<float>()[o] = bias * v[o];
            } else {
              b2.as<float>()[o] = bias + v[o];
            }
          }
          Layer folded = net.layers()[ci];
          folded.inputs.resize(3, kNoTensor);
          if (op.type == "Mul")
            folded.inputs[1] = net.addConstant(folded.name + ".scaled_weight", std::move(w2));
          folded.inputs[2] = net.addConstant(
              folded.name + "." + (op.type == "Mul" ? "scaled_bias" : "shifted_bias"), std::move(b2));
          absorb(folded, net.layers()[li]);
          keep[ci] = false;
          net.layers()[li] = std::move(folded);
          changed = again = true;
          break;
        }
      }
      if (again) net.compact(keep);
    }
    return Status::ok();
  }
};

class FoldBatchNormPass : public Pass {
 public:
  const char* name() const override { return "fold-batchnorm"; }
  Status run(Network& net, bool& changed) override {
    changed = false;
    const std::vector<int> uses = countUses(net);
    std::vector<bool> keep(net.layers().size(), true);
    for (size_t bi = 0; bi < net.layers().size(); ++bi) {
      Layer& bn = net.layers()[bi];
      if (bn.type != "BatchNormalization" || bn.inputs.size() != 5) continue;
      const int t = bn.inputs[0];
      const int pi = soleProducer(net, uses, keep, t);
      if (pi < 0) continue;
      const HostTensor *g = floatConstant(net, bn.inputs[1]), *be = floatConstant(net, bn.inputs[2]),
                       *mu = floatConstant(net, bn.inputs[3]), *var = floatConstant(net, bn.inputs[4]);
      if (!g || !be || !mu || !var) continue;
      const float eps = bn.attrs.getFloat("epsilon", 1e-5f);
      Layer prod = net.layers()[pi];
      const HostTensor* w = prod.inputs.size() > 1 ? floatConstant(net, prod.inputs[1]) : nullptr;
      if (!w) continue;
      const int64_t n = g->numel();
      if (be->numel() != n || mu->numel() != n || var->numel() != n) continue;
      std::vector<float> a(n);
      for (int64_t c = 0; c < n; ++c) a[c] = g->as<float>()[c] / std::sqrt(var->as<float>()[c] + eps);
      HostTensor w2 = w->clone(), b2(DataType::kFloat32, {n});
      auto newBias = [&](const std::vector<float>& old) {
        for (int64_t c = 0; c < n; ++c)
          b2.as<float>()[c] = a[c] * ((old.empty() ? 0.f : old[c]) - mu->as<float>()[c]) + be->as<float>()[c];
      };
      std::vector<float> oldBias;
      if (prod.type == "Conv") {
        // W [Cout, Cin/g, k...]: scale each output channel's filter
        if (w->dims()[0] != n) continue;
        const int64_t per = w->numel() / n;
        for (int64_t c = 0; c < n; ++c)
          for (int64_t i = 0; i < per; ++i) w2.as<float>()[c * per + i] *= a[c];
        if (prod.inputs.size() > 2 && prod.inputs[2] >= 0) {
          const HostTensor* b = floatConstant(net, prod.inputs[2]);
          if (!b) continue;
          oldBias.assign(b->as<float>(), b->as<float>() + n);
        }
        newBias(oldBias);
        prod.inputs.resize(3, kNoTensor);
      } else if (prod.type == "ConvTranspose") {
        // W [Cin, Cout/g, k...]: output channel of (ci, co) is (ci / (Cin/g)) * (Cout/g) + co
        const int64_t group = prod.attrs.getInt("group", 1), cin = w->dims()[0], cog = w->dims()[1];
        if (cog * group != n || cin % group != 0) continue;
        const int64_t per = w->numel() / (cin * cog);
        for (int64_t ci = 0; ci < cin; ++ci)
          for (int64_t co = 0; co < cog; ++co) {
            const float s = a[(ci / (cin / group)) * cog + co];
            for (int64_t i = 0; i < per; ++i) w2.as<float>()[(ci * cog + co) * per + i] *= s;
          }
        if (prod.inputs.size() > 2 && prod.inputs[2] >= 0) {
          const HostTensor* b = floatConstant(net, prod.inputs[2]);
          if (!b) continue;
          oldBias.assign(b->as<float>(), b->as<float>() + n);
        }
        newBias(oldBias);
        prod.inputs.resize(3, kNoTensor);
      } else if ((prod.type == "MatMul" || prod.type == "Gemm") && w->dims().size() == 2 &&
                 net.tensor(t).shape.size() == 2) {
        // per column of the [M, N] product
        const bool transB = prod.type == "Gemm" && prod.attrs.getInt("transB", 0) != 0;
        if (prod.type == "Gemm" &&
            (prod.attrs.getInt("transA", 0) != 0 || prod.attrs.getFloat("alpha", 1.f) != 1.f))
          continue;
        const int64_t K = transB ? w->dims()[1] : w->dims()[0], N = transB ? w->dims()[0] : w->dims()[1];
        if (N != n) continue;
        for (int64_t k = 0; k < K; ++k)
          for (int64_t c = 0; c < N; ++c) w2.as<float>()[transB ? c * K + k : k * N + c] *= a[c];
        if (prod.type == "Gemm" && prod.inputs.size() > 2 && prod.inputs[2] >= 0) {
          const HostTensor* cb = floatConstant(net, prod.inputs[2]);
          if (!cb || cb->numel() != N) continue;  // only a per-column bias folds
          const float beta = prod.attrs.getFloat("beta", 1.f);
          for (int64_t c = 0; c < N; ++c) oldBias.push_back(beta * cb->as<float>()[c]);
        }
        newBias(oldBias);
        if (prod.type == "MatMul") {
          prod.type = "FusedMatMul";  // bias as its third input
        } else {
          prod.attrs.set("beta", 1.f);
        }
        prod.inputs.resize(3, kNoTensor);
      } else {
        continue;
      }
      prod.inputs[1] = net.addConstant(prod.name + ".folded_weight", std::move(w2));
      prod.inputs[2] = net.addConstant(prod.name + ".folded_bias", std::move(b2));
      absorb(prod, bn);
      keep[pi] = false;
      bn = std::move(prod);
      changed = true;
    }
    if (changed) net.compact(keep);
    return Status::ok();
  }
};

}  // namespace

std::unique_ptr<Pass> makeFoldPadIntoConvPass() {
  return std::make_unique<FoldPadIntoConvPass>();
}
std::unique_ptr<Pass> makeFoldConvAffinePass() {
  return std::make_unique<FoldConvAffinePass>();
}
std::unique_ptr<Pass> makeFoldBatchNormPass() {
  return std::make_unique<FoldBatchNormPass>();
}

}  // namespace trt
