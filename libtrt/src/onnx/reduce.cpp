// ONNX importers for reductions, ArgMax, TopK and CumSum.
#include "onnx/importer.h"

namespace trt {
namespace onnximport {

void registerReduceImporters(ImporterTable& t) {
  // ReduceSum takes axes as an input from opset 13, the others from opset 18; trt keeps an attribute.
  for (const char* op : {"ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin"})
    t.add(op, {"axes", "keepdims", "noop_with_empty_axes"}, [](NodeContext& c) {
      TRT_RETURN_IF_ERROR(c.inputToIntsAttr(1, "axes"));
      if (c.attrs().has("axes") && c.attrs().getInts("axes").empty()) c.attrs().erase("axes");
      return Status::ok();
    });
  t.add("ArgMax", {"axis", "keepdims", "select_last_index"});
  t.add("TopK", {"axis", "largest", "sorted"});
  t.add("CumSum", {"exclusive", "reverse"});
}

}  // namespace onnximport
}  // namespace trt
