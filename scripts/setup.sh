#!/usr/bin/env bash
# Installs every dependency of trt (Debian packages and PyPI). Idempotent: a second run changes nothing.
# Usage: scripts/setup.sh   (as root, or with sudo available)
set -euo pipefail

debPackages=(
  build-essential cmake ninja-build pkg-config
  libprotobuf-dev protobuf-compiler
  libcli11-dev nlohmann-json3-dev
  libgtest-dev googletest
  libopenblas-dev libopenblas-openmp-dev
  python3 python3-pip
  graphviz
)
# PyPI packages as "pip-spec:module": the scripts' and tests' numpy, onnx and onnxruntime, and the
# CUTLASS headers (nvidia-cutlass ships them under cutlass_library/source/include; CMake finds them
# there and builds the CUTLASS GEMM tactics when CUDA is on).
pyPackages=(numpy:numpy onnx:onnx onnxruntime:onnxruntime nvidia-cutlass==4.2.0.0:cutlass_library)

sudoCmd=""
if [ "$(id -u)" != "0" ]; then sudoCmd="sudo"; fi

missing=()
for p in "${debPackages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  $sudoCmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudoCmd apt-get install -y -qq "${missing[@]}" >/dev/null
else
  echo "setup: Debian packages present"
fi

py=${PYTHON:-python3}
needPy=()
for p in "${pyPackages[@]}"; do
  if ! "$py" -c "import importlib.util, sys; sys.exit(importlib.util.find_spec('${p##*:}') is None)" 2>/dev/null; then
    needPy+=("${p%%:*}")
  fi
done
if [ "${#needPy[@]}" -gt 0 ]; then
  echo "setup: installing Python packages: ${needPy[*]}"
  "$py" -m pip install -q "${needPy[@]}" 2>/dev/null || "$py" -m pip install -q --break-system-packages "${needPy[@]}"
else
  echo "setup: Python packages present"
fi
echo "setup: done"
