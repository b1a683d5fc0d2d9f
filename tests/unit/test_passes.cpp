// Passes: constant folding and dead-code elimination, structurally and numerically.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>

#include "backends/backend.h"
#include "builder/layout.h"
#include "builder/tactics.h"
#include "ir/ops/pointwise.h"
#include "ir/shape_inference.h"
#include "passes/pass.h"
#include "test_util.h"

using namespace trt;
using namespace trt::testutil;

namespace {
// Runs an engine on named host inputs and returns output "y" of `outDims`.
Expected<HostTensor> runAny(Engine& e, const std::vector<std::pair<std::string, HostTensor*>>& ins,
                            const Dims& outDims) {
  auto ctx = e.createExecutionContext();
  HostTensor y(DataType::kFloat32, outDims);
  for (auto& [n, t] : ins) {
    TRT_RETURN_IF_ERROR(ctx->setInputShape(n, t->dims()));
    TRT_RETURN_IF_ERROR(ctx->setTensorAddress(n, t->data()));
  }
  TRT_RETURN_IF_ERROR(ctx->setTensorAddress("y", y.data()));
  TRT_RETURN_IF_ERROR(ctx->execute());
  return y;
}

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

namespace {
// x -> Conv(w, b) -> BN -> Relu -> y ; optionally the Conv output also feeds a second consumer.
OnnxBuilder convBnModel(bool convOutputShared) {
  OnnxBuilder b;
  b.input("x", onnx::TensorProto::FLOAT, {1, 2, 5, 5});
  std::vector<float> w(3 * 2 * 9);
  for (size_t i = 0; i < w.size(); ++i) w[i] = std::sin(0.7f * static_cast<float>(i));
  b.initFloat("w", {3, 2, 3, 3}, w);
  b.initFloat("cb", {3}, {0.1f, -0.2f, 0.3f});
  auto* c = b.node("Conv", {"x", "w", "cb"}, {"c"}, "conv");
  OnnxBuilder::attrInts(c, "pads", {1, 1, 1, 1});
  b.initFloat("g", {3}, {1.5f, 0.5f, 2.f});
  b.initFloat("be", {3}, {0.f, 1.f, -1.f});
  b.initFloat("mu", {3}, {0.2f, -0.1f, 0.f});
  b.initFloat("var", {3}, {1.f, 4.f, 0.25f});
  b.node("BatchNormalization", {"c", "g", "be", "mu", "var"}, {"n"}, "bn");
  b.node("Relu", {"n"}, {"y"}, "relu");
  b.output("y");
  if (convOutputShared) {
    b.node("Exp", {"c"}, {"z"}, "other");
    b.output("z");
  }
  return b;
}
}  // namespace

TEST(Passes, FoldBatchNormStructureAndNumbers) {
  auto folded = convBnModel(false).parse();
  auto plain = convBnModel(false).parse();
  ASSERT_TRUE(folded.isOk() && plain.isOk());
  bool changed = false;
  ASSERT_TRUE(makeFoldBatchNormPass()->run(**folded, changed).isOk());
  EXPECT_TRUE(changed);
  ASSERT_EQ((*folded)->layers().size(), 2u);
  EXPECT_EQ((*folded)->layers()[0].name, "conv + bn");
  EXPECT_EQ((*folded)->layers()[0].origins, (std::vector<std::string>{"conv", "bn"}));
  auto e0 = buildEngine(**plain, 0);
  auto e1 = buildEngine(**folded, 0);
  ASSERT_TRUE(e0.isOk() && e1.isOk());
  HostTensor x = iota({1, 2, 5, 5}, -1.f, 0.04f);
  auto y0 = runOne(**e0, "x", x, "y");
  auto y1 = runOne(**e1, "x", x, "y");
  ASSERT_TRUE(y0.isOk() && y1.isOk());
  for (int64_t i = 0; i < y0->numel(); ++i) EXPECT_NEAR(y0->as<float>()[i], y1->as<float>()[i], 1e-5) << i;
}

TEST(Passes, FoldBatchNormLeavesSharedConvOutputs) {
  auto net = convBnModel(true).parse();
  ASSERT_TRUE(net.isOk());
  bool changed = true;
  ASSERT_TRUE(makeFoldBatchNormPass()->run(**net, changed).isOk());
  EXPECT_FALSE(changed);
  EXPECT_EQ((*net)->layers().size(), 4u);
}

TEST(Passes, RemoveIdentityKeepsGraphOutputs) {
  OnnxBuilder b;
  b.input("x", onnx::TensorProto::FLOAT, {4});
  b.node("Identity", {"x"}, {"a"});
  b.node("Dropout", {"a"}, {"d0"});
  auto* cast = b.node("Cast", {"d0"}, {"d"});
  OnnxBuilder::attrInt(cast, "to", onnx::TensorProto::FLOAT);
  b.node("Relu", {"d"}, {"r"});
  b.node("Identity", {"r"}, {"y"});
  b.output("y");
  auto net = b.parse();
  ASSERT_TRUE(net.isOk());
  bool changed = false;
  ASSERT_TRUE(makeRemoveIdentityPass()->run(**net, changed).isOk());
  EXPECT_TRUE(changed);
  ASSERT_EQ((*net)->layers().size(), 2u);  // Relu reads x; the output Identity stays
  EXPECT_EQ((*net)->tensor((*net)->layers()[0].inputs[0]).name, "x");
  auto e = buildEngine(**net);
  ASSERT_TRUE(e.isOk());
  auto y = runOne(**e, "x", floats({4}, {-1, 2, -3, 4}), "y");
  ASSERT_TRUE(y.isOk());
  EXPECT_FLOAT_EQ(y->as<float>()[3], 4.f);
  EXPECT_FLOAT_EQ(y->as<float>()[0], 0.f);
}

namespace {
// y = GELU_erf(LayerNorm_decomposed(x)) in the two association orders exporters use.
OnnxBuilder transformerPieces(bool halfFirst) {
  OnnxBuilder b(13);
  b.input("x", onnx::TensorProto::FLOAT, {2, 3, 8});
  b.node("ReduceMean", {"x"}, {"m"}, "mean");
  OnnxBuilder::attrInts(b.g->mutable_node(b.g->node_size() - 1), "axes", {-1});
  b.node("Sub", {"x", "m"}, {"d"}, "sub");
  b.initFloat("two", {}, {2.f});
  b.node("Pow", {"d", "two"}, {"p"}, "pow");
  b.node("ReduceMean", {"p"}, {"v"}, "var");
  OnnxBuilder::attrInts(b.g->mutable_node(b.g->node_size() - 1), "axes", {-1});
  b.initFloat("eps", {}, {1e-5f});
  b.node("Add", {"v", "eps"}, {"ve"}, "addeps");
  b.node("Sqrt", {"ve"}, {"s"}, "sqrt");
  b.node("Div", {"d", "s"}, {"n"}, "div");
  std::vector<float> gamma(8), beta(8);
  for (int i = 0; i < 8; ++i) {
    gamma[i] = 1.f + 0.1f * static_cast<float>(i);
    beta[i] = 0.05f * static_cast<float>(i) - 0.2f;
  }
  b.initFloat("gamma", {8}, gamma);
  b.initFloat("beta", {8}, beta);
  b.node("Mul", {"n", "gamma"}, {"ng"}, "scale");
  b.node("Add", {"ng", "beta"}, {"h"}, "shift");
  b.initFloat("sqrt2", {}, {1.41421356f});
  b.initFloat("one", {}, {1.f});
  b.initFloat("half", {}, {0.5f});
  b.node("Div", {"h", "sqrt2"}, {"hs"}, "gdiv");
  b.node("Erf", {"hs"}, {"e"}, "erf");
  b.node("Add", {"e", "one"}, {"e1"}, "gadd");
  if (halfFirst) {
    b.node("Mul", {"h", "half"}, {"hh"}, "ghalf");
    b.node("Mul", {"hh", "e1"}, {"y"}, "gmul");
  } else {
    b.node("Mul", {"h", "e1"}, {"he"}, "gmul");
    b.node("Mul", {"he", "half"}, {"y"}, "ghalf");
  }
  b.output("y");
  return b;
}
}  // namespace

TEST(Passes, FuseLayerNormAndGeluStructureAndNumbers) {
  for (bool halfFirst : {false, true}) {
    auto fused = transformerPieces(halfFirst).parse();
    auto plain = transformerPieces(halfFirst).parse();
    ASSERT_TRUE(fused.isOk() && plain.isOk()) << fused.status().message();
    auto e3 = buildEngine(**fused, 3);
    auto e0 = buildEngine(**plain, 0);
    ASSERT_TRUE(e3.isOk() && e0.isOk()) << e3.status().message();
    const auto& layers = (*e3)->network().layers();
    ASSERT_EQ(layers.size(), 2u) << halfFirst;
    EXPECT_EQ(layers[0].type, "LayerNormalization");
    EXPECT_EQ(layers[0].origins.size(), 9u);
    EXPECT_EQ(layers[1].type, "Gelu");
    EXPECT_EQ(layers[1].origins.size(), 5u);
    HostTensor x = iota({2, 3, 8}, -2.f, 0.09f);
    auto y0 = runOne(**e0, "x", x, "y");
    auto y3 = runOne(**e3, "x", x, "y");
    ASSERT_TRUE(y0.isOk() && y3.isOk());
    for (int64_t i = 0; i < y0->numel(); ++i) EXPECT_NEAR(y0->as<float>()[i], y3->as<float>()[i], 2e-5) << i;
  }
}

TEST(Passes, FuseGeluNeedsTheRightConstants) {
  // x * 0.5 * (1 + erf(x / 2)): not GELU, must stay as it is.
  OnnxBuilder b(13);
  b.input("x", onnx::TensorProto::FLOAT, {4});
  b.initFloat("two", {}, {2.f});
  b.initFloat("one", {}, {1.f});
  b.initFloat("half", {}, {0.5f});
  b.node("Div", {"x", "two"}, {"xs"});
  b.node("Erf", {"xs"}, {"e"});
  b.node("Add", {"e", "one"}, {"e1"});
  b.node("Mul", {"x", "e1"}, {"m"});
  b.node("Mul", {"m", "half"}, {"y"});
  b.output("y");
  auto net = b.parse();
  ASSERT_TRUE(net.isOk());
  bool changed = true;
  ASSERT_TRUE(makeFuseGeluPass()->run(**net, changed).isOk());
  EXPECT_FALSE(changed);
  EXPECT_EQ((*net)->layers().size(), 5u);
}

TEST(Passes, SimplifyShapesCollapsesChains) {
  // x -> Transpose(0,2,1) -> Transpose(0,2,1) -> Reshape([6,4]) -> Reshape([4,6]) -> Reshape([4,6]) -> Relu
  OnnxBuilder b;
  b.input("x", onnx::TensorProto::FLOAT, {2, 3, 4});
  auto* t1 = b.node("Transpose", {"x"}, {"t1"});
  OnnxBuilder::attrInts(t1, "perm", {0, 2, 1});
  auto* t2 = b.node("Transpose", {"t1"}, {"t2"});
  OnnxBuilder::attrInts(t2, "perm", {0, 2, 1});
  b.initInt64("s64", {2}, {6, 4});
  b.initInt64("s46", {2}, {4, 6});
  b.node("Reshape", {"t2", "s64"}, {"r1"});
  b.node("Reshape", {"r1", "s46"}, {"r2"});
  b.node("Reshape", {"r2", "s46"}, {"r3"});
  b.node("Relu", {"r3"}, {"y"});
  b.output("y");
  auto a = b.parse();
  auto c = b.parse();
  ASSERT_TRUE(a.isOk() && c.isOk());
  auto e3 = buildEngine(**a, 3);
  auto e0 = buildEngine(**c, 0);
  ASSERT_TRUE(e3.isOk() && e0.isOk()) << e3.status().message();
  std::vector<std::string> types;
  for (const Layer& l : (*e3)->network().layers()) types.push_back(l.type);
  EXPECT_EQ(types, (std::vector<std::string>{"Reshape", "Relu"}));
  HostTensor x = iota({2, 3, 4}, -5.f, 0.5f);
  auto y0 = runOne(**e0, "x", x, "y");
  auto y3 = runOne(**e3, "x", x, "y");
  ASSERT_TRUE(y0.isOk() && y3.isOk());
  ASSERT_EQ(y0->dims(), y3->dims());
  for (int64_t i = 0; i < y0->numel(); ++i) EXPECT_FLOAT_EQ(y0->as<float>()[i], y3->as<float>()[i]);
}

TEST(Passes, SimplifyShapesKeepsCopyingReshapes) {
  // the second Reshape copies dim 0 (value 0) from its input: it cannot skip the first
  OnnxBuilder b;
  b.input("x", onnx::TensorProto::FLOAT, {2, 6});
  b.initInt64("a", {2}, {3, 4});
  b.initInt64("z", {3}, {0, 2, -1});
  b.node("Reshape", {"x", "a"}, {"r1"});
  b.node("Reshape", {"r1", "z"}, {"y"});
  b.node("Relu", {"y"}, {"out"});
  b.output("out");
  auto net = b.parse();
  ASSERT_TRUE(net.isOk());
  ASSERT_TRUE(inferNetworkShapes(**net).isOk());  // the builder runs passes on inferred shapes
  bool changed = true;
  ASSERT_TRUE(makeSimplifyShapesPass()->run(**net, changed).isOk());
  EXPECT_FALSE(changed);
}

namespace {
// Two blocks of one dynamic-shape computation as exporters write it: each block measures its own
// tensors (Shape of a Tanh, and of a Transpose that is there only to be measured), builds its
// Reshape targets from those dims, and slices from seq - seq.
OnnxBuilder shapeChainsModel() {
  OnnxBuilder b;
  b.input("x", onnx::TensorProto::FLOAT, {-1, -1, 8}, {"batch", "seq"});
  b.initInt64("i0", {}, {0});
  b.initInt64("i1", {}, {1});
  b.initInt64("i2", {}, {2});
  b.initInt64("axes", {1}, {0});
  b.initInt64("c2", {1}, {2});
  b.initInt64("c4", {1}, {4});
  b.initInt64("c8", {1}, {8});
  b.initInt64("end", {1}, {1000});
  b.initInt64("axis1", {1}, {1});
  std::string t = "x";
  for (int k = 0; k < 2; ++k) {
    const std::string p = "b" + std::to_string(k) + "_";
    b.node("Tanh", {t}, {p + "e"}, p + "tanh");
    auto* tr = b.node("Transpose", {p + "e"}, {p + "m"}, p + "measured");
    OnnxBuilder::attrInts(tr, "perm", {0, 2, 1});
    b.node("Shape", {p + "m"}, {p + "sm"}, p + "shape_m");
    b.node("Shape", {p + "e"}, {p + "s"}, p + "shape_e");
    b.node("Gather", {p + "s", "i0"}, {p + "g0"}, p + "gather0");
    b.node("Gather", {p + "sm", "i2"}, {p + "g1"}, p + "gather_seq");
    b.node("Gather", {p + "s", "i1"}, {p + "g1b"}, p + "gather_seq2");
    b.node("Unsqueeze", {p + "g0", "axes"}, {p + "u0"}, p + "unsq0");
    b.node("Unsqueeze", {p + "g1", "axes"}, {p + "u1"}, p + "unsq1");
    b.node("Unsqueeze", {p + "g1b", "axes"}, {p + "u1b"}, p + "unsq1b");
    OnnxBuilder::attrInt(b.node("Concat", {p + "u0", p + "u1", "c2", "c4"}, {p + "tgt"}, p + "target"),
                         "axis", 0);
    b.node("Reshape", {p + "e", p + "tgt"}, {p + "r"}, p + "split_heads");
    b.node("Sub", {p + "u1", p + "u1b"}, {p + "off"}, p + "offset");
    b.node("Slice", {p + "r", p + "off", "end", "axis1"}, {p + "sl"}, p + "slice");
    OnnxBuilder::attrInt(b.node("Concat", {p + "u0", p + "u1", "c8"}, {p + "tgt2"}, p + "target2"), "axis",
                         0);
    b.node("Reshape", {p + "sl", p + "tgt2"}, {p + "back"}, p + "merge_heads");
    b.node("Add", {p + "back", t}, {k == 1 ? "y" : p + "y"}, p + "residual");
    t = p + "y";
  }
  b.output("y");
  return b;
}
}  // namespace

TEST(Passes, ResolveShapeValuesStructureAndNumbers) {
  auto net = shapeChainsModel().parse();
  ASSERT_TRUE(net.isOk()) << net.status().message();
  ASSERT_TRUE(inferNetworkShapes(**net).isOk());
  bool changed = false;
  ASSERT_TRUE(makeResolveShapeValuesPass()->run(**net, changed).isOk());
  EXPECT_TRUE(changed);
  ASSERT_TRUE(makeCsePass()->run(**net, changed).isOk());
  ASSERT_TRUE(makeDeadCodePass()->run(**net, changed).isOk());
  int shapes = 0;
  for (const Layer& l : (*net)->layers()) {
    EXPECT_NE(l.type, "Transpose") << "measured only: dead";
    EXPECT_NE(l.type, "Sub") << "seq - seq is the constant 0";
    if (l.type != "Shape") continue;
    ++shapes;
    EXPECT_TRUE((*net)->tensor(l.inputs[0]).isInput) << l.name;
  }
  EXPECT_EQ(shapes, 1) << "one Shape, of the input, for both blocks";
  // the blocks' Reshape targets are one tensor now, and the merge Reshape keeps the symbols
  std::vector<int> targets;
  for (const Layer& l : (*net)->layers())
    if (l.type == "Reshape" && l.name.find("split_heads") != std::string::npos)
      targets.push_back(l.inputs[1]);
  ASSERT_EQ(targets.size(), 2u);
  EXPECT_EQ(targets[0], targets[1]);
  const Shape& y = (*net)->tensor((*net)->outputs()[0]).shape;
  ASSERT_EQ(y.size(), 3u);
  EXPECT_EQ(y[0].symbol, "batch");
  EXPECT_EQ(y[1].symbol, "seq");
  // a second run finds nothing left to resolve
  ASSERT_TRUE(makeResolveShapeValuesPass()->run(**net, changed).isOk());
  EXPECT_FALSE(changed);
  // numbers: the whole pipeline against none, at two shapes of the one engine
  auto plain = shapeChainsModel().parse();
  auto opt = shapeChainsModel().parse();
  ASSERT_TRUE(plain.isOk() && opt.isOk());
  auto e0 = buildEngine(**plain, 0);
  auto e3 = buildEngine(**opt, 3);
  ASSERT_TRUE(e0.isOk() && e3.isOk()) << (e0.isOk() ? e3.status().message() : e0.status().message());
  EXPECT_LT((*e3)->network().layers().size(), (*e0)->network().layers().size());
  expectSameOutput(**e0, **e3, iota({2, 3, 8}, -1.f, 0.03f), 1e-6f);
  expectSameOutput(**e0, **e3, iota({1, 5, 8}, -2.f, 0.05f), 1e-6f);
}

TEST(Passes, ResolveShapeValuesLeavesUnnamedDims) {
  // Range(1, seq): seq - 1 elements, a dim with no name; the Shape of what it reaches stays, and
  // so does a Shape of the input itself
  OnnxBuilder b;
  b.input("x", onnx::TensorProto::FLOAT, {-1, -1}, {"batch", "seq"});
  b.initInt64("i1", {}, {1});
  b.node("Shape", {"x"}, {"s"}, "shape_x");
  b.node("Gather", {"s", "i1"}, {"n"}, "seq");
  b.node("Range", {"i1", "n", "i1"}, {"r"}, "range");
  auto* c = b.node("Cast", {"r"}, {"rf"}, "cast");
  OnnxBuilder::attrInt(c, "to", onnx::TensorProto::FLOAT);
  b.node("Tanh", {"rf"}, {"e"}, "tanh");
  b.node("Shape", {"e"}, {"se"}, "shape_e");
  b.node("Reshape", {"e", "se"}, {"y"}, "reshape");
  b.output("y");
  auto net = b.parse();
  ASSERT_TRUE(net.isOk()) << net.status().message();
  ASSERT_TRUE(inferNetworkShapes(**net).isOk());
  bool changed = true;
  ASSERT_TRUE(makeResolveShapeValuesPass()->run(**net, changed).isOk());
  EXPECT_FALSE(changed);
  int shapes = 0;
  for (const Layer& l : (*net)->layers()) shapes += l.type == "Shape";
  EXPECT_EQ(shapes, 2);
}

TEST(Passes, CseMergesDuplicateLayers) {
  OnnxBuilder b;
  b.input("x", onnx::TensorProto::FLOAT, {4});
  b.node("Exp", {"x"}, {"a"});
  b.node("Exp", {"x"}, {"b"});
  b.node("Add", {"a", "b"}, {"y"});
  b.output("y");
  auto net = b.parse();
  ASSERT_TRUE(net.isOk());
  bool changed = false;
  ASSERT_TRUE(makeCsePass()->run(**net, changed).isOk());
  EXPECT_TRUE(changed);
  ASSERT_EQ((*net)->layers().size(), 2u);
  EXPECT_EQ((*net)->layers()[1].inputs[0], (*net)->layers()[1].inputs[1]);
  auto e = buildEngine(**net);
  ASSERT_TRUE(e.isOk());
  auto y = runOne(**e, "x", floats({4}, {0, 1, 2, 3}), "y");
  ASSERT_TRUE(y.isOk());
  EXPECT_NEAR(y->as<float>()[1], 2 * std::exp(1.f), 1e-5);
}

namespace {
// x -> Conv -> [Add(., r)] -> act -> y, where r = Conv2(x) (same shape); `act` is one of Relu,
// Clip, LeakyRelu, or "Silu" written as Mul(t, Sigmoid(t)).
OnnxBuilder convActModel(const std::string& act, bool residual, bool shareConvOutput = false) {
  OnnxBuilder b;
  b.input("x", onnx::TensorProto::FLOAT, {2, 3, 6, 6});
  std::vector<float> w(4 * 3 * 9), w2(4 * 3);
  for (size_t i = 0; i < w.size(); ++i) w[i] = 0.3f * std::sin(0.37f * static_cast<float>(i));
  for (size_t i = 0; i < w2.size(); ++i) w2[i] = 0.5f * std::cos(0.61f * static_cast<float>(i));
  b.initFloat("w", {4, 3, 3, 3}, w);
  b.initFloat("b", {4}, {0.1f, -0.2f, 0.3f, 0.05f});
  b.initFloat("w2", {4, 3, 1, 1}, w2);
  auto* c = b.node("Conv", {"x", "w", "b"}, {"c"}, "conv");
  OnnxBuilder::attrInts(c, "pads", {1, 1, 1, 1});
  std::string t = "c";
  if (residual) {
    b.node("Conv", {"x", "w2"}, {"r"}, "conv2");
    b.node("Add", {"c", "r"}, {"s"}, "add");
    t = "s";
  }
  if (act == "Silu") {
    b.node("Sigmoid", {t}, {"sg"}, "sigmoid");
    b.node("Mul", {t, "sg"}, {"y"}, "mul");
  } else if (act == "Clip") {
    b.initFloat("lo", {}, {0.f});
    b.initFloat("hi", {}, {0.4f});
    b.node("Clip", {t, "lo", "hi"}, {"y"}, "clip");
  } else {
    auto* a = b.node(act, {t}, {"y"}, "act");
    if (act == "LeakyRelu") OnnxBuilder::attrFloat(a, "alpha", 0.2f);
  }
  b.output("y");
  if (shareConvOutput) {
    b.node("Exp", {"c"}, {"z"}, "other");
    b.output("z");
  }
  return b;
}
}  // namespace

TEST(Passes, FuseConvStructureAndNumbers) {
  for (const std::string act : {"Relu", "Silu", "Clip", "LeakyRelu", "Sigmoid"}) {
    for (bool residual : {false, true}) {
      SCOPED_TRACE(act + (residual ? " with residual" : ""));
      auto fused = convActModel(act, residual).parse();
      auto plain = convActModel(act, residual).parse();
      ASSERT_TRUE(fused.isOk() && plain.isOk());
      ASSERT_TRUE(inferNetworkShapes(**fused, evaluateOnHost).isOk());
      bool changed = false;
      ASSERT_TRUE(makeFuseConvPass()->run(**fused, changed).isOk());
      EXPECT_TRUE(changed);
      // residual: conv2 stays, conv + add + act become one layer
      ASSERT_EQ((*fused)->layers().size(), residual ? 2u : 1u);
      const Layer& f = (*fused)->layers().back();
      EXPECT_EQ(f.type, "FusedConv");
      EXPECT_EQ(f.attrs.getString("activation"), act);
      EXPECT_EQ(f.inputs.size(), residual ? 4u : 3u);
      EXPECT_EQ(f.origins.front(), "conv");
      auto e0 = buildEngine(**plain, 0);
      auto e1 = buildEngine(**fused, 0);
      auto e2 = buildEngine(**convActModel(act, residual).parse(), 3, "nhwc");  // NHWC reference path
      ASSERT_TRUE(e0.isOk() && e1.isOk() && e2.isOk());
      HostTensor x = iota({2, 3, 6, 6}, -1.5f, 0.013f);
      auto y0 = runOne(**e0, "x", x, "y");
      auto y1 = runOne(**e1, "x", x, "y");
      auto y2 = runOne(**e2, "x", x, "y");
      ASSERT_TRUE(y0.isOk() && y1.isOk() && y2.isOk());
      for (int64_t i = 0; i < y0->numel(); ++i) {
        EXPECT_NEAR(y0->as<float>()[i], y1->as<float>()[i], 1e-5) << i;
        EXPECT_NEAR(y0->as<float>()[i], y2->as<float>()[i], 1e-5) << i;
      }
    }
  }
}

// fuse-conv takes a residual Add after the activation into the convolution (z_after_activation):
// y = act(conv(x) + b) + z; the CPU computes what the unfused graph does, channels first and last.
TEST(Passes, FuseConvResidualAfterActivation) {
  for (const std::string act : {"Silu", "Relu"}) {
    SCOPED_TRACE(act);
    auto fused = bottleneckModel(act).parse();
    ASSERT_TRUE(fused.isOk());
    ASSERT_TRUE(inferNetworkShapes(**fused, evaluateOnHost).isOk());
    bool changed = false;
    ASSERT_TRUE(makeFuseConvPass()->run(**fused, changed).isOk());
    EXPECT_TRUE(changed);
    ASSERT_EQ((*fused)->layers().size(), 2u);
    const Layer& f = (*fused)->layers().back();
    EXPECT_EQ(f.type, "FusedConv");
    EXPECT_EQ(f.attrs.getString("activation"), act);
    EXPECT_EQ(f.attrs.getInt("z_after_activation", 0), 1);
    ASSERT_EQ(f.inputs.size(), 4u);
    EXPECT_EQ(f.inputs[3], (*fused)->layers().front().outputs[0]);
    EXPECT_NE(f.name.find("add"), std::string::npos);
    auto plain = bottleneckModel(act).parse();
    ASSERT_TRUE(plain.isOk());
    auto e0 = buildEngine(**plain, 0);
    auto e1 = buildEngine(**fused, 0);
    auto e2 = buildEngine(**bottleneckModel(act).parse(), 3, "nhwc");
    ASSERT_TRUE(e0.isOk() && e1.isOk() && e2.isOk());
    HostTensor x = iota({2, 4, 6, 7}, -1.5f, 0.011f);
    auto y0 = runOne(**e0, "x", x, "y");
    auto y1 = runOne(**e1, "x", x, "y");
    auto y2 = runOne(**e2, "x", x, "y");
    ASSERT_TRUE(y0.isOk() && y1.isOk() && y2.isOk());
    for (int64_t i = 0; i < y0->numel(); ++i) {
      EXPECT_NEAR(y0->as<float>()[i], y1->as<float>()[i], 1e-5) << i;
      EXPECT_NEAR(y0->as<float>()[i], y2->as<float>()[i], 1e-5) << i;
    }
  }
  // The activation's output read elsewhere too: the Add stays.
  OnnxBuilder b = bottleneckModel("Relu");
  b.node("Exp", {"a2"}, {"e"}, "other");
  b.output("e");
  auto net = b.parse();
  ASSERT_TRUE(net.isOk());
  ASSERT_TRUE(inferNetworkShapes(**net, evaluateOnHost).isOk());
  bool changed = false;
  ASSERT_TRUE(makeFuseConvPass()->run(**net, changed).isOk());
  int adds = 0;
  for (const Layer& l : (*net)->layers()) adds += l.type == "Add";
  EXPECT_EQ(adds, 1);
}

namespace {
// `ref` and the layout-assigned `laid` (convActModel's x -> y), each built as it is (opt level 0,
// layout nchw leaves an assignment alone), compute the same y.
void expectLayoutKeepsOutputs(Network& ref, Network& laid) {
  auto e0 = buildEngine(ref, 0, "nchw");
  auto e1 = buildEngine(laid, 0, "nchw");
  ASSERT_TRUE(e0.isOk() && e1.isOk()) << (e1.isOk() ? "" : e1.status().message());
  HostTensor x = iota({2, 3, 6, 6}, -1.2f, 0.017f);
  auto y0 = runOne(**e0, "x", x, "y");
  auto y1 = runOne(**e1, "x", x, "y");
  ASSERT_TRUE(y0.isOk() && y1.isOk());
  for (int64_t i = 0; i < y0->numel(); ++i) EXPECT_NEAR(y0->as<float>()[i], y1->as<float>()[i], 1e-5) << i;
}
}  // namespace

// Per-layer layouts: a convolution named in keepNchw stays NCHW while the others turn NHWC, with
// reformats between them; the mixed network computes what the NCHW one does.
TEST(Passes, LayoutKeepsNamedConvolutionsNchw) {
  const Backend* cpu = findBackend("cpu");
  ASSERT_NE(cpu, nullptr);
  auto ref = convActModel("Relu", true).parse();
  auto mixed = convActModel("Relu", true).parse();
  ASSERT_TRUE(ref.isOk() && mixed.isOk());
  ASSERT_TRUE(inferNetworkShapes(**mixed, evaluateOnHost).isOk());
  ASSERT_TRUE(assignLayouts(**mixed, *cpu, "nhwc", {"conv2"}).isOk());
  int nhwcConvs = 0, nchwConvs = 0, reformats = 0;
  for (const Layer& l : (*mixed)->layers()) {
    if (l.type == "Transpose") ++reformats;
    if (l.type != "Conv" && l.type != "FusedConv") continue;
    const bool nhwc = l.attrs.getString("layout", "NCHW") == "NHWC";
    EXPECT_EQ(nhwc, l.name == "conv") << l.name;
    ++(nhwc ? nhwcConvs : nchwConvs);
  }
  EXPECT_EQ(nhwcConvs, 1);
  EXPECT_EQ(nchwConvs, 1);
  EXPECT_GE(reformats, 2);  // x into the NHWC conv, its output back for the NCHW Add
  // negative case: nothing named, every convolution turns NHWC
  auto all = convActModel("Relu", true).parse();
  ASSERT_TRUE(all.isOk() && inferNetworkShapes(**all, evaluateOnHost).isOk());
  ASSERT_TRUE(assignLayouts(**all, *cpu, "nhwc").isOk());
  for (const Layer& l : (*all)->layers())
    if (l.type == "FusedConv") {
      EXPECT_EQ(l.attrs.getString("layout", "NCHW"), "NHWC") << l.name;
    }
  // numeric: built as they are (layout nchw leaves the assignment alone)
  expectLayoutKeepsOutputs(**ref, **mixed);
}

// Few input channels: with padChannelsTo 8, the NHWC convolutions reading the 3-channel x read
// it through one Pad to 8 channels (shared), with zero input channels in their OHWI weights; the
// result is unchanged. Negative: without padChannelsTo, no Pad and 3-channel weights.
TEST(Passes, LayoutPadsFewChannelInputs) {
  const Backend* cpu = findBackend("cpu");
  ASSERT_NE(cpu, nullptr);
  auto ref = convActModel("Relu", true).parse();
  auto padded = convActModel("Relu", true).parse();
  auto plain = convActModel("Relu", true).parse();
  ASSERT_TRUE(ref.isOk() && padded.isOk() && plain.isOk());
  ASSERT_TRUE(inferNetworkShapes(**padded, evaluateOnHost).isOk());
  ASSERT_TRUE(inferNetworkShapes(**plain, evaluateOnHost).isOk());
  ASSERT_TRUE(assignLayouts(**padded, *cpu, "nhwc", {}, 8).isOk());
  ASSERT_TRUE(assignLayouts(**plain, *cpu, "nhwc").isOk());
  for (bool pad : {true, false}) {
    const Network& n = pad ? **padded : **plain;
    int pads = 0, convs = 0;
    for (const Layer& l : n.layers()) {
      if (l.type == "Pad") {
        ++pads;
        EXPECT_EQ(l.name.rfind("reformat_pad", 0), 0u) << l.name;
      }
      if (l.type != "FusedConv") continue;
      ++convs;
      const Dims w = n.tensor(l.inputs[1]).constant->dims();
      EXPECT_EQ(w[3], pad ? 8 : 3) << l.name;
      EXPECT_EQ(n.tensor(l.inputs[0]).shape[3].value, pad ? 8 : 3) << l.name;
    }
    EXPECT_EQ(convs, 2);
    EXPECT_EQ(pads, pad ? 1 : 0);
  }
  expectLayoutKeepsOutputs(**ref, **padded);
}

// Space-to-depth stems: with padChannelsTo 8 and spaceToDepthStems, a 6x6 stride-2 convolution of
// a 3-channel input (YOLOv5's stem; symmetric pads 2 and asymmetric even pads) reads x as 2x2
// blocks: a Reshape view, a "reformat_s2d" Transpose, a Pad of its 6-D output from 3 to 4 channels
// per 2x2 position, a view, and a 3x3 stride-1 NHWC convolution with half the pads and [8, 3, 3, 16]
// weights; the CPU computes what the NCHW network does, also after fold-transpose-into-pad has made
// the Transpose and the Pad one gathering Pad. Negative: an odd kernel (3x3 stride 2) and odd pads take the
// plain 8-channel pad.
TEST(Passes, LayoutSpaceToDepthStems) {
  const Backend* cpu = findBackend("cpu");
  ASSERT_NE(cpu, nullptr);
  auto model = [](int64_t k, std::vector<int64_t> pads) {
    OnnxBuilder b;
    b.input("x", onnx::TensorProto::FLOAT, {2, 3, 12, 16});
    std::vector<float> w(8 * 3 * k * k);
    for (size_t i = 0; i < w.size(); ++i) w[i] = 0.2f * std::sin(0.37f * static_cast<float>(i));
    b.initFloat("w", {8, 3, k, k}, w);
    b.initFloat("b", {8}, {0.1f, -0.2f, 0.3f, 0.05f, 0.f, -0.1f, 0.2f, 0.4f});
    auto* c = b.node("Conv", {"x", "w", "b"}, {"c"}, "stem");
    OnnxBuilder::attrInts(c, "pads", pads);
    OnnxBuilder::attrInts(c, "strides", {2, 2});
    b.node("Sigmoid", {"c"}, {"sg"}, "sigmoid");
    b.node("Mul", {"c", "sg"}, {"y"}, "mul");
    b.output("y");
    return b;
  };
  struct Case {
    int64_t k;
    std::vector<int64_t> pads;
    bool blocks;
  };
  for (const Case& cs : {Case{6, {2, 2, 2, 2}, true}, Case{6, {2, 0, 0, 2}, true},
                         Case{3, {1, 1, 1, 1}, false}, Case{6, {1, 1, 1, 1}, false}}) {
    SCOPED_TRACE("kernel " + std::to_string(cs.k) + " pads " + std::to_string(cs.pads[0]) +
                 std::to_string(cs.pads[1]) + std::to_string(cs.pads[2]) + std::to_string(cs.pads[3]));
    auto ref = model(cs.k, cs.pads).parse();
    auto laid = model(cs.k, cs.pads).parse();
    ASSERT_TRUE(ref.isOk() && laid.isOk());
    ASSERT_TRUE(inferNetworkShapes(**laid, evaluateOnHost).isOk());
    ASSERT_TRUE(assignLayouts(**laid, *cpu, "nhwc", {}, 8, true).isOk());
    ASSERT_TRUE(inferNetworkShapes(**laid, evaluateOnHost).isOk());
    int s2d = 0, pads = 0;
    const Layer* conv = nullptr;
    for (const Layer& l : (*laid)->layers()) {
      s2d += l.type == "Transpose" && l.name.rfind("reformat_s2d_", 0) == 0;
      pads += l.type == "Pad";
      if (l.type == "FusedConv") conv = &l;
    }
    ASSERT_NE(conv, nullptr);
    EXPECT_EQ(pads, 1);
    EXPECT_EQ(s2d, cs.blocks ? 1 : 0);
    const Dims w = (*laid)->tensor(conv->inputs[1]).constant->dims();
    if (cs.blocks) {
      EXPECT_EQ(w, (Dims{8, 3, 3, 16}));
      EXPECT_EQ(conv->attrs.getInts("strides"), (std::vector<int64_t>{1, 1}));
      EXPECT_EQ(conv->attrs.getInts("pads"),
                (std::vector<int64_t>{cs.pads[0] / 2, cs.pads[1] / 2, cs.pads[2] / 2, cs.pads[3] / 2}));
      EXPECT_EQ(shapeToString((*laid)->tensor(conv->inputs[0]).shape), "[2,6,8,16]");
    } else {
      EXPECT_EQ(w, (Dims{8, cs.k, cs.k, 8}));
    }
    auto e0 = buildEngine(**ref, 0, "nchw");
    auto e1 = buildEngine(**laid, 0, "nchw");
    ASSERT_TRUE(e0.isOk() && e1.isOk()) << (e1.isOk() ? "" : e1.status().message());
    expectSameOutput(**e0, **e1, iota({2, 3, 12, 16}, -1.2f, 0.0061f), 1e-5f);
    if (!cs.blocks) continue;
    // The blocks' 3 channels are padded to 4 per 2x2 position (a Pad of the 6-D Transpose's output),
    // which fold-transpose-into-pad makes one Pad reading x's view through input_perm.
    bool changed = false;
    ASSERT_TRUE(makeFoldTransposeIntoPadPass()->run(**laid, changed).isOk());
    EXPECT_TRUE(changed);
    ASSERT_TRUE(inferNetworkShapes(**laid, evaluateOnHost).isOk());
    int transposes = 0, gathering = 0;
    for (const Layer& l : (*laid)->layers()) {
      transposes += l.type == "Transpose" && l.name.rfind("reformat_s2d_", 0) == 0;
      gathering += l.type == "Pad" && l.attrs.getInts("input_perm", {}).size() == 6;
    }
    EXPECT_EQ(transposes, 0);
    EXPECT_EQ(gathering, 1);
    auto e2 = buildEngine(**laid, 0, "nchw");
    ASSERT_TRUE(e2.isOk()) << e2.status().message();
    expectSameOutput(**e0, **e2, iota({2, 3, 12, 16}, -1.2f, 0.0061f), 1e-5f);
  }
}

// fuse-cast-transpose: Cast(fp16) -> Transpose becomes one converting Transpose ("to"), and so does
// Transpose -> Cast(fp32); same numbers. Negative: an intermediate read twice, an integer Cast.
TEST(Passes, FuseCastTransposeStructureAndNumbers) {
  auto model = [](bool shared, bool integer) {
    OnnxBuilder b;
    b.input("x", onnx::TensorProto::FLOAT, {2, 3, 4, 5});
    b.node("Cast", {"x"}, {"h"}, "to_half")->add_attribute()->CopyFrom([&] {
      onnx::AttributeProto a;
      a.set_name("to");
      a.set_type(onnx::AttributeProto::INT);
      a.set_i(integer ? onnx::TensorProto::INT32 : onnx::TensorProto::FLOAT16);
      return a;
    }());
    auto* t = b.node("Transpose", {"h"}, {"t"}, "to_nhwc");
    OnnxBuilder::attrInts(t, "perm", {0, 2, 3, 1});
    auto* c = b.node("Cast", {"t"}, {"y"}, "to_float");
    onnx::AttributeProto a;
    a.set_name("to");
    a.set_type(onnx::AttributeProto::INT);
    a.set_i(onnx::TensorProto::FLOAT);
    c->add_attribute()->CopyFrom(a);
    b.output("y");
    if (shared) {
      b.node("Identity", {"h"}, {"z"}, "other");
      b.output("z");
    }
    return b;
  };
  auto fused = model(false, false).parse();
  auto plain = model(false, false).parse();
  ASSERT_TRUE(fused.isOk() && plain.isOk());
  ASSERT_TRUE(inferNetworkShapes(**fused, evaluateOnHost).isOk());
  bool changed = false;
  ASSERT_TRUE(makeFuseCastTransposePass()->run(**fused, changed).isOk());
  EXPECT_TRUE(changed);
  ASSERT_TRUE(inferNetworkShapes(**fused, evaluateOnHost).isOk());
  // Cast + Transpose fused; the trailing Cast stays (its Transpose already converts)
  ASSERT_EQ((*fused)->layers().size(), 2u);
  const Layer& f = (*fused)->layers()[0];
  EXPECT_EQ(f.type, "Transpose");
  EXPECT_EQ(f.attrs.getString("to"), "float16");
  EXPECT_EQ(f.name, "to_half + to_nhwc");
  EXPECT_EQ((*fused)->tensor(f.outputs[0]).type, DataType::kFloat16);
  auto e0 = buildEngine(**plain, 0);
  auto e1 = buildEngine(**fused, 0);
  ASSERT_TRUE(e0.isOk() && e1.isOk()) << (e1.isOk() ? "" : e1.status().message());
  HostTensor x = iota({2, 3, 4, 5}, -1.5f, 0.031f);
  auto y0 = runOne(**e0, "x", x, "y");
  auto y1 = runOne(**e1, "x", x, "y");
  ASSERT_TRUE(y0.isOk() && y1.isOk());
  ASSERT_EQ(y0->dims(), y1->dims());
  for (int64_t i = 0; i < y0->numel(); ++i) EXPECT_EQ(y0->as<float>()[i], y1->as<float>()[i]) << i;
  // Transpose -> Cast alone (no Cast before it): fused the other way round.
  {
    OnnxBuilder b;
    b.input("x", onnx::TensorProto::FLOAT, {2, 3, 4});
    auto* t = b.node("Transpose", {"x"}, {"t"}, "swap");
    OnnxBuilder::attrInts(t, "perm", {2, 0, 1});
    auto* c = b.node("Cast", {"t"}, {"y"}, "to_half");
    onnx::AttributeProto a;
    a.set_name("to");
    a.set_type(onnx::AttributeProto::INT);
    a.set_i(onnx::TensorProto::FLOAT16);
    c->add_attribute()->CopyFrom(a);
    b.output("y");
    auto net = b.parse();
    ASSERT_TRUE(net.isOk() && inferNetworkShapes(**net, evaluateOnHost).isOk());
    bool ch = false;
    ASSERT_TRUE(makeFuseCastTransposePass()->run(**net, ch).isOk());
    EXPECT_TRUE(ch);
    ASSERT_EQ((*net)->layers().size(), 1u);
    EXPECT_EQ((*net)->layers()[0].name, "swap + to_half");
    EXPECT_EQ((*net)->layers()[0].attrs.getString("to"), "float16");
  }
  for (auto [shared, integer] : {std::pair{true, false}, std::pair{false, true}}) {
    auto net = model(shared, integer).parse();
    ASSERT_TRUE(net.isOk() && inferNetworkShapes(**net, evaluateOnHost).isOk());
    const size_t before = (*net)->layers().size();
    bool ch = true;
    ASSERT_TRUE(makeFuseCastTransposePass()->run(**net, ch).isOk());
    // shared: the first Cast's output is read twice, only Transpose -> Cast(fp32) may fuse;
    // integer: int32 is not a float pair for the first, and the second Cast widens int32 -> fp32
    for (const Layer& l : (*net)->layers()) EXPECT_NE(l.name, "to_half + to_nhwc") << shared << integer;
    EXPECT_LE((*net)->layers().size(), before);
  }
}

TEST(Passes, FuseConvLeavesSharedOutputsAndBroadcasts) {
  // The conv output also feeds another layer: nothing fuses.
  auto net = convActModel("Relu", false, true).parse();
  ASSERT_TRUE(net.isOk());
  ASSERT_TRUE(inferNetworkShapes(**net, evaluateOnHost).isOk());
  bool changed = true;
  ASSERT_TRUE(makeFuseConvPass()->run(**net, changed).isOk());
  EXPECT_FALSE(changed);
  // A broadcasting Add is not a residual: Conv + per-channel Add stays two layers.
  OnnxBuilder b;
  b.input("x", onnx::TensorProto::FLOAT, {1, 2, 4, 4});
  b.initFloat("w", {2, 2, 1, 1}, {1.f, 0.5f, -0.5f, 2.f});
  b.input("r", onnx::TensorProto::FLOAT, {1, 2, 1, 1});
  b.node("Conv", {"x", "w"}, {"c"}, "conv");
  b.node("Add", {"c", "r"}, {"y"}, "add");
  b.output("y");
  auto n2 = b.parse();
  ASSERT_TRUE(n2.isOk());
  ASSERT_TRUE(inferNetworkShapes(**n2, evaluateOnHost).isOk());
  ASSERT_TRUE(makeFuseConvPass()->run(**n2, changed).isOk());
  EXPECT_FALSE(changed);
}

namespace {
// y = NewGELU(x W + b) + r, GELU decomposed the way GPT-2 exports it; `residualFirst` puts the
// residual Add before the GELU instead (y = GELU(x W + b + r)).
OnnxBuilder linearGeluModel(bool residualFirst) {
  OnnxBuilder b;
  b.input("x", onnx::TensorProto::FLOAT, {2, 3, 8});
  b.input("r", onnx::TensorProto::FLOAT, {2, 3, 4});
  std::vector<float> w(8 * 4);
  for (size_t i = 0; i < w.size(); ++i) w[i] = 0.4f * std::sin(0.9f * static_cast<float>(i));
  b.initFloat("w", {8, 4}, w);
  b.initFloat("bias", {4}, {0.1f, -0.3f, 0.2f, 0.f});
  b.initFloat("three", {}, {3.f});
  b.initFloat("c1", {}, {0.044715f});
  b.initFloat("c2", {}, {0.7978845608f});
  b.initFloat("one", {}, {1.f});
  b.initFloat("half", {}, {0.5f});
  b.node("MatMul", {"x", "w"}, {"mm"}, "mm");
  b.node("Add", {"bias", "mm"}, {"h"}, "bias_add");
  std::string g = "h";
  if (residualFirst) {
    b.node("Add", {"h", "r"}, {"hr"}, "residual");
    g = "hr";
  }
  b.node("Pow", {g, "three"}, {"p"}, "pow");
  b.node("Mul", {"p", "c1"}, {"m"}, "mul_c1");
  b.node("Add", {g, "m"}, {"s"}, "add_x");
  b.node("Mul", {"s", "c2"}, {"u"}, "mul_c2");
  b.node("Tanh", {"u"}, {"t"}, "tanh");
  b.node("Mul", {g, "half"}, {"hx"}, "half_x");
  b.node("Add", {"t", "one"}, {"a"}, "add_one");
  b.node("Mul", {"hx", "a"}, residualFirst ? std::vector<std::string>{"y"} : std::vector<std::string>{"gl"},
         "gelu_out");
  if (!residualFirst) b.node("Add", {"gl", "r"}, {"y"}, "residual_after");
  b.output("y");
  return b;
}
}  // namespace

TEST(Passes, FuseTanhGeluAndMatMulEpilogue) {
  for (bool residualFirst : {true, false}) {
    SCOPED_TRACE(residualFirst ? "residual before GELU" : "residual after GELU");
    auto plain = linearGeluModel(residualFirst).parse();
    auto opt = linearGeluModel(residualFirst).parse();
    ASSERT_TRUE(plain.isOk() && opt.isOk());
    auto e0 = buildEngine(**plain, 0);
    auto e3 = buildEngine(**opt, 3);
    ASSERT_TRUE(e0.isOk() && e3.isOk());
    const auto& layers = (*e3)->network().layers();
    // residual first: one FusedMatMul (bias, Z, tanh-GELU); after: FusedMatMul(bias, GELU) + Add
    ASSERT_EQ(layers.size(), residualFirst ? 1u : 2u);
    EXPECT_EQ(layers[0].type, "FusedMatMul");
    EXPECT_EQ(layers[0].attrs.getString("activation"), "GeluTanh");
    EXPECT_EQ(layers[0].inputs.size(), residualFirst ? 4u : 3u);
    HostTensor x = iota({2, 3, 8}, -2.f, 0.09f), r = iota({2, 3, 4}, 1.f, -0.07f);
    auto run = [&](Engine& e) { return runAny(e, {{"x", &x}, {"r", &r}}, {2, 3, 4}); };
    auto y0 = run(**e0);
    auto y3 = run(**e3);
    ASSERT_TRUE(y0.isOk() && y3.isOk());
    for (int64_t i = 0; i < y0->numel(); ++i) EXPECT_NEAR(y0->as<float>()[i], y3->as<float>()[i], 1e-5) << i;
  }
}

TEST(Passes, FoldMatMulScaleIntoAlpha) {
  auto model = [] {
    OnnxBuilder b;
    b.input("q", onnx::TensorProto::FLOAT, {2, 3, 4});
    b.input("k", onnx::TensorProto::FLOAT, {2, 4, 3});
    b.initFloat("d", {}, {8.f});
    b.node("MatMul", {"q", "k"}, {"s"}, "scores");
    b.node("Div", {"s", "d"}, {"y"}, "scale");
    b.output("y");
    return b;
  };
  auto net = model().parse();
  ASSERT_TRUE(net.isOk());
  bool changed = false;
  ASSERT_TRUE(makeFoldMatMulScalePass()->run(**net, changed).isOk());
  EXPECT_TRUE(changed);
  ASSERT_EQ((*net)->layers().size(), 1u);
  EXPECT_FLOAT_EQ((*net)->layers()[0].attrs.getFloat("alpha", 1.f), 0.125f);
  // numbers: scaled product equals product / 8
  auto e0 = buildEngine(**model().parse(), 0);
  auto e1 = buildEngine(**net, 0);
  ASSERT_TRUE(e0.isOk() && e1.isOk());
  HostTensor q = iota({2, 3, 4}, -1.f, 0.1f), k = iota({2, 4, 3}, 0.5f, -0.05f);
  auto run = [&](Engine& e) { return runAny(e, {{"q", &q}, {"k", &k}}, {2, 3, 3}); };
  auto y0 = run(**e0), y1 = run(**e1);
  ASSERT_TRUE(y0.isOk() && y1.isOk());
  for (int64_t i = 0; i < y0->numel(); ++i) EXPECT_NEAR(y0->as<float>()[i], y1->as<float>()[i], 1e-6) << i;
  // a non-scalar divisor does not fold
  auto other = model().parse();
  ASSERT_TRUE(other.isOk());
  (*other)->tensor((*other)->layers()[1].inputs[1]).constant =
      std::make_shared<HostTensor>(iota({3}, 1.f, 1.f));
  ASSERT_TRUE(makeFoldMatMulScalePass()->run(**other, changed).isOk());
  EXPECT_FALSE(changed);
}

namespace {

// BERT-style attention on [2, 5, 2*4] with an additive mask; `exposeProbs` also outputs the softmax.
OnnxBuilder attentionModel(bool exposeProbs) {
  OnnxBuilder b;
  for (const char* n : {"q", "k", "v"}) b.input(n, onnx::TensorProto::FLOAT, {2, 5, 8});
  b.input("mask", onnx::TensorProto::FLOAT, {2, 1, 1, 5});
  b.initInt64("hs", {2, 5, 2, 4});
  b.initInt64("os", {2, 5, 8});
  b.initFloat("sd", {}, {2.f});
  splitHeads(b);
  b.node("MatMul", {"q_t", "k_t"}, {"s"}, "scores");
  b.node("Div", {"s", "sd"}, {"s2"}, "scale");
  b.node("Add", {"s2", "mask"}, {"s3"}, "mask_add");
  OnnxBuilder::attrInt(b.node("Softmax", {"s3"}, {"p"}, "softmax"), "axis", -1);
  b.node("MatMul", {"p", "v_t"}, {"c"}, "context");
  OnnxBuilder::attrInts(b.node("Transpose", {"c"}, {"ct"}, "merge"), "perm", {0, 2, 1, 3});
  b.node("Reshape", {"ct", "os"}, {"y"}, "out");
  b.output("y");
  if (exposeProbs) b.output("p");
  return b;
}
}  // namespace

TEST(Passes, FuseAttentionStructureAndNumbers) {
  auto plain = attentionModel(false).parse();
  auto fused = attentionModel(false).parse();
  auto exposed = attentionModel(true).parse();
  ASSERT_TRUE(plain.isOk() && fused.isOk() && exposed.isOk());
  auto e0 = buildEngine(**plain, 0);
  auto e3 = buildEngine(**fused, 3);
  auto ex = buildEngine(**exposed, 3);
  ASSERT_TRUE(e0.isOk() && e3.isOk() && ex.isOk());
  ASSERT_EQ((*e3)->network().layers().size(), 1u);
  const Layer& att = (*e3)->network().layers()[0];
  EXPECT_EQ(att.type, "Attention");
  EXPECT_EQ(att.attrs.getInt("num_heads"), 2);
  EXPECT_EQ(att.attrs.getInt("head_size"), 4);
  EXPECT_FLOAT_EQ(att.attrs.getFloat("scale"), 0.5f);
  EXPECT_EQ(att.origins.size(), 13u);
  // negative: the probabilities are a graph output, so nothing fuses
  for (const Layer& l : (*ex)->network().layers()) EXPECT_NE(l.type, "Attention");
  HostTensor q = iota({2, 5, 8}, -1.f, 0.05f), k = iota({2, 5, 8}, 0.7f, -0.03f),
             v = iota({2, 5, 8}, 0.2f, 0.01f);
  HostTensor mask(DataType::kFloat32, {2, 1, 1, 5});
  for (int i = 0; i < 10; ++i) mask.as<float>()[i] = (i % 5 == 4) ? -10000.f : 0.f;
  auto run = [&](Engine& e) {
    return runAny(e, {{"q", &q}, {"k", &k}, {"v", &v}, {"mask", &mask}}, {2, 5, 8});
  };
  auto y0 = run(**e0), y3 = run(**e3);
  ASSERT_TRUE(y0.isOk() && y3.isOk()) << y3.status().message();
  for (int64_t i = 0; i < y0->numel(); ++i) EXPECT_NEAR(y0->as<float>()[i], y3->as<float>()[i], 1e-5) << i;
}

TEST(Passes, GemmBetweenReshapesBecomesFusedMatMul) {
  auto model = [] {
    OnnxBuilder b;
    b.input("x", onnx::TensorProto::FLOAT, {2, 3, 4});
    b.initInt64("flat", {-1, 4});
    b.initInt64("back", {2, 3, 5});
    std::vector<float> w(5 * 4);
    for (size_t i = 0; i < w.size(); ++i) w[i] = 0.3f * std::cos(0.8f * static_cast<float>(i));
    b.initFloat("w", {5, 4}, w);  // transB = 1: [N, K]
    b.initFloat("c", {5}, {0.1f, -0.2f, 0.3f, 0.f, 0.5f});
    b.node("Reshape", {"x", "flat"}, {"x2"}, "view_in");
    auto* g = b.node("Gemm", {"x2", "w", "c"}, {"g"}, "addmm");
    OnnxBuilder::attrInt(g, "transB", 1);
    OnnxBuilder::attrFloat(g, "beta", 2.f);
    b.node("Reshape", {"g", "back"}, {"y3"}, "view_out");
    b.node("Relu", {"y3"}, {"y"}, "relu");
    b.output("y");
    return b;
  };
  auto plain = model().parse();
  auto opt = model().parse();
  ASSERT_TRUE(plain.isOk() && opt.isOk());
  auto e0 = buildEngine(**plain, 0);
  auto e3 = buildEngine(**opt, 3);
  ASSERT_TRUE(e0.isOk() && e3.isOk());
  const auto& layers = (*e3)->network().layers();
  ASSERT_EQ(layers.size(), 1u);
  EXPECT_EQ(layers[0].type, "FusedMatMul");
  EXPECT_EQ(layers[0].attrs.getString("activation"), "Relu");
  HostTensor x = iota({2, 3, 4}, -1.f, 0.11f);
  auto y0 = runOne(**e0, "x", x, "y");
  auto y3 = runOne(**e3, "x", x, "y");
  ASSERT_TRUE(y0.isOk() && y3.isOk());
  for (int64_t i = 0; i < y0->numel(); ++i) EXPECT_NEAR(y0->as<float>()[i], y3->as<float>()[i], 1e-5) << i;
}

// The dynamo exporter's GPT-2 block tail: attention, a [B*S, H*D] view, a 2-D Gemm, a view back
// and the residual Add. After fusion: Attention + one FusedMatMul (weights, residual).
TEST(Passes, LinearLayerAfterAttentionFuses) {
  auto model = [] {
    OnnxBuilder b;
    b.input("qkv", onnx::TensorProto::FLOAT, {1, 6, 24});
    b.input("r", onnx::TensorProto::FLOAT, {1, 6, 8});
    b.initInt64("hs", {1, 6, 2, 4});
    b.initInt64("flat", {-1, 8});
    b.initInt64("back", {1, 6, 8});
    b.initFloat("sc", {}, {0.5f});
    std::vector<float> w(8 * 8);
    for (size_t i = 0; i < w.size(); ++i) w[i] = 0.2f * std::sin(0.3f * static_cast<float>(i));
    b.initFloat("w", {8, 8}, w);
    OnnxBuilder::attrInt(b.node("Split", {"qkv"}, {"q", "k", "v"}, "split"), "axis", 2);
    splitHeads(b);
    b.node("MatMul", {"q_t", "k_t"}, {"s"}, "scores");
    b.node("Mul", {"s", "sc"}, {"s2"}, "scale");
    OnnxBuilder::attrInt(b.node("Softmax", {"s2"}, {"p"}, "softmax"), "axis", -1);
    b.node("MatMul", {"p", "v_t"}, {"c"}, "context");
    OnnxBuilder::attrInts(b.node("Transpose", {"c"}, {"ct"}, "merge"), "perm", {0, 2, 1, 3});
    b.node("Reshape", {"ct", "flat"}, {"c2"}, "view");
    b.node("Gemm", {"c2", "w"}, {"g"}, "addmm");
    b.node("Reshape", {"g", "back"}, {"g3"}, "view_back");
    b.node("Add", {"g3", "r"}, {"y"}, "residual");
    b.output("y");
    return b;
  };
  auto plain = model().parse();
  auto opt = model().parse();
  ASSERT_TRUE(plain.isOk() && opt.isOk());
  auto e0 = buildEngine(**plain, 0);
  auto e3 = buildEngine(**opt, 3);
  ASSERT_TRUE(e0.isOk() && e3.isOk());
  const auto& layers = (*e3)->network().layers();
  ASSERT_EQ(layers.size(), 2u);
  EXPECT_EQ(layers[0].type, "Attention");
  EXPECT_EQ(layers[0].attrs.getInt("packed"), 1);
  EXPECT_EQ(layers[1].type, "FusedMatMul");
  EXPECT_EQ(layers[1].inputs.size(), 4u);  // residual as Z
  HostTensor qkv = iota({1, 6, 24}, -1.f, 0.07f), r = iota({1, 6, 8}, 0.3f, -0.02f);
  auto run = [&](Engine& e) { return runAny(e, {{"qkv", &qkv}, {"r", &r}}, {1, 6, 8}); };
  auto y0 = run(**e0), y3 = run(**e3);
  ASSERT_TRUE(y0.isOk() && y3.isOk());
  for (int64_t i = 0; i < y0->numel(); ++i) EXPECT_NEAR(y0->as<float>()[i], y3->as<float>()[i], 1e-5) << i;
}

// BERT's three projections of one hidden state merge into one [K, 3N] linear layer feeding a
// packed Attention.
TEST(Passes, QkvProjectionsMergeForAttention) {
  auto model = [] {
    OnnxBuilder b;
    b.input("x", onnx::TensorProto::FLOAT, {2, 5, 8});
    b.initInt64("hs", {2, 5, 2, 4});
    b.initInt64("os", {2, 5, 8});
    b.initFloat("sd", {}, {2.f});
    int salt = 0;
    for (const std::string n : {"q", "k", "v"}) {
      std::vector<float> w(64), bias(8);
      for (size_t i = 0; i < w.size(); ++i)
        w[i] = 0.25f * std::sin(0.37f * static_cast<float>(i + 17 * salt));
      for (size_t i = 0; i < bias.size(); ++i)
        bias[i] = 0.05f * static_cast<float>(i) - 0.1f * static_cast<float>(salt);
      ++salt;
      b.initFloat(n + "_w", {8, 8}, w);
      b.initFloat(n + "_b", {8}, bias);
      b.node("MatMul", {"x", n + "_w"}, {n + "_mm"}, n + "_proj");
      b.node("Add", {n + "_b", n + "_mm"}, {n}, n + "_bias");
    }
    attentionBody(b);
    return b;
  };
  auto plain = model().parse();
  auto opt = model().parse();
  ASSERT_TRUE(plain.isOk() && opt.isOk());
  auto e0 = buildEngine(**plain, 0);
  auto e3 = buildEngine(**opt, 3);
  ASSERT_TRUE(e0.isOk() && e3.isOk());
  const auto& layers = (*e3)->network().layers();
  ASSERT_EQ(layers.size(), 2u);
  EXPECT_EQ(layers[0].type, "FusedMatMul");
  EXPECT_EQ((*e3)->network().tensor(layers[0].outputs[0]).shape.back().value, 24);
  EXPECT_EQ(layers[1].type, "Attention");
  EXPECT_EQ(layers[1].attrs.getInt("packed"), 1);
  HostTensor x = iota({2, 5, 8}, -1.f, 0.05f);
  auto y0 = runOne(**e0, "x", x, "y");
  auto y3 = runOne(**e3, "x", x, "y");
  ASSERT_TRUE(y0.isOk() && y3.isOk());
  for (int64_t i = 0; i < y0->numel(); ++i) EXPECT_NEAR(y0->as<float>()[i], y3->as<float>()[i], 1e-5) << i;
}

namespace {
void expectSameOutputs(const std::function<OnnxBuilder()>& model, const std::string& input,
                       const Dims& inDims, const Dims& outDims, size_t layersAtO3) {
  auto plain = model().parse();
  auto opt = model().parse();
  ASSERT_TRUE(plain.isOk() && opt.isOk());
  auto e0 = buildEngine(**plain, 0);
  auto e3 = buildEngine(**opt, 3);
  ASSERT_TRUE(e0.isOk() && e3.isOk());
  EXPECT_EQ((*e3)->network().layers().size(), layersAtO3);
  HostTensor x = iota(inDims, -1.f, 0.013f);
  auto y0 = runAny(**e0, {{input, &x}}, outDims);
  auto y3 = runAny(**e3, {{input, &x}}, outDims);
  ASSERT_TRUE(y0.isOk() && y3.isOk()) << y3.status().message();
  for (int64_t i = 0; i < y0->numel(); ++i) EXPECT_NEAR(y0->as<float>()[i], y3->as<float>()[i], 1e-4) << i;
}

std::vector<float> wave(size_t n, float f, float a) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = a * std::sin(f * static_cast<float>(i) + 0.3f);
  return v;
}
}  // namespace

TEST(Passes, FoldPadIntoConv) {
  for (float fill : {0.f, 0.5f}) {
    auto model = [fill] {
      OnnxBuilder b;
      b.input("x", onnx::TensorProto::FLOAT, {1, 2, 5, 5});
      b.initInt64("pads", {0, 0, 1, 2, 0, 0, 1, 0});
      b.initFloat("fill", {}, {fill});
      b.initFloat("w", {3, 2, 3, 3}, wave(54, 0.7f, 0.4f));
      b.node("Pad", {"x", "pads", "fill"}, {"p"}, "pad");
      b.node("Conv", {"p", "w"}, {"y"}, "conv");
      b.output("y");
      return b;
    };
    SCOPED_TRACE(fill == 0.f ? "zero fill folds" : "non-zero fill stays");
    expectSameOutputs(model, "x", {1, 2, 5, 5}, {1, 3, 5, 5}, fill == 0.f ? 1u : 2u);
  }
}

TEST(Passes, FoldConvPerChannelMulAdd) {
  auto model = [] {
    OnnxBuilder b;
    b.input("x", onnx::TensorProto::FLOAT, {1, 2, 4, 4});
    b.initFloat("w", {3, 2, 3, 3}, wave(54, 0.5f, 0.3f));
    b.initFloat("s", {3, 1, 1}, {0.5f, -2.f, 1.5f});
    b.initFloat("a", {1, 3, 1, 1}, {0.1f, 0.2f, -0.3f});
    auto* c = b.node("Conv", {"x", "w"}, {"c"}, "conv");
    OnnxBuilder::attrInts(c, "pads", {1, 1, 1, 1});
    b.node("Mul", {"c", "s"}, {"m"}, "scale");
    b.node("Add", {"a", "m"}, {"r"}, "shift");
    b.node("Relu", {"r"}, {"y"}, "relu");
    b.output("y");
    return b;
  };
  expectSameOutputs(model, "x", {1, 2, 4, 4}, {1, 3, 4, 4}, 1u);  // one FusedConv
}

TEST(Passes, FoldBatchNormIntoMatMulAndConvTranspose) {
  auto bn = [](OnnxBuilder& b, const std::string& in, int64_t n) {
    b.initFloat("g", {n}, wave(n, 0.9f, 1.f));
    b.initFloat("be", {n}, wave(n, 0.4f, 0.5f));
    b.initFloat("mu", {n}, wave(n, 1.3f, 0.2f));
    std::vector<float> var(n);
    for (int64_t i = 0; i < n; ++i) var[i] = 0.5f + 0.1f * static_cast<float>(i);
    b.initFloat("var", {n}, var);
    b.node("BatchNormalization", {in, "g", "be", "mu", "var"}, {"y"}, "bn");
    b.output("y");
  };
  auto matmul = [&] {
    OnnxBuilder b;
    b.input("x", onnx::TensorProto::FLOAT, {3, 4});
    b.initFloat("w", {4, 5}, wave(20, 0.6f, 0.5f));
    b.node("MatMul", {"x", "w"}, {"m"}, "mm");
    bn(b, "m", 5);
    return b;
  };
  expectSameOutputs(matmul, "x", {3, 4}, {3, 5}, 1u);
  auto deconv = [&] {
    OnnxBuilder b;
    b.input("x", onnx::TensorProto::FLOAT, {1, 4, 3, 3});
    b.initFloat("w", {4, 3, 2, 2}, wave(48, 0.45f, 0.4f));  // group 2: [Cin, Cout/g, k, k]
    auto* c = b.node("ConvTranspose", {"x", "w"}, {"d"}, "deconv");
    OnnxBuilder::attrInt(c, "group", 2);
    OnnxBuilder::attrInts(c, "strides", {2, 2});
    bn(b, "d", 6);
    return b;
  };
  expectSameOutputs(deconv, "x", {1, 4, 3, 3}, {1, 6, 6, 6}, 1u);
}

// fold-transpose-into-matmul: a tied LM head (x . W^T, W also read by a Gather) and a batched
// q . k^T read W and k directly with transB; the Transposes are gone and the numbers agree.
// A Transpose of other dims stays.
TEST(Passes, FoldTransposeIntoMatMul) {
  auto model = [](std::vector<int64_t> kShape, std::vector<int64_t> kPerm) {
    OnnxBuilder b;
    b.input("x", onnx::TensorProto::FLOAT, {2, 3, 4});
    b.input("k", onnx::TensorProto::FLOAT, kShape);
    b.initFloat("w", {5, 4}, wave(20, 0.7f, 0.5f));
    b.initInt64("ids", {2}, {4, 1});
    b.node("Gather", {"w", "ids"}, {"emb"}, "embed");
    OnnxBuilder::attrInts(b.node("Transpose", {"w"}, {"wt"}, "head_t"), "perm", {1, 0});
    b.node("MatMul", {"x", "wt"}, {"y"}, "head");
    OnnxBuilder::attrInts(b.node("Transpose", {"k"}, {"kt"}, "k_t"), "perm", kPerm);
    b.node("MatMul", {"x", "kt"}, {"s"}, "scores");
    b.output("y");
    b.output("s");
    b.output("emb");
    return b;
  };
  auto net = model({2, 5, 4}, {0, 2, 1}).parse();
  ASSERT_TRUE(net.isOk());
  bool changed = false;
  ASSERT_TRUE(makeFoldTransposeIntoMatMulPass()->run(**net, changed).isOk());
  EXPECT_TRUE(changed);
  ASSERT_TRUE(makeDeadCodePass()->run(**net, changed).isOk());
  int transposes = 0, transB = 0;
  for (const Layer& l : (*net)->layers()) {
    transposes += l.type == "Transpose";
    transB += l.attrs.getInt("transB", 0) == 1;
  }
  EXPECT_EQ(transposes, 0);
  EXPECT_EQ(transB, 2);
  // numbers: both products and the embedding rows agree with the unfolded graph
  auto e0 = buildEngine(**model({2, 5, 4}, {0, 2, 1}).parse(), 0);
  auto e1 = buildEngine(**net, 0);
  ASSERT_TRUE(e0.isOk() && e1.isOk()) << e1.status().message();
  HostTensor x = iota({2, 3, 4}, -1.f, 0.1f), k = iota({2, 5, 4}, 0.5f, -0.05f);
  for (const char* out : {"y", "s"}) {
    auto run = [&](Engine& e) -> Expected<HostTensor> {
      auto ctx = e.createExecutionContext();
      HostTensor y(DataType::kFloat32, {2, 3, 5});
      HostTensor other(DataType::kFloat32, {2, 3, 5}), emb(DataType::kFloat32, {2, 4});
      TRT_RETURN_IF_ERROR(ctx->setTensorAddress("x", x.data()));
      TRT_RETURN_IF_ERROR(ctx->setTensorAddress("k", k.data()));
      TRT_RETURN_IF_ERROR(ctx->setTensorAddress(out, y.data()));
      TRT_RETURN_IF_ERROR(ctx->setTensorAddress(out[0] == 'y' ? "s" : "y", other.data()));
      TRT_RETURN_IF_ERROR(ctx->setTensorAddress("emb", emb.data()));
      TRT_RETURN_IF_ERROR(ctx->execute());
      return y;
    };
    auto y0 = run(**e0), y1 = run(**e1);
    ASSERT_TRUE(y0.isOk() && y1.isOk()) << y1.status().message();
    for (int64_t i = 0; i < y0->numel(); ++i)
      EXPECT_NEAR(y0->as<float>()[i], y1->as<float>()[i], 1e-5) << out << i;
  }
  // negative: a Transpose that does not swap the last two dims stays
  auto other = model({4, 2, 5}, {1, 0, 2}).parse();
  ASSERT_TRUE(other.isOk());
  ASSERT_TRUE(makeFoldTransposeIntoMatMulPass()->run(**other, changed).isOk());
  int kept = 0;
  for (const Layer& l : (*other)->layers()) kept += l.type == "MatMul" && l.attrs.getInt("transB", 0) == 0;
  EXPECT_EQ(kept, 1);
}

// The dynamo exporter's linear layer with a dynamic batch: Reshape [batch, S, K] -> [-1, K],
// Gemm without C, Reshape back with [-1, S, N]; the unknown first dim of the view back is still the
// batch (every other dim matches), so the three become one FusedMatMul, and the residual Add after
// it fuses too. A view back that changes another dim is left alone.
TEST(Passes, GemmBetweenDynamicBatchReshapesFuses) {
  auto model = [](int64_t backS) {  // backS != 3: no residual (shapes differ)
    OnnxBuilder b;
    b.input("x", onnx::TensorProto::FLOAT, {-1, 3, 4}, {"batch"});
    b.initInt64("flat", {-1, 4});
    b.initInt64("back", {-1, backS, 4});
    std::vector<float> w(4 * 4);
    for (size_t i = 0; i < w.size(); ++i) w[i] = 0.3f * std::cos(0.7f * static_cast<float>(i));
    b.initFloat("w", {4, 4}, w);
    b.node("Reshape", {"x", "flat"}, {"x2"}, "view_in");
    b.node("Gemm", {"x2", "w"}, {"g"}, "addmm");
    b.node("Reshape", {"g", "back"}, {"y3"}, "view_out");
    if (backS == 3)
      b.node("Add", {"y3", "x"}, {"y"}, "residual");
    else
      b.node("Identity", {"y3"}, {"y"}, "out");
    b.output("y");
    return b;
  };
  auto plain = model(3).parse();
  auto opt = model(3).parse();
  ASSERT_TRUE(plain.isOk() && opt.isOk());
  auto e0 = buildEngine(**plain, 0);
  auto e3 = buildEngine(**opt, 3);
  ASSERT_TRUE(e0.isOk() && e3.isOk()) << e3.status().message();
  const auto& layers = (*e3)->network().layers();
  ASSERT_EQ(layers.size(), 1u);
  EXPECT_EQ(layers[0].type, "FusedMatMul");
  EXPECT_EQ(layers[0].inputs.size(), 4u);  // x, W, no bias, the residual
  HostTensor x = iota({2, 3, 4}, -1.f, 0.11f);
  auto y0 = runOne(**e0, "x", x, "y");
  auto y3 = runOne(**e3, "x", x, "y");
  ASSERT_TRUE(y0.isOk() && y3.isOk()) << y3.status().message();
  for (int64_t i = 0; i < y0->numel(); ++i) EXPECT_NEAR(y0->as<float>()[i], y3->as<float>()[i], 1e-5) << i;
  // the pass alone, on the same graph (fuses) and on one whose view back regroups rows
  // ([-1, 6, 4], not x's layout: stays)
  for (int64_t backS : {3, 6}) {
    auto net = model(backS).parse();
    ASSERT_TRUE(net.isOk());
    ASSERT_TRUE(inferNetworkShapes(**net, evaluateOnHost).isOk());
    bool changed = false;
    ASSERT_TRUE(makeGemmToMatMulPass()->run(**net, changed).isOk());
    EXPECT_EQ(changed, backS == 3) << backS;
  }
}

// The CPU backend's MatMul tactic candidates (OpenBLAS, and sgemm's own loop for small static
// products) compute the same product, and configure() builds the one layer.tactic names.
TEST(Tactics, CpuMatMulCandidatesAgree) {
  OnnxBuilder b;
  b.input("x", onnx::TensorProto::FLOAT, {8, 16});
  b.initFloat("w", {16, 4}, wave(64, 0.9f, 0.4f));
  b.node("MatMul", {"x", "w"}, {"y"});
  b.output("y");
  auto net = b.parse();
  ASSERT_TRUE(net.isOk());
  ASSERT_TRUE(inferNetworkShapes(**net, evaluateOnHost).isOk());
  const Backend* cpu = findBackend("cpu");
  ASSERT_NE(cpu, nullptr);
  Layer& l = (*net)->layers()[0];
  const std::vector<std::string> cands = cpu->tactics(l, **net);
  if (cands.size() < 2) GTEST_SKIP() << "built without OpenBLAS: MatMul has one tactic";
  HostTensor x = iota({8, 16}, -1.f, 0.05f);
  HostTensor w = *(*net)->tensor(l.inputs[1]).constant;
  std::vector<HostTensor> ys;
  for (const std::string& t : cands) {
    Layer probe = l;
    probe.tactic = t;
    auto impl = cpu->configure(probe, **net);
    ASSERT_TRUE(impl.isOk()) << impl.status().message();
    EXPECT_EQ((*impl)->tacticName(), t);
    HostTensor y(DataType::kFloat32, {8, 4});
    std::vector<TensorView> ins = {TensorView{DataType::kFloat32, x.dims(), x.data()},
                                   TensorView{DataType::kFloat32, w.dims(), w.data(), w.data()}};
    std::vector<TensorView> outs = {TensorView{DataType::kFloat32, y.dims(), y.data()}};
    ASSERT_TRUE((*impl)->enqueue(ins, outs, nullptr, nullptr).isOk());
    ys.push_back(std::move(y));
  }
  for (int64_t i = 0; i < ys[0].numel(); ++i)
    EXPECT_NEAR(ys[0].as<float>()[i], ys[1].as<float>()[i], 1e-5) << i;
  // a large product offers no plain-loop candidate (it would only slow the build)
  auto big = [] {
    OnnxBuilder bb;
    bb.input("x", onnx::TensorProto::FLOAT, {512, 512});
    bb.initFloat("w", {512, 512}, std::vector<float>(512 * 512, 0.01f));
    bb.node("MatMul", {"x", "w"}, {"y"});
    bb.output("y");
    return bb.parse();
  }();
  ASSERT_TRUE(big.isOk());
  ASSERT_TRUE(inferNetworkShapes(**big, evaluateOnHost).isOk());
  EXPECT_TRUE(cpu->tactics((*big)->layers()[0], **big).empty());
}

namespace {
// y = ((Sigmoid(x) * 2 - 0.5) + grid) * stride, grid broadcast over the batch; optionally the
// Sigmoid's output also feeds a ReduceSum (a reader outside any elementwise group).
OnnxBuilder decodeModel(bool sigmoidReadOutside) {
  OnnxBuilder b;
  b.input("x", onnx::TensorProto::FLOAT, {2, 3, 4});
  b.initFloat("two", {}, {2.f});
  b.initFloat("half", {}, {0.5f});
  std::vector<float> grid(12);
  for (size_t i = 0; i < grid.size(); ++i) grid[i] = 0.25f * static_cast<float>(i) - 1.f;
  b.initFloat("grid", {1, 3, 4}, grid);
  b.initFloat("stride", {}, {8.f});
  b.node("Sigmoid", {"x"}, {"s"}, "sig");
  b.node("Mul", {"s", "two"}, {"m"}, "mul");
  b.node("Sub", {"m", "half"}, {"d"}, "sub");
  b.node("Add", {"d", "grid"}, {"a"}, "add");
  b.node("Mul", {"a", "stride"}, {"y"}, "scale");
  b.output("y");
  if (sigmoidReadOutside) {
    b.node("ReduceSum", {"s"}, {"r"}, "sum");
    b.output("r");
  }
  return b;
}
}  // namespace

TEST(Passes, FusePointwiseStructureAndNumbers) {
  auto net = decodeModel(false).parse();
  ASSERT_TRUE(net.isOk());
  ASSERT_TRUE(inferNetworkShapes(**net, evaluateOnHost).isOk());
  bool changed = false;
  ASSERT_TRUE(makeFusePointwisePass()->run(**net, changed).isOk());
  EXPECT_TRUE(changed);
  ASSERT_EQ((*net)->layers().size(), 1u);
  const Layer& f = (*net)->layers()[0];
  EXPECT_EQ(f.type, "Pointwise");
  EXPECT_EQ(f.name, "sig + mul + sub + add + scale");
  EXPECT_EQ(f.origins.size(), 5u);
  EXPECT_EQ(f.inputs.size(), 5u);  // x, two, half, grid, stride
  EXPECT_EQ(f.attrs.getString("expression"), "Mul(Add(Sub(Mul(Sigmoid(x0), x1), x2), x3), x4)");
  ASSERT_TRUE((*net)->validate().isOk());
  // numbers: fused (opt level 3) against unfused (0) on the CPU
  auto e0 = buildEngine(**decodeModel(false).parse(), 0);
  auto e3 = buildEngine(**decodeModel(false).parse(), 3);
  ASSERT_TRUE(e0.isOk() && e3.isOk());
  int pointwise = 0;
  for (const Layer& l : (*e3)->network().layers()) pointwise += l.type == "Pointwise";
  EXPECT_EQ(pointwise, 1);
  HostTensor x = iota({2, 3, 4}, -3.f, 0.27f);
  auto y0 = runOne(**e0, "x", x, "y");
  auto y3 = runOne(**e3, "x", x, "y");
  ASSERT_TRUE(y0.isOk() && y3.isOk());
  for (int64_t i = 0; i < y0->numel(); ++i) EXPECT_NEAR(y0->as<float>()[i], y3->as<float>()[i], 1e-5) << i;
}

namespace {
// YOLOv5's Detect decode on x [2, 3, 4, 5, 9]: split the last axis into xy (2), wh (2) and the
// scores (5); xy = (x * 2 - 0.5 + grid) * 8 with grid [1, 3, 4, 5, 2] (a piece input), wh =
// (x * 2)^2 * anchor with anchor [1, 3, 1, 1, 2], the scores as they are; concatenated back.
// `singleOp`: wh is one Mul by a scalar (a single elementwise layer, no Pointwise group).
// `transposed`: the input arrives as xin [2, 4, 5, 3, 9] and a Transpose makes x of it.
OnnxBuilder detectDecodeModel(bool singleOp = false, bool transposed = false) {
  OnnxBuilder b;
  if (transposed) {
    b.input("xin", onnx::TensorProto::FLOAT, {2, 4, 5, 3, 9});
    OnnxBuilder::attrInts(b.node("Transpose", {"xin"}, {"x"}, "transpose"), "perm", {0, 3, 1, 2, 4});
  } else {
    b.input("x", onnx::TensorProto::FLOAT, {2, 3, 4, 5, 9});
  }
  b.initFloat("two", {}, {2.f});
  b.initFloat("half", {}, {0.5f});
  b.initFloat("stride", {}, {8.f});
  std::vector<float> grid(3 * 4 * 5 * 2), anchor(6);
  for (size_t i = 0; i < grid.size(); ++i) grid[i] = static_cast<float>(i % 7) - 2.f;
  for (size_t i = 0; i < anchor.size(); ++i) anchor[i] = 10.f + 3.f * static_cast<float>(i);
  b.initFloat("grid", {1, 3, 4, 5, 2}, grid);
  b.initFloat("anchor", {1, 3, 1, 1, 2}, anchor);
  b.initInt64("sizes", {3}, {2, 2, 5});
  OnnxBuilder::attrInt(b.node("Split", {"x", "sizes"}, {"xy", "wh", "sc"}, "split"), "axis", 4);
  b.node("Mul", {"xy", "two"}, {"m0"}, "mul0");
  b.node("Sub", {"m0", "half"}, {"s0"}, "sub0");
  b.node("Add", {"s0", "grid"}, {"a0"}, "add0");
  b.node("Mul", {"a0", "stride"}, {"xy2"}, "scale0");
  if (singleOp) {
    b.node("Mul", {"wh", "stride"}, {"wh2"}, "mul1");
  } else {
    b.node("Mul", {"wh", "two"}, {"m1"}, "mul1");
    b.node("Pow", {"m1", "two"}, {"p1"}, "pow1");
    b.node("Mul", {"p1", "anchor"}, {"wh2"}, "scale1");
  }
  OnnxBuilder::attrInt(b.node("Concat", {"xy2", "wh2", "sc"}, {"y"}, "concat"), "axis", -1);
  b.output("y");
  return b;
}
}  // namespace

// fuse-piecewise: the Split, the pieces' Pointwise groups (or single ops) and the Concat become one
// Pointwise layer with pieces; the CPU computes what the unfused graph does.
TEST(Passes, FusePiecewiseStructureAndNumbers) {
  for (bool singleOp : {false, true}) {
    SCOPED_TRACE(singleOp ? "single op piece" : "pointwise group pieces");
    auto e0 = buildEngine(**detectDecodeModel(singleOp).parse(), 0);
    auto e3 = buildEngine(**detectDecodeModel(singleOp).parse(), 3);
    ASSERT_TRUE(e0.isOk() && e3.isOk()) << (e3.isOk() ? "" : e3.status().message());
    const auto& layers = (*e3)->network().layers();
    ASSERT_EQ(layers.size(), 1u);
    const Layer& f = layers[0];
    EXPECT_EQ(f.type, "Pointwise");
    EXPECT_EQ(f.attrs.getInt("piece_axis", -1), 4);
    EXPECT_EQ(f.attrs.getInts("piece_ends"), (std::vector<int64_t>{2, 4, 9}));
    EXPECT_EQ(f.name.rfind("split + ", 0), 0u);
    EXPECT_NE(f.name.find(" + concat"), std::string::npos);
    // x whole; grid a piece input of piece 0; anchor of piece 1 (broadcasting along the axis? no:
    // its last dim is the piece's 2)
    const std::vector<int64_t> pieceInputs = f.attrs.getInts("piece_inputs");
    int perPiece = 0;
    for (int64_t p : pieceInputs) perPiece += p >= 0;
    EXPECT_EQ(perPiece, singleOp ? 1 : 2);
    HostTensor x = iota({2, 3, 4, 5, 9}, -3.f, 0.0057f);
    auto y0 = runOne(**e0, "x", x, "y");
    auto y3 = runOne(**e3, "x", x, "y");
    ASSERT_TRUE(y0.isOk() && y3.isOk());
    for (int64_t i = 0; i < y0->numel(); ++i) EXPECT_NEAR(y0->as<float>()[i], y3->as<float>()[i], 1e-4) << i;
  }
  // A piece read elsewhere too: nothing fuses across the Split.
  OnnxBuilder b = detectDecodeModel();
  b.node("Exp", {"sc"}, {"e"}, "other");
  b.output("e");
  auto e = buildEngine(**b.parse(), 3);
  ASSERT_TRUE(e.isOk());
  int concats = 0;
  for (const Layer& l : (*e)->network().layers()) concats += l.type == "Concat";
  EXPECT_EQ(concats, 1);
}

// fold-transpose-into-pointwise: a Transpose read only by a Pointwise layer (a plain group, or the
// Detect decode's pieces) becomes that input's permutation; the CPU computes what the unfused graph
// does. A Transpose read elsewhere too stays.
TEST(Passes, FoldTransposeIntoPointwise) {
  auto model = [](bool decode, bool readElsewhere) {
    OnnxBuilder b = decode ? detectDecodeModel(false, true) : OnnxBuilder();
    if (!decode) {
      b.input("xin", onnx::TensorProto::FLOAT, {2, 4, 5, 3});
      b.initFloat("c", {5}, {0.5f, -1.f, 2.f, 0.25f, -0.75f});
      OnnxBuilder::attrInts(b.node("Transpose", {"xin"}, {"t"}, "transpose"), "perm", {0, 3, 1, 2});
      b.node("Sigmoid", {"t"}, {"s"}, "sig");
      b.node("Mul", {"s", "t"}, {"m"}, "mul");
      b.node("Add", {"m", "c"}, {"y"}, "add");
      b.output("y");
    }
    if (readElsewhere) {
      b.node("Exp", {decode ? "x" : "t"}, {"e"}, "other");
      b.output("e");
    }
    return b;
  };
  for (bool decode : {false, true}) {
    SCOPED_TRACE(decode ? "decode pieces" : "pointwise group");
    auto e0 = buildEngine(**model(decode, false).parse(), 0);
    auto e3 = buildEngine(**model(decode, false).parse(), 3);
    ASSERT_TRUE(e0.isOk() && e3.isOk()) << (e3.isOk() ? "" : e3.status().message());
    const auto& layers = (*e3)->network().layers();
    ASSERT_EQ(layers.size(), 1u);
    EXPECT_EQ(layers[0].type, "Pointwise");
    EXPECT_EQ(layers[0].name.rfind("transpose + ", 0), 0u) << layers[0].name;
    const std::vector<int64_t> perms = layers[0].attrs.getInts("input_perms", {});
    ASSERT_FALSE(perms.empty());
    EXPECT_EQ(perms[0], decode ? 5 : 4);  // input 0 (x) read permuted
    const Dims xd = decode ? Dims{2, 4, 5, 3, 9} : Dims{2, 4, 5, 3};
    HostTensor x = iota(xd, -2.f, 0.0061f);
    auto y0 = runOne(**e0, "xin", x, "y");
    auto y3 = runOne(**e3, "xin", x, "y");
    ASSERT_TRUE(y0.isOk() && y3.isOk());
    for (int64_t i = 0; i < y0->numel(); ++i) EXPECT_NEAR(y0->as<float>()[i], y3->as<float>()[i], 1e-4) << i;
    auto kept = buildEngine(**model(decode, true).parse(), 3);
    ASSERT_TRUE(kept.isOk());
    int transposes = 0;
    for (const Layer& l : (*kept)->network().layers()) transposes += l.type == "Transpose";
    EXPECT_EQ(transposes, 1);
  }
}

// fold-transpose-into-pad: an NCHW image read as NHWC and its 3 channels padded to 4 (the layouts'
// stem input) is one Pad with input_perm; not where the Transpose is read elsewhere or the Pad is
// not constant. The folded engine's outputs are the unfolded one's.
OnnxBuilder transposePadModel(const std::string& mode = "constant", bool readElsewhere = false) {
  OnnxBuilder b;
  b.input("x", onnx::TensorProto::FLOAT, {2, 3, 5, 6});
  OnnxBuilder::attrInts(b.node("Transpose", {"x"}, {"t"}, "to_nhwc"), "perm", {0, 2, 3, 1});
  b.initInt64("pads", {0, 0, 0, 0, 0, 0, 0, 1});
  OnnxBuilder::attrString(b.node("Pad", {"t", "pads"}, {"y"}, "pad_channels"), "mode", mode);
  b.output("y");
  if (readElsewhere) {
    b.node("Relu", {"t"}, {"r"}, "other");
    b.output("r");
  }
  return b;
}

TEST(Passes, FoldTransposeIntoPad) {
  auto e0 = buildEngine(**transposePadModel().parse(), 0);
  auto e3 = buildEngine(**transposePadModel().parse(), 3);
  ASSERT_TRUE(e0.isOk() && e3.isOk()) << (e3.isOk() ? "" : e3.status().message());
  const auto& layers = (*e3)->network().layers();
  ASSERT_EQ(layers.size(), 1u);
  EXPECT_EQ(layers[0].type, "Pad");
  EXPECT_EQ(layers[0].name, "to_nhwc + pad_channels");
  EXPECT_EQ(layers[0].attrs.getInts("input_perm", {}), (std::vector<int64_t>{0, 2, 3, 1}));
  HostTensor x = iota({2, 3, 5, 6}, -2.f, 0.031f);
  auto y0 = runOne(**e0, "x", x, "y");
  auto y3 = runOne(**e3, "x", x, "y");
  ASSERT_TRUE(y0.isOk() && y3.isOk());
  ASSERT_EQ(y3->dims(), (Dims{2, 5, 6, 4}));
  for (int64_t i = 0; i < y0->numel(); ++i) EXPECT_EQ(y0->as<float>()[i], y3->as<float>()[i]) << i;
  for (auto [mode, elsewhere] : {std::pair<std::string, bool>{"edge", false}, {"constant", true}}) {
    auto kept = buildEngine(**transposePadModel(mode, elsewhere).parse(), 3);
    ASSERT_TRUE(kept.isOk()) << kept.status().message();
    int transposes = 0;
    for (const Layer& l : (*kept)->network().layers()) transposes += l.type == "Transpose";
    EXPECT_EQ(transposes, 1) << mode;
  }
}

// YOLOv5's SPPF: a 1x1 convolution's output c and three 5x5 stride-1 max pools in a chain (pads
// 2), concatenated along the channels. Variants for the negative cases: `readElsewhere` the first pool's
// output is also a graph output; `mixed` the second pool is 3x3 (pads 1: the same size, another window);
// `order` the Concat lists the pools out of order; `parallel` SPP's form: 5x5, 9x9 and 13x13
// pools of c.
OnnxBuilder sppfModel(bool readElsewhere = false, bool mixed = false, bool order = false,
                      bool parallel = false) {
  OnnxBuilder b;
  b.input("x", onnx::TensorProto::FLOAT, {2, 3, 9, 11});
  initSine(b, "w", {8, 3, 1, 1}, 0.4f, 0.37f);
  b.node("Conv", {"x", "w"}, {"c"}, "cv1");  // (a convolution: the NHWC layout reaches the pools)
  std::string in = "c";
  for (int i = 1; i <= 3; ++i) {
    const std::string out = "p" + std::to_string(i);
    const int64_t k = mixed && i == 2 ? 3 : parallel ? 4 * i + 1 : 5;
    auto* n = b.node("MaxPool", {parallel ? std::string("c") : in}, {out}, "pool" + std::to_string(i));
    OnnxBuilder::attrInts(n, "kernel_shape", {k, k});
    OnnxBuilder::attrInts(n, "pads", {k / 2, k / 2, k / 2, k / 2});
    OnnxBuilder::attrInts(n, "strides", {1, 1});
    in = out;
  }
  const std::vector<std::string> parts = order ? std::vector<std::string>{"c", "p2", "p1", "p3"}
                                               : std::vector<std::string>{"c", "p1", "p2", "p3"};
  OnnxBuilder::attrInt(b.node("Concat", parts, {"y"}, "concat"), "axis", 1);
  b.output("y");
  if (readElsewhere) {
    b.node("Identity", {"p1"}, {"z"}, "other");
    b.output("z");
  }
  return b;
}

// fuse-maxpool-cascade: SPPF becomes one MaxPoolCascade layer (k 5, count 3, named after the
// pools and the Concat) with the same numbers, NCHW and NHWC (values without a pattern, so every
// window position matters), and so does SPP's parallel 5/9/13 form, whose numbers are SPPF's
// (the unfused chain is the reference). Negative: a pool output read elsewhere, a pool of another
// window in the chain, pools out of order in the Concat.
TEST(Passes, FuseMaxPoolCascadeStructureAndNumbers) {
  HostTensor x = iota({2, 3, 9, 11}, -1.f, 0.0f);
  for (int64_t i = 0; i < x.numel(); ++i) x.as<float>()[i] = std::sin(1.7f * static_cast<float>(i * i % 97));
  auto e0 = buildEngine(**sppfModel().parse(), 0);
  ASSERT_TRUE(e0.isOk()) << e0.status().message();
  for (auto [layout, parallel] :
       {std::pair<std::string, bool>{"nchw", false}, {"nhwc", false}, {"nchw", true}}) {
    auto e3 = buildEngine(**sppfModel(false, false, false, parallel).parse(), 3, layout);
    ASSERT_TRUE(e3.isOk()) << e3.status().message();
    int cascades = 0, pools = 0;
    for (const Layer& l : (*e3)->network().layers()) {
      pools += l.type == "MaxPool" || l.type == "Concat";
      if (l.type != "MaxPoolCascade") continue;
      ++cascades;
      EXPECT_EQ(l.name, "pool1 + pool2 + pool3 + concat");
      EXPECT_EQ(l.attrs.getInts("kernel_shape", {}), (std::vector<int64_t>{5, 5}));
      EXPECT_EQ(l.attrs.getInt("count", 0), 3);
      EXPECT_EQ(l.origins.size(), 4u);
      EXPECT_EQ(l.attrs.getString("layout", "NCHW"), layout == "nhwc" ? "NHWC" : "NCHW");
    }
    EXPECT_EQ(cascades, 1) << layout << parallel;
    EXPECT_EQ(pools, 0) << layout << parallel;
    expectSameOutput(**e0, **e3, x, 0.f);
  }
  for (auto [elsewhere, mixed, order] :
       {std::tuple<bool, bool, bool>{true, false, false}, {false, true, false}, {false, false, true}}) {
    auto kept = buildEngine(**sppfModel(elsewhere, mixed, order).parse(), 3);
    ASSERT_TRUE(kept.isOk()) << kept.status().message();
    int cascades = 0;
    for (const Layer& l : (*kept)->network().layers()) cascades += l.type == "MaxPoolCascade";
    EXPECT_EQ(cascades, 0) << elsewhere << mixed << order;
  }
}

TEST(Passes, FusePointwiseStopsAtOutsideReadersAndSingleOps) {
  // The Sigmoid's value is also read by ReduceSum: it stays, the four ops after it fuse.
  auto net = decodeModel(true).parse();
  ASSERT_TRUE(net.isOk());
  ASSERT_TRUE(inferNetworkShapes(**net, evaluateOnHost).isOk());
  bool changed = false;
  ASSERT_TRUE(makeFusePointwisePass()->run(**net, changed).isOk());
  EXPECT_TRUE(changed);
  std::vector<std::string> types;
  for (const Layer& l : (*net)->layers()) types.push_back(l.type);
  EXPECT_EQ(types, (std::vector<std::string>{"Sigmoid", "Pointwise", "ReduceSum"}));
  // A lone elementwise op, an integer Add, and an op with a graph output in the middle stay.
  OnnxBuilder b;
  b.input("x", onnx::TensorProto::FLOAT, {4});
  b.input("i", onnx::TensorProto::INT64, {4});
  b.node("Relu", {"x"}, {"r"}, "relu");
  b.node("Exp", {"r"}, {"e"}, "exp");
  b.node("Add", {"i", "i"}, {"j"}, "iadd");
  b.node("Neg", {"j"}, {"k"}, "ineg");
  b.output("r");
  b.output("e");
  b.output("k");
  auto n2 = b.parse();
  ASSERT_TRUE(n2.isOk());
  ASSERT_TRUE(inferNetworkShapes(**n2, evaluateOnHost).isOk());
  ASSERT_TRUE(makeFusePointwisePass()->run(**n2, changed).isOk());
  EXPECT_FALSE(changed);
}

TEST(Passes, FusePointwiseSharedValueInsideTheGroup) {
  // t = x + 1 read twice by the same group (t * t, then + t): one Pointwise, t computed once.
  OnnxBuilder b;
  b.input("x", onnx::TensorProto::FLOAT, {3, 5});
  b.initFloat("one", {}, {1.f});
  b.node("Add", {"x", "one"}, {"t"}, "inc");
  b.node("Mul", {"t", "t"}, {"sq"}, "square");
  b.node("Add", {"sq", "t"}, {"y"}, "plus");
  b.output("y");
  auto net = b.parse();
  ASSERT_TRUE(net.isOk());
  auto e0 = buildEngine(**b.parse(), 0);
  auto e3 = buildEngine(**net, 3);
  ASSERT_TRUE(e0.isOk() && e3.isOk());
  ASSERT_EQ((*e3)->network().layers().size(), 1u);
  EXPECT_EQ((*e3)->network().layers()[0].attrs.getString("expression"),
            "Add(Mul(Add(x0, x1), Add(x0, x1)), Add(x0, x1))");
  EXPECT_EQ((*e3)->network().layers()[0].attrs.getInts("program").size(), 9u);  // three instructions
  HostTensor x = iota({3, 5}, -2.f, 0.3f);
  auto y0 = runOne(**e0, "x", x, "y");
  auto y3 = runOne(**e3, "x", x, "y");
  ASSERT_TRUE(y0.isOk() && y3.isOk());
  for (int64_t i = 0; i < y0->numel(); ++i) EXPECT_NEAR(y0->as<float>()[i], y3->as<float>()[i], 1e-5) << i;
}

// A Pointwise program read back from a plan is checked before it runs.
TEST(Passes, PointwiseProgramsAreValidated) {
  Layer l;
  l.name = "pw";
  l.type = "Pointwise";
  l.attrs.set("program", std::vector<int64_t>{2, 0, 1, 18, 2, -1});  // Mul(r0, r1), Sigmoid(r2)
  l.attrs.set("params", std::vector<float>{0, 0, 0, 0});
  auto ok = decodePointwise(l, 2);
  ASSERT_TRUE(ok.isOk()) << ok.status().message();
  EXPECT_EQ(ok->size(), 2u);
  l.attrs.set("program", std::vector<int64_t>{2, 0, 3, 18, 2, -1});  // reads r3 before it exists
  EXPECT_FALSE(decodePointwise(l, 2).isOk());
  l.attrs.set("program", std::vector<int64_t>{99, 0, 1});  // unknown op
  l.attrs.set("params", std::vector<float>{0, 0});
  EXPECT_FALSE(decodePointwise(l, 2).isOk());
  l.attrs.set("program", std::vector<int64_t>{18, 0, 1});  // a unary op with a second operand
  EXPECT_FALSE(decodePointwise(l, 2).isOk());
  EXPECT_FALSE(decodePointwise(l, 9).isOk());  // more inputs than the kernels take
}

namespace {
// A backend whose tactic "breaks" fails and leaves the device broken (as a CUDA illegal address
// does: every later synchronize fails); the others do nothing.
class BreakingBackend : public Backend {
 public:
  struct Impl : LayerImpl {
    std::string tactic;
    bool* broken;
    std::string tacticName() const override { return tactic; }
    Status enqueue(const std::vector<TensorView>&, std::vector<TensorView>&, void*, void*) const override {
      if (tactic == "breaks") *broken = true;
      return *broken ? makeError(StatusCode::kRuntime, "illegal address") : Status::ok();
    }
  };
  std::string name() const override { return "breaking"; }
  std::string deviceName() const override { return "test"; }
  Status supports(const Layer&, const std::vector<DataType>&) const override { return Status::ok(); }
  Expected<std::unique_ptr<LayerImpl>> configure(const Layer& l, const Network&) const override {
    auto impl = std::make_unique<Impl>();
    impl->tactic = l.tactic;
    impl->broken = &broken_;
    return std::unique_ptr<LayerImpl>(std::move(impl));
  }
  Status synchronize(void*) const override {
    return broken_ ? makeError(StatusCode::kRuntime, "illegal address (sticky)") : Status::ok();
  }
  mutable bool broken_ = false;
};
}  // namespace

// A candidate that breaks the device is named, and no later candidate is trusted.
TEST(Tactics, DeviceFailureNamesTheTactic) {
  OnnxBuilder b;
  b.input("x", onnx::TensorProto::FLOAT, {8, 16});
  b.initFloat("w", {16, 4}, wave(64, 0.9f, 0.4f));
  b.node("MatMul", {"x", "w"}, {"y"}, "mm");
  b.output("y");
  auto net = b.parse();
  ASSERT_TRUE(net.isOk());
  ASSERT_TRUE(inferNetworkShapes(**net, evaluateOnHost).isOk());
  BreakingBackend dev;
  auto r = timeTactics(dev, (*net)->layers()[0], **net, {"fine", "breaks", "later"}, 3);
  ASSERT_EQ(r.size(), 3u);
  EXPECT_TRUE(r[0].isOk());
  ASSERT_FALSE(r[1].isOk());
  EXPECT_TRUE(isDeviceFailure(r[1].status()));
  EXPECT_NE(r[1].status().message().find("tactic 'breaks' of layer 'mm'"), std::string::npos)
      << r[1].status().message();
  ASSERT_FALSE(r[2].isOk());
  EXPECT_TRUE(isDeviceFailure(r[2].status()));
  // A candidate that fails without breaking the device is an ordinary failure.
  BreakingBackend fine;
  auto r2 = timeTactics(fine, (*net)->layers()[0], **net, {"fine"}, 1);
  ASSERT_TRUE(r2[0].isOk());
}

namespace {
// y = Sigmoid(Transpose(Reshape(Conv(x)))), YOLOv5's head; `probe`: the Reshape's output also read
// by a ReduceSum (the activation then must stay where it is).
OnnxBuilder headModel(bool probe) {
  OnnxBuilder b;
  b.input("x", onnx::TensorProto::FLOAT, {2, 4, 3, 5});
  std::vector<float> w(6 * 4);
  for (size_t i = 0; i < w.size(); ++i) w[i] = 0.3f * std::sin(0.7f * static_cast<float>(i));
  b.initFloat("w", {6, 4, 1, 1}, w);
  b.initFloat("b", {6}, {0.1f, -0.2f, 0.3f, 0.f, 0.05f, -0.1f});
  b.initInt64("shape", {5}, {2, 2, 3, 3, 5});
  b.node("Conv", {"x", "w", "b"}, {"c"}, "head");
  b.node("Reshape", {"c", "shape"}, {"r"}, "view");
  OnnxBuilder::attrInts(b.node("Transpose", {"r"}, {"t"}, "permute"), "perm", {0, 1, 3, 4, 2});
  b.node("Sigmoid", {"t"}, {"y"}, "sig");
  b.output("y");
  if (probe) {
    b.node("ReduceSum", {"r"}, {"s"}, "probe");
    b.output("s");
  }
  return b;
}
}  // namespace

TEST(Passes, FuseActivationThroughViewsStructureAndNumbers) {
  auto net = headModel(false).parse();
  ASSERT_TRUE(net.isOk());
  ASSERT_TRUE(inferNetworkShapes(**net, evaluateOnHost).isOk());
  bool changed = false;
  ASSERT_TRUE(makeFuseActivationThroughViewsPass()->run(**net, changed).isOk());
  EXPECT_TRUE(changed);
  std::vector<std::string> types;
  for (const Layer& l : (*net)->layers()) types.push_back(l.type);
  EXPECT_EQ(types, (std::vector<std::string>{"FusedConv", "Reshape", "Transpose"}));
  EXPECT_EQ((*net)->layers()[0].attrs.getString("activation"), "Sigmoid");
  EXPECT_EQ((*net)->layers()[0].name, "head + sig");
  EXPECT_EQ((*net)->tensor((*net)->layers()[2].outputs[0]).name, "y");
  ASSERT_TRUE((*net)->validate().isOk());
  auto e0 = buildEngine(**headModel(false).parse(), 0);
  auto e3 = buildEngine(**headModel(false).parse(), 3);
  ASSERT_TRUE(e0.isOk() && e3.isOk());
  HostTensor x = iota({2, 4, 3, 5}, -1.5f, 0.031f);
  auto y0 = runOne(**e0, "x", x, "y");
  auto y3 = runOne(**e3, "x", x, "y");
  ASSERT_TRUE(y0.isOk() && y3.isOk());
  ASSERT_EQ(y0->dims(), (Dims{2, 2, 3, 5, 3}));
  for (int64_t i = 0; i < y0->numel(); ++i) EXPECT_NEAR(y0->as<float>()[i], y3->as<float>()[i], 1e-6) << i;
  // negative: the view is read elsewhere too, so the Sigmoid stays after it
  auto other = headModel(true).parse();
  ASSERT_TRUE(other.isOk());
  ASSERT_TRUE(inferNetworkShapes(**other, evaluateOnHost).isOk());
  ASSERT_TRUE(makeFuseActivationThroughViewsPass()->run(**other, changed).isOk());
  EXPECT_FALSE(changed);
}

namespace {
// y = Transpose(Reshape(Transpose(x, p1), target), p2) on x [2, 4, 5, 6]: the NHWC -> NCHW reformat,
// a split of the channel axis, and YOLOv5's permute. `merge`: a target that merges axes instead.
OnnxBuilder transposeReshapeTranspose(bool merge) {
  OnnxBuilder b;
  b.input("x", onnx::TensorProto::FLOAT, {2, 4, 5, 6});
  OnnxBuilder::attrInts(b.node("Transpose", {"x"}, {"t"}, "to_nchw"), "perm", {0, 3, 1, 2});  // [2, 6, 4, 5]
  if (merge)
    b.initInt64("target", {3}, {2, 6, 20});
  else
    b.initInt64("target", {5}, {2, 2, 3, 4, 5});
  b.node("Reshape", {"t", "target"}, {"r"}, "view");
  if (merge)
    OnnxBuilder::attrInts(b.node("Transpose", {"r"}, {"y"}, "permute"), "perm", {0, 2, 1});
  else
    OnnxBuilder::attrInts(b.node("Transpose", {"r"}, {"y"}, "permute"), "perm", {0, 1, 3, 4, 2});
  b.output("y");
  return b;
}
}  // namespace

TEST(Passes, FoldTransposeThroughReshapeStructureAndNumbers) {
  for (bool merge : {false, true}) {
    SCOPED_TRACE(merge ? "merging reshape" : "splitting reshape");
    auto net = transposeReshapeTranspose(merge).parse();
    ASSERT_TRUE(net.isOk());
    ASSERT_TRUE(inferNetworkShapes(**net, evaluateOnHost).isOk());
    bool changed = false;
    ASSERT_TRUE(makeFoldTransposeThroughReshapePass()->run(**net, changed).isOk());
    EXPECT_EQ(changed, !merge);  // a merge of axes is left alone
    if (!merge) {
      ASSERT_EQ((*net)->layers().size(), 2u);
      const Layer& r = (*net)->layers()[0];
      const Layer& t = (*net)->layers()[1];
      EXPECT_EQ(r.type, "Reshape");
      EXPECT_EQ((*net)->tensor(r.inputs[0]).name, "x");
      const HostTensor& target = *(*net)->tensor(r.inputs[1]).constant;
      EXPECT_EQ(std::vector<int64_t>(target.as<int64_t>(), target.as<int64_t>() + target.numel()),
                (std::vector<int64_t>{2, 4, 5, 2, 3}));
      EXPECT_EQ(t.attrs.getInts("perm"), (std::vector<int64_t>{0, 3, 1, 2, 4}));
      EXPECT_EQ(t.name, "to_nchw + view + permute");
      ASSERT_TRUE(inferNetworkShapes(**net, evaluateOnHost).isOk());
      EXPECT_EQ(shapeToString((*net)->tensor(t.outputs[0]).shape), "[2,2,4,5,3]");
    }
    auto e0 = buildEngine(**transposeReshapeTranspose(merge).parse(), 0);
    auto e3 = buildEngine(**transposeReshapeTranspose(merge).parse(), 3);
    ASSERT_TRUE(e0.isOk() && e3.isOk());
    HostTensor x = iota({2, 4, 5, 6}, -3.f, 0.017f);
    auto y0 = runOne(**e0, "x", x, "y");
    auto y3 = runOne(**e3, "x", x, "y");
    ASSERT_TRUE(y0.isOk() && y3.isOk());
    ASSERT_EQ(y0->dims(), y3->dims());
    for (int64_t i = 0; i < y0->numel(); ++i) EXPECT_EQ(y0->as<float>()[i], y3->as<float>()[i]) << i;
  }
}

// The same fold where the second permutation is a Pointwise layer's input permutation (what the
// layouts leave of YOLOv5's Detect head: fold-transpose-into-pointwise took the permute before the
// NHWC reformat existed): the Reshape reads x through R' and the Pointwise layer reads that view
// through the composed permutation; no Transpose is left. The numbers match the unfused graph.
// Negative: the view read by a second layer.
TEST(Passes, FoldTransposeThroughReshapeIntoPointwisePerm) {
  auto model = [](bool readElsewhere) {
    OnnxBuilder b;
    b.input("x", onnx::TensorProto::FLOAT, {2, 4, 5, 6});
    OnnxBuilder::attrInts(b.node("Transpose", {"x"}, {"t"}, "to_nchw"), "perm", {0, 3, 1, 2});
    b.initInt64("target", {5}, {2, 2, 3, 4, 5});
    b.node("Reshape", {"t", "target"}, {"r"}, "view");
    OnnxBuilder::attrInts(b.node("Transpose", {"r"}, {"y"}, "permute"), "perm", {0, 1, 3, 4, 2});
    b.node("Sigmoid", {"y"}, {"s"}, "sig");
    b.node("Mul", {"s", "y"}, {"z"}, "mul");
    b.output("z");
    if (readElsewhere) {
      b.node("Exp", {"r"}, {"e"}, "other");
      b.output("e");
    }
    return b;
  };
  for (bool readElsewhere : {false, true}) {
    SCOPED_TRACE(readElsewhere ? "view read elsewhere" : "view read by the Pointwise alone");
    auto net = model(readElsewhere).parse();
    ASSERT_TRUE(net.isOk());
    ASSERT_TRUE(inferNetworkShapes(**net, evaluateOnHost).isOk());
    bool changed = false;
    for (auto& pass : {makeFusePointwisePass(), makeFoldTransposeIntoPointwisePass()}) {
      ASSERT_TRUE(pass->run(**net, changed).isOk());
      ASSERT_TRUE(inferNetworkShapes(**net, evaluateOnHost).isOk());
    }
    const Layer* pw = nullptr;
    for (const Layer& l : (*net)->layers())
      if (l.type == "Pointwise") pw = &l;
    ASSERT_NE(pw, nullptr);
    ASSERT_EQ(pw->attrs.getInts("input_perms", {}), (std::vector<int64_t>{5, 0, 1, 3, 4, 2}));
    ASSERT_TRUE(makeFoldTransposeThroughReshapePass()->run(**net, changed).isOk());
    EXPECT_EQ(changed, !readElsewhere);
    ASSERT_TRUE(inferNetworkShapes(**net, evaluateOnHost).isOk());
    ASSERT_TRUE((*net)->validate().isOk());
    int transposes = 0;
    for (const Layer& l : (*net)->layers()) {
      transposes += l.type == "Transpose";
      if (l.type == "Pointwise") pw = &l;
    }
    EXPECT_EQ(transposes, readElsewhere ? 1 : 0);
    if (!readElsewhere) {
      EXPECT_EQ(pw->attrs.getInts("input_perms", {}), (std::vector<int64_t>{5, 0, 3, 1, 2, 4}));
      EXPECT_EQ(pw->name.rfind("to_nchw + ", 0), 0u) << pw->name;
      EXPECT_EQ(shapeToString((*net)->tensor(pw->inputs[0]).shape), "[2,4,5,2,3]");
    }
    if (readElsewhere) continue;  // (two outputs; runOne binds one)
    auto ref = buildEngine(**model(false).parse(), 0);
    auto got = buildEngine(**net, 0);
    ASSERT_TRUE(ref.isOk() && got.isOk()) << (got.isOk() ? "" : got.status().message());
    expectSameOutput(**ref, **got, iota({2, 4, 5, 6}, -3.f, 0.017f), 1e-6f, "x", "z");
  }
}

namespace {
// A tied embedding and LM head: y = Gather(W, ids) Transpose(W), W [n, 32]; `extra`: W also feeds
// a second MatMul (so the pass must leave it alone).
OnnxBuilder tiedHead(int64_t n, bool extra) {
  OnnxBuilder b;
  b.input("ids", onnx::TensorProto::INT64, {2, 3});
  std::vector<float> w(n * 32);
  for (size_t i = 0; i < w.size(); ++i) w[i] = 0.1f * std::sin(0.37f * static_cast<float>(i));
  b.initFloat("W", {n, 32}, w);
  b.node("Gather", {"W", "ids"}, {"e"}, "embed");
  OnnxBuilder::attrInts(b.node("Transpose", {"W"}, {"Wt"}, "tie"), "perm", {1, 0});
  b.node("MatMul", {"e", "Wt"}, {"y"}, "lm_head");
  b.output("y");
  if (extra) {
    b.node("MatMul", {"e", "Wt"}, {"y2"}, "other_head");
    b.output("y2");
  }
  return b;
}
}  // namespace

// pad-matmul-n (run by the builder for CUDA engines): the 67-wide head's weight gets 72 columns
// and the MatMul the attribute columns = 67 (its output stays 67 wide); the tied table is padded once and its
// Gather keeps 67 as its index range
// (-1 is still row 66); the outputs agree. Constant folding is off here, as for GPT-2's 154 MB
// table (over the folding limit), so the Transpose becomes the MatMul's transB rather than a
// transposed copy. Negative: a multiple of 8, and a weight read by two MatMuls.
TEST(Passes, PadMatMulNStructureAndNumbers) {
  PipelineOptions po;
  po.disabled = {"constant-folding"};
  auto net = tiedHead(67, false).parse();
  ASSERT_TRUE(net.isOk());
  ASSERT_TRUE(inferNetworkShapes(**net, evaluateOnHost).isOk());
  ASSERT_TRUE(runPassPipeline(**net, po).isOk());
  ASSERT_TRUE(inferNetworkShapes(**net, evaluateOnHost).isOk());
  bool changed = false;
  ASSERT_TRUE(makePadMatMulNPass()->run(**net, changed).isOk());
  ASSERT_TRUE(changed);
  ASSERT_TRUE(inferNetworkShapes(**net, evaluateOnHost).isOk());
  ASSERT_TRUE((*net)->validate().isOk());
  std::vector<std::string> types;
  for (const Layer& l : (*net)->layers()) types.push_back(l.type);
  EXPECT_EQ(types, (std::vector<std::string>{"Gather", "MatMul"}));
  const Layer& gather = (*net)->layers()[0];
  const Layer& mm = (*net)->layers()[1];
  EXPECT_EQ(gather.attrs.getInt("axis_size", -1), 67);
  EXPECT_EQ(gather.inputs[0], mm.inputs[1]);  // stored once
  EXPECT_EQ((*net)->tensor(mm.inputs[1]).constant->dims(), (Dims{72, 32}));
  EXPECT_EQ(mm.attrs.getInt("columns", 0), 67);
  EXPECT_EQ(shapeToString((*net)->tensor(mm.outputs[0]).shape), "[2,3,67]");
  // Numbers: the padded network (built as is, opt level 0) against the original.
  HostTensor ids(DataType::kInt64, {2, 3});
  const int64_t vals[] = {0, 5, 66, -1, 12, 40};
  std::copy(vals, vals + 6, ids.as<int64_t>());
  auto padded = buildEngine(**net, 0);
  auto plain = buildEngine(**tiedHead(67, false).parse(), 0);
  ASSERT_TRUE(padded.isOk() && plain.isOk()) << padded.status().message();
  auto y0 = runAny(**plain, {{"ids", &ids}}, {2, 3, 67});
  auto y1 = runAny(**padded, {{"ids", &ids}}, {2, 3, 67});
  ASSERT_TRUE(y0.isOk() && y1.isOk()) << y1.status().message();
  for (int64_t i = 0; i < y0->numel(); ++i) EXPECT_NEAR(y0->as<float>()[i], y1->as<float>()[i], 1e-6) << i;
  // An index past the 67 valid rows is still an error, not a padded zero row.
  ids.as<int64_t>()[0] = 69;
  EXPECT_FALSE(runAny(**padded, {{"ids", &ids}}, {2, 3, 67}).isOk());
  // Its name is one --disable-pass knows (the builder runs it outside the pipeline's list).
  PipelineOptions off;
  off.disabled = {"pad-matmul-n"};
  auto again = tiedHead(67, false).parse();
  ASSERT_TRUE(again.isOk());
  ASSERT_TRUE(inferNetworkShapes(**again, evaluateOnHost).isOk());
  EXPECT_TRUE(runPassPipeline(**again, off).isOk());
  // Negative cases.
  for (auto [n, extra] : {std::pair<int64_t, bool>{72, false}, {67, true}}) {
    auto other = tiedHead(n, extra).parse();
    ASSERT_TRUE(other.isOk());
    ASSERT_TRUE(inferNetworkShapes(**other, evaluateOnHost).isOk());
    ASSERT_TRUE(runPassPipeline(**other, po).isOk());
    ASSERT_TRUE(inferNetworkShapes(**other, evaluateOnHost).isOk());
    ASSERT_TRUE(makePadMatMulNPass()->run(**other, changed).isOk());
    EXPECT_FALSE(changed) << n << " " << extra;
  }
}

namespace {
// s = x + pos; y = LayerNormalization(s) (+ s again when `sumRead`: the residual stream of a
// pre-LN transformer). pos has shape `posDims` (a repeat along x's leading dims, or not).
OnnxBuilder addLayerNormModel(bool sumRead, const std::vector<int64_t>& posDims) {
  OnnxBuilder b;
  b.input("x", onnx::TensorProto::FLOAT, {2, 5, 8});
  int64_t n = 1;
  for (int64_t d : posDims) n *= d;
  std::vector<float> pos(n), g(8), be(8);
  for (int64_t i = 0; i < n; ++i) pos[i] = 0.3f * std::sin(0.7f * static_cast<float>(i));
  for (int i = 0; i < 8; ++i) {
    g[i] = 0.8f + 0.05f * i;
    be[i] = 0.1f * (i % 3) - 0.1f;
  }
  b.initFloat("pos", posDims, pos);
  b.initFloat("g", {8}, g);
  b.initFloat("be", {8}, be);
  b.node("Add", {"x", "pos"}, {"s"}, "embed_sum");
  auto* ln = b.node("LayerNormalization", {"s", "g", "be"}, {sumRead ? "n" : "y"}, "ln_1");
  OnnxBuilder::attrInt(ln, "axis", -1);
  OnnxBuilder::attrFloat(ln, "epsilon", 1e-5f);
  if (sumRead) b.node("Add", {"n", "s"}, {"y"}, "residual");
  b.output("y");
  return b;
}
}  // namespace

// fuse-matmul-layernorm (the builder runs it for CUDA engines; here by hand after the pipeline):
// the residual FusedMatMul and its LayerNormalization become one MatMulLayerNorm where the
// FusedMatMul sat, with the sum as a second output where it is read again; the first linear layer
// (no normalisation after it) stays. The CPU runs the fused network (opt level 0) to the unfused
// one's numbers. Negative: a normalisation over the middle axis, and the pass disabled by name.
TEST(Passes, FuseMatMulLayerNormStructureAndNumbers) {
  HostTensor x = iota({2, 5, 16}, -1.f, 0.013f);
  for (bool sumRead : {false, true}) {
    SCOPED_TRACE(sumRead ? "sum read again" : "sum read once");
    auto net = matmulLayerNormModel(sumRead, 2, 5, 16, 24).parse();
    ASSERT_TRUE(net.isOk());
    ASSERT_TRUE(inferNetworkShapes(**net, evaluateOnHost).isOk());
    ASSERT_TRUE(runPassPipeline(**net, PipelineOptions{}).isOk());
    ASSERT_TRUE(inferNetworkShapes(**net, evaluateOnHost).isOk());
    bool changed = false;
    ASSERT_TRUE(makeFuseMatMulLayerNormPass()->run(**net, changed).isOk());
    ASSERT_TRUE(changed);
    ASSERT_TRUE(inferNetworkShapes(**net, evaluateOnHost).isOk());
    ASSERT_TRUE((*net)->validate().isOk());
    std::vector<std::string> types;
    for (const Layer& l : (*net)->layers()) types.push_back(l.type);
    std::vector<std::string> want = {"FusedMatMul", "Relu", "MatMulLayerNorm"};
    if (sumRead) want.push_back("Add");
    EXPECT_EQ(types, want);
    const Layer& f = (*net)->layers()[2];
    EXPECT_EQ(f.name, "proj + proj_bias + residual + ln");
    ASSERT_EQ(f.inputs.size(), 6u);
    EXPECT_EQ((*net)->tensor(f.inputs[0]).name, "a");
    EXPECT_EQ((*net)->tensor(f.inputs[3]).name, "h");  // the residual
    EXPECT_EQ((*net)->tensor(f.inputs[4]).name, "g");
    ASSERT_EQ(f.outputs.size(), sumRead ? 2u : 1u);
    if (sumRead) {
      EXPECT_EQ((*net)->tensor(f.outputs[1]).name, "s");
    }
    EXPECT_EQ(f.origins.size(), 4u);
    auto fused = buildEngine(**net, 0);
    auto plain = buildEngine(**matmulLayerNormModel(sumRead, 2, 5, 16, 24).parse(), 0);
    ASSERT_TRUE(fused.isOk() && plain.isOk()) << fused.status().message();
    expectSameOutput(**plain, **fused, x, 1e-5f);
  }
  auto middle = matmulLayerNormModel(false, 2, 5, 16, 24, 1).parse();
  ASSERT_TRUE(middle.isOk());
  ASSERT_TRUE(inferNetworkShapes(**middle, evaluateOnHost).isOk());
  ASSERT_TRUE(runPassPipeline(**middle, PipelineOptions{}).isOk());
  bool changed = true;
  ASSERT_TRUE(makeFuseMatMulLayerNormPass()->run(**middle, changed).isOk());
  EXPECT_FALSE(changed);
  PipelineOptions off;
  off.disabled = {"fuse-matmul-layernorm"};
  auto again = matmulLayerNormModel(false, 2, 5, 16, 24).parse();
  ASSERT_TRUE(again.isOk());
  ASSERT_TRUE(inferNetworkShapes(**again, evaluateOnHost).isOk());
  EXPECT_TRUE(runPassPipeline(**again, off).isOk());  // a name --disable-pass knows
}

// fuse-add-layernorm: Add -> LayerNormalization becomes one AddLayerNorm where the Add sits; when
// the sum is read again it is the layer's second output. Numbers agree with the unfused network
// (opt level 0). Negative: a residual that broadcasts along a middle dim ([2, 1, 8] under [2, 5, 8]).
TEST(Passes, FuseAddLayerNormStructureAndNumbers) {
  HostTensor x = iota({2, 5, 8}, -1.f, 0.037f);
  for (bool sumRead : {false, true}) {
    SCOPED_TRACE(sumRead ? "sum read again" : "sum read once");
    auto net = addLayerNormModel(sumRead, {1, 5, 8}).parse();
    ASSERT_TRUE(net.isOk());
    ASSERT_TRUE(inferNetworkShapes(**net, evaluateOnHost).isOk());
    bool changed = false;
    ASSERT_TRUE(makeFuseAddLayerNormPass()->run(**net, changed).isOk());
    ASSERT_TRUE(changed);
    ASSERT_TRUE((*net)->validate().isOk());
    const Layer& f = (*net)->layers()[0];
    EXPECT_EQ(f.type, "AddLayerNorm");
    EXPECT_EQ(f.name, "embed_sum + ln_1");
    EXPECT_EQ((*net)->tensor(f.inputs[0]).name, "x");
    EXPECT_EQ((*net)->tensor(f.inputs[1]).name, "pos");
    ASSERT_EQ(f.outputs.size(), sumRead ? 2u : 1u);
    if (sumRead) {
      EXPECT_EQ((*net)->tensor(f.outputs[1]).name, "s");
    }
    EXPECT_EQ((*net)->layers().size(), sumRead ? 2u : 1u);
    auto e0 = buildEngine(**addLayerNormModel(sumRead, {1, 5, 8}).parse(), 0);
    auto e3 = buildEngine(**addLayerNormModel(sumRead, {1, 5, 8}).parse(), 3);
    ASSERT_TRUE(e0.isOk() && e3.isOk());
    int fusedLayers = 0;
    for (const Layer& l : (*e3)->network().layers()) fusedLayers += l.type == "AddLayerNorm";
    EXPECT_EQ(fusedLayers, 1);
    auto y0 = runOne(**e0, "x", x, "y");
    auto y3 = runOne(**e3, "x", x, "y");
    ASSERT_TRUE(y0.isOk() && y3.isOk()) << y3.status().message();
    for (int64_t i = 0; i < y0->numel(); ++i) EXPECT_NEAR(y0->as<float>()[i], y3->as<float>()[i], 1e-5) << i;
  }
  auto other = addLayerNormModel(false, {2, 1, 8}).parse();
  ASSERT_TRUE(other.isOk());
  ASSERT_TRUE(inferNetworkShapes(**other, evaluateOnHost).isOk());
  bool changed = true;
  ASSERT_TRUE(makeFuseAddLayerNormPass()->run(**other, changed).isOk());
  EXPECT_FALSE(changed);
}
