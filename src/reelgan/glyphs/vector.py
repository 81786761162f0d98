"""Vector and transparent glyph output: SVG tracing (vtracer) and RGBA PNGs with ink as alpha.

Glyphs here are (H, W) uint8 grayscale arrays, 255 paper and 0 ink, as `render_logogram` and
the generators make them. Both outputs drop the paper: an SVG holds only the ink shapes, and a
PNG is the ink colour everywhere with the ink amount as alpha.
"""

from __future__ import annotations

import io
import operator
import os
import xml.etree.ElementTree as ET
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import numpy as np
from PIL import Image

from ..errors import ReelganError
from ..media.images import as_hwc, atomic_path, save_png, upscale
from ..provenance import REELGAN_NS, check_record, record_json, xmp_packet

MIN_SIZE = 8  # px, smallest output size
MAX_SIZE = 1024  # px, largest output size
TRACE_SIZE = 512  # px, longer side that small glyphs are upsampled to before tracing
INK_THRESHOLD = 128  # gray values below this are ink when tracing

_SVG_NS = "http://www.w3.org/2000/svg"
_VTRACER_INK = "#000000"  # the fill vtracer gives traced (dark) shapes in binary mode
_METADATA_ID = "reelgan-provenance"

# vtracer settings, tuned for glyphs upsampled to about TRACE_SIZE px:
_TRACE_OPTIONS = {
    "colormode": "binary",  # one ink layer; dark pixels are traced, paper is left empty
    "mode": "spline",  # cubic Bezier curves, smooth strokes at any zoom
    "filter_speckle": 4,  # drop specks under ~4x4 traced px (well under one pixel of a 64 px glyph)
    "corner_threshold": 60,  # degrees; sharper turns stay corners (brush ends, ticks)
    "length_threshold": 4.0,  # traced px; shorter segments are merged, so curves do not wobble
    "splice_threshold": 45,  # degrees; where a spline is split into pieces
    "path_precision": 2,  # decimals in path data: 0.01 traced px is invisible and keeps files small
}


def _check_gray(gray: np.ndarray) -> np.ndarray:
    """Validate a glyph and return it as (H, W) uint8."""
    image = as_hwc(gray, "glyph")
    if image.shape[2] != 1:
        raise ReelganError(
            f"glyph must be a (H, W) grayscale array, got shape {gray.shape}; convert it to gray first"
        )
    return image[:, :, 0]


def _check_size(size: int | None) -> int | None:
    """The output size in px (longer side) as an int in MIN_SIZE..MAX_SIZE, or None."""
    if size is None:
        return None
    try:
        value = operator.index(size)
    except TypeError:
        raise ReelganError(f"size must be a whole number of pixels, got {size!r}; pass e.g. 512") from None
    if not MIN_SIZE <= value <= MAX_SIZE:
        raise ReelganError(
            f"size must be between {MIN_SIZE} and {MAX_SIZE} px, got {value}; pick a size in that range"
        )
    return value


def _check_color(color: tuple[int, int, int]) -> tuple[int, int, int]:
    """An (r, g, b) ink colour with each channel an int in 0..255."""
    try:
        rgb = tuple(operator.index(c) for c in color)
    except TypeError:
        rgb = ()
    if len(rgb) != 3 or not all(0 <= c <= 255 for c in rgb):
        raise ReelganError(f"color must be three integers 0-255 (r, g, b), got {color!r}; e.g. (0, 0, 0)")
    return rgb  # type: ignore[return-value]


def ink_alpha(gray: np.ndarray) -> np.ndarray:
    """(H, W) uint8 glyph (255 paper, 0 ink) -> (H, W) uint8 alpha: 255 - gray.

    Ink is opaque, paper transparent, and anti-aliased edges keep their partial coverage.
    """
    return 255 - _check_gray(gray)


def transparent_png(
    gray: np.ndarray,
    path: str | os.PathLike,
    size: int | None = None,
    color: tuple[int, int, int] = (0, 0, 0),
    record: dict | None = None,
) -> Path:
    """Write a glyph as an RGBA PNG: `color` everywhere, alpha from the ink; return the path.

    `size` (8..1024 px) is the longer side after a Lanczos upsample (default: the glyph's own).
    A `record` (from `reelgan.provenance.make_record`) is embedded as in every reelgan PNG; with
    None the file carries no provenance record, e.g. for procedural glyphs.
    """
    gray = _check_gray(gray)
    size = _check_size(size)
    rgb = _check_color(color)
    if size is not None:
        gray = upscale(gray, size)[:, :, 0]  # (H', W')
    rgba = np.empty((*gray.shape, 4), dtype=np.uint8)  # (H, W, 4)
    rgba[:, :, :3] = rgb
    rgba[:, :, 3] = ink_alpha(gray)
    if record is not None:
        save_png(path, rgba, record)
    else:
        with atomic_path(path, ".png") as tmp:
            Image.fromarray(rgba).save(tmp, format="PNG")
    return Path(path)


def _trace_raster(gray: np.ndarray) -> np.ndarray:
    """Upsample (Lanczos) so the longer side is TRACE_SIZE..MAX_SIZE px, then threshold to 0/255."""
    trace_px = min(max(TRACE_SIZE, max(gray.shape)), MAX_SIZE)
    big = upscale(gray, trace_px)[:, :, 0]  # (H', W')
    return np.where(big < INK_THRESHOLD, 0, 255).astype(np.uint8)


def _vtracer_paths(binary: np.ndarray) -> list[ET.Element]:
    """Trace a 0/255 raster with vtracer; return its ink <path> elements (coordinates in raster px)."""
    try:
        import vtracer
    except ImportError:
        raise ReelganError("SVG tracing needs the vtracer package: pip install vtracer") from None
    buffer = io.BytesIO()
    Image.fromarray(binary).save(buffer, format="PNG", compress_level=1)
    svg = vtracer.convert_raw_image_to_svg(buffer.getvalue(), img_format="png", **_TRACE_OPTIONS)
    root = ET.fromstring(svg)
    paths = root.iter(f"{{{_SVG_NS}}}path")
    # Binary mode only traces ink; keeping black fills alone guarantees no paper rectangle slips in.
    return [p for p in paths if p.get("fill", _VTRACER_INK).upper() == _VTRACER_INK]


def _svg_header(record: dict | None) -> list[str]:
    """<title> and <metadata> lines for a record (none without one)."""
    if record is None:
        return []
    check_record(record)
    source = str(record["digital_source_type"]).rsplit("/", 1)[-1]
    made = "AI-generated" if source.startswith("trained") else "Machine-generated"  # algorithmicMedia: no model
    title = f"{made} glyph ({source}), made with {record.get('software', 'reelgan')}"
    return [
        f"<title>{escape(title)}</title>",
        f'<metadata id="{_METADATA_ID}">',
        f'<reelgan:record xmlns:reelgan="{REELGAN_NS}">{escape(record_json(record))}</reelgan:record>',
        xmp_packet(record),  # the same record as XMP, with the IPTC digital source type
        "</metadata>",
    ]


def trace_svg(gray: np.ndarray, size: int | None = None, record: dict | None = None) -> str:
    """Trace a glyph's ink to an SVG document (black fill, transparent background) and return it.

    Small glyphs are upsampled (Lanczos) to 512 px and thresholded at 128 before tracing, so the
    curves are smooth. `size` (8..1024 px) sets the longer side of the width/height and viewBox
    (default: the traced size, 512 for glyphs up to 512 px). A `record` goes in <metadata> as JSON
    and XMP, with a <title> saying the glyph is AI-generated.
    """
    gray = _check_gray(gray)
    size = _check_size(size)
    header = _svg_header(record)  # checks the record before any tracing work
    binary = _trace_raster(gray)  # (H', W') 0/255
    traced_h, traced_w = binary.shape
    scale = 1.0 if size is None else size / max(traced_h, traced_w)
    width, height = max(1, round(traced_w * scale)), max(1, round(traced_h * scale))
    paths = [
        f"<path d={quoteattr(p.get('d', ''))} transform={quoteattr(p.get('transform', 'translate(0,0)'))}/>"
        for p in _vtracer_paths(binary)
    ]
    svg_open = f'<svg xmlns="{_SVG_NS}" version="1.1" width="{width}" height="{height}"'
    group = '<g fill="#000000" fill-rule="evenodd"'
    group += ">" if scale == 1.0 else f' transform="scale({scale:.6g})">'
    return "\n".join(
        [
            '<?xml version="1.0" encoding="UTF-8"?>',
            f'{svg_open} viewBox="0 0 {width} {height}">',
            *header,
            group,
            *paths,
            "</g>",
            "</svg>",
            "",
        ]
    )


def write_svg(
    gray: np.ndarray, path: str | os.PathLike, size: int | None = None, record: dict | None = None
) -> Path:
    """Trace a glyph (see `trace_svg`) and write the SVG to `path` atomically; return the path."""
    text = trace_svg(gray, size=size, record=record)
    with atomic_path(path, ".svg") as tmp:
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(text)
    return Path(path)


def read_svg_record(svg: str) -> dict | None:
    """The provenance record stored in an SVG document `trace_svg` made; None when it carries none."""
    from ..provenance.documents import svg_record

    return svg_record(svg, REELGAN_NS)
