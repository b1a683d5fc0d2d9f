#!/usr/bin/env python3
"""The project's benchmark report (issue 6), run on the GPU machine in one go.

For ResNet-50 (bs 1/8/32/128), BERT-Base (bs 1/16, seq 128/384), GPT-2 (bs 1/16, seq 128) and
YOLOv5s (bs 1/16 at 640x640, bs 1 at 1088x1920): exports the PyTorch model to ONNX (one export per
sequence length / image size, dynamic batch), builds trt FP32 (TF32 off) and FP16 engines (timing
the builds), and measures side by side in the same process:
  - trt: median GPU compute time (trtbench, CUDA graph), throughput, device memory (weights +
    activation arena + workspace);
  - PyTorch eager FP16 and torch.compile(mode="reduce-overhead") FP16: median latency with CUDA
    events, peak device memory (torch.cuda.max_memory_allocated), compile time.
Writes docs/benchmarks.md (a table with the card, the versions and the date), benchmarks.png (a
bar chart: matplotlib when installed, else a plain PNG drawn here) and benchmarks.json.

Usage (from the repository root on the GPU machine, after scripts/gpu/bundle.sh here):
  python3 scripts/bench/report.py --bin BIN_DIR [--out OUTDIR] [--only resnet50,bert] [--quick]
The report is regenerated from a real run; never edit docs/benchmarks.md by hand.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import struct
import subprocess
import sys
import tempfile
import time
import traceback
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

# (model, variant label, export shape builder, cases [(label, batch)])
PLAN = [
    ("resnet50", "224", lambda b: ("input", [b, 3, 224, 224]), [("bs1", 1), ("bs8", 8), ("bs32", 32), ("bs128", 128)]),
    ("bert", "s128", lambda b: ("input_ids", [b, 128]), [("bs1 s128", 1), ("bs16 s128", 16)]),
    ("bert", "s384", lambda b: ("input_ids", [b, 384]), [("bs1 s384", 1), ("bs16 s384", 16)]),
    ("gpt2", "s128", lambda b: ("input_ids", [b, 128]), [("bs1 s128", 1), ("bs16 s128", 16)]),
    ("yolov5s", "640", lambda b: ("images", [b, 3, 640, 640]), [("bs1 640", 1), ("bs16 640", 16)]),
    ("yolov5s", "1088x1920", lambda b: ("images", [b, 3, 1088, 1920]), [("bs1 1088x1920", 1)]),
]


def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"{os.path.basename(cmd[0])} failed ({r.returncode}): {r.stderr.strip()[:400]}")
    return r.stdout


def bench_trt(binary, plan, input_name, shape, iters):
    out = run([os.path.join(binary, "trtbench"), plan, "--iterations", str(iters), "--warmup", "200", "--shapes",
               f"{input_name}:{'x'.join(map(str, shape))}"])
    med = float(re.search(r"GPU Compute Time: .*?median = ([0-9.]+) ms", out).group(1))
    mem = re.search(r"Device memory: weights (\d+) bytes, activations (\d+) bytes, workspace (\d+) bytes", out)
    return med, [int(mem.group(i)) for i in (1, 2, 3)]


def png_bars(path, groups, series, values, title=""):
    """A plain PNG bar chart (no text): one cluster per group, one bar per series, heights scaled
    to the largest value; used when matplotlib is not installed."""
    w, h, pad = 60 * len(groups) + 40, 300, 20
    colors = [(66, 133, 244), (234, 67, 53), (251, 188, 5), (52, 168, 83)]
    img = [[(255, 255, 255)] * w for _ in range(h)]
    vmax = max([v for row in values for v in row if v] + [1e-9])
    for gi, row in enumerate(values):
        for si, v in enumerate(row):
            if not v:
                continue
            bh = int((h - 2 * pad) * v / vmax)
            x0 = pad + gi * 60 + si * 12
            for y in range(h - pad - bh, h - pad):
                for x in range(x0, x0 + 10):
                    img[y][x] = colors[si % len(colors)]
    raw = b"".join(b"\x00" + bytes([c for px in r for c in px]) for r in img)

    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)

    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) +
                chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def plot(path, rows):
    groups = [f"{r['model']} {r['case']}" for r in rows]
    series = ["trt fp16", "eager fp16", "compile fp16"]
    values = [[r.get("trt_fp16_ms"), r.get("eager_fp16_ms"), r.get("compile_fp16_ms")] for r in rows]
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        fig, ax = plt.subplots(figsize=(max(8, len(groups) * 0.8), 5))
        for si, s in enumerate(series):
            ax.bar([i + si * 0.27 for i in range(len(groups))], [v[si] or 0 for v in values], 0.27, label=s)
        ax.set_xticks([i + 0.27 for i in range(len(groups))], groups, rotation=60, ha="right", fontsize=7)
        ax.set_ylabel("median latency (ms, log)")
        ax.set_yscale("log")
        ax.legend()
        fig.tight_layout()
        fig.savefig(path, dpi=120)
        return "matplotlib"
    except ImportError:
        png_bars(path, groups, series, values)
        return "plain PNG (no matplotlib): bars per case, trt / eager / compile"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True, help="directory with trtbuild and trtbench")
    ap.add_argument("--out", default=os.path.join(ROOT, "docs"))
    ap.add_argument("--only", default="", help="comma-separated model names")
    ap.add_argument("--iters", type=int, default=50)
    ap.add_argument("--quick", action="store_true", help="fewer iterations, no torch.compile")
    a = ap.parse_args()
    import torch
    sys.path.insert(0, os.path.join(ROOT, "scripts", "gpu"))
    from torch_compare import cuda_median_ms, export  # noqa: E402
    from torch_models import MODELS  # noqa: E402

    iters = 10 if a.quick else a.iters
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    tmp = tempfile.mkdtemp()
    rows = []
    for model_name, variant, shape_of, cases in PLAN:
        if a.only and model_name not in a.only.split(","):
            continue
        try:
            factory, _, _, cnn = MODELS[model_name]
            model = factory().eval()
            input_name, shape = shape_of(1)
            example = torch.randint(0, 1000, shape) if input_name == "input_ids" else torch.randn(shape)
            onnx_path = os.path.join(tmp, f"{model_name}_{variant}.onnx")
            how = export(model, model_name, input_name, example, onnx_path)
            plans, build_s = {}, {}
            for prec in ("fp32", "fp16"):
                plans[prec] = os.path.join(tmp, f"{model_name}_{variant}.{prec}.plan")
                t0 = time.time()
                run([os.path.join(a.bin, "trtbuild"), onnx_path, "--device", "cuda", "-o", plans[prec]] +
                    (["--fp16"] if prec == "fp16" else []))
                build_s[prec] = time.time() - t0
            half = model.cuda().half()
            if cnn:
                half = half.to(memory_format=torch.channels_last)
            compiled = None if a.quick else torch.compile(half, mode="reduce-overhead")
            first_compile = True
            for label, batch in cases:
                _, shape = shape_of(batch)
                row = dict(model=model_name, case=label, export=how, build_fp32_s=build_s["fp32"],
                           build_fp16_s=build_s["fp16"])
                for prec in ("fp32", "fp16"):
                    ms, mem = bench_trt(a.bin, plans[prec], input_name, shape, iters)
                    row[f"trt_{prec}_ms"] = ms
                    row[f"trt_{prec}_mem_mib"] = sum(mem) / 2**20
                    row[f"trt_{prec}_arena_mib"] = mem[1] / 2**20
                row["trt_fp16_per_s"] = batch / row["trt_fp16_ms"] * 1000
                x = (torch.randint(0, 1000, shape) if input_name == "input_ids" else torch.randn(shape)).cuda()
                if x.is_floating_point():
                    x = x.half()
                if cnn:
                    x = x.contiguous(memory_format=torch.channels_last)
                torch.cuda.synchronize()
                torch.cuda.reset_peak_memory_stats()
                row["eager_fp16_ms"] = cuda_median_ms(half, x, iters)
                row["eager_fp16_peak_mib"] = torch.cuda.max_memory_allocated() / 2**20
                if compiled is not None:
                    t0 = time.time()
                    row["compile_fp16_ms"] = cuda_median_ms(compiled, x, iters)
                    row["compile_s"] = time.time() - t0 if first_compile else None
                    first_compile = False
                print(json.dumps(row), flush=True)
                rows.append(row)
            del model, half, compiled
            torch.cuda.empty_cache()
        except Exception:
            traceback.print_exc()
    os.makedirs(a.out, exist_ok=True)
    json.dump(rows, open(os.path.join(a.out, "benchmarks.json"), "w"), indent=1)
    how_plot = plot(os.path.join(a.out, "benchmarks.png"), rows)
    gpu = torch.cuda.get_device_name()
    lines = [
        "# Benchmarks",
        "",
        f"Generated by `python3 scripts/bench/report.py` on {gpu}, {datetime.date.today().isoformat()}; "
        f"torch {torch.__version__}, CUDA {torch.version.cuda}. Do not edit by hand: rerun the script.",
        "",
        "Latency is the median GPU time per inference (trt: CUDA events around the CUDA-graph replay;"
        " PyTorch: CUDA events around the call), FP16 unless marked; throughput is batch / latency.",
        "trt memory is weights + activation arena + workspace; PyTorch's is torch.cuda.max_memory_allocated.",
        "",
        "| model | case | trt fp32 ms | trt fp16 ms | eager fp16 ms | compile fp16 ms | trt vs compile | "
        "trt fp16 per s | trt fp16 MiB (arena) | eager fp16 peak MiB | build fp16 s | compile s |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        c = r.get("compile_fp16_ms")
        f = lambda v, d=3: "" if v is None else f"{v:.{d}f}"  # noqa: E731
        ratio = "" if not c else "%.2fx" % (c / r["trt_fp16_ms"])
        lines.append(f"| {r['model']} | {r['case']} | {f(r['trt_fp32_ms'])} | {f(r['trt_fp16_ms'])} | "
                     f"{f(r['eager_fp16_ms'])} | {f(c)} | {ratio} | "
                     f"{f(r['trt_fp16_per_s'], 0)} | {f(r['trt_fp16_mem_mib'], 0)} ({f(r['trt_fp16_arena_mib'], 0)}) | "
                     f"{f(r['eager_fp16_peak_mib'], 0)} | {f(r['build_fp16_s'], 1)} | {f(r.get('compile_s'), 1)} |")
    lines += ["", f"![latency](benchmarks.png) ({how_plot})", ""]
    open(os.path.join(a.out, "benchmarks.md"), "w").write("\n".join(lines))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
