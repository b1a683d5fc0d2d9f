#!/usr/bin/env bash
# One device call that checks a session's unrun CUDA work and measures what it should change:
# the GPU test batch (run_tests.sh: unit tests, op harness, memcheck, model tests FP32 / FP16),
# the FP16 bar cases that miss the target built and profiled (bar_profiles.sh) with the timed
# candidates of the layers named by SHOW (show_candidates.py), and programmatic dependent launch
# on their plans both ways (pdl_ab.sh). Usage (GPU machine, repository root, .gpu carried):
#   bash scripts/gpu/verify_batch.sh OUTDIR
# CASES, SHOW and AB_VARS (the switches measured both ways) override the defaults; the summary
# is printed last, full logs under OUTDIR.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:?OUTDIR}
mkdir -p "$out"
f16='--inputIOFormats=fp16 --outputIOFormats=fp16'
cases=${CASES:-"yolo_bs1 yolov5s images:1x3x640x640 $f16;gpt2_bs16 gpt2 input_ids:16x128 $f16;bert_bs16 bert input_ids:16x128,attention_mask:16x128,token_type_ids:16x128 $f16"}
timeout 300 bash "$root/scripts/gpu/run_tests.sh" > "$out/run_tests.out" 2>&1
cp /tmp/trt-gpu-logs/summary.log "$out/" 2>/dev/null
tar -czf "$out/test_logs.tgz" -C /tmp trt-gpu-logs 2>/dev/null
CASES=$cases timeout 200 bash "$root/scripts/gpu/bar_profiles.sh" "$out/bar" > "$out/bar.out" 2>&1
python3 "$root/scripts/gpu/show_candidates.py" "${SHOW:-model.0/|MaxPoolCascade|Attention}" "$out"/bar/*.build.json \
  > "$out/candidates.txt" 2>&1
rm -f "$out"/bar/*.json
plans=()
IFS=';' read -ra list <<< "$cases"
for c in "${list[@]}"; do
  set -- $c
  [ -f "/tmp/trt-gpu/$1.bar.plan" ] && plans+=("/tmp/trt-gpu/$1.bar.plan")
done
[ ${#plans[@]} -gt 0 ] && for v in ${AB_VARS:-TRT_PDL}; do
  AB_VAR=$v timeout 120 bash "$root/scripts/gpu/pdl_ab.sh" "${plans[@]}" >> "$out/pdl_ab.txt" 2>&1
done
tar -czf "$out/bar.tgz" -C "$out" bar && rm -rf "$out/bar"
echo "== tests"; cat "$out/summary.log" 2>/dev/null
grep -E "^\[  FAILED" /tmp/trt-gpu-logs/unit.log 2>/dev/null | head -10
echo "== bar cases"; grep -E "median|layout" "$out/bar.out" | grep -v NVRTC
echo "== candidates"; cut -c1-300 "$out/candidates.txt"
echo "== A/B (${AB_VARS:-TRT_PDL})"; cat "$out/pdl_ab.txt" 2>/dev/null
