"""Exponential moving average of the generator's weights."""

from __future__ import annotations

import torch


def ema_decay_at(step: int, decay: float) -> float:
    """Decay for `step`, warmed up as min(decay, (1 + step) / (10 + step)) so early averages are not stale."""
    return min(decay, (1 + step) / (10 + step))


EMA_RAMPUP = 0.05  # the half-life grows as 5% of the images seen until it reaches --ema-kimg (StyleGAN2-ADA)


def ema_decay_by_images(images_seen: int, batch: int, halflife_kimg: float) -> float:
    """Decay per step for an EMA whose half-life is `halflife_kimg` thousand images, ramped up early.

    The half-life in images is min(1000 * halflife_kimg, EMA_RAMPUP * images_seen); a step of `batch`
    images then keeps 0.5 ** (batch / half-life) of the average. Unlike a fixed decay per step, this means
    the same thing at any batch size and does not carry a short run's first, poor generators for long.
    """
    halflife = min(1000.0 * halflife_kimg, EMA_RAMPUP * images_seen)
    return 0.5 ** (batch / max(halflife, 1e-8))


@torch.no_grad()
def update_ema(ema: torch.nn.Module, model: torch.nn.Module, decay: float) -> None:
    """ema <- decay * ema + (1 - decay) * model for parameters; buffers (batch-norm statistics) are copied."""
    for ema_param, param in zip(ema.parameters(), model.parameters()):
        ema_param.lerp_(param.detach(), 1.0 - decay)
    for ema_buffer, buffer in zip(ema.buffers(), model.buffers()):
        ema_buffer.copy_(buffer)
