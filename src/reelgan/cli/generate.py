"""`reelgan generate`: N images, or one grid, from a run, checkpoint or exported generator."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from ..errors import ReelganError
from ..gan.generator import load_generator
from ..media import make_grid, save_png, to_uint8, upscale
from ..paths import output_folder
from ..provenance import make_record
from .common import add_command, add_source_argument, fresh_output, source_path

EXAMPLES = """\
  reelgan generate runs/00001-logograms-r3gan-32 --n 16 --seed 100 --out glyphs/
  reelgan generate latest --n 64 --grid --out sheet.png --size 1024
  reelgan generate generator.safetensors --n 8 --class Futurama --truncation 0.7
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
    p.set_defaults(run=run_generate)


def run_generate(args: argparse.Namespace) -> int:
    """Sample and write PNGs, each labelled AI-generated with the generator's hash and its seed."""
    if args.size is not None and args.size < 1:
        raise ReelganError(f"--size must be at least 1 pixel; got {args.size}")
    G = load_generator(source_path(args), device=args.device)
    images = G.sample(args.n, seed=args.seed, truncation=args.truncation, class_name=args.class_name)
    common = {"generator_hash": G.hash, "truncation": args.truncation, "class": args.class_name}
    if G.is_video:
        return write_clips(args, images, common)
    if args.grid:
        path = fresh_output(grid_path(args.out, ".png"), args.overwrite)
        grid = make_grid(images)
        save_png(path, upscale(grid, args.size) if args.size is not None else grid,
                 make_record(seed=args.seed, n=args.n, **common))
        print(f"wrote {path}")
        return 0
    folder = output_folder(args.out or "generated")
    pixels = to_uint8(images)  # (N, H, W, C)
    paths = [fresh_output(folder / f"seed{args.seed + i:06d}.png", args.overwrite) for i in range(args.n)]
    for i, (path, image) in enumerate(zip(paths, pixels)):
        save_png(path, upscale(image, args.size) if args.size is not None else image, make_record(seed=args.seed + i, **common))
    print(f"wrote {args.n} images to {folder}/")
    return 0


def grid_path(out: str | None, suffix: str) -> Path:
    """The --grid output: `out` (which must end in `suffix`, the format written) or grid<suffix>."""
    path = Path(out or f"grid{suffix}")
    if path.suffix.lower() != suffix:
        raise ReelganError(f"--out {path} must end in {suffix}: with --grid this generator writes one "
                           f"{suffix[1:].upper()} file (clips: --gif for a GIF)")
    return path


def write_clips(args: argparse.Namespace, clips, common: dict) -> int:
    """Clips (N, C, T, H, W): one MP4 (or GIF) per clip, or with --grid one video of all clips side by side."""
    from ..media import save_gif, save_mp4

    frames = clips.transpose(1, 2)  # (N, T, C, H, W)
    suffix = ".gif" if args.gif else ".mp4"

    def write(path: Path, video, record: dict) -> None:  # video: (T, H, W, C) uint8
        video = np.stack([upscale(frame, args.size) if args.size is not None else frame for frame in video])
        if args.gif:
            save_gif(path, video, args.fps, record)
        else:
            save_mp4(path, video, args.fps, record)

    if args.grid:
        path = fresh_output(grid_path(args.out, suffix), args.overwrite)
        grid = [make_grid(frames[:, t]) for t in range(frames.shape[1])]  # T x (H', W', C)
        write(path, grid, make_record(seed=args.seed, n=args.n, **common))
        print(f"wrote {path}")
        return 0
    folder = output_folder(args.out or "generated")
    paths = [fresh_output(folder / f"seed{args.seed + i:06d}{suffix}", args.overwrite) for i in range(args.n)]
    for i, path in enumerate(paths):
        write(path, to_uint8(frames[i]), make_record(seed=args.seed + i, **common))
    print(f"wrote {args.n} clips to {folder}/")
    return 0
