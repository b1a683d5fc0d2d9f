// Runtime: dynamic shapes, binding errors and concurrent execution contexts.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <thread>

#include "test_util.h"

using namespace trt;
using namespace trt::testutil;

namespace {
std::shared_ptr<Engine> dynamicEngine() {
  OnnxBuilder b;
  b.input("x", onnx::TensorProto::FLOAT, {-1, 4}, {"batch"});
  b.initFloat("w", {4, 2}, {1, 0, 0, 1, 1, 0, 0, 1});
  b.node("MatMul", {"x", "w"}, {"m"});
  b.node("Relu", {"m"}, {"y"});
  b.output("y");
  auto net = b.parse();
  return std::move(buildEngine(**net)).value();
}
}  // namespace

TEST(Runtime, RunsAtAnyBatch) {
  auto e = dynamicEngine();
  for (int64_t batch : {1, 3, 17}) {
    auto y = runOne(*e, "x", iota({batch, 4}, -3.f), "y");
    ASSERT_TRUE(y.isOk()) << y.status().message();
    EXPECT_EQ(y->dims(), (Dims{batch, 2}));
    // row r: x = -3 + 4r + [0,1,2,3] -> y0 = relu(x0 + x2), y1 = relu(x1 + x3)
    int64_t r = batch - 1;
    EXPECT_FLOAT_EQ(y->as<float>()[r * 2], std::max(0.f, 2 * (-3.f + 4 * r) + 2));
  }
}

TEST(Runtime, BindingErrorsAreClear) {
  auto e = dynamicEngine();
  auto ctx = e->createExecutionContext();
  Status st = ctx->setInputShape("nope", {1, 4});
  ASSERT_FALSE(st.isOk());
  EXPECT_NE(st.message().find("inputs: x"), std::string::npos);
  st = ctx->setInputShape("x", {1, 5});
  ASSERT_FALSE(st.isOk());
  EXPECT_NE(st.message().find("[batch,4]"), std::string::npos) << st.message();
  st = ctx->setInputShape("x", {1, 4, 1});
  EXPECT_FALSE(st.isOk());
  ASSERT_TRUE(ctx->setInputShape("x", {2, 4}).isOk());
  st = ctx->execute();  // no addresses
  ASSERT_FALSE(st.isOk());
  EXPECT_NE(st.message().find("no address"), std::string::npos);
}

TEST(Runtime, DynamicInputWithoutShapeIsAnError) {
  auto e = dynamicEngine();
  auto ctx = e->createExecutionContext();
  auto d = ctx->getTensorShape("y");
  ASSERT_FALSE(d.isOk());
  EXPECT_NE(d.status().message().find("dynamic shape"), std::string::npos);
}

TEST(Runtime, ManyContextsShareOneEngineConcurrently) {
  auto e = dynamicEngine();
  std::vector<std::thread> threads;
  std::vector<int> ok(8, 0);
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&, t] {
      for (int it = 0; it < 20; ++it) {
        auto y = runOne(*e, "x", iota({t + 1, 4}, static_cast<float>(t)), "y");
        if (y.isOk() && y->dims() == Dims{t + 1, 2} && y->as<float>()[0] == static_cast<float>(2 * t + 2))
          ++ok[t];
      }
    });
  for (auto& th : threads) th.join();
  for (int t = 0; t < 8; ++t) EXPECT_EQ(ok[t], 20) << t;
}

// On the CPU backend elementwise layers write over an input nobody reads afterwards: a chain of
// four elementwise layers needs one activation buffer, and the outputs do not change.
TEST(Runtime, ElementwiseChainRunsInPlace) {
  OnnxBuilder b;
  b.input("x", onnx::TensorProto::FLOAT, {4, 64});
  b.node("Exp", {"x"}, {"a"}, "exp");
  b.node("Relu", {"a"}, {"r"}, "relu");
  b.node("Sigmoid", {"r"}, {"s"}, "sigmoid");
  b.node("Add", {"s", "a2"}, {"t"}, "add");  // a2 = a later read: a is not reusable by relu
  b.node("Neg", {"a"}, {"a2"}, "neg");
  b.node("Abs", {"t"}, {"y"}, "abs");
  b.output("y");
  // (topological order fixed below: neg must precede add)
  std::swap(*b.g->mutable_node(3), *b.g->mutable_node(4));
  auto net = b.parse();
  ASSERT_TRUE(net.isOk()) << net.status().message();
  auto e = buildEngine(**net, 0);
  ASSERT_TRUE(e.isOk()) << e.status().message();
  auto ctx = (*e)->createExecutionContext();
  HostTensor x = iota({4, 64}, -2.f, 0.02f), y(DataType::kFloat32, {4, 64});
  ASSERT_TRUE(ctx->setInputShape("x", x.dims()).isOk());
  ASSERT_TRUE(ctx->setTensorAddress("x", x.data()).isOk());
  ASSERT_TRUE(ctx->setTensorAddress("y", y.data()).isOk());
  ASSERT_TRUE(ctx->execute().isOk());
  for (int64_t i = 0; i < x.numel(); ++i) {
    const float a = std::exp(x.as<float>()[i]);
    const float want = std::fabs(1.f / (1.f + std::exp(-std::max(a, 0.f))) - a);
    EXPECT_NEAR(y.as<float>()[i], want, 1e-5f) << i;
  }
  auto plan = ctx->memoryPlan();
  ASSERT_TRUE(plan.isOk());
  // a (exp), r (relu), a2 (neg), s (sigmoid), t (add): 5 tensors of 1 KiB. a is read until neg, so
  // relu cannot take it; sigmoid takes r, neg takes a, add takes s: two buffers.
  EXPECT_EQ(plan->totalActivationBytes, 5 * 1024);
  EXPECT_EQ(plan->arenaBytes, 2 * 1024);  // without in place: 3 KiB (s, a2 and t live at the add)
}

// Build shapes bind the model's named dims: `a` given [2, 3] makes `b` ([batch, seq] too) static
// [2, 3]; an input with other names stays dynamic; two sizes for one name is a clear error.
TEST(Runtime, BuildShapesBindNamedDimsOfEveryInput) {
  auto model = [] {
    OnnxBuilder b;
    b.input("a", onnx::TensorProto::FLOAT, {-1, -1}, {"batch", "seq"});
    b.input("b", onnx::TensorProto::FLOAT, {-1, -1}, {"batch", "seq"});
    b.input("c", onnx::TensorProto::FLOAT, {-1, 3}, {"other"});
    b.node("Add", {"a", "b"}, {"s"});
    b.node("Relu", {"c"}, {"r"});
    b.output("s");
    b.output("r");
    return b;
  };
  auto net = model().parse();
  ASSERT_TRUE(net.isOk());
  BuilderConfig cfg;
  cfg.inputShapes["a"] = {2, 3};
  auto e = buildWithConfig(**net, cfg);
  ASSERT_TRUE(e.isOk()) << e.status().message();
  auto ctx = (*e)->createExecutionContext();
  EXPECT_FALSE(ctx->getTensorShape("r").isOk());        // "other" is still dynamic
  ASSERT_TRUE(ctx->setInputShape("c", {5, 3}).isOk());  // at any size
  auto bs = ctx->getTensorShape("b");
  ASSERT_TRUE(bs.isOk()) << bs.status().message();
  EXPECT_EQ(*bs, (Dims{2, 3}));
  EXPECT_FALSE(ctx->setInputShape("b", {2, 4}).isOk());
  auto clash = model().parse();
  ASSERT_TRUE(clash.isOk());
  cfg.inputShapes["b"] = {2, 4};
  auto bad = buildWithConfig(**clash, cfg);
  ASSERT_FALSE(bad.isOk());
  EXPECT_NE(bad.status().message().find("dim 'seq' two sizes"), std::string::npos) << bad.status().message();
}
