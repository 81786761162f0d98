"""Latent walks: smooth paths through a generator's latent space, for morph videos."""

from __future__ import annotations

import torch

from .errors import ReelganError

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
