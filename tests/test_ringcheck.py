"""The ring detector: procedural glyphs pass, things that are not logograms fail."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw

from reelgan.data.logograms import render_logogram
from reelgan.errors import ReelganError
from reelgan.gan.nets import build_generator
from reelgan.glyphs.ringcheck import is_logogram, logogram_rate, radial_profile, ring_scores, to_ink

R = 32
SUPERSAMPLE = 4


def _draw(shapes) -> np.ndarray:
    """A (R, R) uint8 image (255 paper): `shapes(draw, size)` draws on a supersampled canvas."""
    size = R * SUPERSAMPLE
    image = Image.new("L", (size, size), 255)
    shapes(ImageDraw.Draw(image), size)
    return np.array(image.reduce(SUPERSAMPLE), dtype=np.uint8)


def _ring(draw: ImageDraw.ImageDraw, size: int, cx: float, cy: float, radius: float, width: float,
          start: float = 0.0, span: float = 360.0) -> None:
    """An arc of ink (angles in degrees, lengths in image widths) centred on (cx, cy)."""
    box = [(cx - radius - width / 2) * size, (cy - radius - width / 2) * size,
           (cx + radius + width / 2) * size, (cy + radius + width / 2) * size]
    draw.arc(box, start, start + span, fill=0, width=max(1, round(width * size)))


def blank(rng: np.random.Generator) -> np.ndarray:
    """Empty paper."""
    return np.full((R, R), 255, dtype=np.uint8)


def noise(rng: np.random.Generator) -> np.ndarray:
    """Uniform random pixels."""
    return rng.integers(0, 256, (R, R), dtype=np.uint8)


def filled_disc(rng: np.random.Generator) -> np.ndarray:
    """A solid ink disc on the centre."""
    radius = rng.uniform(0.2, 0.4)
    return _draw(lambda d, s: d.ellipse([(0.5 - radius) * s, (0.5 - radius) * s,
                                         (0.5 + radius) * s, (0.5 + radius) * s], fill=0))


def blobs_and_strokes(rng: np.random.Generator) -> np.ndarray:
    """Ellipses and straight strokes scattered anywhere, not forming a ring."""
    def shapes(draw: ImageDraw.ImageDraw, size: int) -> None:
        for _ in range(rng.integers(2, 7)):
            (x, y), (rx, ry) = rng.uniform(0.1, 0.9, 2) * size, rng.uniform(0.03, 0.12, 2) * size
            draw.ellipse([x - rx, y - ry, x + rx, y + ry], fill=0)
        for _ in range(rng.integers(1, 5)):
            width = int(rng.uniform(0.02, 0.06) * size)
            draw.line(list(rng.uniform(0.05, 0.95, 4) * size), fill=0, width=width)
    return _draw(shapes)


def off_centre_ring(rng: np.random.Generator) -> np.ndarray:
    """A closed ring whose centre lies 0.25..0.3 widths from the image centre."""
    angle, distance = rng.uniform(0, 2 * math.pi), rng.uniform(0.25, 0.3)
    cx, cy = 0.5 + distance * math.cos(angle), 0.5 + distance * math.sin(angle)
    radius, width = rng.uniform(0.15, 0.22), rng.uniform(0.03, 0.06)
    return _draw(lambda d, s: _ring(d, s, cx, cy, radius, width))


def half_ring(rng: np.random.Generator) -> np.ndarray:
    """An arc of a third to two thirds of a turn around the centre."""
    radius, width = rng.uniform(0.26, 0.33), rng.uniform(0.03, 0.06)
    start, span = rng.uniform(0, 360), rng.uniform(120, 240)
    return _draw(lambda d, s: _ring(d, s, 0.5, 0.5, radius, width, start, span))


def inked_centre(rng: np.random.Generator) -> np.ndarray:
    """A procedural glyph with an ink dot over its centre."""
    radius = rng.uniform(0.1, 0.2)
    dot = _draw(lambda d, s: d.ellipse([(0.5 - radius) * s, (0.5 - radius) * s,
                                        (0.5 + radius) * s, (0.5 + radius) * s], fill=0))
    return np.minimum(render_logogram(int(rng.integers(10**6)), R), dot)


def grey_glyph(rng: np.random.Generator) -> np.ndarray:
    """A procedural glyph in mid-grey instead of ink, as a generator that has learned only the average
    glyph paints it."""
    glyph = render_logogram(int(rng.integers(10**6)), R).astype(np.float32)
    return np.round(255 - (255 - glyph) * 0.55).astype(np.uint8)


NEGATIVES = [blank, noise, filled_disc, blobs_and_strokes, off_centre_ring, half_ring, inked_centre, grey_glyph]


@pytest.fixture(scope="module")
def real() -> np.ndarray:
    """(200, R, R) uint8 procedural glyphs."""
    return np.stack([render_logogram(seed, R) for seed in range(200)])


def test_procedural_glyphs_pass(real):
    assert logogram_rate(real) >= 0.95
    assert logogram_rate(np.stack([render_logogram(seed, 64) for seed in range(50)])) >= 0.95


@pytest.mark.parametrize("make", NEGATIVES, ids=lambda f: f.__name__)
def test_negatives_fail(make):
    rng = np.random.default_rng(7)
    images = np.stack([make(rng) for _ in range(100)])
    assert logogram_rate(images) <= 0.05


def test_untrained_generator_fails():
    torch.manual_seed(0)
    net = build_generator("dcgan", resolution=R, channels=1, latent_dim=128, width=16, max_width=128).eval()
    with torch.no_grad():
        samples = net(torch.randn(100, 128), None)  # (100, 1, R, R) in [-1, 1]
    assert logogram_rate(samples) <= 0.05


def test_numpy_and_torch_agree(real):
    as_tensor = torch.from_numpy(real).float()[:, None] / 127.5 - 1.0  # (N, 1, R, R), -1 = ink
    from_numpy, from_torch = ring_scores(real), ring_scores(as_tensor)
    for key in from_numpy:
        np.testing.assert_allclose(from_numpy[key], from_torch[key], atol=1e-4, equal_nan=True)
    np.testing.assert_array_equal(is_logogram(real), is_logogram(as_tensor))
    rgb = np.repeat(real[:20, None], 3, axis=1)  # (20, 3, R, R)
    np.testing.assert_array_equal(is_logogram(rgb), is_logogram(real[:20]))
    assert is_logogram(real[0]).shape == (1,)


def test_rgba_is_composited_on_white(real):
    ink = 255 - real[:20, None]
    rgba = np.concatenate([np.zeros((20, 3, R, R), np.uint8), ink], axis=1)  # black ink, alpha = ink
    np.testing.assert_allclose(to_ink(rgba), to_ink(real[:20]), atol=1e-6)


def test_radial_profile_finds_a_ring_at_its_radius():
    glyph = _draw(lambda d, s: _ring(d, s, 0.5, 0.5, 0.3, 0.05))
    profile = radial_profile(to_ink(glyph), angles=48)  # (1, 48, R // 2), radii (k + 0.5) / R
    assert profile.shape == (1, 48, R // 2)
    peak = (profile[0].argmax(dim=1).float() + 0.5) / R
    assert torch.all((peak - 0.3).abs() <= 1.5 / R)
    assert profile[0, :, :3].max() == 0  # empty centre


def test_bad_shapes_raise():
    with pytest.raises(ReelganError, match="channels"):
        ring_scores(np.zeros((2, 2, R, R), np.uint8))
    with pytest.raises(ReelganError, match="square"):
        ring_scores(np.zeros((2, R, R + 1), np.uint8))
