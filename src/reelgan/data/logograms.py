"""Procedural "logograms": circular ink glyphs in the manner of the film *Arrival*.

A glyph is a ring of smoothly varying thickness, dark ink on light paper, with tendrils, hooks,
blots and splatter sprouting from it and sometimes a small gap. Rendering has two steps:

1. `sample_logogram` draws the geometry from the seed alone, as polygons and ellipses in unit
   coordinates (0..1 across the image, centre at 0.5 + 0.5i). The resolution only sets how finely
   the ring's outline is cut into vertices, so a seed gives the same shape at every size.
2. `render_logogram` fills those shapes with Pillow on a supersampled greyscale image and
   box-downsamples it, which gives anti-aliased edges.

Points are complex numbers x + iy. All lengths are in units of the image width; all angles are in
radians. The generator must keep up with GAN training (thousands of glyphs a second on one core),
and with arrays this small numpy's cost is per call, not per element: hence scalar random draws
from Python's generator (`_Dice`), and strokes and blobs outlined in batches of matrix products
(`_stroke_outlines`, `_blob_outlines`).
"""

from __future__ import annotations

import math
import operator
import random
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

__all__ = [
    "FEATURE_KINDS",
    "compose_logogram",
    "render_geometry",
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

# Feature kinds in the order of `LogogramStyle.feature_weights`.
FEATURE_KINDS = ("tendril", "hook", "blot", "splatter")

# Harmonics (cycles per turn) of the ring's shape: low ones bend the ring and swell its thickness,
# high ones ripple its edges.
_WOBBLE_HARMONICS = (2.0, 3.0)
_THICKNESS_HARMONICS = (1.0, 2.0, 3.0)
_RIPPLE_HARMONICS = (7.0, 11.0, 17.0)


@dataclass(frozen=True)
class LogogramStyle:
    """The knobs of the glyph generator; the defaults give Arrival-like glyphs.

    Lengths are in units of the image width, angles in radians. `(low, high)` pairs are ranges that
    each glyph draws from uniformly (inclusive for counts).
    """

    ring_radius: tuple[float, float] = (0.28, 0.33)
    """Mean radius of the ring's centre line."""
    ring_thickness: tuple[float, float] = (0.022, 0.045)
    """Typical (geometric-mean) thickness of the ring."""
    thickness_variation: tuple[float, float] = (0.5, 1.0)
    """Amplitude a of the log-thickness sinusoids: thickness swings between exp(-a) and exp(a)
    times the typical value, so it stays positive however bold the swell."""
    ring_wobble: float = 0.03
    """Relative amplitude of the low-frequency out-of-roundness of the ring."""
    edge_roughness: float = 0.12
    """Amplitude of the fine ripple on the ring's edges, relative to the local thickness."""
    feature_count: tuple[int, int] = (2, 7)
    """How many features (tendrils, hooks, blots, splatters) sprout from the ring."""
    feature_weights: tuple[float, float, float, float] = (0.45, 0.2, 0.25, 0.1)
    """Relative odds of a feature being a tendril, hook, blot or splatter."""
    cluster_probability: float = 0.5
    """Chance that the features bunch at one or two spots instead of spreading round the ring."""
    gap_probability: float = 0.3
    """Chance that the ring has a gap."""
    gap_width: tuple[float, float] = (0.2, 0.6)
    """Angular width of the gap."""
    outer_limit: float = 0.47
    """No stroke reaches beyond this distance from the centre, so the glyph fits the frame."""
    inner_limit: float = 0.13
    """Inward strokes stop at this distance from the centre, so the centre stays mostly empty."""
    softness: float = 0.0015
    """Gaussian blur radius that softens the ink edges; skipped when under half an output pixel."""
    inner_mark_probability: float = 0.3
    """Chance of small marks inside the ring: short arcs and dots between the empty centre and the ring."""
    inner_mark_count: tuple[int, int] = (1, 3)
    """How many inner marks a glyph that has them gets."""
    ink_density: tuple[float, float] = (0.95, 1.0)
    """How dark the ink gets, drawn per glyph: 1 is solid black; less lets the paper show through."""
    ink_texture: float = 0.3
    """Depth of the slow mottling of the ink's darkness inside solid ink, as a fraction (0: flat ink). It
    fades in from none at 32 px to full at 128 px, where there is room to see it."""
    bleed: float = 0.004
    """How far ink soaks into the paper beyond its edges, unevenly; 0 keeps the edges crisp."""


_DEFAULT_STYLE = LogogramStyle()


@dataclass(frozen=True)
class LogogramGeometry:
    """A glyph's shapes in unit coordinates.

    `polygons` are complex arrays of vertices x + iy; `ellipses` are (x0, y0, x1, y1) boxes. All
    are filled with ink, so the drawing order does not matter.
    """

    polygons: list[np.ndarray] = field(default_factory=list)
    ellipses: list[tuple[float, float, float, float]] = field(default_factory=list)


class _Dice:
    """Scalar random draws for one glyph, from a generator seeded with the glyph's seed.

    Geometry sampling makes about a hundred single draws per glyph, where numpy's per-call cost
    would dominate, so this wraps Python's `random.Random` (its own instance, never the global
    one). Only `Random.random` is used, whose sequence for a given integer seed Python guarantees
    across versions; everything else is derived here, so glyphs are reproducible anywhere.
    """

    def __init__(self, seed: int):
        # random() -> a uniform float in [0, 1); bound directly to skip a Python call layer.
        self.random = random.Random(seed).random

    def uniform(self, low: float, high: float) -> float:
        """A uniform float in [low, high)."""
        return low + (high - low) * self.random()

    def integer(self, low: int, high: int) -> int:
        """A uniform integer in [low, high], both ends included."""
        return min(low + int(self.random() * (high - low + 1)), high)

    def sign(self) -> float:
        """-1.0 or 1.0 with equal odds."""
        return 1.0 if self.random() < 0.5 else -1.0

    def normal(self, mean: float, sd: float) -> float:
        """A Gaussian float (Box-Muller transform)."""
        radius = math.sqrt(-2.0 * math.log(1.0 - self.random()))
        return mean + sd * radius * math.cos(TAU * self.random())

    def pick(self, weights: tuple[float, ...]) -> int:
        """An index drawn with odds proportional to `weights`."""
        target = self.random() * sum(weights)
        for index, weight in enumerate(weights):
            target -= weight
            if target < 0.0:
                return index
        return len(weights) - 1


class _Sinusoids:
    """A sum of amplitude * sin(harmonic * theta + phase) terms with random amplitudes and phases.

    The amplitudes sum to `total`, which bounds the value to [-total, total].
    """

    def __init__(self, dice: _Dice, harmonics: tuple[float, ...], total: float):
        weights = [dice.random() + 0.05 for _ in harmonics]
        scale = total / sum(weights)
        self.terms = [(k, w * scale, dice.random() * TAU) for k, w in zip(harmonics, weights)]

    def at(self, theta: float) -> float:
        """Value at one angle."""
        total = 0.0
        for k, a, p in self.terms:
            total += a * math.sin(k * theta + p)
        return total


def _evaluate(sums: list[_Sinusoids], theta: np.ndarray) -> np.ndarray:
    """Each sum's values at the angles `theta`, one row per sum, in a single numpy pass."""
    terms = [term for one in sums for term in one.terms]
    harmonic, _, phase = np.array(terms).T
    # Row r of `weights` holds sum r's amplitudes in the columns of its own terms.
    weights = np.zeros((len(sums), len(terms)))
    column = 0
    for row, one in enumerate(sums):
        for _, amplitude, _ in one.terms:
            weights[row, column] = amplitude
            column += 1
    return weights @ np.sin(np.outer(harmonic, theta) + phase[:, None])


@dataclass(frozen=True)
class _Ring:
    """The ring: centre-line radius and thickness as smooth functions of the angle, and its arc."""

    radius: float
    thickness: float
    wobble: _Sinusoids  # relative out-of-roundness
    variation: _Sinusoids  # log of the thickness relative to `thickness`
    outer_ripple: _Sinusoids  # fine ripple of each edge, relative to the thickness
    inner_ripple: _Sinusoids
    start: float  # the inked arc runs from `start` over `span`; a span under TAU leaves a gap
    span: float

    def radius_at(self, theta: float) -> float:
        """Centre-line radius at angle `theta`."""
        return self.radius * (1.0 + self.wobble.at(theta))

    def thickness_at(self, theta: float) -> float:
        """Thickness at angle `theta`; always positive."""
        return self.thickness * math.exp(self.variation.at(theta))

    def edge_point(self, theta: float, side: float) -> complex:
        """Point at angle `theta`, `side` thicknesses out from the centre line (< 0: inward)."""
        r = self.radius_at(theta) + side * self.thickness_at(theta)
        return CENTRE + r * complex(math.cos(theta), math.sin(theta))


def _sample_ring(dice: _Dice, style: LogogramStyle) -> _Ring:
    """Sample the ring's radius, thickness profile, edge ripples and optional gap."""
    radius = dice.uniform(*style.ring_radius)
    thickness = dice.uniform(*style.ring_thickness)
    wobble = _Sinusoids(dice, _WOBBLE_HARMONICS, style.ring_wobble)
    variation = _Sinusoids(dice, _THICKNESS_HARMONICS, dice.uniform(*style.thickness_variation))
    outer_ripple = _Sinusoids(dice, _RIPPLE_HARMONICS, style.edge_roughness)
    inner_ripple = _Sinusoids(dice, _RIPPLE_HARMONICS, style.edge_roughness)
    start, span = dice.random() * TAU, TAU
    if dice.random() < style.gap_probability:
        gap = dice.uniform(*style.gap_width)
        start, span = start + gap / 2.0, TAU - gap
    return _Ring(radius, thickness, wobble, variation, outer_ripple, inner_ripple, start, span)


def _ring_outline(ring: _Ring, points: int) -> np.ndarray:
    """The ring as one polygon of 2 * `points` vertices: outer edge, then inner edge back."""
    along = np.arange(points) * (ring.span / (points - 1))  # angle from the start of the arc
    theta = ring.start + along
    wobble, variation, outer_ripple, inner_ripple = _evaluate(
        [ring.wobble, ring.variation, ring.outer_ripple, ring.inner_ripple], theta
    )
    radius = ring.radius * (1.0 + wobble)
    thick = ring.thickness * np.exp(variation)
    if ring.span < TAU:
        # The brush lifting off the paper: the ends of a broken ring thin out over 0.4 rad.
        thick *= np.minimum(np.minimum(along, along[::-1]) * 2.5, 1.0) ** 0.7
    outer = radius + thick * (0.5 + outer_ripple)
    inner = radius - thick * (0.5 + inner_ripple)
    direction = np.exp(1j * theta)
    return CENTRE + np.concatenate([outer * direction, (inner * direction)[::-1]])


class _Stroke(NamedTuple):
    """A tapering brush stroke as a few numbers; `_stroke_outlines` traces many at once.

    Along the stroke, s runs from 0 (base) to 1 (tip). The curvature, in radians per unit length, is
    bend + growth * s + wiggle * sin(pi * s) + curl * 2.5 * s**1.5. The full width is
    linear * (1 - s) + quadratic * (1 - s)**2 + flat, plus a hairline.
    """

    base: complex
    heading: float
    length: float
    bend: float
    growth: float
    wiggle: float
    curl: float
    linear: float
    quadratic: float
    flat: float


_STROKE_POINTS = 32  # vertices along each side; keeps the tightest hook curls smooth at 1024 px
_S = np.linspace(0.0, 1.0, _STROKE_POINTS)
# Turning from the base per unit length: the integrals over [0, s] of the curvature terms.
_TURN_BASIS = np.stack([_S, _S**2 / 2.0, (1.0 - np.cos(math.pi * _S)) / math.pi, _S**2.5])
# Cumulative trapezoid rule as a matrix: (f @ _INTEGRATE)[i] is the integral of f over [0, s_i].
_INTEGRATE = np.triu(np.ones((_STROKE_POINTS, _STROKE_POINTS)))
_INTEGRATE[0, :] -= 0.5
_INTEGRATE -= 0.5 * np.eye(_STROKE_POINTS)
_INTEGRATE /= _STROKE_POINTS - 1
_WIDTH_BASIS = np.stack([1.0 - _S, (1.0 - _S) ** 2, np.ones_like(_S)])
_HAIRLINE = 0.002  # width every stroke keeps at its tip, so tips fade rather than vanish


def _stroke_outlines(strokes: list[_Stroke], style: LogogramStyle) -> list[np.ndarray]:
    """Outline polygons of `strokes`, all traced in one batch of matrix products."""
    if not strokes:
        return []
    table = np.array(strokes, dtype=np.complex128)  # one row per stroke; all but `base` are real
    base, params = table[:, 0:1], table[:, 1:].real
    heading, length = params[:, 0:1], params[:, 1:2]
    tangent = np.exp(1j * (heading + length * (params[:, 2:6] @ _TURN_BASIS)))
    travel = (tangent @ _INTEGRATE) * length  # offset of each point from the base
    # Shrinking a stroke about its base, widths included, keeps its look but keeps it in bounds.
    scale = _radial_fit(base, travel, style)
    points = base + travel * scale
    widths = (params[:, 6:9] @ _WIDTH_BASIS + _HAIRLINE) * scale
    offset = 0.5j * tangent * widths  # the left-hand normal, half a width long
    return list(np.concatenate([points + offset, (points - offset)[:, ::-1]], axis=1))


def _radial_fit(base: np.ndarray, travel: np.ndarray, style: LogogramStyle) -> np.ndarray:
    """Per-stroke factor (a column) that shrinks each path about its base until it lies between
    the inner and outer limits around the centre."""
    dist = np.abs(base + travel - CENTRE)
    scales = []
    rows = zip(dist[:, 0].tolist(), dist.max(axis=1).tolist(), dist.min(axis=1).tolist())
    for r0, far, near in rows:
        scale = 1.0
        if far > style.outer_limit:
            scale = (style.outer_limit - r0) / max(far - r0, 1e-9)
        if near < style.inner_limit:
            scale = min(scale, (r0 - style.inner_limit) / max(r0 - near, 1e-9))
        scales.append(min(max(scale, 0.05), 1.0))
    return np.array(scales)[:, None]


@dataclass
class _Parts:
    """A glyph's sampled shapes, kept by kind so that each kind is outlined in one batch."""

    strokes: list[_Stroke] = field(default_factory=list)
    blobs: list[tuple] = field(default_factory=list)  # `_blob` rows
    dots: list[tuple[float, float, float, float]] = field(default_factory=list)  # ellipse boxes


def _tendril(dice: _Dice, ring: _Ring, theta: float, style: LogogramStyle, parts: _Parts) -> None:
    """A tapering curved stroke leaving the ring outward (mostly) or inward, with thin wisps."""
    outward = dice.random() < 0.75
    side = 1.0 if outward else -1.0
    base = ring.edge_point(theta, 0.25 * side)  # starts inside the ink so the joint is seamless
    # Leave at a slant, then mostly curve round with the ring (whose own curvature is about 3 per
    # unit length), so long strokes sweep around it like brush flicks instead of spiking outward.
    lean = dice.sign() * dice.uniform(0.5, 1.35)
    heading = theta + (0.0 if outward else math.pi) + lean
    length = dice.uniform(0.12, 0.38) if outward else dice.uniform(0.06, 0.14)
    bend = math.copysign(dice.uniform(-2.0, 8.0), lean)
    wiggle = dice.uniform(-5.0, 5.0)
    # At least 0.03 wide at the base, so strokes off thin stretches of ring still read at 32 px.
    width = max(ring.thickness_at(theta), 0.03) * dice.uniform(0.7, 1.3)
    quick = dice.random()  # 0: straight taper; 1: thins fast, then draws out a long fine tip
    shape = (0.0, bend, wiggle, 0.0, width * (1.0 - quick), width * quick, 0.0)
    parts.strokes.append(_Stroke(base, heading, length, *shape))
    for _ in range(dice.integer(0, 2)):
        # Wisps: thinner, shorter copies fanning out from the same base, like split brush hairs.
        k = dice.uniform(0.45, 0.85)
        shape = (0.0, bend / k, wiggle / k, 0.0, 0.0, width * k * k, 0.0)
        parts.strokes.append(_Stroke(base, heading + dice.uniform(-0.4, 0.4), length * k, *shape))
    # A round blob over the stroke's square base: ink pooled where the brush came down.
    parts.blobs.append(_blob(dice, base, 0.5 * width, 1.0, 0.0))


def _hook(dice: _Dice, ring: _Ring, theta: float, style: LogogramStyle, parts: _Parts) -> None:
    """A short stroke off the ring's outer edge that curls ever tighter towards its tip."""
    base = ring.edge_point(theta, 0.25)
    turn = dice.sign()
    heading = theta + turn * dice.uniform(0.0, 0.6)
    length = dice.uniform(0.06, 0.14)
    total_turn = dice.uniform(2.5, 5.5)  # radians the tip turns through: from a hook to a curl
    # Wider than its turning diameter, the curl would fold over itself; for this width profile
    # that means width < 2.6 * length / total_turn.
    width = min(dice.uniform(0.02, 0.04), 2.6 * length / total_turn)
    curl = turn * total_turn / length
    parts.strokes.append(
        _Stroke(base, heading, length, 0.0, 0.0, 0.0, curl, 0.85 * width, 0.0, 0.15 * width)
    )
    parts.blobs.append(_blob(dice, base, 0.5 * width, 1.0, 0.0))  # rounds off the square base


_BLOB_POINTS = 20
_BLOB_DIRECTIONS = np.exp(1j * np.linspace(0.0, TAU, _BLOB_POINTS, endpoint=False))
# Lumps of a blob's outline: harmonics 2 (oval), 3 and 5 of the angle, as sines then cosines.
_BLOB_HARMONICS = (2.0, 3.0, 5.0)
_BLOB_BASIS = np.concatenate(
    [np.sin(np.outer(_BLOB_HARMONICS, np.angle(_BLOB_DIRECTIONS))),
     np.cos(np.outer(_BLOB_HARMONICS, np.angle(_BLOB_DIRECTIONS)))]
)


def _blob(dice: _Dice, centre: complex, size: float, stretch: float, angle: float) -> tuple:
    """An irregular blob: an ellipse of mean radius `size`, `stretch` times longer along `angle`
    than across, with a lumpy outline.

    Returned as a row (centre, size, stretch, angle, six weights on `_BLOB_BASIS`) for
    `_blob_outlines`.
    """
    lumps = _Sinusoids(dice, _BLOB_HARMONICS, dice.uniform(0.1, 0.3))
    # a * sin(k x + p) = a cos(p) sin(k x) + a sin(p) cos(k x)
    sines = [a * math.cos(p) for _, a, p in lumps.terms]
    cosines = [a * math.sin(p) for _, a, p in lumps.terms]
    return (centre, size, stretch, angle, *sines, *cosines)


def _blob_outlines(blobs: list[tuple]) -> list[np.ndarray]:
    """Outline polygons of blobs given as `_blob` rows, all computed in one batch."""
    if not blobs:
        return []
    table = np.array(blobs, dtype=np.complex128)  # all columns but the centre are real
    centre, (size, stretch, angle) = table[:, 0:1], table[:, 1:4].real.T[..., None]
    radius = size * (1.0 + table[:, 4:].real @ _BLOB_BASIS)
    ellipse = _BLOB_DIRECTIONS.real * stretch + 1j * _BLOB_DIRECTIONS.imag / stretch
    return list(centre + radius * ellipse * np.exp(1j * angle))


def _blot(dice: _Dice, ring: _Ring, theta: float, style: LogogramStyle, parts: _Parts) -> None:
    """Ink pooled on the ring where the brush paused: a swelling along the ring, sometimes with
    a smaller blob or two beside it."""
    for index in range(dice.integer(1, 3)):
        angle = theta + dice.normal(0.0, 0.1) * index  # the first blob sits exactly at `theta`
        centre = ring.edge_point(angle, dice.uniform(0.2, 0.9))
        size = ring.thickness_at(angle) * dice.uniform(0.6, 1.2) + dice.uniform(0.012, 0.03)
        size /= 1.0 + index  # satellites are smaller
        # Keep the blob inside the outer limit so it never touches the frame.
        size = max(min(size, style.outer_limit - abs(centre - CENTRE)), 0.005)
        stretch = dice.uniform(1.2, 2.4) if index == 0 else dice.uniform(0.8, 1.3)
        parts.blobs.append(_blob(dice, centre, size, stretch, angle + math.pi / 2.0))


def _splatter(dice: _Dice, ring: _Ring, theta: float, style: LogogramStyle, parts: _Parts) -> None:
    """A spray of small dots just off the ring's outer edge, flung from the brush."""
    edge = abs(ring.edge_point(theta, 0.5) - CENTRE)  # outer edge's distance from the centre
    for _ in range(dice.integer(3, 8)):
        angle = theta + dice.normal(0.0, 0.12)
        distance = dice.uniform(0.01, 0.07)  # beyond the outer edge; farther dots are smaller
        radius = min(edge + distance, style.outer_limit - 0.012)
        x, y = 0.5 + radius * math.cos(angle), 0.5 + radius * math.sin(angle)
        size = dice.uniform(0.003, 0.012) * (1.0 - 5.0 * distance)
        aspect = dice.uniform(0.7, 1.4)
        rx, ry = size * aspect, size / aspect
        parts.dots.append((x - rx, y - ry, x + rx, y + ry))


# One sampler per entry of FEATURE_KINDS, in the same order. They share one signature, even where
# a sampler ignores `style`, so that `sample_logogram` can pick them from this table.
_FEATURES = (_tendril, _hook, _blot, _splatter)


def _feature_angles(dice: _Dice, ring: _Ring, count: int, style: LogogramStyle) -> list[float]:
    """Where the features sprout: spread around the ring, or bunched at one or two hot spots."""
    if dice.random() < style.cluster_probability:
        spots = [dice.random() * TAU for _ in range(dice.integer(1, 2))]
        angles = [spots[i % len(spots)] + dice.normal(0.0, 0.45) for i in range(count)]
    else:
        # Evenly spaced slots, each jittered by up to 0.3 slot.
        offset = dice.random() * TAU
        angles = [offset + TAU * (slot + dice.uniform(-0.3, 0.3)) / count for slot in range(count)]
    # Squeeze the full turn onto the inked arc, so nothing sprouts from inside a gap.
    return [ring.start + (angle - ring.start) % TAU * (ring.span / TAU) for angle in angles]


def _inner_marks(dice: _Dice, ring: _Ring, style: LogogramStyle, parts: _Parts) -> None:
    """Sometimes, a few small marks inside the ring: short arcs following it, or dots."""
    if dice.random() >= style.inner_mark_probability:
        return
    for _ in range(dice.integer(*style.inner_mark_count)):
        theta = dice.random() * TAU
        room = ring.radius - ring.thickness - style.inner_limit  # the band between centre and ring
        radius = style.inner_limit + max(room, 0.0) * dice.uniform(0.35, 0.75)
        base = CENTRE + radius * complex(math.cos(theta), math.sin(theta))
        if dice.random() < 0.35:
            size = dice.uniform(0.008, 0.016)
            parts.dots.append((base.real - size, base.imag - size, base.real + size, base.imag + size))
            continue
        # An arc along the circle through `base`: curvature 1 / radius turns it with the ring.
        turn = dice.sign()
        width = dice.uniform(0.012, 0.022)
        length = dice.uniform(0.05, 0.12)
        parts.strokes.append(_Stroke(base, theta + turn * math.pi / 2.0, length, turn / radius, 0.0, 0.0, 0.0,
                                     0.4 * width, 0.0, 0.6 * width))


def _check_seed(seed: int) -> int:
    """The seed as an int, or ValueError if it is negative (numpy integers are accepted)."""
    seed = operator.index(seed)  # random.Random would reject numpy integers
    if seed < 0:
        raise ValueError(f"logogram seed must be a non-negative integer, got {seed}")
    return seed


def _outline(ring: _Ring, parts: _Parts, style: LogogramStyle, ring_points: int) -> LogogramGeometry:
    """The ring and the sampled parts as filled shapes."""
    polygons = [
        _ring_outline(ring, ring_points),
        *_stroke_outlines(parts.strokes, style),
        *_blob_outlines(parts.blobs),
    ]
    return LogogramGeometry(polygons=polygons, ellipses=parts.dots)


def sample_logogram(
    seed: int, style: LogogramStyle | None = None, ring_points: int = 240
) -> LogogramGeometry:
    """The glyph for `seed` as shapes in unit coordinates.

    The shape depends on `seed` and `style` only; `ring_points` sets how many vertices trace each
    edge of the ring (more for larger images). Raises ValueError for a negative seed.
    """
    style = style or _DEFAULT_STYLE
    dice = _Dice(_check_seed(seed))
    ring = _sample_ring(dice, style)
    count = dice.integer(*style.feature_count)
    parts = _Parts()
    for theta in _feature_angles(dice, ring, count, style):
        feature = _FEATURES[dice.pick(style.feature_weights)]
        feature(dice, ring, theta, style, parts)
    _inner_marks(dice, ring, style, parts)
    return _outline(ring, parts, style, ring_points)


def compose_logogram(ring_seed: int, features: list[tuple[int, float]], style: LogogramStyle | None = None,
                     ring_points: int = 240) -> LogogramGeometry:
    """A glyph assembled from chosen parts: the ring and inner marks of `ring_seed`, and one feature per
    `(feature_seed, turn)` pair, sprouting at the angle `turn` x 2 pi (a feature that would fall in the
    ring's gap moves to the nearer end of the ink).

    A feature's kind and shape depend on its own seed only, so the same seed looks the same, in the same
    place, on any ring.
    """
    style = style or _DEFAULT_STYLE
    dice = _Dice(_check_seed(ring_seed))
    ring = _sample_ring(dice, style)
    parts = _Parts()
    for feature_seed, turn in features:
        along = (turn * TAU - ring.start) % TAU  # angle from the start of the inked arc
        if along > ring.span:  # in the gap: to the nearer end, a little inside the ink
            along = ring.span - 0.1 if along - ring.span < TAU - along else 0.1
        theta = ring.start + along
        feature_dice = _Dice(_check_seed(feature_seed))
        _FEATURES[feature_dice.pick(style.feature_weights)](feature_dice, ring, theta, style, parts)
    _inner_marks(dice, ring, style, parts)
    return _outline(ring, parts, style, ring_points)


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


def ring_points_for(resolution: int) -> int:
    """Vertices per ring edge for a resolution: one per 6 supersampled pixels of circumference or so.

    The chord error stays around 0.1 supersampled pixel, and Pillow's polygon fill slows with the
    vertex count.
    """
    return min(max(resolution * _supersampling(resolution) // 3, 48), 960)


def render_logogram(seed: int, resolution: int, style: LogogramStyle | None = None) -> np.ndarray:
    """Render the glyph for `seed` as a (resolution, resolution) uint8 array.

    255 is paper and values near 0 are ink. The same seed gives the same shape at every resolution
    and identical bytes for the same (seed, resolution, style). Raises ValueError for a resolution
    outside 8..1024 or a negative seed.
    """
    resolution = _check_resolution(resolution)
    style = style or _DEFAULT_STYLE
    geometry = sample_logogram(seed, style, ring_points=ring_points_for(resolution))
    return render_geometry(geometry, resolution, style, ink_seed=seed)


def render_geometry(geometry: LogogramGeometry, resolution: int, style: LogogramStyle | None = None,
                    ink_seed: int = 0) -> np.ndarray:
    """Fill a glyph's shapes as a (resolution, resolution) uint8 array (255 paper), then ink it.

    `ink_seed` draws the ink's darkness, mottling and bleed, so a seed gives identical bytes.
    """
    resolution = _check_resolution(resolution)
    style = style or _DEFAULT_STYLE
    factor = _supersampling(resolution)
    size = resolution * factor
    image = Image.new("L", (size, size), PAPER)
    draw = ImageDraw.Draw(image)
    # Pillow reads a float32 buffer as flat x0, y0, x1, y1, ... coordinates; handing it slices of
    # one scaled complex64 array skips building Python float lists, the slowest step at small sizes.
    flat = (np.concatenate(geometry.polygons) * size).astype(np.complex64).view(np.float32)
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
    return _ink(image, resolution, style, ink_seed)


_MOTTLE_CELLS = 5  # the ink's darkness varies over a 5 x 5 grid across the glyph, smoothly interpolated


def _ink(shapes: Image.Image, resolution: int, style: LogogramStyle, seed: int) -> np.ndarray:
    """Ink the filled shapes (L image, 0 = shape): uneven bleed into the paper and mottled darkness."""
    coverage = 1.0 - np.asarray(shapes, dtype=np.float32) / PAPER  # (R, R), 1 inside the shapes
    rng = np.random.default_rng(seed)
    # Slow noise in [0, 1]: a coarse random grid resized smoothly (bicubic) to the image.
    cells = rng.integers(0, 256, size=(2, _MOTTLE_CELLS, _MOTTLE_CELLS), dtype=np.uint8)
    mottle, soak = (np.asarray(Image.fromarray(c).resize((resolution, resolution), Image.Resampling.BICUBIC),
                               dtype=np.float32) / 255.0 for c in cells)
    spread = style.bleed * resolution  # in output pixels
    if spread >= 0.3:
        blurred = np.asarray(shapes.filter(ImageFilter.GaussianBlur(spread)), dtype=np.float32)
        # Ink soaks further where the paper is more absorbent (`soak`), never less than the shapes themselves.
        bled = np.clip((1.0 - blurred / PAPER) * (0.8 + 1.2 * soak), 0.0, 1.0)
        coverage = np.maximum(coverage, bled)
    # Mottling shows inside solid ink (coverage**4 ~ 1), sparing thin strokes and edges, and fades in from
    # 32 px (none) to 128 px (full): a small glyph is all edges, and must stay dark ink on paper.
    texture = style.ink_texture * min(max((resolution - 32) / 96, 0.0), 1.0)
    darkness = rng.uniform(*style.ink_density) * (1.0 - texture * mottle * coverage**4)
    return np.round(PAPER * (1.0 - coverage * darkness)).astype(np.uint8)
