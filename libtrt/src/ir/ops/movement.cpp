// Shape inference for data movement: Transpose, Concat, Split, Slice, Gather, GatherElements,
// Tile, Pad and Resize.
#include <algorithm>
#include <numeric>

#include "ir/op_registry.h"
#include "ir/ops/movement_params.h"

namespace trt {
namespace {

Status inferTranspose(InferContext& c) {
  const Shape& in = c.shape(0);
  std::vector<int64_t> perm = c.attrs().getInts("perm");
  if (perm.empty())
    for (int i = c.rank(0) - 1; i >= 0; --i) perm.push_back(i);
  if (static_cast<int>(perm.size()) != c.rank(0)) return c.error("Transpose perm does not match the rank");
  std::vector<bool> seen(perm.size(), false);
  Shape out;
  for (int64_t p : perm) {
    if (p < 0 || p >= c.rank(0) || seen[p]) return c.error("Transpose perm is not a permutation");
    seen[p] = true;
    out.push_back(in[p]);
  }
  // Internal "to" (fuse-cast-transpose): the transpose also converts to that type.
  DataType type = c.type(0);
  if (c.attrs().has("to")) {
    TRT_ASSIGN_OR_RETURN(type, dataTypeFromName(c.attrs().getString("to")));
  }
  c.setOutput(0, type, out);
  return Status::ok();
}

Status inferConcat(InferContext& c) {
  TRT_ASSIGN_OR_RETURN(int axis, normalizeAxis(c.attrs().getInt("axis", 0), c.rank(0)));
  Shape out = c.shape(0);
  int64_t total = 0;
  bool totalKnown = true;
  for (int i = 0; i < c.numInputs(); ++i) {
    const Shape& s = c.shape(i);
    if (s.size() != out.size()) return c.error("Concat inputs differ in rank");
    if (c.type(i) != c.type(0)) return c.error("Concat inputs differ in type");
    for (size_t k = 0; k < s.size(); ++k) {
      if (static_cast<int>(k) == axis) continue;
      if (s[k].isStatic() && out[k].isStatic() && s[k].value != out[k].value)
        return c.error("Concat inputs differ on axis " + std::to_string(k) + ": " + shapeToString(out) +
                       " vs " + shapeToString(s));
      if (!out[k].isStatic() && s[k].isStatic()) out[k] = s[k];
    }
    if (s[axis].isStatic())
      total += s[axis].value;
    else
      totalKnown = false;
  }
  out[axis] = totalKnown ? Dim(total) : Dim();
  c.setOutput(0, c.type(0), out);
  return Status::ok();
}

Status inferSplit(InferContext& c) {
  const Shape& in = c.shape(0);
  TRT_ASSIGN_OR_RETURN(int axis, normalizeAxis(c.attrs().getInt("axis", 0), c.rank(0)));
  bool known = true;
  std::vector<int64_t> split = c.intsFromAttrOrInput("split", 1, known);
  int n = c.numOutputs();
  if (!known) {
    for (int i = 0; i < n; ++i) {
      Shape s = in;
      s[axis] = Dim();
      c.setOutput(i, c.type(0), s);
    }
    return Status::ok();
  }
  if (!split.empty()) {
    if (static_cast<int>(split.size()) != n) return c.error("Split sizes do not match the output count");
    int64_t sum = std::accumulate(split.begin(), split.end(), int64_t{0});
    if (in[axis].isStatic() && sum != in[axis].value)
      return c.error("Split sizes do not sum to the axis size");
  } else if (in[axis].isStatic()) {
    int64_t d = in[axis].value, chunk = (d + n - 1) / n;
    for (int i = 0; i < n; ++i) split.push_back(std::max<int64_t>(0, std::min(chunk, d - chunk * i)));
    if (c.attrs().getInt("num_outputs", 0) == 0 && d % n != 0)
      return c.error("Split axis size is not divisible by the output count");
  }
  for (int i = 0; i < n; ++i) {
    Shape s = in;
    s[axis] = split.empty() ? Dim() : Dim(split[i]);
    c.setOutput(i, c.type(0), s);
  }
  return Status::ok();
}

Status inferSlice(InferContext& c) {
  const Shape& in = c.shape(0);
  auto starts = c.intValues(1, "Slice starts");
  auto ends = c.intValues(2, "Slice ends");
  std::vector<int64_t> axes, steps;
  bool known = starts.isOk() && ends.isOk();
  if (c.hasInput(3)) {
    auto a = c.intValues(3, "Slice axes");
    if (a.isOk())
      axes = *a;
    else
      known = false;
  }
  if (c.hasInput(4)) {
    auto s = c.intValues(4, "Slice steps");
    if (s.isOk())
      steps = *s;
    else
      known = false;
  }
  Shape out = in;
  if (!known) {
    if (axes.empty() && !c.hasInput(3)) {
      // every sliced axis is unknown: those are the first len(starts) axes
      for (size_t i = 0; i < out.size(); ++i)
        if (static_cast<int64_t>(i) < (c.shape(1)[0].isStatic() ? c.shape(1)[0].value : c.rank(0)))
          out[i] = Dim();
    } else if (!axes.empty()) {
      for (int64_t a : axes) {
        TRT_ASSIGN_OR_RETURN(int ax, normalizeAxis(a, c.rank(0)));
        out[ax] = Dim();
      }
    } else {
      for (auto& d : out) d = Dim();
    }
    c.setOutput(0, c.type(0), out);
    return Status::ok();
  }
  // Dims that are dynamic but not sliced stay as they are; sliced dynamic dims become unknown.
  Dims concrete;
  for (const Dim& d : in) concrete.push_back(d.isStatic() ? d.value : INT64_MAX / 4);
  TRT_ASSIGN_OR_RETURN(SliceRange r, resolveSlice(concrete, *starts, *ends, axes, steps));
  for (size_t i = 0; i < out.size(); ++i) {
    bool sliced = r.start[i] != 0 || r.step[i] != 1 || r.count[i] != concrete[i];
    if (!in[i].isStatic())
      out[i] = sliced ? Dim() : in[i];
    else
      out[i] = Dim(r.count[i]);
  }
  c.setOutput(0, c.type(0), out);
  return Status::ok();
}

Status inferGather(InferContext& c) {
  const Shape& data = c.shape(0);
  if (c.type(1) != DataType::kInt64 && c.type(1) != DataType::kInt32)
    return c.error("Gather indices must be int32/int64");
  TRT_ASSIGN_OR_RETURN(int axis, normalizeAxis(c.attrs().getInt("axis", 0), c.rank(0)));
  Shape out(data.begin(), data.begin() + axis);
  for (const Dim& d : c.shape(1)) out.push_back(d);
  for (size_t i = axis + 1; i < data.size(); ++i) out.push_back(data[i]);
  c.setOutput(0, c.type(0), out);
  return Status::ok();
}

Status inferGatherElements(InferContext& c) {
  if (c.rank(0) != c.rank(1)) return c.error("GatherElements data and indices ranks differ");
  TRT_RETURN_IF_ERROR(normalizeAxis(c.attrs().getInt("axis", 0), c.rank(0)).status());
  c.setOutput(0, c.type(0), c.shape(1));
  return Status::ok();
}

// GatherND: out = indices.shape[:-1] + data.shape[batch_dims + indices.shape[-1]:]; the first
// batch_dims dims of data and indices are shared.
Status inferGatherND(InferContext& c) {
  const Shape &data = c.shape(0), &ind = c.shape(1);
  const int64_t b = c.attrs().getInt("batch_dims", 0);
  if (c.type(1) != DataType::kInt64 && c.type(1) != DataType::kInt32)
    return c.error("GatherND indices must be integers");
  if (ind.empty() || data.empty()) return c.error("GatherND needs data and indices of rank >= 1");
  if (b < 0 || b >= static_cast<int64_t>(std::min(data.size(), ind.size())))
    return c.error("GatherND batch_dims must be less than both ranks");
  if (!ind.back().isStatic()) return c.unsupported("GatherND with a dynamic last indices dim");
  const int64_t last = ind.back().value;
  if (last < 1 || b + last > static_cast<int64_t>(data.size()))
    return c.error("GatherND indices' last dim must be in [1, rank(data) - batch_dims]");
  for (int64_t i = 0; i < b; ++i)
    if (data[i].isStatic() && ind[i].isStatic() && data[i].value != ind[i].value)
      return c.error("GatherND batch dims of data and indices differ");
  Shape out(ind.begin(), ind.end() - 1);
  out.insert(out.end(), data.begin() + b + last, data.end());
  c.setOutput(0, c.type(0), out);
  return Status::ok();
}

Status inferTile(InferContext& c) {
  auto reps = c.intValues(1, "Tile repeats");
  Shape out = c.shape(0);
  if (!reps.isOk()) {
    for (auto& d : out) d = Dim();
  } else {
    if (static_cast<int>(reps->size()) != c.rank(0))
      return c.error("Tile repeats length does not match the rank");
    for (size_t i = 0; i < out.size(); ++i) {
      if ((*reps)[i] < 0) return c.error("Tile repeats must be >= 0");
      out[i] = out[i].isStatic() ? Dim(out[i].value * (*reps)[i]) : ((*reps)[i] == 1 ? out[i] : Dim());
    }
  }
  c.setOutput(0, c.type(0), out);
  return Status::ok();
}

Status inferPad(InferContext& c) {
  Shape out = c.shape(0);
  // input_perm (fold-transpose-into-pad): the data input is read permuted, out[d] = in[perm[d]]
  if (c.layer().attrs.has("input_perm")) {
    const std::vector<int64_t> perm = c.layer().attrs.getInts("input_perm");
    std::vector<bool> seen(out.size(), false);
    bool ok = perm.size() == out.size();
    for (size_t d = 0; ok && d < perm.size(); ++d) {
      ok = perm[d] >= 0 && perm[d] < static_cast<int64_t>(out.size()) && !seen[perm[d]];
      if (ok) seen[perm[d]] = true;
    }
    if (!ok) return c.error("Pad input_perm is not a permutation of the input's axes");
    Shape permuted;
    for (int64_t p : perm) permuted.push_back(out[p]);
    out = permuted;
  }
  auto pads = c.intValues(1, "Pad pads");
  std::vector<int64_t> axes;
  if (c.hasInput(3)) {
    auto a = c.intValues(3, "Pad axes");
    if (!a.isOk()) return a.status();
    axes = *a;
  }
  if (!pads.isOk()) {
    for (auto& d : out) d = Dim();
  } else {
    TRT_ASSIGN_OR_RETURN(std::vector<int64_t> p, resolvePads(c.rank(0), *pads, axes));
    for (size_t i = 0; i < out.size(); ++i) {
      if (!out[i].isStatic()) {
        if (p[i] != 0 || p[i + out.size()] != 0) out[i] = Dim();
        continue;
      }
      int64_t d = out[i].value + p[i] + p[i + out.size()];
      if (d < 0) return c.error("Pad makes a negative dim");
      out[i] = Dim(d);
    }
  }
  c.setOutput(0, c.type(0), out);
  return Status::ok();
}

Status inferResize(InferContext& c) {
  if (c.type(0) != DataType::kFloat32 && c.type(0) != DataType::kFloat16)
    return c.unsupported(std::string("Resize input type ") + dataTypeName(c.type(0)));
  const Shape& in = c.shape(0);
  std::vector<float> scales;
  std::vector<int64_t> sizes;
  bool known = true;
  if (c.hasInput(3) && !(isStatic(c.shape(3)) && volume(toDims(c.shape(3))) == 0)) {
    auto s = c.intValues(3, "Resize sizes");
    if (s.isOk())
      sizes = *s;
    else
      known = false;
  } else if (c.hasInput(2)) {
    const HostTensor* v = c.value(2);
    if (v) {
      for (int64_t i = 0; i < v->numel(); ++i) scales.push_back(static_cast<float>(v->doubleAt(i)));
    } else {
      known = false;
    }
  } else {
    return c.error("Resize needs scales or sizes");
  }
  if (known && scales.empty() && sizes.empty()) return c.error("Resize needs scales or sizes");
  Shape out = in;
  if (!known || !isStatic(in)) {
    if (known && !scales.empty()) {
      for (size_t i = 0; i < out.size() && i < scales.size(); ++i)
        if (scales[i] != 1.f)
          out[i] = out[i].isStatic() ? Dim(static_cast<int64_t>(out[i].value * scales[i])) : Dim();
    } else if (known) {
      for (size_t i = 0; i < out.size() && i < sizes.size(); ++i) out[i] = Dim(sizes[i]);
    } else {
      for (auto& d : out) d = Dim();
    }
    c.setOutput(0, c.type(0), out);
    return Status::ok();
  }
  TRT_ASSIGN_OR_RETURN(ResizeGeometry g, resolveResize(toDims(in), scales, sizes, c.attrs().getInts("axes")));
  c.setOutput(0, c.type(0), toShape(g.out));
  return Status::ok();
}

}  // namespace

void registerMovementOps(OpRegistry& r) {
  r.add("Transpose", 1, 1, 1, 1, inferTranspose);
  r.add("Concat", 1, 1024, 1, 1, inferConcat);
  r.add("Split", 1, 2, 1, 1024, inferSplit);
  r.add("Slice", 3, 5, 1, 1, inferSlice);
  r.add("Gather", 2, 2, 1, 1, inferGather);
  r.add("GatherElements", 2, 2, 1, 1, inferGatherElements);
  r.add("GatherND", 2, 2, 1, 1, inferGatherND);
  r.add("Tile", 2, 2, 1, 1, inferTile);
  r.add("Pad", 2, 4, 1, 1, inferPad);
  r.add("Resize", 1, 4, 1, 1, inferResize);
  r.setShapeInputs("Slice", {1, 2, 3, 4});
  r.setShapeInputs("Tile", {1});
  r.setShapeInputs("Split", {1});
  r.setShapeInputs("Pad", {1, 3});
  r.setShapeInputs("Resize", {1, 2, 3});
}

}  // namespace trt
