"""Adversarial losses and regularisers, separate from the networks, for images and clips alike.

The pure functions take critic scores (shape `(B,)`, float32) and return a scalar; the penalties take the
critic's inputs, of any shape `(B, ...)`. `GANLoss` owns the GAN step: it runs the networks for a phase
(`critic` or `generator`) and returns the loss to back-propagate with its statistics; the training loop only
schedules phases and steps optimisers. A clip GAN is the same step with two critics (clip and frame) whose
losses add up.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ..config import LossConfig
from ..errors import ReelganError
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
    """Runs the networks for each phase of a GAN step and computes its loss, for images and clips alike.

    `critic` scores samples `x` (images (B, C, H, W) or clips (B, C, T, H, W)) as `(B,)`; or it is an
    `nn.ModuleDict` of named critics (the clip GAN's `clip` and `frame` critics), whose losses add up so that
    one backward reaches all of them; their statistics carry the name as a suffix (`gp_clip`). The penalties'
    norms run over every non-batch dimension of a sample.
    """

    def __init__(self, config: LossConfig, generator: nn.Module, critic: nn.Module,
                 autocast: "torch.autocast | None" = None) -> None:
        self.config, self.G, self.D = config, generator, critic
        self.critics = dict(critic.items()) if isinstance(critic, nn.ModuleDict) else {"": critic}
        self.augment = DiffAugment(config.augment_ops)
        self.critic_loss = CRITIC_LOSSES[config.kind]
        self.generator_loss = GENERATOR_LOSSES.get(config.kind)
        self.autocast = autocast

    def _autocast(self, network: nn.Module, *inputs: torch.Tensor | None) -> torch.Tensor:
        """network(*inputs), under autocast when it is on, returned in float32."""
        inputs = inputs if inputs[-1] is not None else inputs[:-1]  # unlabelled: critics without a labels argument
        if self.autocast is None:
            return network(*inputs).float()
        with self.autocast:
            return network(*inputs).float()

    def _score(self, critic: nn.Module, x: torch.Tensor, labels: torch.Tensor | None
               ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """critic(x, labels) in float32: scores (B,), and class logits (B, classes) when the auxiliary class
        loss is on (`class_weight` > 0 and labelled data), else None."""
        if labels is None or self.config.class_weight == 0:
            return self._autocast(critic, x, labels), None
        with self.autocast if self.autocast is not None else contextlib.nullcontext():
            scores, logits = critic(x, labels, with_logits=True)
        return scores.float(), logits.float()

    def _class_loss(self, logits: torch.Tensor, labels: torch.Tensor, name: str,
                    stats: dict[str, torch.Tensor]) -> torch.Tensor:
        """class_weight x the cross-entropy of the critic's class logits (B, classes) against labels (B,)."""
        loss = F.cross_entropy(logits, labels)
        stats[name] = loss.detach()
        return self.config.class_weight * loss

    def generate(self, z: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        """G(z) (images or clips), under autocast when it is on, returned in float32."""
        return self._autocast(self.G, z, labels)

    def critic_phase(self, real: torch.Tensor, labels: torch.Tensor | None, z: torch.Tensor,
                     apply_r1: bool = False, r1_gamma: float | None = None) -> PhaseResult:
        """One critic step's loss. `real` (B, ...); `z` (B, latent); fakes share the real labels.
        `r1_gamma` overrides the config's gamma for this step (the trainer's annealing schedule).

        Real and fake go through each critic in one pass of 2B; WGAN-GP adds one pass on the B interpolates
        (shared by the critics), whose input gradients the penalty needs. R1 reuses the real half of the pass.
        """
        batch = real.size(0)
        with torch.no_grad():
            fake = self.generate(z, labels)  # no generator graph in the critic phase
        if real.shape != fake.shape:
            raise ReelganError(f"real samples have shape {tuple(real.shape)} but the generator makes "
                               f"{tuple(fake.shape)}; data and networks must agree")
        both = self.augment(torch.cat([real, fake]))  # (2B, ...), augmented per sample
        real_aug, fake_aug = both[:batch], both[batch:]
        with_r2 = apply_r1 and self.config.kind in RELATIVISTIC
        if apply_r1:
            real_aug = real_aug.detach().requires_grad_(True)
            fake_aug = fake_aug.detach().requires_grad_(with_r2)
            both = torch.cat([real_aug, fake_aug])
        interpolates = None
        if self.config.kind == "wgan-gp":
            eps = torch.rand(batch, *([1] * (real.dim() - 1)), device=real.device)  # (B, 1, ...)
            interpolates = (eps * real_aug.detach() + (1 - eps) * fake_aug.detach()).requires_grad_(True)
        both_labels = None if labels is None else torch.cat([labels, labels])
        losses, stats = [], {}
        for name, critic in self.critics.items():
            suffix = f"_{name}" if name else ""
            scores, logits = self._score(critic, both, both_labels)
            real_scores, fake_scores = scores.split(batch)  # each (B,)
            loss = self.critic_loss(real_scores, fake_scores)
            stats.update({f"loss_D{suffix}": loss.detach(), f"score_real{suffix}": real_scores.detach().mean(),
                          f"score_fake{suffix}": fake_scores.detach().mean()})
            if logits is not None:  # the critic learns to name the real images' classes only
                loss = loss + self._class_loss(logits[:batch], labels, f"class_D{suffix}", stats)
            if interpolates is not None:
                loss = loss + self._wgan_regularisers(critic, interpolates, labels, real_scores, suffix, stats)
            if apply_r1:
                gamma = self.config.r1_gamma if r1_gamma is None else r1_gamma
                loss = loss + self._lazy_penalty(real_aug, real_scores, fake_aug, fake_scores, gamma, suffix, stats)
            losses.append(loss)
        if len(losses) > 1:
            stats["loss_D"] = sum(stats[f"loss_D_{name}"] for name in self.critics)
        return PhaseResult(sum(losses), stats)

    def _wgan_regularisers(self, critic: nn.Module, interpolates: torch.Tensor, labels: torch.Tensor | None,
                           real_scores: torch.Tensor, suffix: str, stats: dict[str, torch.Tensor]) -> torch.Tensor:
        """lambda * gradient penalty on the interpolates + drift * E[D(real)^2]."""
        penalty = gradient_penalty(interpolates, self._autocast(critic, interpolates, labels))
        stats[f"gp{suffix}"] = penalty.detach()
        extra = self.config.gp_weight * penalty
        if self.config.drift:
            extra = extra + self.config.drift * real_scores.square().mean()
        return extra

    def _lazy_penalty(self, real: torch.Tensor, real_scores: torch.Tensor, fake: torch.Tensor,
                      fake_scores: torch.Tensor, gamma: float, suffix: str,
                      stats: dict[str, torch.Tensor]) -> torch.Tensor:
        """gamma/2 * (R1, + R2 for relativistic losses), scaled by r1_interval: applied every r1_interval
        steps (lazy regularisation), so scaled up to the same average strength."""
        penalty = r1_penalty(real, real_scores)
        stats[f"r1{suffix}"] = penalty.detach()
        if self.config.kind in RELATIVISTIC:  # R2: the same zero-centred penalty on the fakes (R3GAN)
            r2 = r1_penalty(fake, fake_scores)
            stats[f"r2{suffix}"] = r2.detach()
            penalty = penalty + r2
        return (gamma / 2) * penalty * self.config.r1_interval

    def generator_phase(self, z: torch.Tensor, labels: torch.Tensor | None,
                        real: torch.Tensor | None = None) -> PhaseResult:
        """The generator's loss on a batch of latents `z` (B, latent) with class `labels` (B,) or None.

        Relativistic losses pair each fake with a real sample: `real` (B, ...) of the same `labels`.
        """
        fake = self.augment(self.generate(z, labels))  # (B, ...)
        relativistic = self.config.kind in RELATIVISTIC
        if relativistic:
            if real is None or real.size(0) != fake.size(0):
                raise ReelganError("a relativistic generator phase needs a real batch as large as its latents")
            both = torch.cat([self.augment(real), fake])
            both_labels = None if labels is None else torch.cat([labels, labels])
        losses, stats = [], {}
        for name, critic in self.critics.items():
            if relativistic:
                scores, logits = self._score(critic, both, both_labels)
                real_scores, fake_scores = scores.split(len(z))
                loss = relativistic_generator_loss(fake_scores, real_scores)
                logits = None if logits is None else logits[len(z):]
            else:
                scores, logits = self._score(critic, fake, labels)
                loss = self.generator_loss(scores)
            if logits is not None:  # the fakes are to be named as the class they were asked for
                loss = loss + self._class_loss(logits, labels, f"class_G{'_' + name if name else ''}", stats)
            if name:
                stats[f"loss_G_{name}"] = loss.detach()
            losses.append(loss)
        total = sum(losses)
        stats["loss_G"] = total.detach()
        return PhaseResult(total, stats)
