#!/usr/bin/env bash
# Per-layer FP16 profiles (trtbench --dump-profile) of the report's engines at the batch sizes
# furthest from the target. Usage: profiles.sh BIN_DIR REPORT_WORK_DIR OUTDIR
set -uo pipefail
bin=$1 work=$2 out=$3
mkdir -p "$out"
for c in "yolov5s_640 images:16x3x640x640" "yolov5s_1088x1920 images:1x3x1088x1920" "resnet50_224 input:128x3x224x224" \
         "bert_s384 input_ids:16x384" "gpt2_s128 input_ids:1x128" "gpt2_s128 input_ids:16x128"; do
  set -- $c
  "$bin/trtbench" "$work/$1.fp16.plan" --shapes "$2" --iterations 20 --dump-profile > "$out/profile_${1}_${2%%:*}_${2#*:}.log" 2>&1
  echo "$1 $2: $(grep -E 'Layers add' "$out"/profile_${1}_${2%%:*}_${2#*:}.log)"
done
