"""Where glyphs for sheets and vectors come from: phrases, procedural seeds, a trained generator, or image files.

Each source gives (H, W) uint8 gray glyphs on white paper (255), with the provenance record each output carries.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import ReelganError
from ..gan.generator import Generator
from ..gan.sampling import sample_seeds
from ..media import to_uint8
from ..paths import IMAGE_SUFFIXES
from ..provenance import make_record
from .phrase import render_phrase
from .procedural import PROCEDURAL_GENERATOR, procedural_record, render_seeds

MAX_GLYPH_IMAGE = 4096  # px on the long side of a glyph image given to trace


def glyph_gray(image: np.ndarray) -> np.ndarray:
    """(H, W, C) uint8 sample -> (H, W) gray glyph, 255 paper: RGB averaged, RGBA composited on white."""
    if image.shape[-1] == 1:
        return image[..., 0]
    gray = image[..., :3].astype(np.float32).mean(-1)
    if image.shape[-1] == 4:
        alpha = image[..., 3].astype(np.float32) / 255
        gray = 255 - alpha * (255 - gray)
    return np.round(gray).astype(np.uint8)


def generator_glyphs(G: Generator, seeds: list[int]) -> list[np.ndarray]:
    """One gray glyph per seed from an image generator (a clip generator is refused)."""
    if G.is_video:
        raise ReelganError("this is a clip generator; glyph sheets and vectors need an image generator")
    return [glyph_gray(image) for image in to_uint8(sample_seeds(G, seeds))]


def sheet_glyphs(phrases: list[str], seeds: list[int], size: int, style, G: Generator | None = None
                 ) -> tuple[list[np.ndarray], list[str], dict]:
    """A contact sheet's glyphs, captions and record: the phrases' glyphs when there are phrases, else one glyph
    per seed from `G` (a trained generator) or the procedural set in `style`, `size` px."""
    if phrases:
        return ([render_phrase(p, size, style) for p in phrases], phrases,
                procedural_record(None, phrases=phrases))
    captions = [f"seed {s}" for s in seeds]
    if G is not None:
        return generator_glyphs(G, seeds), captions, make_record(generator_hash=G.hash, seed=None, seeds=seeds)
    return render_seeds(seeds, size, style), captions, procedural_record(None, seeds=seeds,
                                                                         generator=PROCEDURAL_GENERATOR)


def seed_glyphs(seeds: list[int], size: int, G: Generator | None = None) -> list[tuple[str, np.ndarray, dict]]:
    """(name, gray glyph, record) per seed, from `G` or (None) the procedural set at `size` px (at most 256)."""
    if G is None:
        glyphs = render_seeds(seeds, min(size, 256))
        return [(f"seed{s:06d}", g, procedural_record(s)) for s, g in zip(seeds, glyphs)]
    return [(f"seed{s:06d}", g, make_record(generator_hash=G.hash, seed=s))
            for s, g in zip(seeds, generator_glyphs(G, seeds))]


def is_image_source(source: Path) -> bool:
    """True when `source` is an image file, or a folder that is not a run (no generator, no checkpoints)."""
    if source.is_file():
        return source.suffix.lower() in IMAGE_SUFFIXES
    return source.is_dir() and not (source / "generator.safetensors").exists() and \
        not (source / "checkpoints").exists()


def image_glyphs(source: Path) -> list[tuple[str, np.ndarray, None]]:
    """Glyph images from a file or folder, as gray squares (non-square ones padded with paper); the user's own
    images get no AI record."""
    from PIL import Image, UnidentifiedImageError

    files = [source] if source.is_file() else sorted(
        p for p in source.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise ReelganError(f"{source} holds no PNG, JPEG, WebP or BMP images to trace")
    items = []
    for path in files:
        try:
            with Image.open(path) as image:
                gray = np.asarray(image.convert("L"))
        except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
            raise ReelganError(f"cannot read {path} as a glyph image ({exc}); give a PNG, JPEG, WebP or BMP "
                               f"up to {MAX_GLYPH_IMAGE} px") from None
        if max(gray.shape) > MAX_GLYPH_IMAGE:
            raise ReelganError(f"{path} is {gray.shape[1]}x{gray.shape[0]} px; glyph images up to "
                               f"{MAX_GLYPH_IMAGE} px are traced: scale it down first")
        items.append((path.stem, pad_to_square(gray), None))
    return items


def pad_to_square(gray: np.ndarray) -> np.ndarray:
    """A non-square glyph image centred on a square of paper (white), so nothing is cropped."""
    height, width = gray.shape
    side = max(height, width)
    square = np.full((side, side), 255, dtype=np.uint8)
    top, left = (side - height) // 2, (side - width) // 2
    square[top:top + height, left:left + width] = gray
    return square
