#!/usr/bin/env bash
# One device call's batch: the GPU test suite (run_tests.sh), then the tactic / timing-cache /
# memory table (tactics.sh) on the models it made, then the stem-network variants
# (stem_variants.sh: the batch-tiling test's network, one process per variant). Logs under $OUT; the two short tables print last.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
final=${OUT:-$root/gpu-logs}
mkdir -p "$final"
timeout ${TESTS_S:-330} bash "$root/scripts/gpu/run_tests.sh" > "$final/run_tests.out" 2>&1
echo "run_tests rc=$?"
[ -f "$final/logs.tgz" ] || tar -C /tmp/trt-gpu-logs -czf "$final/logs.tgz" .
work=/tmp/trt-gpu
source "$root/scripts/gpu/env.sh"
mkdir -p /tmp/tactics
timeout ${TACTICS_S:-220} bash "$root/scripts/gpu/tactics.sh" "$bin" "$work" /tmp/tactics > "$final/tactics.txt" 2>&1
echo "tactics rc=$?"
tar -C /tmp/tactics -czf "$final/tactics.tgz" .
timeout ${STEM_S:-120} bash "$root/scripts/gpu/stem_variants.sh" > "$final/stem_variants.txt" 2>&1
echo "stem variants rc=$?"
sed -n '/^GPU:/,$p' "$final/run_tests.out"
cat "$final/tactics.txt"
cat "$final/stem_variants.txt"
