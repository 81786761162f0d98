"""Glyph vector output: SVG tracing and transparent PNGs, with their provenance records."""

from __future__ import annotations

import re
import sys
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from PIL import Image, ImageDraw

from reelgan.data.logograms import render_logogram
from reelgan.errors import ReelganError
from reelgan.glyphs.vector import ink_alpha, read_svg_record, trace_svg, transparent_png, write_svg
from reelgan.provenance import make_record, read_record

SVG = "{http://www.w3.org/2000/svg}"
_TOKEN = re.compile(r"[MLCZ]|-?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?", re.IGNORECASE)


def _ring(size: int = 64) -> np.ndarray:
    """A synthetic glyph: a pure-black ring (exact 0 ink) on 255 paper, (size, size) uint8."""
    image = Image.new("L", (size, size), 255)
    ImageDraw.Draw(image).ellipse([size * 0.2, size * 0.2, size * 0.8, size * 0.8], outline=0, width=size // 8)
    return np.array(image)


def _paths(svg: str) -> tuple[ET.Element, list[ET.Element]]:
    root = ET.fromstring(svg)
    return root, list(root.iter(f"{SVG}path"))


def _subpaths(path: ET.Element, scale: float) -> list[np.ndarray]:
    """The path's subpaths as (N, 2) point arrays in viewBox units (curve control points included)."""
    dx, dy = map(float, re.findall(r"-?[\d.]+", path.get("transform", "translate(0,0)")))
    out, points = [], []
    for token in _TOKEN.findall(path.get("d")):
        if token.upper() == "Z" and points:
            out.append(points)
            points = []
        elif token.upper() not in "MLC":
            points.append(float(token))
    if points:
        out.append(points)
    return [(np.array(p).reshape(-1, 2) + (dx, dy)) * scale for p in out]


def _rasterise(svg: str, grid: int) -> np.ndarray:
    """(grid, grid) bool: pixel centres inside the traced ink (even-odd rule, curves as polygons)."""
    mpath = pytest.importorskip("matplotlib.path")
    root, paths = _paths(svg)
    view = float(root.get("viewBox").split()[2])
    group = root.find(f"{SVG}g")
    scale = float(re.findall(r"[\d.]+", group.get("transform", "scale(1)"))[0])
    centres = (np.stack(np.meshgrid(np.arange(grid), np.arange(grid)), -1).reshape(-1, 2) + 0.5) * view / grid
    inside = np.zeros(grid * grid, dtype=bool)
    for path in paths:
        parity = np.zeros(grid * grid, dtype=bool)
        for points in _subpaths(path, scale):
            parity ^= mpath.Path(points).contains_points(centres)
        inside |= parity
    return inside.reshape(grid, grid)


def test_ink_alpha_is_inverted_gray() -> None:
    gray = render_logogram(1, 64)
    alpha = ink_alpha(gray)
    assert alpha.shape == (64, 64) and alpha.dtype == np.uint8
    assert np.array_equal(alpha.astype(int), 255 - gray.astype(int))
    with pytest.raises(ReelganError, match="grayscale"):
        ink_alpha(np.zeros((8, 8, 3), dtype=np.uint8))


def test_svg_structure_has_ink_paths_and_no_background() -> None:
    svg = trace_svg(render_logogram(3, 64))
    root, paths = _paths(svg)
    assert root.tag == f"{SVG}svg"
    assert root.get("viewBox") == "0 0 512 512" and root.get("width") == "512"
    assert len(paths) >= 1
    assert "rect" not in svg and "#FFFFFF" not in svg.upper()
    assert all(p.get("fill") is None for p in paths)  # the one black fill is on the group
    assert root.find(f"{SVG}g").get("fill") == "#000000"
    for path in paths:  # no path spans the whole canvas (a paper rectangle would)
        points = np.concatenate(_subpaths(path, 1.0))
        assert (points.max(0) - points.min(0)).min() < 500


def test_svg_size_sets_view_box() -> None:
    root, paths = _paths(trace_svg(render_logogram(3, 64), size=128))
    assert root.get("viewBox") == "0 0 128 128" and root.get("height") == "128"
    assert len(paths) >= 1


def test_traced_shape_matches_the_ink() -> None:
    gray = render_logogram(0, 64)
    traced = _rasterise(trace_svg(gray, size=64), grid=64)
    ink = gray < 128
    iou = (traced & ink).sum() / (traced | ink).sum()
    assert iou > 0.85, iou
    ring = _ring()
    traced = _rasterise(trace_svg(ring, size=64), grid=64)
    assert not traced[32, 32] and not traced[0, 0]  # the hole and the paper stay empty
    assert traced[32, 14]  # the ring's left side is ink


def test_more_ink_gives_more_path_data() -> None:
    blank = np.full((64, 64), 255, dtype=np.uint8)
    assert _paths(trace_svg(blank))[1] == []
    gray = render_logogram(2, 64)
    more = gray.copy()
    more[4:12, 4:12] = 0  # an extra blob in a corner
    few, many = _paths(trace_svg(gray))[1], _paths(trace_svg(more))[1]
    assert len(many) == len(few) + 1
    assert sum(len(p.get("d")) for p in many) > sum(len(p.get("d")) for p in few)


def test_svg_carries_the_record(tmp_path) -> None:
    record = make_record(generator_hash="abc123", seed=7, glyph="ring")
    out = write_svg(render_logogram(7, 64), tmp_path / "g.svg", size=256, record=record)
    text = out.read_text(encoding="utf-8")
    root = ET.fromstring(text)
    assert "AI-generated" in root.find(f"{SVG}title").text
    assert read_svg_record(text) == record
    assert "trainedAlgorithmicMedia" in text
    assert [p.name for p in tmp_path.iterdir()] == ["g.svg"]  # no temp file left behind
    plain = trace_svg(render_logogram(7, 64))
    assert read_svg_record(plain) is None and "<title>" not in plain


def test_transparent_png(tmp_path) -> None:
    gray = render_logogram(0, 64)
    record = make_record(generator_hash="abc123", seed=0)
    out = transparent_png(gray, tmp_path / "g.png", size=256, record=record)
    with Image.open(out) as im:
        assert im.mode == "RGBA" and im.size == (256, 256)
        pixels = np.array(im)
    alpha = pixels[:, :, 3]
    assert alpha[0, 0] == alpha[0, -1] == alpha[-1, 0] == alpha[-1, -1] == 0
    y, x = np.unravel_index(np.argmin(gray), gray.shape)
    assert alpha[y * 4 + 2, x * 4 + 2] > 200  # the darkest ink pixel, scaled 4x
    assert (pixels[:, :, :3] == 0).all()
    assert read_record(out) == record


def test_transparent_png_ring_is_opaque_ink(tmp_path) -> None:
    out = transparent_png(_ring(), tmp_path / "ring.png", color=(200, 30, 10))
    pixels = np.array(Image.open(out))
    assert pixels.shape == (64, 64, 4)
    assert pixels[32, 14, 3] == 255  # on the ring
    assert pixels[32, 32, 3] == 0 and pixels[0, 0, 3] == 0  # hole and paper
    assert tuple(pixels[32, 14, :3]) == (200, 30, 10)
    assert read_record(out) is None


@pytest.mark.parametrize("size", [2048, 4])
def test_size_out_of_range_raises(tmp_path, size) -> None:
    with pytest.raises(ReelganError, match="1024"):
        transparent_png(_ring(), tmp_path / "g.png", size=size)
    with pytest.raises(ReelganError, match="1024"):
        trace_svg(_ring(), size=size)
    assert list(tmp_path.iterdir()) == []


def test_bad_color_and_record_raise(tmp_path) -> None:
    with pytest.raises(ReelganError, match="color"):
        transparent_png(_ring(), tmp_path / "g.png", color=(0, 0, 300))
    with pytest.raises(ReelganError, match="AI-generated"):
        trace_svg(_ring(), record={"seed": 1})


def test_missing_vtracer_names_the_fix(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "vtracer", None)  # makes `import vtracer` fail
    with pytest.raises(ReelganError, match="pip install vtracer"):
        trace_svg(_ring())
