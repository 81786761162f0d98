"""Speed of the metric functions on feature arrays (the extractor's cost is not included).

    python benchmarks/metrics_speed.py --n 10000 --dim 128
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from reelgan.metrics import METRICS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=10000, help="samples per set")
    parser.add_argument("--dim", type=int, default=128, help="feature size")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    real = rng.normal(size=(args.n, args.dim)).astype(np.float32)
    fake = (rng.normal(size=(args.n, args.dim)) * 1.1 + 0.1).astype(np.float32)
    print(f"# {args.n} x {args.dim} features per set, torch {torch.__version__}, {torch.get_num_threads()} threads")
    print("| metric | seconds | result |\n| --- | --- | --- |")
    total = 0.0
    for name, metric in METRICS.items():
        start = time.perf_counter()
        result = metric(real, fake)
        seconds = time.perf_counter() - start
        total += seconds
        print(f"| {name} | {seconds:.2f} | {', '.join(f'{k}={v:.4g}' for k, v in result.items())} |")
    print(f"| all | {total:.2f} | |")


if __name__ == "__main__":
    main()
