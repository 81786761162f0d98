"""Tests for the generator and critic networks."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from reelgan.errors import ReelganError
from reelgan.gan.nets import ARCHITECTURES, ImageCritic, ImageGenerator, build_critic, build_generator
from reelgan.gan.nets.layers import ConditionalBatchNorm2d, critic_norm

SMALL = {"width": 8, "max_width": 32}
LATENT = 16
NUM_CLASSES = 5


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)


def _labels(batch: int, num_classes: int) -> torch.Tensor | None:
    return torch.arange(batch) % num_classes if num_classes else None


def _generator(arch: str, resolution: int = 16, channels: int = 3,
               num_classes: int = 0) -> ImageGenerator:
    return build_generator(arch, resolution=resolution, channels=channels, latent_dim=LATENT,
                           num_classes=num_classes, **SMALL)


def _critic(arch: str, resolution: int = 16, channels: int = 3, num_classes: int = 0,
            norm: str = "none") -> ImageCritic:
    return build_critic(arch, resolution=resolution, channels=channels, num_classes=num_classes,
                        norm=norm, **SMALL)


@pytest.mark.parametrize("arch", ARCHITECTURES)
@pytest.mark.parametrize("resolution", [16, 32])
@pytest.mark.parametrize("channels", [1, 3, 4])
@pytest.mark.parametrize("num_classes", [0, NUM_CLASSES])
def test_shapes_and_range(arch: str, resolution: int, channels: int, num_classes: int) -> None:
    g = _generator(arch, resolution, channels, num_classes)
    d = _critic(arch, resolution, channels, num_classes)
    assert (g.latent_dim, g.resolution, g.channels, g.num_classes) == (
        LATENT, resolution, channels, num_classes)
    assert (d.resolution, d.channels, d.num_classes) == (resolution, channels, num_classes)
    labels = _labels(3, num_classes)
    images = g(torch.randn(3, LATENT), labels)
    assert images.shape == (3, channels, resolution, resolution)
    assert images.min() >= -1.0 and images.max() <= 1.0
    assert images.std() > 0
    scores = d(images, labels)
    assert scores.shape == (3,)
    assert torch.isfinite(scores).all()


@pytest.mark.parametrize("arch", ARCHITECTURES)
def test_resolution_64(arch: str) -> None:
    g = _generator(arch, resolution=64, channels=3)
    d = _critic(arch, resolution=64, channels=3)
    images = g(torch.randn(2, LATENT))
    assert images.shape == (2, 3, 64, 64)
    assert d(images).shape == (2,)


@pytest.mark.parametrize("arch", ARCHITECTURES)
@pytest.mark.parametrize("norm", ["none", "layernorm"])
def test_no_batch_norm_in_critic(arch: str, norm: str) -> None:
    d = _critic(arch, resolution=32, num_classes=NUM_CLASSES, norm=norm)
    kinds = {type(m) for m in d.modules()}
    assert not any(issubclass(k, nn.modules.batchnorm._BatchNorm) for k in kinds)
    assert (nn.GroupNorm in kinds) == (norm == "layernorm")


@pytest.mark.parametrize("arch", ARCHITECTURES)
@pytest.mark.parametrize("norm", ["none", "layernorm"])
@pytest.mark.parametrize("num_classes", [0, NUM_CLASSES])
def test_critic_scores_are_per_sample(arch: str, norm: str, num_classes: int) -> None:
    d = _critic(arch, resolution=16, num_classes=num_classes, norm=norm).train()
    x = torch.randn(4, 3, 16, 16)
    labels = _labels(4, num_classes)
    before = d(x, labels)
    x2 = x.clone()
    x2[2] += torch.randn(3, 16, 16)
    after = d(x2, labels)
    others = [0, 1, 3]
    torch.testing.assert_close(after[others], before[others], rtol=1e-5, atol=1e-6)
    assert not torch.isclose(after[2], before[2])


@pytest.mark.parametrize("arch", ARCHITECTURES)
def test_conditional_generator_depends_on_label(arch: str) -> None:
    g = _generator(arch, num_classes=NUM_CLASSES)
    # At init every class has gamma 1 and beta 0; give classes distinct values, as training would.
    for m in g.modules():
        if isinstance(m, ConditionalBatchNorm2d):
            nn.init.normal_(m.gamma.weight, 1.0, 0.2)
            nn.init.normal_(m.beta.weight, 0.0, 0.2)
    z = torch.randn(1, LATENT).repeat(2, 1)
    images = g(z, torch.tensor([0, 1]))
    assert (images[0] - images[1]).abs().max() > 1e-3


@pytest.mark.parametrize("arch", ARCHITECTURES)
def test_projection_critic_depends_on_label(arch: str) -> None:
    d = _critic(arch, num_classes=NUM_CLASSES)
    x = torch.randn(1, 3, 16, 16).repeat(2, 1, 1, 1)
    scores = d(x, torch.tensor([0, 1]))
    assert not torch.isclose(scores[0], scores[1])


@pytest.mark.parametrize("arch", ARCHITECTURES)
def test_missing_labels_raise(arch: str) -> None:
    g = _generator(arch, num_classes=NUM_CLASSES)
    d = _critic(arch, num_classes=NUM_CLASSES)
    with pytest.raises(ReelganError, match="labels"):
        g(torch.randn(2, LATENT))
    with pytest.raises(ReelganError, match="labels"):
        d(torch.randn(2, 3, 16, 16))


@pytest.mark.parametrize("arch", ARCHITECTURES)
def test_unconditional_ignores_labels(arch: str) -> None:
    g = _generator(arch).eval()
    z = torch.randn(2, LATENT)
    torch.testing.assert_close(g(z, torch.tensor([0, 1])), g(z))


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"arch": "stylegan"}, "arch"),
        ({"resolution": 48}, "resolution"),
        ({"resolution": 8}, "resolution"),
        ({"resolution": 512}, "resolution"),
        ({"channels": 2}, "channels"),
        ({"width": 0}, "width"),
        ({"num_classes": -1}, "num_classes"),
    ],
)
@pytest.mark.parametrize("build", [build_generator, build_critic])
def test_bad_values_raise(build, kwargs: dict, name: str) -> None:
    args = {"arch": "dcgan", "resolution": 16, "channels": 3, **kwargs}
    with pytest.raises(ReelganError, match=name):
        build(args.pop("arch"), **args)


@pytest.mark.parametrize("arch", ARCHITECTURES)
def test_bad_critic_norm_raises(arch: str) -> None:
    with pytest.raises(ReelganError, match="norm.*none, layernorm"):
        build_critic(arch, resolution=16, channels=3, norm="batchnorm")


@pytest.mark.parametrize("arch", ARCHITECTURES)
@pytest.mark.parametrize("num_classes", [0, NUM_CLASSES])
def test_gradients_reach_generator_input_layer(arch: str, num_classes: int) -> None:
    g = _generator(arch, num_classes=num_classes)
    d = _critic(arch, num_classes=num_classes)
    labels = _labels(4, num_classes)
    d(g(torch.randn(4, LATENT), labels), labels).mean().backward()
    assert g.fc.weight.grad is not None
    assert g.fc.weight.grad.abs().sum() > 0


@pytest.mark.parametrize("arch", ARCHITECTURES)
def test_gradient_penalty_double_backward(arch: str) -> None:
    d = _critic(arch, num_classes=NUM_CLASSES, norm="layernorm")
    x = torch.randn(3, 3, 16, 16, requires_grad=True)
    scores = d(x, _labels(3, NUM_CLASSES))
    (grad,) = torch.autograd.grad(scores.sum(), x, create_graph=True)
    penalty = ((grad.flatten(1).norm(dim=1) - 1) ** 2).mean()
    penalty.backward()
    # The head's bias has no effect on input gradients, so check weights only.
    weights = [p for name, p in d.named_parameters() if name.endswith("weight")]
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in weights)


@pytest.mark.parametrize("arch", ARCHITECTURES)
def test_channels_last_and_bf16_autocast(arch: str) -> None:
    g = _generator(arch, num_classes=NUM_CLASSES).to(memory_format=torch.channels_last)
    d = _critic(arch, num_classes=NUM_CLASSES, norm="layernorm")
    d = d.to(memory_format=torch.channels_last)
    labels = _labels(2, NUM_CLASSES)
    z = torch.randn(2, LATENT)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        images = g(z, labels)
        scores = d(images.to(memory_format=torch.channels_last), labels)
    assert images.shape == (2, 3, 16, 16)
    assert scores.shape == (2,)
    assert torch.isfinite(scores.float()).all()
    scores.float().sum().backward()
    assert g.fc.weight.grad is not None


def test_conditional_batch_norm() -> None:
    plain = ConditionalBatchNorm2d(4, num_classes=0)
    assert plain.bn.affine
    cond = ConditionalBatchNorm2d(4, num_classes=3)
    assert not cond.bn.affine
    assert torch.equal(cond.gamma.weight, torch.ones(3, 4))
    assert torch.equal(cond.beta.weight, torch.zeros(3, 4))
    x = torch.randn(6, 4, 5, 5)
    labels = torch.tensor([0, 1, 2, 0, 1, 2])
    # Identical at init: the normalised input with unit scale and zero shift.
    torch.testing.assert_close(cond(x, labels), plain(x))
    with torch.no_grad():
        cond.beta.weight[1] = 2.0
    shifted = cond(x, labels) - plain(x)
    torch.testing.assert_close(shifted[1], torch.full((4, 5, 5), 2.0))
    torch.testing.assert_close(shifted[0], torch.zeros(4, 5, 5))


def test_critic_norm_factory() -> None:
    assert isinstance(critic_norm("none", 8), nn.Identity)
    layer = critic_norm("layernorm", 8)
    assert isinstance(layer, nn.GroupNorm) and layer.num_groups == 1


@pytest.mark.parametrize("arch", ["dcgan", "resnet"])
def test_a_class_head_names_classes_and_leaves_the_scores_alone(arch):
    critic = build_critic(arch, resolution=16, channels=1, width=8, max_width=16, num_classes=3, class_head=True)
    x, labels = torch.randn(5, 1, 16, 16), torch.tensor([0, 1, 2, 0, 1])
    scores, logits = critic(x, labels, with_logits=True)
    assert scores.shape == (5,) and logits.shape == (5, 3)
    assert torch.equal(scores, critic(x, labels))
    plain = build_critic(arch, resolution=16, channels=1, width=8, max_width=16, num_classes=3)
    assert not any("classify" in name for name in plain.state_dict())  # old checkpoints load as they were
    with pytest.raises(ReelganError, match="no class head"):
        plain(x, labels, with_logits=True)
    with pytest.raises(ReelganError, match="needs classes"):
        build_critic(arch, resolution=16, channels=1, width=8, max_width=16, class_head=True)
