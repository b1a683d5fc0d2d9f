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
