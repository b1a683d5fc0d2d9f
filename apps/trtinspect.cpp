// trtinspect: show an engine's bindings and layers, as text or IEngineInspector-style JSON.
//   trtinspect ENGINE.plan [--json | --format text|json|dot] [--shapes NAME:DIMS] [--memory-tensors]
#include <iomanip>
#include <iostream>
#include <sstream>
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

// The activation memory plan at the given shapes (dynamic dims not given are 1): JSON for
// "MemoryPlan", or an error naming why it is unavailable (bad --shapes, no device, ...).
Expected<json> memoryPlanJson(const Engine& e, const std::vector<std::string>& specs) {
  TRT_ASSIGN_OR_RETURN(auto given, parseShapeSpecs(specs));
  auto ctx = const_cast<Engine&>(e).createExecutionContext();
  for (const auto& b : e.bindings()) {
    if (!b.isInput) continue;
    Dims d;
    auto it = given.find(b.name);
    if (it != given.end()) d = it->second;
    else
      for (const Dim& x : b.shape) d.push_back(x.isStatic() ? x.value : 1);
    TRT_RETURN_IF_ERROR(ctx->setInputShape(b.name, d));
  }
  TRT_ASSIGN_OR_RETURN(ExecutionContext::MemoryPlanReport r, ctx->memoryPlan());
  const double reuse = r.totalActivationBytes > 0 ? 1.0 - static_cast<double>(r.arenaBytes) / r.totalActivationBytes : 0.0;
  json ts = json::array();
  for (const auto& t : r.tensors)
    ts.push_back({{"Name", t.name}, {"Offset", t.offset}, {"Bytes", t.bytes}, {"FirstLayer", t.firstLayer},
                  {"LastLayer", t.lastLayer}, {"View", t.view}});
  return json{{"ArenaBytes", r.arenaBytes}, {"TotalActivationBytes", r.totalActivationBytes}, {"ReuseRatio", reuse},
              {"WeightBytes", e.weightBytes()}, {"WorkspaceBytes", r.workspaceBytes}, {"Tensors", ts}};
}

// A DOT string: quotes escaped; "\n" sequences the caller put in stay line breaks.
std::string dotQuote(const std::string& s) {
  std::string r = "\"";
  for (char c : s) {
    if (c == '"') r += '\\';
    r += c;
  }
  return r + "\"";
}

// The engine graph for Graphviz: a box per layer (name, type, precision, tactic; colour by role),
// an ellipse per binding, an edge per tensor a layer reads, labelled with its shape.
std::string dotGraph(const Engine& e) {
  const Network& net = e.network();
  std::ostringstream o;
  o << "digraph engine {\n  rankdir=TB;\n  node [shape=box, style=filled, fontname=\"Helvetica\", fontsize=10];\n";
  for (const auto& b : e.bindings())
    o << "  " << dotQuote("io:" + b.name) << " [shape=ellipse, fillcolor=\"#dddddd\", label="
      << dotQuote(b.name + "\\n" + shapeToString(b.shape) + " " + dataTypeName(b.type)) << "];\n";
  for (size_t i = 0; i < net.layers().size(); ++i) {
    const Layer& l = net.layers()[i];
    const std::string role = e.layerRole(i);
    const char* fill = role == "compute" ? "#cfe2f3" : role == "view" ? "#eeeeee" : "#fff2cc";
    std::string name = l.name.size() > 60 ? l.name.substr(0, 57) + "..." : l.name;
    o << "  L" << i << " [fillcolor=\"" << fill << "\", label="
      << dotQuote(name + "\\n" + l.type + "  " + l.precision + "\\n" + l.tactic) << "];\n";
  }
  for (size_t i = 0; i < net.layers().size(); ++i)
    for (int in : net.layers()[i].inputs) {
      if (in < 0 || net.tensor(in).isConstant()) continue;
      const TensorDesc& t = net.tensor(in);
      const std::string from = t.producer >= 0 ? "L" + std::to_string(t.producer) : dotQuote("io:" + t.name);
      o << "  " << from << " -> L" << i << " [label=" << dotQuote(shapeToString(t.shape)) << ", fontsize=8];\n";
    }
  for (int out : net.outputs())
    if (net.tensor(out).producer >= 0)
      o << "  L" << net.tensor(out).producer << " -> " << dotQuote("io:" + net.tensor(out).name) << ";\n";
  o << "}\n";
  return o.str();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"trtinspect: show an engine's bindings and layers", "trtinspect"};
  EngineOptions eng;
  bool asJson = false;
  addEngineOptions(app, eng);
  app.add_flag("--json", asJson, "IEngineInspector-style JSON");
  std::string format;
  app.add_option("--format", format, "text, json or dot (Graphviz; html arrives with issue 6)");
  std::vector<std::string> shapes;
  app.add_option("--shapes", shapes, "NAME:1x3x224x224 for the memory plan (dynamic dims default to 1)")->take_all();
  bool tensors = false;
  app.add_flag("--memory-tensors", tensors, "list every planned tensor in the text view");
  if (int rc = parseCommandLine(app, argc, argv); rc >= 0) return rc;
  if (format == "json") asJson = true;
  else if (!format.empty() && format != "text" && format != "dot") return notYet("trtinspect", "--format " + format + " arrives with issue 6 (profiling and inspection)");
  if (auto sp = parseShapeSpecs(shapes); !sp.isOk()) return fail("trtinspect", sp.status());
  if (eng.engine.empty()) return fail("trtinspect", makeError(StatusCode::kInvalidArgument, "no engine given (trtinspect ENGINE.plan)"));
  auto engine = Engine::loadFile(eng.engine);
  if (!engine.isOk()) return fail("trtinspect", engine.status());
  const Engine& e = **engine;
  const Network& net = e.network();
  if (format == "dot") {
    std::cout << dotGraph(e);
    return kExitOk;
  }
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
    auto mp = memoryPlanJson(e, shapes);
    if (mp.isOk()) doc["MemoryPlan"] = *mp;
    else doc["MemoryPlanUnavailable"] = mp.status().message();
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
  auto mp = memoryPlanJson(e, shapes);
  if (!mp.isOk()) {
    std::cout << "Memory plan: unavailable (" << mp.status().message() << ")\n";
    return kExitOk;
  }
  const json& m = *mp;
  std::cout << "Memory plan: arena " << m["ArenaBytes"].get<int64_t>() << " bytes for "
            << m["TotalActivationBytes"].get<int64_t>() << " bytes of activations (reuse ratio " << std::fixed
            << std::setprecision(3) << m["ReuseRatio"].get<double>() << "), weights " << m["WeightBytes"].get<int64_t>()
            << " bytes, workspace " << m["WorkspaceBytes"].get<int64_t>() << " bytes\n";
  if (tensors)
    for (const auto& t : m["Tensors"])
      std::cout << "  " << t["Name"].get<std::string>() << "  offset " << t["Offset"].get<int64_t>() << "  "
                << t["Bytes"].get<int64_t>() << " bytes  layers " << t["FirstLayer"].get<int>() << ".."
                << t["LastLayer"].get<int>() << (t["View"].get<bool>() ? "  (view)" : "") << "\n";
  return kExitOk;
}
