"""Logogram rate: the fraction of images the ring detector reads as logograms, real glyphs against a generator.

Usage:
    python benchmarks/ring_rate.py --n 2000                                   # real glyphs only
    python benchmarks/ring_rate.py --generator runs/00001-demo-logograms --n 2000 --failures failing.png

Real glyphs are procedural logograms with render seeds 10**6 .. 10**6 + n - 1 (training's dataset seeds
are hashed per index, so these are glyphs it never drew), at the generator's resolution (32 px without
one). Generated samples are `load_generator(path).sample(n, seed=0)`. Prints one JSON object: each
rate, how many images failed each test of `reelgan.glyphs.ringcheck`, and the generator's rate as a
fraction of the real rate. `--failures` writes a sheet of up to 64 failing generated samples.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import time
from pathlib import Path

import numpy as np
import torch

from reelgan.data.logograms import render_logogram
from reelgan.gan.generator import load_generator
from reelgan.glyphs.ringcheck import checks, passes, ring_scores
from reelgan.media import make_grid, save_png, upscale
from reelgan.provenance import make_record

REAL_SEED = 10**6
SHEET_CELLS = 64


def summary(images: torch.Tensor | np.ndarray) -> tuple[dict, np.ndarray]:
    """The rate and per-test failure counts for `images`, and the boolean pass mask `(N,)`."""
    scores = ring_scores(images)
    verdicts = checks(scores)
    passed = passes(scores)
    result = {
        "n": int(len(passed)),
        "rate": round(float(passed.mean()), 4),
        "failed_test": {name: int((~ok).sum()) for name, ok in verdicts.items()},
        "median": {name: round(float(np.nanmedian(v)), 4) if np.isfinite(v).any() else None
                   for name, v in scores.items()},
    }
    return result, passed


def real_glyphs(n: int, resolution: int) -> np.ndarray:
    """`(n, R, R)` uint8 procedural glyphs for render seeds REAL_SEED .. REAL_SEED + n - 1."""
    return np.stack([render_logogram(REAL_SEED + i, resolution) for i in range(n)])


def write_failures(samples: torch.Tensor, passed: np.ndarray, path: Path, generator_hash: str,
                   seed: int) -> int:
    """A sheet of the first failing samples `(K, C, R, R)` at `path`; returns how many it shows."""
    failing = np.flatnonzero(~passed)[:SHEET_CELLS]
    if len(failing) == 0:
        return 0
    grid = make_grid(samples[torch.from_numpy(failing)], nrow=8, padding=2)
    record = make_record(generator_hash=generator_hash, seed=seed, content="samples failing the ring detector",
                         sample_seeds=[seed + int(i) for i in failing])
    path.parent.mkdir(parents=True, exist_ok=True)
    save_png(path, upscale(grid, 768), record)
    return len(failing)


def main() -> None:
    """Parse arguments, score real glyphs and (optionally) a generator, print JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--generator", type=Path, help="run folder, checkpoint .pt or generator .safetensors")
    parser.add_argument("--n", type=int, default=2000, help="images of each kind (default 2000)")
    parser.add_argument("--seed", type=int, default=0, help="first sample seed of the generator (default 0)")
    parser.add_argument("--resolution", type=int, default=32, help="real glyphs' size without --generator")
    parser.add_argument("--failures", type=Path, help="PNG sheet of up to 64 failing generated samples")
    args = parser.parse_args()
    if args.n < 1:
        parser.error("--n must be at least 1")
    report: dict = {"measure": "ring detector, reelgan.glyphs.ringcheck", "date": datetime.datetime.now(
        datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "machine": f"{platform.machine()}, "
        f"{os.cpu_count()} CPUs, torch {torch.__version__}, {torch.get_num_threads()} threads"}
    G = load_generator(args.generator, device="cpu") if args.generator else None
    resolution = G.resolution if G else args.resolution
    start = time.perf_counter()
    report["real"], _ = summary(real_glyphs(args.n, resolution))
    report["real"].update(resolution=resolution, render_seeds=[REAL_SEED, REAL_SEED + args.n - 1])
    if G:
        samples = G.sample(args.n, seed=args.seed)  # (n, C, R, R) in [-1, 1]
        report["generator"], passed = summary(samples)
        report["generator"].update(path=str(args.generator), trained_steps=G.spec.get("trained_steps"), hash=G.hash,
                                   sample_seeds=[args.seed, args.seed + args.n - 1])
        real_rate = report["real"]["rate"]
        report["ratio"] = round(report["generator"]["rate"] / real_rate, 4) if real_rate else None
        if args.failures:
            shown = write_failures(samples, passed, args.failures, G.hash, args.seed)
            report["failures_sheet"] = {"path": str(args.failures), "shown": shown}
    report["seconds"] = round(time.perf_counter() - start, 2)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
