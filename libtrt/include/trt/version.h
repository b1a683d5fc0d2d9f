// Version of the trt engine and of its plan format.
#pragma once
namespace trt {
constexpr const char* kEngineVersion = "0.1.0";
// Bumped whenever the plan container or manifest changes incompatibly.
constexpr int kPlanFormatVersion = 1;
}  // namespace trt
