#!/usr/bin/env bash
# One device call's batch: the GPU test suite (run_tests.sh), then the tactic / timing-cache /
# memory table (tactics.sh) on the models it made. Logs under $OUT; the two short tables print last.
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
sed -n '/^GPU:/,$p' "$final/run_tests.out"
cat "$final/tactics.txt"
