"""`reelgan metrics`: tools for measuring generators (train-extractor: the `domain` feature extractor)."""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from ..config import DataConfig
from ..data import build_dataset
from ..metrics.domain import feature_scale, save_extractor, train_domain_net
from .common import add_command, fresh_output

EXAMPLES = """\
  reelgan metrics train-extractor logograms --resolution 32
  reelgan metrics train-extractor ~/stills --resolution 64 --channels 3 --steps 4000 --out stills-64.safetensors
"""


def add_parser(subparsers) -> None:
    """Register `reelgan metrics` and its subcommands."""
    p = add_command(subparsers, "metrics", "measure generators: train the domain feature extractor", EXAMPLES)
    commands = p.add_subparsers(dest="metrics_command", metavar="SUBCOMMAND", required=True,
                                parser_class=type(p))
    t = commands.add_parser("train-extractor", help="train a small CNN on a dataset's images (no labels "
                            "needed) whose features FID/KID/precision/recall use for data far from ImageNet",
                            description="Contrastive (SimCLR) training of the domain feature extractor.",
                            epilog=f"examples:\n{EXAMPLES}", formatter_class=argparse.RawDescriptionHelpFormatter)
    t.add_argument("data", help="folder, .zip, .npy/.npz of images, or the built-in 'logograms'")
    t.add_argument("--resolution", type=int, default=32, help="image size the extractor works at (default 32)")
    t.add_argument("--channels", type=int, default=1, help="1, 3 or 4 (default 1)")
    t.add_argument("--max-images", type=int, default=20000, help="train on at most this many images")
    t.add_argument("--steps", type=int, default=600, help="training batches (default 600)")
    t.add_argument("--batch", type=int, default=128, help="images per batch (default 128)")
    t.add_argument("--seed", type=int, default=0, help="seed (default 0)")
    t.add_argument("--out", help="weights file (default domain-<data>-<resolution>.safetensors)")
    t.add_argument("--overwrite", action="store_true", help="replace an existing extractor")
    t.set_defaults(run=run_train_extractor)


def run_train_extractor(args: argparse.Namespace) -> int:
    """Load the images, train the extractor, save it with its sha256."""
    from ..errors import ReelganError

    for flag, value in (("--steps", args.steps), ("--batch", args.batch), ("--max-images", args.max_images)):
        if value < 1:
            raise ReelganError(f"{flag} must be at least 1; got {value}")
    name = Path(args.data).stem or "data"
    out = Path(args.out or f"domain-{name}-{args.resolution}.safetensors")
    if out.suffix != ".safetensors":
        raise ReelganError(f"--out must end in .safetensors; got {out.name}")
    fresh_output(out, args.overwrite)
    config = DataConfig(source=args.data, resolution=args.resolution, channels=args.channels,
                        max_images=args.max_images, size=args.max_images)
    dataset = build_dataset(config)
    images = torch.stack([dataset[i][0] for i in range(min(len(dataset), args.max_images))])  # (N, C, R, R)
    print(f"training the domain extractor on {len(images)} images of {args.data} for {args.steps} steps")
    net = train_domain_net(images, steps=args.steps, batch=args.batch, seed=args.seed)
    spec = {"name": "domain", "dataset": args.data if args.data == "logograms" else name,
            "images": len(images), "trained_steps": args.steps, "batch": args.batch, "seed": args.seed,
            "feature_scale": feature_scale(net, images)}
    digest = save_extractor(net, spec, out)
    print(f"wrote {out} (sha256 {digest[:16]}...)")
    return 0
