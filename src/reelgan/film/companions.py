"""What lies beside the MP4: SRT and WebVTT subtitles, an OpenTimelineIO timeline, a contact sheet, the record."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from .plan import SHOT, frame_at
from .subtitles import to_srt, to_webvtt
from .types import Film
from .visuals import font

THUMB_WIDTH = 240
SHEET_COLUMNS = 4


def write_companions(film: Film, paths: dict[str, Path], record: dict) -> None:
    """Write the subtitles, timeline, contact sheet and authorship record to `paths` (kind -> path)."""
    paths["srt"].write_text(to_srt(film.subtitles), encoding="utf-8")
    paths["vtt"].write_text(to_webvtt(film.subtitles), encoding="utf-8")
    write_timeline(film, paths["otio"], paths["mp4"].name)
    from ..glyphs.sheet import save_sheet

    save_sheet(contact_sheet(film), paths["sheet"], record["provenance"])
    paths["authorship"].write_text(json.dumps(record, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def write_timeline(film: Film, path: Path, media_name: str) -> None:
    """An OpenTimelineIO timeline of the cut: one clip per shot of the rendered MP4, dissolves between them.

    Each clip points at its own stretch of the MP4 (a relative URL, so keep the .otio beside it); the
    subtitles are markers on their clips.
    """
    import opentimelineio as otio

    fps = film.options.fps
    rational, time_range = otio.opentime.RationalTime, otio.opentime.TimeRange
    whole = time_range(rational(0, fps), rational(film.frame_count, fps))
    timeline = otio.schema.Timeline(name=film.script.stem)
    timeline.global_start_time = rational(0, fps)
    track = otio.schema.Track(name="V1", kind=otio.schema.TrackKind.Video)
    timeline.tracks.append(track)
    half = round(film.options.fade / 2 * fps)
    placed = 0
    for index, shot in enumerate(film.shots):
        start = frame_at(shot.start, fps)  # the renderer's cut: the first frame whose middle is in the shot
        end = film.frame_count if index == len(film.shots) - 1 else frame_at(shot.end, fps)
        if index and half:
            track.append(otio.schema.Transition(
                name="dissolve", transition_type=otio.schema.TransitionTypes.SMPTE_Dissolve,
                in_offset=rational(half, fps), out_offset=rational(half, fps)))
        reference = otio.schema.ExternalReference(target_url=media_name, available_range=whole)
        name = shot.heading if shot.kind != "credits" else "Credits"
        clip = otio.schema.Clip(name=f"{index:03d} {shot.kind}: {name}", media_reference=reference,
                                source_range=time_range(rational(start, fps), rational(end - start, fps)))
        clip.metadata["reelgan"] = {"kind": shot.kind, "scene": shot.scene, "seed": shot.seed,
                                    "picture": film.parts[index].what, "maker": film.parts[index].maker}
        for subtitle in shot.subtitles:
            offset = frame_at(subtitle.start, fps)  # a clip's markers are in its media time, as source_range
            length = max(1, frame_at(subtitle.end, fps) - frame_at(subtitle.start, fps))
            clip.markers.append(otio.schema.Marker(
                name=f"{subtitle.speaker}: {subtitle.text}",
                marked_range=time_range(rational(offset, fps), rational(length, fps))))
        track.append(clip)
        placed = end
    assert placed == film.frame_count
    otio.adapters.write_to_file(timeline, str(path))


def contact_sheet(film: Film) -> np.ndarray:
    """A sheet with one thumbnail per shot (its middle frame, without subtitles) captioned with its scene
    heading and first line of dialogue or action."""
    shots = [(i, s) for i, s in enumerate(film.shots) if s.kind == SHOT]
    width, height = film.options.size
    thumb_h = round(THUMB_WIDTH * height / width)
    caption_px, margin = 12, 12
    caption_h = 4 * (caption_px + 3)
    rows = -(-len(shots) // SHEET_COLUMNS)
    columns = min(SHEET_COLUMNS, len(shots))
    sheet = Image.new("RGB", (margin + columns * (THUMB_WIDTH + margin),
                              margin * 2 + 20 + rows * (thumb_h + caption_h + margin)), (255, 255, 255))
    draw = ImageDraw.Draw(sheet)
    draw.text((margin, margin), f"{film.script.name}: {len(shots)} shots", fill=(0, 0, 0), font=font(15))
    for n, (index, shot) in enumerate(shots):
        row, column = divmod(n, SHEET_COLUMNS)
        x = margin + column * (THUMB_WIDTH + margin)
        y = margin * 2 + 20 + row * (thumb_h + caption_h + margin)
        picture = film.visuals[index].frame(shot.duration / 2)
        sheet.paste(Image.fromarray(picture).resize((THUMB_WIDTH, thumb_h), Image.Resampling.LANCZOS), (x, y))
        said = shot.subtitles[0] if shot.subtitles else None
        text = f"{said.speaker}: {said.text}" if said else shot.action
        lines = [f"{shot.scene}. {shot.heading}"] + textwrap.wrap(text, int(THUMB_WIDTH / (0.55 * caption_px)))[:3]
        for line_no, line in enumerate(lines):
            draw.text((x, y + thumb_h + 3 + line_no * (caption_px + 3)), line, fill=(30, 30, 30),
                      font=font(caption_px))
    return np.asarray(sheet)
