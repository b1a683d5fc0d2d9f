// CPU reference kernels for Conv, ConvTranspose and pooling. Layout: NC + spatial (NCHW for 2-D),
// dense row-major; weights OIHW (Conv) and IOHW (ConvTranspose). Precision: float32.
// Convolution is im2col + GEMM (OpenBLAS when available); a 1x1, stride-1, unpadded convolution
// uses the input directly as the GEMM operand.
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "backends/cpu/cpu_kernels.h"
#include "ir/ops/activation.h"
#include "ir/ops/window.h"

namespace trt {
namespace cpu {
namespace {

using Views = std::vector<TensorView>;

struct ConvGeom {
  int64_t n, c, m, group;
  Dims inSp, outSp;
  WindowParams p;
  int64_t inSize() const { return volume(inSp); }
  int64_t outSize() const { return volume(outSp); }
  int64_t kSize() const { return volume(p.kernel); }
};

Expected<ConvGeom> convGeom(const Layer& l, const TensorView& x, const TensorView& w, const TensorView& y,
                            bool transposed) {
  ConvGeom g;
  g.n = x.dims[0];
  g.c = x.dims[1];
  g.m = y.dims[1];
  g.group = l.attrs.getInt("group", 1);
  g.inSp.assign(x.dims.begin() + 2, x.dims.end());
  g.outSp.assign(y.dims.begin() + 2, y.dims.end());
  std::vector<int64_t> kernel(w.dims.begin() + 2, w.dims.end());
  kernel = l.attrs.getInts("kernel_shape", kernel);
  TRT_ASSIGN_OR_RETURN(g.p, resolveWindow(l.attrs, kernel, g.inSp, transposed));
  if (transposed && l.attrs.has("output_shape")) {
    // Explicit output shape: the total padding follows from it (SAME_UPPER-style split).
    for (size_t d = 0; d < kernel.size(); ++d) {
      int64_t eff = (kernel[d] - 1) * g.p.dilations[d] + 1;
      int64_t total = g.p.strides[d] * (g.inSp[d] - 1) + g.p.outputPadding[d] + eff - g.outSp[d];
      std::string ap = l.attrs.getString("auto_pad", "NOTSET");
      if (ap == "SAME_UPPER" || ap == "NOTSET") {
        g.p.padBegin[d] = total / 2;
        g.p.padEnd[d] = total - total / 2;
      } else {
        g.p.padEnd[d] = total / 2;
        g.p.padBegin[d] = total - total / 2;
      }
    }
  }
  return g;
}

// For every (channel, kernel offset) row and output position column, the input element or 0:
// col[(c * K + k) * outSize + o]. Used by Conv (gather) and, mirrored, by ConvTranspose (scatter).
template <bool kScatter>
void im2col(const ConvGeom& g, int64_t channels, float* img, float* col) {
  const int nd = static_cast<int>(g.inSp.size());
  const int64_t outSize = g.outSize(), kSize = g.kSize(), inSize = g.inSize();
  std::vector<int64_t> kIdx(nd), oIdx(nd);
  for (int64_t k = 0; k < kSize; ++k) {
    // decompose k into kernel coordinates
    int64_t rem = k;
    for (int d = nd - 1; d >= 0; --d) {
      kIdx[d] = rem % g.p.kernel[d];
      rem /= g.p.kernel[d];
    }
    for (int64_t o = 0; o < outSize; ++o) {
      int64_t r = o, inOff = 0, stride = 1;
      bool inside = true;
      for (int d = nd - 1; d >= 0; --d) {
        oIdx[d] = r % g.outSp[d];
        r /= g.outSp[d];
      }
      for (int d = nd - 1; d >= 0; --d) {
        int64_t pos = oIdx[d] * g.p.strides[d] - g.p.padBegin[d] + kIdx[d] * g.p.dilations[d];
        if (pos < 0 || pos >= g.inSp[d]) {
          inside = false;
          break;
        }
        inOff += pos * stride;
        stride *= g.inSp[d];
      }
      for (int64_t ch = 0; ch < channels; ++ch) {
        float* cv = col + (ch * kSize + k) * outSize + o;
        if (kScatter) {
          if (inside) img[ch * inSize + inOff] += *cv;
        } else {
          *cv = inside ? img[ch * inSize + inOff] : 0.f;
        }
      }
    }
  }
}

// 2-D im2col without per-element index decomposition (the common case).
void im2col2d(const ConvGeom& g, int64_t channels, const float* img, float* col) {
  const int64_t H = g.inSp[0], W = g.inSp[1], OH = g.outSp[0], OW = g.outSp[1];
  const int64_t KH = g.p.kernel[0], KW = g.p.kernel[1];
  const int64_t sh = g.p.strides[0], sw = g.p.strides[1], dh = g.p.dilations[0], dw = g.p.dilations[1];
  const int64_t ph = g.p.padBegin[0], pw = g.p.padBegin[1];
#pragma omp parallel for collapse(2) if (channels * OH * OW * KH * KW > (1 << 15))
  for (int64_t ch = 0; ch < channels; ++ch) {
    for (int64_t kh = 0; kh < KH; ++kh) {
      const float* src = img + ch * H * W;
      for (int64_t kw = 0; kw < KW; ++kw) {
        float* dst = col + ((ch * KH + kh) * KW + kw) * OH * OW;
        for (int64_t oh = 0; oh < OH; ++oh) {
          int64_t ih = oh * sh - ph + kh * dh;
          float* row = dst + oh * OW;
          if (ih < 0 || ih >= H) {
            std::fill(row, row + OW, 0.f);
            continue;
          }
          const float* srow = src + ih * W;
          for (int64_t ow = 0; ow < OW; ++ow) {
            int64_t iw = ow * sw - pw + kw * dw;
            row[ow] = (iw >= 0 && iw < W) ? srow[iw] : 0.f;
          }
        }
      }
    }
  }
}

bool isPointwise(const ConvGeom& g) {
  bool pointwise = g.kSize() == 1;
  for (size_t d = 0; d < g.inSp.size(); ++d)
    pointwise = pointwise && g.p.strides[d] == 1 && g.p.padBegin[d] == 0 && g.p.padEnd[d] == 0;
  return pointwise;
}

// Workspace: one group's im2col matrix (none for pointwise convolutions).
size_t convWorkspace(const Layer& l, const Views& in, const Views& out) {
  auto g = convGeom(l, in[0], in[1], out[0], false);
  if (!g.isOk() || isPointwise(*g)) return 0;
  return static_cast<size_t>(g->c / g->group * g->kSize() * g->outSize()) * sizeof(float);
}

Status convKernel(const Layer& l, const Views& in, Views& out, void* workspace) {
  const TensorView &x = in[0], &w = in[1];
  TensorView& y = out[0];
  TRT_ASSIGN_OR_RETURN(ConvGeom g, convGeom(l, x, w, y, false));
  const int64_t cg = g.c / g.group, mg = g.m / g.group, kSize = g.kSize();
  const int64_t outSize = g.outSize(), inSize = g.inSize();
  const bool pointwise = isPointwise(g);
  float* col = static_cast<float*>(workspace);
  const float* wp = w.as<float>();
  const float* bias = in.size() > 2 && in[2].data ? in[2].as<float>() : nullptr;
  for (int64_t n = 0; n < g.n; ++n) {
    for (int64_t gi = 0; gi < g.group; ++gi) {
      float* img = x.as<float>() + (n * g.c + gi * cg) * inSize;
      float* dst = y.as<float>() + (n * g.m + gi * mg) * outSize;
      const float* colp = img;
      if (!pointwise) {
        if (g.inSp.size() == 2)
          im2col2d(g, cg, img, col);
        else
          im2col<false>(g, cg, img, col);
        colp = col;
      }
      // The bias is written first and the GEMM accumulates onto it (beta = 1): one pass fewer.
      if (bias) {
#pragma omp parallel for if (mg * outSize > (1 << 15))
        for (int64_t m = 0; m < mg; ++m)
          std::fill(dst + m * outSize, dst + (m + 1) * outSize, bias[gi * mg + m]);
      }
      sgemm(false, false, mg, outSize, cg * kSize, 1.f, wp + gi * mg * cg * kSize, cg * kSize, colp, outSize,
            bias ? 1.f : 0.f, dst, outSize);
    }
  }
  return Status::ok();
}

// ---- FusedConv: Y = act(Conv(X, W) + B + Z), or act(Conv(X, W) + B) + Z (z_after_activation) ----
// The NHWC form (X/Y/Z channels-last, W as OHWI) is the layout the CUDA backend picks for FP16;
// the reference transposes to NCHW, runs the convolution above and transposes back.

// 4-D permutes between channels-first and channels-last, float32.
void nhwcToNchw(const float* src, float* dst, int64_t n, int64_t h, int64_t w, int64_t c) {
  for (int64_t b = 0; b < n; ++b)
    for (int64_t y = 0; y < h; ++y)
      for (int64_t x = 0; x < w; ++x)
        for (int64_t k = 0; k < c; ++k)
          dst[((b * c + k) * h + y) * w + x] = src[((b * h + y) * w + x) * c + k];
}
void nchwToNhwc(const float* src, float* dst, int64_t n, int64_t c, int64_t h, int64_t w) {
  for (int64_t b = 0; b < n; ++b)
    for (int64_t k = 0; k < c; ++k)
      for (int64_t y = 0; y < h; ++y)
        for (int64_t x = 0; x < w; ++x)
          dst[((b * h + y) * w + x) * c + k] = src[((b * c + k) * h + y) * w + x];
}
Dims nchwDims(const Dims& nhwc) {
  return {nhwc[0], nhwc[3], nhwc[1], nhwc[2]};
}

bool isNhwc(const Layer& l) {
  return l.attrs.getString("layout", "NCHW") == "NHWC";
}

// Views of a FusedConv's X, W (and B) and Y in channels-first form (dims only when data is null).
Views convViews(const Layer& l, const Views& in, const Views& out, Views& y) {
  Views cv = {in[0], in[1]};
  if (in.size() > 2) cv.push_back(in[2]);
  y = {out[0]};
  if (isNhwc(l)) {
    cv[0].dims = nchwDims(in[0].dims);
    cv[1].dims = nchwDims(in[1].dims);
    y[0].dims = nchwDims(out[0].dims);
  }
  return cv;
}

size_t fusedConvWorkspace(const Layer& l, const Views& in, const Views& out) {
  Views y;
  Views cv = convViews(l, in, out, y);
  return convWorkspace(l, cv, y);
}

Status fusedConvKernel(const Layer& l, const Views& in, Views& out, void* workspace) {
  TRT_ASSIGN_OR_RETURN(ActivationSpec act, activationOf(l.attrs));
  Views y;
  Views cv = convViews(l, in, out, y);
  std::vector<float> xt, wt, yt;
  if (isNhwc(l)) {
    const Dims &xd = in[0].dims, &wd = in[1].dims, &yd = out[0].dims;
    xt.resize(in[0].numel());
    wt.resize(in[1].numel());
    yt.resize(out[0].numel());
    nhwcToNchw(in[0].as<float>(), xt.data(), xd[0], xd[1], xd[2], xd[3]);
    nhwcToNchw(in[1].as<float>(), wt.data(), wd[0], wd[1], wd[2], wd[3]);
    cv[0].data = xt.data();
    cv[1].data = wt.data();
    y[0].data = yt.data();
    TRT_RETURN_IF_ERROR(convKernel(l, cv, y, workspace));
    nchwToNhwc(yt.data(), out[0].as<float>(), yd[0], yd[3], yd[1], yd[2]);
  } else {
    TRT_RETURN_IF_ERROR(convKernel(l, cv, y, workspace));
  }
  float* dst = out[0].as<float>();
  const float* z = in.size() > 3 && in[3].data ? in[3].as<float>() : nullptr;
  const int64_t n = out[0].numel();
  if (z && l.attrs.getInt("z_after_activation", 0) != 0) {  // y = act(conv + b) + z
#pragma omp parallel for if (n > (1 << 15))
    for (int64_t i = 0; i < n; ++i) dst[i] = applyActivation(act, dst[i]) + z[i];
    return Status::ok();
  }
#pragma omp parallel for if (n > (1 << 15))
  for (int64_t i = 0; i < n; ++i) dst[i] = applyActivation(act, z ? dst[i] + z[i] : dst[i]);
  return Status::ok();
}

// Workspace: one group's column matrix.
size_t convTransposeWorkspace(const Layer& l, const Views& in, const Views& out) {
  auto g = convGeom(l, in[0], in[1], out[0], true);
  if (!g.isOk()) return 0;
  return static_cast<size_t>(g->m / g->group * g->kSize() * g->inSize()) * sizeof(float);
}

// ConvTranspose: col = W_g^T * X_g, then col2im scatters col into the output image.
Status convTransposeKernel(const Layer& l, const Views& in, Views& out, void* workspace) {
  const TensorView &x = in[0], &w = in[1];
  TensorView& y = out[0];
  TRT_ASSIGN_OR_RETURN(ConvGeom g, convGeom(l, x, w, y, true));
  const int64_t cg = g.c / g.group, mg = g.m / g.group, kSize = g.kSize();
  // In the transposed view the roles flip: the "output" grid of im2col is the input image.
  ConvGeom t = g;
  t.inSp = g.outSp;
  t.outSp = g.inSp;
  const int64_t inSize = g.inSize(), outSize = g.outSize();
  float* col = static_cast<float*>(workspace);
  const float* bias = in.size() > 2 && in[2].data ? in[2].as<float>() : nullptr;
  std::fill(y.as<float>(), y.as<float>() + y.numel(), 0.f);
  for (int64_t n = 0; n < g.n; ++n) {
    for (int64_t gi = 0; gi < g.group; ++gi) {
      const float* xin = x.as<float>() + (n * g.c + gi * cg) * inSize;
      const float* wg = w.as<float>() + gi * cg * mg * kSize;
      sgemm(true, false, mg * kSize, inSize, cg, 1.f, wg, mg * kSize, xin, inSize, 0.f, col, inSize);
      float* dst = y.as<float>() + (n * g.m + gi * mg) * outSize;
      im2col<true>(t, mg, dst, col);
      if (bias)
        for (int64_t m = 0; m < mg; ++m)
          for (int64_t o = 0; o < outSize; ++o) dst[m * outSize + o] += bias[gi * mg + m];
    }
  }
  return Status::ok();
}

// 2-D pooling over one plane with the window clipped to the input (the common case).
void pool2d(const WindowParams& p, bool isMax, bool countPad, const float* src, int64_t H, int64_t W,
            float* dst, int64_t OH, int64_t OW) {
  for (int64_t oh = 0; oh < OH; ++oh) {
    for (int64_t ow = 0; ow < OW; ++ow) {
      float acc = isMax ? -std::numeric_limits<float>::infinity() : 0.f;
      int64_t valid = 0, padded = 0;
      for (int64_t kh = 0; kh < p.kernel[0]; ++kh) {
        const int64_t ih = oh * p.strides[0] - p.padBegin[0] + kh * p.dilations[0];
        const bool rowPadded = ih >= -p.padBegin[0] && ih < H + p.padEnd[0];
        for (int64_t kw = 0; kw < p.kernel[1]; ++kw) {
          const int64_t iw = ow * p.strides[1] - p.padBegin[1] + kw * p.dilations[1];
          if (rowPadded && iw >= -p.padBegin[1] && iw < W + p.padEnd[1]) ++padded;
          if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
          ++valid;
          const float v = src[ih * W + iw];
          if (isMax)
            acc = (v > acc || std::isnan(v)) ? v : acc;
          else
            acc += v;
        }
      }
      if (!isMax) acc /= static_cast<float>(countPad ? padded : std::max<int64_t>(valid, 1));
      dst[oh * OW + ow] = acc;
    }
  }
}

Status poolKernelNchw(const Layer& l, const Views& in, Views& out);

// A one-input, one-output 4-D layer computed by `nchw`: directly, or for the NHWC form (layout
// attribute, set by the CUDA layout assignment) through transposed copies.
Status throughNchw(const Layer& l, const Views& in, Views& out,
                   Status (*nchw)(const Layer&, const Views&, Views&)) {
  if (!isNhwc(l)) return nchw(l, in, out);
  const Dims &xd = in[0].dims, &yd = out[0].dims;
  std::vector<float> xt(in[0].numel()), yt(out[0].numel());
  nhwcToNchw(in[0].as<float>(), xt.data(), xd[0], xd[1], xd[2], xd[3]);
  Views ci = {in[0]}, co = {out[0]};
  ci[0].dims = nchwDims(xd);
  ci[0].data = xt.data();
  co[0].dims = nchwDims(yd);
  co[0].data = yt.data();
  TRT_RETURN_IF_ERROR(nchw(l, ci, co));
  nchwToNhwc(yt.data(), out[0].as<float>(), yd[0], yd[3], yd[1], yd[2]);
  return Status::ok();
}

Status poolKernel(const Layer& l, const Views& in, Views& out) {
  return throughNchw(l, in, out, poolKernelNchw);
}

Status poolKernelNchw(const Layer& l, const Views& in, Views& out) {
  const TensorView& x = in[0];
  TensorView& y = out[0];
  const bool isMax = l.type == "MaxPool";
  Dims inSp(x.dims.begin() + 2, x.dims.end()), outSp(y.dims.begin() + 2, y.dims.end());
  TRT_ASSIGN_OR_RETURN(WindowParams p, resolveWindow(l.attrs, l.attrs.getInts("kernel_shape"), inSp, false));
  const bool countPad = l.attrs.getInt("count_include_pad", 0) != 0;
  if (inSp.size() == 2) {
    const int64_t planes = x.dims[0] * x.dims[1];
#pragma omp parallel for if (y.numel() > (1 << 12))
    for (int64_t pl = 0; pl < planes; ++pl)
      pool2d(p, isMax, countPad, x.as<float>() + pl * inSp[0] * inSp[1], inSp[0], inSp[1],
             y.as<float>() + pl * outSp[0] * outSp[1], outSp[0], outSp[1]);
    return Status::ok();
  }
  const int nd = static_cast<int>(inSp.size());
  const int64_t planes = x.dims[0] * x.dims[1], inSize = volume(inSp), outSize = volume(outSp),
                kSize = volume(p.kernel);
  std::vector<int64_t> o(nd), k(nd);
  for (int64_t pl = 0; pl < planes; ++pl) {
    const float* src = x.as<float>() + pl * inSize;
    float* dst = y.as<float>() + pl * outSize;
    for (int64_t oi = 0; oi < outSize; ++oi) {
      int64_t r = oi;
      for (int d = nd - 1; d >= 0; --d) {
        o[d] = r % outSp[d];
        r /= outSp[d];
      }
      float acc = isMax ? -std::numeric_limits<float>::infinity() : 0.f;
      int64_t valid = 0, padded = 0;
      for (int64_t ki = 0; ki < kSize; ++ki) {
        int64_t rk = ki, off = 0, stride = 1;
        bool inside = true, inPadded = true;
        for (int d = nd - 1; d >= 0; --d) {
          k[d] = rk % p.kernel[d];
          rk /= p.kernel[d];
        }
        for (int d = nd - 1; d >= 0; --d) {
          int64_t pos = o[d] * p.strides[d] - p.padBegin[d] + k[d] * p.dilations[d];
          if (pos < -p.padBegin[d] || pos >= inSp[d] + p.padEnd[d]) inPadded = false;
          if (pos < 0 || pos >= inSp[d]) inside = false;
          off += pos * stride;
          stride *= inSp[d];
        }
        if (inPadded) ++padded;
        if (!inside) continue;
        ++valid;
        float v = src[off];
        if (isMax)
          acc = (v > acc || std::isnan(v)) ? v : acc;
        else
          acc += v;
      }
      if (!isMax) acc /= static_cast<float>(countPad ? padded : std::max<int64_t>(valid, 1));
      dst[oi] = acc;
    }
  }
  return Status::ok();
}

// MaxPoolCascade: Y = [X, P1, .., Pcount] along the channels, P_i the k x k stride-1 max pool of
// P_(i-1) with k / 2 pads (P_0 = X), plane by plane in NCHW (NHWC through NCHW copies, as the pools).
Status maxPoolCascadeNchw(const Layer& l, const Views& in, Views& out) {
  const Dims& xd = in[0].dims;
  const float* x = in[0].as<float>();
  float* y = out[0].as<float>();
  const int64_t n = xd[0], c = xd[1], h = xd[2], w = xd[3], plane = h * w;
  const int64_t k = l.attrs.getInts("kernel_shape").at(0), count = l.attrs.getInt("count", 0);
  WindowParams p;
  p.kernel = {k, k};
  p.strides = {1, 1};
  p.dilations = {1, 1};
  p.padBegin = p.padEnd = {k / 2, k / 2};
#pragma omp parallel for if (n * c * plane > (1 << 12))
  for (int64_t pl = 0; pl < n * c; ++pl) {
    const int64_t b = pl / c, ch = pl % c;
    const float* prev = x + pl * plane;
    for (int64_t i = 0; i <= count; ++i) {
      float* dst = y + ((b * (count + 1) + i) * c + ch) * plane;
      if (i == 0)
        std::copy(prev, prev + plane, dst);
      else
        pool2d(p, true, false, prev, h, w, dst, h, w);
      prev = dst;
    }
  }
  return Status::ok();
}

Status maxPoolCascadeKernel(const Layer& l, const Views& in, Views& out) {
  return throughNchw(l, in, out, maxPoolCascadeNchw);
}

Status globalPoolKernel(const Layer& l, const Views& in, Views& out) {
  const TensorView& x = in[0];
  const int64_t planes = x.dims[0] * x.dims[1];
  const int64_t size = planes ? x.numel() / planes : 0;
  const bool isMax = l.type == "GlobalMaxPool";
  for (int64_t p = 0; p < planes; ++p) {
    const float* src = x.as<float>() + p * size;
    float acc = isMax ? -std::numeric_limits<float>::infinity() : 0.f;
    for (int64_t i = 0; i < size; ++i) acc = isMax ? std::max(acc, src[i]) : acc + src[i];
    out[0].as<float>()[p] = isMax ? acc : acc / static_cast<float>(size);
  }
  return Status::ok();
}

}  // namespace

void registerConvPoolKernels(KernelTable& t) {
  t.addWithWorkspace("Conv", kFloatOnly, convKernel, convWorkspace,
                     haveBlas() ? "cpu_conv_im2col_openblas" : "cpu_conv_im2col");
  t.addWithWorkspace("FusedConv", kFloatOnly, fusedConvKernel, fusedConvWorkspace,
                     haveBlas() ? "cpu_fused_conv_im2col_openblas" : "cpu_fused_conv_im2col");
  t.addWithWorkspace("ConvTranspose", kFloatOnly, convTransposeKernel, convTransposeWorkspace,
                     haveBlas() ? "cpu_deconv_col2im_openblas" : "cpu_deconv_col2im");
  t.add("MaxPool", kFloatOnly, poolKernel);
  t.add("AveragePool", kFloatOnly, poolKernel);
  t.add("GlobalAveragePool", kFloatOnly, globalPoolKernel);
  t.add("GlobalMaxPool", kFloatOnly, globalPoolKernel);
  t.add("MaxPoolCascade", kFloatOnly, maxPoolCascadeKernel);
}

}  // namespace cpu
}  // namespace trt
