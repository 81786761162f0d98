"""Exponential moving average of the generator's weights."""

from __future__ import annotations

import torch


def ema_decay_at(step: int, decay: float) -> float:
    """Decay for `step`, warmed up as min(decay, (1 + step) / (10 + step)) so early averages are not stale."""
    return min(decay, (1 + step) / (10 + step))


@torch.no_grad()
def update_ema(ema: torch.nn.Module, model: torch.nn.Module, decay: float) -> None:
    """ema <- decay * ema + (1 - decay) * model for parameters; buffers (batch-norm statistics) are copied."""
    for ema_param, param in zip(ema.parameters(), model.parameters()):
        ema_param.lerp_(param.detach(), 1.0 - decay)
    for ema_buffer, buffer in zip(ema.buffers(), model.buffers()):
        ema_buffer.copy_(buffer)
