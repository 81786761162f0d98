"""Metrics: pure functions on feature arrays, registered by name, each returning `dict[str, float]`."""

from __future__ import annotations

from typing import Callable

import numpy as np

from ..errors import ReelganError
from .distances import density_coverage, fid, frechet_distance, fvd, gaussian_stats, kid, precision_recall

MetricFn = Callable[[np.ndarray, np.ndarray], dict]

METRICS: dict[str, MetricFn] = {
    "fid": fid,
    "kid": kid,
    "pr": precision_recall,
    "dc": density_coverage,
    "fvd": fvd,  # on clip features (reelgan.metrics.clip_metrics)
}

from ..config import METRIC_NAMES

assert tuple(METRICS) == METRIC_NAMES, "config.METRIC_NAMES must list the registered metrics"

__all__ = ["METRICS", "check_metric_names", "compute_metrics", "density_coverage", "fid", "fvd",
           "frechet_distance", "gaussian_stats", "kid", "precision_recall"]


def check_metric_names(names: list[str]) -> None:
    """ReelganError unless `names` are registered metrics (checked before any sampling: a typo should not cost
    minutes)."""
    unknown = [name for name in names if name not in METRICS]
    if unknown or not names:
        raise ReelganError(f"unknown metric(s) {', '.join(unknown) or '(none given)'}; "
                           f"choose from {', '.join(METRICS)}")


def compute_metrics(names: list[str], real: np.ndarray, fake: np.ndarray) -> dict[str, float]:
    """Run the named metrics on real `(N, D)` and generated `(M, D)` features; merged results."""
    check_metric_names(names)
    results: dict[str, float] = {}
    for name in names:
        results.update(METRICS[name](real, fake))
    return results
