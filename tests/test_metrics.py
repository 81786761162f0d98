import numpy as np
import pytest

from reelgan.errors import ReelganError
from reelgan.metrics import compute_metrics, density_coverage, fid, frechet_distance, kid, precision_recall


def test_frechet_distance_matches_the_closed_form_for_diagonal_gaussians():
    mu1, mu2 = np.array([0.0, 1.0, 2.0]), np.array([1.0, 1.0, 0.0])
    var1, var2 = np.array([1.0, 4.0, 0.25]), np.array([2.0, 1.0, 0.25])
    expected = np.sum((mu1 - mu2) ** 2) + np.sum(var1 + var2 - 2 * np.sqrt(var1 * var2))
    assert frechet_distance(mu1, np.diag(var1), mu2, np.diag(var2)) == pytest.approx(expected, rel=1e-10)


def test_frechet_distance_with_full_covariances_matches_commuting_case():
    rng = np.random.default_rng(0)
    q, _ = np.linalg.qr(rng.normal(size=(4, 4)))  # same eigenvectors: the product's square root is exact
    s1 = q @ np.diag([1.0, 2.0, 3.0, 4.0]) @ q.T
    s2 = q @ np.diag([4.0, 1.0, 0.5, 9.0]) @ q.T
    expected = np.sum(np.array([1, 2, 3, 4]) + np.array([4, 1, 0.5, 9])
                      - 2 * np.sqrt(np.array([1, 2, 3, 4]) * np.array([4, 1, 0.5, 9])))
    assert frechet_distance(np.zeros(4), s1, np.zeros(4), s2) == pytest.approx(expected, rel=1e-9)


def test_fid_of_samples_approaches_the_true_distance():
    rng = np.random.default_rng(1)
    a = rng.normal(0.0, 1.0, size=(20000, 2))
    b = rng.normal(0.5, 2.0, size=(20000, 2))
    expected = 2 * 0.25 + 2 * (1 + 4 - 2 * 2)
    assert fid(a, b)["fid"] == pytest.approx(expected, rel=0.05)
    assert fid(a, a)["fid"] == pytest.approx(0.0, abs=1e-8)


def test_kid_is_near_zero_for_one_distribution_and_positive_for_two():
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=(600, 8)), rng.normal(size=(600, 8))
    same = kid(a, b, subsets=20, subset_size=300)
    assert abs(same["kid"]) < 3 * same["kid_std"] + 1e-3
    shifted = kid(a, b + 1.0, subsets=20, subset_size=300)
    assert shifted["kid"] > 10 * max(same["kid"], 1e-3) and shifted["kid_std"] >= 0


def test_precision_recall_on_identical_disjoint_and_subset_sets():
    rng = np.random.default_rng(3)
    real = rng.normal(size=(400, 4))
    assert precision_recall(real, real) == {"precision": 1.0, "recall": 1.0}
    far = precision_recall(real, real + 100.0)
    assert far == {"precision": 0.0, "recall": 0.0}
    one_side = real[real[:, 0] < -0.5]  # a third of the set, all on one side: every fake is real...
    subset = precision_recall(real, one_side)
    assert subset["precision"] == 1.0 and subset["recall"] < 0.7  # ...but the other side is missed


def test_density_and_coverage():
    rng = np.random.default_rng(4)
    real = rng.normal(size=(500, 4))
    same = density_coverage(real, rng.normal(size=(500, 4)))
    assert same["density"] == pytest.approx(1.0, abs=0.2) and same["coverage"] > 0.9
    far = density_coverage(real, real + 100.0)
    assert far == {"density": 0.0, "coverage": 0.0}
    collapsed = density_coverage(real, np.repeat(real[:1], 500, axis=0))  # one mode, repeated
    assert collapsed["coverage"] < 0.05


def test_registry_and_errors():
    rng = np.random.default_rng(5)
    a, b = rng.normal(size=(50, 3)), rng.normal(size=(50, 3))
    results = compute_metrics(["fid", "pr", "dc"], a, b)
    assert set(results) == {"fid", "precision", "recall", "density", "coverage"}
    with pytest.raises(ReelganError, match="unknown metric"):
        compute_metrics(["is"], a, b)
    with pytest.raises(ReelganError, match="same D"):
        fid(a, rng.normal(size=(50, 4)))
    with pytest.raises(ReelganError, match="at least 4 generated samples"):
        precision_recall(a, b[:3])
