"""The `inception` feature extractor: the TF-Inception-v3 port that published FIDs are computed with.

This is the network of pytorch-fid (Seitzer; the weights `pt_inception-2015-12-05-6726825d.pth`, ported
from TensorFlow's `inception-2015-12-05`), which differs from torchvision's Inception-v3 in its weights
(1008 classes) and in three pooling details, kept here because they change the features:

- Average pools inside blocks A, C and E_1 leave padded zeros out of the average (TensorFlow's rule).
- The last block (E_2) pools with max, not average.

Protocol (pytorch-fid's): images are quantised to 8 bits as a PNG would store them, grayscale is repeated to
RGB (alpha is composited on white), resized to 299x299 bilinearly, and the 2048 features of the final average
pool are used.

reelgan never downloads on its own. The weights come from a local file: `--extractor PATH.pth`, the
environment variable REELGAN_INCEPTION_WEIGHTS, or the default place `reelgan metrics fetch-weights` writes
to; every load checks the file's sha256.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..errors import ReelganError
from ..paths import cache_root, output_file, temp_name

INCEPTION_URL = ("https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/"
                 "pt_inception-2015-12-05-6726825d.pth")
INCEPTION_FILENAME = "pt_inception-2015-12-05-6726825d.pth"
INCEPTION_SHA256 = "6726825d0af5f729cebd5821db510b11b1cfad8faad88a03f1befd49fb9129b2"
INCEPTION_BYTES = 95_628_359
WEIGHTS_ENV = "REELGAN_INCEPTION_WEIGHTS"


class BasicConv2d(nn.Module):
    """Conv (no bias) + batch norm (eps 1e-3, as TensorFlow) + ReLU."""

    def __init__(self, in_channels: int, out_channels: int, **kwargs: Any) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, bias=False, **kwargs)
        self.bn = nn.BatchNorm2d(out_channels, eps=0.001)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.bn(self.conv(x)))


def tf_avg_pool(x: torch.Tensor) -> torch.Tensor:
    """3x3 average pool, stride 1, that leaves padded zeros out of the average (TensorFlow's rule)."""
    return F.avg_pool2d(x, kernel_size=3, stride=1, padding=1, count_include_pad=False)


class InceptionA(nn.Module):
    """35x35 block: 1x1, 5x5, double 3x3 and pooled branches."""

    def __init__(self, in_channels: int, pool_features: int) -> None:
        super().__init__()
        self.branch1x1 = BasicConv2d(in_channels, 64, kernel_size=1)
        self.branch5x5_1 = BasicConv2d(in_channels, 48, kernel_size=1)
        self.branch5x5_2 = BasicConv2d(48, 64, kernel_size=5, padding=2)
        self.branch3x3dbl_1 = BasicConv2d(in_channels, 64, kernel_size=1)
        self.branch3x3dbl_2 = BasicConv2d(64, 96, kernel_size=3, padding=1)
        self.branch3x3dbl_3 = BasicConv2d(96, 96, kernel_size=3, padding=1)
        self.branch_pool = BasicConv2d(in_channels, pool_features, kernel_size=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b5 = self.branch5x5_2(self.branch5x5_1(x))
        b3 = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        return torch.cat([self.branch1x1(x), b5, b3, self.branch_pool(tf_avg_pool(x))], 1)


class InceptionB(nn.Module):
    """35x35 -> 17x17 reduction."""

    def __init__(self, in_channels: int) -> None:
        super().__init__()
        self.branch3x3 = BasicConv2d(in_channels, 384, kernel_size=3, stride=2)
        self.branch3x3dbl_1 = BasicConv2d(in_channels, 64, kernel_size=1)
        self.branch3x3dbl_2 = BasicConv2d(64, 96, kernel_size=3, padding=1)
        self.branch3x3dbl_3 = BasicConv2d(96, 96, kernel_size=3, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b3 = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        return torch.cat([self.branch3x3(x), b3, F.max_pool2d(x, kernel_size=3, stride=2)], 1)


class InceptionC(nn.Module):
    """17x17 block with factorised 7x7 convolutions."""

    def __init__(self, in_channels: int, channels_7x7: int) -> None:
        super().__init__()
        c7 = channels_7x7
        self.branch1x1 = BasicConv2d(in_channels, 192, kernel_size=1)
        self.branch7x7_1 = BasicConv2d(in_channels, c7, kernel_size=1)
        self.branch7x7_2 = BasicConv2d(c7, c7, kernel_size=(1, 7), padding=(0, 3))
        self.branch7x7_3 = BasicConv2d(c7, 192, kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7dbl_1 = BasicConv2d(in_channels, c7, kernel_size=1)
        self.branch7x7dbl_2 = BasicConv2d(c7, c7, kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7dbl_3 = BasicConv2d(c7, c7, kernel_size=(1, 7), padding=(0, 3))
        self.branch7x7dbl_4 = BasicConv2d(c7, c7, kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7dbl_5 = BasicConv2d(c7, 192, kernel_size=(1, 7), padding=(0, 3))
        self.branch_pool = BasicConv2d(in_channels, 192, kernel_size=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b7 = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
        b7d = x
        for layer in (self.branch7x7dbl_1, self.branch7x7dbl_2, self.branch7x7dbl_3, self.branch7x7dbl_4,
                      self.branch7x7dbl_5):
            b7d = layer(b7d)
        return torch.cat([self.branch1x1(x), b7, b7d, self.branch_pool(tf_avg_pool(x))], 1)


class InceptionD(nn.Module):
    """17x17 -> 8x8 reduction."""

    def __init__(self, in_channels: int) -> None:
        super().__init__()
        self.branch3x3_1 = BasicConv2d(in_channels, 192, kernel_size=1)
        self.branch3x3_2 = BasicConv2d(192, 320, kernel_size=3, stride=2)
        self.branch7x7x3_1 = BasicConv2d(in_channels, 192, kernel_size=1)
        self.branch7x7x3_2 = BasicConv2d(192, 192, kernel_size=(1, 7), padding=(0, 3))
        self.branch7x7x3_3 = BasicConv2d(192, 192, kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7x3_4 = BasicConv2d(192, 192, kernel_size=3, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b3 = self.branch3x3_2(self.branch3x3_1(x))
        b7 = self.branch7x7x3_4(self.branch7x7x3_3(self.branch7x7x3_2(self.branch7x7x3_1(x))))
        return torch.cat([b3, b7, F.max_pool2d(x, kernel_size=3, stride=2)], 1)


class InceptionE(nn.Module):
    """8x8 block with split 1x3/3x1 branches; `max_pool` marks the last block (E_2) of the FID network."""

    def __init__(self, in_channels: int, max_pool: bool = False) -> None:
        super().__init__()
        self.max_pool = max_pool
        self.branch1x1 = BasicConv2d(in_channels, 320, kernel_size=1)
        self.branch3x3_1 = BasicConv2d(in_channels, 384, kernel_size=1)
        self.branch3x3_2a = BasicConv2d(384, 384, kernel_size=(1, 3), padding=(0, 1))
        self.branch3x3_2b = BasicConv2d(384, 384, kernel_size=(3, 1), padding=(1, 0))
        self.branch3x3dbl_1 = BasicConv2d(in_channels, 448, kernel_size=1)
        self.branch3x3dbl_2 = BasicConv2d(448, 384, kernel_size=3, padding=1)
        self.branch3x3dbl_3a = BasicConv2d(384, 384, kernel_size=(1, 3), padding=(0, 1))
        self.branch3x3dbl_3b = BasicConv2d(384, 384, kernel_size=(3, 1), padding=(1, 0))
        self.branch_pool = BasicConv2d(in_channels, 192, kernel_size=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b3 = self.branch3x3_1(x)
        b3 = torch.cat([self.branch3x3_2a(b3), self.branch3x3_2b(b3)], 1)
        b3d = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
        b3d = torch.cat([self.branch3x3dbl_3a(b3d), self.branch3x3dbl_3b(b3d)], 1)
        pooled = F.max_pool2d(x, kernel_size=3, stride=1, padding=1) if self.max_pool else tf_avg_pool(x)
        return torch.cat([self.branch1x1(x), b3, b3d, self.branch_pool(pooled)], 1)


class FIDInceptionV3(nn.Module):
    """Inception-v3 with the FID port's layer names: `(B, 3, 299, 299)` in [-1, 1] -> pool features `(B, 2048)`.

    `fc` (1008 classes) is kept only so that the weights file loads strictly; features stop before it.
    """

    def __init__(self) -> None:
        super().__init__()
        self.Conv2d_1a_3x3 = BasicConv2d(3, 32, kernel_size=3, stride=2)
        self.Conv2d_2a_3x3 = BasicConv2d(32, 32, kernel_size=3)
        self.Conv2d_2b_3x3 = BasicConv2d(32, 64, kernel_size=3, padding=1)
        self.Conv2d_3b_1x1 = BasicConv2d(64, 80, kernel_size=1)
        self.Conv2d_4a_3x3 = BasicConv2d(80, 192, kernel_size=3)
        self.Mixed_5b = InceptionA(192, pool_features=32)
        self.Mixed_5c = InceptionA(256, pool_features=64)
        self.Mixed_5d = InceptionA(288, pool_features=64)
        self.Mixed_6a = InceptionB(288)
        self.Mixed_6b = InceptionC(768, channels_7x7=128)
        self.Mixed_6c = InceptionC(768, channels_7x7=160)
        self.Mixed_6d = InceptionC(768, channels_7x7=160)
        self.Mixed_6e = InceptionC(768, channels_7x7=192)
        self.Mixed_7a = InceptionD(768)
        self.Mixed_7b = InceptionE(1280)
        self.Mixed_7c = InceptionE(2048, max_pool=True)
        self.fc = nn.Linear(2048, 1008)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.Conv2d_2b_3x3(self.Conv2d_2a_3x3(self.Conv2d_1a_3x3(x)))  # (B, 64, 147, 147)
        x = F.max_pool2d(x, kernel_size=3, stride=2)                         # (B, 64, 73, 73)
        x = self.Conv2d_4a_3x3(self.Conv2d_3b_1x1(x))                        # (B, 192, 71, 71)
        x = F.max_pool2d(x, kernel_size=3, stride=2)                         # (B, 192, 35, 35)
        for block in (self.Mixed_5b, self.Mixed_5c, self.Mixed_5d, self.Mixed_6a,  # -> (B, 768, 17, 17)
                      self.Mixed_6b, self.Mixed_6c, self.Mixed_6d, self.Mixed_6e,
                      self.Mixed_7a, self.Mixed_7b, self.Mixed_7c):                # -> (B, 2048, 8, 8)
            x = block(x)
        return x.mean(dim=(2, 3))                                            # (B, 2048)


def default_weights_path() -> Path:
    """Where `reelgan metrics fetch-weights` puts the weights: $REELGAN_CACHE/weights or ~/.cache/reelgan/weights."""
    return cache_root() / "weights" / INCEPTION_FILENAME


def inception_weights_path(path: str | Path | None = None) -> Path:
    """The weights file to use: `path`, else $REELGAN_INCEPTION_WEIGHTS, else the default place."""
    if path:
        return Path(path)
    if os.environ.get(WEIGHTS_ENV):
        return Path(os.environ[WEIGHTS_ENV])
    return default_weights_path()


def file_sha256(path: Path) -> str:
    """sha256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def expected_sha256() -> str:
    """The sha256 the weights must have (a function so that tests can stand in a file of their own)."""
    return INCEPTION_SHA256


class InceptionExtractor:
    """The FID Inception network and its description; `features(images)` gives `(N, 2048)` float32 NumPy."""

    def __init__(self, net: FIDInceptionV3, sha256: str, device: str | torch.device = "cpu") -> None:
        self.device = torch.device(device)
        self.net = net.to(self.device).eval()
        # channels None: any of 1, 3 or 4 channels is converted to RGB as the protocol says.
        self.spec: dict[str, Any] = {"name": "inception", "sha256": sha256, "channels": None,
                                     "resolution": 299, "feature_dim": 2048}

    def label(self, resolution: int) -> str:
        """Protocol label in metric names: `inception-32` for 32 px samples (upsampled to 299 inside)."""
        return f"inception-{resolution}"

    @torch.no_grad()
    def features(self, images: torch.Tensor, batch: int = 64) -> np.ndarray:
        """Pool features of images `(N, C, H, W)` in [-1, 1], C in 1/3/4."""
        if images.dim() != 4 or images.size(1) not in (1, 3, 4):
            raise ReelganError(f"the inception extractor takes (N, 1|3|4, H, W) images; got {tuple(images.shape)}")
        out = []
        for start in range(0, len(images), batch):
            chunk = to_inception_input(images[start:start + batch].float()).to(self.device)
            out.append(self.net(chunk).float().cpu())
        return torch.cat(out).numpy() if out else np.zeros((0, 2048), np.float32)


def to_inception_input(images: torch.Tensor) -> torch.Tensor:
    """`(B, C, H, W)` in [-1, 1] -> `(B, 3, 299, 299)` in [-1, 1]: 8-bit quantised, RGB, bilinear resize."""
    x = ((images.clamp(-1, 1) + 1) * 127.5).round() / 127.5 - 1  # as a PNG would store it
    if x.size(1) == 4:  # composite on white: alpha in [-1, 1] -> [0, 1]
        alpha = (x[:, 3:] + 1) / 2
        x = x[:, :3] * alpha + (1 - alpha)
    elif x.size(1) == 1:
        x = x.expand(-1, 3, -1, -1)
    # Bilinear resizing commutes with the affine map [0, 1] -> [-1, 1] that pytorch-fid applies after it.
    return F.interpolate(x, size=(299, 299), mode="bilinear", align_corners=False)


def load_inception(path: str | Path | None = None, device: str | torch.device = "cpu") -> InceptionExtractor:
    """Load the FID Inception weights from a local file, checked by sha256; never downloads."""
    weights = inception_weights_path(path)
    if not weights.is_file():
        raise ReelganError(
            f"Inception weights not found at {weights}; run `reelgan metrics fetch-weights` while online, or "
            f"download {INCEPTION_URL} and pass its path with --extractor or ${WEIGHTS_ENV}"
        )
    digest = file_sha256(weights)
    if digest != expected_sha256():
        raise ReelganError(
            f"{weights} has sha256 {digest[:12]}... but the FID Inception weights have {expected_sha256()[:12]}...; "
            "the file is damaged or a different model: fetch it again with `reelgan metrics fetch-weights --overwrite`"
        )
    try:
        state = torch.load(weights, map_location="cpu", weights_only=True)
    except Exception as exc:  # a file with the right hash that torch cannot read: report, never a traceback
        raise ReelganError(f"cannot read {weights} as PyTorch weights ({exc})") from None
    net = FIDInceptionV3()
    missing, unexpected = net.load_state_dict(state, strict=False)
    missing = [key for key in missing if not key.endswith("num_batches_tracked")]
    if missing or unexpected:
        raise ReelganError(f"{weights} does not hold the FID Inception-v3 layers "
                           f"(missing {missing[:3]}, unexpected {unexpected[:3]})")
    return InceptionExtractor(net, digest, device)


def fetch_weights(out: str | Path | None = None, url: str = INCEPTION_URL, overwrite: bool = False) -> Path:
    """Download the Inception weights to `out` (default: the default place), checking their sha256.

    Only `reelgan metrics fetch-weights` calls this. The download goes to a temporary file beside `out`
    that is renamed into place only when its hash is right, so a failed or wrong download leaves nothing.
    """
    import urllib.error
    import urllib.request

    out = output_file(Path(out) if out else default_weights_path(), overwrite)
    made_folder = not out.parent.exists()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(temp_name(out.name))
    digest = hashlib.sha256()
    try:
        with urllib.request.urlopen(url, timeout=60) as response, open(tmp, "wb") as f:
            for chunk in iter(lambda: response.read(1 << 20), b""):
                digest.update(chunk)
                f.write(chunk)
        if digest.hexdigest() != expected_sha256():
            raise ReelganError(f"the file at {url} has sha256 {digest.hexdigest()[:12]}..., not the FID Inception "
                               f"weights' {expected_sha256()[:12]}...; nothing was written")
        tmp.replace(out)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise ReelganError(f"cannot download {url} ({exc}); check the connection, or download it by hand and "
                           f"pass its path with --extractor") from None
    finally:
        tmp.unlink(missing_ok=True)
        if made_folder and not out.exists() and not any(out.parent.iterdir()):
            out.parent.rmdir()  # a failed download leaves no empty folder
    return out
