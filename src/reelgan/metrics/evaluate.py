"""Evaluating a generator against a dataset: features, cached reference features, protocol-named results.

A result's name spells out its protocol: metric, sample count, extractor and resolution, e.g.
`fid10k_domain-logograms-32` (FID on 10,000 samples with the logograms domain extractor at 32 px).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np
import torch

from ..config import DataConfig
from ..data import build_dataset
from ..errors import ReelganError
from ..generator import Generator
from . import compute_metrics
from .domain import DomainExtractor, bundled_extractor_path, load_extractor


def cache_dir() -> Path:
    """Where reference features are cached: $REELGAN_CACHE or ~/.cache/reelgan."""
    return Path(os.environ.get("REELGAN_CACHE", Path.home() / ".cache" / "reelgan")) / "reference-features"


def count_label(n: int) -> str:
    """10000 -> '10k', 2500 -> '2500'."""
    return f"{n // 1000}k" if n >= 1000 and n % 1000 == 0 else str(n)


def metric_key(name: str, n: int, extractor: DomainExtractor) -> str:
    """Protocol-named key such as fid10k_domain-logograms-32."""
    return f"{name}{count_label(n)}_domain-{extractor.spec['dataset']}-{extractor.spec['resolution']}"


def choose_extractor(path: str | None, data: str) -> DomainExtractor:
    """The extractor the user named, or the bundled one for a built-in dataset (it resizes its input)."""
    if path:
        return load_extractor(path)
    if data == "logograms":
        return load_extractor(bundled_extractor_path("logograms", 32))
    raise ReelganError(
        f"no domain extractor for {data}; train one with `reelgan metrics train-extractor {data}` "
        "and pass it with --extractor"
    )


def real_images(data: str, resolution: int, channels: int, n: int, seed: int = 1) -> torch.Tensor:
    """Up to `n` dataset images `(N, C, R, R)` in [-1, 1], in a fixed order (the first n items).

    `seed` picks a procedural set's glyphs: 1 (default) gives glyphs other than training's seed 0.
    """
    dataset = build_dataset(DataConfig(source=data, resolution=resolution, channels=channels, size=n,
                                       seed=seed))
    count = min(n, len(dataset))
    return torch.stack([dataset[i][0] for i in range(count)])


def reference_features(images: torch.Tensor, extractor: DomainExtractor) -> np.ndarray:
    """Features of the real images, cached by the sha256 of the pixels and of the extractor."""
    pixels = ((images.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).numpy()
    key = hashlib.sha256(pixels.tobytes() + str(pixels.shape).encode() + extractor.spec["sha256"].encode())
    path = cache_dir() / f"{key.hexdigest()[:32]}.npy"
    if path.is_file():
        return np.load(path)
    features = extractor.features(images)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp.npy")
    np.save(tmp, features)
    tmp.replace(path)
    return features


def evaluate_generator(G: Generator, data: str, metrics: list[str], n: int = 10000,
                       extractor: DomainExtractor | None = None, seed: int = 0) -> dict[str, float]:
    """Compare `n` samples of G (seeds seed..seed+n-1) with `n` dataset images; protocol-named results."""
    extractor = extractor or choose_extractor(None, data)
    if extractor.spec["channels"] != G.channels:
        raise ReelganError(
            f"the extractor takes {extractor.spec['channels']}-channel images but the generator makes "
            f"{G.channels}; train an extractor on {G.channels}-channel data"
        )
    real = real_images(data, G.resolution, G.channels, n)
    if len(real) < n:
        raise ReelganError(f"{data} has {len(real)} images; these metrics at --n {n} need {n}: lower --n")
    fake_features = extractor.features(G.sample(n, seed=seed))
    results = compute_metrics(metrics, reference_features(real, extractor), fake_features)
    return {metric_key(key, n, extractor): value for key, value in results.items()}
