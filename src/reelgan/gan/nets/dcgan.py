"""DCGAN generator and critic (Radford et al. 2015), for any power-of-two resolution.

The critic has no batch norm (optionally per-sample layer norm), as WGAN-GP requires.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from .layers import (
    ConditionalBatchNorm2d,
    ImageCritic,
    ImageGenerator,
    ProjectionHead,
    critic_norm,
    stage_sizes,
)


def _init_dcgan(module: nn.Module) -> None:
    """DCGAN initialisation (Radford et al. 2015): conv and linear weights N(0, 0.02), biases 0.

    Batch-norm scales and class embeddings keep their own initialisation.
    """
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)


class _UpBlock(nn.Module):
    """ConvTranspose2d(k=4, s=2, p=1) -> (conditional) batch norm -> ReLU; doubles H and W."""

    def __init__(self, in_channels: int, out_channels: int, num_classes: int) -> None:
        super().__init__()
        # No bias: the batch norm right after would cancel it.
        self.conv = nn.ConvTranspose2d(
            in_channels, out_channels, 4, stride=2, padding=1, bias=False
        )
        self.bn = ConditionalBatchNorm2d(out_channels, num_classes)

    def forward(self, x: Tensor, labels: Tensor | None) -> Tensor:
        """(B, in, r, r) -> (B, out, 2r, 2r)."""
        return torch.relu(self.bn(self.conv(x), labels))


class DCGANGenerator(ImageGenerator):
    """DCGAN generator: Linear -> 4x4 -> transposed-conv doublings -> 3x3 conv -> tanh.

    Every batch norm is conditional on the class when `num_classes > 0`.
    """

    def __init__(self, *, resolution: int, channels: int, latent_dim: int = 128, width: int = 64,
                 max_width: int = 256, num_classes: int = 0) -> None:
        super().__init__(latent_dim=latent_dim, resolution=resolution, channels=channels,
                         num_classes=num_classes, width=width, max_width=max_width)
        w = self.stage_width
        self.base_width = w(4)
        self.fc = nn.Linear(latent_dim, 4 * 4 * self.base_width, bias=False)
        self.bn = ConditionalBatchNorm2d(self.base_width, num_classes)
        self.blocks = nn.ModuleList(
            _UpBlock(w(size), w(2 * size), num_classes) for size in stage_sizes(resolution)[:-1]
        )
        self.to_image = nn.Conv2d(w(resolution), channels, 3, padding=1)
        _init_dcgan(self)

    def forward(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        """Generate (B, channels, resolution, resolution) images in [-1, 1] from z (B, latent)."""
        labels = self.check_inputs(z, labels)
        x = self.fc(z).view(-1, self.base_width, 4, 4)  # (B, latent) -> (B, w4, 4, 4)
        x = torch.relu(self.bn(x, labels))
        for block in self.blocks:
            x = block(x, labels)
        return torch.tanh(self.to_image(x))


class DCGANCritic(ImageCritic):
    """DCGAN critic: strided 4x4 convs with LeakyReLU(0.2) down to 4x4, then a linear score.

    The first conv has no normalisation; later ones use `critic_norm(norm)`. The conv that reads a
    map of size s writes w(s) channels (so the first writes w(resolution)), mirroring the
    generator; the final 4x4 map has w(8) channels, which equals w(4) whenever max_width caps it.
    """

    def __init__(self, *, resolution: int, channels: int, width: int = 64, max_width: int = 256,
                 num_classes: int = 0, norm: str = "none", class_head: bool = False) -> None:
        super().__init__(resolution=resolution, channels=channels, num_classes=num_classes, width=width,
                         max_width=max_width)
        w = self.stage_width
        layers: list[nn.Module] = [
            nn.Conv2d(channels, w(resolution), 4, stride=2, padding=1),
            nn.LeakyReLU(0.2),
        ]
        in_channels = w(resolution)
        # Sizes of the maps read by the remaining convs: resolution/2, ..., 8.
        for size in reversed(stage_sizes(resolution // 2)[1:]):
            layers += [
                nn.Conv2d(in_channels, w(size), 4, stride=2, padding=1),
                critic_norm(norm, w(size)),
                nn.LeakyReLU(0.2),
            ]
            in_channels = w(size)
        self.features = nn.Sequential(*layers)
        self.head = ProjectionHead(4 * 4 * in_channels, num_classes, class_head)
        _init_dcgan(self)

    def forward(self, x: Tensor, labels: Tensor | None = None,
                with_logits: bool = False) -> Tensor | tuple[Tensor, Tensor]:
        """Score images x (B, channels, H, W); returns (B,) raw scores (and class logits, see ProjectionHead)."""
        h = self.features(x)  # (B, C, H, W) -> (B, w, 4, 4)
        h = h.flatten(1)  # (B, w, 4, 4) -> (B, w*4*4)
        return self.head(h, labels, with_logits)
