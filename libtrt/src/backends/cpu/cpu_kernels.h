// The CPU backend's kernel table: the readable reference implementation of every op (the oracle).
//
// A kernel is a plain function from input views to preallocated output views. Output dims are
// set by shape inference before the call. Layout: dense row-major (NCHW for images). Precision:
// float32 math, with the integer and bool types that shape computations need; each registration
// lists the input-0 types it accepts.
#pragma once

#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "ir/tensor_view.h"
#include "trt/network.h"

namespace trt {
namespace cpu {

using KernelFn =
    std::function<Status(const Layer&, const std::vector<TensorView>&, std::vector<TensorView>&)>;
// Kernels that need scratch memory get it from the execution context: the size function is asked
// when shapes are known, and the kernel receives a buffer of at least that many bytes.
using WorkspaceKernelFn = std::function<Status(const Layer&, const std::vector<TensorView>&,
                                               std::vector<TensorView>&, void* workspace)>;
using WorkspaceSizeFn =
    std::function<size_t(const Layer&, const std::vector<TensorView>&, const std::vector<TensorView>&)>;

struct KernelEntry {
  KernelFn fn;             // set for kernels without workspace
  WorkspaceKernelFn wsFn;  // set for kernels with workspace
  WorkspaceSizeFn wsSize;
  std::set<DataType> types;  // accepted types of input 0
  std::string tactic;
};

class KernelTable {
 public:
  static const KernelTable& instance();
  void add(const std::string& op, std::set<DataType> types, KernelFn fn, std::string tactic = "");
  void addWithWorkspace(const std::string& op, std::set<DataType> types, WorkspaceKernelFn fn,
                        WorkspaceSizeFn size, std::string tactic);
  const KernelEntry* find(const std::string& op) const;
  // Other implementations of an op registered with add(): tactic candidates the builder times
  // (same types as the primary one).
  void addAlternative(const std::string& op, KernelFn fn, std::string tactic);
  const std::vector<KernelEntry>& alternatives(const std::string& op) const;
  const Status& registrationStatus() const { return status_; }
  std::vector<std::string> ops() const;

 private:
  std::map<std::string, KernelEntry> table_;
  std::map<std::string, std::vector<KernelEntry>> alternatives_;
  Status status_;
};

void registerElementwiseKernels(KernelTable& t);
// y = x converted to y's type (Cast's semantics); same element count.
Status castValues(const TensorView& x, TensorView& y);
void registerConvPoolKernels(KernelTable& t);
void registerNormKernels(KernelTable& t);
void registerMatmulKernels(KernelTable& t);
void registerShapeKernels(KernelTable& t);
void registerMovementKernels(KernelTable& t);
void registerReduceKernels(KernelTable& t);

// Runs a kernel entry; a null workspace for a workspace kernel allocates one (host evaluation).
Status runKernel(const KernelEntry& k, const Layer& layer, const std::vector<TensorView>& inputs,
                 std::vector<TensorView>& outputs, void* workspace);

// Type sets used by registrations.
extern const std::set<DataType> kFloatOnly;
extern const std::set<DataType> kNumeric;  // float32, int32, int64
extern const std::set<DataType> kAnyType;  // every DataType (data movement)

// Row-major strides of dims.
std::vector<int64_t> stridesOf(const Dims& d);

// C[M,N] = alpha * op(A)[M,K] * op(B)[K,N] + beta * C, row-major with leading dims.
// Goes through OpenBLAS when built with it.
void sgemm(bool transA, bool transB, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
           int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc);
bool haveBlas();

}  // namespace cpu
}  // namespace trt
