"""Contact sheets: glyphs in a grid with a caption under each (a seed or a phrase), as PNG and PDF.

Production designers pick glyphs from sheets; the caption is what brings a chosen glyph back
(`reelgan glyphs write "PHRASE"`, `--seeds N`, or `reelgan generate RUN --seed N`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from ..errors import ReelganError
from ..media import save_png
from ..media.images import atomic_path
from ..media.sheet_pdf import Cell, write_sheet_pdf
from ..media.text import wrap_measured
from ..provenance import check_record, record_json

CAPTION_PX = 13  # caption font size in pixels
MARGIN = 16  # px around the grid and between cells


def _font(size: int) -> ImageFont.ImageFont:
    """Pillow's bundled font at `size` px (no system fonts needed)."""
    return ImageFont.load_default(size=size)


def contact_sheet(glyphs: list[np.ndarray], captions: list[str], columns: int = 8, cell: int = 128,
                  title: str | None = None) -> np.ndarray:
    """Lay out (H, W) uint8 glyphs (255 paper) `cell` px wide, captions below; returns (H, W) uint8."""
    if not glyphs:
        raise ReelganError("a contact sheet needs at least one glyph")
    if len(captions) != len(glyphs):
        raise ReelganError(f"{len(glyphs)} glyphs but {len(captions)} captions")
    font = _font(CAPTION_PX)
    columns = max(1, min(columns, len(glyphs)))
    lines = [wrap_pixels(text, font, cell)[:3] or [""] for text in captions]
    caption_h = (max(map(len, lines)) * (CAPTION_PX + 3)) + 4
    rows = -(-len(glyphs) // columns)
    title_h = (CAPTION_PX + 12) if title else 0
    width = MARGIN + columns * (cell + MARGIN)
    height = MARGIN + title_h + rows * (cell + caption_h + MARGIN)
    sheet = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(sheet)
    if title:
        draw.text((MARGIN, MARGIN), title, fill=0, font=_font(CAPTION_PX + 3))
    for index, (glyph, text_lines) in enumerate(zip(glyphs, lines)):
        row, column = divmod(index, columns)
        x = MARGIN + column * (cell + MARGIN)
        y = MARGIN + title_h + row * (cell + caption_h + MARGIN)
        image = Image.fromarray(np.ascontiguousarray(glyph)).convert("L").resize((cell, cell), Image.Resampling.LANCZOS)
        sheet.paste(image, (x, y))
        for line_no, line in enumerate(text_lines):
            draw.text((x, y + cell + 3 + line_no * (CAPTION_PX + 3)), line, fill=40, font=font)
    return np.asarray(sheet)


def wrap_pixels(text: str, font: ImageFont.ImageFont, width: float) -> list[str]:
    """`text` broken between words into lines no wider than `width` pixels in `font`, so captions stay in
    their cell whatever the letters."""
    return wrap_measured(text, width, font.getlength)


def glyph_cells(glyphs: list[np.ndarray], captions: list[str]) -> list[Cell]:
    """Glyphs (H, W) uint8 and their captions as cells of a vector PDF sheet."""
    return [Cell(np.repeat(np.asarray(g)[..., None], 3, axis=2) if np.asarray(g).ndim == 2 else np.asarray(g),
                 (text,)) for g, text in zip(glyphs, captions)]


def save_sheet(sheet: np.ndarray, png_path: str | Path, record: dict, cells: list[Cell] | None = None,
               columns: int = 4) -> tuple[Path, Path]:
    """Write the sheet as PNG (with the provenance record) and as a PDF beside it.

    With `cells` (pictures and captions), the PDF is vector pages with the pictures embedded and the captions
    as real text (`media.sheet_pdf`); without, one page of the raster sheet. Either way the PDF's metadata
    says it is machine-made: its subject names the IPTC digital source type and its keywords hold the record
    as JSON.
    """
    png_path = Path(png_path)
    if png_path.suffix.lower() != ".png":
        raise ReelganError(f"the sheet is written as .png and .pdf; give a .png path, not {png_path.name}")
    check_record(record)
    pdf_path = png_path.with_suffix(".pdf")
    save_png(png_path, sheet, record)
    if cells:
        write_sheet_pdf(pdf_path, cells, png_path.stem.removesuffix(".sheet"), record, columns)
        return png_path, pdf_path
    with atomic_path(pdf_path, ".pdf") as tmp:
        Image.fromarray(sheet).save(
            tmp, format="PDF", resolution=150.0, title=png_path.stem, creator=record["software"],
            subject=f"machine-generated ({record['digital_source_type']})", keywords=record_json(record),
        )
    return png_path, pdf_path
