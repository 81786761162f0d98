"""Copy audit: does a generator reproduce its training images (a copyright risk)?

For each of M generated samples, find the nearest training image in pixel space (RMS difference, in [0, 2]
for images in [-1, 1]) and in the domain extractor's feature space. As a yardstick, do the same for
held-out real images against the rest of the training set: real images are not copies of each other, so a
sample nearer to a training image than almost any held-out real image is (below the `quantile` of the
held-out pixel distances) is flagged as a likely copy.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..errors import ReelganError
from ..gan.generator import Generator
from ..media import make_grid, save_png
from ..provenance import COMPOSITE_WITH_TRAINED_ALGORITHMIC_MEDIA, make_record
from .evaluate import Extractor, choose_extractor

HELD_OUT_FRACTION = 0.1


def nearest(queries: torch.Tensor, references: torch.Tensor, batch: int = 1024) -> tuple[np.ndarray, np.ndarray]:
    """For each query row `(Q, D)`, the index of and Euclidean distance to its nearest reference `(R, D)`."""
    indices, distances = [], []
    for start in range(0, len(queries), batch):
        d = torch.cdist(queries[start:start + batch].double(), references.double())  # (q, R)
        best = d.min(dim=1)
        indices.append(best.indices)
        distances.append(best.values)
    return torch.cat(indices).numpy(), torch.cat(distances).numpy()


def _split(images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(training part, held-out part): every 10th image is held out, so both cover the whole set."""
    held = torch.zeros(len(images), dtype=torch.bool)
    held[:: int(1 / HELD_OUT_FRACTION)] = True
    return images[~held], images[held]


def audit_generator(G: Generator, training: torch.Tensor, n: int = 1000, quantile: float = 0.01,
                    extractor: Extractor | None = None, seed: int = 0
                    ) -> tuple[dict[str, Any], tuple[torch.Tensor, torch.Tensor]]:
    """Audit `n` samples of G (seeds seed..) against training images `(N, C, R, R)` in [-1, 1].

    Returns a JSON-able report (`report["flagged"]` lists the likely copies, nearest first) and the 16
    closest pairs as (samples, their nearest training images), each `(K, C, R, R)`.
    """
    if len(training) < 20:
        raise ReelganError(f"a copy audit needs at least 20 training images; got {len(training)}")
    if not 0 < quantile < 1:
        raise ReelganError(f"--quantile must be between 0 and 1; got {quantile}")
    if training.shape[1:] != (G.channels, G.resolution, G.resolution):
        raise ReelganError(f"training images are {tuple(training.shape[1:])} but the generator makes "
                           f"{(G.channels, G.resolution, G.resolution)}; load the data at the generator's size")
    samples = G.sample(n, seed=seed)  # (n, C, R, R)
    train_part, held_out = _split(training)
    scale = float(np.sqrt(training[0].numel()))  # Euclidean -> RMS pixel difference
    held_index, held_pixel = nearest(held_out.flatten(1), train_part.flatten(1))
    sample_index, sample_pixel = nearest(samples.flatten(1), train_part.flatten(1))
    held_pixel, sample_pixel = held_pixel / scale, sample_pixel / scale
    threshold = float(np.quantile(held_pixel, quantile))
    report: dict[str, Any] = {
        "samples": n, "training_images": len(train_part), "held_out_images": len(held_out),
        "quantile": quantile, "pixel_threshold": threshold,
        "held_out_pixel": _summary(held_pixel), "sample_pixel": _summary(sample_pixel),
    }
    feature_distance = None
    if extractor is not None:
        train_features = torch.from_numpy(extractor.features(train_part))
        _, held_feature = nearest(torch.from_numpy(extractor.features(held_out)), train_features)
        _, feature_distance = nearest(torch.from_numpy(extractor.features(samples)), train_features)
        report["held_out_feature"], report["sample_feature"] = _summary(held_feature), _summary(feature_distance)
    order = np.argsort(sample_pixel)
    report["flagged"] = [
        {"seed": seed + int(i), "training_index": int(sample_index[i]), "pixel_distance": float(sample_pixel[i]),
         **({"feature_distance": float(feature_distance[i])} if feature_distance is not None else {})}
        for i in order if sample_pixel[i] < threshold
    ]
    closest = order[:16]
    report["closest_seeds"] = [seed + int(i) for i in closest]
    return report, (samples[closest], train_part[sample_index[closest]])


def _summary(values: np.ndarray) -> dict[str, float]:
    return {"min": float(values.min()), "p01": float(np.quantile(values, 0.01)),
            "median": float(np.median(values)), "max": float(values.max())}


def write_pairs_sheet(samples: torch.Tensor, matches: torch.Tensor, path: Path, generator_hash: str) -> None:
    """A PNG of pairs `(K, C, R, R)` each: every generated sample beside its nearest training image."""
    pairs = torch.stack([samples, matches], dim=1).flatten(0, 1)  # (2K, C, R, R): sample, match, ...
    record = make_record(generator_hash=generator_hash, seed=None,
                         source_type=COMPOSITE_WITH_TRAINED_ALGORITHMIC_MEDIA,
                         content="copy audit: generated samples (left) beside their nearest training images")
    save_png(path, make_grid(pairs, nrow=8), record)


def run_audit(G: Generator, data: str, out_dir: Path, n: int, quantile: float, extractor_path: str | None,
              limit: int = 20000) -> dict[str, Any]:
    """Load the training images, audit, write report.json and closest.png into `out_dir`."""
    import json

    from .evaluate import real_images

    training = real_images(data, G.resolution, G.channels, limit, seed=0)
    extractor = None
    if extractor_path or data == "logograms":
        extractor = choose_extractor(extractor_path, data, device=G.device)
        if extractor.spec["channels"] not in (None, G.channels):
            extractor = None  # feature distances need a matching extractor; pixel distances still work
    report, (samples, matches) = audit_generator(G, training, n=n, quantile=quantile, extractor=extractor)
    out_dir.mkdir(parents=True, exist_ok=True)
    write_pairs_sheet(samples, matches, out_dir / "closest.png", G.hash)
    report.update({"data": data, "generator_hash": G.hash})
    (out_dir / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    return report
