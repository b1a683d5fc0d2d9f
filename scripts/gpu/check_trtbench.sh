#!/usr/bin/env bash
# trtbench on the GPU the way trtexec users call it (issue 6): a trtexec-style command line with the
# aliases, the exported JSON checked against docs/profile-formats.md, and a run with data transfers,
# layer-by-layer launches and NVTX ranges. Usage: check_trtbench.sh BIN_DIR PLAN SHAPES OUTDIR
set -uo pipefail
bin=$1 plan=$2 shapes=$3 out=$4
mkdir -p "$out"
echo "== trtexec-style"
"$bin/trtbench" --loadEngine="$plan" --shapes="$shapes" --iterations=200 --warmUp=500 --duration=2 --avgRuns=10 \
  --percentile=90,95,99 --useCudaGraph --noDataTransfers --exportTimes="$out/times.json" \
  --exportProfile="$out/profile.json" --dumpProfile
echo "rc=$?"
python3 - "$out" <<'PY'
import json, sys
out = sys.argv[1]
t = json.load(open(f"{out}/times.json"))
keys = {"startEnqMs", "endEnqMs", "startH2dMs", "endH2dMs", "startComputeMs", "endComputeMs", "startD2hMs",
        "endD2hMs", "h2dMs", "computeMs", "d2hMs", "latencyMs"}
bad = [i for i, x in enumerate(t) if set(x) != keys or not all(isinstance(v, (int, float)) for v in x.values())]
p = json.load(open(f"{out}/profile.json"))
lkeys = {"name", "timeMs", "averageMs", "medianMs", "percentage"}
badp = [x for x in p[1:] if set(x) != lkeys]
ok = not bad and not badp and set(p[0]) == {"count"}
pct = sum(x["percentage"] for x in p[1:])
print(f"json: times {len(t)} entries, profile {len(p) - 1} layers, percentages add to {pct:.1f}: "
      f"{'valid' if ok and abs(pct - 100) < 0.5 else 'INVALID'}")
PY
echo "== with transfers, layer by layer, NVTX"
"$bin/trtbench" "$plan" --shapes "$shapes" --include-data-transfers --no-cuda-graph --nvtx --iterations 50
echo "rc=$?"
