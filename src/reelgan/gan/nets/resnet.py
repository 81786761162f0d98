"""ResNet generator and critic of the WGAN-GP paper's CIFAR model, for any resolution.

Follows gan_cifar_resnet.py (Gulrajani et al. 2017): at 32 px with width=128, max_width=128 this is
the paper's model (128 channels everywhere). Other resolutions add or remove resampling blocks.

Initialisation follows the reference code: Xavier-uniform weights, with gain sqrt(2) (He-style,
since a ReLU precedes them) for the 3x3 convs on the residual path and gain 1 for shortcuts, the
input linear layer and the output conv; biases zero.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .layers import (
    ConditionalBatchNorm2d,
    ImageCritic,
    ImageGenerator,
    ProjectionHead,
    critic_norm,
    stage_sizes,
)


def _conv(in_channels: int, out_channels: int, kernel: int, *, residual: bool) -> nn.Conv2d:
    """A 'same'-padded conv with the reference initialisation (see the module docstring)."""
    conv = nn.Conv2d(in_channels, out_channels, kernel, padding=kernel // 2)
    nn.init.xavier_uniform_(conv.weight, gain=math.sqrt(2.0) if residual else 1.0)
    nn.init.zeros_(conv.bias)
    return conv


def _upsample(x: Tensor) -> Tensor:
    """Nearest-neighbour x2: (B, C, H, W) -> (B, C, 2H, 2W)."""
    return F.interpolate(x, scale_factor=2, mode="nearest")


def _downsample(x: Tensor) -> Tensor:
    """Average pool /2: (B, C, H, W) -> (B, C, H/2, W/2)."""
    return F.avg_pool2d(x, 2)


class ResBlockUp(nn.Module):
    """Generator block: BN-ReLU-upsample-conv3-BN-ReLU-conv3; shortcut upsample-conv1."""

    def __init__(self, in_channels: int, out_channels: int, num_classes: int) -> None:
        super().__init__()
        self.bn1 = ConditionalBatchNorm2d(in_channels, num_classes)
        self.conv1 = _conv(in_channels, out_channels, 3, residual=True)
        self.bn2 = ConditionalBatchNorm2d(out_channels, num_classes)
        self.conv2 = _conv(out_channels, out_channels, 3, residual=True)
        self.shortcut = _conv(in_channels, out_channels, 1, residual=False)

    def forward(self, x: Tensor, labels: Tensor | None) -> Tensor:
        """(B, in, r, r) -> (B, out, 2r, 2r)."""
        h = self.conv1(_upsample(torch.relu(self.bn1(x, labels))))
        h = self.conv2(torch.relu(self.bn2(h, labels)))
        return h + self.shortcut(_upsample(x))


class OptimizedBlock(nn.Module):
    """First critic block: conv3-norm-ReLU-conv3-avgpool; shortcut avgpool-conv1.

    No activation precedes the first conv, as it reads the image itself.
    """

    def __init__(self, in_channels: int, hidden: int, out_channels: int, norm: str) -> None:
        super().__init__()
        self.conv1 = _conv(in_channels, hidden, 3, residual=True)
        self.norm1 = critic_norm(norm, hidden)
        self.conv2 = _conv(hidden, out_channels, 3, residual=True)
        self.shortcut = _conv(in_channels, out_channels, 1, residual=False)

    def forward(self, x: Tensor) -> Tensor:
        """(B, in, r, r) -> (B, out, r/2, r/2)."""
        h = self.conv2(torch.relu(self.norm1(self.conv1(x))))
        return _downsample(h) + self.shortcut(_downsample(x))


class ResBlockDown(nn.Module):
    """Critic block: norm-ReLU-conv3-norm-ReLU-conv3[-avgpool]; shortcut conv1[-avgpool].

    With `downsample=False` and equal widths the shortcut is the identity, as in the reference.
    """

    def __init__(self, in_channels: int, out_channels: int, norm: str, downsample: bool) -> None:
        super().__init__()
        self.downsample = downsample
        self.norm1 = critic_norm(norm, in_channels)
        self.conv1 = _conv(in_channels, in_channels, 3, residual=True)
        self.norm2 = critic_norm(norm, in_channels)
        self.conv2 = _conv(in_channels, out_channels, 3, residual=True)
        if downsample or in_channels != out_channels:
            self.shortcut: nn.Module = _conv(in_channels, out_channels, 1, residual=False)
        else:
            self.shortcut = nn.Identity()

    def forward(self, x: Tensor) -> Tensor:
        """(B, in, r, r) -> (B, out, r/2, r/2), or (B, out, r, r) without downsampling."""
        h = self.conv1(torch.relu(self.norm1(x)))
        h = self.conv2(torch.relu(self.norm2(h)))
        skip = self.shortcut(x)
        if self.downsample:
            h, skip = _downsample(h), _downsample(skip)
        return h + skip


class ResNetGenerator(ImageGenerator):
    """WGAN-GP ResNet generator: Linear -> 4x4 -> ResBlockUp per doubling -> BN-ReLU-conv3-tanh.

    Every batch norm is conditional on the class when `num_classes > 0`.
    """

    def __init__(self, *, resolution: int, channels: int, latent_dim: int = 128, width: int = 64,
                 max_width: int = 256, num_classes: int = 0) -> None:
        super().__init__(latent_dim=latent_dim, resolution=resolution, channels=channels,
                         num_classes=num_classes, width=width, max_width=max_width)
        w = self.stage_width
        self.base_width = w(4)
        self.fc = nn.Linear(latent_dim, 4 * 4 * self.base_width)
        nn.init.xavier_uniform_(self.fc.weight)
        nn.init.zeros_(self.fc.bias)
        self.blocks = nn.ModuleList(
            ResBlockUp(w(size), w(2 * size), num_classes) for size in stage_sizes(resolution)[:-1]
        )
        self.bn = ConditionalBatchNorm2d(w(resolution), num_classes)
        self.to_image = _conv(w(resolution), channels, 3, residual=False)

    def forward(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        """Generate (B, channels, resolution, resolution) images in [-1, 1] from z (B, latent)."""
        labels = self.check_inputs(z, labels)
        x = self.fc(z).view(-1, self.base_width, 4, 4)  # (B, latent) -> (B, w4, 4, 4)
        for block in self.blocks:
            x = block(x, labels)
        x = torch.relu(self.bn(x, labels))
        return torch.tanh(self.to_image(x))


class ResNetCritic(ImageCritic):
    """WGAN-GP ResNet critic.

    OptimizedBlock (resolution -> resolution/2), ResBlockDown until 8x8, two ResBlocks without
    resampling, ReLU, global mean pool, linear score (+ projection). A conv running at size s
    writes at most w(s) channels and a block's output at size s has w(s) channels.
    """

    def __init__(self, *, resolution: int, channels: int, width: int = 64, max_width: int = 256,
                 num_classes: int = 0, norm: str = "none", class_head: bool = False) -> None:
        super().__init__(resolution=resolution, channels=channels, num_classes=num_classes, width=width,
                         max_width=max_width)
        w = self.stage_width
        self.first = OptimizedBlock(channels, w(resolution), w(resolution // 2), norm)
        blocks: list[nn.Module] = [
            # Sizes read: resolution/2, ..., 16; each block halves its input.
            ResBlockDown(w(size), w(size // 2), norm, downsample=True)
            for size in reversed(stage_sizes(resolution // 2)[2:])
        ]
        blocks += [ResBlockDown(w(8), w(8), norm, downsample=False) for _ in range(2)]
        self.blocks = nn.Sequential(*blocks)
        self.head = ProjectionHead(w(8), num_classes, class_head)

    def forward(self, x: Tensor, labels: Tensor | None = None,
                with_logits: bool = False) -> Tensor | tuple[Tensor, Tensor]:
        """Score images x (B, channels, H, W); returns (B,) raw scores (and class logits, see ProjectionHead)."""
        h = self.blocks(self.first(x))  # (B, C, H, W) -> (B, w8, 8, 8)
        h = torch.relu(h).mean(dim=(2, 3))  # (B, w8, 8, 8) -> (B, w8)
        return self.head(h, labels, with_logits)
