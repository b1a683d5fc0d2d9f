// Shared pieces of the CUDA backend: error checking into Status, library handles, and the
// conversion of TensorViews into the kernels' by-value shapes.
#pragma once

#include <cublasLt.h>
#include <cuda_runtime.h>
#include <cudnn.h>

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "backends/backend.h"
#include "ir/ops/activation.h"
#include "kernels.h"

namespace trt {
namespace cuda {

Status cudaStatus(cudaError_t e, const char* what);
Status cublasStatus(cublasStatus_t e, const char* what);
Status cudnnStatus(cudnnStatus_t e, const char* what);

// Every CUDA, cuBLAS and cuDNN call goes through these: a failure returns a Status naming the call.
#define TRT_CUDA_CHECK(call) TRT_RETURN_IF_ERROR(::trt::cuda::cudaStatus((call), #call))
#define TRT_CUBLAS_CHECK(call) TRT_RETURN_IF_ERROR(::trt::cuda::cublasStatus((call), #call))
#define TRT_CUDNN_CHECK(call) TRT_RETURN_IF_ERROR(::trt::cuda::cudnnStatus((call), #call))

// The cuBLASLt handle (thread safe, one per process) and a cuDNN handle per thread (cuDNN handles
// carry a stream, so threads must not share one).
Expected<cublasLtHandle_t> cublasLt();
Expected<cudnnHandle_t> cudnnForThisThread();

kernels::KType ktype(DataType t);
// Dense strides of v's dims.
kernels::Shape8 dense(const Dims& d);
// Strides of `in` broadcast to `out`'s rank (0 along broadcast dims).
kernels::Shape8 broadcastTo(const Dims& in, const Dims& out);

// The kernels' unary op that applies a fused layer's activation.
kernels::UnaryOp unaryForActivation(Activation a);

// What the last captured graph's programmatic-launch rewrite did in this process (tests and
// diagnostics): CUTLASS nodes given their waiting twins, edges made programmatic, edges in all.
struct GraphRewriteStats {
  int twins = 0, programmatic = 0, edges = 0;
};
GraphRewriteStats lastGraphRewrite();

inline cudaStream_t streamOf(void* s) {
  return static_cast<cudaStream_t>(s);
}
inline bool isHalf(const TensorView& v) {
  return v.type == DataType::kFloat16;
}

// A layer implementation from a lambda, for the many simple layers.
using EnqueueFn =
    std::function<Status(const std::vector<TensorView>&, std::vector<TensorView>&, void*, cudaStream_t)>;
using WorkspaceFn = std::function<size_t(const std::vector<TensorView>&, const std::vector<TensorView>&)>;
class FnLayerImpl : public LayerImpl {
 public:
  FnLayerImpl(std::string tactic, EnqueueFn fn, WorkspaceFn ws = nullptr)
      : tactic_(std::move(tactic)), fn_(std::move(fn)), ws_(std::move(ws)) {}
  std::string tacticName() const override { return tactic_; }
  size_t workspaceSize(const std::vector<TensorView>& in, const std::vector<TensorView>& out) const override {
    return ws_ ? ws_(in, out) : 0;
  }
  Status enqueue(const std::vector<TensorView>& in, std::vector<TensorView>& out, void* workspace,
                 void* stream) const override {
    return fn_(in, out, workspace, streamOf(stream));
  }

 private:
  std::string tactic_;
  EnqueueFn fn_;
  WorkspaceFn ws_;
};

// Tactic names: a base ("cudnn_conv_nhwc_fp16") and an optional variant suffix, "_a<N>" (cuDNN
// forward algorithm N), "_h<N>" (cuBLASLt's heuristic result N) or "_c<N>" (heuristic result N
// computing an FP16 output that is then widened to FP32), "_k<N>" (heuristic result N for a staged
// MatMul whose rows a kernel packs into the output) or "_t<N>" (tile variant N of our own or
// CUTLASS kernels). kind is 0 for a bare base.
struct TacticName {
  std::string base;
  char kind = 0;
  int index = 0;
};
inline TacticName parseTacticName(const std::string& t) {
  TacticName r{t, 0, 0};
  const size_t u = t.rfind('_');
  if (u == std::string::npos || u + 2 >= t.size() ||
      (t[u + 1] != 'a' && t[u + 1] != 'h' && t[u + 1] != 'c' && t[u + 1] != 'k' && t[u + 1] != 't'))
    return r;
  for (size_t i = u + 2; i < t.size(); ++i)
    if (t[i] < '0' || t[i] > '9' || i - u > 4) return r;
  r.base = t.substr(0, u);
  r.kind = t[u + 1];
  r.index = std::stoi(t.substr(u + 2));
  return r;
}

// The CUDA op table: per op, the input-0 types it takes, a factory and (for ops with several
// implementations) the names of its tactic candidates, the heuristic's own choice first.
using ImplFactory = std::function<Expected<std::unique_ptr<LayerImpl>>(const Layer&, const Network&)>;
using TacticsFn = std::function<std::vector<std::string>(const Layer&, const Network&)>;
struct CudaOp {
  std::set<DataType> types;
  ImplFactory make;
  bool fp16 = false;  // has an FP16 implementation
  TacticsFn tactics;
};
class CudaOpTable {
 public:
  static const CudaOpTable& instance();
  void add(const std::string& op, std::set<DataType> types, ImplFactory make, TacticsFn tactics = nullptr);
  // Marks ops that run in FP16 (their float inputs and outputs float16).
  void allowFp16(std::initializer_list<const char*> ops);
  const CudaOp* find(const std::string& op) const;
  const Status& registrationStatus() const { return status_; }

 private:
  std::map<std::string, CudaOp> ops_;
  Status status_;
};

void registerElementwiseOps(CudaOpTable& t);
void registerMovementOps(CudaOpTable& t);
void registerMatmulOps(CudaOpTable& t);
void registerConvOps(CudaOpTable& t);
void registerNormReduceOps(CudaOpTable& t);

// Shorthand for registering a lambda layer.
inline ImplFactory simple(std::string tactic, std::function<EnqueueFn(const Layer&)> make) {
  return [tactic, make](const Layer& l, const Network&) -> Expected<std::unique_ptr<LayerImpl>> {
    return std::unique_ptr<LayerImpl>(new FnLayerImpl(tactic, make(l)));
  };
}

extern const std::set<DataType> kF32;
extern const std::set<DataType> kFloats;  // float32 and float16
extern const std::set<DataType> kNumeric;
extern const std::set<DataType> kAll;

}  // namespace cuda
}  // namespace trt
