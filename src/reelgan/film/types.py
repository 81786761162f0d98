"""The data types of a film: how it looks (`FilmOptions`), what it writes (`Outputs`), what was planned (`Film`).

They live apart from `render.py`, the orchestrator, so that the modules it calls (companions, provenance) can
read them without importing it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ReelganError
from .plan import Shot, Subtitle, Timing, film_length, frame_at
from .sources import Part, Visual
from .voice import VOICE_SUFFIX, Dialogue

MAX_SIDE = 3840
# --export name -> (file suffix, OpenTimelineIO adapter, the package that provides it)
EXPORTS = {"otioz": (".otioz", "otioz", None), "fcp7": (".xml", "fcp_xml", "otio-fcp-adapter"),
           "edl": (".edl", "cmx_3600", "otio-cmx3600-adapter")}


@dataclass
class FilmOptions:
    """How the film looks and what is written beside it."""

    width: int = 640
    height: int = 360
    fps: int = 24
    fade: float = 0.5                    # seconds of cross-fade at each cut (0: hard cuts)
    timing: Timing = field(default_factory=Timing)
    burn_subtitles: bool = True          # dialogue drawn into the frames
    soft_subtitles: bool = False         # also a switchable mov_text track in the MP4
    watermark: bool = True               # invisible mark in frames of generated shots
    device: str = "cpu"
    hold: bool = False                   # one picture per scene (its first shot's), not a fresh one per shot
    action_captions: bool = False        # the action text over each shot, in a band at the top
    label: bool = False                  # a small visible "contains AI-generated images" on model-made shots
    voice: bool = False                  # temp dialogue: each cue spoken by espeak-ng (voice.py), shots fit it

    def check(self) -> None:
        """ReelganError for sizes and rates that cannot be encoded."""
        if not 16 <= self.height <= MAX_SIDE or self.height % 2:
            raise ReelganError(f"--height must be an even number of pixels from 16 to {MAX_SIDE}; got {self.height}")
        if not 16 <= self.width <= MAX_SIDE or self.width % 2:
            raise ReelganError(f"--height and --aspect give a width of {self.width} px; the width must be an even "
                               f"number from 16 to {MAX_SIDE}: lower --height or choose another --aspect")
        if not 1 <= self.fps <= 120:
            raise ReelganError(f"--fps must be 1-120; got {self.fps}")
        self.timing.check()
        shortest = min(self.timing.min_shot, self.timing.title_card, self.timing.credits)
        if not 0 <= self.fade <= shortest:
            raise ReelganError(f"--fade must be 0 to {shortest:g} seconds (the shortest shot); got {self.fade}")

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) in pixels."""
        return self.width, self.height


@dataclass
class Outputs:
    """Every file a render writes, named after the MP4: with `shots` the per-shot media folder
    (FILM.shots/), one file per editor export (`exports`: names of `nle.EXPORTS`), and with `voice` the
    folder of spoken lines (FILM.voice/)."""

    mp4: Path
    shots: bool = False
    exports: tuple[str, ...] = ()
    voice: bool = False

    def all(self) -> dict[str, Path]:
        """Kind -> path, the MP4 first."""
        def beside(suffix: str) -> Path:
            return self.mp4.with_name(self.mp4.stem + suffix)

        paths = {"mp4": self.mp4, "srt": beside(".srt"), "vtt": beside(".vtt"), "otio": beside(".otio"),
                 "sheet": beside(".sheet.png"), "sheet_pdf": beside(".sheet.pdf"),
                 "authorship": beside(".authorship.json")}
        if self.shots:
            paths["shots"] = beside(".shots")
        paths.update({name: beside(EXPORTS[name][0]) for name in self.exports})
        if self.voice:
            paths["voice"] = beside(VOICE_SUFFIX)
        return paths


@dataclass
class Film:
    """A planned film: shots, their visuals and makers, the subtitles, and with --voice their speech."""

    script: Path
    shots: list[Shot]
    visuals: list[Visual]
    parts: list[Part]
    options: FilmOptions
    credits: list[str] = field(default_factory=list)
    dialogue: Dialogue | None = None     # the spoken cues (FilmOptions.voice), synthesised while planning

    @property
    def subtitles(self) -> list[Subtitle]:
        """Every subtitle of the film in order."""
        return [s for shot in self.shots for s in shot.subtitles]

    @property
    def frame_count(self) -> int:
        """Frames in the MP4: frame i shows the film at its middle, (i + 0.5) / fps seconds."""
        return frame_at(film_length(self.shots), self.options.fps)
