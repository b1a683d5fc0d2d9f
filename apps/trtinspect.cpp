// trtinspect: show an engine's bindings and layers, as text or IEngineInspector-style JSON.
//   trtinspect ENGINE.plan [--json | --format text|json|dot|html [--profile PROFILE.json]]
//              [--shapes NAME:DIMS] [--memory-tensors]
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <variant>

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
    if (x.isStatic())
      d.push_back(x.value);
    else
      d.push_back(-1);
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
    if (it != given.end())
      d = it->second;
    else
      for (const Dim& x : b.shape) d.push_back(x.isStatic() ? x.value : 1);
    TRT_RETURN_IF_ERROR(ctx->setInputShape(b.name, d));
  }
  TRT_ASSIGN_OR_RETURN(ExecutionContext::MemoryPlanReport r, ctx->memoryPlan());
  const double reuse =
      r.totalActivationBytes > 0 ? 1.0 - static_cast<double>(r.arenaBytes) / r.totalActivationBytes : 0.0;
  json ts = json::array();
  for (const auto& t : r.tensors) {
    json entry = {{"Name", t.name},           {"Offset", t.offset},
                  {"Bytes", t.bytes},         {"FirstLayer", t.firstLayer},
                  {"LastLayer", t.lastLayer}, {"View", t.view}};
    if (t.rowStride) entry["RowStride"] = t.rowStride;  // a part of a channel concatenation
    ts.push_back(entry);
  }
  return json{{"ArenaBytes", r.arenaBytes},
              {"TotalActivationBytes", r.totalActivationBytes},
              {"ReuseRatio", reuse},
              {"WeightBytes", e.weightBytes()},
              {"WorkspaceBytes", r.workspaceBytes},
              {"Tensors", ts}};
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
  o << "digraph engine {\n  rankdir=TB;\n  node [shape=box, style=filled, fontname=\"Helvetica\", "
       "fontsize=10];\n";
  for (const auto& b : e.bindings())
    o << "  " << dotQuote("io:" + b.name) << " [shape=ellipse, fillcolor=\"#dddddd\", label="
      << dotQuote(b.name + "\\n" + shapeToString(b.shape) + " " + dataTypeName(b.type)) << "];\n";
  for (size_t i = 0; i < net.layers().size(); ++i) {
    const Layer& l = net.layers()[i];
    const std::string role = e.layerRole(i);
    const char* fill = role == "compute" ? "#cfe2f3" : role == "view" ? "#eeeeee" : "#fff2cc";
    std::string name = l.name.size() > 60 ? l.name.substr(0, 57) + "..." : l.name;
    o << "  L" << i << " [fillcolor=\"" << fill
      << "\", label=" << dotQuote(name + "\\n" + l.type + "  " + l.precision + "\\n" + l.tactic) << "];\n";
  }
  for (size_t i = 0; i < net.layers().size(); ++i)
    for (int in : net.layers()[i].inputs) {
      if (in < 0 || net.tensor(in).isConstant()) continue;
      const TensorDesc& t = net.tensor(in);
      const std::string from = t.producer >= 0 ? "L" + std::to_string(t.producer) : dotQuote("io:" + t.name);
      o << "  " << from << " -> L" << i << " [label=" << dotQuote(shapeToString(t.shape))
        << ", fontsize=8];\n";
    }
  for (int out : net.outputs())
    if (net.tensor(out).producer >= 0)
      o << "  L" << net.tensor(out).producer << " -> " << dotQuote("io:" + net.tensor(out).name) << ";\n";
  o << "}\n";
  return o.str();
}

// A self-contained HTML page that draws the engine graph: layers in rows by depth (longest path from
// the inputs), edges between them, colour by per-layer time when a trtbench --export-profile file is
// given (else by role), and each layer's details on hover. No external resources.
Expected<std::string> htmlPage(const Engine& e, const std::string& profilePath) {
  const Network& net = e.network();
  std::map<std::string, double> timeOf;
  if (!profilePath.empty()) {
    std::ifstream f(profilePath);
    if (!f) return makeError(StatusCode::kNotFound, "cannot open profile '" + profilePath + "'");
    json prof;
    try {
      prof = json::parse(f);
    } catch (const std::exception& ex) {
      return makeError(StatusCode::kInvalidArgument,
                       "profile '" + profilePath + "' is not JSON: " + ex.what());
    }
    if (!prof.is_array())
      return makeError(StatusCode::kInvalidArgument,
                       "profile '" + profilePath + "' is not a trtexec profile array");
    for (const auto& entry : prof)
      if (entry.contains("name") && entry.contains("averageMs"))
        timeOf[entry["name"].get<std::string>()] = entry["averageMs"].get<double>();
  }
  json layers = json::array(), edges = json::array();
  for (size_t i = 0; i < net.layers().size(); ++i) {
    const Layer& l = net.layers()[i];
    json ins = json::array(), outs = json::array();
    for (int in : l.inputs)
      if (in >= 0)
        ins.push_back(net.tensor(in).name + " " + shapeToString(net.tensor(in).shape) +
                      (net.tensor(in).isConstant() ? " (const)" : ""));
    for (int o : l.outputs) outs.push_back(net.tensor(o).name + " " + shapeToString(net.tensor(o).shape));
    json j = {{"name", l.name},     {"type", l.type},         {"precision", l.precision},
              {"tactic", l.tactic}, {"role", e.layerRole(i)}, {"origins", l.origins},
              {"inputs", ins},      {"outputs", outs}};
    auto t = timeOf.find(l.name);
    if (t != timeOf.end()) j["ms"] = t->second;
    layers.push_back(j);
    for (int in : l.inputs)
      if (in >= 0 && net.tensor(in).producer >= 0)
        edges.push_back({net.tensor(in).producer, static_cast<int>(i)});
  }
  json doc = {{"engine", e.fingerprint()}, {"layers", layers}, {"edges", edges}, {"timed", !timeOf.empty()}};
  std::string data = doc.dump();
  // keep "</script>" out of the embedded JSON
  for (size_t p = data.find("</"); p != std::string::npos; p = data.find("</", p + 2))
    data.replace(p, 2, "<\\/");
  std::ostringstream o;
  o << R"HTML(<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>trt engine</title>
<style>
body{font-family:Helvetica,Arial,sans-serif;margin:0;display:flex;height:100vh}
#g{flex:1;overflow:auto}#d{width:360px;padding:12px;border-left:1px solid #ccc;overflow:auto;font-size:12px}
rect{stroke:#555;stroke-width:1}text{font-size:10px;pointer-events:none}
.e{stroke:#999;fill:none;marker-end:url(#a)}h3{margin:4px 0}code{word-break:break-all}
</style></head><body><div id="g"></div><div id="d"><h3>trt engine</h3><div id="info">Hover a layer.</div></div>
<script id="data" type="application/json">)HTML"
    << data << R"HTML(</script>
<script>
const D=JSON.parse(document.getElementById('data').textContent);
const L=D.layers,n=L.length,depth=new Array(n).fill(0);
for(const [a,b] of D.edges) depth[b]=Math.max(depth[b],depth[a]+1);
const rows={};L.forEach((l,i)=>{(rows[depth[i]]=rows[depth[i]]||[]).push(i);});
const W=180,H=40,GX=30,GY=36,pos=[];let maxX=0,maxY=0;
Object.keys(rows).forEach(r=>{rows[r].forEach((i,k)=>{pos[i]=[20+k*(W+GX),20+r*(H+GY)];
 maxX=Math.max(maxX,pos[i][0]+W);maxY=Math.max(maxY,pos[i][1]+H);});});
const times=L.map(l=>l.ms||0),tmax=Math.max(...times,1e-9);
function color(l){if(D.timed){const f=(l.ms||0)/tmax;return `rgb(255,${Math.round(240-200*f)},${Math.round(200-180*f)})`;}
 return l.role==='compute'?'#cfe2f3':l.role==='view'?'#eeeeee':'#fff2cc';}
const ns='http://www.w3.org/2000/svg',svg=document.createElementNS(ns,'svg');
svg.setAttribute('width',maxX+20);svg.setAttribute('height',maxY+20);
svg.innerHTML='<defs><marker id="a" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="6" markerHeight="6" orient="auto"><path d="M0,0L10,5L0,10z" fill="#999"/></marker></defs>';
for(const [a,b] of D.edges){const p=document.createElementNS(ns,'path');
 const x1=pos[a][0]+W/2,y1=pos[a][1]+H,x2=pos[b][0]+W/2,y2=pos[b][1];
 p.setAttribute('d',`M${x1},${y1}C${x1},${y1+GY/2} ${x2},${y2-GY/2} ${x2},${y2}`);p.setAttribute('class','e');svg.appendChild(p);}
const esc=s=>String(s).replace(/[&<>]/g,c=>({'&':'&amp;','<':'&lt;','>':'&gt;'}[c]));
L.forEach((l,i)=>{const g=document.createElementNS(ns,'g');const r=document.createElementNS(ns,'rect');
 r.setAttribute('x',pos[i][0]);r.setAttribute('y',pos[i][1]);r.setAttribute('width',W);r.setAttribute('height',H);
 r.setAttribute('rx',4);r.setAttribute('fill',color(l));g.appendChild(r);
 const t1=document.createElementNS(ns,'text');t1.setAttribute('x',pos[i][0]+6);t1.setAttribute('y',pos[i][1]+15);
 t1.textContent=(l.type+(l.ms!==undefined?'  '+l.ms.toFixed(3)+' ms':'')).slice(0,32);g.appendChild(t1);
 const t2=document.createElementNS(ns,'text');t2.setAttribute('x',pos[i][0]+6);t2.setAttribute('y',pos[i][1]+30);
 t2.textContent=l.name.slice(0,30);g.appendChild(t2);
 const tip=document.createElementNS(ns,'title');tip.textContent=l.name;g.appendChild(tip);
 g.addEventListener('mouseenter',()=>{document.getElementById('info').innerHTML=
  `<h3>${esc(l.type)}</h3><p><code>${esc(l.name)}</code></p><p>precision ${esc(l.precision)}<br>tactic ${esc(l.tactic)}<br>role ${esc(l.role)}`+
  (l.ms!==undefined?`<br>average ${l.ms.toFixed(4)} ms`:'')+`</p><p>inputs:<br>${l.inputs.map(esc).join('<br>')}</p>`+
  `<p>outputs:<br>${l.outputs.map(esc).join('<br>')}</p><p>origins (${l.origins.length}):<br>${l.origins.map(esc).join('<br>')}</p>`;});
 svg.appendChild(g);});
document.getElementById('g').appendChild(svg);
document.querySelector('#d h3').textContent='trt engine: '+n+' layers';
</script></body></html>
)HTML";
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
  app.add_option("--format", format, "text, json, dot (Graphviz) or html (a self-contained page)");
  std::string profile;
  app.add_option("--profile", profile, "trtbench --export-profile JSON: colour the html view by layer time");
  std::vector<std::string> shapes;
  app.add_option("--shapes", shapes, "NAME:1x3x224x224 for the memory plan (dynamic dims default to 1)")
      ->take_all();
  bool tensors = false;
  app.add_flag("--memory-tensors", tensors, "list every planned tensor in the text view");
  if (int rc = parseCommandLine(app, argc, argv); rc >= 0) return rc;
  if (format == "json")
    asJson = true;
  else if (!format.empty() && format != "text" && format != "dot" && format != "html")
    return notYet("trtinspect", "--format " + format + " arrives with issue 6 (profiling and inspection)");
  if (auto sp = parseShapeSpecs(shapes); !sp.isOk()) return fail("trtinspect", sp.status());
  if (eng.engine.empty())
    return fail("trtinspect",
                makeError(StatusCode::kInvalidArgument, "no engine given (trtinspect ENGINE.plan)"));
  // A plan for a device this machine lacks (a CUDA plan on a laptop) is still inspected.
  auto engine = Engine::loadForInspection(eng.engine);
  if (!engine.isOk()) return fail("trtinspect", engine.status());
  const Engine& e = **engine;
  const Network& net = e.network();
  if (format == "dot") {
    std::cout << dotGraph(e);
    return kExitOk;
  }
  if (format == "html") {
    auto page = htmlPage(e, profile);
    if (!page.isOk()) return fail("trtinspect", page.status());
    std::cout << *page;
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
      if (l.attrs.has("expression")) layers.back()["Expression"] = l.attrs.getString("expression");
      // The layer's parameters, as TensorRT's detailed inspector shows them (strides and pads,
      // the activation, attention's heads and causal hint, ...); tensors by type and dims only.
      json params = json::object();
      for (const auto& [name, v] : l.attrs.all()) {
        if (name == "expression") continue;
        std::visit(
            [&](const auto& x) {
              using T = std::decay_t<decltype(x)>;
              if constexpr (std::is_same_v<T, HostTensor>)
                params[name] = {{"Type", dataTypeName(x.type())}, {"Dimensions", x.dims()}};
              else
                params[name] = x;
            },
            v);
      }
      if (!params.empty()) layers.back()["Parameters"] = params;
    }
    json bindings = json::array();
    for (const auto& b : e.bindings()) {
      int id = net.findTensor(b.name);
      json j = tensorJson(net, id);
      j["IOMode"] = b.isInput ? "Input" : "Output";
      bindings.push_back(j);
    }
    json doc = {{"Layers", layers},
                {"Bindings", bindings},
                {"Backend", e.backend()},
                {"Fingerprint", e.fingerprint()},
                {"PlanFormatVersion", e.formatVersion()},
                {"WeightBytes", e.weightBytes()}};
    auto mp = memoryPlanJson(e, shapes);
    if (mp.isOk())
      doc["MemoryPlan"] = *mp;
    else
      doc["MemoryPlanUnavailable"] = mp.status().message();
    std::cout << doc.dump(2) << std::endl;
    return kExitOk;
  }
  std::cout << "Engine: " << eng.engine << "\n"
            << "  " << e.fingerprint() << ", plan format v" << e.formatVersion() << ", weights "
            << e.weightBytes() << " bytes\n";
  if (!e.inspectionReason().empty()) std::cout << "  (inspection only: " << e.inspectionReason() << ")\n";
  std::cout << "Bindings:\n";
  for (const auto& b : e.bindings())
    std::cout << "  " << (b.isInput ? "input  " : "output ") << b.name << " " << shapeToString(b.shape) << " "
              << dataTypeName(b.type) << "\n";
  // Distinct nodes: a layer run in batch chunks (batch tiling) repeats its origins per chunk.
  std::set<std::string> distinct;
  for (const Layer& l : net.layers()) distinct.insert(l.origins.begin(), l.origins.end());
  const size_t origins = distinct.size();
  std::map<std::string, int> roles;
  for (size_t i = 0; i < net.layers().size(); ++i) ++roles[e.layerRole(i)];
  std::cout << "Layers: " << net.layers().size() << " (from " << origins
            << " ONNX nodes): " << roles["compute"] << " compute, " << roles["shape"]
            << " shape computations on the host, " << roles["view"] << " views without work\n";
  for (size_t i = 0; i < net.layers().size(); ++i) {
    const Layer& l = net.layers()[i];
    const std::string role = e.layerRole(i);
    std::cout << "  [" << i << "] " << l.name << "  " << l.type << "  " << l.precision << "  " << l.tactic
              << (role == "compute" ? "" : "  (" + role + ")") << "\n      in:";
    for (int in : l.inputs)
      if (in >= 0)
        std::cout << " " << net.tensor(in).name << shapeToString(net.tensor(in).shape)
                  << (net.tensor(in).isConstant() ? "(const)" : "");
    std::cout << "\n      out:";
    for (int o : l.outputs) std::cout << " " << net.tensor(o).name << shapeToString(net.tensor(o).shape);
    // A fused elementwise group: its expression over the inputs x0, x1, ... in order.
    if (l.attrs.has("expression")) std::cout << "\n      expression: " << l.attrs.getString("expression");
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
            << std::setprecision(3) << m["ReuseRatio"].get<double>() << "), weights "
            << m["WeightBytes"].get<int64_t>() << " bytes, workspace " << m["WorkspaceBytes"].get<int64_t>()
            << " bytes\n";
  if (tensors)
    for (const auto& t : m["Tensors"])
      std::cout << "  " << t["Name"].get<std::string>() << "  offset " << t["Offset"].get<int64_t>() << "  "
                << t["Bytes"].get<int64_t>() << " bytes  layers " << t["FirstLayer"].get<int>() << ".."
                << t["LastLayer"].get<int>() << (t["View"].get<bool>() ? "  (view)" : "") << "\n";
  return kExitOk;
}
