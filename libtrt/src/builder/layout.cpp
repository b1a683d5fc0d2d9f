// Layout assignment (see layout.h).
//
// One pass in execution order. `twin[t]` is the NHWC tensor holding the same values as the NCHW
// tensor t. A converted layer reads twins (making a "reformat_nhwc" Transpose when an input has
// none) and writes NHWC outputs, each followed by a "reformat_nchw" Transpose back to the original
// tensor id, so layers that stay NCHW read what they read before. Reformats nobody reads are
// removed by dead-code elimination at the end.
#include "builder/layout.h"

#include <cstring>
#include <map>
#include <set>

#include "passes/pass.h"

namespace trt {
namespace {

const std::vector<int64_t> kToNhwc = {0, 2, 3, 1};
const std::vector<int64_t> kToNchw = {0, 3, 1, 2};

Shape permute(const Shape& s, const std::vector<int64_t>& perm) {
  Shape r;
  for (int64_t p : perm) r.push_back(s[p]);
  return r;
}

// OIHW -> OHWI for any element size.
HostTensor weightsToOhwi(const HostTensor& w) {
  const Dims& d = w.dims();
  HostTensor r(w.type(), {d[0], d[2], d[3], d[1]});
  const size_t e = dataTypeSize(w.type());
  const auto* src = static_cast<const uint8_t*>(w.data());
  auto* dst = static_cast<uint8_t*>(r.data());
#pragma omp parallel for if (w.numel() > (1 << 16))
  for (int64_t o = 0; o < d[0]; ++o)
    for (int64_t i = 0; i < d[1]; ++i)
      for (int64_t h = 0; h < d[2]; ++h)
        for (int64_t x = 0; x < d[3]; ++x)
          std::memcpy(dst + (((o * d[2] + h) * d[3] + x) * d[1] + i) * e,
                      src + (((o * d[1] + i) * d[2] + h) * d[3] + x) * e, e);
  return r;
}

// OHWI weights with zero input channels appended up to `channels`.
HostTensor padInputChannels(const HostTensor& w, int64_t channels) {
  const Dims& d = w.dims();
  HostTensor r(w.type(), {d[0], d[1], d[2], channels});  // zero-initialised
  const size_t e = dataTypeSize(w.type());
  const auto* src = static_cast<const uint8_t*>(w.data());
  auto* dst = static_cast<uint8_t*>(r.data());
  for (int64_t p = 0; p < d[0] * d[1] * d[2]; ++p)
    std::memcpy(dst + p * channels * e, src + p * d[3] * e, d[3] * e);
  return r;
}

const std::set<std::string> kUnary = {"Relu",      "LeakyRelu", "Sigmoid", "Tanh",       "HardSigmoid",
                                      "HardSwish", "Softplus",  "Elu",     "Gelu",       "Erf",
                                      "Sqrt",      "Exp",       "Log",     "Reciprocal", "Neg",
                                      "Abs",       "Cast",      "Clip",    "Identity"};
const std::set<std::string> kBinary = {"Add", "Sub", "Mul", "Div", "Pow", "Max", "Min"};

class LayoutAssigner {
 public:
  LayoutAssigner(Network& net, const Backend& backend, const std::string& mode,
                 const std::set<std::string>& keepNchw, int padChannelsTo, bool spaceToDepthStems)
      : net_(net),
        backend_(backend),
        mode_(mode),
        keepNchw_(keepNchw),
        padTo_(padChannelsTo),
        s2d_(spaceToDepthStems) {}

  Status run() {
    std::vector<Layer> layers = std::move(net_.layers());
    net_.layers().clear();
    for (Layer& l : layers) {
      if (isConvCandidate(l))
        convertConv(l);
      else if (!tryCarry(l))
        net_.addLayer(std::move(l));
    }
    net_.rebuildProducers();
    bool changed = false;
    TRT_RETURN_IF_ERROR(makeDeadCodePass()->run(net_, changed));
    return net_.validate();
  }

 private:
  bool is4d(int t) const { return t >= 0 && net_.tensor(t).shape.size() == 4; }

  bool isConvCandidate(const Layer& l) const {
    if ((l.type != "Conv" && l.type != "FusedConv") || l.attrs.getString("layout", "NCHW") == "NHWC")
      return false;
    if (l.inputs.size() < 2 || !is4d(l.inputs[0]) || l.inputs[1] < 0 ||
        !net_.tensor(l.inputs[1]).isConstant() || net_.tensor(l.inputs[1]).constant->dims().size() != 4)
      return false;
    if (keepNchw_.count(l.name)) return false;
    if (mode_ == "nhwc") return true;
    return mode_ == "auto" && backend_.prefersChannelsLast(l);
  }

  // The NHWC twin of NCHW tensor t, made by a reformat when there is none yet.
  int toNhwc(int t, const Layer& user) {
    auto it = twin_.find(t);
    if (it != twin_.end()) return it->second;
    const TensorDesc src = net_.tensor(t);
    const int out = net_.addTensor(src.name + "__nhwc", src.type, permute(src.shape, kToNhwc));
    addTranspose(t, out, kToNhwc, "reformat_nhwc", src.name, user);
    twin_[t] = out;
    return out;
  }

  // Gives the layer an NHWC output in place of each output, with a reformat back to the original.
  void emitWithNhwcOutputs(Layer& l) {
    std::vector<int> originals = l.outputs;
    for (int& o : l.outputs) {
      const TensorDesc d = net_.tensor(o);
      o = net_.addTensor(d.name + "__nhwc", d.type, permute(d.shape, kToNhwc));
    }
    const Layer copy = l;
    net_.addLayer(std::move(l));
    for (size_t k = 0; k < originals.size(); ++k) {
      twin_[originals[k]] = copy.outputs[k];
      addTranspose(copy.outputs[k], originals[k], kToNchw, "reformat_nchw", net_.tensor(originals[k]).name,
                   copy);
    }
  }

  // A layer the pass adds for `user` (a reformat, pad or view of its data, of type `type`): its
  // origin is the user's first, its precision the data's (or the user's TF32).
  static void stampFrom(Layer& made, const Layer& user, DataType type) {
    made.origins = user.origins.empty() ? std::vector<std::string>{user.name}
                                        : std::vector<std::string>{user.origins[0]};
    made.precision = type == DataType::kFloat16 ? "fp16" : (user.precision == "tf32" ? "tf32" : "fp32");
  }

  void addTranspose(int in, int out, const std::vector<int64_t>& perm, const std::string& kind,
                    const std::string& what, const Layer& user) {
    Layer t;
    t.name = kind + "_" + std::to_string(count_++) + " (" + what + ")";
    t.type = "Transpose";
    t.attrs.set("perm", perm);
    t.inputs = {in};
    t.outputs = {out};
    stampFrom(t, user, net_.tensor(in).type);
    net_.addLayer(std::move(t));
  }

  void convertConv(Layer& l) {
    if (l.type == "Conv") {
      l.type = "FusedConv";
      l.inputs.resize(3, kNoTensor);
    }
    l.attrs.set("layout", std::string("NHWC"));
    if (spaceToDepthStem(l)) return convertSpaceToDepth(l);
    const TensorDesc w = net_.tensor(l.inputs[1]);
    HostTensor ohwi = weightsToOhwi(*w.constant);
    l.inputs[0] = toNhwc(l.inputs[0], l);
    // Few input channels (an RGB stem): zero channels up to the multiple, in X and in W, so that
    // the tensor-core kernels (cuDNN's NHWC, CUTLASS) take the convolution.
    const int64_t cin = ohwi.dims()[3];
    if (padTo_ > 1 && cin < padTo_ && l.attrs.getInt("group", 1) == 1 &&
        isStatic(net_.tensor(l.inputs[0]).shape)) {
      ohwi = padInputChannels(ohwi, padTo_);
      l.inputs[0] = paddedChannels(l.inputs[0], padTo_, l);
    }
    l.inputs[1] = net_.addConstant(w.name + "__ohwi", std::move(ohwi));
    if (l.inputs.size() > 3 && l.inputs[3] >= 0) l.inputs[3] = toNhwc(l.inputs[3], l);
    emitWithNhwcOutputs(l);
  }

  // Space-to-depth stems (`s2d_`, with padTo_ > 1): a convolution of few input channels (at most
  // 4), stride 2, an even kernel and even pads, no dilation, one group, no Z, on an input of even
  // static height and width, reads its input as 2x2 blocks: a stride-1 convolution of half the
  // kernel over [N, H/2, W/2, 4C] (channels (dy, dx, c)), padded to a multiple of padTo_ channels.
  // The same sums: output row y reads input rows 2y - pt .. 2y - pt + kh - 1, blocks y - pt/2 ..
  // y - pt/2 + kh/2 - 1. YOLOv5's 6x6 stride-2 stem on 3 channels becomes a 3x3 convolution on 16
  // (the tensor cores' usual shape) instead of 6x6 on 4 or 8 mostly zero channels.
  bool spaceToDepthStem(const Layer& l) const {
    if (!s2d_ || padTo_ <= 1 || (l.inputs.size() > 3 && l.inputs[3] >= 0)) return false;
    const Shape& xs = net_.tensor(l.inputs[0]).shape;
    const Dims w = net_.tensor(l.inputs[1]).constant->dims();
    if (!isStatic(xs) || xs.size() != 4 || w.size() != 4 || w[1] > 4 || xs[1].value != w[1] ||
        xs[2].value % 2 || xs[3].value % 2 || w[2] % 2 || w[3] % 2 || l.attrs.getInt("group", 1) != 1 ||
        l.attrs.getString("auto_pad", "NOTSET") != "NOTSET")
      return false;
    if (l.attrs.getInts("strides", {1, 1}) != std::vector<int64_t>{2, 2}) return false;
    for (int64_t d : l.attrs.getInts("dilations", {1, 1}))
      if (d != 1) return false;
    const std::vector<int64_t> pads = l.attrs.getInts("pads", {0, 0, 0, 0});
    if (pads.size() != 4) return false;
    for (int64_t p : pads)
      if (p % 2) return false;
    return true;
  }

  void convertSpaceToDepth(Layer& l) {
    const int x = l.inputs[0];
    const TensorDesc xd = net_.tensor(x);
    const int64_t n = xd.shape[0].value, c = xd.shape[1].value, h = xd.shape[2].value, wd = xd.shape[3].value;
    const TensorDesc wdesc = net_.tensor(l.inputs[1]);
    const HostTensor& w = *wdesc.constant;
    const int64_t k = w.dims()[0], kh = w.dims()[2], kw = w.dims()[3];
    // Padded channels (4C not a multiple of padTo_) are padded per block position where they can
    // be: cp = channels / 4 channels for each (dy, dx), x's C of them and zeros, so the padding is a
    // Pad of the 6-D blocks' last axis right after the blocks' Transpose, which
    // fold-transpose-into-pad (run by the builder after the layouts) makes one gathering Pad: the
    // input read once, the padded blocks written once (YOLOv5s's 3 -> 4 channels of each of the
    // 2x2 positions: 16). Otherwise the zero channels come after the 4C block channels.
    const int64_t channels = (4 * c + padTo_ - 1) / padTo_ * padTo_;
    const bool perBlock = channels != 4 * c && channels % 4 == 0;
    const int64_t cp = perBlock ? channels / 4 : c;  // block stride of the channels in W' and x'
    // OHWI weights over the blocks: W'[o, ky, kx, (dy * 2 + dx) * cp + ci] = W[o, ci, 2 ky + dy, 2 kx + dx]
    HostTensor blocks(w.type(), {k, kh / 2, kw / 2, 4 * cp});  // zero-initialised
    const size_t e = dataTypeSize(w.type());
    const auto* src = static_cast<const uint8_t*>(w.data());
    auto* dst = static_cast<uint8_t*>(blocks.data());
    for (int64_t o = 0; o < k; ++o)
      for (int64_t ci = 0; ci < c; ++ci)
        for (int64_t y = 0; y < kh; ++y)
          for (int64_t xx = 0; xx < kw; ++xx)
            std::memcpy(dst + (((o * (kh / 2) + y / 2) * (kw / 2) + xx / 2) * 4 * cp +
                               ((y % 2) * 2 + xx % 2) * cp + ci) *
                                  e,
                        src + (((o * c + ci) * kh + y) * kw + xx) * e, e);
    if (channels != 4 * cp) blocks = padInputChannels(blocks, channels);
    // x [N, C, H, W] -> [N, C, H/2, 2, W/2, 2] -> [N, H/2, W/2, 2, 2, C] -> [N, H/2, W/2, 4C]
    const std::string what = xd.name + " as 2x2 blocks";
    const int split = addView(x, {n, c, h / 2, 2, wd / 2, 2}, "reformat_s2d_view", what, l);
    const int moved =
        net_.addTensor(xd.name + "__s2d6", xd.type, permute(net_.tensor(split).shape, {0, 2, 4, 3, 5, 1}));
    addTranspose(split, moved, {0, 2, 4, 3, 5, 1}, "reformat_s2d", what, l);
    int in = -1;
    if (perBlock) {
      const int blocks6 = paddedLastAxis(moved, cp, l);
      in = addView(blocks6, {n, h / 2, wd / 2, channels}, "reformat_s2d_view", what, l);
    } else {
      in = addView(moved, {n, h / 2, wd / 2, 4 * c}, "reformat_s2d_view", what, l);
      if (channels != 4 * c) in = paddedChannels(in, channels, l);
    }
    const std::vector<int64_t> pads = l.attrs.getInts("pads", {0, 0, 0, 0});
    l.attrs.set("kernel_shape", std::vector<int64_t>{kh / 2, kw / 2});
    l.attrs.set("strides", std::vector<int64_t>{1, 1});
    l.attrs.set("pads", std::vector<int64_t>{pads[0] / 2, pads[1] / 2, pads[2] / 2, pads[3] / 2});
    l.attrs.set("space_to_depth", int64_t{2});  // (what the layer was: shown by trtinspect)
    l.inputs[0] = in;
    l.inputs[1] = net_.addConstant(wdesc.name + "__s2d_ohwi", std::move(blocks));
    emitWithNhwcOutputs(l);
  }

  // A Reshape of t to `dims` (a view: the engine gives it t's bytes).
  int addView(int t, const std::vector<int64_t>& dims, const std::string& kind, const std::string& what,
              const Layer& user) {
    const TensorDesc src = net_.tensor(t);
    HostTensor target(DataType::kInt64, {static_cast<int64_t>(dims.size())});
    std::copy(dims.begin(), dims.end(), target.as<int64_t>());
    Layer r;
    r.name = kind + "_" + std::to_string(count_++) + " (" + what + ")";
    r.type = "Reshape";
    r.inputs = {t, net_.addConstant(r.name + " shape", std::move(target))};
    Shape shape;
    for (int64_t d : dims) shape.push_back(Dim(d));
    r.outputs = {net_.addTensor(src.name + "__v" + std::to_string(count_), src.type, shape)};
    stampFrom(r, user, src.type);
    const int out = r.outputs[0];
    net_.addLayer(std::move(r));
    return out;
  }

  // Tensor t with zeros appended to its last axis up to `size` (a Pad layer named for `what`, its
  // output tensor t's name + `suffix` + size).
  int paddedLastAxis(int t, int64_t size, const Layer& user, const std::string& what = " along its last axis",
                     const char* suffix = "__p") {
    const TensorDesc src = net_.tensor(t);
    Shape shape = src.shape;
    const int rank = static_cast<int>(shape.size());
    const int64_t c = shape.back().value;
    shape.back() = Dim(size);
    Layer p;
    p.name = "reformat_pad_" + std::to_string(count_++) + " (" + src.name + " to " + std::to_string(size) +
             what + ")";
    p.type = "Pad";
    p.attrs.set("mode", std::string("constant"));
    HostTensor pads(DataType::kInt64, {2 * rank});
    for (int k = 0; k < 2 * rank; ++k) pads.as<int64_t>()[k] = k == 2 * rank - 1 ? size - c : 0;
    p.inputs = {t, net_.addConstant(p.name + " pads", std::move(pads))};
    const int out = net_.addTensor(src.name + suffix + std::to_string(size), src.type, shape);
    p.outputs = {out};
    stampFrom(p, user, src.type);
    net_.addLayer(std::move(p));
    return out;
  }

  // NHWC tensor t with zero channels appended up to `channels` (a Pad layer; one per tensor).
  int paddedChannels(int t, int64_t channels, const Layer& user) {
    auto it = padded_.find(t);
    if (it != padded_.end()) return it->second;
    return padded_[t] = paddedLastAxis(t, channels, user, " channels", "__c");
  }

  bool scalarConstant(int t) const {
    return t >= 0 && net_.tensor(t).isConstant() && net_.tensor(t).constant->numel() == 1;
  }

  // Carries the NHWC form through a layout-agnostic layer whose data inputs all have twins.
  bool tryCarry(Layer& l) {
    if (l.inputs.empty() || l.inputs[0] < 0 || !twin_.count(l.inputs[0])) return false;
    const Shape outShape = l.outputs.empty() ? Shape{} : net_.tensor(l.outputs[0]).shape;
    // (a Pointwise layer with pieces or permuted inputs names axes of its layout: it stays)
    if (kUnary.count(l.type) || kBinary.count(l.type) ||
        (l.type == "Pointwise" && !l.attrs.has("piece_axis") && !l.attrs.has("input_perms"))) {
      if (l.outputs.size() != 1 || outShape.size() != 4) return false;
      std::vector<int> ins = l.inputs;
      for (size_t k = 0; k < ins.size(); ++k) {
        const int t = ins[k];
        if (t < 0) continue;
        if (k > 0 && kUnary.count(l.type)) {
          if (!net_.tensor(t).isConstant()) return false;  // Clip bounds: constants only
          continue;
        }
        if (scalarConstant(t)) continue;
        if (!twin_.count(t) || net_.tensor(t).shape != outShape) return false;  // no broadcasting
        ins[k] = twin_[t];
      }
      l.inputs = ins;
      emitWithNhwcOutputs(l);
      return true;
    }
    if ((l.type == "MaxPool" || l.type == "AveragePool" || l.type == "MaxPoolCascade") && is4d(l.inputs[0]) &&
        l.outputs.size() == 1) {
      l.attrs.set("layout", std::string("NHWC"));
      l.inputs[0] = twin_[l.inputs[0]];
      emitWithNhwcOutputs(l);
      return true;
    }
    if (l.type == "Concat" && outShape.size() == 4) {
      for (int t : l.inputs)
        if (t < 0 || !twin_.count(t)) return false;
      int64_t axis = l.attrs.getInt("axis", 0);
      if (axis < 0) axis += 4;
      const int64_t mapped[4] = {0, 3, 1, 2};  // NCHW axis -> NHWC axis
      l.attrs.set("axis", mapped[axis]);
      for (int& t : l.inputs) t = twin_[t];
      emitWithNhwcOutputs(l);
      return true;
    }
    if (l.type == "Resize" && outShape.size() == 4) {
      // roi must be absent; scales (input 2) or sizes (input 3) must be 4-element constants.
      if (l.inputs.size() > 1 && l.inputs[1] >= 0 && net_.tensor(l.inputs[1]).constant &&
          net_.tensor(l.inputs[1]).constant->numel() != 0)
        return false;
      if (l.attrs.has("axes")) return false;
      int slot = -1;
      for (int s : {2, 3})
        if (static_cast<int>(l.inputs.size()) > s && l.inputs[s] >= 0) {
          const TensorDesc& d = net_.tensor(l.inputs[s]);
          if (!d.isConstant()) return false;
          if (d.constant->numel() == 4)
            slot = s;
          else if (d.constant->numel() != 0)
            return false;
        }
      if (slot < 0) return false;
      const HostTensor& v = *net_.tensor(l.inputs[slot]).constant;
      HostTensor p(v.type(), v.dims());
      const size_t e = dataTypeSize(v.type());
      for (int k = 0; k < 4; ++k)
        std::memcpy(static_cast<uint8_t*>(p.data()) + k * e,
                    static_cast<const uint8_t*>(v.data()) + kToNhwc[k] * e, e);
      l.inputs[slot] = net_.addConstant(net_.tensor(l.inputs[slot]).name + "__nhwc", std::move(p));
      l.inputs[0] = twin_[l.inputs[0]];
      emitWithNhwcOutputs(l);
      return true;
    }
    if (l.type == "GlobalAveragePool" && is4d(l.inputs[0])) {
      // NHWC [N,H,W,C] -> ReduceMean over H, W -> [N,1,1,C], then back to [N,C,1,1].
      l.type = "ReduceMean";
      l.attrs = Attributes();
      l.attrs.set("axes", std::vector<int64_t>{1, 2});
      l.attrs.set("keepdims", int64_t{1});
      l.inputs = {twin_[l.inputs[0]]};
      emitWithNhwcOutputs(l);
      return true;
    }
    return false;
  }

  Network& net_;
  const Backend& backend_;
  std::string mode_;
  const std::set<std::string>& keepNchw_;
  int padTo_;
  bool s2d_;
  std::map<int, int> twin_;
  std::map<int, int> padded_;  // NHWC tensor -> its channel-padded copy
  int count_ = 0;
};

}  // namespace

Status assignLayouts(Network& net, const Backend& backend, const std::string& mode,
                     const std::set<std::string>& keepNchw, int padChannelsTo, bool spaceToDepthStems) {
  if (mode != "auto" && mode != "nchw" && mode != "nhwc")
    return makeError(StatusCode::kInvalidArgument, "unknown layout '" + mode + "' (auto, nchw or nhwc)");
  if (mode == "nchw") return Status::ok();
  return LayoutAssigner(net, backend, mode, keepNchw, padChannelsTo, spaceToDepthStems).run();
}

}  // namespace trt
