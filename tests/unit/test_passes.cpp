// Passes: constant folding and dead-code elimination, structurally and numerically.
#include <gtest/gtest.h>

#include "passes/pass.h"
#include "test_util.h"

using namespace trt;
using namespace trt::testutil;

namespace {
// y = x + (w * 2): the Mul has only constant inputs and folds; an unused branch is dead.
OnnxBuilder foldableModel() {
  OnnxBuilder b;
  b.input("x", onnx::TensorProto::FLOAT, {2, 3});
  b.initFloat("w", {3}, {1, 2, 3});
  b.initFloat("two", {}, {2});
  b.node("Mul", {"w", "two"}, {"w2"}, "fold_me");
  b.node("Add", {"x", "w2"}, {"y"}, "keep_me");
  b.node("Exp", {"x"}, {"unused"}, "dead");
  b.output("y");
  return b;
}
}  // namespace

TEST(Passes, ConstantFoldingAndDeadCodeStructure) {
  auto net = foldableModel().parse();
  ASSERT_TRUE(net.isOk());
  ASSERT_EQ((*net)->layers().size(), 3u);
  bool changed = false;
  ASSERT_TRUE(makeDeadCodePass()->run(**net, changed).isOk());
  EXPECT_TRUE(changed);
  EXPECT_EQ((*net)->layers().size(), 2u);
  ASSERT_TRUE(makeConstantFoldingPass()->run(**net, changed).isOk());
  EXPECT_TRUE(changed);
  ASSERT_EQ((*net)->layers().size(), 1u);
  EXPECT_EQ((*net)->layers()[0].name, "keep_me");
  // negative case: nothing left to fold
  ASSERT_TRUE(makeConstantFoldingPass()->run(**net, changed).isOk());
  EXPECT_FALSE(changed);
}

TEST(Passes, OutputsAgreeWithAndWithoutPasses) {
  auto a = foldableModel().parse();
  auto b = foldableModel().parse();
  auto e0 = buildEngine(**a, /*optLevel=*/0);
  auto e3 = buildEngine(**b, /*optLevel=*/3);
  ASSERT_TRUE(e0.isOk() && e3.isOk());
  EXPECT_EQ((*e0)->network().layers().size(), 3u);
  EXPECT_EQ((*e3)->network().layers().size(), 1u);
  HostTensor x = iota({2, 3}, -1.f, 0.5f);
  auto y0 = runOne(**e0, "x", x, "y");
  auto y3 = runOne(**e3, "x", x, "y");
  ASSERT_TRUE(y0.isOk() && y3.isOk());
  for (int i = 0; i < 6; ++i) EXPECT_FLOAT_EQ(y0->as<float>()[i], y3->as<float>()[i]);
  EXPECT_FLOAT_EQ(y3->as<float>()[5], 1.5f + 6.f);
}
