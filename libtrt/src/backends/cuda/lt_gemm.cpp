// cuBLASLt call planning and execution (see lt_gemm.h).
#include "backends/cuda/lt_gemm.h"

#include <algorithm>

namespace trt {
namespace cuda {
namespace {

Status setBatch(cublasLtMatrixLayout_t l, int batch, int64_t stride) {
  if (batch <= 1) return Status::ok();
  TRT_CUBLAS_CHECK(
      cublasLtMatrixLayoutSetAttribute(l, CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT, &batch, sizeof(batch)));
  TRT_CUBLAS_CHECK(cublasLtMatrixLayoutSetAttribute(l, CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET, &stride,
                                                    sizeof(stride)));
  return Status::ok();
}

cublasLtEpilogue_t ltEpilogue(LtEpilogue e) {
  switch (e) {
    case LtEpilogue::kNone:
      return CUBLASLT_EPILOGUE_DEFAULT;
    case LtEpilogue::kBias:
      return CUBLASLT_EPILOGUE_BIAS;
    case LtEpilogue::kRelu:
      return CUBLASLT_EPILOGUE_RELU;
    case LtEpilogue::kReluBias:
      return CUBLASLT_EPILOGUE_RELU_BIAS;
    case LtEpilogue::kGeluTanh:
      return CUBLASLT_EPILOGUE_GELU;
    case LtEpilogue::kGeluTanhBias:
      return CUBLASLT_EPILOGUE_GELU_BIAS;
  }
  return CUBLASLT_EPILOGUE_DEFAULT;
}

bool hasBias(LtEpilogue e) {
  return e == LtEpilogue::kBias || e == LtEpilogue::kReluBias || e == LtEpilogue::kGeluTanhBias;
}

}  // namespace

LtDesc::~LtDesc() {
  if (op) cublasLtMatmulDescDestroy(op);
  if (a) cublasLtMatrixLayoutDestroy(a);
  if (b) cublasLtMatrixLayoutDestroy(b);
  if (c) cublasLtMatrixLayoutDestroy(c);
}

GemmTypes typesFor(const std::string& precision, DataType outType) {
  const cudaDataType_t out = outType == DataType::kFloat16 ? CUDA_R_16F : CUDA_R_32F;
  if (precision == "fp16") return {CUDA_R_16F, out, CUBLAS_COMPUTE_32F};
  if (precision == "tf32") return {CUDA_R_32F, CUDA_R_32F, CUBLAS_COMPUTE_32F_FAST_TF32};
  return {};
}

Expected<std::shared_ptr<LtGemm>> planGemm(GemmTypes ty, int64_t M, int64_t N, int64_t K, bool transA,
                                           bool transB, int batch, int64_t strideA, int64_t strideB,
                                           int64_t strideY, LtEpilogue epilogue, int64_t lda, int64_t ldb,
                                           int64_t ldy, size_t maxWorkspace, int heuristicIndex) {
  TRT_ASSIGN_OR_RETURN(cublasLtHandle_t h, cublasLt());
  auto g = std::make_shared<LtGemm>();
  g->epilogue = epilogue;
  LtDesc& d = g->d;
  TRT_CUBLAS_CHECK(cublasLtMatmulDescCreate(&d.op, ty.compute, CUDA_R_32F));
  // Lt's A is our B, Lt's B is our A (column-major view of row-major data).
  cublasOperation_t opA = transB ? CUBLAS_OP_T : CUBLAS_OP_N, opB = transA ? CUBLAS_OP_T : CUBLAS_OP_N;
  TRT_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(d.op, CUBLASLT_MATMUL_DESC_TRANSA, &opA, sizeof(opA)));
  TRT_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(d.op, CUBLASLT_MATMUL_DESC_TRANSB, &opB, sizeof(opB)));
  if (epilogue != LtEpilogue::kNone) {
    // Lt's rows are our columns (N): the bias vector has one value per output channel.
    const cublasLtEpilogue_t e = ltEpilogue(epilogue);
    TRT_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(d.op, CUBLASLT_MATMUL_DESC_EPILOGUE, &e, sizeof(e)));
    if (hasBias(epilogue)) {
      const cudaDataType_t bt = ty.out;
      TRT_CUBLAS_CHECK(
          cublasLtMatmulDescSetAttribute(d.op, CUBLASLT_MATMUL_DESC_BIAS_DATA_TYPE, &bt, sizeof(bt)));
    }
  }
  if (!transB)
    TRT_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&d.a, ty.data, N, K, ldb ? ldb : N));
  else
    TRT_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&d.a, ty.data, K, N, ldb ? ldb : K));
  if (!transA)
    TRT_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&d.b, ty.data, K, M, lda ? lda : K));
  else
    TRT_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&d.b, ty.data, M, K, lda ? lda : M));
  TRT_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&d.c, ty.out, N, M, ldy ? ldy : N));
  TRT_RETURN_IF_ERROR(setBatch(d.a, batch, strideB));
  TRT_RETURN_IF_ERROR(setBatch(d.b, batch, strideA));
  TRT_RETURN_IF_ERROR(setBatch(d.c, batch, strideY));
  cublasLtMatmulPreference_t pref;
  TRT_CUBLAS_CHECK(cublasLtMatmulPreferenceCreate(&pref));
  size_t ws = std::min(maxWorkspace, kLtWorkspace);
  cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws, sizeof(ws));
  if (heuristicIndex < 0 || heuristicIndex >= 16)
    return makeError(StatusCode::kInvalidArgument, "cuBLASLt heuristic index out of range");
  cublasLtMatmulHeuristicResult_t results[16];
  int found = 0;
  cublasStatus_t hs =
      cublasLtMatmulAlgoGetHeuristic(h, d.op, d.a, d.b, d.c, d.c, pref, heuristicIndex + 1, results, &found);
  cublasLtMatmulPreferenceDestroy(pref);
  TRT_CUBLAS_CHECK(hs);
  if (found == 0) return makeError(StatusCode::kRuntime, "cuBLASLt found no algorithm for this matmul");
  if (found <= heuristicIndex)
    return makeError(StatusCode::kUnsupported, "cuBLASLt offers " + std::to_string(found) +
                                                   " algorithms for this matmul, not candidate " +
                                                   std::to_string(heuristicIndex));
  g->algo = results[heuristicIndex].algo;
  g->workspace = results[heuristicIndex].workspaceSize;
  return g;
}

int ltHeuristicCandidates(const Layer& l) {
  const int64_t v = l.attrs.getInt("tactic_breadth", kLtHeuristicCandidates);
  return static_cast<int>(std::clamp<int64_t>(v, 1, 16));  // planGemm takes result indices 0..15
}

size_t ltWorkspaceLimit(const Layer& l) {
  const int64_t v = l.attrs.getInt("workspace_limit", -1);
  return v < 0 ? kLtWorkspace : std::min(kLtWorkspace, static_cast<size_t>(v));
}

Status runGemm(const LtGemm& g, const void* A, const void* B, void* Y, float alpha, float beta,
               void* workspace, cudaStream_t s, const void* C, const void* bias) {
  TRT_ASSIGN_OR_RETURN(cublasLtHandle_t h, cublasLt());
  if (hasBias(g.epilogue) && bias != g.bias) {
    // The bias address lives in the descriptor; the plan is per execution context, so setting
    // it here races with nothing, and only the first run (or a new address) sets it.
    TRT_CUBLAS_CHECK(
        cublasLtMatmulDescSetAttribute(g.d.op, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &bias, sizeof(bias)));
    g.bias = bias;
  }
  TRT_CUBLAS_CHECK(cublasLtMatmul(h, g.d.op, &alpha, B, g.d.a, A, g.d.b, &beta, C ? C : Y, g.d.c, Y, g.d.c,
                                  &g.algo, workspace, g.workspace, s));
  return Status::ok();
}

}  // namespace cuda
}  // namespace trt
