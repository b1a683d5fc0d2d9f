#!/usr/bin/env bash
# One device call of the benchmark report, resumable across calls: rows finished by an earlier
# call travel in .gpu/rows.jsonl (copy $OUT/rows.jsonl there). Usage:
#   bash scripts/gpu/report_call.sh [MODELS] [SECONDS]   MODELS: report.py --only (default all)
# With BAR=1 only the issue-4 bar's nine cases (report.py --bar: all four models in one call).
# With CHECK=1 it first runs the CUDA unit tests, the op harness and the model tests on CUDA
# against onnxruntime (FP32 and FP16): a quick correctness gate.
# With PROFILE=REGEX, afterwards the FP16 plans the report built whose names match
# (MODEL_VARIANT_bBATCH, e.g. 'gpt2_s128_b16|yolov5s_640_b1') get a layer profile each in
# $OUT/profiles/: the report's own exports, which differ from make_models.py's (GPT-2 bs16 FP16 on
# the H200: 1.316 ms in the report against 1.255-1.270 for make_models.py's export).
# Writes $OUT/rows.jsonl, $OUT/report/ (benchmarks.md, .png, .json) and $OUT/report.log.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
final=${OUT:-$root/gpu-logs}
mkdir -p "$final/report"
source "$root/scripts/gpu/env.sh"
if [ "${CHECK:-0}" = 1 ]; then
  TRT_NO_GRAPHVIZ=1 TRT_TOOL_DIR=$bin "$bin/trt_unit_tests" > "$final/unit.log" 2>&1
  echo "unit rc=$? $(grep -E '^\[  (PASSED|FAILED)' "$final/unit.log" | tr '\n' ' ')"
  python3 "$root/tests/ops/op_cases.py" /tmp/op_cases > /dev/null 2>&1
  "$bin/trt_op_harness" /tmp/op_cases > "$final/op_harness.log" 2>&1
  echo "op harness rc=$? $(tail -n 1 "$final/op_harness.log")"
  python3 "$root/scripts/models/make_models.py" /tmp/models --bert-layers 12 --gpt2-layers 12 > /dev/null 2>&1
  for p in "" --fp16; do
    python3 "$root/tests/models/run_model_tests.py" --bin "$bin" --models /tmp/models --device cuda $p > "$final/models$p.log" 2>&1
    echo "models cuda ${p:-fp32} rc=$? $(tail -n 1 "$final/models$p.log")"
  done
fi
rep=/tmp/trt-report
mkdir -p "$rep"
[ -f "$root/.gpu/rows.jsonl" ] && [ ! -f "$rep/rows.jsonl" ] && cp "$root/.gpu/rows.jsonl" "$rep/"
only=${1:-}
timeout "${2:-480}" python3 "$root/scripts/bench/report.py" --bin "$bin" --work "$rep" --out "$final/report" \
  ${only:+--only "$only"} ${BAR:+--bar} > "$final/report.log" 2>&1
echo "report rc=$?"
cp "$rep/rows.jsonl" "$final/rows.jsonl" 2>/dev/null
python3 "$root/scripts/bench/report.py" --bin "$bin" --work "$rep" --out "$final/report" --render > /dev/null 2>&1
grep -E "Traceback|Error" "$final/report.log" | head -5
grep -E "^\| " "$final/report/benchmarks.md"
if [ -n "${PROFILE:-}" ]; then
  mkdir -p "$final/profiles"
  for plan in "$rep"/*.fp16.plan; do
    tag=$(basename "$plan" .fp16.plan)
    [[ $tag =~ $PROFILE ]] || continue
    "$bin/trtbench" "$plan" --iterations 20 --dump-profile > "$final/profiles/$tag.profile.log" 2>&1
    echo "profile $tag: $(grep -E '^GPU Compute Time' "$final/profiles/$tag.profile.log" | sed -E 's/.*median = ([0-9.]+) ms.*/median \1 ms (layer by layer)/')"
  done
fi
