"""Per-shot media: each shot of the film as its own clean file, for an editor to swap, trim or re-render.

`FILM.shots/NNN-KIND.mp4` holds shot NNN's picture without burned subtitles or cross-fades (the timeline
carries those as markers and dissolves), with handles: the picture runs on for half a dissolve before and
after the cut, so that an editor's dissolve has frames to mix. Cards and stills are also written as
`NNN-KIND.png`. Model-made shots carry the invisible watermark, and every file the film's provenance record.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..media import save_png
from .encode import write_film
from .plan import CREDITS, TITLE, frame_at
from .types import Film

SHOTS_SUFFIX = ".shots"  # FILM.mp4 -> FILM.shots/


@dataclass(frozen=True)
class ShotMedia:
    """One shot's file and where the cut sits in it (in frames of the film's rate)."""

    index: int
    mp4: Path
    png: Path | None
    handle_before: int   # frames before the cut point
    duration: int        # frames of the shot in the cut
    handle_after: int    # frames after it

    @property
    def frames(self) -> int:
        """Frames in the file."""
        return self.handle_before + self.duration + self.handle_after


def shot_folder(mp4: Path) -> Path:
    """Where the per-shot files of `mp4` go."""
    return mp4.with_name(mp4.stem + SHOTS_SUFFIX)


def shot_name(film: Film, index: int) -> str:
    """NNN-KIND, e.g. 003-shot, 000-title."""
    return f"{index:03d}-{film.shots[index].kind}"


def cut_frames(film: Film, index: int) -> tuple[int, int]:
    """The film's frames [first, end) that show shot `index`, as the renderer cuts them."""
    fps, shot = film.options.fps, film.shots[index]
    end = film.frame_count if index == len(film.shots) - 1 else frame_at(shot.end, fps)
    return frame_at(shot.start, fps), end


def shot_layout(film: Film, folder: Path) -> list[ShotMedia]:
    """Every shot's files and handles (nothing written)."""
    half = round(film.options.fade / 2 * film.options.fps)
    media = []
    for index, shot in enumerate(film.shots):
        first, end = cut_frames(film, index)
        still = shot.kind in (TITLE, CREDITS) or film.parts[index].what == "still"
        name = shot_name(film, index)
        media.append(ShotMedia(index, folder / f"{name}.mp4", folder / f"{name}.png" if still else None,
                               half if index > 0 else 0, end - first, half if index < len(film.shots) - 1 else 0))
    return media


def _frames(film: Film, media: ShotMedia, watermark_bits: np.ndarray | None) -> Iterator[np.ndarray]:
    """The shot's clean frames, handles included: the visual at its own time (clamped by the visual)."""
    from ..provenance.watermark import embed

    fps, shot = film.options.fps, film.shots[media.index]
    first, _ = cut_frames(film, media.index)
    generated = film.parts[media.index].maker == "model"
    for k in range(media.frames):
        t = (first - media.handle_before + k + 0.5) / fps  # film time at the middle of the frame
        frame = film.visuals[media.index].frame(t - shot.start)
        yield embed(frame, watermark_bits) if watermark_bits is not None and generated else frame


def write_shot_media(film: Film, folder: Path, record: dict, watermark_bits: np.ndarray | None = None
                     ) -> list[ShotMedia]:
    """Write every shot's MP4 (and PNG for cards and stills) into `folder`; returns their layout."""
    folder.mkdir(parents=True, exist_ok=True)
    layout = shot_layout(film, folder)
    for media in layout:
        shot_record = {**record, "shot": media.index}
        write_film(media.mp4, _frames(film, media, watermark_bits), film.options.size, film.options.fps,
                   shot_record)
        if media.png is not None:
            shot = film.shots[media.index]
            save_png(media.png, film.visuals[media.index].frame(shot.duration / 2), shot_record)
    return layout
