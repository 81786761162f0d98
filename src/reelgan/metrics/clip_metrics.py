"""Clip metrics: a proxy FVD from a small contrastive 3D CNN, and motion checks against the truth.

Proxy FVD. The Frechet Video Distance (Unterthiner et al. 2018) compares Gaussians fitted to I3D features of
real and generated clips. I3D knows nothing of ink on paper, so, as the `domain` extractor does for images,
`ClipNet` learns clip features from the dataset itself by contrastive learning (SimCLR): two random views
of the same clip (spatial shift and crop-resize, brightness/contrast jitter, a one-frame temporal shift)
must map close together and away from every other clip in the batch. Its Frechet distance is reported as
`fvd` under a protocol label naming the extractor's data, resolution, frames and stride, e.g.
`fvd2000_clipnet-moving-glyphs-32x8s1`. Values are comparable only under the same label and weights.

Motion checks. On moving-glyphs the truth is known: glyphs keep their ink, move at constant speed and turn
only at the frame edges. `track_ink` follows the ink centroid; `motion_stats` summarises frame differences,
speed, speed consistency, bounces and ink persistence; `compare_motion` puts real and generated side by side.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import safetensors.torch
import torch
import torch.nn.functional as F
from torch import nn

from ..data.clip_sets import build_clip_dataset
from ..errors import ReelganError
from .distances import fvd
from .domain import load_checked_spec, save_net_with_spec, train_contrastive
from .evaluate import count_label, reference_features

CLIP_EXTRACTOR_FORMAT = "reelgan-clip-extractor-1"
MIN_INK = 0.5          # a frame with less ink than half a fully inked pixel has no centroid
TURN_MIN_STEP = 0.1    # px: a centroid step smaller than this along an axis is no direction
EDGE_MARGIN = 3.0      # px: a turn counts as a bounce when the ink comes this close to the frame edge


# ----------------------------------------------------------------------------------------------------------
# ClipNet and its contrastive training


class ClipNet(nn.Module):
    """3D conv encoder `(B, C, T, R, R)` -> features `(B, feature_dim)`, with a projection head for training."""

    def __init__(self, channels: int, resolution: int, frames: int, width: int = 32,
                 feature_dim: int = 128) -> None:
        super().__init__()
        self.channels, self.resolution, self.frames = channels, resolution, frames
        self.feature_dim = feature_dim
        layers: list[nn.Module] = [nn.Conv3d(channels, width, 3, padding=1), nn.ReLU()]
        size, time, ch = resolution, frames, width
        while size > 4:  # halve space until 4x4 (and time while above 2), doubling channels up to 2 * width
            out = min(ch * 2, 2 * width)
            step = 2 if time > 2 else 1
            layers += [nn.Conv3d(ch, out, 3, stride=(step, 2, 2), padding=1), nn.GroupNorm(8, out), nn.ReLU()]
            size, time, ch = size // 2, (time + step - 1) // step, out
        self.encoder = nn.Sequential(*layers)
        self.to_features = nn.Linear(ch, feature_dim)
        self.projection = nn.Sequential(nn.ReLU(), nn.Linear(feature_dim, feature_dim))

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, T, R, R) in [-1, 1] -> (B, feature_dim); the representation metrics use."""
        h = self.encoder(x).mean(dim=(2, 3, 4))  # (B, ch, T', 4, 4) -> (B, ch)
        return self.to_features(h)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Projected, L2-normalised embedding `(B, feature_dim)` for the contrastive loss."""
        return F.normalize(self.projection(self.features(x)), dim=1)


def _shift_crop(x: torch.Tensor, max_shift: float = 0.125, min_scale: float = 0.8) -> torch.Tensor:
    """The same random crop (scale in [min_scale, 1]) and shift for every frame of each clip `(B, C, T, H, W)`,
    resized back to full size; outside the frame repeats the edge pixels."""
    batch, channels, frames, height, width = x.shape
    scale = torch.rand(batch) * (1 - min_scale) + min_scale
    shift = (torch.rand(batch, 2) * 2 - 1) * 2 * max_shift  # in [-1, 1] grid units: 2 = the whole frame
    theta = torch.zeros(batch, 2, 3)
    theta[:, 0, 0], theta[:, 1, 1], theta[:, :, 2] = scale, scale, shift
    flat = x.reshape(batch, channels * frames, height, width)  # every frame moves alike
    grid = F.affine_grid(theta.to(x), list(flat.shape), align_corners=False)
    out = F.grid_sample(flat, grid, mode="bilinear", padding_mode="border", align_corners=False)
    return out.reshape(batch, channels, frames, height, width)


def _jitter(x: torch.Tensor) -> torch.Tensor:
    """Per-clip brightness offset in [-0.25, 0.25) and contrast factor in [0.7, 1.3) `(B, C, T, H, W)`."""
    shape = (x.size(0), 1, 1, 1, 1)
    mean = x.mean(dim=(1, 2, 3, 4), keepdim=True)
    contrast = torch.rand(shape, dtype=x.dtype, device=x.device) * 0.6 + 0.7
    brightness = (torch.rand(shape, dtype=x.dtype, device=x.device) - 0.5) * 0.5
    return (x - mean) * contrast + mean + brightness


def _time_shift(x: torch.Tensor) -> torch.Tensor:
    """Shift each clip `(B, C, T, H, W)` by -1, 0 or +1 frame, repeating the first or last frame."""
    batch, channels, frames, height, width = x.shape
    shift = torch.randint(-1, 2, (batch, 1))
    index = (torch.arange(frames)[None] - shift).clamp(0, frames - 1)  # (B, T)
    index = index[:, None, :, None, None].expand(batch, channels, frames, height, width).to(x.device)
    return torch.gather(x, 2, index)


def clip_views(x: torch.Tensor) -> torch.Tensor:
    """A random view of each clip `(B, C, T, H, W)`: shift and crop-resize, colour jitter, time shift."""
    return _time_shift(_jitter(_shift_crop(x)))


def train_clip_net(clips: torch.Tensor, steps: int = 2000, batch: int = 64, lr: float = 1e-3, seed: int = 0,
                   width: int = 32, feature_dim: int = 128) -> ClipNet:
    """Train a ClipNet contrastively on clips `(N, C, T, R, R)` in [-1, 1] for `steps` batches."""
    if clips.dim() != 5:
        raise ReelganError(f"training a clip extractor needs clips (N, C, T, H, W); got {tuple(clips.shape)}")
    if len(clips) < 2:
        raise ReelganError(f"training a clip extractor needs at least 2 clips; got {len(clips)}")
    if clips.size(-1) != clips.size(-2):
        raise ReelganError(f"clips must be square; got {clips.size(-2)}x{clips.size(-1)} frames")
    torch.manual_seed(seed)
    net = ClipNet(clips.size(1), clips.size(-1), clips.size(2), width, feature_dim)
    return train_contrastive(net, clips, clip_views, steps, batch, lr, seed)


@torch.no_grad()
def clip_feature_stats(net: ClipNet, clips: torch.Tensor, limit: int = 2000, batch: int = 256
                       ) -> dict[str, Any]:
    """`feature_mean` and `feature_scale` (1 / sqrt(mean per-dimension variance)) of the features of up to
    `limit` training clips, for the extractor's spec (as `domain.feature_stats`: centred, unit scale)."""
    net.eval()
    clips = clips[:limit].float()
    features = torch.cat([net.features(clips[i:i + batch]) for i in range(0, len(clips), batch)])
    scale = float(1.0 / features.var(dim=0).mean().clamp_min(1e-12).sqrt())
    return {"feature_mean": [round(float(v), 6) for v in features.mean(dim=0)], "feature_scale": scale}


# ----------------------------------------------------------------------------------------------------------
# The extractor: a trained ClipNet, saved and loaded with a sha256 check


@dataclass
class ClipExtractor:
    """A trained ClipNet and its spec; `features(clips)` gives `(N, feature_dim)` float32 NumPy."""

    net: ClipNet
    spec: dict[str, Any]

    def label(self, resolution: int | None = None) -> str:
        """Protocol label, e.g. `clipnet-moving-glyphs-32x8s1` (data, resolution x frames, stride).

        `resolution` is ignored (clips are resized to the extractor's); it matches `DomainExtractor.label`.
        """
        spec = self.spec
        return f"clipnet-{spec['dataset']}-{spec['resolution']}x{spec['frames']}s{spec['stride']}"

    @torch.no_grad()
    def features(self, clips: torch.Tensor, batch: int = 256) -> np.ndarray:
        """Features of clips `(N, C, T, H, W)` in [-1, 1]; frames are resized to the extractor's size."""
        net = self.net.eval()
        if clips.dim() != 5 or clips.size(1) != net.channels or clips.size(2) != net.frames:
            raise ReelganError(
                f"the clip extractor takes (N, {net.channels}, {net.frames}, H, W) clips; got "
                f"{tuple(clips.shape)}: use an extractor trained on {clips.size(2) if clips.dim() == 5 else '?'}-frame, "
                f"{clips.size(1) if clips.dim() == 5 else '?'}-channel clips"
            )
        out = []
        for start in range(0, len(clips), batch):
            chunk = clips[start:start + batch].float()
            if chunk.shape[-2:] != (net.resolution, net.resolution):
                n, c, t, h, w = chunk.shape
                frames = F.interpolate(chunk.transpose(1, 2).reshape(n * t, c, h, w),
                                       size=(net.resolution,) * 2, mode="area")  # (N*T, C, R, R)
                chunk = frames.reshape(n, t, c, net.resolution, net.resolution).transpose(1, 2)
            out.append(net.features(chunk))
        mean = torch.tensor(self.spec.get("feature_mean", 0.0), dtype=torch.float32)
        return ((torch.cat(out) - mean) * self.spec.get("feature_scale", 1.0)).numpy()


def save_clip_extractor(net: ClipNet, spec: dict[str, Any], weights_path: str | Path) -> str:
    """Write the weights (.safetensors) and the spec (.json beside it, with the weights' sha256).

    `spec` should name the `dataset` and `stride` and hold `clip_feature_stats`; returns the sha256.
    """
    full_spec = {"dataset": "custom", "stride": 1, **spec, "channels": net.channels, "resolution": net.resolution,
                 "frames": net.frames, "feature_dim": net.feature_dim, "width": net.encoder[0].out_channels}
    return save_net_with_spec(net, full_spec, weights_path, CLIP_EXTRACTOR_FORMAT)


def load_clip_extractor(weights_path: str | Path) -> ClipExtractor:
    """Load a saved clip extractor, checking the weights against the sha256 in its spec."""
    spec, state = load_checked_spec(weights_path, CLIP_EXTRACTOR_FORMAT, "clip extractor")
    net = ClipNet(spec["channels"], spec["resolution"], spec["frames"], spec["width"], spec["feature_dim"])
    net.load_state_dict(state)
    return ClipExtractor(net.eval(), spec)


def build_clip_extractor(clips: torch.Tensor, dataset: str, stride: int = 1, steps: int = 2000,
                         batch: int = 64, seed: int = 0) -> ClipExtractor:
    """Train a ClipNet on `clips` and wrap it with its spec (data name, stride, feature stats), unsaved.

    Its `spec["sha256"]` is that of the weights' bytes as `save_clip_extractor` would write them, so that
    reference-feature caching works before (and after) saving.
    """
    net = train_clip_net(clips, steps=steps, batch=batch, seed=seed)
    state = {k: v.detach().cpu().contiguous() for k, v in net.state_dict().items()}
    blob = safetensors.torch.save(state, metadata={"format": CLIP_EXTRACTOR_FORMAT})
    spec = {"dataset": dataset, "stride": stride, "channels": net.channels, "resolution": net.resolution,
            "frames": net.frames, "train_clips": len(clips), "steps": steps, "seed": seed,
            **clip_feature_stats(net, clips)}
    spec["sha256"] = hashlib.sha256(blob).hexdigest()
    return ClipExtractor(net, spec)


# ----------------------------------------------------------------------------------------------------------
# FVD and evaluation of a clip generator


def real_clips(data: str, frames: int, stride: int, resolution: int, channels: int, n: int,
               seed: int = 1) -> torch.Tensor:
    """Up to `n` real clips `(N, C, T, R, R)`, always the same ones for the same arguments.

    A set larger than `n` gives a fixed random subset in order; `seed` picks a procedural set's clips
    (1 by default: clips other than training's seed 0).
    """
    dataset = build_clip_dataset(data, frames, stride, resolution, channels, size=n, seed=seed)
    indices = torch.arange(len(dataset))
    if len(dataset) > n:
        indices = torch.randperm(len(dataset), generator=torch.Generator().manual_seed(0))[:n].sort().values
    if len(indices) == 0:
        raise ReelganError(f"{data} gives no {frames}-frame clips; use shorter clips or more footage")
    return torch.stack([dataset[int(i)][0] for i in indices])


def evaluate_clip_generator(G: Any, data: str, n: int, extractor: ClipExtractor, frames: int,
                            stride: int = 1, seed: int = 0) -> dict[str, float]:
    """FVD of `n` clips from G (seeds seed..seed+n-1) against `n` real clips; `{f"fvd{n}_{label}": value}`
    with n written as `count_label` writes it (2000 -> 2k)."""
    if not G.is_video:
        raise ReelganError("FVD needs a clip generator (trained with --kind video); this one makes images")
    if extractor.spec["channels"] != G.channels:
        raise ReelganError(
            f"the clip extractor takes {extractor.spec['channels']}-channel clips but the generator makes "
            f"{G.channels}; train an extractor on {G.channels}-channel clips"
        )
    fake = G.sample(n, seed=seed)  # (n, C, T, H, W)
    if fake.size(2) != frames:
        raise ReelganError(f"the generator makes {fake.size(2)}-frame clips, not {frames}; evaluate it with "
                           f"frames={fake.size(2)}")
    real = real_clips(data, frames, stride, G.resolution, G.channels, n)
    if len(real) < n:
        raise ReelganError(f"{data} has {len(real)} clips; FVD at --n {n} needs {n}: lower --n")
    value = fvd(reference_features(real, extractor), extractor.features(fake))["fvd"]
    return {f"fvd{count_label(n)}_{extractor.label()}": value}


# ----------------------------------------------------------------------------------------------------------
# Motion checks


def ink_maps(clips: torch.Tensor) -> torch.Tensor:
    """Ink per pixel `(N, T, H, W)` in [0, 1] of clips `(N, C, T, H, W)` in [-1, 1]: (1 - x) / 2 over channels."""
    if clips.dim() != 5:
        raise ReelganError(f"motion checks take clips (N, C, T, H, W); got {tuple(clips.shape)}")
    return ((1 - clips.float().clamp(-1, 1)) / 2).mean(dim=1)  # (N, T, H, W)


def track_ink(clips: torch.Tensor, min_ink: float = MIN_INK) -> np.ndarray:
    """float64 `(N, T, 2)`: the ink-weighted centroid of each frame as (x, y) pixels, NaN where a frame has
    less than `min_ink` ink in all (a fully inked pixel is 1)."""
    ink = ink_maps(clips).double()  # (N, T, H, W)
    height, width = ink.shape[-2:]
    mass = ink.sum(dim=(2, 3))  # (N, T)
    x = (ink.sum(dim=2) * torch.arange(width, dtype=torch.float64)).sum(dim=2) / mass.clamp_min(1e-12)
    y = (ink.sum(dim=3) * torch.arange(height, dtype=torch.float64)).sum(dim=2) / mass.clamp_min(1e-12)
    centroid = torch.stack([x, y], dim=2)  # (N, T, 2)
    centroid[mass < min_ink] = float("nan")
    return centroid.numpy()


def _speed_stats(track: np.ndarray) -> tuple[float, float]:
    """Mean centroid speed (px/frame) and mean per-clip coefficient of variation of speed, from `(N, T, 2)`."""
    speed = np.linalg.norm(np.diff(track, axis=1), axis=2)  # (N, T-1), NaN where a frame had no ink
    mean_speed = float(np.nanmean(speed)) if np.isfinite(speed).any() else float("nan")
    ratios = []
    for clip in speed:
        clip = clip[np.isfinite(clip)]
        if len(clip) >= 2 and clip.mean() > TURN_MIN_STEP:
            ratios.append(clip.std() / clip.mean())
    return mean_speed, float(np.mean(ratios)) if ratios else float("nan")


def _bounce_consistency(track: np.ndarray, ink: torch.Tensor, margin: float = EDGE_MARGIN) -> float:
    """Fraction of direction reversals of the centroid, per axis, at a frame where the ink reaches within
    `margin` px of the frame edge it was heading for; NaN when nothing turns.

    A reversal at frame t: the steps t-1 -> t and t -> t+1 along x (or y) both exceed TURN_MIN_STEP and have
    opposite signs. The edge test uses the extent of the ink (pixels at least half inked), which allows for
    the glyph's size without knowing it.
    """
    steps = np.diff(track, axis=1)  # (N, T-1, 2)
    solid = (ink >= 0.5).numpy()  # (N, T, H, W)
    turns = at_edge = 0
    for i, t, axis in zip(*np.nonzero((steps[:, :-1] * steps[:, 1:] < 0)
                                      & (np.abs(steps[:, :-1]) > TURN_MIN_STEP)
                                      & (np.abs(steps[:, 1:]) > TURN_MIN_STEP))):
        turns += 1
        profile = solid[i, t + 1].any(axis=0 if axis == 0 else 1)  # ink along the turning axis
        where = np.nonzero(profile)[0]
        if len(where) == 0:
            continue
        heading_up = steps[i, t, axis] > 0
        size = len(profile)
        at_edge += bool(where[-1] >= size - 1 - margin if heading_up else where[0] <= margin)
    return at_edge / turns if turns else float("nan")


def motion_stats(clips: torch.Tensor) -> dict[str, float]:
    """Summary of how the ink in clips `(N, C, T, H, W)` moves (needs T >= 2):

    - `frame_diff`: mean absolute difference between consecutive frames, in [0, 2] units of the clip values
      (0: nothing changes).
    - `speed`: mean speed of the ink centroid, pixels per frame (`track_ink`; frames without ink skipped).
    - `speed_cv`: per clip, std / mean of the centroid speed, averaged over clips that move (mean speed above
      TURN_MIN_STEP); 0 is perfectly steady. Bounces and two glyphs moving apart make it above 0 on real data.
    - `bounce_consistency`: the fraction of the centroid's direction reversals (per axis) that happen where the
      ink touches, within EDGE_MARGIN px, the frame edge it was heading for; 1 = it turns only at the edges,
      as moving glyphs do. NaN when nothing turns. A proxy: with two glyphs the centroid is theirs together.
    - `persistence`: total ink of the last frame over that of the first, averaged over clips with ink in the
      first frame; 1 = the glyphs neither fade nor appear.
    """
    ink = ink_maps(clips)  # (N, T, H, W)
    if ink.size(1) < 2:
        raise ReelganError(f"motion checks need clips of at least 2 frames; got {ink.size(1)}")
    track = track_ink(clips)
    speed, speed_cv = _speed_stats(track)
    mass = ink.double().sum(dim=(2, 3))  # (N, T)
    has_ink = mass[:, 0] >= MIN_INK
    persistence = (mass[has_ink, -1] / mass[has_ink, 0]).mean() if has_ink.any() else torch.tensor(float("nan"))
    return {
        "frame_diff": float((clips[:, :, 1:].float() - clips[:, :, :-1].float()).abs().mean()),
        "speed": speed,
        "speed_cv": speed_cv,
        "bounce_consistency": _bounce_consistency(track, ink),
        "persistence": float(persistence),
    }


def compare_motion(real_clips: torch.Tensor, fake_clips: torch.Tensor) -> dict[str, dict[str, float]]:
    """`motion_stats` of real and generated clips and their ratios (generated / real; NaN where undefined)."""
    real, fake = motion_stats(real_clips), motion_stats(fake_clips)
    ratio = {}
    for key in real:
        ratio[key] = fake[key] / real[key] if np.isfinite(real[key]) and real[key] != 0 else float("nan")
    return {"real": real, "fake": fake, "ratio": ratio}
