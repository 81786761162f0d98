"""DiffAugment: differentiable augmentation applied to both real and fake images before the critic.

Zhao et al., "Differentiable Augmentation for Data-Efficient GAN Training" (NeurIPS 2020). With few training
images a critic memorises them; augmenting everything it sees (and back-propagating through the
augmentation into the generator) keeps it honest. Each operation draws its parameters per sample from
torch's global RNG, so a checkpoint that saves that RNG resumes the augmentation exactly.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..errors import ReelganError


def rand_brightness(x: torch.Tensor) -> torch.Tensor:
    """Add a per-sample offset in [-0.5, 0.5) to the colour channels."""
    return x + (torch.rand(x.size(0), 1, 1, 1, dtype=x.dtype, device=x.device) - 0.5)


def rand_saturation(x: torch.Tensor) -> torch.Tensor:
    """Scale each sample's distance from its grey by a factor in [0, 2)."""
    mean = x.mean(dim=1, keepdim=True)
    return (x - mean) * (torch.rand(x.size(0), 1, 1, 1, dtype=x.dtype, device=x.device) * 2) + mean


def rand_contrast(x: torch.Tensor) -> torch.Tensor:
    """Scale each sample's distance from its mean by a factor in [0.5, 1.5)."""
    mean = x.mean(dim=[1, 2, 3], keepdim=True)
    return (x - mean) * (torch.rand(x.size(0), 1, 1, 1, dtype=x.dtype, device=x.device) + 0.5) + mean


def rand_color(x: torch.Tensor) -> torch.Tensor:
    """Brightness, saturation and contrast on the colour channels; an alpha channel is left alone."""
    colour, alpha = (x[:, :3], x[:, 3:]) if x.size(1) == 4 else (x, x[:, :0])
    colour = rand_contrast(rand_saturation(rand_brightness(colour)))
    return torch.cat([colour, alpha], dim=1)


def rand_translation(x: torch.Tensor, ratio: float = 0.125) -> torch.Tensor:
    """Shift each sample by up to `ratio` of its size, filling with zeros (mid-grey in [-1, 1])."""
    batch, _, height, width = x.shape
    shift_y, shift_x = int(height * ratio + 0.5), int(width * ratio + 0.5)
    offset_y = torch.randint(-shift_y, shift_y + 1, size=[batch, 1, 1], device=x.device)
    offset_x = torch.randint(-shift_x, shift_x + 1, size=[batch, 1, 1], device=x.device)
    grid_b, grid_y, grid_x = torch.meshgrid(
        torch.arange(batch, device=x.device), torch.arange(height, device=x.device),
        torch.arange(width, device=x.device), indexing="ij",
    )  # each (B, H, W)
    grid_y = torch.clamp(grid_y + offset_y + 1, 0, height + 1)
    grid_x = torch.clamp(grid_x + offset_x + 1, 0, width + 1)
    padded = F.pad(x, [1, 1, 1, 1])  # (B, C, H+2, W+2); the zero border is what shifted-in pixels read
    # (B, H+2, W+2, C) gathered at (B, H, W) -> (B, H, W, C) -> (B, C, H, W)
    return padded.permute(0, 2, 3, 1)[grid_b, grid_y, grid_x].permute(0, 3, 1, 2).contiguous()


def rand_cutout(x: torch.Tensor, ratio: float = 0.5) -> torch.Tensor:
    """Zero a square of `ratio` of the image size at a random place in each sample."""
    batch, _, height, width = x.shape
    cut_h, cut_w = int(height * ratio + 0.5), int(width * ratio + 0.5)
    offset_y = torch.randint(0, height + (1 - cut_h % 2), size=[batch, 1, 1], device=x.device)
    offset_x = torch.randint(0, width + (1 - cut_w % 2), size=[batch, 1, 1], device=x.device)
    grid_b, grid_y, grid_x = torch.meshgrid(
        torch.arange(batch, device=x.device), torch.arange(cut_h, device=x.device),
        torch.arange(cut_w, device=x.device), indexing="ij",
    )  # each (B, cut_h, cut_w)
    grid_y = torch.clamp(grid_y + offset_y - cut_h // 2, min=0, max=height - 1)
    grid_x = torch.clamp(grid_x + offset_x - cut_w // 2, min=0, max=width - 1)
    mask = torch.ones(batch, height, width, dtype=x.dtype, device=x.device)
    mask[grid_b, grid_y, grid_x] = 0
    return x * mask.unsqueeze(1)


OPERATIONS = {"color": rand_color, "translation": rand_translation, "cutout": rand_cutout}


class DiffAugment:
    """Apply a policy (a list of operation names, in the order color, translation, cutout) to a batch."""

    def __init__(self, ops: list[str]) -> None:
        unknown = [op for op in ops if op not in OPERATIONS]
        if unknown:
            raise ReelganError(f"unknown DiffAugment operation(s) {unknown}; allowed: {list(OPERATIONS)}")
        self.ops = [op for op in OPERATIONS if op in ops]  # canonical order whatever the user wrote

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, H, W) -> (B, C, H, W), augmented per sample; the identity with an empty policy."""
        for op in self.ops:
            x = OPERATIONS[op](x)
        return x

    def state_dict(self) -> dict:
        """Plain data for checkpoints (the randomness lives in the saved RNG state)."""
        return {"ops": list(self.ops)}
