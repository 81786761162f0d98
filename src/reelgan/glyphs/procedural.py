"""Procedural glyphs with a user's settings: style options, rendering by seed, and datasets that train reads.

A dataset written with the default style and `--seed S` holds the same glyphs as the built-in `logograms`
set with data seed S, in the same order.
"""

from __future__ import annotations

import dataclasses
import io
import json
import zipfile
from pathlib import Path

import numpy as np
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from .. import __version__
from ..data.logograms import MAX_RESOLUTION, MIN_RESOLUTION, LogogramStyle, render_logogram
from ..data.procedural import glyph_seed
from ..errors import ReelganError
from ..media.images import atomic_path
from ..provenance import ALGORITHMIC_MEDIA, make_record, record_json

PROCEDURAL_GENERATOR = f"procedural-logograms-{__version__}"


def _parse_range(text: str, name: str, integer: bool) -> tuple:
    """'2-7', '2,7' or '5' -> (low, high)."""
    parts = text.replace(",", "-").split("-") if not text.startswith("-") else [text]
    try:
        values = [int(p) if integer else float(p) for p in parts if p.strip()]
    except ValueError:
        raise ReelganError(f"{name} must be a number or a range such as 2-7; got {text!r}") from None
    if len(values) == 1:
        values *= 2
    if len(values) != 2 or values[0] > values[1] or values[0] < 0:
        raise ReelganError(f"{name} must be a range LOW-HIGH with 0 <= LOW <= HIGH; got {text!r}")
    return tuple(values)


def style_from_options(features: str | None = None, thickness: str | None = None, density: str | None = None,
                       settings: list[str] | None = None) -> LogogramStyle:
    """A LogogramStyle from the CLI's options: ranges such as '2-7' and any `FIELD=VALUE` setting."""
    changes: dict = {}
    if features:
        changes["feature_count"] = _parse_range(features, "--features", integer=True)
    if thickness:
        changes["ring_thickness"] = _parse_range(thickness, "--thickness", integer=False)
    if density:
        changes["ink_density"] = _parse_range(density, "--density", integer=False)
        if changes["ink_density"][1] > 1:
            raise ReelganError(f"--density is the darkness of the ink, 0-1; got {density!r}")
    fields = {f.name: f for f in dataclasses.fields(LogogramStyle)}
    for item in settings or []:
        key, _, value = item.partition("=")
        if key not in fields or not value:
            raise ReelganError(f"--style takes FIELD=VALUE with FIELD one of {', '.join(fields)}; got {item!r}")
        default = getattr(LogogramStyle(), key)
        if isinstance(default, tuple):
            parsed = _parse_range(value, f"--style {key}", integer=isinstance(default[0], int))
            changes[key] = parsed if len(default) == 2 else _tuple_of_floats(value, key, len(default))
        else:
            changes[key] = _parse_range(value, f"--style {key}", integer=False)[0]
    return dataclasses.replace(LogogramStyle(), **changes)


def _tuple_of_floats(text: str, key: str, length: int) -> tuple:
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError:
        values = ()
    if len(values) != length:
        raise ReelganError(f"--style {key} takes {length} comma-separated numbers; got {text!r}")
    return values


def procedural_record(seed: int | None, **extra) -> dict:
    """Provenance record of a procedural or phrase glyph: machine-made, by an algorithm, not a trained model."""
    return make_record(generator_hash=PROCEDURAL_GENERATOR, seed=seed, source_type=ALGORITHMIC_MEDIA, **extra)


def render_seeds(seeds: list[int], size: int, style: LogogramStyle | None = None) -> list[np.ndarray]:
    """Glyphs (size, size) uint8 for render seeds, 255 paper."""
    check_size(size)
    return [render_logogram(seed, size, style) for seed in seeds]


def check_size(size: int) -> int:
    """A glyph size in range, or a ReelganError naming the range."""
    if not MIN_RESOLUTION <= size <= MAX_RESOLUTION:
        raise ReelganError(f"--size must be between {MIN_RESOLUTION} and {MAX_RESOLUTION} px; got {size}")
    return size


def write_dataset(out: Path, n: int, size: int, seed: int = 0, style: LogogramStyle | None = None,
                  progress=None) -> Path:
    """Write `n` glyphs as PNGs (000000.png, ...) in a zip that `reelgan train --data` reads.

    The zip's comment holds the settings as JSON; each PNG carries a provenance text chunk. Written to a
    temp file and renamed, so an interrupted run leaves nothing. `progress(done)` is called as it goes.
    """
    check_size(size)
    if n < 1:
        raise ReelganError(f"--n must be at least 1; got {n}")
    style = style or LogogramStyle()
    settings = {"generator": PROCEDURAL_GENERATOR, "n": n, "size": size, "seed": seed,
                "style": dataclasses.asdict(style)}
    with atomic_path(out, ".zip") as tmp, zipfile.ZipFile(tmp, "w", zipfile.ZIP_STORED) as archive:
        for index in range(n):
            render_seed = glyph_seed(seed, index)
            record = procedural_record(render_seed)
            info = PngInfo()
            info.add_text("reelgan", record_json(record))
            buffer = io.BytesIO()
            Image.fromarray(render_logogram(render_seed, size, style)).save(buffer, format="PNG", pnginfo=info)
            archive.writestr(f"{index:06d}.png", buffer.getvalue())
            if progress is not None:
                progress(index + 1)
        archive.comment = json.dumps(settings).encode()[:65535]
    return out
