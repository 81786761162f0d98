"""`reelgan generate`: N images, or one grid, from a run, checkpoint or exported generator."""

from __future__ import annotations

import argparse

from ..gan.generator import load_generator
from ..gan.sampling import write_samples
from .common import add_c2pa_options, add_command, add_source_argument, sign_and_report, signer_from_args, source_path

EXAMPLES = """\
  reelgan generate runs/00001-logograms-r3gan-32 --n 16 --seed 100 --out glyphs/
  reelgan generate latest --n 64 --grid --out sheet.png --size 1024
  reelgan generate generator.safetensors --n 8 --class Futurama --truncation 0.7
  reelgan generate latest --n 4 --c2pa-cert chain.pem --c2pa-key key.pem   # C2PA-signed (reelgan[c2pa])
"""


def add_parser(subparsers) -> None:
    """Register `reelgan generate`."""
    p = add_command(subparsers, "generate", "sample images from a trained generator", EXAMPLES)
    add_source_argument(p)
    p.add_argument("--n", type=int, default=16, help="number of images (default 16)")
    p.add_argument("--seed", type=int, default=0, help="seed of the first image; image i uses seed+i")
    p.add_argument("--truncation", type=float, default=1.0, help="0-1: lower is more typical, less varied")
    p.add_argument("--class", dest="class_name", help="class name (or number) for a conditional generator")
    p.add_argument("--grid", action="store_true", help="one grid image instead of one file per image")
    p.add_argument("--size", type=int, help="upscale each image (or the grid) so its long side is this many px")
    p.add_argument("--out", help="a folder for one file per image or clip (default generated/); with --grid "
                   "one file (default grid.png, or grid.mp4 for clips)")
    p.add_argument("--fps", type=int, default=8, help="clip generators: frames per second (default 8)")
    p.add_argument("--gif", action="store_true", help="clip generators: GIF instead of MP4")
    p.add_argument("--overwrite", action="store_true", help="replace existing output files")
    add_c2pa_options(p)
    p.set_defaults(run=run_generate)


def run_generate(args: argparse.Namespace) -> int:
    """Sample and write PNGs (clips: MP4s or GIFs), each labelled AI-generated with the generator's hash and seed."""
    signer = signer_from_args(args)
    G = load_generator(source_path(args), device=args.device)
    paths = write_samples(G, args.n, args.seed, args.out, grid=args.grid, truncation=args.truncation,
                          class_name=args.class_name, size=args.size, fps=args.fps, gif=args.gif,
                          overwrite=args.overwrite)
    if args.grid:
        print(f"wrote {paths[0]}")
    else:
        print(f"wrote {args.n} {'clips' if G.is_video else 'images'} to {paths[0].parent}/")
    sign_and_report(signer, paths)
    return 0
