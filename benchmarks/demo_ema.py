"""Which generator average shows the logograms' variety after the demo's steps?

One training run of the demo's recipe (`reelgan demo` trains the built-in logograms at 32 px), and beside
its G_ema several other averages of the same generator, each an EMA with its own half-life (thousands of
images) and ramp-up (the half-life grows as that share of the images seen, StyleGAN2-ADA). An EMA never
feeds back into training, so every average follows the same G, step for step: the comparison costs one
run. At each checkpoint every average is sampled with standing batch-norm statistics (as the demo's
exports are) and scored by `demo_variety.py`'s shape statistics (TV distance to 2,000 real glyphs of data
seed 1) and, at the last checkpoint, by domain FID, precision and recall.

    python -m benchmarks.demo_ema --steps 3000 --at 2000,3000 --averages 0:0,1:0.05,2.5:0.05,5:0.05,10:0.05
"""

from __future__ import annotations

import argparse
import copy
import json
import time
from pathlib import Path

import torch

from benchmarks.demo_variety import BINS, EXTRA_BINS, shape_statistics, total_variation
from reelgan.config import build_config, merge
from reelgan.demo import DEMO_OVERRIDES
from reelgan.gan.generator import Generator, generator_spec
from reelgan.gan.standing_stats import recompute_batch_norm
from reelgan.media import make_grid, save_png, upscale
from reelgan.metrics.evaluate import evaluate_generator, real_images
from reelgan.provenance import make_record
from reelgan.training.ema import update_ema
from reelgan.training.loop import Trainer


def decay(images_seen: int, batch: int, halflife_kimg: float, rampup: float) -> float:
    """Per-step decay of an EMA with this half-life (0: no average, the live G) and ramp-up share."""
    if halflife_kimg == 0:
        return 0.0
    halflife = min(1000.0 * halflife_kimg, rampup * images_seen) if rampup else 1000.0 * halflife_kimg
    return 0.5 ** (batch / max(halflife, 1e-8))


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
    fake = shape_statistics(samples)
    result = {f"tv_{name}": round(total_variation(real[name], fake[name], bins), 3) for name, bins in BINS.items()}
    result["max_tv"] = max(result.values())  # the pass line's three
    result.update({f"tv_{name}": round(total_variation(real[name], fake[name], bins), 3)
                   for name, bins in EXTRA_BINS.items()})
    result.update({f"mean_{name}": round(float(fake[name].mean()), 3) for name in {**BINS, **EXTRA_BINS}})
    if domain:
        metrics = evaluate_generator(G, "logograms", ["fid", "pr"], n=n)
        result.update({key.split("_")[0]: round(value, 4) for key, value in metrics.items()})
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--at", default="1500,2000,2500,3000", help="steps at which to score every average")
    parser.add_argument("--averages", default="0:0,1:0.05,2.5:0.05,5:0.05,10:0.05",
                        help="half-life kimg:ramp-up share pairs; 0:0 is the live generator")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--grids", default="", help="folder for each average's sample grid at the last step")
    parser.add_argument("--overrides", default="{}", help='JSON config overrides, e.g. {"train": {"lr_g": 4e-4}}')
    args = parser.parse_args()
    steps, at = args.steps, sorted(int(s) for s in args.at.split(","))
    # The demo's gamma anneal follows its 4.5 minutes, which end near its step cap: here it follows the steps.
    config = build_config(overrides=merge(merge(DEMO_OVERRIDES, {
        "loss": {"r1_gamma_kimg": steps * 64 / 1000},
        "train": {"steps": steps, "seed": args.seed, "threads": args.threads}}), json.loads(args.overrides)))
    trainer = Trainer(config, None)
    batch = config.train.generator_batch
    averages = {spec: [float(x) for x in spec.split(":")] for spec in args.averages.split(",")}
    nets = {spec: copy.deepcopy(trainer.G).eval().requires_grad_(False) for spec in averages}
    real = shape_statistics(real_images("logograms", 32, 1, args.n))
    started = time.perf_counter()
    while trainer.step_count < steps:
        trainer.step()
        for spec, (halflife, rampup) in averages.items():
            update_ema(nets[spec], trainer.G, decay((trainer.step_count - 1) * batch, batch, halflife, rampup))  # as Trainer.step
        if trainer.step_count in at:
            train_s = time.perf_counter() - started
            last = trainer.step_count == at[-1]
            for spec, net in nets.items():
                grid = Path(args.grids) / f"seed{args.seed}-ema{spec.replace(':', '-')}.png" if args.grids and last else None
                row = {"step": trainer.step_count, "seed": args.seed, "average": spec, "overrides": args.overrides,
                       "train_s": round(train_s, 1),
                       **score(trainer, net, real, args.n, domain=last, grid=grid)}
                print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
