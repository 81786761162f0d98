"""From a screenplay to a cut: title cards, shots with their durations and subtitles, and a credits card.

Each scene opens with a title card showing its heading. What comes before the first heading (a cold open,
an opening voice-over) is an opening segment, scene 0, whose card shows the script's title (or "Opening").
Action paragraphs (and centred text) and speeches are "beats" that last their word count divided by
`words_per_second` (at least `min_beat` seconds); consecutive beats are grouped into shots of at most
`max_shot` seconds (a single longer beat gets a shot of its own), and no shot is shorter than `min_shot`.
Times are seconds from the start of the film. Seeds come from a hash of the scene's number and heading, so
re-rendering the same script gives the same film. Notes, boneyard, sections and synopses are not part of the
printed script and are left out; how many is logged once.

Subtitles follow broadcasters' rules: a cue shows `SPEAKER: words` on at most `CUE_LINES` lines of at most
`LINE_CHARS` characters, broken between words (a hyphenated compound stays whole) where the text has a
pause (after `, ; : —`, before a conjunction or preposition), with the two lines of similar length (the
bottom one may be longer). A speech too long for one cue becomes several, split at sentence or clause ends
where it can be, each timed by its share of the speech's words. `Subtitle.lines` is the one layout that the
SRT and WebVTT files and the burned-in text all show.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from ..errors import ReelganError
from ..script.fountain import Element, Screenplay, plain_text, word_count

log = logging.getLogger(__name__)

TITLE, SHOT, CREDITS = "title", "shot", "credits"
OPENING = "Opening"   # the opening segment's card when the title page names no title
LINE_CHARS = 42       # longest subtitle line in characters, as broadcasters' subtitling guidelines set it
CUE_LINES = 2         # lines a subtitle may take on screen
SPEECH_PAUSE = 0.3    # seconds of quiet after a spoken cue before the next one may start
# "FADE IN:", "FADE OUT.", "CUT TO BLACK.": Fountain reads them as action (only "...TO:" is a transition)
# but they are cuts, which the film makes, not things to show
_CUT_WORDS = re.compile(r"(?:FADE|CUT|SMASH CUT|MATCH CUT|DISSOLVE|IRIS|WIPE)(?: [A-Z]+){0,3}[:.]?")
FLAGS = {"words_per_second": "--words-per-second", "min_beat": "--min-shot", "min_shot": "--min-shot",
         "max_shot": "--max-shot", "title_card": "--title-seconds", "credits": "--credits-seconds"}


@dataclass(frozen=True)
class Subtitle:
    """One cue of a speech on screen from `start` to `end` (seconds of film); `text` is its words."""

    start: float
    end: float
    speaker: str
    text: str
    # the speech's lines as written in the script (for authorship); not part of what is shown
    source_lines: tuple[str, ...] = field(default=(), compare=False)

    @property
    def lines(self) -> tuple[str, ...]:
        """The cue as shown, `SPEAKER: words` broken into lines (the same in SRT, WebVTT and the frames)."""
        return cue_lines(self.speaker, self.text)


@dataclass
class Shot:
    """One piece of the cut: a title card, a shot of a scene, or the credits card."""

    kind: str                # TITLE, SHOT or CREDITS
    scene: int               # 1-based scene number (0 for the opening before the first heading, and the credits)
    heading: str             # the scene heading (the opening's card text; "" for the credits)
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


# ---------------------------------------------------------------------------------------------------
# The cut


def _beats(elements: list[Element]) -> list[tuple[float, str, Subtitle | None]]:
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
            if text and element.kind != "transition" and not _CUT_WORDS.fullmatch(text):
                beats.append((word_count(text), text, None))
        elif element.kind != "parenthetical":
            speaker = None
    return beats


def segments(screenplay: Screenplay) -> list[tuple[int, str, list[Element]]]:
    """(scene number, card text, elements) for the opening (number 0, only if it holds something to show)
    and then every scene with a heading, numbered from 1."""
    found: list[tuple[int, str, list[Element]]] = []
    number = 0
    for scene in screenplay.scenes():
        if scene.heading is not None:
            number += 1
            found.append((number, plain_text(scene.heading.text).strip(), scene.elements))
        elif _beats(scene.elements):  # only the first scene can lack a heading
            title = plain_text(screenplay.title_page.get("Title") or "").replace("\n", " ").strip()
            found.append((0, title or OPENING, scene.elements))
    return found


def scene_headings(shots: list[Shot]) -> list[str]:
    """The headings of scenes 1, 2, ... (what a cast file names), without the opening's card."""
    return [shot.heading for shot in shots if shot.kind == TITLE and shot.scene > 0]


SpeechSeconds = Callable[[str, str], float]  # (speaker, cue text) -> seconds the cue takes to say


def plan_film(screenplay: Screenplay, timing: Timing = Timing(),
              speech_seconds: SpeechSeconds | None = None) -> list[Shot]:
    """The cut: the opening (if any), per scene a title card and its shots, then a credits card; ReelganError
    if the script has no scene headings. With `speech_seconds`, each cue lasts at least its speech plus
    SPEECH_PAUSE (it is read aloud)."""
    timing.check()
    if not any(scene.heading is not None for scene in screenplay.scenes()):
        raise ReelganError("the script has no scenes (no scene headings such as INT. HOUSE - DAY); add one "
                           "before each scene")
    _log_skipped(screenplay)
    shots: list[Shot] = []
    clock = 0.0
    for number, heading, elements in segments(screenplay):
        seed = scene_seed(number, heading)
        shots.append(Shot(TITLE, number, heading, clock, timing.title_card, seed))
        clock += timing.title_card
        for index, group in enumerate(_group(_beats(elements), timing, speech_seconds) or [[]]):
            shot = _shot(number, heading, seed + index + 1, clock, group, timing)
            shots.append(shot)
            clock = shot.end
    shots.append(Shot(CREDITS, 0, "", clock, timing.credits, 0))
    return shots


def _group(beats: list[tuple[float, str, Subtitle | None]], timing: Timing,
           speech_seconds: SpeechSeconds | None = None) -> list[list]:
    """Consecutive beats as (seconds, action text, timed cues of its speech), grouped into shots of at most
    `max_shot` seconds."""
    groups: list[list] = []
    length = 0.0
    for words, action, speech in beats:
        seconds = max(timing.min_beat, words / timing.words_per_second)
        cues = _cue_seconds(speech, seconds, speech_seconds) if speech is not None else []
        if speech_seconds is not None and cues:
            seconds = sum(cue_seconds for _, cue_seconds in cues)  # spoken cues may outlast reading time
        if not groups or length + seconds > timing.max_shot:
            groups.append([])
            length = 0.0
        groups[-1].append((seconds, action, speech, cues))
        length += seconds
    return groups


def _cue_seconds(speech: Subtitle, seconds: float, speech_seconds: SpeechSeconds | None) -> list[tuple[str, float]]:
    """A speech's cues (see `speech_cues`) with their seconds: each its share of the speech's `seconds` by
    words, and with `speech_seconds` at least its spoken length plus SPEECH_PAUSE."""
    pieces = speech_cues(speech.speaker, speech.text)
    total = sum(len(piece.split()) for piece in pieces)
    timed = [(piece, seconds * len(piece.split()) / total) for piece in pieces]
    if speech_seconds is not None:
        timed = [(piece, max(share, speech_seconds(speech.speaker, piece) + SPEECH_PAUSE))
                 for piece, share in timed]
    return timed


def _shot(number: int, heading: str, seed: int, start: float, group: list, timing: Timing) -> Shot:
    """One shot of a group of beats: its duration, its action text and its speeches' timed cues."""
    duration = max(timing.min_shot, sum(seconds for seconds, _, _, _ in group))
    subtitles, offset, actions = [], start, []
    for seconds, action, speech, cues in group:
        if speech is not None:
            subtitles += _timed_pieces(speech, offset, cues)
        if action:
            actions.append(action)
        offset += seconds
    return Shot(SHOT, number, heading, start, duration, seed, " ".join(actions), subtitles)


def frame_at(seconds: float, fps: int) -> int:
    """The first frame whose middle, (i + 0.5) / fps, is at or after `seconds`: where a cut at `seconds` falls."""
    return max(0, math.ceil(seconds * fps - 0.5 - 1e-9))


def _timed_pieces(speech: Subtitle, start: float, cues: list[tuple[str, float]]) -> list[Subtitle]:
    """A speech's cues (from `_cue_seconds`) as subtitles one after another from `start`."""
    subtitles, clock = [], start
    for piece, share in cues:
        subtitles.append(Subtitle(round(clock, 3), round(clock + share, 3), speech.speaker, piece,
                                  speech.source_lines))
        clock += share
    return subtitles


def film_length(shots: list[Shot]) -> float:
    """Seconds from the first shot's start to the last one's end."""
    return shots[-1].end if shots else 0.0


# ---------------------------------------------------------------------------------------------------
# What is left out

_INLINE_NOTE = re.compile(r"\[\[.*?\]\]", re.DOTALL)
_INLINE_BONEYARD = re.compile(r"/\*.*?\*/", re.DOTALL)
_SKIPPED = {"note": ("note", "notes"), "boneyard": ("boneyard block", "boneyard blocks"),
            "section": ("section", "sections"), "synopsis": ("synopsis", "synopses")}


def skipped(screenplay: Screenplay) -> dict[str, int]:
    """How many notes, boneyard blocks, sections and synopses the film leaves out (inline ones included)."""
    counts = dict.fromkeys(_SKIPPED, 0)
    for element in screenplay.elements:
        if element.kind in counts:
            counts[element.kind] += 1
        else:  # inline notes and boneyard inside printed text; a note inside boneyard goes with it
            counts["boneyard"] += len(_INLINE_BONEYARD.findall(element.text))
            counts["note"] += len(_INLINE_NOTE.findall(_INLINE_BONEYARD.sub("", element.text)))
    return counts


def _log_skipped(screenplay: Screenplay) -> None:
    """One INFO line naming what the film leaves out, so that nothing is dropped silently."""
    parts = [f"{n} {_SKIPPED[kind][n != 1]}" for kind, n in skipped(screenplay).items() if n]
    if parts:
        listed = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
        log.info("skipped %s (not part of the printed script, so not in the film)", listed)


# ---------------------------------------------------------------------------------------------------
# Breaking speech into cues and lines

# What a break costs, by where it falls: a pause in the text (a sentence or clause end, before a
# conjunction) is the best place, before a preposition the next best, and a break that tears a little word
# from the words it leads into the worst. A cue's end costs `_CUE_END` times as much as a line break, since
# a viewer waits for the next cue; every cue costs `_PER_CUE`, so cues are filled.
_SENTENCE, _CLAUSE, _PHRASE, _PLAIN, _DANGLING, _NEVER = 0.0, 1.0, 2.5, 4.0, 8.0, math.inf
_CUE_END, _PER_CUE, _OVERLONG = 4.0, 2.0, 50.0
# uneven lines cost this much at a full line's difference, growing with its square; a top line longer than
# the bottom one reads worse than the other way round
_TOP_LONGER, _BOTTOM_LONGER = 8.0, 3.0
CONJUNCTIONS = frozenset("and but or nor so yet because where when while if unless until though although".split())
# "that", "which" and "who" lead clauses too, but as often point at a thing ("that day"): a phrase boundary
PREPOSITIONS = frozenset("that which who whom whose to of in on at with for from into onto about after before by "
                         "as than without through over under".split())
# words that lead into what follows them: a line or cue ending with one leaves it hanging
_LEADING_WORDS = CONJUNCTIONS | PREPOSITIONS | frozenset("a an the my your his its our their this these those i"
                                                         .split())
_ABBREVIATIONS = frozenset("mr. mrs. ms. dr. st. jr. sr. prof. mt. vs.".split())
_CLOSING = "\"'”’)]»"
_INNER_DASH = re.compile(r"(?<=[—–])(?=\w)")   # "know—but": a break may follow the dash
_MARKS = re.compile(r"^\W+|\W+$")

Token = tuple[str, bool]  # (text, whether a space comes before it)


def _tokens(text: str) -> list[Token]:
    """The units a line may break between: words (a hyphenated compound is one) and, after an em or en dash
    inside a word, the part that follows it."""
    tokens: list[Token] = []
    for word in text.split():
        for index, part in enumerate(_INNER_DASH.split(word)):
            tokens.append((part, index == 0 and bool(tokens)))
    return tokens


def _join(tokens: Sequence[Token]) -> str:
    """The tokens as text, spaced as they were written."""
    return "".join((" " if spaced and index else "") + text for index, (text, spaced) in enumerate(tokens))


def _bare(token: str) -> str:
    """A token lower-cased without the marks around it ("(Then," -> "then")."""
    return _MARKS.sub("", token).lower()


def _break_cost(before: str, after: str) -> float:
    """The cost of a break between two tokens."""
    if not any(c.isalnum() for c in after):
        return _NEVER  # a dash or stray mark stays with the word before it, never opening a line
    end = before.rstrip(_CLOSING)
    if end.endswith(("...", "…", ",", ";", ":", "—", "–", "--")) or not any(c.isalnum() for c in before):
        return _CLAUSE
    if end.endswith((".", "!", "?")) and end.lower() not in _ABBREVIATIONS:
        return _SENTENCE
    if _bare(before) in _LEADING_WORDS or end.lower() in _ABBREVIATIONS:
        return _DANGLING
    word = _bare(after)
    return _CLAUSE if word in CONJUNCTIONS else _PHRASE if word in PREPOSITIONS else _PLAIN


def _imbalance(top: int, bottom: int) -> float:
    """The cost of two lines of unequal length (in characters)."""
    weight = _TOP_LONGER if top > bottom else _BOTTOM_LONGER
    return weight * ((top - bottom) / LINE_CHARS) ** 2


def _layout(tokens: Sequence[Token], costs: Sequence[float]) -> tuple[float, tuple[str, ...]] | None:
    """The best one- or two-line layout of a cue and its cost, or None when it fits in neither.

    `costs[k]` is the cost of a break before `tokens[k]`.
    """
    whole = _join(tokens)
    if len(whole) <= LINE_CHARS:
        return 0.0, (whole,)
    best = None
    for k in range(1, len(tokens)):
        top, bottom = _join(tokens[:k]), _join(tokens[k:])
        if costs[k] == _NEVER or len(top) > LINE_CHARS or len(bottom) > LINE_CHARS:
            continue
        cost = costs[k] + _imbalance(len(top), len(bottom))
        if best is None or cost < best[0]:
            best = (cost, (top, bottom))
    return best


def _wrapped(tokens: Sequence[Token], costs: Sequence[float]) -> tuple[str, ...]:
    """Lines of at most LINE_CHARS characters, filled greedily (for text too long for one cue); a token
    longer than a line gets a line of its own."""
    lines: list[list[Token]] = [[]]
    for k, token in enumerate(tokens):
        if lines[-1] and costs[k] != _NEVER and len(_join([*lines[-1], token])) > LINE_CHARS:
            lines.append([])
        lines[-1].append(token)
    return tuple(_join(line) for line in lines)


def _cue_tokens(speaker: str, words: Sequence[Token], costs: Sequence[float]) -> tuple[list[Token], list[float]]:
    """A cue's tokens with the speaker's label first (never alone on a line), and the cost of each break."""
    first = [(words[0][0], False)] + list(words[1:])
    if not speaker:
        return first, [_NEVER, *costs[1:]]
    return [(f"{speaker}:", False), (first[0][0], True), *first[1:]], [_NEVER, _NEVER, *costs[1:]]


def _speech_costs(words: Sequence[Token]) -> list[float]:
    """The cost of a break before each token of a speech (the first one cannot be broken before)."""
    return [_NEVER] + [_break_cost(a[0], b[0]) for a, b in zip(words, words[1:])]


@functools.lru_cache(maxsize=4096)
def cue_lines(speaker: str, text: str) -> tuple[str, ...]:
    """`SPEAKER: text` as shown on screen: at most CUE_LINES lines of at most LINE_CHARS characters when it
    fits (`speech_cues` makes cues that do), else as many such lines as it needs."""
    words = _tokens(text)
    if not words:
        return (f"{speaker}:",) if speaker else ("",)
    tokens, costs = _cue_tokens(speaker, words, _speech_costs(words))
    layout = _layout(tokens, costs)
    return layout[1] if layout is not None else _wrapped(tokens, costs)


def _cue_cost(speaker: str, words: Sequence[Token], costs: Sequence[float], i: int, j: int,
              first: bool) -> float | None:
    """The cost of a cue of `words[i:j]`: its layout, and its end unless it ends the speech; None when it
    cannot be shown in CUE_LINES lines, unless it is the shortest cue that may start at `i` (`first`)."""
    tokens, cue_costs = _cue_tokens(speaker, words[i:j], costs[i:j])
    layout = _layout(tokens, cue_costs)
    if layout is None and not first:
        return None
    end = _CUE_END * costs[j] if j < len(words) else 0.0
    return _PER_CUE + (layout[0] if layout is not None else _OVERLONG) + end


def speech_cues(speaker: str, text: str) -> list[str]:
    """A speech split into the words of its cues: as few as it can be, ending at sentence or clause ends where
    it can, each fitting CUE_LINES lines of LINE_CHARS characters with the speaker's label (a word longer
    than a line gets a cue of its own)."""
    words = _tokens(text)
    if not words:
        return [text]
    costs = _speech_costs(words)
    n = len(words)
    best, back = [0.0] + [math.inf] * n, [0] * (n + 1)
    for i in range(n):  # shortest path over the places a cue may end
        if best[i] == math.inf:
            continue
        first = True
        for j in range(i + 1, n + 1):
            if j < n and costs[j] == _NEVER:
                continue  # a cue never ends before a lone dash or mark
            if not first and len(speaker) + len(_join(words[i:j])) > CUE_LINES * (LINE_CHARS + 1):
                break  # longer cues cannot fit either
            cost = _cue_cost(speaker, words, costs, i, j, first)
            first = False
            if cost is not None and best[i] + cost < best[j]:
                best[j], back[j] = best[i] + cost, i
    bounds = [n]
    while bounds[-1]:
        bounds.append(back[bounds[-1]])
    bounds.reverse()
    return [_join(_cue_tokens("", words[a:b], costs[a:b])[0]) for a, b in zip(bounds, bounds[1:])]
