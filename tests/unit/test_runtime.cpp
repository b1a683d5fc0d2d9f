// Runtime: dynamic shapes, binding errors and concurrent execution contexts.
#include <gtest/gtest.h>

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
        if (y.isOk() && y->dims() == Dims{t + 1, 2} && y->as<float>()[0] == static_cast<float>(2 * t + 2)) ++ok[t];
      }
    });
  for (auto& th : threads) th.join();
  for (int t = 0; t < 8; ++t) EXPECT_EQ(ok[t], 20) << t;
}
