"""Screenplay PDF: `reelgan script pdf FILE.fountain` and `reelgan script ... --pdf`.

The scripts are written by the tests; the PDFs are read back with pypdf: pages, text, positions, metadata.
"""

from __future__ import annotations

import importlib.util
import json
import math
import re
import sys
from pathlib import Path

import pytest

from reelgan.cli.main import main
from reelgan.provenance import make_record
from reelgan.script.authorship import RECORD_FORMAT, compare, read_record, record_path
from reelgan.script.fountain import estimate_pages, parse
from reelgan.script.pdf import Run, styled_runs, wrap_spans

needs_pdf = pytest.mark.skipif(
    importlib.util.find_spec("reportlab") is None or importlib.util.find_spec("pypdf") is None,
    reason="screenplay PDF needs the pdf extra (reportlab) and pypdf to read it back",
)

TITLED = """Title: The Harbour
Credit: Written by
Author: M. Writer
Draft date: 3 March 2026
Contact:
    M. Writer
    mwriter@example.com

INT. HARBOUR OFFICE - NIGHT

A lamp swings over a desk of charts.

MARA
(quietly)
He said he would come back.

TOM (O.S.)
I did come back.

CUT TO:
"""


def pdf_reader(path: Path):
    import pypdf

    return pypdf.PdfReader(str(path))


def page_texts(path: Path) -> list[str]:
    return [page.extract_text() for page in pdf_reader(path).pages]


def run(argv: list[str], capsys) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def xmp_text(path: Path) -> str:
    return pdf_reader(path).trailer["/Root"]["/Metadata"].get_object().get_data().decode("utf-8")


def placed_text(path: Path, page: int) -> list[tuple[float, float, str, str]]:
    """(x, y, text, font) of every string drawn on a page, in points from the lower left."""
    found = []

    def visit(text, cm, tm, font, size):
        if text.strip():
            found.append((round(tm[4], 2), round(tm[5], 2), text.strip(), str(font.get("/BaseFont")) if font else ""))

    pdf_reader(path).pages[page].extract_text(visitor_text=visit)
    return found


# --- the layout ----------------------------------------------------------------------------------------------

@needs_pdf
def test_the_pdf_has_a_title_page_and_selectable_courier_text_on_us_letter(tmp_path, capsys):
    script = tmp_path / "harbour.fountain"
    script.write_text(TITLED)
    code, out, err = run(["script", "pdf", str(script)], capsys)
    assert code == 0, err
    pdf = tmp_path / "harbour.pdf"
    assert pdf.read_bytes().startswith(b"%PDF")
    assert str(pdf) in out and "written by a person" in out
    reader = pdf_reader(pdf)
    assert len(reader.pages) == 2
    assert all([float(v) for v in page.mediabox] == [0, 0, 612, 792] for page in reader.pages)  # US letter
    title, first = page_texts(pdf)
    for field in ("The Harbour", "Written by", "M. Writer", "3 March 2026", "mwriter@example.com"):
        assert field in title
    assert "written by a person, as far as reelgan knows" in " ".join(title.split())
    for line in ("INT. HARBOUR OFFICE - NIGHT", "A lamp swings over a desk of charts.", "MARA", "(quietly)",
                 "He said he would come back.", "TOM (O.S.)", "CUT TO:"):
        assert line in first
    fonts = {font for _, _, _, font in placed_text(pdf, 1)}
    assert fonts == {"/Courier"}


@needs_pdf
def test_elements_stand_in_their_standard_columns(tmp_path):
    script = tmp_path / "harbour.fountain"
    script.write_text(TITLED)
    assert main(["script", "pdf", str(script)]) == 0
    placed = {text: (x, y) for x, y, text, _ in placed_text(tmp_path / "harbour.pdf", 1)}
    inch = 72
    assert placed["INT. HARBOUR OFFICE - NIGHT"][0] == pytest.approx(1.5 * inch)  # left margin 1.5 in
    assert placed["A lamp swings over a desk of charts."][0] == pytest.approx(1.5 * inch)
    assert placed["MARA"][0] == pytest.approx(3.7 * inch)                # character cue
    assert placed["(quietly)"][0] == pytest.approx(3.1 * inch)           # parenthetical
    assert placed["He said he would come back."][0] == pytest.approx(2.5 * inch)  # dialogue
    assert placed["CUT TO:"][0] + len("CUT TO:") * 7.2 == pytest.approx(7.5 * inch)  # right-aligned, 1 in margin
    # the first row hangs from the 1 in top margin; rows are 12 pt apart (one blank row between elements)
    heading_y, action_y = placed["INT. HARBOUR OFFICE - NIGHT"][1], placed["A lamp swings over a desk of charts."][1]
    assert 792 - 1 * inch - 12 <= heading_y < 792 - 1 * inch and heading_y - action_y == 24


@needs_pdf
def test_dialogue_wraps_within_three_and_a_half_inches(tmp_path):
    script = tmp_path / "talk.fountain"
    script.write_text("INT. ROOM - DAY\n\nANNA\n" + " ".join(["word"] * 60) + "\n")
    assert main(["script", "pdf", str(script)]) == 0
    rows = [(x, text) for x, _, text, _ in placed_text(tmp_path / "talk.pdf", 1) if text.startswith("word")]
    assert len(rows) > 3 and all(x == pytest.approx(2.5 * 72) and len(text) <= 35 for x, text in rows)


@needs_pdf
def test_pages_hold_55_lines_and_are_numbered_from_page_two(tmp_path):
    paragraphs = 200
    text = "INT. LAB - NIGHT\n\n" + "\n\n".join(f"Beat {i} happens." for i in range(paragraphs)) + "\n"
    script = tmp_path / "long.fountain"
    script.write_text(text)
    assert main(["script", "pdf", str(script)]) == 0
    pages = page_texts(tmp_path / "long.pdf")[1:]  # after the title page
    # 55 rows: the heading and 27 paragraphs with blank rows between, then 28 a page (no blank row at the top)
    assert [len(re.findall(r"Beat \d+ happens", page)) for page in pages] == [27, 28, 28, 28, 28, 28, 28, 5]
    assert len(pages) == math.ceil(estimate_pages(parse(text)))
    assert not re.search(r"^\s*1\.\s*$", pages[0], re.M)
    for number, page in enumerate(pages[1:], 2):
        assert re.search(rf"^\s*{number}\.\s*$", page, re.M), f"page {number} has no number"
    numbers = [(x, y) for x, y, t, _ in placed_text(tmp_path / "long.pdf", 2) if t == "2."]
    assert numbers and numbers[0][1] > 792 - 72 and numbers[0][0] + 2 * 7.2 == pytest.approx(540)  # top right


@needs_pdf
def test_a_speech_split_across_pages_shows_more_and_contd(tmp_path):
    filler = "\n\n".join(f"Beat {i} happens." for i in range(25))  # the heading and 25 beats: 51 rows
    words = [f"w{i}" for i in range(40)]
    script = tmp_path / "split.fountain"
    script.write_text(f"INT. LAB - NIGHT\n\n{filler}\n\nANNA (V.O.)\n{' '.join(words)}\n")
    assert main(["script", "pdf", str(script)]) == 0
    first, second = page_texts(tmp_path / "split.pdf")[1:]
    assert first.rstrip().endswith("(MORE)")
    assert "ANNA (V.O.) (CONT'D)" in second
    spoken = re.findall(r"\bw\d+\b", first) + re.findall(r"\bw\d+\b", second)
    assert spoken == words  # nothing lost or repeated across the break
    assert "(MORE)" not in second and "CONT'D" not in first


@needs_pdf
def test_a_heading_is_never_the_last_line_of_a_page(tmp_path):
    filler = "\n\n".join(f"Beat {i} happens." for i in range(26))  # 53 rows after the first heading
    script = tmp_path / "scenes.fountain"
    script.write_text(f"INT. LAB - NIGHT\n\n{filler}\n\nEXT. ROOF - DAWN\n\nWind.\n")
    assert main(["script", "pdf", str(script)]) == 0
    first, second = page_texts(tmp_path / "scenes.pdf")[1:]
    assert "EXT. ROOF - DAWN" not in first and "EXT. ROOF - DAWN" in second


@needs_pdf
def test_scene_numbers_are_optional(tmp_path):
    script = tmp_path / "numbered.fountain"
    script.write_text("INT. LAB - NIGHT\n\nA lamp.\n\nEXT. ROOF - DAWN #7A#\n\nWind.\n")
    assert main(["script", "pdf", str(script)]) == 0
    plain = [t for _, _, t, _ in placed_text(tmp_path / "numbered.pdf", 1)]
    assert "1" not in plain and "7A" not in plain
    assert main(["script", "pdf", str(script), "--out", str(tmp_path / "n.pdf"), "--scene-numbers"]) == 0
    placed = placed_text(tmp_path / "n.pdf", 1)
    ones = sorted(x for x, _, t, _ in placed if t == "1")
    assert len(ones) == 2 and ones[0] < 1.5 * 72 and ones[1] > 7.5 * 72  # both margins
    assert [t for _, _, t, _ in placed].count("7A") == 2  # the script's own number


def test_emphasis_becomes_styled_runs_and_unmatched_markers_print():
    assert styled_runs("a *b* **c** ***d*** _e_ \\*f") == [
        Run("a "), Run("b", italic=True), Run(" "), Run("c", bold=True), Run(" "),
        Run("d", bold=True, italic=True), Run(" "), Run("e", underline=True), Run(" *f")]
    assert styled_runs("2 * 3 = 6") == [Run("2 * 3 = 6")]


def test_wrapping_breaks_at_spaces_and_inside_overlong_words():
    text = "the quick brown fox jumps over"
    rows = [text[a:b] for a, b in wrap_spans(text, 10)]
    assert rows == ["the quick", "brown fox", "jumps over"]
    word = "x" * 25
    assert [word[a:b] for a, b in wrap_spans(word, 10)] == ["x" * 10, "x" * 10, "x" * 5]


@needs_pdf
def test_characters_courier_cannot_show_are_reported(tmp_path, capsys):
    script = tmp_path / "tokyo.fountain"
    script.write_text("INT. 東京 - NIGHT\n\nShe says “hi” at the café.\n")
    code, out, err = run(["script", "pdf", str(script)], capsys)
    assert code == 0 and err.startswith("warning:") and "東 京" in err and "é" not in err and "“" not in err
    assert "She says “hi” at the café." in page_texts(tmp_path / "tokyo.pdf")[1]


# --- the disclosure ------------------------------------------------------------------------------------------

@needs_pdf
def test_a_persons_script_says_so_in_its_metadata(tmp_path):
    script = tmp_path / "mine.fountain"
    script.write_text(TITLED)
    assert main(["script", "pdf", str(script)]) == 0
    pdf = tmp_path / "mine.pdf"
    meta = pdf_reader(pdf).metadata
    assert "written by a person, as far as reelgan knows" in meta["/Subject"]
    assert "mine.fountain.authorship.json" in meta["/Subject"]
    assert "written by a person" in meta["/Keywords"] and meta["/Title"] == "The Harbour"
    assert meta["/Author"] == "M. Writer" and meta["/Creator"].startswith("reelgan ")
    xmp = pdf_reader(pdf).xmp_metadata
    assert "written by a person" in xmp.dc_description["x-default"]
    assert "DigitalSourceType" not in xmp_text(pdf)  # reelgan makes no claim about how a person's text was made


def write_generated_script(tmp_path: Path) -> tuple[Path, int]:
    """A script with an authorship record in which the dialogue lines are the model's; (path, model lines)."""
    script = tmp_path / "draft-1.fountain"
    text = "Title: Draft 1\nCredit: AI-generated draft\n\n" + TITLED.split("\n\n", 1)[1]
    script.write_text(text)
    model_lines = {"He said he would come back.", "I did come back.", "(quietly)"}
    lines = [{"line": n, "text": line, "source": "model" if line in model_lines else "person", "origin": "test"}
             for n, line in enumerate(text.split("\n"), 1) if line.strip()]
    sha = "ab" * 32
    record = make_record(generator_hash=sha, seed=3, format=RECORD_FORMAT, kind="screenplay", file=script.name,
                         model={"name": "tiny-writer", "sha256": sha}, sampling={"seed": 3}, lines=lines)
    record_path(script).write_text(json.dumps(record))
    assert read_record(script) is not None
    return script, len(model_lines)


@needs_pdf
def test_a_generated_script_discloses_its_model_lines_on_the_title_page_and_in_the_metadata(tmp_path):
    script, model_lines = write_generated_script(tmp_path)
    total = sum(compare(script, read_record(script)).lines.values())
    assert main(["script", "pdf", str(script)]) == 0
    pdf = tmp_path / "draft-1.pdf"
    title = " ".join(page_texts(pdf)[0].split())
    expected = f"{model_lines} of the {total} lines of draft-1.fountain were generated by a language model"
    assert expected in title and "draft-1.fountain.authorship.json" in title and "tiny-writer" in title
    meta = pdf_reader(pdf).metadata
    assert expected in meta["/Subject"] and "draft-1.fountain.authorship.json" in meta["/Subject"]
    assert f"model lines: {model_lines} of {total}" in meta["/Keywords"] and "AI-generated" in meta["/Keywords"]
    xmp = xmp_text(pdf)
    assert "digitalsourcetype/compositeWithTrainedAlgorithmicMedia</Iptc4xmpExt:DigitalSourceType>" in xmp
    assert f"<reelgan:model_lines>{model_lines}</reelgan:model_lines>" in xmp
    assert "<reelgan:authorship_record>draft-1.fountain.authorship.json</reelgan:authorship_record>" in xmp
    assert "<reelgan:ai_generated>true</reelgan:ai_generated>" in xmp


@needs_pdf
def test_lines_a_person_edits_after_generation_count_as_theirs(tmp_path):
    script, model_lines = write_generated_script(tmp_path)
    script.write_text(script.read_text().replace("I did come back.", "I came back, love."))
    assert main(["script", "pdf", str(script)]) == 0
    assert f"model lines: {model_lines - 1} of" in pdf_reader(tmp_path / "draft-1.pdf").metadata["/Keywords"]


@needs_pdf
def test_a_declaration_without_a_record_is_not_called_a_persons_work(tmp_path):
    script = tmp_path / "orphan.fountain"
    script.write_text("Title: Orphan\nDisclosure: Contains AI-generated text\n\nINT. LAB - NIGHT\n\nA lamp.\n")
    assert main(["script", "pdf", str(script)]) == 0
    meta = pdf_reader(tmp_path / "orphan.pdf").metadata
    assert "declares AI-generated text" in meta["/Subject"] and "person" not in meta["/Subject"]


@needs_pdf
def test_script_write_with_pdf_prints_each_draft_beside_it(tmp_path, capsys):
    pytest.importorskip("transformers", reason="drafting needs the script extra (transformers)")
    out = tmp_path / "drafts"
    code, _, err = run(["script", "A storm at sea.", "--n", "2", "--max-new-tokens", "8", "--out", str(out),
                        "--pdf", "--quiet"], capsys)
    assert code == 0, err
    assert sorted(p.name for p in out.glob("*.pdf")) == ["draft-1.pdf", "draft-2.pdf"]
    for number in (1, 2):
        script = out / f"draft-{number}.fountain"
        model = compare(script, read_record(script)).lines.get("model", 0)
        subject = pdf_reader(out / f"draft-{number}.pdf").metadata["/Subject"]
        assert f"{model} of the" in subject and f"draft-{number}.fountain.authorship.json" in subject
    code, _, err = run(["script", "A storm at sea.", "--n", "1", "--max-new-tokens", "8", "--out",
                        str(out / "draft-1.fountain"), "--pdf", "--quiet", "--overwrite"], capsys)
    assert code == 0, err


# --- errors --------------------------------------------------------------------------------------------------

def snapshot(root: Path) -> dict[str, bytes | None]:
    return {p.relative_to(root).as_posix(): (p.read_bytes() if p.is_file() else None) for p in root.rglob("*")}


def assert_refused(argv: list[str], tmp_path: Path, capsys, expect: str) -> None:
    before = snapshot(tmp_path)
    code, out, err = run(argv, capsys)
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and lines[0].startswith("error:"), (code, err)
    assert re.search(expect, lines[0], re.I), lines[0]
    assert snapshot(tmp_path) == before


def test_without_the_pdf_extra_the_command_says_how_to_install_it(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "reportlab", None)  # import reportlab now raises ImportError
    script = tmp_path / "mine.fountain"
    script.write_text(TITLED)
    assert_refused(["script", "pdf", str(script)], tmp_path, capsys, r"install it with pip install 'reelgan\[pdf\]'")
    # drafting with --pdf fails before the model loads
    assert_refused(["script", "A storm at sea.", "--n", "1", "--out", str(tmp_path / "d"), "--pdf", "--quiet"],
                   tmp_path, capsys, r"pip install 'reelgan\[pdf\]'")


ERRORS = {
    "missing-file": (lambda t: None, ["missing.fountain"], "does not exist"),
    "folder": (lambda t: (t / "scripts").mkdir(), ["scripts"], "folder"),
    "empty": (lambda t: (t / "s.fountain").write_text("\n \n"), ["s.fountain"], "empty"),
    "binary": (lambda t: (t / "s.fountain").write_bytes(b"%PDF-1.4\x00\x01\x02"), ["s.fountain"], "not a text file"),
    "nothing-to-print": (lambda t: (t / "s.fountain").write_text("Title: Only\n\n[[a note]]\n\n# Act one\n"),
                         ["s.fountain"], "nothing to print"),
    "out-exists": (lambda t: ((t / "s.fountain").write_text(TITLED), (t / "s.pdf").write_bytes(b"mine")),
                   ["s.fountain"], "already exists.*--overwrite"),
    "out-below-a-file": (lambda t: ((t / "s.fountain").write_text(TITLED), (t / "blocker").write_text("x")),
                         ["s.fountain", "--out", "blocker/s.pdf"], "is a file"),
    "out-is-a-folder": (lambda t: ((t / "s.fountain").write_text(TITLED), (t / "s.pdf").mkdir()),
                        ["s.fountain"], "is a folder"),
    "out-not-pdf": (lambda t: (t / "s.fountain").write_text(TITLED), ["s.fountain", "--out", "s.txt"], r"\.pdf"),
    "out-is-the-script": (lambda t: (t / "s.pdf").write_text(TITLED), ["s.pdf", "--overwrite"], "replace the script"),
    "corrupt-record": (lambda t: ((t / "s.fountain").write_text(TITLED),
                                  (t / "s.fountain.authorship.json").write_text("{ not json")),
                       ["s.fountain"], "authorship record.*corrupt"),
}


@pytest.mark.parametrize("name", ERRORS)
def test_bad_input_is_one_error_line_and_writes_nothing(name, tmp_path, capsys, monkeypatch):
    make, args, expect = ERRORS[name]
    monkeypatch.chdir(tmp_path)
    make(tmp_path)
    assert_refused(["script", "pdf", *args], tmp_path, capsys, expect)


@needs_pdf
def test_overwrite_replaces_an_existing_pdf(tmp_path, capsys):
    script = tmp_path / "s.fountain"
    script.write_text(TITLED)
    (tmp_path / "s.pdf").write_bytes(b"an old print")
    assert main(["script", "pdf", str(script), "--overwrite"]) == 0
    assert (tmp_path / "s.pdf").read_bytes().startswith(b"%PDF")
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp file left behind
