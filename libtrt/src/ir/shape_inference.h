// Shape propagation over a whole network.
//
// Runs every layer's inference in order. A layer whose inputs all have host values may be
// evaluated on the host by the `evaluator` (the CPU backend), according to `policy`:
//   kFoldAll     build time: every all-constant layer is computed (constant folding);
//   kShapeValues run time: only small results of layers whose inputs are all known (shape
//                computations over dynamic dims) are computed.
#pragma once

#include <functional>
#include <vector>

#include "ir/op_registry.h"
#include "ir/tensor_view.h"

namespace trt {

// kFoldAll (constant folding at build time): every layer whose inputs are known, up to
// kMaxFoldBytes per output; kShapeValues (run time): small results only, shape computations.
enum class EvalPolicy { kNone, kFoldAll, kShapeValues };

// Folded values above this size stay as layers: folding must not blow up the plan (an Expand of a
// scalar to a large activation, for example), and is not worth computing (GPT-2's tied LM head,
// Transpose of the 154 MB embedding, took 0.3 s of every build to be thrown away).
constexpr size_t kMaxFoldBytes = size_t{64} << 20;

// Computes a layer's outputs on the host; outputs are preallocated with their inferred shapes.
using HostEvaluator = std::function<Status(const Layer&, const std::vector<TensorView>& inputs,
                                           std::vector<TensorView>& outputs)>;

// `states` is resized to the tensor count; input states must be given in `inputStates` (one per
// network input, in order). Constants get their values. Errors name the layer.
Status propagateShapes(const Network& net, const std::vector<TensorState>& inputStates, EvalPolicy policy,
                       const HostEvaluator& evaluator, std::vector<TensorState>& states);

// The states of the network's inputs as declared (their built, possibly symbolic, shapes).
std::vector<TensorState> declaredInputStates(const Network& net);

// Convenience for build time: propagate with the network's declared input shapes and write the
// inferred types and shapes back into the network's tensors.
// With an evaluator, static shape subgraphs are computed so later shapes stay concrete.
Status inferNetworkShapes(Network& net, const HostEvaluator& evaluator = nullptr);

}  // namespace trt
