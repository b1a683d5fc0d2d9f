// Data-movement kernels: strided copy (Transpose, Slice, Expand, Concat, Split), Tile, Pad,
// Gather, GatherElements and Resize. Layout: dense row-major; elements moved as raw bytes of
// `elemSize` (1, 2, 4 or 8), so every data type is served. Resize is float32.
#include <cuda_fp16.h>

#include <type_traits>

#include "kernel_common.cuh"
#include "kernels.h"

namespace trt {
namespace kernels {
namespace {

using namespace common;

int64_t volumeOf(const Shape8& s) {
  int64_t v = 1;
  for (int i = 0; i < s.rank; ++i) v *= s.dims[i];
  return v;
}

// The element as the output's type: the same bytes, or float32 <-> float16 (stridedConvert).
template <typename TO, typename TI>
__device__ __forceinline__ TO convertElem(TI v) {
  if constexpr (std::is_same_v<TI, TO>)
    return v;
  else
    return fromF<TO>(toF(v));
}

// I: the index type, 32-bit when every offset fits (64-bit division is many times slower).
template <typename TI, typename TO, typename I>
__global__ void stridedCopyKernel(const TI* __restrict__ in, TO* __restrict__ out, StridedCopy p, I n) {
  TRT_WAIT_PRIOR_GRID();
  for (I o = blockIdx.x * static_cast<I>(blockDim.x) + threadIdx.x; o < n;
       o += static_cast<I>(gridDim.x) * blockDim.x) {
    I r = o, src = static_cast<I>(p.inOffset), dst = static_cast<I>(p.outOffset);
    for (int d = p.out.rank - 1; d >= 0; --d) {
      const I dim = static_cast<I>(p.out.dims[d]);
      const I i = r % dim;
      r /= dim;
      src += i * static_cast<I>(p.inStrides[d]);
      dst += i * static_cast<I>(p.outStrides[d]);
    }
    out[dst] = convertElem<TO>(in[src]);
  }
}

// Launches the strided copy over n elements, with 32-bit indices when the largest offset either
// side can reach fits.
template <typename TI, typename TO>
cudaError_t launchStrided(const TI* in, TO* out, const StridedCopy& p, int64_t n, cudaStream_t s) {
  int64_t maxIn = p.inOffset, maxOut = p.outOffset;
  for (int d = 0; d < p.out.rank; ++d) {
    maxIn += (p.out.dims[d] - 1) * (p.inStrides[d] < 0 ? -p.inStrides[d] : p.inStrides[d]);
    maxOut += (p.out.dims[d] - 1) * p.outStrides[d];
  }
  if (n < (int64_t{1} << 31) && maxIn < (int64_t{1} << 31) && maxOut < (int64_t{1} << 31) && p.inOffset >= 0)
    stridedCopyKernel<TI, TO, int32_t><<<blocksFor(n), kThreads, 0, s>>>(in, out, p, static_cast<int32_t>(n));
  else
    stridedCopyKernel<TI, TO, int64_t><<<blocksFor(n), kThreads, 0, s>>>(in, out, p, n);
  return cudaGetLastError();
}

// One thread per unit V of the whole [outer, rowUnits]: finds its part by the column, then
// copies the unit from the part (concat) or into it (split).
struct RowPartsV {
  int parts;
  int64_t innerV[kMaxRowParts];  // units per row of each part
  void* data[kMaxRowParts];
};

template <typename V, typename I>
__global__ void rowPartsKernel(RowPartsV p, V* whole, I rowUnits, I n, bool split) {
  TRT_WAIT_PRIOR_GRID();
  for (I v = blockIdx.x * static_cast<I>(blockDim.x) + threadIdx.x; v < n;
       v += static_cast<I>(gridDim.x) * blockDim.x) {
    const I row = v / rowUnits;
    I col = v - row * rowUnits;
    int k = 0;
    while (k < p.parts - 1 && col >= static_cast<I>(p.innerV[k])) {
      col -= static_cast<I>(p.innerV[k]);
      ++k;
    }
    V* part = static_cast<V*>(p.data[k]) + row * static_cast<I>(p.innerV[k]) + col;
    if (split)
      *part = whole[v];
    else
      whole[v] = *part;
  }
}

template <typename V>
cudaError_t launchRowParts(const RowParts& p, void* whole, int elemSize, bool split, cudaStream_t s) {
  RowPartsV q{};
  int64_t rowUnits = 0;
  for (int k = 0; k < p.parts; ++k) {
    q.innerV[q.parts] = p.inner[k] * elemSize / static_cast<int64_t>(sizeof(V));
    q.data[q.parts] = p.data[k];
    rowUnits += q.innerV[q.parts];
    if (q.innerV[q.parts] > 0) ++q.parts;  // empty parts move nothing
  }
  const int64_t n = p.outer * rowUnits;
  if (n == 0 || q.parts == 0) return cudaSuccess;
  if (n < (int64_t{1} << 31))
    rowPartsKernel<V, int32_t><<<blocksFor(n), kThreads, 0, s>>>(
        q, static_cast<V*>(whole), static_cast<int32_t>(rowUnits), static_cast<int32_t>(n), split);
  else
    rowPartsKernel<V, int64_t>
        <<<blocksFor(n), kThreads, 0, s>>>(q, static_cast<V*>(whole), rowUnits, n, split);
  return cudaGetLastError();
}

cudaError_t rowParts(const RowParts& p, void* whole, int elemSize, bool split, cudaStream_t s) {
  if (p.parts < 1 || p.parts > kMaxRowParts) return cudaErrorInvalidValue;
  // The widest unit that divides every row length and address.
  int unit = 16;
  auto fits = [&](int u) {
    if (u < elemSize || reinterpret_cast<uintptr_t>(whole) % u) return false;
    for (int k = 0; k < p.parts; ++k)
      if ((p.inner[k] * elemSize) % u || reinterpret_cast<uintptr_t>(p.data[k]) % u) return false;
    return true;
  };
  while (unit > elemSize && !fits(unit)) unit /= 2;
  switch (unit) {
    case 16:
      return launchRowParts<uint4>(p, whole, elemSize, split, s);
    case 8:
      return launchRowParts<uint2>(p, whole, elemSize, split, s);
    case 4:
      return launchRowParts<uint32_t>(p, whole, elemSize, split, s);
    case 2:
      return launchRowParts<uint16_t>(p, whole, elemSize, split, s);
    case 1:
      return launchRowParts<uint8_t>(p, whole, elemSize, split, s);
  }
  return cudaErrorInvalidValue;
}

template <typename T>
__global__ void tileKernel(const T* in, Shape8 ins, T* out, Shape8 outs, int64_t n) {
  TRT_WAIT_PRIOR_GRID();
  for (int64_t o = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; o < n;
       o += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    int64_t r = o, src = 0;
    for (int d = outs.rank - 1; d >= 0; --d) {
      const int64_t i = r % outs.dims[d];
      r /= outs.dims[d];
      src += (i % ins.dims[d]) * ins.strides[d];
    }
    out[o] = in[src];
  }
}

// One thread per pixel of [N, S]: its C channels read from [N, C, S], written side by side.
template <typename TI, typename TO, typename I>
__global__ void channelsLastSmallKernel(const TI* __restrict__ in, TO* __restrict__ out, I c, I spatial,
                                        I pixels) {
  TRT_WAIT_PRIOR_GRID();
  for (I o = blockIdx.x * static_cast<I>(blockDim.x) + threadIdx.x; o < pixels;
       o += static_cast<I>(gridDim.x) * blockDim.x) {
    const I b = o / spatial, p = o - b * spatial;
    const TI* src = in + b * c * spatial + p;
    TO* dst = out + o * c;
    for (I k = 0; k < c; ++k) dst[k] = convertElem<TO>(src[k * spatial]);
  }
}

template <typename TI, typename TO>
cudaError_t launchChannelsLastSmall(const TI* in, TO* out, int64_t n, int64_t c, int64_t spatial,
                                    cudaStream_t s) {
  const int64_t pixels = n * spatial;
  if (pixels * c < (int64_t{1} << 31))
    channelsLastSmallKernel<TI, TO, int32_t><<<blocksFor(pixels), kThreads, 0, s>>>(
        in, out, static_cast<int32_t>(c), static_cast<int32_t>(spatial), static_cast<int32_t>(pixels));
  else
    channelsLastSmallKernel<TI, TO, int64_t>
        <<<blocksFor(pixels), kThreads, 0, s>>>(in, out, c, spatial, pixels);
  return cudaGetLastError();
}

struct PadArgs {
  int64_t padBegin[kMaxRank];
};

// Constant padding of the last axis only (an NHWC tensor's channels padded to 8): rows of ci
// elements become rows of co, the input at columns [begin, begin + ci), the fill elsewhere.
template <typename T, typename I>
__global__ void padLastAxisKernel(const T* __restrict__ in, T* __restrict__ out, I ci, I co, I begin, T fill,
                                  I n) {
  TRT_WAIT_PRIOR_GRID();
  for (I o = blockIdx.x * static_cast<I>(blockDim.x) + threadIdx.x; o < n;
       o += static_cast<I>(gridDim.x) * blockDim.x) {
    const I r = o / co, c = o - r * co - begin;
    out[o] = (c >= 0 && c < ci) ? in[r * ci + c] : fill;
  }
}

// The same when a padded row is one vector V (8 FP16 channels: 16 bytes): one thread per row
// assembles the row in registers and stores it once.
template <typename T, typename V>
__global__ void padRowVectorKernel(const T* __restrict__ in, V* __restrict__ out, int ci, int begin, T fill,
                                   int rows) {
  TRT_WAIT_PRIOR_GRID();
  constexpr int co = sizeof(V) / sizeof(T);
  for (int r = blockIdx.x * blockDim.x + threadIdx.x; r < rows; r += gridDim.x * blockDim.x) {
    union {
      V v;
      T e[co];
    } row;
    const T* src = in + static_cast<int64_t>(r) * ci;
#pragma unroll
    for (int c = 0; c < co; ++c) {
      const int k = c - begin;
      row.e[c] = (k >= 0 && k < ci) ? src[k] : fill;
    }
    out[r] = row.v;
  }
}

// Constant padding of the last axis of a strided input view (input_perm: an NCHW tensor read as
// NHWC, a stem's RGB channels padded to 4 or 8): one thread per output row gathers the row's ci
// elements `cs` apart from its base (the other axes' strides) and stores the padded row, as one
// vector V where the row is one (co elements of T = sizeof(V) bytes), else element by element.
template <typename T, typename V>
__global__ void padRowGatherKernel(const T* __restrict__ in, Shape8 ins, T* __restrict__ out, int co,
                                   int begin, T fill, int rows) {
  TRT_WAIT_PRIOR_GRID();
  const int last = ins.rank - 1, ci = static_cast<int>(ins.dims[last]);
  const int64_t cs = ins.strides[last];
  for (int r = blockIdx.x * blockDim.x + threadIdx.x; r < rows; r += gridDim.x * blockDim.x) {
    int64_t base = 0;
    int q = r;
    for (int d = last - 1; d >= 0; --d) {
      const int n = static_cast<int>(ins.dims[d]);
      base += static_cast<int64_t>(q % n) * ins.strides[d];
      q /= n;
    }
    if constexpr (sizeof(V) > sizeof(T)) {
      constexpr int kRow = sizeof(V) / sizeof(T);
      union {
        V v;
        T e[kRow];
      } row;
#pragma unroll
      for (int c = 0; c < kRow; ++c) {
        const int k = c - begin;
        row.e[c] = (k >= 0 && k < ci) ? in[base + k * cs] : fill;
      }
      reinterpret_cast<V*>(out)[r] = row.v;
    } else {
      T* dst = out + static_cast<int64_t>(r) * co;
      for (int c = 0; c < co; ++c) {
        const int k = c - begin;
        dst[c] = (k >= 0 && k < ci) ? in[base + k * cs] : fill;
      }
    }
  }
}

// I: 32-bit when every offset fits (64-bit division is many times slower).
template <typename T, typename I>
__global__ void padKernel(const T* in, Shape8 ins, T* out, Shape8 outs, PadArgs pa, int mode, T fill, I n) {
  TRT_WAIT_PRIOR_GRID();
  for (I o = blockIdx.x * static_cast<I>(blockDim.x) + threadIdx.x; o < n;
       o += static_cast<I>(gridDim.x) * blockDim.x) {
    I r = o, src = 0;
    bool outside = false;
    for (int d = outs.rank - 1; d >= 0; --d) {
      const I od = static_cast<I>(outs.dims[d]);
      I i = r % od - static_cast<I>(pa.padBegin[d]);
      r /= od;
      const I len = static_cast<I>(ins.dims[d]);
      if (i < 0 || i >= len) {
        if (mode == 0) {
          outside = true;
          continue;
        }
        if (mode == 2) {
          i = i < 0 ? 0 : len - 1;
        } else if (len == 1) {
          i = 0;
        } else {
          const I period = 2 * (len - 1);
          i = ((i % period) + period) % period;
          if (i >= len) i = period - i;
        }
      }
      src += i * static_cast<I>(ins.strides[d]);
    }
    out[o] = outside ? fill : in[src];
  }
}

template <typename T, typename I>
__global__ void gatherKernel(const T* in, const I* idx, T* out, int64_t outer, int64_t dim, int64_t n,
                             int64_t inner, int* err) {
  TRT_WAIT_PRIOR_GRID();
  const int64_t total = outer * n * inner;
  for (int64_t o = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; o < total;
       o += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t i = o % inner, k = (o / inner) % n, a = o / (inner * n);
    int64_t j = static_cast<int64_t>(idx[k]);
    if (j < 0) j += dim;
    if (j < 0 || j >= dim) {
      if (err) *err = 1;
      out[o] = T();
      continue;
    }
    out[o] = in[(a * dim + j) * inner + i];
  }
}

template <typename T, typename I>
__global__ void gatherElementsKernel(const T* in, Shape8 ins, const I* idx, Shape8 idxs, int axis, T* out,
                                     int64_t n) {
  TRT_WAIT_PRIOR_GRID();
  for (int64_t o = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; o < n;
       o += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    int64_t r = o, src = 0;
    for (int d = idxs.rank - 1; d >= 0; --d) {
      int64_t i = r % idxs.dims[d];
      r /= idxs.dims[d];
      if (d == axis) {
        i = static_cast<int64_t>(idx[o]);
        if (i < 0) i += ins.dims[d];
      }
      src += i * ins.strides[d];
    }
    out[o] = in[src];
  }
}

template <typename T, typename I>
__global__ void gatherNDKernel(const T* in, Shape8 ins, const I* idx, int last, int b, int64_t perBatch,
                               int64_t slice, T* out, int64_t n) {
  TRT_WAIT_PRIOR_GRID();
  for (int64_t o = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; o < n;
       o += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t t = o / slice, within = o % slice;
    int64_t src = (b > 0 ? (t / perBatch) * ins.strides[b - 1] : 0) + within;
    for (int j = 0; j < last; ++j) {
      int64_t v = static_cast<int64_t>(idx[t * last + j]);
      if (v < 0) v += ins.dims[b + j];
      src += v * ins.strides[b + j];
    }
    out[o] = in[src];
  }
}

__device__ float sourceCoord(int ctm, int64_t x, float scale, int64_t inLen, int64_t outLen) {
  const float s = scale;
  switch (ctm) {
    case 1:
      return x / s;
    case 2: {
      const float outF = s * inLen;
      return (outLen == 1 || outF == 1.f) ? 0.f : static_cast<float>(x) * (inLen - 1) / (outF - 1);
    }
    case 3:
      return outLen > 1 ? (x + 0.5f) / s - 0.5f : 0.f;
    case 4: {
      const float adj = outLen / (s * inLen);
      return inLen / 2.f * (1 - adj) + (x + 0.5f) / s - 0.5f;
    }
    default:
      return (x + 0.5f) / s - 0.5f;
  }
}

template <typename T>
__global__ void resizeKernel(const T* x, T* y, ResizeParams p, int64_t n) {
  TRT_WAIT_PRIOR_GRID();
  for (int64_t o = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; o < n;
       o += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    int64_t i0[kMaxRank], i1[kMaxRank];
    float w1[kMaxRank];
    int64_t r = o;
    for (int d = p.out.rank - 1; d >= 0; --d) {
      const int64_t od = r % p.out.dims[d];
      r /= p.out.dims[d];
      const int64_t len = p.in.dims[d];
      float v = sourceCoord(p.ctm, od, p.scales[d], len, p.out.dims[d]);
      if (p.mode == 0) {
        int64_t i;
        if (p.nearest == 2)
          i = static_cast<int64_t>(floorf(v));
        else if (p.nearest == 3)
          i = static_cast<int64_t>(ceilf(v));
        else {
          const float f = floorf(v);
          i = (v - f == 0.5f) ? static_cast<int64_t>(p.nearest == 1 ? f + 1 : f)
                              : static_cast<int64_t>(rintf(v));
        }
        i = i < 0 ? 0 : (i >= len ? len - 1 : i);
        i0[d] = i1[d] = i;
        w1[d] = 0.f;
      } else {
        v = fminf(fmaxf(v, 0.f), static_cast<float>(len - 1));
        const int64_t f = static_cast<int64_t>(floorf(v));
        i0[d] = f;
        i1[d] = f + 1 < len ? f + 1 : len - 1;
        w1[d] = v - f;
      }
    }
    float acc = 0.f;
    const int rank = p.out.rank;
    for (int corner = 0; corner < (1 << rank); ++corner) {
      float w = 1.f;
      int64_t off = 0;
      for (int d = 0; d < rank && w != 0.f; ++d) {
        const bool hi = (corner >> d) & 1;
        w *= hi ? w1[d] : 1.f - w1[d];
        off += (hi ? i1[d] : i0[d]) * p.in.strides[d];
      }
      if (w != 0.f) acc += w * toF(x[off]);
    }
    const int64_t last = p.out.dims[rank - 1];
    y[p.yRowStride ? o / last * p.yRowStride + o % last : o] = fromF<T>(acc);
  }
}

#define TRT_DISPATCH_ELEM(es, CALL) \
  switch (es) {                     \
    case 1: {                       \
      using T = uint8_t;            \
      CALL;                         \
      break;                        \
    }                               \
    case 2: {                       \
      using T = uint16_t;           \
      CALL;                         \
      break;                        \
    }                               \
    case 4: {                       \
      using T = uint32_t;           \
      CALL;                         \
      break;                        \
    }                               \
    case 8: {                       \
      using T = uint64_t;           \
      CALL;                         \
      break;                        \
    }                               \
    default:                        \
      return cudaErrorInvalidValue; \
  }

}  // namespace

cudaError_t stridedCopy(const void* in, void* out, const StridedCopy& p, int elemSize, cudaStream_t s) {
  const int64_t n = volumeOf(p.out);
  if (n == 0) return cudaSuccess;
  // Contiguous innermost runs (Transpose keeping the last dim, Concat, Split, Slice of leading
  // dims): copy 16-byte vectors when every stride, offset and address allows it.
  const int last = p.out.rank - 1;
  if (last >= 0 && elemSize < 16 && p.inStrides[last] == 1 && p.outStrides[last] == 1) {
    const int64_t v = 16 / elemSize;
    bool ok = p.out.dims[last] % v == 0 && p.inOffset % v == 0 && p.outOffset % v == 0 &&
              reinterpret_cast<uintptr_t>(in) % 16 == 0 && reinterpret_cast<uintptr_t>(out) % 16 == 0;
    for (int d = 0; d < last && ok; ++d) ok = p.inStrides[d] % v == 0 && p.outStrides[d] % v == 0;
    if (ok) {
      StridedCopy q = p;
      q.out.dims[last] /= v;
      for (int d = 0; d < last; ++d) {
        q.inStrides[d] /= v;
        q.outStrides[d] /= v;
      }
      q.inOffset /= v;
      q.outOffset /= v;
      return stridedCopy(in, out, q, 16, s);
    }
  }
  if (elemSize == 16) return launchStrided(static_cast<const uint4*>(in), static_cast<uint4*>(out), p, n, s);
  TRT_DISPATCH_ELEM(elemSize, return launchStrided(static_cast<const T*>(in), static_cast<T*>(out), p, n, s));
  return cudaErrorInvalidValue;
}

cudaError_t stridedConvert(const void* in, KType inType, void* out, KType outType, const StridedCopy& p,
                           cudaStream_t s) {
  const int64_t n = volumeOf(p.out);
  if (n == 0) return cudaSuccess;
  if (inType == KType::kF32 && outType == KType::kF16)
    return launchStrided(static_cast<const float*>(in), static_cast<__half*>(out), p, n, s);
  if (inType == KType::kF16 && outType == KType::kF32)
    return launchStrided(static_cast<const __half*>(in), static_cast<float*>(out), p, n, s);
  return cudaErrorNotSupported;
}

cudaError_t channelsLastSmall(const void* in, KType inType, void* out, KType outType, int64_t n, int64_t c,
                              int64_t spatial, cudaStream_t s) {
  if (c < 1 || c > kMaxChannelsLastSmall) return cudaErrorInvalidValue;
  if (n * spatial == 0) return cudaSuccess;
  const bool f32In = inType == KType::kF32, f32Out = outType == KType::kF32;
  if ((!f32In && inType != KType::kF16) || (!f32Out && outType != KType::kF16)) return cudaErrorNotSupported;
  if (f32In && f32Out)
    return launchChannelsLastSmall(static_cast<const float*>(in), static_cast<float*>(out), n, c, spatial, s);
  if (f32In)
    return launchChannelsLastSmall(static_cast<const float*>(in), static_cast<__half*>(out), n, c, spatial,
                                   s);
  if (f32Out)
    return launchChannelsLastSmall(static_cast<const __half*>(in), static_cast<float*>(out), n, c, spatial,
                                   s);
  return launchChannelsLastSmall(static_cast<const __half*>(in), static_cast<__half*>(out), n, c, spatial, s);
}

cudaError_t concatRows(const RowParts& parts, void* out, int elemSize, cudaStream_t s) {
  return rowParts(parts, out, elemSize, false, s);
}

cudaError_t splitRows(const void* in, const RowParts& parts, int elemSize, cudaStream_t s) {
  return rowParts(parts, const_cast<void*>(in), elemSize, true, s);
}

cudaError_t tile(const void* in, const Shape8& ins, void* out, const Shape8& outs, int elemSize,
                 cudaStream_t s) {
  const int64_t n = volumeOf(outs);
  if (n == 0) return cudaSuccess;
  TRT_DISPATCH_ELEM(elemSize, (tileKernel<T><<<blocksFor(n), kThreads, 0, s>>>(
                                  static_cast<const T*>(in), ins, static_cast<T*>(out), outs, n)));
  return cudaGetLastError();
}

cudaError_t pad(const void* in, const Shape8& ins, void* out, const Shape8& outs, const int64_t* padBegin,
                int mode, uint64_t fill, int elemSize, cudaStream_t s) {
  const int64_t n = volumeOf(outs);
  if (n == 0) return cudaSuccess;
  bool denseIn = true;  // (else a permuted view: input_perm)
  for (int64_t d = ins.rank - 1, st = 1; d >= 0; st *= ins.dims[d], --d)
    denseIn = denseIn && ins.strides[d] == st;
  // The last axis unpadded (a spatial pad of an NHWC tensor: the convolutions' asymmetric pads):
  // move whole groups of its elements as one wider element (up to 8 bytes), a quarter of the index
  // math and of the accesses for 4 FP16 channels. Any mode: the groups move together.
  const int last = outs.rank - 1;
  if (denseIn && outs.rank >= 1 && padBegin[last] == 0 && ins.dims[last] == outs.dims[last] && elemSize < 8) {
    int64_t g = 1;
    while (elemSize * g * 2 <= 8 && ins.dims[last] % (g * 2) == 0 &&
           (reinterpret_cast<uintptr_t>(in) | reinterpret_cast<uintptr_t>(out)) % (elemSize * g * 2) == 0)
      g *= 2;
    if (g > 1) {
      Shape8 i2 = ins, o2 = outs;
      i2.dims[last] /= g;
      o2.dims[last] /= g;
      for (Shape8* sh : {&i2, &o2})
        for (int64_t d = sh->rank - 1, st = 1; d >= 0; st *= sh->dims[d], --d) sh->strides[d] = st;
      uint64_t wide = 0;
      const uint64_t one = fill & (elemSize == 8 ? ~uint64_t{0} : ((uint64_t{1} << (8 * elemSize)) - 1));
      for (int64_t k = 0; k < g; ++k) wide |= one << (8 * elemSize * k);
      return pad(in, i2, out, o2, padBegin, mode, wide, static_cast<int>(elemSize * g), s);
    }
  }
  PadArgs pa;
  for (int d = 0; d < kMaxRank; ++d) pa.padBegin[d] = d < outs.rank ? padBegin[d] : 0;
  const bool fits = n < (int64_t{1} << 31) && volumeOf(ins) < (int64_t{1} << 31);
  bool lastOnly = mode == 0 && outs.rank > 0;
  for (int d = 0; d + 1 < outs.rank; ++d)
    lastOnly = lastOnly && pa.padBegin[d] == 0 && outs.dims[d] == ins.dims[d];
  if (lastOnly && fits && !denseIn) {  // rows gathered from the strided view
    const int co = static_cast<int>(outs.dims[last]), rows = static_cast<int>(n / co),
              b = static_cast<int>(pa.padBegin[last]), rowBytes = co * elemSize;
    const bool aligned = reinterpret_cast<uintptr_t>(out) % 16 == 0;
    if (aligned && elemSize == 2 && rowBytes == 8) {
      padRowGatherKernel<uint16_t, uint2><<<blocksFor(rows), kThreads, 0, s>>>(
          static_cast<const uint16_t*>(in), ins, static_cast<uint16_t*>(out), co, b,
          static_cast<uint16_t>(fill), rows);
    } else if (aligned && elemSize == 2 && rowBytes == 16) {
      padRowGatherKernel<uint16_t, uint4><<<blocksFor(rows), kThreads, 0, s>>>(
          static_cast<const uint16_t*>(in), ins, static_cast<uint16_t*>(out), co, b,
          static_cast<uint16_t>(fill), rows);
    } else if (aligned && elemSize == 4 && rowBytes == 16) {
      padRowGatherKernel<uint32_t, uint4><<<blocksFor(rows), kThreads, 0, s>>>(
          static_cast<const uint32_t*>(in), ins, static_cast<uint32_t*>(out), co, b,
          static_cast<uint32_t>(fill), rows);
    } else {
      TRT_DISPATCH_ELEM(elemSize, (padRowGatherKernel<T, T><<<blocksFor(rows), kThreads, 0, s>>>(
                                      static_cast<const T*>(in), ins, static_cast<T*>(out), co, b,
                                      static_cast<T>(fill), rows)));
    }
  } else if (lastOnly && fits) {
    const auto ci = static_cast<int32_t>(ins.dims[last]), co = static_cast<int32_t>(outs.dims[last]),
               b = static_cast<int32_t>(pa.padBegin[last]);
    const int rowBytes = co * elemSize, rows = static_cast<int>(n / co);
    const bool aligned = reinterpret_cast<uintptr_t>(out) % 16 == 0;
    if (aligned && elemSize == 2 && rowBytes == 16) {
      padRowVectorKernel<uint16_t, uint4>
          <<<blocksFor(rows), kThreads, 0, s>>>(static_cast<const uint16_t*>(in), static_cast<uint4*>(out),
                                                ci, b, static_cast<uint16_t>(fill), rows);
      return cudaGetLastError();
    }
    if (aligned && elemSize == 4 && rowBytes == 16) {
      padRowVectorKernel<uint32_t, uint4>
          <<<blocksFor(rows), kThreads, 0, s>>>(static_cast<const uint32_t*>(in), static_cast<uint4*>(out),
                                                ci, b, static_cast<uint32_t>(fill), rows);
      return cudaGetLastError();
    }
    TRT_DISPATCH_ELEM(elemSize, (padLastAxisKernel<T, int32_t><<<blocksFor(n), kThreads, 0, s>>>(
                                    static_cast<const T*>(in), static_cast<T*>(out), ci, co, b,
                                    static_cast<T>(fill), static_cast<int32_t>(n))));
  } else if (fits) {
    TRT_DISPATCH_ELEM(elemSize, (padKernel<T, int32_t><<<blocksFor(n), kThreads, 0, s>>>(
                                    static_cast<const T*>(in), ins, static_cast<T*>(out), outs, pa, mode,
                                    static_cast<T>(fill), static_cast<int32_t>(n))));
  } else {
    TRT_DISPATCH_ELEM(elemSize, (padKernel<T, int64_t><<<blocksFor(n), kThreads, 0, s>>>(
                                    static_cast<const T*>(in), ins, static_cast<T*>(out), outs, pa, mode,
                                    static_cast<T>(fill), n)));
  }
  return cudaGetLastError();
}

cudaError_t gather(const void* in, const void* idx, bool idx64, void* out, int64_t outer, int64_t dim,
                   int64_t n, int64_t inner, int elemSize, int* errorFlag, cudaStream_t s) {
  const int64_t total = outer * n * inner;
  if (total == 0) return cudaSuccess;
  if (idx64) {
    TRT_DISPATCH_ELEM(elemSize, (gatherKernel<T, int64_t><<<blocksFor(total), kThreads, 0, s>>>(
                                    static_cast<const T*>(in), static_cast<const int64_t*>(idx),
                                    static_cast<T*>(out), outer, dim, n, inner, errorFlag)));
  } else {
    TRT_DISPATCH_ELEM(elemSize, (gatherKernel<T, int32_t><<<blocksFor(total), kThreads, 0, s>>>(
                                    static_cast<const T*>(in), static_cast<const int32_t*>(idx),
                                    static_cast<T*>(out), outer, dim, n, inner, errorFlag)));
  }
  return cudaGetLastError();
}

cudaError_t gatherND(const void* in, const Shape8& ins, const void* idx, bool idx64, int64_t tuples, int last,
                     int b, int64_t perBatch, int64_t slice, void* out, int elemSize, cudaStream_t s) {
  const int64_t n = tuples * slice;
  if (n == 0) return cudaSuccess;
  if (idx64) {
    TRT_DISPATCH_ELEM(elemSize, (gatherNDKernel<T, int64_t><<<blocksFor(n), kThreads, 0, s>>>(
                                    static_cast<const T*>(in), ins, static_cast<const int64_t*>(idx), last, b,
                                    perBatch, slice, static_cast<T*>(out), n)));
  } else {
    TRT_DISPATCH_ELEM(elemSize, (gatherNDKernel<T, int32_t><<<blocksFor(n), kThreads, 0, s>>>(
                                    static_cast<const T*>(in), ins, static_cast<const int32_t*>(idx), last, b,
                                    perBatch, slice, static_cast<T*>(out), n)));
  }
  return cudaGetLastError();
}

cudaError_t gatherElements(const void* in, const Shape8& ins, const void* idx, bool idx64, const Shape8& idxs,
                           int axis, void* out, int elemSize, cudaStream_t s) {
  const int64_t n = volumeOf(idxs);
  if (n == 0) return cudaSuccess;
  if (idx64) {
    TRT_DISPATCH_ELEM(elemSize, (gatherElementsKernel<T, int64_t><<<blocksFor(n), kThreads, 0, s>>>(
                                    static_cast<const T*>(in), ins, static_cast<const int64_t*>(idx), idxs,
                                    axis, static_cast<T*>(out), n)));
  } else {
    TRT_DISPATCH_ELEM(elemSize, (gatherElementsKernel<T, int32_t><<<blocksFor(n), kThreads, 0, s>>>(
                                    static_cast<const T*>(in), ins, static_cast<const int32_t*>(idx), idxs,
                                    axis, static_cast<T*>(out), n)));
  }
  return cudaGetLastError();
}

// Nearest upsampling by whole factors of the three outer dims of a rank-4 tensor whose last dim
// is not resized (NHWC: C), with in = floor(out / factor): each thread copies 16 bytes of a row.
// Rows xs and ys 16-byte vectors apart (vecs where dense).
__global__ void upsampleNearestRows(const uint4* x, uint4* y, int64_t n, int vecs, int o1, int o2, int f0,
                                    int f1, int f2, int i1, int i2, int xs, int ys) {
  TRT_WAIT_PRIOR_GRID();
  for (int64_t o = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; o < n;
       o += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int v = static_cast<int>(o % vecs);
    int64_t r = o / vecs;
    const int a2 = static_cast<int>(r % o2);
    r /= o2;
    const int a1 = static_cast<int>(r % o1);
    const int64_t a0 = r / o1;
    y[o / vecs * ys + v] = x[((a0 / f0 * i1 + a1 / f1) * i2 + a2 / f2) * xs + v];
  }
}

cudaError_t resize(KType t, const void* x, void* y, const ResizeParams& p, cudaStream_t s) {
  const int64_t n = volumeOf(p.out);
  if (n == 0) return cudaSuccess;
  {
    // Fast path: nearest, asymmetric + floor (PyTorch's nn.Upsample), whole factors, last dim kept.
    const int es = t == KType::kF16 ? 2 : 4;
    const int64_t xs = p.xRowStride ? p.xRowStride : p.out.dims[3],
                  ys = p.yRowStride ? p.yRowStride : p.out.dims[3];
    bool fast = p.mode == 0 && p.ctm == 1 && p.nearest == 2 && p.out.rank == 4 &&
                p.in.dims[3] == p.out.dims[3] && (p.out.dims[3] * es) % 16 == 0 && (xs * es) % 16 == 0 &&
                (ys * es) % 16 == 0 && xs * es / 16 <= INT32_MAX && ys * es / 16 <= INT32_MAX &&
                (reinterpret_cast<uintptr_t>(x) | reinterpret_cast<uintptr_t>(y)) % 16 == 0;
    int f[3] = {1, 1, 1};
    for (int d = 0; fast && d < 3; ++d) {
      fast = p.in.dims[d] > 0 && p.out.dims[d] % p.in.dims[d] == 0 &&
             p.scales[d] == static_cast<float>(p.out.dims[d] / p.in.dims[d]);
      if (fast) f[d] = static_cast<int>(p.out.dims[d] / p.in.dims[d]);
    }
    if (fast) {
      const int vecs = static_cast<int>(p.out.dims[3] * es / 16);
      const int64_t nv = n * es / 16;
      upsampleNearestRows<<<blocksFor(nv), kThreads, 0, s>>>(
          static_cast<const uint4*>(x), static_cast<uint4*>(y), nv, vecs, static_cast<int>(p.out.dims[1]),
          static_cast<int>(p.out.dims[2]), f[0], f[1], f[2], static_cast<int>(p.in.dims[1]),
          static_cast<int>(p.in.dims[2]), static_cast<int>(xs * es / 16), static_cast<int>(ys * es / 16));
      return cudaGetLastError();
    }
  }
  if (t == KType::kF16)
    resizeKernel<__half>
        <<<blocksFor(n), kThreads, 0, s>>>(static_cast<const __half*>(x), static_cast<__half*>(y), p, n);
  else
    resizeKernel<float>
        <<<blocksFor(n), kThreads, 0, s>>>(static_cast<const float*>(x), static_cast<float*>(y), p, n);
  return cudaGetLastError();
}

__global__ void spinKernel(int64_t ns) {
  TRT_WAIT_PRIOR_GRID();
  uint64_t t0, t;
  asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t0));
  do {
    __nanosleep(1000);
    asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t));
  } while (static_cast<int64_t>(t - t0) < ns);
}

cudaError_t spin(int64_t ns, cudaStream_t s) {
  spinKernel<<<1, 1, 0, s>>>(ns);
  return cudaGetLastError();
}

}  // namespace kernels
}  // namespace trt
