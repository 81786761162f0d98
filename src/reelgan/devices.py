"""Choosing the torch device from a user's `--device` value."""

from __future__ import annotations

import torch

from .errors import ReelganError

DEVICE_NAMES = ("auto", "cpu", "cuda", "mps")


def mps_available() -> bool:
    """Whether Apple's Metal backend can be used."""
    return bool(getattr(torch.backends, "mps", None) and torch.backends.mps.is_available())


def pick_device(name: str) -> torch.device:
    """`auto` picks CUDA, then MPS, then the CPU; an unknown or unavailable device is a ReelganError."""
    if name not in DEVICE_NAMES:
        raise ReelganError(f"--device must be one of {', '.join(DEVICE_NAMES)}; got {name!r}")
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        return torch.device("mps" if mps_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ReelganError("--device cuda but no CUDA GPU is visible; use --device cpu or auto")
    if name == "mps" and not mps_available():
        raise ReelganError("--device mps but MPS is not available; use --device cpu or auto")
    return torch.device(name)
