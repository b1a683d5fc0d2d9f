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
  python3 scripts/bench/report.py --bin BIN_DIR [--out OUTDIR] [--work DIR] [--only resnet50,bert] [--quick]
With --work, models, plans and finished rows (rows.jsonl) stay there and a rerun resumes; --render only
rewrites the report from them.
The report is regenerated from a real run; never edit docs/benchmarks.md by hand.
"""
from __future__ import annotations

import argparse
import copy
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
sys.path.insert(0, os.path.join(ROOT, "tests", "models"))
from check_layer_counts import check_plan  # noqa: E402

# (model, variant label, export shape builder, cases [(label, batch)])
PLAN = [
    ("resnet50", "224", lambda b: ("input", [b, 3, 224, 224]), [("bs1", 1), ("bs8", 8), ("bs32", 32), ("bs128", 128)]),
    ("bert", "s128", lambda b: ("input_ids", [b, 128]), [("bs1 s128", 1), ("bs16 s128", 16)]),
    ("bert", "s384", lambda b: ("input_ids", [b, 384]), [("bs1 s384", 1), ("bs16 s384", 16)]),
    ("gpt2", "s128", lambda b: ("input_ids", [b, 128]), [("bs1 s128", 1), ("bs16 s128", 16)]),
    ("yolov5s", "640", lambda b: ("images", [b, 3, 640, 640]), [("bs1 640", 1), ("bs16 640", 16)]),
    ("yolov5s", "1088x1920", lambda b: ("images", [b, 3, 1088, 1920]), [("bs1 1088x1920", 1)]),
]

# The issue-4 bar's cases (FP16 against torch.compile): --bar measures these alone, in one call.
BAR = {("resnet50", "bs1"), ("resnet50", "bs32"), ("resnet50", "bs128"), ("bert", "bs1 s128"),
       ("bert", "bs16 s128"), ("gpt2", "bs1 s128"), ("gpt2", "bs16 s128"), ("yolov5s", "bs1 640"),
       ("yolov5s", "bs1 1088x1920")}


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


def torch_case(model, x, iters, compile_it):
    """PyTorch eager and torch.compile(mode="reduce-overhead", one compile per shape) on x."""
    import torch

    from torch_compare import cuda_median_ms, cuda_stream_ms  # noqa: E402

    r = {}
    weights = sum(t.numel() * t.element_size() for t in list(model.parameters()) + list(model.buffers()))
    torch.cuda.synchronize()
    torch.cuda.empty_cache()
    torch.cuda.reset_peak_memory_stats()
    # Whatever else is resident (the other precision's copy) is not this model's: activations are the
    # peak over what was allocated before the runs, plus the input.
    base = torch.cuda.memory_allocated()
    r["eager_ms"] = cuda_median_ms(model, x, iters)
    act = torch.cuda.max_memory_allocated() - base + x.numel() * x.element_size()
    r["eager_act_mib"] = act / 2**20
    r["eager_peak_mib"] = (act + weights) / 2**20
    if compile_it:
        torch._dynamo.reset()
        compiled = torch.compile(model, mode="reduce-overhead", dynamic=False)
        t0 = time.time()
        with torch.inference_mode():
            for _ in range(3):  # cudagraph trees record on the second or third call
                compiled(x)
        torch.cuda.synchronize()
        r["compile_s"] = time.time() - t0
        # The comparison's number: GPU time per call with the calls back to back, as trtbench's
        # GPU Compute Time is; the synchronized per-call latency beside it.
        r["compile_ms"] = cuda_stream_ms(compiled, x, max(20, iters // 5))
        r["compile_call_ms"] = cuda_median_ms(compiled, x, iters)
        del compiled
        torch._dynamo.reset()
    torch.cuda.empty_cache()
    return r


def render(out, rows):
    try:  # the versions come from the rows when this machine has no PyTorch (--render)
        import torch
    except ImportError:
        torch = None

    order = {(m, lab): i for i, (m, _, _, cs) in enumerate(PLAN) for lab, _ in cs}
    rows = sorted(rows, key=lambda r: order.get((r["model"], r["case"]), 99))
    # Rows may come from several calls (report_call.sh resumes): name each commit with its models.
    by_commit = {}
    for r in rows:
        by_commit.setdefault(r.get("commit", "?"), []).append(r["model"])
    commits = ", ".join(f"{c} ({', '.join(dict.fromkeys(ms))})" for c, ms in by_commit.items()) or "?"
    json.dump(rows, open(os.path.join(out, "benchmarks.json"), "w"), indent=1)
    how_plot = plot(os.path.join(out, "benchmarks.png"), rows)
    gpu = (torch.cuda.get_device_name() if torch and torch.cuda.is_available()
           else rows[0].get("gpu", "?") if rows else "?")
    torch_version = rows[0].get("torch") if rows and rows[0].get("torch") else (torch.__version__ if torch else "?")
    cuda_version = rows[0].get("cuda") if rows and rows[0].get("cuda") else (torch.version.cuda if torch else "?")
    started = min((r.get("started", "") for r in rows), default="")
    f = lambda v, d=3: "" if v is None else f"{v:.{d}f}"  # noqa: E731
    lines = [
        "# Benchmarks",
        "",
        f"Generated by `python3 scripts/bench/report.py` on {gpu}, run started {started}; "
        f"torch {torch_version}, CUDA {cuda_version}, trt commit {commits}. "
        "Do not edit by hand: rerun the script.",
        "",
        "Latency is the median GPU time per inference. trt: CUDA events around each CUDA-graph replay"
        " (trtbench's GPU Compute Time). torch.compile: CUDA events around 20 or more back-to-back calls,"
        " divided by their count, the median of 7 such runs, so that the host's Python overlaps the GPU's"
        " work as it does for trtbench's replays; 'compile fp16 ms, synced call' is its latency of one call"
        " with a synchronize after it, host work included (rows without it were timed that way only, and"
        " that was their 'compile fp16 ms'). Eager PyTorch: per synced call. FP16 unless marked;"
        " FP32 runs with TF32 off on both sides. torch.compile is mode=\"reduce-overhead\" (CUDA graphs),"
        " compiled once per shape; its compile time is the first three calls. Throughput is batch / latency."
        " Each trt engine is built for its case's shape (`--shapes`), its tactics timed on the device; build"
        " times are the whole trtbuild process (ONNX parse to plan written), cold with an empty timing cache,"
        " warm with the cache the cold build wrote. FP16 engines have fp16 inputs and outputs"
        " (`--inputIOFormats=fp16 --outputIOFormats=fp16`) where the row says fp16_io, as PyTorch's half"
        " model takes and returns fp16 (the integer token ids stay int64); earlier rows had float32 bindings.",
        "",
        "| model | case | trt fp32 ms | eager fp32 ms | trt fp16 ms | eager fp16 ms | compile fp16 ms | trt vs compile | "
        "compile fp16 ms, synced call | trt fp16 per s | build fp32 / fp16 s | fp16 rebuild, warm timing cache s | compile s |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        c = r.get("compile_fp16_ms")
        ratio = "" if not c else "%.2fx" % (c / r["trt_fp16_ms"])
        lines.append(f"| {r['model']} | {r['case']} | {f(r.get('trt_fp32_ms'))} | {f(r.get('eager_fp32_ms'))} | "
                     f"{f(r['trt_fp16_ms'])} | {f(r.get('eager_fp16_ms'))} | {f(c)} | {ratio} | "
                     f"{f(r.get('compile_fp16_call_ms'))} | {f(r['trt_fp16_per_s'], 0)} | {f(r['build_fp32_s'], 1)} / {f(r['build_fp16_s'], 1)} | "
                     f"{f(r.get('build_fp16_warm_s'), 2)} | {f(r.get('compile_fp16_s'), 1)} |")
    lines += [
        "",
        "Device memory (MiB). trt: weights + activation arena + workspace, from the engine's plan."
        " PyTorch: torch.cuda.max_memory_allocated() over the timed eager runs; its activations are that peak"
        " minus the weights.",
        "",
        "| model | case | trt fp32 total | trt fp32 arena | eager fp32 peak | eager fp32 act | fp32 arena / eager act |"
        " trt fp16 total | trt fp16 arena | eager fp16 peak | eager fp16 act | fp16 arena / eager act |"
        " fp16 total / eager fp32 peak |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        def ratio(a, b):  # three places: the bar is "less than 0.5"
            return "" if not r.get(a) or not r.get(b) else "%.3f" % (r[a] / r[b])

        lines.append(f"| {r['model']} | {r['case']} | {f(r.get('trt_fp32_mem_mib'), 1)} | {f(r.get('trt_fp32_arena_mib'), 1)} | "
                     f"{f(r.get('eager_fp32_peak_mib'), 1)} | {f(r.get('eager_fp32_act_mib'), 1)} | "
                     f"{ratio('trt_fp32_arena_mib', 'eager_fp32_act_mib')} | "
                     f"{f(r.get('trt_fp16_mem_mib'), 1)} | {f(r.get('trt_fp16_arena_mib'), 1)} | "
                     f"{f(r.get('eager_fp16_peak_mib'), 1)} | {f(r.get('eager_fp16_act_mib'), 1)} | "
                     f"{ratio('trt_fp16_arena_mib', 'eager_fp16_act_mib')} | {ratio('trt_fp16_mem_mib', 'eager_fp32_peak_mib')} |")
    lines += [
        "",
        "Engine layers of each FP16 engine above (`tests/models/check_layer_counts.py`'s rules, issue 4:"
        " ResNet-50 at most 60 layers with every Conv(+BN)+ReLU and residual Add+ReLU in a conv layer;"
        " BERT at most 8 and GPT-2 at most 9 layers a block; every YOLOv5s Conv(+BN)+SiLU one layer).",
        "",
        "| model | case | export | fp16 engine layers | rules |",
        "|---|---|---|---|---|",
    ]
    for r in rows:
        if "layers_fp16" not in r:
            continue
        verdict = "ok" if r.get("layers_fp16_ok") else "FAIL: " + "; ".join(r.get("layers_fp16_problems", []))
        lines.append(f"| {r['model']} | {r['case']} | {r.get('export', '')} | {r['layers_fp16']} | {verdict} |")
    lines += ["", f"![latency](benchmarks.png) ({how_plot})", ""]
    open(os.path.join(out, "benchmarks.md"), "w").write("\n".join(lines))
    print("\n".join(lines))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True, help="directory with trtbuild and trtbench")
    ap.add_argument("--out", default=os.path.join(ROOT, "docs"))
    ap.add_argument("--work", default="", help="keeps models, plans and rows.jsonl; a rerun resumes from it")
    ap.add_argument("--only", default="", help="comma-separated model names")
    ap.add_argument("--iters", type=int, default=50)
    ap.add_argument("--quick", action="store_true", help="fewer iterations, no torch.compile")
    ap.add_argument("--bar", action="store_true", help="only the issue-4 bar's nine cases (BAR)")
    ap.add_argument("--render", action="store_true", help="only write the report from WORK/rows.jsonl")
    ap.add_argument("--fp32-io", action="store_true",
                    help="FP16 engines with float32 bindings (default: fp16 I/O, --inputIOFormats=fp16 "
                         "--outputIOFormats=fp16, as PyTorch's half model takes and returns fp16)")
    a = ap.parse_args()
    if a.render:  # no PyTorch needed: the rows are all there is
        rows_path = os.path.join(a.work or ".", "rows.jsonl")
        rows = [json.loads(line) for line in open(rows_path)] if os.path.exists(rows_path) else []
        os.makedirs(a.out, exist_ok=True)
        render(a.out, rows)
        return 0
    import torch

    sys.path.insert(0, os.path.join(ROOT, "scripts", "gpu"))
    from torch_compare import export  # noqa: E402
    from torch_models import MODELS  # noqa: E402

    work = a.work or tempfile.mkdtemp()
    os.makedirs(work, exist_ok=True)
    os.makedirs(a.out, exist_ok=True)
    rows_path = os.path.join(work, "rows.jsonl")
    rows = [json.loads(line) for line in open(rows_path)] if os.path.exists(rows_path) else []
    done = {(r["model"], r["case"]) for r in rows}
    if a.render:
        render(a.out, rows)
        return 0
    iters = 10 if a.quick else a.iters
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    started = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    commit_file = os.path.join(ROOT, ".gpu", "commit")  # written by scripts/gpu/bundle.sh
    if os.path.exists(commit_file):
        commit = open(commit_file).read().strip()
    else:
        try:
            commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True,
                                    text=True).stdout.strip() or "?"
        except OSError:
            commit = "?"
    for model_name, variant, shape_of, cases in PLAN:
        if a.only and model_name not in a.only.split(","):
            continue
        if a.bar:
            cases = [(label, batch) for label, batch in cases if (model_name, label) in BAR]
        if all((model_name, label) in done for label, _ in cases):
            continue
        try:
            factory, _, _, cnn = MODELS[model_name]
            torch.manual_seed(0)
            model = factory().eval()
            input_name, shape = shape_of(1)
            example = torch.randint(0, 1000, shape) if input_name == "input_ids" else torch.randn(shape)
            onnx_path = os.path.join(work, f"{model_name}_{variant}.onnx")
            how = export(model, model_name, input_name, example, onnx_path)
            full = model.cuda()
            half = copy.deepcopy(full).half()
            if cnn:
                half = half.to(memory_format=torch.channels_last)
            for label, batch in cases:
                if (model_name, label) in done:
                    continue
                _, shape = shape_of(batch)
                # Engines built for this case's shape (trtexec's --shapes at build time), so the
                # builder times its tactics at that shape; FP16 is built twice, cold (fresh timing
                # cache) then warm (the cache the cold build wrote).
                shapes = f"{input_name}:{'x'.join(map(str, shape))}"
                plans, build_s = {}, {}
                tag = f"{model_name}_{variant}_b{batch}"
                f16 = ["--fp16"] + ([] if a.fp32_io else ["--inputIOFormats=fp16", "--outputIOFormats=fp16"])
                for prec, flags, cache in (("fp32", [], "fp32"), ("fp16", f16, "fp16"), ("fp16_warm", f16, "fp16")):
                    plan = os.path.join(work, f"{tag}.{prec}.plan")
                    cache_path = os.path.join(work, f"{tag}.{cache}.timing")
                    if prec != "fp16_warm" and os.path.exists(cache_path):
                        os.remove(cache_path)
                    t0 = time.time()
                    run([os.path.join(a.bin, "trtbuild"), onnx_path, "--device", "cuda", "--shapes", shapes,
                         "--timing-cache", cache_path, "-o", plan] + flags)
                    build_s[prec] = time.time() - t0
                    if prec != "fp16_warm":
                        plans[prec] = plan
                # Issue 4's layer counts, on the FP16 engine of this export (the model tests' rules)
                try:
                    detail, problems = check_plan(model_name, onnx_path, plans["fp16"], a.bin)
                except Exception as ex:  # the check must not cost the timings
                    detail, problems = "", [f"check failed: {ex!r}"[:200]]
                row_layers = dict(layers_fp16=detail, layers_fp16_problems=problems[:3],
                                  layers_fp16_ok=not problems)
                row = dict(model=model_name, case=label, export=how, build_fp32_s=build_s["fp32"],
                           build_fp16_s=build_s["fp16"], build_fp16_warm_s=build_s["fp16_warm"], started=started,
                           commit=commit, gpu=torch.cuda.get_device_name(), fp16_io=not a.fp32_io,
                           torch=torch.__version__, cuda=torch.version.cuda)
                for prec in ("fp32", "fp16"):
                    ms, mem = bench_trt(a.bin, plans[prec], input_name, shape, iters)
                    row[f"trt_{prec}_ms"] = ms
                    row[f"trt_{prec}_mem_mib"] = sum(mem) / 2**20
                    row[f"trt_{prec}_arena_mib"] = mem[1] / 2**20
                row.update(row_layers)
                row["trt_fp16_per_s"] = batch / row["trt_fp16_ms"] * 1000
                x = (torch.randint(0, 1000, shape) if input_name == "input_ids" else torch.randn(shape)).cuda()
                for r in ("fp32", "fp16"):
                    m = full if r == "fp32" else half
                    xi = x if r == "fp32" or not x.is_floating_point() else x.half()
                    if cnn and r == "fp16":
                        xi = xi.contiguous(memory_format=torch.channels_last)
                    res = torch_case(m, xi, iters, compile_it=(r == "fp16" and not a.quick))
                    for k, v in res.items():
                        row[k.replace("_", f"_{r}_", 1) if k.startswith("eager") else k.replace("compile", f"compile_{r}")] = v
                print(json.dumps(row), flush=True)
                rows.append(row)
                with open(rows_path, "a") as fh:
                    fh.write(json.dumps(row) + "\n")
            del model, full, half
            torch.cuda.empty_cache()
        except Exception:
            traceback.print_exc()
    order = {(m, lab): i for i, (m, _, _, cs) in enumerate(PLAN) for lab, _ in cs}
    rows.sort(key=lambda r: order.get((r["model"], r["case"]), 99))
    render(a.out, rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
