"""Sampling a trained generator: samples at seeds written as labelled files, and latent walks (smooth paths
through its latent space) written as morph videos."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from ..errors import ReelganError
from ..media import make_grid, save_gif, save_mp4, save_png, to_uint8, upscale
from ..paths import output_file, output_folder
from ..provenance import make_record
from .generator import Generator, seed_latents
from .kinds import kind_of

WALK_MODES = ("slerp", "lerp")


def lerp(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Straight line from a (D,) to b (D,) at fractions t (T,): (T, D)."""
    return a[None] + (b - a)[None] * t[:, None]


def slerp(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Great-circle path from a (D,) to b (D,) at fractions t (T,): (T, D).

    Gaussian latents live near a sphere; a straight line cuts through its low-density inside, so mid-way
    images look washed out. The norm is interpolated linearly along the arc.
    """
    a_norm, b_norm = a.norm(), b.norm()
    cos = torch.clamp(torch.dot(a / a_norm, b / b_norm), -1.0, 1.0)
    omega = torch.arccos(cos)
    if omega.abs() < 1e-6:  # (nearly) the same direction: the line is the arc
        return lerp(a, b, t)
    direction = (torch.sin((1 - t)[:, None] * omega) * (a / a_norm)[None]
                 + torch.sin(t[:, None] * omega) * (b / b_norm)[None]) / torch.sin(omega)
    return direction * (a_norm + (b_norm - a_norm) * t)[:, None]


def latent_walk(keys: torch.Tensor, frames_per_step: int, mode: str = "slerp", loop: bool = False
                ) -> torch.Tensor:
    """Frames through key latents `keys` (K, D): (frames, D), `frames_per_step` per pair of keys.

    Without `loop` the walk ends exactly on the last key; with it, it returns to the first key (and leaves it
    out at the end, so the video repeats seamlessly).
    """
    if mode not in WALK_MODES:
        raise ReelganError(f"--mode must be one of {', '.join(WALK_MODES)}; got {mode!r}")
    if frames_per_step < 1:
        raise ReelganError(f"--frames must be at least 1; got {frames_per_step}")
    if len(keys) < 2:
        raise ReelganError("an interpolation needs at least two seeds, e.g. --seeds 1,2")
    path = torch.cat([keys, keys[:1]]) if loop else keys
    step = slerp if mode == "slerp" else lerp
    t = torch.arange(frames_per_step, dtype=keys.dtype) / frames_per_step  # [0, 1) per segment
    frames = [step(path[i], path[i + 1], t) for i in range(len(path) - 1)]
    if not loop:
        frames.append(path[-1:])
    return torch.cat(frames)


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
    SAMPLE_WRITERS[out.suffix.lower()](out, pixels, fps, record)
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


def sample_seeds(G: Generator, seeds: list[int], truncation: float = 1.0,
                 class_name: str | int | None = None) -> torch.Tensor:
    """Samples of `G` at arbitrary seeds, `(len(seeds), C, H, W)` (clips with T): seed s gives the same sample
    as item 0 of `G.sample(1, seed=s)` does."""
    return torch.cat([G.sample(1, seed=seed, truncation=truncation, class_name=class_name) for seed in seeds])


def sample_suffix(G: Generator, gif: bool = False) -> str:
    """The file suffix a sample of `G` is written with: .png for images, .mp4 (or .gif with `gif`) for clips."""
    return ".gif" if gif and G.is_video else kind_of(G.spec).sample_suffix


def samples_grid_path(out: str | Path | None, G: Generator, gif: bool = False) -> Path:
    """Where `write_samples(..., grid=True)` writes: `out` (which must end in the format written) or grid.png
    (grid.mp4, or grid.gif with `gif`, for clips)."""
    suffix = sample_suffix(G, gif)
    path = Path(out or f"grid{suffix}")
    if path.suffix.lower() != suffix:
        raise ReelganError(f"--out {path} must end in {suffix}: with --grid this generator writes one "
                           f"{suffix[1:].upper()} file (clips: --gif for a GIF)")
    return path


def write_samples(G: Generator, n: int, seed: int = 0, out: str | Path | None = None, *, grid: bool = False,
                  truncation: float = 1.0, class_name: str | int | None = None, size: int | None = None,
                  fps: int = 8, gif: bool = False, overwrite: bool = False) -> list[Path]:
    """Write `n` samples (item i from seed `seed + i`), each labelled AI-generated with the generator's hash and
    its seed: one PNG per image (MP4 or GIF per clip) in folder `out` (default generated/), or with `grid` one
    file of all of them (`samples_grid_path`). `size` upscales each sample (or the grid) to that long side.
    Nothing is overwritten without `overwrite`; returns the paths written."""
    if size is not None and size < 1:
        raise ReelganError(f"--size must be at least 1 pixel; got {size}")
    suffix = sample_suffix(G, gif)
    if grid:
        paths = [output_file(samples_grid_path(out, G, gif), overwrite)]
    else:
        folder = output_folder(out or "generated")
        paths = [output_file(folder / f"seed{seed + i:06d}{suffix}", overwrite) for i in range(n)]
    samples = G.sample(n, seed=seed, truncation=truncation, class_name=class_name)
    common = {"generator_hash": G.hash, "truncation": truncation, "class": class_name}
    if grid:
        write_sheet(paths[0], samples, make_record(seed=seed, n=n, **common), size=size, fps=fps)
        return paths
    frames = samples.transpose(1, 2) if G.is_video else samples[:, None]  # (N, T, C, H, W); images: T = 1
    for i, (path, clip) in enumerate(zip(paths, frames)):
        video = [upscale(frame, size) if size is not None else frame for frame in to_uint8(clip)]
        SAMPLE_WRITERS[suffix](path, video, fps, make_record(seed=seed + i, **common))
    return paths


def write_sheet(path: Path, samples: torch.Tensor, record: dict, *, nrow: int | None = None,
                size: int | None = None, fps: int = 8) -> Path:
    """One file showing `samples` (N, C, H, W) as a grid (`nrow` per row), or clips (N, C, T, H, W) as a video
    of grids, written by `path`'s suffix (.png, .gif, .mp4) with `record`; `size` upscales the grid's long
    side."""
    frames = samples.transpose(1, 2) if samples.dim() == 5 else samples[:, None]  # (N, T, C, H, W)
    grids = [make_grid(frames[:, t], nrow=nrow) for t in range(frames.shape[1])]  # T x (H', W', C)
    SAMPLE_WRITERS[Path(path).suffix.lower()](path, [upscale(g, size) if size is not None else g for g in grids],
                                              fps, record)
    return Path(path)


# How one sample (T frames of (H, W, C) uint8; an image is one frame) is written, by its file's suffix.
SAMPLE_WRITERS = {
    ".png": lambda path, frames, fps, record: save_png(path, frames[0], record),
    ".gif": lambda path, frames, fps, record: save_gif(path, np.stack(frames), fps, record),
    ".mp4": lambda path, frames, fps, record: save_mp4(path, frames, fps, record),
}
