// trtbuild: ONNX model -> engine plan.
//   trtbuild MODEL.onnx [-o ENGINE.plan] [--device cpu|cuda] [--opt-level N] [--verbose]
//   trtbuild --onnx=MODEL.onnx --saveEngine=ENGINE.plan        (trtexec spelling)
#include <iostream>

#include "common/options.h"
#include "common/tool_util.h"

using namespace trt;
using namespace trt::tools;

int main(int argc, char** argv) {
  CLI::App app{"trtbuild: build an engine plan from an ONNX model", "trtbuild"};
  ModelOptions model;
  BuildOptions build;
  addModelOptions(app, model, false);
  addBuildOptions(app, build);
  if (int rc = parseCommandLine(app, argc, argv); rc >= 0) return rc;
  if (model.onnx.empty()) return fail("trtbuild", makeError(StatusCode::kInvalidArgument, "no model given (trtbuild MODEL.onnx)"));
  StderrLogger logger(build.verbose ? Severity::kVerbose : Severity::kWarning);
  std::string out = build.saveEngine;
  if (out.empty()) {
    out = model.onnx;
    size_t dot = out.rfind('.');
    size_t slash = out.rfind('/');
    if (dot != std::string::npos && (slash == std::string::npos || dot > slash)) out = out.substr(0, dot);
    out += ".plan";
  }
  auto plan = buildFromOnnx(model.onnx, build, logger);
  if (!plan.isOk()) return fail("trtbuild", plan.status());
  Status st = writeFileAtomic(out, plan->data(), plan->size());
  if (!st.isOk()) return fail("trtbuild", st);
  std::cout << "trtbuild: wrote " << out << " (" << plan->size() << " bytes)" << std::endl;
  return kExitOk;
}
