// Batch tiling for memory: the chain at the activation peak runs in batch chunks, the engine
// computes the same outputs, and the planned arena shrinks.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "backends/backend.h"
#include "builder/batch_tiling.h"
#include "builder/layout.h"
#include "ir/shape_inference.h"
#include "passes/pass.h"
#include "test_util.h"

using namespace trt;
using namespace trt::testutil;

namespace {
// A YOLO-like stem: a strided 6x6 convolution to many channels at half resolution (the peak), a
// SiLU, a strided 3x3 convolution, then a small tail (global pool and a 1x1 convolution).
OnnxBuilder stemModel(int64_t batch, int64_t stemChannels = 16) {
  OnnxBuilder b;
  b.input("x", onnx::TensorProto::FLOAT, {batch, 3, 32, 32});
  auto weights = [&](const std::string& name, std::vector<int64_t> dims, float scale) {
    initSine(b, name, dims, scale, 0.37f);
  };
  weights("w0", {stemChannels, 3, 6, 6}, 0.2f);
  weights("b0", {stemChannels}, 0.1f);
  weights("w1", {8, stemChannels, 3, 3}, 0.1f);
  weights("w2", {4, 8, 1, 1}, 0.5f);
  auto* c0 = b.node("Conv", {"x", "w0", "b0"}, {"c0"}, "stem");
  OnnxBuilder::attrInts(c0, "strides", {2, 2});
  OnnxBuilder::attrInts(c0, "pads", {2, 2, 2, 2});
  b.node("Sigmoid", {"c0"}, {"s0"}, "sig");
  b.node("Mul", {"c0", "s0"}, {"a0"}, "silu");
  auto* c1 = b.node("Conv", {"a0", "w1"}, {"c1"}, "down");
  OnnxBuilder::attrInts(c1, "strides", {2, 2});
  OnnxBuilder::attrInts(c1, "pads", {1, 1, 1, 1});
  b.node("GlobalAveragePool", {"c1"}, {"g"}, "pool");
  b.node("Conv", {"g", "w2"}, {"y"}, "head");
  b.output("y");
  return b;
}

Expected<std::shared_ptr<Engine>> build(OnnxBuilder m, bool tiling, BuildReport* report,
                                        const std::string& layout, const std::string& device = "cpu",
                                        bool fp16 = false) {
  TRT_ASSIGN_OR_RETURN(auto net, m.parse());
  BuilderConfig cfg;
  cfg.batchTiling = tiling;
  cfg.layout = layout;
  cfg.device = device;
  cfg.fp16 = fp16;
  return buildWithConfig(*net, cfg, report);
}

std::string phaseNote(const BuildReport& r, const std::string& name) {
  for (const auto& p : r.phases)
    if (p.name == name) return p.note;
  return "(no phase " + name + ")";
}

// The inputs of the layers named `prefix`... in `plan` are placed inside their Concat's output (an
// elided Concat: planned as views at offsets within it); returns how many were checked.
int expectConcatElided(const Engine& e, const ExecutionContext::MemoryPlanReport& plan,
                       const std::string& prefix) {
  int checked = 0;
  for (const Layer& l : e.network().layers()) {
    if (l.name.rfind(prefix, 0) != 0) continue;
    const std::string out = e.network().tensor(l.outputs[0]).name;
    int64_t outOffset = -1, outBytes = 0;
    for (const auto& t : plan.tensors)
      if (t.name == out) {
        outOffset = t.offset;
        outBytes = t.bytes;
      }
    EXPECT_GE(outOffset, 0) << out;
    for (int in : l.inputs) {
      const std::string name = e.network().tensor(in).name;
      bool found = false;
      for (const auto& t : plan.tensors) {
        if (t.name != name) continue;
        found = true;
        EXPECT_TRUE(t.view) << name;
        EXPECT_GE(t.offset, outOffset) << name;
        EXPECT_LE(t.offset + t.bytes, outOffset + outBytes) << name;
      }
      EXPECT_TRUE(found) << name;
      ++checked;
    }
  }
  return checked;
}
}  // namespace

TEST(BatchTiling, StemChainRunsInChunksWithTheSameOutputs) {
  for (const std::string layout : {"nchw", "nhwc"}) {
    SCOPED_TRACE(layout);
    BuildReport tiled, whole;
    auto a = build(stemModel(4), true, &tiled, layout);
    auto b = build(stemModel(4), false, &whole, layout);
    ASSERT_TRUE(a.isOk()) << a.status().message();
    ASSERT_TRUE(b.isOk()) << b.status().message();
    const std::string note = phaseNote(tiled, "batch tiling");
    EXPECT_NE(note.find("batch chunks"), std::string::npos) << note;
    EXPECT_EQ(phaseNote(whole, "batch tiling"), "(no phase batch tiling)");
    int slices = 0, concats = 0, chunkConvs = 0;
    for (const Layer& l : (*a)->network().layers()) {
      slices += l.name.rfind("batch_slice", 0) == 0 ? 1 : 0;
      concats += l.name.rfind("batch_concat", 0) == 0 ? 1 : 0;
      chunkConvs += l.name.find("[batch ") != std::string::npos && l.type.find("Conv") != std::string::npos;
    }
    EXPECT_GE(slices, 2);
    EXPECT_EQ(concats, 1);
    EXPECT_EQ(chunkConvs, 2 * slices);  // the stem and the strided convolution, once per chunk
    // The same numbers, and a smaller estimated peak.
    EXPECT_LT(estimateActivationPeak((*a)->network()), estimateActivationPeak((*b)->network()));
    HostTensor x = iota({4, 3, 32, 32}, -1.f, 0.0007f);
    auto ya = runOne(**a, "x", x, "y");
    auto yb = runOne(**b, "x", x, "y");
    ASSERT_TRUE(ya.isOk() && yb.isOk());
    ASSERT_EQ(ya->numel(), yb->numel());
    for (int64_t i = 0; i < ya->numel(); ++i) EXPECT_NEAR(ya->as<float>()[i], yb->as<float>()[i], 1e-5) << i;
    // The engine's own arena plan is smaller too.
    auto ca = (*a)->createExecutionContext();
    auto cb = (*b)->createExecutionContext();
    ASSERT_TRUE(ca->setInputShape("x", {4, 3, 32, 32}).isOk() &&
                cb->setInputShape("x", {4, 3, 32, 32}).isOk());
    auto pa = ca->memoryPlan();
    auto pb = cb->memoryPlan();
    ASSERT_TRUE(pa.isOk() && pb.isOk());
    EXPECT_LT(pa->arenaBytes, pb->arenaBytes);
    // The batch concat along N (nothing before it) writes nothing: the chunks land in its output.
    EXPECT_GE(expectConcatElided(**a, *pa, "batch_concat"), 2);
  }
}

// At batch 1 the stem chain runs in bands of output rows instead: each band's Slice holds the
// input rows it needs (with the convolutions' windows), the convolutions pad only at the image's
// top and bottom edges, and the bands are concatenated along H. Same numbers, smaller arena, in
// both layouts (H is axis 2 in NCHW, 1 in NHWC).
TEST(BatchTiling, StemChainAtBatchOneRunsInRowBands) {
  for (const std::string layout : {"nchw", "nhwc"}) {
    SCOPED_TRACE(layout);
    BuildReport tiled, whole;
    auto a = build(stemModel(1), true, &tiled, layout);
    auto b = build(stemModel(1), false, &whole, layout);
    ASSERT_TRUE(a.isOk()) << a.status().message();
    ASSERT_TRUE(b.isOk()) << b.status().message();
    const std::string note = phaseNote(tiled, "batch tiling");
    EXPECT_NE(note.find("row bands"), std::string::npos) << note;
    int slices = 0, concats = 0, bandConvs = 0;
    for (const Layer& l : (*a)->network().layers()) {
      EXPECT_EQ(l.name.find("batch_"), std::string::npos) << l.name;
      slices += l.name.rfind("row_slice", 0) == 0 ? 1 : 0;
      concats += l.name.rfind("row_concat", 0) == 0 ? 1 : 0;
      bandConvs += l.name.find("[rows ") != std::string::npos && l.type.find("Conv") != std::string::npos;
    }
    EXPECT_GE(slices, 2);
    EXPECT_EQ(concats, 1);
    EXPECT_EQ(bandConvs, 2 * slices);  // the stem and the strided convolution, once per band
    HostTensor x = iota({1, 3, 32, 32}, -1.f, 0.0007f);
    auto ya = runOne(**a, "x", x, "y");
    auto yb = runOne(**b, "x", x, "y");
    ASSERT_TRUE(ya.isOk() && yb.isOk()) << (ya.isOk() ? yb.status().message() : ya.status().message());
    ASSERT_EQ(ya->numel(), yb->numel());
    for (int64_t i = 0; i < ya->numel(); ++i) EXPECT_NEAR(ya->as<float>()[i], yb->as<float>()[i], 1e-5) << i;
    auto ca = (*a)->createExecutionContext();
    auto cb = (*b)->createExecutionContext();
    ASSERT_TRUE(ca->setInputShape("x", {1, 3, 32, 32}).isOk() &&
                cb->setInputShape("x", {1, 3, 32, 32}).isOk());
    auto pa = ca->memoryPlan();
    auto pb = cb->memoryPlan();
    ASSERT_TRUE(pa.isOk() && pb.isOk());
    EXPECT_LT(pa->arenaBytes, pb->arenaBytes);
    // NHWC: H follows N = 1, so the bands' outputs are blocks of the row concat's output (and the
    // row slices blocks of their input); NCHW: C comes between, the Concat copies.
    if (layout == "nhwc") {
      EXPECT_GE(expectConcatElided(**a, *pa, "row_concat"), 2);
      int slicesViewed = 0;
      for (const Layer& l : (*a)->network().layers()) {
        if (l.name.rfind("row_slice", 0) != 0) continue;
        for (const auto& t : pa->tensors)
          slicesViewed += t.name == (*a)->network().tensor(l.outputs[0]).name && t.view;
      }
      EXPECT_EQ(slicesViewed, slices);  // each band's input rows read in place
    }
  }
}

TEST(BatchTiling, LeavesNonConvolutionalPeaksAlone) {
  // A peak at an elementwise chain without a convolution: left whole.
  OnnxBuilder b;
  b.input("x", onnx::TensorProto::FLOAT, {4, 64, 64});
  b.node("Exp", {"x"}, {"e"}, "exp");
  b.node("Sigmoid", {"e"}, {"s"}, "sig");
  b.node("ReduceMean", {"s"}, {"y"}, "mean");
  b.output("y");
  auto net = b.parse();
  ASSERT_TRUE(net.isOk());
  ASSERT_TRUE(inferNetworkShapes(**net, evaluateOnHost).isOk());
  const int64_t before = estimateActivationPeak(**net);
  auto t = tileBatchAtPeak(**net);
  ASSERT_TRUE(t.isOk());
  EXPECT_FALSE(t->applied) << t->note;
  EXPECT_EQ(estimateActivationPeak(**net), before);
}

// On CUDA in FP16 (NHWC, tactics timed per chunk): the tiled engine matches the CPU's FP32 result.
TEST(BatchTiling, CudaFp16ChunksMatchTheCpu) {
  auto backends = availableBackends();
  if (std::find(backends.begin(), backends.end(), "cuda") == backends.end())
    GTEST_SKIP() << "CUDA backend unavailable: " << backendUnavailableReasonForTools("cuda");
  BuildReport r;
  auto gpu = build(stemModel(4), true, &r, "auto", "cuda", true);
  auto cpu = build(stemModel(4), false, nullptr, "nchw");
  ASSERT_TRUE(gpu.isOk()) << gpu.status().message();
  ASSERT_TRUE(cpu.isOk()) << cpu.status().message();
  EXPECT_NE(phaseNote(r, "batch tiling").find("batch chunks"), std::string::npos)
      << phaseNote(r, "batch tiling");
  HostTensor x = iota({4, 3, 32, 32}, -1.f, 0.0007f);
  auto yg = runXY(*gpu, x);  // through device memory: CUDA bindings are device pointers
  auto yc = runOne(**cpu, "x", x, "y");
  ASSERT_TRUE(yg.isOk() && yc.isOk()) << (yg.isOk() ? yc.status().message() : yg.status().message());
  float maxRef = 0;
  for (int64_t i = 0; i < yc->numel(); ++i) maxRef = std::max(maxRef, std::fabs(yc->as<float>()[i]));
  for (int64_t i = 0; i < yc->numel(); ++i)
    EXPECT_NEAR(yg->as<float>()[i], yc->as<float>()[i], 1e-2f * maxRef) << i;
}

namespace {
// A backend that only answers inPlaceInputs: a FusedConv whose tactic is "over_z" writes Y over Z.
class OverZBackend : public PlanningOnlyBackend {
 public:
  OverZBackend() : PlanningOnlyBackend("over-z") {}
  std::vector<int> inPlaceInputs(const Layer& l) const override {
    if (l.type == "Relu") return {0};
    return l.type == "FusedConv" && l.tactic == "over_z" ? std::vector<int>{3} : std::vector<int>{};
  }
};

// x -> a (16 ch) -> b (4 ch) -> c = conv(b) + a (16 ch, "res") -> y; with `readLater`, a Relu
// after "res" reads a too. Sizes per tensor: a, c 4096 bytes, b 1024.
Network residualNet(bool readLater) {
  Network net;
  auto shape = [](int64_t c) { return Shape{Dim(1), Dim(c), Dim(8), Dim(8)}; };
  const int x = net.addInput("x", DataType::kFloat32, shape(4));
  auto conv = [&](const std::string& name, int in, int64_t cin, int64_t cout, int z) {
    Layer l;
    l.name = name;
    l.type = "FusedConv";
    l.tactic = "beside_z";
    HostTensor w(DataType::kFloat32, {cout, cin, 1, 1});
    HostTensor b(DataType::kFloat32, {cout});
    l.inputs = {in, net.addConstant(name + ".w", w), net.addConstant(name + ".b", b)};
    if (z >= 0) l.inputs.push_back(z);
    const int out = net.addTensor(name + ".out", DataType::kFloat32, shape(cout));
    l.outputs = {out};
    net.addLayer(l);
    return out;
  };
  const int a = conv("a", x, 4, 16, -1);
  const int b = conv("b", a, 16, 4, -1);
  int c = conv("res", b, 4, 16, a);
  if (readLater) {
    Layer r;
    r.name = "reads_a";
    r.type = "Relu";
    r.inputs = {a};
    const int ra = net.addTensor("ra", DataType::kFloat32, shape(16));
    r.outputs = {ra};
    net.addLayer(r);
    Layer add;
    add.name = "join";
    add.type = "Add";
    add.inputs = {c, ra};
    c = net.addTensor("joined", DataType::kFloat32, shape(16));
    add.outputs = {c};
    net.addLayer(add);
  }
  const int y = conv("head", c, 16, 4, -1);
  net.markOutput(y);
  net.rebuildProducers();
  return net;
}
}  // namespace

// The residual layer at the peak takes its alternative that writes Y over Z; the estimate counts
// the engine's in-place aliases; no switch where Z is read later, nor without an alternative.
TEST(BatchTiling, WriteOverZAtThePeak) {
  OverZBackend backend;
  Network net = residualNet(false);
  int at = -1;
  EXPECT_EQ(estimateActivationPeak(net, &at, &backend), 4096 + 1024 + 4096);
  EXPECT_EQ(net.layers()[at].name, "res");
  const std::map<int, std::string> alternatives = {{2, "over_z"}};
  InPlaceAtPeak r = writeOverZAtPeak(net, backend, alternatives);
  ASSERT_EQ(r.switched.size(), 1u) << r.note;
  EXPECT_EQ(r.switched[0].layer, 2);
  EXPECT_EQ(r.switched[0].from, "beside_z");
  EXPECT_EQ(net.layers()[2].tactic, "over_z");
  EXPECT_EQ(r.peakBefore, 4096 + 1024 + 4096);
  EXPECT_EQ(r.peakAfter, 4096 + 1024);
  EXPECT_EQ(estimateActivationPeak(net, nullptr, &backend), 4096 + 1024);
  EXPECT_EQ(estimateActivationPeak(net), 4096 + 1024 + 4096);  // one buffer per tensor

  Network none = residualNet(false);
  EXPECT_TRUE(writeOverZAtPeak(none, backend, {}).switched.empty());
  EXPECT_EQ(none.layers()[2].tactic, "beside_z");

  Network later = residualNet(true);  // a is read after "res": Y cannot take its bytes
  InPlaceAtPeak l = writeOverZAtPeak(later, backend, alternatives);
  EXPECT_TRUE(l.switched.empty()) << l.note;
  EXPECT_EQ(later.layers()[2].tactic, "beside_z");
  EXPECT_EQ(l.peakAfter, l.peakBefore);
}

// Channel-concat elision (planAliases with rowStride): under NHWC the join is a Concat along the last
// axis whose inputs come from FusedConv layers (the CPU backend writes those rows with a stride, as
// the reference for CUDA's CUTLASS convolutions): each branch is a view inside the join's output,
// its rows 16 elements apart, and the engine computes what the NCHW one does. Negative: a branch
// that something else reads too keeps its own buffer and the Concat copies.
TEST(BatchTiling, ChannelConcatPartsAreWrittenInPlace) {
  for (bool alsoRead : {false, true}) {
    SCOPED_TRACE(alsoRead ? "branch read elsewhere" : "branches read by the join alone");
    auto nhwc = build(channelJoinModel(alsoRead), false, nullptr, "nhwc");
    auto nchw = build(channelJoinModel(alsoRead), false, nullptr, "nchw");
    ASSERT_TRUE(nhwc.isOk()) << nhwc.status().message();
    ASSERT_TRUE(nchw.isOk()) << nchw.status().message();
    auto ctx = (*nhwc)->createExecutionContext();
    ASSERT_TRUE(ctx->setInputShape("x", {2, 16, 6, 7}).isOk());
    auto plan = ctx->memoryPlan();
    ASSERT_TRUE(plan.isOk()) << plan.status().message();
    const Layer* join = nullptr;
    for (const Layer& l : (*nhwc)->network().layers())
      if (l.type == "Concat") join = &l;
    ASSERT_NE(join, nullptr);
    int strided = 0;
    for (int in : join->inputs)
      for (const auto& t : plan->tensors)
        if (t.name == (*nhwc)->network().tensor(in).name && t.rowStride) {
          EXPECT_TRUE(t.view);
          EXPECT_EQ(t.rowStride, 16);
          ++strided;
        }
    EXPECT_EQ(strided, alsoRead ? 0 : 2);
    if (alsoRead) continue;  // (two outputs; runOne binds one)
    expectSameOutput(**nchw, **nhwc, iota({2, 16, 6, 7}, -1.f, 0.0031f), 1e-5f);
  }
}

// Channel-concat elision where a part has other readers that read rows with a stride
// (Backend::readsRowStrided; the CPU reference: FusedConv and Resize): YOLOv5's neck joins
// (neckJoinModel). Every part of both joins is planned inside its join (rows 16 apart), the
// Resize of a part and the stride-2 convolution of another read it there, the upsampled part is
// written there by its Resize, and the engine computes what the NCHW one does.
TEST(BatchTiling, ConcatPartsReadByOthersAreWrittenInPlace) {
  auto nhwc = build(neckJoinModel(), false, nullptr, "nhwc");
  auto nchw = build(neckJoinModel(), false, nullptr, "nchw");
  ASSERT_TRUE(nhwc.isOk()) << nhwc.status().message();
  ASSERT_TRUE(nchw.isOk()) << nchw.status().message();
  auto ctx = (*nhwc)->createExecutionContext();
  ASSERT_TRUE(ctx->setInputShape("x", {1, 16, 8, 8}).isOk());
  auto plan = ctx->memoryPlan();
  ASSERT_TRUE(plan.isOk()) << plan.status().message();
  int joins = 0, strided = 0;
  for (const Layer& l : (*nhwc)->network().layers()) {
    if (l.type != "Concat") continue;
    ++joins;
    for (int in : l.inputs)
      for (const auto& t : plan->tensors)
        if (t.name == (*nhwc)->network().tensor(in).name && t.rowStride) {
          EXPECT_TRUE(t.view) << t.name;
          EXPECT_EQ(t.rowStride, 16) << t.name;
          ++strided;
        }
  }
  EXPECT_EQ(joins, 2);
  EXPECT_EQ(strided, 4);
  expectSameOutput(**nchw, **nhwc, iota({1, 16, 8, 8}, -1.f, 0.0029f), 1e-5f);
}

// The space-to-depth stem (layout.h: the 8-channel arrangement reads the 6x6 stride-2 stem as a 3x3
// convolution over 2x2 blocks) under batch tiling at batch 1: the chain at the peak runs in row
// bands through the block convolution, and the engine computes what the NCHW one does. (48 stem
// channels: the 16-channel block input is smaller than the stem's output, so bands pay.)
TEST(BatchTiling, SpaceToDepthStemRunsInRowBands) {
  const Backend* cpu = findBackend("cpu");
  ASSERT_NE(cpu, nullptr);
  auto net = stemModel(1, 48).parse();
  auto ref = stemModel(1, 48).parse();
  ASSERT_TRUE(net.isOk() && ref.isOk());
  ASSERT_TRUE(inferNetworkShapes(**net, evaluateOnHost).isOk());
  ASSERT_TRUE(runPassPipeline(**net, PipelineOptions{}).isOk());  // the stem's SiLU fused into it
  ASSERT_TRUE(inferNetworkShapes(**net, evaluateOnHost).isOk());
  ASSERT_TRUE(assignLayouts(**net, *cpu, "nhwc", {}, 8, true).isOk());
  ASSERT_TRUE(inferNetworkShapes(**net, evaluateOnHost).isOk());
  int blocks = 0;
  for (const Layer& l : (*net)->layers()) blocks += l.attrs.getInt("space_to_depth", 0) == 2;
  EXPECT_EQ(blocks, 1);
  auto t = tileBatchAtPeak(**net);
  ASSERT_TRUE(t.isOk()) << t.status().message();
  EXPECT_TRUE(t->applied) << t->note;
  int bandBlocks = 0;
  for (const Layer& l : (*net)->layers())
    bandBlocks += l.attrs.getInt("space_to_depth", 0) == 2 && l.name.find("[rows ") != std::string::npos;
  EXPECT_GE(bandBlocks, 2) << t->note;
  auto a = buildEngine(**net, 0, "nchw");
  auto b = buildEngine(**ref, 0, "nchw");
  ASSERT_TRUE(a.isOk() && b.isOk()) << (a.isOk() ? b.status().message() : a.status().message());
  expectSameOutput(**a, **b, iota({1, 3, 32, 32}, -1.f, 0.0007f), 1e-5f);
}
