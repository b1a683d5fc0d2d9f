#!/usr/bin/env python3
"""Side by side with PyTorch on the GPU machine (issue 3's model validation).

For each model in torch_models.MODELS: export from PyTorch to ONNX (TorchScript exporter, opset 17,
dynamic batch; the dynamo exporter where TorchScript fails), build trt FP32 (TF32 off) and FP16
engines, run them on the same inputs as PyTorch and compare with PyTorch FP32 (TF32 off), then time
trt (GPU compute, CUDA graph), PyTorch eager FP16 and torch.compile(mode="reduce-overhead") FP16 with
CUDA events in the same process. Prints one table last; writes JSON to OUTDIR.

Usage: torch_compare.py --bin DIR --out OUTDIR [--models a,b] [--no-compile] [--iters N]
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import traceback

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_models import MODELS  # noqa: E402


def _event_median_ms(fn, x, runs: int, calls: int) -> float:
    """After 10 warm-up calls: `runs` times, CUDA events around `calls` consecutive calls (a
    synchronize after each run), the time per call; the median over the runs."""
    with torch.inference_mode():
        for _ in range(10):
            fn(x)
        torch.cuda.synchronize()
        ts = []
        for _ in range(runs):
            s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            s.record()
            for _ in range(calls):
                fn(x)
            e.record()
            e.synchronize()
            ts.append(s.elapsed_time(e) / calls)
    ts.sort()
    return ts[len(ts) // 2]


def cuda_stream_ms(fn, x, iters: int, reps: int = 7) -> float:
    """GPU time per call with the calls back to back: `iters` consecutive calls per run, the median
    of `reps` runs. The host's Python and dispatch overlap the GPU's work as they do for trtbench's
    graph replays, so a small model is not charged for the interpreter while the GPU waits
    (cuda_median_ms, which synchronizes after every call, is)."""
    return _event_median_ms(fn, x, reps, iters)


def cuda_median_ms(fn, x, iters: int) -> float:
    """Median over `iters` calls of the CUDA-event time around one call, synchronized after each
    (the latency of one call, the host's work before the GPU starts included)."""
    return _event_median_ms(fn, x, iters, 1)


def export(model, name: str, input_name: str, example, path: str) -> str:
    try:
        torch.onnx.export(model, (example,), path, opset_version=17, dynamo=False, input_names=[input_name],
                          output_names=["output"], dynamic_axes={input_name: {0: "batch"}, "output": {0: "batch"}})
        return "torchscript opset 17"
    except Exception as ex:  # GPT-2 with recent transformers needs the dynamo exporter
        print(f"{name}: TorchScript export failed ({str(ex)[:120]}); using dynamo", flush=True)
        # torch.export specialises a dimension of size 1: trace with batch 2 to keep it dynamic.
        example = torch.cat([example, example]) if example.shape[0] == 1 else example
        batch = torch.export.Dim("batch", min=1, max=64)
        torch.onnx.export(model, (example,), path, dynamo=True, input_names=[input_name], output_names=["output"],
                          dynamic_shapes={"input_ids": {0: batch}} if input_name == "input_ids" else None)
        return "dynamo"


def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"{os.path.basename(cmd[0])} failed ({r.returncode}): {r.stderr.strip()[:500]}")
    return r.stdout


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--models", default=",".join(MODELS))
    ap.add_argument("--no-compile", action="store_true")
    ap.add_argument("--iters", type=int, default=50)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    torch.manual_seed(0)
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    print("torch", torch.__version__, torch.cuda.get_device_name(), flush=True)
    tmp = tempfile.mkdtemp()
    acc, perf = [], []
    for name in a.models.split(","):
        factory, input_name, cases, cnn = MODELS[name]
        try:
            model = factory().eval()
            onnx_path = os.path.join(tmp, f"{name}.onnx")
            how = export(model, name, input_name, cases[0][1](), onnx_path)
            plans = {}
            for prec in ("fp32", "fp16"):
                plans[prec] = os.path.join(tmp, f"{name}.{prec}.plan")
                t0 = time.time()
                run([os.path.join(a.bin, "trtbuild"), onnx_path, "--device", "cuda", "-o", plans[prec]] +
                    (["--fp16"] if prec == "fp16" else []))
                print(f"{name}: built {prec} engine in {time.time() - t0:.1f} s ({how})", flush=True)
            # What the exporter wrote and what the builder made of it, for the logs.
            with open(os.path.join(a.out, f"inspect_{name}_fp16.txt"), "w") as f:
                f.write(run([os.path.join(a.bin, "trtinspect"), plans["fp16"]]))
            try:
                import onnx
                g = onnx.load(onnx_path, load_external_data=False).graph
                with open(os.path.join(a.out, f"onnx_{name}_nodes.txt"), "w") as f:
                    for n in g.node[:400]:
                        f.write(f"{n.op_type} {n.name} in={list(n.input)} out={list(n.output)}\n")
            except Exception as e:  # the listing is a diagnostic only
                print(f"{name}: node listing failed: {e}")
            gpu = model.cuda()
            for label, make in cases:
                x = make()
                with torch.inference_mode():
                    ref = gpu(x.cuda()).float().cpu().numpy()
                xin = os.path.join(tmp, "x.npy")
                np.save(xin, x.numpy())
                for prec in ("fp32", "fp16"):
                    outdir = tempfile.mkdtemp(dir=tmp)
                    run([os.path.join(a.bin, "trtrun"), plans[prec], "--input", f"{input_name}:{xin}", "--output-dir", outdir])
                    got = np.load(os.path.join(outdir, "output.npy")).astype(np.float64)
                    err = float(np.max(np.abs(got - ref))) / float(np.max(np.abs(ref)))
                    top1 = float(np.mean(np.argmax(got, -1) == np.argmax(ref, -1)))
                    ok = err <= (1e-3 if prec == "fp32" else 1e-2) and (prec == "fp32" or top1 >= 0.99)
                    acc.append(dict(model=name, case=label, prec=prec, err=err, top1=top1, ok=ok))
                    print(json.dumps(acc[-1]), flush=True)
                shape = "x".join(str(d) for d in x.shape)
                out = run([os.path.join(a.bin, "trtbench"), plans["fp16"], "--iterations", str(a.iters), "--warmup", "200",
                           "--shapes", f"{input_name}:{shape}"])
                ours = float(re.search(r"GPU Compute Time: .*?median = ([0-9.]+) ms", out).group(1))
                perf.append(dict(model=name, case=label, trt_fp16_ms=ours))
            # PyTorch FP16: eager and torch.compile(reduce-overhead)
            half = gpu.half()
            if cnn:
                half = half.to(memory_format=torch.channels_last)
            compiled = None if a.no_compile else torch.compile(half, mode="reduce-overhead")
            for (label, make), row in zip(cases, [p for p in perf if p["model"] == name]):
                x = make().cuda()
                if x.is_floating_point():
                    x = x.half()
                if cnn:
                    x = x.contiguous(memory_format=torch.channels_last)
                row["eager_fp16_ms"] = cuda_median_ms(half, x, a.iters)
                if compiled is not None:
                    t0 = time.time()
                    row["compile_fp16_ms"] = cuda_median_ms(compiled, x, a.iters)
                    row["compile_s"] = time.time() - t0
                print(json.dumps(row), flush=True)
            del gpu, half, compiled
            torch.cuda.empty_cache()
        except Exception:
            traceback.print_exc()
    json.dump(dict(accuracy=acc, perf=perf, gpu=torch.cuda.get_device_name()), open(os.path.join(a.out, "torch_compare.json"), "w"),
              indent=1)
    print(f"\nGPU: {torch.cuda.get_device_name()}, torch {torch.__version__}")
    print(f"{'model':9} {'case':10} {'prec':5} {'err/max|ref|':>13} {'top-1':>6}  ok")
    for r in acc:
        print(f"{r['model']:9} {r['case']:10} {r['prec']:5} {r['err']:13.3e} {r['top1']:6.3f}  {'ok' if r['ok'] else 'FAIL'}")
    print(f"\n{'model':9} {'case':10} {'trt fp16 ms':>11} {'eager fp16':>10} {'compile fp16':>12} {'vs eager':>8} {'vs compile':>10}")
    for r in perf:
        e, c = r.get("eager_fp16_ms"), r.get("compile_fp16_ms")
        print(f"{r['model']:9} {r['case']:10} {r['trt_fp16_ms']:11.3f} {e if e else float('nan'):10.3f} "
              f"{c if c else float('nan'):12.3f} {(e / r['trt_fp16_ms']) if e else float('nan'):7.2f}x "
              f"{(c / r['trt_fp16_ms']) if c else float('nan'):9.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
