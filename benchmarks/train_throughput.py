"""Training throughput: generator steps/s and real images/s through the critic, with peak memory.

Runs the real training step (`Trainer.step`) on pre-rendered logograms at 32 px, batch 64, n_critic 5,
for the DCGAN (reelgan's default widths) and the WGAN-GP paper's ResNet (128 channels).

    python benchmarks/train_throughput.py                    # CPU
    python benchmarks/train_throughput.py --device cuda --precision bf16 --channels-last
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import tempfile
import time
from pathlib import Path

import torch

from reelgan.config import build_config
from reelgan.training import Trainer

NETS = {
    "dcgan": {"arch": "dcgan"},  # reelgan's default widths (16 / 32 / max 128)
    "dcgan-64": {"arch": "dcgan", "g_width": 64, "d_width": 64, "max_width": 256},  # classic DCGAN widths
    "resnet": {"arch": "resnet", "g_width": 128, "d_width": 128, "max_width": 128},  # the paper's CIFAR model
}


def measure(net: str, args: argparse.Namespace) -> dict:
    """Time `args.steps` generator steps after `args.warmup` untimed ones."""
    config = build_config(overrides={
        "data": {"source": "logograms", "resolution": args.resolution, "size": 2048},
        "net": NETS[net],
        "loss": {"kind": "wgan-gp"},
        "train": {"batch": args.batch, "n_critic": args.n_critic, "device": args.device,
                  "precision": args.precision, "channels_last": args.channels_last},
    })
    with tempfile.TemporaryDirectory() as run_dir:
        trainer = Trainer(config, Path(run_dir))
        for index in range(len(trainer.dataset.cache)):  # render the glyphs before timing
            trainer.dataset.glyph(index)
        for _ in range(args.warmup):
            trainer.step()
        if trainer.device.type == "cuda":
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
        start = time.perf_counter()
        for _ in range(args.steps):
            trainer.step()
        if trainer.device.type == "cuda":
            torch.cuda.synchronize()
        seconds = time.perf_counter() - start
    steps_per_s = args.steps / seconds
    peak = (torch.cuda.max_memory_allocated() if trainer.device.type == "cuda"
            else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)  # Linux reports KiB
    return {"net": net, "device": str(trainer.device), "precision": args.precision,
            "channels_last": args.channels_last, "resolution": args.resolution, "batch": args.batch,
            "n_critic": args.n_critic, "g_steps_per_s": round(steps_per_s, 3),
            "critic_images_per_s": round(steps_per_s * args.batch * args.n_critic, 1),
            "peak_memory_mib": round(peak / 2**20, 1), "threads": torch.get_num_threads()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nets", default="dcgan,dcgan-64,resnet")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--precision", default="fp32")
    parser.add_argument("--channels-last", action="store_true")
    parser.add_argument("--resolution", type=int, default=32)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--n-critic", type=int, default=5)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--json", help="append results as JSON lines to this file")
    args = parser.parse_args()
    print(f"# {platform.processor() or platform.machine()}, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads")
    print("| net | device | precision | G steps/s | critic images/s | peak memory (MiB) |")
    print("| --- | --- | --- | --- | --- | --- |")
    for net in args.nets.split(","):
        row = measure(net, args)
        print(f"| {net} | {row['device']} | {row['precision']}{' channels_last' if row['channels_last'] else ''} "
              f"| {row['g_steps_per_s']} | {row['critic_images_per_s']} | {row['peak_memory_mib']} |")
        if args.json:
            with open(args.json, "a") as handle:
                handle.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
