#!/usr/bin/env bash
# Issue 5 on the GPU: engines with heuristic tactics (--builder-opt-level 0) against autotuned ones
# (default level, every candidate timed), cold against warm (timing-cache) build times, and the
# activation arena, per model at its benchmark shape (FP16, built for that shape with --shapes).
# Usage: tactics.sh BIN_DIR WORK_DIR [LOG_DIR]   (models from run_tests.sh in WORK_DIR/models)
set -uo pipefail
bin=$1 work=$2 log=${3:-$2}
dev=${DEVICE:-cuda}
prec=(--fp16)
[ "$dev" = cpu ] && prec=()
mkdir -p "$log"
med() { grep -E "^GPU Compute Time" | sed -E 's/.*median = ([0-9.]+) ms.*/\1/'; }
now() { date +%s.%N; }
py() { python3 -c "$@"; }
printf '%-11s %7s %7s %6s %9s %9s %8s %9s %9s\n' case cold_s warm_s cold/w heur_ms tuned_ms changed arena_MiB heur_arena
for c in "rn50_bs32 resnet50 input:32x3x224x224" "rn50_bs1 resnet50 input:1x3x224x224" \
         "bert_bs16 bert input_ids:16x128,attention_mask:16x128,token_type_ids:16x128" \
         "gpt2_bs1 gpt2 input_ids:1x128" "yolo_bs1 yolov5s images:1x3x640x640"; do
  set -- $c
  tag=$1 model=$2 shapes=$3
  cache=$log/$tag.cache
  rm -f "$cache"
  common=("$work/models/$model.onnx" --device "$dev" "${prec[@]}" --shapes "$shapes")
  t0=$(now)
  "$bin/trtbuild" "${common[@]}" --timing-cache "$cache" --export-build-log "$log/$tag.cold.json" \
    -o "$work/$tag.tuned.plan" > "$log/$tag.cold.log" 2>&1 || { echo "$tag: cold build failed"; tail -2 "$log/$tag.cold.log"; continue; }
  t1=$(now)
  "$bin/trtbuild" "${common[@]}" --timing-cache "$cache" --export-build-log "$log/$tag.warm.json" \
    -o "$work/$tag.warm.plan" > "$log/$tag.warm.log" 2>&1
  t2=$(now)
  "$bin/trtbuild" "${common[@]}" --builder-opt-level 0 -o "$work/$tag.heur.plan" > "$log/$tag.heur.log" 2>&1
  # alternate the two engines twice; keep each one's better median
  h1=$("$bin/trtbench" "$work/$tag.heur.plan" --iterations 200 --warmup 300 | med)
  a1=$("$bin/trtbench" "$work/$tag.tuned.plan" --iterations 200 --warmup 300 | med)
  h2=$("$bin/trtbench" "$work/$tag.heur.plan" --iterations 200 --warmup 300 | med)
  a2=$("$bin/trtbench" "$work/$tag.tuned.plan" --iterations 200 --warmup 300 | med)
  "$bin/trtinspect" "$work/$tag.tuned.plan" > "$log/$tag.tuned.inspect.txt" 2>&1
  "$bin/trtinspect" "$work/$tag.tuned.plan" --format json > "$log/$tag.tuned.inspect.json" 2>&1
  "$bin/trtinspect" "$work/$tag.heur.plan" --format json > "$log/$tag.heur.inspect.json" 2>&1
  changed=$(py "import json,sys; L=json.load(open(sys.argv[1]))['Layers']; T=[l for l in L if len(l['Candidates'])>1]; print(f\"{sum(l['TacticName']!=l['Candidates'][0]['Tactic'] for l in T)}/{len(T)}\")" "$log/$tag.cold.json" 2>/dev/null)
  arena() { py "import json,sys; print(f\"{json.load(open(sys.argv[1]))['MemoryPlan']['ArenaBytes']/2**20:.1f}\")" "$1" 2>/dev/null; }
  printf '%-11s %7.2f %7.2f %6.1f %9s %9s %8s %9s %9s\n' "$tag" "$(py "print($t1-$t0)")" "$(py "print($t2-$t1)")" \
    "$(py "print(($t1-$t0)/($t2-$t1))")" "$(py "print(min($h1,$h2))" 2>/dev/null)" "$(py "print(min($a1,$a2))" 2>/dev/null)" \
    "$changed" "$(arena "$log/$tag.tuned.inspect.json")" "$(arena "$log/$tag.heur.inspect.json")"
done
