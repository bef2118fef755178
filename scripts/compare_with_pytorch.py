#!/usr/bin/env python3
"""Checks convscope against PyTorch on the same weights and the same inputs.

For torchvision's AlexNet and a PyTorch ZFNet built layer for layer like
convscope's zfnet spec, with fixed seeds: saves the weights as safetensors,
runs `convscope gradients` on the same input batch, and compares the logits,
the input gradient of one class score and every weight gradient, in eval and
train mode (dropout off), on each device given. Prints the worst relative
error per tensor (max |ours - torch| / max |torch|) and exits non-zero above
the tolerance.

Usage: scripts/compare_with_pytorch.py [--convscope build/cli/convscope]
           [--devices cpu cuda] [--models alexnet zfnet] [--size 224] [--batch 2]
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


def zfnet(classes: int, channels: int = 3) -> nn.Module:
    """ZFNet as in convscope's models/specs/zfnet.spec (same layer indices)."""

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
            self.classifier = nn.Sequential(
                nn.Dropout(0.0), nn.Linear(256 * 6 * 6, 4096), nn.ReLU(),
                nn.Dropout(0.0), nn.Linear(4096, 4096), nn.ReLU(), nn.Linear(4096, classes))

        def forward(self, x):
            return self.classifier(torch.flatten(self.features(x), 1))

    return ZFNet()


def build(name: str, classes: int) -> nn.Module:
    torch.manual_seed(1234)
    if name == "alexnet":
        import torchvision
        model = torchvision.models.alexnet(weights=None, num_classes=classes, dropout=0.0)
    elif name == "zfnet":
        model = zfnet(classes)
    else:
        raise SystemExit(f"unknown model {name}")
    return model.float()


def min_pool_gap(model: nn.Module, x: np.ndarray, train: bool) -> float:
    """The smallest relative gap between the two largest positive values of
    any max-pool window, on this input. Below ~1e-5, float rounding decides
    which input wins the window, and with it where the gradient goes: two
    correct implementations can then disagree, so such inputs are skipped."""
    import torch.nn.functional as F
    gaps = []

    def hook(pool, inputs, _):
        t = inputs[0].detach()
        n, c, h, w = t.shape
        k, s = pool.kernel_size, pool.stride
        rnd = math.ceil if pool.ceil_mode else math.floor
        oh, ow = rnd((h - k) / s) + 1, rnd((w - k) / s) + 1
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


def torch_gradients(model: nn.Module, x: np.ndarray, target: int, train: bool, device: str):
    model = model.to(device)
    model.train(train)
    inp = torch.tensor(x, device=device, requires_grad=True)
    model.zero_grad(set_to_none=True)
    logits = model(inp)
    logits[:, target].sum().backward()
    out = {"logits": logits.detach(), "input_grad": inp.grad.detach()}
    for name, p in model.named_parameters():
        out["grad." + name] = p.grad.detach()
    return {k: v.float().cpu().numpy() for k, v in out.items()}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--convscope", default="build/cli/convscope")
    ap.add_argument("--devices", nargs="+", default=["cpu"] + (["cuda"] if torch.cuda.is_available() else []))
    ap.add_argument("--models", nargs="+", default=["alexnet", "zfnet"])
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--batch", type=int, default=2)
    ap.add_argument("--classes", type=int, default=10)
    ap.add_argument("--tolerance", type=float, default=1e-4)
    args = ap.parse_args()
    # PyTorch's own fp32 must stay fp32 for the comparison.
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cudnn.deterministic = True

    worst_overall = 0.0
    failures = []
    rng = np.random.default_rng(7)
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.models:
            model = build(name, args.classes)
            weights = os.path.join(tmp, f"{name}.safetensors")
            save_file({k: v.contiguous() for k, v in model.state_dict().items()}, weights)
            # An input whose max-pool windows all have a clear winner (see min_pool_gap).
            for attempt in range(20):
                x = rng.standard_normal((args.batch, 3, args.size, args.size)).astype(np.float32)
                gap = min(min_pool_gap(build(name, args.classes), x, t) for t in (False, True))
                if gap > 1e-4:
                    break
                print(f"{name}: input {attempt} has a max-pool near-tie (relative gap {gap:.1e}); drawing another")
            inputs = os.path.join(tmp, "x.npy")
            np.save(inputs, x)
            target = 3
            for device in args.devices:
                for train in (False, True):
                    mode = "train" if train else "eval"
                    out = os.path.join(tmp, f"{name}-{device}-{mode}.safetensors")
                    cmd = [args.convscope, "gradients", "--checkpoint", weights, "--model", name,
                           "--set", f"classes={args.classes}", "--set", "dropout=0",
                           "--set", f"size={args.size}", "--input", inputs, "--class", str(target),
                           "--out", out, "--device", device] + (["--train"] if train else [])
                    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
                    ours = {k: v.numpy() for k, v in load_file(out).items()}
                    ref = torch_gradients(build(name, args.classes), x, target, train, device)
                    missing = set(ref) ^ set(ours)
                    if missing:
                        failures.append(f"{name} {device} {mode}: tensors differ: {sorted(missing)}")
                        continue
                    print(f"{name} on {device}, {mode} mode:")
                    for key in sorted(ref):
                        scale = float(np.abs(ref[key]).max()) or 1.0
                        err = float(np.abs(ours[key] - ref[key]).max()) / scale
                        worst_overall = max(worst_overall, err)
                        flag = "" if err <= args.tolerance else "   <-- above tolerance"
                        print(f"  {key:32s} max rel error {err:.2e}{flag}")
                        if err > args.tolerance:
                            failures.append(f"{name} {device} {mode} {key}: {err:.2e}")
    print(f"worst relative error {worst_overall:.2e} (tolerance {args.tolerance:g})")
    for f in failures:
        print("FAIL", f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
