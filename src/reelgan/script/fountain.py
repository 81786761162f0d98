"""Fountain screenplays in and out: parse, write, read from disk, outline.

Fountain (https://fountain.io/syntax) is the screenwriters' plain-text format. `parse` turns Fountain
text into a `Screenplay` (a title page and a flat list of `Element`s); `write` turns it back into
canonical Fountain that parses to the same elements, adding the forcing markers (`!`, `.`, `@`, `>`)
only where a plain line would be read as something else. `read_fountain` reads a file with clear errors,
and `outline` summarises scenes, characters, word counts and an estimated screen time.

Text is kept as written: emphasis markers (`*`, `**`, `_`), escapes, inline notes (`[[...]]`) and inline
boneyard (`/* ... */`) stay in an element's text; `plain_text` removes notes, boneyard and emphasis.
"""

from __future__ import annotations

import re
import textwrap
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ReelganError

KINDS = (
    "scene_heading", "action", "character", "parenthetical", "dialogue", "transition", "centered",
    "lyric", "page_break", "section", "synopsis", "note", "boneyard",
)
SPEECH_KINDS = ("parenthetical", "dialogue", "lyric")  # what may follow a character cue in its block

PRINTED_KINDS = (  # what appears on the printed page (and counts as words)
    "scene_heading", "action", "character", "parenthetical", "dialogue", "transition", "centered", "lyric",
)

LINES_PER_PAGE = 55
# Characters per printed line (Courier 12 pt, US letter), as in common Fountain print profiles;
# a character cue always takes one line.
LINE_WIDTHS = {
    "scene_heading": 61, "action": 61, "transition": 61, "centered": 61,
    "dialogue": 35, "lyric": 35, "parenthetical": 26,
}

_HEADING_RE = re.compile(r"(?:INT\.?/EXT|INT|EXT|EST|I/E)[. ]", re.IGNORECASE)
_SCENE_NUMBER_RE = re.compile(r"(.*?)\s*#([\w.\-]+)#", re.DOTALL)
_CENTERED_RE = re.compile(r"\s*>(.*)<\s*", re.DOTALL)
_PAGE_BREAK_RE = re.compile(r"={3,}")
_SECTION_RE = re.compile(r"(#+)\s*(.*)", re.DOTALL)
_TITLE_KEY_RE = re.compile(r"([^\W_][^:]*):[ \t]*(.*)")
_TITLE_VALUE_RE = re.compile(r"(?:\t| {3,})\s*(\S.*)")
_CONNECTOR_RE = re.compile(r" {2,}")  # a line of two or more spaces keeps a paragraph going
_NOTE_RE = re.compile(r"\[\[.*?\]\]", re.DOTALL)
_BONEYARD_RE = re.compile(r"/\*.*?\*/", re.DOTALL)
_EMPHASIS_RE = re.compile(r"(?<!\\)(\*{1,3}|_)")
_CLOSERS = {"[[": "]]", "/*": "*/"}
_ALLOWED_CONTROLS = "\t\n\r\f"


@dataclass(frozen=True)
class Element:
    """One screenplay element.

    `kind` is one of `KINDS`. For a character, `text` is the name and `extension` the parenthesised
    rest of the cue, such as "(V.O.)" or "(O.S.) (CONT'D)"; `dual` marks the second speaker of dual
    dialogue (`^`). A scene heading may carry a `scene_number` (`#1A#`); a section has a `depth` (the
    number of `#`). Parentheticals keep their parentheses; notes and boneyard keep what was between
    their brackets. `forced` records that the source used a forcing marker; it takes no part in
    equality, because `write` adds markers wherever they are needed.
    """

    kind: str
    text: str = ""
    extension: str | None = None
    dual: bool = False
    scene_number: str | None = None
    depth: int = 0
    forced: bool = field(default=False, compare=False)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ReelganError(f"unknown Fountain element kind {self.kind!r}; use one of {', '.join(KINDS)}")


@dataclass
class TitlePage:
    """The title page: keys in order, each with its value lines (`{"Title": ["BRICK & STEEL"]}`)."""

    fields: dict[str, list[str]] = field(default_factory=dict)

    def get(self, key: str) -> str | None:
        """The value of `key` (case-insensitive), its lines joined by newlines, or None when absent."""
        for name, lines in self.fields.items():
            if name.lower() == key.lower():
                return "\n".join(lines)
        return None


@dataclass
class Scene:
    """A scene heading (None for what comes before the first heading) and the elements under it."""

    heading: Element | None
    elements: list[Element] = field(default_factory=list)


@dataclass
class Screenplay:
    """A title page and the screenplay's elements in reading order."""

    title_page: TitlePage = field(default_factory=TitlePage)
    elements: list[Element] = field(default_factory=list)

    def scenes(self) -> list[Scene]:
        """The elements grouped under each scene heading; a leading headless scene if anything precedes one."""
        scenes: list[Scene] = []
        for element in self.elements:
            if element.kind == "scene_heading":
                scenes.append(Scene(element))
            elif not scenes:
                scenes.append(Scene(None, [element]))
            else:
                scenes[-1].elements.append(element)
        return scenes

    def characters(self) -> list[str]:
        """Names of the speaking characters, each once, in order of first appearance."""
        names = [e.text for e in self.elements if e.kind == "character"]
        return list(dict.fromkeys(names))


# ---------------------------------------------------------------------------------------------------
# Parsing


def parse(text: str) -> Screenplay:
    """Parse Fountain text into a `Screenplay` (see https://fountain.io/syntax)."""
    paragraphs = _paragraphs(_logical_lines(_physical_lines(text)))
    title_page = TitlePage()
    if paragraphs:
        fields = _title_fields(paragraphs[0])
        if fields is not None:
            title_page = TitlePage(fields)
            paragraphs = paragraphs[1:]
    return Screenplay(title_page, _parse_paragraphs(paragraphs))


def parse_body(text: str) -> list[Element]:
    """The elements of Fountain text that has no title page (a first `Key: value` line stays in the body)."""
    return _parse_paragraphs(_paragraphs(_logical_lines(_physical_lines(text))))


def _physical_lines(text: str) -> list[str]:
    """Lines of `text` split at CR LF, CR or LF, without a leading byte-order mark."""
    return re.split(r"\r\n|\r|\n", text.removeprefix("\ufeff"))


def _scan(text: str, closer: str | None) -> str | None:
    """The closer still awaited after `text`, starting inside a note or boneyard if `closer` is set."""
    pos = 0
    while True:
        if closer is not None:
            end = text.find(closer, pos)
            if end < 0:
                return closer
            pos, closer = end + 2, None
        starts = [(text.find(opener, pos), opener) for opener in _CLOSERS]
        starts = [(at, opener) for at, opener in starts if at >= 0]
        if not starts:
            return None
        at, opener = min(starts)
        pos, closer = at + 2, _CLOSERS[opener]


def _logical_lines(lines: list[str]) -> list[str]:
    """Lines, with a note or boneyard that spans several lines (blank ones included) joined into one.

    An opener that is never closed is left as plain text.
    """
    out: list[str] = []
    i = 0
    while i < len(lines):
        closer, j = _scan(lines[i], None), i
        while closer is not None and j + 1 < len(lines):
            j += 1
            closer = _scan(lines[j], closer)
        if closer is not None:
            j = i
        out.append("\n".join(lines[i:j + 1]))
        i = j + 1
    return out


def _paragraphs(lines: list[str]) -> list[list[str]]:
    """Blocks of non-blank lines, right-stripped; a two-space line inside a block becomes ''."""
    paragraphs: list[list[str]] = []
    current: list[str] = []
    for line in lines:
        if "\n" not in line and not line.strip():
            if current and _CONNECTOR_RE.fullmatch(line):
                current.append("")
            elif current:
                paragraphs.append(current)
                current = []
            continue
        current.append("\n".join(part.rstrip() for part in line.split("\n")))
    if current:
        paragraphs.append(current)
    return paragraphs


def _title_fields(lines: list[str]) -> dict[str, list[str]] | None:
    """The title page's fields if these lines are `Key: value` lines (values may continue indented)."""
    fields: dict[str, list[str]] = {}
    key = None
    for line in lines:
        value = _TITLE_VALUE_RE.fullmatch(line) if key is not None else None
        if value:
            fields[key].append(value.group(1).strip())
            continue
        match = _TITLE_KEY_RE.fullmatch(line)
        if not match:
            return None
        key = match.group(1).strip()
        fields.setdefault(key, [])
        if match.group(2).strip():
            fields[key].append(match.group(2).strip())
    if not any(fields.values()):  # "FADE IN:" is no title page
        return None
    return fields


def _parse_paragraphs(paragraphs: list[list[str]]) -> list[Element]:
    elements: list[Element] = []
    for lines in paragraphs:
        while lines and (lead := _leading_element(lines[0])) is not None:
            elements.append(lead)
            lines = lines[1:]
            while lines and not lines[0]:
                lines = lines[1:]
        if lines:
            elements.extend(_parse_block(lines))
    return elements


def _leading_element(line: str) -> Element | None:
    """A note, boneyard, page break, section or synopsis filling this line, else None."""
    s = line.strip()
    if s.startswith("[[") and s.endswith("]]") and len(s) >= 4 and "]]" not in s[2:-2]:
        return Element("note", s[2:-2].strip())
    if s.startswith("/*") and s.endswith("*/") and len(s) >= 4 and "*/" not in s[2:-2]:
        return Element("boneyard", s[2:-2])
    if _PAGE_BREAK_RE.fullmatch(s):
        return Element("page_break")
    if s.startswith("#"):
        hashes, text = _SECTION_RE.fullmatch(s).groups()
        return Element("section", text, depth=len(hashes))
    if s.startswith("="):
        return Element("synopsis", s[1:].strip())
    return None


def _parse_block(lines: list[str]) -> list[Element]:
    """The elements of one paragraph (no leading notes or markup lines)."""
    if lines[0].startswith("!"):
        return [Element("action", "\n".join([lines[0][1:], *lines[1:]]), forced=True)]
    if len(lines) == 1:
        single = _single_line_element(lines[0].strip())
        if single is not None:
            return [single]
    if all(_CENTERED_RE.fullmatch(line) for line in lines):
        text = "\n".join(_CENTERED_RE.fullmatch(line).group(1).strip() for line in lines)
        return [Element("centered", text)]
    if all(line.strip().startswith("~") for line in lines):
        return [Element("lyric", "\n".join(line.strip()[1:].strip() for line in lines))]
    if len(lines) > 1:
        block = _dialogue_block(lines)
        if block is not None:
            return block
    return [Element("action", "\n".join(lines))]


def _single_line_element(s: str) -> Element | None:
    """A scene heading or transition standing alone between blank lines, else None."""
    if s.startswith(".") and s[1:2].isalnum():
        return _heading(s[1:], forced=True)
    if _HEADING_RE.match(s):
        return _heading(s, forced=False)
    if s.startswith(">") and not s.endswith("<"):
        return Element("transition", s[1:].strip(), forced=True)
    if s.isupper() and s.endswith("TO:"):
        return Element("transition", s)
    return None


def _heading(s: str, forced: bool) -> Element:
    match = _SCENE_NUMBER_RE.fullmatch(s)
    if match and match.group(1).strip():
        return Element("scene_heading", match.group(1).strip(), scene_number=match.group(2), forced=forced)
    return Element("scene_heading", s.strip(), forced=forced)


def _cue(line: str) -> Element | None:
    """The character cue on this line (`NAME (EXT)`, `@Name`, `NAME ^`), else None."""
    s = line.strip()
    forced = s.startswith("@")
    if forced:
        s = s[1:].strip()
    dual = s.endswith("^")
    if dual:
        s = s[:-1].rstrip()
    name, paren, rest = s.partition("(")
    name, extension = name.strip(), (paren + rest).strip() or None
    if not name:
        return None
    if not forced and (
        not name.isupper() or s[0] in "!#=>~.[/" or _HEADING_RE.match(s) or s.endswith("TO:")
    ):
        return None
    return Element("character", name, extension=extension, dual=dual, forced=forced)


def _dialogue_block(lines: list[str]) -> list[Element] | None:
    """A character cue with its parentheticals, dialogue and lyrics, or None if the first line is no cue."""
    cue = _cue(lines[0])
    if cue is None:
        return None
    elements = [cue]
    buffer: list[str] = []
    buffer_kind = "dialogue"

    def flush() -> None:
        if buffer:
            elements.append(Element(buffer_kind, "\n".join(buffer)))
            buffer.clear()

    i = 1
    while i < len(lines):
        s = lines[i].strip()
        end = _parenthetical_end(lines, i) if s.startswith("(") else None
        if end is not None:
            flush()
            elements.append(Element("parenthetical", "\n".join(line.strip() for line in lines[i:end + 1])))
            i = end + 1
            continue
        kind = "lyric" if s.startswith("~") else "dialogue"
        if kind != buffer_kind:
            flush()
            buffer_kind = kind
        buffer.append(s[1:].strip() if kind == "lyric" else s)
        i += 1
    flush()
    return elements


def _parenthetical_end(lines: list[str], start: int) -> int | None:
    """The index of the line closing the parenthetical opened at `start`, or None if it is none."""
    first = lines[start].strip()
    if first.endswith(")"):
        return start
    if ")" in first:
        return None
    for j in range(start + 1, len(lines)):
        s = lines[j].strip()
        if not s or s.startswith(("(", "~")):
            return None
        if s.endswith(")"):
            return j
        if ")" in s:
            return None
    return None


# ---------------------------------------------------------------------------------------------------
# Writing


def write(screenplay: Screenplay) -> str:
    """Canonical Fountain text for `screenplay`; `parse` of it gives back the same title page and elements.

    Elements are separated by blank lines (a character's parentheticals, dialogue and lyrics stay with
    the cue). A forcing marker is written where the source had one, and wherever the plain line would be
    read as another kind: `!` for action, `.` for a scene heading, `@` for a character, `>` for a transition.
    What Fountain cannot express is written as closely as it can be, and reads back differently: a cue
    with no speech after it, speech with no cue before it, dialogue shaped like a parenthetical, a forced
    heading that does not start with a letter or digit, a title page whose keys all lack values.
    """
    parts = []
    title = _render_title_page(screenplay.title_page)
    if title:
        parts.append(title)
    for block in _blocks(screenplay.elements):
        parts.append(_choose_rendering(block, first=not parts))
    return "\n\n".join(parts) + "\n" if parts else ""


def written_lines(screenplay: Screenplay) -> list[tuple[str, int | None]]:
    """The lines of `write(screenplay)`, each with the index of the element it renders.

    Title-page lines and the blank lines between paragraphs have None. Joining the lines with newlines
    (plus a final newline) gives exactly `write(screenplay)`; authorship records use the indices.
    """
    lines: list[tuple[str, int | None]] = []
    title = _render_title_page(screenplay.title_page)
    if title:
        lines += [(line, None) for line in title.split("\n")]
    index = 0
    for block in _blocks(screenplay.elements):
        first = not lines
        if lines:
            lines.append(("", None))
        rendered = _choose_rendering(block, first=first).split("\n")
        if block[0].kind == "character":
            owners = [index]
            for offset, element in enumerate(block[1:], 1):
                owners += [index + offset] * len(_render_speech(element).split("\n"))
        else:
            owners = [index] * len(rendered)
        lines += list(zip(rendered, owners))
        index += len(block)
    return lines


def _render_title_page(title_page: TitlePage) -> str:
    lines = []
    for key, values in title_page.fields.items():
        if len(values) == 1:
            lines.append(f"{key}: {values[0]}")
        else:
            lines.append(f"{key}:")
            lines.extend(f"    {value}" for value in values)
    return "\n".join(lines)


def _blocks(elements: list[Element]) -> list[list[Element]]:
    """Elements grouped into paragraphs: a cue keeps the speech that follows it."""
    blocks: list[list[Element]] = []
    for element in elements:
        last = blocks[-1] if blocks else None
        if (
            last is not None and last[0].kind == "character" and element.kind in SPEECH_KINDS
            and not (element.kind != "parenthetical" and element.kind == last[-1].kind)
        ):
            last.append(element)
        else:
            blocks.append([element])
    return blocks


def _choose_rendering(block: list[Element], first: bool) -> str:
    """The plain rendering if it reads back as `block`, else the forced one."""
    if block[0].forced:
        return _render(block, forced=True)
    plain = _render(block, forced=False)
    if first:
        reread = parse(plain)
        ok = not reread.title_page.fields and reread.elements == block
    else:
        ok = parse_body(plain) == block
    return plain if ok else _render(block, forced=True)


def _render(block: list[Element], forced: bool) -> str:
    """Fountain text of one paragraph, with the first element's forcing marker if `forced`."""
    head = block[0]
    kind, text = head.kind, head.text
    if kind == "character":
        return "\n".join([_render_cue(head, forced), *(_render_speech(e) for e in block[1:])])
    if kind == "scene_heading":
        number = f" #{head.scene_number}#" if head.scene_number else ""
        return ("." if forced else "") + text + number
    if kind == "action":
        return ("!" if forced else "") + _keep_blank_lines(text)
    if kind == "transition":
        return ("> " if forced else "") + text
    if kind == "centered":
        return "\n".join(f"> {line} <" for line in text.split("\n"))
    if kind == "lyric":
        return "\n".join(f"~{line}" for line in text.split("\n"))
    if kind == "section":
        return ("#" * max(head.depth, 1) + " " + text).rstrip()
    if kind == "synopsis":
        return f"= {text}".rstrip()
    if kind == "note":
        return f"[[{text}]]"
    if kind == "boneyard":
        return f"/*{text}*/"
    if kind == "page_break":
        return "==="
    return _keep_blank_lines(text)  # parenthetical or dialogue outside a block


def _render_cue(cue: Element, forced: bool) -> str:
    parts = [("@" if forced else "") + cue.text]
    if cue.extension:
        parts.append(cue.extension)
    if cue.dual:
        parts.append("^")
    return " ".join(parts)


def _render_speech(element: Element) -> str:
    if element.kind == "lyric":
        return "\n".join(f"~{line}" for line in element.text.split("\n"))
    return _keep_blank_lines(element.text)


def _keep_blank_lines(text: str) -> str:
    """Empty lines inside a paragraph written as two spaces, so the paragraph keeps going."""
    return "\n".join(line if line else "  " for line in text.split("\n"))


# ---------------------------------------------------------------------------------------------------
# Files


def read_fountain(path: str | Path) -> Screenplay:
    """Read and parse a Fountain file (UTF-8, with or without BOM, or Windows-1252)."""
    path = Path(path)
    if path.is_dir():
        raise ReelganError(f"{path} is a folder, not a Fountain file; pass the path of a .fountain file")
    if not path.is_file():
        raise ReelganError(f"Fountain file {path} does not exist; check the path")
    text = decode_text(path.read_bytes(), path)
    if not text.strip():
        raise ReelganError(f"Fountain file {path} is empty; write a screenplay in it or pass another file")
    return parse(text)


def decode_text(data: bytes, path: Path) -> str:
    """Text of a file: UTF-8 (a BOM is dropped), else Windows-1252; binary data raises ReelganError."""
    problem = ReelganError(
        f"{path} is not a text file (it holds binary data or control characters); "
        "pass a Fountain screenplay saved as plain text"
    )
    if b"\x00" in data:
        raise problem
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("cp1252")
        except UnicodeDecodeError:
            raise problem from None
    if any(unicodedata.category(c) == "Cc" and c not in _ALLOWED_CONTROLS for c in text):
        raise problem
    return text


# ---------------------------------------------------------------------------------------------------
# Outline


def plain_text(text: str) -> str:
    """`text` without notes, boneyard and emphasis markers (what a reader of the printed page sees)."""
    text = _BONEYARD_RE.sub("", _NOTE_RE.sub("", text))
    return _EMPHASIS_RE.sub("", text).replace("\\", "")


def word_count(text: str) -> int:
    """Words of printed text: whitespace-separated tokens holding a letter or digit."""
    return sum(1 for token in plain_text(text).split() if any(c.isalnum() for c in token))


def _printed_text(element: Element) -> str:
    """The text of an element as printed, or '' for what does not print (notes, sections, ...)."""
    if element.kind == "character":
        return f"{element.text} {element.extension or ''}"
    if element.kind in PRINTED_KINDS:
        return element.text
    return ""


def outline(screenplay: Screenplay) -> dict:
    """A summary: scenes, characters, total words and an estimated length in pages and minutes.

    Returns `{"title", "scenes": [{"heading", "number", "words", "characters"}], "characters": {name:
    {"lines", "words"}}, "total_words", "pages", "minutes"}`. Scenes are those with a heading; `words`
    counts printed words (headings, action, cues, speech, transitions); a character's `lines` is the
    number of speeches (cues) and `words` the words of their dialogue and lyrics. Length follows
    `estimate_pages`, at one page a minute.
    """
    scenes = []
    for scene in screenplay.scenes():
        if scene.heading is None:
            continue
        elements = [scene.heading, *scene.elements]
        scenes.append({
            "heading": scene.heading.text,
            "number": scene.heading.scene_number,
            "words": sum(word_count(_printed_text(e)) for e in elements),
            "characters": Screenplay(elements=elements).characters(),
        })
    pages = estimate_pages(screenplay)
    return {
        "title": screenplay.title_page.get("title"),
        "scenes": scenes,
        "characters": _character_stats(screenplay.elements),
        "total_words": sum(word_count(_printed_text(e)) for e in screenplay.elements),
        "pages": round(pages, 2),
        "minutes": round(pages, 1),
    }


def _character_stats(elements: list[Element]) -> dict[str, dict[str, int]]:
    """Per speaking character: speeches (cues) and words of dialogue and lyrics."""
    stats: dict[str, dict[str, int]] = {}
    speaker = None
    for element in elements:
        if element.kind == "character":
            speaker = element.text
            stats.setdefault(speaker, {"lines": 0, "words": 0})["lines"] += 1
        elif element.kind in ("dialogue", "lyric") and speaker is not None:
            stats[speaker]["words"] += word_count(element.text)
        elif element.kind != "parenthetical":
            speaker = None
    return stats


def estimate_pages(screenplay: Screenplay) -> float:
    """Estimated printed pages: 55 lines a page, each element wrapped at its standard width.

    Every paragraph takes a blank line before it; a cue takes one line and its speech follows without
    a gap; a page break starts a new page. Dual dialogue is counted as if it were not side by side.
    """
    pages, lines = 0, 0.0
    in_speech = False
    for element in screenplay.elements:
        if element.kind == "page_break":
            pages, lines = pages + (1 if lines else 0), 0.0
            continue
        if element.kind not in PRINTED_KINDS:
            continue
        is_cue = element.kind == "character"
        in_speech = is_cue or (in_speech and element.kind in SPEECH_KINDS)
        gap = 0 if in_speech and not is_cue else 1
        height = 1 if is_cue else _wrapped_lines(_printed_text(element), LINE_WIDTHS[element.kind])
        lines += gap + height
    return pages + lines / LINES_PER_PAGE


def _wrapped_lines(text: str, width: int) -> int:
    """Printed lines of `text` wrapped at `width` characters; an empty line still takes one."""
    return sum(max(1, len(textwrap.wrap(plain_text(line), width))) for line in text.split("\n"))
