"""Writing a phrase as one logogram: the same phrase always gives the same glyph.

Like the film's logograms, a glyph carries a whole sentence at once, not a line of letters:

- Each word becomes one feature (tendril, hook, blot or splatter) whose kind, shape and place on the ring
  come from a hash of the word alone, so phrases that share a word share that feature, in the same place.
- The ring itself (its thickness, wobble, any gap and inner marks) and the ink come from a hash of the whole
  phrase, so two different phrases never share a ring by accident of their words.
- Words are compared lower-cased, without punctuation ("Peace," and "peace" are one word). A word repeated
  in a phrase is drawn once, since a second copy would land on the first.

Hashes are sha256, so the mapping is the same on every machine and Python version.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

import numpy as np

from ..data.logograms import LogogramGeometry, LogogramStyle, compose_logogram, render_geometry, ring_points_for
from ..errors import ReelganError

MAX_WORDS = 12
"""More features than this crowd the ring until they overlap and no longer read as separate words."""
MAX_CHARACTERS = 200
MIN_SPACING = 1.0 / 24
"""Smallest distance between two words' places on the ring, as a fraction of a turn."""


@dataclass(frozen=True)
class PhraseGlyph:
    """A phrase's glyph: its words, the seeds that drew it, and its shapes."""

    phrase: str
    words: list[str]
    ring_seed: int
    features: list[tuple[int, float]]  # (feature seed, place on the ring as a fraction of a turn)
    geometry: LogogramGeometry


def _hash_int(text: str, salt: str) -> int:
    """A 63-bit integer from sha256 of `salt:text`."""
    return int.from_bytes(hashlib.sha256(f"{salt}:{text}".encode()).digest()[:8], "big") >> 1


def phrase_words(phrase: str) -> list[str]:
    """The distinct words of a phrase, lower-cased, without punctuation, in order of first use."""
    words = re.findall(r"[\w']+", phrase.lower())
    words = [word.strip("'") for word in words if word.strip("'")]
    return list(dict.fromkeys(words))


def check_phrase(phrase: str) -> list[str]:
    """The phrase's words, or a ReelganError that says what limit it breaks."""
    if len(phrase) > MAX_CHARACTERS:
        raise ReelganError(f"the phrase has {len(phrase)} characters; one glyph holds at most {MAX_CHARACTERS}: "
                           "split it into several glyphs")
    words = phrase_words(phrase)
    if not words:
        raise ReelganError("the phrase has no words; give at least one, e.g. \"we come in peace\"")
    if len(words) > MAX_WORDS:
        raise ReelganError(f"the phrase has {len(words)} distinct words; one glyph holds at most {MAX_WORDS}: "
                           "split it into several glyphs")
    return words


def _spread(places: list[float]) -> list[float]:
    """Nudge places (fractions of a turn) apart so no two are closer than MIN_SPACING, keeping their order.

    Only crowded words move, and each moves as little as the pass allows, so most words keep their place.
    """
    order = sorted(range(len(places)), key=lambda i: places[i])
    moved = list(places)
    for _ in range(len(places)):
        changed = False
        for a, b in zip(order, order[1:] + order[:1]):
            gap = (moved[b] - moved[a]) % 1.0
            if len(places) > 1 and gap < MIN_SPACING:
                push = (MIN_SPACING - gap) / 2.0
                moved[a], moved[b] = (moved[a] - push) % 1.0, (moved[b] + push) % 1.0
                changed = True
        if not changed:
            break
    return moved


def phrase_glyph(phrase: str, style: LogogramStyle | None = None, ring_points: int = 240) -> PhraseGlyph:
    """The logogram for `phrase` (see the module's description of the mapping)."""
    words = check_phrase(phrase)
    normalised = " ".join(words)
    ring_seed = _hash_int(normalised, "ring")
    places = _spread([_hash_int(word, "place") / 2**63 for word in words])
    features = [(_hash_int(word, "feature"), place) for word, place in zip(words, places)]
    geometry = compose_logogram(ring_seed, features, style, ring_points=ring_points)
    return PhraseGlyph(phrase, words, ring_seed, features, geometry)


def render_phrase(phrase: str, resolution: int, style: LogogramStyle | None = None) -> np.ndarray:
    """The phrase's glyph as a (resolution, resolution) uint8 array, 255 paper and 0 ink."""
    glyph = phrase_glyph(phrase, style, ring_points=ring_points_for(resolution))
    return render_geometry(glyph.geometry, resolution, style, ink_seed=glyph.ring_seed)
