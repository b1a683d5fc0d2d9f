// The CUDA backend against the CPU oracle on small networks, and its runtime contract (async
// enqueue, several contexts). Skips, with the reason, where no CUDA device exists.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <thread>

#include "backends/backend.h"
#include "plan/plan_file.h"
#include "runtime/side_stream.h"
#include "test_util.h"
#if TRT_HAVE_CUDA
#include "backends/cuda/cuda_util.h"
#include "backends/cuda/pointwise_nvrtc.h"
#include "kernels.h"
#endif

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

// `model` built with `cfg` and read back as plan contents, so a test can set tactics and reload.
Expected<PlanContents> buildPlanContents(const OnnxBuilder& model, const BuilderConfig& cfg) {
  TRT_ASSIGN_OR_RETURN(auto net, model.parse());
  Builder builder(cfg);
  TRT_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, builder.buildSerialized(*net));
  return readPlan(bytes.data(), bytes.size());
}

// The engine of an (edited) network under the plan's fingerprint.
Expected<std::shared_ptr<Engine>> engineOf(const Network& net, const PlanFingerprint& fp) {
  const std::vector<uint8_t> plan = writePlan(net, fp, "");
  return Engine::deserialize(plan.data(), plan.size());
}

// Conv(in, w<k>, b<k>) -> out, C channels in and out, ks x ks (pads 1 for 3x3), values from w(i), bias(i).
void addSquareConv(OnnxBuilder& b, int64_t C, int k, const std::string& in, int64_t ks,
                   const std::string& out, const std::function<float(size_t)>& w,
                   const std::function<float(size_t)>& bias) {
  const std::string wn = "w" + std::to_string(k), bn = "b" + std::to_string(k);
  std::vector<float> wv(C * C * ks * ks), bv(C);
  for (size_t i = 0; i < wv.size(); ++i) wv[i] = w(i);
  for (size_t i = 0; i < bv.size(); ++i) bv[i] = bias(i);
  b.initFloat(wn, {C, C, ks, ks}, wv);
  b.initFloat(bn, {C}, bv);
  auto* n = b.node("Conv", {in, wn, bn}, {out});
  if (ks == 3) OnnxBuilder::attrInts(n, "pads", {1, 1, 1, 1});
}

Expected<HostTensor> runOn(const std::string& device, const HostTensor& x, bool graphs = true,
                           int64_t workspaceLimit = -1) {
  TRT_ASSIGN_OR_RETURN(auto engine, buildConvNet(device, workspaceLimit));
  return runXY(engine, x, graphs);
}

// A residual chain the three FusedConv paths serve, each with its residual Z read for the last
// time (so the engine may write the output over it):
//   a = Relu(Conv3x3(x) + b1)                      no Z
//   c = Relu(Conv1x1(a) + b2 + a)                  NHWC: the cuBLASLt GEMM with Z as C
//   d = Relu(Conv3x3(c) + b3 + c)                  cuDNN's fused call with z
//   e = Sigmoid(Conv3x3(d) + b4 + d)               cuDNN, then the epilogue kernel
//   y = e * e
OnnxBuilder residualNet() {
  OnnxBuilder b;
  const int64_t C = 16;
  b.input("x", onnx::TensorProto::FLOAT, {2, C, 8, 8});
  int k = 0;
  auto conv = [&](const std::string& in, int64_t ks, const std::string& out) {
    addSquareConv(
        b, C, k, in, ks, out,
        [&](size_t i) { return std::sin(static_cast<float>(i + 31 * k)) * 0.6f / (C * ks); },
        [](size_t i) { return 0.05f * static_cast<float>(i % 5) - 0.1f; });
    ++k;
  };
  conv("x", 3, "c0");
  b.node("Relu", {"c0"}, {"a"});
  conv("a", 1, "c1");
  b.node("Add", {"c1", "a"}, {"s1"});
  b.node("Relu", {"s1"}, {"c"});
  conv("c", 3, "c2");
  b.node("Add", {"c2", "c"}, {"s2"});
  b.node("Relu", {"s2"}, {"d"});
  conv("d", 3, "c3");
  b.node("Add", {"c3", "d"}, {"s3"});
  b.node("Sigmoid", {"s3"}, {"e"});
  b.node("Mul", {"e", "e"}, {"y"});
  b.output("y");
  return b;
}

Expected<std::shared_ptr<Engine>> buildResidualNet(const std::string& device, bool fp16,
                                                   int builderOptLevel = 0,
                                                   const std::string& timingCache = "",
                                                   BuildReport* report = nullptr) {
  TRT_ASSIGN_OR_RETURN(auto net, residualNet().parse());
  BuilderConfig cfg;
  cfg.device = device;
  cfg.fp16 = fp16;
  cfg.builderOptLevel = builderOptLevel;
  cfg.timingCachePath = timingCache;
  return buildWithConfig(*net, cfg, report);
}

void expectClose(const HostTensor& ref, const HostTensor& got, float tol, const std::string& what) {
  ASSERT_EQ(ref.dims(), got.dims()) << what;
  for (int64_t i = 0; i < ref.numel(); ++i)
    ASSERT_NEAR(ref.as<float>()[i], got.as<float>()[i], tol * (1.f + std::fabs(ref.as<float>()[i])))
        << what << " " << i;
}

// `model`'s output on x from a CPU engine: the reference the CUDA engines are held to.
Expected<HostTensor> cpuOutput(const OnnxBuilder& model, const HostTensor& x) {
  TRT_ASSIGN_OR_RETURN(auto net, model.parse());
  TRT_ASSIGN_OR_RETURN(auto cpu, buildWithConfig(*net, BuilderConfig{}, nullptr));
  return runXY(cpu, x);
}

// `model` built for CUDA with the builder's defaults (tactics timed), FP16 or not, in `layout`.
Expected<std::shared_ptr<Engine>> cudaEngine(const OnnxBuilder& model, bool fp16,
                                             const std::string& layout = "auto") {
  TRT_ASSIGN_OR_RETURN(auto net, model.parse());
  BuilderConfig cfg;
  cfg.device = "cuda";
  cfg.fp16 = fp16;
  cfg.layout = layout;
  return buildWithConfig(*net, cfg);
}

// `model` built for CUDA in FP16 NHWC as it stands (heuristic tactics, no batch tiling: the
// layers as the model has them), for tests that force tactics into it.
Expected<PlanContents> fp16NhwcContents(const OnnxBuilder& model) {
  BuilderConfig cfg;
  cfg.device = "cuda";
  cfg.fp16 = true;
  cfg.layout = "nhwc";
  cfg.builderOptLevel = 0;
  cfg.batchTiling = false;
  return buildPlanContents(model, cfg);
}

// Sets tactic pick(layer, network) on every FusedConv of `contents` for which it is not empty,
// expects `expected` of them, runs the engine on x and expects its output within 2e-2 of ref.
void expectForcedConvsMatch(const PlanContents& contents, const HostTensor& x, const HostTensor& ref,
                            int expected,
                            const std::function<std::string(const Layer&, const Network&)>& pick,
                            const std::string& what) {
  Network net = *contents.network;
  int forced = 0;
  for (Layer& l : net.layers()) {
    if (l.type != "FusedConv") continue;
    const std::string tactic = pick(l, net);
    if (tactic.empty()) continue;
    l.tactic = tactic;
    ++forced;
  }
  ASSERT_EQ(forced, expected) << what;
  auto engine = engineOf(net, contents.fingerprint);
  ASSERT_TRUE(engine.isOk()) << engine.status().message();
  auto got = runXY(*engine, x);
  ASSERT_TRUE(got.isOk()) << got.status().message();
  expectClose(ref, *got, 2e-2f, what);
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

// The results match the CPU in FP32 (NCHW, cuDNN) and FP16 (NHWC: GEMM, fused and unfused cuDNN
// paths), and in FP16 the 1x1 residual convolution (the GEMM) writes over its Z, its last reader:
// the memory plan shows the alias.
TEST(Cuda, ResidualConvolutionsRunInPlace) {
  SKIP_WITHOUT_CUDA();
  HostTensor x = iota({2, 16, 8, 8}, -1.f, 0.001f);
  auto cpuEngine = buildResidualNet("cpu", false);
  ASSERT_TRUE(cpuEngine.isOk()) << cpuEngine.status().message();
  auto ref = runXY(*cpuEngine, x);
  ASSERT_TRUE(ref.isOk()) << ref.status().message();
  for (bool fp16 : {false, true}) {
    auto e = buildResidualNet("cuda", fp16);
    ASSERT_TRUE(e.isOk()) << e.status().message();
    auto got = runXY(*e, x);
    ASSERT_TRUE(got.isOk()) << got.status().message();
    expectClose(*ref, *got, fp16 ? 2e-2f : 1e-4f, fp16 ? "fp16" : "fp32");
    auto ctx = (*e)->createExecutionContext();
    ASSERT_TRUE(ctx->setInputShape("x", x.dims()).isOk());
    auto plan = ctx->memoryPlan();
    ASSERT_TRUE(plan.isOk()) << plan.status().message();
    int aliases = 0;
    for (const auto& t : plan->tensors) aliases += t.view ? 1 : 0;
    if (fp16) {
      EXPECT_GE(aliases, 1);
    }
  }
}

// x -> conv3x3 -> Relu = a; a -> conv1x1 -> Relu = b; conv1x1(b) + a -> Relu = c (its residual Z is
// not its X, and is read nowhere after it); Sigmoid(c) = y.
OnnxBuilder residualAfterTwoNet() {
  OnnxBuilder b;
  const int64_t C = 16;
  b.input("x", onnx::TensorProto::FLOAT, {2, C, 8, 8});
  int k = 0;
  auto conv = [&](const std::string& in, int64_t ks, const std::string& out) {
    addSquareConv(
        b, C, k, in, ks, out,
        [&](size_t i) { return std::cos(static_cast<float>(i + 17 * k)) * 0.5f / (C * ks); },
        [](size_t i) { return 0.04f * static_cast<float>(i % 7) - 0.12f; });
    ++k;
  };
  conv("x", 3, "c0");
  b.node("Relu", {"c0"}, {"a"});
  conv("a", 1, "c1");
  b.node("Relu", {"c1"}, {"b"});
  conv("b", 1, "c2");
  b.node("Add", {"c2", "a"}, {"s"});
  b.node("Relu", {"s"}, {"c"});
  b.node("Sigmoid", {"c"}, {"y"});
  b.output("y");
  return b;
}

// Builds `model` on CUDA in FP32 (heuristic tactics), sets the tactic of its residual FusedConv (the
// one with a Z input) to `tactic`, runs it on x and returns the output and whether the memory plan
// put that layer's output over its Z.
Expected<std::pair<HostTensor, bool>> runResidualWithTactic(const OnnxBuilder& model,
                                                            const std::string& tactic, const HostTensor& x) {
  BuilderConfig cfg;
  cfg.device = "cuda";
  cfg.builderOptLevel = 0;
  TRT_ASSIGN_OR_RETURN(PlanContents contents, buildPlanContents(model, cfg));
  Network& built = *contents.network;
  std::string out, z;
  for (Layer& l : built.layers())
    if (l.type == "FusedConv" && l.inputs.size() > 3 && l.inputs[3] >= 0) {
      l.tactic = tactic;
      out = built.tensor(l.outputs[0]).name;
      z = built.tensor(l.inputs[3]).name;
    }
  if (out.empty()) return makeError(StatusCode::kInternal, "no residual FusedConv");
  TRT_ASSIGN_OR_RETURN(auto engine, engineOf(built, contents.fingerprint));
  TRT_ASSIGN_OR_RETURN(HostTensor y, runXY(engine, x));
  auto ctx = engine->createExecutionContext();
  TRT_RETURN_IF_ERROR(ctx->setInputShape("x", x.dims()));
  TRT_ASSIGN_OR_RETURN(auto mp, ctx->memoryPlan());
  int64_t outAt = -1, zAt = -2;
  bool outIsView = false;
  for (const auto& t : mp.tensors) {
    if (t.name == out) {
      outAt = t.offset;
      outIsView = t.view;
    }
    if (t.name == z) zAt = t.offset;
  }
  return std::make_pair(std::move(y), outIsView && outAt == zAt);
}

// FP32 NCHW: the accumulating cuDNN tactic (Y = Z, then the convolution with beta = 1) and the
// 1x1 GEMM (Z as C) match the CPU, and the engine plans their Y over Z; where Z is also the
// layer's X it does not.
TEST(Cuda, AccumulatingConvWritesOverZ) {
  SKIP_WITHOUT_CUDA();
  HostTensor x = iota({2, 16, 8, 8}, -1.f, 0.001f);
  for (bool zIsX : {false, true}) {
    const OnnxBuilder model = zIsX ? residualNet() : residualAfterTwoNet();
    auto net = model.parse();
    ASSERT_TRUE(net.isOk());
    BuilderConfig cfg;
    auto cpu = buildWithConfig(**net, cfg, nullptr);
    ASSERT_TRUE(cpu.isOk()) << cpu.status().message();
    auto ref = runXY(*cpu, x);
    ASSERT_TRUE(ref.isOk());
    std::vector<std::string> tactics = {"cudnn_conv_nchw_fp32", "cudnn_conv_acc_nchw_fp32"};
    if (!zIsX) tactics.push_back("cublaslt_conv1x1_nchw_fp32");  // its residual conv is 1x1
    for (const std::string& tactic : tactics) {
      auto got = runResidualWithTactic(model, tactic, x);
      ASSERT_TRUE(got.isOk()) << tactic << ": " << got.status().message();
      expectClose(*ref, got->first, 1e-4f, tactic);
      EXPECT_EQ(got->second, !zIsX && tactic != "cudnn_conv_nchw_fp32") << tactic << " zIsX " << zIsX;
    }
  }
}

// RGB stems: 3 input channels, a 6x6 stride-2 convolution (pads 2) with SiLU, or a 7x7 stride-2
// one with asymmetric pads and ReLU; then a 1x1 convolution. co: the stem's output channels (0:
// 16 and 8), over a 20 x `width` input.
OnnxBuilder stemNet(bool yolo, int64_t cin = 3, int64_t outChannels = 0, int64_t width = 24) {
  OnnxBuilder b;
  b.input("x", onnx::TensorProto::FLOAT, {2, cin, 20, width});
  const int64_t k = yolo ? 6 : 7, co = outChannels ? outChannels : yolo ? 16 : 8;
  std::vector<float> w(co * cin * k * k), bias(co), w2(8 * co);
  for (size_t i = 0; i < w.size(); ++i) w[i] = 0.25f * std::sin(0.71f * static_cast<float>(i) + 0.3f);
  for (size_t i = 0; i < bias.size(); ++i) bias[i] = 0.05f * static_cast<float>(i % 5) - 0.1f;
  for (size_t i = 0; i < w2.size(); ++i) w2[i] = 0.3f * std::cos(0.53f * static_cast<float>(i));
  b.initFloat("w", {co, cin, k, k}, w);
  b.initFloat("b", {co}, bias);
  b.initFloat("w2", {8, co, 1, 1}, w2);
  auto* c = b.node("Conv", {"x", "w", "b"}, {"c"}, "stem");
  OnnxBuilder::attrInts(c, "strides", {2, 2});
  OnnxBuilder::attrInts(c, "pads",
                        yolo ? std::vector<int64_t>{2, 2, 2, 2} : std::vector<int64_t>{3, 2, 2, 3});
  if (yolo) {
    b.node("Sigmoid", {"c"}, {"s"}, "sig");
    b.node("Mul", {"c", "s"}, {"a"}, "silu");
  } else {
    b.node("Relu", {"c"}, {"a"}, "relu");
  }
  b.node("Conv", {"a", "w2"}, {"y"}, "head");
  b.output("y");
  return b;
}

// The CPU engine's output for x: the reference the CUDA candidates are checked against.
Expected<HostTensor> cpuReference(const OnnxBuilder& b, const HostTensor& x) {
  auto net = b.parse();
  TRT_RETURN_IF_ERROR(net.status());
  auto engine = buildEngine(**net);
  TRT_RETURN_IF_ERROR(engine.status());
  return runXY(*engine, x);
}

// The stem of stemNet built for CUDA in NHWC with `tactic` forced on it, run on x. FP16: the
// input's Cast and its NHWC reformat are one Transpose, and so are the output's NCHW reformat and
// its Cast back to FP32.
Expected<HostTensor> runForcedStem(const OnnxBuilder& model, bool fp16, const std::string& tactic,
                                   const HostTensor& x) {
  BuilderConfig cfg;
  cfg.device = "cuda";
  cfg.fp16 = fp16;
  cfg.layout = "nhwc";
  cfg.builderOptLevel = 0;
  cfg.batchTiling = false;  // one stem layer (batch chunks would make two)
  auto contents = buildPlanContents(model, cfg);
  if (!contents.isOk()) return contents.status();
  Network& built = *contents->network;
  int forced = 0;
  for (Layer& l : built.layers())
    if (l.type == "FusedConv" && built.tensor(l.inputs[1]).constant->dims()[3] == 3) {
      const std::vector<std::string> cands = findBackend("cuda")->tactics(l, built);
      EXPECT_NE(std::find(cands.begin(), cands.end(), tactic), cands.end()) << l.name;
      l.tactic = tactic;
      ++forced;
    }
  EXPECT_EQ(forced, 1);
  int converting = 0;
  for (const Layer& l : built.layers()) converting += l.type == "Transpose" && l.attrs.has("to");
  EXPECT_EQ(converting, fp16 ? 2 : 0);
  auto engine = engineOf(built, contents->fingerprint);
  if (!engine.isOk()) return engine.status();
  return runXY(*engine, x);
}

// The direct convolution for few input channels (cuda_direct_conv_nhwc_*) matches the CPU in FP32
// and FP16 on both stems; in FP16 so does its tensor-core form ("_t1": 32 and 64 output channels,
// 75 output columns, a block of 64 and a partial one).
TEST(Cuda, DirectConvStemsMatchCpu) {
  SKIP_WITHOUT_CUDA();
  for (bool yolo : {true, false}) {
    for (bool mma : {false, true}) {
      const OnnxBuilder model = mma ? stemNet(yolo, 3, yolo ? 32 : 64, 150) : stemNet(yolo);
      HostTensor x = iota({2, 3, 20, mma ? 150 : 24}, -1.f, 0.0007f);
      auto ref = cpuReference(model, x);
      ASSERT_TRUE(ref.isOk()) << ref.status().message();
      for (bool fp16 : {false, true}) {
        if (mma && !fp16) continue;
        const std::string tactic =
            std::string("cuda_direct_conv_nhwc_") + (fp16 ? "fp16" : "fp32") + (mma ? "_t1" : "");
        auto got = runForcedStem(model, fp16, tactic, x);
        ASSERT_TRUE(got.isOk()) << tactic << ": " << got.status().message();
        expectClose(*ref, *got, fp16 ? 2e-2f : 1e-4f, tactic + (yolo ? " yolo stem" : " resnet stem"));
      }
    }
  }
}

// YOLOv5's SPPF (a 1x1 convolution, three 5x5 stride-1 max pools in a chain, the Concat of the
// four) is one MaxPoolCascade layer on CUDA too, and matches the CPU in FP32 and FP16, NCHW and
// NHWC, on a 20x23 map (windows clipped at every border; 16 channels: whole 8-half groups).
TEST(Cuda, MaxPoolCascadeMatchesCpu) {
  SKIP_WITHOUT_CUDA();
  OnnxBuilder b;
  b.input("x", onnx::TensorProto::FLOAT, {2, 8, 20, 23});
  std::vector<float> w(16 * 8);
  for (size_t i = 0; i < w.size(); ++i) w[i] = 0.3f * std::sin(0.83f * static_cast<float>(i) + 0.2f);
  b.initFloat("w", {16, 8, 1, 1}, w);
  b.node("Conv", {"x", "w"}, {"c"}, "cv1");
  std::string in = "c";
  for (int i = 1; i <= 3; ++i) {
    auto* n = b.node("MaxPool", {in}, {"p" + std::to_string(i)}, "pool" + std::to_string(i));
    OnnxBuilder::attrInts(n, "kernel_shape", {5, 5});
    OnnxBuilder::attrInts(n, "pads", {2, 2, 2, 2});
    in = "p" + std::to_string(i);
  }
  OnnxBuilder::attrInt(b.node("Concat", {"c", "p1", "p2", "p3"}, {"y"}, "concat"), "axis", 1);
  b.output("y");
  HostTensor x = iota({2, 8, 20, 23}, 0.f, 1.f);
  for (int64_t i = 0; i < x.numel(); ++i)
    x.as<float>()[i] = std::sin(0.37f * static_cast<float>(i * i % 1013));
  auto ref = cpuReference(b, x);
  ASSERT_TRUE(ref.isOk()) << ref.status().message();
  for (bool fp16 : {false, true})
    for (const std::string layout : {"nchw", "nhwc"}) {
      auto e = cudaEngine(b, fp16, layout);
      ASSERT_TRUE(e.isOk()) << e.status().message();
      int cascades = 0;
      for (const Layer& l : (*e)->network().layers()) cascades += l.type == "MaxPoolCascade";
      EXPECT_EQ(cascades, 1) << layout;
      auto got = runXY(*e, x);
      ASSERT_TRUE(got.isOk()) << got.status().message();
      expectClose(*ref, *got, fp16 ? 2e-2f : 1e-5f,
                  std::string("cascade ") + layout + (fp16 ? " fp16" : " fp32"));
    }
}

// 4-channel stems (an RGB input padded to 4 by the layout pass): CUTLASS's fixed-channels
// convolution (kernels/cutlass_conv_fixed.cu) behind cutlass_conv_nhwc_fp16_t<i>, every tile
// variant, on the 6x6 stride-2 SiLU stem and the 7x7 one with asymmetric pads and ReLU.
TEST(Cuda, CutlassFixedChannelStemsMatchCpu) {
  SKIP_WITHOUT_CUDA();
  HostTensor x = iota({2, 4, 20, 24}, -1.f, 0.0007f);
  for (bool yolo : {true, false}) {
    auto ref = cpuOutput(stemNet(yolo, 4), x);
    ASSERT_TRUE(ref.isOk()) << ref.status().message();
    auto contents = fp16NhwcContents(stemNet(yolo, 4));
    ASSERT_TRUE(contents.isOk()) << contents.status().message();
#if TRT_HAVE_CUTLASS
    for (int t : {0, 1, 2, 4, 5, 6, 7}) {
      const std::string tactic = "cutlass_conv_nhwc_fp16_t" + std::to_string(t);
      expectForcedConvsMatch(
          *contents, x, *ref, 1,
          [&](const Layer& l, const Network& net) {
            if (net.tensor(l.inputs[1]).constant->dims()[3] != 4) return std::string();
            const std::vector<std::string> cands = findBackend("cuda")->tactics(l, net);
            EXPECT_NE(std::find(cands.begin(), cands.end(), tactic), cands.end()) << l.name;
            return tactic;
          },
          tactic + (yolo ? " 4-channel yolo stem" : " 4-channel resnet stem"));
    }
#endif
  }
}

// Builds `model` on CUDA (heuristic tactics), then forces every candidate the backend names for
// each layer of `type` into the plan, one at a time: each either fails cleanly (it does not run these
// shapes) or matches `ref`. Returns how many layers of that type there were and how many
// (layer, tactic) runs matched; `minPerLayer` runs must succeed per layer.
void expectEveryTacticMatches(const OnnxBuilder& model, const std::string& type, bool fp16,
                              const HostTensor& x, const HostTensor& ref, int minPerLayer, int* layers,
                              int* ran) {
  BuilderConfig cfg;
  cfg.device = "cuda";
  cfg.fp16 = fp16;
  cfg.builderOptLevel = 0;
  cfg.batchTiling = false;  // the layers as the model has them (no batch chunks or row bands)
  auto contents = buildPlanContents(model, cfg);
  ASSERT_TRUE(contents.isOk()) << contents.status().message();
  Network& built = *contents->network;
  const Backend* cuda = findBackend("cuda");
  for (size_t li = 0; li < built.layers().size(); ++li) {
    if (built.layers()[li].type != type) continue;
    ++*layers;
    const std::vector<std::string> tactics = cuda->tactics(built.layers()[li], built);
    ASSERT_GE(tactics.size(), 2u) << built.layers()[li].name;
    int ranHere = 0;
    std::string refused;
    for (const std::string& t : tactics) {
      Network copy = built;
      copy.layers()[li].tactic = t;
      auto engine = engineOf(copy, contents->fingerprint);
      Expected<HostTensor> got = engine.isOk() ? runXY(*engine, x) : Expected<HostTensor>(engine.status());
      if (!got.isOk()) {  // the tactic does not run these shapes
        refused += "\n  " + t + ": " + got.status().message();
        continue;
      }
      expectClose(ref, *got, fp16 ? 2e-2f : 1e-4f, t);
      ++ranHere;
    }
    EXPECT_GE(ranHere, minPerLayer) << built.layers()[li].name << refused;
    *ran += ranHere;
  }
}

// The names of every candidate a CUDA build of b (FP16 or not) timed, each followed by a space.
Expected<std::string> cudaCandidateNames(const OnnxBuilder& b, bool fp16) {
  TRT_ASSIGN_OR_RETURN(auto net, b.parse());
  BuilderConfig cfg;
  cfg.device = "cuda";
  cfg.fp16 = fp16;
  BuildReport report;
  TRT_RETURN_IF_ERROR(buildWithConfig(*net, cfg, &report).status());
  std::string names;
  for (const auto& l : report.layers)
    for (const auto& c : l.candidates) names += c.first + " ";
  return names;
}

// Every tactic candidate the CUDA backend names for the FusedConv layers matches the CPU.
TEST(Cuda, EveryFusedConvTacticMatchesCpu) {
  SKIP_WITHOUT_CUDA();
  HostTensor x = iota({2, 16, 8, 8}, -1.f, 0.001f);
  auto cpuEngine = buildResidualNet("cpu", false);
  ASSERT_TRUE(cpuEngine.isOk());
  auto ref = runXY(*cpuEngine, x);
  ASSERT_TRUE(ref.isOk());
  for (bool fp16 : {false, true}) {
    int convs = 0, ran = 0;
    expectEveryTacticMatches(residualNet(), "FusedConv", fp16, x, *ref, 2, &convs, &ran);
    EXPECT_EQ(convs, 4);
    EXPECT_GE(ran, 12);
  }
}

// YOLOv5 bottlenecks (y = a + act(conv2(a)), the residual after the activation: z_after_activation)
// in FP32 and FP16, NCHW and NHWC (16 channels): every FusedConv candidate refuses cleanly or
// matches the CPU; in FP16 NHWC the CUTLASS residual epilogue (cutlass_conv_nhwc_fp16_t<i>,
// kernels/cutlass_conv_residual.cu) is among those that run.
TEST(Cuda, EveryTacticOfAResidualAfterActivationMatchesCpu) {
  SKIP_WITHOUT_CUDA();
  HostTensor x = iota({2, 16, 6, 7}, -1.f, 0.0009f);
  for (const std::string act : {"Silu", "Relu"}) {
    auto cpuNet = bottleneckModel(act, 16).parse();
    ASSERT_TRUE(cpuNet.isOk());
    auto cpu = buildEngine(**cpuNet);
    ASSERT_TRUE(cpu.isOk());
    auto ref = runXY(*cpu, x);
    ASSERT_TRUE(ref.isOk());
    for (bool fp16 : {false, true}) {
      SCOPED_TRACE(act + (fp16 ? " fp16" : " fp32"));
      int convs = 0, ran = 0;
      expectEveryTacticMatches(bottleneckModel(act, 16), "FusedConv", fp16, x, *ref, 2, &convs, &ran);
      EXPECT_EQ(convs, 2);
#if TRT_HAVE_CUTLASS
      if (fp16) {
        auto contents = fp16NhwcContents(bottleneckModel(act, 16));
        ASSERT_TRUE(contents.isOk()) << contents.status().message();
        for (int t : {0, 1, 2, 4, 5})
          expectForcedConvsMatch(
              *contents, x, *ref, 1,
              [&](const Layer& l, const Network&) {
                return l.attrs.getInt("z_after_activation", 0) == 1
                           ? "cutlass_conv_nhwc_fp16_t" + std::to_string(t)
                           : std::string();
              },
              "residual epilogue t" + std::to_string(t));
      }
#endif
    }
  }
}

// Self-attention from one input: Q, K, V projections of x (merged into one GEMM by the optimizer),
// two heads of 64 (the WMMA kernel's size), scores / 8, softmax, the heads merged back.
// `mask`: 0 none, 1 GPT-2's causal bool mask [1, 1, S, S] (key <= query) with finfo.min as the
// fill, 2 the same mask with one more key hidden (not causal), 3 BERT's additive padding mask
// [B, 1, 1, S] (-10000 on the last keys of the second sequence and on every fifth key), 4
// torch.export's causal mask as an additive one [1, 1, S, S] (0 at key <= query, finfo.min past
// it), 5 the same with one more key hidden, 6 GPT-2's dynamic-shape export: x is [2, seq, 128]
// and a causal tril buffer [1, 1, S + 7, S + 7] is sliced to [seq, seq] from seq - seq.
OnnxBuilder selfAttentionNet(int64_t S = 5, int mask = 0) {
  OnnxBuilder b;
  const int64_t B = 2, E = 128;
  if (mask == 6)
    b.input("x", onnx::TensorProto::FLOAT, {B, -1, E}, {"", "seq"});
  else
    b.input("x", onnx::TensorProto::FLOAT, {B, S, E});
  for (const char* n : {"wq", "wk", "wv"}) {
    std::vector<float> w(E * E);
    for (size_t i = 0; i < w.size(); ++i) w[i] = 0.08f * std::sin(0.013f * static_cast<float>(i) + n[1]);
    b.initFloat(n, {E, E}, w);
  }
  b.initInt64("hs", {4}, {B, mask == 6 ? 0 : S, 2, 64});  // (0: x's seq)
  b.initInt64("os", {3}, {B, mask == 6 ? 0 : S, E});
  b.initFloat("sd", {}, {8.f});
  for (const std::string n : {"q", "k", "v"}) b.node("MatMul", {"x", "w" + n}, {n}, n + "_proj");
  if (mask == 1 || mask == 2) {
    std::vector<bool> tril(S * S);
    for (int64_t q = 0; q < S; ++q)
      for (int64_t k = 0; k < S; ++k) tril[q * S + k] = k <= q;
    if (mask == 2) tril[(S - 1) * S] = false;
    b.initBool("tril", {1, 1, S, S}, tril);
    b.initFloat("fill", {}, {-3.4028234663852886e38f});
  }
  if (mask == 3) {
    std::vector<float> pad(B * S, 0.f);
    for (int64_t k = 0; k < S; ++k) pad[k] = k % 5 == 4 ? -10000.f : 0.f;
    for (int64_t k = S / 2; k < S; ++k) pad[S + k] = -10000.f;
    b.initFloat("pad", {B, 1, 1, S}, pad);
  }
  if (mask == 4 || mask == 5) {
    std::vector<float> add(S * S);
    for (int64_t q = 0; q < S; ++q)
      for (int64_t k = 0; k < S; ++k) add[q * S + k] = k <= q ? 0.f : -3.4028234663852886e38f;
    if (mask == 5) add[(S - 1) * S] = -3.4028234663852886e38f;
    b.initFloat("cmask", {1, 1, S, S}, add);
  }
  if (mask == 6) {
    const int64_t N = S + 7;
    std::vector<bool> tril(N * N);
    for (int64_t q = 0; q < N; ++q)
      for (int64_t k = 0; k < N; ++k) tril[q * N + k] = k <= q;
    b.initBool("buffer", {1, 1, N, N}, tril);
    b.initFloat("fill", {}, {-3.4028234663852886e38f});
    b.initInt64("one", {}, {1});
    b.initInt64("zero_axis", {1}, {0});
    b.initInt64("ax2", {1}, {2});
    b.initInt64("ax3", {1}, {3});
    b.node("Shape", {"x"}, {"xs"}, "shape");
    b.node("Gather", {"xs", "one"}, {"seq"}, "seq");
    b.node("Unsqueeze", {"seq", "zero_axis"}, {"seq1"}, "seq1");
    b.node("Sub", {"seq1", "seq1"}, {"start"}, "start");
    b.node("Slice", {"buffer", "start", "seq1", "ax2"}, {"rows"}, "rows");
    b.node("Slice", {"rows", "start", "seq1", "ax3"}, {"tril"}, "cols");
  }
  attentionBody(b, mask == 1 || mask == 2 || mask == 6 ? "tril" : "",
                mask == 3 ? "pad" : (mask == 4 || mask == 5 ? "cmask" : ""));
  return b;
}

// Every Attention tactic (FP32: cuBLASLt GEMMs or the row kernel; FP16: WMMA or the row kernel)
// matches the CPU.
TEST(Cuda, EveryAttentionTacticMatchesCpu) {
  HostTensor x = iota({2, 5, 128}, -1.f, 0.0013f);
  auto cpuNet = selfAttentionNet().parse();
  ASSERT_TRUE(cpuNet.isOk());
  auto cpuEngine = buildEngine(**cpuNet);
  ASSERT_TRUE(cpuEngine.isOk()) << cpuEngine.status().message();
  int attention = 0;
  for (const Layer& l : (*cpuEngine)->network().layers()) attention += l.type == "Attention";
  ASSERT_EQ(attention, 1);
  auto ref = runXY(*cpuEngine, x);
  ASSERT_TRUE(ref.isOk());
  SKIP_WITHOUT_CUDA();  // the CPU reference above checks the fusion everywhere
  for (bool fp16 : {false, true}) {
    int layers = 0, ran = 0;
    expectEveryTacticMatches(selfAttentionNet(), "Attention", fp16, x, *ref, 2, &layers, &ran);
    EXPECT_EQ(layers, 1);
    // FP16: the mma and WMMA kernels each with 4, 2 and 1 warps a block and with 4 and 2 in
    // key-splitting pairs, and the row kernel
    EXPECT_EQ(ran, fp16 ? 11 : 2);
  }
}

// 70 and 200 queries and keys: the tensor-core variants' blocks (16, 32 and 64 query rows) end partway,
// and the keys end partway through a 64-key tile (70: the second; 200: the fourth, so the
// key-splitting pairs go round twice, the second warp of the pair on the partial tile).
TEST(Cuda, AttentionTileVariantsMatchCpuOnRaggedTiles) {
  SKIP_WITHOUT_CUDA();
  for (int64_t S : {70, 200}) {
    HostTensor x = iota({2, S, 128}, -1.f, 0.00011f);
    auto cpuNet = selfAttentionNet(S).parse();
    ASSERT_TRUE(cpuNet.isOk());
    auto cpuEngine = buildEngine(**cpuNet);
    ASSERT_TRUE(cpuEngine.isOk()) << cpuEngine.status().message();
    auto ref = runXY(*cpuEngine, x);
    ASSERT_TRUE(ref.isOk());
    int layers = 0, ran = 0;
    expectEveryTacticMatches(selfAttentionNet(S), "Attention", true, x, *ref, 11, &layers, &ran);
    EXPECT_EQ(layers, 1);
    EXPECT_EQ(ran, 11);
  }
}

// BERT's additive padding mask ([B, 1, 1, S], one row per sequence broadcast over heads and
// queries) through every FP16 tactic, on ragged tiles.
TEST(Cuda, AdditiveMaskAttentionEveryTacticMatchesCpu) {
  for (int64_t S : {70, 200}) {
    HostTensor x = iota({2, S, 128}, -1.f, 0.00011f);
    auto cpuNet = selfAttentionNet(S, 3).parse();
    ASSERT_TRUE(cpuNet.isOk());
    auto cpuEngine = buildEngine(**cpuNet);
    ASSERT_TRUE(cpuEngine.isOk()) << cpuEngine.status().message();
    int attention = 0, masked = 0;
    for (const Layer& l : (*cpuEngine)->network().layers()) {
      attention += l.type == "Attention";
      masked += l.type == "Attention" && l.inputs.size() > 3 && l.inputs[3] >= 0;
    }
    EXPECT_EQ(attention, 1);
    EXPECT_EQ(masked, 1);  // the Add is the layer's additive mask
    auto unfused = selfAttentionNet(S, 3).parse();
    ASSERT_TRUE(unfused.isOk());
    auto plain = buildEngine(**unfused, 0);
    ASSERT_TRUE(plain.isOk());
    auto ref = runXY(*cpuEngine, x), ref0 = runXY(*plain, x);
    ASSERT_TRUE(ref.isOk() && ref0.isOk());
    expectClose(*ref0, *ref, 1e-5f, "fused vs unfused CPU");
    if (!haveCuda()) continue;  // the CPU fusion check above runs everywhere
    int layers = 0, ran = 0;
    expectEveryTacticMatches(selfAttentionNet(S, 3), "Attention", true, x, *ref, 11, &layers, &ran);
    EXPECT_EQ(layers, 1);
  }
  SKIP_WITHOUT_CUDA();
}

// GPT-2's causal mask, as a bool mask with a fill (mask 1) or as torch.export's additive one
// (mask 4, which the fusion turns into the bool form): the fused Attention gets the "causal" hint
// where the constant mask is exactly key <= query (not where one more key is hidden, masks 2 and
// 5, nor for a single query and key, whose [1, 1] mask would broadcast to any length), and on
// CUDA every tactic, with the tensor-core
// kernels skipping the key tiles past their blocks (and the mma kernel masking by the indices),
// matches the CPU (70 queries: the first blocks of 16, 32 and 64 rows stop after one 64-key tile).
TEST(Cuda, CausalAttentionHintAndTileSkipping) {
  for (int64_t S : {1, 70, 200})
    for (int mask : {1, 2, 4, 5, 6}) {
      HostTensor x = iota({2, S, 128}, -1.f, 0.00011f);
      auto cpuNet = selfAttentionNet(S, mask).parse();
      ASSERT_TRUE(cpuNet.isOk());
      auto cpuEngine = buildEngine(**cpuNet);
      ASSERT_TRUE(cpuEngine.isOk()) << cpuEngine.status().message();
      int causal = 0, attention = 0;
      for (const Layer& l : (*cpuEngine)->network().layers()) {
        attention += l.type == "Attention";
        causal += l.type == "Attention" && l.attrs.getInt("causal", 0) == 1;
      }
      EXPECT_EQ(attention, 1);
      // (mask 6: one engine for every seq; its buffer is 8 or more keys wide)
      EXPECT_EQ(causal, ((mask == 1 || mask == 4) && S > 1) || mask == 6 ? 1 : 0)
          << "mask " << mask << " S " << S;
      auto unfused = selfAttentionNet(S, mask).parse();
      ASSERT_TRUE(unfused.isOk());
      auto plain = buildEngine(**unfused, 0);
      ASSERT_TRUE(plain.isOk());
      auto ref = runXY(*cpuEngine, x), ref0 = runXY(*plain, x);
      ASSERT_TRUE(ref.isOk() && ref0.isOk());
      expectClose(*ref0, *ref, 1e-5f, "fused vs unfused CPU");
      if (!haveCuda()) continue;  // the CPU checks above run everywhere
      if (mask == 6) {
        // a dynamic seq: no timed candidates (the default tactics, FP32 and FP16, at each seq)
        for (bool fp16 : {false, true}) {
          auto e = cudaEngine(selfAttentionNet(S, mask), fp16);
          ASSERT_TRUE(e.isOk()) << e.status().message();
          int hinted = 0;
          for (const Layer& l : (*e)->network().layers())
            hinted += l.type == "Attention" && l.attrs.getInt("causal", 0);
          EXPECT_EQ(hinted, 1);
          auto got = runXY(*e, x);
          ASSERT_TRUE(got.isOk()) << got.status().message();
          expectClose(*ref, *got, fp16 ? 2e-2f : 1e-4f,
                      std::string("sliced causal mask, ") + (fp16 ? "fp16" : "fp32"));
        }
        continue;
      }
      int layers = 0, ran = 0;
      expectEveryTacticMatches(selfAttentionNet(S, mask), "Attention", true, x, *ref, 11, &layers, &ran);
      EXPECT_EQ(layers, 1);
    }
  SKIP_WITHOUT_CUDA();
}

// fold-transpose-into-pad on CUDA: an NCHW image read as NHWC with its 3 channels padded to 4 or
// 8 (the row-gathering kernel: one 8- or 16-byte store per FP16 pixel, 16 bytes per FP32 pixel at
// 4 channels, element by element otherwise) or with its rows padded (the general kernel on the
// strided view) matches the CPU in FP32 and FP16.
TEST(Cuda, PadOfAPermutedInputMatchesCpu) {
  SKIP_WITHOUT_CUDA();
  for (const std::vector<int64_t>& pads :
       {std::vector<int64_t>{0, 0, 0, 0, 0, 0, 0, 1}, std::vector<int64_t>{0, 0, 0, 0, 0, 0, 0, 5},
        std::vector<int64_t>{0, 0, 0, 2, 0, 0, 0, 1}, std::vector<int64_t>{0, 1, 0, 0, 0, 2, 0, 0}}) {
    OnnxBuilder b;
    b.input("x", onnx::TensorProto::FLOAT, {2, 3, 7, 9});
    OnnxBuilder::attrInts(b.node("Transpose", {"x"}, {"t"}, "to_nhwc"), "perm", {0, 2, 3, 1});
    b.initInt64("pads", pads);
    b.node("Pad", {"t", "pads"}, {"y"}, "pad");
    b.output("y");
    HostTensor x = iota({2, 3, 7, 9}, -1.f, 0.013f);
    auto cpu = buildEngine(**b.parse());
    ASSERT_TRUE(cpu.isOk()) << cpu.status().message();
    ASSERT_EQ((*cpu)->network().layers().size(), 1u);  // folded: one Pad with input_perm
    auto ref = runXY(*cpu, x);
    ASSERT_TRUE(ref.isOk());
    for (bool fp16 : {false, true}) {
      auto e = cudaEngine(b, fp16);
      ASSERT_TRUE(e.isOk()) << e.status().message();
      int folded = 0;
      for (const Layer& l : (*e)->network().layers()) folded += l.type == "Pad" && l.attrs.has("input_perm");
      EXPECT_EQ(folded, 1);
      auto got = runXY(*e, x);
      ASSERT_TRUE(got.isOk()) << got.status().message();
      expectClose(*ref, *got, fp16 ? 2e-3f : 0.f,
                  "pads " + std::to_string(pads[7]) + "/" + std::to_string(pads[1]));
    }
  }
}

// A MatMul writing a network output (FP32) in an FP16 engine, with rows not 16-byte aligned (37
// columns, like GPT-2's 50257-way LM head), also offers the FP16-output tactics ("_c0", "_c1":
// cuBLASLt writes aligned FP16 rows into the workspace, one kernel widens them into the output);
// every candidate matches the CPU, in FP32 and FP16 engines.
TEST(Cuda, Fp16OutputMatMulTacticsMatchCpu) {
  SKIP_WITHOUT_CUDA();
  OnnxBuilder b;
  b.input("x", onnx::TensorProto::FLOAT, {3, 7, 64});
  std::vector<float> w(64 * 37);
  for (size_t i = 0; i < w.size(); ++i) w[i] = 0.05f * std::cos(0.017f * static_cast<float>(i));
  b.initFloat("w", {64, 37}, w);
  b.node("MatMul", {"x", "w"}, {"y"}, "lm_head");
  b.output("y");
  HostTensor x = iota({3, 7, 64}, -1.f, 0.0007f);
  auto ref = cpuReference(b, x);
  ASSERT_TRUE(ref.isOk()) << ref.status().message();
  for (bool fp16 : {false, true}) {
    int layers = 0, ran = 0;
    expectEveryTacticMatches(b, "MatMul", fp16, x, *ref, 3, &layers, &ran);
    EXPECT_EQ(layers, 1);
    // FP16 engines: the candidates include the FP16-output ones (and those ran above).
    auto candidates = cudaCandidateNames(b, fp16);
    ASSERT_TRUE(candidates.isOk()) << candidates.status().message();
    const std::string& names = *candidates;
    EXPECT_EQ(names.find("_c0") != std::string::npos, fp16) << names;
    EXPECT_EQ(names.find("_c1") != std::string::npos, fp16) << names;
  }
}

// The builder times the CUDA candidates (the build report lists each with its time), chooses the
// layout by timing, and a second build with the timing cache times nothing.
TEST(Cuda, TacticTimingAndWarmTimingCache) {
  SKIP_WITHOUT_CUDA();
  const std::string cache = ::testing::TempDir() + "/cuda_timing.cache";
  std::remove(cache.c_str());
  BuildReport cold, warm;
  auto a = buildResidualNet("cuda", true, 2, cache, &cold);
  ASSERT_TRUE(a.isOk()) << a.status().message();
  int timed = 0;
  for (const auto& l : cold.layers)
    if (l.type == "FusedConv") {
      ASSERT_GT(l.candidates.size(), 2u) << l.name;
      int withTime = 0;
      for (const auto& c : l.candidates) withTime += c.second > 0 ? 1 : 0;
      EXPECT_GE(withTime, 2) << l.name;
      timed += 1;
    }
  EXPECT_EQ(timed, 4);
  // FP16 convolutions: the layout is chosen by timing both ways, whole network with reformats
  bool layoutTimed = false;
  for (const auto& p : cold.phases)
    if (p.name == "layout")
      layoutTimed = p.note.rfind("auto by timing, reformats folded: backend's NHWC ", 0) == 0;
  EXPECT_TRUE(layoutTimed);
  auto b = buildResidualNet("cuda", true, 2, cache, &warm);
  ASSERT_TRUE(b.isOk()) << b.status().message();
  for (const auto& p : warm.phases)
    if (p.name == "tactics") {
      EXPECT_EQ(p.note.rfind("0 layers timed", 0), 0u) << p.note;
    }
  ASSERT_EQ(cold.layers.size(), warm.layers.size());
  for (size_t i = 0; i < cold.layers.size(); ++i) EXPECT_EQ(cold.layers[i].tactic, warm.layers[i].tactic);
  HostTensor x = iota({2, 16, 8, 8}, -1.f, 0.001f);
  auto ra = runXY(*a, x), rb = runXY(*b, x);
  ASSERT_TRUE(ra.isOk() && rb.isOk());
  expectClose(*ra, *rb, 1e-6f, "warm vs cold");
}

// A pageable host pointer bound to a CUDA context is refused with a message, not run into a fault
// (BatchTiling.CudaFp16ChunksMatchTheCpu once passed host memory and hit an illegal address).
// Search breadth: at --builder-opt-level 5 a MatMul offers 16 of cuBLASLt's heuristic results as
// candidates (those past what the heuristic returns fail to time and are skipped), at the default
// level 4; the engine still matches the CPU.
TEST(Cuda, BuilderOptLevelWidensGemmCandidates) {
  SKIP_WITHOUT_CUDA();
  for (int level : {3, 5}) {
    OnnxBuilder b;
    b.input("x", onnx::TensorProto::FLOAT, {64, 96});
    std::vector<float> w(96 * 80);
    for (size_t i = 0; i < w.size(); ++i) w[i] = 0.05f * std::sin(0.3f * static_cast<float>(i));
    b.initFloat("w", {96, 80}, w);
    b.node("MatMul", {"x", "w"}, {"y"}, "mm");
    b.output("y");
    auto net = b.parse();
    ASSERT_TRUE(net.isOk());
    BuilderConfig cfg;
    cfg.device = "cuda";
    cfg.builderOptLevel = level;
    BuildReport report;
    auto e = buildWithConfig(**net, cfg, &report);
    ASSERT_TRUE(e.isOk()) << e.status().message();
    int gemm = 0;
    for (const auto& l : report.layers)
      for (const auto& c : l.candidates) gemm += c.first.rfind("cublaslt_matmul", 0) == 0;
    EXPECT_EQ(gemm, level == 5 ? 16 : 4) << "level " << level;
    BuilderConfig cpuCfg;
    auto cpu = buildWithConfig(**b.parse(), cpuCfg, nullptr);
    ASSERT_TRUE(cpu.isOk());
    HostTensor x = iota({64, 96}, -1.f, 0.0003f);
    auto ref = runXY(*cpu, x);
    auto got = runXY(*e, x);
    ASSERT_TRUE(ref.isOk() && got.isOk());
    expectClose(*ref, *got, 1e-4f, "level " + std::to_string(level));
  }
}

TEST(Cuda, HostPointerBindingIsAClearError) {
  SKIP_WITHOUT_CUDA();
  auto engine = buildConvNet("cuda");
  ASSERT_TRUE(engine.isOk()) << engine.status().message();
  auto ctx = (*engine)->createExecutionContext();
  ASSERT_TRUE(ctx->setInputShape("x", {1, 3, 8, 8}).isOk());
  std::vector<float> host(3 * 8 * 8, 1.f);
  Status st = ctx->setTensorAddress("x", host.data());
  ASSERT_FALSE(st.isOk());
  EXPECT_NE(st.message().find("tensor 'x': address is host memory"), std::string::npos) << st.message();
  HostTensor x = iota({1, 3, 8, 8}, -1.f, 0.01f);
  EXPECT_TRUE(runXY(*engine, x).isOk());  // device memory is fine
}

// pad-matmul-n on CUDA: a 67-wide MatMul gets a 72-column weight and columns = 67; the GEMM runs
// 72 wide into the workspace and the first 67 columns reach the output. Every tactic (FP32 and
// FP16, with the FP16-output ones) matches the CPU.
TEST(Cuda, PaddedColumnsMatMulMatchesCpu) {
  SKIP_WITHOUT_CUDA();
  OnnxBuilder b;
  b.input("x", onnx::TensorProto::FLOAT, {3, 7, 32});
  std::vector<float> w(32 * 67);
  for (size_t i = 0; i < w.size(); ++i) w[i] = 0.05f * std::cos(0.029f * static_cast<float>(i));
  b.initFloat("w", {32, 67}, w);
  b.node("MatMul", {"x", "w"}, {"y"}, "head");
  b.output("y");
  HostTensor x = iota({3, 7, 32}, -1.f, 0.0011f);
  auto ref = cpuReference(b, x);
  ASSERT_TRUE(ref.isOk()) << ref.status().message();
  for (bool fp16 : {false, true}) {
    int layers = 0, ran = 0;
    expectEveryTacticMatches(b, "MatMul", fp16, x, *ref, 3, &layers, &ran);
    EXPECT_EQ(layers, 1);
    auto e = cudaEngine(b, fp16);
    ASSERT_TRUE(e.isOk()) << e.status().message();
    int padded = 0;
    for (const Layer& l : (*e)->network().layers()) padded += l.attrs.getInt("columns", 0) == 67;
    EXPECT_EQ(padded, 1);
  }
}

// A padded-columns MatMul with an FP16 output (it feeds a Softmax inside an FP16 engine, as GPT-2's
// LM head does with fp16 I/O) also offers "_k" tactics: the staged rows packed into the 67-wide
// output by a kernel (aligned 16-byte loads shifted into 16-byte stores; groups of eight across
// a row end one by one) instead of the copy engine. 200 rows of 67: every shift of a group
// against its source row. Every candidate runs and matches the CPU.
TEST(Cuda, PaddedColumnsPackedRowsMatchCpu) {
  SKIP_WITHOUT_CUDA();
  OnnxBuilder b;
  b.input("x", onnx::TensorProto::FLOAT, {2, 100, 64});
  std::vector<float> w(64 * 67);
  for (size_t i = 0; i < w.size(); ++i) w[i] = 0.05f * std::cos(0.031f * static_cast<float>(i));
  b.initFloat("w", {64, 67}, w);
  b.node("MatMul", {"x", "w"}, {"logits"}, "head");
  OnnxBuilder::attrInt(b.node("Softmax", {"logits"}, {"y"}, "softmax"), "axis", -1);
  b.output("y");
  HostTensor x = iota({2, 100, 64}, -1.f, 0.0013f);
  auto ref = cpuReference(b, x);
  ASSERT_TRUE(ref.isOk()) << ref.status().message();
  auto candidates = cudaCandidateNames(b, true);
  ASSERT_TRUE(candidates.isOk()) << candidates.status().message();
  const std::string& names = *candidates;
  EXPECT_NE(names.find("_k0 "), std::string::npos) << names;
  int layers = 0, ran = 0;
  expectEveryTacticMatches(b, "MatMul", true, x, *ref, 5, &layers, &ran);
  EXPECT_EQ(layers, 1);
}

// fuse-matmul-layernorm on CUDA: the residual linear layer and its LayerNormalization are one
// MatMulLayerNorm; every tactic (_t0: GEMM then the LayerNorm kernel, _h1.._h3 the same with
// cuBLASLt's next algorithms; _t1, _t2, _t4: FP32 partial products over K / splits reduced by the
// normalisation kernel; _t3 and _t6 refuse K = 64) matches
// the CPU in FP32 and FP16, with the sum read again or not. 74 rows (19 blocks of 4), N = 256.
TEST(Cuda, MatMulLayerNormTacticsMatchCpu) {
  SKIP_WITHOUT_CUDA();
  HostTensor x = iota({2, 37, 64}, -1.f, 0.0007f);
  for (bool sumRead : {false, true}) {
    OnnxBuilder b = matmulLayerNormModel(sumRead, 2, 37, 64, 256);
    auto ref = cpuReference(b, x);
    ASSERT_TRUE(ref.isOk()) << ref.status().message();
    for (bool fp16 : {false, true}) {
      int layers = 0, ran = 0;
      expectEveryTacticMatches(b, "MatMulLayerNorm", fp16, x, *ref, 4, &layers, &ran);
      EXPECT_EQ(layers, 1);
      EXPECT_GE(ran, 5);  // the four above and at least _h1
    }
  }
}

// A padded-columns MatMul too large for one pass through the workspace (16500 rows of 4104 FP16
// columns > 128 MiB): it runs in chunks of 16320 rows and a tail of 180, and matches the CPU.
TEST(Cuda, PaddedColumnsMatMulRunsInChunks) {
  SKIP_WITHOUT_CUDA();
  OnnxBuilder b;
  b.input("x", onnx::TensorProto::FLOAT, {16500, 16});
  std::vector<float> w(16 * 4097);
  for (size_t i = 0; i < w.size(); ++i) w[i] = 0.05f * std::cos(0.0029f * static_cast<float>(i));
  b.initFloat("w", {16, 4097}, w);
  b.node("MatMul", {"x", "w"}, {"y"}, "head");
  b.output("y");
  HostTensor x = iota({16500, 16}, -1.f, 0.0000075f);
  auto ref = cpuReference(b, x);
  ASSERT_TRUE(ref.isOk()) << ref.status().message();
  auto e = cudaEngine(b, true);
  ASSERT_TRUE(e.isOk()) << e.status().message();
  auto got = runXY(*e, x);
  ASSERT_TRUE(got.isOk()) << got.status().message();
  expectClose(*ref, *got, 2e-2f, "chunked");
}

// A YOLO-style convolution chain on x [1, 16, hw, hw]: three k x k convolutions (pad k / 2) with a
// bias, 16 -> 24 -> `mid` -> `last` channels, strides `strides`, then SiLU (x * Sigmoid(x)), ReLU and
// nothing. `seed` varies the weights.
OnnxBuilder convChainNet(int64_t k, int64_t hw, int64_t mid, int64_t last,
                         const std::vector<int64_t>& strides, float seed) {
  OnnxBuilder b;
  b.input("x", onnx::TensorProto::FLOAT, {1, 16, hw, hw});
  const int64_t widths[] = {16, 24, mid, last};
  std::string in = "x";
  for (int l = 0; l < 3; ++l) {
    const int64_t ci = widths[l], co = widths[l + 1];
    std::vector<float> wv(co * ci * k * k), bv(co);
    const float step = k == 1 ? 0.7f : 0.37f, shift = k == 1 ? 13.f : 5.f, gain = k == 1 ? 0.4f : 0.3f;
    for (size_t i = 0; i < wv.size(); ++i)
      wv[i] = std::sin(step * (static_cast<float>(i) + shift * l)) * gain / ci;
    const int period = k == 1 ? 7 : 9;  // bias = seed * (i % period - period / 2)
    for (size_t i = 0; i < bv.size(); ++i)
      bv[i] = seed * static_cast<float>(static_cast<int>(i) % period - period / 2);
    const std::string w = "w" + std::to_string(l), bias = "b" + std::to_string(l),
                      c = "c" + std::to_string(l);
    b.initFloat(w, {co, ci, k, k}, wv);
    b.initFloat(bias, {co}, bv);
    auto* n = b.node("Conv", {in, w, bias}, {c});
    if (k > 1) {
      OnnxBuilder::attrInts(n, "pads", {k / 2, k / 2, k / 2, k / 2});
      OnnxBuilder::attrInts(n, "strides", {strides[l], strides[l]});
    }
    const std::string out = l == 2 ? "y" : "a" + std::to_string(l);
    if (l == 0) {
      b.node("Sigmoid", {c}, {c + "_s"});
      b.node("Mul", {c, c + "_s"}, {out});
    } else if (l == 1) {
      b.node("Relu", {c}, {out});
    } else {
      b.node("Identity", {c}, {out});
    }
    in = out;
  }
  b.output("y");
  return b;
}

// Every FusedConv candidate of `model` (three layers) matches the CPU; with the CUTLASS headers the
// candidates include every tile variant per layer, named `prefix`<i>, and the tuned engine matches.
void expectCutlassTacticsMatch(const OnnxBuilder& model, const HostTensor& x, const std::string& prefix,
                               int variants) {
  auto cpuNet = model.parse();
  ASSERT_TRUE(cpuNet.isOk());
  auto cpuEngine = buildEngine(**cpuNet);
  ASSERT_TRUE(cpuEngine.isOk()) << cpuEngine.status().message();
  auto ref = runXY(*cpuEngine, x);
  ASSERT_TRUE(ref.isOk());
  int convs = 0, ran = 0;
  expectEveryTacticMatches(model, "FusedConv", true, x, *ref, 2, &convs, &ran);
  EXPECT_EQ(convs, 3);
  auto net = model.parse();
  ASSERT_TRUE(net.isOk());
  BuilderConfig cfg;
  cfg.device = "cuda";
  cfg.fp16 = true;
  cfg.layout = "nhwc";
  cfg.batchTiling = false;  // three layers (row bands would make three per layer)
  BuildReport report;
  auto e = buildWithConfig(**net, cfg, &report);
  ASSERT_TRUE(e.isOk()) << e.status().message();
  int cutlass = 0;
  for (const auto& l : report.layers)
    for (const auto& c : l.candidates) cutlass += c.first.rfind(prefix, 0) == 0;
#if TRT_HAVE_CUTLASS
  EXPECT_EQ(cutlass, 3 * variants);  // three layers, every tile variant (the split-K one refused here)
#else
  EXPECT_EQ(cutlass, 0);
#endif
  auto got = runXY(*e, x);
  ASSERT_TRUE(got.isOk()) << got.status().message();
  expectClose(*ref, *got, 2e-2f, "tuned");
}

// Serial split-K (cutlass_*_t3): a 1x1 and a 3x3 FP16 NHWC convolution with few output tiles and a
// long K (a 10x10 map: 2 tiles of 64x64 outputs; K 512 and 9 x 128) forced onto the split-K
// variant: each splits (several blocks per tile add up through Y) and matches the CPU.
TEST(Cuda, CutlassSplitKMatchesCpu) {
  SKIP_WITHOUT_CUDA();
  auto model = [] {
    OnnxBuilder b;
    b.input("x", onnx::TensorProto::FLOAT, {1, 512, 10, 10});
    const int64_t co[] = {128, 64}, ci[] = {512, 128}, k[] = {1, 3};
    std::string in = "x";
    for (int l = 0; l < 2; ++l) {
      const std::string n = std::to_string(l);
      std::vector<float> wv(co[l] * ci[l] * k[l] * k[l]), bv(co[l]);
      for (size_t i = 0; i < wv.size(); ++i) wv[i] = 0.02f * std::sin(0.37f * static_cast<float>(i) + l);
      for (size_t i = 0; i < bv.size(); ++i) bv[i] = 0.01f * static_cast<float>(i % 7) - 0.03f;
      b.initFloat("w" + n, {co[l], ci[l], k[l], k[l]}, wv);
      b.initFloat("b" + n, {co[l]}, bv);
      auto* c = b.node("Conv", {in, "w" + n, "b" + n}, {"c" + n});
      if (k[l] == 3) OnnxBuilder::attrInts(c, "pads", {1, 1, 1, 1});
      in = l == 1 ? "y" : "a" + n;
      b.node("Relu", {"c" + n}, {in});
    }
    b.output("y");
    return b;
  };
  HostTensor x = iota({1, 512, 10, 10}, -1.f, 0.00004f);
  auto ref = cpuOutput(model(), x);
  ASSERT_TRUE(ref.isOk()) << ref.status().message();
  auto contents = fp16NhwcContents(model());
  ASSERT_TRUE(contents.isOk()) << contents.status().message();
#if TRT_HAVE_CUTLASS
  expectForcedConvsMatch(
      *contents, x, *ref, 2,
      [](const Layer& l, const Network& net) {
        const bool oneByOne = net.tensor(l.inputs[1]).constant->dims()[1] == 1;
        return std::string(oneByOne ? "cutlass_conv1x1_nhwc_fp16" : "cutlass_conv_nhwc_fp16") + "_t3";
      },
      "split-K");
#endif
}

// A detection head's convolution: 1x1, 51 output channels (not a multiple of 8, as YOLOv5's 255),
// then a sigmoid, FP16 NHWC. CUTLASS's tile variants 1 and 2 run it (their one-half-per-store
// epilogue, the sigmoid in it) and match the CPU; variants 0 and 3 refuse it.
TEST(Cuda, CutlassUnalignedSigmoidHeadMatchesCpu) {
  SKIP_WITHOUT_CUDA();
  auto model = [] {
    OnnxBuilder b;
    b.input("x", onnx::TensorProto::FLOAT, {1, 64, 9, 11});
    std::vector<float> wv(51 * 64), bv(51);
    for (size_t i = 0; i < wv.size(); ++i) wv[i] = 0.05f * std::sin(0.37f * static_cast<float>(i));
    for (size_t i = 0; i < bv.size(); ++i) bv[i] = 0.1f * static_cast<float>(i % 7) - 0.3f;
    b.initFloat("w", {51, 64, 1, 1}, wv);
    b.initFloat("b", {51}, bv);
    b.node("Conv", {"x", "w", "b"}, {"c"});
    b.node("Sigmoid", {"c"}, {"y"});
    b.output("y");
    return b;
  };
  HostTensor x = iota({1, 64, 9, 11}, -1.f, 0.0003f);
  auto ref = cpuOutput(model(), x);
  ASSERT_TRUE(ref.isOk()) << ref.status().message();
  auto contents = fp16NhwcContents(model());
  ASSERT_TRUE(contents.isOk()) << contents.status().message();
#if TRT_HAVE_CUTLASS
  for (int t = 0; t < 6; ++t) {
    const std::string tactic = "cutlass_conv1x1_nhwc_fp16_t" + std::to_string(t);
    if (t == 1 || t == 2) {
      expectForcedConvsMatch(
          *contents, x, *ref, 1,
          [&](const Layer& l, const Network& net) {
            EXPECT_EQ(l.attrs.getString("activation"), "Sigmoid");
            const std::vector<std::string> cands = findBackend("cuda")->tactics(l, net);
            EXPECT_NE(std::find(cands.begin(), cands.end(), tactic), cands.end()) << l.name;
            return tactic;
          },
          tactic + " 51-channel sigmoid head");
      continue;
    }
    Network net = *contents->network;
    for (Layer& l : net.layers())
      if (l.type == "FusedConv") l.tactic = tactic;
    auto engine = engineOf(net, contents->fingerprint);
    if (engine.isOk()) {
      EXPECT_FALSE(runXY(*engine, x).isOk()) << tactic << " ran a 51-channel output";
    }
  }
#endif
}

#if TRT_HAVE_CUTLASS
// Runs `net` (tactics forced) on x: its memory plan has `strided` tensors with rows 16 apart
// (channel-concat parts), and its output is within 2e-2 of ref.
void expectStridedPartsMatch(const Network& net, const PlanFingerprint& fp, const HostTensor& x,
                             const HostTensor& ref, int strided, const std::string& what) {
  auto engine = engineOf(net, fp);
  ASSERT_TRUE(engine.isOk()) << engine.status().message();
  auto ctx = (*engine)->createExecutionContext();
  ASSERT_TRUE(ctx->setInputShape("x", x.dims()).isOk());
  auto plan = ctx->memoryPlan();
  ASSERT_TRUE(plan.isOk()) << plan.status().message();
  int n = 0;
  for (const auto& pt : plan->tensors) n += pt.rowStride == 16;
  EXPECT_EQ(n, strided) << what;
  auto got = runXY(*engine, x);
  ASSERT_TRUE(got.isOk()) << got.status().message();
  expectClose(ref, *got, 2e-2f, what);
}
#endif

// Concat parts that other layers read too, on CUDA (neckJoinModel, FP16 NHWC, every convolution
// forced onto CUTLASS where it applies, tile variants 2 and 4): the four parts of the two joins are planned
// inside them (rows 16 apart); the Resize reads one there and writes another there, and a stride-2 CUTLASS
// convolution reads one there (its activation layout's pixel stride); the output matches the CPU.
TEST(Cuda, ConcatPartsReadByOthersMatchCpu) {
  SKIP_WITHOUT_CUDA();
  HostTensor x = iota({1, 16, 8, 8}, -1.f, 0.0029f);
  auto ref = cpuOutput(neckJoinModel(), x);
  ASSERT_TRUE(ref.isOk()) << ref.status().message();
  auto contents = fp16NhwcContents(neckJoinModel());
  ASSERT_TRUE(contents.isOk()) << contents.status().message();
#if TRT_HAVE_CUTLASS
  for (int t : {2, 4}) {
    SCOPED_TRACE("tile variant " + std::to_string(t));
    Network net = *contents->network;
    int forced = 0;
    for (Layer& l : net.layers()) {
      if (l.type != "FusedConv") continue;
      const std::vector<std::string> cands = findBackend("cuda")->tactics(l, net);
      for (const std::string base : {"cutlass_conv1x1_nhwc_fp16_t", "cutlass_conv_nhwc_fp16_t"})
        if (std::find(cands.begin(), cands.end(), base + std::to_string(t)) != cands.end()) {
          l.tactic = base + std::to_string(t);
          forced += l.name.rfind("conv_", 0) == 0 || l.name.rfind("head3", 0) == 0;
          break;
        }
    }
    ASSERT_EQ(forced, 4);  // the parts' producers and the stride-2 reader (the heads: where they apply)
    expectStridedPartsMatch(net, contents->fingerprint, x, *ref, 4, "parts read by others");
  }
#endif
}

// Channel-concat elision on CUDA: the C3-like join in FP16 NHWC with both branches forced onto
// CUTLASS (the 1x1 GEMM and the 3x3 implicit GEMM, each tile variant in turn): the engine plans
// each branch as columns of the join's output (row stride 16) and skips the Concat, the branches
// write their rows there, and the result matches the CPU.
TEST(Cuda, CutlassBranchesWriteIntoTheirConcat) {
  SKIP_WITHOUT_CUDA();
  HostTensor x = iota({2, 16, 6, 7}, -1.f, 0.0031f);
  auto ref = cpuOutput(channelJoinModel(false), x);
  ASSERT_TRUE(ref.isOk()) << ref.status().message();
  auto contents = fp16NhwcContents(channelJoinModel(false));
  ASSERT_TRUE(contents.isOk()) << contents.status().message();
#if TRT_HAVE_CUTLASS
  for (int t : {0, 1, 2, 4, 5, 6, 7}) {
    SCOPED_TRACE("tile variant " + std::to_string(t));
    Network net = *contents->network;
    int forced = 0;
    for (Layer& l : net.layers()) {
      if (l.type != "FusedConv" || l.name.find("branch_") == std::string::npos) continue;
      const bool oneByOne = net.tensor(l.inputs[1]).constant->dims()[1] == 1;
      // (the 1x1 GEMM has fewer tile variants: past them it keeps its first)
      l.tactic = oneByOne
                     ? "cutlass_conv1x1_nhwc_fp16_t" + std::to_string(t < kernels::kCutlassVariants ? t : 0)
                     : "cutlass_conv_nhwc_fp16_t" + std::to_string(t);
      ++forced;
    }
    ASSERT_EQ(forced, 2);
    expectStridedPartsMatch(net, contents->fingerprint, x, *ref, 2, "branches written into the concat");
  }
#endif
}

// Asymmetric pads (the row bands' convolutions: the halo on one side, zeros on the other): two
// 3x3 FP16 NHWC convolutions, pads (top 1, left 0, bottom 0, right 1) at stride 2, then (0, 1, 1, 1)
// at stride 1, each forced onto every CUTLASS tile variant in turn: every one runs and matches the
// CPU.
TEST(Cuda, CutlassConvTakesAsymmetricPads) {
  SKIP_WITHOUT_CUDA();
  auto model = [] {
    OnnxBuilder b;
    b.input("x", onnx::TensorProto::FLOAT, {1, 16, 19, 19});
    const std::vector<std::vector<int64_t>> pads = {{1, 0, 0, 1}, {0, 1, 1, 1}};
    const int64_t strides[] = {2, 1};
    std::string in = "x";
    for (int l = 0; l < 2; ++l) {
      const std::string w = "w" + std::to_string(l), bias = "b" + std::to_string(l),
                        c = "c" + std::to_string(l);
      std::vector<float> wv(16 * 16 * 9), bv(16);
      for (size_t i = 0; i < wv.size(); ++i) wv[i] = 0.05f * std::sin(0.31f * static_cast<float>(i) + l);
      for (size_t i = 0; i < bv.size(); ++i) bv[i] = 0.01f * static_cast<float>(i % 5) - 0.02f;
      b.initFloat(w, {16, 16, 3, 3}, wv);
      b.initFloat(bias, {16}, bv);
      auto* n = b.node("Conv", {in, w, bias}, {c});
      OnnxBuilder::attrInts(n, "pads", pads[l]);
      OnnxBuilder::attrInts(n, "strides", {strides[l], strides[l]});
      in = l == 1 ? "y" : "a" + std::to_string(l);
      b.node("Relu", {c}, {in});
    }
    b.output("y");
    return b;
  };
  HostTensor x = iota({1, 16, 19, 19}, -1.f, 0.0003f);
  auto ref = cpuOutput(model(), x);
  ASSERT_TRUE(ref.isOk()) << ref.status().message();
  auto contents = fp16NhwcContents(model());
  ASSERT_TRUE(contents.isOk()) << contents.status().message();
#if TRT_HAVE_CUTLASS
  for (int t : {0, 1, 2, 4, 5, 6, 7}) {
    const std::string tactic = "cutlass_conv_nhwc_fp16_t" + std::to_string(t);
    expectForcedConvsMatch(
        *contents, x, *ref, 2, [&](const Layer&, const Network&) { return tactic; },
        tactic + " asymmetric pads");
  }
#endif
}

// YOLO-style pointwise convolutions: 1x1, 16 -> 24 -> 32 -> 24 channels on a 20x20 map (400 rows:
// partial tiles). In FP16 NHWC each is a 1x1 GEMM, and with the CUTLASS headers the candidates
// include the CUTLASS GEMMs with the bias and activation in their epilogue.
TEST(Cuda, CutlassConvTacticsMatchCpu) {
  SKIP_WITHOUT_CUDA();
  expectCutlassTacticsMatch(convChainNet(1, 20, 32, 24, {1, 1, 1}, 0.03f),
                            iota({1, 16, 20, 20}, -1.f, 0.0003f), "cutlass_conv1x1_nhwc_fp16_t", 6);
}

// YOLO-style 3x3 convolutions: stride 1, 2 and 1, 16 -> 24 -> 32 -> 16 channels from 19x19 (odd
// sizes: partial tiles and a ragged stride-2 edge): the CUTLASS implicit-GEMM convolutions, every
// tile variant (the 32-deep K tiles of _t6 and _t7 among them), with batch tiling off (it would
// split the chain into row bands).
TEST(Cuda, CutlassSpatialConvTacticsMatchCpu) {
  SKIP_WITHOUT_CUDA();
  expectCutlassTacticsMatch(convChainNet(3, 19, 32, 16, {1, 2, 1}, 0.02f),
                            iota({1, 16, 19, 19}, -1.f, 0.0004f), "cutlass_conv_nhwc_fp16_t", 8);
}

// Programmatic dependent launch (the default; TRT_PDL=0 switches it off): the captured graph's
// edges into trt kernels are programmatic (each trt kernel waits for the grid before it in its
// first instruction; CUTLASS kernels run as their waiting twins). A C3-like join (library and trt
// kernels in turn) matches the CPU over several graph replays, FP32 and FP16, both ways, and so
// does a chain of 3x3 convolutions each forced onto a CUTLASS tile variant.
TEST(Cuda, ProgrammaticLaunchGraphMatchesCpu) {
  SKIP_WITHOUT_CUDA();
  OnnxBuilder b = channelJoinModel(false);
  HostTensor x = iota({2, 16, 6, 7}, -1.f, 0.0021f);
  auto ref = cpuReference(b, x);
  ASSERT_TRUE(ref.isOk()) << ref.status().message();
  for (const bool pdl : {false, true}) {
    if (pdl)
      unsetenv("TRT_PDL");
    else
      setenv("TRT_PDL", "0", 1);
    for (bool fp16 : {false, true}) {
      auto e = cudaEngine(b, fp16);
      ASSERT_TRUE(e.isOk()) << e.status().message();
      for (int run = 0; run < 3; ++run) {
        auto got = runXY(*e, x);  // (each: a direct run, then a graph captured and replayed)
        ASSERT_TRUE(got.isOk()) << got.status().message();
        expectClose(*ref, *got, fp16 ? 2e-2f : 1e-4f,
                    std::string(pdl ? "pdl" : "no pdl") + (fp16 ? " fp16" : " fp32"));
      }
    }
  }
  unsetenv("TRT_PDL");
#if TRT_HAVE_CUTLASS
  const OnnxBuilder chain = convChainNet(3, 19, 32, 16, {1, 2, 1}, 0.02f);
  HostTensor xc = iota({1, 16, 19, 19}, -1.f, 0.0004f);
  auto refc = cpuOutput(chain, xc);
  ASSERT_TRUE(refc.isOk()) << refc.status().message();
  auto contents = fp16NhwcContents(chain);
  ASSERT_TRUE(contents.isOk()) << contents.status().message();
  for (int t : {2, 6}) {
    const std::string tactic = "cutlass_conv_nhwc_fp16_t" + std::to_string(t);
    expectForcedConvsMatch(
        *contents, xc, *refc, 3, [&](const Layer&, const Network&) { return tactic; },
        tactic + " with programmatic launch");
    // The graph's CUTLASS nodes took their twins (keyed by the driver's function, which the
    // graph's nodes carry), and the chain's edges into them became programmatic.
    const cuda::GraphRewriteStats st = cuda::lastGraphRewrite();
    EXPECT_EQ(st.twins, 3) << tactic;
    EXPECT_GE(st.programmatic, 2) << tactic;
  }
#endif
}

#if TRT_HAVE_CUDA
// Generated Pointwise kernels (backends/cuda/pointwise_nvrtc.h): the source of programs that use
// every binary op and every unary op, in float and in half storage, and of a program with pieces
// (YOLOv5's decode: xy, wh, scores), compiles with NVRTC for sm_90 (no device needed); the pieces'
// branches hold only what each piece needs (the scores' branch: a load, no instruction). The
// decode's kernel for one static shape compiles too, with its shape and strides as literals.
TEST(CudaCodegen, GeneratedPointwiseSourceCompiles) {
  using kernels::PointwiseProgram;
  auto chain = [](const std::vector<int>& ops) {
    PointwiseProgram p;
    p.numInputs = 2;
    p.numInstructions = static_cast<int>(ops.size());
    for (size_t i = 0; i < ops.size(); ++i) {
      p.op[i] = ops[i];
      p.a[i] = i == 0 ? 0 : static_cast<int>(p.numInputs + i - 1);
      p.b[i] = 1;
      p.p0[i] = 0.25f;
      p.p1[i] = i % 2 ? -1.5f : std::numeric_limits<float>::infinity();
    }
    return p;
  };
  std::vector<PointwiseProgram> programs = {chain({0, 1, 2, 3, 4, 5, 6})};
  std::vector<int> unary;
  for (int u = 0; u <= static_cast<int>(kernels::UnaryOp::kSilu); ++u) unary.push_back(100 + u);
  programs.push_back(chain(std::vector<int>(unary.begin(), unary.begin() + 11)));
  programs.push_back(chain(std::vector<int>(unary.begin() + 11, unary.end())));
  // pieces along axis 4 of [1, 3, H, W, 9]: [0, 2) x * 2 + grid, [2, 4) (x * 2)^2 * anchor, [4, 9) x
  PointwiseProgram d;
  d.numInputs = 4;  // x, two, grid (piece 0), anchor (piece 1)
  d.numInstructions = 5;
  const int ops[] = {2, 0, 2, 4, 2}, as[] = {0, 4, 0, 6, 7}, bs[] = {1, 2, 1, 1, 3};
  for (int i = 0; i < 5; ++i) {
    d.op[i] = ops[i];
    d.a[i] = as[i];
    d.b[i] = bs[i];
  }
  d.pieceAxis = 4;
  d.numPieces = 3;
  d.pieceEnd[0] = 2;
  d.pieceEnd[1] = 4;
  d.pieceEnd[2] = 9;
  d.pieceResult[0] = 5;
  d.pieceResult[1] = 8;
  d.pieceResult[2] = 0;
  d.inPiece[0] = d.inPiece[1] = -1;
  d.inPiece[2] = 0;
  d.inPiece[3] = 1;
  programs.push_back(d);
  for (const PointwiseProgram& p : programs)
    for (bool half : {false, true}) {
      const std::string src = cuda_pointwise::pointwiseSource(p, half);
      auto cubin = cuda_pointwise::compileToCubin(src, 9, 0);
      ASSERT_TRUE(cubin.isOk()) << cubin.status().message() << "\n" << src;
      EXPECT_GT(cubin->size(), 0u);
    }
  // The kernel for one shape ([1, 3, 4, 5, 9]: x read from an NHWC [1, 4, 5, 27] tensor, `two` a
  // scalar, grid [1, 3, 4, 5, 2] and anchor [1, 3, 1, 1, 2]): dims and strides as literals, no
  // launch-time shape arguments read, zero strides and dims of 1 leaving no terms.
  kernels::Shape8 os;
  os.rank = 5;
  const int64_t dims[5] = {1, 3, 4, 5, 9};
  for (int k = 0; k < 5; ++k) os.dims[k] = dims[k];
  PointwiseProgram f = d;
  const int64_t strides[4][5] = {{0, 9, 135, 27, 1}, {0, 0, 0, 0, 0}, {0, 40, 10, 2, 1}, {0, 2, 0, 0, 1}};
  for (int j = 0; j < 4; ++j) {
    f.inStrides[j].rank = 5;
    for (int k = 0; k < 5; ++k) f.inStrides[j].strides[k] = strides[j][k];
  }
  for (bool half : {false, true}) {
    const std::string fixed = cuda_pointwise::pointwiseSource(f, half, &os);
    auto cubin = cuda_pointwise::compileToCubin(fixed, 9, 0);
    ASSERT_TRUE(cubin.isOk()) << cubin.status().message() << "\n" << fixed;
    EXPECT_EQ(fixed.find("a.rank"), std::string::npos) << fixed;
    EXPECT_EQ(fixed.find("a.stride"), std::string::npos) << fixed;
    EXPECT_NE(fixed.find("e < 540;"), std::string::npos) << fixed;
    EXPECT_NE(fixed.find("const int o0 = 0 + i1 * 9 + i2 * 135 + i3 * 27 + i4 * 1;"), std::string::npos)
        << fixed;
    EXPECT_NE(fixed.find("const int o1 = 0;"), std::string::npos) << fixed;
    EXPECT_NE(fixed.find("const int o3 = 0 + i1 * 2 + min(max(at - 2, 0), 1) * 1;"), std::string::npos)
        << fixed;
  }
  const std::string src = cuda_pointwise::pointwiseSource(d, true);
  const size_t scores = src.find("    else {");
  ASSERT_NE(scores, std::string::npos) << src;
  const std::string last = src.substr(scores, src.find("    }", scores) - scores);
  EXPECT_EQ(last.find("const float r4"), std::string::npos) << last;  // no instruction
  EXPECT_NE(last.find("y = r0;"), std::string::npos) << last;
}
#endif

// Parallel branches on CUDA (runtime/side_stream.h): the C3-like join and YOLOv5's neck joins run
// a convolution on the side stream (FP32 and FP16 NHWC), directly and as a captured graph
// replayed (runXY does both), and match the CPU.
TEST(Cuda, SideStreamBranchesMatchCpu) {
  SKIP_WITHOUT_CUDA();
  struct Case {
    OnnxBuilder model;
    HostTensor x;
  };
  std::vector<Case> cases;
  cases.push_back({channelJoinModel(false), iota({2, 16, 6, 7}, -1.f, 0.0031f)});
  cases.push_back({neckJoinModel(), iota({1, 16, 8, 8}, -1.f, 0.0029f)});
  for (Case& c : cases)
    for (bool fp16 : {false, true}) {
      auto ref = cpuReference(c.model, c.x);
      ASSERT_TRUE(ref.isOk()) << ref.status().message();
      auto e = cudaEngine(c.model, fp16, "nhwc");
      ASSERT_TRUE(e.isOk()) << e.status().message();
      std::vector<bool> skip((*e)->network().layers().size(), false);
      EXPECT_FALSE(planSideLayers((*e)->network(), skip, *findBackend("cuda")).empty());
      for (int run = 0; run < 3; ++run) {
        auto got = runXY(*e, c.x);
        ASSERT_TRUE(got.isOk()) << got.status().message();
        expectClose(*ref, *got, fp16 ? 2e-2f : 1e-4f, fp16 ? "side stream fp16" : "side stream fp32");
      }
    }
}
