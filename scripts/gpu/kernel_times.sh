#!/usr/bin/env bash
# Real kernel durations of engine plans, from Nsight Compute's counters (gpu__time_duration), where
# the layer profile's per-layer events inflate short kernels. Usage (GPU machine, repository root,
# .gpu carried): kernel_times.sh OUTDIR PLAN...  Prints per plan the kernels grouped by name
# (count, total us, share) and writes the raw CSV per plan to OUTDIR. Clocks are left alone
# (--clock-control none, ../.library/device/METHOD.md).
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
out=$1
shift
mkdir -p "$out"
source "$root/scripts/gpu/env.sh"
for plan in "$@"; do
  tag=$(basename "$plan" .plan)
  # one launch-by-launch run after one warm-up: each kernel once per inference
  ncu --clock-control none --metrics gpu__time_duration.sum --csv --print-units base \
    "$bin/trtbench" "$plan" --iterations 1 --warmup 0 --no-cuda-graph > "$out/$tag.ncu.csv" 2> "$out/$tag.ncu.err"
  python3 - "$out/$tag.ncu.csv" "$tag" <<'EOF'
import collections, csv, io, sys
text = open(sys.argv[1]).read()
start = text.find('"ID"')
rows = list(csv.DictReader(io.StringIO(text[start:]))) if start >= 0 else []
per = collections.OrderedDict()
for r in rows:
    if r.get("Metric Name") != "gpu__time_duration.sum":
        continue
    per.setdefault(r["ID"], (r["Kernel Name"], float(r["Metric Value"].replace(",", "")) / 1000.0))
# two runs were profiled (the warm-up and the timed one): keep the second half
items = list(per.values())
items = items[len(items) // 2:]
agg = collections.defaultdict(lambda: [0, 0.0])
for name, us in items:
    key = name.split("(")[0][:70]
    agg[key][0] += 1
    agg[key][1] += us
total = sum(us for _, us in items)
print(f"{sys.argv[2]}: {len(items)} kernels, {total:.1f} us of kernel time")
for k, (n, us) in sorted(agg.items(), key=lambda x: -x[1][1])[:10]:
    print(f"   {k:70s} n={n:3d} {us:8.1f} us {100 * us / total:5.1f}%  ({us / n:.2f} us each)")
EOF
done
