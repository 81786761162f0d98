"""Ring detector: does an image read as an Arrival-style logogram?

A logogram is a closed ring of dark ink around the image centre, with an empty centre, plus
tendrils, blots and splatter (see `reelgan.data.logograms`). The detector looks at the ink along
rays from the image centre and asks three questions of each image:

(a) Is the centre empty? The mean ink in the disc of radius `CENTRE_RADIUS` must stay low.
(b) Is there a ring? The rays are pooled into `SECTORS` angular sectors; in each sector the radius
    of the strongest ink is the ring's candidate radius there. The ring radius is the median of
    those radii, and the spread their median distance from it: a ring gives one consistent radius,
    a blob or scattered strokes do not. The coverage is the fraction of sectors with ink within
    `BAND` of the ring radius: a closed ring covers nearly every sector, and a ring far off centre
    does not enclose the centre, so it covers few.
(c) Is it drawn in ink? The mean ink over the image must lie between blank paper and a page
    mostly inked, and the darkest strokes must be clearly darker than mid-grey.

Small marks inside the ring (between the centre disc and the ring) do not disturb the ring: the
medians ignore the few sectors whose strongest ink lies elsewhere.

All lengths are in units of the image width, so one set of thresholds serves every resolution. The
thresholds were calibrated on procedural glyphs at 32 and 64 px against blank paper, noise, filled
discs, scattered blobs and strokes, off-centre and half rings, glyphs with an inked centre, grey
glyphs, and untrained generators (see `tests/test_ringcheck.py` and `benchmarks/ring_rate.py`).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from ..errors import ReelganError

__all__ = [
    "SECTORS", "checks", "is_logogram", "logogram_rate", "passes", "radial_profile", "ring_scores", "to_ink",
]

SECTORS = 48
"""Angular sectors around the centre (7.5 degrees each)."""
RAYS_PER_SECTOR = 4
"""Rays sampled in each sector; a sector's ink is the most any of its rays sees, so a thin stroke
that slips between rays still counts."""
CENTRE_RADIUS = 0.12
"""Radius of the centre disc that must stay empty. Inward strokes of procedural glyphs stop at 0.13."""
MAX_CENTRE_INK = 0.15
"""Most mean ink allowed in the centre disc. Procedural glyphs have none there; this leaves room for
a stray stroke tip or a generator's faint grey haze, while a dot inked in the centre (radius 0.1 or
more) fills most of the disc."""
SEARCH = (0.15, 0.47)
"""Radii searched for the ring's ink: past the centre disc, inside the frame. Procedural rings have
centre-line radii 0.28..0.33 and nothing reaches past 0.47."""
RING_RADIUS = (0.2, 0.42)
"""Allowed ring radius (median over sectors). Procedural glyphs measure 0.27..0.35; a filled disc
peaks at the first radius searched (0.16)."""
BAND = 0.04
"""Half-width of the band around the ring radius where each sector must show ink: the ring's own
wobble (about 0.01) plus a pixel or so of slack at 32 px. Wider bands let scattered blobs that
happen to surround the centre pass."""
INK_LEVEL = 0.3
"""Ink (0 paper, 1 full ink) that counts as a stroke. Well below half, so that the thinnest stretches
of a ring (under a pixel wide at 32 px, so anti-aliased to light grey) still count."""
MIN_COVERAGE = 0.85
"""Fraction of sectors that must show ink near the ring radius. Procedural rings may have a gap of
up to 0.6 rad (10% of the turn) whose ends thin out over 0.4 rad each; a half ring covers 50%."""
MAX_SPREAD = 0.04
"""Largest median distance of the sectors' ink peaks from the ring radius. Procedural glyphs stay
within 0.016 (one radial step at 32 px); noise typically measures 0.07, scattered strokes 0.04."""
INK_FRACTION = (0.02, 0.3)
"""Allowed mean ink over the whole image: less is blank paper, more is a page mostly inked.
Procedural glyphs have 0.04..0.16; noise and untrained generators 0.5."""
DARKEST = 0.01
"""Fraction of the pixels, the darkest, whose mean ink is an image's ink peak (at least one pixel)."""
MIN_INK_PEAK = 0.6
"""Least ink peak: strokes must be clearly darker than mid-grey. A generator that has only learned
the average glyph paints a smooth mid-grey ring (ink about 0.5, as does an untrained one, whose tanh
output sits near 0); procedural glyphs reach 0.9 or more at 32 and 64 px (0.7 at 16 px)."""

_CHUNK = 256  # images scored at once


def to_ink(images: torch.Tensor | np.ndarray) -> torch.Tensor:
    """Images as ink amounts: float32 `(N, R, R)` with 0 paper and 1 full ink.

    Integer arrays or tensors are pixels with 255 paper (`render_logogram`); float ones are in
    [-1, 1] with -1 ink (a generator's output). Shapes `(R, R)`, `(N, R, R)` or `(N, C, R, R)`
    with C of 1 (gray), 3 (RGB, averaged) or 4 (RGBA, composited on white paper).
    """
    x = torch.from_numpy(np.asarray(images)) if not isinstance(images, torch.Tensor) else images
    x = x.detach().cpu()
    x = x.float() / 255.0 if not x.is_floating_point() else (x.float() + 1.0) / 2.0  # 1 = paper
    if x.ndim == 2:
        x = x[None]
    if x.ndim == 4:
        if x.shape[1] == 4:
            alpha = x[:, 3:]
            x = x[:, :3] * alpha + (1.0 - alpha)  # on white paper
        elif x.shape[1] not in (1, 3):
            raise ReelganError(f"images have {x.shape[1]} channels; pass 1 (gray), 3 (RGB) or 4 (RGBA)")
        x = x.mean(dim=1)
    if x.ndim != 3 or x.shape[1] != x.shape[2] or x.shape[1] < 8:
        raise ReelganError(f"images must be square, (R, R), (N, R, R) or (N, C, R, R) with R >= 8; "
                           f"got shape {tuple(np.shape(images))}")
    return (1.0 - x).clamp(0.0, 1.0)


def radial_profile(images: torch.Tensor, angles: int = SECTORS, radii: int | None = None) -> torch.Tensor:
    """Ink along `angles` rays from the image centre: `(N, R, R)` ink -> `(N, angles, radii)`.

    Ray a points at angle 2 pi a / angles, from the +x axis (to the right) towards +y (down the
    rows). Sample k of `radii` (default R // 2) lies at radius (k + 0.5) / (2 * radii) of the
    width, so the samples run from the centre to the frame's edge. Ink between pixel centres is
    bilinear; outside the image it is 0 (paper).
    """
    count, size = images.shape[0], images.shape[-1]
    radii = size // 2 if radii is None else radii
    theta = torch.arange(angles, dtype=torch.float32) * (2.0 * torch.pi / angles)
    radius = (torch.arange(radii, dtype=torch.float32) + 0.5) / (2.0 * radii)  # units of the width
    # grid_sample's coordinates run from -1 to 1 across the image, so one width is 2 units.
    x = 2.0 * radius[None, :] * torch.cos(theta)[:, None]  # (angles, radii)
    y = 2.0 * radius[None, :] * torch.sin(theta)[:, None]
    grid = torch.stack([x, y], dim=-1).expand(count, angles, radii, 2)
    samples = F.grid_sample(images[:, None].float(), grid, mode="bilinear", padding_mode="zeros",
                            align_corners=False)  # (N, 1, angles, radii)
    return samples[:, 0]


def _centre_ink(ink: torch.Tensor) -> torch.Tensor:
    """Mean ink `(N,)` over the pixels whose centres lie within `CENTRE_RADIUS` of the image centre."""
    size = ink.shape[-1]
    offset = (torch.arange(size, dtype=torch.float32) + 0.5) / size - 0.5  # pixel centres, widths
    inside = offset[:, None] ** 2 + offset[None, :] ** 2 < CENTRE_RADIUS**2  # (R, R)
    return ink[:, inside].mean(dim=1)


def _ink_peak(ink: torch.Tensor) -> torch.Tensor:
    """Mean ink `(N,)` of the darkest `DARKEST` of each image's pixels (at least one pixel)."""
    count = max(1, round(DARKEST * ink.shape[1] * ink.shape[2]))
    return ink.flatten(1).topk(count, dim=1).values.mean(dim=1)


def _ring(ink: torch.Tensor) -> dict[str, torch.Tensor]:
    """Ring radius, spread and coverage `(N,)` each, from the ink in each sector (see `ring_scores`)."""
    size = ink.shape[-1]
    rays = radial_profile(ink, SECTORS * RAYS_PER_SECTOR, size)  # (N, rays, R): half-pixel steps
    sectors = rays.unflatten(1, (SECTORS, RAYS_PER_SECTOR)).amax(dim=2)  # (N, SECTORS, R)
    radius = (torch.arange(size, dtype=torch.float32) + 0.5) / (2.0 * size)  # (R,) in widths
    searched = (radius >= SEARCH[0]) & (radius <= SEARCH[1])
    peak_ink, peak_index = sectors[:, :, searched].max(dim=2)  # (N, SECTORS)
    peak_radius = torch.where(peak_ink >= INK_LEVEL, radius[searched][peak_index], torch.nan)
    ring_radius = peak_radius.nanmedian(dim=1).values  # (N,); NaN where no sector has ink
    spread = (peak_radius - ring_radius[:, None]).abs().nanmedian(dim=1).values
    near = (radius[None, :] - ring_radius[:, None]).abs() <= BAND  # (N, R)
    band_ink = (sectors * near[:, None, :]).amax(dim=2)  # (N, SECTORS)
    return {"ring_radius": ring_radius, "ring_spread": spread,
            "coverage": (band_ink >= INK_LEVEL).float().mean(dim=1)}


def ring_scores(images: torch.Tensor | np.ndarray) -> dict[str, np.ndarray]:
    """Per-image measures of ring-ness, each a float array `(N,)` (lengths in image widths).

    centre_ink: mean ink in the centre disc. ink_fraction: mean ink over the image. ink_peak: mean
    ink of the darkest `DARKEST` of the pixels. ring_radius: median over sectors of the radius of
    strongest ink (NaN if no sector has ink). ring_spread: median distance of those radii from
    ring_radius. coverage: fraction of sectors with ink within `BAND` of ring_radius. Input as in
    `to_ink`; see the module docstring for what each measure tells.
    """
    ink = to_ink(images)  # (N, R, R)
    parts = []
    for chunk in ink.split(_CHUNK):  # bounds the memory of the polar samples at large N and R
        parts.append({"centre_ink": _centre_ink(chunk), "ink_fraction": chunk.mean(dim=(1, 2)),
                      "ink_peak": _ink_peak(chunk), **_ring(chunk)})
    return {name: torch.cat([part[name] for part in parts]).numpy() for name in parts[0]}


def checks(scores: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Each test's verdict on `ring_scores` output, a boolean `(N,)` per test (NaN fails).

    empty_centre is (a); ring_radius, ring_spread and coverage make (b); ink_amount and dark_ink
    make (c).
    """
    ink, radius = scores["ink_fraction"], scores["ring_radius"]
    with np.errstate(invalid="ignore"):
        return {
            "empty_centre": scores["centre_ink"] <= MAX_CENTRE_INK,
            "ink_amount": (ink >= INK_FRACTION[0]) & (ink <= INK_FRACTION[1]),
            "dark_ink": scores["ink_peak"] >= MIN_INK_PEAK,
            "ring_radius": (radius >= RING_RADIUS[0]) & (radius <= RING_RADIUS[1]),
            "ring_spread": scores["ring_spread"] <= MAX_SPREAD,
            "coverage": scores["coverage"] >= MIN_COVERAGE,
        }


def passes(scores: dict[str, np.ndarray]) -> np.ndarray:
    """Boolean `(N,)`: which images of `ring_scores` output pass every test."""
    return np.logical_and.reduce(list(checks(scores).values()))


def is_logogram(images: torch.Tensor | np.ndarray) -> np.ndarray:
    """Boolean `(N,)`: which images read as logograms (input as in `to_ink`)."""
    return passes(ring_scores(images))


def logogram_rate(images: torch.Tensor | np.ndarray) -> float:
    """Fraction of `images` that read as logograms."""
    return float(is_logogram(images).mean())
