"""Clip training throughput: generator steps/s of `--kind video` on pre-rendered moving glyphs.

    python benchmarks/video_throughput.py                        # CPU, 32x32x8, batch 16
    python benchmarks/video_throughput.py --device cuda --batch 64
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import torch

from reelgan.config import build_config
from reelgan.training import Trainer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--resolution", type=int, default=32)
    parser.add_argument("--frames", type=int, default=8)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=2)
    args = parser.parse_args()

    config = build_config(overrides={
        "data": {"source": "moving-glyphs", "kind": "video", "resolution": args.resolution, "frames": args.frames,
                 "size": 512},
        "train": {"steps": 10**6, "batch": args.batch, "device": args.device},
    })
    trainer = Trainer(config, Path(tempfile.mkdtemp()))
    for index in range(len(trainer.dataset)):  # render the clips before timing
        trainer.dataset[index]
    for _ in range(args.warmup):
        trainer.step()
    sync = torch.cuda.synchronize if args.device == "cuda" else (lambda: None)
    sync()
    start = time.perf_counter()
    for _ in range(args.steps):
        trainer.step()
    sync()
    seconds = time.perf_counter() - start
    tc = config.train
    print(json.dumps({
        "device": torch.cuda.get_device_name() if args.device == "cuda" else "cpu", "torch": torch.__version__,
        "threads": torch.get_num_threads(), "clip": f"{args.resolution}x{args.resolution}x{args.frames}",
        "batch": args.batch, "n_critic": tc.n_critic, "G_steps_per_s": round(args.steps / seconds, 3),
        "real_clips_per_s": round(args.steps * tc.n_critic * args.batch / seconds, 1),
    }))


if __name__ == "__main__":
    main()
