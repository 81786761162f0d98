"""Datasets: image folders, zips and arrays, and built-in procedural sets.

`build_dataset(config)` returns a map-style dataset of `(image, label)` pairs, image a float tensor
`(C, H, W)` in [-1, 1], with `num_classes`, `class_names` and `skipped` (unreadable files) attributes.
"""

from __future__ import annotations

import torch

from ..config import BUILTIN_DATASETS, DataConfig
from .image_sets import ImageDataset
from .procedural import LogogramDataset
from .sampler import ResumableBatchSampler

__all__ = ["build_dataset", "build_loader", "ImageDataset", "LogogramDataset", "ResumableBatchSampler"]


def build_dataset(config: DataConfig) -> torch.utils.data.Dataset:
    """The dataset that `config.source` names: a built-in name, or a folder / zip / npy / npz path.

    With `config.kind == "video"`, a clip dataset of `(clip (C, T, H, W), label)` pairs instead.
    """
    if config.kind == "video":
        from .clip_sets import build_clip_dataset

        return build_clip_dataset(config.source, config.frames, config.stride, config.resolution, config.channels,
                                  size=config.size, seed=config.seed)
    if config.source == "logograms":
        return LogogramDataset(config.size, config.resolution, config.channels, config.seed, config.xflip)
    assert config.source not in BUILTIN_DATASETS, "every built-in dataset needs a branch above"
    return ImageDataset(config.source, config.resolution, config.channels, config.cond,
                        config.max_images, config.xflip, config.class_depth, config.fit)


def build_loader(dataset: torch.utils.data.Dataset, batch_size: int, seed: int, start_batch: int,
                 workers: int, pin_memory: bool, shard: tuple[int, int] = (0, 1)) -> torch.utils.data.DataLoader:
    """An endless loader whose order depends only on (seed, batch number): see `ResumableBatchSampler`; with
    `shard` (rank, processes), this rank's share of each batch."""
    sampler = ResumableBatchSampler(len(dataset), batch_size, seed, start_batch, shard)
    return torch.utils.data.DataLoader(
        dataset, batch_sampler=sampler, num_workers=workers, pin_memory=pin_memory,
        persistent_workers=workers > 0,
        # Its own generator, so worker seeding never draws from the global RNG that training uses.
        generator=torch.Generator().manual_seed(seed),
    )
