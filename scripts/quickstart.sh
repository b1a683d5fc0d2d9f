#!/usr/bin/env bash
# Quickstart: make a sample model (ResNet-50 in PyTorch's export layout, random weights), build an
# engine, run it on a random image, and inspect it. Everything lands in ./quickstart/.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build}
out=$root/quickstart
bash "$root/scripts/build.sh" "$build" >/dev/null
mkdir -p "$out"
echo "== 1. make a sample model"
python3 "$root/scripts/models/make_models.py" "$out" --only resnet50
python3 - "$out/image.npy" <<'PY'
import sys, numpy as np
np.save(sys.argv[1], np.random.default_rng(0).standard_normal((1, 3, 224, 224)).astype(np.float32))
PY
echo "== 2. build an engine"
"$build/trtbuild" "$out/resnet50.onnx" -o "$out/resnet50.plan"
echo "== 3. run it"
"$build/trtrun" "$out/resnet50.plan" --input input:"$out/image.npy" --output-dir "$out"
python3 -c "import numpy as np; y=np.load('$out/output.npy'); print('top-1 class', int(y.argmax()), 'of', y.shape[1])"
echo "== 4. inspect it"
"$build/trtinspect" "$out/resnet50.plan" > "$out/inspect.txt"
head -n 12 "$out/inspect.txt"
tail -n 1 "$out/inspect.txt"   # the activation memory plan
echo "   ... ($("$build/trtinspect" "$out/resnet50.plan" --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["Layers"]))') layers; full JSON: trtinspect $out/resnet50.plan --json)"
