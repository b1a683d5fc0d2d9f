// ONNX importers for Conv, ConvTranspose and pooling.
#include "onnx/importer.h"

namespace trt {
namespace onnximport {
namespace {

Status checkAutoPad(NodeContext& c) {
  return c.requireOneOf("auto_pad", "NOTSET", {"NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID"});
}

}  // namespace

void registerConvPoolImporters(ImporterTable& t) {
  t.add("Conv", {"auto_pad", "dilations", "group", "kernel_shape", "pads", "strides"}, checkAutoPad);
  t.add("ConvTranspose",
        {"auto_pad", "dilations", "group", "kernel_shape", "pads", "strides", "output_padding", "output_shape"},
        checkAutoPad);
  t.add("MaxPool", {"auto_pad", "ceil_mode", "dilations", "kernel_shape", "pads", "storage_order", "strides"},
        [](NodeContext& c) {
          TRT_RETURN_IF_ERROR(checkAutoPad(c));
          if (c.layer().outputs.size() > 1) return c.unsupported("MaxPool's Indices output");
          return c.requireIntIn("storage_order", 0, {0});
        });
  t.add("AveragePool", {"auto_pad", "ceil_mode", "count_include_pad", "dilations", "kernel_shape", "pads", "strides"},
        checkAutoPad);
  t.add("GlobalAveragePool", {});
  t.add("GlobalMaxPool", {});
}

}  // namespace onnximport
}  // namespace trt
