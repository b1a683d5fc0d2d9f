#include <gtest/gtest.h>

#include "trt/trt.h"

using namespace trt;

TEST(Types, NamesRoundTrip) {
  for (DataType t : {DataType::kFloat32, DataType::kFloat16, DataType::kInt8, DataType::kInt32,
                     DataType::kInt64, DataType::kBool}) {
    auto back = dataTypeFromName(dataTypeName(t));
    ASSERT_TRUE(back.isOk());
    EXPECT_EQ(*back, t);
  }
  EXPECT_FALSE(dataTypeFromName("float64").isOk());
}

TEST(Types, HalfConversion) {
  for (float f : {0.f, 1.f, -2.5f, 65504.f, 1e-5f, 0.333251953125f})
    EXPECT_NEAR(halfToFloat(floatToHalf(f)), f, std::abs(f) * 1e-3 + 1e-7);
  EXPECT_EQ(floatToHalf(1.f), 0x3c00);
  EXPECT_EQ(floatToHalf(-2.f), 0xc000);
}
