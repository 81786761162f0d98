"""A small ResNet-style classifier for scoring synthetic sets: small enough to train in a minute on a CPU,
deterministic by seed (initialisation and batch order come from it)."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from ..data.base import to_unit_range


@dataclass(frozen=True)
class ClassifierSettings:
    """How each classifier of `synth score` is built and trained (all four the same)."""

    epochs: int = 5          # passes over the training set
    batch: int = 64          # images per step
    lr: float = 1e-3         # Adam's learning rate
    width: int = 32          # channels of the first stage (doubled per stage, at most 128)
    weight_decay: float = 0.0

    def describe(self, resolution: int, channels: int) -> dict[str, Any]:
        """The settings as plain data, with what the resolution decides."""
        return {"arch": "small-resnet", "stages": stages_for(resolution), "resolution": resolution,
                "channels": channels, "optimizer": "adam", **asdict(self)}


def stages_for(resolution: int) -> int:
    """Residual stages: each after the first halves the size, down to 8x8 (16 px: 2 stages, 32 px: 3)."""
    return max(1, int(math.log2(resolution)) - 2)


class Block(nn.Module):
    """conv-BN-ReLU-conv-BN plus a (projected) shortcut, then ReLU."""

    def __init__(self, cin: int, cout: int, stride: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
            nn.Conv2d(cout, cout, 3, 1, 1, bias=False), nn.BatchNorm2d(cout))
        self.skip = nn.Identity() if stride == 1 and cin == cout else nn.Sequential(
            nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, cin, H, W) -> (B, cout, H / stride, W / stride)."""
        return torch.relu(self.body(x) + self.skip(x))


class SmallResNet(nn.Module):
    """Stem, one residual block per stage (stride 2 after the first), global average pool, linear head."""

    def __init__(self, channels: int, classes: int, resolution: int, width: int = 32) -> None:
        super().__init__()
        widths = [min(width * 2**i, 128) for i in range(stages_for(resolution))]
        layers: list[nn.Module] = [nn.Conv2d(channels, widths[0], 3, 1, 1, bias=False), nn.BatchNorm2d(widths[0]),
                                   nn.ReLU(inplace=True)]
        for i, w in enumerate(widths):
            layers.append(Block(widths[max(i - 1, 0)], w, 1 if i == 0 else 2))
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(widths[-1], classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Images (B, C, R, R) in [-1, 1] -> logits (B, classes)."""
        return self.head(self.features(x).mean(dim=(2, 3)))  # (B, W, r, r) -> (B, W) -> (B, classes)


def train_classifier(images: np.ndarray, labels: np.ndarray, classes: int, settings: ClassifierSettings,
                     seed: int, device: torch.device = torch.device("cpu")) -> SmallResNet:
    """Train on uint8 images `(N, C, R, R)` with int labels `(N,)`; the same inputs and seed give the same net.

    The global random state is left as it was (the net is initialised inside a forked RNG).
    """
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        net = SmallResNet(images.shape[1], classes, images.shape[2], settings.width).to(device)
    optimiser = torch.optim.Adam(net.parameters(), lr=settings.lr, weight_decay=settings.weight_decay)
    order = torch.Generator().manual_seed(seed)
    targets = torch.from_numpy(labels.astype(np.int64))
    net.train()
    for _ in range(settings.epochs):
        permutation = torch.randperm(len(images), generator=order)
        for start in range(0, len(images), settings.batch):
            index = permutation[start:start + settings.batch]
            if len(index) < 2 and len(images) >= 2:
                continue  # BatchNorm cannot train on one image; it is seen in other epochs' batches
            x = to_unit_range(images[index.numpy()]).to(device)  # (b, C, R, R)
            loss = nn.functional.cross_entropy(net(x), targets[index].to(device))
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
    return net.eval()


@torch.no_grad()
def predict(net: SmallResNet, images: np.ndarray, batch: int = 256) -> np.ndarray:
    """Predicted class of each uint8 image `(N, C, R, R)`, `(N,)`."""
    device = next(net.parameters()).device
    out = [net(to_unit_range(images[start:start + batch]).to(device)).argmax(dim=1).cpu()
           for start in range(0, len(images), batch)]
    return torch.cat(out).numpy() if out else np.zeros(0, dtype=np.int64)


def accuracy(net: SmallResNet, images: np.ndarray, labels: np.ndarray) -> tuple[float, list[float]]:
    """(share of images classified right, the same per class index (NaN for a class with none))."""
    predicted = predict(net, images)
    right = predicted == labels
    per_class = [float(right[labels == c].mean()) if (labels == c).any() else float("nan")
                 for c in range(net.head.out_features)]
    return float(right.mean()) if len(right) else float("nan"), per_class
