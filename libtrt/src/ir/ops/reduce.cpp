// Shape inference for reductions and ordering: ReduceMean/Sum/Max/Min, ArgMax, TopK and CumSum.
#include <set>

#include "ir/op_registry.h"

namespace trt {
namespace {

Status inferReduce(InferContext& c) {
  const Shape& in = c.shape(0);
  bool keep = c.attrs().getInt("keepdims", 1) != 0;
  bool known = true;
  std::vector<int64_t> axes = c.intsFromAttrOrInput("axes", 1, known);
  if (!known) {
    Shape out = keep ? Shape(in.size(), Dim()) : Shape();
    if (!keep) return c.unsupported("keepdims=0 with axes that are not known at build time");
    c.setOutput(0, c.type(0), out);
    return Status::ok();
  }
  std::set<int> red;
  if (axes.empty()) {
    if (c.attrs().getInt("noop_with_empty_axes", 0)) {
      c.setOutput(0, c.type(0), in);
      return Status::ok();
    }
    for (int i = 0; i < c.rank(0); ++i) red.insert(i);
  }
  for (int64_t a : axes) {
    TRT_ASSIGN_OR_RETURN(int ax, normalizeAxis(a, c.rank(0)));
    red.insert(ax);
  }
  Shape out;
  for (int i = 0; i < c.rank(0); ++i) {
    if (!red.count(i)) out.push_back(in[i]);
    else if (keep) out.push_back(Dim(1));
  }
  c.setOutput(0, c.type(0), out);
  return Status::ok();
}

Status inferArgMax(InferContext& c) {
  TRT_ASSIGN_OR_RETURN(int axis, normalizeAxis(c.attrs().getInt("axis", 0), c.rank(0)));
  Shape out = c.shape(0);
  if (c.attrs().getInt("keepdims", 1)) out[axis] = Dim(1);
  else out.erase(out.begin() + axis);
  c.setOutput(0, DataType::kInt64, out);
  return Status::ok();
}

Status inferTopK(InferContext& c) {
  TRT_ASSIGN_OR_RETURN(int axis, normalizeAxis(c.attrs().getInt("axis", -1), c.rank(0)));
  Shape out = c.shape(0);
  auto k = c.intValues(1, "TopK's K");
  if (k.isOk()) {
    if (k->size() != 1 || (*k)[0] < 0) return c.error("TopK's K must be one non-negative value");
    if (out[axis].isStatic() && (*k)[0] > out[axis].value) return c.error("TopK's K exceeds the axis size");
    out[axis] = Dim((*k)[0]);
  } else {
    out[axis] = Dim();
  }
  c.setOutput(0, c.type(0), out);
  c.setOutput(1, DataType::kInt64, out);
  return Status::ok();
}

Status inferCumSum(InferContext& c) {
  auto axis = c.intValues(1, "CumSum's axis");
  if (axis.isOk()) TRT_RETURN_IF_ERROR(normalizeAxis((*axis)[0], c.rank(0)).status());
  c.setOutput(0, c.type(0), c.shape(0));
  return Status::ok();
}

}  // namespace

void registerReduceOps(OpRegistry& r) {
  for (const char* op : {"ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin"}) {
    r.add(op, 1, 2, 1, 1, inferReduce);
    r.setShapeInputs(op, {1});
  }
  r.add("ArgMax", 1, 1, 1, 1, inferArgMax);
  r.add("TopK", 2, 2, 2, 2, inferTopK);
  r.add("CumSum", 2, 2, 1, 1, inferCumSum);
  r.setShapeInputs("TopK", {1});
}

}  // namespace trt
