"""`reelgan interpolate`: a latent walk between seeds, as MP4 (H.264) or GIF."""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from ..errors import ReelganError
from ..generator import Generator, load_generator, seed_latents
from ..latent import WALK_MODES, latent_walk
from ..media import save_gif, save_mp4, to_uint8, upscale
from ..provenance import make_record
from .common import add_command, add_source_argument, fresh_output, parse_int_list, source_path

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
    p.set_defaults(run=run_interpolate)


def check_walk(seeds: list[int], out: Path, frames: int, fps: int, mode: str, size: int) -> None:
    """Reject bad walk settings before anything is loaded or written."""
    if out.suffix.lower() not in (".mp4", ".gif"):
        raise ReelganError(f"--out must end in .mp4 or .gif; got {out.name}")
    if len(seeds) < 2:
        raise ReelganError("an interpolation needs at least two seeds, e.g. --seeds 1,2")
    for flag, value in (("--frames", frames), ("--fps", fps), ("--size", size)):
        if value < 1:
            raise ReelganError(f"{flag} must be at least 1; got {value}")
    if mode not in WALK_MODES:
        raise ReelganError(f"--mode must be one of {', '.join(WALK_MODES)}; got {mode!r}")


def write_walk(G: Generator, seeds: list[int], out: Path, *, frames: int = 24, fps: int = 24,
               mode: str = "slerp", loop: bool = False, truncation: float = 1.0,
               class_name: str | None = None, size: int = 256, hold: str = "motion") -> int:
    """Render a latent walk through `seeds` to `out` (.mp4 or .gif); returns the number of frames.

    For a clip generator, `hold` keeps the first seed's motion ("motion": the content morphs) or content
    ("content": the motion morphs) while the rest walks, and video frame k shows frame k mod T of clip k.
    """
    check_walk(seeds, out, frames, fps, mode, size)
    z = latent_walk(seed_latents(seeds, G.spec["latent_dim"], truncation), frames, mode, loop)  # (T, D)
    class_index = G.class_index(class_name)
    labels = G.labels_for(seeds[:1] * len(z), class_index)  # one class for the whole walk
    if G.is_video:
        images = clip_walk_frames(G, z, hold)  # (K, C, H, W)
    else:
        images = G(z, labels)  # (K, C, H, W)
    pixels = [upscale(image, size) for image in to_uint8(images)]  # K x (size, size, C)
    record = make_record(generator_hash=G.hash, seed=seeds[0], seeds=seeds, mode=mode, loop=loop,
                         truncation=truncation, **({"hold": hold} if G.is_video else {}))
    if out.suffix.lower() == ".mp4":
        save_mp4(out, pixels, fps, record)
    else:
        import numpy as np

        save_gif(out, np.stack(pixels), fps, record)
    return len(pixels)


def clip_walk_frames(G: Generator, z: torch.Tensor, hold: str) -> torch.Tensor:
    """Frame k mod T of the clip at each walk latent z[k] (K, D), one part of the latent held at z[0]'s."""
    if hold not in ("motion", "content"):
        raise ReelganError(f"--hold is motion or content; got {hold!r}")
    content_dim = G.spec["content_dim"]
    z = z.clone()
    if hold == "motion":
        z[:, content_dim:] = z[:1, content_dim:]  # one motion for the whole walk; the content morphs
    else:
        z[:, :content_dim] = z[:1, :content_dim]  # one content; the motion morphs
    clips = G(z)  # (K, C, T, H, W)
    steps = torch.arange(len(z))
    return clips[steps, :, steps % clips.shape[2]]  # (K, C, H, W)


def run_interpolate(args: argparse.Namespace) -> int:
    """Load the generator, walk, write the video."""
    seeds = parse_int_list(args.seeds, "--seeds")
    check_walk(seeds, Path(args.out), args.frames, args.fps, args.mode, args.size)
    out = fresh_output(Path(args.out), args.overwrite)
    G = load_generator(source_path(args), device=args.device)
    count = write_walk(G, seeds, out, frames=args.frames, fps=args.fps, mode=args.mode, loop=args.loop,
                       truncation=args.truncation, class_name=args.class_name, size=args.size, hold=args.hold)
    print(f"wrote {out} ({count} frames at {args.fps} fps)")
    return 0
