// Helpers for unit tests: small ONNX models built with the protobuf API, and engine runs.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "backends/backend.h"
#include "onnx/onnx.pb.h"
#include "trt/trt.h"

namespace trt {
namespace testutil {

// A ModelProto under construction.
struct OnnxBuilder {
  onnx::ModelProto model;
  onnx::GraphProto* g;
  explicit OnnxBuilder(int opset = 17) {
    model.set_ir_version(8);
    auto* o = model.add_opset_import();
    o->set_domain("");
    o->set_version(opset);
    g = model.mutable_graph();
    g->set_name("test");
  }
  // dims: >= 0 static, -1 with a symbol name from `syms`
  void input(const std::string& name, int elemType, const std::vector<int64_t>& dims,
             const std::vector<std::string>& syms = {}) {
    auto* vi = g->add_input();
    vi->set_name(name);
    auto* tt = vi->mutable_type()->mutable_tensor_type();
    tt->set_elem_type(elemType);
    auto* sh = tt->mutable_shape();
    for (size_t i = 0; i < dims.size(); ++i) {
      auto* d = sh->add_dim();
      if (dims[i] >= 0)
        d->set_dim_value(dims[i]);
      else
        d->set_dim_param(i < syms.size() ? syms[i] : "N");
    }
  }
  void output(const std::string& name, int elemType = onnx::TensorProto::FLOAT) {
    auto* vi = g->add_output();
    vi->set_name(name);
    vi->mutable_type()->mutable_tensor_type()->set_elem_type(elemType);
  }
  onnx::NodeProto* node(const std::string& op, const std::vector<std::string>& ins,
                        const std::vector<std::string>& outs, const std::string& name = "") {
    auto* n = g->add_node();
    n->set_op_type(op);
    n->set_name(name.empty() ? op + "_" + std::to_string(g->node_size()) : name);
    for (auto& i : ins) n->add_input(i);
    for (auto& o : outs) n->add_output(o);
    return n;
  }
  static void attrInt(onnx::NodeProto* n, const std::string& name, int64_t v) {
    auto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INT);
    a->set_i(v);
  }
  static void attrFloat(onnx::NodeProto* n, const std::string& name, float v) {
    auto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::FLOAT);
    a->set_f(v);
  }
  static void attrString(onnx::NodeProto* n, const std::string& name, const std::string& v) {
    auto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::STRING);
    a->set_s(v);
  }
  static void attrInts(onnx::NodeProto* n, const std::string& name, const std::vector<int64_t>& v) {
    auto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INTS);
    for (auto x : v) a->add_ints(x);
  }
  // A 1-D int64 initializer (shapes, pads, axes).
  onnx::TensorProto* initInt64(const std::string& name, const std::vector<int64_t>& vals) {
    auto* t = g->add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::INT64);
    t->add_dims(static_cast<int64_t>(vals.size()));
    for (auto x : vals) t->add_int64_data(x);
    return t;
  }
  onnx::TensorProto* initFloat(const std::string& name, const std::vector<int64_t>& dims,
                               const std::vector<float>& vals) {
    auto* t = g->add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::FLOAT);
    for (auto d : dims) t->add_dims(d);
    for (auto v : vals) t->add_float_data(v);
    return t;
  }
  onnx::TensorProto* initInt64(const std::string& name, const std::vector<int64_t>& dims,
                               const std::vector<int64_t>& vals) {
    auto* t = g->add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::INT64);
    for (auto d : dims) t->add_dims(d);
    for (auto v : vals) t->add_int64_data(v);
    return t;
  }
  onnx::TensorProto* initBool(const std::string& name, const std::vector<int64_t>& dims,
                              const std::vector<bool>& vals) {
    auto* t = g->add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::BOOL);
    for (auto d : dims) t->add_dims(d);
    for (bool v : vals) t->add_int32_data(v ? 1 : 0);
    return t;
  }
  std::string bytes() const { return model.SerializeAsString(); }
  Expected<std::unique_ptr<Network>> parse() const {
    std::string b = bytes();
    return parseOnnxBuffer(b.data(), b.size());
  }
};

// Builds (CPU) and loads an engine from a network.
// The exporters' head split of tensors "q", "k" and "v": Reshape by "hs" to [B, S, H, D], then
// Transpose to [B, H, S, D] (K to [B, H, D, S] for the scores), giving "q_t", "k_t", "v_t".
inline void splitHeads(OnnxBuilder& b) {
  const std::vector<std::pair<std::string, std::vector<int64_t>>> perms = {
      {"q", {0, 2, 1, 3}}, {"k", {0, 2, 3, 1}}, {"v", {0, 2, 1, 3}}};
  for (const auto& [n, perm] : perms) {
    b.node("Reshape", {n, "hs"}, {n + "_r"}, n + "_reshape");
    OnnxBuilder::attrInts(b.node("Transpose", {n + "_r"}, {n + "_t"}, n + "_transpose"), "perm", perm);
  }
}

// Unmasked multi-head attention over tensors "q", "k", "v" ([B, S, H*D]) into output "y":
// splitHeads, scores / "sd", Softmax, context, heads merged by Transpose and Reshape to "os".
// With `boolMask` (a bool tensor broadcast to the scores) and "fill" (a float scalar), the scaled
// scores go through Where(boolMask, scores, fill) first, as GPT-2's exporters write its causal mask;
// with `addMask` (a float tensor broadcast to the scores) they get it added first, as BERT's do.
inline void attentionBody(OnnxBuilder& b, const std::string& boolMask = "", const std::string& addMask = "") {
  splitHeads(b);
  b.node("MatMul", {"q_t", "k_t"}, {"s"}, "scores");
  b.node("Div", {"s", "sd"}, {"s2"}, "scale");
  std::string scores = "s2";
  if (!addMask.empty()) {
    b.node("Add", {"s2", addMask}, {"s2m"}, "add_mask");
    scores = "s2m";
  }
  if (!boolMask.empty()) {
    b.node("Where", {boolMask, scores, "fill"}, {"s3"}, "mask");
    scores = "s3";
  }
  OnnxBuilder::attrInt(b.node("Softmax", {scores}, {"p"}, "softmax"), "axis", -1);
  b.node("MatMul", {"p", "v_t"}, {"c"}, "context");
  OnnxBuilder::attrInts(b.node("Transpose", {"c"}, {"ct"}, "merge"), "perm", {0, 2, 1, 3});
  b.node("Reshape", {"ct", "os"}, {"y"}, "out");
  b.output("y");
}

// Builds `net` with `cfg` and loads the plan; the build report too when asked.
inline Expected<std::shared_ptr<Engine>> buildWithConfig(Network& net, const BuilderConfig& cfg,
                                                         BuildReport* report = nullptr) {
  Builder b(cfg);
  auto plan = b.buildSerialized(net);
  if (report) *report = b.report();
  if (!plan.isOk()) return plan.status();
  return Engine::deserialize(plan->data(), plan->size());
}

inline Expected<std::shared_ptr<Engine>> buildEngine(Network& net, int optLevel = 3,
                                                     const std::string& layout = "auto") {
  BuilderConfig cfg;
  cfg.optLevel = optLevel;
  cfg.layout = layout;
  return buildWithConfig(net, cfg);
}

// Runs an engine with input "x" and output "y" through backend memory (DeviceBuffer: device memory
// on CUDA, where bindings must not be host pointers), twice: the second run replays the captured
// graph, with the output poisoned in between.
inline Expected<HostTensor> runXY(const std::shared_ptr<Engine>& engine, const HostTensor& x,
                                  bool graphs = true) {
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

// Runs a single-input single-output engine on host memory (CPU engines; CUDA needs runXY).
inline Expected<HostTensor> runOne(Engine& e, const std::string& in, HostTensor x, const std::string& out) {
  auto ctx = e.createExecutionContext();
  TRT_RETURN_IF_ERROR(ctx->setInputShape(in, x.dims()));
  TRT_RETURN_IF_ERROR(ctx->setTensorAddress(in, x.data()));
  TRT_ASSIGN_OR_RETURN(Dims d, ctx->getTensorShape(out));
  int id = e.network().findTensor(out);
  HostTensor y(e.network().tensor(id).type, d);
  TRT_RETURN_IF_ERROR(ctx->setTensorAddress(out, y.data()));
  TRT_RETURN_IF_ERROR(ctx->execute());
  return y;
}

// A float initializer `name` of `dims` with values scale * sin(freq * i + dims[0]) (model weights
// that are neither zero nor regular).
inline void initSine(OnnxBuilder& b, const std::string& name, const std::vector<int64_t>& dims, float scale,
                     float freq) {
  int64_t n = 1;
  for (int64_t d : dims) n *= d;
  std::vector<float> v(n);
  for (int64_t i = 0; i < n; ++i) v[i] = scale * std::sin(freq * static_cast<float>(i) + dims[0]);
  b.initFloat(name, dims, v);
}

// Runs engines a and b (host memory: CPU engines) on x and expects the same output dims and values
// within `tol`.
inline void expectSameOutput(Engine& a, Engine& b, const HostTensor& x, float tol,
                             const std::string& in = "x", const std::string& out = "y") {
  auto ya = runOne(a, in, x, out);
  auto yb = runOne(b, in, x, out);
  ASSERT_TRUE(ya.isOk() && yb.isOk()) << (ya.isOk() ? yb.status().message() : ya.status().message());
  ASSERT_EQ(ya->dims(), yb->dims());
  for (int64_t i = 0; i < ya->numel(); ++i) EXPECT_NEAR(ya->as<float>()[i], yb->as<float>()[i], tol) << i;
}

// A C3-like join: a 1x1 and a 3x3 convolution of x (each with a ReLU) concatenated along the
// channels and read by a 1x1 convolution. `alsoRead`: the 1x1 branch is also an output of its own.
inline OnnxBuilder channelJoinModel(bool alsoRead) {
  OnnxBuilder b;
  b.input("x", onnx::TensorProto::FLOAT, {2, 16, 6, 7});
  auto weights = [&](const std::string& name, std::vector<int64_t> dims, float scale) {
    initSine(b, name, dims, scale, 0.29f);
  };
  weights("wa", {8, 16, 1, 1}, 0.3f);
  weights("ba", {8}, 0.1f);
  weights("wb", {8, 16, 3, 3}, 0.1f);
  weights("bb", {8}, 0.1f);
  weights("wc", {4, 16, 1, 1}, 0.3f);
  b.node("Conv", {"x", "wa", "ba"}, {"ca"}, "branch_a");
  b.node("Relu", {"ca"}, {"a"}, "relu_a");
  OnnxBuilder::attrInts(b.node("Conv", {"x", "wb", "bb"}, {"cb"}, "branch_b"), "pads", {1, 1, 1, 1});
  b.node("Relu", {"cb"}, {"bo"}, "relu_b");
  OnnxBuilder::attrInt(b.node("Concat", {"a", "bo"}, {"j"}, "join"), "axis", 1);
  b.node("Conv", {"j", "wc"}, {"y"}, "head");
  b.output("y");
  if (alsoRead) {
    b.node("Neg", {"a"}, {"e"}, "other");
    b.output("e");
  }
  return b;
}

// YOLOv5's neck joins (convolutions with biases, as CUTLASS takes them): a = relu(conv1x1(x)) feeds a 2x
// nearest Resize and the Concat `join_lo` with b = relu(conv3x3(x)), which a stride-2 convolution reads as
// well; `join_hi` concatenates the upsampled a with relu(conv1x1(upsampled x)). The three heads come together
// in one output (y1 + maxpool(y2) + upsample(y3)). Under NHWC every part of both joins can be written into
// them where its other readers (the Resize, the stride-2 convolution) read rows with a stride.
inline OnnxBuilder neckJoinModel() {
  OnnxBuilder b;
  b.input("x", onnx::TensorProto::FLOAT, {1, 16, 8, 8});
  auto weights = [&](const std::string& name, std::vector<int64_t> dims, float scale) {
    initSine(b, name, dims, scale, 0.37f);
  };
  weights("wa", {8, 16, 1, 1}, 0.3f);
  weights("wb", {8, 16, 3, 3}, 0.1f);
  weights("we", {8, 16, 1, 1}, 0.3f);
  weights("w1", {8, 16, 1, 1}, 0.3f);
  weights("w2", {8, 16, 1, 1}, 0.3f);
  weights("w3", {8, 8, 3, 3}, 0.1f);
  for (const char* w : {"a", "b", "e", "1", "2", "3"}) weights(std::string("b") + w, {8}, 0.1f);
  b.initFloat("up", {4}, {1.f, 1.f, 2.f, 2.f});
  auto upsample = [&](const std::string& in, const std::string& out) {
    auto* n = b.node("Resize", {in, "", "up"}, {out}, "resize_" + out);
    OnnxBuilder::attrString(n, "mode", "nearest");
    OnnxBuilder::attrString(n, "coordinate_transformation_mode", "asymmetric");
    OnnxBuilder::attrString(n, "nearest_mode", "floor");
  };
  b.node("Conv", {"x", "wa", "ba"}, {"ca"}, "conv_a");
  b.node("Relu", {"ca"}, {"a"}, "relu_a");
  OnnxBuilder::attrInts(b.node("Conv", {"x", "wb", "bb"}, {"cb"}, "conv_b"), "pads", {1, 1, 1, 1});
  b.node("Relu", {"cb"}, {"bo"}, "relu_b");
  OnnxBuilder::attrInt(b.node("Concat", {"a", "bo"}, {"jlo"}, "join_lo"), "axis", 1);
  upsample("a", "ua");
  upsample("x", "ux");
  b.node("Conv", {"ux", "we", "be"}, {"ce"}, "conv_e");
  b.node("Relu", {"ce"}, {"e"}, "relu_e");
  OnnxBuilder::attrInt(b.node("Concat", {"ua", "e"}, {"jhi"}, "join_hi"), "axis", 1);
  b.node("Conv", {"jlo", "w1", "b1"}, {"y1"}, "head1");
  b.node("Conv", {"jhi", "w2", "b2"}, {"y2"}, "head2");
  auto* h3 = b.node("Conv", {"bo", "w3", "b3"}, {"y3"}, "head3");
  OnnxBuilder::attrInts(h3, "pads", {1, 1, 1, 1});
  OnnxBuilder::attrInts(h3, "strides", {2, 2});
  auto* pool = b.node("MaxPool", {"y2"}, {"p2"}, "pool2");
  OnnxBuilder::attrInts(pool, "kernel_shape", {2, 2});
  OnnxBuilder::attrInts(pool, "strides", {2, 2});
  upsample("y3", "u3");
  b.node("Add", {"y1", "p2"}, {"s12"}, "add12");
  b.node("Add", {"s12", "u3"}, {"y"}, "add3");
  b.output("y");
  return b;
}

// A YOLOv5 bottleneck: a = act(conv1(x)), y = a + act(conv2(a)): the residual comes after the
// second convolution's activation.
inline OnnxBuilder bottleneckModel(const std::string& act, int64_t c = 4) {
  OnnxBuilder b;
  b.input("x", onnx::TensorProto::FLOAT, {2, c, 6, 7});
  std::string in = "x";
  for (int l = 1; l <= 2; ++l) {
    const std::string n = std::to_string(l);
    std::vector<float> w(c * c * 9), bias(c);
    for (size_t i = 0; i < w.size(); ++i) w[i] = 0.15f * std::sin(0.37f * static_cast<float>(i) + l);
    for (size_t i = 0; i < bias.size(); ++i) bias[i] = 0.05f * static_cast<float>(i % 3) - 0.04f;
    b.initFloat("w" + n, {c, c, 3, 3}, w);
    b.initFloat("b" + n, {c}, bias);
    auto* conv = b.node("Conv", {in, "w" + n, "b" + n}, {"c" + n}, "conv" + n);
    OnnxBuilder::attrInts(conv, "pads", {1, 1, 1, 1});
    if (act == "Silu") {
      b.node("Sigmoid", {"c" + n}, {"s" + n}, "sigmoid" + n);
      b.node("Mul", {"c" + n, "s" + n}, {"a" + n}, "silu" + n);
    } else {
      b.node(act, {"c" + n}, {"a" + n}, "act" + n);
    }
    in = "a" + n;
  }
  b.node("Add", {"a1", "a2"}, {"y"}, "add");
  b.output("y");
  return b;
}

// A transformer sub-block on x [B, S, K]: h = x W0 + b0 ([B, S, N]); s = ReLU(h) W1 + b1 + h (a
// residual sum); y = LayerNormalization(s) over the last axis (axis `lnAxis`), plus s again where
// `sumRead` (GPT-2's pre-norm stream). fuse-matmul-layernorm's pattern: the second linear layer
// into the normalisation.
inline OnnxBuilder matmulLayerNormModel(bool sumRead, int64_t B, int64_t S, int64_t K, int64_t N,
                                        int64_t lnAxis = -1) {
  OnnxBuilder b;
  b.input("x", onnx::TensorProto::FLOAT, {B, S, K});
  initSine(b, "w0", {K, N}, 0.4f / std::sqrt(static_cast<float>(K)), 0.37f);
  initSine(b, "b0", {N}, 0.1f, 0.7f);
  initSine(b, "w1", {N, N}, 0.6f / std::sqrt(static_cast<float>(N)), 0.23f);
  initSine(b, "b1", {N}, 0.1f, 0.3f);
  std::vector<float> g(N), be(N);
  for (int64_t i = 0; i < N; ++i) {
    g[i] = 0.8f + 0.004f * static_cast<float>(i % 50);
    be[i] = 0.05f * static_cast<float>(i % 5) - 0.1f;
  }
  b.initFloat("g", {N}, g);
  b.initFloat("be", {N}, be);
  b.node("MatMul", {"x", "w0"}, {"m0"}, "fc0");
  b.node("Add", {"m0", "b0"}, {"h"}, "fc0_bias");
  b.node("Relu", {"h"}, {"a"}, "relu");
  b.node("MatMul", {"a", "w1"}, {"m1"}, "proj");
  b.node("Add", {"m1", "b1"}, {"p"}, "proj_bias");
  b.node("Add", {"p", "h"}, {"s"}, "residual");
  auto* ln = b.node("LayerNormalization", {"s", "g", "be"}, {sumRead ? "n" : "y"}, "ln");
  OnnxBuilder::attrInt(ln, "axis", lnAxis);
  OnnxBuilder::attrFloat(ln, "epsilon", 1e-5f);
  if (sumRead) b.node("Add", {"n", "s"}, {"y"}, "next_residual");
  b.output("y");
  return b;
}

inline HostTensor floats(const Dims& d, const std::vector<float>& v) {
  HostTensor t(DataType::kFloat32, d);
  std::copy(v.begin(), v.end(), t.as<float>());
  return t;
}

inline HostTensor iota(const Dims& d, float start = 0.f, float step = 1.f) {
  HostTensor t(DataType::kFloat32, d);
  for (int64_t i = 0; i < t.numel(); ++i) t.as<float>()[i] = start + step * static_cast<float>(i);
  return t;
}

// A backend for planning tests: it runs nothing and answers only the planning questions a test
// overrides (runsBeside, inPlaceInputs, ...).
class PlanningOnlyBackend : public Backend {
 public:
  explicit PlanningOnlyBackend(std::string name) : name_(std::move(name)) {}
  std::string name() const override { return name_; }
  std::string deviceName() const override { return "test"; }
  Status supports(const Layer&, const std::vector<DataType>&) const override { return Status::ok(); }
  Expected<std::unique_ptr<LayerImpl>> configure(const Layer&, const Network&) const override {
    return makeError(StatusCode::kUnsupported, "not for running");
  }

 private:
  std::string name_;
};

}  // namespace testutil
}  // namespace trt
