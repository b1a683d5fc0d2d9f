// Parallel branches (runtime/side_stream.h): which layers run on the side stream, from where to
// where.
#include <gtest/gtest.h>

#include "runtime/side_stream.h"
#include "test_util.h"

using namespace trt;
using namespace trt::testutil;

namespace {
// A backend that only answers runsBeside: every Conv may run on the side stream.
class BesideBackend : public PlanningOnlyBackend {
 public:
  BesideBackend() : PlanningOnlyBackend("beside") {}
  bool runsBeside(const Layer& l) const override { return l.type == "Conv"; }
};

int layerIndex(const Network& net, const std::string& name) {
  for (size_t i = 0; i < net.layers().size(); ++i)
    if (net.layers()[i].name == name) return static_cast<int>(i);
  return -1;
}
}  // namespace

// The C3-like join (channelJoinModel: branch_a, relu_a, branch_b, relu_b, join, head): branch_b
// reads x as branch_a does, so it may start with branch_a (fork 0) and the main stream waits for
// it at relu_b, its first reader. branch_a is read at once (nothing to overlap), and the head's
// output is the network's.
TEST(SideStream, TakesTheBranchWithSomethingBesideIt) {
  auto net = channelJoinModel(false).parse();
  ASSERT_TRUE(net.isOk()) << net.status().message();
  const Network& n = **net;
  const int nl = static_cast<int>(n.layers().size());
  BesideBackend backend;
  const auto side = planSideLayers(n, std::vector<bool>(nl, false), backend);
  ASSERT_EQ(side.size(), 1u);
  EXPECT_EQ(side[0].layer, layerIndex(n, "branch_b"));
  EXPECT_EQ(side[0].fork, 0);
  EXPECT_EQ(side[0].join, layerIndex(n, "relu_b"));
  // With branch_a's layers not running (skipped), branch_b has nothing to overlap with.
  std::vector<bool> skip(nl, false);
  skip[layerIndex(n, "branch_a")] = skip[layerIndex(n, "relu_a")] = true;
  EXPECT_TRUE(planSideLayers(n, skip, backend).empty());
  // A backend without side streams takes none.
  EXPECT_TRUE(planSideLayers(n, std::vector<bool>(nl, false), *findBackend("cpu")).empty());
}

// YOLOv5's neck (neckJoinModel): conv_b beside conv_a (both read x), conv_e beside the Resize of
// a. Forks and joins in layer order; every join after its fork and layer.
TEST(SideStream, ForksAndJoinsInOrder) {
  auto net = neckJoinModel().parse();
  ASSERT_TRUE(net.isOk()) << net.status().message();
  const Network& n = **net;
  BesideBackend backend;
  const auto side = planSideLayers(n, std::vector<bool>(n.layers().size(), false), backend);
  ASSERT_FALSE(side.empty());
  bool convB = false;
  for (const SideLayer& s : side) {
    EXPECT_LE(s.fork, s.layer);
    EXPECT_GT(s.join, s.layer);
    EXPECT_EQ(n.layers()[s.layer].type, "Conv");
    convB = convB || n.layers()[s.layer].name == "conv_b";
  }
  EXPECT_TRUE(convB);
}
