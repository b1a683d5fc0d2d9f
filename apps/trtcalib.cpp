// trtcalib: INT8 calibration into a TensorRT-format calibration cache. INT8 is not part of this
// build yet: the tool says so and exits with status 2 rather than pretending.
#include "common/tool_util.h"

int main(int, char**) {
  return trt::tools::notYet("trtcalib", "INT8 calibration (entropy, min-max, percentile) arrives with a later issue; this build cannot calibrate");
}
