"""openTSNE beside `latentlab tsne`: times openTSNE (Barnes-Hut and FFT) on the codes of an
export folder and prints the 5-NN label accuracy of each map, ours included, by one measure.

    python bench/tsne_peer.py CODES_DIR OURS_CSV --threads 2
"""

import argparse
import csv
import time

import numpy as np


def knn_accuracy(y, labels, k=5):
    """Fraction of points whose k nearest neighbours in y vote for their own label (ties to
    the lower label), brute force in blocks."""
    n = len(y)
    right = 0
    for start in range(0, n, 1000):
        block = y[start:start + 1000]
        d = ((block[:, None, :] - y[None, :, :]) ** 2).sum(-1)
        d[np.arange(len(block)), np.arange(start, start + len(block))] = np.inf
        nearest = np.argpartition(d, k, axis=1)[:, :k]
        for row, i in enumerate(range(start, start + len(block))):
            votes = np.bincount(labels[nearest[row]], minlength=labels.max() + 1)
            right += int(np.argmax(votes) == labels[i])
    return right / n


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("codes")
    ap.add_argument("ours")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    x = np.loadtxt(f"{args.codes}/tensors.tsv", delimiter="\t", dtype=np.float32)
    with open(f"{args.codes}/metadata.tsv") as f:
        labels = np.array([int(r["label"]) for r in csv.DictReader(f, delimiter="\t")])
    with open(args.ours) as f:
        rows = list(csv.DictReader(f))
    axes = [c for c in ("x", "y", "z") if c in rows[0]]
    ours = np.array([[float(r[c]) for c in axes] for r in rows])
    print(f"ours: 5-NN label accuracy {knn_accuracy(ours, labels):.3f}")

    import openTSNE

    for method in ("bh", "fft"):
        t0 = time.perf_counter()
        y = openTSNE.TSNE(
            n_components=len(axes) if method == "bh" else 2,
            negative_gradient_method=method,
            n_jobs=args.threads,
            random_state=0,
        ).fit(x)
        secs = time.perf_counter() - t0
        print(
            f"openTSNE {openTSNE.__version__} {method}: {secs:.2f} s, "
            f"5-NN label accuracy {knn_accuracy(np.asarray(y), labels):.3f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
