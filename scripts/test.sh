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
