#!/usr/bin/env python3
"""Layer-count check: the fusions issue 4 asks of the model engines, read from the built plans.

For each model it builds an engine with trtbuild (dynamic shapes, as the model tests do; with
--shapes, also one for those static shapes), reads `trtinspect --json` and checks:
  resnet50  at most 60 layers (the output Flatten/Gemm counted); every Conv (+ BatchNormalization)
            + Relu chain, and every residual Add with its Relu, lies in one layer with a Conv;
  bert      at most 8 layers per encoder block;
  gpt2      at most 9 layers per block;
  yolov5s   every Conv (+ BatchNormalization) + SiLU (Sigmoid, Mul) chain lies in one layer.
A layer belongs to block i when its ONNX origins are all in block i. A layer whose origins
reach a block but are not all in one is a fusion across a block boundary (on CUDA, GPT-2's
projection + residual + the next block's LayerNorm): spanning, per-block work; or, where its
origins are the same nodes of each block (equal names up to the block number), cse's merge of
every block's copy of one computation (GPT-2's causal mask slices, the shape values they take):
merged, once per model. The rule holds for every block's own layers and for the average with the
spanning ones added. Every layer counts, shape computations on the host and views included.
Prints a table; exits 1 on any violation.

Usage: check_layer_counts.py --bin BUILD_DIR --models MODEL_DIR [--only NAME ...]
                             [--device cpu|cuda] [--fp16] [--static] [--trtbuild-args "..."]
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from collections import defaultdict

import onnx

# model -> (block regex over node names and scopes, most layers a block may have). TorchScript
# exports name nodes after the module path ("/encoder/layer.3/...", "/transformer/h.3/..."); the
# dynamo exporter's names do not carry it, its nodes' metadata does ("h.3: GPT2Block").
BLOCKS = {"bert": (re.compile(r"(?<![A-Za-z0-9_])layer\.(\d+)(?![0-9])"), 8),
          "gpt2": (re.compile(r"(?<![A-Za-z0-9_])h\.(\d+)(?![0-9])"), 9)}
RESNET50_MAX_LAYERS = 60
# static shapes for --static: the bar's sequence length, batch 2
STATIC_SHAPES = {"resnet50": "input:2x3x224x224", "bert": "input_ids:2x128,attention_mask:2x128,token_type_ids:2x128",
                 "gpt2": "input_ids:2x128", "yolov5s": "images:1x3x640x640"}


def onnx_nodes(path: str):
    m = onnx.load(path, load_external_data=False)
    consumers = defaultdict(list)
    for n in m.graph.node:
        for i in n.input:
            consumers[i].append(n)
    return m.graph.node, consumers


def node_blocks(nodes, regex):
    """ONNX node name -> its block, from the name or else from the exporter's scope metadata."""
    blocks = {}
    for n in nodes:
        m = regex.search(n.name)
        if not m:
            for p in n.metadata_props:
                m = regex.search(p.value)
                if m:
                    break
        if m:
            blocks[n.name] = int(m.group(1))
    return blocks


def sole_reader(consumers, node, op_type):
    """The node's only reader when it is of op_type, else None."""
    readers = consumers.get(node.output[0], [])
    return readers[0] if len(readers) == 1 and readers[0].op_type == op_type else None


def conv_chains(nodes, consumers, act: str):
    """Conv -> [BatchNormalization] -> activation chains, as lists of node names (TorchScript
    exports of eval models often fold the BatchNormalization into the Conv already)."""
    chains = []
    for n in nodes:
        if n.op_type != "Conv":
            continue
        chain, last = [n.name], n
        bn = sole_reader(consumers, n, "BatchNormalization")
        if bn is not None:
            chain.append(bn.name)
            last = bn
        if act == "Relu":
            r = sole_reader(consumers, last, "Relu")
            if r is None:
                continue
            chain.append(r.name)
        else:  # SiLU: x * Sigmoid(x)
            readers = consumers.get(last.output[0], [])
            sig = [r for r in readers if r.op_type == "Sigmoid"]
            mul = [r for r in readers if r.op_type == "Mul" and sig and sig[0].output[0] in r.input]
            if len(readers) != 2 or len(sig) != 1 or len(mul) != 1:
                continue
            chain += [sig[0].name, mul[0].name]
        chains.append(chain)
    return chains


def layer_of(layers):
    """ONNX node name -> indices of the engine layers that hold it."""
    where = defaultdict(set)
    for i, l in enumerate(layers):
        for o in l.get("Origins", []):
            where[o].add(i)
    return where


def together(where, layers, names):
    """True when one convolution layer holds every node in names."""
    common = None
    for n in names:
        common = set(where.get(n, set())) if common is None else common & where.get(n, set())
    if not common:
        return False
    return any("Conv" in layers[i]["LayerType"] for i in common)


def block_counts(layers, blocks, regex):
    """Per block: its own layers' count; the count of layers that reach a block without lying
    wholly in one (spanning: a fusion across a block boundary, per-block work); and of layers
    that cse merged from the same computation of every block (model-level: once per model)."""
    counts, spanning, merged = defaultdict(int), 0, 0
    for l in layers:
        origins = l.get("Origins", [])
        ids = {blocks[o] for o in origins if o in blocks}
        if len(ids) == 1 and all(o in blocks for o in origins):
            counts[next(iter(ids))] += 1
        elif ids:
            # the same nodes of each block (names equal up to the block number): one computation
            per = defaultdict(set)
            for o in origins:
                per[blocks.get(o)].add(regex.sub("#", o))
            same = None not in per and len({frozenset(v) for v in per.values()}) == 1
            merged += same and len(per) > 1
            spanning += not (same and len(per) > 1)
    return dict(counts), spanning, merged


def check(name, plan_json, nodes, consumers):
    layers = plan_json["Layers"]
    where = layer_of(layers)
    problems = []

    def fused_chains(act):  # every Conv (+ BN) + act chain in one conv layer; their count
        chains = conv_chains(nodes, consumers, act)
        if not chains:
            problems.append(f"no Conv + {act} chains found")
        for chain in chains:
            if not together(where, layers, chain):
                problems.append("not one conv layer: " + " + ".join(chain))
        return len(chains)

    if name == "resnet50":
        if len(layers) > RESNET50_MAX_LAYERS:
            problems.append(f"{len(layers)} layers > {RESNET50_MAX_LAYERS}")
        chains = fused_chains("Relu")
        for n in nodes:
            if n.op_type == "Add":
                chain = [n.name]
                r = sole_reader(consumers, n, "Relu")
                if r is not None:
                    chain.append(r.name)
                if not together(where, layers, chain):
                    problems.append("residual not in a conv layer: " + " + ".join(chain))
        detail = f"{len(layers)} layers, {chains} Conv(+BN)+ReLU chains"
    elif name == "yolov5s":
        detail = f"{len(layers)} layers, {fused_chains('SiLU')} Conv(+BN)+SiLU chains"
    else:
        regex, most = BLOCKS[name]
        counts, spanning, merged = block_counts(layers, node_blocks(nodes, regex), regex)
        if not counts:
            problems.append("no block layers found")
        for b, c in sorted(counts.items()):
            if c > most:
                problems.append(f"block {b}: {c} layers > {most}")
        mean = (sum(counts.values()) + spanning) / max(1, len(counts))
        if mean > most:
            problems.append(f"{mean:.1f} layers a block with the spanning ones > {most}")
        per = ",".join(str(counts[b]) for b in sorted(counts))
        detail = (f"{len(layers)} layers, per block [{per}] (at most {most}), {spanning} spanning blocks, "
                  f"{mean:.1f} a block with them, {merged} merged from every block")
    return detail, problems


def check_plan(name, onnx_path, plan, bin_dir):
    """(detail, problems) for an engine plan built from onnx_path (report.py calls this)."""
    nodes, consumers = onnx_nodes(onnx_path)
    j = subprocess.run([os.path.join(bin_dir, "trtinspect"), plan, "--json"], capture_output=True, text=True)
    if j.returncode != 0:
        return "", ["trtinspect: " + j.stderr.strip()[-200:]]
    return check(name, json.loads(j.stdout), nodes, consumers)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--models", required=True)
    ap.add_argument("--only", nargs="*", default=["resnet50", "bert", "gpt2", "yolov5s"])
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    ap.add_argument("--fp16", action="store_true")
    ap.add_argument("--static", action="store_true", help="also build for static shapes (the bar's)")
    ap.add_argument("--trtbuild-args", default="", help="more trtbuild arguments, space-separated "
                    "(the negative test: --disable-pass fuse-conv must fail the check)")
    a = ap.parse_args()
    failed = checked = 0
    print(f"device: {a.device}{' fp16' if a.fp16 else ''}")
    print(f"{'model':9} {'shapes':8} result  detail")
    with tempfile.TemporaryDirectory() as tmp:
        for name in a.only:
            model = os.path.join(a.models, f"{name}.onnx")
            nodes, consumers = onnx_nodes(model)
            for shapes in ["dynamic"] + (["static"] if a.static else []):
                checked += 1
                plan = os.path.join(tmp, f"{name}.{shapes}.plan")
                cmd = [os.path.join(a.bin, "trtbuild"), model, "-o", plan, "--device", a.device]
                cmd += ["--fp16"] if a.fp16 else []
                cmd += ["--shapes", STATIC_SHAPES[name]] if shapes == "static" else []
                cmd += a.trtbuild_args.split()
                b = subprocess.run(cmd, capture_output=True, text=True)
                if b.returncode != 0:
                    print(f"{name:9} {shapes:8} FAIL    build: {b.stderr.strip()[-200:]}")
                    failed += 1
                    continue
                j = subprocess.run([os.path.join(a.bin, "trtinspect"), plan, "--json"], capture_output=True, text=True)
                if j.returncode != 0:
                    print(f"{name:9} {shapes:8} FAIL    inspect: {j.stderr.strip()[-200:]}")
                    failed += 1
                    continue
                detail, problems = check(name, json.loads(j.stdout), nodes, consumers)
                print(f"{name:9} {shapes:8} {'FAIL' if problems else 'ok':7} {detail}")
                for p in problems[:8]:
                    print(f"          - {p}")
                failed += bool(problems)
    print(f"layer counts: {checked} engines checked, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
