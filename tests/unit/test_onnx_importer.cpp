// ONNX importer: ops, opsets, attributes, external data and its error messages.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "onnx/importer.h"
#include "test_util.h"

using namespace trt;
using namespace trt::testutil;

TEST(OnnxImporter, ImportsReluWithOrigins) {
  OnnxBuilder b;
  b.input("x", onnx::TensorProto::FLOAT, {2, 3});
  b.node("Relu", {"x"}, {"y"}, "my_relu");
  b.output("y");
  auto net = b.parse();
  ASSERT_TRUE(net.isOk()) << net.status().message();
  ASSERT_EQ((*net)->layers().size(), 1u);
  EXPECT_EQ((*net)->layers()[0].type, "Relu");
  EXPECT_EQ((*net)->layers()[0].origins, std::vector<std::string>{"my_relu"});
}

TEST(OnnxImporter, UnsupportedOpNamesNodeOpAndOpset) {
  OnnxBuilder b(13);
  b.input("x", onnx::TensorProto::FLOAT, {2, 3});
  b.node("Mish", {"x"}, {"y"}, "act7");
  b.output("y");
  auto net = b.parse();
  ASSERT_FALSE(net.isOk());
  EXPECT_EQ(net.status().code(), StatusCode::kUnsupported);
  const std::string& m = net.status().message();
  EXPECT_NE(m.find("act7"), std::string::npos) << m;
  EXPECT_NE(m.find("Mish"), std::string::npos) << m;
  EXPECT_NE(m.find("opset 13"), std::string::npos) << m;
}

TEST(OnnxImporter, UnsupportedAttributeValueIsReported) {
  OnnxBuilder b;
  b.input("x", onnx::TensorProto::FLOAT, {1, 1, 4});
  b.initInt64("pads", {2}, {1, 1});
  auto* n = b.node("Pad", {"x", "pads"}, {"y"}, "pad0");
  auto* a = n->add_attribute();
  a->set_name("mode");
  a->set_type(onnx::AttributeProto::STRING);
  a->set_s("wrap");
  b.output("y");
  auto net = b.parse();
  ASSERT_FALSE(net.isOk());
  EXPECT_EQ(net.status().code(), StatusCode::kUnsupported);
  EXPECT_NE(net.status().message().find("mode='wrap'"), std::string::npos) << net.status().message();
}

TEST(OnnxImporter, RejectsOldOpset) {
  OnnxBuilder b(9);
  b.input("x", onnx::TensorProto::FLOAT, {2});
  b.node("Relu", {"x"}, {"y"});
  b.output("y");
  auto net = b.parse();
  ASSERT_FALSE(net.isOk());
  EXPECT_NE(net.status().message().find("opset 9"), std::string::npos);
}

TEST(OnnxImporter, RejectsGarbageAndTruncatedBytes) {
  std::string junk = "this is not a protobuf at all";
  auto r = parseOnnxBuffer(junk.data(), junk.size());
  ASSERT_FALSE(r.isOk());
  EXPECT_EQ(r.status().code(), StatusCode::kCorrupt);
  OnnxBuilder b;
  b.input("x", onnx::TensorProto::FLOAT, {2, 3});
  b.initFloat("w", {3, 3}, std::vector<float>(9, 1.f));
  b.node("MatMul", {"x", "w"}, {"y"});
  b.output("y");
  std::string bytes = b.bytes();
  auto t = parseOnnxBuffer(bytes.data(), bytes.size() / 2);
  ASSERT_FALSE(t.isOk());
}

// Files: a model is mapped and parsed; a directory, a missing file and an empty file are clear
// errors naming the path.
TEST(OnnxImporter, FileErrorsNameThePath) {
  const std::string dir = ::testing::TempDir() + "trt_importer_files";
  std::filesystem::create_directories(dir);
  OnnxBuilder b;
  b.input("x", onnx::TensorProto::FLOAT, {2, 3});
  b.node("Relu", {"x"}, {"y"});
  b.output("y");
  {
    std::ofstream f(dir + "/relu.onnx", std::ios::binary);
    f << b.bytes();
    std::ofstream e(dir + "/empty.onnx", std::ios::binary);
  }
  auto ok = parseOnnxFile(dir + "/relu.onnx");
  ASSERT_TRUE(ok.isOk()) << ok.status().message();
  EXPECT_EQ((*ok)->layers().size(), 1u);
  for (const std::string& bad : {dir, dir + "/missing.onnx", dir + "/empty.onnx"}) {
    auto r = parseOnnxFile(bad);
    ASSERT_FALSE(r.isOk()) << bad;
    EXPECT_NE(r.status().message().find(bad), std::string::npos) << r.status().message();
  }
}

TEST(OnnxImporter, NewerOpsetAxesInputsBecomeAttributes) {
  OnnxBuilder b(13);
  b.input("x", onnx::TensorProto::FLOAT, {2, 1, 3});
  b.initInt64("axes", {1}, {1});
  b.node("Squeeze", {"x", "axes"}, {"y"});
  b.output("y");
  auto net = b.parse();
  ASSERT_TRUE(net.isOk()) << net.status().message();
  const Layer& l = (*net)->layers()[0];
  EXPECT_EQ(l.attrs.getInts("axes"), std::vector<int64_t>{1});
  EXPECT_EQ(l.inputs.size(), 1u);
}

TEST(OnnxImporter, ReadsExternalData) {
  const std::string dir = ::testing::TempDir();
  std::vector<float> w = {1, 2, 3, 4, 5, 6};
  {
    std::ofstream f(dir + "/weights.bin", std::ios::binary);
    f.write("PAD!", 4);
    f.write(reinterpret_cast<const char*>(w.data()), 24);
  }
  OnnxBuilder b;
  b.input("x", onnx::TensorProto::FLOAT, {1, 2});
  auto* t = b.g->add_initializer();
  t->set_name("w");
  t->set_data_type(onnx::TensorProto::FLOAT);
  t->add_dims(2);
  t->add_dims(3);
  t->set_data_location(onnx::TensorProto::EXTERNAL);
  auto kv = [&](const char* k, const std::string& v) {
    auto* e = t->add_external_data();
    e->set_key(k);
    e->set_value(v);
  };
  kv("location", "weights.bin");
  kv("offset", "4");
  kv("length", "24");
  b.node("MatMul", {"x", "w"}, {"y"});
  b.output("y");
  std::string bytes = b.bytes();
  {
    std::ofstream f(dir + "/ext.onnx", std::ios::binary);
    f << bytes;
  }
  auto net = parseOnnxFile(dir + "/ext.onnx");
  ASSERT_TRUE(net.isOk()) << net.status().message();
  auto e = buildEngine(**net);
  ASSERT_TRUE(e.isOk()) << e.status().message();
  auto y = runOne(**e, "x", floats({1, 2}, {1, 1}), "y");
  ASSERT_TRUE(y.isOk()) << y.status().message();
  EXPECT_FLOAT_EQ(y->as<float>()[0], 5.f);
  EXPECT_FLOAT_EQ(y->as<float>()[2], 9.f);
  // a missing external file is a clear error
  kv("location", "missing.bin");
  t->mutable_external_data()->DeleteSubrange(0, 3);
  kv("location", "missing.bin");
  std::string bad = b.bytes();
  auto r = parseOnnxBuffer(bad.data(), bad.size(), dir);
  ASSERT_FALSE(r.isOk());
  EXPECT_NE(r.status().message().find("missing.bin"), std::string::npos);
}

TEST(OnnxImporter, SymbolicDimsSurvive) {
  OnnxBuilder b;
  b.input("x", onnx::TensorProto::FLOAT, {-1, 3}, {"batch"});
  b.node("Relu", {"x"}, {"y"});
  b.output("y");
  auto net = b.parse();
  ASSERT_TRUE(net.isOk());
  const TensorDesc& x = (*net)->tensor((*net)->inputs()[0]);
  EXPECT_EQ(x.shape[0].symbol, "batch");
  EXPECT_FALSE(x.shape[0].isStatic());
}

// docs/operators.md must list every op the importer accepts.
TEST(OnnxImporter, SupportMatrixListsEveryOp) {
  std::ifstream f(std::string(TRT_SOURCE_DIR) + "/docs/operators.md");
  ASSERT_TRUE(f.good());
  std::string doc((std::istreambuf_iterator<char>(f)), {});
  for (const auto& op : onnximport::ImporterTable::instance().ops()) {
    bool listed =
        doc.find("| " + op + " ") != std::string::npos || doc.find(", " + op + " ") != std::string::npos ||
        doc.find(", " + op + ",") != std::string::npos || doc.find("| " + op + ",") != std::string::npos;
    EXPECT_TRUE(listed) << op << " is missing from docs/operators.md";
  }
}
