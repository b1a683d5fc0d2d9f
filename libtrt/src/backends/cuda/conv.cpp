// CUDA layer implementations of Conv and ConvTranspose (cuDNN), BatchNormalization and pooling.
// Layout: NCHW (NC + 1-3 spatial dims) and, for FusedConv, NHWC; cuDNN's algorithm comes from its
// heuristics within the workspace limit, or from the layer's tactic (timed by the builder).
// 1-D convolutions run as 2-D with H = 1. cuDNN needs symmetric padding.
#include <cudnn.h>

#include <algorithm>
#include <cstdlib>

#include "backends/cuda/cuda_util.h"
#include "backends/cuda/lt_gemm.h"
#include "ir/ops/activation.h"
#include "ir/ops/window.h"

namespace trt {
namespace cuda {
namespace {

using Views = std::vector<TensorView>;

constexpr size_t kConvWorkspace = size_t{64} << 20;

struct CudnnDescs {
  cudnnTensorDescriptor_t x = nullptr, y = nullptr;
  cudnnFilterDescriptor_t w = nullptr;
  cudnnConvolutionDescriptor_t conv = nullptr;
  ~CudnnDescs() {
    if (x) cudnnDestroyTensorDescriptor(x);
    if (y) cudnnDestroyTensorDescriptor(y);
    if (w) cudnnDestroyFilterDescriptor(w);
    if (conv) cudnnDestroyConvolutionDescriptor(conv);
  }
};

std::vector<int> toInt(const Dims& d, bool pad1d) {
  std::vector<int> r(d.begin(), d.end());
  if (pad1d && r.size() == 3) r.insert(r.begin() + 2, 1);  // 1-D as 2-D with H = 1
  return r;
}

Status tensorDesc(cudnnTensorDescriptor_t t, const std::vector<int>& dims, cudnnDataType_t type) {
  std::vector<int> strides(dims.size());
  int s = 1;
  for (int i = static_cast<int>(dims.size()) - 1; i >= 0; --i) {
    strides[i] = s;
    s *= dims[i];
  }
  TRT_CUDNN_CHECK(
      cudnnSetTensorNdDescriptor(t, type, static_cast<int>(dims.size()), dims.data(), strides.data()));
  return Status::ok();
}

size_t align256(size_t b) {
  return (b + 255) / 256 * 256;
}

// cuDNN's forward algorithm for one convolution, within the workspace limit: the heuristic's first
// choice that fits. (The builder times the alternatives as FusedConv tactics "_a<N>".)
struct ConvAlgo {
  int algo = 0;
  size_t workspace = 0;
};

// The scratch limit a layer's cuDNN algorithms must fit: its "workspace_limit" attribute (the
// builder's workspace limit) when present, capped at kConvWorkspace.
size_t convWorkspaceLimit(const Layer& l) {
  const int64_t v = l.attrs.getInt("workspace_limit", -1);
  return v < 0 ? kConvWorkspace : std::min(kConvWorkspace, static_cast<size_t>(v));
}

Expected<ConvAlgo> chooseForwardAlgo(cudnnHandle_t h, const CudnnDescs& d, size_t limit) {
  cudnnConvolutionFwdAlgoPerf_t perf[8];
  int n = 0;
  TRT_CUDNN_CHECK(cudnnGetConvolutionForwardAlgorithm_v7(h, d.x, d.w, d.conv, d.y, 8, &n, perf));
  for (int i = 0; i < n; ++i)
    if (perf[i].status == CUDNN_STATUS_SUCCESS && perf[i].memory <= limit)
      return ConvAlgo{perf[i].algo, perf[i].memory};
  return makeError(StatusCode::kRuntime, "cuDNN has no forward algorithm within the workspace");
}

// Everything a convolution needs for one set of input shapes: descriptors, the algorithm and,
// for asymmetric padding, the explicitly padded input's geometry (cuDNN pads symmetrically).
struct ConvState {
  CudnnDescs d;
  int algo = 0;              // cudnnConvolutionFwdAlgo_t or cudnnConvolutionBwdDataAlgo_t
  size_t algoWorkspace = 0;  // the algorithm's scratch (the workspace's first bytes; a padded input follows)
  bool prepad = false;       // Conv only: pad the input into the workspace first
  Dims paddedDims;
  std::vector<int64_t> padBegin;
};

class CudnnConvImpl : public LayerImpl {
 public:
  CudnnConvImpl(const Layer& l, bool transposed)
      : layer_(l), transposed_(transposed), half_(l.precision == "fp16") {}
  std::string tacticName() const override {
    return std::string(transposed_ ? "cudnn_deconv_nchw_" : "cudnn_conv_nchw_") +
           (half_ ? "fp16" : layer_.precision);
  }

  size_t workspaceSize(const Views& in, const Views& out) const override {
    size_t extra = 0;
    auto w = window(in[0], in[1]);
    if (w.isOk() && !transposed_ && asymmetric(*w))
      extra = align256(volume(paddedDims(in[0].dims, *w)) * sizeof(float));
    return kConvWorkspace + extra;
  }
  size_t preparedWorkspaceSize(const Views& in, const Views& out, const void* state) const override {
    const auto* st = static_cast<const ConvState*>(state);
    if (!st) return workspaceSize(in, out);
    return align256(st->algoWorkspace) +
           (st->prepad ? align256(volume(st->paddedDims) * dataTypeSize(in[0].type)) : 0);
  }

  Expected<std::shared_ptr<void>> prepare(const Views& in, const Views& out) const override {
    auto st = std::make_shared<ConvState>();
    TRT_ASSIGN_OR_RETURN(cudnnHandle_t h, cudnnForThisThread());
    TRT_ASSIGN_OR_RETURN(WindowParams w, window(in[0], in[1]));
    Dims xdims = in[0].dims;
    if (!transposed_ && asymmetric(w)) {
      st->prepad = true;
      st->paddedDims = paddedDims(in[0].dims, w);
      st->padBegin.assign(in[0].dims.size(), 0);
      for (size_t i = 0; i < w.padBegin.size(); ++i) st->padBegin[i + 2] = w.padBegin[i];
      xdims = st->paddedDims;
      std::fill(w.padBegin.begin(), w.padBegin.end(), 0);
      std::fill(w.padEnd.begin(), w.padEnd.end(), 0);
    } else if (asymmetric(w)) {
      return makeError(StatusCode::kUnsupported, "asymmetric padding in ConvTranspose on the CUDA backend");
    }
    TRT_RETURN_IF_ERROR(makeDescs(xdims, in[1].dims, out[0].dims, w, st->d));
    if (!transposed_) {
      TRT_ASSIGN_OR_RETURN(ConvAlgo a, chooseForwardAlgo(h, st->d, convWorkspaceLimit(layer_)));
      st->algo = a.algo;
      st->algoWorkspace = a.workspace;
      return std::shared_ptr<void>(st);
    }
    // ConvTranspose is cuDNN's backward data: dy = our input, dx = our output.
    std::swap(st->d.x, st->d.y);
    cudnnConvolutionBwdDataAlgoPerf_t perf[8];
    int n = 0;
    TRT_CUDNN_CHECK(
        cudnnGetConvolutionBackwardDataAlgorithm_v7(h, st->d.w, st->d.y, st->d.conv, st->d.x, 8, &n, perf));
    for (int i = 0; i < n; ++i)
      if (perf[i].status == CUDNN_STATUS_SUCCESS && perf[i].memory <= convWorkspaceLimit(layer_)) {
        st->algo = perf[i].algo;
        st->algoWorkspace = perf[i].memory;
        return std::shared_ptr<void>(st);
      }
    return makeError(StatusCode::kRuntime, "cuDNN has no backward-data algorithm within the workspace");
  }

  Status enqueue(const Views& in, Views& out, void* ws, void* stream) const override {
    return makeError(StatusCode::kInternal, "convolution enqueued without prepared state");
  }

  Status enqueueWithState(const Views& in, Views& out, void* ws, void* stream,
                          const void* state) const override {
    if (!state) return enqueue(in, out, ws, stream);
    const ConvState& st = *static_cast<const ConvState*>(state);
    cudaStream_t s = streamOf(stream);
    TRT_ASSIGN_OR_RETURN(cudnnHandle_t h, cudnnForThisThread());
    TRT_CUDNN_CHECK(cudnnSetStream(h, s));
    const float one = 1.f, zero = 0.f;
    if (!transposed_) {
      const void* x = in[0].data;
      if (st.prepad) {
        void* padded = static_cast<uint8_t*>(ws) + align256(st.algoWorkspace);
        TRT_CUDA_CHECK(kernels::pad(in[0].data, dense(in[0].dims), padded, dense(st.paddedDims),
                                    st.padBegin.data(), 0, 0, static_cast<int>(dataTypeSize(in[0].type)), s));
        x = padded;
      }
      TRT_CUDNN_CHECK(cudnnConvolutionForward(h, &one, st.d.x, x, st.d.w, in[1].data, st.d.conv,
                                              static_cast<cudnnConvolutionFwdAlgo_t>(st.algo), ws,
                                              st.algoWorkspace, &zero, st.d.y, out[0].data));
    } else {
      TRT_CUDNN_CHECK(cudnnConvolutionBackwardData(h, &one, st.d.w, in[1].data, st.d.y, in[0].data, st.d.conv,
                                                   static_cast<cudnnConvolutionBwdDataAlgo_t>(st.algo), ws,
                                                   st.algoWorkspace, &zero, st.d.x, out[0].data));
    }
    if (in.size() > 2 && in[2].data) {
      const TensorView& y = out[0];
      TRT_CUDA_CHECK(kernels::addChannelBias(ktype(y.type), y.data, in[2].data, y.dims[0], y.dims[1],
                                             y.numel() / std::max<int64_t>(1, y.dims[0] * y.dims[1]), s));
    }
    return Status::ok();
  }

 private:
  Expected<WindowParams> window(const TensorView& x, const TensorView& w) const {
    std::vector<int64_t> kernel(w.dims.begin() + 2, w.dims.end());
    Dims inSp(x.dims.begin() + 2, x.dims.end());
    TRT_ASSIGN_OR_RETURN(WindowParams p, resolveWindow(layer_.attrs, kernel, inSp, transposed_));
    if (transposed_ && layer_.attrs.has("output_shape")) {
      // The explicit output shape fixes the total padding; spread it as Conv does for SAME_UPPER.
      std::vector<int64_t> os = layer_.attrs.getInts("output_shape");
      for (size_t d = 0; d < kernel.size(); ++d) {
        int64_t eff = (kernel[d] - 1) * p.dilations[d] + 1;
        int64_t outLen = os[os.size() - kernel.size() + d];
        int64_t total = p.strides[d] * (inSp[d] - 1) + p.outputPadding[d] + eff - outLen;
        p.padBegin[d] = total / 2;
        p.padEnd[d] = total - total / 2;
      }
    }
    return p;
  }
  static bool asymmetric(const WindowParams& w) {
    for (size_t i = 0; i < w.padBegin.size(); ++i)
      if (w.padBegin[i] != w.padEnd[i]) return true;
    return false;
  }
  static Dims paddedDims(const Dims& x, const WindowParams& w) {
    Dims d = x;
    for (size_t i = 0; i < w.padBegin.size(); ++i) d[i + 2] += w.padBegin[i] + w.padEnd[i];
    return d;
  }
  Status makeDescs(const Dims& x, const Dims& w, const Dims& y, const WindowParams& p, CudnnDescs& d) const {
    const bool oneD = x.size() == 3;
    std::vector<int> pads, strides, dil;
    if (oneD) {
      pads.push_back(0);
      strides.push_back(1);
      dil.push_back(1);
    }
    for (size_t i = 0; i < p.kernel.size(); ++i) {
      pads.push_back(static_cast<int>(p.padBegin[i]));
      strides.push_back(static_cast<int>(p.strides[i]));
      dil.push_back(static_cast<int>(p.dilations[i]));
    }
    TRT_CUDNN_CHECK(cudnnCreateTensorDescriptor(&d.x));
    TRT_CUDNN_CHECK(cudnnCreateTensorDescriptor(&d.y));
    TRT_CUDNN_CHECK(cudnnCreateFilterDescriptor(&d.w));
    TRT_CUDNN_CHECK(cudnnCreateConvolutionDescriptor(&d.conv));
    const cudnnDataType_t dt = half_ ? CUDNN_DATA_HALF : CUDNN_DATA_FLOAT;
    TRT_RETURN_IF_ERROR(tensorDesc(d.x, toInt(x, oneD), dt));
    TRT_RETURN_IF_ERROR(tensorDesc(d.y, toInt(y, oneD), dt));
    std::vector<int> wd = toInt(w, oneD);
    TRT_CUDNN_CHECK(
        cudnnSetFilterNdDescriptor(d.w, dt, CUDNN_TENSOR_NCHW, static_cast<int>(wd.size()), wd.data()));
    // FP16 storage accumulates in FP32.
    TRT_CUDNN_CHECK(cudnnSetConvolutionNdDescriptor(d.conv, static_cast<int>(pads.size()), pads.data(),
                                                    strides.data(), dil.data(), CUDNN_CROSS_CORRELATION,
                                                    CUDNN_DATA_FLOAT));
    TRT_CUDNN_CHECK(cudnnSetConvolutionGroupCount(d.conv, static_cast<int>(layer_.attrs.getInt("group", 1))));
    // FP32 with TF32 off: FMA math only (CUDNN_DEFAULT_MATH lets Ampere+ use TF32 tensor cores);
    // FP16 and TF32 layers: tensor cores.
    TRT_CUDNN_CHECK(cudnnSetConvolutionMathType(
        d.conv,
        half_ ? CUDNN_TENSOR_OP_MATH : (layer_.precision == "tf32" ? CUDNN_DEFAULT_MATH : CUDNN_FMA_MATH)));
    return Status::ok();
  }

  Layer layer_;
  bool transposed_;
  bool half_;
};

// ---- FusedConv: Y = act(Conv(X, W) + B + Z), NCHW or NHWC ----
// Tactics, by shape and layout:
//   cublaslt_conv1x1_nhwc_*  NHWC 1x1 stride-1 unpadded ungrouped: one GEMM [N*H*W, C] x [K, C]^T
//                            with the bias (+ReLU) epilogue and Z as the GEMM's C (beta = 1);
//   cublaslt_conv1x1_nchw_*  NCHW, same shapes (a builder candidate, not the default): per image
//                            [K, C] x [C, H*W], batched over N with the weights shared, Z as C,
//                            then the epilogue kernel (bias, activation);
//   cudnn_conv_bias_relu_*   cuDNN's fused convolution + bias + Z + ReLU/identity;
//   cudnn_conv_*             cuDNN's convolution, then one epilogue kernel (bias, Z, activation);
//   cudnn_conv_acc_nchw_*    NCHW with a residual Z: Y starts as Z (a copy, or nothing when the
//                            engine plans Y over Z), cuDNN's convolution accumulates onto it
//                            (beta = 1: y is read and written, cudnnConvolutionForward's documented
//                            blend), then the epilogue kernel (bias, activation). Slower than the
//                            fused call by that pass, but Y needs no buffer of its own: the builder
//                            takes it for the layers at the activation peak (builder/batch_tiling.h);
//   cutlass_conv1x1_nhwc_fp16_t<i>  FP16 NHWC 1x1 with a bias and no Z, activation none, ReLU, SiLU or
//                            sigmoid: one CUTLASS GEMM with the bias and activation in its epilogue
//                            (tile variant i, kernels/cutlass_gemm.cu; offered when trt was built
//                            with the CUTLASS headers); output channels not a multiple of 8 on
//                            variants 1 and 2 only;
//   cuda_direct_conv_nhwc_*  NHWC, at most 4 input channels (RGB stems), output channels in multiples
//                            of 8, one group, no Z: trt's direct convolution on the CUDA cores with
//                            the bias and activation in it (kernels/direct_conv.cu); "_t1" (FP16,
//                            output channels in multiples of 32) on the tensor cores instead:
//                            an implicit GEMM with K over all the taps at once;
//   cutlass_conv_nhwc_fp16_t<i>  FP16 NHWC convolutions other than those 1x1 GEMMs, same conditions
//                            plus one group (any pads): one CUTLASS implicit-GEMM kernel with
//                            the bias and activation in its epilogue (kernels/cutlass_conv.cu);
//                            exactly 4 input channels (an RGB stem padded to 4) run CUTLASS's
//                            fixed-channels kernel instead (kernels/cutlass_conv_fixed.cu), and a
//                            Z after a ReLU / SiLU (z_after_activation) its residual epilogue
//                            (kernels/cutlass_conv_residual.cu).
//   ..._t3 (both CUTLASS bases)  the 64x64 tile with serial split-K: as many blocks per output tile
//                            as fill the SMs once (2..8, each with at least 4 K tiles; planSplitK),
//                            their semaphores in the workspace; refused where that is 1, with a Z
//                            and with 4 input channels.
//   cutlass_conv_..._t6, _t7     128x64 and 64x32 outputs with 32-deep K tiles, for convolutions
//                            on 32 input channels (a 64-deep tile takes one filter tap's channels
//                            at a time: half zeros there). Not yet run on a GPU.
// Without a tactic the first that applies is taken, with the heuristics' algorithm. The builder's
// candidates (fusedConvTactics) add cuBLASLt's next heuristic results ("_h1".."_h3") and each cuDNN
// algorithm by number ("_a0".."_a7"), fused and unfused; those that do not apply fail to prepare.
// Z may be Y (in place) on the GEMM path (cuBLASLt takes C == D) and on the accumulating cuDNN path
// (NCHW only: cuDNN's legacy calls refuse beta = 1 for NHWC algorithms).
// FP16 layers use tensor cores with FP32 accumulation; NHWC weights are OHWI (cuDNN's KRSC).

struct FusedConvState {
  enum Mode { kGemm, kCudnnFused, kCudnn, kCutlass, kCutlassConv, kDirect } mode = kCudnn;
  kernels::DirectConvShape direct{};        // the direct convolution's
  bool directMma = false;                   // ... on the tensor cores ("_t1")
  bool gemmNchw = false;                    // the GEMM is Y[n] = W X[n] (NCHW), not X W^T (NHWC)
  int64_t gemmM = 0, gemmN = 0, gemmK = 0;  // the CUTLASS GEMM's sizes
  int splitK = 1;                           // the CUTLASS split-K variant's blocks per output tile
  kernels::CutlassConvShape convShape{};    // the CUTLASS convolution's
  std::shared_ptr<LtGemm> gemm;
  CudnnDescs d;
  cudnnTensorDescriptor_t biasDesc = nullptr;
  cudnnActivationDescriptor_t actDesc = nullptr;
  int algo = 0, fusedAlgo = 0;
  size_t algoWorkspace = 0;
  bool accumulate = false;  // cudnn_conv_acc: Y = Z, then the convolution with beta = 1
  // The library's scratch (the GEMM's, or the larger of the two cuDNN algorithms'); any padded
  // input follows it in the workspace.
  size_t area = 0;
  mutable bool fusedFailed = false;  // cuDNN refused the fused call once: use the unfused path
  bool prepad = false;
  Dims paddedDims;
  std::vector<int64_t> padBegin;
  // What runs after the convolution (GEMM or cuDNN's unfused call) in one biasActivation pass.
  bool epilogueKernel = false;
  bool epilogueAct = true;  // false: cuBLASLt's epilogue applied the activation already
  bool epilogueBias = false;
  bool epilogueZ = false;
  int64_t outer = 0, channels = 0, inner = 0;
  ~FusedConvState() {
    if (biasDesc) cudnnDestroyTensorDescriptor(biasDesc);
    if (actDesc) cudnnDestroyActivationDescriptor(actDesc);
  }
};

class FusedConvImpl : public LayerImpl {
 public:
  FusedConvImpl(const Layer& l, ActivationSpec act)
      : layer_(l),
        act_(act),
        nhwc_(l.attrs.getString("layout", "NCHW") == "NHWC"),
        half_(l.precision == "fp16"),
        hasBias_(l.inputs.size() > 2 && l.inputs[2] >= 0),
        hasZ_(l.inputs.size() > 3 && l.inputs[3] >= 0),
        zAfterAct_(hasZ_ && l.attrs.getInt("z_after_activation", 0) != 0),
        variant_(parseTacticName(l.tactic)) {}

  std::string gemmBase() const { return "cublaslt_conv1x1_" + suffix(); }
  std::string fusedBase() const { return "cudnn_conv_bias_relu_" + suffix(); }
  std::string plainBase() const { return "cudnn_conv_" + suffix(); }
  std::string accBase() const { return "cudnn_conv_acc_" + suffix(); }
  std::string cutlassBase() const { return "cutlass_conv1x1_" + suffix(); }
  std::string cutlassConvBase() const { return "cutlass_conv_" + suffix(); }
  std::string directBase() const { return "cuda_direct_conv_" + suffix(); }
  std::string tacticName() const override {
    if (!layer_.tactic.empty()) return layer_.tactic;
    // The heuristic's tactic depends on shapes (1x1 or not); the layer's common name is recorded
    // at build time from the layer's static weight shape.
    if (gemmEligibleStatic_) return gemmBase();
    if (cudnnFusable()) return fusedBase();
    return plainBase();
  }
  void setStaticWeightDims(const Dims& w) {
    gemmEligibleStatic_ = nhwc_ && gemmEligible(w);
    cutlassEligibleStatic_ = gemmEligibleStatic_ && cutlassEligible(w);
    cutlassConvEligibleStatic_ =
        nhwc_ && !gemmEligibleStatic_ && cutlassEligible(w, true) && layer_.attrs.getInt("group", 1) == 1;
    gemmNchwEligibleStatic_ = !nhwc_ && gemmEligible(w);
    directEligibleStatic_ = nhwc_ && !hasZ_ && w.size() == 4 && w[3] <= kernels::kDirectConvMaxChannels &&
                            w[0] % 8 == 0 && layer_.attrs.getInt("group", 1) == 1;
    directMmaEligibleStatic_ = directEligibleStatic_ && half_ && w[0] % 32 == 0;
  }
  // configure(): the tactic must be one this layer can run.
  Status checkTactic() const {
    if (layer_.tactic.empty()) return Status::ok();
    const TacticName& v = variant_;
    const bool ok = (v.base == gemmBase() && (v.kind == 0 || v.kind == 'h') &&
                     (gemmEligibleStatic_ || gemmNchwEligibleStatic_)) ||
                    (v.base == fusedBase() && (v.kind == 0 || v.kind == 'a') && fusableAct() &&
                     (act_.kind == Activation::kRelu || v.kind == 0 ||
                      v.index == CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM)) ||
                    (v.base == plainBase() && (v.kind == 0 || v.kind == 'a')) ||
                    (v.base == accBase() && (v.kind == 0 || v.kind == 'a') && accEligible()) ||
                    (v.base == cutlassBase() && v.kind == 't' && v.index < kernels::kCutlassVariants &&
                     cutlassEligibleStatic_) ||
                    (v.base == cutlassConvBase() && v.kind == 't' &&
                     v.index < kernels::kCutlassConvVariants && cutlassConvEligibleStatic_) ||
                    (v.base == directBase() && ((v.kind == 0 && directEligibleStatic_) ||
                                                (v.kind == 't' && v.index == 1 && directMmaEligibleStatic_)));
    if (ok && (v.kind != 'a' || (v.index >= 0 && v.index < CUDNN_CONVOLUTION_FWD_ALGO_COUNT)))
      return Status::ok();
    return makeError(StatusCode::kMismatch,
                     "tactic '" + layer_.tactic + "' does not apply to this FusedConv");
  }
  // The builder's candidates, the heuristic's choice first.
  std::vector<std::string> candidates() const {
    std::vector<std::string> r = {tacticName()};
    auto add = [&](const std::string& t) {
      if (std::find(r.begin(), r.end(), t) == r.end()) r.push_back(t);
    };
    if (gemmEligibleStatic_ || gemmNchwEligibleStatic_) {
      add(gemmBase());
      for (int h = 1; h < ltHeuristicCandidates(layer_); ++h) add(gemmBase() + "_h" + std::to_string(h));
    }
    if (cutlassEligibleStatic_)
      for (int t = 0; t < kernels::kCutlassVariants; ++t) add(cutlassBase() + "_t" + std::to_string(t));
    if (cutlassConvEligibleStatic_)
      for (int t = 0; t < kernels::kCutlassConvVariants; ++t)
        add(cutlassConvBase() + "_t" + std::to_string(t));
    if (directEligibleStatic_) add(directBase());
    if (directMmaEligibleStatic_) add(directBase() + "_t1");  // on the tensor cores
    if (fusableAct()) {
      add(fusedBase());
      if (act_.kind == Activation::kRelu)
        for (int a = 0; a < CUDNN_CONVOLUTION_FWD_ALGO_COUNT; ++a)
          add(fusedBase() + "_a" + std::to_string(a));
    }
    add(plainBase());
    for (int a = 0; a < CUDNN_CONVOLUTION_FWD_ALGO_COUNT; ++a) add(plainBase() + "_a" + std::to_string(a));
    if (accEligible()) add(accBase());  // the heuristics' algorithm: a memory choice, not a speed one
    return r;
  }

  size_t workspaceSize(const Views& in, const Views& out) const override {
    size_t extra = 0;
    Dims x = in[0].dims;
    auto w = window(in[0], in[1]);
    if (w.isOk() && asymmetric(*w)) extra = align256(volume(padded(x, *w)) * dataTypeSize(in[0].type));
    return std::max(kConvWorkspace, kLtWorkspace) + extra;
  }
  size_t preparedWorkspaceSize(const Views& in, const Views& out, const void* state) const override {
    const auto* st = static_cast<const FusedConvState*>(state);
    if (!st) return workspaceSize(in, out);
    return st->area + (st->prepad ? align256(volume(st->paddedDims) * dataTypeSize(in[0].type)) : 0);
  }

  Expected<std::shared_ptr<void>> prepare(const Views& in, const Views& out) const override {
    auto st = std::make_shared<FusedConvState>();
    const Dims &x = in[0].dims, &wd = in[1].dims, &y = out[0].dims;
    // the epilogue's view of Y: [outer, channels, inner] (NHWC: channels innermost)
    st->channels = nhwc_ ? y[3] : y[1];
    st->inner = nhwc_ ? 1 : volume(y) / std::max<int64_t>(1, y[0] * y[1]);
    st->outer = volume(y) / std::max<int64_t>(1, st->channels * st->inner);
    if (volume(y) == 0) return std::shared_ptr<void>(st);
    // Tactic semantics: none (the builder asking) = the first path that applies; a bare base name =
    // that path with the heuristics' algorithm (the GEMM strictly: the engine plans Z in place
    // over Y for it; the fused cuDNN call falls back to the unfused one where cuDNN refuses it);
    // a variant ("_a3", "_h1") = exactly that algorithm, or an error.
    const bool forced = !layer_.tactic.empty();
    const bool strict = variant_.kind != 0;
    if (forced && variant_.base == cutlassBase()) {
      if (!nhwc_ || !gemmEligible(wd) || !cutlassEligible(wd))
        return makeError(StatusCode::kUnsupported,
                         "tactic " + layer_.tactic + " does not run this convolution");
      st->mode = FusedConvState::kCutlass;
      st->gemmM = x[0] * x[1] * x[2];
      st->gemmN = wd[0];
      st->gemmK = x[3];
      if (st->gemmN % 8 != 0 && !kernels::cutlassUnalignedN(variant_.index))
        return makeError(StatusCode::kUnsupported, "tactic " + layer_.tactic +
                                                       " needs output channels in multiples of 8, not " +
                                                       std::to_string(st->gemmN));
      if (variant_.index == kernels::kCutlassSplitKVariant)
        TRT_RETURN_IF_ERROR(planSplitK(*st, st->gemmM, st->gemmN, st->gemmK, 32));
      return std::shared_ptr<void>(st);
    }
    if (forced && variant_.base == cutlassConvBase()) {
      TRT_ASSIGN_OR_RETURN(WindowParams p, window(in[0], in[1]));
      // Asymmetric pads too (row bands): CUTLASS maps output row p to input row p * stride - top
      // pad and zero-fills rows outside [0, H), so the top / left pads and the output size say it all.
      if (!nhwc_ || x.size() != 4 || !cutlassEligible(wd, true) || layer_.attrs.getInt("group", 1) != 1 ||
          p.kernel.size() != 2)
        return makeError(StatusCode::kUnsupported,
                         "tactic " + layer_.tactic + " does not run this convolution");
      auto i = [](int64_t v) { return static_cast<int>(v); };
      st->mode = FusedConvState::kCutlassConv;
      st->convShape = {i(x[0]),         i(x[1]),           i(x[2]),          i(x[3]),
                       i(wd[0]),        i(wd[1]),          i(wd[2]),         i(y[1]),
                       i(y[2]),         i(p.padBegin[0]),  i(p.padBegin[1]), i(p.strides[0]),
                       i(p.strides[1]), i(p.dilations[0]), i(p.dilations[1])};
      if (variant_.index == kernels::kCutlassSplitKVariant) {
        if (hasZ_ || x[3] == kernels::kCutlassFixedChannels)
          return makeError(StatusCode::kUnsupported,
                           "tactic " + layer_.tactic + " (split-K) takes no residual and no 4-channel input");
        TRT_RETURN_IF_ERROR(planSplitK(*st, y[0] * y[1] * y[2], wd[0], wd[1] * wd[2] * x[3], 64));
      }
      return std::shared_ptr<void>(st);
    }
    if (forced && variant_.base == directBase()) {
      TRT_ASSIGN_OR_RETURN(WindowParams p, window(in[0], in[1]));
      auto i = [](int64_t v) { return static_cast<int>(v); };
      if (nhwc_ && x.size() == 4 && p.kernel.size() == 2) {
        st->direct = {i(x[0]),         i(x[1]),           i(x[2]),          i(x[3]),
                      i(wd[0]),        i(wd[1]),          i(wd[2]),         i(y[1]),
                      i(y[2]),         i(p.padBegin[0]),  i(p.padBegin[1]), i(p.strides[0]),
                      i(p.strides[1]), i(p.dilations[0]), i(p.dilations[1])};
        st->directMma = variant_.kind == 't';
        if (!hasZ_ && layer_.attrs.getInt("group", 1) == 1 &&
            (st->directMma ? kernels::directConvMmaApplies(st->direct, ktype(in[0].type))
                           : kernels::directConvApplies(st->direct, ktype(in[0].type)))) {
          st->mode = FusedConvState::kDirect;
          return std::shared_ptr<void>(st);
        }
      }
      return makeError(StatusCode::kUnsupported,
                       "tactic " + layer_.tactic + " does not run this convolution");
    }
    const bool wantGemm = forced ? variant_.base == gemmBase() : nhwc_ && gemmEligible(wd);
    if (wantGemm) {
      if (!gemmEligible(wd))
        return makeError(StatusCode::kUnsupported, "tactic " + layer_.tactic + " needs a 1x1 convolution");
      Status planned = nhwc_ ? planGemmPath(*st, x, wd) : planGemmNchwPath(*st, x, wd);
      if (planned.isOk()) {
        st->area = align256(st->gemm->workspace);
        return std::shared_ptr<void>(st);
      }
      if (forced) return planned;
    }
    TRT_ASSIGN_OR_RETURN(cudnnHandle_t h, cudnnForThisThread());
    TRT_ASSIGN_OR_RETURN(WindowParams w, window(in[0], in[1]));
    Dims xdims = x;
    if (asymmetric(w)) {
      st->prepad = true;
      st->paddedDims = padded(x, w);
      st->padBegin.assign(x.size(), 0);
      for (size_t i = 0; i < w.padBegin.size(); ++i) st->padBegin[spatialAxis(i, x.size())] = w.padBegin[i];
      xdims = st->paddedDims;
      std::fill(w.padBegin.begin(), w.padBegin.end(), 0);
      std::fill(w.padEnd.begin(), w.padEnd.end(), 0);
    }
    TRT_RETURN_IF_ERROR(makeDescs(xdims, wd, y, w, st->d));
    const size_t limit = convWorkspaceLimit(layer_);
    if (strict) {  // an "_a<N>" tactic (checkTactic allows no other variant here)
      // the tactic's algorithm, when cuDNN takes it for these descriptors within the limit
      size_t need = 0;
      if (cudnnGetConvolutionForwardWorkspaceSize(h, st->d.x, st->d.w, st->d.conv, st->d.y,
                                                  static_cast<cudnnConvolutionFwdAlgo_t>(variant_.index),
                                                  &need) != CUDNN_STATUS_SUCCESS ||
          need > limit)
        return makeError(StatusCode::kUnsupported, "cuDNN algorithm " + std::to_string(variant_.index) +
                                                       " does not run this convolution");
      st->algo = variant_.index;
      st->algoWorkspace = need;
    } else {
      TRT_ASSIGN_OR_RETURN(ConvAlgo a, chooseForwardAlgo(h, st->d, limit));
      st->algo = a.algo;
      st->algoWorkspace = a.workspace;
    }
    st->area = align256(st->algoWorkspace);
    st->mode = FusedConvState::kCudnn;
    if (forced && variant_.base == accBase()) {
      st->accumulate = true;
      st->epilogueKernel = hasBias_ || act_.kind != Activation::kNone;
      st->epilogueBias = hasBias_;
      st->epilogueZ = false;
      return std::shared_ptr<void>(st);
    }
    const bool wantFused = forced ? variant_.base == fusedBase() : cudnnFusable();
    if (wantFused) {
      // cudnnConvolutionBiasActivationForward: ReLU with any algorithm, identity only with
      // IMPLICIT_PRECOMP_GEMM.
      st->fusedAlgo =
          act_.kind == Activation::kRelu ? st->algo : CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM;
      size_t need = 0;
      const bool fits =
          cudnnGetConvolutionForwardWorkspaceSize(h, st->d.x, st->d.w, st->d.conv, st->d.y,
                                                  static_cast<cudnnConvolutionFwdAlgo_t>(st->fusedAlgo),
                                                  &need) == CUDNN_STATUS_SUCCESS &&
          need <= limit;
      if (!fits && strict)
        return makeError(StatusCode::kUnsupported, "cuDNN's fused call does not run this convolution");
      if (fits) {
        st->mode = FusedConvState::kCudnnFused;
        st->area = std::max(st->area, align256(need));
        TRT_CUDNN_CHECK(cudnnCreateTensorDescriptor(&st->biasDesc));
        TRT_CUDNN_CHECK(cudnnSetTensor4dDescriptor(st->biasDesc, CUDNN_TENSOR_NCHW, dataType(), 1,
                                                   static_cast<int>(st->channels), 1, 1));
        TRT_CUDNN_CHECK(cudnnCreateActivationDescriptor(&st->actDesc));
        TRT_CUDNN_CHECK(cudnnSetActivationDescriptor(
            st->actDesc, act_.kind == Activation::kRelu ? CUDNN_ACTIVATION_RELU : CUDNN_ACTIVATION_IDENTITY,
            CUDNN_NOT_PROPAGATE_NAN, 0.0));
      }
    }
    st->epilogueKernel = hasBias_ || hasZ_ || act_.kind != Activation::kNone;
    st->epilogueBias = hasBias_;
    st->epilogueZ = hasZ_;
    return std::shared_ptr<void>(st);
  }

  Status enqueue(const Views& in, Views& out, void* ws, void* stream) const override {
    return makeError(StatusCode::kInternal, "convolution enqueued without prepared state");
  }

  Status enqueueWithState(const Views& in, Views& out, void* ws, void* stream,
                          const void* state) const override {
    if (!state) return enqueue(in, out, ws, stream);
    const FusedConvState& st = *static_cast<const FusedConvState*>(state);
    cudaStream_t s = streamOf(stream);
    if (out[0].numel() == 0) return Status::ok();
    const void* bias = hasBias_ ? in[2].data : nullptr;
    const void* z = hasZ_ ? in[3].data : nullptr;
    if (z && z == out[0].data && !(st.mode == FusedConvState::kGemm && !zAfterAct_) && !st.accumulate &&
        st.mode != FusedConvState::kCutlassConv)
      return makeError(StatusCode::kInternal,
                       "FusedConv: Z in place over Y needs the GEMM or the accumulating path");
    const void* gemmZ = zAfterAct_ ? nullptr : z;  // the GEMM takes Z as its C before the activation only
    // (Y a part of a channel concatenation, out[0].rowStride, or X read from one, in[0].rowStride:
    // the CUTLASS paths alone write and read so; CudaBackend::writesRowStrided, readsRowStrided)
    if (st.mode == FusedConvState::kCutlass) {
      TRT_CUDA_CHECK(kernels::cutlassGemmBiasAct(variant_.index, cutlassAct(), in[0].data, in[1].data, bias,
                                                 out[0].data, st.gemmM, st.gemmN, st.gemmK, s, st.splitK, ws,
                                                 st.area, out[0].rowStride, in[0].rowStride));
      return Status::ok();
    }
    if (st.mode == FusedConvState::kCutlassConv) {
      kernels::CutlassConvShape shape = st.convShape;
      shape.yRowStride = out[0].rowStride;
      shape.xRowStride = in[0].rowStride;
      if (z)
        TRT_CUDA_CHECK(kernels::cutlassConvBiasActResidual(variant_.index, cutlassAct(), shape, in[0].data,
                                                           in[1].data, bias, z, out[0].data, s));
      else if (shape.c == kernels::kCutlassFixedChannels)
        TRT_CUDA_CHECK(kernels::cutlassConvFixedChannelsBiasAct(
            variant_.index, cutlassAct(), shape, in[0].data, in[1].data, bias, out[0].data, s));
      else
        TRT_CUDA_CHECK(kernels::cutlassConvBiasAct(variant_.index, cutlassAct(), shape, in[0].data,
                                                   in[1].data, bias, out[0].data, s, st.splitK, ws, st.area));
      return Status::ok();
    }
    if (out[0].rowStride || in[0].rowStride)
      return makeError(StatusCode::kInternal,
                       "FusedConv tactic " + tacticName() + " writes and reads no strided rows");
    if (st.mode == FusedConvState::kDirect) {
      TRT_CUDA_CHECK(kernels::directConv(ktype(out[0].type), in[0].data, in[1].data, bias, out[0].data,
                                         st.direct, unaryForActivation(act_.kind), act_.alpha, act_.beta, s,
                                         st.directMma));
      return Status::ok();
    }
    if (st.mode == FusedConvState::kGemm && st.gemmNchw) {
      TRT_RETURN_IF_ERROR(runGemm(*st.gemm, in[1].data, in[0].data, out[0].data, 1.f, gemmZ ? 1.f : 0.f, ws,
                                  s, gemmZ, nullptr));
    } else if (st.mode == FusedConvState::kGemm) {
      TRT_RETURN_IF_ERROR(
          runGemm(*st.gemm, in[0].data, in[1].data, out[0].data, 1.f, gemmZ ? 1.f : 0.f, ws, s, gemmZ, bias));
    } else {
      TRT_ASSIGN_OR_RETURN(cudnnHandle_t h, cudnnForThisThread());
      TRT_CUDNN_CHECK(cudnnSetStream(h, s));
      const void* x = in[0].data;
      if (st.prepad) {
        void* paddedX = static_cast<uint8_t*>(ws) + st.area;
        TRT_CUDA_CHECK(kernels::pad(in[0].data, dense(in[0].dims), paddedX, dense(st.paddedDims),
                                    st.padBegin.data(), 0, 0, static_cast<int>(dataTypeSize(in[0].type)), s));
        x = paddedX;
      }
      const float one = 1.f, zero = 0.f;
      if (st.mode == FusedConvState::kCudnnFused && !st.fusedFailed) {
        const float alpha2 = z ? 1.f : 0.f;
        const cudnnStatus_t fs = cudnnConvolutionBiasActivationForward(
            h, &one, st.d.x, x, st.d.w, in[1].data, st.d.conv,
            static_cast<cudnnConvolutionFwdAlgo_t>(st.fusedAlgo), ws, st.area, &alpha2, st.d.y,
            z ? z : out[0].data, st.biasDesc, bias, st.actDesc, st.d.y, out[0].data);
        if (fs == CUDNN_STATUS_SUCCESS) return Status::ok();
        // A tactic that names the algorithm must run it (the builder timed it).
        if (fs != CUDNN_STATUS_NOT_SUPPORTED || variant_.kind != 0) TRT_CUDNN_CHECK(fs);
        st.fusedFailed = true;  // nothing was launched: fall through to the unfused path
      }
      if (st.accumulate && z != out[0].data)
        TRT_CUDA_CHECK(cudaMemcpyAsync(out[0].data, z, out[0].byteSize(), cudaMemcpyDeviceToDevice, s));
      TRT_CUDNN_CHECK(cudnnConvolutionForward(h, &one, st.d.x, x, st.d.w, in[1].data, st.d.conv,
                                              static_cast<cudnnConvolutionFwdAlgo_t>(st.algo), ws, st.area,
                                              st.accumulate ? &one : &zero, st.d.y, out[0].data));
    }
    if (st.epilogueKernel)
      TRT_CUDA_CHECK(kernels::biasActivation(
          ktype(out[0].type), out[0].data, st.epilogueBias ? bias : nullptr, st.epilogueZ ? z : nullptr,
          st.outer, st.channels, st.inner, unaryForActivation(st.epilogueAct ? act_.kind : Activation::kNone),
          act_.alpha, act_.beta, s, zAfterAct_));
    return Status::ok();
  }

 private:
  bool fusableAct() const {
    return hasBias_ && !zAfterAct_ && (act_.kind == Activation::kRelu || act_.kind == Activation::kNone);
  }
  bool cudnnFusable() const { return fusableAct() && !gemmEligibleStatic_; }
  bool accEligible() const { return hasZ_ && !zAfterAct_ && !nhwc_; }
  kernels::CutlassAct cutlassAct() const {
    return act_.kind == Activation::kRelu      ? kernels::CutlassAct::kRelu
           : act_.kind == Activation::kSilu    ? kernels::CutlassAct::kSilu
           : act_.kind == Activation::kSigmoid ? kernels::CutlassAct::kSigmoid
                                               : kernels::CutlassAct::kNone;
  }
  // The CUTLASS paths: FP16, a bias, no Z, activation none / ReLU / SiLU, channels in multiples of 8
  // (w: OHWI), and trt built with the CUTLASS headers. `implicitGemm` (the non-1x1 path) also
  // takes exactly 4 input channels (kernels/cutlass_conv_fixed.cu: RGB stems padded to 4). The 1x1
  // GEMM also takes a sigmoid and output channels that are not a multiple of 8 (tile variants 1
  // and 2 only, kernels::cutlassUnalignedN): YOLOv5's Detect convolutions, 255 channels.
  bool cutlassEligible(const Dims& w, bool implicitGemm = false) const {
    const bool act = act_.kind == Activation::kNone || act_.kind == Activation::kRelu ||
                     act_.kind == Activation::kSilu || (!implicitGemm && act_.kind == Activation::kSigmoid);
    // A residual after the activation: the implicit-GEMM path's residual epilogue
    // (kernels/cutlass_conv_residual.cu), 8-channel multiples.
    if (hasZ_)
      return implicitGemm && zAfterAct_ && half_ && hasBias_ && w.size() == 4 && w[0] % 8 == 0 &&
             w[3] % 8 == 0 && (act_.kind == Activation::kRelu || act_.kind == Activation::kSilu) &&
             kernels::cutlassAvailable();
    const bool channels =
        w.size() == 4 && (w[3] % 8 == 0 || (implicitGemm && w[3] == kernels::kCutlassFixedChannels));
    return half_ && hasBias_ && !hasZ_ && act && channels && (w[0] % 8 == 0 || !implicitGemm) &&
           kernels::cutlassAvailable();
  }
  std::string suffix() const {
    return (nhwc_ ? "nhwc_" : "nchw_") + (half_ ? std::string("fp16") : layer_.precision);
  }
  cudnnDataType_t dataType() const { return half_ ? CUDNN_DATA_HALF : CUDNN_DATA_FLOAT; }
  // Index of spatial dim i in the layer's layout.
  size_t spatialAxis(size_t i, size_t rank) const { return nhwc_ ? 1 + i : 2 + i; }
  bool gemmEligible(const Dims& w) const {
    // the kernel's spatial dims: OHWI (NHWC) or OIHW (NCHW)
    if (w.size() != 4 || w[nhwc_ ? 1 : 2] != 1 || w[nhwc_ ? 2 : 3] != 1 ||
        layer_.attrs.getInt("group", 1) != 1)
      return false;
    for (int64_t v : layer_.attrs.getInts("strides", {1, 1}))
      if (v != 1) return false;
    for (int64_t v : layer_.attrs.getInts("pads", {0, 0, 0, 0}))
      if (v != 0) return false;
    const std::string ap = layer_.attrs.getString("auto_pad", "NOTSET");
    return ap == "NOTSET" || ap == "VALID" || ap == "SAME_UPPER" || ap == "SAME_LOWER";  // 1x1: SAME pads 0
  }
  // NHWC 1x1: Y[M = N*H*W, K] = X[M, C] W[K, C]^T; bias (+ReLU, +tanh-GELU) in cuBLASLt's epilogue,
  // anything else in the epilogue kernel.
  Status planGemmPath(FusedConvState& st, const Dims& x, const Dims& w) const {
    const int64_t M = x[0] * x[1] * x[2], C = x[3], K = w[0];
    LtEpilogue e = LtEpilogue::kNone;
    bool kernelAct = act_.kind != Activation::kNone;
    if (act_.kind == Activation::kRelu) {
      e = hasBias_ ? LtEpilogue::kReluBias : LtEpilogue::kRelu;
      kernelAct = false;
    } else if (act_.kind == Activation::kGeluTanh && hasBias_) {
      e = LtEpilogue::kGeluTanhBias;
      kernelAct = false;
    } else if (hasBias_) {
      e = LtEpilogue::kBias;
    }
    TRT_ASSIGN_OR_RETURN(
        st.gemm,
        planGemm(typesFor(half_ ? "fp16" : layer_.precision, half_ ? DataType::kFloat16 : DataType::kFloat32),
                 M, K, C, false, true, 1, 0, 0, 0, e, 0, 0, 0, ltWorkspaceLimit(layer_),
                 variant_.kind == 'h' ? variant_.index : 0));
    st.mode = FusedConvState::kGemm;
    // The epilogue adds Z before the activation, so Z rides on the GEMM (C, beta = 1); a Z after
    // the activation is the epilogue kernel's, after cuBLASLt's bias (+ReLU) or its own activation.
    st.epilogueKernel = kernelAct || zAfterAct_;
    st.epilogueAct = kernelAct;
    st.epilogueBias = false;
    st.epilogueZ = zAfterAct_;
    return Status::ok();
  }
  // NCHW 1x1: per image Y[K, H*W] = W[K, C] X[C, H*W], a batch over N with W shared (stride 0);
  // Z as the GEMM's C (beta = 1; C == D in place); bias and activation in the epilogue kernel
  // (cuBLASLt's bias runs along Y's rows here, not its channels).
  Status planGemmNchwPath(FusedConvState& st, const Dims& x, const Dims& w) const {
    const int64_t N = x[0], C = x[1], HW = x[2] * x[3], K = w[0];
    if (N > INT32_MAX) return makeError(StatusCode::kUnsupported, "batch too large for one GEMM");
    TRT_ASSIGN_OR_RETURN(
        st.gemm,
        planGemm(typesFor(half_ ? "fp16" : layer_.precision, half_ ? DataType::kFloat16 : DataType::kFloat32),
                 K, HW, C, false, false, static_cast<int>(N), 0, C * HW, K * HW, LtEpilogue::kNone, 0, 0, 0,
                 ltWorkspaceLimit(layer_), variant_.kind == 'h' ? variant_.index : 0));
    st.mode = FusedConvState::kGemm;
    st.gemmNchw = true;
    st.epilogueKernel = hasBias_ || act_.kind != Activation::kNone || zAfterAct_;
    st.epilogueBias = hasBias_;
    st.epilogueZ = zAfterAct_;
    return Status::ok();
  }
  // The split-K variant (kernels::kCutlassSplitKVariant) for a GEMM of M x N outputs over K: as
  // many blocks per 64x64 output tile as fill the SMs once, each with at least 4 K tiles of
  // `tileK`, at most 8; refused where that is 1 (the tiles fill the GPU already, or K is short).
  Status planSplitK(FusedConvState& st, int64_t M, int64_t N, int64_t K, int64_t tileK) const {
    constexpr int64_t t = kernels::kCutlassSplitKTile;
    const int64_t tiles = ((M + t - 1) / t) * ((N + t - 1) / t);
    int device = 0, sms = 0;
    if (cudaGetDevice(&device) != cudaSuccess ||
        cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device) != cudaSuccess)
      return makeError(StatusCode::kUnsupported, "no CUDA device to size split-K for");
    const int64_t slices = std::min<int64_t>({sms / std::max<int64_t>(1, tiles), K / (4 * tileK), 8});
    if (slices < 2)
      return makeError(StatusCode::kUnsupported, "tactic " + layer_.tactic + " (split-K) does not split " +
                                                     std::to_string(tiles) + " tiles of K " +
                                                     std::to_string(K));
    st.splitK = static_cast<int>(slices);
    st.area = align256(kernels::cutlassSplitKWorkspace(tiles));
    return Status::ok();
  }
  Expected<WindowParams> window(const TensorView& x, const TensorView& w) const {
    Dims xs = x.dims, ws = w.dims;
    if (nhwc_) {
      xs = {x.dims[0], x.dims[3], x.dims[1], x.dims[2]};
      ws = {w.dims[0], w.dims[3], w.dims[1], w.dims[2]};
    }
    std::vector<int64_t> kernel(ws.begin() + 2, ws.end());
    kernel = layer_.attrs.getInts("kernel_shape", kernel);
    return resolveWindow(layer_.attrs, kernel, Dims(xs.begin() + 2, xs.end()), false);
  }
  static bool asymmetric(const WindowParams& w) {
    for (size_t i = 0; i < w.padBegin.size(); ++i)
      if (w.padBegin[i] != w.padEnd[i]) return true;
    return false;
  }
  Dims padded(const Dims& x, const WindowParams& w) const {
    Dims d = x;
    for (size_t i = 0; i < w.padBegin.size(); ++i) d[spatialAxis(i, x.size())] += w.padBegin[i] + w.padEnd[i];
    return d;
  }
  Status makeDescs(const Dims& x, const Dims& w, const Dims& y, const WindowParams& p, CudnnDescs& d) const {
    const bool oneD = x.size() == 3;
    std::vector<int> pads, strides, dil;
    if (oneD) {
      pads.push_back(0);
      strides.push_back(1);
      dil.push_back(1);
    }
    for (size_t i = 0; i < p.kernel.size(); ++i) {
      pads.push_back(static_cast<int>(p.padBegin[i]));
      strides.push_back(static_cast<int>(p.strides[i]));
      dil.push_back(static_cast<int>(p.dilations[i]));
    }
    TRT_CUDNN_CHECK(cudnnCreateTensorDescriptor(&d.x));
    TRT_CUDNN_CHECK(cudnnCreateTensorDescriptor(&d.y));
    TRT_CUDNN_CHECK(cudnnCreateFilterDescriptor(&d.w));
    TRT_CUDNN_CHECK(cudnnCreateConvolutionDescriptor(&d.conv));
    const cudnnDataType_t dt = dataType();
    if (nhwc_) {
      auto i = [](int64_t v) { return static_cast<int>(v); };
      TRT_CUDNN_CHECK(
          cudnnSetTensor4dDescriptor(d.x, CUDNN_TENSOR_NHWC, dt, i(x[0]), i(x[3]), i(x[1]), i(x[2])));
      TRT_CUDNN_CHECK(
          cudnnSetTensor4dDescriptor(d.y, CUDNN_TENSOR_NHWC, dt, i(y[0]), i(y[3]), i(y[1]), i(y[2])));
      TRT_CUDNN_CHECK(
          cudnnSetFilter4dDescriptor(d.w, dt, CUDNN_TENSOR_NHWC, i(w[0]), i(w[3]), i(w[1]), i(w[2])));
    } else {
      TRT_RETURN_IF_ERROR(tensorDesc(d.x, toInt(x, oneD), dt));
      TRT_RETURN_IF_ERROR(tensorDesc(d.y, toInt(y, oneD), dt));
      std::vector<int> wd = toInt(w, oneD);
      TRT_CUDNN_CHECK(
          cudnnSetFilterNdDescriptor(d.w, dt, CUDNN_TENSOR_NCHW, static_cast<int>(wd.size()), wd.data()));
    }
    TRT_CUDNN_CHECK(cudnnSetConvolutionNdDescriptor(d.conv, static_cast<int>(pads.size()), pads.data(),
                                                    strides.data(), dil.data(), CUDNN_CROSS_CORRELATION,
                                                    CUDNN_DATA_FLOAT));
    TRT_CUDNN_CHECK(cudnnSetConvolutionGroupCount(d.conv, static_cast<int>(layer_.attrs.getInt("group", 1))));
    TRT_CUDNN_CHECK(cudnnSetConvolutionMathType(
        d.conv,
        half_ ? CUDNN_TENSOR_OP_MATH : (layer_.precision == "tf32" ? CUDNN_DEFAULT_MATH : CUDNN_FMA_MATH)));
    return Status::ok();
  }

  Layer layer_;
  ActivationSpec act_;
  bool nhwc_, half_, hasBias_, hasZ_;
  bool zAfterAct_;  // y = act(conv + bias) + z: Z after the activation (never on the GEMM's C)
  TacticName variant_;
  bool gemmEligibleStatic_ = false;
  bool cutlassEligibleStatic_ = false;
  bool cutlassConvEligibleStatic_ = false;
  bool directEligibleStatic_ = false;
  bool directMmaEligibleStatic_ = false;
  bool gemmNchwEligibleStatic_ = false;
};

EnqueueFn batchNormFn(const Layer& l) {
  const float eps = l.attrs.getFloat("epsilon", 1e-5f);
  return [eps](const Views& in, Views& out, void*, cudaStream_t s) {
    const TensorView& x = in[0];
    const int64_t n = x.dims[0], c = x.dims[1];
    const int64_t inner = (n * c) != 0 ? x.numel() / (n * c) : 0;
    TRT_CUDA_CHECK(kernels::channelAffine(ktype(x.type), x.data, in[1].as<float>(), in[2].as<float>(),
                                          in[3].as<float>(), in[4].as<float>(), eps, out[0].data, n, c, inner,
                                          s));
    return Status::ok();
  };
}

EnqueueFn poolFn(const Layer& l) {
  return [l](const Views& in, Views& out, void*, cudaStream_t s) {
    const TensorView& x = in[0];
    const bool nhwc = l.attrs.getString("layout", "NCHW") == "NHWC";
    Dims inSp = nhwc ? Dims{x.dims[1], x.dims[2]} : Dims(x.dims.begin() + 2, x.dims.end());
    if (inSp.size() > 3) return makeError(StatusCode::kUnsupported, "pooling over more than 3 spatial dims");
    TRT_ASSIGN_OR_RETURN(WindowParams w,
                         resolveWindow(l.attrs, l.attrs.getInts("kernel_shape"), inSp, false));
    kernels::PoolParams p{};
    p.spatial = static_cast<int>(inSp.size());
    p.planes = x.dims[0] * (nhwc ? x.dims[3] : x.dims[1]);
    p.isMax = l.type == "MaxPool";
    p.countPad = l.attrs.getInt("count_include_pad", 0) != 0;
    p.channelsLast = nhwc;
    p.channels = nhwc ? x.dims[3] : x.dims[1];
    for (int d = 0; d < p.spatial; ++d) {
      p.in[d] = inSp[d];
      p.out[d] = out[0].dims[nhwc ? d + 1 : d + 2];
      p.kernel[d] = w.kernel[d];
      p.stride[d] = w.strides[d];
      p.dilation[d] = w.dilations[d];
      p.padBegin[d] = w.padBegin[d];
      p.padEnd[d] = w.padEnd[d];
    }
    TRT_CUDA_CHECK(kernels::pool(ktype(x.type), x.data, out[0].data, p, s));
    return Status::ok();
  };
}

EnqueueFn maxPoolCascadeFn(const Layer& l) {
  return [l](const Views& in, Views& out, void*, cudaStream_t s) {
    const TensorView& x = in[0];
    const bool nhwc = l.attrs.getString("layout", "NCHW") == "NHWC";
    if (x.dims.size() != 4)
      return makeError(StatusCode::kInvalidArgument, "MaxPoolCascade needs a 4-D input");
    const int64_t c = nhwc ? x.dims[3] : x.dims[1], h = nhwc ? x.dims[1] : x.dims[2],
                  w = nhwc ? x.dims[2] : x.dims[3];
    TRT_CUDA_CHECK(kernels::maxPoolCascade(ktype(x.type), x.data, out[0].data, x.dims[0], c, h, w,
                                           static_cast<int>(l.attrs.getInts("kernel_shape").at(0)),
                                           static_cast<int>(l.attrs.getInt("count", 0)), nhwc, s));
    return Status::ok();
  };
}

EnqueueFn globalPoolFn(const Layer& l) {
  const int op = l.type == "GlobalMaxPool" ? 2 : 1;
  return [op](const Views& in, Views& out, void*, cudaStream_t s) {
    TRT_CUDA_CHECK(kernels::reduce(op, ktype(in[0].type), in[0].data, dense(in[0].dims), out[0].data,
                                   dense(out[0].dims), s));
    return Status::ok();
  };
}

}  // namespace

void registerConvOps(CudaOpTable& t) {
  t.add("Conv", kF32, [](const Layer& l, const Network&) -> Expected<std::unique_ptr<LayerImpl>> {
    return std::unique_ptr<LayerImpl>(new CudnnConvImpl(l, false));
  });
  auto makeFusedConv = [](const Layer& l, const Network& net) -> Expected<std::unique_ptr<FusedConvImpl>> {
    TRT_ASSIGN_OR_RETURN(ActivationSpec act, activationOf(l.attrs));
    auto impl = std::make_unique<FusedConvImpl>(l, act);
    if (l.inputs.size() > 1 && l.inputs[1] >= 0 && net.tensor(l.inputs[1]).isConstant())
      impl->setStaticWeightDims(net.tensor(l.inputs[1]).constant->dims());
    TRT_RETURN_IF_ERROR(impl->checkTactic());
    return impl;
  };
  t.add(
      "FusedConv", kF32,
      [makeFusedConv](const Layer& l, const Network& net) -> Expected<std::unique_ptr<LayerImpl>> {
        TRT_ASSIGN_OR_RETURN(std::unique_ptr<FusedConvImpl> impl, makeFusedConv(l, net));
        return std::unique_ptr<LayerImpl>(std::move(impl));
      },
      // Candidates for static input shapes and constant weights (what the builder can time).
      [makeFusedConv](const Layer& l, const Network& net) {
        std::vector<std::string> none;
        if (l.inputs.empty() || l.inputs[0] < 0 || !isStatic(net.tensor(l.inputs[0]).shape) ||
            l.inputs.size() < 2 || l.inputs[1] < 0 || !net.tensor(l.inputs[1]).isConstant())
          return none;
        Layer bare = l;
        bare.tactic.clear();
        auto impl = makeFusedConv(bare, net);
        return impl.isOk() ? (*impl)->candidates() : none;
      });
  t.add("ConvTranspose", kF32, [](const Layer& l, const Network&) -> Expected<std::unique_ptr<LayerImpl>> {
    return std::unique_ptr<LayerImpl>(new CudnnConvImpl(l, true));
  });
  t.add("BatchNormalization", kF32, simple("cuda_batchnorm", batchNormFn));
  t.add("MaxPool", kF32, simple("cuda_pool", poolFn));
  t.add("MaxPoolCascade", kF32, simple("cuda_maxpool_cascade", maxPoolCascadeFn));
  t.add("AveragePool", kF32, simple("cuda_pool", poolFn));
  t.add("GlobalAveragePool", kF32, simple("cuda_reduce", globalPoolFn));
  t.add("GlobalMaxPool", kF32, simple("cuda_reduce", globalPoolFn));
}

}  // namespace cuda
}  // namespace trt
