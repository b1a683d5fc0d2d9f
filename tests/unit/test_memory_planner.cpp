// Memory planner against hand-made lifetimes whose optimum is known.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <climits>
#include <cstdint>

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

namespace {
// The exact optimum for a handful of tensors: first fit in every order. (Some order reproduces any
// optimal packing: place blocks by increasing optimal offset and first fit puts each no higher.)
int64_t optimumByOrders(const std::vector<TensorLifetime>& t) {
  std::vector<size_t> order(t.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  int64_t best = INT64_MAX;
  do {
    std::vector<std::array<int64_t, 4>> placed;  // offset, size, first, last
    int64_t arena = 0;
    for (size_t i : order) {
      const int64_t size = (t[i].bytes + 255) / 256 * 256;
      std::vector<std::pair<int64_t, int64_t>> live;
      for (const auto& p : placed)
        if (p[2] <= t[i].last && t[i].first <= p[3]) live.push_back({p[0], p[1]});
      std::sort(live.begin(), live.end());
      int64_t off = 0;
      for (const auto& [o, s] : live) {
        if (off + size <= o) break;
        off = std::max(off, o + s);
      }
      placed.push_back({off, size, t[i].first, t[i].last});
      arena = std::max(arena, off + size);
    }
    best = std::min(best, arena);
  } while (std::next_permutation(order.begin(), order.end()));
  return best;
}
}  // namespace

TEST(MemoryPlanner, CloseToTheOptimumOnSmallInstances) {
  uint32_t seed = 777;
  auto next = [&] { return seed = seed * 1664525u + 1013904223u; };
  int exact = 0;
  for (int trial = 0; trial < 40; ++trial) {
    std::vector<TensorLifetime> t;
    for (int i = 0; i < 6; ++i) {
      const int first = static_cast<int>(next() % 6);
      t.push_back(
          {static_cast<int64_t>((next() % 16 + 1) * 256), first, first + static_cast<int>(next() % 3)});
    }
    MemoryPlan p = planMemory(t);
    EXPECT_FALSE(overlaps(p, t));
    const int64_t opt = optimumByOrders(t);
    EXPECT_GE(p.arenaBytes, opt);
    EXPECT_LE(p.arenaBytes, opt * 5 / 4) << "trial " << trial;  // greedy stays within 25% of the optimum
    exact += p.arenaBytes == opt;
  }
  EXPECT_GE(exact, 30) << exact;  // and hits it on most instances
  std::cout << "planner at the optimum on " << exact << " of 40 instances\n";
}

// Largest-first best fit alone packs this to 24 units; the peak of live bytes is 18 and greedy by
// breadth reaches it (the planner keeps the best of its orders).
TEST(MemoryPlanner, BreadthOrderAvoidsFragmentation) {
  const int64_t u = 256;
  std::vector<TensorLifetime> t = {{7 * u, 1, 1}, {6 * u, 0, 2}, {5 * u, 2, 4}, {6 * u, 2, 3}, {7 * u, 3, 4}};
  MemoryPlan p = planMemory(t);
  EXPECT_FALSE(overlaps(p, t));
  EXPECT_EQ(peakLive(t), 18 * u);
  EXPECT_EQ(p.arenaBytes, 18 * u);
}
