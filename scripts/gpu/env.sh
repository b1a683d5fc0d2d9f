# Sourced by the GPU scripts: unpacks .gpu/bundle.tar.xz (scripts/gpu/bundle.sh) into $work once and
# sets the library path: the system's CUDA, then PyTorch's nvidia wheels (cuDNN, cuBLASLt), then
# the bundle's own lib/ last, so the machine's copies win where they exist.
root=${root:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
work=${work:-/tmp/trt-gpu}
# A warm machine keeps $work between calls: unpack again when the bundle is a different one.
if [ ! -x "$work/bin/trtbuild" ] || ! cmp -s "$root/.gpu/bundle.tar.xz" "$work/bundle.tar.xz"; then
  rm -rf "$work/bin" "$work/lib" && find "$work" -name "*.plan" -delete 2>/dev/null; mkdir -p "$work" && tar -C "$work" -xJf "$root/.gpu/bundle.tar.xz" &&
    cp "$root/.gpu/bundle.tar.xz" "$work/bundle.tar.xz"
fi
bin=$work/bin
nvlibs=$(python3 -c "import glob,os,nvidia; print(':'.join(sorted(glob.glob(os.path.join(list(nvidia.__path__)[0], '*', 'lib')))))" 2>/dev/null)
export LD_LIBRARY_PATH=${LD_LIBRARY_PATH:+$LD_LIBRARY_PATH:}/usr/local/cuda/lib64${nvlibs:+:$nvlibs}:$work/lib
export PATH=/usr/local/cuda/bin:$PATH
export PYTHONUNBUFFERED=1
