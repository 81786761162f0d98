"""Contact sheets as PDF pages with real text: each picture embedded as an image, its caption as text that
can be selected, searched and read aloud, wrapped to the picture's width (reportlab).

Pages are A4 landscape; cells flow left to right and onto further pages as needed. The document's metadata
carries the provenance record (subject: the IPTC digital source type; keywords: the record as JSON).
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from ..provenance import check_record, record_json
from .images import atomic_path
from .text import wrap_measured

MARGIN_PT = 28.0     # page margin, points (1/72 in)
GAP_PT = 10.0        # between cells
CAPTION_PT = 7.5     # caption size
TITLE_PT = 12.0
CAPTION_LINES = 4    # at most this many caption lines under a picture


@dataclass(frozen=True)
class Cell:
    """One picture (H, W, 3) uint8 and its caption lines (the first in bold)."""

    picture: np.ndarray
    lines: tuple[str, ...]


def _wrap(text: str, font: str, size: float, width: float) -> list[str]:
    """`text` broken between words into lines no wider than `width` points in `font` at `size`."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    return wrap_measured(text, width, lambda line: stringWidth(line, font, size))


@contextlib.contextmanager
def binary_image_streams() -> Iterator[None]:
    """Embed images as binary Flate streams rather than ASCII85 text, which is a quarter larger and, without
    reportlab's optional C accelerator, takes seconds a sheet to encode in Python (reportlab's global setting,
    put back afterwards)."""
    from reportlab import rl_config

    before = rl_config.useA85
    rl_config.useA85 = 0
    try:
        yield
    finally:
        rl_config.useA85 = before


def write_sheet_pdf(path: str | Path, cells: list[Cell], title: str, record: dict, columns: int = 4) -> Path:
    """Write `cells` as a vector contact sheet with `title` on each page; returns the path."""
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    check_record(record)
    page_w, page_h = landscape(A4)
    cell_w = (page_w - 2 * MARGIN_PT - (columns - 1) * GAP_PT) / columns
    aspect = cells[0].picture.shape[0] / cells[0].picture.shape[1] if cells else 1.0
    pic_h = cell_w * aspect
    cell_h = pic_h + CAPTION_LINES * (CAPTION_PT + 1.5) + GAP_PT
    rows = max(1, int((page_h - 2 * MARGIN_PT - TITLE_PT - GAP_PT) // cell_h))
    with atomic_path(path, ".pdf") as tmp, binary_image_streams():
        pdf = canvas.Canvas(tmp, pagesize=(page_w, page_h), invariant=1)
        pdf.setTitle(title)
        pdf.setCreator(record["software"])
        pdf.setSubject(f"machine-generated ({record['digital_source_type']})")
        pdf.setKeywords(record_json(record))
        per_page = rows * columns
        for start in range(0, max(1, len(cells)), per_page):
            pdf.setFont("Helvetica-Bold", TITLE_PT)
            pdf.drawString(MARGIN_PT, page_h - MARGIN_PT - TITLE_PT, title)
            top = page_h - MARGIN_PT - TITLE_PT - GAP_PT
            for k, cell in enumerate(cells[start:start + per_page]):
                row, column = divmod(k, columns)
                x, y = MARGIN_PT + column * (cell_w + GAP_PT), top - row * cell_h
                buffer = io.BytesIO()
                Image.fromarray(cell.picture).save(buffer, format="PNG")
                pdf.drawImage(ImageReader(buffer), x, y - pic_h, cell_w, pic_h)
                lines: list[tuple[str, str]] = []
                for n, text in enumerate(cell.lines):
                    font = "Helvetica-Bold" if n == 0 else "Helvetica"
                    lines += [(font, line) for line in _wrap(text, font, CAPTION_PT, cell_w)]
                for n, (font, line) in enumerate(lines[:CAPTION_LINES]):
                    pdf.setFont(font, CAPTION_PT)
                    pdf.drawString(x, y - pic_h - (n + 1) * (CAPTION_PT + 1.5), line)
            pdf.showPage()
        pdf.save()
    return Path(path)
