#!/usr/bin/env bash
# The GPU test batch, run on the GPU machine from the repository root with .gpu/ carried
# (see scripts/gpu/bundle.sh): unit tests, the differential op harness (CPU and CUDA),
# compute-sanitizer memcheck over the CUDA op cases, the model tests on CUDA against onnxruntime,
# the engines' layer counts (CUDA FP16, full-depth models), and CUDA latency of the models. Full logs go to $OUT (or ./gpu-logs); a short table prints last.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
final=${OUT:-$root/gpu-logs}
out=/tmp/trt-gpu-logs
rm -rf "$out"
mkdir -p "$out" "$final"
work=/tmp/trt-gpu
rm -rf "$work"
source "$root/scripts/gpu/env.sh"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader > "$out/gpu.txt" 2>&1
declare -A result
step() {  # step NAME LOGFILE COMMAND...
  local name=$1 log=$2
  shift 2
  echo "== $name" | tee -a "$out/summary.log"
  local t0=$SECONDS
  "$@" > "$out/$log" 2>&1
  local rc=$?
  result[$name]="rc=$rc $((SECONDS - t0))s $(tail -n 1 "$out/$log" | cut -c1-100)"
  echo "   ${result[$name]}" | tee -a "$out/summary.log"
}
TRT_NO_GRAPHVIZ=1 TRT_TOOL_DIR=$bin step unit "unit.log" "$bin/trt_unit_tests"
python3 "$root/tests/ops/op_cases.py" "$work/op_cases" > "$out/op_cases.log" 2>&1
step op_harness "op_harness.log" "$bin/trt_op_harness" "$work/op_cases"
if command -v compute-sanitizer >/dev/null; then
  step memcheck "memcheck.log" timeout ${MEMCHECK_S:-150} compute-sanitizer --tool memcheck --error-exitcode 3 "$bin/trt_op_harness" "$work/op_cases"
else
  result[memcheck]="compute-sanitizer not found"
fi
python3 "$root/scripts/models/make_models.py" "$work/models" --bert-layers 12 --gpt2-layers 12 > "$out/make_models.log" 2>&1
step models_cuda "models_cuda.log" python3 "$root/tests/models/run_model_tests.py" --bin "$bin" --models "$work/models" --device cuda
step models_fp16 "models_fp16.log" python3 "$root/tests/models/run_model_tests.py" --bin "$bin" --models "$work/models" --device cuda --fp16
step layer_counts "layer_counts.log" python3 "$root/tests/models/check_layer_counts.py" --bin "$bin" --models "$work/models" --device cuda --fp16 --static
bench() {
  local model=$1 shapes=$2 prec=$3
  shift 3
  local flags=()
  [ "$prec" = fp16 ] && flags=(--fp16)
  local plan=$work/$model.$prec.plan
  [ -f "$plan" ] || "$bin/trtbuild" "$work/models/$model.onnx" --device cuda "${flags[@]}" -o "$plan" > /dev/null
  "$bin/trtbench" "$plan" --iterations 100 --warmup 200 --shapes "$shapes" "$@" |
    grep -E "^GPU Compute Time" | sed -E 's/.*median = ([0-9.]+) ms.*percentile\(90%\) = ([0-9.]+) ms.*/median \1 ms  p90 \2 ms/'
}
{
  for prec in fp32 fp16; do
    echo "$prec, GPU compute time per inference (fp32: TF32 off)"
    echo "ResNet-50 bs1:   $(bench resnet50 input:1x3x224x224 $prec)"
    echo "ResNet-50 bs32:  $(bench resnet50 input:32x3x224x224 $prec)"
    echo "BERT bs1 s128:   $(bench bert input_ids:1x128,attention_mask:1x128,token_type_ids:1x128 $prec)"
    echo "BERT bs16 s128:  $(bench bert input_ids:16x128,attention_mask:16x128,token_type_ids:16x128 $prec)"
    echo "GPT-2 bs1 s128:  $(bench gpt2 input_ids:1x128 $prec)"
    echo "YOLOv5s bs1:     $(bench yolov5s images:1x3x640x640 $prec)"
  done
} > "$out/bench.log" 2>&1
# Per-layer profiles (FP16) of the cases furthest from the target, for the logs.
for c in "resnet50 input:32x3x224x224" "bert input_ids:16x128,attention_mask:16x128,token_type_ids:16x128" \
         "gpt2 input_ids:1x128" "yolov5s images:1x3x640x640"; do
  set -- $c
  "$bin/trtbench" "$work/$1.fp16.plan" --iterations 20 --shapes "$2" --dump-profile > "$out/profile_$1.log" 2>&1
done
echo
echo "GPU: $(cat "$out/gpu.txt")"
for k in unit op_harness memcheck models_cuda models_fp16 layer_counts; do printf '%-12s %s\n' "$k" "${result[$k]:-not run}"; done
cat "$out/bench.log"
grep -E "FAIL|error" "$out/op_harness.log" | head -20
grep -E "FAILED|Failure" -A4 "$out/unit.log" | head -30
# Logs come back as one archive (the device tool returns at most 8 files).
tar -C "$out" -czf "$final/logs.tgz" . && cp "$out/summary.log" "$final/"
