"""What a person's prompt says about a scene: its place, time of day and named characters.

A place is taken only where the prompt names one: a phrase after a preposition of place whose words hold a
place noun or a proper name ("... in a vast shell-shaped chamber at dawn" -> `VAST SHELL-SHAPED CHAMBER`,
"... at Blackwood Manor" -> `BLACKWOOD MANOR`), or a sentence that opens with one ("A bustling marketplace,
..." -> `BUSTLING MARKETPLACE`). Anything else gives no place (None), never the first words of a clause.
Characters are the capitalised names in the prompt that are not common words or part of the place.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

ARTICLES = {"a", "an", "the"}
PLACE_PREPOSITIONS = {"in", "at", "inside", "aboard", "on", "outside", "near", "beneath", "under", "atop", "into",
                      "onto", "within", "across", "through", "behind", "beside"}
# Words that end a place phrase: conjunctions, prepositions of time and purpose, relative pronouns.
PHRASE_STOPS = {"and", "but", "or", "as", "when", "while", "where", "who", "whom", "which", "that", "to", "for",
                "with", "after", "before", "during", "until", "because", "since", "if", "then", "by", "from",
                "about", "against", "in", "at", "on", "into", "onto", "over", "under", "near", "inside"}
INTERIOR_WORDS = {
    "inside", "indoors", "room", "kitchen", "bedroom", "office", "bar", "tavern", "hall", "house", "apartment",
    "flat", "corridor", "hallway", "lab", "laboratory", "church", "chapel", "car", "train", "cabin", "library",
    "basement", "attic", "studio", "restaurant", "cafe", "shop", "store", "hospital", "classroom", "cell",
    "elevator", "lobby", "palace", "castle", "chamber", "theatre", "theater", "warehouse", "garage", "bistro",
    "diner", "motel", "hotel", "bunker", "cockpit", "spaceship", "submarine", "courtroom", "prison", "farmhouse",
    "museum", "gym", "ward", "vault", "cellar", "study", "salon", "pub", "bathroom", "loft", "barn", "tent",
    "mansion", "manor", "station", "school", "temple", "cathedral", "workshop", "bakery", "embassy", "bridge",
}
EXTERIOR_WORDS = {
    "street", "market", "marketplace", "beach", "forest", "woods", "field", "desert", "harbour", "harbor", "sea",
    "ocean", "ship", "deck", "city", "town", "village", "road", "highway", "roof", "rooftop", "park", "garden",
    "mountain", "mountains", "river", "lake", "platform", "airport", "square", "alley", "port", "dock", "docks",
    "camp", "battlefield", "jungle", "island", "cave", "mine", "farm", "yard", "courtyard", "cemetery",
    "graveyard", "plaza", "pier", "shore", "coast", "cliff", "cliffs", "valley", "canyon", "swamp", "meadow",
    "orchard", "parking", "lot", "bus", "stop", "crossroads", "boardwalk", "moon", "planet", "glacier", "tundra",
    "ruins", "trench", "quarry", "vineyard", "outpost", "colony", "wasteland", "ridge", "summit", "shipyard",
}
PLACE_WORDS = INTERIOR_WORDS | EXTERIOR_WORDS
TIMES_OF_DAY = {"night": "NIGHT", "tonight": "NIGHT", "midnight": "NIGHT", "dawn": "DAWN", "dusk": "DUSK",
                "morning": "MORNING", "evening": "EVENING", "afternoon": "AFTERNOON", "sunset": "SUNSET",
                "sunrise": "SUNRISE", "noon": "DAY", "day": "DAY", "daytime": "DAY", "nightfall": "NIGHT",
                "twilight": "DUSK", "daybreak": "DAWN"}
NAME_PREPOSITIONS = {"in", "at", "inside", "aboard", "outside", "on", "across", "through", "into", "within"}
DETERMINERS = {"his", "her", "their", "its", "our", "my", "your", "this", "that", "some", "one"}
TIME_PREPOSITIONS = {"at", "in", "by", "during", "before", "after", "one", "that", "this", "each", "every"}
# Capitalised words that are not names: sentence openers, pronouns, numbers, titles of scenes and the like.
COMMON_WORDS = ARTICLES | PLACE_PREPOSITIONS | PHRASE_STOPS | set(TIMES_OF_DAY) | {
    "scene", "prompt", "int", "ext", "he", "she", "they", "it", "we", "i", "you", "his", "her", "their", "its",
    "our", "my", "your", "this", "these", "those", "there", "here", "now", "then", "later", "meanwhile", "one",
    "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "once", "years", "suddenly",
    "someone", "everyone", "nobody", "no", "not", "all", "both", "each", "every", "some", "another", "other",
    "so", "yet", "still", "even", "just", "only", "also", "what", "why", "how", "finally", "first", "last",
    "next", "new", "old", "young", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
    "christmas", "god", "ai", "fbi", "cia", "nasa", "ok", "okay", "yes", "hello", "dr", "mr", "mrs", "ms",
    "while", "until", "inside", "outside", "upstairs", "downstairs", "tomorrow", "yesterday", "today", "after",
}
TITLES = {"detective", "captain", "doctor", "dr", "professor", "sergeant", "officer", "agent", "lieutenant",
          "mr", "mrs", "ms", "miss", "sir", "lady", "lord", "queen", "king", "prince", "princess", "father",
          "sister", "brother", "mother", "uncle", "aunt", "grandma", "grandpa", "judge", "general", "colonel",
          "commander", "chef", "coach", "nurse", "inspector", "chief", "major", "private", "reverend", "saint"}
MAX_PLACE_WORDS = 5
_WORD_RE = re.compile(r"[A-Za-z][\w'&-]*|[.,;:!?()\n]| - | -- ")
_BREAKS = set(".,;:!?()\n") | {" - ", " -- "}


@dataclass
class SceneBrief:
    """What a prompt fixes about its scene; None or empty where it leaves the choice to the writer."""

    place: str | None                 # e.g. "KITCHEN OF A PARIS BISTRO", or None when the prompt names none
    time: str | None                  # e.g. "NIGHT", or None
    interior: bool                    # INT. (True) or EXT. (False), from the place's words, else the prompt's
    characters: list[str] = field(default_factory=list)  # cue names, upper case, in order of appearance

    def heading(self, place: str | None = None, time: str | None = None) -> str:
        """The scene heading, with `place`/`time` standing in for what the prompt does not name."""
        where = self.place or place or "SOMEWHERE"
        return f"{'INT.' if self.interior else 'EXT.'} {where} - {self.time or time or 'DAY'}"


def tokens(text: str) -> list[str]:
    """Words (letters, digits, ' & -) and clause breaks, in order."""
    return _WORD_RE.findall(text)


def find_time(text: str) -> str | None:
    """The time of day a prompt names (NIGHT, DAWN, ...), or None."""
    for word in re.findall(r"[a-z]+", text.lower()):
        if word in TIMES_OF_DAY:
            return TIMES_OF_DAY[word]
    return None


def find_place(text: str) -> str | None:
    """The place a prompt names, upper case, or None (see the module's docstring)."""
    words = tokens(text)
    opening = _opening_place(words)
    if opening:
        return opening
    for phrase in _place_phrases(words):
        shortened = _shorten(phrase)
        if shortened:
            return " ".join(shortened).upper()
    return None


def _place_phrases(words: list[str]) -> list[list[str]]:
    """Every phrase after a preposition of place that names a place, as written (not shortened)."""
    phrases = []
    for index, word in enumerate(words):
        if word.lower() in PLACE_PREPOSITIONS:
            phrase = _phrase(words, index + 1)
            if phrase and _is_place(phrase, proper_ok=word.lower() in NAME_PREPOSITIONS):
                phrases.append(phrase)
    return phrases


def _opening_place(words: list[str]) -> str | None:
    """`[article] [up to two words] PLACE-NOUN [of ...]` at the start of the prompt (after a `Scene:` label)."""
    start = 0
    while start < len(words) and (words[start].lower() in ("scene", "prompt") or words[start] == ":"):
        start += 1
    if start < len(words) and words[start].lower() in ARTICLES:
        start += 1
    head: list[str] = []
    for word in words[start:start + 3]:
        if word in _BREAKS or word.lower() in PHRASE_STOPS | ARTICLES:
            return None
        head.append(word)
        if word.lower() in PLACE_WORDS:
            return " ".join(_shorten(head + _of_phrase(words, start + len(head)))).upper()
    return None


def _of_phrase(words: list[str], index: int) -> list[str]:
    """`of [article] X Y` after a place noun ("kitchen of a small flat"), else nothing."""
    if index >= len(words) or words[index].lower() != "of":
        return []
    rest = _phrase(words, index + 1, keep_article=True)
    return ["of", *rest] if rest and rest[-1].lower() not in ARTICLES else []


def _phrase(words: list[str], index: int, keep_article: bool = False) -> list[str]:
    """The words from `index` to the next break, stop word or time of day; a leading article or possessive
    dropped."""
    phrase: list[str] = []
    for word in words[index:]:
        lowered = word.lower()
        if word in _BREAKS or lowered in PHRASE_STOPS or lowered in TIMES_OF_DAY:
            break
        if not phrase and not keep_article and lowered in ARTICLES | DETERMINERS:
            continue
        phrase.append(word)
    while phrase and phrase[-1].lower() in ARTICLES | TIME_PREPOSITIONS | {"of"}:
        phrase.pop()
    return phrase


def _shorten(phrase: list[str]) -> list[str]:
    """A place phrase of at most MAX_PLACE_WORDS words, cut only where a whole place ends: before its `of`
    ("kitchen of a small Paris bistro" -> "kitchen"), else after its last place noun; else nothing."""
    if len(phrase) <= MAX_PLACE_WORDS:
        return phrase
    lowered = [word.lower() for word in phrase]
    if "of" in lowered and any(word in PLACE_WORDS for word in lowered[:lowered.index("of")]):
        return _shorten(phrase[:lowered.index("of")])
    nouns = [i for i, word in enumerate(lowered[:MAX_PLACE_WORDS]) if word in PLACE_WORDS]
    return phrase[:nouns[-1] + 1] if nouns else []


def _is_place(phrase: list[str], proper_ok: bool = True) -> bool:
    """A phrase names a place when it holds a place noun or, with `proper_ok`, is a proper name (every word
    capitalised: "Blackwood Manor", "Marseille")."""
    if any(word.lower() in PLACE_WORDS for word in phrase):
        return True
    if not proper_ok:
        return False
    names = [word for word in phrase if word.lower() not in ("of", "de", "la", "le", "del")]
    return bool(names) and all(word[:1].isupper() for word in names) and not any(
        word.lower() in COMMON_WORDS for word in names)


def find_characters(text: str, place: str | None = None) -> list[str]:
    """Names of characters in a prompt as cues (upper case), in order: runs of capitalised words that are not
    common words, titles alone, or words of the place. A title before a full name is dropped
    ("Detective Rosa Alvarez" -> ROSA ALVAREZ); before one name it stays ("Captain Reyes" -> CAPTAIN REYES)."""
    place_words = set((place or "").split()) | {
        word.upper() for phrase in _place_phrases(tokens(text)) for word in phrase}
    names: list[str] = []
    run: list[str] = []
    for word in [*tokens(text), "."]:
        possessive = word.endswith(("'s", "\u2019s"))
        bare = word[:-2] if possessive else word
        is_name = word not in _BREAKS and bare[:1].isupper() and bare.upper() not in place_words and (
            bare.lower() not in COMMON_WORDS or bare.lower() in TITLES)
        if is_name:
            run.append(bare)
        if not is_name or possessive:
            _add_name(run, names)
            run = []
    return names


def _add_name(run: list[str], names: list[str]) -> None:
    """Add a run of capitalised words to `names` as one cue, unless it is a lone title or already there."""
    if len(run) > 2 and run[0].lower() in TITLES:
        run = run[1:]
    if not run or (len(run) == 1 and run[0].lower() in TITLES):
        return
    name = " ".join(run[:3]).upper()
    if name not in names and not any(name == other.split()[0] for other in names):
        names.append(name)


def read_brief(text: str) -> SceneBrief:
    """Place, time, INT./EXT. and characters of a prompt."""
    place = find_place(text)
    words = set(re.findall(r"[a-z]+", (place or text).lower()))
    interior = bool(words & INTERIOR_WORDS) or (place is None and "inside" in text.lower())
    if place and not words & PLACE_WORDS:  # a proper name: judge by the whole prompt
        interior = bool(set(re.findall(r"[a-z]+", text.lower())) & INTERIOR_WORDS)
    return SceneBrief(place, find_time(text), interior, find_characters(text, place))
