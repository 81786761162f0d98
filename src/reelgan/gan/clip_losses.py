"""WGAN-GP for clips: one generator against a clip critic and (optionally) a frame critic.

`VideoGANLoss` mirrors `reelgan.gan.losses.GANLoss`: it runs the networks for a phase and returns a `PhaseResult`
(the loss to back-propagate and detached statistics); the training loop schedules phases and steps the
optimisers. The critic phase's loss is the sum over critics of the WGAN loss, lambda times the gradient
penalty and the drift term, so one backward reaches every critic: step one optimiser over all critics'
parameters (or every critic's optimiser) after it, and switch `requires_grad` on all critics, as the loop
does for one. The gradient penalty is `reelgan.gan.losses.gradient_penalty`, whose per-sample norm runs over
every non-batch dimension, here (C, T, H, W) of the whole clip.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from ..config import LossConfig
from ..errors import ReelganError
from .losses import PhaseResult, gradient_penalty, wasserstein_critic_loss, wasserstein_generator_loss


class VideoGANLoss:
    """Runs a video generator and its critics for each phase of a WGAN-GP step.

    `clip_critic` and `frame_critic` map clips (B, C, T, H, W) to scores (B,), e.g. `VideoCritic3D` and
    `FrameCritic2D`; `frame_critic` may be None. Statistics are suffixed with the critic's name
    (`clip`, `frame`).
    """

    def __init__(self, generator: nn.Module, clip_critic: nn.Module, frame_critic: nn.Module | None = None,
                 *, gp_weight: float = 10.0, drift: float = 0.001,
                 autocast: "torch.autocast | None" = None) -> None:
        for name, value in (("gp_weight", gp_weight), ("drift", drift)):
            if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
                raise ReelganError(f"{name} must be a number >= 0; got {value!r}")
        self.G = generator
        self.critics: dict[str, nn.Module] = {"clip": clip_critic}
        if frame_critic is not None:
            self.critics["frame"] = frame_critic
        self.gp_weight, self.drift, self.autocast = float(gp_weight), float(drift), autocast

    @classmethod
    def from_config(cls, config: LossConfig, generator: nn.Module, clip_critic: nn.Module,
                    frame_critic: nn.Module | None = None,
                    autocast: "torch.autocast | None" = None) -> "VideoGANLoss":
        """Build from the run's `LossConfig`; clips support only `wgan-gp` and no DiffAugment yet."""
        if config.kind != "wgan-gp":
            raise ReelganError(f"clips are trained with loss 'wgan-gp' only; got {config.kind!r}")
        if config.augment_ops:
            raise ReelganError("DiffAugment works on images, not clips; set augment to '' for video")
        return cls(generator, clip_critic, frame_critic, gp_weight=config.gp_weight, drift=config.drift,
                   autocast=autocast)

    def generate(self, z_content: Tensor, motion_noise: Tensor) -> Tensor:
        """G(z_content, motion_noise) as (B, C, T, H, W), under autocast when it is on, in float32."""
        if self.autocast is None:
            return self.G(z_content, motion_noise)
        with self.autocast:
            return self.G(z_content, motion_noise).float()

    def _scores(self, critic: nn.Module, clips: Tensor) -> Tensor:
        """Critic scores as float32 (B,), under autocast when it is on."""
        if self.autocast is None:
            return critic(clips).float()
        with self.autocast:
            return critic(clips).float()

    def critic_phase(self, real: Tensor, z_content: Tensor, motion_noise: Tensor) -> PhaseResult:
        """One critic step's loss on real clips (B, C, T, H, W) and as many fakes from the latents.

        Each critic scores real and fake in one pass of 2B, then the B interpolates (shared by the critics)
        for its gradient penalty.
        """
        with torch.no_grad():
            fake = self.generate(z_content, motion_noise)  # (B, C, T, H, W); no generator graph here
        if real.shape != fake.shape:
            raise ReelganError(f"real clips have shape {tuple(real.shape)} but the generator makes "
                               f"{tuple(fake.shape)}; data and networks must agree on (B, C, T, H, W)")
        real = real.detach()
        eps = torch.rand(real.size(0), 1, 1, 1, 1, device=real.device)  # (B, 1, 1, 1, 1)
        interpolates = (eps * real + (1 - eps) * fake).requires_grad_(True)  # (B, C, T, H, W)
        total = real.new_zeros(())
        stats: dict[str, Tensor] = {}
        for name, critic in self.critics.items():
            total = total + self._critic_terms(name, critic, real, fake, interpolates, stats)
        stats["loss_D"] = total.detach()
        return PhaseResult(total, stats)

    def _critic_terms(self, name: str, critic: nn.Module, real: Tensor, fake: Tensor, interpolates: Tensor,
                      stats: dict[str, Tensor]) -> Tensor:
        """One critic's WGAN loss + gp_weight * gradient penalty + drift * E[D(real)^2]; fills `stats`."""
        batch = real.size(0)
        real_scores, fake_scores = self._scores(critic, torch.cat([real, fake])).split(batch)  # each (B,)
        wgan = wasserstein_critic_loss(real_scores, fake_scores)
        penalty = gradient_penalty(interpolates, self._scores(critic, interpolates))  # norm over (C, T, H, W)
        loss = wgan + self.gp_weight * penalty
        if self.drift:
            loss = loss + self.drift * real_scores.square().mean()
        stats.update({f"loss_D_{name}": wgan.detach(), f"score_real_{name}": real_scores.detach().mean(),
                      f"score_fake_{name}": fake_scores.detach().mean(), f"gp_{name}": penalty.detach()})
        return loss

    def generator_phase(self, z_content: Tensor, motion_noise: Tensor) -> PhaseResult:
        """The generator's loss: the sum over critics of -E[D(G(z))]."""
        fake = self.generate(z_content, motion_noise)  # (B, C, T, H, W)
        total = fake.new_zeros(())
        stats: dict[str, Tensor] = {}
        for name, critic in self.critics.items():
            loss = wasserstein_generator_loss(self._scores(critic, fake))
            stats[f"loss_G_{name}"] = loss.detach()
            total = total + loss
        stats["loss_G"] = total.detach()
        return PhaseResult(total, stats)


class ClipLoss:
    """`VideoGANLoss` behind the image loss's interface, for the training loop: phases take the flat latents
    of a `FlatVideoGenerator` and ignore labels; `augment` is an empty DiffAugment (clips are not augmented),
    kept so that checkpoints have the same entries for images and clips."""

    def __init__(self, config: LossConfig, generator: nn.Module, critics: nn.Module,
                 autocast: "torch.autocast | None" = None) -> None:
        from .augment import DiffAugment

        self.generator = generator  # a FlatVideoGenerator
        self.video = VideoGANLoss.from_config(config, generator.video, critics.clip, critics.frame, autocast)
        self.augment = DiffAugment([])

    def critic_phase(self, real: Tensor, labels: Tensor | None, z: Tensor, apply_r1: bool = False) -> PhaseResult:
        """One critic step on real clips (B, C, T, H, W) and fakes from flat latents z (B, latent_dim)."""
        return self.video.critic_phase(real, *self.generator.split(z))

    def generator_phase(self, z: Tensor, labels: Tensor | None) -> PhaseResult:
        """The generator's loss on fakes from flat latents z (B, latent_dim)."""
        return self.video.generator_phase(*self.generator.split(z))
