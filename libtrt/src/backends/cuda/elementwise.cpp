// CUDA layer implementations of the elementwise family and the shape family (reshape-like copies,
// fills). Kernels: kernels/elementwise.cu.
#include <cmath>
#include <cstdlib>
#include <cstring>

#include "backends/cuda/cuda_util.h"
#include "backends/cuda/pointwise_nvrtc.h"
#include "ir/ops/pointwise.h"

namespace trt {
namespace cuda {
namespace {

using Views = std::vector<TensorView>;
using kernels::BinaryOp;
using kernels::UnaryOp;

const std::map<std::string, UnaryOp> kUnary = {{"Relu", UnaryOp::kRelu},
                                               {"LeakyRelu", UnaryOp::kLeakyRelu},
                                               {"Sigmoid", UnaryOp::kSigmoid},
                                               {"Tanh", UnaryOp::kTanh},
                                               {"HardSigmoid", UnaryOp::kHardSigmoid},
                                               {"HardSwish", UnaryOp::kHardSwish},
                                               {"Softplus", UnaryOp::kSoftplus},
                                               {"Elu", UnaryOp::kElu},
                                               {"Erf", UnaryOp::kErf},
                                               {"Sqrt", UnaryOp::kSqrt},
                                               {"Exp", UnaryOp::kExp},
                                               {"Log", UnaryOp::kLog},
                                               {"Reciprocal", UnaryOp::kReciprocal}};

const std::map<std::string, BinaryOp> kBinary = {{"Add", BinaryOp::kAdd},
                                                 {"Sub", BinaryOp::kSub},
                                                 {"Mul", BinaryOp::kMul},
                                                 {"Div", BinaryOp::kDiv},
                                                 {"Pow", BinaryOp::kPow},
                                                 {"Max", BinaryOp::kMax},
                                                 {"Min", BinaryOp::kMin},
                                                 {"Equal", BinaryOp::kEqual},
                                                 {"Less", BinaryOp::kLess},
                                                 {"Greater", BinaryOp::kGreater},
                                                 {"GreaterOrEqual", BinaryOp::kGreaterOrEqual},
                                                 {"LessOrEqual", BinaryOp::kLessOrEqual},
                                                 {"And", BinaryOp::kAnd},
                                                 {"Or", BinaryOp::kOr}};

EnqueueFn unaryFn(const Layer& l) {
  UnaryOp op = kUnary.at(l.type);
  float a = 0.f, b = 0.f;
  if (l.type == "LeakyRelu") a = l.attrs.getFloat("alpha", 0.01f);
  if (l.type == "Elu") a = l.attrs.getFloat("alpha", 1.f);
  if (l.type == "HardSigmoid") {
    a = l.attrs.getFloat("alpha", 0.2f);
    b = l.attrs.getFloat("beta", 0.5f);
  }
  return [op, a, b](const Views& in, Views& out, void*, cudaStream_t s) {
    if (isHalf(in[0]))
      TRT_CUDA_CHECK(kernels::unaryF16(op, in[0].data, out[0].data, in[0].numel(), a, b, s));
    else
      TRT_CUDA_CHECK(kernels::unaryF32(op, in[0].as<float>(), out[0].as<float>(), in[0].numel(), a, b, s));
    return Status::ok();
  };
}

EnqueueFn geluFn(const Layer& l) {
  UnaryOp op = l.attrs.getString("approximate", "none") == "tanh" ? UnaryOp::kGeluTanh : UnaryOp::kGeluErf;
  return [op](const Views& in, Views& out, void*, cudaStream_t s) {
    if (isHalf(in[0]))
      TRT_CUDA_CHECK(kernels::unaryF16(op, in[0].data, out[0].data, in[0].numel(), 0.f, 0.f, s));
    else
      TRT_CUDA_CHECK(
          kernels::unaryF32(op, in[0].as<float>(), out[0].as<float>(), in[0].numel(), 0.f, 0.f, s));
    return Status::ok();
  };
}

EnqueueFn negAbsFn(const Layer& l) {
  UnaryOp op = l.type == "Neg" ? UnaryOp::kNeg : UnaryOp::kAbs;
  return [op](const Views& in, Views& out, void*, cudaStream_t s) {
    if (in[0].type == DataType::kFloat32)
      TRT_CUDA_CHECK(
          kernels::unaryF32(op, in[0].as<float>(), out[0].as<float>(), in[0].numel(), 0.f, 0.f, s));
    else if (isHalf(in[0]))
      TRT_CUDA_CHECK(kernels::unaryF16(op, in[0].data, out[0].data, in[0].numel(), 0.f, 0.f, s));
    else
      TRT_CUDA_CHECK(
          kernels::unaryInt(op, ktype(in[0].type), in[0].data, out[0].data, in[0].numel(), 0, 0, s));
    return Status::ok();
  };
}

// Clip's bounds are inputs; they are constants (or host-computed values) in practice, but they
// live in device memory here, so the kernel takes them as a broadcast binary Max then Min.
EnqueueFn clipFn(const Layer&) {
  return [](const Views& in, Views& out, void*, cudaStream_t s) {
    const TensorView& x = in[0];
    const kernels::Shape8 os = dense(out[0].dims);
    const void* src = x.data;
    bool copied = false;
    for (int k = 1; k <= 2; ++k) {
      if (in.size() <= static_cast<size_t>(k) || !in[k].data || in[k].numel() == 0) continue;
      TRT_CUDA_CHECK(kernels::binary(k == 1 ? BinaryOp::kMax : BinaryOp::kMin, ktype(x.type), ktype(x.type),
                                     src, copied ? os : broadcastTo(x.dims, out[0].dims), in[k].data,
                                     broadcastTo(in[k].dims, out[0].dims), out[0].data, os, s));
      src = out[0].data;
      copied = true;
    }
    if (!copied)
      TRT_CUDA_CHECK(cudaMemcpyAsync(out[0].data, x.data, x.byteSize(), cudaMemcpyDeviceToDevice, s));
    return Status::ok();
  };
}

EnqueueFn binaryFn(const Layer& l) {
  BinaryOp op = kBinary.at(l.type);
  return [op](const Views& in, Views& out, void*, cudaStream_t s) {
    const Dims& od = out[0].dims;
    const kernels::Shape8 os = dense(od);
    // Max/Min are variadic: fold the inputs pairwise into the output.
    TRT_CUDA_CHECK(
        kernels::binary(op, ktype(in[0].type), ktype(in.size() > 1 ? in[1].type : in[0].type), in[0].data,
                        broadcastTo(in[0].dims, od), in.size() > 1 ? in[1].data : in[0].data,
                        broadcastTo(in.size() > 1 ? in[1].dims : in[0].dims, od), out[0].data, os, s));
    for (size_t k = 2; k < in.size(); ++k)
      TRT_CUDA_CHECK(kernels::binary(op, ktype(in[0].type), ktype(in[k].type), out[0].data, os, in[k].data,
                                     broadcastTo(in[k].dims, od), out[0].data, os, s));
    return Status::ok();
  };
}

// Pointwise: the program decoded once at configure time; the unary codes map onto the unary
// kernels' UnaryOp (kernels.h), so both paths share one definition of each function.
// The strides of p's inputs (input j's dims: dimsOf(j); permutations `perms`) over the output
// `od` (a piece input's over its piece), into p.inStrides.
template <typename DimsOf>
void bindPointwiseStrides(kernels::PointwiseProgram& p, DimsOf dimsOf, const Dims& od, const PwPieces& pieces,
                          const std::vector<std::vector<int>>& perms) {
  for (int j = 0; j < p.numInputs; ++j) {
    const Dims& in = dimsOf(j);
    Dims target = od;
    if (p.pieceAxis >= 0 && p.inPiece[j] >= 0) target[p.pieceAxis] = pieces.length(p.inPiece[j]);
    if (perms[j].empty()) {
      p.inStrides[j] = broadcastTo(in, target);
      continue;
    }
    const std::vector<int64_t> st = pointwiseInputStrides(in, perms[j], target);
    p.inStrides[j].rank = static_cast<int>(target.size());
    for (size_t d = 0; d < target.size(); ++d) {
      p.inStrides[j].dims[d] = target[d];
      p.inStrides[j].strides[d] = st[d];
    }
  }
}

EnqueueFn pointwiseFn(const Layer& l, const Network& net) {
  static const std::map<PwOp, UnaryOp> kUnaryOf = {{PwOp::kRelu, UnaryOp::kRelu},
                                                   {PwOp::kLeakyRelu, UnaryOp::kLeakyRelu},
                                                   {PwOp::kSigmoid, UnaryOp::kSigmoid},
                                                   {PwOp::kTanh, UnaryOp::kTanh},
                                                   {PwOp::kHardSigmoid, UnaryOp::kHardSigmoid},
                                                   {PwOp::kHardSwish, UnaryOp::kHardSwish},
                                                   {PwOp::kSoftplus, UnaryOp::kSoftplus},
                                                   {PwOp::kElu, UnaryOp::kElu},
                                                   {PwOp::kGeluErf, UnaryOp::kGeluErf},
                                                   {PwOp::kGeluTanh, UnaryOp::kGeluTanh},
                                                   {PwOp::kErf, UnaryOp::kErf},
                                                   {PwOp::kSqrt, UnaryOp::kSqrt},
                                                   {PwOp::kExp, UnaryOp::kExp},
                                                   {PwOp::kLog, UnaryOp::kLog},
                                                   {PwOp::kReciprocal, UnaryOp::kReciprocal},
                                                   {PwOp::kNeg, UnaryOp::kNeg},
                                                   {PwOp::kAbs, UnaryOp::kAbs},
                                                   {PwOp::kClip, UnaryOp::kClip}};
  kernels::PointwiseProgram prog;
  auto decoded = decodePointwise(l, static_cast<int>(l.inputs.size()));
  Status bad = decoded.isOk() ? Status::ok() : decoded.status();
  if (decoded.isOk()) {
    prog.numInputs = static_cast<int>(l.inputs.size());
    prog.numInstructions = static_cast<int>(decoded->size());
    for (size_t i = 0; i < decoded->size(); ++i) {
      const PwInstr& p = (*decoded)[i];
      if (pwIsBinary(p.op)) {
        prog.op[i] = static_cast<int>(p.op);
      } else {
        auto u = kUnaryOf.find(p.op);
        if (u == kUnaryOf.end()) {
          bad =
              makeError(StatusCode::kUnsupported, std::string("Pointwise op ") + pwOpName(p.op) + " on CUDA");
          break;
        }
        prog.op[i] = 100 + static_cast<int>(u->second);
      }
      prog.a[i] = p.a;
      prog.b[i] = p.b;
      prog.p0[i] = p.p0;
      prog.p1[i] = p.p1;
    }
  }
  // Pieces (ir/ops/pointwise.h); the axis is checked against the output at enqueue.
  PwPieces pieces;
  if (bad.isOk() && l.attrs.has("piece_axis")) {
    auto pc = decodePieces(l, prog.numInputs, prog.numInstructions, kernels::kMaxRank);
    if (!pc.isOk()) {
      bad = pc.status();
    } else if (pc->ends.size() > static_cast<size_t>(kernels::kPwPieces)) {
      bad = makeError(StatusCode::kUnsupported, "Pointwise layer with more than 8 pieces on CUDA");
    } else {
      pieces = *pc;
      prog.pieceAxis = pieces.axis;
      prog.numPieces = static_cast<int>(pieces.ends.size());
      for (size_t p = 0; p < pieces.ends.size(); ++p) {
        prog.pieceEnd[p] = pieces.ends[p];
        prog.pieceResult[p] = pieces.results[p];
      }
      for (int j = 0; j < prog.numInputs; ++j) prog.inPiece[j] = pieces.inputPiece[j];
    }
  }
  // Permuted inputs (input_perms): decoded here, their ranks checked against the bound inputs.
  std::vector<std::vector<int>> perms(l.inputs.size());
  if (bad.isOk()) {
    auto decodedPerms = decodeInputPerms(l, l.inputs.size());
    if (decodedPerms.isOk())
      perms = *decodedPerms;
    else
      bad = decodedPerms.status();
  }
  // The program as generated code (backends/cuda/pointwise_nvrtc.h), compiled here for the layer's
  // precision; the interpreter where that fails, for another type, or with TRT_NO_NVRTC=1 set.
  std::shared_ptr<const cuda_pointwise::GeneratedKernel> generated;
  const bool half = l.precision == "fp16";
  const char* off = std::getenv("TRT_NO_NVRTC");
  const bool nvrtc = bad.isOk() && !(off && *off && std::string(off) != "0");
  // Static shapes (an engine built for one shape): a kernel for exactly these shapes, taken
  // whenever the bound shapes are these; the kernel for any shape is compiled only where that
  // one is not (one NVRTC compile per layer when the engine loads).
  std::shared_ptr<const cuda_pointwise::GeneratedKernel> fixed;
  std::vector<Dims> fixedIn;
  Dims fixedOut;
  if (nvrtc && l.outputs.size() == 1 && isStatic(net.tensor(l.outputs[0]).shape)) {
    bool all = true;
    for (int i : l.inputs) all = all && i >= 0 && isStatic(net.tensor(i).shape);
    fixedOut = toDims(net.tensor(l.outputs[0]).shape);
    if (all && fixedOut.size() <= static_cast<size_t>(kernels::kMaxRank) &&
        prog.pieceAxis < static_cast<int>(fixedOut.size()) && volume(fixedOut) < (int64_t{1} << 31)) {
      for (int i : l.inputs) fixedIn.push_back(toDims(net.tensor(i).shape));
      bool ranks = true;
      for (size_t j = 0; j < fixedIn.size(); ++j)
        ranks = ranks && (perms[j].empty() || perms[j].size() == fixedIn[j].size());
      if (ranks) {
        kernels::PointwiseProgram p = prog;
        bindPointwiseStrides(
            p, [&](int j) -> const Dims& { return fixedIn[j]; }, fixedOut, pieces, perms);
        const kernels::Shape8 os = dense(fixedOut);
        auto g = cuda_pointwise::generatedKernel(p, half, &os);
        if (g.isOk()) fixed = *g;
      }
    }
  }
  if (nvrtc && !fixed) {
    auto g = cuda_pointwise::generatedKernel(prog, half);
    if (g.isOk()) generated = *g;
  }
  return [prog, bad, pieces, perms, generated, half, fixed, fixedIn, fixedOut](const Views& in, Views& out,
                                                                               void*, cudaStream_t s) {
    TRT_RETURN_IF_ERROR(bad);
    kernels::PointwiseProgram p = prog;  // a copy per launch: contexts share this function
    const Dims& od = out[0].dims;
    if (p.pieceAxis >= static_cast<int>(od.size()) || od.size() > static_cast<size_t>(kernels::kMaxRank))
      return makeError(StatusCode::kInternal, "Pointwise piece axis outside the output");
    bool asFixed = fixed && od == fixedOut;  // the shapes the fixed kernel was written for
    for (int j = 0; j < p.numInputs; ++j) {
      if (!perms[j].empty() && perms[j].size() != in[j].dims.size())
        return makeError(StatusCode::kInternal, "Pointwise input permutation of another rank than its input");
      p.in[j] = in[j].data;
      asFixed = asFixed && in[j].dims == fixedIn[j];
    }
    const bool typed = out[0].type == (half ? DataType::kFloat16 : DataType::kFloat32);
    if (asFixed && typed) {  // (its strides are in its code)
      TRT_CUDA_CHECK(cuda_pointwise::launchGenerated(*fixed, p, out[0].data, dense(od), s));
      return Status::ok();
    }
    bindPointwiseStrides(
        p, [&](int j) -> const Dims& { return in[j].dims; }, od, pieces, perms);
    if (generated && typed && out[0].numel() < (int64_t{1} << 31)) {
      TRT_CUDA_CHECK(cuda_pointwise::launchGenerated(*generated, p, out[0].data, dense(od), s));
      return Status::ok();
    }
    TRT_CUDA_CHECK(kernels::pointwise(ktype(out[0].type), p, out[0].data, dense(od), s));
    return Status::ok();
  };
}

EnqueueFn copyFn(const Layer&) {
  return [](const Views& in, Views& out, void*, cudaStream_t s) {
    if (out[0].data != in[0].data)
      TRT_CUDA_CHECK(cudaMemcpyAsync(out[0].data, in[0].data, in[0].byteSize(), cudaMemcpyDeviceToDevice, s));
    if (out.size() > 1)
      TRT_CUDA_CHECK(cudaMemsetAsync(out[1].data, 1, out[1].byteSize(), s));  // Dropout mask
    return Status::ok();
  };
}

}  // namespace

void registerElementwiseOps(CudaOpTable& t) {
  for (auto& kv : kUnary) t.add(kv.first, kF32, simple("cuda_unary", unaryFn));
  t.add("Gelu", kF32, simple("cuda_unary", geluFn));
  const std::set<DataType> ints = {DataType::kFloat32, DataType::kInt8, DataType::kInt32, DataType::kInt64};
  t.add("Neg", ints, simple("cuda_unary", negAbsFn));
  t.add("Abs", ints, simple("cuda_unary", negAbsFn));
  t.add("Clip", ints, simple("cuda_clip", clipFn));
  for (auto& kv : kBinary) {
    std::set<DataType> types = ints;
    if (kv.first == "And" || kv.first == "Or") types = {DataType::kBool};
    if (kv.first == "Pow") types = kF32;
    if (kv.second >= BinaryOp::kEqual && kv.second <= BinaryOp::kLessOrEqual) types.insert(DataType::kBool);
    t.add(kv.first, types, simple("cuda_binary_broadcast", binaryFn));
  }
  t.add("Pointwise", kF32, [](const Layer& l, const Network& net) -> Expected<std::unique_ptr<LayerImpl>> {
    return std::unique_ptr<LayerImpl>(new FnLayerImpl("cuda_pointwise", pointwiseFn(l, net)));
  });
  t.add("Where", {DataType::kBool}, simple("cuda_where", [](const Layer&) -> EnqueueFn {
          return [](const Views& in, Views& out, void*, cudaStream_t s) {
            const Dims& od = out[0].dims;
            TRT_CUDA_CHECK(kernels::where(in[0].as<uint8_t>(), broadcastTo(in[0].dims, od), in[1].data,
                                          broadcastTo(in[1].dims, od), in[2].data,
                                          broadcastTo(in[2].dims, od), out[0].data, dense(od),
                                          static_cast<int>(dataTypeSize(out[0].type)), s));
            return Status::ok();
          };
        }));
  t.add("Cast", kAll, simple("cuda_cast", [](const Layer&) -> EnqueueFn {
          return [](const Views& in, Views& out, void*, cudaStream_t s) {
            TRT_CUDA_CHECK(kernels::cast(ktype(in[0].type), ktype(out[0].type), in[0].data, out[0].data,
                                         in[0].numel(), s));
            return Status::ok();
          };
        }));
  t.add("Not", {DataType::kBool}, simple("cuda_not", [](const Layer&) -> EnqueueFn {
          return [](const Views& in, Views& out, void*, cudaStream_t s) {
            TRT_CUDA_CHECK(kernels::logicalNot(in[0].as<uint8_t>(), out[0].as<uint8_t>(), in[0].numel(), s));
            return Status::ok();
          };
        }));
  t.add("IsNaN", kF32, simple("cuda_isnan", [](const Layer&) -> EnqueueFn {
          return [](const Views& in, Views& out, void*, cudaStream_t s) {
            TRT_CUDA_CHECK(kernels::isNan(in[0].as<float>(), out[0].as<uint8_t>(), in[0].numel(), s));
            return Status::ok();
          };
        }));
  for (const char* op : {"Identity", "Dropout", "Reshape", "Flatten", "Squeeze", "Unsqueeze"})
    t.add(op, kAll, simple("cuda_copy", copyFn));
  // Shape and Size are always computed on the host when shapes are prepared; their layers never run.
  for (const char* op : {"Shape", "Size"})
    t.add(op, kAll, simple("host_shape_value", [](const Layer& l) -> EnqueueFn {
            std::string type = l.type;
            return [type](const Views&, Views&, void*, cudaStream_t) {
              return makeError(StatusCode::kInternal,
                               type + " reached the device; it is computed on the host");
            };
          }));
  t.add("ConstantOfShape", {DataType::kInt64}, simple("cuda_fill", [](const Layer& l) -> EnqueueFn {
          uint64_t pattern = 0;
          if (const HostTensor* v = l.attrs.getTensor("value"))
            std::memcpy(&pattern, v->data(), v->byteSize());
          return [pattern](const Views&, Views& out, void*, cudaStream_t s) {
            TRT_CUDA_CHECK(kernels::fill(out[0].data, out[0].numel(),
                                         static_cast<int>(dataTypeSize(out[0].type)), pattern, s));
            return Status::ok();
          };
        }));
}

}  // namespace cuda
}  // namespace trt
