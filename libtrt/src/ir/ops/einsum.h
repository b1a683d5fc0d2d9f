// Einsum equations: parsing into per-operand label strings. trt supports explicit equations
// ("ij,jk->ik") without ellipsis and without a label repeated inside one operand: the matmul-like
// forms (batched matmul, transposed operands, outer products, reductions over a label).
#pragma once

#include <string>
#include <vector>

#include "trt/status.h"

namespace trt {

struct EinsumSpec {
  std::vector<std::string> inputs;
  std::string output;
};

Expected<EinsumSpec> parseEinsum(const std::string& equation, int numInputs);

}  // namespace trt
