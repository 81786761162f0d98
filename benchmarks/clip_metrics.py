"""Proxy FVD and motion checks of a clip generator against real clips, printed as JSON.

Trains a `ClipNet` extractor on `--train-clips` real clips (seed 0, the training set's clips), or loads one
with `--extractor`, then compares `--n` generated clips with `--n` other real clips (seed 1): FVD under the
extractor's protocol label, and `compare_motion` (frame difference, centroid speed, speed consistency,
bounces, persistence; real, generated and their ratios). Frames and stride come from the run's config.

    python benchmarks/clip_metrics.py runs/00001-moving-glyphs-wgan-gp-32 --data moving-glyphs \\
        --save-extractor clipnet-moving-glyphs-32.safetensors
    python benchmarks/clip_metrics.py runs/00002-... --data moving-glyphs \\
        --extractor clipnet-moving-glyphs-32.safetensors
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

from reelgan.errors import ReelganError
from reelgan.gan.generator import load_generator
from reelgan.metrics.clip_metrics import (
    build_clip_extractor,
    compare_motion,
    evaluate_clip_generator,
    load_clip_extractor,
    real_clips,
    save_clip_extractor,
)


def run_clip_settings(run: Path, default_frames: int) -> tuple[int, int]:
    """Frames and stride from a run folder's config.json (the generator's frames, stride 1 without one)."""
    config_path = run / "config.json" if run.is_dir() else run.parent / "config.json"
    if not config_path.is_file():
        return default_frames, 1
    data = json.loads(config_path.read_text()).get("data", {})
    return int(data.get("frames", default_frames)), int(data.get("stride", 1))


def plain(value: object) -> object:
    """NaN -> None, recursively, so that the JSON is standard."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return None if isinstance(value, float) and math.isnan(value) else value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run", help="a clip generator: run folder, checkpoint .pt or generator .safetensors")
    parser.add_argument("--data", required=True, help="moving-glyphs, ink-rings or a footage path")
    parser.add_argument("--n", type=int, default=500, help="generated and real clips compared")
    parser.add_argument("--extractor", default=None, help="a saved clip extractor .safetensors (else train one)")
    parser.add_argument("--train-clips", type=int, default=2000, help="real clips to train the extractor on")
    parser.add_argument("--steps", type=int, default=1000, help="extractor training steps")
    parser.add_argument("--batch", type=int, default=64, help="extractor training batch")
    parser.add_argument("--save-extractor", default=None, help="where to save a newly trained extractor")
    args = parser.parse_args()

    G = load_generator(args.run)
    if not G.is_video:
        raise SystemExit(f"{args.run} is an image generator; give a clip generator (trained with --kind video)")
    frames, stride = run_clip_settings(Path(args.run), G.spec.get("frames", 8))
    started = time.perf_counter()
    if args.extractor:
        extractor = load_clip_extractor(args.extractor)
    else:
        train = real_clips(args.data, frames, stride, G.resolution, G.channels, args.train_clips, seed=0)
        extractor = build_clip_extractor(train, args.data, stride, steps=args.steps, batch=args.batch)
        if args.save_extractor:
            save_clip_extractor(extractor.net, extractor.spec, args.save_extractor)
    trained_s = time.perf_counter() - started
    result = evaluate_clip_generator(G, args.data, args.n, extractor, frames, stride)
    real = real_clips(args.data, frames, stride, G.resolution, G.channels, args.n)
    motion = compare_motion(real, G.sample(args.n, seed=0))
    report = {"generator": str(args.run), "data": args.data, "frames": frames, "stride": stride, "n": args.n,
              "extractor": args.extractor or "trained", "extractor_s": round(trained_s, 1),
              "metrics": result, "motion": motion}
    print(json.dumps(plain(report), indent=2))


if __name__ == "__main__":
    try:
        main()
    except ReelganError as error:
        raise SystemExit(f"error: {error}") from None
