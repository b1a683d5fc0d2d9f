#!/usr/bin/env bash
# Real kernel durations of engine plans, from Nsight Compute's counters (gpu__time_duration), where
# the layer profile's per-layer events inflate short kernels. Usage (GPU machine, repository root,
# .gpu carried): kernel_times.sh OUTDIR PLAN...  Prints per plan the kernels grouped by name
# (count, total us, share) and, with LIST=1, every kernel of the inference in launch order with
# its grid size; writes the raw CSV per plan to OUTDIR. Clocks are left alone (--clock-control
# none, ../.library/device/METHOD.md) and so are the caches (--cache-control none: each kernel
# finds the L2 as the one before it left it, as in the engine's own runs; the default flush made
# YOLOv5s's kernels sum to 724 us against 588 warm and a 532 us CUDA-graph median on the H200).
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
out=$1
shift
mkdir -p "$out"
source "$root/scripts/gpu/env.sh"
for plan in "$@"; do
  tag=$(basename "$plan" .plan)
  # one launch-by-launch run after one warm-up: each kernel once per inference
  ncu --clock-control none --cache-control none --metrics gpu__time_duration.sum,launch__grid_size --csv \
    --print-units base "$bin/trtbench" "$plan" --iterations 1 --warmup 0 --no-cuda-graph \
    > "$out/$tag.ncu.csv" 2> "$out/$tag.ncu.err"
  LIST=${LIST:-0} python3 - "$out/$tag.ncu.csv" "$tag" <<'PY'
import collections, csv, io, os, sys
text = open(sys.argv[1]).read()
start = text.find('"ID"')
rows = list(csv.DictReader(io.StringIO(text[start:]))) if start >= 0 else []
per = collections.OrderedDict()
for r in rows:
    k = per.setdefault(r["ID"], {"name": r["Kernel Name"], "us": 0.0, "grid": 0})
    v = float(r["Metric Value"].replace(",", ""))
    if r.get("Metric Name") == "gpu__time_duration.sum":
        k["us"] = v / 1000.0  # base units: ns
    elif r.get("Metric Name") == "launch__grid_size":
        k["grid"] = int(v)
# two runs were profiled (the warm-up and the timed one): keep the second half
items = list(per.values())
items = items[len(items) // 2:]
agg = collections.defaultdict(lambda: [0, 0.0])
for k in items:
    key = k["name"].split("(")[0][:70]
    agg[key][0] += 1
    agg[key][1] += k["us"]
total = sum(k["us"] for k in items)
print(f"{sys.argv[2]}: {len(items)} kernels, {total:.1f} us of kernel time")
for key, (n, us) in sorted(agg.items(), key=lambda x: -x[1][1])[:10]:
    print(f"   {key:70s} n={n:3d} {us:8.1f} us {100 * us / total:5.1f}%  ({us / n:.2f} us each)")
if os.environ.get("LIST") == "1":
    for k in items:
        print(f"   {k['us']:7.1f} us  grid {k['grid']:6d}  {k['name'].split('(')[0][:80]}")
PY
done
