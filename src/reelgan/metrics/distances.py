"""Sample-quality metrics as pure functions on feature arrays.

Every function takes real features `(N, D)` and generated features `(M, D)` (NumPy arrays, any float dtype)
and returns `dict[str, float]`. Statistics are computed in float64.

- Frechet distance (Heusel et al. 2017, "FID" with Inception features).
- KID: unbiased squared MMD with the cubic polynomial kernel, over random subsets (Binkowski et al. 2018).
- Precision and recall on k-NN manifolds (Kynkaanniemi et al. 2019).
- Density and coverage (Naeem et al. 2020).
"""

from __future__ import annotations

import numpy as np
import torch

from ..errors import ReelganError


def _check_features(real: np.ndarray, fake: np.ndarray, minimum: int, metric: str
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Both (N, D) with the same D and at least `minimum` rows, as float64."""
    real, fake = np.asarray(real, dtype=np.float64), np.asarray(fake, dtype=np.float64)
    if real.ndim != 2 or fake.ndim != 2 or real.shape[1] != fake.shape[1]:
        raise ReelganError(
            f"{metric} needs two (N, D) feature arrays of the same D; got {real.shape} and {fake.shape}"
        )
    for name, feats in (("real", real), ("generated", fake)):
        if len(feats) < minimum:
            raise ReelganError(f"{metric} needs at least {minimum} {name} samples; got {len(feats)}")
    return real, fake


def gaussian_stats(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean `(D,)` and covariance `(D, D)` of features `(N, D)`, in float64."""
    features = np.asarray(features, dtype=np.float64)
    return features.mean(axis=0), np.cov(features, rowvar=False)


def _psd_sqrt(matrix: np.ndarray) -> np.ndarray:
    """Square root of a symmetric positive semi-definite matrix (eigenvalues clipped at 0)."""
    values, vectors = np.linalg.eigh((matrix + matrix.T) / 2)
    return (vectors * np.sqrt(np.clip(values, 0, None))) @ vectors.T


def frechet_distance(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray) -> float:
    """Frechet distance between N(mu1, sigma1) and N(mu2, sigma2).

    ||mu1 - mu2||^2 + tr(sigma1 + sigma2 - 2 (sigma1 sigma2)^(1/2)). The trace of the product's square root is
    computed as the sum of square roots of the eigenvalues of sqrt(sigma1) sigma2 sqrt(sigma1), which is
    symmetric PSD: no complex parts and no ill-conditioned general sqrtm.
    """
    root1 = _psd_sqrt(np.asarray(sigma1, dtype=np.float64))
    middle = root1 @ np.asarray(sigma2, dtype=np.float64) @ root1
    trace_sqrt = np.sqrt(np.clip(np.linalg.eigvalsh((middle + middle.T) / 2), 0, None)).sum()
    diff = np.asarray(mu1, dtype=np.float64) - np.asarray(mu2, dtype=np.float64)
    value = diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2 * trace_sqrt
    return float(max(value, 0.0))


def fid(real: np.ndarray, fake: np.ndarray) -> dict[str, float]:
    """Frechet distance between Gaussians fitted to the two feature sets."""
    real, fake = _check_features(real, fake, 2, "FID")
    return {"fid": frechet_distance(*gaussian_stats(real), *gaussian_stats(fake))}


def fvd(real: np.ndarray, fake: np.ndarray) -> dict[str, float]:
    """Frechet distance between Gaussians fitted to clip features (a proxy FVD: reelgan's own clip network,
    not the I3D of the published FVD)."""
    real, fake = _check_features(real, fake, 2, "FVD")
    return {"fvd": frechet_distance(*gaussian_stats(real), *gaussian_stats(fake))}


def kid(real: np.ndarray, fake: np.ndarray, subsets: int = 100, subset_size: int = 1000, seed: int = 0
        ) -> dict[str, float]:
    """Kernel Inception Distance: mean and standard deviation over subsets of the unbiased MMD^2.

    Kernel k(x, y) = (x.y / D + 1)^3. Subsets hold min(subset_size, N, M) samples each.
    """
    real, fake = _check_features(real, fake, 2, "KID")
    size = min(subset_size, len(real), len(fake))
    rng = np.random.default_rng(seed)
    dim = real.shape[1]
    values = []
    for _ in range(subsets):
        x = real[rng.choice(len(real), size, replace=False)]
        y = fake[rng.choice(len(fake), size, replace=False)]
        k_xx, k_yy = (x @ x.T / dim + 1) ** 3, (y @ y.T / dim + 1) ** 3
        k_xy = (x @ y.T / dim + 1) ** 3
        # Unbiased: leave the diagonal (a sample with itself) out of the within-set means.
        within = (k_xx.sum() - np.trace(k_xx) + k_yy.sum() - np.trace(k_yy)) / (size * (size - 1))
        values.append(within - 2 * k_xy.mean())
    return {"kid": float(np.mean(values)), "kid_std": float(np.std(values))}


def _pairwise(a: np.ndarray, b: np.ndarray, batch: int = 4096) -> np.ndarray:
    """Euclidean distances `(len(a), len(b))`, in row batches to bound memory."""
    tb = torch.from_numpy(b)
    return np.concatenate([torch.cdist(torch.from_numpy(a[i:i + batch]), tb).numpy()
                           for i in range(0, len(a), batch)])


def _knn_radii(features: np.ndarray, k: int) -> np.ndarray:
    """Distance from each sample to its k-th nearest other sample, `(N,)`."""
    distances = _pairwise(features, features)
    return np.partition(distances, k, axis=1)[:, k]  # column 0 is the sample itself (distance 0)


def precision_recall(real: np.ndarray, fake: np.ndarray, k: int = 3) -> dict[str, float]:
    """Improved precision and recall: the share of each set inside the other's k-NN balls."""
    real, fake = _check_features(real, fake, k + 1, "precision/recall")
    real_radii, fake_radii = _knn_radii(real, k), _knn_radii(fake, k)
    cross = _pairwise(fake, real)  # (M, N)
    precision = (cross <= real_radii[None, :]).any(axis=1).mean()
    recall = (cross.T <= fake_radii[None, :]).any(axis=1).mean()
    return {"precision": float(precision), "recall": float(recall)}


def density_coverage(real: np.ndarray, fake: np.ndarray, k: int = 5) -> dict[str, float]:
    """Density (how many real k-NN balls hold each fake, over k) and coverage (real balls holding a fake)."""
    real, fake = _check_features(real, fake, k + 1, "density/coverage")
    radii = _knn_radii(real, k)
    inside = _pairwise(real, fake) <= radii[:, None]  # (N, M): fake j inside real i's ball
    return {"density": float(inside.sum() / (k * len(fake))), "coverage": float(inside.any(axis=1).mean())}
