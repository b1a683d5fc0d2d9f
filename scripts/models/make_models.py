#!/usr/bin/env python3
"""Generates the model-test ONNX models with random weights, following the structure of PyTorch's
exports (torch.onnx.export) of torchvision ResNet-50, Hugging Face BERT and GPT-2, and YOLOv5s
(v6 architecture, v7-style Detect head with Split):

  resnet50.onnx  full size, dynamic batch              input  [batch,3,224,224]
  bert.onnx      BERT-Base widths, dynamic batch/seq   input_ids, attention_mask, token_type_ids [batch,seq]
                 (--bert-layers, 12 for full depth)    older-exporter LayerNorm (ReduceMean/Sub/Pow/Sqrt/Div), erf GELU
  gpt2.onnx      GPT-2 small widths, dynamic batch/seq input_ids [batch,seq]; LayerNormalization, tanh GELU,
                 (--gpt2-layers, 12 for full depth)    causal mask sliced from a buffer, tied LM head
  yolov5s.onnx   full size, static 1x3x640x640         output [1,25200,85]

Usage: make_models.py OUTDIR [--only NAME ...] [--bert-layers N] [--gpt2-layers N] [--seed S]
"""
from __future__ import annotations

import argparse
import math
import os
import sys

import numpy as np
from onnx import TensorProto

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from onnx_graph import Graph, save  # noqa: E402

F = TensorProto.FLOAT
I64 = TensorProto.INT64


# ---------------------------------------------------------------- ResNet-50 (torchvision)
def conv_bn(g: Graph, x: str, cin: int, cout: int, k: int, s: int, p: int, scope: str, pname: str,
            relu: bool) -> str:
    w = g.init(f"{pname}.weight", g.normal((cout, cin, k, k), math.sqrt(2.0 / (cin * k * k))))
    y = g.op("Conv", [x, w], scope, dilations=[1, 1], group=1, kernel_shape=[k, k], pads=[p] * 4, strides=[s, s])
    bn = pname.replace("conv", "bn").replace("downsample.0", "downsample.1")
    args = [g.init(f"{bn}.weight", g.uniform((cout,), 0.5, 1.0)), g.init(f"{bn}.bias", g.normal((cout,), 0.05)),
            g.init(f"{bn}.running_mean", g.normal((cout,), 0.05)),
            g.init(f"{bn}.running_var", g.uniform((cout,), 0.8, 1.2))]
    y = g.op("BatchNormalization", [y] + args, scope, epsilon=1e-5, momentum=0.9)
    return g.op("Relu", [y], scope) if relu else y


def resnet50(seed: int):
    g = Graph(seed)
    x = g.input("input", F, ["batch", 3, 224, 224])
    y = conv_bn(g, x, 3, 64, 7, 2, 3, "/conv1", "conv1", True)
    y = g.op("MaxPool", [y], "/maxpool", ceil_mode=0, kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[2, 2])
    cin = 64
    for li, (blocks, width, stride) in enumerate([(3, 64, 1), (4, 128, 2), (6, 256, 2), (3, 512, 2)], start=1):
        for b in range(blocks):
            s = stride if b == 0 else 1
            scope, pn = f"/layer{li}/layer{li}.{b}", f"layer{li}.{b}"
            out = conv_bn(g, y, cin, width, 1, 1, 0, scope + "/conv1", pn + ".conv1", True)
            out = conv_bn(g, out, width, width, 3, s, 1, scope + "/conv2", pn + ".conv2", True)
            out = conv_bn(g, out, width, width * 4, 1, 1, 0, scope + "/conv3", pn + ".conv3", False)
            if b == 0:
                y = conv_bn(g, y, cin, width * 4, 1, s, 0, scope + "/downsample", pn + ".downsample.0", False)
            y = g.op("Relu", [g.op("Add", [out, y], scope)], scope)
            cin = width * 4
    y = g.op("GlobalAveragePool", [y], "/avgpool")
    y = g.op("Flatten", [y], "", axis=1)
    w = g.init("fc.weight", g.normal((1000, 2048), 0.02))
    bias = g.init("fc.bias", g.normal((1000,), 0.01))
    y = g.op("Gemm", [y, w, bias], "/fc", alpha=1.0, beta=1.0, transB=1)
    g.nodes[-1].output[0] = "output"
    g.output("output", F, ["batch", 1000])
    return g.model("resnet50", 17)


# ---------------------------------------------------------------- BERT (Hugging Face)
def layer_norm_decomposed(g: Graph, x: str, hidden: int, scope: str, pname: str) -> str:
    """The pattern older exporters emit for nn.LayerNorm."""
    mean = g.op("ReduceMean", [x], scope, axes=[-1], keepdims=1)
    d = g.op("Sub", [x, mean], scope)
    var = g.op("ReduceMean", [g.op("Pow", [d, g.const(2.0, np.float32)], scope)], scope, axes=[-1], keepdims=1)
    std = g.op("Sqrt", [g.op("Add", [var, g.const(1e-12, np.float32)], scope)], scope)
    y = g.op("Div", [d, std], scope)
    y = g.op("Mul", [y, g.init(f"{pname}.weight", np.ones(hidden, np.float32) + g.normal((hidden,), 0.05))], scope)
    return g.op("Add", [y, g.init(f"{pname}.bias", g.normal((hidden,), 0.02))], scope)


def linear(g: Graph, x: str, cin: int, cout: int, scope: str, pname: str, std=0.02) -> str:
    w = g.init(f"{pname}.weight_T", g.normal((cin, cout), std))  # exporters store W^T for MatMul
    y = g.op("MatMul", [x, w], scope)
    return g.op("Add", [g.init(f"{pname}.bias", g.normal((cout,), 0.02)), y], scope)


def bert(seed: int, layers: int):
    hidden, heads, inter, vocab, max_pos = 768, 12, 3072, 30522, 512
    hd = hidden // heads
    g = Graph(seed)
    ids = g.input("input_ids", I64, ["batch", "seq"])
    mask = g.input("attention_mask", I64, ["batch", "seq"])
    types = g.input("token_type_ids", I64, ["batch", "seq"])
    sc = "/embeddings"
    seq = g.dim_of(ids, 1, sc)
    pos_buf = g.init("embeddings.position_ids", np.arange(max_pos, dtype=np.int64)[None, :])
    pos = g.op("Slice", [pos_buf, g.const([0], np.int64), seq, g.const([1], np.int64), g.const([1], np.int64)], sc)
    e = g.op("Gather", [g.init("embeddings.word_embeddings.weight", g.normal((vocab, hidden), 0.02)), ids], sc)
    e = g.op("Add", [e, g.op("Gather", [g.init("embeddings.token_type_embeddings.weight", g.normal((2, hidden), 0.02)), types], sc)], sc)
    e = g.op("Add", [e, g.op("Gather", [g.init("embeddings.position_embeddings.weight", g.normal((max_pos, hidden), 0.02)), pos], sc)], sc)
    h = layer_norm_decomposed(g, e, hidden, sc + "/LayerNorm", "embeddings.LayerNorm")
    # extended attention mask: (1 - mask[:, None, None, :]) * finfo.min
    m = g.op("Unsqueeze", [mask, g.const([1, 2], np.int64)], "")
    m = g.op("Cast", [m], "", to=F)
    m = g.op("Sub", [g.const(1.0, np.float32), m], "")
    m = g.op("Mul", [m, g.const(np.finfo(np.float32).min, np.float32)], "")
    for i in range(layers):
        sc = f"/encoder/layer.{i}"
        pn = f"encoder.layer.{i}"
        batch = g.dim_of(h, 0, sc + "/attention/self")
        seqd = g.dim_of(h, 1, sc + "/attention/self")

        def heads_of(t: str, name: str) -> str:
            r = g.reshape_dyn(t, [batch, seqd, heads, hd], f"{sc}/attention/self/{name}")
            return g.op("Transpose", [r], f"{sc}/attention/self/{name}", perm=[0, 2, 1, 3])

        q = heads_of(linear(g, h, hidden, hidden, sc + "/attention/self/query", pn + ".attention.self.query"), "q")
        k = heads_of(linear(g, h, hidden, hidden, sc + "/attention/self/key", pn + ".attention.self.key"), "k")
        v = heads_of(linear(g, h, hidden, hidden, sc + "/attention/self/value", pn + ".attention.self.value"), "v")
        kt = g.op("Transpose", [k], sc + "/attention/self", perm=[0, 1, 3, 2])
        s = g.op("MatMul", [q, kt], sc + "/attention/self")
        s = g.op("Div", [s, g.const(math.sqrt(hd), np.float32)], sc + "/attention/self")
        s = g.op("Add", [s, m], sc + "/attention/self")
        p = g.op("Softmax", [s], sc + "/attention/self", axis=-1)
        c = g.op("MatMul", [p, v], sc + "/attention/self")
        c = g.op("Transpose", [c], sc + "/attention/self", perm=[0, 2, 1, 3])
        c = g.reshape_dyn(c, [batch, seqd, hidden], sc + "/attention/self")
        a = linear(g, c, hidden, hidden, sc + "/attention/output/dense", pn + ".attention.output.dense")
        h = layer_norm_decomposed(g, g.op("Add", [a, h], sc + "/attention/output"), hidden,
                                  sc + "/attention/output/LayerNorm", pn + ".attention.output.LayerNorm")
        f = linear(g, h, hidden, inter, sc + "/intermediate/dense", pn + ".intermediate.dense")
        # erf GELU: x * 0.5 * (1 + erf(x / sqrt(2)))
        ge = g.op("Erf", [g.op("Div", [f, g.const(math.sqrt(2.0), np.float32)], sc + "/intermediate")], sc + "/intermediate")
        ge = g.op("Mul", [g.op("Mul", [f, g.op("Add", [ge, g.const(1.0, np.float32)], sc + "/intermediate")], sc + "/intermediate"),
                          g.const(0.5, np.float32)], sc + "/intermediate")
        o = linear(g, ge, inter, hidden, sc + "/output/dense", pn + ".output.dense")
        h = layer_norm_decomposed(g, g.op("Add", [o, h], sc + "/output"), hidden, sc + "/output/LayerNorm",
                                  pn + ".output.LayerNorm")
    g.nodes.append(__import__("onnx").helper.make_node("Identity", [h], ["last_hidden_state"], name="/Identity_out"))
    first = g.op("Gather", [h, g.const(0, np.int64)], "/pooler", axis=1)
    pooled = g.op("Tanh", [linear(g, first, hidden, hidden, "/pooler/dense", "pooler.dense")], "/pooler")
    g.nodes.append(__import__("onnx").helper.make_node("Identity", [pooled], ["pooler_output"], name="/Identity_pool"))
    g.output("last_hidden_state", F, ["batch", "seq", hidden])
    g.output("pooler_output", F, ["batch", hidden])
    return g.model("bert", 17)


# ---------------------------------------------------------------- GPT-2 (Hugging Face)
def gpt2(seed: int, layers: int):
    hidden, heads, vocab, n_pos = 768, 12, 50257, 1024
    hd = hidden // heads
    g = Graph(seed)
    ids = g.input("input_ids", I64, ["batch", "seq"])
    seq = g.dim_of(ids, 1, "/transformer")
    seq_scalar = g.op("Squeeze", [seq, g.const([0], np.int64)], "/transformer")
    pos = g.op("Range", [g.const(0, np.int64), seq_scalar, g.const(1, np.int64)], "/transformer")
    pos = g.op("Unsqueeze", [pos, g.const([0], np.int64)], "/transformer")
    wte = g.init("transformer.wte.weight", g.normal((vocab, hidden), 0.02))
    x = g.op("Add", [g.op("Gather", [wte, ids], "/transformer/wte"),
                     g.op("Gather", [g.init("transformer.wpe.weight", g.normal((n_pos, hidden), 0.01)), pos], "/transformer/wpe")],
             "/transformer")
    bias = g.init("transformer.h.bias", np.tril(np.ones((n_pos, n_pos), dtype=bool))[None, None])
    mask_value = g.const(np.finfo(np.float32).min, np.float32)

    def ln(t, scope, pname):
        return g.op("LayerNormalization", [t, g.init(pname + ".weight", np.ones(hidden, np.float32) + g.normal((hidden,), 0.05)),
                                           g.init(pname + ".bias", g.normal((hidden,), 0.02))], scope, axis=-1, epsilon=1e-5)

    for i in range(layers):
        sc, pn = f"/transformer/h.{i}", f"transformer.h.{i}"
        a = ln(x, sc + "/ln_1", pn + ".ln_1")
        qkv = linear(g, a, hidden, 3 * hidden, sc + "/attn/c_attn", pn + ".attn.c_attn")
        q, k, v = g.op("Split", [qkv, g.const([hidden] * 3, np.int64)], sc + "/attn", n_out=3, axis=2)
        batch = g.dim_of(a, 0, sc + "/attn")
        sq = g.dim_of(a, 1, sc + "/attn")

        def split_heads(t, perm):
            r = g.reshape_dyn(t, [batch, sq, heads, hd], sc + "/attn")
            return g.op("Transpose", [r], sc + "/attn", perm=perm)

        qh, kh, vh = split_heads(q, [0, 2, 1, 3]), split_heads(k, [0, 2, 3, 1]), split_heads(v, [0, 2, 1, 3])
        w = g.op("MatMul", [qh, kh], sc + "/attn")
        w = g.op("Div", [w, g.const(math.sqrt(hd), np.float32)], sc + "/attn")
        # causal_mask = bias[:, :, key_len - query_len : key_len, :key_len]
        klen = g.dim_of(kh, 3, sc + "/attn")
        qlen = g.dim_of(qh, 2, sc + "/attn")
        start = g.op("Sub", [klen, qlen], sc + "/attn")
        cm = g.op("Slice", [bias, start, klen, g.const([2], np.int64), g.const([1], np.int64)], sc + "/attn")
        cm = g.op("Slice", [cm, g.const([0], np.int64), klen, g.const([3], np.int64), g.const([1], np.int64)], sc + "/attn")
        w = g.op("Where", [cm, w, mask_value], sc + "/attn")
        p = g.op("Softmax", [w], sc + "/attn", axis=-1)
        o = g.op("Transpose", [g.op("MatMul", [p, vh], sc + "/attn")], sc + "/attn", perm=[0, 2, 1, 3])
        o = g.reshape_dyn(o, [batch, sq, hidden], sc + "/attn")
        o = linear(g, o, hidden, hidden, sc + "/attn/c_proj", pn + ".attn.c_proj")
        x = g.op("Add", [o, x], sc)
        m = ln(x, sc + "/ln_2", pn + ".ln_2")
        f = linear(g, m, hidden, 4 * hidden, sc + "/mlp/c_fc", pn + ".mlp.c_fc")
        # tanh GELU: 0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 * x^3)))
        s2 = "/mlp/act"
        cube = g.op("Pow", [f, g.const(3.0, np.float32)], sc + s2)
        inner = g.op("Add", [f, g.op("Mul", [cube, g.const(0.044715, np.float32)], sc + s2)], sc + s2)
        t = g.op("Tanh", [g.op("Mul", [inner, g.const(math.sqrt(2.0 / math.pi), np.float32)], sc + s2)], sc + s2)
        gel = g.op("Mul", [g.op("Mul", [f, g.const(0.5, np.float32)], sc + s2), g.op("Add", [t, g.const(1.0, np.float32)], sc + s2)], sc + s2)
        f = linear(g, gel, 4 * hidden, hidden, sc + "/mlp/c_proj", pn + ".mlp.c_proj")
        x = g.op("Add", [x, f], sc)
    x = ln(x, "/transformer/ln_f", "transformer.ln_f")
    # tied LM head: logits = x @ wte^T
    wt = g.op("Transpose", [wte], "/lm_head", perm=[1, 0])
    logits = g.op("MatMul", [x, wt], "/lm_head")
    g.nodes[-1].output[0] = "logits"
    g.output("logits", F, ["batch", "seq", vocab])
    return g.model("gpt2", 17)


# ---------------------------------------------------------------- YOLOv5s (v6 architecture)
class Yolo:
    def __init__(self, g: Graph):
        self.g = g
        self.idx = 0

    def conv(self, x, c1, c2, k=1, s=1, p=None, scope="m"):
        g = self.g
        p = k // 2 if p is None else p
        w = g.init(f"{scope}.conv.weight", g.normal((c2, c1, k, k), math.sqrt(1.0 / (c1 * k * k))))
        y = g.op("Conv", [x, w], f"/{scope}/conv", kernel_shape=[k, k], pads=[p] * 4, strides=[s, s], dilations=[1, 1], group=1)
        y = g.op("BatchNormalization", [y, g.init(f"{scope}.bn.weight", g.uniform((c2,), 0.8, 1.2)),
                                        g.init(f"{scope}.bn.bias", g.normal((c2,), 0.1)),
                                        g.init(f"{scope}.bn.running_mean", g.normal((c2,), 0.05)),
                                        g.init(f"{scope}.bn.running_var", g.uniform((c2,), 0.8, 1.2))],
                 f"/{scope}/bn", epsilon=1e-3, momentum=0.97)
        return g.op("Mul", [y, g.op("Sigmoid", [y], f"/{scope}/act")], f"/{scope}/act")  # SiLU

    def c3(self, x, c1, c2, n, shortcut, scope):
        c_ = c2 // 2
        a = self.conv(x, c1, c_, 1, scope=f"{scope}.cv1")
        for i in range(n):
            b = self.conv(a, c_, c_, 1, scope=f"{scope}.m.{i}.cv1")
            b = self.conv(b, c_, c_, 3, scope=f"{scope}.m.{i}.cv2")
            a = self.g.op("Add", [a, b], f"/{scope}/m.{i}") if shortcut else b
        b2 = self.conv(x, c1, c_, 1, scope=f"{scope}.cv2")
        cat = self.g.op("Concat", [a, b2], f"/{scope}", axis=1)
        return self.conv(cat, 2 * c_, c2, 1, scope=f"{scope}.cv3")

    def sppf(self, x, c1, c2, scope):
        c_ = c1 // 2
        a = self.conv(x, c1, c_, 1, scope=f"{scope}.cv1")
        pools = [a]
        for _ in range(3):
            pools.append(self.g.op("MaxPool", [pools[-1]], f"/{scope}/m", kernel_shape=[5, 5], pads=[2, 2, 2, 2], strides=[1, 1], ceil_mode=0, dilations=[1, 1]))
        cat = self.g.op("Concat", pools, f"/{scope}", axis=1)
        return self.conv(cat, c_ * 4, c2, 1, scope=f"{scope}.cv2")

    def up(self, x, scope):
        g = self.g
        return g.op("Resize", [x, "", g.const([1.0, 1.0, 2.0, 2.0], np.float32)], scope,
                    coordinate_transformation_mode="asymmetric", cubic_coeff_a=-0.75, mode="nearest", nearest_mode="floor")


def yolov5s(seed: int, size: int = 640):
    g = Graph(seed)
    y = Yolo(g)
    x = g.input("images", F, [1, 3, size, size])
    b0 = y.conv(x, 3, 32, 6, 2, 2, scope="model.0")
    b1 = y.conv(b0, 32, 64, 3, 2, scope="model.1")
    b2 = y.c3(b1, 64, 64, 1, True, "model.2")
    b3 = y.conv(b2, 64, 128, 3, 2, scope="model.3")
    b4 = y.c3(b3, 128, 128, 2, True, "model.4")
    b5 = y.conv(b4, 128, 256, 3, 2, scope="model.5")
    b6 = y.c3(b5, 256, 256, 3, True, "model.6")
    b7 = y.conv(b6, 256, 512, 3, 2, scope="model.7")
    b8 = y.c3(b7, 512, 512, 1, True, "model.8")
    b9 = y.sppf(b8, 512, 512, "model.9")
    h10 = y.conv(b9, 512, 256, 1, scope="model.10")
    h13 = y.c3(g.op("Concat", [y.up(h10, "/model.11"), b6], "/model.12", axis=1), 512, 256, 1, False, "model.13")
    h14 = y.conv(h13, 256, 128, 1, scope="model.14")
    p3 = y.c3(g.op("Concat", [y.up(h14, "/model.15"), b4], "/model.16", axis=1), 256, 128, 1, False, "model.17")
    h18 = y.conv(p3, 128, 128, 3, 2, scope="model.18")
    p4 = y.c3(g.op("Concat", [h18, h14], "/model.19", axis=1), 256, 256, 1, False, "model.20")
    h21 = y.conv(p4, 256, 256, 3, 2, scope="model.21")
    p5 = y.c3(g.op("Concat", [h21, h10], "/model.22", axis=1), 512, 512, 1, False, "model.23")
    anchors = np.array([[10, 13, 16, 30, 33, 23], [30, 61, 62, 45, 59, 119], [116, 90, 156, 198, 373, 326]], np.float32).reshape(3, 3, 2)
    no, na = 85, 3
    outs = []
    for i, (feat, c, stride) in enumerate([(p3, 128, 8), (p4, 256, 16), (p5, 512, 32)]):
        sc = f"/model.24"
        w = g.init(f"model.24.m.{i}.weight", g.normal((na * no, c, 1, 1), 0.01))
        b = g.init(f"model.24.m.{i}.bias", g.normal((na * no,), 0.5))
        t = g.op("Conv", [feat, w, b], sc + f"/m.{i}", kernel_shape=[1, 1], strides=[1, 1], pads=[0, 0, 0, 0], dilations=[1, 1], group=1)
        ny = nx = size // stride
        t = g.op("Reshape", [t, g.const([1, na, no, ny, nx], np.int64)], sc)
        t = g.op("Transpose", [t], sc, perm=[0, 1, 3, 4, 2])
        t = g.op("Sigmoid", [t], sc)
        xy, wh, conf = g.op("Split", [t, g.const([2, 2, no - 4], np.int64)], sc, n_out=3, axis=4)
        yv, xv = np.meshgrid(np.arange(ny, dtype=np.float32), np.arange(nx, dtype=np.float32), indexing="ij")
        grid = (np.stack((xv, yv), 2)[None, None] - 0.5).astype(np.float32) * np.ones((1, na, 1, 1, 1), np.float32)
        agrid = (anchors[i].reshape(1, na, 1, 1, 2) * np.ones((1, 1, ny, nx, 1), np.float32)).astype(np.float32)
        xy = g.op("Mul", [g.op("Add", [g.op("Mul", [xy, g.const(2.0, np.float32)], sc), g.init(f"grid{i}", grid)], sc),
                          g.const(float(stride), np.float32)], sc)
        wh = g.op("Mul", [g.op("Pow", [g.op("Mul", [wh, g.const(2.0, np.float32)], sc), g.const(2.0, np.float32)], sc),
                          g.init(f"anchor_grid{i}", agrid)], sc)
        t = g.op("Concat", [xy, wh, conf], sc, axis=4)
        outs.append(g.op("Reshape", [t, g.const([1, na * ny * nx, no], np.int64)], sc))
    g.op("Concat", outs, "/model.24", axis=1)
    g.nodes[-1].output[0] = "output0"
    n = sum(3 * (size // s) ** 2 for s in (8, 16, 32))
    g.output("output0", F, [1, n, 85])
    return g.model("yolov5s", 17)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("outdir")
    ap.add_argument("--only", nargs="*", default=["resnet50", "bert", "gpt2", "yolov5s"])
    ap.add_argument("--bert-layers", type=int, default=12)
    ap.add_argument("--gpt2-layers", type=int, default=12)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    os.makedirs(a.outdir, exist_ok=True)
    makers = {"resnet50": lambda: resnet50(a.seed), "bert": lambda: bert(a.seed, a.bert_layers),
              "gpt2": lambda: gpt2(a.seed, a.gpt2_layers), "yolov5s": lambda: yolov5s(a.seed)}
    for name in a.only:
        path = os.path.join(a.outdir, f"{name}.onnx")
        save(makers[name](), path)
        print(f"wrote {path} ({os.path.getsize(path) / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
