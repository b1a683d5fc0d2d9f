// CUDA layer implementations of Conv and ConvTranspose (cuDNN), BatchNormalization and pooling.
// Layout: NCHW (NC + 1-3 spatial dims), FP32 with FP32 accumulation; cuDNN's algorithm comes from
// its heuristics within the workspace limit (autotuning arrives with the builder issue).
// 1-D convolutions run as 2-D with H = 1. cuDNN needs symmetric padding.
#include <cudnn.h>

#include "backends/cuda/cuda_util.h"
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

Status tensorDesc(cudnnTensorDescriptor_t t, const std::vector<int>& dims) {
  std::vector<int> strides(dims.size());
  int s = 1;
  for (int i = static_cast<int>(dims.size()) - 1; i >= 0; --i) {
    strides[i] = s;
    s *= dims[i];
  }
  TRT_CUDNN_CHECK(cudnnSetTensorNdDescriptor(t, CUDNN_DATA_FLOAT, static_cast<int>(dims.size()), dims.data(), strides.data()));
  return Status::ok();
}

// Builds the descriptors for x [N,C,...] -> y with weight w; `transposed` for ConvTranspose
// (then "x" is the gradient side: y of the forward convolution).
Status makeDescs(const Layer& l, const TensorView& x, const TensorView& w, const TensorView& y, bool transposed,
                 CudnnDescs& d) {
  const bool oneD = x.dims.size() == 3;
  std::vector<int64_t> kernel(w.dims.begin() + 2, w.dims.end());
  Dims inSp(x.dims.begin() + 2, x.dims.end());
  TRT_ASSIGN_OR_RETURN(WindowParams p, resolveWindow(l.attrs, kernel, inSp, transposed));
  std::vector<int> pads, strides, dil;
  if (oneD) {
    pads.push_back(0);
    strides.push_back(1);
    dil.push_back(1);
  }
  for (size_t i = 0; i < kernel.size(); ++i) {
    if (p.padBegin[i] != p.padEnd[i] && !(transposed && l.attrs.has("output_shape")))
      return makeError(StatusCode::kUnsupported, "asymmetric padding on the CUDA backend's convolution");
    pads.push_back(static_cast<int>(p.padBegin[i]));
    strides.push_back(static_cast<int>(p.strides[i]));
    dil.push_back(static_cast<int>(p.dilations[i]));
  }
  TRT_CUDNN_CHECK(cudnnCreateTensorDescriptor(&d.x));
  TRT_CUDNN_CHECK(cudnnCreateTensorDescriptor(&d.y));
  TRT_CUDNN_CHECK(cudnnCreateFilterDescriptor(&d.w));
  TRT_CUDNN_CHECK(cudnnCreateConvolutionDescriptor(&d.conv));
  TRT_RETURN_IF_ERROR(tensorDesc(d.x, toInt(x.dims, oneD)));
  TRT_RETURN_IF_ERROR(tensorDesc(d.y, toInt(y.dims, oneD)));
  std::vector<int> wd = toInt(w.dims, oneD);
  TRT_CUDNN_CHECK(cudnnSetFilterNdDescriptor(d.w, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW, static_cast<int>(wd.size()), wd.data()));
  TRT_CUDNN_CHECK(cudnnSetConvolutionNdDescriptor(d.conv, static_cast<int>(pads.size()), pads.data(), strides.data(),
                                                  dil.data(), CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT));
  TRT_CUDNN_CHECK(cudnnSetConvolutionGroupCount(d.conv, static_cast<int>(l.attrs.getInt("group", 1))));
  TRT_CUDNN_CHECK(cudnnSetConvolutionMathType(d.conv, CUDNN_DEFAULT_MATH));  // FP32: no TF32 tensor ops
  return Status::ok();
}

EnqueueFn convFn(const Layer& l) {
  return [l](const Views& in, Views& out, void* ws, cudaStream_t s) {
    TRT_ASSIGN_OR_RETURN(cudnnHandle_t h, cudnnForThisThread());
    TRT_CUDNN_CHECK(cudnnSetStream(h, s));
    CudnnDescs d;
    TRT_RETURN_IF_ERROR(makeDescs(l, in[0], in[1], out[0], false, d));
    cudnnConvolutionFwdAlgoPerf_t perf[8];
    int n = 0;
    TRT_CUDNN_CHECK(cudnnGetConvolutionForwardAlgorithm_v7(h, d.x, d.w, d.conv, d.y, 8, &n, perf));
    int pick = -1;
    for (int i = 0; i < n; ++i)
      if (perf[i].status == CUDNN_STATUS_SUCCESS && perf[i].memory <= kConvWorkspace) {
        pick = i;
        break;
      }
    if (pick < 0) return makeError(StatusCode::kRuntime, "cuDNN has no forward algorithm within the workspace");
    const float one = 1.f, zero = 0.f;
    TRT_CUDNN_CHECK(cudnnConvolutionForward(h, &one, d.x, in[0].data, d.w, in[1].data, d.conv, perf[pick].algo, ws,
                                            kConvWorkspace, &zero, d.y, out[0].data));
    if (in.size() > 2 && in[2].data) {
      const TensorView& y = out[0];
      TRT_CUDA_CHECK(kernels::addChannelBias(y.as<float>(), in[2].as<float>(), y.dims[0], y.dims[1],
                                             y.numel() / std::max<int64_t>(1, y.dims[0] * y.dims[1]), s));
    }
    return Status::ok();
  };
}

EnqueueFn convTransposeFn(const Layer& l) {
  return [l](const Views& in, Views& out, void* ws, cudaStream_t s) {
    TRT_ASSIGN_OR_RETURN(cudnnHandle_t h, cudnnForThisThread());
    TRT_CUDNN_CHECK(cudnnSetStream(h, s));
    CudnnDescs d;
    // Backward data: dy = our input x, dx = our output y.
    TRT_RETURN_IF_ERROR(makeDescs(l, in[0], in[1], out[0], true, d));
    std::swap(d.x, d.y);  // d.x now describes our output (dx), d.y our input (dy)
    cudnnConvolutionBwdDataAlgoPerf_t perf[8];
    int n = 0;
    TRT_CUDNN_CHECK(cudnnGetConvolutionBackwardDataAlgorithm_v7(h, d.w, d.y, d.conv, d.x, 8, &n, perf));
    int pick = -1;
    for (int i = 0; i < n; ++i)
      if (perf[i].status == CUDNN_STATUS_SUCCESS && perf[i].memory <= kConvWorkspace) {
        pick = i;
        break;
      }
    if (pick < 0) return makeError(StatusCode::kRuntime, "cuDNN has no backward-data algorithm within the workspace");
    const float one = 1.f, zero = 0.f;
    TRT_CUDNN_CHECK(cudnnConvolutionBackwardData(h, &one, d.w, in[1].data, d.y, in[0].data, d.conv, perf[pick].algo, ws,
                                                 kConvWorkspace, &zero, d.x, out[0].data));
    if (in.size() > 2 && in[2].data) {
      const TensorView& y = out[0];
      TRT_CUDA_CHECK(kernels::addChannelBias(y.as<float>(), in[2].as<float>(), y.dims[0], y.dims[1],
                                             y.numel() / std::max<int64_t>(1, y.dims[0] * y.dims[1]), s));
    }
    return Status::ok();
  };
}

EnqueueFn batchNormFn(const Layer& l) {
  const float eps = l.attrs.getFloat("epsilon", 1e-5f);
  return [eps](const Views& in, Views& out, void*, cudaStream_t s) {
    const TensorView& x = in[0];
    const int64_t n = x.dims[0], c = x.dims[1];
    const int64_t inner = (n * c) != 0 ? x.numel() / (n * c) : 0;
    TRT_CUDA_CHECK(kernels::channelAffine(x.as<float>(), in[1].as<float>(), in[2].as<float>(), in[3].as<float>(),
                                          in[4].as<float>(), eps, out[0].as<float>(), n, c, inner, s));
    return Status::ok();
  };
}

EnqueueFn poolFn(const Layer& l) {
  return [l](const Views& in, Views& out, void*, cudaStream_t s) {
    const TensorView& x = in[0];
    Dims inSp(x.dims.begin() + 2, x.dims.end());
    if (inSp.size() > 3) return makeError(StatusCode::kUnsupported, "pooling over more than 3 spatial dims");
    TRT_ASSIGN_OR_RETURN(WindowParams w, resolveWindow(l.attrs, l.attrs.getInts("kernel_shape"), inSp, false));
    kernels::PoolParams p{};
    p.spatial = static_cast<int>(inSp.size());
    p.planes = x.dims[0] * x.dims[1];
    p.isMax = l.type == "MaxPool";
    p.countPad = l.attrs.getInt("count_include_pad", 0) != 0;
    for (int d = 0; d < p.spatial; ++d) {
      p.in[d] = inSp[d];
      p.out[d] = out[0].dims[d + 2];
      p.kernel[d] = w.kernel[d];
      p.stride[d] = w.strides[d];
      p.dilation[d] = w.dilations[d];
      p.padBegin[d] = w.padBegin[d];
      p.padEnd[d] = w.padEnd[d];
    }
    TRT_CUDA_CHECK(kernels::pool(x.as<float>(), out[0].as<float>(), p, s));
    return Status::ok();
  };
}

EnqueueFn globalPoolFn(const Layer& l) {
  const int op = l.type == "GlobalMaxPool" ? 2 : 1;
  return [op](const Views& in, Views& out, void*, cudaStream_t s) {
    TRT_CUDA_CHECK(kernels::reduce(op, kernels::KType::kF32, in[0].data, dense(in[0].dims), out[0].data,
                                   dense(out[0].dims), s));
    return Status::ok();
  };
}

ImplFactory withConvWorkspace(std::string tactic, std::function<EnqueueFn(const Layer&)> make) {
  return [tactic, make](const Layer& l, const Network&) -> Expected<std::unique_ptr<LayerImpl>> {
    return std::unique_ptr<LayerImpl>(
        new FnLayerImpl(tactic, make(l), [](const Views&, const Views&) { return kConvWorkspace; }));
  };
}

}  // namespace

void registerConvOps(CudaOpTable& t) {
  t.add("Conv", kF32, withConvWorkspace("cudnn_conv_nchw_fp32", convFn));
  t.add("ConvTranspose", kF32, withConvWorkspace("cudnn_deconv_nchw_fp32", convTransposeFn));
  t.add("BatchNormalization", kF32, simple("cuda_batchnorm_f32", batchNormFn));
  t.add("MaxPool", kF32, simple("cuda_pool_f32", poolFn));
  t.add("AveragePool", kF32, simple("cuda_pool_f32", poolFn));
  t.add("GlobalAveragePool", kF32, simple("cuda_reduce_f32", globalPoolFn));
  t.add("GlobalMaxPool", kF32, simple("cuda_reduce_f32", globalPoolFn));
}

}  // namespace cuda
}  // namespace trt
