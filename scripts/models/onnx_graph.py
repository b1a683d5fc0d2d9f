"""A small helper for writing ONNX graphs the way PyTorch's exporter lays them out: node names
such as "/layer1/layer1.0/conv1/Conv", initializers named after module parameters, and shape
subgraphs (Shape -> Gather -> Unsqueeze -> Concat -> Reshape) where PyTorch emits them."""
from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


class Graph:
    def __init__(self, seed: int = 0):
        self.nodes: list[onnx.NodeProto] = []
        self.inits: list[onnx.TensorProto] = []
        self.inputs: list[onnx.ValueInfoProto] = []
        self.outputs: list[onnx.ValueInfoProto] = []
        self.rng = np.random.default_rng(seed)
        self._count: dict[str, int] = {}
        self._const = 0

    # ---- naming ----
    def _unique(self, base: str) -> str:
        n = self._count.get(base, 0)
        self._count[base] = n + 1
        return base if n == 0 else f"{base}_{n}"

    # ---- values ----
    def input(self, name: str, dtype: int, shape: list) -> str:
        self.inputs.append(helper.make_tensor_value_info(name, dtype, shape))
        return name

    def output(self, name: str, dtype: int, shape: list) -> None:
        self.outputs.append(helper.make_tensor_value_info(name, dtype, shape))

    def init(self, name: str, array: np.ndarray) -> str:
        self.inits.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def const(self, array, dtype=None) -> str:
        """A Constant node, as PyTorch emits for literals."""
        arr = np.array(array, dtype=dtype)
        self._const += 1
        name = f"/Constant_{self._const}_output_0"
        self.nodes.append(helper.make_node("Constant", [], [name], name=f"/Constant_{self._const}",
                                           value=numpy_helper.from_array(arr)))
        return name

    def op(self, op_type: str, inputs: list[str], scope: str = "", n_out: int = 1, **attrs) -> str | list[str]:
        base = f"{scope}/{op_type}"
        name = self._unique(base)
        outs = [f"{name}_output_{i}" for i in range(n_out)]
        self.nodes.append(helper.make_node(op_type, inputs, outs, name=name, **attrs))
        return outs[0] if n_out == 1 else outs

    # ---- random parameters ----
    def normal(self, shape, std: float) -> np.ndarray:
        return (self.rng.standard_normal(shape) * std).astype(np.float32)

    def uniform(self, shape, lo: float, hi: float) -> np.ndarray:
        return self.rng.uniform(lo, hi, shape).astype(np.float32)

    def model(self, name: str, opset: int) -> onnx.ModelProto:
        g = helper.make_graph(self.nodes, name, self.inputs, self.outputs, self.inits)
        m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)], producer_name="trt-scripts")
        m.ir_version = 8
        return m

    # ---- PyTorch export idioms ----
    def dim_of(self, x: str, axis: int, scope: str) -> str:
        """Shape(x) -> Gather(axis) -> Unsqueeze: a 1-element int64 tensor holding x.shape[axis]."""
        s = self.op("Shape", [x], scope)
        g = self.op("Gather", [s, self.const(axis, np.int64)], scope, axis=0)
        return self.op("Unsqueeze", [g, self.const([0], np.int64)], scope)

    def reshape_dyn(self, x: str, parts: list, scope: str) -> str:
        """Reshape x to a shape built by Concat from dynamic dims and literal ints."""
        pieces = [p if isinstance(p, str) else self.const([p], np.int64) for p in parts]
        shape = self.op("Concat", pieces, scope, axis=0)
        return self.op("Reshape", [x, shape], scope)


def save(model: onnx.ModelProto, path: str) -> None:
    onnx.checker.check_model(model)
    onnx.save(model, path)
