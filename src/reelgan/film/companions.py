"""What lies beside the MP4: SRT and WebVTT subtitles, an OpenTimelineIO timeline, a contact sheet, the record."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from .plan import SHOT
from .subtitles import to_srt, to_webvtt
from .types import Film
from .visuals import font

THUMB_WIDTH = 240
SHEET_COLUMNS = 4


def write_companions(film: Film, paths: dict[str, Path], record: dict, shots=None) -> None:
    """Write the subtitles, timeline, contact sheet and authorship record to `paths` (kind -> path); with
    `shots` (the per-shot media's layout) the timeline's clips point at the shot files."""
    paths["srt"].write_text(to_srt(film.subtitles), encoding="utf-8")
    paths["vtt"].write_text(to_webvtt(film.subtitles), encoding="utf-8")
    write_timeline(film, paths["otio"], paths["mp4"].name, shots)
    from ..glyphs.sheet import save_sheet

    cells = sheet_cells(film)
    save_sheet(contact_sheet(film, cells), paths["sheet"], record["provenance"], cells=cells,
               columns=SHEET_COLUMNS)
    paths["authorship"].write_text(json.dumps(record, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def write_timeline(film: Film, path: Path, media_name: str, shots=None) -> None:
    """The OpenTimelineIO timeline of the cut (see `nle.build_timeline`); keep the .otio beside the MP4 and its
    shots folder, which it references by relative URLs."""
    import opentimelineio as otio

    from .nle import build_timeline

    otio.adapters.write_to_file(build_timeline(film, media_name, shots), str(path))


def sheet_cells(film: Film) -> list:
    """Each shot's middle frame (without subtitles) and its caption lines: heading, then dialogue or action."""
    from ..media.sheet_pdf import Cell

    cells = []
    for shot_no, (index, shot) in enumerate((i, s) for i, s in enumerate(film.shots) if s.kind == SHOT):
        picture = film.visuals[index].frame(shot.duration / 2)
        said = shot.subtitles[0] if shot.subtitles else None
        text = f"{said.speaker}: {said.text}" if said else shot.action
        cells.append(Cell(picture, (f"{shot_no + 1}. {shot.scene}. {shot.heading}", text)))
    return cells


def contact_sheet(film: Film, cells: list | None = None) -> np.ndarray:
    """A sheet with one thumbnail per shot captioned with its scene heading and first line of dialogue or
    action, the captions wrapped to the thumbnail's width in pixels."""
    from ..glyphs.sheet import wrap_pixels

    cells = sheet_cells(film) if cells is None else cells
    width, height = film.options.size
    thumb_h = round(THUMB_WIDTH * height / width)
    caption_px, margin = 12, 12
    caption_h = 4 * (caption_px + 3)
    rows = -(-len(cells) // SHEET_COLUMNS)
    columns = max(1, min(SHEET_COLUMNS, len(cells)))
    sheet = Image.new("RGB", (margin + columns * (THUMB_WIDTH + margin),
                              margin * 2 + 20 + rows * (thumb_h + caption_h + margin)), (255, 255, 255))
    draw = ImageDraw.Draw(sheet)
    draw.text((margin, margin), f"{film.script.name}: {len(cells)} shots", fill=(0, 0, 0), font=font(15))
    face = font(caption_px)
    for n, cell in enumerate(cells):
        row, column = divmod(n, SHEET_COLUMNS)
        x = margin + column * (THUMB_WIDTH + margin)
        y = margin * 2 + 20 + row * (thumb_h + caption_h + margin)
        sheet.paste(Image.fromarray(cell.picture).resize((THUMB_WIDTH, thumb_h), Image.Resampling.LANCZOS), (x, y))
        lines = wrap_pixels(cell.lines[0], face, THUMB_WIDTH)[:1] + wrap_pixels(cell.lines[1], face, THUMB_WIDTH)[:3]
        for line_no, line in enumerate(lines):
            draw.text((x, y + thumb_h + 3 + line_no * (caption_px + 3)), line, fill=(30, 30, 30), font=face)
    return np.asarray(sheet)
