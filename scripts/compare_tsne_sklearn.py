#!/usr/bin/env python3
"""Compare convscope's t-SNE with scikit-learn's on the same features.

    scripts/compare_tsne_sklearn.py RUN_DIR            (the newest t-SNE in RUN_DIR/viz/feature_space)
    scripts/compare_tsne_sklearn.py path/to/<variant>_tsne.json

`convscope viz tsne` writes <variant>_features.npy, _tsne.npy and _tsne.json
(perplexity, iterations, PCA pre-reduction). This script runs scikit-learn's
TSNE with the same settings on the same features and measures both embeddings
the same way:

  KL      KL(P || Q) with one exact P (the perplexity-calibrated affinities of
          the input t-SNE sees) and each embedding's exact Q. Both tools' own
          reported KL values are printed too, but they are not comparable:
          Barnes-Hut and sparse methods report approximations.
  10-NN   neighbourhood preservation: the mean fraction of each point's 10
          nearest neighbours among the features that are also among its 10
          nearest neighbours in the embedding.

Passes (exit 0) when our KL is at most 10% above scikit-learn's (lower is
better, so a lower KL passes too) and our 10-NN preservation is at least
scikit-learn's, less --nn-tolerance (default 0.005: half a percentage point,
so that a tie within one neighbour in 200 is not called worse). Exit 1
otherwise, 2 on bad input. Needs numpy and scikit-learn (pip install numpy scikit-learn); not run in CI.
"""
import argparse
import glob
import json
import os
import sys
import time

import numpy as np


def fail(message, code=2):
    print(f"compare_tsne_sklearn.py: {message}", file=sys.stderr)
    sys.exit(code)


def find_meta(path):
    if os.path.isfile(path):
        return path
    if os.path.isdir(path):
        found = glob.glob(os.path.join(path, "viz", "feature_space", "*_tsne.json"))
        if not found:
            fail(f"{path} holds no viz/feature_space/*_tsne.json (run `convscope viz tsne --run {path}` first)")
        return max(found, key=os.path.getmtime)
    fail(f"{path} is neither a run folder nor a _tsne.json file")


def joint_probabilities(x, perplexity, tol=1e-5, steps=100):
    """Symmetrised t-SNE affinities P (N, N), each row's entropy at log(perplexity)."""
    n = x.shape[0]
    sq = np.sum(x * x, axis=1)
    d = np.maximum(sq[:, None] + sq[None, :] - 2.0 * (x @ x.T), 0.0)
    np.fill_diagonal(d, np.inf)
    target = np.log(perplexity)
    beta = np.ones(n)
    lo = np.full(n, -np.inf)
    hi = np.full(n, np.inf)
    # Binary search on every row's precision at once.
    # Distances shifted by each row's nearest (the entropy does not change), the
    # diagonal excluded by an infinite distance (exp(-inf) = 0, product 0).
    shifted = d - np.min(d, axis=1, keepdims=True)
    finite = np.where(np.isfinite(shifted), shifted, 0.0)
    for _ in range(steps):
        p = np.exp(-shifted * beta[:, None])
        s = p.sum(axis=1)
        h = np.log(s) + beta * np.sum(finite * p, axis=1) / s
        diff = h - target
        if np.all(np.abs(diff) < tol):
            break
        up = diff > 0  # entropy too high: narrow the kernel
        lo = np.where(up, beta, lo)
        hi = np.where(up, hi, beta)
        beta = np.where(up, np.where(np.isinf(hi), beta * 2, (beta + hi) / 2),
                        np.where(np.isinf(lo), beta / 2, (beta + lo) / 2))
    p = p / p.sum(axis=1, keepdims=True)
    p = (p + p.T) / (2.0 * n)
    return np.maximum(p, 1e-300)


def kl_divergence(p, y):
    sq = np.sum(y * y, axis=1)
    num = 1.0 / (1.0 + np.maximum(sq[:, None] + sq[None, :] - 2.0 * (y @ y.T), 0.0))
    np.fill_diagonal(num, 0.0)
    q = np.maximum(num / num.sum(), 1e-300)
    mask = ~np.eye(p.shape[0], dtype=bool)
    return float(np.sum(p[mask] * np.log(p[mask] / q[mask])))


def neighbour_preservation(x, y, k=10):
    from sklearn.neighbors import NearestNeighbors
    ix = NearestNeighbors(n_neighbors=k + 1).fit(x).kneighbors(x, return_distance=False)[:, 1:]
    iy = NearestNeighbors(n_neighbors=k + 1).fit(y).kneighbors(y, return_distance=False)[:, 1:]
    return float(np.mean([len(set(a) & set(b)) / k for a, b in zip(ix, iy)]))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("source", help="a run folder or a <variant>_tsne.json written by `convscope viz tsne`")
    ap.add_argument("--kl-tolerance", type=float, default=0.10, help="allowed relative excess of our KL (default 0.10)")
    ap.add_argument("--nn-tolerance", type=float, default=0.005,
                    help="allowed shortfall of our 10-NN preservation (default 0.005)")
    ap.add_argument("--seed", type=int, default=0, help="scikit-learn's random_state (default 0)")
    args = ap.parse_args()
    try:
        from sklearn.decomposition import PCA
        from sklearn.manifold import TSNE
    except ImportError:
        fail("needs scikit-learn and numpy: pip install scikit-learn numpy")

    meta_path = find_meta(args.source)
    folder = os.path.dirname(meta_path)
    with open(meta_path) as f:
        meta = json.load(f)
    try:
        features = np.load(os.path.join(folder, meta["features"])).astype(np.float64)
        ours = np.load(os.path.join(folder, meta["embedding"])).astype(np.float64)
        perplexity, iterations, dims = float(meta["perplexity"]), int(meta["iterations"]), int(meta["dims"])
    except (KeyError, OSError, ValueError) as e:
        fail(f"{meta_path}: {e}")
    n = features.shape[0]
    if ours.shape != (n, dims):
        fail(f"{meta['embedding']} is {ours.shape}, expected ({n}, {dims})")
    if n > 12000:
        fail(f"{n} points: the exact KL needs N x N matrices; use at most 12000 (--max-images)")

    # The input t-SNE sees: like convscope, reduce to pca_dims first when wider.
    x = features
    pca_dims = int(meta.get("pca_dims", 0))
    if pca_dims and features.shape[1] > pca_dims:
        x = PCA(n_components=pca_dims, svd_solver="full").fit_transform(features)

    method = "exact" if n <= 2000 and dims <= 3 else "barnes_hut"
    kwargs = dict(n_components=dims, perplexity=perplexity, init="pca", learning_rate="auto",
                  random_state=args.seed, method=method)
    import sklearn
    major, minor = (int(v) for v in sklearn.__version__.split(".")[:2])
    kwargs["max_iter" if (major, minor) >= (1, 5) else "n_iter"] = iterations
    start = time.time()
    tsne = TSNE(**kwargs)
    theirs = tsne.fit_transform(x)
    seconds = time.time() - start

    p = joint_probabilities(x, perplexity)
    kl_ours, kl_theirs = kl_divergence(p, ours), kl_divergence(p, theirs)
    nn_ours, nn_theirs = neighbour_preservation(features, ours), neighbour_preservation(features, theirs)

    print(f"{meta_path}: {n} points, {features.shape[1]}-d features (t-SNE input {x.shape[1]}-d), "
          f"{dims}-D, perplexity {perplexity:g}, {iterations} iterations")
    print(f"  convscope   ({meta.get('method', '?')}, {meta.get('seconds', float('nan')):.2f} s): "
          f"KL {kl_ours:.4f} (reported {meta.get('kl_divergence', float('nan')):.4f}), 10-NN preservation {nn_ours:.4f}")
    print(f"  scikit-learn {sklearn.__version__} ({method}, {seconds:.2f} s): "
          f"KL {kl_theirs:.4f} (reported {tsne.kl_divergence_:.4f}), 10-NN preservation {nn_theirs:.4f}")
    ratio = kl_ours / kl_theirs
    ok_kl = ratio <= 1.0 + args.kl_tolerance
    ok_nn = nn_ours >= nn_theirs - args.nn_tolerance
    print(f"  KL ratio ours/sklearn {ratio:.3f} ({'ok' if ok_kl else 'FAIL'}: at most {1 + args.kl_tolerance:.2f}); "
          f"10-NN {nn_ours:.4f} vs {nn_theirs:.4f} ({'ok' if ok_nn else 'FAIL'})")
    sys.exit(0 if ok_kl and ok_nn else 1)


if __name__ == "__main__":
    main()
