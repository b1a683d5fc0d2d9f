// Memory planner against hand-made lifetimes whose optimum is known.
#include <gtest/gtest.h>

#include "builder/memory_planner.h"

using namespace trt;

namespace {
bool overlaps(const MemoryPlan& p, const std::vector<TensorLifetime>& t) {
  for (size_t i = 0; i < t.size(); ++i)
    for (size_t j = i + 1; j < t.size(); ++j) {
      bool live = t[i].first <= t[j].last && t[j].first <= t[i].last;
      bool mem = p.offsets[i] < p.offsets[j] + t[j].bytes && p.offsets[j] < p.offsets[i] + t[i].bytes;
      if (live && mem) return true;
    }
  return false;
}
// The peak of live bytes over time: a lower bound on any plan, and the optimum for these cases.
int64_t peakLive(const std::vector<TensorLifetime>& t) {
  int64_t peak = 0;
  for (int step = 0; step < 64; ++step) {
    int64_t live = 0;
    for (const auto& x : t)
      if (x.first <= step && step <= x.last) live += (x.bytes + 255) / 256 * 256;
    peak = std::max(peak, live);
  }
  return peak;
}
}  // namespace

TEST(MemoryPlanner, ChainReusesTwoBuffers) {
  // a -> b -> c -> d, each read by the next layer only: the optimum is the two largest neighbours.
  std::vector<TensorLifetime> t = {{1024, 0, 1}, {1024, 1, 2}, {1024, 2, 3}, {1024, 3, 4}};
  MemoryPlan p = planMemory(t);
  EXPECT_FALSE(overlaps(p, t));
  EXPECT_EQ(p.arenaBytes, 2048);
  EXPECT_EQ(p.arenaBytes, peakLive(t));
  EXPECT_EQ(p.totalBytes, 4096);
}

TEST(MemoryPlanner, ResidualBlockMeetsThePeak) {
  // x lives across the branch (0..3) and is added to b at layer 3, which writes y.
  std::vector<TensorLifetime> t = {{4096, 0, 3}, {2048, 1, 2}, {2048, 2, 3}, {4096, 3, 4}, {1024, 4, 5}};
  MemoryPlan p = planMemory(t);
  EXPECT_FALSE(overlaps(p, t));
  EXPECT_EQ(p.arenaBytes, peakLive(t));
  EXPECT_EQ(p.arenaBytes, 4096 + 2048 + 4096);
}

TEST(MemoryPlanner, ManyRandomLifetimesNeverOverlap) {
  std::vector<TensorLifetime> t;
  uint32_t seed = 12345;
  auto next = [&] { return seed = seed * 1664525u + 1013904223u; };
  for (int i = 0; i < 200; ++i) {
    int first = static_cast<int>(next() % 50);
    t.push_back({static_cast<int64_t>(next() % 100000 + 1), first, first + static_cast<int>(next() % 8)});
  }
  MemoryPlan p = planMemory(t);
  EXPECT_FALSE(overlaps(p, t));
  EXPECT_GE(p.arenaBytes, peakLive(t));
  EXPECT_LT(p.arenaBytes, p.totalBytes);
}

TEST(MemoryPlanner, AlignsTo256AndSkipsEmpty) {
  std::vector<TensorLifetime> t = {{10, 0, 0}, {0, 0, 1}, {300, 0, 1}};
  MemoryPlan p = planMemory(t);
  EXPECT_EQ(p.offsets[1], -1);
  EXPECT_EQ(p.offsets[0] % 256, 0);
  EXPECT_EQ(p.offsets[2] % 256, 0);
  EXPECT_EQ(p.arenaBytes, 256 + 512);
}
