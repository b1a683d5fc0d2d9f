#!/usr/bin/env bash
# Builds trt here (with the CUDA backend, sm_90) and packs what a GPU run needs into .gpu/
# (git-ignored): stripped tools and test binaries as one .tar.xz. Carry `.gpu` to the GPU machine.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD_DIR:-$root/build}
bash "$root/scripts/build.sh" "$build" >/dev/null
stage=$(mktemp -d)
mkdir -p "$stage/bin"
cp "$build"/{trtbuild,trtrun,trtinspect,trtbench,trtcalib} "$build"/tests/{trt_unit_tests,trt_op_harness,trt_onnx_node_tests} "$stage/bin/"
strip "$stage"/bin/*
# Shared libraries the GPU machine's image may lack (protobuf is Debian's build here); the run
# scripts put this folder last on LD_LIBRARY_PATH, so the machine's own copies win where they exist.
mkdir -p "$stage/lib"
for lib in libprotobuf.so.32; do
  cp -L "$(ldd "$build/trtbuild" | awk -v l="$lib" '$1 == l {print $3}')" "$stage/lib/"
done
mkdir -p "$root/.gpu"
tar -C "$stage" -cf - bin lib | xz -9e -T0 > "$root/.gpu/bundle.tar.xz"
rm -rf "$stage"
# The commit the binaries come from, for the reports (the GPU machine's copy has no .git).
(cd "$root" && echo "$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- libtrt apps kernels plugins || echo -dirty)") > "$root/.gpu/commit"
echo "bundle: $(du -h "$root/.gpu/bundle.tar.xz" | cut -f1) in .gpu/bundle.tar.xz"
