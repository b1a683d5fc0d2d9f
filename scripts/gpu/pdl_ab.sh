#!/usr/bin/env bash
# Programmatic dependent launch A/B: each plan's median GPU time (trtbench, CUDA graph, 300
# replays after 300 warm-up) with TRT_PDL=0 and with TRT_PDL=1 (the default: cuda_backend.cpp turns the
# captured graph's edges into trt kernels programmatic), alternating twice so drift shows.
# AB_VAR names another switch measured the same way (TRT_SIDE_STREAM: parallel branches).
# Usage (GPU machine, repository root, .gpu carried): [AB_VAR=NAME] pdl_ab.sh PLAN...
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
source "$root/scripts/gpu/env.sh"
var=${AB_VAR:-TRT_PDL}
median() {  # PLAN VALUE(0/1)
  env "$var=$2" "$bin/trtbench" "$1" --iterations 300 --warmup 300 2>&1 |
    sed -nE 's/^GPU Compute Time: .*median = ([0-9.]+) ms.*/\1/p'
}
for plan in "$@"; do
  a1=$(median "$plan" 0); b1=$(median "$plan" 1); a2=$(median "$plan" 0); b2=$(median "$plan" 1)
  echo "$(basename "$plan"): $var=0 $a1 / $a2 ms, $var=1 $b1 / $b2 ms"
done
