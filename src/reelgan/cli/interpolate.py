"""`reelgan interpolate`: a latent walk between seeds, as MP4 (H.264) or GIF."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..gan.generator import load_generator
from ..gan.sampling import WALK_MODES, check_walk, write_walk
from ..paths import output_file
from .common import (
    add_c2pa_options,
    add_command,
    add_source_argument,
    parse_int_list,
    sign_and_report,
    signer_from_args,
    source_path,
)

EXAMPLES = """\
  reelgan interpolate runs/00001-logograms-r3gan-32 --seeds 1,2,3,4 --out morph.mp4
  reelgan interpolate latest --seeds 7,42 --mode lerp --frames 48 --out walk.gif
  reelgan interpolate generator.safetensors --seeds 1,2,3 --loop --size 512 --fps 30 --out loop.mp4
"""


def add_parser(subparsers) -> None:
    """Register `reelgan interpolate`."""
    p = add_command(subparsers, "interpolate", "morph between seeds: a latent walk written as MP4 or GIF",
                    EXAMPLES)
    add_source_argument(p)
    p.add_argument("--seeds", default="0,1,2,3", help="comma-separated seeds to pass through (default 0,1,2,3)")
    p.add_argument("--frames", type=int, default=24, help="frames from one seed to the next (default 24)")
    p.add_argument("--fps", type=int, default=24, help="frames per second (default 24)")
    p.add_argument("--mode", default="slerp", help=f"{' or '.join(WALK_MODES)} (default slerp)")
    p.add_argument("--loop", action="store_true", help="return to the first seed so the video loops")
    p.add_argument("--truncation", type=float, default=1.0, help="0-1: lower is more typical, less varied")
    p.add_argument("--class", dest="class_name", help="class for a conditional generator (default: the first "
                   "seed's)")
    p.add_argument("--size", type=int, default=256, help="long side of the video in pixels (default 256)")
    p.add_argument("--out", default="interpolation.mp4", help=".mp4 or .gif (default interpolation.mp4)")
    p.add_argument("--hold", default="motion", choices=("motion", "content"), help="clip generators: keep the first seed's motion (default; "
                   "the content morphs) or content (the motion morphs)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing output file")
    add_c2pa_options(p)
    p.set_defaults(run=run_interpolate)


def run_interpolate(args: argparse.Namespace) -> int:
    """Load the generator, walk, write the video."""
    seeds = parse_int_list(args.seeds, "--seeds")
    check_walk(seeds, Path(args.out), args.frames, args.fps, args.mode, args.size)
    out = output_file(Path(args.out), args.overwrite)
    signer = signer_from_args(args)
    G = load_generator(source_path(args), device=args.device)
    count = write_walk(G, seeds, out, frames=args.frames, fps=args.fps, mode=args.mode, loop=args.loop,
                       truncation=args.truncation, class_name=args.class_name, size=args.size, hold=args.hold)
    print(f"wrote {out} ({count} frames at {args.fps} fps)")
    sign_and_report(signer, [out])
    return 0
