#!/usr/bin/env bash
# Builds trt and runs the whole test suite through ctest: unit tests, the differential op
# harness, the ONNX backend node tests and the model tests against onnxruntime. GPU tests skip
# with their reason on machines without a GPU.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build}
bash "$root/scripts/build.sh" "$build"
cd "$build"
ctest --output-on-failure -j "$(nproc)" "$@"
# The conformance report, whatever ctest printed.
if [ -f onnx_node_report.json ]; then
  python3 -c "import json; r=json.load(open('onnx_node_report.json')); print('ONNX node tests: %d passed, %d failed, %d unsupported' % (r['passed'], r['failed'], r['unsupported']))"
fi
# Why GPU tests were skipped on this machine, if they were.
grep -h -o -E "(CUDA backend unavailable|cuda: skipped)[^\"]*" Testing/Temporary/LastTest.log 2>/dev/null | sort -u | sed 's/^/skipped: /' | head -3
