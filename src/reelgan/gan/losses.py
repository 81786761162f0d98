"""Adversarial losses and regularisers, separate from the networks.

The pure functions take critic scores (shape `(B,)`, float32) and return a scalar. `GANLoss` owns the GAN
step: it runs the networks for a phase (`critic` or `generator`) and returns the loss to back-propagate
with its statistics; the training loop only schedules phases and steps optimisers.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ..config import LossConfig
from .augment import DiffAugment


def wasserstein_critic_loss(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """WGAN critic: push real scores up and fake scores down, E[D(fake)] - E[D(real)]."""
    return fake.mean() - real.mean()


def hinge_critic_loss(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """Hinge critic (Lim & Ye 2017; Miyato et al. 2018): E[relu(1 - D(real))] + E[relu(1 + D(fake))]."""
    return F.relu(1.0 - real).mean() + F.relu(1.0 + fake).mean()


def nonsaturating_critic_loss(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """Logistic critic (Goodfellow et al. 2014): E[softplus(-D(real))] + E[softplus(D(fake))]."""
    return F.softplus(-real).mean() + F.softplus(fake).mean()


def relativistic_critic_loss(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """Relativistic pairing (Jolicoeur-Martineau 2019; R3GAN, Huang et al. 2024): E[softplus(D(fake) - D(real))].

    Real sample i is paired with fake sample i: the critic learns which of the pair is real, not where the
    data are, which removes the mode-dropping minima of the plain logistic loss.
    """
    return F.softplus(fake - real).mean()


def relativistic_generator_loss(fake: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
    """The generator's side of the pairing: E[softplus(D(real) - D(fake))] (real scores held fixed)."""
    return F.softplus(real.detach() - fake).mean()


def wasserstein_generator_loss(fake: torch.Tensor) -> torch.Tensor:
    """Generator loss of WGAN and hinge GANs: -E[D(G(z))]."""
    return -fake.mean()


def nonsaturating_generator_loss(fake: torch.Tensor) -> torch.Tensor:
    """Non-saturating generator loss: E[softplus(-D(G(z)))]."""
    return F.softplus(-fake).mean()


def input_gradients(inputs: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
    """d(sum of scores)/d(inputs), kept in the graph so a penalty on it can be back-propagated.

    Summing is valid because each score depends only on its own sample (no batch norm in critics).
    """
    (grads,) = torch.autograd.grad(scores.sum(), inputs, create_graph=True)
    return grads


def gradient_penalty(inputs: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
    """Two-sided WGAN-GP penalty (Gulrajani et al. 2017): E[(||grad_x D(x)||_2 - 1)^2] over samples.

    `inputs` (B, ...) must require grad; the norm is per sample over every other dimension.
    """
    grads = input_gradients(inputs, scores).float().flatten(1)  # (B, C*H*W)
    return (grads.norm(2, dim=1) - 1.0).square().mean()


def r1_penalty(inputs: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
    """R1 (Mescheder et al. 2018): E[||grad_x D(x)||^2] on real images."""
    return input_gradients(inputs, scores).float().flatten(1).square().sum(dim=1).mean()


CRITIC_LOSSES = {"wgan-gp": wasserstein_critic_loss, "hinge": hinge_critic_loss,
                 "ns-r1": nonsaturating_critic_loss, "r3gan": relativistic_critic_loss}
GENERATOR_LOSSES = {"wgan-gp": wasserstein_generator_loss, "hinge": wasserstein_generator_loss,
                    "ns-r1": nonsaturating_generator_loss}  # r3gan's generator loss also needs real scores
# Losses regularised by zero-centred gradient penalties every `r1_interval` critic steps (lazy): ns-r1 on the
# reals (R1), r3gan on the reals and the fakes (R1 + R2).
LAZY_REGULARISED = ("ns-r1", "r3gan")
RELATIVISTIC = ("r3gan",)  # the generator phase scores a real batch too


@dataclass
class PhaseResult:
    """A phase's loss to back-propagate and its statistics (detached scalar tensors, summed lazily)."""

    loss: torch.Tensor
    stats: dict[str, torch.Tensor]


class GANLoss:
    """Runs the networks for each phase of a GAN step and computes its loss."""

    def __init__(self, config: LossConfig, generator: torch.nn.Module, critic: torch.nn.Module,
                 autocast: "torch.autocast | None" = None) -> None:
        self.config, self.G, self.D = config, generator, critic
        self.augment = DiffAugment(config.augment_ops)
        self.critic_loss = CRITIC_LOSSES[config.kind]
        self.generator_loss = GENERATOR_LOSSES.get(config.kind)
        self.autocast = autocast

    def _scores(self, images: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        """Critic scores as float32 `(B,)`, under autocast when it is on."""
        if self.autocast is None:
            return self.D(images, labels).float()
        with self.autocast:
            return self.D(images, labels).float()

    def generate(self, z: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        """G(z) as `(B, C, H, W)`, under autocast when it is on, returned in float32."""
        if self.autocast is None:
            return self.G(z, labels)
        with self.autocast:
            return self.G(z, labels).float()

    def critic_phase(self, real: torch.Tensor, labels: torch.Tensor | None, z: torch.Tensor,
                     apply_r1: bool = False) -> PhaseResult:
        """One critic step's loss. `real` (B, C, H, W); `z` (B, latent); fakes share the real labels.

        Real and fake go through the critic in one pass of 2B; WGAN-GP adds one pass on the B interpolates,
        whose input gradients the penalty needs. R1 reuses the real half of the joint pass.
        """
        batch = real.size(0)
        with torch.no_grad():
            fake = self.generate(z, labels)  # (B, C, H, W); no generator graph in the critic phase
        both = self.augment(torch.cat([real, fake]))  # (2B, C, H, W), augmented per sample
        real_aug, fake_aug = both[:batch], both[batch:]
        with_r2 = apply_r1 and self.config.kind in RELATIVISTIC
        if apply_r1:
            real_aug = real_aug.detach().requires_grad_(True)
            fake_aug = fake_aug.detach().requires_grad_(with_r2)
            both = torch.cat([real_aug, fake_aug])
        both_labels = None if labels is None else torch.cat([labels, labels])
        real_scores, fake_scores = self._scores(both, both_labels).split(batch)  # each (B,)
        loss = self.critic_loss(real_scores, fake_scores)
        stats = {"loss_D": loss.detach(), "score_real": real_scores.detach().mean(),
                 "score_fake": fake_scores.detach().mean()}
        if self.config.kind == "wgan-gp":
            loss = loss + self._wgan_regularisers(real_aug, fake_aug, labels, real_scores, stats)
        if apply_r1:
            r1 = r1_penalty(real_aug, real_scores)
            penalty = r1
            stats["r1"] = r1.detach()
            if with_r2:  # R2: the same zero-centred penalty on the fakes (R3GAN)
                r2 = r1_penalty(fake_aug, fake_scores)
                penalty = penalty + r2
                stats["r2"] = r2.detach()
            # Lazy regularisation: applied every r1_interval steps, so scaled up to the same average strength.
            loss = loss + (self.config.r1_gamma / 2) * penalty * self.config.r1_interval
        return PhaseResult(loss, stats)

    def _wgan_regularisers(self, real: torch.Tensor, fake: torch.Tensor, labels: torch.Tensor | None,
                           real_scores: torch.Tensor, stats: dict[str, torch.Tensor]) -> torch.Tensor:
        """lambda * gradient penalty on random interpolates + drift * E[D(real)^2]."""
        eps = torch.rand(real.size(0), *([1] * (real.dim() - 1)), device=real.device)  # (B, 1, 1, 1)
        interpolates = (eps * real.detach() + (1 - eps) * fake.detach()).requires_grad_(True)
        penalty = gradient_penalty(interpolates, self._scores(interpolates, labels))
        stats["gp"] = penalty.detach()
        extra = self.config.gp_weight * penalty
        if self.config.drift:
            extra = extra + self.config.drift * real_scores.square().mean()
        return extra

    def generator_phase(self, z: torch.Tensor, labels: torch.Tensor | None,
                        real: torch.Tensor | None = None) -> PhaseResult:
        """The generator's loss on a batch of latents `z` (B, latent) with class `labels` (B,) or None.

        Relativistic losses pair each fake with a real image: `real` (B, C, H, W) of the same `labels`.
        """
        fake = self.augment(self.generate(z, labels))  # (B, C, H, W)
        if self.config.kind not in RELATIVISTIC:
            loss = self.generator_loss(self._scores(fake, labels))
            return PhaseResult(loss, {"loss_G": loss.detach()})
        if real is None or real.size(0) != fake.size(0):
            raise ValueError("a relativistic generator phase needs a real batch as large as its latents")
        both_labels = None if labels is None else torch.cat([labels, labels])
        real_scores, fake_scores = self._scores(torch.cat([self.augment(real), fake]), both_labels).split(len(z))
        loss = relativistic_generator_loss(fake_scores, real_scores)
        return PhaseResult(loss, {"loss_G": loss.detach()})
