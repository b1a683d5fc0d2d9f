#!/usr/bin/env bash
# Cross-checks batch tiling on CUDA through the tools. At a81d370 on the H200 the unit test
# BatchTiling.CudaFp16ChunksMatchTheCpu hit cudaErrorIllegalAddress (sticky: every later CUDA test in
# the process failed); the test bound pageable host memory to the CUDA context (fixed: it stages
# through device memory, and setTensorAddress now refuses such pointers). Each variant of the
# test's stem network (batch 4, 3x32x32 -> 6x6/2 conv 16ch + SiLU -> 3x3/2 conv 8ch -> global pool
# -> 1x1 conv 4ch) is built and run in its own process, FP16 on CUDA, against the CPU's FP32 output;
# the first failing variant is rerun under compute-sanitizer. Usage (GPU machine, repo root, .gpu
# carried): bash scripts/gpu/stem_variants.sh   (logs under $OUT/stem)
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
source "$root/scripts/gpu/env.sh"
log=${OUT:-/tmp}/stem
mkdir -p "$log"
d=/tmp/stem && mkdir -p "$d"
python3 - "$d" <<'PY'
import sys, numpy as np, onnx
from onnx import helper, TensorProto, numpy_helper
d = sys.argv[1]
def w(name, dims, scale):
    n = int(np.prod(dims))
    return numpy_helper.from_array((scale * np.sin(0.37 * np.arange(n) + dims[0])).astype(np.float32).reshape(dims), name)
inits = [w("w0", [16, 3, 6, 6], .2), w("b0", [16], .1), w("w1", [8, 16, 3, 3], .1), w("w2", [4, 8, 1, 1], .5)]
nodes = [helper.make_node("Conv", ["x", "w0", "b0"], ["c0"], name="stem", strides=[2, 2], pads=[2, 2, 2, 2]),
         helper.make_node("Sigmoid", ["c0"], ["s0"], name="sig"), helper.make_node("Mul", ["c0", "s0"], ["a0"], name="silu"),
         helper.make_node("Conv", ["a0", "w1"], ["c1"], name="down", strides=[2, 2], pads=[1, 1, 1, 1]),
         helper.make_node("GlobalAveragePool", ["c1"], ["g"], name="pool"), helper.make_node("Conv", ["g", "w2"], ["y"], name="head")]
g = helper.make_graph(nodes, "stem", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [4, 3, 32, 32])],
                      [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], inits)
m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]); m.ir_version = 8
onnx.save(m, f"{d}/stem.onnx")
np.save(f"{d}/x.npy", (np.arange(4 * 3 * 32 * 32) * 0.0007 - 1).astype(np.float32).reshape(4, 3, 32, 32))
PY
mkdir -p "$d/cpu" && "$bin/trtbuild" "$d/stem.onnx" --layout nchw -o "$d/cpu.plan" > /dev/null &&
  "$bin/trtrun" "$d/cpu.plan" --input "x:$d/x.npy" --output-dir "$d/cpu" > /dev/null
first_fail=""
for v in "tiled auto:--layout auto" "whole auto:--layout auto --no-batch-tiling" "tiled nhwc:--layout nhwc" \
         "whole nhwc:--layout nhwc --no-batch-tiling" "tiled nchw:--layout nchw" "whole nchw:--layout nchw --no-batch-tiling" \
         "tiled heur:--layout auto --builder-opt-level 0" "whole heur:--layout auto --no-batch-tiling --builder-opt-level 0"; do
  name=${v%%:*} flags=${v#*:} tag=${name// /_}
  mkdir -p "$d/$tag"
  "$bin/trtbuild" "$d/stem.onnx" --device cuda --fp16 $flags -o "$d/$tag.plan" --verbose > "$log/$tag.build.log" 2>&1
  b=$?
  "$bin/trtrun" "$d/$tag.plan" --input "x:$d/x.npy" --output-dir "$d/$tag" > "$log/$tag.run.log" 2>&1
  r=$?
  err=$(python3 -c "import numpy as np,sys; a=np.load(sys.argv[1]); c=np.load(sys.argv[2]); print('%.2e' % (abs(a-c).max()/abs(c).max()))" "$d/$tag/y.npy" "$d/cpu/y.npy" 2>/dev/null)
  "$bin/trtinspect" "$d/$tag.plan" > "$log/$tag.inspect.txt" 2>&1
  printf '%-11s build rc=%s run rc=%s err/max=%s  %s\n' "$name" "$b" "$r" "${err:--}" "$(grep -o 'batch tiling: [^)]*' "$log/$tag.build.log" | head -1 | cut -c1-60)"
  [ -z "$first_fail" ] && { [ $b != 0 ] || [ $r != 0 ]; } && first_fail="$flags"
done
if [ -n "$first_fail" ] && command -v compute-sanitizer > /dev/null; then
  echo "compute-sanitizer on the first failing variant ($first_fail):"
  compute-sanitizer --tool memcheck "$bin/trtbuild" "$d/stem.onnx" --device cuda --fp16 $first_fail -o "$d/s.plan" > "$log/sanitizer_build.log" 2>&1
  echo "  build: $(grep -m1 -E 'ERROR SUMMARY' "$log/sanitizer_build.log")"; grep -m3 -A6 "Invalid" "$log/sanitizer_build.log" | head -20
  compute-sanitizer --tool memcheck "$bin/trtrun" "$d/s.plan" --input "x:$d/x.npy" --output-dir /tmp > "$log/sanitizer_run.log" 2>&1
  echo "  run: $(grep -m1 -E 'ERROR SUMMARY' "$log/sanitizer_run.log")"; grep -m3 -A6 "Invalid" "$log/sanitizer_run.log" | head -20
fi
