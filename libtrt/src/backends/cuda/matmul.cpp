// CUDA layer implementations of MatMul and Gemm through cuBLASLt, and the reference Einsum kernel.
// Layout: row-major tensors mapped onto cuBLASLt's column-major view (C^T = B^T A^T), FP32 with
// FP32 compute (TF32 off). Broadcast batches become strided-batched calls with zero strides, or
// one call per batch where strides cannot express the broadcast.
#include <cublasLt.h>

#include <algorithm>
#include <map>

#include "backends/cuda/cuda_util.h"
#include "ir/ops/einsum.h"

namespace trt {
namespace cuda {
namespace {

using Views = std::vector<TensorView>;

constexpr size_t kLtWorkspace = size_t{32} << 20;

struct LtDesc {
  cublasLtMatmulDesc_t op = nullptr;
  cublasLtMatrixLayout_t a = nullptr, b = nullptr, c = nullptr;
  ~LtDesc() {
    if (op) cublasLtMatmulDescDestroy(op);
    if (a) cublasLtMatrixLayoutDestroy(a);
    if (b) cublasLtMatrixLayoutDestroy(b);
    if (c) cublasLtMatrixLayoutDestroy(c);
  }
};

Status setBatch(cublasLtMatrixLayout_t l, int batch, int64_t stride) {
  if (batch <= 1) return Status::ok();
  TRT_CUBLAS_CHECK(cublasLtMatrixLayoutSetAttribute(l, CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT, &batch, sizeof(batch)));
  TRT_CUBLAS_CHECK(cublasLtMatrixLayoutSetAttribute(l, CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET, &stride, sizeof(stride)));
  return Status::ok();
}

// Row-major Y[M,N] (batch of `batch`) = alpha * op(A)[M,K] op(B)[K,N] + beta * Y.
// A is stored [M,K] (or [K,M] when transA); B is stored [K,N] (or [N,K] when transB).
Status gemmRowMajor(const float* A, const float* B, float* Y, int64_t M, int64_t N, int64_t K, bool transA, bool transB,
                    float alpha, float beta, int batch, int64_t strideA, int64_t strideB, int64_t strideY,
                    void* workspace, cudaStream_t s) {
  TRT_ASSIGN_OR_RETURN(cublasLtHandle_t h, cublasLt());
  LtDesc d;
  TRT_CUBLAS_CHECK(cublasLtMatmulDescCreate(&d.op, CUBLAS_COMPUTE_32F, CUDA_R_32F));
  // Lt's A is our B, Lt's B is our A (column-major view of row-major data).
  cublasOperation_t opA = transB ? CUBLAS_OP_T : CUBLAS_OP_N, opB = transA ? CUBLAS_OP_T : CUBLAS_OP_N;
  TRT_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(d.op, CUBLASLT_MATMUL_DESC_TRANSA, &opA, sizeof(opA)));
  TRT_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(d.op, CUBLASLT_MATMUL_DESC_TRANSB, &opB, sizeof(opB)));
  if (!transB) TRT_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&d.a, CUDA_R_32F, N, K, N));
  else TRT_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&d.a, CUDA_R_32F, K, N, K));
  if (!transA) TRT_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&d.b, CUDA_R_32F, K, M, K));
  else TRT_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&d.b, CUDA_R_32F, M, K, M));
  TRT_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&d.c, CUDA_R_32F, N, M, N));
  TRT_RETURN_IF_ERROR(setBatch(d.a, batch, strideB));
  TRT_RETURN_IF_ERROR(setBatch(d.b, batch, strideA));
  TRT_RETURN_IF_ERROR(setBatch(d.c, batch, strideY));
  cublasLtMatmulPreference_t pref;
  TRT_CUBLAS_CHECK(cublasLtMatmulPreferenceCreate(&pref));
  size_t ws = kLtWorkspace;
  cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws, sizeof(ws));
  cublasLtMatmulHeuristicResult_t result;
  int found = 0;
  cublasStatus_t hs = cublasLtMatmulAlgoGetHeuristic(h, d.op, d.a, d.b, d.c, d.c, pref, 1, &result, &found);
  cublasLtMatmulPreferenceDestroy(pref);
  TRT_CUBLAS_CHECK(hs);
  if (found == 0) return makeError(StatusCode::kRuntime, "cuBLASLt found no algorithm for this matmul");
  TRT_CUBLAS_CHECK(cublasLtMatmul(h, d.op, &alpha, B, d.a, A, d.b, &beta, Y, d.c, Y, d.c, &result.algo, workspace,
                                  kLtWorkspace, s));
  return Status::ok();
}

EnqueueFn matmulFn(const Layer&) {
  return [](const Views& in, Views& out, void* ws, cudaStream_t s) {
    Dims ad = in[0].dims, bd = in[1].dims;
    if (ad.size() == 1) ad.insert(ad.begin(), 1);
    if (bd.size() == 1) bd.push_back(1);
    const int64_t M = ad[ad.size() - 2], K = ad.back(), N = bd.back();
    Dims ab(ad.begin(), ad.end() - 2), bb(bd.begin(), bd.end() - 2);
    const size_t br = std::max(ab.size(), bb.size());
    while (ab.size() < br) ab.insert(ab.begin(), 1);
    while (bb.size() < br) bb.insert(bb.begin(), 1);
    Dims batch(br);
    for (size_t i = 0; i < br; ++i) batch[i] = std::max(ab[i], bb[i]);
    const int64_t nb = volume(batch), na = volume(ab), nbb = volume(bb);
    const float *A = in[0].as<float>(), *B = in[1].as<float>();
    float* Y = out[0].as<float>();
    if (nb == 0 || M == 0 || N == 0) return Status::ok();
    if (K == 0) {
      TRT_CUDA_CHECK(cudaMemsetAsync(Y, 0, out[0].byteSize(), s));
      return Status::ok();
    }
    if (nbb == 1 && ab == batch)  // shared B: fold A's batch into M
      return gemmRowMajor(A, B, Y, na * M, N, K, false, false, 1.f, 0.f, 1, 0, 0, 0, ws, s);
    if (ab == batch && (bb == batch || nbb == 1))
      return gemmRowMajor(A, B, Y, M, N, K, false, false, 1.f, 0.f, static_cast<int>(nb), M * K, nbb == 1 ? 0 : K * N,
                          M * N, ws, s);
    if (na == 1 && bb == batch)
      return gemmRowMajor(A, B, Y, M, N, K, false, false, 1.f, 0.f, static_cast<int>(nb), 0, K * N, M * N, ws, s);
    // General broadcast: one call per output batch.
    const kernels::Shape8 as = broadcastTo(ab, batch), bs = broadcastTo(bb, batch), os = dense(batch);
    for (int64_t o = 0; o < nb; ++o) {
      int64_t r = o, oa = 0, ob = 0;
      for (int d = os.rank - 1; d >= 0; --d) {
        const int64_t i = r % os.dims[d];
        r /= os.dims[d];
        oa += i * as.strides[d];
        ob += i * bs.strides[d];
      }
      TRT_RETURN_IF_ERROR(gemmRowMajor(A + oa * M * K, B + ob * K * N, Y + o * M * N, M, N, K, false, false, 1.f, 0.f, 1,
                                       0, 0, 0, ws, s));
    }
    return Status::ok();
  };
}

EnqueueFn gemmFn(const Layer& l) {
  const bool ta = l.attrs.getInt("transA", 0), tb = l.attrs.getInt("transB", 0);
  const float alpha = l.attrs.getFloat("alpha", 1.f), beta = l.attrs.getFloat("beta", 1.f);
  return [ta, tb, alpha, beta](const Views& in, Views& out, void* ws, cudaStream_t s) {
    const int64_t M = out[0].dims[0], N = out[0].dims[1], K = ta ? in[0].dims[0] : in[0].dims[1];
    float b = 0.f;
    if (in.size() > 2 && in[2].data && beta != 0.f) {
      // Y = broadcast(C), then Y = alpha*AB + beta*Y
      kernels::StridedCopy p;
      p.out = dense(out[0].dims);
      const kernels::Shape8 cs = broadcastTo(in[2].dims, out[0].dims);
      for (int d = 0; d < 2; ++d) {
        p.inStrides[d] = cs.strides[d];
        p.outStrides[d] = p.out.strides[d];
      }
      TRT_CUDA_CHECK(kernels::stridedCopy(in[2].data, out[0].data, p, 4, s));
      b = beta;
    }
    return gemmRowMajor(in[0].as<float>(), in[1].as<float>(), out[0].as<float>(), M, N, K, ta, tb, alpha, b, 1, 0, 0, 0,
                        ws, s);
  };
}

EnqueueFn einsumFn(const Layer& l) {
  const std::string eq = l.attrs.getString("equation");
  return [eq](const Views& in, Views& out, void*, cudaStream_t s) {
    TRT_ASSIGN_OR_RETURN(EinsumSpec spec, parseEinsum(eq, static_cast<int>(in.size())));
    std::map<char, int64_t> size;
    for (size_t i = 0; i < in.size(); ++i)
      for (size_t k = 0; k < spec.inputs[i].size(); ++k)
        size[spec.inputs[i][k]] = std::max(size[spec.inputs[i][k]], in[i].dims[k]);
    std::string labels = spec.output;
    for (auto& kv : size)
      if (spec.output.find(kv.first) == std::string::npos) labels += kv.first;
    if (labels.size() > 12) return makeError(StatusCode::kUnsupported, "Einsum with more than 12 labels");
    kernels::EinsumParams p{};
    p.nLabels = static_cast<int>(labels.size());
    p.nOut = static_cast<int>(spec.output.size());
    p.nIn = static_cast<int>(in.size());
    for (size_t d = 0; d < labels.size(); ++d) p.dims[d] = size[labels[d]];
    for (size_t i = 0; i < in.size(); ++i) {
      int64_t st = 1;
      for (int k = static_cast<int>(spec.inputs[i].size()) - 1; k >= 0; --k) {
        const size_t pos = labels.find(spec.inputs[i][k]);
        p.inStrides[i][pos] = in[i].dims[k] == 1 ? 0 : st;
        st *= in[i].dims[k];
      }
    }
    TRT_CUDA_CHECK(kernels::einsum(in[0].as<float>(), in.size() > 1 ? in[1].as<float>() : nullptr, out[0].as<float>(), p,
                                   out[0].numel(), s));
    return Status::ok();
  };
}

ImplFactory withLtWorkspace(std::string tactic, std::function<EnqueueFn(const Layer&)> make) {
  return [tactic, make](const Layer& l, const Network&) -> Expected<std::unique_ptr<LayerImpl>> {
    return std::unique_ptr<LayerImpl>(
        new FnLayerImpl(tactic, make(l), [](const Views&, const Views&) { return kLtWorkspace; }));
  };
}

}  // namespace

void registerMatmulOps(CudaOpTable& t) {
  t.add("MatMul", kF32, withLtWorkspace("cublaslt_matmul_fp32", matmulFn));
  t.add("Gemm", kF32, withLtWorkspace("cublaslt_gemm_fp32", gemmFn));
  t.add("Einsum", kF32, simple("cuda_einsum_reference", einsumFn));
}

}  // namespace cuda
}  // namespace trt
