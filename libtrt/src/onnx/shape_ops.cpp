// ONNX importers for the shape family.
#include "onnx/importer.h"

namespace trt {
namespace onnximport {

void registerShapeImporters(ImporterTable& t) {
  t.add("Reshape", {"allowzero"});
  t.add("Flatten", {"axis"});
  // Squeeze/Unsqueeze take axes as an input from opset 13; trt keeps them as an attribute.
  t.add("Squeeze", {"axes"}, [](NodeContext& c) { return c.inputToIntsAttr(1, "axes"); });
  t.add("Unsqueeze", {"axes"}, [](NodeContext& c) {
    TRT_RETURN_IF_ERROR(c.inputToIntsAttr(1, "axes"));
    if (!c.attrs().has("axes") && !c.hasInput(1)) return c.invalid("Unsqueeze needs axes");
    return Status::ok();
  });
  t.add("Shape", {"start", "end"});
  t.add("Size", {});
  t.add("ConstantOfShape", {"value"}, [](NodeContext& c) {
    const HostTensor* v = c.attrs().getTensor("value");
    if (v && v->numel() != 1) return c.invalid("ConstantOfShape's value must hold one element");
    return Status::ok();
  });
  t.add("Expand", {});
  t.add("Range", {});
}

}  // namespace onnximport
}  // namespace trt
