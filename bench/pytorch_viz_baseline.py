#!/usr/bin/env python3
"""PyTorch (eager) timings of the visualization workloads that convscope's
bench/bench_viz.cpp times, on the same GPU, with the same sizes; rows are
named BM_Viz/<name>/<device> as there:

  occlusion          AlexNet, one 224x224 image, 25x25 = 625 occluded copies
                     (window 32, stride 9), batched through the network
  saliency           AlexNet, gradient of one class score w.r.t. one image
  deepdream          AlexNet features.8 (conv4), 3 octaves x 20 steps, 224x224
  style              AlexNet, 100 Adam steps on a 256x256 image, content conv4,
                     style conv1..conv5 Gram matrices (conv outputs, as
                     convscope's features.0/3/6/8/10), total variation
  knn                10k queries against 60k points of 256 dims, k = 10 (L2)
  tsne-sklearn       scikit-learn TSNE of 10k points of 256 dims (CPU, all cores)

Each row: median milliseconds over repeats after warm-up, timed with CUDA
events on a GPU. Writes JSON ({"rows": [{"name", "median_ms", "repeats"}]})
in the field names convscope's benchmark JSON uses, so bench/compare.py-style
tables can put the two side by side.

Usage: bench/pytorch_viz_baseline.py [--out FILE.json] [--device cuda|cpu]
           [--repeats N] [--skip-tsne]
Needs torch, torchvision (and scikit-learn for the t-SNE row).
"""
import argparse
import json
import statistics
import sys
import time

import torch
import torch.nn.functional as F


def timer(device):
    """Returns a function timing one call of fn in ms (CUDA events on a GPU)."""
    if device.type == "cuda":
        def run(fn):
            start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            fn()
            stop.record()
            torch.cuda.synchronize()
            return start.elapsed_time(stop)
    else:
        def run(fn):
            t = time.perf_counter()
            fn()
            return (time.perf_counter() - t) * 1e3
    return run


def median_ms(fn, device, repeats, warmup=2):
    for _ in range(warmup):
        fn()
    if device.type == "cuda":
        torch.cuda.synchronize()
    run = timer(device)
    times = [run(fn) for _ in range(repeats)]
    return statistics.median(times), len(times)


def alexnet(device):
    import torchvision
    torch.manual_seed(1)
    return torchvision.models.alexnet(weights=None).to(device).eval()


def occlusion(net, image, window=32, stride=9):
    """All 625 occluded copies of a (1, 3, 224, 224) image in one batch -> probabilities."""
    _, c, h, w = image.shape
    rows = -(-h // stride)  # ceil: a window at every stride, clipped at the border
    cols = -(-w // stride)
    copies = image.repeat(rows * cols, 1, 1, 1)
    for r in range(rows):
        for col in range(cols):
            copies[r * cols + col, :, r * stride:r * stride + window, col * stride:col * stride + window] = 0.0
    with torch.no_grad():
        return F.softmax(net(copies), dim=1)


def saliency(net, image, cls=3):
    x = image.clone().requires_grad_(True)
    net(x)[0, cls].backward()
    return x.grad.abs().amax(dim=1)


def deep_dream(net, image, layer=8, octaves=3, scale=1.4, steps=20, step_size=0.02):
    features = net.features[:layer + 1]
    base = image
    sizes = [(int(224 / scale ** (octaves - 1 - o)),) * 2 for o in range(octaves)]
    detail = torch.zeros_like(F.interpolate(base, size=sizes[0], mode="bilinear", align_corners=False))
    for size in sizes:
        small = F.interpolate(base, size=size, mode="bilinear", align_corners=False)
        detail = F.interpolate(detail, size=size, mode="bilinear", align_corners=False)
        x = (small + detail).detach()
        for _ in range(steps):
            x.requires_grad_(True)
            a = features(x)
            (0.5 * (a * a).sum()).backward()
            g = x.grad
            x = (x + step_size * g / (g.abs().mean() + 1e-8)).detach()
        detail = x - small
    return x


def gram(f):
    n, c, h, w = f.shape
    f = f.reshape(n, c, h * w)
    return f @ f.transpose(1, 2) / (h * w)


def style_transfer(net, content, style, steps=100, lr=0.05):
    convs = [i for i, m in enumerate(net.features) if isinstance(m, torch.nn.Conv2d)]
    relus = convs  # style and content read each conv's output (features.0/3/6/8/10)

    def activations(x):
        out = {}
        for i, m in enumerate(net.features):
            x = m(x)
            if i in relus:
                out[i] = x
            if i >= relus[-1]:
                break
        return out

    with torch.no_grad():
        target_content = activations(content)[relus[3]]
        target_grams = {i: gram(a) for i, a in activations(style).items()}
    x = content.clone().requires_grad_(True)
    opt = torch.optim.Adam([x], lr=lr)
    for _ in range(steps):
        opt.zero_grad()
        acts = activations(x)
        loss = F.mse_loss(acts[relus[3]], target_content)
        loss = loss + 1e4 * sum(F.mse_loss(gram(acts[i]), target_grams[i]) for i in relus) / len(relus)
        tv = (x[..., 1:, :] - x[..., :-1, :]).abs().sum() + (x[..., :, 1:] - x[..., :, :-1]).abs().sum()
        (loss + 1e-3 * tv).backward()
        opt.step()
    return x


def knn(queries, points, k=10):
    d = torch.cdist(queries, points)
    return d.topk(k, dim=1, largest=False)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="pytorch_viz_baseline.json")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--repeats", type=int, default=10)
    ap.add_argument("--skip-tsne", action="store_true")
    args = ap.parse_args()
    device = torch.device(args.device)
    torch.backends.cudnn.benchmark = True
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False

    net = alexnet(device)
    for p in net.parameters():
        p.requires_grad_(False)
    g = torch.Generator(device="cpu").manual_seed(2)
    image = torch.randn(1, 3, 224, 224, generator=g).to(device)
    image256 = torch.randn(1, 3, 256, 256, generator=g).to(device)
    style = torch.randn(1, 3, 256, 256, generator=g).to(device)
    queries = torch.randn(10000, 256, generator=g).to(device)
    points = torch.randn(60000, 256, generator=g).to(device)

    rows = []

    dev = "cuda" if device.type == "cuda" else "cpu"

    def add(name, fn, repeats=args.repeats):
        name = f"BM_Viz/{name}/{dev}"  # convscope's row names (bench/bench_viz.cpp)
        ms, n = median_ms(fn, device, repeats)
        rows.append({"name": name, "median_ms": ms, "repeats": n, "device": str(device)})
        print(f"{name:40s} {ms:10.3f} ms  ({n} repeats)", flush=True)

    add("occlusion/alexnet/625", lambda: occlusion(net, image))
    add("saliency/alexnet/1", lambda: saliency(net, image))
    add("deepdream/alexnet/3x20", lambda: deep_dream(net, image), repeats=max(3, args.repeats // 3))
    add("style/alexnet/adam100/256", lambda: style_transfer(net, image256, style), repeats=3)
    add("knn/10000x60000/d256/k10", lambda: knn(queries, points), repeats=max(3, args.repeats // 3))
    if not args.skip_tsne:
        try:
            from sklearn.manifold import TSNE
            x = queries.cpu().numpy()
            t = time.perf_counter()
            TSNE(n_components=2, perplexity=30, init="pca", random_state=1, n_jobs=-1).fit_transform(x)
            rows.append({"name": "BM_Viz/tsne-sklearn/10000/d256/cpu", "median_ms": (time.perf_counter() - t) * 1e3,
                         "repeats": 1, "device": "cpu"})
            print(f"{'BM_Viz/tsne-sklearn/10000/d256/cpu':40s} {rows[-1]['median_ms']:10.3f} ms", flush=True)
        except ImportError:
            print("scikit-learn not installed: no t-SNE row", file=sys.stderr)

    meta = {"torch": torch.__version__, "device": str(device),
            "gpu": torch.cuda.get_device_name(0) if device.type == "cuda" else "cpu",
            "cudnn": torch.backends.cudnn.version() if device.type == "cuda" else None}
    with open(args.out, "w") as f:
        json.dump({"context": meta, "rows": rows}, f, indent=2)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
