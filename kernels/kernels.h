// Launchers of trt's own CUDA kernels, callable from C++ (the CUDA backend's layer
// implementations). Each .cu file states its layout and precision assumptions.
//
// Shapes travel by value as a rank-<=8 Shape8 (dims and element strides), so no kernel needs
// device-side parameter buffers and every launch can be captured in a CUDA graph.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>
#include <mutex>
#include <unordered_map>

#include "unary_op.h"

namespace trt {
namespace kernels {

constexpr int kMaxRank = 8;

// Division without the divide sequence: the multiplier and shift for `divisor` (>= 1; less is
// taken as 1), q = (umulhi(n, mul) + n) >> shift, exact for n < 2^31 (the round-up method).
inline void divisionBy(int64_t divisor, uint32_t& mul, uint32_t& shift) {
  const uint64_t div = static_cast<uint64_t>(divisor > 0 ? divisor : 1);
  shift = 0;
  while (shift < 32 && (uint64_t{1} << shift) < div) ++shift;
  mul = static_cast<uint32_t>(((uint64_t{1} << 32) * ((uint64_t{1} << shift) - div)) / div + 1);
}

struct Shape8 {
  int rank = 0;
  int64_t dims[kMaxRank] = {};
  int64_t strides[kMaxRank] = {};  // element strides; 0 along broadcast dims
};

// Element types as the kernels know them (same order as trt::DataType).
enum class KType : int { kF32 = 0, kF16 = 1, kI8 = 2, kI32 = 3, kI64 = 4, kBool = 5 };

// ---- elementwise.cu -------------------------------------------------------------------------
// UnaryOp: kernels/unary_op.h
// y = op(x) over n float elements (alpha/beta: op parameters; Clip: alpha=min, beta=max;
// Scale: y = alpha * x).
cudaError_t unaryF32(UnaryOp op, const float* x, float* y, int64_t n, float alpha, float beta,
                     cudaStream_t s);
// The same for float16 storage (math in float32).
cudaError_t unaryF16(UnaryOp op, const void* x, void* y, int64_t n, float alpha, float beta, cudaStream_t s);
// Neg/Abs/Clip on integer tensors.
cudaError_t unaryInt(UnaryOp op, KType t, const void* x, void* y, int64_t n, int64_t lo, int64_t hi,
                     cudaStream_t s);

enum class BinaryOp : int {
  kAdd,
  kSub,
  kMul,
  kDiv,
  kPow,
  kMax,
  kMin,
  kEqual,
  kLess,
  kGreater,
  kGreaterOrEqual,
  kLessOrEqual,
  kAnd,
  kOr
};
// out[i] = op(a[ia], b[ib]) with broadcasting given by the strides of a and b over out's dims.
// Types: a and b share `t` (Pow: b may be int64/int32: bt); comparisons write bool (uint8).
cudaError_t binary(BinaryOp op, KType t, KType bt, const void* a, const Shape8& as, const void* b,
                   const Shape8& bs, void* out, const Shape8& os, cudaStream_t s);
// out = cond ? x : y, broadcasting; elemSize bytes per element.
cudaError_t where(const uint8_t* cond, const Shape8& cs, const void* x, const Shape8& xs, const void* y,
                  const Shape8& ys, void* out, const Shape8& os, int elemSize, cudaStream_t s);
cudaError_t cast(KType from, KType to, const void* x, void* y, int64_t n, cudaStream_t s);
// y[r, c] (dense float32, `cols` a row) = x[r * ldx + c] (float16, rows of ldx elements).
cudaError_t widenRows(const void* x, int64_t ldx, float* y, int64_t rows, int64_t cols, cudaStream_t s);
// y[r, c] (dense, `cols` a row) = x[r * ldx + c], 2-byte elements (FP16), in 16-byte stores.
cudaError_t packRows(const void* x, int64_t ldx, void* y, int64_t rows, int64_t cols, cudaStream_t s);
cudaError_t logicalNot(const uint8_t* x, uint8_t* y, int64_t n, cudaStream_t s);
cudaError_t isNan(const float* x, uint8_t* y, int64_t n, cudaStream_t s);
// Fills n elements of elemSize bytes with the pattern at `value` (host memory, copied by value).
cudaError_t fill(void* y, int64_t n, int elemSize, uint64_t value, cudaStream_t s);
// y[i] = start + i * delta
cudaError_t range(KType t, double start, double delta, void* y, int64_t n, cudaStream_t s);
// BatchNormalization folded to y = x * a[c] + b[c] over [n, c, inner].
// Parameters are float32 (scale, bias, mean, var); x and y are `t` (float32 or float16).
cudaError_t channelAffine(KType t, const void* x, const float* scale, const float* bias, const float* mean,
                          const float* var, float eps, void* y, int64_t n, int64_t c, int64_t inner,
                          cudaStream_t s);
// y[n, c, i] += bias[c] (y and bias of type t)
cudaError_t addChannelBias(KType t, void* y, const void* bias, int64_t n, int64_t c, int64_t inner,
                           cudaStream_t s);
// A convolution's epilogue, in place over y viewed as [outer, c, inner] (NCHW: inner = H*W;
// NHWC: inner = 1): y = act(y + bias[c] + z), or act(y + bias[c]) + z with zAfterAct, bias and
// z optional (null), all of type t; math in float32. 16-byte accesses (8 halves / 4 floats) when
// y and z are aligned.
cudaError_t biasActivation(KType t, void* y, const void* bias, const void* z, int64_t outer, int64_t c,
                           int64_t inner, UnaryOp act, float alpha, float beta, cudaStream_t s,
                           bool zAfterAct = false);

// ---- direct_conv.cu ---------------------------------------------------------------------------
// Direct convolution for few input channels (RGB stems), NHWC: x [n, h, w, c], weights OHWI
// [k, r, s, c], bias [k] (or null), y [n, p, q, k] = act(conv + bias); float32 or float16 (math in
// float32). Applies for c <= kDirectConvMaxChannels, k a multiple of 8, y 16-byte aligned, and
// weights of 16 output channels within 48 KiB of shared memory; else cudaErrorNotSupported.
constexpr int kDirectConvMaxChannels = 4;
struct DirectConvShape {
  int n, h, w, c, k, r, s, p, q;
  int padH, padW, strideH, strideW, dilH, dilW;
};
bool directConvApplies(const DirectConvShape& shape, KType t);
// tensorCores: the FP16 implicit-GEMM form on mma.sync (K over all taps at once), for k a multiple
// of 32 and a window of 64 output columns within 48 KiB of shared memory (directConvMmaApplies).
bool directConvMmaApplies(const DirectConvShape& shape, KType t);
cudaError_t directConv(KType t, const void* x, const void* w, const void* bias, void* y,
                       const DirectConvShape& shape, UnaryOp act, float alpha, float beta, cudaStream_t s,
                       bool tensorCores = false);

// A fused elementwise program (the Pointwise layer; ir/ops/pointwise.h has the semantics): per
// output element, registers 0..numInputs-1 load the inputs' broadcast elements (as float32), then
// instruction i computes register numInputs + i; the last one is stored. op[i] < 100: binary
// (0 Add, 1 Sub, 2 Mul, 3 Div, 4 Pow, 5 Max, 6 Min on registers a and b); op[i] >= 100: the unary
// UnaryOp(op[i] - 100) of register a with alpha p0 and beta p1. Inputs and output share type t
// (float32 or float16). Reads every input element before writing the output element: an input of
// the output's shape may be the output (in place).
constexpr int kPwInputs = 8;
constexpr int kPwInstructions = 16;
constexpr int kPwPieces = 8;
struct PointwiseProgram {
  int numInputs = 0, numInstructions = 0;
  const void* in[kPwInputs] = {};
  Shape8 inStrides[kPwInputs];  // strides over the output's dims, 0 where broadcast
  int op[kPwInstructions] = {}, a[kPwInstructions] = {}, b[kPwInstructions] = {};
  float p0[kPwInstructions] = {}, p1[kPwInstructions] = {};
  // Pieces along output axis pieceAxis (-1: none; ir/ops/pointwise.h): an element of piece p takes
  // register pieceResult[p]; an input with inPiece[j] = p has inStrides over piece p's dims and is
  // read at the element's position within piece p (clamped into it).
  int pieceAxis = -1, numPieces = 0;
  int64_t pieceEnd[kPwPieces] = {};
  int pieceResult[kPwPieces] = {};
  int inPiece[kPwInputs] = {};
};
cudaError_t pointwise(KType t, const PointwiseProgram& p, void* out, const Shape8& os, cudaStream_t s);
// The registers that register `result` of `p` depends on, itself included: bit k for register k
// (inputs, then instructions). What a piece loads and runs, in the interpreter and the generated
// kernels alike.
static_assert(kPwInputs + kPwInstructions <= 32, "pointwiseNeeds marks registers in 32 bits");
inline uint32_t pointwiseNeeds(const PointwiseProgram& p, int result) {
  uint32_t m = 1u << result;
  for (int i = p.numInstructions - 1; i >= 0; --i) {
    if (!(m >> (p.numInputs + i) & 1u)) continue;
    m |= 1u << p.a[i];
    if (p.op[i] < 100) m |= 1u << p.b[i];  // (ops of 100 and up are unary)
  }
  return m;
}

// Keeps stream s busy for about `ns` nanoseconds (one thread polling the global timer): lets a
// profiler's host run ahead of the device so that per-layer events time the device alone.
cudaError_t spin(int64_t ns, cudaStream_t s);

// ---- movement.cu ----------------------------------------------------------------------------
// out[o] = in[sum_d idx_d(o) * in.strides[d]] where idx_d = start[d] + o_d * step[d]: Transpose,
// Slice, Expand (stride 0), Concat/Split (offset views) all map to this strided copy.
struct StridedCopy {
  Shape8 out;  // output dims (strides unused)
  int64_t inStrides[kMaxRank] = {};
  int64_t inOffset = 0;               // elements
  int64_t outOffset = 0;              // elements, into a larger output (Concat)
  int64_t outStrides[kMaxRank] = {};  // strides of the larger output (Concat) per dim
};
cudaError_t stridedCopy(const void* in, void* out, const StridedCopy& p, int elemSize, cudaStream_t s);
// The same with a conversion between float32 and float16 (either way): Transpose with the
// internal "to" attribute (a Cast fused into the reformat); other type pairs: cudaErrorNotSupported.
cudaError_t stridedConvert(const void* in, KType inType, void* out, KType outType, const StridedCopy& p,
                           cudaStream_t s);
// [N, C, S] -> [N, S, C] (a Transpose to channels last, S the spatial size) for few channels
// (1..16: RGB inputs), converting between float32 and float16 when the types differ: one thread
// per pixel reads its C values (coalesced across the warp) and writes them side by side, with one
// division per pixel where the general strided copy does one per dimension per element.
constexpr int kMaxChannelsLastSmall = 16;
cudaError_t channelsLastSmall(const void* in, KType inType, void* out, KType outType, int64_t n, int64_t c,
                              int64_t spatial, cudaStream_t s);
// Concat / Split of dense tensors along one axis as rows: with `outer` the product of the dims
// before the axis, part k is [outer, inner[k]] (inner: its dims from the axis on) and the whole is
// [outer, sum inner]; each whole row is the parts' rows side by side. One launch moves every part
// (at most kMaxRowParts), in the widest unit (16 bytes down to the element) that every row length
// and address allows: NHWC channel concats of FP16 tensors move 16-byte vectors.
constexpr int kMaxRowParts = 8;
struct RowParts {
  int parts = 0;
  int64_t outer = 0;
  int64_t inner[kMaxRowParts] = {};  // elements per row of each part
  void* data[kMaxRowParts] = {};     // the parts (Concat: its inputs; Split: its outputs)
};
cudaError_t concatRows(const RowParts& parts, void* out, int elemSize, cudaStream_t s);
cudaError_t splitRows(const void* in, const RowParts& parts, int elemSize, cudaStream_t s);
// Tile: out[o] = in[o_d mod in_d]
cudaError_t tile(const void* in, const Shape8& ins, void* out, const Shape8& outs, int elemSize,
                 cudaStream_t s);
// Pad: mode 0 constant, 1 reflect, 2 edge; padBegin per dim.
cudaError_t pad(const void* in, const Shape8& ins, void* out, const Shape8& outs, const int64_t* padBegin,
                int mode, uint64_t fill, int elemSize, cudaStream_t s);
// Gather along an axis: in [outer, dim, inner] -> out [outer, n, inner]; indices int32/int64, negatives wrap.
cudaError_t gather(const void* in, const void* idx, bool idx64, void* out, int64_t outer, int64_t dim,
                   int64_t n, int64_t inner, int elemSize, int* errorFlag, cudaStream_t s);
// GatherND over data `ins` (batch_dims b): tuples of `last` indices, `perBatch` tuples per batch,
// each picking `slice` contiguous elements.
cudaError_t gatherND(const void* in, const Shape8& ins, const void* idx, bool idx64, int64_t tuples, int last,
                     int b, int64_t perBatch, int64_t slice, void* out, int elemSize, cudaStream_t s);
cudaError_t gatherElements(const void* in, const Shape8& ins, const void* idx, bool idx64, const Shape8& idxs,
                           int axis, void* out, int elemSize, cudaStream_t s);
// Resize (float, NCHW-like any rank): mode 0 nearest / 1 linear; ctm: 0 half_pixel, 1 asymmetric,
// 2 align_corners, 3 pytorch_half_pixel, 4 half_pixel_symmetric; nearest: 0 round_prefer_floor,
// 1 round_prefer_ceil, 2 floor, 3 ceil. Linear interpolates over the last two dims at most... over
// every dim whose scale != 1.
// Rows of the last axis may lie xRowStride / yRowStride elements apart (a channel concatenation's
// part, NHWC: channel-concat elision); 0: dense. in.strides are then the input's real strides.
struct ResizeParams {
  Shape8 in, out;
  float scales[kMaxRank];
  int mode, ctm, nearest;
  int64_t xRowStride = 0, yRowStride = 0;
};
cudaError_t resize(KType t, const void* x, void* y, const ResizeParams& p, cudaStream_t s);

// ---- norm_reduce.cu -------------------------------------------------------------------------
// Softmax / LogSoftmax over `n` elements with stride `inner`, for outer*inner rows.
// x and y of type t (float32 or float16); accumulation in float32.
cudaError_t softmax(KType t, const void* x, void* y, int64_t outer, int64_t n, int64_t inner, bool log,
                    cudaStream_t s);
// LayerNorm over rows of `inner` elements; scale/bias repeated per row (already expanded to inner);
// x, y, scale and bias of type t (float32 or float16), statistics (mean, invStd: may be null) in
// float32. With r (AddLayerNorm; null for LayerNormalization) the rows are x + r, r holding rRows rows
// that repeat (row i adds r's row i % rRows); the sum, rounded to t, is also written to `sum` when
// that is not null.
cudaError_t addLayerNorm(KType t, const void* x, const void* r, int64_t rRows, void* sum, const void* scale,
                         const void* bias, float eps, void* y, float* mean, float* invStd, int64_t rows,
                         int64_t inner, cudaStream_t s);
// MatMulLayerNorm's second half: S = sum of `splits` (1, 2, 3, 4 or 6) FP32 partial products P[j]
// (each rows x n, `pStride` elements apart) + bias[n] + z (rows x n, or null), rounded to T;
// y = LayerNorm(S) with scale[n] and lnBias[n] (or null) over each row; S also into `sum` when
// non-null. T (bias, z, sum, scale, lnBias, y): float32 or float16. One block a row of n / 4
// threads: n a multiple of 128, at most 4096, 16-byte aligned rows (else cudaErrorNotSupported).
cudaError_t splitSumLayerNorm(KType t, const float* p, int splits, int64_t pStride, const void* bias,
                              const void* z, void* sum, const void* scale, const void* lnBias, float eps,
                              void* y, int64_t rows, int64_t n, cudaStream_t s);
// Reduce over the axes where `red` is 1; x dims `xs`, y has out dims (keepdims form) `ys`.
// op: 0 sum, 1 mean, 2 max, 3 min. Types: float32, float16 (float32 accumulation), int32, int64.
cudaError_t reduce(int op, KType t, const void* x, const Shape8& xs, void* y, const Shape8& keptDims,
                   cudaStream_t s);
cudaError_t argMax(KType t, const void* x, int64_t* y, int64_t outer, int64_t n, int64_t inner, bool last,
                   cudaStream_t s);
cudaError_t topK(KType t, const void* x, void* values, int64_t* indices, int64_t outer, int64_t n,
                 int64_t inner, int64_t k, bool largest, cudaStream_t s);
cudaError_t cumSum(KType t, const void* x, void* y, int64_t outer, int64_t n, int64_t inner, bool exclusive,
                   bool reverse, cudaStream_t s);
// Pooling over NC + spatial (rank 3..5): isMax, kernel/stride/dilation/padBegin/padEnd per spatial dim.
// channelsLast: the input and output are N + spatial + C (NHWC) with `channels` channels; planes
// is N * C either way.
struct PoolParams {
  int spatial;
  int64_t in[3], out[3], kernel[3], stride[3], dilation[3], padBegin[3], padEnd[3];
  int64_t planes;
  bool isMax, countPad;
  bool channelsLast = false;
  int64_t channels = 1;
};
cudaError_t pool(KType t, const void* x, void* y, const PoolParams& p, cudaStream_t s);
// MaxPoolCascade (YOLOv5's SPPF as one layer): y = [x, P1, .., Pcount] along the channels of x
// [n, c, h, w] (NCHW) or [n, h, w, c] (nhwc), P_i the max of x over the (2 i r + 1)^2 window
// around each pixel, r = k / 2, clipped at the borders (the chain of k x k stride-1 pools with
// k / 2 pads); NaN wins as in MaxPool. count at most kMaxPoolCascade.
constexpr int kMaxPoolCascade = 8;
cudaError_t maxPoolCascade(KType t, const void* x, void* y, int64_t n, int64_t c, int64_t h, int64_t w, int k,
                           int count, bool nhwc, cudaStream_t s);
// Einsum (reference): labels strides for each operand over the full label space.
struct EinsumParams {
  int nLabels, nOut, nIn;
  int64_t dims[12];
  int64_t inStrides[2][12];
  int64_t outStrides[12];
};
cudaError_t einsum(const float* a, const float* b, float* y, const EinsumParams& p, int64_t outElems,
                   cudaStream_t s);

// ---- cutlass_gemm.cu -------------------------------------------------------------------------
// Y[M, N] = act(X[M, K] W[N, K]^T + bias[N]), FP16 with FP32 accumulation, one CUTLASS kernel (tile
// variant 0, 1 or 2). K a multiple of 8; N too, except on variants 1 and 2 (kCutlassUnalignedN:
// their unaligned-output epilogue, a detection head's 255 channels); bias required. Sigmoid on
// this GEMM only (the convolutions refuse it). cudaErrorNotSupported where the variant cannot run
// these sizes, or where trt was built without the CUTLASS headers.
enum class CutlassAct { kNone, kRelu, kSilu, kSigmoid };
inline bool cutlassUnalignedN(int variant) {
  return variant == 1 || variant == 2;
}
bool cutlassAvailable();
// Tile variants 0..2, 3: serial split-K over `splitK` (> 1) blocks per output tile, whose
// semaphores take cutlassSplitKWorkspace(tiles) bytes of `ws` (zeroed on the stream per launch),
// and 4, 5: blocks of two warps (64x32 and 32x64 outputs), twice the blocks of variant 2 for the
// small maps of batch 1, where each block's chain of K steps sets the time (aligned N only).
constexpr int kCutlassVariants = 6;
// The convolutions (cutlass_conv*.cu) also take 6: 128x64 and 7: 64x32 outputs with 32-deep K
// tiles (32 input channels fill them; the 64-deep tiles are half zeros there).
constexpr int kCutlassConvVariants = 8;
constexpr int kCutlassSplitKVariant = 3;
constexpr int kCutlassSplitKTile = 64;  // the split-K variant's block: 64 x 64 outputs
inline size_t cutlassSplitKWorkspace(int64_t tiles) {
  return static_cast<size_t>(tiles) * sizeof(int);
}
// `ldy`: Y's row stride in elements (a part of a channel concatenation: a multiple of 8); 0: N.
// `ldx`: X's, the same way (X read from a channel concatenation); 0: K.
cudaError_t cutlassGemmBiasAct(int variant, CutlassAct act, const void* x, const void* w, const void* bias,
                               void* y, int64_t M, int64_t N, int64_t K, cudaStream_t s, int splitK = 1,
                               void* ws = nullptr, size_t wsBytes = 0, int64_t ldy = 0, int64_t ldx = 0);
// ---- cutlass_conv.cu: Y = act(conv(X, W) + bias), NHWC FP16 (W as KRSC), one CUTLASS implicit-GEMM
// kernel (tile variant 0, 1 or 2). C and K multiples of 8, symmetric padding, one group.
struct CutlassConvShape {
  int n, h, w, c, k, r, s, p, q;
  int padH, padW, strideH, strideW, dilationH, dilationW;
  // Y's elements from one output pixel to the next (a part of a channel concatenation, a multiple
  // of 8); 0: packed, k. X's the same way (read from a channel concatenation); 0: packed, c. Z
  // (the residual) is always packed.
  int64_t yRowStride = 0, xRowStride = 0;
};
cudaError_t cutlassConvBiasAct(int variant, CutlassAct act, const CutlassConvShape& shape, const void* x,
                               const void* w, const void* bias, void* y, cudaStream_t s, int splitK = 1,
                               void* ws = nullptr, size_t wsBytes = 0);
// ---- cutlass_conv_residual.cu: Y = act(conv(X, W) + bias) + Z (a residual after the activation),
// the same shapes as cutlassConvBiasAct, activation ReLU or SiLU; Z may be Y.
cudaError_t cutlassConvBiasActResidual(int variant, CutlassAct act, const CutlassConvShape& shape,
                                       const void* x, const void* w, const void* bias, const void* z, void* y,
                                       cudaStream_t s);
// ---- cutlass_conv_fixed.cu: the same for exactly 4 input channels (RGB stems padded from 3), CUTLASS's
// fixed-channels iterators (the GEMM's K over filter taps and channels together); X and W 8-byte aligned.
constexpr int kCutlassFixedChannels = 4;
cudaError_t cutlassConvFixedChannelsBiasAct(int variant, CutlassAct act, const CutlassConvShape& shape,
                                            const void* x, const void* w, const void* bias, void* y,
                                            cudaStream_t s);

// ---- attention.cu ---------------------------------------------------------------------------
// Multi-head attention over [B, S, H*D] rows (row strides qRow/kRow/vRow/oRow in elements, so Q,
// K, V can be slices of one packed tensor): O = softmax(scale Q K^T + addMask, boolMask ? . : fill) V.
// Masks are optional (null), indexed by strides over [B, H, Sq, Sk]; addMask has the type t.
struct AttentionParams {
  int B, H, Sq, Sk, D;
  int64_t qRow, kRow, vRow, oRow;
  float scale, fill;
  const void* addMask;
  int64_t addStrides[4];
  const uint8_t* boolMask;
  int64_t boolStrides[4];
  // The masks hide every key past the query (key > query; the builder checked the constant bool
  // mask, and fill is far below any score): the tensor-core kernels skip key tiles wholly past
  // their block's last query. The WMMA kernel still reads the bool mask; the mma kernel masks by
  // the indices instead (key > query gets fill).
  bool causal;
};
// FP16 with head size 64 and 16-byte aligned rows (attentionWmmaApplies, and aligned pointers)
// takes the tensor-core (WMMA) kernel with blocks of `wmmaWarps` warps (1, 2 or 4; 16 query rows
// each); wmmaWarps 0, and everything else, the row kernel (one block per query row, scores in
// shared memory: up to about 12k keys).
bool attentionWmmaApplies(KType t, const AttentionParams& p);
// keySplits 2 (with 2 or 4 warps): the warps of a row group take alternate 64-key tiles and merge
// at the end (twice the warps on the same rows: short sequences at small batches).
// mma: the mma.sync kernel instead of the WMMA one, the same blocks of warps and key splits:
// scores, probabilities and output rows in registers, K/V tiles double-buffered by cp.async (one
// buffer per split with key splits).
cudaError_t attention(KType t, const void* q, const void* k, const void* v, void* o, const AttentionParams& p,
                      cudaStream_t s, int wmmaWarps = 4, int keySplits = 1, bool mma = false);
// The middle of attention done as two GEMMs: scores [H, Sq, Sk] of batch b (already scaled, FP32)
// get the masks of p (the additive one of type t) and a row softmax, in place.
cudaError_t attentionSoftmax(KType t, float* scores, const AttentionParams& p, int b, cudaStream_t s);

// ---- PDL twins (cutlass_common.cuh registers them, cuda_backend.cpp swaps them in) --------------
// CUTLASS's kernels do not wait for the grid before them, so a programmatic graph edge into one
// would race. Each CUTLASS kernel trt launches has a twin in namespace trt with the same parameter
// and body that first waits (TRT_WAIT_PRIOR_GRID); unless TRT_PDL=0 the backend puts the twin into
// the captured graph's node, and the edge into it can then be programmatic. Keyed by the kernel's
// driver function (cudaGetFuncBySymbol, this device's; what the driver reads from any graph node):
// pdlTwinOf(function) is the twin, or null.
inline std::unordered_map<const void*, const void*>& pdlTwins(std::mutex** mu) {
  static std::mutex m;
  static std::unordered_map<const void*, const void*> twins;
  *mu = &m;
  return twins;
}
inline void registerPdlTwin(const void* kernel, const void* twin) {
  cudaFunction_t f = nullptr;
  if (cudaGetFuncBySymbol(&f, kernel) != cudaSuccess || !f) {
    cudaGetLastError();  // (no twin: the edges into this kernel stay)
    return;
  }
  std::mutex* mu = nullptr;
  auto& twins = pdlTwins(&mu);
  std::lock_guard<std::mutex> lock(*mu);
  twins[f] = twin;
}
inline const void* pdlTwinOf(const void* kernel) {
  std::mutex* mu = nullptr;
  auto& twins = pdlTwins(&mu);
  std::lock_guard<std::mutex> lock(*mu);
  const auto it = twins.find(kernel);
  return it == twins.end() ? nullptr : it->second;
}

}  // namespace kernels
}  // namespace trt
