// Network IR: construction, validation, broadcasting and shape inference (symbolic and concrete).
#include <gtest/gtest.h>

#include "backends/backend.h"
#include "ir/op_registry.h"
#include "ir/shape_inference.h"
#include "test_util.h"

using namespace trt;
using namespace trt::testutil;

TEST(Ir, RegistriesAreConsistent) {
  EXPECT_TRUE(OpRegistry::instance().registrationStatus().isOk());
  // Every op with shape inference has a CPU kernel (the oracle covers every op).
  for (const auto& op : OpRegistry::instance().names()) {
    Layer l;
    l.type = op;
    EXPECT_TRUE(findBackend("cpu")->supports(l, {}).isOk()) << op;
  }
}

TEST(Ir, BroadcastShapes) {
  auto s = broadcastShapes({Shape{Dim::symbolic("b"), 1, 4}, Shape{3, 1}});
  ASSERT_TRUE(s.isOk());
  EXPECT_EQ(shapeToString(*s), "[b,3,4]");
  EXPECT_FALSE(broadcastShapes({Shape{2, 3}, Shape{4}}).isOk());
}

TEST(Ir, ValidateCatchesUseBeforeDefinition) {
  Network net;
  int x = net.addInput("x", DataType::kFloat32, {2});
  int y = net.addTensor("y");
  int z = net.addTensor("z");
  Layer a;
  a.name = "a";
  a.type = "Relu";
  a.inputs = {y};
  a.outputs = {z};
  net.addLayer(a);
  Layer b;
  b.name = "b";
  b.type = "Relu";
  b.inputs = {x};
  b.outputs = {y};
  net.addLayer(b);
  net.markOutput(z);
  Status st = net.validate();
  ASSERT_FALSE(st.isOk());
  EXPECT_NE(st.message().find("before it is produced"), std::string::npos);
}

TEST(Ir, SymbolicShapesPropagate) {
  OnnxBuilder b;
  b.input("x", onnx::TensorProto::FLOAT, {-1, 3, 8, 8}, {"batch"});
  b.initFloat("w", {4, 3, 3, 3}, std::vector<float>(108, 0.1f));
  auto* c = b.node("Conv", {"x", "w"}, {"c"});
  OnnxBuilder::attrInts(c, "pads", {1, 1, 1, 1});
  b.node("Relu", {"c"}, {"y"});
  b.output("y");
  auto net = b.parse();
  ASSERT_TRUE(net.isOk());
  ASSERT_TRUE(inferNetworkShapes(**net).isOk());
  EXPECT_EQ(shapeToString((*net)->tensor((*net)->findTensor("y")).shape), "[batch,4,8,8]");
}

// Shape -> Gather -> Unsqueeze -> Concat -> Reshape, as PyTorch exports x.view(x.size(0), -1).
TEST(Ir, ShapeSubgraphFoldsWhenStaticAndRunsWhenDynamic) {
  for (bool dynamic : {false, true}) {
    OnnxBuilder b;
    b.input("x", onnx::TensorProto::FLOAT, {dynamic ? -1 : 2, 3, 4}, {"batch"});
    b.node("Shape", {"x"}, {"s"});
    b.initInt64("zero", {}, {0});
    b.node("Gather", {"s", "zero"}, {"n"});
    b.initInt64("ax", {1}, {0});
    b.node("Unsqueeze", {"n", "ax"}, {"n1"});
    b.initInt64("minus1", {1}, {-1});
    auto* cat = b.node("Concat", {"n1", "minus1"}, {"shape"});
    OnnxBuilder::attrInt(cat, "axis", 0);
    b.node("Reshape", {"x", "shape"}, {"y"});
    b.output("y");
    auto net = b.parse();
    ASSERT_TRUE(net.isOk()) << net.status().message();
    auto e = buildEngine(**net);
    ASSERT_TRUE(e.isOk()) << e.status().message();
    // Static: the whole shape chain folds into a constant, leaving only the Reshape.
    if (!dynamic)
      EXPECT_EQ((*e)->network().layers().size(), 1u);
    else
      EXPECT_GT((*e)->network().layers().size(), 1u);
    for (int64_t batch : dynamic ? std::vector<int64_t>{1, 5} : std::vector<int64_t>{2}) {
      auto y = runOne(**e, "x", iota({batch, 3, 4}), "y");
      ASSERT_TRUE(y.isOk()) << y.status().message();
      EXPECT_EQ(y->dims(), (Dims{batch, 12}));
      EXPECT_FLOAT_EQ(y->as<float>()[batch * 12 - 1], static_cast<float>(batch * 12 - 1));
    }
  }
}

TEST(Ir, InferenceErrorsNameTheLayer) {
  OnnxBuilder b;
  b.input("a", onnx::TensorProto::FLOAT, {2, 3});
  b.input("c", onnx::TensorProto::FLOAT, {4, 5});
  b.node("MatMul", {"a", "c"}, {"y"}, "bad_mm");
  b.output("y");
  auto net = b.parse();
  ASSERT_TRUE(net.isOk());
  Builder builder;
  auto plan = builder.buildSerialized(**net);
  ASSERT_FALSE(plan.isOk());
  EXPECT_NE(plan.status().message().find("bad_mm"), std::string::npos) << plan.status().message();
  EXPECT_NE(plan.status().message().find("inner dims"), std::string::npos) << plan.status().message();
}

// A float Range over a dynamic dim (as YOLOv5's export builds its grid): Shape -> Gather -> Cast
// to float -> Range is computed on the host when shapes are prepared.
TEST(Ir, FloatShapeComputationsRunOnTheHost) {
  OnnxBuilder b;
  b.input("x", onnx::TensorProto::FLOAT, {-1, 4}, {"batch"});
  b.node("Shape", {"x"}, {"s"});
  b.initInt64("zero", {}, {0});
  b.node("Gather", {"s", "zero"}, {"n"});
  auto* cast = b.node("Cast", {"n"}, {"nf"});
  OnnxBuilder::attrInt(cast, "to", onnx::TensorProto::FLOAT);
  b.initFloat("start", {}, {0.f});
  b.initFloat("step", {}, {1.f});
  b.node("Range", {"start", "nf", "step"}, {"r"});
  b.initInt64("ax", {1}, {1});
  b.node("Unsqueeze", {"r", "ax"}, {"ru"});
  b.node("Add", {"x", "ru"}, {"y"});
  b.output("y");
  auto net = b.parse();
  ASSERT_TRUE(net.isOk()) << net.status().message();
  auto e = buildEngine(**net);
  ASSERT_TRUE(e.isOk()) << e.status().message();
  auto y = runOne(**e, "x", iota({3, 4}, 0.f, 0.f), "y");
  ASSERT_TRUE(y.isOk()) << y.status().message();
  EXPECT_FLOAT_EQ(y->as<float>()[2 * 4 + 3], 2.f);
}

// x.view(*x.shape[:-1], -1, 4) as exporters write it: Shape -> Slice -> Concat with [-1, 4] ->
// Reshape. The symbolic contents of the shape tensor give [batch, 5, 2, 4] (the -1 resolves by
// cancelling the named batch dim), not four unknown dims.
TEST(Ir, ReshapeThroughSymbolicShapeValues) {
  OnnxBuilder b;
  b.input("x", onnx::TensorProto::FLOAT, {-1, 5, 8}, {"batch"});
  b.initInt64("zero", {0});
  b.initInt64("minus1", {-1});
  b.initInt64("tail", {-1, 4});
  b.node("Shape", {"x"}, {"s"});
  b.node("Slice", {"s", "zero", "minus1"}, {"lead"});
  b.node("Concat", {"lead", "tail"}, {"target"});
  OnnxBuilder::attrInt(b.g->mutable_node(b.g->node_size() - 1), "axis", 0);
  b.node("Reshape", {"x", "target"}, {"y"});
  b.output("y");
  auto net = b.parse();
  ASSERT_TRUE(net.isOk());
  ASSERT_TRUE(inferNetworkShapes(**net).isOk());
  EXPECT_EQ(shapeToString((*net)->tensor((*net)->findTensor("y")).shape), "[batch,5,2,4]");
}
