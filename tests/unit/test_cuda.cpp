// The CUDA backend against the CPU oracle on small networks, and its runtime contract (async
// enqueue, several contexts). Skips, with the reason, where no CUDA device exists.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <thread>

#include "test_util.h"

using namespace trt;
using namespace trt::testutil;

namespace {

bool haveCuda() {
  auto b = availableBackends();
  return std::find(b.begin(), b.end(), "cuda") != b.end();
}

#define SKIP_WITHOUT_CUDA() \
  if (!haveCuda()) GTEST_SKIP() << "CUDA backend unavailable: " << backendUnavailableReasonForTools("cuda")

OnnxBuilder convNet() {
  OnnxBuilder b;
  b.input("x", onnx::TensorProto::FLOAT, {-1, 3, 8, 8}, {"batch"});
  std::vector<float> w(4 * 3 * 9), bias = {0.1f, -0.2f, 0.3f, 0.f};
  for (size_t i = 0; i < w.size(); ++i) w[i] = std::sin(static_cast<float>(i)) * 0.3f;
  b.initFloat("w", {4, 3, 3, 3}, w);
  b.initFloat("b", {4}, bias);
  auto* c = b.node("Conv", {"x", "w", "b"}, {"c"});
  OnnxBuilder::attrInts(c, "pads", {1, 1, 1, 1});
  b.node("Relu", {"c"}, {"r"});
  b.node("GlobalAveragePool", {"r"}, {"g"});
  b.node("Flatten", {"g"}, {"f"});
  std::vector<float> fc(4 * 5);
  for (size_t i = 0; i < fc.size(); ++i) fc[i] = std::cos(static_cast<float>(i));
  b.initFloat("fc", {4, 5}, fc);
  b.node("MatMul", {"f", "fc"}, {"m"});
  b.node("Softmax", {"m"}, {"y"});
  b.output("y");
  return b;
}

// convNet built for `device` and loaded.
Expected<std::shared_ptr<Engine>> buildConvNet(const std::string& device, int64_t workspaceLimit = -1) {
  auto net = convNet().parse();
  if (!net.isOk()) return net.status();
  BuilderConfig cfg;
  cfg.device = device;
  cfg.workspaceLimitBytes = workspaceLimit;
  Builder builder(cfg);
  TRT_ASSIGN_OR_RETURN(auto plan, builder.buildSerialized(**net));
  return Engine::deserialize(plan.data(), plan.size());
}

Expected<HostTensor> runOn(const std::string& device, const HostTensor& x, bool graphs = true,
                           int64_t workspaceLimit = -1) {
  TRT_ASSIGN_OR_RETURN(auto engine, buildConvNet(device, workspaceLimit));
  auto ctx = engine->createExecutionContext();
  TRT_RETURN_IF_ERROR(ctx->setInputShape("x", x.dims()));
  TRT_ASSIGN_OR_RETURN(DeviceBuffer dx, DeviceBuffer::allocate(*engine, x.byteSize()));
  TRT_RETURN_IF_ERROR(dx.copyFromHost(x.data(), x.byteSize()));
  TRT_RETURN_IF_ERROR(ctx->setTensorAddress("x", dx.data()));
  TRT_ASSIGN_OR_RETURN(Dims yd, ctx->getTensorShape("y"));
  HostTensor y(DataType::kFloat32, yd);
  TRT_ASSIGN_OR_RETURN(DeviceBuffer dy, DeviceBuffer::allocate(*engine, y.byteSize()));
  TRT_RETURN_IF_ERROR(ctx->setTensorAddress("y", dy.data()));
  ctx->setUseGraphs(graphs);
  // The second run replays the captured graph; poison the output in between.
  TRT_RETURN_IF_ERROR(ctx->execute());
  std::vector<float> poison(static_cast<size_t>(y.numel()), NAN);
  TRT_RETURN_IF_ERROR(dy.copyFromHost(poison.data(), y.byteSize()));
  TRT_RETURN_IF_ERROR(ctx->execute());
  TRT_RETURN_IF_ERROR(dy.copyToHost(y.data(), y.byteSize()));
  return y;
}

}  // namespace

TEST(Cuda, MatchesCpuOracle) {
  SKIP_WITHOUT_CUDA();
  for (int64_t batch : {1, 3}) {
    HostTensor x = iota({batch, 3, 8, 8}, -1.f, 0.01f);
    auto cpu = runOn("cpu", x);
    for (bool graphs : {true, false}) {
      auto gpu = runOn("cuda", x, graphs);
      ASSERT_TRUE(cpu.isOk()) << cpu.status().message();
      ASSERT_TRUE(gpu.isOk()) << gpu.status().message();
      ASSERT_EQ(cpu->dims(), gpu->dims());
      for (int64_t i = 0; i < cpu->numel(); ++i)
        EXPECT_NEAR(cpu->as<float>()[i], gpu->as<float>()[i], 1e-5) << i;
    }
  }
}

TEST(Cuda, PlanRecordsTheDevice) {
  SKIP_WITHOUT_CUDA();
  auto e = buildConvNet("cuda");
  ASSERT_TRUE(e.isOk()) << e.status().message();
  EXPECT_EQ((*e)->backend(), "cuda");
  EXPECT_NE((*e)->fingerprint().find("sm "), std::string::npos) << (*e)->fingerprint();
  EXPECT_FALSE((*e)->usesHostMemory());
}

// The workspace is what the prepared algorithms need (cuDNN's and cuBLASLt's own scratch), not the
// 64 MiB search limit: a small conv net's context asks for far less.
TEST(Cuda, WorkspaceIsWhatThePreparedAlgorithmsNeed) {
  SKIP_WITHOUT_CUDA();
  auto e = buildConvNet("cuda");
  ASSERT_TRUE(e.isOk()) << e.status().message();
  auto ctx = (*e)->createExecutionContext();
  ASSERT_TRUE(ctx->setInputShape("x", {2, 3, 8, 8}).isOk());
  auto report = ctx->memoryPlan();
  ASSERT_TRUE(report.isOk()) << report.status().message();
  EXPECT_LT(report->workspaceBytes, int64_t{8} << 20) << report->workspaceBytes;
}

// With no workspace allowed (--memPoolSize=workspace:0) the builder's limit reaches cuDNN and
// cuBLASLt: they pick algorithms that need none, and the results still match the CPU.
TEST(Cuda, ZeroWorkspaceLimitStillMatchesCpu) {
  SKIP_WITHOUT_CUDA();
  HostTensor x = iota({2, 3, 8, 8}, -1.f, 0.01f);
  auto cpu = runOn("cpu", x);
  auto gpu = runOn("cuda", x, true, 0);
  ASSERT_TRUE(cpu.isOk() && gpu.isOk()) << gpu.status().message();
  for (int64_t i = 0; i < cpu->numel(); ++i) EXPECT_NEAR(cpu->as<float>()[i], gpu->as<float>()[i], 1e-5) << i;
}
