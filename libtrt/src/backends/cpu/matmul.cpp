// CPU reference kernels for Gemm, MatMul and Einsum, and the sgemm entry point.
// Layout: dense row-major. Precision: float32 (OpenBLAS sgemm when available, else a plain
// triple loop with float accumulation in k-blocked order).
#include <algorithm>
#include <cmath>
#include <map>

#include "backends/cpu/broadcast.h"
#include "backends/cpu/cpu_kernels.h"
#include "ir/ops/activation.h"
#include "ir/ops/einsum.h"

#ifdef TRT_HAVE_OPENBLAS
#include <cblas.h>
#endif

namespace trt {
namespace cpu {

bool haveBlas() {
#ifdef TRT_HAVE_OPENBLAS
  return true;
#else
  return false;
#endif
}

namespace {
// Set while a "plain" tactic runs: sgemm takes its own loop instead of OpenBLAS.
thread_local bool plainGemm = false;
}  // namespace

void sgemm(bool transA, bool transB, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
           int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  if (m == 0 || n == 0) return;
#ifdef TRT_HAVE_OPENBLAS
  if (k > 0 && !plainGemm) {
    cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                static_cast<blasint>(m), static_cast<blasint>(n), static_cast<blasint>(k), alpha, a,
                static_cast<blasint>(lda), b, static_cast<blasint>(ldb), beta, c, static_cast<blasint>(ldc));
    return;
  }
#endif
  for (int64_t i = 0; i < m; ++i) {
    float* crow = c + i * ldc;
    for (int64_t j = 0; j < n; ++j) crow[j] = beta == 0.f ? 0.f : beta * crow[j];
    for (int64_t p = 0; p < k; ++p) {
      const float av = alpha * (transA ? a[p * lda + i] : a[i * lda + p]);
      if (av == 0.f) continue;
      if (!transB) {
        const float* brow = b + p * ldb;
        for (int64_t j = 0; j < n; ++j) crow[j] += av * brow[j];
      } else {
        for (int64_t j = 0; j < n; ++j) crow[j] += av * b[j * ldb + p];
      }
    }
  }
}

namespace {

using Views = std::vector<TensorView>;

Status gemmKernel(const Layer& l, const Views& in, Views& out) {
  const bool ta = l.attrs.getInt("transA", 0), tb = l.attrs.getInt("transB", 0);
  const float alpha = l.attrs.getFloat("alpha", 1.f), beta = l.attrs.getFloat("beta", 1.f);
  const TensorView &a = in[0], &b = in[1];
  TensorView& y = out[0];
  const int64_t m = y.dims[0], n = y.dims[1], k = ta ? a.dims[0] : a.dims[1];
  float* yp = y.as<float>();
  float cb = 0.f;
  if (in.size() > 2 && in[2].data && beta != 0.f) {
    const TensorView& c = in[2];
    const float* cp = c.as<float>();
    broadcastLoop<1>(y.dims, {c.dims},
                     [&](int64_t i, const std::array<int64_t, 1>& off) { yp[i] = cp[off[0]]; });
    cb = beta;
  }
  sgemm(ta, tb, m, n, k, alpha, a.as<float>(), a.dims[1], b.as<float>(), b.dims[1], cb, yp, n);
  return Status::ok();
}

// MatMul, and the internal attribute alpha (a folded scale: Y = alpha A B).
Status matmulKernel(const Layer& l, const Views& in, Views& out) {
  const float alpha = l.attrs.getFloat("alpha", 1.f);
  const bool tb = l.attrs.getInt("transB", 0) != 0;  // B stored [..., N, K]
  Dims ad = in[0].dims, bd = in[1].dims;
  if (ad.size() == 1) ad.insert(ad.begin(), 1);
  if (bd.size() == 1) bd.push_back(1);
  const int64_t m = ad[ad.size() - 2], k = ad.back(), nb = tb ? bd[bd.size() - 2] : bd.back();
  const int64_t ldb = tb ? k : nb;
  // Internal attribute columns (pad-matmul-n): only B's first `columns` columns are computed.
  const int64_t n = l.attrs.getInt("columns", 0) > 0 ? l.attrs.getInt("columns", 0) : nb;
  Dims ab(ad.begin(), ad.end() - 2), bb(bd.begin(), bd.end() - 2);
  size_t br = std::max(ab.size(), bb.size());
  while (ab.size() < br) ab.insert(ab.begin(), 1);
  while (bb.size() < br) bb.insert(bb.begin(), 1);
  Dims batch(br);
  for (size_t i = 0; i < br; ++i) batch[i] = std::max(ab[i], bb[i]);
  const float* a = in[0].as<float>();
  const float* b = in[1].as<float>();
  float* y = out[0].as<float>();
  if (volume(batch) == 0) return Status::ok();
  // A batch of B shared by every A matrix and A contiguous: one large GEMM over the folded batch.
  if (volume(bb) == 1 && ab == batch) {
    sgemm(false, tb, volume(batch) * m, n, k, alpha, a, k, b, ldb, 0.f, y, n);
    return Status::ok();
  }
  int64_t idx = 0;
  broadcastLoop<2>(batch, {ab, bb}, [&](int64_t o, const std::array<int64_t, 2>& off) {
    sgemm(false, tb, m, n, k, alpha, a + off[0] * m * k, k, b + off[1] * k * nb, ldb, 0.f, y + o * m * n, n);
    ++idx;
  });
  return Status::ok();
}

// Reference einsum: iterates over every combination of labels and accumulates products.
// FusedMatMul: the MatMul above, then bias (per column), Z and the activation in one pass.
Status fusedMatmulKernel(const Layer& l, const Views& in, Views& out) {
  TRT_ASSIGN_OR_RETURN(ActivationSpec act, activationOf(l.attrs));
  Views mm = {in[0], in[1]};
  TRT_RETURN_IF_ERROR(matmulKernel(l, mm, out));
  float* y = out[0].as<float>();
  const float* bias = in.size() > 2 && in[2].data ? in[2].as<float>() : nullptr;
  const float* z = in.size() > 3 && in[3].data ? in[3].as<float>() : nullptr;
  const int64_t n = out[0].numel(), cols = out[0].dims.empty() ? 1 : out[0].dims.back();
#pragma omp parallel for if (n > (1 << 15))
  for (int64_t i = 0; i < n; ++i) {
    float v = y[i];
    if (bias) v += bias[i % cols];
    if (z) v += z[i];
    y[i] = applyActivation(act, v);
  }
  return Status::ok();
}

// MatMulLayerNorm: S = the FusedMatMul above (into output 1 or a scratch buffer), then the
// LayerNormalization kernel over S's last axis.
Status matmulLayerNormKernel(const Layer& l, const Views& in, Views& out) {
  std::vector<float> scratch;
  TensorView sum = out[0];
  if (out.size() > 1 && out[1].data) {
    sum = out[1];
  } else {
    scratch.resize(static_cast<size_t>(out[0].numel()));
    sum.data = scratch.data();
    sum.host = nullptr;
  }
  Views mm = {in[0], in[1], in[2], in[3]}, s = {sum};
  TRT_RETURN_IF_ERROR(fusedMatmulKernel(l, mm, s));
  const KernelEntry* ln = KernelTable::instance().find("LayerNormalization");
  if (!ln || !ln->fn) return makeError(StatusCode::kInternal, "no CPU LayerNormalization kernel");
  Views lnIn = {sum, in[4]}, lnOut = {out[0]};
  if (in.size() > 5 && in[5].data) lnIn.push_back(in[5]);
  return ln->fn(l, lnIn, lnOut);
}

// Attention reference: per batch, head and query row, scores = scale q.k + mask, bool mask ->
// mask_fill, softmax (max-subtracted), then the weighted sum of V rows.
Status attentionKernel(const Layer& l, const Views& in, Views& out) {
  const int64_t H = l.attrs.getInt("num_heads", 0), D = l.attrs.getInt("head_size", 0);
  const bool packed = l.attrs.getInt("packed", 0) != 0;
  const float scale = l.attrs.getFloat("scale", 1.f), fill = l.attrs.getFloat("mask_fill", 0.f);
  const int64_t B = in[0].dims[0], Sq = in[0].dims[1];
  const int64_t Sk = packed ? Sq : in[1].dims[1];
  const int64_t qStride = in[0].dims[2], kvStride = packed ? qStride : H * D;
  const float* q = in[0].as<float>();
  const float* k = packed ? q + H * D : in[1].as<float>();
  const float* v = packed ? q + 2 * H * D : in[2].as<float>();
  auto maskStrides = [&](const TensorView& m) {
    std::vector<int64_t> st(4, 0);
    int64_t s = 1;
    for (int i = static_cast<int>(m.dims.size()) - 1, d = 3; i >= 0; --i, --d) {
      st[d] = m.dims[i] == 1 ? 0 : s;
      s *= m.dims[i];
    }
    return st;
  };
  const bool hasAdd = in.size() > 3 && in[3].data, hasBool = in.size() > 4 && in[4].data;
  const std::vector<int64_t> as = hasAdd ? maskStrides(in[3]) : std::vector<int64_t>(4, 0);
  const std::vector<int64_t> bs = hasBool ? maskStrides(in[4]) : std::vector<int64_t>(4, 0);
  float* y = out[0].as<float>();
#pragma omp parallel for collapse(2) if (B * H * Sq > 64)
  for (int64_t b = 0; b < B; ++b)
    for (int64_t h = 0; h < H; ++h) {
      std::vector<float> p(Sk);
      for (int64_t i = 0; i < Sq; ++i) {
        const float* qi = q + (b * Sq + i) * qStride + h * D;
        float mx = -INFINITY;
        for (int64_t j = 0; j < Sk; ++j) {
          const float* kj = k + (b * Sk + j) * kvStride + h * D;
          float s = 0.f;
          for (int64_t d = 0; d < D; ++d) s += qi[d] * kj[d];
          s *= scale;
          if (hasAdd) s += in[3].as<float>()[b * as[0] + h * as[1] + i * as[2] + j * as[3]];
          if (hasBool &&
              !static_cast<const uint8_t*>(in[4].data)[b * bs[0] + h * bs[1] + i * bs[2] + j * bs[3]])
            s = fill;
          p[j] = s;
          mx = std::max(mx, s);
        }
        float sum = 0.f;
        for (int64_t j = 0; j < Sk; ++j) {
          p[j] = mx == -INFINITY ? 0.f : std::exp(p[j] - mx);
          sum += p[j];
        }
        float* yi = y + (b * Sq + i) * H * D + h * D;
        for (int64_t d = 0; d < D; ++d) yi[d] = 0.f;
        for (int64_t j = 0; j < Sk; ++j) {
          const float w = sum > 0.f ? p[j] / sum : 0.f;
          const float* vj = v + (b * Sk + j) * kvStride + h * D;
          for (int64_t d = 0; d < D; ++d) yi[d] += w * vj[d];
        }
      }
    }
  return Status::ok();
}

Status einsumKernel(const Layer& l, const Views& in, Views& out) {
  TRT_ASSIGN_OR_RETURN(EinsumSpec spec,
                       parseEinsum(l.attrs.getString("equation"), static_cast<int>(in.size())));
  std::map<char, int64_t> size;
  for (size_t i = 0; i < in.size(); ++i)
    for (size_t k = 0; k < spec.inputs[i].size(); ++k)
      size[spec.inputs[i][k]] = std::max(size[spec.inputs[i][k]], in[i].dims[k]);
  std::string labels = spec.output;
  for (auto& kv : size)
    if (spec.output.find(kv.first) == std::string::npos) labels += kv.first;
  std::vector<int64_t> dims;
  for (char c : labels) dims.push_back(size[c]);
  // strides of each operand (and the output) over `labels`; 0 where absent or broadcast
  auto stridesFor = [&](const std::string& opLabels, const Dims& opDims) {
    std::vector<int64_t> st(labels.size(), 0);
    int64_t s = 1;
    for (int k = static_cast<int>(opLabels.size()) - 1; k >= 0; --k) {
      size_t pos = labels.find(opLabels[k]);
      st[pos] = opDims[k] == 1 ? 0 : s;
      s *= opDims[k];
    }
    return st;
  };
  std::vector<std::vector<int64_t>> st;
  for (size_t i = 0; i < in.size(); ++i) st.push_back(stridesFor(spec.inputs[i], in[i].dims));
  std::vector<int64_t> ost = stridesFor(spec.output, out[0].dims);
  float* y = out[0].as<float>();
  std::fill(y, y + out[0].numel(), 0.f);
  int64_t total = 1;
  for (int64_t d : dims) total *= d;
  std::vector<int64_t> idx(labels.size(), 0);
  for (int64_t t = 0; t < total; ++t) {
    int64_t r = t, yo = 0;
    std::vector<int64_t> off(in.size(), 0);
    for (int d = static_cast<int>(labels.size()) - 1; d >= 0; --d) {
      int64_t v = r % dims[d];
      r /= dims[d];
      yo += v * ost[d];
      for (size_t i = 0; i < in.size(); ++i) off[i] += v * st[i][d];
    }
    float p = 1.f;
    for (size_t i = 0; i < in.size(); ++i) p *= in[i].as<float>()[off[i]];
    y[yo] += p;
  }
  return Status::ok();
}

}  // namespace

void registerMatmulKernels(KernelTable& t) {
  const char* blas = haveBlas() ? "_openblas" : "_plain";
  t.add("Gemm", kFloatOnly, gemmKernel, std::string("cpu_gemm") + blas);
  t.add("MatMul", kFloatOnly, matmulKernel, std::string("cpu_matmul") + blas);
  t.add("FusedMatMul", kFloatOnly, fusedMatmulKernel, std::string("cpu_fused_matmul") + blas);
  t.add("MatMulLayerNorm", kFloatOnly, matmulLayerNormKernel, std::string("cpu_matmul_layernorm") + blas);
  if (haveBlas()) {
    // Tactic candidates: the same kernels with sgemm's own loop instead of OpenBLAS (the builder
    // times both; OpenBLAS wins except on tiny products).
    auto plain = [](KernelFn f) {
      return [f](const Layer& l, const Views& in, Views& out) {
        plainGemm = true;
        Status st = f(l, in, out);
        plainGemm = false;
        return st;
      };
    };
    t.addAlternative("MatMul", plain(matmulKernel), "cpu_matmul_plain");
    t.addAlternative("FusedMatMul", plain(fusedMatmulKernel), "cpu_fused_matmul_plain");
  }
  t.add("Attention", kFloatOnly, attentionKernel, "cpu_attention_reference");
  t.add("Einsum", kFloatOnly, einsumKernel, "cpu_einsum_reference");
}

}  // namespace cpu
}  // namespace trt
