"""Batch-norm statistics measured again on a generator's own (averaged) weights."""

import torch
from torch import nn

from reelgan.gan.nets import build_generator
from reelgan.gan.standing_stats import recompute_batch_norm


def tiny_generator(num_classes: int = 0) -> nn.Module:
    torch.manual_seed(0)
    return build_generator("dcgan", resolution=16, channels=1, latent_dim=4, width=4, max_width=8,
                           num_classes=num_classes)


def test_statistics_are_the_exact_means_of_the_fixed_latents():
    net = tiny_generator()
    first_norm = net.bn.bn  # the 4x4 stage's BatchNorm2d, fed by net.fc
    first_norm.running_mean.fill_(5.0)  # stale statistics, as copied from another network
    assert recompute_batch_norm(net, batches=3, batch=8, seed=7)
    rng = torch.Generator().manual_seed(7)
    zs = [torch.randn(8, 4, generator=rng) for _ in range(3)]
    with torch.no_grad():
        pre = torch.cat([net.fc(z).view(-1, net.base_width, 4, 4) for z in zs])  # (24, C, 4, 4)
    torch.testing.assert_close(first_norm.running_mean, pre.mean(dim=(0, 2, 3)), rtol=1e-5, atol=1e-6)
    assert first_norm.momentum == 0.1 and not net.training


def test_the_same_latents_every_time_and_training_rng_untouched():
    net = tiny_generator(num_classes=3)
    state = torch.random.get_rng_state()
    recompute_batch_norm(net, batches=2, batch=4)
    once = {k: v.clone() for k, v in net.state_dict().items()}
    recompute_batch_norm(net, batches=2, batch=4)
    assert torch.equal(torch.random.get_rng_state(), state)
    for key, value in net.state_dict().items():
        torch.testing.assert_close(value, once[key], rtol=0, atol=0)


def test_a_net_without_batch_norm_is_left_alone():
    net = nn.Sequential(nn.Linear(2, 2))
    before = [p.clone() for p in net.parameters()]
    assert recompute_batch_norm(net) is False
    assert all(torch.equal(a, b) for a, b in zip(before, net.parameters()))
