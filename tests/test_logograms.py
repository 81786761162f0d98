"""Tests for the procedural logogram renderer."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from reelgan.data.logograms import LogogramStyle, render_logogram, sample_logogram

MODULE_FILE = Path(__file__).resolve().parents[1] / "src" / "reelgan" / "data" / "logograms.py"


def _radii(size: int) -> np.ndarray:
    """Distance of each pixel centre from the image centre, in units of the image width."""
    yy, xx = np.mgrid[:size, :size]
    return np.hypot(xx + 0.5 - size / 2, yy + 0.5 - size / 2) / size


def _downsample_2x(image: np.ndarray) -> np.ndarray:
    """Average 2 x 2 blocks."""
    h, w = image.shape
    return image.reshape(h // 2, 2, w // 2, 2).astype(np.float64).mean(axis=(1, 3))


def test_same_seed_gives_identical_bytes() -> None:
    first = render_logogram(1234, 48)
    second = render_logogram(1234, 48)
    assert first.tobytes() == second.tobytes()


def test_same_seed_gives_identical_bytes_in_another_process() -> None:
    # A fresh interpreter with a different hash seed loads the renderer straight from its file
    # (skipping the package's heavier imports) and must produce the same bytes.
    code = (
        "import hashlib, importlib.util, sys; "
        "spec = importlib.util.spec_from_file_location('logograms', sys.argv[1]); "
        "module = sys.modules['logograms'] = importlib.util.module_from_spec(spec); "
        "spec.loader.exec_module(module); "
        "print(hashlib.sha256(module.render_logogram(98765, 40).tobytes()).hexdigest())"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    result = subprocess.run(
        [sys.executable, "-c", code, str(MODULE_FILE)],
        env=env, capture_output=True, text=True, check=True, timeout=60,
    )
    expected = hashlib.sha256(render_logogram(98765, 40).tobytes()).hexdigest()
    assert result.stdout.strip() == expected


def test_different_seeds_give_different_images() -> None:
    images = [render_logogram(seed, 32).tobytes() for seed in range(20)]
    assert len(set(images)) == 20


@pytest.mark.parametrize("resolution", [8, 16, 32, 64, 100])
def test_dtype_and_shape(resolution: int) -> None:
    image = render_logogram(5, resolution)
    assert image.dtype == np.uint8
    assert image.shape == (resolution, resolution)


@pytest.mark.parametrize("resolution", [32, 64, 100])
def test_ink_on_paper(resolution: int) -> None:
    for seed in range(10):
        image = render_logogram(seed, resolution)
        border = np.concatenate([image[0], image[-1], image[:, 0], image[:, -1]])
        assert (image < 64).sum() > 0.02 * image.size, "too little dark ink"
        assert (border > 200).mean() > 0.95, "border should be paper"
        assert np.median(image) > 240, "most of the image should be paper"


def test_glyph_fits_inside_the_frame() -> None:
    # Every feature stays within 0.47 of the width from the centre, so the outermost pixels of a
    # 64 px image never get ink, over many seeds.
    for seed in range(200):
        image = render_logogram(seed, 64)
        border = np.concatenate([image[0], image[-1], image[:, 0], image[:, -1]])
        assert border.min() > 250, f"seed {seed} touches the frame"


def test_it_is_a_ring() -> None:
    size = 64
    radii = _radii(size)
    annulus = (radii > 0.26) & (radii < 0.37)
    centre = radii < 0.1
    ink = [255.0 - render_logogram(seed, size).astype(np.float64) for seed in range(20)]
    annulus_ink = np.mean([image[annulus].mean() for image in ink])
    centre_ink = np.mean([image[centre].mean() for image in ink])
    assert annulus_ink > 50.0
    assert annulus_ink > 10.0 * centre_ink + 20.0


def test_thickness_varies_around_the_ring() -> None:
    # Ink along radial rays at different angles should differ: not a uniform circle.
    image = 255.0 - render_logogram(3, 256).astype(np.float64)
    radii = _radii(256)
    yy, xx = np.mgrid[:256, :256]
    angles = np.arctan2(yy + 0.5 - 128, xx + 0.5 - 128)
    band = (radii > 0.2) & (radii < 0.45)
    sectors = [
        image[band & (angles >= a) & (angles < a + np.pi / 8)].sum()
        for a in np.linspace(-np.pi, np.pi, 16, endpoint=False)
    ]
    assert max(sectors) > 1.5 * min(sectors)


def test_same_shape_at_every_resolution() -> None:
    same, other = [], []
    for seed in range(10):
        small = render_logogram(seed, 32).astype(np.float64)
        same.append(np.abs(_downsample_2x(render_logogram(seed, 64)) - small).mean())
        other.append(np.abs(_downsample_2x(render_logogram(seed + 100, 64)) - small).mean())
    assert max(same) < 6.0
    assert np.mean(other) > 3.0 * np.mean(same)


def test_geometry_does_not_depend_on_resolution() -> None:
    coarse = sample_logogram(77, ring_points=64)
    fine = sample_logogram(77, ring_points=512)
    assert len(coarse.polygons) == len(fine.polygons)
    for a, b in zip(coarse.polygons[1:], fine.polygons[1:]):  # all but the ring
        np.testing.assert_array_equal(a, b)
    assert coarse.ellipses == fine.ellipses


@pytest.mark.parametrize("resolution", [0, -1, -64, 7, 1025])
def test_bad_resolution_raises(resolution: int) -> None:
    with pytest.raises(ValueError):
        render_logogram(0, resolution)


def test_non_integer_resolution_raises() -> None:
    with pytest.raises(ValueError):
        render_logogram(0, 32.5)  # type: ignore[arg-type]


def test_negative_seed_raises() -> None:
    with pytest.raises(ValueError):
        render_logogram(-1, 32)


def test_numpy_integers_are_accepted() -> None:
    image = render_logogram(np.int64(3), np.int32(24))
    assert image.tobytes() == render_logogram(3, 24).tobytes()


def test_style_is_frozen_and_changes_the_glyph() -> None:
    style = LogogramStyle()
    with pytest.raises(dataclasses.FrozenInstanceError):
        style.feature_count = (0, 0)  # type: ignore[misc]
    bare = LogogramStyle(feature_count=(0, 0), gap_probability=0.0)
    plain = sample_logogram(4, bare)
    assert len(plain.polygons) == 1 and not plain.ellipses
    assert render_logogram(4, 32, bare).tobytes() != render_logogram(4, 32).tobytes()


def test_ring_radius_follows_the_style() -> None:
    size = 128
    radii = _radii(size)
    for low, high in [(0.2, 0.2), (0.35, 0.35)]:
        style = LogogramStyle(ring_radius=(low, high), feature_count=(0, 0), gap_probability=0.0)
        ink = 255.0 - render_logogram(9, size, style).astype(np.float64)
        mean_radius = (ink * radii).sum() / ink.sum()
        assert abs(mean_radius - low) < 0.02


def test_pillow_reads_float32_buffers_as_coordinates() -> None:
    # The renderer hands Pillow float32 arrays instead of Python lists; the fills must match.
    xy = np.array([3.2, 4.1, 40.7, 10.3, 30.5, 44.9, 6.6, 30.2], dtype=np.float32)
    from_buffer, from_list = Image.new("L", (48, 48), 255), Image.new("L", (48, 48), 255)
    ImageDraw.Draw(from_buffer).polygon(xy, fill=0)
    ImageDraw.Draw(from_list).polygon(xy.tolist(), fill=0)
    assert np.array_equal(np.array(from_buffer), np.array(from_list))
    assert (np.array(from_list) == 0).sum() > 500
