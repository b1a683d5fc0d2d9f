// CUDA layer implementations of MatMul and Gemm through cuBLASLt, and the reference Einsum kernel.
// Layout: row-major tensors mapped onto cuBLASLt's column-major view (C^T = B^T A^T), FP32 with
// FP32 compute (TF32 off). Broadcast batches become strided-batched calls with zero strides, or
// one call per batch where strides cannot express the broadcast.
#include <cublasLt.h>

#include <algorithm>
#include <map>

#include "backends/cuda/cuda_util.h"
#include "backends/cuda/lt_gemm.h"
#include "ir/ops/activation.h"
#include "ir/ops/einsum.h"

namespace trt {
namespace cuda {
namespace {

using Views = std::vector<TensorView>;

// MatMul's batch handling for one set of shapes.
struct MatMulState {
  enum Mode { kFold, kStrided, kLoop, kEmpty } mode = kEmpty;
  int64_t M = 0, N = 0, K = 0, nb = 0;
  Dims batch, ab, bb;
  size_t elem = 4, outElem = 4;
  std::shared_ptr<LtGemm> gemm;
  // FusedMatMul: what the GEMM's epilogue does not do runs in the epilogue kernel afterwards.
  bool kernelBias = false, kernelZ = false, kernelAct = false, gemmZ = false;
  // The GEMM writes rows of ldTmp elements of tmpType at workspace offset tmpOffset, then the
  // first N columns are copied (or widened to FP32) into the dense output: "_c" tactics (an FP16
  // layer with an FP32 output, like GPT-2's LM head: cuBLASLt's FP32-output kernels can be far
  // slower) and the internal attribute columns (pad-matmul-n: B has zero columns up to ldTmp).
  // Rows go through the workspace `chunk` at a time (the scratch stays within kTmpBytes; GPT-2's
  // LM head at bs16 would otherwise need 206 MB), the last chunk through gemmTail when shorter.
  // On the H200, 32 MiB chunks (320 rows) made that head 0.17 ms slower than one pass; 128 MiB
  // chunks take it in two. Chunks of B's columns instead (all rows, 5632 columns a chunk into a
  // 24 MiB scratch that could stay in L2, B read once) measured slower still there: 0.53 ms
  // against 0.42 for the two row chunks (GPT-2 bs16, FP16 output). Writing the unaligned output
  // directly measured slower still there: one GEMM into rows of 50257 halves 1.68 ms, or 8 GEMMs
  // over the rows grouped by their 16-byte alignment (each an aligned strided view from its own
  // first column) 1.11 ms. Two buffers with each chunk's copy on a side stream while the next
  // chunk's GEMM runs: 0.43 ms (the copies gained nothing from the overlap).
  int64_t ldTmp = 0;
  DataType tmpType = DataType::kFloat16;
  size_t tmpOffset = 0;
  int64_t chunk = 0;
  std::shared_ptr<LtGemm> gemmTail;
  bool packKernel = false;  // "_k": FP16 rows packed by kernels::packRows, not the copy engine
};

constexpr int64_t kTmpBytes = int64_t{128} << 20;

// Rows per chunk of a staged GEMM: as many as fit kTmpBytes, a multiple of 64, at least 64.
int64_t chunkRows(int64_t rows, int64_t ld, size_t elem) {
  const int64_t fit = std::max<int64_t>(64, kTmpBytes / (ld * static_cast<int64_t>(elem)) / 64 * 64);
  return std::min(rows, fit);
}

// Row length, in elements, that makes rows of FP16 elements a multiple of 16 bytes.
int64_t halfRow(int64_t n) {
  return (n + 7) / 8 * 8;
}

class LtMatMulImpl : public LayerImpl {
 public:
  explicit LtMatMulImpl(const Layer& l)
      : precision_(l.precision),
        fused_(l.type == "FusedMatMul"),
        hasBias_(fused_ && l.inputs.size() > 2 && l.inputs[2] >= 0),
        hasZ_(fused_ && l.inputs.size() > 3 && l.inputs[3] >= 0),
        alpha_(l.attrs.getFloat("alpha", 1.f)),
        transB_(l.attrs.getInt("transB", 0) != 0),
        maxWs_(ltWorkspaceLimit(l)),
        columns_(l.attrs.getInt("columns", 0)),
        variant_(parseTacticName(l.tactic)) {
    if (fused_) {
      auto a = activationOf(l.attrs);
      if (a.isOk()) act_ = *a;
    }
  }
  std::string tacticName() const override {
    const std::string base = baseName(fused_, precision_);
    return variant_.kind == 'h' || variant_.kind == 'c' || variant_.kind == 'k'
               ? base + "_" + variant_.kind + std::to_string(variant_.index)
               : base;
  }
  static std::string baseName(bool fused, const std::string& precision) {
    return std::string(fused ? "cublaslt_matmul_epilogue_" : "cublaslt_matmul_") + precision;
  }
  // configure(): a tactic this implementation does not know is an error.
  Status checkTactic(const Layer& l) const {
    if (l.tactic.empty() || (variant_.base == baseName(fused_, precision_) &&
                             (variant_.kind == 0 || variant_.kind == 'h' ||
                              (variant_.kind == 'c' && !fused_) || (variant_.kind == 'k' && columns_ > 0))))
      return Status::ok();
    return makeError(StatusCode::kMismatch, "unknown tactic '" + l.tactic + "' for " + l.type);
  }
  size_t workspaceSize(const Views&, const Views& out) const override {
    if ((variant_.kind != 'c' && columns_ <= 0) || out[0].dims.empty()) return kLtWorkspace;
    const int64_t n = out[0].dims.back(), rows = n ? out[0].numel() / n : 0;
    const size_t e = dataTypeSize(out[0].type);
    return kLtWorkspace + static_cast<size_t>(chunkRows(rows, halfRow(n), e) * halfRow(n)) * e;
  }
  size_t preparedWorkspaceSize(const Views&, const Views& out, const void* state) const override {
    const auto* st = static_cast<const MatMulState*>(state);
    if (!st || !st->gemm) return 0;
    if (!st->ldTmp) return st->gemm->workspace;
    return st->tmpOffset + static_cast<size_t>(st->chunk * st->ldTmp) * dataTypeSize(st->tmpType);
  }

  Expected<std::shared_ptr<void>> prepare(const Views& in, const Views& out) const override {
    auto st = std::make_shared<MatMulState>();
    const GemmTypes types_ = typesFor(precision_, out[0].type);
    Dims ad = in[0].dims, bd = in[1].dims;
    if (ad.size() == 1) ad.insert(ad.begin(), 1);
    if (bd.size() == 1) bd.push_back(1);
    st->M = ad[ad.size() - 2];
    st->K = ad.back();
    st->N = transB_ ? bd[bd.size() - 2] : bd.back();
    st->ab.assign(ad.begin(), ad.end() - 2);
    st->bb.assign(bd.begin(), bd.end() - 2);
    const size_t br = std::max(st->ab.size(), st->bb.size());
    while (st->ab.size() < br) st->ab.insert(st->ab.begin(), 1);
    while (st->bb.size() < br) st->bb.insert(st->bb.begin(), 1);
    st->batch.resize(br);
    for (size_t i = 0; i < br; ++i) st->batch[i] = std::max(st->ab[i], st->bb[i]);
    st->nb = volume(st->batch);
    const int64_t na = volume(st->ab), nbb = volume(st->bb), M = st->M, N = st->N, K = st->K;
    if (st->nb == 0 || M == 0 || N == 0 || K == 0) return std::shared_ptr<void>(st);
    if (nbb == 1 && st->ab == st->batch) {  // shared B: fold A's batch into M
      st->mode = MatMulState::kFold;
      LtEpilogue e = LtEpilogue::kNone;
      if (fused_) {
        // cuBLASLt: D = epilogue(A B + beta C + bias); Z rides as C.
        st->gemmZ = hasZ_;
        st->kernelAct = act_.kind != Activation::kNone;
        if (act_.kind == Activation::kRelu) {
          e = hasBias_ ? LtEpilogue::kReluBias : LtEpilogue::kRelu;
          st->kernelAct = false;
        } else if (act_.kind == Activation::kGeluTanh ||
                   (act_.kind == Activation::kGeluErf && precision_ == "fp16")) {
          // cuBLASLt's GELU is the tanh form; FP16 layers take it for the erf form too (the two
          // differ by under 1e-3 absolute, below FP16's own rounding at GELU's output scale),
          // saving a pass over the FFN's widest activation. FP32 and TF32 keep the exact erf.
          e = hasBias_ ? LtEpilogue::kGeluTanhBias : LtEpilogue::kGeluTanh;
          st->kernelAct = false;
        } else if (hasBias_) {
          e = LtEpilogue::kBias;
        }
      }
      GemmTypes ty = types_;
      if (variant_.kind == 'c') {
        if (precision_ != "fp16" || out[0].type != DataType::kFloat32)
          return makeError(StatusCode::kUnsupported,
                           "FP16-output tactic for a MatMul that is not FP16 in, FP32 out");
        st->ldTmp = halfRow(N);
        ty = typesFor(precision_, DataType::kFloat16);
      } else if (columns_ > 0) {  // B padded to N columns; the output keeps columns_
        if (st->gemmZ || columns_ > N)
          return makeError(StatusCode::kInvalidArgument, "MatMul columns past B's width, or with a residual");
        st->ldTmp = N;
        st->tmpType = precision_ == "fp16" ? DataType::kFloat16 : out[0].type;
        ty = typesFor(precision_, st->tmpType);
      }
      if (variant_.kind == 'c') st->tmpType = DataType::kFloat16;
      if (variant_.kind == 'k') {
        if (!st->ldTmp || st->tmpType != DataType::kFloat16 || out[0].type != DataType::kFloat16)
          return makeError(StatusCode::kUnsupported, "row-packing tactic for other than FP16 padded columns");
        st->packKernel = true;
      }
      const int64_t rows = na * M;
      st->chunk = st->ldTmp ? chunkRows(rows, st->ldTmp, dataTypeSize(st->tmpType)) : rows;
      TRT_ASSIGN_OR_RETURN(st->gemm, planGemm(ty, st->chunk, N, K, false, transB_, 1, 0, 0, 0, e, 0, 0,
                                              st->ldTmp, maxWs_, hIndex()));
      if (rows % st->chunk) {
        TRT_ASSIGN_OR_RETURN(st->gemmTail, planGemm(ty, rows % st->chunk, N, K, false, transB_, 1, 0, 0, 0, e,
                                                    0, 0, st->ldTmp, maxWs_, hIndex()));
      }
      st->tmpOffset =
          (std::max(st->gemm->workspace, st->gemmTail ? st->gemmTail->workspace : 0) + 255) / 256 * 256;
    } else if (variant_.kind == 'c' || columns_ > 0) {
      return makeError(StatusCode::kUnsupported, "FP16-output tactic or padded columns for a batched MatMul");
    } else if ((st->ab == st->batch && (st->bb == st->batch || nbb == 1)) ||
               (na == 1 && st->bb == st->batch)) {
      st->mode = MatMulState::kStrided;
      TRT_ASSIGN_OR_RETURN(
          st->gemm, planGemm(types_, M, N, K, false, transB_, static_cast<int>(st->nb), na == 1 ? 0 : M * K,
                             nbb == 1 ? 0 : K * N, M * N, LtEpilogue::kNone, 0, 0, 0, maxWs_, hIndex()));
    } else {  // general broadcast: one call per output batch
      st->mode = MatMulState::kLoop;
      TRT_ASSIGN_OR_RETURN(st->gemm, planGemm(types_, M, N, K, false, transB_, 1, 0, 0, 0, LtEpilogue::kNone,
                                              0, 0, 0, maxWs_, hIndex()));
    }
    if (fused_ && st->mode != MatMulState::kFold) {
      st->kernelBias = hasBias_;
      st->kernelZ = hasZ_;
      st->kernelAct = act_.kind != Activation::kNone;
    }
    st->elem = dataTypeSize(in[0].type);
    st->outElem = dataTypeSize(out[0].type);
    return std::shared_ptr<void>(st);
  }

  Status enqueue(const Views&, Views&, void*, void*) const override {
    return makeError(StatusCode::kInternal, "MatMul enqueued without prepared state");
  }

  Status enqueueWithState(const Views& in, Views& out, void* ws, void* stream,
                          const void* state) const override {
    if (!state) return enqueue(in, out, ws, stream);
    const MatMulState& st = *static_cast<const MatMulState*>(state);
    cudaStream_t s = streamOf(stream);
    const uint8_t *A = static_cast<const uint8_t*>(in[0].data), *B = static_cast<const uint8_t*>(in[1].data);
    uint8_t* Y = static_cast<uint8_t*>(out[0].data);
    const int64_t e = static_cast<int64_t>(st.elem);
    switch (st.mode) {
      case MatMulState::kEmpty:
        if (out[0].byteSize()) TRT_CUDA_CHECK(cudaMemsetAsync(Y, 0, out[0].byteSize(), s));
        return Status::ok();
      case MatMulState::kFold: {
        const void* z = st.gemmZ ? in[3].data : nullptr;
        const void* bias = hasBias_ ? in[2].data : nullptr;
        if (st.ldTmp) {
          uint8_t* tmp = static_cast<uint8_t*>(ws) + st.tmpOffset;
          const int64_t cols = out[0].dims.back(), rows = out[0].numel() / cols;
          const size_t oe = dataTypeSize(out[0].type);
          for (int64_t r0 = 0; r0 < rows; r0 += st.chunk) {
            const int64_t n = std::min(st.chunk, rows - r0);
            const LtGemm& g = n == st.chunk ? *st.gemm : *st.gemmTail;
            TRT_RETURN_IF_ERROR(runGemm(g, A + r0 * st.K * e, B, tmp, alpha_, 0.f, ws, s, nullptr, bias));
            if (st.tmpType == DataType::kFloat16 && out[0].type == DataType::kFloat32)
              TRT_CUDA_CHECK(kernels::widenRows(tmp, st.ldTmp, out[0].as<float>() + r0 * cols, n, cols, s));
            else if (st.packKernel)
              TRT_CUDA_CHECK(kernels::packRows(tmp, st.ldTmp, Y + r0 * cols * oe, n, cols, s));
            else
              TRT_CUDA_CHECK(cudaMemcpy2DAsync(Y + r0 * cols * oe, cols * oe, tmp, st.ldTmp * oe, cols * oe,
                                               n, cudaMemcpyDeviceToDevice, s));
          }
        } else {
          TRT_RETURN_IF_ERROR(runGemm(*st.gemm, A, B, Y, alpha_, z ? 1.f : 0.f, ws, s, z, bias));
        }
        return epilogue(st, in, out, s);
      }
      case MatMulState::kStrided:
        // Z in place (Z is Y): the GEMM accumulates onto it (beta = 1) and the epilogue skips it.
        TRT_RETURN_IF_ERROR(runGemm(*st.gemm, A, B, Y, alpha_, zInY(st, in, out) ? 1.f : 0.f, ws, s));
        return epilogue(st, in, out, s);
      case MatMulState::kLoop: {
        const kernels::Shape8 as = broadcastTo(st.ab, st.batch), bs = broadcastTo(st.bb, st.batch),
                              os = dense(st.batch);
        for (int64_t o = 0; o < st.nb; ++o) {
          int64_t r = o, oa = 0, ob = 0;
          for (int d = os.rank - 1; d >= 0; --d) {
            const int64_t i = r % os.dims[d];
            r /= os.dims[d];
            oa += i * as.strides[d];
            ob += i * bs.strides[d];
          }
          TRT_RETURN_IF_ERROR(runGemm(*st.gemm, A + oa * st.M * st.K * e, B + ob * st.K * st.N * e,
                                      Y + o * st.M * st.N * static_cast<int64_t>(st.outElem), alpha_,
                                      zInY(st, in, out) ? 1.f : 0.f, ws, s));
        }
        return epilogue(st, in, out, s);
      }
    }
    return Status::ok();
  }

 private:
  // Bias / Z / activation not done by cuBLASLt: one pass over Y.
  static bool zInY(const MatMulState& st, const Views& in, const Views& out) {
    return st.kernelZ && in.size() > 3 && in[3].data == out[0].data;
  }
  int hIndex() const {
    return variant_.kind == 'h' || variant_.kind == 'c' || variant_.kind == 'k' ? variant_.index : 0;
  }
  Status epilogue(const MatMulState& st, const Views& in, Views& out, cudaStream_t s) const {
    const bool kernelZ = st.kernelZ && !zInY(st, in, out);
    if (!st.kernelBias && !kernelZ && !st.kernelAct) return Status::ok();
    const int64_t n = out[0].dims.empty() ? 1 : out[0].dims.back();
    TRT_CUDA_CHECK(
        kernels::biasActivation(ktype(out[0].type), out[0].data, st.kernelBias ? in[2].data : nullptr,
                                kernelZ ? in[3].data : nullptr, out[0].numel() / std::max<int64_t>(1, n), n,
                                1, unaryForActivation(act_.kind), act_.alpha, act_.beta, s));
    return Status::ok();
  }
  std::string precision_;
  bool fused_, hasBias_, hasZ_;
  float alpha_;
  bool transB_;  // B stored [..., N, K] (internal attribute transB)
  size_t maxWs_;
  int64_t columns_;  // internal attribute columns: output width when B is padded (0: B's width)
  TacticName variant_;
  ActivationSpec act_;
};

// MatMulLayerNorm (fuse-matmul-layernorm): Y = LayerNorm(S), S = alpha A B + bias + Z, B a 2-D
// constant. Tactics ("_t<splits>"):
//   _t0: the two layers as they were: cuBLASLt with the bias epilogue and Z as C writes S (into
//        output 1 or the workspace), then the LayerNormalization kernel;
//   _t1.._t6: cuBLASLt writes FP32 products of K / splits each (a strided batch over K's chunks)
//        into the workspace and one kernel adds them up with the bias and Z, stores S where it is
//        read elsewhere, and normalises the row (kernels::splitSumLayerNorm). For the batch-1
//        transformer GEMMs (128 rows) this gives the GEMM `splits` times the blocks and takes
//        cuBLASLt's split-K reduction kernel's place.
class MatMulLnImpl : public LayerImpl {
 public:
  static constexpr int kSplits[] = {0, 1, 2, 3, 4, 6};
  explicit MatMulLnImpl(const Layer& l)
      : precision_(l.precision),
        transB_(l.attrs.getInt("transB", 0) != 0),
        alpha_(l.attrs.getFloat("alpha", 1.f)),
        eps_(l.attrs.getFloat("epsilon", 1e-5f)),
        maxWs_(ltWorkspaceLimit(l)),
        hasBias_(l.inputs.size() > 2 && l.inputs[2] >= 0),
        variant_(parseTacticName(l.tactic)) {}
  static std::string baseName(const std::string& precision) {
    return "cublaslt_matmul_layernorm_" + precision;
  }
  std::string tacticName() const override {
    return baseName(precision_) +
           (variant_.kind == 'h' ? "_h" + std::to_string(variant_.index) : "_t" + std::to_string(splits()));
  }
  Status checkTactic(const Layer& l) const {
    if (l.tactic.empty() || (variant_.base == baseName(precision_) &&
                             ((variant_.kind == 't' && std::find(std::begin(kSplits), std::end(kSplits),
                                                                 variant_.index) != std::end(kSplits)) ||
                              (variant_.kind == 'h' && variant_.index > 0))))
      return Status::ok();
    return makeError(StatusCode::kMismatch, "unknown tactic '" + l.tactic + "' for MatMulLayerNorm");
  }
  // The splits, then _t0's GEMM with cuBLASLt's next heuristic results ("_h1", ...), as
  // FusedMatMul offers them: at 2048 rows (bs16) the unsplit GEMM's algorithm is what counts.
  static std::vector<std::string> tactics(const Layer& l) {
    std::vector<std::string> r;
    for (int k : kSplits) r.push_back(baseName(l.precision) + "_t" + std::to_string(k));
    for (int h = 1; h < ltHeuristicCandidates(l); ++h)
      r.push_back(baseName(l.precision) + "_h" + std::to_string(h));
    return r;
  }

  struct State {
    int64_t rows = 0, N = 0, K = 0;
    std::shared_ptr<LtGemm> gemm;
    size_t scratch = 0;  // workspace offset of S (_t0 without output 1) or of the partial sums
  };

  size_t workspaceSize(const Views&, const Views& out) const override {
    const int64_t n = out[0].dims.empty() ? 0 : out[0].dims.back(), rows = n ? out[0].numel() / n : 0;
    const size_t e = splits() ? 4 * splits() : dataTypeSize(out[0].type);
    return kLtWorkspace + 256 + static_cast<size_t>(rows * n) * e;
  }
  size_t preparedWorkspaceSize(const Views&, const Views& out, const void* state) const override {
    const auto* st = static_cast<const State*>(state);
    if (!st || !st->gemm) return 0;
    const size_t e = splits() ? 4 * splits() : (out.size() > 1 ? 0 : dataTypeSize(out[0].type));
    return st->scratch + static_cast<size_t>(st->rows * st->N) * e;
  }

  Expected<std::shared_ptr<void>> prepare(const Views& in, const Views& out) const override {
    auto st = std::make_shared<State>();
    const Dims &ad = in[0].dims, &bd = in[1].dims;
    if (ad.size() < 2 || bd.size() != 2)
      return makeError(StatusCode::kUnsupported, "MatMulLayerNorm needs A of rank >= 2 and a 2-D B");
    st->K = ad.back();
    st->N = transB_ ? bd[0] : bd[1];
    st->rows = st->K ? in[0].numel() / st->K : 0;
    if (st->rows == 0 || st->N == 0 || st->K == 0) return std::shared_ptr<void>(st);
    const int s = splits();
    if (s == 0) {
      const LtEpilogue e = hasBias_ ? LtEpilogue::kBias : LtEpilogue::kNone;  // prepare sees no data
      TRT_ASSIGN_OR_RETURN(st->gemm, planGemm(typesFor(precision_, out[0].type), st->rows, st->N, st->K,
                                              false, transB_, 1, 0, 0, 0, e, 0, 0, 0, maxWs_, heuristic()));
    } else {
      const int64_t kc = st->K / s;
      if (st->K % s || kc % 8 || st->N % 128 || st->N > 4096)
        return makeError(StatusCode::kUnsupported, "MatMulLayerNorm split " + std::to_string(s) +
                                                       " of K = " + std::to_string(st->K) +
                                                       ", N = " + std::to_string(st->N));
      TRT_ASSIGN_OR_RETURN(
          st->gemm, planGemm(typesFor(precision_, DataType::kFloat32), st->rows, st->N, kc, false, transB_, s,
                             kc, transB_ ? kc : kc * st->N, st->rows * st->N, LtEpilogue::kNone, st->K,
                             transB_ ? st->K : st->N, st->N, maxWs_, 0));
    }
    st->scratch = (st->gemm->workspace + 255) / 256 * 256;
    return std::shared_ptr<void>(st);
  }

  Status enqueue(const Views&, Views&, void*, void*) const override {
    return makeError(StatusCode::kInternal, "MatMulLayerNorm enqueued without prepared state");
  }

  Status enqueueWithState(const Views& in, Views& out, void* ws, void* stream,
                          const void* state) const override {
    if (!state) return enqueue(in, out, ws, stream);
    const State& st = *static_cast<const State*>(state);
    if (!st.gemm) return Status::ok();
    cudaStream_t s = streamOf(stream);
    uint8_t* scratch = static_cast<uint8_t*>(ws) + st.scratch;
    const void* bias = in[2].data;
    const void* z = in[3].data;
    const void* lnBias = in.size() > 5 ? in[5].data : nullptr;
    void* sum = out.size() > 1 ? out[1].data : nullptr;
    const kernels::KType kt = ktype(out[0].type);
    if (splits() == 0) {
      void* S = sum ? sum : scratch;
      TRT_RETURN_IF_ERROR(
          runGemm(*st.gemm, in[0].data, in[1].data, S, alpha_, z ? 1.f : 0.f, ws, s, z, bias));
      TRT_CUDA_CHECK(kernels::addLayerNorm(kt, S, nullptr, 1, nullptr, in[4].data, lnBias, eps_, out[0].data,
                                           nullptr, nullptr, st.rows, st.N, s));
      return Status::ok();
    }
    float* p = reinterpret_cast<float*>(scratch);
    TRT_RETURN_IF_ERROR(runGemm(*st.gemm, in[0].data, in[1].data, p, alpha_, 0.f, ws, s));
    TRT_CUDA_CHECK(kernels::splitSumLayerNorm(kt, p, splits(), st.rows * st.N, bias, z, sum, in[4].data,
                                              lnBias, eps_, out[0].data, st.rows, st.N, s));
    return Status::ok();
  }

 private:
  int splits() const { return variant_.kind == 't' ? variant_.index : 0; }  // ("_h<N>": 0)
  int heuristic() const { return variant_.kind == 'h' ? variant_.index : 0; }
  std::string precision_;
  bool transB_;
  float alpha_, eps_;
  size_t maxWs_;
  bool hasBias_;
  TacticName variant_;
};

class LtGemmImpl : public LayerImpl {
 public:
  explicit LtGemmImpl(const Layer& l)
      : ta_(l.attrs.getInt("transA", 0)),
        tb_(l.attrs.getInt("transB", 0)),
        alpha_(l.attrs.getFloat("alpha", 1.f)),
        beta_(l.attrs.getFloat("beta", 1.f)),
        precision_(l.precision),
        maxWs_(ltWorkspaceLimit(l)) {}
  std::string tacticName() const override { return "cublaslt_gemm_" + precision_; }
  size_t workspaceSize(const Views&, const Views&) const override { return kLtWorkspace; }
  size_t preparedWorkspaceSize(const Views&, const Views&, const void* state) const override {
    return state ? static_cast<const LtGemm*>(state)->workspace : 0;
  }

  Expected<std::shared_ptr<void>> prepare(const Views& in, const Views& out) const override {
    const int64_t M = out[0].dims[0], N = out[0].dims[1], K = ta_ ? in[0].dims[0] : in[0].dims[1];
    if (M == 0 || N == 0 || K == 0) return std::shared_ptr<void>();
    TRT_ASSIGN_OR_RETURN(std::shared_ptr<LtGemm> g,
                         planGemm(typesFor(precision_, out[0].type), M, N, K, ta_, tb_, 1, 0, 0, 0,
                                  LtEpilogue::kNone, 0, 0, 0, maxWs_));
    return std::static_pointer_cast<void>(g);
  }

  Status enqueue(const Views&, Views&, void*, void*) const override {
    return makeError(StatusCode::kInternal, "Gemm enqueued without prepared state");
  }

  Status enqueueWithState(const Views& in, Views& out, void* ws, void* stream,
                          const void* state) const override {
    cudaStream_t s = streamOf(stream);
    float b = 0.f;
    if (in.size() > 2 && in[2].data && beta_ != 0.f) {
      // Y = broadcast(C), then Y = alpha*AB + beta*Y
      kernels::StridedCopy p;
      p.out = dense(out[0].dims);
      const kernels::Shape8 cs = broadcastTo(in[2].dims, out[0].dims);
      for (int d = 0; d < 2; ++d) {
        p.inStrides[d] = cs.strides[d];
        p.outStrides[d] = p.out.strides[d];
      }
      TRT_CUDA_CHECK(
          kernels::stridedCopy(in[2].data, out[0].data, p, static_cast<int>(dataTypeSize(out[0].type)), s));
      b = beta_;
    }
    if (!state) {  // an empty product: only beta * C (or zeros)
      if (b == 0.f && out[0].byteSize())
        TRT_CUDA_CHECK(cudaMemsetAsync(out[0].data, 0, out[0].byteSize(), s));
      else if (b != 1.f && isHalf(out[0]))
        TRT_CUDA_CHECK(
            kernels::unaryF16(kernels::UnaryOp::kScale, out[0].data, out[0].data, out[0].numel(), b, 0.f, s));
      else if (b != 1.f)
        TRT_CUDA_CHECK(kernels::unaryF32(kernels::UnaryOp::kScale, out[0].as<float>(), out[0].as<float>(),
                                         out[0].numel(), b, 0.f, s));
      return Status::ok();
    }
    return runGemm(*static_cast<const LtGemm*>(state), in[0].data, in[1].data, out[0].data, alpha_, b, ws, s);
  }

 private:
  bool ta_, tb_;
  float alpha_, beta_;
  std::string precision_;
  size_t maxWs_;
};

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
    TRT_CUDA_CHECK(kernels::einsum(in[0].as<float>(), in.size() > 1 ? in[1].as<float>() : nullptr,
                                   out[0].as<float>(), p, out[0].numel(), s));
    return Status::ok();
  };
}

// Attention's shapes, strides and masks for one call; layout [B, S, H*D], Q/K/V possibly packed
// (slices of one [B, S, 3*H*D] tensor). Returns the K and V addresses in k and v.
struct AttentionAttrs {
  int64_t heads, headSize;
  bool packed, causal;
  float scale, fill;
  explicit AttentionAttrs(const Layer& l)
      : heads(l.attrs.getInt("num_heads", 0)),
        headSize(l.attrs.getInt("head_size", 0)),
        packed(l.attrs.getInt("packed", 0) != 0),
        causal(l.attrs.getInt("causal", 0) != 0),
        scale(l.attrs.getFloat("scale", 1.f)),
        fill(l.attrs.getFloat("mask_fill", 0.f)) {}
};

kernels::AttentionParams attentionParams(const AttentionAttrs& a, const Views& in, const void** k,
                                         const void** v) {
  kernels::AttentionParams p{};
  const TensorView& q = in[0];
  const int64_t hd = a.heads * a.headSize;
  p.B = static_cast<int>(q.dims[0]);
  p.Sq = static_cast<int>(q.dims[1]);
  p.Sk = a.packed ? p.Sq : static_cast<int>(in[1].dims[1]);
  p.H = static_cast<int>(a.heads);
  p.D = static_cast<int>(a.headSize);
  p.qRow = q.dims[2];
  p.kRow = a.packed ? q.dims[2] : hd;
  p.vRow = a.packed ? q.dims[2] : hd;
  p.oRow = hd;
  p.scale = a.scale;
  p.fill = a.fill;
  p.causal = a.causal;
  const Dims full = {p.B, p.H, p.Sq, p.Sk};
  if (in.size() > 3 && in[3].data) {
    const kernels::Shape8 st = broadcastTo(in[3].dims, full);
    for (int d = 0; d < 4; ++d) p.addStrides[d] = st.strides[d];
    p.addMask = in[3].data;
  }
  if (in.size() > 4 && in[4].data) {
    const kernels::Shape8 st = broadcastTo(in[4].dims, full);
    for (int d = 0; d < 4; ++d) p.boolStrides[d] = st.strides[d];
    p.boolMask = static_cast<const uint8_t*>(in[4].data);
  }
  const size_t e = dataTypeSize(q.type);
  const uint8_t* base = static_cast<const uint8_t*>(q.data);
  *k = a.packed ? base + hd * e : in[1].data;
  *v = a.packed ? base + 2 * hd * e : in[2].data;
  return p;
}

// Attention in one fused kernel (kernels/attention.cu): FP16 with tensor cores for head size 64
// (mma.sync or WMMA, blocks of `wmmaWarps` warps), else (or wmmaWarps 0) the row kernel, any float
// type.
EnqueueFn attentionFn(const Layer& l, int wmmaWarps, int keySplits = 1, bool mma = false) {
  const AttentionAttrs a(l);
  return [=](const Views& in, Views& out, void*, cudaStream_t s) {
    const void *k, *v;
    const kernels::AttentionParams p = attentionParams(a, in, &k, &v);
    TRT_CUDA_CHECK(kernels::attention(ktype(in[0].type), in[0].data, k, v, out[0].data, p, s, wmmaWarps,
                                      keySplits, mma));
    return Status::ok();
  };
}

// The tensor-core kernels' tile variants by tactic name: the mma.sync kernel and the WMMA kernel
// each with 4, 2 and 1 warps a block (64, 32, 16 query rows), and with 4 or 2 warps in pairs that
// split the key tiles between them (32 or 16 query rows a block: short sequences at small
// batches). The first is the default.
struct WmmaTactic {
  const char* name;
  int warps, keySplits;
  bool mma;
};
constexpr WmmaTactic kWmmaTactics[] = {{"cuda_flash_attention_mma_fp16", 4, 1, true},
                                       {"cuda_flash_attention_mma_w2_fp16", 2, 1, true},
                                       {"cuda_flash_attention_mma_w1_fp16", 1, 1, true},
                                       {"cuda_flash_attention_mma_ks2_fp16", 4, 2, true},
                                       {"cuda_flash_attention_mma_w2_ks2_fp16", 2, 2, true},
                                       {"cuda_flash_attention_wmma_fp16", 4, 1, false},
                                       {"cuda_flash_attention_wmma_w2_fp16", 2, 1, false},
                                       {"cuda_flash_attention_wmma_w1_fp16", 1, 1, false},
                                       {"cuda_flash_attention_wmma_ks2_fp16", 4, 2, false},
                                       {"cuda_flash_attention_wmma_w2_ks2_fp16", 2, 2, false}};

// FP32 / TF32 attention as the framework computes it: per batch, scores = scale Q K^T for all
// heads in one strided-batched cuBLASLt GEMM (heads are column slices of [S, H*D]: leading dim
// H*D, batch stride D), masks + softmax in place, then O = P V in a second batched GEMM written
// straight into [S, H*D]. The scores of one batch live in the workspace.
struct AttentionGemmState {
  std::shared_ptr<LtGemm> scores, context;
  size_t area = 0;  // the GEMMs' scratch; the scores follow it
};

class AttentionGemmImpl : public LayerImpl {
 public:
  explicit AttentionGemmImpl(const Layer& l)
      : attrs_(l), precision_(l.precision), maxWs_(ltWorkspaceLimit(l)) {}
  std::string tacticName() const override { return "cublaslt_attention_gemm_softmax_" + precision_; }
  size_t workspaceSize(const Views& in, const Views&) const override {
    const int64_t Sq = in[0].dims[1], Sk = attrs_.packed ? Sq : in[1].dims[1];
    return kLtWorkspace + (static_cast<size_t>(attrs_.heads * Sq * Sk) * sizeof(float) + 255) / 256 * 256;
  }
  size_t preparedWorkspaceSize(const Views& in, const Views& out, const void* state) const override {
    const auto* st = static_cast<const AttentionGemmState*>(state);
    if (!st || !st->scores) return 0;
    const int64_t Sq = in[0].dims[1], Sk = attrs_.packed ? Sq : in[1].dims[1];
    return st->area + static_cast<size_t>(attrs_.heads * Sq * Sk) * sizeof(float);
  }
  Expected<std::shared_ptr<void>> prepare(const Views& in, const Views& out) const override {
    auto st = std::make_shared<AttentionGemmState>();
    const void *k, *v;
    const kernels::AttentionParams p = attentionParams(attrs_, in, &k, &v);
    if (int64_t(p.B) * p.H * p.Sq * p.Sk == 0) return std::shared_ptr<void>(st);
    const GemmTypes ty = typesFor(precision_, DataType::kFloat32);
    // scores[h] (Sq x Sk, dense) = Q_h (Sq x D, ld qRow) K_h^T (K_h: Sk x D, ld kRow)
    TRT_ASSIGN_OR_RETURN(st->scores,
                         planGemm(ty, p.Sq, p.Sk, p.D, false, true, p.H, p.D, p.D, int64_t(p.Sq) * p.Sk,
                                  LtEpilogue::kNone, p.qRow, p.kRow, p.Sk, maxWs_));
    // O_h (Sq x D, ld oRow) = P_h (Sq x Sk) V_h (Sk x D, ld vRow)
    TRT_ASSIGN_OR_RETURN(st->context, planGemm(ty, p.Sq, p.D, p.Sk, false, false, p.H, int64_t(p.Sq) * p.Sk,
                                               p.D, p.D, LtEpilogue::kNone, p.Sk, p.vRow, p.oRow, maxWs_));
    st->area = (std::max(st->scores->workspace, st->context->workspace) + 255) / 256 * 256;
    return std::shared_ptr<void>(st);
  }
  Status enqueue(const Views&, Views&, void*, void*) const override {
    return makeError(StatusCode::kInternal, "Attention enqueued without prepared state");
  }
  Status enqueueWithState(const Views& in, Views& out, void* ws, void* stream,
                          const void* state) const override {
    const auto& st = *static_cast<const AttentionGemmState*>(state);
    if (!st.scores) return Status::ok();
    cudaStream_t s = streamOf(stream);
    const void *k, *v;
    const kernels::AttentionParams p = attentionParams(attrs_, in, &k, &v);
    float* scores = reinterpret_cast<float*>(static_cast<uint8_t*>(ws) + st.area);
    const auto* q8 = static_cast<const uint8_t*>(in[0].data);
    const auto *k8 = static_cast<const uint8_t*>(k), *v8 = static_cast<const uint8_t*>(v);
    auto* o8 = static_cast<uint8_t*>(out[0].data);
    constexpr int64_t e = sizeof(float);
    for (int b = 0; b < p.B; ++b) {
      TRT_RETURN_IF_ERROR(runGemm(*st.scores, q8 + b * p.Sq * p.qRow * e, k8 + b * p.Sk * p.kRow * e, scores,
                                  p.scale, 0.f, ws, s));
      TRT_CUDA_CHECK(kernels::attentionSoftmax(ktype(in[0].type), scores, p, b, s));
      TRT_RETURN_IF_ERROR(runGemm(*st.context, scores, v8 + b * p.Sk * p.vRow * e, o8 + b * p.Sq * p.oRow * e,
                                  1.f, 0.f, ws, s));
    }
    return Status::ok();
  }

 private:
  AttentionAttrs attrs_;
  std::string precision_;
  size_t maxWs_;
};

}  // namespace

void registerMatmulOps(CudaOpTable& t) {
  // Attention tactics: FP32/TF32 batched cuBLASLt GEMMs around a masked softmax (the default) or
  // the row kernel; FP16 the tensor-core kernels for head size 64 (mma.sync with 4 warps the
  // default there) or the row kernel.
  // The row kernel is the one choice that runs every shape of every precision.
  auto attentionTactics = [](const Layer& l, const Network& net) {
    std::vector<std::string> r;
    for (int i : l.inputs)
      if (i >= 0 && !isStatic(net.tensor(i).shape)) return r;
    const std::string rows = "cuda_attention_rows_" + l.precision;
    if (l.precision != "fp16")
      r = {"cublaslt_attention_gemm_softmax_" + l.precision, rows};
    else if (l.attrs.getInt("head_size", 0) == 64) {
      for (const WmmaTactic& w : kWmmaTactics) r.push_back(w.name);
      r.push_back(rows);
    }
    return r;
  };
  t.add(
      "Attention", kF32,
      [](const Layer& l, const Network&) -> Expected<std::unique_ptr<LayerImpl>> {
        const std::string rows = "cuda_attention_rows_" + l.precision;
        const std::string gemm = "cublaslt_attention_gemm_softmax_" + l.precision;
        const bool wmma = l.precision == "fp16" && l.attrs.getInt("head_size", 0) == 64;
        if (l.tactic == rows) return std::unique_ptr<LayerImpl>(new FnLayerImpl(rows, attentionFn(l, 0)));
        if (l.precision != "fp16" && (l.tactic.empty() || l.tactic == gemm))
          return std::unique_ptr<LayerImpl>(new AttentionGemmImpl(l));
        if (l.precision == "fp16" && l.tactic.empty())
          return std::unique_ptr<LayerImpl>(
              new FnLayerImpl(wmma ? kWmmaTactics[0].name : rows,
                              attentionFn(l, wmma ? kWmmaTactics[0].warps : 0, 1, kWmmaTactics[0].mma)));
        for (const WmmaTactic& w : kWmmaTactics)
          if (wmma && l.tactic == w.name)
            return std::unique_ptr<LayerImpl>(
                new FnLayerImpl(w.name, attentionFn(l, w.warps, w.keySplits, w.mma)));
        return makeError(StatusCode::kMismatch, "unknown tactic '" + l.tactic + "' for Attention");
      },
      attentionTactics);
  // Tactics: cuBLASLt's first heuristic choice, then its next ltHeuristicCandidates(l) - 1 results
  // ("_h1", ...), for static shapes (the builder times them with those shapes). An FP16 MatMul with
  // an FP32 output (a network output) also offers cuBLASLt's first two FP16-output results, widened
  // afterwards ("_c0", "_c1").
  auto gemmTactics = [](const Layer& l, const Network& net) {
    std::vector<std::string> r;
    for (int i : l.inputs)
      if (i >= 0 && !isStatic(net.tensor(i).shape)) return r;
    const std::string base = LtMatMulImpl::baseName(l.type == "FusedMatMul", l.precision);
    r.push_back(base);
    for (int h = 1; h < ltHeuristicCandidates(l); ++h) r.push_back(base + "_h" + std::to_string(h));
    if (l.type == "MatMul" && l.precision == "fp16" && net.tensor(l.outputs[0]).type == DataType::kFloat32)
      for (int h = 0; h < 2; ++h) r.push_back(base + "_c" + std::to_string(h));
    // A padded-columns MatMul (pad-matmul-n) with an FP16 output also offers its staging with the
    // rows packed by a kernel instead of the copy engine ("_k0".."_k3").
    if (l.type == "MatMul" && l.attrs.getInt("columns", 0) > 0 && l.precision == "fp16" &&
        net.tensor(l.outputs[0]).type == DataType::kFloat16) {
      for (int h = 0; h < ltHeuristicCandidates(l); ++h) r.push_back(base + "_k" + std::to_string(h));
    }
    return r;
  };
  t.add(
      "MatMul", kF32,
      [](const Layer& l, const Network&) -> Expected<std::unique_ptr<LayerImpl>> {
        auto impl = std::make_unique<LtMatMulImpl>(l);
        TRT_RETURN_IF_ERROR(impl->checkTactic(l));
        return std::unique_ptr<LayerImpl>(std::move(impl));
      },
      gemmTactics);
  t.add(
      "FusedMatMul", kF32,
      [](const Layer& l, const Network&) -> Expected<std::unique_ptr<LayerImpl>> {
        TRT_RETURN_IF_ERROR(activationOf(l.attrs).status());
        auto impl = std::make_unique<LtMatMulImpl>(l);
        TRT_RETURN_IF_ERROR(impl->checkTactic(l));
        return std::unique_ptr<LayerImpl>(std::move(impl));
      },
      gemmTactics);
  t.add(
      "MatMulLayerNorm", kF32,
      [](const Layer& l, const Network&) -> Expected<std::unique_ptr<LayerImpl>> {
        auto impl = std::make_unique<MatMulLnImpl>(l);
        TRT_RETURN_IF_ERROR(impl->checkTactic(l));
        return std::unique_ptr<LayerImpl>(std::move(impl));
      },
      [](const Layer& l, const Network& net) {
        for (int i : l.inputs)
          if (i >= 0 && !isStatic(net.tensor(i).shape)) return std::vector<std::string>();
        return MatMulLnImpl::tactics(l);
      });
  t.add("Gemm", kF32, [](const Layer& l, const Network&) -> Expected<std::unique_ptr<LayerImpl>> {
    return std::unique_ptr<LayerImpl>(new LtGemmImpl(l));
  });
  t.add("Einsum", kF32, simple("cuda_einsum_reference", einsumFn));
}

}  // namespace cuda
}  // namespace trt
