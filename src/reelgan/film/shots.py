"""Per-shot media: each shot of the film as its own clean file, for an editor to swap, trim or re-render.

`FILM.shots/NNN-KIND.mp4` holds shot NNN's picture without burned subtitles or cross-fades (the timeline
carries those as markers and dissolves), with handles: the picture runs on for half a dissolve before and
after the cut, so that an editor's dissolve has frames to mix. Cards and stills are also written as
`NNN-KIND.png`. Model-made shots carry the invisible watermark, and every file the film's provenance record.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..media import save_png
from .encode import FilmWriter
from .plan import CREDITS, TITLE, frame_at
from .types import Film

if TYPE_CHECKING:
    from .pictures import ShotPictures

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
    cut: int = 0         # the film frame at which the shot is cut in

    @property
    def frames(self) -> int:
        """Frames in the file."""
        return self.handle_before + self.duration + self.handle_after

    @property
    def span(self) -> range:
        """The film frames whose clean picture is in the file (handles included)."""
        return range(self.cut - self.handle_before, self.cut - self.handle_before + self.frames)


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
                               half if index > 0 else 0, end - first, half if index < len(film.shots) - 1 else 0,
                               first))
    return media


class ShotFiles:
    """Every shot's MP4 written during the film's own drawing pass: at each film frame, each shot whose file
    spans that frame gets its clean picture from the shared `ShotPictures` (a file opens at its first frame
    and closes after its last; around a dissolve two are open). The PNGs of cards and stills are written
    when their file opens."""

    def __init__(self, film: Film, folder: Path, record: dict, pictures: ShotPictures) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.film, self.record, self.pictures = film, record, pictures
        self.layout = shot_layout(film, folder)
        self.cuts = [media.cut for media in self.layout]  # in order: the film frame of each shot's cut
        self.open: dict[int, FilmWriter] = {}

    def feed(self, index: int) -> None:
        """Give film frame `index` to the files that span it, opening and closing them as they start and end."""
        # A frame lies in the file of the shot the film shows then, or in a neighbour's handle.
        shown = max(0, bisect.bisect_right(self.cuts, index) - 1)
        for media in self.layout[max(0, shown - 1):]:
            span = media.span
            if span.start > index:
                break
            if index not in span:
                continue
            if index == span.start:
                self._start(media)
            self.open[media.index].add(self.pictures.at(media.index, index))
            if index == span.stop - 1:
                self.open.pop(media.index).close()

    def _start(self, media: ShotMedia) -> None:
        shot_record = {**self.record, "shot": media.index}
        self.open[media.index] = FilmWriter(media.mp4, self.film.options.size, self.film.options.fps, shot_record)
        if media.png is not None:
            shot = self.film.shots[media.index]
            save_png(media.png, self.film.visuals[media.index].frame(shot.duration / 2), shot_record)

    def close(self) -> None:
        """Close any file still open (after an error: the staging folder is thrown away)."""
        for writer in self.open.values():
            writer.close(flush=False)
        self.open.clear()


def with_shot_files(frames: Iterator[np.ndarray], files: ShotFiles) -> Iterator[np.ndarray]:
    """The film's frames unchanged, feeding each shot file as the film passes its frames (the last shot has
    no handle after its cut, so every file is complete when the film's frames are)."""
    try:
        for index, frame in enumerate(frames):
            files.feed(index)
            yield frame
    finally:
        files.close()
