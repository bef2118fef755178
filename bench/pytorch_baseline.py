#!/usr/bin/env python3
"""PyTorch eager baseline for convscope's end-to-end benchmarks (bench/bench_train.cpp).

The same models (fashion-cnn, torchvision's AlexNet, ZFNet, as in models/specs/),
batch sizes, optimizer (the spec's SGD settings), data pipeline (uint8 images
resident on the GPU, a shuffled gather, normalisation) and timing (CUDA events
around `steps` steps, median over repeats, after warm-up; no per-step host
synchronisation), on the same GPU. fp32 runs with TF32 off in cuBLAS and cuDNN
and cudnn.benchmark on; --precision tf32 / bf16 add context rows.

Writes JSON rows with the fields convscope's rows have (name, op, impl, shape,
step_ms, images_per_s, epoch_images, epoch_s, peak_MB), read by bench/compare.py:

    python3 bench/pytorch_baseline.py --out pytorch.json [--precision fp32 tf32 bf16]
"""

import argparse
import datetime
import json
import statistics
import sys

# (model, batch, steps per timed repeat): bench_train.cpp's GPU cases.
CASES = [("fashion-cnn", 64, 20), ("fashion-cnn", 256, 20), ("alexnet", 128, 5), ("zfnet", 128, 5)]

# The `train` line of each spec (models/specs/*.spec).
OPTIMIZER = {
    "fashion-cnn": dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=5e-4),
    "alexnet": dict(lr=0.01, momentum=0.9, nesterov=False, weight_decay=5e-4),
    "zfnet": dict(lr=0.01, momentum=0.9, nesterov=False, weight_decay=5e-4),
}
INPUT = {"fashion-cnn": (1, 28, 28), "alexnet": (3, 224, 224), "zfnet": (3, 224, 224)}
CLASSES = {"fashion-cnn": 10, "alexnet": 1000, "zfnet": 1000}
EPOCH_IMAGES = {"fashion-cnn": 60000, "alexnet": 1281167, "zfnet": 1281167}


def build_model(name, nn):
    """The networks of models/specs/<name>.spec, layer for layer."""
    if name == "fashion-cnn":
        def block(cin, cout):
            return [nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
                    nn.MaxPool2d(2)]
        return nn.Sequential(*block(1, 32), *block(32, 64), *block(64, 128), nn.Flatten(),
                             nn.Dropout(0.3), nn.Linear(1152, 256), nn.ReLU(inplace=True),
                             nn.Dropout(0.3), nn.Linear(256, 10))
    classifier = [nn.Flatten(), nn.Dropout(0.5), nn.Linear(9216, 4096), nn.ReLU(inplace=True),
                  nn.Dropout(0.5), nn.Linear(4096, 4096), nn.ReLU(inplace=True), nn.Linear(4096, 1000)]
    if name == "alexnet":  # torchvision's AlexNet (its avgpool is the identity at 224x224)
        return nn.Sequential(
            nn.Conv2d(3, 64, 11, stride=4, padding=2), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2),
            nn.Conv2d(64, 192, 5, padding=2), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2),
            nn.Conv2d(192, 384, 3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(384, 256, 3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(256, 256, 3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2),
            nn.AdaptiveAvgPool2d((6, 6)), *classifier)
    if name == "zfnet":
        lrn = dict(size=5, alpha=5e-4, beta=0.75, k=2.0)
        return nn.Sequential(
            nn.Conv2d(3, 96, 7, stride=2, padding=1), nn.ReLU(inplace=True),
            nn.MaxPool2d(3, 2, ceil_mode=True), nn.LocalResponseNorm(**lrn),
            nn.Conv2d(96, 256, 5, stride=2), nn.ReLU(inplace=True),
            nn.MaxPool2d(3, 2, ceil_mode=True), nn.LocalResponseNorm(**lrn),
            nn.Conv2d(256, 384, 3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(384, 384, 3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(384, 256, 3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2),
            *classifier)
    raise ValueError(f"unknown model {name}")


def time_repeats(torch, work, repeats):
    """Median milliseconds of `work` over `repeats` CUDA-event-timed calls."""
    start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    times = []
    for _ in range(repeats):
        start.record()
        work()
        stop.record()
        stop.synchronize()
        times.append(start.elapsed_time(stop))
    return statistics.median(times)


def run_case(torch, model_name, batch, steps, precision, repeats, mode):
    nn = torch.nn
    dev = torch.device("cuda")
    torch.backends.cudnn.benchmark = True
    tf32 = precision == "tf32"
    torch.backends.cuda.matmul.allow_tf32 = tf32
    torch.backends.cudnn.allow_tf32 = tf32
    torch.manual_seed(1)
    model = build_model(model_name, nn).to(dev)
    c, h, w = INPUT[model_name]
    pool = 4 if mode == "train" else 1  # batches of synthetic uint8 images resident on the GPU
    images = torch.randint(0, 256, (pool * batch, c, h, w), dtype=torch.uint8, device=dev)
    labels = torch.arange(pool * batch, device=dev) % CLASSES[model_name]
    mean, std = 0.5, 0.25  # bench_train.cpp's synthetic normalisation
    autocast = torch.autocast("cuda", dtype=torch.bfloat16, enabled=precision == "bf16")
    state = {"order": torch.randperm(pool * batch, device=dev), "pos": 0}

    def next_batch():
        if state["pos"] + batch > pool * batch:
            state["order"], state["pos"] = torch.randperm(pool * batch, device=dev), 0
        idx = state["order"][state["pos"]:state["pos"] + batch]
        state["pos"] += batch
        x = (images.index_select(0, idx).float() / 255.0 - mean) / std
        return x, labels.index_select(0, idx)

    if mode == "train":
        model.train()
        opt = torch.optim.SGD(model.parameters(), **OPTIMIZER[model_name])
        loss_fn = nn.CrossEntropyLoss()

        def work():
            for _ in range(steps):
                x, y = next_batch()
                opt.zero_grad(set_to_none=True)
                with autocast:
                    loss = loss_fn(model(x), y)
                loss.backward()
                opt.step()
    else:
        model.eval()
        x_fixed, _ = next_batch()

        def work():
            with torch.no_grad(), autocast:
                for _ in range(steps):
                    model(x_fixed)

    for _ in range(2):  # warm-up: cudnn.benchmark autotunes here
        work()
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    ms = time_repeats(torch, work, repeats)
    step_ms = ms / steps
    images_per_s = batch / (step_ms * 1e-3)
    family = "Train" if mode == "train" else "Infer"
    return {
        "name": f"BM_{family}/{model_name}/n{batch}/cuda",
        "op": family, "impl": "pytorch", "shape": f"{model_name}/n{batch}", "precision": precision,
        "step_ms": step_ms, "images_per_s": images_per_s,
        "epoch_images": EPOCH_IMAGES[model_name],
        "epoch_s": EPOCH_IMAGES[model_name] / images_per_s,
        "peak_MB": torch.cuda.max_memory_allocated() / 2**20, "repeats": repeats,
        "label": "sgd " + " ".join(f"{k} {v}" for k, v in OPTIMIZER[model_name].items()),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True, help="JSON file to write")
    parser.add_argument("--precision", nargs="+", default=["fp32"], choices=["fp32", "tf32", "bf16"],
                        help="fp32 (TF32 off: the comparison), tf32 and bf16 (context); default fp32")
    parser.add_argument("--repeats", type=int, default=10, help="timed repeats per case (default 10)")
    parser.add_argument("--models", nargs="+", default=None, help="only these models")
    args = parser.parse_args(argv)
    try:
        import torch
    except ImportError:
        sys.exit("pytorch_baseline.py: PyTorch is not installed (pip install torch)")
    if not torch.cuda.is_available():
        sys.exit("pytorch_baseline.py: no CUDA device; the baseline is a GPU measurement")
    rows = []
    for model_name, batch, steps in CASES:
        if args.models and model_name not in args.models:
            continue
        for precision in args.precision:
            for mode in ("train", "infer"):
                row = run_case(torch, model_name, batch, steps, precision, args.repeats, mode)
                print(f"{row['name']:34} {precision:5} {row['step_ms']:9.3f} ms/step "
                      f"{row['images_per_s']:10.0f} img/s", flush=True)
                rows.append(row)
    context = {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(),
        "torch": torch.__version__, "cuda": torch.version.cuda,
        "cudnn": torch.backends.cudnn.version(), "gpu": torch.cuda.get_device_name(0),
    }
    with open(args.out, "w") as f:
        json.dump({"context": context, "rows": rows}, f, indent=1)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
