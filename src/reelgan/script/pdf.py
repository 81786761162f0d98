"""Screenplays as industry-format PDF: Courier 12 pt on US letter, with a title page that carries the AI disclosure.

The printed screenplay is a grid: 55 lines of 12 pt a page, 10 characters an inch. Each element has its column,
in inches from the page's left edge:

    scene heading, action   1.5 in, 60 characters (to the 1 in right margin)
    character cue           3.7 in
    parenthetical           3.1 in, 26 characters
    dialogue, lyrics        2.5 in, 35 characters
    transition              right-aligned on 7.5 in
    centred text            centred on 4.5 in

Elements are wrapped into rows, rows grouped into blocks (a heading, a paragraph of action, a speech with its
cue, dual dialogue side by side), and blocks set on pages with one blank row between them. A heading is never
the last thing on a page; a paragraph of action is split only with two rows on each side; a speech only
between its dialogue rows, with (MORE) under the first part and NAME (CONT'D) over the rest. Page numbers
stand at the top right from page 2 on; the title page is not counted. Scene numbers, when asked for, stand in
both margins. Emphasis (`*italic*`, `**bold**`, `_underline_`) is kept; notes and boneyard are not printed.

Text is drawn in the PDF's built-in Courier fonts, so it is real, selectable text. Those fonts hold the
Windows-1252 characters only: others are reported (`PdfResult.unprintable`), and reportlab draws them from its
Symbol and ZapfDingbats fonts or as boxes.

The title page and the metadata (Info Subject and Keywords, and an XMP packet) say who wrote the script: from
its authorship record (how many lines a language model generated, and the record's name), or, without one,
that a person wrote it as far as reelgan knows. reportlab is the optional `pdf` extra.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, replace
from pathlib import Path
from xml.sax.saxutils import escape

from .. import __version__
from ..errors import ReelganError
from ..paths import output_file
from ..provenance import COMPOSITE_WITH_TRAINED_ALGORITHMIC_MEDIA, REELGAN_NS, XMP_NS, make_record, xmp_packet
from .authorship import compare, read_record, record_path
from .draft import MODEL
from .fountain import (
    LINES_PER_PAGE,
    PRINTED_KINDS,
    SPEECH_KINDS,
    Element,
    Screenplay,
    TitlePage,
    plain_text,
    read_fountain,
)

INSTALL_HINT = "install it with pip install 'reelgan[pdf]'"
REPORTLAB_MINIMUM = (4, 3)  # the first reportlab with an XMP metadata stream (reportlab.pdfbase.pdfdoc.XMP)

INCH = 72.0                                   # points per inch
PAGE_WIDTH, PAGE_HEIGHT = 8.5 * INCH, 11.0 * INCH  # US letter, points
FONT_SIZE = 12.0                              # points
LEADING = 12.0                                # points per row: six rows an inch
CHAR_WIDTH = 0.6 * FONT_SIZE                  # points per character: Courier's glyphs are 600/1000 em wide
TOP_MARGIN = 1.0 * INCH                       # points above the first row; 55 rows leave 0.83 in below the last
BASELINE_DROP = 10.0                          # points from a row's top to its baseline (Courier's 2 pt descenders
                                              # stay inside the 12 pt row)
LEFT_MARGIN = 1.5 * INCH                      # points: the left edge of headings and action
RIGHT_EDGE = PAGE_WIDTH - 1.0 * INCH          # points: where text ends (1 in right margin)
PAGE_NUMBER_BASELINE = PAGE_HEIGHT - 0.5 * INCH  # points: page numbers sit half an inch below the top edge
SCENE_NUMBER_GAP = 0.3 * INCH                 # points between a scene number and the heading's column
UNDERLINE_DROP, UNDERLINE_WIDTH = 1.5, 0.6    # points below the baseline, and the stroke width
TITLE_PAGE_TOP_ROW = 18                       # the title stands about a third of the way down the page
FONTS = {(False, False): "Courier", (True, False): "Courier-Bold", (False, True): "Courier-Oblique",
         (True, True): "Courier-BoldOblique"}  # (bold, italic) -> a PDF built-in font, no embedding needed

# Notes and boneyard are not printed (as in fountain.plain_text); emphasis markers are read by `styled_runs`.
_NOTE_RE = re.compile(r"\[\[.*?\]\]", re.DOTALL)
_BONEYARD_RE = re.compile(r"/\*.*?\*/", re.DOTALL)
_TOKEN_RE = re.compile(r"\\(.)|(\*{1,3}|_)|([^\\*_]+|\\)")  # an escaped character, a marker, or plain text
_MARKER_STYLES = {"***": ("bold", "italic"), "**": ("bold",), "*": ("italic",), "_": ("underline",)}


@dataclass(frozen=True)
class Column:
    """Where a row of an element goes: `x` in points from the page's left edge (its left edge, right edge or
    centre, by `align`) and the characters a row holds."""

    x: float
    width: int
    align: str = "left"  # "left", "right" or "center"


COLUMNS = {
    "scene_heading": Column(1.5 * INCH, 60),
    "action": Column(1.5 * INCH, 60),
    "character": Column(3.7 * INCH, 38),      # to the right margin
    "parenthetical": Column(3.1 * INCH, 26),
    "dialogue": Column(2.5 * INCH, 35),
    "lyric": Column(2.5 * INCH, 35),
    "transition": Column(7.5 * INCH, 60, "right"),
    "centered": Column(4.5 * INCH, 60, "center"),
}
# Dual dialogue: two speeches side by side, each 2.8 in wide, the left from 1.5 in, the right from 4.6 in.
DUAL_COLUMNS = tuple({
    "character": Column(left + 0.8 * INCH, 20),
    "parenthetical": Column(left + 0.4 * INCH, 22),
    "dialogue": Column(left, 28),
    "lyric": Column(left, 28),
} for left in (1.5 * INCH, 4.6 * INCH))


@dataclass(frozen=True)
class Run:
    """Characters printed in one style."""

    text: str
    bold: bool = False
    italic: bool = False
    underline: bool = False


@dataclass(frozen=True)
class Piece:
    """One printed line of one element: its runs, its column and, for a heading, the scene number to show."""

    runs: tuple[Run, ...]
    column: Column
    scene_number: str | None = None

    @property
    def text(self) -> str:
        """The printed characters."""
        return "".join(run.text for run in self.runs)


Row = tuple[Piece, ...]  # what stands on one line of a page (two pieces side by side in dual dialogue); () is blank


@dataclass
class Block:
    """Rows that are set together: `breaks` are the row indices it may be split before."""

    rows: list[Row]
    kind: str                         # "heading", "action", "speech", "dual", "other" or "page_break"
    breaks: tuple[int, ...] = ()
    continued: Piece | None = None    # a speech's NAME (CONT'D), which opens the rest when it is split


@dataclass(frozen=True)
class Disclosure:
    """Who wrote the script, as the title page and the metadata say it."""

    text: str                         # the sentence on the title page, also the PDF's Subject
    keywords: tuple[str, ...]         # the PDF's Keywords
    record: dict | None               # the provenance record the XMP packet carries (None: a person's script)
    model_lines: int | None           # lines a language model generated, from the authorship record


@dataclass(frozen=True)
class PdfResult:
    """What `write_screenplay_pdf` wrote."""

    path: Path
    pages: int                        # pages of the screenplay, not counting the title page
    disclosure: Disclosure
    unprintable: str                  # characters the built-in Courier cannot show, each once, in order


# ---------------------------------------------------------------------------------------------------
# Text: emphasis and wrapping


def styled_runs(line: str) -> list[Run]:
    """The runs of one line of Fountain text: `*italic*`, `**bold**`, `***both***`, `_underline_`, `\\*` escapes.

    A marker opens a style only when the same marker closes it later on the line; otherwise it is printed.
    """
    tokens = [match.groups() for match in _TOKEN_RE.finditer(line)]
    open_markers: list[str] = []
    runs: list[Run] = []
    for index, (escaped, marker, text) in enumerate(tokens):
        if marker is not None:
            if marker in open_markers:
                open_markers.remove(marker)
                continue
            if any(later[1] == marker for later in tokens[index + 1:]):
                open_markers.append(marker)
                continue
            text = marker
        styles = {style for m in open_markers for style in _MARKER_STYLES[m]}
        run = Run(escaped if escaped is not None else text, "bold" in styles, "italic" in styles,
                  "underline" in styles)
        if runs and replace(runs[-1], text="") == replace(run, text=""):
            runs[-1] = replace(runs[-1], text=runs[-1].text + run.text)
        else:
            runs.append(run)
    return runs


def wrap_spans(text: str, width: int) -> list[tuple[int, int]]:
    """(start, end) of each row of `text` wrapped at `width` characters: at spaces, or inside a longer word."""
    spans = []
    start = 0
    while len(text) - start > width:
        cut = text.rfind(" ", start + 1, start + width + 1)  # the last space that keeps the row within width
        if cut <= start:
            cut = start + width  # one word longer than a row: break it
        spans.append((start, len(text[start:cut].rstrip(" ")) + start))
        start = cut
        while start < len(text) and text[start] == " ":
            start += 1
    spans.append((start, len(text[start:].rstrip(" ")) + start))
    return spans


def _slice_runs(runs: list[Run], start: int, end: int) -> tuple[Run, ...]:
    """The runs covering characters start..end of their joined text."""
    out, position = [], 0
    for run in runs:
        lo, hi = max(start, position), min(end, position + len(run.text))
        if lo < hi:
            out.append(replace(run, text=run.text[lo - position:hi - position]))
        position += len(run.text)
    return tuple(out)


def text_rows(text: str, column: Column, *, emphasis: bool = True, italic: bool = False,
              scene_number: str | None = None) -> list[Row]:
    """The rows of an element's text in `column`: each of its lines wrapped; a line holding only notes is dropped."""
    rows: list[Row] = []
    for line in text.replace("\f", "").split("\n"):
        shown = _BONEYARD_RE.sub("", _NOTE_RE.sub("", line)).expandtabs(4) if emphasis else line
        if line.strip() and not shown.strip():
            continue
        runs = styled_runs(shown) if emphasis else [Run(shown)]
        if italic:
            runs = [replace(run, italic=True) for run in runs]
        plain = "".join(run.text for run in runs)
        for start, end in wrap_spans(plain, column.width):
            piece = Piece(_slice_runs(runs, start, end), column, scene_number if not rows else None)
            rows.append((piece,) if piece.runs or piece.scene_number else ())
    return rows


# ---------------------------------------------------------------------------------------------------
# Blocks


def _speech(cue: Element, parts: list[Element], columns: dict[str, Column]) -> Block:
    """A cue with its parentheticals, dialogue and lyrics; it may split before a row that follows dialogue."""
    rows = text_rows(f"{cue.text} {cue.extension or ''}".strip(), columns["character"])
    kinds = ["character"] * len(rows)
    name = " ".join(piece.text for row in rows for piece in row)
    continued = Piece((Run(name if "CONT'D" in name.upper() else f"{name} (CONT'D)"),), columns["character"])
    for part in parts:
        part_rows = text_rows(part.text, columns[part.kind], italic=part.kind == "lyric")
        rows += part_rows
        kinds += [part.kind] * len(part_rows)
    # Split before row k only with the cue and one line of speech above, one line below, and no parenthetical
    # left hanging above (MORE).
    breaks = tuple(k for k in range(2, len(rows)) if kinds[k - 1] in ("dialogue", "lyric"))
    return Block(rows, "speech", breaks, continued)


def _dual(left: tuple[Element, list[Element]], right: tuple[Element, list[Element]]) -> Block:
    """Two speeches side by side (the second cue marked `^`), set as one block that is not split."""
    sides = [_speech(*speech, columns).rows for speech, columns in zip((left, right), DUAL_COLUMNS)]
    height = max(len(side) for side in sides)
    rows = [tuple(piece for side in sides for piece in (side[i] if i < len(side) else ())) for i in range(height)]
    return Block(rows, "dual")


def _units(elements: list[Element]) -> list[tuple]:
    """The printed elements grouped: ("speech", cue, parts), ("dual", left, right) or ("element", element)."""
    units: list[tuple] = []
    i = 0
    while i < len(elements):
        element = elements[i]
        if element.kind != "character":
            units.append(("element", element))
            i += 1
            continue
        j = i + 1
        while j < len(elements) and elements[j].kind in SPEECH_KINDS:
            j += 1
        speech = (element, elements[i + 1:j])
        if element.dual and units and units[-1][0] == "speech":
            units[-1] = ("dual", units[-1][1:], speech)
        else:
            units.append(("speech", *speech))
        i = j
    return units


def build_blocks(screenplay: Screenplay, scene_numbers: bool = False) -> list[Block]:
    """The screenplay's printed blocks in order; with `scene_numbers`, each heading carries its number (the
    script's own `#n#`, else its place among the headings)."""
    elements = [e for e in screenplay.elements if e.kind in PRINTED_KINDS or e.kind == "page_break"]
    blocks: list[Block] = []
    scene = 0
    for unit in _units(elements):
        if unit[0] == "speech":
            blocks.append(_speech(unit[1], unit[2], COLUMNS))
            continue
        if unit[0] == "dual":
            blocks.append(_dual(unit[1], unit[2]))
            continue
        element = unit[1]
        if element.kind == "page_break":
            blocks.append(Block([], "page_break"))
        elif element.kind == "scene_heading":
            scene += 1
            number = (element.scene_number or str(scene)) if scene_numbers else None
            blocks.append(Block(text_rows(element.text, COLUMNS["scene_heading"], scene_number=number), "heading"))
        else:
            rows = text_rows(element.text, COLUMNS[element.kind], italic=element.kind == "lyric")
            kind = "action" if element.kind == "action" else "other"
            breaks = tuple(range(2, len(rows) - 1)) if kind == "action" else ()  # two rows on each side
            blocks.append(Block(rows, kind, breaks))
    return [block for block in blocks if block.rows or block.kind == "page_break"]


# ---------------------------------------------------------------------------------------------------
# Pages


def _cut(block: Block, k: int) -> tuple[list[Row], Block]:
    """The rows that end this page, and the block that goes on: a speech gets (MORE) and NAME (CONT'D)."""
    head, tail = block.rows[:k], block.rows[k:]
    if block.continued is None:
        return head, Block(tail, block.kind, tuple(b - k for b in block.breaks if b > k))
    more = Piece((Run("(MORE)"),), block.continued.column)
    # The rest opens with one cue row, so a break k rows in moves one row down.
    rest = Block([(block.continued,), *tail], "speech", tuple(b - k + 1 for b in block.breaks if b > k),
                 block.continued)
    return [*head, (more,)], rest


def _break_at(block: Block, room: int, fresh: bool) -> int | None:
    """Where to split `block` to fill `room` rows (None: move it to the next page). A block longer than a
    whole page is cut where the page ends."""
    extra = 1 if block.continued is not None else 0  # the (MORE) row
    fitting = [k for k in block.breaks if k + extra <= room]
    if fitting:
        return max(fitting)
    return max(2, room - extra) if fresh else None  # 2 or more: the rest, with its cue row, is shorter


def _lead(blocks: list[Block], index: int) -> int:
    """Rows the block after `index` must bring onto the page of a heading: a blank row and the least of it that
    may end a page (all of it when it cannot be split; a split speech brings its (MORE) row)."""
    if index + 1 >= len(blocks) or blocks[index + 1].kind == "page_break":
        return 0
    following = blocks[index + 1]
    if not following.breaks:
        return 1 + len(following.rows)
    return 1 + following.breaks[0] + (1 if following.continued is not None else 0)


def paginate(blocks: list[Block]) -> list[list[Row]]:
    """The blocks set on pages of `LINES_PER_PAGE` rows, one blank row between blocks (none at a page's top)."""
    pages: list[list[Row]] = [[]]
    for index, block in enumerate(blocks):
        if block.kind == "page_break":
            if pages[-1]:
                pages.append([])
            continue
        pending: Block | None = block
        while pending is not None:
            page = pages[-1]
            gap = 1 if page else 0
            lead = _lead(blocks, index) if pending.kind == "heading" and page else 0
            room = LINES_PER_PAGE - len(page) - gap
            if len(pending.rows) + lead <= room:
                page.extend([()] * gap + pending.rows)
                pending = None
                continue
            keep = pending.kind == "heading" and page  # a heading moves to the next page, unless alone on one
            k = None if keep else _break_at(pending, room, fresh=not page)
            if k is not None:
                rows, pending = _cut(pending, k)
                page.extend([()] * gap + rows)
            pages.append([])
    return [page for page in pages if page] or [[]]


def title_page_rows(title_page: TitlePage, disclosure: str, fallback_title: str) -> list[Row]:
    """The title page's rows: Title, Credit, Author(s) and Source centred a third of the way down, the
    disclosure below them, Contact at the lower left and Draft date at the lower right."""
    centre, notice = COLUMNS["centered"], Column(4.5 * INCH, 50, "center")
    title = title_page.get("Title")
    top = text_rows(title, centre) if title else text_rows(fallback_title, centre, emphasis=False)
    for key in ("Credit", "Author", "Authors", "Source"):
        value = title_page.get(key)
        if value:
            top += [(), *text_rows(value, centre)]
    notice_rows = [(), (), *text_rows(disclosure, notice, emphasis=False)]
    contact_text, date_text = title_page.get("Contact"), title_page.get("Draft date")
    contact = text_rows(contact_text, Column(1.5 * INCH, 35)) if contact_text else []
    date = text_rows(date_text, Column(7.5 * INCH, 24, "right")) if date_text else []
    lower = max(len(contact), len(date))
    room = LINES_PER_PAGE - lower - 1  # rows above the lower block, with a blank row between
    top = top[:max(0, room - len(notice_rows))]  # an overlong title gives way, the disclosure never does
    body = top + notice_rows
    start = max(0, min(TITLE_PAGE_TOP_ROW, room - len(body)))
    rows: list[Row] = [()] * start + body
    rows += [()] * (LINES_PER_PAGE - lower - len(rows))
    for i in range(lower):  # both lower blocks end on the last row
        left = contact[i - lower + len(contact)] if i >= lower - len(contact) else ()
        right = date[i - lower + len(date)] if i >= lower - len(date) else ()
        rows.append(left + right)
    return rows[:LINES_PER_PAGE]


# ---------------------------------------------------------------------------------------------------
# Disclosure and metadata


def disclose(script: Path, screenplay: Screenplay) -> Disclosure:
    """Who wrote `script`: its authorship record's split, the title page's declaration, or a person (as far as
    reelgan knows). The authorship record is read and checked (ReelganError when it is corrupt)."""
    record = read_record(script)
    name = record_path(script).name
    if record is not None:
        split = compare(script, record)
        model_lines, total = split.lines.get(MODEL, 0), sum(split.lines.values())
        model = record["model"]
        text = (f"AI disclosure: {model_lines} of the {total} lines of {script.name} were generated by a language "
                f"model ({model['name']}, sha256 {model['sha256'][:16]}); the authorship record {name} says "
                "which line came from whom.")
        seed = record.get("seed") if isinstance(record.get("seed"), int) else None
        provenance = make_record(generator_hash=str(record.get("generator_hash") or model["sha256"]), seed=seed,
                                 source_type=COMPOSITE_WITH_TRAINED_ALGORITHMIC_MEDIA, kind="screenplay-pdf",
                                 script=script.name, authorship_record=name, model=model, model_lines=model_lines,
                                 lines=total, disclosure=text)
        keywords = ("screenplay", "AI-generated text", "compositeWithTrainedAlgorithmicMedia",
                    f"model lines: {model_lines} of {total}", f"authorship record: {name}")
        return Disclosure(text, keywords, provenance, model_lines)
    if "ai-generated" in (screenplay.title_page.get("Disclosure") or "").lower():
        text = (f"AI disclosure: the title page declares AI-generated text, but no authorship record ({name}) is "
                f"beside {script.name}, so reelgan cannot say which lines a model wrote.")
        provenance = make_record(generator_hash="unknown", seed=None, kind="screenplay-pdf", script=script.name,
                                 source_type=COMPOSITE_WITH_TRAINED_ALGORITHMIC_MEDIA, disclosure=text)
        return Disclosure(text, ("screenplay", "AI-generated text", "no authorship record"), provenance, None)
    text = (f"AI disclosure: written by a person, as far as reelgan knows: no authorship record ({name}) is beside "
            f"{script.name} and its title page declares no AI-generated text.")
    return Disclosure(text, ("screenplay", "written by a person", "no AI-generated text known",
                             "no authorship record"), None, None)


def person_xmp(description: str) -> str:
    """An XMP packet for a script no model is known to have written: the disclosure and the tool, and no IPTC
    digital source type (reelgan cannot vouch for how the text was made)."""
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">\n'
        ' <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">\n'
        f'  <rdf:Description rdf:about="" xmlns:xmp="{XMP_NS}" xmlns:dc="http://purl.org/dc/elements/1.1/"\n'
        f'    xmlns:reelgan="{REELGAN_NS}">\n'
        f"   <xmp:CreatorTool>reelgan {escape(__version__)}</xmp:CreatorTool>\n"
        f'   <dc:description><rdf:Alt><rdf:li xml:lang="x-default">{escape(description)}</rdf:li></rdf:Alt>'
        "</dc:description>\n"
        "   <reelgan:authorship>person, as far as reelgan knows (no authorship record)</reelgan:authorship>\n"
        "  </rdf:Description>\n"
        " </rdf:RDF>\n"
        "</x:xmpmeta>\n"
        '<?xpacket end="w"?>'
    )


# ---------------------------------------------------------------------------------------------------
# Drawing and writing


def require_reportlab() -> None:
    """ReelganError unless reportlab (the `pdf` extra), new enough for XMP metadata, can be imported."""
    try:
        import reportlab
    except ImportError:
        raise ReelganError(f"writing PDF needs reportlab, which is not installed; {INSTALL_HINT}") from None
    version = tuple(int(part) for part in re.findall(r"\d+", reportlab.Version)[:2])
    if version < REPORTLAB_MINIMUM:
        raise ReelganError(f"writing PDF needs reportlab {'.'.join(map(str, REPORTLAB_MINIMUM))} or newer, not "
                           f"{reportlab.Version}; {INSTALL_HINT}")


def _draw_piece(canvas, piece: Piece, baseline: float) -> None:
    """Draw one piece on `canvas`, run by run (every character is CHAR_WIDTH points wide), at `baseline`."""
    width = len(piece.text) * CHAR_WIDTH
    x = piece.column.x - {"left": 0.0, "right": width, "center": width / 2}[piece.column.align]
    for run in piece.runs:
        canvas.setFont(FONTS[run.bold, run.italic], FONT_SIZE)
        canvas.drawString(x, baseline, run.text)
        if run.underline:
            canvas.setLineWidth(UNDERLINE_WIDTH)
            canvas.line(x, baseline - UNDERLINE_DROP, x + len(run.text) * CHAR_WIDTH, baseline - UNDERLINE_DROP)
        x += len(run.text) * CHAR_WIDTH
    if piece.scene_number:
        canvas.setFont(FONTS[False, False], FONT_SIZE)
        canvas.drawRightString(LEFT_MARGIN - SCENE_NUMBER_GAP, baseline, piece.scene_number)
        canvas.drawString(RIGHT_EDGE + SCENE_NUMBER_GAP, baseline, piece.scene_number)


def _draw_page(canvas, rows: list[Row], number: int | None) -> None:
    """Draw one page's rows from the top margin down, and its number (`2.`) at the top right."""
    for index, row in enumerate(rows):
        baseline = PAGE_HEIGHT - TOP_MARGIN - index * LEADING - BASELINE_DROP
        for piece in row:
            _draw_piece(canvas, piece, baseline)
    if number is not None and number >= 2:
        canvas.setFont(FONTS[False, False], FONT_SIZE)
        canvas.drawRightString(RIGHT_EDGE, PAGE_NUMBER_BASELINE, f"{number}.")
    canvas.showPage()


def render_pdf(title_rows: list[Row], pages: list[list[Row]], disclosure: Disclosure, title: str,
               author: str) -> bytes:
    """The PDF: the title page, then the numbered pages; Info and XMP metadata carry the disclosure."""
    from reportlab.pdfbase.pdfdoc import XMP
    from reportlab.pdfgen.canvas import Canvas

    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=(PAGE_WIDTH, PAGE_HEIGHT))
    canvas.setTitle(title)
    canvas.setAuthor(author)
    canvas.setSubject(disclosure.text)
    canvas.setKeywords(", ".join(disclosure.keywords))
    canvas.setCreator(f"reelgan {__version__}")
    packet = xmp_packet(disclosure.record) if disclosure.record is not None else person_xmp(disclosure.text)
    canvas.setCatalogEntry("Metadata", XMP(creator=lambda document: packet.encode("utf-8")))
    _draw_page(canvas, title_rows, None)
    for number, rows in enumerate(pages, 1):
        _draw_page(canvas, rows, number)
    canvas.save()
    return buffer.getvalue()


def unprintable_characters(rows: list[Row]) -> str:
    """The characters in `rows` that the built-in Courier fonts (Windows-1252) cannot show, each once."""
    found: dict[str, None] = {}
    for row in rows:
        for piece in row:
            for char in piece.text:
                try:
                    char.encode("cp1252")
                except UnicodeEncodeError:
                    found[char] = None
    return "".join(found)


def pdf_path(script: Path) -> Path:
    """Where a script's PDF goes by default: beside it, NAME.pdf."""
    return Path(script).with_suffix(".pdf")


def write_screenplay_pdf(script: str | Path, out: str | Path | None = None, *, scene_numbers: bool = False,
                         overwrite: bool = False) -> PdfResult:
    """Write `script` (Fountain) as an industry-format PDF at `out` (default: `pdf_path(script)`).

    Every check comes before anything is written, and the file is written atomically: ReelganError for a
    missing, binary or empty script, one with nothing to print, a corrupt authorship record, an `out` that
    exists (without `overwrite`), is a folder, lies below a file or is the script itself, and (after those, so
    the input is checked either way) a missing `pdf` extra.
    """
    from ..media import atomic_path

    script = Path(script)
    out = output_file(pdf_path(script) if out is None else out, overwrite)
    if out.resolve() == script.resolve():
        raise ReelganError(f"the PDF {out} would replace the script itself; give --out a .pdf path")
    screenplay = read_fountain(script)
    blocks = build_blocks(screenplay, scene_numbers)
    if not any(block.rows for block in blocks):
        raise ReelganError(f"{script} has nothing to print (no scene, action or dialogue, only a title page, notes "
                           "or sections); pass a Fountain screenplay")
    disclosure = disclose(script, screenplay)
    require_reportlab()
    pages = paginate(blocks)
    fallback = script.stem
    title_rows = title_page_rows(screenplay.title_page, disclosure.text, fallback)
    title = " ".join(plain_text(screenplay.title_page.get("Title") or fallback).split())
    author = " ".join(plain_text(screenplay.title_page.get("Author") or screenplay.title_page.get("Authors")
                                 or "").split())
    data = render_pdf(title_rows, pages, disclosure, title, author)
    with atomic_path(out) as temporary:
        Path(temporary).write_bytes(data)
    unprintable = unprintable_characters([row for page in [title_rows, *pages] for row in page])
    return PdfResult(out, len(pages), disclosure, unprintable)
