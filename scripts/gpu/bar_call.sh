#!/usr/bin/env bash
# The issue-4 closing call in one device call (about 450 s of the 600 a call may take): the GPU
# test batch (run_tests.sh: unit tests, op harness, memcheck, model tests FP32 / FP16 against
# onnxruntime) and then the bar report from scratch (report_call.sh with BAR=1: the nine cases,
# trt and torch.compile side by side in this one run). Carry .gpu with no rows.jsonl in it.
# Usage (GPU machine, repository root): bash scripts/gpu/bar_call.sh [REPORT_SECONDS]
# Copy $OUT/report/* to docs/ afterwards. Failing unit tests are listed before the table.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
final=${OUT:-$root/gpu-logs}
mkdir -p "$final"
if [ -f "$root/.gpu/rows.jsonl" ]; then
  echo "bar_call: .gpu/rows.jsonl would resume an earlier report; move it away" >&2
  exit 2
fi
timeout 220 bash "$root/scripts/gpu/run_tests.sh" > "$final/run_tests.out" 2>&1
tar -czf "$final/test_logs.tgz" -C /tmp trt-gpu-logs 2>/dev/null
grep -E "^\[  FAILED  \] [A-Za-z]" /tmp/trt-gpu-logs/unit.log 2>/dev/null | sort -u | head -10
rm -rf /tmp/trt-report
BAR=1 bash "$root/scripts/gpu/report_call.sh" "" "${1:-400}" > "$final/report_call.out" 2>&1
echo "== tests"
grep -E "^(unit|op_harness|memcheck|models_cuda|models_fp16|layer_counts) +rc" "$final/run_tests.out"
echo "== bar (trt fp16 ms vs compile fp16 ms)"
grep -E "^\| (resnet50|bert|gpt2|yolov5s) " "$final/report/benchmarks.md" 2>/dev/null | head -9 |
  awk -F'|' '{printf "%-9s %-14s trt %s compile %s -> %s\n", $2, $3, $6, $8, $9}'
grep -E "report rc" "$final/report_call.out"
