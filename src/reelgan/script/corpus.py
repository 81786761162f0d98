"""Training text for screenplay models: a writer's Fountain and text files, and plays turned into Fountain.

`read_corpus` reads a file or a folder of `.fountain` / `.txt` / `.md` files into a list of documents
(one per file, or one per scene for plays). A play written as `NAME:` lines followed by the speech, as
in the Project Gutenberg-style `tinyshakespeare.txt`, is turned into Fountain by `play_to_fountain`:
speakers become character cues and their speeches dialogue. Plays in that form carry no scene headings
or stage directions, so every few speeches are grouped into a scene under a heading drawn from a fixed
list of period locations and an action line naming who is present. Those headings and action lines are
scaffolding so that a model learns the shape of a scene; they are not in the source text.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import ReelganError
from .fountain import Element, Screenplay, decode_text, write

CORPUS_SUFFIXES = (".fountain", ".spmd", ".txt", ".md")
FORMATS = ("auto", "fountain", "text", "play")

# Scene headings for plays, which have none of their own (see the module docstring).
PLAY_LOCATIONS = (
    "INT. GREAT HALL - NIGHT", "EXT. CITY STREET - DAY", "INT. THRONE ROOM - DAY", "EXT. BATTLEFIELD - DAWN",
    "INT. PALACE CHAMBER - NIGHT", "EXT. CASTLE WALLS - NIGHT", "EXT. MARKET PLACE - DAY", "INT. TAVERN - NIGHT",
    "EXT. FOREST - DAY", "EXT. GARDEN - DAY", "INT. PRISON CELL - NIGHT", "EXT. HARBOUR - DAWN",
    "INT. CHAPEL - DAY", "EXT. CAMP - NIGHT", "INT. BEDCHAMBER - NIGHT", "EXT. COURTYARD - DAY",
)
_SPEAKER_RE = re.compile(r"([A-Za-z][A-Za-z' .,&-]{0,40}):\s*")
# A text file is read as a play when at least this share of its paragraphs start with a `NAME:` line.
PLAY_SHARE = 0.5


@dataclass(frozen=True)
class Corpus:
    """Training documents and where they came from: `sources[i]` is the file `documents[i]` was read from."""

    documents: list[str]
    sources: list[str]

    @property
    def characters(self) -> int:
        """Total characters of text."""
        return sum(len(d) for d in self.documents)


def read_corpus(path: str | Path, text_format: str = "auto", seed: int = 0) -> Corpus:
    """Read a corpus file or folder into documents; ReelganError when there is no usable text.

    `text_format` is `auto` (Fountain for `.fountain` files; plays for text whose paragraphs are mostly
    `NAME:` speeches; plain text otherwise), `fountain`, `text` or `play`. `seed` picks the scene
    headings of plays.
    """
    if text_format not in FORMATS:
        raise ReelganError(f"unknown corpus format {text_format!r}; use one of {', '.join(FORMATS)}")
    path = Path(path)
    files = _corpus_files(path)
    documents, sources = [], []
    for file in files:
        text = decode_text(file.read_bytes(), file).replace("\r\n", "\n").replace("\r", "\n")
        if not text.strip():
            continue
        kind = _format_of(file, text) if text_format == "auto" else text_format
        pieces = play_to_fountain(text, seed=seed) if kind == "play" else [text.strip() + "\n"]
        documents.extend(pieces)
        sources.extend([str(file)] * len(pieces))
    if not documents:
        raise ReelganError(f"the corpus at {path} holds no text (only empty files); add .fountain or .txt "
                           "files with the writing to learn from")
    return Corpus(documents, sources)


def _corpus_files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise ReelganError(f"corpus {path} does not exist; pass a folder of .fountain/.txt files or one file")
    files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in CORPUS_SUFFIXES
                   and not any(part.startswith(".") for part in p.relative_to(path).parts))
    if not files:
        raise ReelganError(f"the corpus folder {path} has no {', '.join(CORPUS_SUFFIXES)} files; "
                           "add the scripts or text to learn from")
    return files


def _format_of(file: Path, text: str) -> str:
    if file.suffix.lower() in (".fountain", ".spmd"):
        return "fountain"
    paragraphs = [p for p in re.split(r"\n\s*\n", text) if p.strip()]
    speeches = sum(1 for p in paragraphs if _speech(p) is not None)
    return "play" if paragraphs and speeches >= PLAY_SHARE * len(paragraphs) else "text"


def _speech(paragraph: str) -> tuple[str, str] | None:
    """(speaker, speech) for a paragraph whose first line is `NAME:` and that has words after it."""
    first, _, rest = paragraph.strip().partition("\n")
    match = _SPEAKER_RE.fullmatch(first)
    if match is None or not rest.strip():
        return None
    return match.group(1).strip().upper(), "\n".join(line.strip() for line in rest.strip().split("\n"))


def play_to_fountain(text: str, seed: int = 0, min_speeches: int = 6, max_speeches: int = 16) -> list[str]:
    """A play of `NAME:` speeches as Fountain scenes (one string each), grouped every few speeches.

    Each scene is a heading from `PLAY_LOCATIONS`, an action line naming who speaks in it, and the
    speeches as cues and dialogue; paragraphs that are not speeches become action. The grouping and
    headings are drawn from `seed`, so the same text and seed give the same scenes.
    """
    rng = random.Random(seed)
    paragraphs = [p for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]
    scenes, current = [], []
    target = rng.randint(min_speeches, max_speeches)
    for paragraph in paragraphs:
        current.append(paragraph)
        if len(current) >= target:
            scenes.append(_play_scene(current, rng))
            current, target = [], rng.randint(min_speeches, max_speeches)
    if current:
        scenes.append(_play_scene(current, rng))
    return scenes


def _play_scene(paragraphs: list[str], rng: random.Random) -> str:
    elements = [Element("scene_heading", rng.choice(PLAY_LOCATIONS))]
    body, speakers = [], []
    for paragraph in paragraphs:
        speech = _speech(paragraph)
        if speech is None:
            body.append(Element("action", " ".join(paragraph.split())))
            continue
        speaker, words = speech
        speakers.append(speaker)
        body += [Element("character", speaker), Element("dialogue", words)]
    names = list(dict.fromkeys(speakers))
    if names:
        elements.append(Element("action", _presence_line(names)))
    return write(Screenplay(elements=elements + body))


def _presence_line(names: list[str]) -> str:
    if len(names) == 1:
        return f"{names[0]} is here."
    if len(names) > 4:
        return f"{', '.join(names[:3])} and others are here."
    return f"{', '.join(names[:-1])} and {names[-1]} are here."
