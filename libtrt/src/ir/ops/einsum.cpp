// Einsum equation parsing (see einsum.h).
#include "ir/ops/einsum.h"

#include <algorithm>
#include <cctype>
#include <map>

namespace trt {

Expected<EinsumSpec> parseEinsum(const std::string& equation, int numInputs) {
  std::string eq;
  for (char ch : equation)
    if (!std::isspace(static_cast<unsigned char>(ch))) eq += ch;
  if (eq.find("...") != std::string::npos)
    return makeError(StatusCode::kUnsupported, "Einsum with ellipsis ('...') in '" + equation + "'");
  EinsumSpec spec;
  size_t arrow = eq.find("->");
  std::string lhs = arrow == std::string::npos ? eq : eq.substr(0, arrow);
  size_t start = 0;
  while (true) {
    size_t comma = lhs.find(',', start);
    spec.inputs.push_back(lhs.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  if (static_cast<int>(spec.inputs.size()) != numInputs)
    return makeError(StatusCode::kInvalidArgument, "Einsum equation '" + equation + "' names " +
                                                       std::to_string(spec.inputs.size()) + " operands, node has " +
                                                       std::to_string(numInputs));
  std::map<char, int> count;
  for (auto& in : spec.inputs) {
    for (char ch : in) {
      if (!std::isalpha(static_cast<unsigned char>(ch)))
        return makeError(StatusCode::kInvalidArgument, "bad Einsum equation '" + equation + "'");
      if (std::count(in.begin(), in.end(), ch) > 1)
        return makeError(StatusCode::kUnsupported, "Einsum with a repeated label in one operand ('" + equation + "')");
      ++count[ch];
    }
  }
  if (arrow != std::string::npos) {
    spec.output = eq.substr(arrow + 2);
    for (char ch : spec.output)
      if (!count.count(ch)) return makeError(StatusCode::kInvalidArgument, "Einsum output label not in inputs");
  } else {
    for (auto& kv : count)
      if (kv.second == 1) spec.output += kv.first;  // implicit form: labels seen once, sorted
  }
  return spec;
}

}  // namespace trt
