// pad-matmul-n: a MatMul by a constant matrix whose output width N is not a multiple of 8 gets a
// weight with zero columns up to N' = round8(N) and the internal attribute columns = N: the
// output is still the first N columns (shape inference and the CPU kernel read the attribute),
// while the CUDA MatMul runs its GEMM N' wide into the workspace and copies (or widens to FP32)
// the first N columns into the output:
//
//     x ──▶ MatMul(W: N columns) ──▶ y     becomes     x ──▶ MatMul(W': N' columns, columns=N) ──▶ y
//
// Why: cuBLASLt's tensor-core kernels need 16-byte aligned rows; with N = 50257 (GPT-2's LM head)
// the H200 ran that GEMM 8x slower than with N = 50264 (PyTorch's F.linear: 1.88 vs 0.24 ms at
// 2048 x 768 x N), far more than the copy costs. The builder runs this pass for CUDA
// engines only (the CPU's OpenBLAS has no such cliff).
//
// Conditions: W is a float constant of rank 2 (stored [N, K] when the MatMul has transB, else
// [K, N]); N >= 64; a FusedMatMul's bias is a constant (padded with zeros) and it has no residual
// input. W's other readers may only be Gathers along axis 0 of a [N, K] table (GPT-2's tied
// embedding): they read the padded table too, so the weights stay stored once, with the internal
// attribute axis_size = N, by which indices wrap and are checked (the CPU and CUDA Gathers).
#include "passes/pass.h"

namespace trt {
namespace {

int64_t round8(int64_t n) {
  return (n + 7) / 8 * 8;
}

// W padded along its N axis (rows when transB, columns otherwise) with zeros.
HostTensor padWeight(const HostTensor& w, bool transB, int64_t n) {
  const int64_t r = w.dims()[0], c = w.dims()[1];
  HostTensor p(DataType::kFloat32, transB ? Dims{n, c} : Dims{r, n});
  float* dst = p.as<float>();
  std::fill(dst, dst + p.numel(), 0.f);
  const float* src = w.as<float>();
  const int64_t ld = transB ? c : n;
  for (int64_t i = 0; i < r; ++i) std::copy(src + i * c, src + (i + 1) * c, dst + i * ld);
  return p;
}

class PadMatMulNPass : public Pass {
 public:
  const char* name() const override { return "pad-matmul-n"; }
  Status run(Network& net, bool& changed) override {
    changed = false;
    for (size_t li = 0; li < net.layers().size(); ++li) {
      if (!eligible(net, li)) continue;
      Layer& l = net.layers()[li];
      const bool transB = l.attrs.getInt("transB", 0) != 0;
      const int w = l.inputs[1];
      const HostTensor& wt = *net.tensor(w).constant;
      const int64_t n = transB ? wt.dims()[0] : wt.dims()[1], np = round8(n);
      auto padded = std::make_shared<HostTensor>(padWeight(wt, transB, np));
      net.tensor(w).constant = padded;
      net.tensor(w).shape = toShape(padded->dims());
      for (Layer& g : net.layers())
        if (g.type == "Gather" && !g.inputs.empty() && g.inputs[0] == w) g.attrs.set("axis_size", n);
      if (l.type == "FusedMatMul" && l.inputs.size() > 2 && l.inputs[2] >= 0) {
        const HostTensor& b = *net.tensor(l.inputs[2]).constant;
        HostTensor pb(DataType::kFloat32, {np});
        std::fill(pb.as<float>(), pb.as<float>() + np, 0.f);
        std::copy(b.as<float>(), b.as<float>() + n, pb.as<float>());
        l.inputs[2] = net.addConstant(net.tensor(l.inputs[2]).name + "__pad8", std::move(pb));
      }
      l.attrs.set("columns", n);
      changed = true;
    }
    return Status::ok();
  }

 private:
  static bool eligible(const Network& net, size_t li) {
    const Layer& l = net.layers()[li];
    if ((l.type != "MatMul" && l.type != "FusedMatMul") || l.inputs.size() < 2 || l.outputs.size() != 1 ||
        l.attrs.getInt("columns", 0) > 0)
      return false;
    if (l.type == "FusedMatMul" && l.inputs.size() > 3 && l.inputs[3] >= 0) return false;  // residual
    const HostTensor* w = floatConstant(net, l.inputs[1]);
    if (!w || w->dims().size() != 2) return false;
    const bool transB = l.attrs.getInt("transB", 0) != 0;
    const int64_t n = transB ? w->dims()[0] : w->dims()[1];
    if (n < 64 || n % 8 == 0) return false;
    const TensorDesc& y = net.tensor(l.outputs[0]);
    if (y.shape.empty() || !y.shape.back().isStatic() || y.shape.back().value != n) return false;
    if (l.type == "FusedMatMul" && l.inputs.size() > 2 && l.inputs[2] >= 0) {
      const HostTensor* b = floatConstant(net, l.inputs[2]);
      if (!b || b->numel() != n) return false;
    }
    // Other readers of W: only row Gathers of a [N, K] table.
    for (size_t oi = 0; oi < net.layers().size(); ++oi) {
      const Layer& o = net.layers()[oi];
      if (oi == li) continue;
      for (size_t k = 0; k < o.inputs.size(); ++k) {
        if (o.inputs[k] != l.inputs[1]) continue;
        if (!transB || o.type != "Gather" || k != 0 || o.attrs.getInt("axis", 0) != 0) return false;
      }
    }
    return !net.tensor(l.inputs[1]).isOutput;
  }
};

}  // namespace

std::unique_ptr<Pass> makePadMatMulNPass() {
  return std::make_unique<PadMatMulNPass>();
}

}  // namespace trt
