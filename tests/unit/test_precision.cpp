// Precision assignment: FP16 islands, reformat casts at the boundaries, declared I/O types kept,
// FP16 weights saturated. Runs on any machine through a stand-in backend.
#include <gtest/gtest.h>

#include <cmath>

#include "backends/backend.h"
#include "builder/precision.h"
#include "ir/shape_inference.h"
#include "test_util.h"

using namespace trt;
using namespace trt::testutil;

namespace {

// A test backend: the CPU backend, claiming FP16 for Relu, Add and MatMul only.
class Fp16TestBackend : public Backend {
 public:
  std::string name() const override { return "fp16-test"; }
  std::string deviceName() const override { return "fp16-test"; }
  bool hostMemory() const override { return false; }
  Status supports(const Layer& l, const std::vector<DataType>& t) const override {
    return findBackend("cpu")->supports(l, t);
  }
  Expected<std::unique_ptr<LayerImpl>> configure(const Layer& l, const Network& n) const override {
    return findBackend("cpu")->configure(l, n);
  }
  bool supportsPrecision(const Layer& l, const std::string& p) const override {
    return p == "fp32" || (p == "fp16" && (l.type == "Relu" || l.type == "Add" || l.type == "MatMul"));
  }
};

}  // namespace

TEST(Precision, Fp16IslandsWithReformats) {
  // x -> Relu -> Add(mask) -> ReduceSum -> MatMul(w) -> y ; the mask constant is finfo.min
  OnnxBuilder b(13);
  b.input("x", onnx::TensorProto::FLOAT, {2, 4});
  b.node("Relu", {"x"}, {"r"});
  b.initFloat("mask", {4}, {0.f, -3.4e38f, 1.f, 2.f});
  b.node("Add", {"r", "mask"}, {"a"});
  b.node("Exp", {"a"}, {"e"});
  b.initFloat("w", {4, 3}, std::vector<float>(12, 0.5f));
  b.node("MatMul", {"e", "w"}, {"y"});
  b.output("y");
  auto net = b.parse();
  ASSERT_TRUE(net.isOk());
  ASSERT_TRUE(inferNetworkShapes(**net).isOk());
  Fp16TestBackend testBackend;
  ASSERT_TRUE(assignPrecisions(**net, testBackend, PrecisionOptions{true, false}).isOk());
  ASSERT_TRUE(inferNetworkShapes(**net).isOk());
  const Network& n = **net;
  std::vector<std::string> types;
  for (const Layer& l : n.layers()) types.push_back(l.type + ":" + l.precision);
  // x(fp32) -> cast -> Relu fp16 -> Add fp16 -> cast -> Exp fp32 -> cast -> MatMul fp16 (fp32 out)
  EXPECT_EQ(types, (std::vector<std::string>{"Cast:fp16", "Relu:fp16", "Add:fp16", "Cast:fp32", "Exp:fp32",
                                             "Cast:fp16", "MatMul:fp16"}));
  EXPECT_EQ(n.tensor(n.inputs()[0]).type, DataType::kFloat32);
  EXPECT_EQ(n.tensor(n.outputs()[0]).type, DataType::kFloat32);
  EXPECT_EQ(n.layers().back().attrs.getString("out_dtype"), "float32");
  // the mask became an FP16 constant, saturated instead of -inf
  const Layer& add = n.layers()[2];
  const TensorDesc& mask = n.tensor(add.inputs[1]);
  ASSERT_TRUE(mask.isConstant());
  EXPECT_EQ(mask.constant->type(), DataType::kFloat16);
  EXPECT_FLOAT_EQ(halfToFloat(mask.constant->as<uint16_t>()[1]), -65504.f);
  EXPECT_TRUE(n.validate().isOk());
}

TEST(Precision, Tf32MarksLayersOnly) {
  OnnxBuilder b;
  b.input("x", onnx::TensorProto::FLOAT, {2, 4});
  b.node("Relu", {"x"}, {"y"});
  b.output("y");
  auto net = b.parse();
  Fp16TestBackend testBackend;
  ASSERT_TRUE(assignPrecisions(**net, testBackend, PrecisionOptions{false, true}).isOk());
  EXPECT_EQ((*net)->layers().size(), 1u);
  EXPECT_EQ((*net)->layers()[0].precision, "tf32");
}

// FP16 layers evaluated on the host (shape computations of FP16 engines) run widened to float32.
TEST(Precision, HostEvaluationWidensFloat16) {
  Layer sub;
  sub.type = "Sub";
  HostTensor a(DataType::kFloat16, {3}), b(DataType::kFloat16, {3}), y(DataType::kFloat16, {3});
  for (int i = 0; i < 3; ++i) {
    a.as<uint16_t>()[i] = floatToHalf(1.5f * static_cast<float>(i));
    b.as<uint16_t>()[i] = floatToHalf(0.5f);
  }
  std::vector<TensorView> in = {TensorView::of(a), TensorView::of(b)}, out = {TensorView::of(y)};
  ASSERT_TRUE(evaluateOnHost(sub, in, out).isOk());
  EXPECT_FLOAT_EQ(halfToFloat(y.as<uint16_t>()[2]), 2.5f);
}

// I/O formats: the FP16 islands' model with an fp16 input and output. The input's boundary Cast
// goes (Relu reads the fp16 input), the MatMul writes the fp16 output itself (no float32 logits);
// with only the output asked for, the input keeps its Cast; bad formats are clear errors.
TEST(Precision, IOFormatsDropBoundaryCasts) {
  auto model = [] {
    OnnxBuilder b(13);
    b.input("x", onnx::TensorProto::FLOAT, {2, 4});
    b.node("Relu", {"x"}, {"r"});
    b.node("Exp", {"r"}, {"e"});
    b.initFloat("w", {4, 3}, std::vector<float>(12, 0.5f));
    b.node("MatMul", {"e", "w"}, {"y"});
    b.output("y");
    return b;
  };
  Fp16TestBackend testBackend;
  auto typesOf = [](const Network& n) {
    std::vector<std::string> types;
    for (const Layer& l : n.layers()) types.push_back(l.type + ":" + l.precision);
    return types;
  };
  {
    auto net = model().parse();
    ASSERT_TRUE(net.isOk() && inferNetworkShapes(**net).isOk());
    ASSERT_TRUE(assignPrecisions(**net, testBackend, PrecisionOptions{true, false}).isOk());
    ASSERT_TRUE(applyIOFormats(**net, {"fp16:chw"}, {"fp16"}).isOk());
    ASSERT_TRUE(inferNetworkShapes(**net).isOk());
    const Network& n = **net;
    EXPECT_EQ(typesOf(n),
              (std::vector<std::string>{"Relu:fp16", "Cast:fp32", "Exp:fp32", "Cast:fp16", "MatMul:fp16"}));
    EXPECT_EQ(n.tensor(n.inputs()[0]).type, DataType::kFloat16);
    EXPECT_EQ(n.tensor(n.outputs()[0]).type, DataType::kFloat16);
    EXPECT_FALSE(n.layers().back().attrs.has("out_dtype"));
    EXPECT_TRUE(n.validate().isOk());
  }
  {
    auto net = model().parse();
    ASSERT_TRUE(net.isOk() && inferNetworkShapes(**net).isOk());
    ASSERT_TRUE(assignPrecisions(**net, testBackend, PrecisionOptions{true, false}).isOk());
    ASSERT_TRUE(applyIOFormats(**net, {}, {"fp16"}).isOk());
    const Network& n = **net;
    EXPECT_EQ(typesOf(n).front(), "Cast:fp16");
    EXPECT_EQ(n.tensor(n.inputs()[0]).type, DataType::kFloat32);
  }
  for (const auto& [ins, why] : std::vector<std::pair<std::vector<std::string>, std::string>>{
           {{"int8"}, "int8 I/O is not supported"},
           {{"fp16:hwc8"}, "only linear (chw) layouts"},
           {{"fp16", "fp32"}, "2 given, the model has 1 float inputs"}}) {
    auto net = model().parse();
    ASSERT_TRUE(net.isOk() && inferNetworkShapes(**net).isOk());
    const Status st = applyIOFormats(**net, ins, {});
    EXPECT_FALSE(st.isOk());
    EXPECT_NE(st.message().find(why), std::string::npos) << st.message();
  }
}

// An FP32 engine with fp16 I/O (the CPU backend): Casts at the boundary, outputs within FP16
// rounding of the float32 engine's.
TEST(Precision, Fp16IOOnAnFp32Engine) {
  OnnxBuilder b(13);
  b.input("x", onnx::TensorProto::FLOAT, {2, 4});
  b.node("Relu", {"x"}, {"r"});
  b.initFloat("w", {4, 3}, {0.5f, -1.f, 0.25f, 2.f, 0.75f, -0.5f, 1.f, 1.5f, -2.f, 0.125f, 3.f, -0.25f});
  b.node("MatMul", {"r", "w"}, {"y"});
  b.output("y");
  auto plain = b.parse();
  ASSERT_TRUE(plain.isOk());
  auto ref = buildEngine(**plain);
  ASSERT_TRUE(ref.isOk());
  auto net = b.parse();
  ASSERT_TRUE(net.isOk());
  BuilderConfig cfg;
  cfg.inputIOFormats = {"fp16"};
  cfg.outputIOFormats = {"fp16"};
  auto e = buildWithConfig(**net, cfg);
  ASSERT_TRUE(e.isOk()) << e.status().message();
  for (const auto& binding : (*e)->bindings()) EXPECT_EQ(binding.type, DataType::kFloat16) << binding.name;
  HostTensor x = iota({2, 4}, -1.f, 0.375f);
  HostTensor xh(DataType::kFloat16, {2, 4});
  for (int64_t i = 0; i < x.numel(); ++i) xh.as<uint16_t>()[i] = floatToHalf(x.as<float>()[i]);
  auto y0 = runOne(**ref, "x", x, "y");
  auto y1 = runOne(**e, "x", xh, "y");
  ASSERT_TRUE(y0.isOk() && y1.isOk()) << (y1.isOk() ? "" : y1.status().message());
  ASSERT_EQ(y1->type(), DataType::kFloat16);
  for (int64_t i = 0; i < y0->numel(); ++i)
    EXPECT_NEAR(y0->as<float>()[i], halfToFloat(y1->as<uint16_t>()[i]), 1e-2) << i;
}
