// Fused multi-head attention: per (batch, head), softmax(scale Q K^T + mask) V on [B, S, H*D]
// activations (no transposes; Q, K and V may be slices of one packed QKV tensor).
//
// FP16 with head size 64: flash-attention-style kernels on tensor cores, FP32 accumulation: one on
// mma.sync (FlashAttention-2's register-resident scores; see attentionMmaKernel) and one on WMMA
// 16x16x16, described here. A block of W warps (1, 2 or 4: the tile variants; fewer warps give small batches
// more blocks) takes 16 W query rows; each warp keeps its 16 rows of Q in
// registers, K and V stream through shared memory 64 keys at a time with 16-byte loads, and the
// softmax is computed online (running max and sum per row in FP32), so the S x S score matrix
// never exists in memory. FP32 and TF32 layers run as two cuBLASLt batched GEMMs around
// attentionSoftmax (backends/cuda/matmul.cpp). Everything else (FP16 with other head sizes) takes
// a plain kernel: one block per query row, scores in shared memory, FP32 math.
// Masks are broadcast to [B, H, Sq, Sk] through element strides: an additive mask of the
// activation type, and a bool mask whose false entries become `fill`.
#include <cuda_fp16.h>
#include <mma.h>

#include "kernel_common.cuh"
#include "kernels.h"

namespace trt {
namespace kernels {
namespace {

using namespace common;

template <typename T>
__device__ __forceinline__ float maskedScore(float x, const AttentionParams& p, int b, int h, int qi,
                                             int key) {
  if (p.addMask) {
    const int64_t off =
        b * p.addStrides[0] + h * p.addStrides[1] + qi * p.addStrides[2] + key * p.addStrides[3];
    x += toF(static_cast<const T*>(p.addMask)[off]);
  }
  if (p.boolMask) {
    const int64_t off =
        b * p.boolStrides[0] + h * p.boolStrides[1] + qi * p.boolStrides[2] + key * p.boolStrides[3];
    if (!p.boolMask[off]) x = p.fill;
  }
  return x;
}

// 2^x on the special function unit, denormal results flushed to 0 (exp2f without fast math
// adds a denormal fix-up around the same instruction); 2^-inf = 0.
__device__ __forceinline__ float fastExp2(float x) {
  float y;
  asm("ex2.approx.ftz.f32 %0, %1;" : "=f"(y) : "f"(x));
  return y;
}

constexpr int kHead = 64;        // head size of the tensor-core kernel
constexpr int kKeys = 64;        // keys per tile
constexpr int kLdH = kHead + 8;  // padded row of halves in shared memory (bank conflicts)
constexpr int kLdF = kKeys + 4;  // padded row of floats

// Shared memory of a block of W warps with KS key splits: KS tiles of K and of V, then per warp
// its scores (floats) and its probabilities / Q staging (halves).
template <int W, int KS>
constexpr size_t wmmaSmemBytes() {
  return (2 * KS * kKeys * kLdH) * sizeof(__half) + W * 16 * kLdF * sizeof(float) +
         W * 16 * kLdH * sizeof(__half);
}

// W warps a block in W / KS row groups of 16 query rows; the KS warps of a row group take every
// KS-th key tile (KS > 1: more warps at work on short, small-batch attention, where each warp's
// chain of dependent steps sets the time), then merge their running max, sum and output rows.
template <int W, int KS>
__global__ __launch_bounds__(32 * W) void attentionWmmaKernel(const __half* __restrict__ q,
                                                              const __half* __restrict__ k,
                                                              const __half* __restrict__ v,
                                                              __half* __restrict__ o, AttentionParams p) {
  TRT_WAIT_PRIOR_GRID();
  using namespace nvcuda;
  constexpr int RG = W / KS;
  extern __shared__ __align__(32) float smem[];  // (the row kernel declares it float too)
  __half* kAll = reinterpret_cast<__half*>(smem);
  __half* vAll = kAll + KS * kKeys * kLdH;
  float* ssAll = reinterpret_cast<float*>(vAll + KS * kKeys * kLdH);
  __half* psAll = reinterpret_cast<__half*>(ssAll + W * 16 * kLdF);
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32, split = warp % KS;
  const __half* ks = kAll + split * kKeys * kLdH;
  const __half* vs = vAll + split * kKeys * kLdH;
  float* ss = ssAll + warp * 16 * kLdF;
  __half* ps = psAll + warp * 16 * kLdH;
  const int b = blockIdx.y / p.H, h = blockIdx.y % p.H;
  const int q0 = blockIdx.x * (16 * RG) + (warp / KS) * 16;
  // This warp's 16 Q rows into fragments (staged through shared memory, zero past the end).
  for (int e = lane; e < 16 * 8; e += 32) {
    const int r = e / 8, c = (e % 8) * 8;
    uint4 val = make_uint4(0, 0, 0, 0);
    if (q0 + r < p.Sq)
      val = *reinterpret_cast<const uint4*>(q + (int64_t(b) * p.Sq + q0 + r) * p.qRow + h * kHead + c);
    *reinterpret_cast<uint4*>(&ps[r * kLdH + c]) = val;
  }
  __syncwarp();
  wmma::fragment<wmma::matrix_a, 16, 16, 16, __half, wmma::row_major> qf[kHead / 16];
#pragma unroll
  for (int kk = 0; kk < kHead / 16; ++kk) wmma::load_matrix_sync(qf[kk], &ps[kk * 16], kLdH);
  // Lane layout for the softmax and the output: row r, columns [half*32, half*32 + 32).
  const int r = lane >> 1, half = lane & 1, qi = q0 + r;
  const int qm = qi < p.Sq ? qi : p.Sq - 1;  // mask row (rows past the end are computed, not stored)
  // The masks' row of this lane: its base offsets, then one stride per key.
  const __half* addRow = p.addMask ? static_cast<const __half*>(p.addMask) + b * p.addStrides[0] +
                                         h * p.addStrides[1] + qm * p.addStrides[2]
                                   : nullptr;
  const uint8_t* boolRow =
      p.boolMask ? p.boolMask + b * p.boolStrides[0] + h * p.boolStrides[1] + qm * p.boolStrides[2] : nullptr;
  const int64_t addStep = p.addStrides[3], boolStep = p.boolStrides[3];
  float m = -INFINITY, l = 0.f, acc[32];
#pragma unroll
  for (int c = 0; c < 32; ++c) acc[c] = 0.f;
  // Causal masks: the tiles past this block's last query hold only masked keys (exp(fill - m)
  // is 0), so the block stops there; every warp of the block runs the same tiles.
  const int blockLast = min(p.Sq, static_cast<int>(blockIdx.x + 1) * 16 * RG) - 1;
  const int kEnd = p.causal ? min(p.Sk, blockLast + 1) : p.Sk;
  for (int base = 0; base < kEnd; base += KS * kKeys) {
    __syncthreads();
    for (int e = threadIdx.x; e < KS * kKeys * 8; e += blockDim.x) {
      const int rr = e / 8, c = (e % 8) * 8;
      uint4 kv = make_uint4(0, 0, 0, 0), vv = make_uint4(0, 0, 0, 0);
      if (base + rr < p.Sk) {
        const int64_t row = int64_t(b) * p.Sk + base + rr;
        kv = *reinterpret_cast<const uint4*>(k + row * p.kRow + h * kHead + c);
        vv = *reinterpret_cast<const uint4*>(v + row * p.vRow + h * kHead + c);
      }
      *reinterpret_cast<uint4*>(&kAll[rr * kLdH + c]) = kv;
      *reinterpret_cast<uint4*>(&vAll[rr * kLdH + c]) = vv;
    }
    __syncthreads();
    const int k0 = base + split * kKeys;  // this warp's tile
    if (k0 >= kEnd)
      continue;  // (warp-uniform) past the keys: only the loads above
                 // S = Q K^T (16 x 64 per warp)
#pragma unroll
    for (int j = 0; j < kKeys / 16; ++j) {
      wmma::fragment<wmma::accumulator, 16, 16, 16, float> sf;
      wmma::fill_fragment(sf, 0.f);
#pragma unroll
      for (int kk = 0; kk < kHead / 16; ++kk) {
        wmma::fragment<wmma::matrix_b, 16, 16, 16, __half, wmma::col_major> kf;
        wmma::load_matrix_sync(kf, &ks[(j * 16) * kLdH + kk * 16], kLdH);
        wmma::mma_sync(sf, qf[kk], kf, sf);
      }
      wmma::store_matrix_sync(&ss[j * 16], sf, kLdF, wmma::mem_row_major);
    }
    __syncwarp();
    // Online softmax over this tile's 64 scores of row r (two lanes per row).
    float sv[32], tmax = -INFINITY;
    const int key0 = k0 + half * 32;
    const __half* addKeys = addRow ? addRow + key0 * addStep : nullptr;
    const uint8_t* boolKeys = boolRow ? boolRow + key0 * boolStep : nullptr;
#pragma unroll
    for (int c = 0; c < 32; ++c) {
      float x = -INFINITY;
      if (key0 + c < p.Sk) {
        x = ss[r * kLdF + half * 32 + c] * p.scale;
        if (addKeys) x += __half2float(addKeys[c * addStep]);
        if (boolKeys && !boolKeys[c * boolStep]) x = p.fill;
      }
      sv[c] = x;
      tmax = fmaxf(tmax, x);
    }
    tmax = fmaxf(tmax, __shfl_xor_sync(0xffffffffu, tmax, 1));
    const float mNew = fmaxf(m, tmax);
    const float alpha = (m == -INFINITY) ? 0.f : __expf(m - mNew);
    float rs = 0.f;
#pragma unroll
    for (int c = 0; c < 32; ++c) {
      const float e = (mNew == -INFINITY || sv[c] == -INFINITY) ? 0.f : __expf(sv[c] - mNew);
      rs += e;
      ps[r * kLdH + half * 32 + c] = __float2half(e);
    }
    rs += __shfl_xor_sync(0xffffffffu, rs, 1);
    l = l * alpha + rs;
#pragma unroll
    for (int c = 0; c < 32; ++c) acc[c] *= alpha;
    m = mNew;
    __syncwarp();
    // O += P V (16 x 64 per warp), through the score buffer
#pragma unroll
    for (int j = 0; j < kHead / 16; ++j) {
      wmma::fragment<wmma::accumulator, 16, 16, 16, float> of;
      wmma::fill_fragment(of, 0.f);
#pragma unroll
      for (int kk = 0; kk < kKeys / 16; ++kk) {
        wmma::fragment<wmma::matrix_a, 16, 16, 16, __half, wmma::row_major> pf;
        wmma::fragment<wmma::matrix_b, 16, 16, 16, __half, wmma::row_major> vf;
        wmma::load_matrix_sync(pf, &ps[kk * 16], kLdH);
        wmma::load_matrix_sync(vf, &vs[(kk * 16) * kLdH + j * 16], kLdH);
        wmma::mma_sync(of, pf, vf, of);
      }
      wmma::store_matrix_sync(&ss[j * 16], of, kLdF, wmma::mem_row_major);
    }
    __syncwarp();
#pragma unroll
    for (int c = 0; c < 32; ++c) acc[c] += ss[r * kLdF + half * 32 + c];
    __syncwarp();
  }
  if constexpr (KS > 1) {
    // The row group's other warps leave their running max, sum and output rows in their score
    // buffers (the row's 4 padding floats hold max and sum); the first warp merges and stores.
    if (split > 0) {
#pragma unroll
      for (int c = 0; c < 32; ++c) ss[r * kLdF + half * 32 + c] = acc[c];
      ss[r * kLdF + kKeys + half * 2] = m;
      ss[r * kLdF + kKeys + half * 2 + 1] = l;
    }
    __syncthreads();
    if (split > 0) return;
#pragma unroll
    for (int o2 = 1; o2 < KS; ++o2) {
      const float* other = ss + o2 * 16 * kLdF;
      const float m2 = other[r * kLdF + kKeys + half * 2], l2 = other[r * kLdF + kKeys + half * 2 + 1];
      const float mNew = fmaxf(m, m2);
      const float a1 = m == -INFINITY ? 0.f : __expf(m - mNew),
                  a2 = m2 == -INFINITY ? 0.f : __expf(m2 - mNew);
      l = l * a1 + l2 * a2;
#pragma unroll
      for (int c = 0; c < 32; ++c) acc[c] = acc[c] * a1 + other[r * kLdF + half * 32 + c] * a2;
      m = mNew;
    }
  }
  if (qi >= p.Sq) return;
  const float inv = l > 0.f ? 1.f / l : 0.f;
  __half* dst = o + (int64_t(b) * p.Sq + qi) * p.oRow + h * kHead + half * 32;
#pragma unroll
  for (int c = 0; c < 32; c += 8) {
    __align__(16) __half pack[8];
#pragma unroll
    for (int t = 0; t < 8; ++t) pack[t] = __float2half(acc[c + t] * inv);
    *reinterpret_cast<uint4*>(dst + c) = *reinterpret_cast<const uint4*>(pack);
  }
}

// ---- The mma.sync kernel (FP16, head size 64) -----------------------------------------------
// FlashAttention-2's arrangement on mma.sync.m16n8k16: a block of W warps takes 16 W query rows,
// each warp 16 rows whose Q fragments stay in registers. K and V stream through shared memory 64
// keys at a time, double-buffered with cp.async (the next tile loads while this one is computed).
// The scores S = Q K^T stay in the accumulator registers; the online softmax works on them there
// (each row's max and sum shared by the quad of lanes that hold it), and the same registers,
// packed to halves, are the A operand of O += P V: no shared-memory round trips for S, P or O.
// K's fragments come by ldmatrix, V's by ldmatrix.trans. Causal layers compute the mask from the
// indices (the builder checked the constant mask is exactly key <= query) and stop at the block's
// last query; other masks are read as in the WMMA kernel.
// 16 bytes global -> shared, or 16 zero bytes where !valid (src-size 0 reads nothing).
__device__ __forceinline__ void copyAsync16(uint32_t dst, const void* src, bool valid) {
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(dst), "l"(src), "r"(valid ? 16 : 0));
}
__device__ __forceinline__ void ldmatrix4(uint32_t (&r)[4], uint32_t addr) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(addr));
}
__device__ __forceinline__ void ldmatrix4Trans(uint32_t (&r)[4], uint32_t addr) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0, %1, %2, %3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(addr));
}
// KS > 1 (key splits): the W warps form W / KS row groups of 16 query rows, and the KS warps of a
// group take every KS-th key tile (each round loads KS tiles, one per split, single-buffered),
// then merge their running max, sum and output rows through shared memory: twice the warps on
// the same rows where short sequences at small batches leave the GPU mostly idle.
template <int W, int KS>
__global__ __launch_bounds__(32 * W) void attentionMmaKernel(const __half* __restrict__ q,
                                                             const __half* __restrict__ k,
                                                             const __half* __restrict__ v,
                                                             __half* __restrict__ o, AttentionParams p) {
  TRT_WAIT_PRIOR_GRID();
  constexpr int RG = W / KS, kBufs = KS == 1 ? 2 : KS;
  __shared__ __align__(128) __half tiles[kBufs][2][kKeys * kLdH];  // [stage or split][K, V]
  constexpr float kLog2e = 1.4426950408889634f;
  // Lane layout of the m16n8 accumulators: rows g and g + 8, columns 2t and 2t + 1 of each 8.
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32, g = lane >> 2, t = lane & 3;
  const int split = warp % KS, group = warp / KS;
  const int b = blockIdx.y / p.H, h = blockIdx.y % p.H;
  const int q0 = blockIdx.x * 16 * RG + group * 16;
  const int rows[2] = {q0 + g, q0 + g + 8};
  const int blockLast = min(p.Sq, static_cast<int>(blockIdx.x + 1) * 16 * RG) - 1;
  const int kEnd = p.causal ? min(p.Sk, blockLast + 1) : p.Sk;
  const int nTiles = (kEnd + kKeys - 1) / kKeys;
  const int nRounds = (nTiles + KS - 1) / KS;

  auto loadTile = [&](int tile, int stage) {
    const int base = tile * kKeys;
    for (int e = threadIdx.x; e < kKeys * 8; e += 32 * W) {
      const int r = e >> 3, c = (e & 7) * 8;
      const bool ok = base + r < p.Sk;
      const int64_t row = int64_t(b) * p.Sk + (ok ? base + r : 0);
      copyAsync16(sharedAddr(&tiles[stage][0][r * kLdH + c]), k + row * p.kRow + h * kHead + c, ok);
      copyAsync16(sharedAddr(&tiles[stage][1][r * kLdH + c]), v + row * p.vRow + h * kHead + c, ok);
    }
    asm volatile("cp.async.commit_group;\n" ::);
  };
  if (KS == 1 && nTiles > 0) loadTile(0, 0);

  // Q as A fragments (4 steps of 16 head dims), straight from global memory; zero past Sq.
  uint32_t qa[kHead / 16][4];
  const __half* qr[2];
  const __half* addRow[2] = {nullptr, nullptr};
  const uint8_t* boolRow[2] = {nullptr, nullptr};
#pragma unroll
  for (int i = 0; i < 2; ++i) {
    const int qm = min(rows[i], p.Sq - 1);  // mask row (rows past the end are computed, not stored)
    qr[i] = q + (int64_t(b) * p.Sq + qm) * p.qRow + h * kHead;
    if (p.addMask)
      addRow[i] = static_cast<const __half*>(p.addMask) + b * p.addStrides[0] + h * p.addStrides[1] +
                  qm * p.addStrides[2];
    if (p.boolMask && !p.causal)
      boolRow[i] = p.boolMask + b * p.boolStrides[0] + h * p.boolStrides[1] + qm * p.boolStrides[2];
  }
#pragma unroll
  for (int kk = 0; kk < kHead / 16; ++kk)
#pragma unroll
    for (int f = 0; f < 4; ++f) {
      const int i = f & 1, col = kk * 16 + 2 * t + (f >> 1) * 8;
      qa[kk][f] = rows[i] < p.Sq ? *reinterpret_cast<const uint32_t*>(qr[i] + col) : 0u;
    }

  float acc[kHead / 8][4], m[2] = {-INFINITY, -INFINITY}, l[2] = {0.f, 0.f};
#pragma unroll
  for (int j = 0; j < kHead / 8; ++j)
#pragma unroll
    for (int e = 0; e < 4; ++e) acc[j][e] = 0.f;
  const int mi = lane >> 3, mr = lane & 7;  // ldmatrix: this lane's matrix and row
  for (int round = 0; round < nRounds; ++round) {
    int tile, stage;
    if constexpr (KS == 1) {
      tile = round;
      stage = round & 1;
      if (round + 1 < nRounds) {
        loadTile(round + 1, stage ^ 1);
        asm volatile("cp.async.wait_group 1;\n" ::);
      } else {
        asm volatile("cp.async.wait_group 0;\n" ::);
      }
    } else {
      for (int sp = 0; sp < KS; ++sp)
        if (round * KS + sp < nTiles) loadTile(round * KS + sp, sp);
      asm volatile("cp.async.wait_group 0;\n" ::);
      tile = round * KS + split;
      stage = split;
    }
    __syncthreads();
    const int k0 = tile * kKeys;
    // (warp-uniform) a causal tile wholly past this warp's rows adds nothing to them
    if (tile < nTiles && !(p.causal && k0 > q0 + 15)) {
      const __half* ks = tiles[stage][0];
      const __half* vs = tiles[stage][1];
      float s[kKeys / 8][4];
#pragma unroll
      for (int j = 0; j < kKeys / 8; ++j) {
#pragma unroll
        for (int e = 0; e < 4; ++e) s[j][e] = 0.f;
#pragma unroll
        for (int kk = 0; kk < kHead / 16; kk += 2) {
          uint32_t kb[4];  // head dims kk*16, +8, +16, +24 of keys j*8 .. j*8+7
          ldmatrix4(kb, sharedAddr(ks + (j * 8 + mr) * kLdH + kk * 16 + mi * 8));
          mma16816(s[j], qa[kk], kb[0], kb[1]);
          mma16816(s[j], qa[kk + 1], kb[2], kb[3]);
        }
      }
      // Scale and masks, then the online softmax of rows g and g + 8. A plain tile (no mask,
      // every key present and, causal, every key at or before the warp's first row; scale > 0)
      // keeps the raw scores: their maximum times the scale is the scaled maximum, and the scale
      // rides in each exponent's FMA. Other tiles scale and mask each score first (an additive
      // mask broadcast over the rows is read once for rows g and g + 8). m and l are in scaled
      // units either way. (GPT-2 at bs16: 14 us a layer on the H200 with every tile masked.)
      const bool plain = !addRow[0] && !boolRow[0] && p.scale > 0.f && k0 + kKeys <= p.Sk &&
                         (!p.causal || k0 + kKeys - 1 <= q0);
      float mx[2] = {m[0], m[1]}, coef = 0.f;
      if (plain) {
        float raw[2] = {-INFINITY, -INFINITY};
#pragma unroll
        for (int j = 0; j < kKeys / 8; ++j)
#pragma unroll
          for (int e = 0; e < 4; ++e) raw[e >> 1] = fmaxf(raw[e >> 1], s[j][e]);
        mx[0] = fmaxf(mx[0], raw[0] * p.scale);
        mx[1] = fmaxf(mx[1], raw[1] * p.scale);
        coef = p.scale * kLog2e;
      } else {
        const bool sharedAdd = addRow[0] && p.addStrides[2] == 0;  // (rows[1] reads rows[0]'s)
#pragma unroll
        for (int j = 0; j < kKeys / 8; ++j)
#pragma unroll
          for (int c = 0; c < 2; ++c) {
            const int key = k0 + j * 8 + 2 * t + c;
            float add[2] = {0.f, 0.f};
            if (addRow[0] && key < p.Sk) {
              add[0] = __half2float(addRow[0][key * p.addStrides[3]]);
              add[1] = sharedAdd ? add[0] : __half2float(addRow[1][key * p.addStrides[3]]);
            }
#pragma unroll
            for (int i = 0; i < 2; ++i) {
              const int e = 2 * i + c;
              float x = -INFINITY;
              if (key < p.Sk) {
                x = s[j][e] * p.scale + add[i];
                if (p.causal ? key > rows[i] : (boolRow[i] && !boolRow[i][key * p.boolStrides[3]]))
                  x = p.fill;
              }
              s[j][e] = x;
              mx[i] = fmaxf(mx[i], x);
            }
          }
      }
      float base[2], nb[2], rs[2] = {0.f, 0.f};
#pragma unroll
      for (int i = 0; i < 2; ++i) {
        mx[i] = fmaxf(mx[i], __shfl_xor_sync(0xffffffffu, mx[i], 1));
        mx[i] = fmaxf(mx[i], __shfl_xor_sync(0xffffffffu, mx[i], 2));
        base[i] = mx[i] == -INFINITY ? 0.f : mx[i];  // (no key yet: every exp is 0)
        nb[i] = -base[i] * kLog2e;
        const float alpha = fastExp2((m[i] - base[i]) * kLog2e);
        l[i] *= alpha;
#pragma unroll
        for (int j = 0; j < kHead / 8; ++j) {
          acc[j][2 * i] *= alpha;
          acc[j][2 * i + 1] *= alpha;
        }
        m[i] = mx[i];
      }
#pragma unroll
      for (int j = 0; j < kKeys / 8; ++j)
#pragma unroll
        for (int e = 0; e < 4; ++e) {
          // (a masked tile subtracts first: a finite fill can be the max, and -base * log2e
          // would overflow to inf, fill * log2e + inf a NaN)
          s[j][e] = fastExp2(plain ? fmaf(s[j][e], coef, nb[e >> 1]) : (s[j][e] - base[e >> 1]) * kLog2e);
          rs[e >> 1] += s[j][e];
        }
      l[0] += rs[0];
      l[1] += rs[1];
      // O += P V: the score registers of keys 16 kk .. 16 kk + 15 are the A fragment.
#pragma unroll
      for (int kk = 0; kk < kKeys / 16; ++kk) {
        const uint32_t pa[4] = {
            packHalves(s[2 * kk][0], s[2 * kk][1]), packHalves(s[2 * kk][2], s[2 * kk][3]),
            packHalves(s[2 * kk + 1][0], s[2 * kk + 1][1]), packHalves(s[2 * kk + 1][2], s[2 * kk + 1][3])};
#pragma unroll
        for (int j = 0; j < kHead / 8; j += 2) {
          uint32_t vb[4];  // keys 16 kk (+8) of head dims j*8 and (j+1)*8, transposed
          ldmatrix4Trans(vb, sharedAddr(vs + (kk * 16 + (mi & 1) * 8 + mr) * kLdH + (j + (mi >> 1)) * 8));
          mma16816(acc[j], pa, vb[0], vb[1]);
          mma16816(acc[j + 1], pa, vb[2], vb[3]);
        }
      }
    }
    __syncthreads();  // this stage is refilled by the next iteration but one (KS > 1: the next)
  }
  if constexpr (KS > 1) {
    // The splits > 0 leave their per-lane state in the tile buffers (free now); split 0 merges it
    // lane by lane (the same rows and columns), rescaling both sides to the larger max.
    constexpr int kState = kHead / 8 * 4 + 4;  // acc, then m[2], l[2]
    float* state = reinterpret_cast<float*>(&tiles[0][0][0]);
    if (split > 0) {
      float* dst = state + ((group * (KS - 1) + split - 1) * 32 + lane) * kState;
#pragma unroll
      for (int j = 0; j < kHead / 8; ++j)
#pragma unroll
        for (int e = 0; e < 4; ++e) dst[j * 4 + e] = acc[j][e];
      dst[kHead / 2] = m[0];
      dst[kHead / 2 + 1] = m[1];
      dst[kHead / 2 + 2] = l[0];
      dst[kHead / 2 + 3] = l[1];
    }
    __syncthreads();
    if (split > 0) return;
#pragma unroll
    for (int sp = 1; sp < KS; ++sp) {
      const float* src = state + ((group * (KS - 1) + sp - 1) * 32 + lane) * kState;
#pragma unroll
      for (int i = 0; i < 2; ++i) {
        const float m2 = src[kHead / 2 + i], l2 = src[kHead / 2 + 2 + i], mNew = fmaxf(m[i], m2);
        const float a1 = m[i] == -INFINITY ? 0.f : exp2f((m[i] - mNew) * kLog2e);
        const float a2 = m2 == -INFINITY ? 0.f : exp2f((m2 - mNew) * kLog2e);
        l[i] = l[i] * a1 + l2 * a2;
#pragma unroll
        for (int j = 0; j < kHead / 8; ++j) {
          acc[j][2 * i] = acc[j][2 * i] * a1 + src[j * 4 + 2 * i] * a2;
          acc[j][2 * i + 1] = acc[j][2 * i + 1] * a1 + src[j * 4 + 2 * i + 1] * a2;
        }
        m[i] = mNew;
      }
    }
  }
#pragma unroll
  for (int i = 0; i < 2; ++i) {
    l[i] += __shfl_xor_sync(0xffffffffu, l[i], 1);
    l[i] += __shfl_xor_sync(0xffffffffu, l[i], 2);
    if (rows[i] >= p.Sq) continue;
    const float inv = l[i] > 0.f ? 1.f / l[i] : 0.f;
    __half* dst = o + (int64_t(b) * p.Sq + rows[i]) * p.oRow + h * kHead + 2 * t;
#pragma unroll
    for (int j = 0; j < kHead / 8; ++j)
      *reinterpret_cast<uint32_t*>(dst + j * 8) = packHalves(acc[j][2 * i] * inv, acc[j][2 * i + 1] * inv);
  }
}

// One block (128 threads) per (query row, batch*head). Dynamic shared memory: the row's scores
// (Sk, padded) and its query vector (D). Scores: one warp per key, lanes across D (coalesced K
// reads); output: one thread per channel d, looping over keys (coalesced V reads).
template <typename T>
__global__ void attentionRowKernel(const T* q, const T* k, const T* v, T* o, AttentionParams p,
                                   int scoresPadded) {
  TRT_WAIT_PRIOR_GRID();
  extern __shared__ float smem[];
  float* sc = smem;
  float* qs = smem + scoresPadded;
  __shared__ float red[32];
  const int i = blockIdx.x, b = blockIdx.y / p.H, h = blockIdx.y % p.H;
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32, nw = blockDim.x / 32;
  const T* qi = q + (int64_t(b) * p.Sq + i) * p.qRow + int64_t(h) * p.D;
  for (int d = threadIdx.x; d < p.D; d += blockDim.x) qs[d] = toF(qi[d]);
  __syncthreads();
  for (int j = warp; j < p.Sk; j += nw) {
    const T* kj = k + (int64_t(b) * p.Sk + j) * p.kRow + int64_t(h) * p.D;
    float s = 0.f;
    for (int d = lane; d < p.D; d += 32) s += qs[d] * toF(kj[d]);
    for (int off = 16; off > 0; off >>= 1) s += __shfl_xor_sync(0xffffffffu, s, off);
    if (lane == 0) sc[j] = maskedScore<T>(s * p.scale, p, b, h, i, j);
  }
  __syncthreads();
  float mx = -INFINITY;
  for (int j = threadIdx.x; j < p.Sk; j += blockDim.x) mx = fmaxf(mx, sc[j]);
  for (int off = 16; off > 0; off >>= 1) mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, off));
  if (lane == 0) red[warp] = mx;
  __syncthreads();
  mx = -INFINITY;
  for (int w = 0; w < nw; ++w) mx = fmaxf(mx, red[w]);
  __syncthreads();
  float sum = 0.f;
  for (int j = threadIdx.x; j < p.Sk; j += blockDim.x) {
    const float e = mx == -INFINITY ? 0.f : expf(sc[j] - mx);
    sc[j] = e;
    sum += e;
  }
  for (int off = 16; off > 0; off >>= 1) sum += __shfl_xor_sync(0xffffffffu, sum, off);
  if (lane == 0) red[warp] = sum;
  __syncthreads();
  sum = 0.f;
  for (int w = 0; w < nw; ++w) sum += red[w];
  const float inv = sum > 0.f ? 1.f / sum : 0.f;
  T* oi = o + (int64_t(b) * p.Sq + i) * p.oRow + int64_t(h) * p.D;
  for (int d = threadIdx.x; d < p.D; d += blockDim.x) {
    float a = 0.f;
    for (int j = 0; j < p.Sk; ++j)
      a += sc[j] * toF(v[(int64_t(b) * p.Sk + j) * p.vRow + int64_t(h) * p.D + d]);
    oi[d] = fromF<T>(a * inv);
  }
}

// One block per score row (h, i) of batch b: masks, then softmax in place (FP32).
template <typename T>
__global__ void softmaxRowsKernel(float* scores, AttentionParams p, int b) {
  TRT_WAIT_PRIOR_GRID();
  __shared__ float red[32];
  const int r = blockIdx.x, h = r / p.Sq, i = r % p.Sq;
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32, nw = blockDim.x / 32;
  float* row = scores + int64_t(r) * p.Sk;
  auto blockReduce = [&](float v, bool isMax) {
    for (int off = 16; off > 0; off >>= 1) {
      const float o = __shfl_xor_sync(0xffffffffu, v, off);
      v = isMax ? fmaxf(v, o) : v + o;
    }
    if (lane == 0) red[warp] = v;
    __syncthreads();
    v = isMax ? -INFINITY : 0.f;
    for (int w = 0; w < nw; ++w) v = isMax ? fmaxf(v, red[w]) : v + red[w];
    __syncthreads();
    return v;
  };
  float mx = -INFINITY;
  for (int j = threadIdx.x; j < p.Sk; j += blockDim.x) {
    const float x = maskedScore<T>(row[j], p, b, h, i, j);
    row[j] = x;
    mx = fmaxf(mx, x);
  }
  mx = blockReduce(mx, true);
  float sum = 0.f;
  for (int j = threadIdx.x; j < p.Sk; j += blockDim.x) {
    const float e = mx == -INFINITY ? 0.f : expf(row[j] - mx);
    row[j] = e;
    sum += e;
  }
  sum = blockReduce(sum, false);
  const float inv = sum > 0.f ? 1.f / sum : 0.f;
  for (int j = threadIdx.x; j < p.Sk; j += blockDim.x) row[j] *= inv;
}

}  // namespace

cudaError_t attentionSoftmax(KType t, float* scores, const AttentionParams& p, int b, cudaStream_t s) {
  if (int64_t(p.H) * p.Sq == 0 || p.Sk == 0) return cudaSuccess;
  const int threads = p.Sk >= 512 ? 256 : 128;
  if (t == KType::kF16)
    softmaxRowsKernel<__half><<<p.H * p.Sq, threads, 0, s>>>(scores, p, b);
  else
    softmaxRowsKernel<float><<<p.H * p.Sq, threads, 0, s>>>(scores, p, b);
  return cudaGetLastError();
}

namespace {
template <int W, int KS>
cudaError_t launchWmma(const void* q, const void* k, const void* v, void* o, const AttentionParams& p,
                       cudaStream_t s) {
  constexpr size_t smem = wmmaSmemBytes<W, KS>();
  if (smem > 48 * 1024) {  // past the default limit: opt in once per kernel (before any capture)
    static const cudaError_t optIn = cudaFuncSetAttribute(
        attentionWmmaKernel<W, KS>, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(smem));
    if (optIn != cudaSuccess) return optIn;
  }
  constexpr int rows = 16 * (W / KS);
  dim3 grid((p.Sq + rows - 1) / rows, p.B * p.H);
  attentionWmmaKernel<W, KS>
      <<<grid, 32 * W, smem, s>>>(static_cast<const __half*>(q), static_cast<const __half*>(k),
                                  static_cast<const __half*>(v), static_cast<__half*>(o), p);
  return cudaGetLastError();
}

template <int W, int KS>
cudaError_t launchMma(const void* q, const void* k, const void* v, void* o, const AttentionParams& p,
                      cudaStream_t s) {
  constexpr int rows = 16 * (W / KS);
  dim3 grid((p.Sq + rows - 1) / rows, p.B * p.H);
  attentionMmaKernel<W, KS>
      <<<grid, 32 * W, 0, s>>>(static_cast<const __half*>(q), static_cast<const __half*>(k),
                               static_cast<const __half*>(v), static_cast<__half*>(o), p);
  return cudaGetLastError();
}

}  // namespace

bool attentionWmmaApplies(KType t, const AttentionParams& p) {
  return t == KType::kF16 && p.D == kHead && p.Sk > 0 && p.qRow % 8 == 0 && p.kRow % 8 == 0 &&
         p.vRow % 8 == 0 && p.oRow % 8 == 0;
}

cudaError_t attention(KType t, const void* q, const void* k, const void* v, void* o, const AttentionParams& p,
                      cudaStream_t s, int wmmaWarps, int keySplits, bool mma) {
  if (int64_t(p.B) * p.H * p.Sq == 0) return cudaSuccess;
  const bool aligned = (reinterpret_cast<uintptr_t>(q) | reinterpret_cast<uintptr_t>(k) |
                        reinterpret_cast<uintptr_t>(v) | reinterpret_cast<uintptr_t>(o)) %
                           16 ==
                       0;
  if (wmmaWarps > 0 && aligned && attentionWmmaApplies(t, p)) {
    if (mma && keySplits == 1 && wmmaWarps == 1) return launchMma<1, 1>(q, k, v, o, p, s);
    if (mma && keySplits == 1 && wmmaWarps == 2) return launchMma<2, 1>(q, k, v, o, p, s);
    if (mma && keySplits == 1 && wmmaWarps == 4) return launchMma<4, 1>(q, k, v, o, p, s);
    if (mma && keySplits == 2 && wmmaWarps == 2) return launchMma<2, 2>(q, k, v, o, p, s);
    if (mma && keySplits == 2 && wmmaWarps == 4) return launchMma<4, 2>(q, k, v, o, p, s);
    if (mma) return cudaErrorInvalidValue;
    if (keySplits == 1 && wmmaWarps == 1) return launchWmma<1, 1>(q, k, v, o, p, s);
    if (keySplits == 1 && wmmaWarps == 2) return launchWmma<2, 1>(q, k, v, o, p, s);
    if (keySplits == 1 && wmmaWarps == 4) return launchWmma<4, 1>(q, k, v, o, p, s);
    if (keySplits == 2 && wmmaWarps == 2) return launchWmma<2, 2>(q, k, v, o, p, s);
    if (keySplits == 2 && wmmaWarps == 4) return launchWmma<4, 2>(q, k, v, o, p, s);
    return cudaErrorInvalidValue;
  }
  const int padded = (p.Sk + 15) / 16 * 16;  // scores padded to whole 64-byte rows
  const size_t smem = static_cast<size_t>(padded + p.D) * sizeof(float);
  if (smem > 48 * 1024) return cudaErrorInvalidValue;  // (about 12k keys: not supported yet)
  dim3 grid(p.Sq, p.B * p.H);
  if (t == KType::kF16)
    attentionRowKernel<__half>
        <<<grid, 128, smem, s>>>(static_cast<const __half*>(q), static_cast<const __half*>(k),
                                 static_cast<const __half*>(v), static_cast<__half*>(o), p, padded);
  else
    attentionRowKernel<float>
        <<<grid, 128, smem, s>>>(static_cast<const float*>(q), static_cast<const float*>(k),
                                 static_cast<const float*>(v), static_cast<float*>(o), p, padded);
  return cudaGetLastError();
}

}  // namespace kernels
}  // namespace trt
