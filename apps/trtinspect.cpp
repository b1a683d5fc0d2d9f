// trtinspect: show an engine's bindings and layers, as text or IEngineInspector-style JSON.
//   trtinspect ENGINE.plan [--json]
#include <iostream>
#include <map>

#include <nlohmann/json.hpp>

#include "common/options.h"
#include "common/tool_util.h"

using namespace trt;
using namespace trt::tools;
using nlohmann::json;

namespace {

json dimsJson(const Shape& s) {
  json d = json::array();
  for (const Dim& x : s) {
    if (x.isStatic()) d.push_back(x.value);
    else d.push_back(-1);
  }
  return d;
}

json tensorJson(const Network& net, int id) {
  const TensorDesc& t = net.tensor(id);
  json j = {{"Name", t.name}, {"Dimensions", dimsJson(t.shape)}, {"Format/Datatype", formatDatatype(t.type)}};
  if (!isStatic(t.shape)) j["Shape"] = shapeToString(t.shape);
  return j;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"trtinspect: show an engine's bindings and layers", "trtinspect"};
  EngineOptions eng;
  bool asJson = false;
  addEngineOptions(app, eng);
  app.add_flag("--json", asJson, "IEngineInspector-style JSON");
  std::string format;
  app.add_option("--format", format, "text or json (dot and html arrive with issue 6)");
  if (int rc = parseCommandLine(app, argc, argv); rc >= 0) return rc;
  if (format == "json") asJson = true;
  else if (!format.empty() && format != "text") return notYet("trtinspect", "--format " + format + " arrives with issue 6 (profiling and inspection)");
  if (eng.engine.empty()) return fail("trtinspect", makeError(StatusCode::kInvalidArgument, "no engine given (trtinspect ENGINE.plan)"));
  auto engine = Engine::loadFile(eng.engine);
  if (!engine.isOk()) return fail("trtinspect", engine.status());
  const Engine& e = **engine;
  const Network& net = e.network();
  if (asJson) {
    json layers = json::array();
    for (const Layer& l : net.layers()) {
      json ins = json::array(), outs = json::array();
      for (int i : l.inputs)
        if (i >= 0) ins.push_back(tensorJson(net, i));
      for (int o : l.outputs) outs.push_back(tensorJson(net, o));
      layers.push_back({{"Name", l.name},
                        {"LayerType", l.type},
                        {"Inputs", ins},
                        {"Outputs", outs},
                        {"Precision", l.precision},
                        {"TacticName", l.tactic},
                        {"Role", e.layerRole(layers.size())},
                        {"Origins", l.origins}});
    }
    json bindings = json::array();
    for (const auto& b : e.bindings()) {
      int id = net.findTensor(b.name);
      json j = tensorJson(net, id);
      j["IOMode"] = b.isInput ? "Input" : "Output";
      bindings.push_back(j);
    }
    json doc = {{"Layers", layers}, {"Bindings", bindings}, {"Backend", e.backend()}, {"Fingerprint", e.fingerprint()},
                {"PlanFormatVersion", e.formatVersion()}, {"WeightBytes", e.weightBytes()}};
    std::cout << doc.dump(2) << std::endl;
    return kExitOk;
  }
  std::cout << "Engine: " << eng.engine << "\n" << "  " << e.fingerprint() << ", plan format v" << e.formatVersion()
            << ", weights " << e.weightBytes() << " bytes\n";
  std::cout << "Bindings:\n";
  for (const auto& b : e.bindings())
    std::cout << "  " << (b.isInput ? "input  " : "output ") << b.name << " " << shapeToString(b.shape) << " "
              << dataTypeName(b.type) << "\n";
  size_t origins = 0;
  for (const Layer& l : net.layers()) origins += l.origins.size();
  std::map<std::string, int> roles;
  for (size_t i = 0; i < net.layers().size(); ++i) ++roles[e.layerRole(i)];
  std::cout << "Layers: " << net.layers().size() << " (from " << origins << " ONNX nodes): " << roles["compute"]
            << " compute, " << roles["shape"] << " shape computations on the host, " << roles["view"]
            << " views without work\n";
  for (size_t i = 0; i < net.layers().size(); ++i) {
    const Layer& l = net.layers()[i];
    const std::string role = e.layerRole(i);
    std::cout << "  [" << i << "] " << l.name << "  " << l.type << "  " << l.precision << "  " << l.tactic
              << (role == "compute" ? "" : "  (" + role + ")") << "\n      in:";
    for (int in : l.inputs)
      if (in >= 0) std::cout << " " << net.tensor(in).name << shapeToString(net.tensor(in).shape) << (net.tensor(in).isConstant() ? "(const)" : "");
    std::cout << "\n      out:";
    for (int o : l.outputs) std::cout << " " << net.tensor(o).name << shapeToString(net.tensor(o).shape);
    std::cout << "\n";
  }
  return kExitOk;
}
