// CPU reference kernels for BatchNormalization, LayerNormalization, Softmax and LogSoftmax.
// Layout: dense row-major; BatchNormalization normalises dim 1 (channels). Precision: float32,
// statistics accumulated in double.
#include <algorithm>
#include <cmath>
#include <limits>

#include "backends/cpu/cpu_kernels.h"
#include "ir/op_registry.h"

namespace trt {
namespace cpu {
namespace {

using Views = std::vector<TensorView>;

Status batchNormKernel(const Layer& l, const Views& in, Views& out) {
  const TensorView& x = in[0];
  const float eps = l.attrs.getFloat("epsilon", 1e-5f);
  const int64_t n = x.dims[0], c = x.dims[1];
  const int64_t inner = c ? x.numel() / (n * c) : 0;
  const float *scale = in[1].as<float>(), *bias = in[2].as<float>(), *mean = in[3].as<float>(),
              *var = in[4].as<float>();
#pragma omp parallel for collapse(1) if (x.numel() > (1 << 15))
  for (int64_t ch = 0; ch < c; ++ch) {
    const float a = scale[ch] / std::sqrt(var[ch] + eps);
    const float b = bias[ch] - mean[ch] * a;
    for (int64_t b0 = 0; b0 < n; ++b0) {
      const float* src = x.as<float>() + (b0 * c + ch) * inner;
      float* dst = out[0].as<float>() + (b0 * c + ch) * inner;
      for (int64_t i = 0; i < inner; ++i) dst[i] = src[i] * a + b;
    }
  }
  return Status::ok();
}

Status layerNormKernel(const Layer& l, const Views& in, Views& out) {
  const TensorView& x = in[0];
  TRT_ASSIGN_OR_RETURN(int axis, normalizeAxis(l.attrs.getInt("axis", -1), static_cast<int>(x.dims.size())));
  const float eps = l.attrs.getFloat("epsilon", 1e-5f);
  int64_t outer = 1, inner = 1;
  for (int i = 0; i < axis; ++i) outer *= x.dims[i];
  for (size_t i = axis; i < x.dims.size(); ++i) inner *= x.dims[i];
  // Scale and bias broadcast over the normalised dims.
  Dims normDims(x.dims.begin() + axis, x.dims.end());
  auto expand = [&](const TensorView& v, std::vector<float>& buf) -> const float* {
    if (v.numel() == inner) return v.as<float>();
    buf.assign(inner, 0.f);
    std::vector<int64_t> st(normDims.size(), 0);
    int64_t s = 1;
    for (int i = static_cast<int>(v.dims.size()) - 1, o = static_cast<int>(normDims.size()) - 1;
         i >= 0 && o >= 0; --i, --o) {
      st[o] = v.dims[i] == 1 ? 0 : s;
      s *= v.dims[i];
    }
    for (int64_t k = 0; k < inner; ++k) {
      int64_t r = k, off = 0;
      for (int d = static_cast<int>(normDims.size()) - 1; d >= 0; --d) {
        off += (r % normDims[d]) * st[d];
        r /= normDims[d];
      }
      buf[k] = v.as<float>()[off];
    }
    return buf.data();
  };
  std::vector<float> sbuf, bbuf;
  const float* scale = expand(in[1], sbuf);
  const float* bias = in.size() > 2 && in[2].data ? expand(in[2], bbuf) : nullptr;
#pragma omp parallel for if (x.numel() > (1 << 15))
  for (int64_t o = 0; o < outer; ++o) {
    const float* src = x.as<float>() + o * inner;
    float* dst = out[0].as<float>() + o * inner;
    double mean = 0, var = 0;
    for (int64_t i = 0; i < inner; ++i) mean += src[i];
    mean /= static_cast<double>(inner);
    for (int64_t i = 0; i < inner; ++i) var += (src[i] - mean) * (src[i] - mean);
    var /= static_cast<double>(inner);
    const double inv = 1.0 / std::sqrt(var + eps);
    for (int64_t i = 0; i < inner; ++i)
      dst[i] = static_cast<float>((src[i] - mean) * inv) * scale[i] + (bias ? bias[i] : 0.f);
    if (out.size() > 1 && out[1].data) out[1].as<float>()[o] = static_cast<float>(mean);
    if (out.size() > 2 && out[2].data) out[2].as<float>()[o] = static_cast<float>(inv);
  }
  return Status::ok();
}

// AddLayerNorm: the sum S = X + R (R repeating along X's leading dims) into output 1 or a scratch
// buffer, then LayerNormalization of S.
Status addLayerNormKernel(const Layer& l, const Views& in, Views& out) {
  const TensorView &x = in[0], &r = in[1];
  const int64_t n = x.numel(), period = r.numel();
  if (period == 0 || n % period != 0)
    return makeError(StatusCode::kInvalidArgument, "AddLayerNorm's R does not repeat along X");
  std::vector<float> scratch;
  float* sum = out.size() > 1 && out[1].data ? out[1].as<float>() : nullptr;
  if (!sum) {
    scratch.resize(static_cast<size_t>(n));
    sum = scratch.data();
  }
  const float *xs = x.as<float>(), *rs = r.as<float>();
#pragma omp parallel for if (n > (1 << 15))
  for (int64_t i = 0; i < n; ++i) sum[i] = xs[i] + rs[i % period];
  TensorView sv = x;
  sv.data = sum;
  sv.host = nullptr;
  Views lnIn = {sv, in[2]};
  if (in.size() > 3) lnIn.push_back(in[3]);
  Views lnOut = {out[0]};
  return layerNormKernel(l, lnIn, lnOut);
}

Status softmaxKernel(const Layer& l, const Views& in, Views& out) {
  const TensorView& x = in[0];
  const int rank = static_cast<int>(x.dims.size());
  TRT_ASSIGN_OR_RETURN(int axis, normalizeAxis(l.attrs.getInt("axis", -1), rank));
  const bool isLog = l.type == "LogSoftmax";
  // coerce_2d (opset < 13): the reduction spans every dim from `axis` on.
  int64_t outer = 1, n = 1, inner = 1;
  for (int i = 0; i < axis; ++i) outer *= x.dims[i];
  if (l.attrs.getInt("coerce_2d", 0)) {
    for (int i = axis; i < rank; ++i) n *= x.dims[i];
  } else {
    n = x.dims[axis];
    for (int i = axis + 1; i < rank; ++i) inner *= x.dims[i];
  }
#pragma omp parallel for collapse(2) if (x.numel() > (1 << 15))
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t i = 0; i < inner; ++i) {
      const float* src = x.as<float>() + o * n * inner + i;
      float* dst = out[0].as<float>() + o * n * inner + i;
      float mx = -std::numeric_limits<float>::infinity();
      for (int64_t k = 0; k < n; ++k) mx = std::max(mx, src[k * inner]);
      double sum = 0;
      for (int64_t k = 0; k < n; ++k) sum += std::exp(static_cast<double>(src[k * inner] - mx));
      if (isLog) {
        const float ls = static_cast<float>(std::log(sum));
        for (int64_t k = 0; k < n; ++k) dst[k * inner] = src[k * inner] - mx - ls;
      } else {
        for (int64_t k = 0; k < n; ++k)
          dst[k * inner] = static_cast<float>(std::exp(static_cast<double>(src[k * inner] - mx)) / sum);
      }
    }
  }
  return Status::ok();
}

}  // namespace

void registerNormKernels(KernelTable& t) {
  t.add("BatchNormalization", kFloatOnly, batchNormKernel);
  t.add("LayerNormalization", kFloatOnly, layerNormKernel);
  t.add("AddLayerNorm", kFloatOnly, addLayerNormKernel);
  t.add("Softmax", kFloatOnly, softmaxKernel);
  t.add("LogSoftmax", kFloatOnly, softmaxKernel);
}

}  // namespace cpu
}  // namespace trt
