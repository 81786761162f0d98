"""A preference model: from the samples a person liked and disliked, propose the next ones to show.

The model is Bayesian logistic regression (a Gaussian prior on the weights, the Laplace approximation for the
posterior) over a few features of each sample:

- its coordinates on the generator's strongest SeFa directions (what the latent says),
- a coarse picture of the image: its grey levels pooled to 4x4 and its overall ink (what the eye sees),
- its class, one-hot, for a conditional generator.

Proposals come from a pool of fresh latents and children of the liked ones, ranked by an upper confidence bound
on the logit of "liked": mean + explore * standard deviation. `explore` 0 shows the model's best guesses;
higher values show more of what it is unsure about. Everything is seeded: the same ratings, seed and settings
propose the same latents.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..checks import check_int, check_number
from ..gan.generator import Generator, seed_latents
from .directions import Directions, sefa_directions
from .variations import children

FEATURE_DIRECTIONS = 16   # SeFa coordinates among the features
POOL = 512                # candidates scored per proposal
CHILD_SIGMA = 0.5         # how far the pool's children stray from a liked parent (latent standard deviations)
PRIOR_PRECISION = 1.0     # the Gaussian prior on standardised-feature weights: larger trusts ratings less
NEWTON_STEPS = 25


def image_descriptor(images: torch.Tensor) -> torch.Tensor:
    """(N, C, H, W) (clips (N, C, T, H, W)) in [-1, 1] -> (N, 17): grey levels pooled to 4x4, then ink.

    Ink is the mean darkness in [0, 1] (1 where the image is black); clips are averaged over their frames.
    """
    if images.dim() == 5:
        images = images.mean(dim=2)
    grey = images[:, :3].mean(dim=1, keepdim=True)  # (N, 1, H, W); an alpha channel is not a colour
    pooled = torch.nn.functional.adaptive_avg_pool2d(grey, 4).flatten(1)  # (N, 16)
    ink = (1 - grey).mul(0.5).mean(dim=(1, 2, 3))[:, None]  # (N, 1)
    return torch.cat([pooled, ink], dim=1)


@dataclass
class Candidates:
    """Latents (N, D), their labels (N,) or None, the images they make, and each one's parent (-1: none)."""

    latents: torch.Tensor
    labels: torch.Tensor | None
    parents: list[int]


def sample_features(G: Generator, latents: torch.Tensor, labels: torch.Tensor | None,
                    directions: Directions) -> torch.Tensor:
    """The model's features of the samples at `latents` (N, D): (N, F)."""
    images = G(latents, labels)
    parts = [latents @ directions.vectors.T, image_descriptor(images)]
    if G.class_names:
        parts.append(torch.nn.functional.one_hot(labels, len(G.class_names)).float())
    return torch.cat(parts, dim=1)


class PreferenceModel:
    """Bayesian logistic regression of liked (1) / disliked (0) on standardised features."""

    def __init__(self, prior_precision: float = PRIOR_PRECISION) -> None:
        check_number("prior precision", prior_precision)
        self.prior_precision = prior_precision
        self.mean = self.scale = self.weights = self.covariance = None

    def _design(self, features: torch.Tensor) -> torch.Tensor:
        x = (features.double() - self.mean) / self.scale
        return torch.cat([x, torch.ones(len(x), 1, dtype=x.dtype)], dim=1)  # a bias column

    def fit(self, features: torch.Tensor, liked: torch.Tensor, reference: torch.Tensor | None = None
            ) -> PreferenceModel:
        """Fit on features (N, F) and liked (N,) in {0, 1}. `reference` (M, F), e.g. the candidate pool, also
        sets the standardisation, so that features the ratings never varied still have a sensible scale."""
        pool = features if reference is None else torch.cat([features, reference])
        self.mean = pool.double().mean(dim=0)
        self.scale = pool.double().std(dim=0).clamp_min(1e-6)
        x, y = self._design(features), liked.double()
        precision = torch.full((x.shape[1],), self.prior_precision, dtype=x.dtype)
        precision[-1] = 1e-2  # the bias: a weak prior, the base rate is for the data to say
        w = torch.zeros(x.shape[1], dtype=x.dtype)
        for _ in range(NEWTON_STEPS):
            p = torch.sigmoid(x @ w)
            gradient = x.T @ (p - y) + precision * w
            hessian = (x.T * (p * (1 - p))) @ x + torch.diag(precision)
            step = torch.linalg.solve(hessian, gradient)
            w = w - step
            if step.abs().max() < 1e-8:
                break
        p = torch.sigmoid(x @ w)
        hessian = (x.T * (p * (1 - p))) @ x + torch.diag(precision)
        self.weights, self.covariance = w, torch.linalg.inv(hessian)
        return self

    def logit(self, features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The posterior mean and standard deviation of each sample's logit of being liked: (N,), (N,)."""
        x = self._design(features)
        variance = ((x @ self.covariance) * x).sum(dim=1).clamp_min(0)
        return (x @ self.weights).float(), variance.sqrt().float()

    def probability(self, features: torch.Tensor) -> torch.Tensor:
        """P(liked) for each sample, (N,), with the logit's uncertainty folded in (the probit approximation)."""
        mean, std = self.logit(features)
        return torch.sigmoid(mean / torch.sqrt(1 + torch.pi * std ** 2 / 8))


def candidate_pool(G: Generator, liked: list[tuple[int, torch.Tensor, torch.Tensor | None]], seed: int,
                   pool: int = POOL, sigma: float = CHILD_SIGMA, class_index: int | None = None) -> Candidates:
    """Half fresh latents (seeds from `seed * pool` on), half children of the liked samples (id, latent, label);
    all fresh when nothing is liked yet. Fresh latents of a conditional generator get `class_index`, or a class
    drawn from each seed."""
    fresh_count = pool if not liked else pool // 2
    seeds = list(range(seed * pool, seed * pool + fresh_count))
    latents = [seed_latents(seeds, G.spec["latent_dim"])]
    label_rows = [G.labels_for(seeds, class_index)]
    parents = [-1] * fresh_count
    for k, (parent_id, z, label) in enumerate(liked):
        count = (pool - fresh_count) // len(liked) + (1 if k < (pool - fresh_count) % len(liked) else 0)
        if count == 0:
            continue
        latents.append(children(z, count, sigma, seed=seed * 7919 + parent_id))
        label_rows.append(None if label is None else label.repeat(count))
        parents += [parent_id] * count
    labels = None if G.class_names == [] else torch.cat(label_rows)
    return Candidates(torch.cat(latents), labels, parents)


def propose(G: Generator, rated: list[tuple[int, torch.Tensor, torch.Tensor | None, bool]], n: int = 16,
            explore: float = 1.0, seed: int = 0, pool: int = POOL, directions: Directions | None = None,
            class_index: int | None = None) -> tuple[Candidates, torch.Tensor]:
    """The next `n` samples to show, given rated samples (id, latent (D,), label or None, liked).

    Returns the chosen candidates and each one's predicted P(liked) (n,). With no ratings, or ratings all of
    one kind and nothing liked, the model still ranks (it learns what to avoid); with none at all the pool's
    first `n` fresh latents are shown.
    """
    check_int("--n", n, 1)
    check_number("--explore", explore, allow_zero=True)
    directions = directions or sefa_directions(G, FEATURE_DIRECTIONS)
    liked = [(i, z, label) for i, z, label, like in rated if like]
    candidates = candidate_pool(G, liked, seed, max(pool, n), class_index=class_index)
    if not rated:
        chosen = torch.arange(n)
        return _take(candidates, chosen), torch.full((n,), float("nan"))
    rated_z = torch.stack([z for _, z, _, _ in rated])
    rated_labels = None if not G.class_names else torch.stack([label for _, _, label, _ in rated])
    rated_features = sample_features(G, rated_z, rated_labels, directions)
    pool_features = sample_features(G, candidates.latents, candidates.labels, directions)
    model = PreferenceModel().fit(rated_features, torch.tensor([float(like) for *_, like in rated]),
                                  reference=pool_features)
    mean, std = model.logit(pool_features)
    chosen = _diverse_top(mean + explore * std, candidates.parents, n)
    return _take(candidates, chosen), model.probability(pool_features[chosen])


def _diverse_top(score: torch.Tensor, parents: list[int], n: int) -> torch.Tensor:
    """The `n` best-scoring candidates, at most a quarter of them (and at least 2) from one parent, so one
    liked sample does not fill the whole grid."""
    cap = max(2, n // 4)
    per_parent: dict[int, int] = {}
    chosen: list[int] = []
    for index in torch.argsort(score, descending=True).tolist():
        parent = parents[index]
        if parent >= 0 and per_parent.get(parent, 0) >= cap:
            continue
        per_parent[parent] = per_parent.get(parent, 0) + 1
        chosen.append(index)
        if len(chosen) == n:
            return torch.tensor(chosen)
    rest = [i for i in torch.argsort(score, descending=True).tolist() if i not in set(chosen)]
    return torch.tensor(chosen + rest[:n - len(chosen)])


def _take(candidates: Candidates, index: torch.Tensor) -> Candidates:
    labels = None if candidates.labels is None else candidates.labels[index]
    return Candidates(candidates.latents[index], labels, [candidates.parents[i] for i in index.tolist()])
