"""Latent directions of a trained generator: moving a latent along one changes one thing in the picture.

Two methods:

- SeFa (Shen & Zhou, "Closed-Form Factorization of Latent Semantics in GANs", CVPR 2021): the directions n
  that the generator's first linear layer A stretches most, max ||A n|| with ||n|| = 1, which are the
  eigenvectors of A^T A. Closed form, no sampling, well under a second.
- PCA of sampled activations (after GANSpace, Härkönen et al., NeurIPS 2020): sample latents, take the first
  block's output, find its principal components, and carry each back to latent space by linear regression of
  the latents on the component scores.

A clip generator's latent has two parts, the content (one per clip) and the motion noise (one per frame), and
each has its own directions (`part="content"` or `"motion"`). A motion direction moves every frame's noise
alike. Directions are unit vectors in the generator's flat latent space, orthonormal within a part, with a
deterministic sign (the largest component positive), so a direction index means the same thing every time.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ..checks import check_choice, check_int
from ..errors import ReelganError
from ..gan.generator import Generator, seed_latents

METHODS = ("sefa", "pca")
PARTS = ("all", "content", "motion")
PCA_SAMPLES = 1000  # latents sampled for PCA; enough for 8-16 stable components at these widths
PCA_CLIP_SAMPLES = 250  # clips: each is `frames` images, so fewer keep it about as fast
PCA_SEED = 0        # the latents PCA samples are drawn from these seeds on, so directions are reproducible


@dataclass(frozen=True)
class Directions:
    """`vectors` (K, latent_dim): K unit directions in the generator's latent space, strongest first;
    `strengths` (K,): how much each one moves what it feeds (SeFa: the singular value; PCA: the component's
    standard deviation)."""

    method: str
    part: str
    vectors: torch.Tensor
    strengths: torch.Tensor

    def __len__(self) -> int:
        return len(self.vectors)


def latent_parts(G: Generator) -> dict[str, slice]:
    """Which coordinates of the flat latent each part covers: images have one part, clips two."""
    dim = G.spec["latent_dim"]
    if not G.is_video:
        return {"all": slice(0, dim)}
    content = G.spec["content_dim"]
    return {"all": slice(0, dim), "content": slice(0, content), "motion": slice(content, dim)}


def check_part(G: Generator, part: str) -> slice:
    """The coordinates of `part`, or a ReelganError naming the parts this generator has."""
    check_choice("--part", part, PARTS)
    parts = latent_parts(G)
    if part not in parts:
        raise ReelganError(f"--part {part} is for clip generators; an image generator's latent has one part "
                           "(--part all)")
    return parts[part]


def _signed(vectors: torch.Tensor) -> torch.Tensor:
    """Flip each row so that its largest-magnitude component is positive (eigenvectors have no sign)."""
    idx = vectors.abs().argmax(dim=1)
    signs = torch.sign(vectors[torch.arange(len(vectors)), idx])
    return vectors * signs[:, None]


def _embed(G: Generator, part: str, vectors: torch.Tensor) -> torch.Tensor:
    """Directions over a part's own coordinates (K, d) -> unit directions in the flat latent (K, latent_dim).

    A clip's motion direction is over one frame's motion noise (K, motion_dim): it is repeated for every frame.
    """
    out = torch.zeros(len(vectors), G.spec["latent_dim"])
    span = latent_parts(G)[part]
    if G.is_video and part == "motion" and vectors.shape[1] == G.spec["motion_dim"]:
        vectors = vectors.repeat(1, G.spec["frames"])  # (K, M) -> (K, T * M): every frame moves alike
    out[:, span] = vectors
    return out / out.norm(dim=1, keepdim=True)


def _first_linear(G: Generator, part: str) -> torch.Tensor:
    """The weight (out, in) of the first linear map the `part` of the latent goes through."""
    net = G.net
    if G.is_video:
        video = net.video
        if part == "motion":
            return video.motion.weight_ih.detach().float().cpu()  # (3M, M): the GRU's input map of the noise
        return video.frame_generator.fc.weight.detach().float().cpu()[:, :G.spec["content_dim"]]  # (out, Zc)
    fc = getattr(net, "fc", None)
    if not isinstance(fc, nn.Linear):
        raise ReelganError("this generator does not start with a linear layer, which SeFa needs; use --method pca")
    return fc.weight.detach().float().cpu()  # (out, latent_dim)


def sefa_directions(G: Generator, count: int = 8, part: str = "all") -> Directions:
    """The `count` strongest SeFa directions of `part` (clips: content or motion; `all` means content)."""
    check_int("--count", count, 1)
    check_part(G, part)
    part = "content" if G.is_video and part == "all" else part
    weight = _first_linear(G, part).double()
    # Right singular vectors of A are the eigenvectors of A^T A, strongest first.
    _, singular, vh = torch.linalg.svd(weight, full_matrices=False)
    count = min(count, len(singular))
    vectors = _embed(G, part, _signed(vh[:count]).float())
    return Directions("sefa", part, vectors, singular[:count].float())


def _first_block_activations(G: Generator, z: torch.Tensor) -> torch.Tensor:
    """The first up-sampling block's output for latents z (N, latent_dim), pooled to 4x4 and flattened (N, F).

    Clips: the frames of one clip are laid side by side, (N, T * F).
    """
    net = G.net.video.frame_generator if G.is_video else G.net
    blocks = getattr(net, "blocks", None)
    if not isinstance(blocks, nn.ModuleList) or len(blocks) == 0:
        raise ReelganError("this generator has no up-sampling blocks to read activations from; use --method sefa")
    captured: list[torch.Tensor] = []
    hook = blocks[0].register_forward_hook(lambda module, inputs, output: captured.append(
        nn.functional.adaptive_avg_pool2d(output.float(), 4).flatten(1).cpu()))
    try:
        G(z, G.labels_for(list(range(len(z))), None))
    finally:
        hook.remove()
    features = torch.cat(captured)  # (N or N*T, F)
    return features.reshape(len(z), -1)


def pca_directions(G: Generator, count: int = 8, part: str = "all", samples: int | None = None) -> Directions:
    """The `count` principal directions of the first block's activations, carried back to `part` of the latent
    by least squares (GANSpace), then made orthonormal in order (the first is kept as regressed)."""
    check_int("--count", count, 1)
    samples = samples or (PCA_CLIP_SAMPLES if G.is_video else PCA_SAMPLES)
    check_int("samples", samples, 2)
    check_part(G, part)
    part = "content" if G.is_video and part == "all" else part
    span = latent_parts(G)[part]
    z = seed_latents(list(range(PCA_SEED, PCA_SEED + samples)), G.spec["latent_dim"])
    features = _first_block_activations(G, z).double()
    centred = features - features.mean(dim=0)
    _, singular, vh = torch.linalg.svd(centred, full_matrices=False)
    count = min(count, len(singular), span.stop - span.start)
    scores = centred @ vh[:count].T  # (N, K): each sample's coordinate on each component
    latents = z[:, span].double()  # (N, d)
    regression = torch.linalg.lstsq(scores, latents).solution  # (K, d): latent change per unit of score
    q, _ = torch.linalg.qr(regression.T)  # (d, K): orthonormal, spanning the regressed directions in order
    vectors = _embed(G, part, _signed(q.T).float())
    strengths = (singular[:count] / (len(z) - 1) ** 0.5).float()
    return Directions("pca", part, vectors, strengths)


def find_directions(G: Generator, method: str = "sefa", count: int = 8, part: str = "all") -> Directions:
    """Directions by `method` (sefa or pca); see the module's docstring."""
    check_choice("--method", method, METHODS)
    return (sefa_directions if method == "sefa" else pca_directions)(G, count, part)


def move(z: torch.Tensor, direction: torch.Tensor, amounts: torch.Tensor | list[float]) -> torch.Tensor:
    """z (D,) moved along a unit `direction` (D,) by each of `amounts` (in latent standard deviations) ->
    (len(amounts), D)."""
    amounts = torch.as_tensor(amounts, dtype=z.dtype)
    return z[None] + amounts[:, None] * direction[None]
