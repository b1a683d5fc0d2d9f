// trtbuild: ONNX model -> engine plan.
//   trtbuild MODEL.onnx [-o ENGINE.plan] [--device cpu|cuda] [--opt-level N] [--verbose]
//            [--export-build-log BUILD.json] [--fp16] [--shapes NAME:DIMS] [--builder-opt-level N]
//            [--timing-cache FILE] [--workspace MiB] [--input-io-formats fp16] [--output-io-formats fp16] ...
//   trtbuild --onnx=MODEL.onnx --saveEngine=ENGINE.plan        (trtexec spelling)
#include <iostream>

#include <nlohmann/json.hpp>

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
  app.add_option("--shapes", build.shapes,
                 "NAME:1x3x224x224[,NAME:...]: build for exactly these input shapes (trtexec --shapes; "
                 "tactics are timed with them); the sizes given a named dim hold for every input sharing "
                 "the name")
      ->take_all();
  if (int rc = parseCommandLine(app, argc, argv); rc >= 0) return rc;
  if (model.onnx.empty())
    return fail("trtbuild", makeError(StatusCode::kInvalidArgument, "no model given (trtbuild MODEL.onnx)"));
  StderrLogger logger(build.verbose ? Severity::kVerbose : Severity::kWarning);
  std::string out = build.saveEngine;
  if (out.empty()) {
    out = model.onnx;
    size_t dot = out.rfind('.');
    size_t slash = out.rfind('/');
    if (dot != std::string::npos && (slash == std::string::npos || dot > slash)) out = out.substr(0, dot);
    out += ".plan";
  }
  BuildReport report;
  auto plan = buildFromOnnx(model.onnx, build, logger, &report);
  if (!plan.isOk()) return fail("trtbuild", plan.status());
  if (!build.exportBuildLog.empty()) {
    nlohmann::json phases = nlohmann::json::array(), layers = nlohmann::json::array();
    for (const auto& p : report.phases)
      phases.push_back({{"Name", p.name},
                        {"Ms", p.ms},
                        {"LayersBefore", p.layersBefore},
                        {"LayersAfter", p.layersAfter},
                        {"Note", p.note}});
    for (const auto& l : report.layers) {
      nlohmann::json cands = nlohmann::json::array();
      for (size_t c = 0; c < l.candidates.size(); ++c) {
        const auto& [tactic, ms] = l.candidates[c];
        const int64_t ws = c < l.workspaceBytes.size() ? l.workspaceBytes[c] : -1;
        cands.push_back({{"Tactic", tactic},
                         {"TimeMs", ms < 0 ? nlohmann::json(nullptr) : nlohmann::json(ms)},
                         {"WorkspaceBytes", ws < 0 ? nlohmann::json(nullptr) : nlohmann::json(ws)}});
      }
      layers.push_back({{"Name", l.name},
                        {"LayerType", l.type},
                        {"Precision", l.precision},
                        {"TacticName", l.tactic},
                        {"Candidates", cands}});
    }
    const std::string text =
        nlohmann::json{{"TotalMs", report.totalMs}, {"Phases", phases}, {"Layers", layers}}.dump(2) + "\n";
    if (Status st = writeFileAtomic(build.exportBuildLog, text.data(), text.size()); !st.isOk())
      return fail("trtbuild", st);
  }
  Status st = writeFileAtomic(out, plan->data(), plan->size());
  if (!st.isOk()) return fail("trtbuild", st);
  std::cout << "trtbuild: wrote " << out << " (" << plan->size() << " bytes)" << std::endl;
  return kExitOk;
}
