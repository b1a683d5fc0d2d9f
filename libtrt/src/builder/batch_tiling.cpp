// Batch tiling for memory (see batch_tiling.h).
#include "builder/batch_tiling.h"

#include <algorithm>
#include <cstdio>
#include <set>

#include "backends/backend.h"
#include "builder/memory_planner.h"
#include "ir/ops/window.h"
#include "ir/shape_inference.h"

namespace trt {
namespace {

// Below this fraction of the old peak the rewrite is kept.
constexpr double kMinGain = 0.9;

bool inArena(const TensorDesc& t) {
  return !t.isInput && !t.isOutput && !t.isConstant() && t.producer >= 0;
}

int64_t bytesOf(const TensorDesc& t) {
  if (!isStatic(t.shape)) return -1;
  return volume(toDims(t.shape)) * static_cast<int64_t>(dataTypeSize(t.type));
}

// The one activation input of a layer that computes each batch element from the same element of
// that input alone; -1 when the layer is not such a layer.
int batchwiseInput(const Network& net, const Layer& l) {
  static const std::set<std::string> kUnary = {"Relu", "LeakyRelu", "Sigmoid",  "Tanh",       "HardSigmoid",
                                               "Elu",  "HardSwish", "Softplus", "Gelu",       "Clip",
                                               "Cast", "Identity",  "MaxPool",  "AveragePool"};
  if (l.outputs.size() != 1 || l.inputs.empty() || l.inputs[0] < 0) return -1;
  const bool conv = l.type == "Conv" || l.type == "FusedConv";
  if (conv && l.inputs.size() > 3 && l.inputs[3] >= 0) return -1;  // a residual: two activations
  if (l.type == "Transpose") {
    const std::vector<int64_t> perm = l.attrs.getInts("perm", {});
    if (perm.empty() || perm[0] != 0) return -1;
  } else if (!conv && !kUnary.count(l.type)) {
    return -1;
  }
  for (size_t k = 1; k < l.inputs.size(); ++k)
    if (l.inputs[k] >= 0 && !net.tensor(l.inputs[k]).isConstant()) return -1;
  const TensorDesc& in = net.tensor(l.inputs[0]);
  const TensorDesc& out = net.tensor(l.outputs[0]);
  if (in.shape.empty() || out.shape.empty() || !in.shape[0].isStatic() || in.shape[0] != out.shape[0])
    return -1;
  return l.inputs[0];
}

HostTensor int64s(std::vector<int64_t> v) {
  HostTensor t(DataType::kInt64, {static_cast<int64_t>(v.size())});
  std::copy(v.begin(), v.end(), t.as<int64_t>());
  return t;
}

std::string precisionOf(const TensorDesc& t) {
  return t.type == DataType::kFloat16 ? "fp16" : "fp32";
}

void splice(Network& net, const std::vector<int>& chain, std::vector<Layer>& chunks);

// A chunk's Slice of x along `axis`, [begin, end), appended to `chunks`; returns its output.
int addSlice(Network& net, std::vector<Layer>& chunks, int x, int axis, int64_t begin, int64_t end,
             const std::string& name, const std::string& suffix, const std::vector<std::string>& origins) {
  const TensorDesc xd = net.tensor(x);
  Layer s;
  s.name = name + " (" + xd.name + ")";
  s.type = "Slice";
  Shape sliced = xd.shape;
  sliced[axis] = Dim(end - begin);
  const int out = net.addTensor(xd.name + suffix, xd.type, sliced);
  s.inputs = {x, net.addConstant(s.name + " starts", int64s({begin})),
              net.addConstant(s.name + " ends", int64s({end})),
              net.addConstant(s.name + " axes", int64s({axis}))};
  s.outputs = {out};
  s.origins = origins;
  s.precision = precisionOf(xd);
  chunks.push_back(std::move(s));
  return out;
}

// A copy of chain layer `c` reading `prev`, its output `size` long along `axis`, appended to
// `chunks`; returns its output.
int addLink(Network& net, std::vector<Layer>& chunks, Layer c, int prev, int axis, int64_t size,
            const std::string& tag, const std::string& suffix) {
  c.name += " [" + tag + "]";
  c.inputs[0] = prev;
  const TensorDesc od = net.tensor(c.outputs[0]);
  Shape os = od.shape;
  os[axis] = Dim(size);
  c.outputs[0] = net.addTensor(od.name + suffix, od.type, os);
  const int out = c.outputs[0];
  chunks.push_back(std::move(c));
  return out;
}

// The Concat of the pieces along `axis` into the chain's output, then the chunks replace the chain.
void concatAndSplice(Network& net, const std::vector<int>& chain, std::vector<Layer>& chunks,
                     const std::vector<int>& pieces, int axis, const std::string& name) {
  const Layer& last = net.layers()[chain.back()];
  Layer cat;
  cat.name = name + " (" + last.name + ")";
  cat.type = "Concat";
  cat.attrs.set("axis", static_cast<int64_t>(axis));
  cat.inputs = pieces;
  cat.outputs = {last.outputs[0]};
  cat.origins = last.origins;
  cat.precision = precisionOf(net.tensor(last.outputs[0]));
  chunks.push_back(std::move(cat));
  splice(net, chain, chunks);
}

// Replaces the chain (layer indices, in order; each reads the one before) by `k` batch chunks and a
// Concat, placed where the chain's last layer was.
void rewrite(Network& net, const std::vector<int>& chain, int k) {
  const int x = net.layers()[chain.front()].inputs[0];
  const int64_t n = net.tensor(x).shape[0].value / k;
  std::vector<Layer> chunks;
  std::vector<int> pieces;
  const std::string tag = std::to_string(k);
  for (int i = 0; i < k; ++i) {
    const std::string suffix = "__b" + std::to_string(i), part = std::to_string(i + 1) + "/" + tag;
    int prev = addSlice(net, chunks, x, 0, i * n, (i + 1) * n, "batch_slice " + part, suffix,
                        net.layers()[chain.front()].origins);
    for (int li : chain) prev = addLink(net, chunks, net.layers()[li], prev, 0, n, "batch " + part, suffix);
    pieces.push_back(prev);
  }
  concatAndSplice(net, chain, chunks, pieces, 0, "batch_concat");
}

// Row bands (batch 1): the one activation input of a layer whose output rows (H) each depend on a
// window of its input's rows: a 2-D convolution without a residual input (constant weights and
// bias), or a unary elementwise op; -1 otherwise.
int rowLocalInput(const Network& net, const Layer& l) {
  static const std::set<std::string> kUnary = {"Relu",        "LeakyRelu", "Sigmoid",   "Tanh",
                                               "HardSigmoid", "Elu",       "HardSwish", "Softplus",
                                               "Gelu",        "Clip",      "Cast",      "Identity"};
  if (l.outputs.size() != 1 || l.inputs.empty() || l.inputs[0] < 0) return -1;
  const bool conv = l.type == "Conv" || l.type == "FusedConv";
  if (!conv && !kUnary.count(l.type)) return -1;
  if (conv &&
      (l.inputs.size() < 2 || l.inputs[1] < 0 || !net.tensor(l.inputs[1]).isConstant() ||
       net.tensor(l.inputs[1]).constant->dims().size() != 4 || (l.inputs.size() > 3 && l.inputs[3] >= 0)))
    return -1;
  for (size_t k = 1; k < l.inputs.size(); ++k)
    if (l.inputs[k] >= 0 && !net.tensor(l.inputs[k]).isConstant()) return -1;
  const TensorDesc& in = net.tensor(l.inputs[0]);
  const TensorDesc& out = net.tensor(l.outputs[0]);
  if (in.shape.size() != 4 || out.shape.size() != 4 || !isStatic(in.shape) || !isStatic(out.shape)) return -1;
  return l.inputs[0];
}

// The H axis of a row chain: 2 (NCHW) or 1 (NHWC), as its convolutions agree; -1 when they do not
// or there is none.
int rowAxis(const Network& net, const std::vector<int>& chain) {
  int axis = -1;
  for (int li : chain) {
    const Layer& l = net.layers()[li];
    if (l.type != "Conv" && l.type != "FusedConv") continue;
    const int a = l.attrs.getString("layout", "NCHW") == "NHWC" ? 1 : 2;
    if (axis >= 0 && a != axis) return -1;
    axis = a;
  }
  return axis;
}

// Places `chunks` where the chain's last layer was and drops the chain's layers.
void splice(Network& net, const std::vector<int>& chain, std::vector<Layer>& chunks) {
  std::vector<Layer> layers = std::move(net.layers());
  net.layers().clear();
  const std::set<int> inChain(chain.begin(), chain.end());
  for (int li = 0; li < static_cast<int>(layers.size()); ++li) {
    if (li == chain.back())
      for (Layer& c : chunks) net.addLayer(std::move(c));
    if (!inChain.count(li)) net.addLayer(std::move(layers[li]));
  }
  net.rebuildProducers();
}

// Replaces the row chain (layer indices in order, each reading the one before; H along `axis`) by
// `k` bands of its output rows: per band a Slice of the chain's input rows that band needs, the
// chain's layers on those rows (each convolution with the pads of the band's edges: the original's
// at the image's top and bottom, none inside), then a Concat of the bands along H.
Status rewriteRows(Network& net, const std::vector<int>& chain, int k, int axis) {
  const int x = net.layers()[chain.front()].inputs[0];
  const int64_t rows = net.tensor(net.layers()[chain.back()].outputs[0]).shape[axis].value;
  const size_t m = chain.size();
  std::vector<WindowParams> win(m);
  std::vector<int64_t> inRows(m);
  for (size_t j = 0; j < m; ++j) {
    const Layer& l = net.layers()[chain[j]];
    const Shape& is = net.tensor(l.inputs[0]).shape;
    inRows[j] = is[axis].value;
    if (l.type != "Conv" && l.type != "FusedConv") continue;
    const Dims w = net.tensor(l.inputs[1]).constant->dims();
    const bool nhwc = axis == 1;
    std::vector<int64_t> kernel = nhwc ? std::vector<int64_t>{w[1], w[2]} : std::vector<int64_t>{w[2], w[3]};
    kernel = l.attrs.getInts("kernel_shape", kernel);
    const std::vector<int64_t> spatial = nhwc ? std::vector<int64_t>{is[1].value, is[2].value}
                                              : std::vector<int64_t>{is[2].value, is[3].value};
    TRT_ASSIGN_OR_RETURN(win[j], resolveWindow(l.attrs, kernel, spatial, false));
    if (win[j].padBegin.size() != 2) return makeError(StatusCode::kUnsupported, "not a 2-D window");
  }
  const std::string tag = std::to_string(k);
  std::vector<Layer> chunks;
  std::vector<int> pieces;
  for (int i = 0; i < k; ++i) {
    // the rows each link computes for this band, from the last link back
    std::vector<int64_t> lo(m), hi(m), padTop(m, 0), padBottom(m, 0);
    int64_t a = rows * i / k, b = rows * (i + 1) / k;
    for (size_t j = m; j-- > 0;) {
      lo[j] = a;
      hi[j] = b;
      if (win[j].kernel.empty()) continue;  // unary: the same rows
      const int64_t s = win[j].strides[0], span = (win[j].kernel[0] - 1) * win[j].dilations[0] + 1;
      const int64_t first = a * s - win[j].padBegin[0], end = (b - 1) * s - win[j].padBegin[0] + span;
      padTop[j] = std::max<int64_t>(0, -first);
      padBottom[j] = std::max<int64_t>(0, end - inRows[j]);
      a = std::max<int64_t>(first, 0);
      b = std::min(end, inRows[j]);
    }
    const std::string suffix = "__r" + std::to_string(i), part = std::to_string(i + 1) + "/" + tag;
    int prev = addSlice(net, chunks, x, axis, a, b, "row_slice " + part, suffix,
                        net.layers()[chain.front()].origins);
    for (size_t j = 0; j < m; ++j) {
      Layer c = net.layers()[chain[j]];
      if (!win[j].kernel.empty()) {
        c.attrs.set("pads",
                    std::vector<int64_t>{padTop[j], win[j].padBegin[1], padBottom[j], win[j].padEnd[1]});
        c.attrs.set("auto_pad", std::string("NOTSET"));
      }
      prev = addLink(net, chunks, std::move(c), prev, axis, hi[j] - lo[j], "rows " + part, suffix);
    }
    pieces.push_back(prev);
  }
  concatAndSplice(net, chain, chunks, pieces, axis, "row_concat");
  return Status::ok();
}

// The arena tensors' lifetimes: first (writing) and last (reading) layer, and root (the tensor
// whose bytes a tensor takes: itself unless the engine aliases it, with a backend). False when a
// shape is not static.
struct Lifetimes {
  std::vector<int> first, last, root;
  std::vector<bool> inArena;
};
bool lifetimesOf(const Network& net, const Backend* backend, Lifetimes& lt, bool rowStrided = false) {
  const int nl = static_cast<int>(net.layers().size());
  const size_t nt = net.tensors().size();
  std::vector<int>&first = lt.first, &last = lt.last, &root = lt.root;
  first.assign(nt, -1);
  last.assign(nt, -1);
  root.resize(nt);
  for (size_t t = 0; t < nt; ++t) root[t] = static_cast<int>(t);
  for (int li = 0; li < nl; ++li) {
    for (int t : net.layers()[li].outputs)
      if (t >= 0 && first[t] < 0) first[t] = last[t] = li;
    for (int t : net.layers()[li].inputs)
      if (t >= 0) last[t] = li;
  }
  std::vector<AliasTensor> tensors(nt);
  lt.inArena.assign(nt, false);
  for (size_t t = 0; t < nt; ++t) {
    const TensorDesc& d = net.tensor(static_cast<int>(t));
    if (!inArena(d) || first[t] < 0) continue;
    if (bytesOf(d) < 0) return false;
    tensors[t] = {true, d.type, toDims(d.shape)};
    lt.inArena[t] = true;
  }
  if (backend) {  // the engine's aliases, as it plans them
    std::vector<bool> skip(nl, false);
    std::vector<int64_t> offset, rowStride;
    root = planAliases(net, *backend, tensors, skip, last, &first, &offset, rowStrided ? &rowStride : nullptr,
                       rowStrided);
  }
  return true;
}

// Live activation bytes at each layer's step (see estimateActivationPeak); empty when a shape is
// not static.
std::vector<int64_t> liveBytes(const Network& net, const Backend* backend) {
  Lifetimes lt;
  if (!lifetimesOf(net, backend, lt)) return {};
  const int nl = static_cast<int>(net.layers().size());
  const size_t nt = net.tensors().size();
  const std::vector<int>&first = lt.first, &last = lt.last, &root = lt.root;
  std::vector<int64_t> delta(nl + 1, 0);
  for (size_t t = 0; t < nt; ++t) {
    if (!lt.inArena[t] || root[t] != static_cast<int>(t)) continue;
    const int64_t b = bytesOf(net.tensor(static_cast<int>(t)));
    delta[first[t]] += b;
    delta[last[t] + 1] -= b;
  }
  std::vector<int64_t> live(nl, 0);
  int64_t sum = 0;
  for (int li = 0; li < nl; ++li) live[li] = sum += delta[li];
  return live;
}

// The arena the memory planner lays those lifetimes out in (planMemory: best-fit, so at least
// the peak of live bytes, and more where the tensors' sizes and lifetimes leave gaps), with the
// backend's aliases where one is given (a Concat's parts placed as its output's blocks live as
// long as it does; channel Concats whose producers may write their columns in place counted as
// elided); -1 when a shape is not static.
int64_t plannedArena(const Network& net, const Backend* backend) {
  Lifetimes lt;
  if (!lifetimesOf(net, backend, lt, true)) return -1;
  std::vector<TensorLifetime> tensors;
  for (size_t t = 0; t < lt.inArena.size(); ++t)
    if (lt.inArena[t] && lt.root[t] == static_cast<int>(t))
      tensors.push_back({bytesOf(net.tensor(static_cast<int>(t))), lt.first[t], lt.last[t]});
  return planMemory(tensors).arenaBytes;
}

}  // namespace

int64_t estimateActivationPeak(const Network& net, int* atLayer, const Backend* backend) {
  const std::vector<int64_t> live = liveBytes(net, backend);
  if (atLayer) *atLayer = -1;
  if (live.empty()) return net.layers().empty() ? 0 : -1;
  int64_t peak = 0;
  for (size_t li = 0; li < live.size(); ++li)
    if (live[li] > peak) {
      peak = live[li];
      if (atLayer) *atLayer = static_cast<int>(li);
    }
  return peak;
}

InPlaceAtPeak writeOverZAtPeak(Network& net, const Backend& backend,
                               const std::map<int, std::string>& alternatives) {
  InPlaceAtPeak r;
  int at = -1;
  r.peakBefore = r.peakAfter = estimateActivationPeak(net, &at, &backend);
  std::set<int> tried;
  while (r.peakAfter > 0 && at >= 0 && !tried.count(at)) {
    tried.insert(at);
    auto alt = alternatives.find(at);
    Layer& l = net.layers()[at];
    if (alt == alternatives.end() || alt->second == l.tactic) break;
    const std::vector<int64_t> before = liveBytes(net, &backend);
    const std::string from = l.tactic;
    l.tactic = alt->second;
    const std::vector<int64_t> after = liveBytes(net, &backend);
    if (after.empty() || after[at] >= before[at]) {  // not in place here (Z read later): no gain
      l.tactic = from;
      break;
    }
    r.switched.push_back({at, from, alt->second});
    r.peakAfter = estimateActivationPeak(net, &at, &backend);
  }
  char buf[200];
  if (r.switched.empty()) {
    std::snprintf(buf, sizeof buf, "no change (estimated peak %.1f MiB%s%s)", r.peakBefore / 1048576.0,
                  at >= 0 ? " at " : "", at >= 0 ? ("'" + net.layers()[at].name + "'").c_str() : "");
  } else {
    std::snprintf(buf, sizeof buf, "estimated peak %.1f -> %.1f MiB: %d layers write Y over Z",
                  r.peakBefore / 1048576.0, r.peakAfter / 1048576.0, static_cast<int>(r.switched.size()));
  }
  r.note = buf;
  return r;
}

Expected<BatchTiling> tileBatchAtPeak(Network& net, const Backend* backend) {
  BatchTiling r;
  int at = -1;
  r.peakBefore = r.peakAfter = estimateActivationPeak(net, &at);
  if (r.peakBefore <= 0 || at < 0) {
    r.note = r.peakBefore < 0 ? "no change (dynamic shapes)" : "no change";
    return r;
  }
  auto readersOf = [&](int t) {
    std::vector<int> rs;
    for (int li = 0; li < static_cast<int>(net.layers().size()); ++li)
      for (int i : net.layers()[li].inputs)
        if (i == t) {
          rs.push_back(li);
          break;
        }
    return rs;
  };
  // The chain: from the layer at the peak backwards while each link reads the one before alone,
  // then the ends it may have: forwards while the last link's output has one reader. Links are
  // batchwise layers (batch chunks), or at batch 1 row-local ones (row bands).
  auto chainOf = [&](int (*linkInput)(const Network&, const Layer&), std::vector<int>& chain,
                     std::vector<int>& forward) {
    for (int li = at; li >= 0;) {
      const Layer& l = net.layers()[li];
      const int in = linkInput(net, l);
      if (in < 0) break;
      chain.insert(chain.begin(), li);
      const TensorDesc& t = net.tensor(in);
      if (!inArena(t) || readersOf(in).size() != 1) break;
      li = t.producer;
    }
    if (!chain.empty())
      for (int out = net.layers()[chain.back()].outputs[0]; forward.size() < 8;) {
        const std::vector<int> rs = readersOf(out);
        if (!inArena(net.tensor(out)) || rs.size() != 1 || linkInput(net, net.layers()[rs[0]]) != out) break;
        forward.push_back(rs[0]);
        out = net.layers()[rs[0]].outputs[0];
      }
  };
  std::vector<int> chain, forward;
  chainOf(batchwiseInput, chain, forward);
  const int64_t batch = chain.empty() ? 1 : net.tensor(net.layers()[chain.front()].inputs[0]).shape[0].value;
  const bool rows = batch == 1;
  if (rows) {
    chain.clear();
    forward.clear();
    chainOf(rowLocalInput, chain, forward);
  }
  bool hasConv = false;
  for (int li : chain)
    hasConv = hasConv || net.layers()[li].type == "Conv" || net.layers()[li].type == "FusedConv";
  for (int li : forward)
    hasConv = hasConv || net.layers()[li].type == "Conv" || net.layers()[li].type == "FusedConv";
  char buf[512];
  if (!hasConv) {
    std::snprintf(buf, sizeof buf, "no change (estimated peak %.1f MiB at '%s': %s)",
                  r.peakBefore / 1048576.0, net.layers()[at].name.c_str(),
                  rows ? "no row-local chain with a convolution" : "no batchwise chain with a convolution");
    r.note = buf;
    return r;
  }
  // Trials: every chunk count that divides the batch (2..4) with every end, fewest chunks and
  // shortest chain first; the first within 2% of the best planned arena wins. The arena, not the
  // peak of live bytes, decides: with the engine's aliases another step can hold as much (a
  // Concat's parts live as long as it does), and the planner can leave gaps (YOLOv5s FP16 NHWC at
  // 640x640 on the H200: peak 9.4 -> 7.8 MiB, arena 9.4 MiB both ways, and the two row bands cost
  // 48 us of 578).
  struct Trial {
    int k;
    std::vector<int> links;
    int64_t peak, arena;
    Network net;
  };
  const int64_t arenaBefore = plannedArena(net, backend);
  std::vector<Trial> trials;
  for (int k = 2; k <= 4; ++k) {
    if (!rows && batch % k) continue;
    std::vector<int> links = chain;
    for (size_t e = 0; e <= forward.size(); ++e) {
      if (e > 0) links.push_back(forward[e - 1]);
      bool conv = false;
      for (int li : links)
        conv = conv || net.layers()[li].type == "Conv" || net.layers()[li].type == "FusedConv";
      if (!conv || links.size() < 2) continue;
      Trial t{k, links, 0, 0, net};
      if (rows) {
        const int axis = rowAxis(net, links);
        if (axis < 0 || net.tensor(net.layers()[links.back()].outputs[0]).shape[axis].value < 2 * k) continue;
        if (!rewriteRows(t.net, links, k, axis).isOk()) continue;
      } else {
        rewrite(t.net, links, k);
      }
      TRT_RETURN_IF_ERROR(inferNetworkShapes(t.net, evaluateOnHost));
      t.peak = estimateActivationPeak(t.net);
      t.arena = plannedArena(t.net, backend);
      if (t.peak > 0 && t.arena > 0) trials.push_back(std::move(t));
    }
  }
  int64_t best = arenaBefore;
  for (const Trial& t : trials) best = std::min(best, t.arena);
  if (trials.empty() || arenaBefore <= 0 ||
      static_cast<double>(best) >= kMinGain * static_cast<double>(arenaBefore)) {
    std::snprintf(
        buf, sizeof buf,
        "no change (estimated peak %.1f MiB at '%s'; planned arena %.1f MiB, in %s at best %.1f MiB)",
        r.peakBefore / 1048576.0, net.layers()[at].name.c_str(), arenaBefore / 1048576.0,
        rows ? "row bands" : "batch chunks", best / 1048576.0);
    r.note = buf;
    return r;
  }
  for (Trial& t : trials)
    if (static_cast<double>(t.arena) <= 1.02 * static_cast<double>(best)) {
      std::snprintf(buf, sizeof buf,
                    "estimated peak %.1f -> %.1f MiB, planned arena %.1f -> %.1f MiB: %d layers from '%s' to "
                    "'%s' in %d %s",
                    r.peakBefore / 1048576.0, t.peak / 1048576.0, arenaBefore / 1048576.0,
                    t.arena / 1048576.0, static_cast<int>(t.links.size()),
                    net.layers()[t.links.front()].name.c_str(), net.layers()[t.links.back()].name.c_str(),
                    t.k, rows ? "row bands" : "batch chunks");
      r.note = buf;
      r.applied = true;
      r.rowBands = rows;
      r.chunks = t.k;
      r.chainLength = static_cast<int>(t.links.size());
      r.peakAfter = t.peak;
      net = std::move(t.net);
      break;
    }
  return r;
}

}  // namespace trt
