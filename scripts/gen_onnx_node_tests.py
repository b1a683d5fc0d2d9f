#!/usr/bin/env python3
"""Writes the ONNX backend node tests (model.onnx + test_data_set_*/input_*.pb, output_*.pb) from
the test-case definitions inside the installed `onnx` package, in the layout of onnx's own
backend/test/data/node. The wheel ships the definitions but not always the generated data.

Usage: gen_onnx_node_tests.py OUTDIR     (skips work when OUTDIR/.stamp matches the onnx version)
"""
import os
import shutil
import sys
import warnings

import numpy as np
import onnx
from onnx import numpy_helper


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    out = sys.argv[1]
    stamp = os.path.join(out, ".stamp")
    if os.path.exists(stamp) and open(stamp).read().strip() == onnx.__version__:
        return 0
    warnings.simplefilter("ignore")
    np.seterr(all="ignore")
    from onnx.backend.test.case import node

    cases = node.collect_testcases(None)
    if os.path.exists(out):
        shutil.rmtree(out)
    os.makedirs(out)
    written = 0
    for case in cases:
        d = os.path.join(out, case.name)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "model.onnx"), "wb") as f:
            f.write(case.model.SerializeToString())
        for i, (inputs, outputs) in enumerate(case.data_sets):
            ds = os.path.join(d, f"test_data_set_{i}")
            os.makedirs(ds, exist_ok=True)
            for kind, values, infos in (("input", inputs, case.model.graph.input),
                                        ("output", outputs, case.model.graph.output)):
                for j, v in enumerate(values):
                    info = infos[j]
                    if not info.type.HasField("tensor_type"):
                        continue  # sequences, maps, optionals: not tensors, trt reports them unsupported
                    t = v if isinstance(v, onnx.TensorProto) else numpy_helper.from_array(np.asarray(v), info.name)
                    with open(os.path.join(ds, f"{kind}_{j}.pb"), "wb") as f:
                        f.write(t.SerializeToString())
        written += 1
    with open(stamp, "w") as f:
        f.write(onnx.__version__)
    print(f"wrote {written} ONNX node tests to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
