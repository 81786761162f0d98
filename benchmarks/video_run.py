"""A bounded CPU run of the clip GAN on moving-glyphs, then its proxy FVD over the run and motion checks.

    python benchmarks/video_run.py train --minutes 20 --out /tmp/videorun       # exports every 4 minutes
    python benchmarks/video_run.py score --out /tmp/videorun --results benchmarks/results

Training exports the EMA generator at each mark (stem `gen-XXmin`); scoring trains one clip extractor on
real clips, then gives each export's FVD, the last export's motion statistics against real clips, and a
grid video of 16 samples.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from reelgan.config import build_config
from reelgan.gan.generator import export_generator, generator_spec, load_generator
from reelgan.media import make_grid, save_mp4, upscale
from reelgan.metrics.clip_metrics import build_clip_extractor, compare_motion, evaluate_clip_generator, real_clips
from reelgan.provenance import make_record
from reelgan.training import Trainer

SETTINGS = {"data": {"source": "moving-glyphs", "kind": "video", "resolution": 32, "frames": 8, "channels": 1},
            "train": {"steps": 10**9, "batch": 16, "device": "cpu"}}


def train(args: argparse.Namespace) -> None:
    """Train for `--minutes`, exporting G_ema every `--every` minutes; log steps per mark."""
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    config = build_config(overrides=SETTINGS)
    trainer = Trainer(config, out)
    marks = [args.every * i for i in range(1, int(args.minutes / args.every) + 1)]
    log = []
    start = time.perf_counter()
    for mark in marks:
        while time.perf_counter() - start < mark * 60:
            trainer.step()
        trainer.check_finite()
        spec = generator_spec(config.to_dict(), [], trainer.step_count)
        export_generator(trainer.G_ema, spec, out, stem=f"gen-{mark:04.1f}min")
        log.append({"minutes": mark, "step": trainer.step_count})
        print(json.dumps(log[-1]), flush=True)
    (out / "train.json").write_text(json.dumps({"settings": SETTINGS, "marks": log}, indent=2) + "\n")


def score(args: argparse.Namespace) -> None:
    """FVD of every export, motion checks of the last, and a grid video."""
    out, results = Path(args.out), Path(args.results)
    log = json.loads((out / "train.json").read_text())
    train_set = real_clips("moving-glyphs", 8, 1, 32, 1, args.train_clips, seed=2)
    extractor = build_clip_extractor(train_set, "moving-glyphs", steps=args.steps)
    rows = []
    for mark in log["marks"]:
        G = load_generator(out / f"gen-{mark['minutes']:04.1f}min.safetensors")
        fvd = evaluate_clip_generator(G, "moving-glyphs", args.n, extractor, frames=8)
        rows.append({**mark, **fvd})
        print(json.dumps(rows[-1]), flush=True)
    real = real_clips("moving-glyphs", 8, 1, 32, 1, args.n, seed=3)
    motion = compare_motion(real, G.sample(args.n, seed=0))
    print(json.dumps(motion, default=float), flush=True)
    clips = G.sample(16, seed=0).transpose(1, 2)  # (16, T, C, H, W)
    grid = [upscale(make_grid(clips[:, t], nrow=4), 512) for t in range(clips.shape[1])]
    save_mp4(results / "moving-glyphs-20min.mp4", grid * 4, 8, make_record(generator_hash=G.hash, seed=0, n=16))
    (results / "moving-glyphs-20min.json").write_text(json.dumps({"fvd": rows, "motion": motion}, indent=2,
                                                                 default=float) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", choices=["train", "score"])
    parser.add_argument("--out", required=True)
    parser.add_argument("--minutes", type=float, default=20)
    parser.add_argument("--every", type=float, default=4)
    parser.add_argument("--results", default="benchmarks/results")
    parser.add_argument("--n", type=int, default=500)
    parser.add_argument("--train-clips", type=int, default=2000)
    parser.add_argument("--steps", type=int, default=600)
    args = parser.parse_args()
    torch.manual_seed(0)
    (train if args.mode == "train" else score)(args)


if __name__ == "__main__":
    main()
