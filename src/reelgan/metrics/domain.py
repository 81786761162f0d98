"""The `domain` feature extractor: a small CNN trained on the user's own images, for data far from ImageNet.

Inception features say little about glyphs, line art or grayscale ink. This extractor learns features from
the dataset itself, without labels, by contrastive learning (SimCLR, Chen et al. 2020): two random
augmentations of the same image should map close together and away from every other image in the batch.
The trained network is saved as safetensors + JSON, and its sha256 names it in metric names and caches.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import safetensors.torch
import torch
import torch.nn.functional as F
from torch import nn

from ..errors import ReelganError
from ..gan.augment import rand_color, rand_cutout, rand_translation
from ..gan.nets.check import load_state_checked
from ..media import atomic_path

EXTRACTOR_FORMAT = "reelgan-extractor-1"
# Extractors that ship with reelgan, trained by `reelgan metrics train-extractor` (see benchmarks/RESULTS.md).
BUNDLED_DIR = Path(__file__).parent / "weights"


def bundled_extractor_path(dataset: str, resolution: int) -> Path:
    """The shipped domain extractor for a built-in dataset at a resolution, or a ReelganError naming the fix."""
    path = BUNDLED_DIR / f"domain-{dataset}-{resolution}.safetensors"
    if not path.is_file():
        shipped = sorted(p.stem for p in BUNDLED_DIR.glob("*.safetensors"))
        raise ReelganError(
            f"no bundled domain extractor for {dataset} at {resolution} px (shipped: {', '.join(shipped) or 'none'}); "
            f"train one with `reelgan metrics train-extractor {dataset} --resolution {resolution}`"
        )
    return path


class DomainNet(nn.Module):
    """Conv encoder `(B, C, R, R)` -> features `(B, feature_dim)`, with a projection head for training only."""

    def __init__(self, channels: int, resolution: int, width: int = 32, feature_dim: int = 128) -> None:
        super().__init__()
        self.channels, self.resolution, self.feature_dim = channels, resolution, feature_dim
        layers: list[nn.Module] = [nn.Conv2d(channels, width, 3, padding=1), nn.ReLU()]
        size, ch = resolution, width
        while size > 4:  # halve until 4x4, doubling channels up to feature_dim
            out = min(ch * 2, feature_dim)
            layers += [nn.Conv2d(ch, out, 3, stride=2, padding=1), nn.GroupNorm(8, out), nn.ReLU()]
            size, ch = size // 2, out
        self.encoder = nn.Sequential(*layers)
        self.to_features = nn.Linear(ch, feature_dim)
        self.projection = nn.Sequential(nn.ReLU(), nn.Linear(feature_dim, feature_dim))

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, R, R) in [-1, 1] -> (B, feature_dim); the representation metrics use."""
        h = self.encoder(x).mean(dim=(2, 3))  # (B, ch, 4, 4) -> (B, ch)
        return self.to_features(h)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Projected, L2-normalised embedding `(B, feature_dim)` for the contrastive loss."""
        return F.normalize(self.projection(self.features(x)), dim=1)


def contrastive_views(x: torch.Tensor) -> torch.Tensor:
    """A random view of each image (B, C, H, W): colour jitter, shift, and a small cutout."""
    return rand_cutout(rand_translation(rand_color(x), ratio=0.125), ratio=0.25)


def nt_xent(z1: torch.Tensor, z2: torch.Tensor, temperature: float = 0.5) -> torch.Tensor:
    """SimCLR's NT-Xent loss for normalised embeddings (B, D) of two views: each view must pick its partner
    out of the other 2B - 2 embeddings."""
    batch = z1.size(0)
    z = torch.cat([z1, z2])  # (2B, D)
    logits = z @ z.T / temperature  # (2B, 2B) cosine similarities
    logits.fill_diagonal_(float("-inf"))  # never match an embedding with itself
    partners = torch.cat([torch.arange(batch, 2 * batch), torch.arange(batch)]).to(z.device)
    return F.cross_entropy(logits, partners)


@dataclass
class DomainExtractor:
    """A trained DomainNet and its description; `features(images)` gives `(N, feature_dim)` float32 NumPy."""

    net: DomainNet
    spec: dict[str, Any]

    def label(self, resolution: int) -> str:
        """Protocol label in metric names, e.g. `domain-logograms-32` (the extractor's data and resolution)."""
        return f"domain-{self.spec['dataset']}-{self.spec['resolution']}"

    @torch.no_grad()
    def features(self, images: torch.Tensor, batch: int = 512) -> np.ndarray:
        """Features of images `(N, C, H, W)` in [-1, 1]; resized to the extractor's resolution if needed."""
        if images.dim() != 4 or images.size(1) != self.net.channels:
            raise ReelganError(
                f"the domain extractor takes (N, {self.net.channels}, H, W) images; got {tuple(images.shape)}"
            )
        self.net.eval()
        out = []
        for start in range(0, len(images), batch):
            chunk = images[start:start + batch].float()
            if chunk.shape[-1] != self.net.resolution or chunk.shape[-2] != self.net.resolution:
                chunk = F.interpolate(chunk, size=(self.net.resolution,) * 2, mode="area")
            out.append(self.net.features(chunk))
        mean = torch.tensor(self.spec.get("feature_mean", 0.0), dtype=torch.float32)
        return ((torch.cat(out) - mean) * self.spec.get("feature_scale", 1.0)).numpy()


def train_domain_net(images: torch.Tensor, steps: int = 2000, batch: int = 256, lr: float = 1e-3,
                     seed: int = 0, width: int = 32, feature_dim: int = 128) -> DomainNet:
    """Train a DomainNet contrastively on images `(N, C, R, R)` in [-1, 1] for `steps` batches."""
    if len(images) < 2:
        raise ReelganError(f"training a domain extractor needs at least 2 images; got {len(images)}")
    torch.manual_seed(seed)
    net = DomainNet(images.size(1), images.size(-1), width, feature_dim)
    return train_contrastive(net, images, contrastive_views, steps, batch, lr, seed)


def train_contrastive(net: nn.Module, data: torch.Tensor, views, steps: int, batch: int, lr: float,
                      seed: int) -> nn.Module:
    """SimCLR: `steps` batches of `data` (N, ...), two random `views(x)` of each item pulled together by
    `nt_xent`; batches are drawn from their own seeded generator. Shared by the domain and clip extractors."""
    optimiser = torch.optim.Adam(net.parameters(), lr=lr)
    generator = torch.Generator().manual_seed(seed)
    batch = min(batch, len(data))
    for _ in range(steps):
        x = data[torch.randperm(len(data), generator=generator)[:batch]].float()
        loss = nt_xent(net(views(x)), net(views(x)))
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        optimiser.step()
    return net.eval()


@torch.no_grad()
def feature_stats(net: DomainNet, images: torch.Tensor, limit: int = 2000) -> dict[str, Any]:
    """`feature_mean` and `feature_scale` (1 / sqrt(mean per-dimension variance)) of the features of up
    to `limit` training images, for the extractor's spec.

    Centring and scaling puts features near the origin at unit average variance. FID does not care, but
    KID's polynomial kernel does: raw features of a small CNN sit far from the origin, which made KIDs of
    order 1e8 and numerically fragile; centred, they read on the usual scale.
    """
    features = net.eval().features(images[:limit].float())
    scale = float(1.0 / features.var(dim=0).mean().clamp_min(1e-12).sqrt())
    return {"feature_mean": [round(float(v), 6) for v in features.mean(dim=0)], "feature_scale": scale}


def weights_sha256(path: str | Path) -> str:
    """sha256 of a weights file's bytes."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def save_net_with_spec(net: nn.Module, spec: dict[str, Any], weights_path: str | Path, fmt: str) -> str:
    """Write a feature network's weights (.safetensors) and `spec` (.json beside it, with the weights' sha256
    added), both atomically; returns the sha256. Shared by the domain and clip extractors."""
    weights_path = Path(weights_path)
    weights_path.parent.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu().contiguous() for k, v in net.state_dict().items()}
    with atomic_path(weights_path) as tmp:
        safetensors.torch.save_file(state, tmp, metadata={"format": fmt})
    digest = weights_sha256(weights_path)
    with atomic_path(weights_path.with_suffix(".json")) as tmp:
        Path(tmp).write_text(json.dumps({**spec, "format": fmt, "sha256": digest}, indent=2) + "\n")
    return digest


def load_checked_spec(weights_path: str | Path, fmt: str, what: str) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    """The spec and weights of a saved feature network, after checking its format and sha256."""
    weights_path = Path(weights_path)
    spec_path = weights_path.with_suffix(".json")
    if not weights_path.is_file() or not spec_path.is_file():
        raise ReelganError(f"{what} {weights_path} (and its .json) not found; train one first")
    try:
        spec = json.loads(spec_path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ReelganError(f"{spec_path} is not valid JSON; train or copy the {what} again") from None
    if not isinstance(spec, dict) or spec.get("format") != fmt:
        raise ReelganError(f"{spec_path} is not a reelgan {what}; give a {what}'s .safetensors")
    digest = weights_sha256(weights_path)
    if digest != spec.get("sha256"):
        raise ReelganError(
            f"{weights_path} has sha256 {digest[:12]}... but its .json expects {str(spec.get('sha256'))[:12]}...; "
            "the file is damaged or was replaced: train or copy it again"
        )
    return spec, safetensors.torch.load_file(str(weights_path))


def save_extractor(net: DomainNet, spec: dict[str, Any], weights_path: str | Path) -> str:
    """Write the weights (.safetensors) and the spec (.json beside it, with the weights' sha256)."""
    full_spec = {**spec, "channels": net.channels, "resolution": net.resolution, "feature_dim": net.feature_dim,
                 "width": net.encoder[0].out_channels}
    return save_net_with_spec(net, full_spec, weights_path, EXTRACTOR_FORMAT)


def load_extractor(weights_path: str | Path) -> DomainExtractor:
    """Load a saved domain extractor, checking the weights against the sha256 in its spec."""
    spec, state = load_checked_spec(weights_path, EXTRACTOR_FORMAT, "domain extractor")
    for name in ("channels", "resolution", "width", "feature_dim"):
        if isinstance(spec.get(name), bool) or not isinstance(spec.get(name), int):
            raise ReelganError(f"{Path(weights_path).with_suffix('.json')} lacks the integer {name!r} of the "
                               "domain extractor; train or copy it again")
    net = DomainNet(spec["channels"], spec["resolution"], spec["width"], spec["feature_dim"])
    load_state_checked(net, state, str(weights_path), network="the domain extractor its .json describes",
                       cause="train or copy it again")
    return DomainExtractor(net.eval(), spec)
