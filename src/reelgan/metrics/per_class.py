"""Per-class quality of a class-conditional generator: FID within each class and their mean, intra-FID.

Intra-FID (Miyato & Koyama, "cGANs with Projection Discriminator", ICLR 2018) compares, for every class,
the generator's samples of that class with the dataset's images of that class, and averages the FIDs. A
generator that ignores its label scores well on plain FID (its samples cover every class) and badly here
(each class's samples are the whole mixture). Classes are matched by name between the generator and the
dataset, read with the same `--class-depth` the generator was trained with.
"""

from __future__ import annotations

import numpy as np
import torch

from ..config import DataConfig
from ..data import build_dataset
from ..errors import ReelganError
from ..gan.generator import Generator
from .distances import fid
from .evaluate import Extractor, count_label, reference_features

MIN_PER_CLASS = 2  # FID needs two images of a class for a covariance


def class_images(data: str, G: Generator, class_depth: int, n_per_class: int) -> dict[str, torch.Tensor]:
    """Up to `n_per_class` dataset images `(N, C, R, R)` in [-1, 1] for each class the generator knows.

    ReelganError when the data has no classes or none of the generator's class names."""
    dataset = build_dataset(DataConfig(source=data, resolution=G.resolution, channels=G.channels, cond=True,
                                       class_depth=class_depth, xflip=False))
    names = list(getattr(dataset, "class_names", []) or [])
    shared = [name for name in G.class_names if name in names]
    if not shared:
        raise ReelganError(f"{data} has none of the generator's classes ({', '.join(G.class_names[:5])} ...); "
                           "pass the data it was trained on, with the same --class-depth")
    labels = dataset.labels[: dataset.raw_count] if dataset.labels is not None else torch.zeros(0, dtype=torch.long)
    images: dict[str, torch.Tensor] = {}
    for name in shared:
        indices = torch.nonzero(labels == names.index(name)).flatten()[:n_per_class]
        images[name] = torch.stack([dataset[int(i)][0] for i in indices]) if len(indices) else torch.zeros(0)
    return images


def per_class_fid(G: Generator, data: str, extractor: Extractor, n_per_class: int = 1000, class_depth: int = 1,
                  seed: int = 0) -> dict[str, float]:
    """Protocol-named results: `intra_fid{n}_{extractor}` (the mean over classes) and `fid{n}_class-NAME_...`
    per class, each class compared at min(its image count, n_per_class) samples of each side; classes with
    fewer than MIN_PER_CLASS images are left out (and counted in `intra_fid_classes`)."""
    if not G.class_names:
        raise ReelganError("intra-FID needs a class-conditional generator (trained with --cond); this one has no "
                           "classes: use --metrics fid")
    if n_per_class < MIN_PER_CLASS:
        raise ReelganError(f"--per-class must be at least {MIN_PER_CLASS} images; got {n_per_class}")
    label = extractor.label(G.resolution)
    results: dict[str, float] = {}
    scores = []
    for name, real in class_images(data, G, class_depth, n_per_class).items():
        if len(real) < MIN_PER_CLASS:
            continue
        # seeds apart per class, by the generator's own class index: the same samples whatever the data holds
        fake = G.sample(len(real), seed=seed + G.class_names.index(name) * 1_000_003, class_name=name)
        value = fid(reference_features(real, extractor), extractor.features(fake))["fid"]
        results[f"fid{count_label(len(real))}_class-{name}_{label}"] = value
        scores.append(value)
    if not scores:
        raise ReelganError(f"no class of {data} has {MIN_PER_CLASS} images or more; intra-FID needs them")
    results[f"intra_fid{count_label(n_per_class)}_{label}"] = float(np.mean(scores))
    results["intra_fid_classes"] = float(len(scores))
    return results
