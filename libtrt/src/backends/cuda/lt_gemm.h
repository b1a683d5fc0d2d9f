// cuBLASLt GEMMs as the CUDA layers use them (MatMul, Gemm, 1x1 FusedConv): a call planned once
// per input shape (descriptors, epilogue and the heuristic's algorithm), then run as often as
// needed. Layout: row-major tensors mapped onto cuBLASLt's column-major view (Y^T = B^T A^T).
#pragma once

#include <cublasLt.h>

#include "backends/cuda/cuda_util.h"

namespace trt {
namespace cuda {

constexpr size_t kLtWorkspace = size_t{32} << 20;

struct LtDesc {
  cublasLtMatmulDesc_t op = nullptr;
  cublasLtMatrixLayout_t a = nullptr, b = nullptr, c = nullptr;
  LtDesc() = default;
  LtDesc(const LtDesc&) = delete;
  LtDesc& operator=(const LtDesc&) = delete;
  ~LtDesc();
};

// Data and compute types per layer precision: FP16 storage with FP32 accumulation; TF32 when
// allowed; otherwise pure FP32.
struct GemmTypes {
  cudaDataType_t data = CUDA_R_32F;  // A and B
  cudaDataType_t out = CUDA_R_32F;   // C and D
  cublasComputeType_t compute = CUBLAS_COMPUTE_32F;
};
GemmTypes typesFor(const std::string& precision, DataType outType);

// What runs after the product: Y = act(alpha A B + beta C + bias), bias one value per column of
// the row-major Y (per output channel), of Y's type.
enum class LtEpilogue { kNone, kBias, kRelu, kReluBias, kGeluTanh, kGeluTanhBias };

// One planned call (the algorithm: cuBLASLt's heuristic result number `heuristicIndex`, 0 = its
// first choice; an index past what the heuristic returns is an error): row-major Y[M,N] (a batch of `batch`)
// = alpha op(A) op(B) + beta C, A stored [M,K] (or [K,M] when transA), B stored [K,N] (or [N,K] when transB);
// C has Y's layout.
struct LtGemm {
  LtDesc d;
  cublasLtMatmulAlgo_t algo;
  LtEpilogue epilogue = LtEpilogue::kNone;
  size_t workspace = 0;  // what the chosen algorithm needs (at most kLtWorkspace)
  // The bias address the descriptor holds (set on the first run: weights do not move after load).
  mutable const void* bias = nullptr;
};

// Leading dims (row strides, in elements) of A, B and Y: 0 means dense (A: K, or M when transA;
// B: N, or K when transB; Y: N), so strided views such as one head of [S, H*D] fit.
Expected<std::shared_ptr<LtGemm>> planGemm(GemmTypes ty, int64_t M, int64_t N, int64_t K, bool transA,
                                           bool transB, int batch, int64_t strideA, int64_t strideB,
                                           int64_t strideY, LtEpilogue epilogue = LtEpilogue::kNone,
                                           int64_t lda = 0, int64_t ldb = 0, int64_t ldy = 0,
                                           size_t maxWorkspace = kLtWorkspace, int heuristicIndex = 0);
// How many of cuBLASLt's heuristic results a GEMM layer offers the builder as tactics ("_h1".."_h3"
// after the first); the layer's "tactic_breadth" attribute (set by the builder at
// --builder-opt-level 4 and 5: 8 and 16) widens the search (ltHeuristicCandidates).
constexpr int kLtHeuristicCandidates = 4;
int ltHeuristicCandidates(const Layer& l);
// The scratch limit a layer's GEMMs search within: its "workspace_limit" attribute (set by the
// builder's workspace limit) when present, capped at kLtWorkspace.
size_t ltWorkspaceLimit(const Layer& l);

// Runs a planned call; C defaults to Y (beta scales Y's old contents); bias is read when the
// epilogue has one.
Status runGemm(const LtGemm& g, const void* A, const void* B, void* Y, float alpha, float beta,
               void* workspace, cudaStream_t s, const void* C = nullptr, const void* bias = nullptr);

}  // namespace cuda
}  // namespace trt
