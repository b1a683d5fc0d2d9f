#!/usr/bin/env bash
# Per-kernel GPU times of one inference of an engine, in launch order, from Nsight Compute (each
# kernel timed alone, caches left warm, clocks not locked): where a plan's time goes, kernel by
# kernel, with each grid's size (the CUDA-graph median is a little below the sum).
# Usage (GPU machine, repository root, .gpu carried): kernel_times.sh PLAN [trtbench args...]
# Prints the sum and the kernels; the raw CSV goes to $OUT/ncu_<plan>.csv (or ./gpu-logs).
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
source "$root/scripts/gpu/env.sh"
plan=$1
shift
out=${OUT:-$root/gpu-logs}
mkdir -p "$out"
csv=$out/ncu_$(basename "$plan" .plan).csv
# trtbench with --iterations 1 --warmup 0 runs the engine twice (one untimed run first): the
# script reports the last run's kernels.
ncu --clock-control none --cache-control none --metrics gpu__time_duration.sum,launch__grid_size --csv \
  "$bin/trtbench" "$plan" --iterations 1 --warmup 0 --no-cuda-graph "$@" > "$csv" 2> "$csv.err" ||
  { echo "ncu failed: $(tail -1 "$csv.err")"; exit 1; }
python3 - "$csv" <<'PY'
import collections, csv, sys
rows = [r for r in csv.DictReader(l for l in open(sys.argv[1]) if l.startswith('"'))]
per = collections.OrderedDict()
for r in rows:
    per.setdefault((r['ID'], r['Kernel Name']), {})[r['Metric Name']] = (float(r['Metric Value'].replace(',', '')), r['Metric Unit'])
def us(v):
    val, unit = v
    return {'nsecond': val / 1e3, 'ns': val / 1e3, 'usecond': val, 'us': val, 'msecond': val * 1e3, 'ms': val * 1e3}.get(unit, val / 1e3)
ks = list(per.items())
last = ks[len(ks) // 2:]  # the second of the two runs
print(f"{len(last)} kernels, {sum(us(m['gpu__time_duration.sum']) for _, m in last):.1f} us summed")
for (_, name), m in last:
    print(f"  {us(m['gpu__time_duration.sum']):7.1f} us  grid {int(m.get('launch__grid_size', (0, ''))[0]):6d}  {name[:90]}")
PY
