"""Procedural "logograms": circular ink glyphs in the manner of the film *Arrival*.

A glyph is a ring of smoothly varying thickness, dark ink on light paper, with tendrils, hooks,
blots and splatter sprouting from it and sometimes a small gap. Rendering has two steps:

1. `sample_logogram` draws the geometry from the seed alone, as polygons and ellipses in unit
   coordinates (0..1 across the image, centre at 0.5 + 0.5i). The resolution only sets how finely
   the ring's outline is cut into vertices, so a seed gives the same shape at every size.
2. `render_logogram` fills those shapes with Pillow on a supersampled greyscale image and
   box-downsamples it, which gives anti-aliased edges.

Points are complex numbers x + iy, which keeps the geometry short and fast. All lengths are in
units of the image width; all angles are in radians.
"""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

__all__ = [
    "MAX_RESOLUTION",
    "MIN_RESOLUTION",
    "LogogramGeometry",
    "LogogramStyle",
    "render_logogram",
    "sample_logogram",
]

MIN_RESOLUTION = 8
MAX_RESOLUTION = 1024

PAPER = 255
INK = 0

TAU = 2.0 * math.pi
CENTRE = 0.5 + 0.5j

# Arc-length parameter along a stroke (0 at the base, 1 at the tip) and the curvature shapes built
# on it; 32 vertices keep even the tightest hook curls smooth at 1024 px.
_STROKE_S = np.linspace(0.0, 1.0, 32)
_MID_BUMP = np.sin(math.pi * _STROKE_S)  # peaks mid-stroke
_CURL_SHAPE = 2.5 * _STROKE_S**1.5  # grows towards the tip and integrates to 1 over the stroke
_BLOB_ANGLES = np.linspace(0.0, TAU, 20, endpoint=False)
_BLOB_DIRECTIONS = np.exp(1j * _BLOB_ANGLES)
# Lumps of a blob's outline: harmonics 2 (oval), 3 and 5 of the angle, as sines then cosines.
_BLOB_BASIS = np.concatenate(
    [np.sin(np.outer((2.0, 3.0, 5.0), _BLOB_ANGLES)), np.cos(np.outer((2.0, 3.0, 5.0), _BLOB_ANGLES))]
)
_HAIRLINE = 0.002  # width every stroke keeps at its tip, so tips fade rather than vanish

# Feature kinds in the order of `LogogramStyle.feature_weights`.
_FEATURE_KINDS = ("tendril", "hook", "blot", "splatter")


@dataclass(frozen=True)
class LogogramStyle:
    """The knobs of the glyph generator; the defaults give Arrival-like glyphs.

    Lengths are in units of the image width, angles in radians. `(low, high)` pairs are ranges that
    each glyph draws from uniformly (inclusive for counts).
    """

    ring_radius: tuple[float, float] = (0.28, 0.34)
    """Mean radius of the ring's centre line."""
    ring_thickness: tuple[float, float] = (0.03, 0.07)
    """Mean thickness of the ring."""
    thickness_variation: tuple[float, float] = (0.4, 0.9)
    """Total relative amplitude of the thickness sinusoids; below 1 so thickness stays positive."""
    ring_wobble: float = 0.03
    """Relative amplitude of the low-frequency out-of-roundness of the ring."""
    edge_roughness: float = 0.12
    """Amplitude of the fine ripple on the ring's edges, relative to the local thickness."""
    feature_count: tuple[int, int] = (2, 7)
    """How many features (tendrils, hooks, blots, splatters) sprout from the ring."""
    feature_weights: tuple[float, float, float, float] = (0.45, 0.2, 0.25, 0.1)
    """Relative odds of a feature being a tendril, hook, blot or splatter."""
    gap_probability: float = 0.3
    """Chance that the ring has a gap."""
    gap_width: tuple[float, float] = (0.12, 0.45)
    """Angular width of the gap."""
    outer_limit: float = 0.47
    """No stroke reaches beyond this distance from the centre, so the glyph fits the frame."""
    inner_limit: float = 0.13
    """Inward strokes stop at this distance from the centre, so the centre stays mostly empty."""
    softness: float = 0.0015
    """Gaussian blur radius that softens the ink edges; skipped when under half an output pixel."""


@dataclass(frozen=True)
class LogogramGeometry:
    """A glyph's shapes in unit coordinates, in drawing order.

    `polygons` are complex arrays of vertices x + iy; `ellipses` are (x0, y0, x1, y1) boxes. Both
    are filled with ink; the ellipses are drawn after the polygons.
    """

    polygons: list[np.ndarray] = field(default_factory=list)
    ellipses: list[tuple[float, float, float, float]] = field(default_factory=list)


class _Sinusoids:
    """A sum of amplitude * sin(harmonic * theta + phase) terms with random phases."""

    def __init__(self, rng: np.random.Generator, harmonics: tuple[float, ...], total: float):
        draws = rng.random(2 * len(harmonics)).tolist()
        weights = [w + 0.05 for w in draws[: len(harmonics)]]
        scale = total / sum(weights)  # amplitudes sum to `total`, which bounds the sum's size
        phases = [p * TAU for p in draws[len(harmonics) :]]
        self.terms = [(k, w * scale, p) for k, w, p in zip(harmonics, weights, phases)]
        self._k = np.array(harmonics)[:, None]
        self._amp = np.array([a for _, a, _ in self.terms])
        self._phase = np.array(phases)[:, None]

    def at(self, theta: float) -> float:
        """Value at one angle (plain floats: much faster than numpy for a single point)."""
        return sum(a * math.sin(k * theta + p) for k, a, p in self.terms)

    def over(self, theta: np.ndarray) -> np.ndarray:
        """Values at an array of angles."""
        return self._amp @ np.sin(self._k * theta + self._phase)


@dataclass(frozen=True)
class _Ring:
    """The ring: centre-line radius and thickness as smooth functions of the angle, and its arc."""

    radius: float
    thickness: float
    wobble: _Sinusoids  # relative out-of-roundness
    variation: _Sinusoids  # relative thickness change; amplitudes sum below 1
    outer_ripple: _Sinusoids  # fine ripple of the outer edge, relative to the thickness
    inner_ripple: _Sinusoids
    start: float  # the inked arc runs from `start` over `span`; a span under TAU leaves a gap
    span: float

    def radius_at(self, theta: float) -> float:
        """Centre-line radius at angle `theta`."""
        return self.radius * (1.0 + self.wobble.at(theta))

    def thickness_at(self, theta: float) -> float:
        """Thickness at angle `theta`; always positive."""
        return self.thickness * (1.0 + self.variation.at(theta))

    def edge_point(self, theta: float, side: float) -> complex:
        """Point at angle `theta`, `side` thicknesses out from the centre line (negative: inward)."""
        r = self.radius_at(theta) + side * self.thickness_at(theta)
        return CENTRE + r * complex(math.cos(theta), math.sin(theta))


def _uniform(rng: np.random.Generator, low: float, high: float) -> float:
    """One uniform float in [low, high); a plain float, cheaper than `rng.uniform` per call."""
    return low + (high - low) * rng.random()


def _sign(rng: np.random.Generator) -> float:
    """-1.0 or 1.0 with equal odds."""
    return 1.0 if rng.random() < 0.5 else -1.0


def _sample_ring(rng: np.random.Generator, style: LogogramStyle) -> _Ring:
    """Sample the ring's radius, thickness profile, edge ripples and optional gap."""
    radius = _uniform(rng, *style.ring_radius)
    thickness = _uniform(rng, *style.ring_thickness)
    wobble = _Sinusoids(rng, (2.0, 3.0), style.ring_wobble)
    variation = _Sinusoids(rng, (1.0, 2.0, 3.0), _uniform(rng, *style.thickness_variation))
    outer_ripple = _Sinusoids(rng, (7.0, 11.0, 17.0), style.edge_roughness)
    inner_ripple = _Sinusoids(rng, (5.0, 9.0, 13.0), style.edge_roughness)
    start, span = rng.random() * TAU, TAU
    if rng.random() < style.gap_probability:
        gap = _uniform(rng, *style.gap_width)
        start, span = start + gap / 2.0, TAU - gap
    return _Ring(radius, thickness, wobble, variation, outer_ripple, inner_ripple, start, span)


def _ring_outline(ring: _Ring, points: int) -> np.ndarray:
    """The ring as one polygon: the outer edge forward, then the inner edge back."""
    theta = ring.start + np.linspace(0.0, ring.span, points)
    radius = ring.radius * (1.0 + ring.wobble.over(theta))
    thick = ring.thickness * (1.0 + ring.variation.over(theta))
    if ring.span < TAU:
        # The brush lifting off the paper: the ends of a broken ring thin out over 0.5 rad.
        ends = np.minimum(theta - ring.start, ring.start + ring.span - theta)
        thick *= np.clip(ends / 0.5, 0.0, 1.0) ** 0.7
    outer = radius + thick * (0.5 + ring.outer_ripple.over(theta))
    inner = radius - thick * (0.5 + ring.inner_ripple.over(theta))
    direction = np.exp(1j * theta)
    return CENTRE + np.concatenate([outer * direction, (inner * direction)[::-1]])


class _Stroke(NamedTuple):
    """A tapering brush stroke as a few numbers; `_stroke_outlines` traces many at once.

    The curvature (radians per unit length) along the stroke is
    bend + growth * s + wiggle * sin(pi * s) + curl * 2.5 * s**1.5, for s from 0 (base) to 1 (tip).
    The full width is width * ((1 - s) ** taper * (1 - tip) + tip), plus a hairline.
    """

    base: complex
    heading: float
    length: float
    bend: float
    growth: float
    wiggle: float
    curl: float
    width: float
    taper: float
    tip: float


def _stroke_outlines(strokes: list[_Stroke], style: LogogramStyle) -> list[np.ndarray]:
    """Outline polygons of `strokes`, computed together: one numpy pass instead of one per stroke."""
    if not strokes:
        return []
    # One row per stroke, one column per field; all fields but `base` are real.
    table = np.array(strokes, dtype=np.complex128)
    base = table[:, 0:1]
    heading, length, bend, growth, wiggle, curl, width, taper, tip = table[:, 1:].real.T[..., None]
    curvature = bend + growth * _STROKE_S + wiggle * _MID_BUMP + curl * _CURL_SHAPE
    ds = length / (len(_STROKE_S) - 1)
    angles = heading + ds * (np.cumsum(curvature, axis=1) - curvature[:, 0:1])
    tangent = np.exp(1j * angles)
    points = base + ds * (np.cumsum(tangent, axis=1) - tangent[:, 0:1])
    scale = _radial_fit(points, style)
    points = base + (points - base) * scale
    widths = width * ((1.0 - _STROKE_S) ** taper * (1.0 - tip) + tip) + _HAIRLINE
    # Shrinking a stroke tightens its curves; a stroke wider than its turning diameter would fold
    # over itself (and Pillow's even-odd fill would punch a hole there).
    widths = np.minimum(widths, 1.6 * scale / (np.abs(curvature) + 1e-9))
    offset = 0.5j * tangent * widths  # the left-hand normal, half a width long
    return list(np.concatenate([points + offset, (points - offset)[:, ::-1]], axis=1))


def _radial_fit(points: np.ndarray, style: LogogramStyle) -> np.ndarray:
    """Per-path factor (as a column) that shrinks each path towards its base until it lies between
    the style's inner and outer limits."""
    dist = np.abs(points - CENTRE)
    r0, far, near = dist[:, 0], dist.max(axis=1), dist.min(axis=1)
    outer = (style.outer_limit - r0) / np.maximum(far - r0, 1e-9)
    inner = (r0 - style.inner_limit) / np.maximum(r0 - near, 1e-9)
    scale = np.where(far > style.outer_limit, outer, 1.0)
    scale = np.minimum(scale, np.where(near < style.inner_limit, inner, 1.0))
    return np.clip(scale, 0.05, 1.0)[:, None]


def _tendril(rng: np.random.Generator, ring: _Ring, theta: float) -> list[_Stroke]:
    """A tapering curved stroke leaving the ring outward (mostly) or inward, with thin wisps."""
    outward = rng.random() < 0.75
    side = 1.0 if outward else -1.0
    base = ring.edge_point(theta, 0.3 * side)  # starts inside the ink so the joint is seamless
    # Lean away from the radial direction so the stroke sweeps around the ring like a brush flick,
    # and bend back towards the tangent.
    lean = _sign(rng) * _uniform(rng, 0.3, 1.2)
    heading = theta + (0.0 if outward else math.pi) + lean
    length = _uniform(rng, 0.1, 0.24) if outward else _uniform(rng, 0.05, 0.12)
    bend = -math.copysign(_uniform(rng, 0.0, 8.0), lean)
    wiggle = _uniform(rng, -4.0, 4.0)
    width = ring.thickness_at(theta) * _uniform(rng, 0.5, 1.1)
    taper = _uniform(rng, 0.8, 1.8)
    strokes = [_Stroke(base, heading, length, 0.3 * bend, bend, wiggle, 0.0, width, taper, 0.0)]
    for _ in range(int(rng.integers(0, 3))):
        # Wisps: thinner, shorter copies fanning out from the same base, like split brush hairs.
        spread = _uniform(rng, -0.35, 0.35)
        k = _uniform(rng, 0.5, 0.9)
        wisp = (0.3 * bend / k, bend / k, wiggle / k, 0.0, width * k * k, taper, 0.0)
        strokes.append(_Stroke(base, heading + spread, length * k, *wisp))
    return strokes


def _hook(rng: np.random.Generator, ring: _Ring, theta: float) -> list[_Stroke]:
    """A short stroke off the ring's outer edge that curls ever tighter towards its tip."""
    base = ring.edge_point(theta, 0.3)
    turn = _sign(rng)
    heading = theta + turn * _uniform(rng, 0.0, 0.6)
    length = _uniform(rng, 0.05, 0.11)
    total_turn = _uniform(rng, 2.5, 5.5)  # radians the tip turns through: from a hook to a curl
    curl = turn * total_turn / length
    width = _uniform(rng, 0.015, 0.032)
    return [_Stroke(base, heading, length, 0.0, 0.0, 0.0, curl, width, 1.0, 0.15)]


def _blob(rng: np.random.Generator, centre: complex, size: float) -> np.ndarray:
    """An irregular filled blob: a circle of radius `size` with a lumpy, slightly oval outline."""
    # Random sinusoids of the outline angle, written as weights on a precomputed sin/cos basis
    # (a * sin(k x + p) = a cos p * sin(k x) + a sin p * cos(k x)), which is much cheaper per blob.
    draws = rng.random(6).tolist()
    total = _uniform(rng, 0.15, 0.4) / (sum(draws[:3]) + 0.15)
    amps = [(w + 0.05) * total for w in draws[:3]]
    phases = [p * TAU for p in draws[3:]]
    weights = [a * math.cos(p) for a, p in zip(amps, phases)]
    weights += [a * math.sin(p) for a, p in zip(amps, phases)]
    radius = size * (1.0 + np.dot(weights, _BLOB_BASIS))
    return centre + radius * _BLOB_DIRECTIONS


def _blot(rng: np.random.Generator, ring: _Ring, theta: float, style: LogogramStyle) -> list:
    """One to three overlapping blobs on the ring, like ink pooling where the brush paused."""
    blobs = []
    for _ in range(1 + int(rng.integers(0, 3))):
        angle = theta + rng.normal(0.0, 0.1)
        centre = ring.edge_point(angle, rng.normal(0.3, 0.4))
        size = ring.thickness_at(angle) * _uniform(rng, 0.4, 0.9) + _uniform(rng, 0.008, 0.025)
        # Keep the blob inside the outer limit so it never touches the frame.
        size = max(min(size, style.outer_limit - abs(centre - CENTRE)), 0.005)
        blobs.append(_blob(rng, centre, size))
    return blobs


def _splatter(rng: np.random.Generator, ring: _Ring, theta: float, style: LogogramStyle) -> list:
    """A spray of small dots just off the ring's outer edge, flung from the brush."""
    dots = []
    for _ in range(3 + int(rng.integers(0, 6))):
        angle = theta + rng.normal(0.0, 0.12)
        distance = _uniform(rng, 0.01, 0.07)  # beyond the outer edge; farther dots are smaller
        radius = abs(ring.edge_point(angle, 0.5) - CENTRE) + distance
        point = CENTRE + min(radius, style.outer_limit - 0.012) * complex(math.cos(angle), math.sin(angle))
        size = _uniform(rng, 0.003, 0.012) * (1.0 - 5.0 * distance)
        aspect = _uniform(rng, 0.7, 1.4)
        rx, ry = size * aspect, size / aspect
        dots.append((point.real - rx, point.imag - ry, point.real + rx, point.imag + ry))
    return dots


def _pick(rng: np.random.Generator, weights: tuple[float, ...]) -> int:
    """Index drawn with odds proportional to `weights`."""
    target = rng.random() * sum(weights)
    for index, weight in enumerate(weights):
        target -= weight
        if target < 0.0:
            return index
    return len(weights) - 1


def sample_logogram(
    seed: int, style: LogogramStyle | None = None, ring_points: int = 240
) -> LogogramGeometry:
    """The glyph for `seed` as shapes in unit coordinates.

    The shape depends on `seed` and `style` only; `ring_points` sets how many vertices trace each
    edge of the ring (more for larger images). Raises ValueError for a negative seed.
    """
    style = style or LogogramStyle()
    if operator.index(seed) < 0:
        raise ValueError(f"logogram seed must be a non-negative integer, got {seed}")
    rng = np.random.default_rng(seed)
    ring = _sample_ring(rng, style)
    low, high = style.feature_count
    count = low + int(rng.integers(0, high - low + 1))
    strokes: list[_Stroke] = []
    blobs: list[np.ndarray] = []
    dots: list[tuple[float, float, float, float]] = []
    # Spread the features around the ring: evenly spaced slots, each jittered by up to 0.3 slot.
    offset = rng.random() * TAU
    for slot in range(count):
        theta = offset + TAU * (slot + _uniform(rng, -0.3, 0.3)) / count
        kind = _FEATURE_KINDS[_pick(rng, style.feature_weights)]
        if kind == "tendril":
            strokes += _tendril(rng, ring, theta)
        elif kind == "hook":
            strokes += _hook(rng, ring, theta)
        elif kind == "blot":
            blobs += _blot(rng, ring, theta, style)
        else:
            dots += _splatter(rng, ring, theta, style)
    polygons = [_ring_outline(ring, ring_points), *_stroke_outlines(strokes, style), *blobs]
    return LogogramGeometry(polygons=polygons, ellipses=dots)


def _supersampling(resolution: int) -> int:
    """Supersampling factor: more for small images, where each edge pixel matters most."""
    if resolution <= 64:
        return 4
    if resolution <= 256:
        return 3
    return 2


def _check_resolution(resolution: int) -> int:
    """The resolution as an int, or ValueError if it is not an integer in the supported range."""
    try:
        value = operator.index(resolution)
    except TypeError:
        raise ValueError(f"logogram resolution must be an integer, got {resolution!r}") from None
    if not MIN_RESOLUTION <= value <= MAX_RESOLUTION:
        raise ValueError(
            f"logogram resolution must be between {MIN_RESOLUTION} and {MAX_RESOLUTION} px,"
            f" got {value}"
        )
    return value


def render_logogram(seed: int, resolution: int, style: LogogramStyle | None = None) -> np.ndarray:
    """Render the glyph for `seed` as a (resolution, resolution) uint8 array.

    255 is paper and values near 0 are ink. The same seed gives the same shape at every resolution
    and identical bytes for the same (seed, resolution, style). Raises ValueError for a resolution
    outside 8..1024 or a negative seed.
    """
    resolution = _check_resolution(resolution)
    style = style or LogogramStyle()
    factor = _supersampling(resolution)
    size = resolution * factor
    # About one ring vertex per 6 supersampled pixels of circumference: the chord error stays under
    # 0.1 supersampled pixel, and Pillow's polygon fill slows with the vertex count.
    geometry = sample_logogram(seed, style, ring_points=min(max(size // 3, 48), 960))
    image = Image.new("L", (size, size), PAPER)
    draw = ImageDraw.Draw(image)
    # Scale all vertices in one numpy call, then hand Pillow flat [x0, y0, x1, y1, ...] lists.
    flat = (np.concatenate(geometry.polygons) * size).view(np.float64).tolist()
    start = 0
    for polygon in geometry.polygons:
        end = start + 2 * len(polygon)
        draw.polygon(flat[start:end], fill=INK)
        start = end
    for box in geometry.ellipses:
        draw.ellipse([v * size for v in box], fill=INK)
    image = image.reduce(factor)
    blur = style.softness * resolution  # in output pixels
    if blur >= 0.5:
        image = image.filter(ImageFilter.GaussianBlur(blur))
    return np.asarray(image, dtype=np.uint8).copy()
