// Shape inference for the shape family: Reshape, Flatten, Squeeze, Unsqueeze, Shape, Size,
// ConstantOfShape, Expand and Range. Shape and Size compute their values here when the dims they
// read are static, which is how PyTorch's Shape -> Gather -> Concat -> Reshape chains fold.
#include <algorithm>
#include <cmath>
#include <set>

#include "ir/op_registry.h"

namespace trt {
namespace {

HostTensor int64Tensor(const std::vector<int64_t>& v, Dims dims) {
  HostTensor t(DataType::kInt64, std::move(dims));
  std::copy(v.begin(), v.end(), t.as<int64_t>());
  return t;
}

bool sameExceptAt(const Shape& in, const Shape& out, int idx) {
  for (size_t i = 0; i < out.size(); ++i)
    if (static_cast<int>(i) != idx && out[i] != in[i]) return false;
  return true;
}

// The -1 dim when named symbols cancel: [batch, 128, 768] -> [batch, 128, -1, 64] gives 12.
Dim cancelSymbols(const Shape& in, const Shape& out, int idx) {
  std::multiset<std::string> syms;
  int64_t inStatic = 1, outStatic = 1;
  for (const Dim& d : in) {
    if (d.isStatic())
      inStatic *= d.value;
    else if (!d.symbol.empty())
      syms.insert(d.symbol);
    else
      return Dim();
  }
  for (size_t i = 0; i < out.size(); ++i) {
    if (static_cast<int>(i) == idx) continue;
    const Dim& d = out[i];
    if (d.isStatic()) {
      outStatic *= d.value;
    } else {
      auto it = d.symbol.empty() ? syms.end() : syms.find(d.symbol);
      if (it == syms.end()) return Dim();
      syms.erase(it);
    }
  }
  if (!syms.empty() || outStatic <= 0 || inStatic % outStatic != 0) return Dim();
  return Dim(inStatic / outStatic);
}

Status inferReshape(InferContext& c) {
  const Shape& in = c.shape(0);
  if (c.rank(1) != 1) return c.error("Reshape's shape input must be 1-D");
  const HostTensor* v = c.value(1);
  if (!v) {
    if (!c.shape(1)[0].isStatic()) return c.unsupported("Reshape to a shape of unknown rank");
    Shape out(c.shape(1)[0].value, Dim());
    std::vector<Dim> sym;
    if (c.dimValues(1, sym) && sym.size() == out.size()) {
      // Symbolic target (Concat of Shape pieces and constants): static entries keep their
      // meaning (0 copies the input dim, -1 stays unknown), symbolic ones are taken as they are.
      const bool allowZero = c.attrs().getInt("allowzero", 0) != 0;
      int minusOne = -1;
      for (size_t i = 0; i < sym.size(); ++i) {
        if (sym[i].symbol == kMinusOneSymbol)
          minusOne = static_cast<int>(i);
        else if (!sym[i].isStatic())
          out[i] = sym[i];
        else if (sym[i].value == 0 && !allowZero && i < in.size())
          out[i] = in[i];
        else if (sym[i].value > 0)
          out[i] = sym[i];
      }
      if (minusOne >= 0) out[minusOne] = cancelSymbols(in, out, minusOne);
    }
    c.setOutput(0, c.type(0), out);
    return Status::ok();
  }
  bool allowZero = c.attrs().getInt("allowzero", 0) != 0;
  Shape out;
  int inferIdx = -1;
  for (int64_t i = 0; i < v->numel(); ++i) {
    int64_t d = v->intAt(i);
    if (d == 0 && !allowZero) {
      if (i >= static_cast<int64_t>(in.size()))
        return c.error("Reshape copies dim " + std::to_string(i) + " that the input lacks");
      out.push_back(in[i]);
    } else if (d == -1) {
      if (inferIdx >= 0) return c.error("Reshape has more than one -1");
      inferIdx = static_cast<int>(i);
      out.push_back(Dim());
    } else if (d < 0) {
      return c.error("Reshape dim " + std::to_string(d) + " is invalid");
    } else {
      out.push_back(Dim(d));
    }
  }
  if (inferIdx >= 0) {
    // -1: total / product of the others, computable when all are static
    Dim total = dimProduct(in, 0, in.size());
    int64_t known = 1;
    bool ok = total.isStatic();
    for (size_t i = 0; i < out.size(); ++i) {
      if (static_cast<int>(i) == inferIdx) continue;
      if (!out[i].isStatic())
        ok = false;
      else
        known *= out[i].value;
    }
    if (ok) {
      if (known == 0 || total.value % known != 0)
        return c.error("cannot reshape " + shapeToString(in) + " to " + shapeToString(out));
      out[inferIdx] = Dim(total.value / known);
    } else if (in.size() == out.size() && sameExceptAt(in, out, inferIdx)) {
      // same rank and every other dim copied from the input: the -1 dim is the remaining one
      out[inferIdx] = in[inferIdx];
    } else {
      out[inferIdx] = cancelSymbols(in, out, inferIdx);
    }
  } else if (isStatic(in) && isStatic(out) && volume(toDims(in)) != volume(toDims(out))) {
    return c.error("cannot reshape " + shapeToString(in) + " to " + shapeToString(out));
  }
  c.setOutput(0, c.type(0), out);
  return Status::ok();
}

Status inferFlatten(InferContext& c) {
  const Shape& in = c.shape(0);
  int64_t axis = c.attrs().getInt("axis", 1);
  int r = c.rank(0);
  if (axis < 0) axis += r;
  if (axis < 0 || axis > r) return c.error("Flatten axis out of range");
  c.setOutput(0, c.type(0), Shape{dimProduct(in, 0, axis), dimProduct(in, axis, in.size())});
  return Status::ok();
}

Status inferSqueeze(InferContext& c) {
  const Shape& in = c.shape(0);
  std::set<int> drop;
  bool known = true;
  std::vector<int64_t> axes = c.intsFromAttrOrInput("axes", 1, known);
  if (!known) {
    if (!c.shape(1)[0].isStatic()) return c.unsupported("Squeeze with axes of unknown length");
    c.setOutput(0, c.type(0), Shape(in.size() - c.shape(1)[0].value, Dim()));
    return Status::ok();
  }
  if (!axes.empty()) {
    for (int64_t a : axes) {
      TRT_ASSIGN_OR_RETURN(int ax, normalizeAxis(a, c.rank(0)));
      if (in[ax].isStatic() && in[ax].value != 1)
        return c.error("Squeeze axis " + std::to_string(a) + " is not 1");
      drop.insert(ax);
    }
  } else {
    for (size_t i = 0; i < in.size(); ++i) {
      if (!in[i].isStatic()) return c.unsupported("Squeeze without axes on a dynamic shape");
      if (in[i].value == 1) drop.insert(static_cast<int>(i));
    }
  }
  Shape out;
  for (size_t i = 0; i < in.size(); ++i)
    if (!drop.count(static_cast<int>(i))) out.push_back(in[i]);
  c.setOutput(0, c.type(0), out);
  return Status::ok();
}

Status inferUnsqueeze(InferContext& c) {
  const Shape& in = c.shape(0);
  bool known = true;
  std::vector<int64_t> axes = c.intsFromAttrOrInput("axes", 1, known);
  if (!known) {
    if (!c.shape(1)[0].isStatic()) return c.unsupported("Unsqueeze with axes of unknown length");
    c.setOutput(0, c.type(0), Shape(in.size() + c.shape(1)[0].value, Dim()));
    return Status::ok();
  }
  int outRank = c.rank(0) + static_cast<int>(axes.size());
  std::set<int> ins;
  for (int64_t a : axes) {
    TRT_ASSIGN_OR_RETURN(int ax, normalizeAxis(a, outRank));
    if (!ins.insert(ax).second) return c.error("Unsqueeze axes repeat");
  }
  Shape out;
  size_t k = 0;
  for (int i = 0; i < outRank; ++i) out.push_back(ins.count(i) ? Dim(1) : in[k++]);
  c.setOutput(0, c.type(0), out);
  return Status::ok();
}

Status inferShape(InferContext& c) {
  const Shape& in = c.shape(0);
  int r = c.rank(0);
  int64_t start = c.attrs().getInt("start", 0), end = c.attrs().getInt("end", r);
  if (start < 0) start += r;
  if (end < 0) end += r;
  start = std::clamp<int64_t>(start, 0, r);
  end = std::clamp<int64_t>(end, 0, r);
  int64_t n = std::max<int64_t>(0, end - start);
  Shape part(in.begin() + start, in.begin() + start + n);
  if (isStatic(part)) {
    c.setOutputValue(0, int64Tensor(toDims(part), {n}));
  } else {
    c.setOutput(0, DataType::kInt64, Shape{Dim(n)});
  }
  return Status::ok();
}

Status inferSize(InferContext& c) {
  if (isStatic(c.shape(0))) {
    c.setOutputValue(0, int64Tensor({volume(toDims(c.shape(0)))}, {}));
  } else {
    c.setOutput(0, DataType::kInt64, Shape{});
  }
  return Status::ok();
}

Status inferConstantOfShape(InferContext& c) {
  const HostTensor* fill = c.attrs().getTensor("value");
  DataType t = fill ? fill->type() : DataType::kFloat32;
  if (c.rank(0) != 1) return c.error("ConstantOfShape's input must be 1-D");
  auto vals = c.intValues(0, "ConstantOfShape's shape");
  if (!vals.isOk()) {
    if (!c.shape(0)[0].isStatic()) return vals.status();
    c.setOutput(0, t, Shape(c.shape(0)[0].value, Dim()));
    return Status::ok();
  }
  Shape out;
  for (int64_t d : *vals) {
    if (d < 0) return c.error("ConstantOfShape dims must be >= 0");
    out.push_back(Dim(d));
  }
  c.setOutput(0, t, out);
  return Status::ok();
}

Status inferExpand(InferContext& c) {
  if (c.rank(1) != 1) return c.error("Expand's shape input must be 1-D");
  auto vals = c.intValues(1, "Expand's shape");
  if (!vals.isOk()) {
    if (!c.shape(1)[0].isStatic()) return vals.status();
    size_t n = std::max<size_t>(c.shape(1)[0].value, c.shape(0).size());
    c.setOutput(0, c.type(0), Shape(n, Dim()));
    return Status::ok();
  }
  Shape target;
  for (int64_t d : *vals) target.push_back(Dim(d));
  TRT_ASSIGN_OR_RETURN(Shape out, broadcastShapes({c.shape(0), target}));
  c.setOutput(0, c.type(0), out);
  return Status::ok();
}

Status inferRange(InferContext& c) {
  for (int i = 0; i < 3; ++i)
    if (c.rank(i) != 0) return c.error("Range inputs must be scalars");
  const HostTensor *s = c.value(0), *l = c.value(1), *d = c.value(2);
  if (!s || !l || !d) {
    // Range(0, n, 1) over a dim of a dynamic shape (GPT-2's position ids up to seq) has n
    // elements: the output keeps the dim's symbol, so what it reaches agrees with the input's.
    std::vector<Dim> limit;
    const bool counts = s && d && s->doubleAt(0) == 0 && d->doubleAt(0) == 1;
    if (counts && c.dimValues(1, limit) && limit.size() == 1 && !limit[0].symbol.empty() &&
        limit[0].symbol != kMinusOneSymbol) {
      c.setOutput(0, c.type(0), Shape{limit[0]});
      return Status::ok();
    }
    c.setOutput(0, c.type(0), Shape{Dim()});
    return Status::ok();
  }
  double delta = d->doubleAt(0);
  if (delta == 0) return c.error("Range delta is 0");
  int64_t n =
      std::max<int64_t>(0, static_cast<int64_t>(std::ceil((l->doubleAt(0) - s->doubleAt(0)) / delta)));
  c.setOutput(0, c.type(0), Shape{Dim(n)});
  return Status::ok();
}

}  // namespace

void registerShapeOps(OpRegistry& r) {
  r.add("Reshape", 2, 2, 1, 1, inferReshape);
  r.add("Flatten", 1, 1, 1, 1, inferFlatten);
  r.add("Squeeze", 1, 2, 1, 1, inferSqueeze);
  r.add("Unsqueeze", 1, 2, 1, 1, inferUnsqueeze);
  r.setShapeInputs("Squeeze", {1});
  r.setShapeInputs("Unsqueeze", {1});
  r.add("Shape", 1, 1, 1, 1, inferShape);
  r.add("Size", 1, 1, 1, 1, inferSize);
  r.add("ConstantOfShape", 1, 1, 1, 1, inferConstantOfShape);
  r.add("Expand", 2, 2, 1, 1, inferExpand);
  r.add("Range", 3, 3, 1, 1, inferRange);
  r.setReadsOnlyShapes("Shape");
  r.setReadsOnlyShapes("Size");
  r.setShapeInputs("Reshape", {1});
  r.setShapeInputs("ConstantOfShape", {0});
  r.setShapeInputs("Expand", {1});
  r.setShapeInputs("Range", {0, 1, 2});
}

}  // namespace trt
