import pytest
import torch

from reelgan.config import LossConfig
from reelgan.errors import ReelganError
from reelgan.gan.augment import DiffAugment
from reelgan.gan.losses import (
    GANLoss,
    gradient_penalty,
    hinge_critic_loss,
    nonsaturating_critic_loss,
    nonsaturating_generator_loss,
    r1_penalty,
    relativistic_critic_loss,
    relativistic_generator_loss,
    wasserstein_critic_loss,
    wasserstein_generator_loss,
)


class LinearCritic(torch.nn.Module):
    """D(x) = <w, x>: its input gradient is w everywhere, so penalties have closed forms."""

    def __init__(self, weight: torch.Tensor):
        super().__init__()
        self.weight = torch.nn.Parameter(weight)
        self.calls = 0

    def forward(self, x, labels=None):
        self.calls += 1
        return (x.flatten(1) * self.weight.flatten()).sum(dim=1)


class ConstantGenerator(torch.nn.Module):
    def __init__(self, image):
        super().__init__()
        self.image = torch.nn.Parameter(image)

    def forward(self, z, labels=None):
        return self.image.expand(z.size(0), *self.image.shape) + 0 * z.sum()


def test_loss_functions_on_known_scores():
    real, fake = torch.tensor([2.0, 0.0]), torch.tensor([-0.5, 1.5])
    assert wasserstein_critic_loss(real, fake) == pytest.approx(0.5 - 1.0)
    assert hinge_critic_loss(real, fake) == pytest.approx((0 + 1) / 2 + (0.5 + 2.5) / 2)
    expected_ns = torch.nn.functional.softplus(-real).mean() + torch.nn.functional.softplus(fake).mean()
    assert nonsaturating_critic_loss(real, fake) == pytest.approx(float(expected_ns))
    assert wasserstein_generator_loss(fake) == pytest.approx(-0.5)
    assert nonsaturating_generator_loss(fake) == pytest.approx(float(torch.nn.functional.softplus(-fake).mean()))


@pytest.mark.parametrize("norm", [0.5, 1.0, 3.0])
def test_gradient_penalty_and_r1_match_closed_forms(norm):
    weight = torch.randn(1, 4, 4)
    weight = weight / weight.norm() * norm
    critic = LinearCritic(weight)
    x = torch.randn(5, 1, 4, 4, requires_grad=True)
    assert gradient_penalty(x, critic(x)).item() == pytest.approx((norm - 1) ** 2, abs=1e-5)
    assert r1_penalty(x, critic(x)).item() == pytest.approx(norm ** 2, rel=1e-5)


def test_gradient_penalty_is_per_sample():
    """Two samples with gradient norms 0 and 2: mean of (0-1)^2 and (2-1)^2 is 1, not (norm of batch - 1)^2."""
    x = torch.zeros(2, 1, requires_grad=True)
    scores = torch.stack([x[0, 0] * 0.0, x[1, 0] * 2.0])
    assert gradient_penalty(x, scores).item() == pytest.approx(1.0)


@pytest.mark.parametrize("kind, expected_calls", [("wgan-gp", 2), ("hinge", 1), ("ns-r1", 1)])
def test_critic_phase_runs_each_network_pass_once(kind, expected_calls):
    critic = LinearCritic(torch.randn(1, 4, 4))
    loss = GANLoss(LossConfig(kind=kind), ConstantGenerator(torch.zeros(1, 4, 4)), critic)
    result = loss.critic_phase(torch.randn(3, 1, 4, 4), None, torch.randn(3, 2), apply_r1=kind == "ns-r1")
    assert critic.calls == expected_calls  # real+fake jointly; WGAN-GP adds the interpolates; R1 reuses reals
    result.loss.backward()
    assert critic.weight.grad is not None and torch.isfinite(result.loss)
    if kind == "ns-r1":
        assert result.stats["r1"].item() == pytest.approx(critic.weight.detach().square().sum().item(), rel=1e-5)


def test_wgan_gp_critic_loss_adds_lambda_times_penalty():
    weight = torch.full((1, 2, 2), 1.0)  # gradient norm 2 -> penalty (2 - 1)^2 = 1
    critic = LinearCritic(weight)
    config = LossConfig(kind="wgan-gp", gp_weight=10.0, drift=0.0)
    real = torch.ones(4, 1, 2, 2)
    loss = GANLoss(config, ConstantGenerator(torch.zeros(1, 2, 2)), critic)
    result = loss.critic_phase(real, None, torch.randn(4, 2))
    assert result.stats["gp"].item() == pytest.approx(1.0)
    assert result.loss.item() == pytest.approx((0.0 - 4.0) + 10.0 * 1.0)


def test_generator_phase_moves_the_generator_against_the_critic():
    critic = LinearCritic(torch.ones(1, 2, 2))
    G = ConstantGenerator(torch.zeros(1, 2, 2))
    GANLoss(LossConfig(kind="hinge"), G, critic).generator_phase(torch.randn(4, 2), None).loss.backward()
    assert (G.image.grad < 0).all()  # descending raises D(G(z))


@pytest.mark.parametrize("ops", [["translation"], ["cutout"], ["color"], ["translation", "cutout", "color"]])
@pytest.mark.parametrize("channels", [1, 3, 4])
def test_diffaugment_keeps_shape_and_passes_gradients(ops, channels):
    x = torch.randn(6, channels, 16, 16, requires_grad=True)
    torch.manual_seed(0)
    y = DiffAugment(ops)(x)
    assert y.shape == x.shape and not torch.equal(y, x)
    y.sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    torch.manual_seed(0)
    assert torch.equal(DiffAugment(ops)(x), y)  # randomness comes from the (saved) global RNG


def test_diffaugment_colour_leaves_alpha_alone():
    x = torch.rand(4, 4, 8, 8) * 2 - 1
    assert torch.equal(DiffAugment(["color"])(x)[:, 3], x[:, 3])


def test_empty_policy_is_identity():
    x = torch.randn(2, 1, 8, 8)
    assert DiffAugment([])(x) is x


def test_relativistic_pairing_on_known_scores():
    real, fake = torch.tensor([2.0, 0.0]), torch.tensor([-0.5, 1.5])
    softplus = torch.nn.functional.softplus
    # pairs (2, -0.5) and (0, 1.5): the critic pays softplus(fake - real), the generator softplus(real - fake)
    assert relativistic_critic_loss(real, fake).item() == pytest.approx(float(softplus(torch.tensor([-2.5, 1.5])).mean()))
    assert relativistic_generator_loss(fake, real).item() == pytest.approx(float(softplus(torch.tensor([2.5, -1.5])).mean()))
    # only the pairing matters: shifting every score by a constant changes nothing
    assert relativistic_critic_loss(real + 7, fake + 7).item() == pytest.approx(relativistic_critic_loss(real, fake).item())


def test_r3gan_critic_phase_adds_lazy_r1_and_r2_in_closed_form():
    """D(x) = <w, x> has input gradient w for reals and fakes alike: R1 = R2 = ||w||^2, scaled by gamma/2 and
    the lazy interval."""
    weight = torch.randn(1, 4, 4)
    critic = LinearCritic(weight)
    config = LossConfig(kind="r3gan", r1_gamma=0.5, r1_interval=4, augment="")
    loss = GANLoss(config, ConstantGenerator(torch.zeros(1, 4, 4)), critic)
    real = torch.randn(3, 1, 4, 4)
    result = loss.critic_phase(real, None, torch.randn(3, 2), apply_r1=True)
    norm2 = weight.square().sum().item()
    assert result.stats["r1"].item() == pytest.approx(norm2, rel=1e-5)
    assert result.stats["r2"].item() == pytest.approx(norm2, rel=1e-5)
    real_scores = (real.flatten(1) * weight.flatten()).sum(1)
    pairing = torch.nn.functional.softplus(0 - real_scores).mean().item()  # fakes are zeros: D(fake) = 0
    assert result.loss.item() == pytest.approx(pairing + 0.5 / 2 * (2 * norm2) * 4, rel=1e-5)
    assert critic.calls == 1  # real and fake in one pass; the penalties reuse it
    plain = loss.critic_phase(real, None, torch.randn(3, 2), apply_r1=False)
    assert "r1" not in plain.stats and plain.loss.item() == pytest.approx(pairing, rel=1e-5)


def test_a_scheduled_gamma_replaces_the_configs_in_the_penalty():
    weight = torch.randn(1, 4, 4)
    config = LossConfig(kind="r3gan", r1_gamma=0.5, r1_interval=2, augment="")
    loss = GANLoss(config, ConstantGenerator(torch.zeros(1, 4, 4)), LinearCritic(weight))
    real, z = torch.randn(3, 1, 4, 4), torch.randn(3, 2)
    pairing = loss.critic_phase(real, None, z, apply_r1=False).loss.item()
    norm2 = weight.square().sum().item()
    for gamma in (0.5, 3.0, 0.0):
        result = loss.critic_phase(real, None, z, apply_r1=True, r1_gamma=gamma)
        assert result.loss.item() == pytest.approx(pairing + gamma / 2 * (2 * norm2) * 2, rel=1e-5)


def test_r3gan_generator_phase_needs_and_uses_real_images():
    critic = LinearCritic(torch.ones(1, 2, 2))
    G = ConstantGenerator(torch.zeros(1, 2, 2))
    loss = GANLoss(LossConfig(kind="r3gan", augment=""), G, critic)
    with pytest.raises(ReelganError):
        loss.generator_phase(torch.randn(4, 2), None)
    result = loss.generator_phase(torch.randn(4, 2), None, real=torch.ones(4, 1, 2, 2))
    expected = torch.nn.functional.softplus(torch.tensor(4.0 - 0.0)).item()  # D(real) = 4, D(fake) = 0
    assert result.loss.item() == pytest.approx(expected, rel=1e-5)
    result.loss.backward()
    assert (G.image.grad < 0).all()  # descending raises D(G(z)) towards D(real)


class LinearClassCritic(LinearCritic):
    """D(x) = <w, x>, and class logits V x: the auxiliary class loss has a closed form."""

    def __init__(self, weight: torch.Tensor, classes: torch.Tensor):
        super().__init__(weight)
        self.classes = torch.nn.Parameter(classes)  # (K, features)

    def forward(self, x, labels=None, with_logits=False):
        scores = super().forward(x, labels)
        return (scores, x.flatten(1) @ self.classes.T) if with_logits else scores


@pytest.mark.parametrize("kind", ["r3gan", "ns-r1", "wgan-gp", "hinge"])
def test_class_weight_adds_the_cross_entropy_of_real_images_for_the_critic_and_fakes_for_the_generator(kind):
    torch.manual_seed(0)
    critic = LinearClassCritic(torch.randn(1, 2, 2), torch.randn(3, 4))
    fake_image = torch.randn(1, 2, 2)
    G = ConstantGenerator(fake_image.clone())
    real, labels, z = torch.randn(4, 1, 2, 2), torch.tensor([0, 2, 1, 2]), torch.randn(4, 2)
    ce = torch.nn.functional.cross_entropy
    without = GANLoss(LossConfig(kind=kind, augment="", class_weight=0.0), G, critic)
    with_class = GANLoss(LossConfig(kind=kind, augment="", class_weight=0.5), G, critic)
    torch.manual_seed(1)  # WGAN-GP draws its interpolation weights
    base = without.critic_phase(real, labels, z)
    torch.manual_seed(1)
    result = with_class.critic_phase(real, labels, z)
    real_ce = ce(real.flatten(1) @ critic.classes.T, labels).item()
    assert "class_D" not in base.stats and result.stats["class_D"].item() == pytest.approx(real_ce, rel=1e-5)
    assert result.loss.item() == pytest.approx(base.loss.item() + 0.5 * real_ce, rel=1e-5)
    paired = real if kind == "r3gan" else None
    base_g = without.generator_phase(z, labels, paired)
    result_g = with_class.generator_phase(z, labels, paired)
    fake_ce = ce(fake_image.flatten()[None].expand(4, -1) @ critic.classes.T, labels).item()
    assert result_g.stats["class_G"].item() == pytest.approx(fake_ce, rel=1e-5)
    assert result_g.loss.item() == pytest.approx(base_g.loss.item() + 0.5 * fake_ce, rel=1e-5)


def test_class_weight_needs_labels_to_do_anything():
    critic = LinearClassCritic(torch.randn(1, 2, 2), torch.randn(3, 4))
    loss = GANLoss(LossConfig(kind="r3gan", augment="", class_weight=1.0), ConstantGenerator(torch.zeros(1, 2, 2)),
                   critic)
    result = loss.critic_phase(torch.randn(2, 1, 2, 2), None, torch.randn(2, 2))
    assert "class_D" not in result.stats  # unconditional data: the class loss is off


def test_class_weight_is_checked():
    with pytest.raises(ReelganError, match="class_weight"):
        LossConfig(class_weight=-1.0)
