#!/usr/bin/env python3
"""The differential op harness's case table (DESIGN rule 4), and its generator.

Each case is one op with attributes, input shapes and dtypes. `generate` writes, per case, a
single-node ONNX model, fresh random inputs (never zeros) and the onnxruntime outputs as the
reference; the C++ harness (op_harness.cpp) then runs every case on every backend x precision
with poisoned outputs and compares by normalised error.

Input spec: (shape, kind[, extra]) where kind is
  "f"     float32 standard normal          "pos"  float32 uniform(0.2, 2)
  "i64"   int64 in [lo, hi) (extra=(lo, hi)) "bool" random bool
  "c:..." the same, but stored as an initializer (a constant: weights, axes, shapes)
Usage: op_cases.py OUTDIR [--seed S]
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

F4 = TensorProto.FLOAT


def V(*vals, dtype=np.int64):
    """A constant int64 (or other) value input."""
    return ("value", np.array(vals, dtype=dtype))


CASES = [
    # elementwise unary
    *[(op.lower(), op, {}, [([2, 3, 17], "f")]) for op in
      ["Relu", "Sigmoid", "Tanh", "HardSwish", "Softplus", "Erf", "Exp", "Neg", "Abs", "Identity"]],
    ("sqrt", "Sqrt", {}, [([4, 33], "pos")]),
    ("log", "Log", {}, [([4, 33], "pos")]),
    ("reciprocal", "Reciprocal", {}, [([4, 33], "pos")]),
    ("leakyrelu", "LeakyRelu", {"alpha": 0.1}, [([3, 40], "f")]),
    ("elu", "Elu", {"alpha": 0.7}, [([3, 40], "f")]),
    ("hardsigmoid", "HardSigmoid", {"alpha": 0.3, "beta": 0.4}, [([3, 40], "f")]),
    ("gelu_erf", "Gelu", {}, [([3, 40], "f")], 20),
    ("gelu_tanh", "Gelu", {"approximate": "tanh"}, [([3, 40], "f")], 20),
    ("clip", "Clip", {}, [([5, 7], "f"), ("value", np.array(-0.5, np.float32)), ("value", np.array(0.6, np.float32))]),
    ("clip_min_only", "Clip", {}, [([5, 7], "f"), ("value", np.array(0.0, np.float32))]),
    ("dropout", "Dropout", {}, [([4, 9], "f")]),
    ("isnan", "IsNaN", {}, [([4, 9], "f")]),
    ("not", "Not", {}, [([4, 9], "bool")]),
    ("cast_f2i", "Cast", {"to": TensorProto.INT64}, [([4, 9], "f")]),
    ("cast_i2f", "Cast", {"to": TensorProto.FLOAT}, [([4, 9], "i64", (-50, 50))]),
    ("cast_f2h", "Cast", {"to": TensorProto.FLOAT16}, [([4, 9], "f")]),
    # broadcasting binary
    *[(f"{op.lower()}_bcast", op, {}, [([2, 3, 4, 5], "f"), ([3, 1, 5], "f")]) for op in ["Add", "Sub", "Mul", "Max", "Min"]],
    ("div_bcast", "Div", {}, [([2, 3, 4, 5], "f"), ([5], "pos")]),
    ("add_scalar", "Add", {}, [([64, 70], "f"), ([], "f")]),
    ("add_i64", "Add", {}, [([3, 4], "i64", (-9, 9)), ([4], "i64", (-9, 9))]),
    ("mul_i64", "Mul", {}, [([3, 4], "i64", (-9, 9)), ([3, 1], "i64", (-9, 9))]),
    ("div_i64", "Div", {}, [([3, 4], "i64", (-90, 90)), ([4], "i64", (1, 9))]),
    ("pow", "Pow", {}, [([3, 8], "pos"), ([8], "f")]),
    ("pow_int_exp", "Pow", {}, [([3, 8], "f"), ("value", np.array(3, np.int64))]),
    ("max_variadic", "Max", {}, [([3, 4], "f"), ([4], "f"), ([3, 1], "f")]),
    *[(f"{op.lower()}", op, {}, [([3, 4, 5], "f"), ([4, 1], "f")]) for op in ["Equal", "Less", "Greater", "GreaterOrEqual", "LessOrEqual"]],
    ("equal_i64", "Equal", {}, [([6, 5], "i64", (0, 3)), ([5], "i64", (0, 3))]),
    ("and", "And", {}, [([3, 4], "bool"), ([4], "bool")]),
    ("or", "Or", {}, [([3, 4], "bool"), ([3, 1], "bool")]),
    ("where", "Where", {}, [([3, 1, 5], "bool"), ([4, 5], "f"), ([3, 4, 1], "f")]),
    # conv and pooling
    ("conv3x3", "Conv", {"pads": [1, 1, 1, 1]}, [([2, 8, 12, 12], "f"), ([16, 8, 3, 3], "c:f"), ([16], "c:f")]),
    ("conv_stride_dil", "Conv", {"strides": [2, 1], "dilations": [1, 2], "pads": [1, 2, 0, 1]},
     [([1, 4, 11, 13], "f"), ([6, 4, 3, 3], "c:f")]),
    ("conv_group", "Conv", {"group": 4, "pads": [1, 1, 1, 1]}, [([1, 8, 9, 9], "f"), ([8, 2, 3, 3], "c:f"), ([8], "c:f")]),
    ("conv_depthwise", "Conv", {"group": 8, "pads": [1, 1, 1, 1], "strides": [2, 2]}, [([2, 8, 10, 10], "f"), ([8, 1, 3, 3], "c:f")]),
    ("conv1x1", "Conv", {}, [([2, 16, 7, 7], "f"), ([32, 16, 1, 1], "c:f"), ([32], "c:f")]),
    ("conv_same_upper", "Conv", {"auto_pad": "SAME_UPPER", "strides": [2, 2]}, [([1, 3, 10, 9], "f"), ([4, 3, 3, 3], "c:f")]),
    ("conv1d", "Conv", {"pads": [2, 2]}, [([2, 3, 20], "f"), ([5, 3, 5], "c:f")]),
    ("conv3d", "Conv", {"pads": [1, 1, 1, 1, 1, 1]}, [([1, 2, 5, 6, 7], "f"), ([3, 2, 3, 3, 3], "c:f")]),
    ("convtranspose", "ConvTranspose", {"strides": [2, 2], "pads": [1, 1, 1, 1], "output_padding": [1, 1]},
     [([1, 4, 6, 6], "f"), ([4, 3, 3, 3], "c:f"), ([3], "c:f")]),
    ("convtranspose_group", "ConvTranspose", {"group": 2, "strides": [2, 2]}, [([2, 4, 5, 5], "f"), ([4, 3, 2, 2], "c:f")]),
    ("maxpool", "MaxPool", {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1]}, [([2, 3, 11, 11], "f")]),
    ("maxpool_ceil", "MaxPool", {"kernel_shape": [3, 3], "strides": [2, 2], "ceil_mode": 1}, [([1, 2, 10, 10], "f")]),
    ("avgpool", "AveragePool", {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1]}, [([2, 3, 11, 11], "f")]),
    ("avgpool_incl_pad", "AveragePool", {"kernel_shape": [3, 3], "pads": [1, 1, 1, 1], "count_include_pad": 1}, [([1, 2, 7, 7], "f")]),
    ("globalavgpool", "GlobalAveragePool", {}, [([2, 5, 7, 9], "f")]),
    ("globalmaxpool", "GlobalMaxPool", {}, [([2, 5, 7, 9], "f")]),
    # normalisation
    ("batchnorm", "BatchNormalization", {"epsilon": 1e-3},
     [([2, 6, 5, 5], "f"), ([6], "c:pos"), ([6], "c:f"), ([6], "c:f"), ([6], "c:pos")]),
    ("layernorm", "LayerNormalization", {"axis": -1, "epsilon": 1e-5}, [([2, 7, 32], "f"), ([32], "c:f"), ([32], "c:f")]),
    ("layernorm_axis1", "LayerNormalization", {"axis": 1}, [([2, 3, 8], "f"), ([3, 8], "c:f"), ([3, 8], "c:f")]),
    # rows of 768 and 1024 (multiples of 32 vectors of 16 bytes): the CUDA warp-per-row kernel; 9 rows
    # leave the last block of four rows partly empty
    ("layernorm_768", "LayerNormalization", {"axis": -1, "epsilon": 1e-5}, [([3, 3, 768], "f"), ([768], "c:f"), ([768], "c:f")]),
    ("layernorm_1024_nobias", "LayerNormalization", {"axis": -1}, [([9, 1024], "f"), ([1024], "c:f")]),
    ("softmax", "Softmax", {"axis": -1}, [([3, 4, 50], "f")]),
    ("softmax_axis1", "Softmax", {"axis": 1}, [([3, 4, 5], "f")]),
    ("softmax_opset11", "Softmax", {"axis": 1}, [([3, 4, 5], "f")], 11),
    ("logsoftmax", "LogSoftmax", {"axis": -1}, [([3, 40], "f")]),
    # matrix ops
    ("gemm", "Gemm", {"transB": 1, "alpha": 0.7, "beta": 1.3}, [([5, 16], "f"), ([9, 16], "c:f"), ([9], "c:f")]),
    ("gemm_transA", "Gemm", {"transA": 1}, [([16, 5], "f"), ([16, 9], "f"), ([5, 9], "f")]),
    ("matmul_2d", "MatMul", {}, [([17, 33], "f"), ([33, 9], "c:f")]),
    ("matmul_batched", "MatMul", {}, [([2, 3, 8, 16], "f"), ([2, 3, 16, 5], "f")]),
    ("matmul_bcast", "MatMul", {}, [([2, 1, 8, 16], "f"), ([3, 16, 5], "f")]),
    ("matmul_shared_b", "MatMul", {}, [([2, 7, 16], "f"), ([16, 5], "c:f")]),
    ("matmul_vec", "MatMul", {}, [([16], "f"), ([3, 16, 5], "f")]),
    ("einsum_bmm", "Einsum", {"equation": "bij,bjk->bik"}, [([2, 3, 4], "f"), ([2, 4, 5], "f")]),
    ("einsum_attn", "Einsum", {"equation": "bhid,bhjd->bhij"}, [([1, 2, 3, 4], "f"), ([1, 2, 5, 4], "f")]),
    ("einsum_transpose", "Einsum", {"equation": "ij->ji"}, [([3, 4], "f")]),
    # shape family
    ("reshape", "Reshape", {}, [([2, 3, 4], "f"), V(4, 0, -1)]),
    ("flatten", "Flatten", {"axis": 2}, [([2, 3, 4, 5], "f")]),
    ("squeeze", "Squeeze", {}, [([2, 1, 4, 1], "f"), V(1, -1)]),
    ("unsqueeze", "Unsqueeze", {}, [([2, 4], "f"), V(0, 3)]),
    ("shape", "Shape", {}, [([2, 3, 4], "f")]),
    ("shape_slice", "Shape", {"start": 1, "end": -1}, [([2, 3, 4, 5], "f")], 15),
    ("size", "Size", {}, [([2, 3, 4], "f")]),
    ("constantofshape", "ConstantOfShape", {"value": numpy_helper.from_array(np.array([1.5], np.float32))}, [V(2, 3)]),
    ("expand", "Expand", {}, [([3, 1], "f"), V(2, 3, 4)]),
    ("range", "Range", {}, [("value", np.array(1.0, np.float32)), ("value", np.array(7.5, np.float32)), ("value", np.array(0.5, np.float32))]),
    # movement
    ("transpose", "Transpose", {"perm": [0, 2, 3, 1]}, [([2, 3, 4, 5], "f")]),
    # to channels last with few channels (the pixel-per-thread kernel), rank 3 and 5, and 17
    # channels (past its limit: the general strided copy)
    ("transpose_cl_rank3", "Transpose", {"perm": [0, 2, 1]}, [([2, 5, 7], "f")]),
    ("transpose_cl_rank5", "Transpose", {"perm": [0, 2, 3, 4, 1]}, [([2, 4, 3, 2, 5], "f")]),
    ("transpose_cl_c17", "Transpose", {"perm": [0, 2, 3, 1]}, [([1, 17, 3, 5], "f")]),
    ("concat", "Concat", {"axis": 1}, [([2, 3, 4], "f"), ([2, 5, 4], "f"), ([2, 1, 4], "f")]),
    ("split", "Split", {"axis": 1}, [([2, 6, 3], "f"), V(1, 2, 3)], 13, 3),
    ("split_equal", "Split", {"axis": -1}, [([2, 3, 6], "f")], 13, 2),
    # one launch for all parts (kernels::concatRows / splitRows) in the widest unit that fits
    ("concat_axis0", "Concat", {"axis": 0}, [([1, 3], "f"), ([2, 3], "f")]),
    ("concat_last_odd", "Concat", {"axis": -1}, [([2, 3, 3], "f"), ([2, 3, 1], "f"), ([2, 3, 5], "f")]),
    ("concat_many", "Concat", {"axis": 1}, [([2, 1, 3], "f")] * 9),
    ("concat_i64", "Concat", {"axis": 0}, [([2, 3], "i64", (-9, 9)), ([1, 3], "i64", (-9, 9))]),
    ("split_odd", "Split", {"axis": -1}, [([2, 3, 7], "f"), V(2, 5)], 13, 2),
    ("slice", "Slice", {}, [([5, 6, 7], "f"), V(1, -5), V(4, 100), V(0, 2), V(2, 2)]),
    ("slice_neg_step", "Slice", {}, [([5, 6], "f"), V(-1), V(-100), V(1), V(-2)]),
    ("gather", "Gather", {"axis": 1}, [([3, 8, 4], "f"), ([2, 5], "i64", (-8, 8))]),
    ("gather_scalar", "Gather", {"axis": 0}, [([10, 4], "f"), ("value", np.array(3, np.int64))]),
    ("gatherelements", "GatherElements", {"axis": 1}, [([3, 5], "f"), ([3, 4], "i64", (0, 5))]),
    ("gathernd", "GatherND", {}, [([4, 5, 6], "f"), ("value", np.array([[[1, -2], [3, 0]], [[0, 4], [2, 2]]], np.int64))]),
    ("gathernd_batch", "GatherND", {"batch_dims": 1},
     [([3, 5, 7], "f"), ("value", np.array([[[4], [0]], [[1], [1]], [[-1], [2]]], np.int64))]),
    ("tile", "Tile", {}, [([2, 3], "f"), V(2, 3)]),
    ("pad_constant", "Pad", {}, [([2, 3, 4], "f"), V(0, 1, 2, 0, 2, 1), ("value", np.array(0.5, np.float32))]),
    # the last axis only (NHWC channels padded to 8: the row kernel), with a leading pad too
    ("pad_last_axis", "Pad", {}, [([2, 5, 6, 3], "f"), V(0, 0, 0, 1, 0, 0, 0, 4)]),
    ("pad_last_axis_row16", "Pad", {}, [([2, 5, 6, 3], "f"), V(0, 0, 0, 0, 0, 0, 0, 1)]),  # 4 floats: one vector
    ("pad_reflect", "Pad", {"mode": "reflect"}, [([1, 2, 5, 6], "f"), V(0, 0, 2, 3, 0, 0, 1, 2)]),
    ("pad_edge", "Pad", {"mode": "edge"}, [([1, 2, 5, 6], "f"), V(0, 0, 2, 3, 0, 0, 1, 2)]),
    # the last axis unpadded: groups of it move as one wider element (2 floats, 8 bytes)
    ("pad_spatial_nhwc", "Pad", {}, [([1, 5, 6, 4], "f"), V(0, 2, 1, 0, 0, 0, 3, 0), ("value", np.array(0.25, np.float32))]),
    ("pad_spatial_nhwc_reflect", "Pad", {"mode": "reflect"}, [([2, 5, 6, 2], "f"), V(0, 2, 1, 0, 0, 1, 3, 0)]),
    ("resize_nearest", "Resize", {"mode": "nearest", "coordinate_transformation_mode": "asymmetric", "nearest_mode": "floor"},
     [([1, 2, 5, 6], "f"), ("empty", None), ("value", np.array([1, 1, 2, 2], np.float32))]),
    ("resize_linear", "Resize", {"mode": "linear"}, [([1, 2, 5, 6], "f"), ("empty", None), ("value", np.array([1, 1, 1.5, 0.75], np.float32))]),
    ("resize_linear_align", "Resize", {"mode": "linear", "coordinate_transformation_mode": "align_corners"},
     [([1, 2, 5, 6], "f"), ("empty", None), ("empty", None), V(1, 2, 9, 4)]),
    # reductions and ordering
    ("reducemean", "ReduceMean", {"axes": [1, 2], "keepdims": 1}, [([3, 4, 5, 6], "f")], 13),
    ("reducesum", "ReduceSum", {"keepdims": 0}, [([3, 4, 5], "f"), V(-1)], 13),
    ("reducemax", "ReduceMax", {"axes": [0], "keepdims": 0}, [([3, 4, 5], "f")], 13),
    ("reducemin_all", "ReduceMin", {}, [([3, 4, 5], "f")], 13),
    # one contiguous block of middle axes (the NHWC global pool's kernel), and axes with a gap
    ("reducemax_middle", "ReduceMax", {"axes": [1], "keepdims": 0}, [([2, 5, 7], "f")], 13),
    ("reducesum_gapped", "ReduceSum", {"keepdims": 1}, [([3, 4, 5], "f"), V(0, 2)], 13),
    ("reducemean_opset18", "ReduceMean", {"keepdims": 1}, [([3, 4, 5], "f"), V(2)], 18),
    ("argmax", "ArgMax", {"axis": 1, "keepdims": 0}, [([3, 7, 4], "f")]),
    ("topk", "TopK", {"axis": -1}, [([3, 10], "f"), V(4)], 13, 2),
    ("topk_smallest", "TopK", {"axis": 0, "largest": 0}, [([6, 3], "f"), V(2)], 13, 2),
    ("cumsum", "CumSum", {}, [([3, 5], "f"), ("value", np.array(1, np.int64))]),
    ("cumsum_excl_rev", "CumSum", {"exclusive": 1, "reverse": 1}, [([3, 5], "f"), ("value", np.array(0, np.int64))]),
]


# Multi-node cases: graphs the builder fuses (Conv + residual Add + activation into FusedConv)
# and, under --layout nhwc or FP16 on CUDA, runs channels-last (pooling, Concat, Resize and
# GlobalAveragePool carried in NHWC). Each entry: name -> function(rng) -> (nodes, inputs, inits).
def _w(rng, *shape):
    return (rng.standard_normal(shape) * (1.0 / np.sqrt(np.prod(shape[1:])))).astype(np.float32)


def _graph_conv_residual_relu(rng):
    nodes = [helper.make_node("Conv", ["x", "w", "b"], ["c"], pads=[1, 1, 1, 1]),
             helper.make_node("Add", ["c", "x"], ["s"]), helper.make_node("Relu", ["s"], ["out0"])]
    return nodes, {"x": [2, 16, 10, 10]}, {"w": _w(rng, 16, 16, 3, 3), "b": _w(rng, 16, 1)[:, 0]}


def _graph_conv1x1_residual_relu(rng):
    nodes = [helper.make_node("Conv", ["x", "w", "b"], ["c"]), helper.make_node("Add", ["z", "c"], ["s"]),
             helper.make_node("Relu", ["s"], ["out0"])]
    return nodes, {"x": [2, 32, 7, 9], "z": [2, 64, 7, 9]}, {"w": _w(rng, 64, 32, 1, 1), "b": _w(rng, 64, 1)[:, 0]}


def _graph_conv_silu_pool_concat_resize(rng):
    nodes = [helper.make_node("Conv", ["x", "w", "b"], ["c"], pads=[1, 1, 1, 1]),
             helper.make_node("Sigmoid", ["c"], ["sg"]), helper.make_node("Mul", ["c", "sg"], ["a"]),
             helper.make_node("MaxPool", ["a"], ["p"], kernel_shape=[5, 5], strides=[1, 1], pads=[2, 2, 2, 2]),
             helper.make_node("Concat", ["a", "p"], ["cat"], axis=1),
             helper.make_node("Resize", ["cat", "", "scales"], ["up"], mode="nearest"),
             helper.make_node("Conv", ["up", "w2"], ["c2"]), helper.make_node("Sigmoid", ["c2"], ["out0"])]
    return nodes, {"x": [1, 8, 6, 6]}, {"w": _w(rng, 16, 8, 3, 3), "b": _w(rng, 16, 1)[:, 0],
                                         "scales": np.array([1, 1, 2, 2], np.float32), "w2": _w(rng, 8, 32, 1, 1)}


def _graph_conv_stride_asym_leaky_gap(rng):
    nodes = [helper.make_node("Conv", ["x", "w", "b"], ["c"], strides=[2, 2], pads=[0, 1, 1, 0]),
             helper.make_node("LeakyRelu", ["c"], ["a"], alpha=0.1),
             helper.make_node("GlobalAveragePool", ["a"], ["g"]), helper.make_node("Flatten", ["g"], ["out0"])]
    return nodes, {"x": [2, 8, 11, 11]}, {"w": _w(rng, 24, 8, 3, 3), "b": _w(rng, 24, 1)[:, 0]}


def _graph_conv_maxpool3_stride2(rng):
    """NHWC FP16 max pooling with a 3x3 window, stride 2, pads 1 (ResNet's stem pool) on a ragged
    13x11 map: the unrolled fixed-window kernel, window taps outside the input skipped."""
    nodes = [helper.make_node("Conv", ["x", "w", "b"], ["c"], pads=[1, 1, 1, 1]),
             helper.make_node("MaxPool", ["c"], ["p"], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1]),
             helper.make_node("Conv", ["p", "w2"], ["out0"])]
    return nodes, {"x": [2, 8, 13, 11]}, {"w": _w(rng, 16, 8, 3, 3), "b": _w(rng, 16, 1)[:, 0],
                                          "w2": _w(rng, 8, 16, 1, 1)}


def _graph_detect_decode(rng):
    """YOLOv5's Detect decode (fuse-piecewise: one Pointwise layer with pieces): the last axis of
    x [1, 3, 4, 5, 9] split into xy (2), wh (2) and scores (5); xy and wh decoded with per-piece
    grid / anchor constants, the scores passed through; concatenated back."""
    nodes = [helper.make_node("Sigmoid", ["x"], ["sx"]),
             helper.make_node("Split", ["sx", "sizes"], ["xy", "wh", "sc"], axis=4),
             helper.make_node("Mul", ["xy", "two"], ["m0"]), helper.make_node("Sub", ["m0", "half"], ["s0"]),
             helper.make_node("Add", ["s0", "grid"], ["a0"]), helper.make_node("Mul", ["a0", "stride"], ["xy2"]),
             helper.make_node("Mul", ["wh", "two"], ["m1"]), helper.make_node("Pow", ["m1", "two"], ["p1"]),
             helper.make_node("Mul", ["p1", "anchor"], ["wh2"]),
             helper.make_node("Concat", ["xy2", "wh2", "sc"], ["out0"], axis=-1)]
    return nodes, {"x": [1, 3, 4, 5, 9]}, {"sizes": np.array([2, 2, 5], np.int64),
                                            "two": np.array(2, np.float32), "half": np.array(0.5, np.float32),
                                            "stride": np.array(8, np.float32),
                                            "grid": rng.integers(0, 5, (1, 3, 4, 5, 2)).astype(np.float32),
                                            "anchor": (10 + 30 * rng.random((1, 3, 1, 1, 2))).astype(np.float32)}


def _graph_transposed_decode(rng):
    """The Detect decode behind its Transpose (fold-transpose-into-pointwise: the piecewise
    Pointwise layer reads x [1, 4, 5, 3, 9] permuted to [1, 3, 4, 5, 9] through strides)."""
    nodes, inputs, inits = _graph_detect_decode(rng)
    nodes = [helper.make_node("Sigmoid", ["x"], ["sx0"]),
             helper.make_node("Transpose", ["sx0"], ["sx"], perm=[0, 3, 1, 2, 4])] + nodes[1:]
    return nodes, {"x": [1, 4, 5, 3, 9]}, inits


def _graph_channel_pieces(rng):
    """Pieces along a middle axis (the CUDA kernel's general path; the last axis takes the row
    kernel): x [2, 7, 3, 5] split along axis 1 into 2, 4 and 1 channels, the first scaled and
    shifted by a per-piece constant, the second through a sigmoid, the third passed through."""
    nodes = [helper.make_node("Split", ["x", "sizes"], ["p0", "p1", "p2"], axis=1),
             helper.make_node("Mul", ["p0", "scale"], ["m0"]), helper.make_node("Add", ["m0", "shift"], ["q0"]),
             helper.make_node("Sigmoid", ["p1"], ["q1"]),
             helper.make_node("Concat", ["q0", "q1", "p2"], ["out0"], axis=1)]
    return nodes, {"x": [2, 7, 3, 5]}, {"sizes": np.array([2, 4, 1], np.int64),
                                        "scale": np.array(1.5, np.float32),
                                        "shift": rng.standard_normal((1, 2, 3, 1)).astype(np.float32)}


def _heads(x, name, b, s, h, d, perm):
    """Reshape [b, s, h*d] -> [b, s, h, d] -> Transpose(perm): the exporters' head split."""
    return [helper.make_node("Reshape", [x, f"{name}_shape"], [f"{name}_r"]),
            helper.make_node("Transpose", [f"{name}_r"], [f"{name}_t"], perm=perm)], \
        {f"{name}_shape": np.array([b, s, h, d], np.int64)}


def _graph_attention_bert(rng):
    """BERT-style attention: separate Q/K/V, scores / sqrt(d), additive [B,1,1,S] mask."""
    b, s, h, d = 2, 77, 2, 64
    nodes, inits = [], {}
    for nm, perm in (("q", [0, 2, 1, 3]), ("k", [0, 2, 3, 1]), ("v", [0, 2, 1, 3])):
        n, i = _heads(nm, nm, b, s, h, d, perm)
        nodes += n
        inits.update(i)
    nodes += [helper.make_node("MatMul", ["q_t", "k_t"], ["sc"]), helper.make_node("Div", ["sc", "sqrt_d"], ["sd"]),
              helper.make_node("Add", ["sd", "mask"], ["sm_in"]), helper.make_node("Softmax", ["sm_in"], ["p"], axis=-1),
              helper.make_node("MatMul", ["p", "v_t"], ["ctx"]),
              helper.make_node("Transpose", ["ctx"], ["ctx_t"], perm=[0, 2, 1, 3]),
              helper.make_node("Reshape", ["ctx_t", "out_shape"], ["out0"])]
    inits.update({"sqrt_d": np.array(8.0, np.float32), "out_shape": np.array([b, s, h * d], np.int64)})
    return nodes, {"q": [b, s, h * d], "k": [b, s, h * d], "v": [b, s, h * d], "mask": [b, 1, 1, s]}, inits


def _graph_attention_gpt2(rng):
    """GPT-2-style attention: packed QKV Split, causal Where with a large negative fill."""
    b, s, h, d = 1, 70, 2, 64
    nodes = [helper.make_node("Split", ["qkv"], ["q", "k", "v"], axis=2)]
    inits = {}
    for nm, perm in (("q", [0, 2, 1, 3]), ("k", [0, 2, 3, 1]), ("v", [0, 2, 1, 3])):
        n, i = _heads(nm, nm, b, s, h, d, perm)
        nodes += n
        inits.update(i)
    nodes += [helper.make_node("MatMul", ["q_t", "k_t"], ["sc"]), helper.make_node("Mul", ["sc", "inv_sqrt_d"], ["sd"]),
              helper.make_node("Where", ["causal", "sd", "neg"], ["sm_in"]),
              helper.make_node("Softmax", ["sm_in"], ["p"], axis=-1), helper.make_node("MatMul", ["p", "v_t"], ["ctx"]),
              helper.make_node("Transpose", ["ctx"], ["ctx_t"], perm=[0, 2, 1, 3]),
              helper.make_node("Reshape", ["ctx_t", "out_shape"], ["out0"])]
    # the merged heads go to a 2-D [B*S, H*D] view, as the dynamo exporter writes it before a Gemm
    inits.update({"inv_sqrt_d": np.array(0.125, np.float32), "neg": np.array(-3.4e38, np.float32),
                  "causal": np.tril(np.ones((s, s), bool))[None, None], "out_shape": np.array([-1, h * d], np.int64)})
    return nodes, {"qkv": [b, s, 3 * h * d]}, inits


def _graph_conv_avgpool_upsample(rng):
    """NHWC under FP16: AveragePool (padded, count_include_pad 0) and PyTorch's nearest Upsample
    (asymmetric, floor) between convolutions; 24 channels (three 8-channel vectors)."""
    nodes = [helper.make_node("Conv", ["x", "w", "b"], ["c"], pads=[1, 1, 1, 1]),
             helper.make_node("AveragePool", ["c"], ["p"], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1]),
             helper.make_node("Resize", ["p", "", "scales"], ["up"], mode="nearest",
                              coordinate_transformation_mode="asymmetric", nearest_mode="floor"),
             helper.make_node("MaxPool", ["up"], ["m"], kernel_shape=[2, 2], strides=[1, 1], pads=[0, 0, 1, 1]),
             helper.make_node("Conv", ["m", "w2"], ["out0"])]
    return nodes, {"x": [2, 8, 9, 7]}, {"w": _w(rng, 24, 8, 3, 3), "b": _w(rng, 24, 1)[:, 0],
                                         "scales": np.array([1, 1, 2, 3], np.float32), "w2": _w(rng, 8, 24, 1, 1)}


def _graph_rgb_stem(rng):
    """An RGB image's first convolutions (3 input channels; FP16 NHWC pads them to 8): YOLOv5's
    6x6 stride-2 stem with SiLU, and a 3x3 conv with asymmetric pads on 5 channels."""
    nodes = [helper.make_node("Conv", ["x", "w", "b"], ["c"], strides=[2, 2], pads=[2, 2, 2, 2]),
             helper.make_node("Sigmoid", ["c"], ["sg"]), helper.make_node("Mul", ["c", "sg"], ["a"]),
             helper.make_node("Slice", ["a", "st", "en", "ax"], ["a5"]),
             helper.make_node("Conv", ["a5", "w2"], ["out0"], pads=[0, 1, 1, 0])]
    return nodes, {"x": [2, 3, 20, 18]}, {"w": _w(rng, 16, 3, 6, 6), "b": _w(rng, 16, 1)[:, 0],
                                           "st": np.array([0], np.int64), "en": np.array([5], np.int64),
                                           "ax": np.array([1], np.int64), "w2": _w(rng, 8, 5, 3, 3)}


def _graph_tied_lm_head(rng):
    """GPT-2's tied LM head: logits = h . wte^T, wte also an embedding table (read by Gather)."""
    nodes = [helper.make_node("Gather", ["wte", "ids"], ["emb"]), helper.make_node("Add", ["x", "emb"], ["h"]),
             helper.make_node("Transpose", ["wte"], ["wte_t"], perm=[1, 0]),
             helper.make_node("MatMul", ["h", "wte_t"], ["out0"])]
    # 120 rows of 301 logits: on CUDA pad-matmul-n gives wte 304 rows (the Gather keeps 301 as its
    # index range) and the MatMul columns = 301; its GEMM runs 304 wide into the workspace and the
    # first 301 columns are copied out
    return nodes, {"x": [3, 40, 64]}, {"wte": _w(rng, 301, 64), "ids": rng.integers(0, 301, (3, 40)).astype(np.int64)}


def _graph_add_layernorm(rng, width=64):
    """GPT-2's embedding sum into ln_1 with the sum read again (the residual stream): one
    AddLayerNorm layer with two outputs; the position rows repeat along the batch."""
    nodes = [helper.make_node("Add", ["x", "pos"], ["s"]),
             helper.make_node("LayerNormalization", ["s", "g", "b"], ["n"], axis=-1, epsilon=1e-5),
             helper.make_node("Add", ["n", "s"], ["out0"])]
    return nodes, {"x": [3, 7, width]}, {"pos": rng.standard_normal((1, 7, width)).astype(np.float32),
                                          "g": rng.uniform(0.5, 1.5, width).astype(np.float32),
                                          "b": rng.standard_normal(width).astype(np.float32)}


def _graph_add_layernorm_wide(rng):
    """The same with rows of 512: on CUDA the warp-per-row kernel (the first case takes the
    block-per-row one)."""
    return _graph_add_layernorm(rng, 512)


def _graph_pointwise_decode(rng):
    """YOLOv5's box decode after the head: Sigmoid, then (y*2 - 0.5 + grid) * stride and
    (y*2)^2 * anchor with broadcast constants; fuse-pointwise makes two Pointwise layers."""
    nodes = [helper.make_node("Sigmoid", ["x"], ["y"]),
             helper.make_node("Mul", ["y", "two"], ["y2"]), helper.make_node("Sub", ["y2", "half"], ["a"]),
             helper.make_node("Add", ["a", "grid"], ["b"]), helper.make_node("Mul", ["b", "stride"], ["xy"]),
             helper.make_node("Mul", ["y", "two"], ["w2"]), helper.make_node("Pow", ["w2", "two"], ["w4"]),
             helper.make_node("Mul", ["w4", "anchor"], ["wh"]),
             helper.make_node("Concat", ["xy", "wh"], ["out0"], axis=-1)]
    return nodes, {"x": [2, 3, 5, 7, 2]}, {"two": np.array(2, np.float32), "half": np.array(0.5, np.float32),
                                            "grid": rng.standard_normal((1, 1, 5, 7, 2)).astype(np.float32),
                                            "stride": np.array(8, np.float32),
                                            "anchor": np.abs(rng.standard_normal((1, 3, 1, 1, 2))).astype(np.float32)}


def _graph_pointwise_between_convs(rng):
    """Elementwise ops no conv fusion takes (two activations and a scalar clamp) between
    convolutions: one Pointwise layer, carried in NHWC under FP16."""
    nodes = [helper.make_node("Conv", ["x", "w", "b"], ["c"], pads=[1, 1, 1, 1]),
             helper.make_node("Conv", ["x", "w2"], ["d"], pads=[1, 1, 1, 1]),
             helper.make_node("Tanh", ["c"], ["t"]), helper.make_node("Mul", ["t", "d"], ["m"]),
             helper.make_node("Clip", ["m", "lo", "hi"], ["k"]), helper.make_node("Exp", ["k"], ["e"]),
             helper.make_node("Conv", ["e", "w3"], ["out0"])]
    return nodes, {"x": [2, 8, 6, 5]}, {"w": _w(rng, 16, 8, 3, 3), "b": _w(rng, 16, 1)[:, 0], "w2": _w(rng, 16, 8, 3, 3),
                                         "lo": np.array(-0.5, np.float32), "hi": np.array(0.75, np.float32),
                                         "w3": _w(rng, 8, 16, 1, 1)}


GRAPH_CASES = {
    "graph_conv_residual_relu": _graph_conv_residual_relu,
    "graph_conv1x1_residual_relu": _graph_conv1x1_residual_relu,
    "graph_conv_silu_pool_concat_resize": _graph_conv_silu_pool_concat_resize,
    "graph_conv_maxpool3_stride2": _graph_conv_maxpool3_stride2,
    "graph_detect_decode": _graph_detect_decode,
    "graph_transposed_decode": _graph_transposed_decode,
    "graph_channel_pieces": _graph_channel_pieces,
    "graph_conv_stride_asym_leaky_gap": _graph_conv_stride_asym_leaky_gap,
    "graph_attention_bert": _graph_attention_bert,
    "graph_attention_gpt2": _graph_attention_gpt2,
    "graph_tied_lm_head": _graph_tied_lm_head,
    "graph_rgb_stem": _graph_rgb_stem,
    "graph_conv_avgpool_upsample": _graph_conv_avgpool_upsample,
    "graph_add_layernorm": _graph_add_layernorm,
    "graph_add_layernorm_wide": _graph_add_layernorm_wide,
    "graph_pointwise_decode": _graph_pointwise_decode,
    "graph_pointwise_between_convs": _graph_pointwise_between_convs,
}
CASES += [(name, "graph", {}, []) for name in GRAPH_CASES]


def build_graph_case(name, rng):
    nodes, ins, inits = GRAPH_CASES[name](rng)
    feeds = {k: make_value((shape, "f"), rng) for k, shape in ins.items()}
    graph = helper.make_graph(nodes, name, [helper.make_tensor_value_info(k, F4, s) for k, s in ins.items()],
                              [helper.make_empty_tensor_value_info("out0")],
                              [numpy_helper.from_array(v, k) for k, v in inits.items()])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    model = onnx.shape_inference.infer_shapes(model)
    inferred = {vi.name: vi for vi in model.graph.value_info}
    for o in model.graph.output:
        if o.name in inferred:
            o.CopyFrom(inferred[o.name])
    return model, feeds


def make_value(spec, rng):
    shape, kind = spec[0], spec[1]
    kind = kind[2:] if kind.startswith("c:") else kind
    if kind == "f":
        v = rng.standard_normal(shape).astype(np.float32)
        v[v == 0] = 0.5  # never zeros
        return v
    if kind == "pos":
        return rng.uniform(0.2, 2.0, shape).astype(np.float32)
    if kind == "i64":
        lo, hi = spec[2]
        return rng.integers(lo, hi, shape).astype(np.int64)
    if kind == "bool":
        return rng.integers(0, 2, shape).astype(bool)
    raise ValueError(kind)


def build_case(case, rng):
    name, op, attrs, specs = case[:4]
    if op == "graph":
        return build_graph_case(name, rng)
    opset = case[4] if len(case) > 4 else 17
    n_out = case[5] if len(case) > 5 else 1
    inputs, inits, feeds, names = [], [], {}, []
    for i, spec in enumerate(specs):
        nm = f"in{i}"
        if spec[0] == "empty":
            names.append("")
            continue
        if spec[0] == "value":
            inits.append(numpy_helper.from_array(spec[1], nm))
        elif spec[1].startswith("c:"):
            inits.append(numpy_helper.from_array(make_value(spec, rng), nm))
        else:
            v = make_value(spec, rng)
            feeds[nm] = v
            inputs.append(helper.make_tensor_value_info(nm, helper.np_dtype_to_tensor_dtype(v.dtype), list(v.shape)))
        names.append(nm)
    outs = [f"out{i}" for i in range(n_out)]
    node = helper.make_node(op, names, outs, name=f"{name}_node", **attrs)
    graph = helper.make_graph([node], name, inputs, [helper.make_empty_tensor_value_info(o) for o in outs], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8
    model = onnx.shape_inference.infer_shapes(model)
    # graph outputs need types for our importer's consumers; take them from shape inference
    inferred = {vi.name: vi for vi in model.graph.value_info}
    for o in model.graph.output:
        if o.name in inferred:
            o.CopyFrom(inferred[o.name])
    return model, feeds


def generate(outdir: str, seed: int) -> None:
    rng = np.random.default_rng(seed)
    os.makedirs(outdir, exist_ok=True)
    manifest = []
    for case in CASES:
        model, feeds = build_case(case, rng)
        d = os.path.join(outdir, case[0])
        os.makedirs(d, exist_ok=True)
        onnx.save(model, os.path.join(d, "model.onnx"))
        sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
        refs = sess.run(None, feeds)
        entry = {"name": case[0], "op": case[1], "inputs": [], "outputs": []}
        for k, v in feeds.items():
            np.save(os.path.join(d, f"{k}.npy"), v)
            entry["inputs"].append(k)
        for o, r in zip(sess.get_outputs(), refs):
            np.save(os.path.join(d, f"ref_{o.name}.npy"), np.asarray(r))
            entry["outputs"].append(o.name)
        manifest.append(entry)
    with open(os.path.join(outdir, "cases.json"), "w") as f:
        json.dump({"seed": seed, "cases": manifest}, f, indent=1)
    print(f"op harness: {len(manifest)} cases, seed {seed}, in {outdir}")


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("outdir")
    ap.add_argument("--seed", type=int, default=None)
    a = ap.parse_args()
    generate(a.outdir, a.seed if a.seed is not None else int(time.time() * 1000) % 2**31)
