"""Built-in procedural datasets, generated on the fly and deterministic by seed."""

from __future__ import annotations

import numpy as np

from .base import Dataset
from .logograms import render_logogram


def glyph_seed(dataset_seed: int, index: int) -> int:
    """The render seed of glyph `index` in the dataset with `dataset_seed` (independent streams)."""
    return int(np.random.SeedSequence([dataset_seed, index]).generate_state(1)[0])


class LogogramDataset(Dataset):
    """`size` Arrival-style ink logograms, rendered on first use and then held in memory as uint8.

    One channel is the glyph (dark ink on light paper); three channels repeat it; four channels are black
    ink whose alpha is the ink amount, on a transparent background.
    """

    def __init__(self, size: int, resolution: int, channels: int, seed: int = 0, xflip: bool = False) -> None:
        self.size, self.resolution, self.channels, self.seed, self.xflip = size, resolution, channels, seed, xflip
        self.raw_count = size
        self.cache = np.zeros((size, resolution, resolution), dtype=np.uint8)  # (N, H, W)
        self.rendered = np.zeros(size, dtype=bool)

    def glyph(self, index: int) -> np.ndarray:
        """uint8 `(H, W)` glyph `index` (255 paper, 0 ink)."""
        if not self.rendered[index]:
            self.cache[index] = render_logogram(glyph_seed(self.seed, index), self.resolution)
            self.rendered[index] = True
        return self.cache[index]

    def raw_item(self, index: int) -> np.ndarray:
        """uint8 `(C, H, W)` of glyph `index`."""
        gray = self.glyph(index)
        if self.channels == 4:
            black = np.zeros_like(gray)
            return np.stack([black, black, black, 255 - gray])
        return np.repeat(gray[None], self.channels, axis=0)
