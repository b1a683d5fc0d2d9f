#!/usr/bin/env bash
# Heuristic vs timed cuDNN algorithms (TRT_CUDNN_ALGO=time) on the same FP16 engines, and trtbench
# --streams on CUDA. Usage: conv_algos.sh BIN_DIR WORK_DIR (plans from run_tests.sh)
set -uo pipefail
bin=$1 work=$2
med() { grep -E "^GPU Compute Time" | sed -E 's/.*median = ([0-9.]+) ms.*/\1/'; }
for c in "resnet50 input:32x3x224x224" "resnet50 input:128x3x224x224" "yolov5s images:1x3x640x640"; do
  set -- $c
  h=$("$bin/trtbench" "$work/$1.fp16.plan" --shapes "$2" --iterations 100 --warmup 300 | med)
  t=$(TRT_CUDNN_ALGO=time "$bin/trtbench" "$work/$1.fp16.plan" --shapes "$2" --iterations 100 --warmup 300 | med)
  echo "$1 $2 fp16: heuristic $h ms, timed $t ms"
done
echo "== streams"
for n in 1 2 4; do
  "$bin/trtbench" "$work/resnet50.fp16.plan" --shapes input:1x3x224x224 --iterations 400 --warmup 300 --streams $n |
    grep -E "Throughput|streams"
done
