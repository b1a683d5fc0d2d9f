// Numpy-style broadcasting loops for the CPU kernels. Layout: dense row-major.
#pragma once

#include <array>
#include <vector>

#include "trt/types.h"

namespace trt {
namespace cpu {

// Strides of `in` aligned to `out`'s rank, 0 along broadcast dims.
inline std::vector<int64_t> broadcastStrides(const Dims& in, const Dims& out) {
  std::vector<int64_t> s(out.size(), 0);
  int64_t stride = 1;
  for (int i = static_cast<int>(in.size()) - 1, o = static_cast<int>(out.size()) - 1; i >= 0; --i, --o) {
    s[o] = in[i] == 1 ? 0 : stride;
    stride *= in[i];
  }
  return s;
}

// Calls f(outIndex, offsets) for every output element, where offsets[j] is the element offset in
// input j. The innermost dim runs as a plain loop.
template <size_t N, typename F>
void broadcastLoop(const Dims& out, const std::array<Dims, N>& ins, F&& f) {
  const int64_t total = volume(out);
  if (total == 0) return;
  std::array<std::vector<int64_t>, N> st;
  for (size_t j = 0; j < N; ++j) st[j] = broadcastStrides(ins[j], out);
  const int rank = static_cast<int>(out.size());
  if (rank == 0) {
    std::array<int64_t, N> off{};
    f(0, off);
    return;
  }
  const int64_t inner = out[rank - 1];
  std::vector<int64_t> idx(rank, 0);
  std::array<int64_t, N> base{};
  for (int64_t o = 0; o < total; o += inner) {
    std::array<int64_t, N> off = base;
    for (int64_t k = 0; k < inner; ++k) {
      f(o + k, off);
      for (size_t j = 0; j < N; ++j) off[j] += st[j][rank - 1];
    }
    for (int d = rank - 2; d >= 0; --d) {
      ++idx[d];
      for (size_t j = 0; j < N; ++j) base[j] += st[j][d];
      if (idx[d] < out[d]) break;
      for (size_t j = 0; j < N; ++j) base[j] -= st[j][d] * out[d];
      idx[d] = 0;
    }
  }
}

}  // namespace cpu
}  // namespace trt
