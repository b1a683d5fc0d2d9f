// ONNX importers for data movement ops.
#include "onnx/importer.h"

namespace trt {
namespace onnximport {

void registerMovementImporters(ImporterTable& t) {
  t.add("Transpose", {"perm"});
  t.add("Concat", {"axis"}, [](NodeContext& c) {
    if (!c.attrs().has("axis")) return c.invalid("Concat needs attribute 'axis'");
    return Status::ok();
  });
  t.add("Split", {"axis", "split", "num_outputs"}, [](NodeContext& c) { return c.inputToIntsAttr(1, "split"); });
  t.add("Slice", {});
  t.add("Gather", {"axis"});
  t.add("GatherElements", {"axis"});
  t.add("GatherND", {"batch_dims"});
  t.add("Tile", {});
  t.add("Pad", {"mode"}, [](NodeContext& c) { return c.requireOneOf("mode", "constant", {"constant", "reflect", "edge"}); });
  t.add("Resize",
        {"mode", "coordinate_transformation_mode", "nearest_mode", "cubic_coeff_a", "exclude_outside",
         "extrapolation_value", "antialias", "axes", "keep_aspect_ratio_policy"},
        [](NodeContext& c) {
          TRT_RETURN_IF_ERROR(c.requireOneOf("mode", "nearest", {"nearest", "linear"}));
          TRT_RETURN_IF_ERROR(c.requireOneOf("coordinate_transformation_mode", "half_pixel",
                                             {"half_pixel", "asymmetric", "align_corners", "pytorch_half_pixel",
                                              "half_pixel_symmetric"}));
          TRT_RETURN_IF_ERROR(c.requireOneOf("nearest_mode", "round_prefer_floor",
                                             {"round_prefer_floor", "round_prefer_ceil", "floor", "ceil"}));
          TRT_RETURN_IF_ERROR(c.requireIntIn("antialias", 0, {0}));
          TRT_RETURN_IF_ERROR(c.requireIntIn("exclude_outside", 0, {0}));
          TRT_RETURN_IF_ERROR(c.requireOneOf("keep_aspect_ratio_policy", "stretch", {"stretch"}));
          c.attrs().erase("cubic_coeff_a");
          c.attrs().erase("extrapolation_value");
          return Status::ok();
        });
}

}  // namespace onnximport
}  // namespace trt
