"""Variations of latents: children near a parent, crossovers of parents, truncation toward the average.

Every function is deterministic given its seed, so a lineage record (operation, parameters, seed) is enough
to make the same latents again; the latents themselves are recorded too.
"""

from __future__ import annotations

import torch

from ..checks import check_choice, check_int, check_number
from ..errors import ReelganError
from ..gan.sampling import slerp

CROSSOVER_MODES = ("slerp", "mix")


def _noise(shape: tuple[int, ...], seed: int) -> torch.Tensor:
    return torch.randn(shape, generator=torch.Generator().manual_seed(int(seed)))


def children(parent: torch.Tensor, n: int, sigma: float, seed: int, span: slice | None = None) -> torch.Tensor:
    """`n` children of a latent (D,): (parent + sigma * N(0, I)) / sqrt(1 + sigma^2) -> (n, D). With `span`,
    only those coordinates change (a clip's content or its motion). sigma is in latent standard deviations:
    0.3 stays close, 1 is about as far as another seed. The rescaling keeps children of children as typical
    as the prior's samples: without it every generation's latents would grow longer and leave the region
    the generator was trained on."""
    check_int("--n", n, 1)
    check_number("--sigma", sigma, allow_zero=True)
    mask = torch.zeros(parent.shape[0])
    mask[span if span is not None else slice(None)] = 1
    noise = _noise((n, parent.shape[0]), seed) * mask
    scale = 1 + mask * ((1 + sigma ** 2) ** -0.5 - 1)  # 1/sqrt(1 + sigma^2) on the coordinates that change
    return (parent[None] + sigma * noise) * scale


def crossover(parents: torch.Tensor, n: int, seed: int, mode: str = "slerp",
              span: slice | None = None) -> torch.Tensor:
    """`n` offspring of parents (P, D), P >= 2 -> (n, D).

    - slerp, two parents: evenly spaced along the great-circle arc, the first offspring is parent 0 and the
      last parent 1 (with n >= 2). More parents: random weights (Dirichlet, from `seed`) of the parents,
      rescaled to their average norm, so offspring stay where latents are typical.
    - mix: every coordinate taken from one parent at random (uniform crossover). With `span` (a clip's
      content), the coordinates in the span come from one parent and the rest from another, so a clip can
      take one parent's subject and the other's motion.
    """
    check_int("--n", n, 1)
    check_choice("--mode", mode, CROSSOVER_MODES)
    count = parents.shape[0]
    if count < 2:
        raise ReelganError("a crossover needs at least two parents; give two or more seeds or ids")
    generator = torch.Generator().manual_seed(int(seed))
    if mode == "slerp" and count == 2:
        t = torch.linspace(0, 1, n) if n > 1 else torch.tensor([0.5])
        offspring = slerp(parents[0], parents[1], t)
        if n > 1:  # the ends are the parents themselves, not a rounding away from them
            offspring[0], offspring[-1] = parents[0], parents[1]
        return offspring
    if mode == "slerp":
        weights = _dirichlet(n, count, generator)
        mixed = weights @ parents  # (n, P) @ (P, D) -> (n, D)
        scale = parents.norm(dim=1).mean() / mixed.norm(dim=1, keepdim=True).clamp_min(1e-8)
        return mixed * scale
    choice = torch.randint(count, (n, parents.shape[1]), generator=generator)  # (n, D): a parent per coordinate
    if span is not None:  # whole parts: the span from one parent, the rest from another
        first = torch.randint(count, (n,), generator=generator)
        second = (first + 1 + torch.randint(count - 1, (n,), generator=generator)) % count
        choice = second[:, None].expand(n, parents.shape[1]).clone()
        choice[:, span] = first[:, None]
    return parents[choice, torch.arange(parents.shape[1])[None]]


def _dirichlet(n: int, count: int, generator: torch.Generator) -> torch.Tensor:
    """(n, count) weights drawn from the flat Dirichlet with `generator` (normalised exponentials)."""
    e = -torch.log(torch.rand(n, count, generator=generator).clamp_min(1e-12))
    return e / e.sum(dim=1, keepdim=True)


def truncate(z: torch.Tensor, psi: float) -> torch.Tensor:
    """Latents pulled toward the average latent (0 for a normal prior) by `psi` in (0, 1]: psi * z. Lower psi:
    more typical, less varied."""
    check_number("--truncation", psi)
    if psi > 1:
        raise ReelganError(f"--truncation must be in (0, 1]; got {psi}")
    return z * psi
