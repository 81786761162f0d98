"""The copy audit's criterion applied to each batch of an export: drop samples that are near copies.

As in `reelgan audit` (`metrics/audit.py`): every 10th training image is held out, the RMS pixel distance of
each held-out image to its nearest other training image is the yardstick, and a sample nearer to a training
image than the `quantile` of those distances is a likely copy.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ..errors import ReelganError
from ..metrics.audit import HELD_OUT_FRACTION, nearest
from ..metrics.evaluate import real_images

MIN_TRAINING_IMAGES = 20  # the audit's minimum: fewer leave too few held-out images for a threshold


@dataclass
class CopyCriterion:
    """Training images `(N, D)` (flattened, in [-1, 1]) and the RMS pixel distance below which a sample is a copy."""

    references: torch.Tensor
    threshold: float
    quantile: float
    data: str

    def flags(self, images: torch.Tensor) -> np.ndarray:
        """True for each image `(B, C, H, W)` in [-1, 1] nearer to a training image than the threshold.

        Samples are compared with every training image, held-out ones too: a copy of a held-out image is
        as much a copy.
        """
        scale = float(np.sqrt(images[0].numel()))  # Euclidean -> RMS pixel difference
        _, distance = nearest(images.flatten(1), self.references)
        return distance / scale < self.threshold

    def describe(self) -> dict[str, Any]:
        """The criterion as plain data, for the card and the progress record."""
        return {"data": self.data, "training_images": len(self.references), "quantile": self.quantile,
                "pixel_threshold": self.threshold}


def copy_criterion(training: torch.Tensor, quantile: float, data: str) -> CopyCriterion:
    """The criterion for training images `(N, C, H, W)` in [-1, 1] (see the module's docstring)."""
    if len(training) < MIN_TRAINING_IMAGES:
        raise ReelganError(f"--reject-copies needs at least {MIN_TRAINING_IMAGES} training images to compare "
                           f"with; {data} has {len(training)}")
    held = torch.zeros(len(training), dtype=torch.bool)
    held[:: int(1 / HELD_OUT_FRACTION)] = True  # the audit's split: both parts cover the whole set
    flat = training.flatten(1)
    _, held_distance = nearest(flat[held], flat[~held])
    threshold = float(np.quantile(held_distance / np.sqrt(flat.shape[1]), quantile))
    return CopyCriterion(flat, threshold, quantile, data)


def load_criterion(data: str, resolution: int, channels: int, quantile: float, limit: int) -> CopyCriterion:
    """Read up to `limit` training images of `data` at the generator's size and build the criterion."""
    training = real_images(data, resolution, channels, limit, seed=0)  # seed 0: a built-in set's training glyphs
    return copy_criterion(training, quantile, data)
