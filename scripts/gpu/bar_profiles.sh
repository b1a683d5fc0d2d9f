#!/usr/bin/env bash
# Per-layer FP16 profiles of the issue-4 bar cases that miss the target, from the model-test
# exports (scripts/models/make_models.py, full depth), each engine built for its shape
# (--shapes). Usage: bar_profiles.sh [OUTDIR]  (run from the repository root on the GPU machine,
# .gpu carried). Prints per case the median and the layer types' shares; full profiles in OUTDIR.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:-${OUT:-$root/gpu-logs}/bar}
mkdir -p "$out"
work=/tmp/trt-gpu
source "$root/scripts/gpu/env.sh"
models=$work/models
[ -f "$models/gpt2.onnx" ] || python3 "$root/scripts/models/make_models.py" "$models" --bert-layers 12 --gpt2-layers 12 > "$out/make_models.log" 2>&1
# CASES: "tag model shapes [trtbuild flags...]" entries separated by ';'
IFS=';' read -ra cases <<< "${CASES:-gpt2_bs1 gpt2 input_ids:1x128;gpt2_bs16 gpt2 input_ids:16x128;rn50_bs128 resnet50 input:128x3x224x224;rn50_bs32 resnet50 input:32x3x224x224;yolo_bs1 yolov5s images:1x3x640x640}"
for c in "${cases[@]}"; do
  set -- $c
  tag=$1 model=$2 shapes=$3
  shift 3
  "$bin/trtbuild" "$models/$model.onnx" --device cuda --fp16 --shapes "$shapes" "$@" --export-build-log "$out/$tag.build.json" \
    --verbose -o "$work/$tag.bar.plan" > "$out/$tag.build.log" 2>&1 || { echo "$tag: build failed: $(tail -1 "$out/$tag.build.log")"; continue; }
  # the layout choice, the Concats whose producers write into them, and the strided parts planned
  python3 -c "
import json, sys
for p in json.load(open(sys.argv[1]))['Phases']:
    if p['Name'] == 'layout': print('   layout:', p['Note'][:160])
" "$out/$tag.build.json"
  echo "   concat elision switches: $(grep -c 'concat elision:' "$out/$tag.build.log"), strided parts planned: $("$bin/trtinspect" "$work/$tag.bar.plan" --json --shapes "$shapes" 2>/dev/null | grep -c '"RowStride"')"
  "$bin/trtbench" "$work/$tag.bar.plan" --iterations 200 --warmup 300 > "$out/$tag.bench.log" 2>&1
  "$bin/trtbench" "$work/$tag.bar.plan" --iterations 20 --dump-profile > "$out/$tag.profile.log" 2>&1
  echo "$tag: $(grep -E '^GPU Compute Time' "$out/$tag.bench.log" | sed -E 's/.*median = ([0-9.]+) ms.*/median \1 ms/')"
  # The same plan with the Pointwise interpreter instead of the generated kernels (A/B).
  TRT_NO_NVRTC=1 "$bin/trtbench" "$work/$tag.bar.plan" --iterations 200 --warmup 300 > "$out/$tag.bench_nonvrtc.log" 2>&1
  echo "   without generated Pointwise kernels (TRT_NO_NVRTC=1): $(grep -E '^GPU Compute Time' "$out/$tag.bench_nonvrtc.log" | sed -E 's/.*median = ([0-9.]+) ms.*/median \1 ms/')"
  python3 - "$out/$tag.profile.log" <<'EOF'
import collections, re, sys
agg = collections.defaultdict(lambda: [0, 0.0])
for line in open(sys.argv[1]):
    m = re.match(r'\s+[\d.]+\s+[\d.]+\s+([\d.]+)\s+[\d.]+\s+(.*)\[(\w+), (\S+)\]$', line.rstrip())
    if m:
        key = m.group(3) + ' ' + re.sub(r'_[ahp]\d+$', '', m.group(4))
        agg[key][0] += 1
        agg[key][1] += float(m.group(1))
for k, (n, t) in sorted(agg.items(), key=lambda x: -x[1][1])[:6]:
    print(f"   {k:48s} n={n:3d} {t * 1000:7.0f} us")
EOF
done
# The candidates with their times of the LM head and of the first MatMulLayerNorm layers.
for f in "$out"/*.build.json; do
  [ -f "$f" ] && python3 -c "
import json, sys
seen = 0
for l in json.load(open(sys.argv[1]))['Layers']:
    mln = l.get('LayerType') == 'MatMulLayerNorm'
    seen += mln
    if 'lm_head' in l['Name'] or (mln and seen <= 2):
        print('  ', sys.argv[1].split('/')[-1], l['Name'][:30], 'won:', l['TacticName'], ' '.join(c['Tactic'][-3:] + '=' + ('%.4f' % c['TimeMs'] if c['TimeMs'] is not None else 'failed') for c in l['Candidates']))
" "$f"
done
