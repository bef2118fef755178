#!/usr/bin/env python3
"""convscope against PyTorch, end to end, on the same GPU: runs both and prints the ratio table.

    python3 bench/compare.py --build build-gpu [--out-dir DIR] [--precision fp32 tf32 bf16]
        runs build-gpu/bench/convscope_bench (the BM_Train / BM_Infer rows) and
        bench/pytorch_baseline.py, writes convscope.json, pytorch.json and
        comparison.md into DIR (default bench-compare-<date>), prints the table.
    python3 bench/compare.py --convscope FILE.json --pytorch FILE.json
        compares results already written (FILE.json of `convscope bench`, or
        convscope_bench's own --benchmark_out JSON).

ratio = convscope images/s / PyTorch fp32 images/s (> 1: convscope faster);
PyTorch's TF32 and bf16 numbers, when measured, are shown beside for context.
"""

import argparse
import datetime
import json
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SUFFIX = re.compile(r"/(iterations:\d+|manual_time|real_time|min_time:[^/]*|repeats:\d+|threads:\d+)")


def convscope_rows(path):
    """{row name: images/s, step_ms, epoch_s} from either JSON convscope writes."""
    with open(path) as f:
        data = json.load(f)
    out = {}
    for b in data.get("benchmarks", []):
        if b.get("error_occurred") or "images_per_s" not in b:
            continue
        out[SUFFIX.sub("", b["name"])] = b
    return out


def pytorch_rows(path):
    """{(row name, precision): row} from pytorch_baseline.py's JSON."""
    with open(path) as f:
        data = json.load(f)
    return {(r["name"], r["precision"]): r for r in data["rows"]}, data.get("context", {})


def table(ours, theirs):
    header = ["row", "convscope img/s", "step ms", "epoch s", "PyTorch fp32 img/s", "step ms",
              "epoch s", "ratio", "PyTorch TF32 img/s", "PyTorch bf16 img/s"]
    lines = []
    for name in sorted(set(n for n, _ in theirs) | set(ours)):
        if not name.endswith("/cuda"):
            continue
        o, p = ours.get(name), theirs.get((name, "fp32"))
        t, b = theirs.get((name, "tf32")), theirs.get((name, "bf16"))

        def num(row, key, fmt):
            return format(row[key], fmt) if row and key in row else ""

        ratio = f"{o['images_per_s'] / p['images_per_s']:.2f}x" if o and p else ""
        lines.append([name, num(o, "images_per_s", ".0f"), num(o, "step_ms", ".3f"), num(o, "epoch_s", ".2f"),
                      num(p, "images_per_s", ".0f"), num(p, "step_ms", ".3f"), num(p, "epoch_s", ".2f"),
                      ratio, num(t, "images_per_s", ".0f"), num(b, "images_per_s", ".0f")])
    md = "| " + " | ".join(header) + " |\n|" + "---|" + "---:|" * (len(header) - 1) + "\n"
    md += "".join("| " + " | ".join(l) + " |\n" for l in lines)
    widths = [max(len(r[i]) for r in [header] + lines) for i in range(len(header))]
    text = "\n".join("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths)))
                     for r in [header] + lines)
    return text, md


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build", help="convscope build folder holding bench/convscope_bench")
    parser.add_argument("--out-dir", help="where to write the results (default bench-compare-<date>)")
    parser.add_argument("--precision", nargs="+", default=["fp32", "tf32", "bf16"],
                        help="PyTorch precisions to measure (fp32 is the comparison)")
    parser.add_argument("--min-time", default="0.5", help="seconds of timing per convscope row")
    parser.add_argument("--convscope", help="existing convscope JSON")
    parser.add_argument("--pytorch", help="existing pytorch_baseline.py JSON")
    args = parser.parse_args(argv)

    if not (args.convscope and args.pytorch):
        if not args.build:
            parser.error("give --build (to run both) or --convscope and --pytorch (to compare files)")
        out_dir = args.out_dir or "bench-compare-" + datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
        os.makedirs(out_dir, exist_ok=True)
        args.convscope = args.convscope or os.path.join(out_dir, "convscope.json")
        args.pytorch = args.pytorch or os.path.join(out_dir, "pytorch.json")
        binary = os.path.join(args.build, "bench", "convscope_bench")
        subprocess.run([binary, "--benchmark_filter=^BM_(Train|Infer)/.*/cuda", f"--benchmark_min_time={args.min_time}",
                        "--benchmark_format=console", f"--benchmark_out={args.convscope}",
                        "--benchmark_out_format=json"], check=True)
        subprocess.run([sys.executable, os.path.join(HERE, "pytorch_baseline.py"), "--out", args.pytorch,
                        "--precision", *args.precision], check=True)
    else:
        out_dir = args.out_dir or os.path.dirname(os.path.abspath(args.pytorch))

    ours = convscope_rows(args.convscope)
    theirs, context = pytorch_rows(args.pytorch)
    text, md = table(ours, theirs)
    head = (f"convscope vs PyTorch {context.get('torch', '?')} (cuDNN {context.get('cudnn', '?')}) on "
            f"{context.get('gpu', '?')}, {context.get('date', '')}\n"
            "ratio = convscope img/s / PyTorch fp32 img/s; fp32 with TF32 off on both sides; "
            "epoch s projected from the step time\n")
    print(head + "\n" + text)
    path = os.path.join(out_dir, "comparison.md")
    with open(path, "w") as f:
        f.write(head.replace("\n", "\n\n") + md)
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
