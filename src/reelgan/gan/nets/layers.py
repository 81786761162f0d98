"""Base classes and layers shared by the generator and critic architectures.

Widths follow one rule everywhere: a stage working at spatial size r has
`min(max_width, width * resolution // r)` channels, so layers widen as they shrink.
"""

from __future__ import annotations

from functools import partial
from typing import Callable

import torch
from torch import Tensor, nn

from ...checks import check_choice, check_int
from ...config import CHANNELS, CRITIC_NORMS, RESOLUTIONS  # one list of allowed values, shared with configs
from ...errors import ReelganError


def stage_sizes(resolution: int) -> list[int]:
    """Spatial sizes 4, 8, ..., resolution."""
    sizes = [4]
    while sizes[-1] < resolution:
        sizes.append(sizes[-1] * 2)
    return sizes


def stage_width(size: int, *, resolution: int, width: int, max_width: int) -> int:
    """Channels of a stage at spatial size `size`: `min(max_width, width * resolution // size)`."""
    return min(max_width, width * resolution // size)


def stage_widths(resolution: int, width: int, max_width: int) -> Callable[[int], int]:
    """The width rule of a network (checked): a function from a stage's spatial size to its channels."""
    check_int("width", width, 1)
    check_int("max_width", max_width, 1)
    return partial(stage_width, resolution=resolution, width=width, max_width=max_width)


def check_image_spec(resolution: int, channels: int, num_classes: int) -> tuple[int, int, int]:
    """Validate what every network is built for; returns the three values unchanged."""
    check_choice("resolution", resolution, RESOLUTIONS)
    check_choice("channels", channels, CHANNELS)
    check_int("num_classes", num_classes, 0)
    return resolution, channels, num_classes


class ImageGenerator(nn.Module):
    """Base class of generators: maps latents (and class labels) to images in [-1, 1].

    Subclasses implement `forward(z, labels)`, returning (B, channels, resolution, resolution).
    """

    def __init__(self, *, latent_dim: int, resolution: int, channels: int, num_classes: int, width: int,
                 max_width: int) -> None:
        super().__init__()
        check_int("latent_dim", latent_dim, 1)
        self.latent_dim = latent_dim
        self.resolution, self.channels, self.num_classes = check_image_spec(resolution, channels, num_classes)
        self.stage_width = stage_widths(resolution, width, max_width)

    def check_inputs(self, z: Tensor, labels: Tensor | None) -> Tensor | None:
        """Validate a latent batch and return the labels to use (None when unconditional)."""
        if z.dim() != 2 or z.shape[1] != self.latent_dim:
            raise ReelganError(f"z must have shape (B, {self.latent_dim}); got {tuple(z.shape)}")
        return check_labels(labels, self.num_classes, z.shape[0])

    def forward(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        """Generate images (B, channels, resolution, resolution) from latents z (B, latent_dim)."""
        raise NotImplementedError


class ImageCritic(nn.Module):
    """Base class of critics: maps images (and class labels) to raw scores, one per sample.

    Critics never use batch norm, so each score depends only on its own sample; this keeps the
    per-sample gradient penalty valid and lets real, fake and interpolated images share a batch.
    """

    def __init__(self, *, resolution: int, channels: int, num_classes: int, width: int, max_width: int) -> None:
        super().__init__()
        self.resolution, self.channels, self.num_classes = check_image_spec(resolution, channels, num_classes)
        self.stage_width = stage_widths(resolution, width, max_width)

    def forward(self, x: Tensor, labels: Tensor | None = None) -> Tensor:
        """Score images x (B, channels, H, W); returns (B,) raw scores (no sigmoid)."""
        raise NotImplementedError


def check_labels(labels: Tensor | None, num_classes: int, batch: int) -> Tensor | None:
    """Return `labels` if the model is conditional (they are then required), else None.

    Only the shape is checked: a range check would force a device sync on every step.
    """
    if num_classes == 0:
        return None
    if labels is None:
        raise ReelganError(f"labels are required: this model is conditioned on {num_classes} classes")
    if labels.shape != (batch,):
        raise ReelganError(f"labels must have shape ({batch},); got {tuple(labels.shape)}")
    return labels


class ConditionalBatchNorm2d(nn.Module):
    """BatchNorm2d whose scale and shift are looked up per class.

    With `num_classes == 0` it is a plain affine BatchNorm2d and labels are ignored. Otherwise the
    normalisation has no affine part and each class has its own gamma (init 1) and beta (init 0),
    so at initialisation all classes behave the same and training pulls them apart.
    """

    def __init__(self, num_features: int, num_classes: int = 0) -> None:
        super().__init__()
        self.num_classes = num_classes
        self.bn = nn.BatchNorm2d(num_features, affine=num_classes == 0)
        if num_classes > 0:
            self.gamma = nn.Embedding(num_classes, num_features)
            self.beta = nn.Embedding(num_classes, num_features)
            nn.init.ones_(self.gamma.weight)
            nn.init.zeros_(self.beta.weight)

    def forward(self, x: Tensor, labels: Tensor | None = None) -> Tensor:
        """Normalise x (B, C, H, W); scale and shift per class of labels (B,) if conditional."""
        out = self.bn(x)
        if self.num_classes == 0:
            return out
        if labels is None:
            raise ReelganError("labels are required by a conditional batch norm")
        # (B,) -> (B, C) -> (B, C, 1, 1) to broadcast over H, W.
        gamma = self.gamma(labels)[:, :, None, None]
        beta = self.beta(labels)[:, :, None, None]
        return out * gamma + beta


def critic_norm(kind: str, channels: int) -> nn.Module:
    """Normalisation layer for a critic: "none" (identity) or "layernorm".

    "layernorm" is GroupNorm with one group: it normalises over (C, H, W) of each sample alone.
    Batch norm is never offered, since it would mix samples and break the per-sample penalty.
    """
    check_choice("norm", kind, CRITIC_NORMS)
    if kind == "layernorm":
        return nn.GroupNorm(1, channels)
    return nn.Identity()


class ProjectionHead(nn.Module):
    """Critic output layer with projection conditioning (Miyato & Koyama 2018).

    score = linear(h) + sum(embed(labels) * h, dim=1); with `num_classes == 0` just linear(h).
    Weights are Xavier-uniform and the bias zero, as in the projection discriminator's code.
    With `class_head`, a second linear layer names the class of h (logits (B, num_classes)) for the
    auxiliary class loss of `loss.class_weight` (AC-GAN, Odena et al. 2017).
    """

    def __init__(self, in_features: int, num_classes: int = 0, class_head: bool = False) -> None:
        super().__init__()
        self.num_classes = num_classes
        self.linear = nn.Linear(in_features, 1)
        nn.init.xavier_uniform_(self.linear.weight)
        nn.init.zeros_(self.linear.bias)
        if num_classes > 0:
            self.embed = nn.Embedding(num_classes, in_features)
            nn.init.xavier_uniform_(self.embed.weight)
        if class_head:
            if num_classes == 0:
                raise ReelganError("a class head needs classes: train with --cond on labelled data")
            self.classify = nn.Linear(in_features, num_classes)
            nn.init.xavier_uniform_(self.classify.weight)
            nn.init.zeros_(self.classify.bias)

    def forward(self, h: Tensor, labels: Tensor | None = None,
                with_logits: bool = False) -> Tensor | tuple[Tensor, Tensor]:
        """Score pooled or flattened features h (B, F); returns (B,), and the class logits (B, num_classes)
        too when `with_logits` (critics built with `class_head` only)."""
        labels = check_labels(labels, self.num_classes, h.shape[0])
        out = self.linear(h).squeeze(1)  # (B, 1) -> (B,)
        if labels is not None:
            out = out + torch.sum(self.embed(labels) * h, dim=1)
        if with_logits:
            if not hasattr(self, "classify"):
                raise ReelganError("this critic has no class head: build it with class_head=True")
            return out, self.classify(h)
        return out
