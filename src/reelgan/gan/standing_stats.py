"""Batch-norm statistics measured on a generator's own weights ("standing statistics", as BigGAN samples).

An EMA generator averages the live generator's weights but copies its batch-norm running statistics, which
describe the live weights' activations over their last few batches. `recompute_batch_norm` measures them
again on the averaged weights, from a fixed set of latents, so what is sampled matches what was averaged.
"""

from __future__ import annotations

import torch
from torch import nn

STANDING_STATS_BATCHES = 32  # batches of 64 latents: 2,048 draws per statistic
STANDING_STATS_SEED = 0      # its own generator: the same latents every time, nothing drawn from training's RNG


@torch.no_grad()
def recompute_batch_norm(net: nn.Module, batches: int = STANDING_STATS_BATCHES, batch: int = 64,
                         seed: int = STANDING_STATS_SEED) -> bool:
    """Replace the running statistics of every BatchNorm in `net` (an ImageGenerator) by their exact means
    over `batches` batches of latents (labels uniform over the classes). Returns False, changing nothing,
    when `net` has no batch norm. `net` is left in eval mode."""
    norms = [m for m in net.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if not norms:
        return False
    momenta = [m.momentum for m in norms]
    device = next(net.parameters()).device
    rng = torch.Generator().manual_seed(seed)
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # a cumulative average over the batches below, not an exponential one
    net.train()
    try:
        for _ in range(batches):
            z = torch.randn(batch, net.latent_dim, generator=rng).to(device)
            labels = (torch.randint(net.num_classes, (batch,), generator=rng).to(device)
                      if net.num_classes else None)
            net(z, labels)
    finally:
        for m, momentum in zip(norms, momenta):
            m.momentum = momentum
        net.eval()
    return True
