"""From a screenplay to a cut: title cards, shots with their durations and subtitles, and a credits card.

Each scene opens with a title card showing its heading. Its action paragraphs and speeches are "beats"
that last their word count divided by `words_per_second` (at least `min_beat` seconds); consecutive
beats are grouped into shots of at most `max_shot` seconds, and no shot is shorter than `min_shot`.
Every speech becomes a subtitle timed to its beat. Times are seconds from the start of the film. Seeds
come from a hash of the scene's number and heading, so re-rendering the same script gives the same film.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from reelgan.errors import ReelganError
from reelgan.script.fountain import Screenplay, plain_text, word_count

TITLE, SHOT, CREDITS = "title", "shot", "credits"


@dataclass(frozen=True)
class Subtitle:
    """One speech on screen from `start` to `end` (seconds of film)."""

    start: float
    end: float
    speaker: str
    text: str


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
        for name in ("words_per_second", "min_beat", "min_shot", "max_shot", "title_card", "credits"):
            if not getattr(self, name) > 0:
                raise ReelganError(f"--{name.replace('_', '-')} must be positive; got {getattr(self, name)}")
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
                beats.append((word_count(text), "", Subtitle(0.0, 0.0, speaker, text)))
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
            subtitles.append(Subtitle(round(offset, 3), round(offset + seconds, 3), speech.speaker, speech.text))
        if action:
            actions.append(action)
        offset += seconds
    return Shot(SHOT, number, heading, start, duration, seed, " ".join(actions), subtitles)


def film_length(shots: list[Shot]) -> float:
    """Seconds from the first shot's start to the last one's end."""
    return shots[-1].end if shots else 0.0
