#!/usr/bin/env bash
# A/B of two builds of trt on the same cases, for bisecting a regression in one GPU call: each
# bundle (scripts/gpu/bundle.sh's .tar.xz, e.g. one built from an older commit in a worktree) builds
# every case's engine, times it (median of 200 CUDA-graph replays) and profiles it layer by layer;
# then per case the two medians and the layers whose time moved the most, with their tactics.
# Usage (GPU machine, repository root, .gpu carried):
#   CASES='rn50_bs128 resnet50 input:128x3x224x224 --inputIOFormats=fp16 --outputIOFormats=fp16;...' \
#     bash scripts/gpu/ab_bundles.sh OUTDIR BUNDLE_A BUNDLE_B
# The models come from this checkout's scripts/models/make_models.py (the same ONNX for both).
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
out=$1 a=$2 b=$3
mkdir -p "$out"
source "$root/scripts/gpu/env.sh"  # (the library path; its own bundle stays unused here)
ab=/tmp/trt-ab
for side in a b; do
  rm -rf "$ab/$side" && mkdir -p "$ab/$side"
  tar -C "$ab/$side" -xJf "$([ $side = a ] && echo "$a" || echo "$b")"
done
models=$ab/models
[ -f "$models/resnet50.onnx" ] ||
  python3 "$root/scripts/models/make_models.py" "$models" --bert-layers 12 --gpt2-layers 12 > "$out/make_models.log" 2>&1
IFS=';' read -ra cases <<< "${CASES:?CASES is required}"
for c in "${cases[@]}"; do
  set -- $c
  tag=$1 model=$2 shapes=$3
  shift 3
  for side in a b; do
    bin=$ab/$side/bin
    LD_LIBRARY_PATH=$LD_LIBRARY_PATH:$ab/$side/lib "$bin/trtbuild" "$models/$model.onnx" --device cuda --fp16 \
      --shapes "$shapes" "$@" --export-build-log "$out/$tag.$side.build.json" -o "$ab/$tag.$side.plan" \
      > "$out/$tag.$side.build.log" 2>&1 || { echo "$tag $side: build failed: $(tail -1 "$out/$tag.$side.build.log")"; continue; }
    LD_LIBRARY_PATH=$LD_LIBRARY_PATH:$ab/$side/lib "$bin/trtbench" "$ab/$tag.$side.plan" --iterations 200 \
      --warmup 300 > "$out/$tag.$side.bench.log" 2>&1
    LD_LIBRARY_PATH=$LD_LIBRARY_PATH:$ab/$side/lib "$bin/trtbench" "$ab/$tag.$side.plan" --iterations 20 \
      --dump-profile > "$out/$tag.$side.profile.log" 2>&1
  done
  python3 - "$out" "$tag" <<'EOF'
import re, sys
out, tag = sys.argv[1], sys.argv[2]
def median(side):
    try:
        for line in open(f"{out}/{tag}.{side}.bench.log"):
            m = re.search(r"^GPU Compute Time: .*median = ([0-9.]+) ms", line)
            if m: return float(m.group(1))
    except OSError:
        pass
    return None
def layers(side):
    r = {}
    try:
        for line in open(f"{out}/{tag}.{side}.profile.log"):
            m = re.match(r"\s+[\d.]+\s+([\d.]+)\s+[\d.]+\s+[\d.]+\s+(.*) \[(\w+), (\S+)\]$", line.rstrip())
            if m:  # keyed by the first source name: fused layers of the two builds still meet
                r[m.group(2).split(" + ")[0]] = (float(m.group(1)) * 1000, m.group(4), m.group(3))
    except OSError:
        pass
    return r
ma, mb = median("a"), median("b")
print(f"{tag}: median A {ma} ms, B {mb} ms")
la, lb = layers("a"), layers("b")
rows = []
for name in set(la) | set(lb):
    ta, tb = la.get(name, (0.0, "-", "-")), lb.get(name, (0.0, "-", "-"))
    rows.append((tb[0] - ta[0], name, ta, tb))
print(f"   layers: A {len(la)}, B {len(lb)}; sum A {sum(v[0] for v in la.values()):.0f} us, B {sum(v[0] for v in lb.values()):.0f} us")
def types(l):
    t = {}
    for us, _, kind in l.values(): t[kind] = t.get(kind, 0.0) + us
    return t
ta_, tb_ = types(la), types(lb)
print("   by type (us, A -> B): " + ", ".join(f"{k} {ta_.get(k, 0):.0f} -> {tb_.get(k, 0):.0f}"
                                           for k in sorted(set(ta_) | set(tb_), key=lambda k: -max(ta_.get(k, 0), tb_.get(k, 0)))))
for d, name, ta, tb in sorted(rows, key=lambda r: -abs(r[0]))[:12]:
    print(f"   {d:+7.1f} us  A {ta[0]:6.1f} {ta[1]:36.36s} B {tb[0]:6.1f} {tb[1]:36.36s} {name[:60]}")
EOF
done
