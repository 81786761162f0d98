"""Which generator average shows the logograms' variety after a short run?

One training run of the default recipe on the demo's data (the built-in logograms at 32 px; batches of 64
unless --overrides says otherwise), and beside its G_ema several other averages of the same generator, each
an EMA by half-life in thousands of images, ramped up as reelgan's is (`ema_decay_by_images`). An EMA
never feeds back into training, so every average follows the same G, step for step: the comparison costs
one run. At each checkpoint every average is sampled with standing batch-norm statistics (as exports are)
and scored by `demo_variety.py`'s shape statistics (TV distance to 2,000 real glyphs of data seed 1) and,
at the last checkpoint, by domain FID, precision and recall.

    python -m benchmarks.demo_ema --steps 3000 --at 2000,3000 --half-lives 0,1,2.5,5,10
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import json
import time
from pathlib import Path

import torch

from benchmarks.demo_variety import BINS, distances, shape_statistics
from reelgan.config import build_config, merge
from reelgan.demo import DEMO_OVERRIDES
from reelgan.gan.generator import Generator, generator_spec
from reelgan.gan.standing_stats import recompute_batch_norm
from reelgan.media import make_grid, save_png, upscale
from reelgan.metrics.evaluate import evaluate_generator, real_images
from reelgan.provenance import make_record
from reelgan.training.ema import ema_decay_by_images, update_ema
from reelgan.training.loop import Trainer


def score(trainer: Trainer, net: torch.nn.Module, real: dict, n: int, domain: bool, grid: Path | None) -> dict:
    """Shape-statistic TVs (and domain metrics) of `net` sampled with its standing statistics; with `grid`, its
    first 64 samples are written there as a PNG."""
    sampled = copy.deepcopy(net)
    recompute_batch_norm(sampled)
    spec = generator_spec(trainer.config.to_dict(), trainer.class_names, trainer.step_count)
    G = Generator(sampled, spec, trainer.device)
    samples = G.sample(n, seed=0)  # (n, 1, 32, 32) in [-1, 1]
    if grid is not None:
        save_png(grid, upscale(make_grid(samples[:64]), 512), make_record(generator_hash=G.hash, seed=0, n=64))
    compared = distances(real, shape_statistics(samples))
    result = {f"tv_{name}": d["tv_distance"] for name, d in compared.items()}
    result["max_tv"] = max(compared[name]["tv_distance"] for name in BINS)  # the pass line's three
    result.update({f"mean_{name}": d["sample_mean"] for name, d in compared.items()})
    if domain:
        metrics = evaluate_generator(G, "logograms", ["fid", "pr"], n=n)
        result.update({key.split("_")[0]: round(value, 4) for key, value in metrics.items()})
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--at", default="1500,2000,2500,3000", help="steps at which to score every average")
    parser.add_argument("--half-lives", default="0,1,2.5,5,10",
                        help="EMA half-lives in thousands of images; 0 is the live generator")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--grids", default="", help="folder for each average's sample grid at the last step")
    parser.add_argument("--overrides", default="{}", help='JSON config overrides, e.g. {"train": {"lr_g": 4e-4}}')
    args = parser.parse_args()
    steps, at = args.steps, sorted(int(s) for s in args.at.split(","))
    config = build_config(overrides=merge(merge(DEMO_OVERRIDES, {
        "train": {"steps": steps, "seed": args.seed, "threads": args.threads}}), json.loads(args.overrides)))
    batch = config.train.generator_batch
    # The demo's gamma anneal follows its minutes, which end near its step cap: here it follows the steps.
    config = dataclasses.replace(config, loss=dataclasses.replace(config.loss, r1_gamma_kimg=steps * batch / 1000))
    trainer = Trainer(config, None)
    half_lives = [float(h) for h in args.half_lives.split(",")]
    nets = {h: copy.deepcopy(trainer.G).eval().requires_grad_(False) for h in half_lives}
    real = shape_statistics(real_images("logograms", 32, 1, args.n))
    started = time.perf_counter()
    while trainer.step_count < steps:
        trainer.step()
        images = (trainer.step_count - 1) * batch  # as Trainer.step counts them for its own G_ema
        for h, net in nets.items():
            update_ema(net, trainer.G, ema_decay_by_images(images, batch, h) if h else 0.0)
        if trainer.step_count in at:
            train_s = time.perf_counter() - started
            last = trainer.step_count == at[-1]
            for h, net in nets.items():
                grid = Path(args.grids) / f"seed{args.seed}-ema{h:g}.png" if args.grids and last else None
                row = {"step": trainer.step_count, "seed": args.seed, "half_life_kimg": h,
                       "overrides": args.overrides, "train_s": round(train_s, 1),
                       **score(trainer, net, real, args.n, domain=last, grid=grid)}
                print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
