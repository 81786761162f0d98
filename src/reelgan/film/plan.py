"""From a screenplay to a cut: title cards, shots with their durations and subtitles, and a credits card.

Each scene opens with a title card showing its heading. Its action paragraphs and speeches are "beats"
that last their word count divided by `words_per_second` (at least `min_beat` seconds); consecutive
beats are grouped into shots of at most `max_shot` seconds (a single longer beat gets a shot of its
own), and no shot is shorter than `min_shot`. Every speech becomes subtitles timed to its beat: one,
or for a long speech several of at most two lines each, timed by their share of its words. Times are
seconds from the start of the film. Seeds come from a hash of the scene's number and heading, so
re-rendering the same script gives the same film.
"""

from __future__ import annotations

import hashlib
import math
import textwrap
from dataclasses import dataclass, field

from ..errors import ReelganError
from ..script.fountain import Screenplay, plain_text, word_count

TITLE, SHOT, CREDITS = "title", "shot", "credits"
SUBTITLE_CHARS = 84   # longest subtitle on screen: two lines of about 42 characters, as subtitlers use
FLAGS = {"words_per_second": "--words-per-second", "min_beat": "--min-shot", "min_shot": "--min-shot",
         "max_shot": "--max-shot", "title_card": "--title-seconds", "credits": "--credits-seconds"}


@dataclass(frozen=True)
class Subtitle:
    """One speech on screen from `start` to `end` (seconds of film)."""

    start: float
    end: float
    speaker: str
    text: str
    # the speech's lines as written in the script (for authorship); not part of what is shown
    source_lines: tuple[str, ...] = field(default=(), compare=False)


@dataclass
class Shot:
    """One piece of the cut: a title card, a shot of a scene, or the credits card."""

    kind: str                # TITLE, SHOT or CREDITS
    scene: int               # 1-based scene number (0 for the credits)
    heading: str             # the scene heading ("" for the credits)
    start: float             # seconds from the start of the film
    duration: float          # seconds
    seed: int                # for generated visuals
    action: str = ""         # the action text of the shot's beats (for the contact sheet)
    subtitles: list[Subtitle] = field(default_factory=list)

    @property
    def end(self) -> float:
        """When the shot ends, in seconds of film."""
        return self.start + self.duration


@dataclass(frozen=True)
class Timing:
    """How long things last on screen (seconds; words per second for reading speed)."""

    words_per_second: float = 2.5
    min_beat: float = 1.5
    min_shot: float = 2.0
    max_shot: float = 8.0
    title_card: float = 2.0
    credits: float = 5.0

    def check(self) -> None:
        """ReelganError for values that cannot time a film."""
        for name, flag in FLAGS.items():
            if not getattr(self, name) > 0:
                raise ReelganError(f"{flag} must be positive; got {getattr(self, name)}")
        if self.max_shot < self.min_shot:
            raise ReelganError(f"--max-shot ({self.max_shot}) must be at least --min-shot ({self.min_shot})")


def scene_seed(number: int, heading: str) -> int:
    """A seed for a scene from its number and heading (stable across runs and machines)."""
    digest = hashlib.sha256(f"{number}|{heading}".encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF


def _beats(elements: list) -> list[tuple[float, str, Subtitle | None]]:
    """(words, action text, speech) per beat: an action paragraph or a cue with its speech."""
    beats: list[tuple[float, str, Subtitle | None]] = []
    speaker = None
    for element in elements:
        if element.kind == "character":
            speaker = element.text
        elif element.kind in ("dialogue", "lyric") and speaker is not None:
            text = " ".join(plain_text(element.text).split())
            if text:
                lines = tuple(element.text.split("\n"))
                beats.append((word_count(text), "", Subtitle(0.0, 0.0, speaker, text, lines)))
        elif element.kind in ("action", "centered", "transition"):
            speaker = None
            text = " ".join(plain_text(element.text).split())
            if text and element.kind == "action":
                beats.append((word_count(text), text, None))
        elif element.kind != "parenthetical":
            speaker = None
    return beats


def plan_film(screenplay: Screenplay, timing: Timing = Timing()) -> list[Shot]:
    """The cut: per scene a title card and its shots, then a credits card; ReelganError if no scenes."""
    timing.check()
    scenes = [s for s in screenplay.scenes() if s.heading is not None]
    if not scenes:
        raise ReelganError("the script has no scenes (no scene headings such as INT. HOUSE - DAY); add one "
                           "before each scene")
    shots: list[Shot] = []
    clock = 0.0
    for number, scene in enumerate(scenes, 1):
        heading = plain_text(scene.heading.text).strip()
        seed = scene_seed(number, heading)
        shots.append(Shot(TITLE, number, heading, clock, timing.title_card, seed))
        clock += timing.title_card
        for index, group in enumerate(_group(_beats(scene.elements), timing) or [[]]):
            shot = _shot(number, heading, seed + index + 1, clock, group, timing)
            shots.append(shot)
            clock = shot.end
    shots.append(Shot(CREDITS, 0, "", clock, timing.credits, 0))
    return shots


def _group(beats: list[tuple[float, str, Subtitle | None]], timing: Timing) -> list[list]:
    """Consecutive beats with their seconds, grouped into shots of at most `max_shot` seconds."""
    groups: list[list] = []
    length = 0.0
    for words, action, speech in beats:
        seconds = max(timing.min_beat, words / timing.words_per_second)
        if not groups or length + seconds > timing.max_shot:
            groups.append([])
            length = 0.0
        groups[-1].append((seconds, action, speech))
        length += seconds
    return groups


def _shot(number: int, heading: str, seed: int, start: float, group: list, timing: Timing) -> Shot:
    duration = max(timing.min_shot, sum(seconds for seconds, _, _ in group))
    subtitles, offset, actions = [], start, []
    for seconds, action, speech in group:
        if speech is not None:
            subtitles += _timed_pieces(speech, offset, seconds)
        if action:
            actions.append(action)
        offset += seconds
    return Shot(SHOT, number, heading, start, duration, seed, " ".join(actions), subtitles)


def frame_at(seconds: float, fps: int) -> int:
    """The first frame whose middle, (i + 0.5) / fps, is at or after `seconds`: where a cut at `seconds` falls."""
    return max(0, math.ceil(seconds * fps - 0.5 - 1e-9))


def _timed_pieces(speech: Subtitle, start: float, seconds: float) -> list[Subtitle]:
    """A speech as subtitles of at most SUBTITLE_CHARS characters, each timed by its share of the words."""
    room = SUBTITLE_CHARS - len(speech.speaker) - 2
    pieces = textwrap.wrap(speech.text, max(20, room), break_long_words=False) or [speech.text]
    total = sum(len(piece.split()) for piece in pieces)
    subtitles, clock = [], start
    for piece in pieces:
        share = seconds * len(piece.split()) / total
        subtitles.append(Subtitle(round(clock, 3), round(clock + share, 3), speech.speaker, piece,
                                  speech.source_lines))
        clock += share
    return subtitles


def film_length(shots: list[Shot]) -> float:
    """Seconds from the first shot's start to the last one's end."""
    return shots[-1].end if shots else 0.0
