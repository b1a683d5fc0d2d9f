// .npy reader and writer.
#include <gtest/gtest.h>

#include <fstream>

#include "common/npy.h"
#include "common/tool_util.h"

using namespace trt;
using namespace trt::tools;

TEST(Npy, RoundTripsEveryType) {
  const std::string p = ::testing::TempDir() + "/t.npy";
  for (DataType t : {DataType::kFloat32, DataType::kFloat16, DataType::kInt8, DataType::kInt32,
                     DataType::kInt64, DataType::kBool}) {
    for (Dims d : {Dims{}, Dims{5}, Dims{2, 3, 4}}) {
      HostTensor h(t, d);
      for (size_t i = 0; i < h.byteSize(); ++i)
        static_cast<uint8_t*>(h.data())[i] = static_cast<uint8_t>(i * 7 % 2);
      ASSERT_TRUE(writeNpy(p, h).isOk());
      auto r = readNpy(p);
      ASSERT_TRUE(r.isOk()) << r.status().message();
      EXPECT_EQ(r->type(), t);
      EXPECT_EQ(r->dims(), d);
      EXPECT_EQ(std::memcmp(r->data(), h.data(), h.byteSize()), 0);
    }
  }
}

TEST(Npy, RejectsBadFiles) {
  const std::string dir = ::testing::TempDir();
  EXPECT_EQ(readNpy(dir + "/does_not_exist.npy").status().code(), StatusCode::kNotFound);
  { std::ofstream(dir + "/junk.npy") << "hello"; }
  EXPECT_EQ(readNpy(dir + "/junk.npy").status().code(), StatusCode::kCorrupt);
  HostTensor h(DataType::kFloat32, {100});
  ASSERT_TRUE(writeNpy(dir + "/full.npy", h).isOk());
  std::ifstream f(dir + "/full.npy", std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(f)), {});
  { std::ofstream(dir + "/trunc.npy", std::ios::binary) << bytes.substr(0, bytes.size() - 10); }
  auto r = readNpy(dir + "/trunc.npy");
  ASSERT_FALSE(r.isOk());
  EXPECT_NE(r.status().message().find("truncated"), std::string::npos);
  std::string f64 = bytes;
  f64.replace(f64.find("<f4"), 3, "<f8");
  { std::ofstream(dir + "/f64.npy", std::ios::binary) << f64; }
  EXPECT_EQ(readNpy(dir + "/f64.npy").status().code(), StatusCode::kUnsupported);
}

TEST(ToolOptions, ParsesShapeSpecs) {
  auto s = parseShapeSpecs({"input_ids:1x128,mask:1x128", "x:3"});
  ASSERT_TRUE(s.isOk());
  EXPECT_EQ(s->at("input_ids"), (Dims{1, 128}));
  EXPECT_EQ(s->at("x"), (Dims{3}));
  EXPECT_FALSE(parseShapeSpecs({"x:1xa"}).isOk());
  EXPECT_FALSE(parseShapeSpecs({"nocolon"}).isOk());
  EXPECT_FALSE(parseShapeSpecs({"x:1,x:2"}).isOk());
  EXPECT_EQ(splitNameValue("a:b:c.npy").first, "a:b");
}
