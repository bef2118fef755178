#!/usr/bin/env python3
"""Checks convscope against PyTorch on the same weights and the same inputs.

For torchvision's AlexNet and a PyTorch ZFNet built layer for layer like
convscope's zfnet spec, with fixed seeds:

1. PyTorch's weights -> convscope: saves them as safetensors, runs
   `convscope gradients` on the same input batch, and compares the logits, the
   input gradient of one class score (--class) and every weight gradient, in
   eval and train mode (dropout off), on each device given, in fp32 and (on
   the CPU) fp64.
2. convscope's weights -> PyTorch: trains the convscope model for one tiny
   epoch (`convscope train`, FashionMNIST unless --train-data), loads its
   checkpoint.safetensors with safetensors.torch.load_file +
   load_state_dict(strict=True), and compares the logits and gradients of the
   two on the same batch (eval mode). Skip with --no-checkpoint-check.

Two error measures per tensor, both printed, both gated:
  max-rel   max |ours - torch| / max |torch|           (<= --tolerance)
  elem      max |ours - torch| / (atol + |torch|),     (<= --elem-tolerance)
            atol = --atol-fraction * max |torch|: a per-element relative error
            that does not blow up on entries that cancel to about zero (their
            fp32 error scales with the summed terms, not with the result).
            With the defaults (0.1, 1e-4) an element passes when
            |ours - torch| <= 1e-5 max |torch| + 1e-4 |torch|: about as strict as
            max-rel on the largest entries, ten times stricter on small ones.
The fp64 runs use --double-tolerance for both.

Usage: scripts/compare_with_pytorch.py [--convscope build/cli/convscope]
           [--devices cpu cuda] [--models alexnet zfnet] [--size 224] [--batch 1]
           [--classes 10] [--class 3] [--no-checkpoint-check]
Needs torch, torchvision, numpy and safetensors (pip).
"""
import argparse
import math
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch
import torch.nn as nn
from safetensors.torch import load_file, save_file


def zfnet(classes: int, channels: int = 3, size: int = 224) -> nn.Module:
    """ZFNet as in convscope's models/specs/zfnet.spec (same layer indices).
    The first linear layer's inputs follow from the input size, as convscope's
    spec infers them: 256 * 6 * 6 at 224, 256 * 1 * 1 at 64."""

    class ZFNet(nn.Module):
        def __init__(self):
            super().__init__()
            lrn = lambda: nn.LocalResponseNorm(5, alpha=0.0005, beta=0.75, k=2.0)
            self.features = nn.Sequential(
                nn.Conv2d(channels, 96, 7, stride=2, padding=1), nn.ReLU(),
                nn.MaxPool2d(3, 2, ceil_mode=True), lrn(),
                nn.Conv2d(96, 256, 5, stride=2), nn.ReLU(),
                nn.MaxPool2d(3, 2, ceil_mode=True), lrn(),
                nn.Conv2d(256, 384, 3, padding=1), nn.ReLU(),
                nn.Conv2d(384, 384, 3, padding=1), nn.ReLU(),
                nn.Conv2d(384, 256, 3, padding=1), nn.ReLU(),
                nn.MaxPool2d(3, 2))
            with torch.no_grad():
                flat = self.features(torch.zeros(1, channels, size, size)).numel()
            self.classifier = nn.Sequential(
                nn.Dropout(0.0), nn.Linear(flat, 4096), nn.ReLU(),
                nn.Dropout(0.0), nn.Linear(4096, 4096), nn.ReLU(), nn.Linear(4096, classes))

        def forward(self, x):
            return self.classifier(torch.flatten(self.features(x), 1))

    return ZFNet()


def build(name: str, classes: int, size: int) -> nn.Module:
    torch.manual_seed(1234)
    if name == "alexnet":
        import torchvision
        model = torchvision.models.alexnet(weights=None, num_classes=classes, dropout=0.0)
    elif name == "zfnet":
        model = zfnet(classes, size=size)
    else:
        raise SystemExit(f"unknown model {name} (expected alexnet or zfnet)")
    return model.float()


def min_pool_gap(model: nn.Module, x: np.ndarray, train: bool) -> float:
    """The smallest relative gap between the two largest positive values of
    any max-pool window, on this input. Below ~1e-5, float rounding decides
    which input wins the window, and with it where the gradient goes: two
    correct implementations can then disagree, so such inputs are skipped."""
    import torch.nn.functional as F
    gaps = []

    def hook(pool, inputs, output):
        t = inputs[0].detach()
        n, c, h, w = t.shape
        k, s = pool.kernel_size, pool.stride
        # The windows PyTorch used (ceil mode drops a last window that would
        # start outside the input), padded with -inf on the right and bottom.
        oh, ow = output.shape[-2:]
        pad_h, pad_w = max(0, (oh - 1) * s + k - h), max(0, (ow - 1) * s + k - w)
        t = F.pad(t, (0, pad_w, 0, pad_h), value=float("-inf")).reshape(n * c, 1, h + pad_h, w + pad_w)
        top = F.unfold(t, k, stride=s).topk(2, dim=1).values
        positive = top[:, 0] > 0
        if positive.any():
            gap = (top[:, 0] - top[:, 1]) / top[:, 0]
            gaps.append(float(gap[positive].min()))

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, nn.MaxPool2d)]
    model.train(train)
    with torch.no_grad():
        model(torch.tensor(x))
    for h in handles:
        h.remove()
    return min(gaps) if gaps else 1.0


def pick_input(make_model, shape, rng):
    """An input whose max-pool windows all have a clear winner (see min_pool_gap)."""
    best_gap, x, attempt = -1.0, None, 0
    for attempt in range(30):
        candidate = rng.standard_normal(shape).astype(np.float32)
        gap = min(min_pool_gap(make_model(), candidate, t) for t in (False, True))
        if gap > best_gap:
            best_gap, x = gap, candidate
        if gap > 1e-5:
            break
    return x, best_gap, attempt + 1


def torch_gradients(model: nn.Module, x: np.ndarray, target: int, train: bool, device: str,
                    dtype=torch.float32):
    model = model.to(device=device, dtype=dtype)
    model.train(train)
    inp = torch.tensor(x, device=device, dtype=dtype, requires_grad=True)
    model.zero_grad(set_to_none=True)
    logits = model(inp)
    logits[:, target].sum().backward()
    out = {"logits": logits.detach(), "input_grad": inp.grad.detach()}
    for name, p in model.named_parameters():
        out["grad." + name] = p.grad.detach()
    return {k: v.cpu().double().numpy() for k, v in out.items()}


def errors(ours: np.ndarray, ref: np.ndarray, atol_fraction: float):
    """(max-rel, elem): see the module docstring."""
    ours = ours.astype(np.float64)
    diff = np.abs(ours - ref)
    scale = float(np.abs(ref).max()) or 1.0
    if not np.all(np.isfinite(ours)):
        return math.inf, math.inf
    return float(diff.max()) / scale, float((diff / (atol_fraction * scale + np.abs(ref))).max())


class Report:
    def __init__(self, args):
        self.args = args
        self.failures = []
        self.worst = {}  # (model, precision) -> (max-rel, elem)

    def compare(self, label, model_name, precision, ref, ours):
        if set(ref) != set(ours):
            self.failures.append(f"{label}: tensors differ: {sorted(set(ref) ^ set(ours))}")
            return
        tol = self.args.tolerance if precision == "fp32" else self.args.double_tolerance
        elem_tol = self.args.elem_tolerance if precision == "fp32" else self.args.double_tolerance
        print(f"{label}:")
        for key in sorted(ref):
            if ours[key].shape != ref[key].shape:
                self.failures.append(f"{label} {key}: shape {ours[key].shape} vs {ref[key].shape}")
                continue
            rel, elem = errors(ours[key], ref[key], self.args.atol_fraction)
            w = self.worst.setdefault((model_name, precision), [0.0, 0.0])
            w[0], w[1] = max(w[0], rel), max(w[1], elem)
            bad = rel > tol or elem > elem_tol
            print(f"  {key:32s} max-rel {rel:.2e}  elem {elem:.2e}{'   <-- above tolerance' if bad else ''}")
            if bad:
                self.failures.append(f"{label} {key}: max-rel {rel:.2e}, elem {elem:.2e}")


def run(cmd):
    result = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if result.returncode != 0:
        raise SystemExit(f"failed ({result.returncode}): {' '.join(cmd)}\n{result.stdout}")
    return result.stdout


def convscope_gradients(args, checkpoint, inputs, out, device, train, double, extra):
    cmd = [args.convscope, "gradients", "--checkpoint", checkpoint, "--input", inputs,
           "--class", str(args.target), "--out", out, "--device", device] + extra
    cmd += (["--train"] if train else []) + (["--double"] if double else [])
    run(cmd)
    return {k: v.double().numpy() for k, v in load_file(out).items()}


def check_torch_weights_in_convscope(args, name, tmp, rng, report):
    model = build(name, args.classes, args.size)
    weights = os.path.join(tmp, f"{name}.safetensors")
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, weights)
    x, gap, draws = pick_input(lambda: build(name, args.classes, args.size),
                               (args.batch, 3, args.size, args.size), rng)
    print(f"{name}: input with smallest max-pool gap {gap:.1e} (after {draws} draws)")
    inputs = os.path.join(tmp, f"{name}-x.npy")
    np.save(inputs, x)
    extra = ["--model", name, "--set", f"classes={args.classes}", "--set", "dropout=0",
             "--set", f"size={args.size}"]
    # fp32 on every device, and fp64 on the CPU, where rounding can never decide a max-pool window.
    runs = [(d, "fp32") for d in args.devices] + ([("cpu", "fp64")] if "cpu" in args.devices else [])
    for device, precision in runs:
        for train in (False, True):
            mode = "train" if train else "eval"
            out = os.path.join(tmp, f"{name}-{device}-{precision}-{mode}.safetensors")
            ours = convscope_gradients(args, weights, inputs, out, device, train, precision == "fp64", extra)
            dtype = torch.float64 if precision == "fp64" else torch.float32
            ref = torch_gradients(build(name, args.classes, args.size), x, args.target, train, device, dtype)
            report.compare(f"{name} torch weights, {device}, {precision}, {mode} mode", name, precision, ref, ours)


def check_convscope_checkpoint_in_torch(args, name, tmp, rng, report):
    """Trains convscope's model one tiny epoch and loads the checkpoint in PyTorch."""
    classes = 10  # FashionMNIST's (or the --train-data folder's) classes
    run_dir = os.path.join(tmp, f"{name}-run")
    cmd = [args.convscope, "train", "--model", name, "--out", run_dir, "--device", "cpu", "--epochs", "1",
           "--batch-size", "2", "--no-progress", "--viz", "none", "--set", f"size={args.size}",
           "--set", f"classes={classes}", "--set", "max_train=2", "--set", "max_test=2",
           "--set", "eval_batch_size=2", "--lr", "0.001"]
    if args.train_data:
        cmd += ["--data", args.train_data]
    run(cmd)
    checkpoint = os.path.join(run_dir, "checkpoint.safetensors")
    state = load_file(checkpoint)
    model = build(name, classes, args.size)
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as e:
        report.failures.append(f"{name}: convscope's checkpoint does not load in PyTorch: {e}")
        return
    print(f"{name}: convscope checkpoint ({len(state)} tensors) loaded with load_state_dict(strict=True)")
    x, gap, draws = pick_input(lambda: model, (args.batch, 3, args.size, args.size), rng)
    print(f"{name}: input with smallest max-pool gap {gap:.1e} (after {draws} draws)")
    inputs = os.path.join(tmp, f"{name}-ckpt-x.npy")
    np.save(inputs, x)
    out = os.path.join(tmp, f"{name}-ckpt-grads.safetensors")
    ours = convscope_gradients(args, checkpoint, inputs, out, "cpu", False, False, [])
    ref = torch_gradients(model, x, args.target, False, "cpu")
    report.compare(f"{name} convscope checkpoint, cpu, fp32, eval mode", name, "fp32", ref, ours)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--convscope", default="build/cli/convscope")
    ap.add_argument("--devices", nargs="+", default=["cpu"] + (["cuda"] if torch.cuda.is_available() else []))
    ap.add_argument("--models", nargs="+", default=["alexnet", "zfnet"], choices=["alexnet", "zfnet"])
    ap.add_argument("--size", type=int, default=224, help="input height and width")
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--classes", type=int, default=10)
    ap.add_argument("--class", dest="target", type=int, default=3, help="class whose score is differentiated")
    ap.add_argument("--tolerance", type=float, default=1e-4, help="fp32 max-rel tolerance")
    ap.add_argument("--elem-tolerance", type=float, default=1e-4, help="fp32 elem tolerance")
    ap.add_argument("--atol-fraction", type=float, default=0.1,
                    help="elem's atol as a fraction of the tensor's max |torch|")
    ap.add_argument("--double-tolerance", type=float, default=1e-10, help="fp64 (CPU) tolerance, both measures")
    ap.add_argument("--no-checkpoint-check", action="store_true",
                    help="skip loading a convscope-trained checkpoint into PyTorch")
    ap.add_argument("--train-data", default="", help="dataset folder for that check (default: FashionMNIST)")
    args = ap.parse_args()
    if not 0 <= args.target < args.classes:
        ap.error(f"--class {args.target} outside 0..{args.classes - 1}")
    if not args.no_checkpoint_check and args.target >= 10:
        ap.error("--class must be below 10 for the checkpoint check (10 classes); or --no-checkpoint-check")
    if not os.access(args.convscope, os.X_OK):
        ap.error(f"--convscope {args.convscope}: not an executable (build convscope first)")
    # PyTorch's own fp32 must stay fp32 for the comparison.
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cudnn.deterministic = True

    report = Report(args)
    rng = np.random.default_rng(7)
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.models:
            check_torch_weights_in_convscope(args, name, tmp, rng, report)
            if not args.no_checkpoint_check:
                check_convscope_checkpoint_in_torch(args, name, tmp, rng, report)
    print("worst errors per model:")
    for (name, precision), (rel, elem) in sorted(report.worst.items()):
        print(f"  {name:8s} {precision}: max-rel {rel:.2e}, elem {elem:.2e}")
    print(f"tolerances: fp32 max-rel {args.tolerance:g}, elem {args.elem_tolerance:g} "
          f"(atol {args.atol_fraction:g} x max); fp64 {args.double_tolerance:g}")
    for f in report.failures:
        print("FAIL", f)
    print("FAILED" if report.failures else "PASSED")
    return 1 if report.failures else 0


if __name__ == "__main__":
    sys.exit(main())
