// Plan file: round trip, and refusal of corrupt, truncated, foreign and old plans.
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>

#include "plan/plan_file.h"
#include "test_util.h"

using namespace trt;
using namespace trt::testutil;

namespace {
std::vector<uint8_t> samplePlan() {
  OnnxBuilder b;
  b.input("x", onnx::TensorProto::FLOAT, {-1, 3}, {"batch"});
  b.initFloat("w", {3, 2}, {1, 2, 3, 4, 5, 6});
  b.node("MatMul", {"x", "w"}, {"y"}, "mm");
  b.output("y");
  auto net = b.parse();
  Builder builder;
  return std::move(builder.buildSerialized(**net)).value();
}
}  // namespace

TEST(Plan, RoundTripKeepsNetworkAndWeights) {
  auto bytes = samplePlan();
  auto c = readPlan(bytes.data(), bytes.size());
  ASSERT_TRUE(c.isOk()) << c.status().message();
  EXPECT_EQ(c->fingerprint.backend, "cpu");
  const Network& n = *c->network;
  ASSERT_EQ(n.layers().size(), 1u);
  EXPECT_EQ(n.layers()[0].tactic.substr(0, 10), "cpu_matmul");
  int w = n.findTensor("w");
  ASSERT_GE(w, 0);
  EXPECT_FLOAT_EQ(n.tensor(w).constant->as<float>()[5], 6.f);
  EXPECT_EQ(n.tensor(n.inputs()[0]).shape[0].symbol, "batch");
  // weight blobs are 256-byte aligned in the file
  EXPECT_EQ(reinterpret_cast<const uint64_t*>(bytes.data() + 32)[0] % 256, 0u);
}

TEST(Plan, CorruptByteFailsChecksum) {
  auto bytes = samplePlan();
  bytes[bytes.size() / 2] ^= 0x5a;
  auto e = Engine::deserialize(bytes.data(), bytes.size());
  ASSERT_FALSE(e.isOk());
  EXPECT_EQ(e.status().code(), StatusCode::kCorrupt);
  EXPECT_NE(e.status().message().find("checksum"), std::string::npos);
}

TEST(Plan, TruncatedIsRefused) {
  auto bytes = samplePlan();
  for (size_t n : {size_t{0}, size_t{10}, size_t{100}, bytes.size() - 1}) {
    auto e = Engine::deserialize(bytes.data(), n);
    ASSERT_FALSE(e.isOk()) << n;
    EXPECT_EQ(e.status().code(), StatusCode::kCorrupt) << n;
  }
}

TEST(Plan, OtherFormatVersionIsRefused) {
  auto bytes = samplePlan();
  uint32_t v = 99;
  std::memcpy(bytes.data() + 8, &v, 4);
  auto e = Engine::deserialize(bytes.data(), bytes.size());
  ASSERT_FALSE(e.isOk());
  EXPECT_EQ(e.status().code(), StatusCode::kMismatch);
  EXPECT_NE(e.status().message().find("version 99"), std::string::npos);
}

TEST(Plan, OtherBackendOrDeviceIsRefused) {
  auto bytes = samplePlan();
  auto c = readPlan(bytes.data(), bytes.size());
  ASSERT_TRUE(c.isOk());
  PlanFingerprint fp = c->fingerprint;
  fp.backend = "cuda";
  fp.deviceName = "NVIDIA Imaginary GPU";
  auto cudaPlan = writePlan(*c->network, fp, "m.onnx");
  auto e = Engine::deserialize(cudaPlan.data(), cudaPlan.size());
  ASSERT_FALSE(e.isOk());
  EXPECT_EQ(e.status().code(), StatusCode::kMismatch);
  // Without a GPU the backend is missing; with one, the device differs.
  const std::string& m = e.status().message();
  EXPECT_TRUE(m.find("backend 'cuda'") != std::string::npos ||
              m.find("NVIDIA Imaginary GPU") != std::string::npos)
      << m;
  fp = c->fingerprint;
  fp.deviceName = "cpu-riscv";
  auto other = writePlan(*c->network, fp, "m.onnx");
  e = Engine::deserialize(other.data(), other.size());
  ASSERT_FALSE(e.isOk());
  EXPECT_NE(e.status().message().find("cpu-riscv"), std::string::npos);
}

// A plan for a device this machine lacks can still be inspected (network, bindings, fingerprint),
// but not run; trtinspect takes that path.
TEST(Plan, OtherDevicePlanLoadsForInspection) {
  auto bytes = samplePlan();
  auto c = readPlan(bytes.data(), bytes.size());
  ASSERT_TRUE(c.isOk());
  PlanFingerprint fp = c->fingerprint;
  fp.backend = "cuda";
  fp.deviceName = "NVIDIA Imaginary GPU";
  auto other = writePlan(*c->network, fp, "m.onnx");
  const std::string path = ::testing::TempDir() + "/imaginary.plan";
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(other.data()), static_cast<std::streamsize>(other.size()));
  auto e = Engine::loadForInspection(path);
  ASSERT_TRUE(e.isOk()) << e.status().message();
  EXPECT_FALSE((*e)->inspectionReason().empty());
  EXPECT_EQ((*e)->backend(), "cuda");
  EXPECT_EQ((*e)->network().layers().size(), c->network->layers().size());
  EXPECT_FALSE((*e)->bindings().empty());
  auto ctx = (*e)->createExecutionContext();
  const Status st = ctx->execute();
  EXPECT_FALSE(st.isOk());
  EXPECT_NE(st.message().find("inspection only"), std::string::npos) << st.message();
  // an ordinary plan loads fully through the same call
  const std::string ok = ::testing::TempDir() + "/ok.plan";
  std::ofstream(ok, std::ios::binary)
      .write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  auto full = Engine::loadForInspection(ok);
  ASSERT_TRUE(full.isOk());
  EXPECT_TRUE((*full)->inspectionReason().empty());
}
