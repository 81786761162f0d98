"""What every training set shares (as StyleGAN2-ADA's `Dataset` does it): subclasses provide raw uint8 items;
the base adds mirror images (`xflip`), labels and the scaling to [-1, 1], once for images and clips alike."""

from __future__ import annotations

import numpy as np
import torch


def to_unit_range(pixels: np.ndarray) -> torch.Tensor:
    """uint8 pixels of any shape -> float32 tensor in [-1, 1] (0 -> -1, 255 -> 1)."""
    return torch.from_numpy(np.ascontiguousarray(pixels)).float() / 127.5 - 1.0


class Dataset(torch.utils.data.Dataset):
    """A map-style set of `(item, label)`: item a float tensor in [-1, 1], `(C, H, W)` or `(C, T, H, W)`.

    Subclasses set `raw_count` (items before mirroring) and implement `raw_item(i)`, the uint8 item i; they may
    set `labels` (a long tensor, one per raw item) and `class_names`. With `xflip`, items `raw_count` and
    above are the raw items mirrored left to right, which doubles the set (`len`).
    """

    class_names: list[str] = []
    labels: torch.Tensor | None = None
    xflip: bool = False
    skipped: int = 0  # unreadable files left out
    raw_count: int

    def raw_item(self, index: int) -> np.ndarray:
        """uint8 raw item `index`, `(C, H, W)` or `(C, T, H, W)`."""
        raise NotImplementedError

    @property
    def num_classes(self) -> int:
        """Number of classes (0 when unconditional)."""
        return len(self.class_names)

    def __len__(self) -> int:
        return self.raw_count * (2 if self.xflip else 1)

    def raw(self, index: int) -> np.ndarray:
        """uint8 item `index` (indices past `raw_count` are mirror images)."""
        pixels = self.raw_item(index % self.raw_count)
        return pixels[..., ::-1] if index >= self.raw_count else pixels

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        label = torch.tensor(0) if self.labels is None else self.labels[index % self.raw_count]
        return to_unit_range(self.raw(index)), label
