"""Evaluating a generator against a dataset: features, cached reference features, protocol-named results.

A result's name spells out its protocol: metric, sample count, extractor and resolution, e.g.
`fid10k_domain-logograms-32` (FID on 10,000 samples with the logograms domain extractor at 32 px).
"""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path

import numpy as np
import torch

from ..config import DataConfig
from ..data import build_dataset
from ..errors import ReelganError
from ..gan.generator import Generator
from ..paths import cache_root
from . import compute_metrics
from .domain import DomainExtractor, bundled_extractor_path, load_extractor
from .inception import InceptionExtractor, load_inception

Extractor = DomainExtractor | InceptionExtractor
log = logging.getLogger("reelgan")


def cache_dir() -> Path:
    """Where reference features are cached: $REELGAN_CACHE or ~/.cache/reelgan."""
    return cache_root() / "reference-features"


def count_label(n: int) -> str:
    """10000 -> '10k', 2500 -> '2500'."""
    return f"{n // 1000}k" if n >= 1000 and n % 1000 == 0 else str(n)


def metric_key(name: str, n: int, extractor: Extractor, resolution: int) -> str:
    """Protocol-named key such as fid10k_domain-logograms-32 or fid10k_inception-32 (32 px samples)."""
    return f"{name}{count_label(n)}_{extractor.label(resolution)}"


def choose_extractor(name: str | None, data: str, device: str | torch.device = "cpu") -> Extractor:
    """The extractor the user named, or the bundled domain one for a built-in dataset.

    `name`: None or "domain" (the bundled extractor), a domain extractor `.safetensors`, "inception" (weights
    from $REELGAN_INCEPTION_WEIGHTS or the default place) or an Inception weights `.pth` file. `device` is where
    Inception runs (the small domain extractor runs on the CPU).
    """
    if name == "inception" or (name and Path(name).suffix == ".pth"):
        return load_inception(None if name == "inception" else name, device=device)
    if name and name != "domain":
        return load_extractor(name)
    if data == "logograms":
        return load_extractor(bundled_extractor_path("logograms", 32))
    raise ReelganError(
        f"no domain extractor for {data}; train one with `reelgan metrics train-extractor {data}` "
        "and pass it with --extractor (or use --extractor inception)"
    )


def real_images(data: str, resolution: int, channels: int, n: int, seed: int = 1) -> torch.Tensor:
    """Up to `n` dataset images `(N, C, R, R)` in [-1, 1], always the same ones for the same data and n.

    A set larger than `n` gives a fixed random subset in file order, so that the reference covers every
    class and folder (the first n files of a sorted folder would cover only some).
    `seed` picks a procedural set's glyphs: 1 (default) gives glyphs other than training's seed 0.
    """
    dataset = build_dataset(DataConfig(source=data, resolution=resolution, channels=channels, size=n,
                                       seed=seed))
    indices = torch.arange(len(dataset))
    if len(dataset) > n:
        indices = torch.randperm(len(dataset), generator=torch.Generator().manual_seed(0))[:n].sort().values
    return torch.stack([dataset[int(i)][0] for i in indices])


def reference_features(images: torch.Tensor, extractor: Extractor) -> np.ndarray:
    """Features of the real images, cached by the sha256 of the pixels and of the extractor."""
    pixels = ((images.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).numpy()
    # The key covers the weights and the feature centring and scaling, which are applied before caching.
    stats = f"{extractor.spec['sha256']}{extractor.spec.get('feature_mean')}{extractor.spec.get('feature_scale')}"
    key = hashlib.sha256(pixels.tobytes() + str(pixels.shape).encode() + stats.encode())
    path = cache_dir() / f"{key.hexdigest()[:32]}.npy"
    if path.is_file():
        try:
            cached = np.load(path, allow_pickle=False)
            if cached.ndim == 2 and len(cached) == len(images) and np.isfinite(cached).all():
                return cached
        except (ValueError, OSError, EOFError):
            pass  # a cut-off or foreign cache file: compute the features again and replace it
        log.warning("feature cache %s is damaged; computing the features again", path)
    features = extractor.features(images)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp.npy")
    np.save(tmp, features)
    tmp.replace(path)
    return features


def evaluate_generator(G: Generator, data: str, metrics: list[str], n: int = 10000,
                       extractor: Extractor | None = None, seed: int = 0,
                       fake_features: np.ndarray | None = None) -> dict[str, float]:
    """Compare `n` samples of G (seeds seed..seed+n-1) with `n` dataset images; protocol-named results.

    `fake_features`: the samples' features when they were computed elsewhere (by several processes).
    """
    extractor = extractor or choose_extractor(None, data)
    if extractor.spec["channels"] not in (None, G.channels):  # None: takes any channel count
        raise ReelganError(
            f"the extractor takes {extractor.spec['channels']}-channel images but the generator makes "
            f"{G.channels}; train an extractor on {G.channels}-channel data"
        )
    real = real_images(data, G.resolution, G.channels, n)
    if len(real) < n:
        raise ReelganError(f"{data} has {len(real)} images; these metrics at --n {n} need {n}: lower --n")
    if fake_features is None:
        fake_features = extractor.features(G.sample(n, seed=seed))
    results = compute_metrics(metrics, reference_features(real, extractor), fake_features)
    return {metric_key(key, n, extractor, G.resolution): value for key, value in results.items()}
