"""Fountain in and out: every element kind, the tricky cases, round trips, outline, file errors."""

from __future__ import annotations

import pytest
from conftest import shared_data

from reelgan.errors import ReelganError
from reelgan.script.fountain import (
    LINES_PER_PAGE,
    Element,
    Screenplay,
    TitlePage,
    estimate_pages,
    outline,
    parse,
    plain_text,
    read_fountain,
    word_count,
    write,
)


def kinds(text: str) -> list[str]:
    return [e.kind for e in parse(text).elements]


def only(text: str) -> Element:
    elements = parse(text).elements
    assert len(elements) == 1, elements
    return elements[0]


def round_trip(screenplay: Screenplay) -> Screenplay:
    again = parse(write(screenplay))
    assert again.elements == screenplay.elements
    assert again.title_page == screenplay.title_page
    return again


# --- scene headings -------------------------------------------------------------------------------

@pytest.mark.parametrize("line", [
    "INT. HOUSE - DAY", "EXT. BRICK'S POOL - DAY", "EST. CITY", "INT./EXT. CAR - NIGHT",
    "INT/EXT CAR", "I/E HALLWAY", "int. lowercase works", "INT SCOTT'S APARTMENT, SAME TIME",
])
def test_scene_heading_prefixes(line):
    element = only(line)
    assert element == Element("scene_heading", line)
    assert not element.forced


@pytest.mark.parametrize("line", ["INTERIOR DESIGN IS FUN", "EXTRA, EXTRA", "Esther walks in."])
def test_not_scene_headings(line):
    assert only(line).kind == "action"


def test_heading_needs_blank_line_after():
    assert kinds("INT. HOUSE - DAY\nJohn enters.") == ["action"]


def test_forced_heading_but_not_ellipsis():
    element = only(".SNIPER SCOPE POV")
    assert element == Element("scene_heading", "SNIPER SCOPE POV") and element.forced
    assert only("...and then nothing.").kind == "action"
    assert only("..FOO").kind == "action"


def test_scene_numbers():
    assert only("INT. HOUSE - DAY #1A#") == Element("scene_heading", "INT. HOUSE - DAY", scene_number="1A")
    assert only(".FLASHBACK #I-1-A#") == Element("scene_heading", "FLASHBACK", scene_number="I-1-A")
    assert only("EXT. HOUSE #110.#").scene_number == "110."


# --- action ---------------------------------------------------------------------------------------

def test_action_keeps_lines_tabs_and_indentation():
    text = "He opens the card:\n\tScott --\n          Jacob Billups"
    assert parse(f"INT. HOUSE\n\n{text}").elements[1] == Element("action", text)


def test_forced_action():
    element = only("!SCANNING THE AISLES...\nWHERE IS WALDO?")
    assert element == Element("action", "SCANNING THE AISLES...\nWHERE IS WALDO?") and element.forced
    assert only("!INT. NOT A HEADING").kind == "action"


def test_two_spaces_keep_action_together():
    assert only("First line.\n  \nThird line.") == Element("action", "First line.\n\nThird line.")
    assert kinds("First line.\n \nSecond paragraph.") == ["action", "action"]


# --- characters and dialogue ----------------------------------------------------------------------

def test_character_and_dialogue():
    assert parse("\nSTEEL\nBeer's ready!\n").elements == [
        Element("character", "STEEL"), Element("dialogue", "Beer's ready!")]


def test_character_extensions_forced_and_numbers():
    cue = parse("HARRY (V.O.) (CONT'D)\nHello.").elements[0]
    assert cue == Element("character", "HARRY", extension="(V.O.) (CONT'D)")
    assert parse("HANS (on the radio)\nWhat?").elements[0].extension == "(on the radio)"
    forced = parse("@McCLANE\nYippee ki-yay!").elements[0]
    assert forced == Element("character", "McCLANE") and forced.forced
    assert parse("R2D2\nBeep.").elements[0] == Element("character", "R2D2")
    assert kinds("23\nNo letters, no cue.") == ["action"]


def test_character_needs_a_line_after():
    assert kinds("MIKE (CONT'D)\n\nMike sits.") == ["action", "action"]


def test_transition_like_and_heading_like_lines_are_no_cues():
    assert kinds("CUT TO:\nJohn enters.") == ["action"]
    assert kinds("INT. HOUSE\nJohn enters.") == ["action"]


def test_parentheticals_and_multiline_dialogue():
    text = "STEEL\nThey're coming!\n(pause)\nNo, everybody!\nAll of them.\n(beat,\nthen quietly)\nRun."
    assert parse(text).elements == [
        Element("character", "STEEL"), Element("dialogue", "They're coming!"),
        Element("parenthetical", "(pause)"), Element("dialogue", "No, everybody!\nAll of them."),
        Element("parenthetical", "(beat,\nthen quietly)"), Element("dialogue", "Run."),
    ]
    assert parse("JOE\n(laughs) and talks").elements[1] == Element("dialogue", "(laughs) and talks")


def test_two_spaces_keep_dialogue_going():
    assert parse("DEALER\nTen.\n  \nFour.").elements[1] == Element("dialogue", "Ten.\n\nFour.")


def test_indented_cue_and_dialogue():
    text = "\t\t\tJACK\n\t\t(in Vietnamese, subtitled)\n\t*Did you know?*"
    assert parse(text).elements == [
        Element("character", "JACK"), Element("parenthetical", "(in Vietnamese, subtitled)"),
        Element("dialogue", "*Did you know?*"),
    ]


def test_dual_dialogue():
    elements = parse("BRICK\nScrew retirement.\n\nSTEEL ^\nScrew retirement.").elements
    assert [e.dual for e in elements if e.kind == "character"] == [False, True]
    assert elements[2] == Element("character", "STEEL", dual=True)
    assert parse("@Mrs. Smith (V.O.) ^\nHi.").elements[0] == Element(
        "character", "Mrs. Smith", extension="(V.O.)", dual=True)


# --- transitions, centered, lyrics, page breaks, sections, synopses -------------------------------

def test_transitions():
    assert only("CUT TO:") == Element("transition", "CUT TO:")
    assert only("\t\t\t\tSMASH CUT TO:") == Element("transition", "SMASH CUT TO:")
    forced = only("> Burn to pink.")
    assert forced == Element("transition", "Burn to pink.") and forced.forced
    assert only("Cut to:").kind == "action"


def test_transition_versus_character_cue():
    assert kinds("CUT TO:\n\nINT. HOUSE - DAY") == ["transition", "scene_heading"]
    assert kinds("PLAYBACK TO:\n\nJOHN\nHi.") == ["transition", "character", "dialogue"]


def test_centered():
    assert only("> THE END <") == Element("centered", "THE END")
    assert only(">THE END<") == Element("centered", "THE END")
    two_lines = only("> BRICK BRADDOCK <\n> & DICK STEEL IN <")
    assert two_lines == Element("centered", "BRICK BRADDOCK\n& DICK STEEL IN")


def test_lyrics():
    assert only("~Willy Wonka! Willy Wonka!\n~The amazing chocolatier!") == Element(
        "lyric", "Willy Wonka! Willy Wonka!\nThe amazing chocolatier!")
    assert parse("SINGER\n~La la la\n~Lo lo\n(beat)\nThanks.").elements == [
        Element("character", "SINGER"), Element("lyric", "La la la\nLo lo"),
        Element("parenthetical", "(beat)"), Element("dialogue", "Thanks."),
    ]


def test_page_break_sections_synopses():
    assert only("===") == Element("page_break")
    assert only("======") == Element("page_break")
    assert parse("# ACT II: A New Day\n## The Helo Attack\n= Things explode.").elements == [
        Element("section", "ACT II: A New Day", depth=1), Element("section", "The Helo Attack", depth=2),
        Element("synopsis", "Things explode."),
    ]
    assert parse("### Nak's Home\nINT. SAUSALITO HOME").elements[1].kind == "scene_heading"


# --- notes and boneyard ---------------------------------------------------------------------------

def test_notes_standalone_multiline_and_inline():
    assert only("[[Check the timeline.]]") == Element("note", "Check the timeline.")
    multi = only("[[A note\n\nwith a blank line\ninside.]]")
    assert multi == Element("note", "A note\n\nwith a blank line\ninside.")
    action = only("The phone RINGS. [[This needs work.]]")
    assert action == Element("action", "The phone RINGS. [[This needs work.]]")
    assert plain_text(action.text).strip() == "The phone RINGS."
    assert parse("[[Note]]\nJOHN\nHello.").elements == [
        Element("note", "Note"), Element("character", "JOHN"), Element("dialogue", "Hello.")]


def test_boneyard_hides_a_multiline_block():
    text = "Before.\n\n/*\nINT. CUT SCENE - DAY\n\nJOHN\nGone.\n*/\n\nAfter."
    assert parse(text).elements == [
        Element("action", "Before."), Element("boneyard", "\nINT. CUT SCENE - DAY\n\nJOHN\nGone.\n"),
        Element("action", "After."),
    ]
    assert only("Keep /* cut */ this.").text == "Keep /* cut */ this."
    assert word_count("Keep /* cut */ this.") == 2


def test_unclosed_note_is_plain_text():
    assert kinds("[[never closed\n\nINT. HOUSE - DAY") == ["action", "scene_heading"]


# --- title page and emphasis ----------------------------------------------------------------------

def test_title_page_with_multiline_values():
    text = ("Title:\n\t_**BRICK & STEEL**_\n\t_**FULL RETIRED**_\nCredit: Written by\nAuthor: Stu Maschwitz\n"
            "Contact:\n    Next Level Productions\n    Solvang, CA 93463\n\nEXT. PATIO - DAY\n")
    screenplay = parse(text)
    assert screenplay.title_page.fields == {
        "Title": ["_**BRICK & STEEL**_", "_**FULL RETIRED**_"], "Credit": ["Written by"],
        "Author": ["Stu Maschwitz"], "Contact": ["Next Level Productions", "Solvang, CA 93463"],
    }
    assert screenplay.title_page.get("title") == "_**BRICK & STEEL**_\n_**FULL RETIRED**_"
    assert screenplay.elements == [Element("scene_heading", "EXT. PATIO - DAY")]
    assert "Title:\n    _**BRICK & STEEL**_\n" in write(screenplay)
    round_trip(screenplay)


def test_no_title_page():
    assert not parse("FADE IN:\n\nINT. HOUSE - DAY").title_page.fields
    assert kinds("FADE IN:\n\nINT. HOUSE - DAY") == ["action", "scene_heading"]
    assert not parse("INT. HOUSE - DAY\n\nJohn: enters.").title_page.fields


def test_emphasis_and_line_endings_kept():
    element = only("From *INCHES* away. _Steel's face **FILLS** the scope_. \\*not\\*")
    assert element.text == "From *INCHES* away. _Steel's face **FILLS** the scope_. \\*not\\*"
    assert parse("JOHN\r\nHi.\r\n\r\nINT. HOUSE\r\n").elements[2] == Element("scene_heading", "INT. HOUSE")


# --- the writer -----------------------------------------------------------------------------------

def test_writer_forces_what_would_be_misread():
    elements = [
        Element("action", "THE CAR EXPLODES.\nEVERYONE RUNS."),
        Element("scene_heading", "FLASHBACK", scene_number="3"),
        Element("character", "McCLANE", extension="(V.O.)"), Element("dialogue", "Yippee."),
        Element("transition", "Fade out."),
        Element("action", "CUT TO:"),
        Element("action", "INT. NOT A HEADING"),
        Element("action", ".hidden"),
    ]
    text = write(Screenplay(elements=elements))
    for line in ("!THE CAR EXPLODES.", ".FLASHBACK #3#", "@McCLANE (V.O.)", "> Fade out.", "!CUT TO:",
                 "!INT. NOT A HEADING", "!.hidden"):
        assert f"\n{line}\n" in f"\n{text}"
    round_trip(Screenplay(elements=elements))


def test_writer_adds_no_needless_markers():
    elements = [Element("scene_heading", "INT. HOUSE - DAY"), Element("action", "MIKE (CONT'D)"),
                Element("character", "ANNA"), Element("dialogue", "Hi."), Element("transition", "CUT TO:")]
    assert write(Screenplay(elements=elements)) == "INT. HOUSE - DAY\n\nMIKE (CONT'D)\n\nANNA\nHi.\n\nCUT TO:\n"


def test_writer_keeps_a_title_looking_first_line_out_of_the_title_page():
    screenplay = Screenplay(elements=[Element("action", "Note: the hero is late.")])
    assert write(screenplay).startswith("!Note:")
    round_trip(screenplay)


def test_round_trip_of_every_kind():
    text = """Title: All Kinds
Author: Someone

# ACT I
= The set-up.

INT. HOUSE - DAY #1#

Anna cooks.	She hums.
    Indented line.

ANNA (O.S.)
(calling)
Dinner!
  
Now!
~La la

BEN ^
Coming.

.FLASHBACK

!WHOOSH!
BANG!

[[A note
over lines]]

/* gone
*/

> Burn to white.

> THE END <

===

~Sing along
"""
    screenplay = parse(text)
    assert [e.kind for e in screenplay.elements] == [
        "section", "synopsis", "scene_heading", "action", "character", "parenthetical", "dialogue",
        "lyric", "character", "dialogue", "scene_heading", "action", "note", "boneyard", "transition",
        "centered", "page_break", "lyric",
    ]
    again = round_trip(screenplay)
    assert write(again) == write(screenplay)


def test_round_trip_shared_scripts():
    folder = shared_data("fountain")
    paths = sorted(folder.glob("*.fountain"))
    assert paths, f"no .fountain files in {folder}"
    for path in paths:
        screenplay = read_fountain(path)
        assert len(screenplay.elements) > 50 and screenplay.title_page.fields, path.name
        text = write(screenplay)
        again = round_trip(screenplay)
        assert write(again) == text, path.name


def test_shared_script_details():
    screenplay = read_fountain(shared_data("fountain/Brick-and-Steel.fountain"))
    elements = screenplay.elements
    assert Element("character", "BRICK", dual=True) in elements
    assert Element("scene_heading", "SNIPER SCOPE POV") in elements
    assert Element("transition", "BURN TO PINK.") in elements
    assert elements[-1] == Element("centered", "THE END")
    assert screenplay.characters()[:2] == ["STEEL", "BRICK"]


# --- scenes and outline ---------------------------------------------------------------------------

SMALL_SCRIPT = """Title: Salt

FADE IN:

INT. KITCHEN - DAY #1#

Anna cooks.

ANNA
(humming)
Where is the salt?

BEN (O.S.)
Top shelf.

EXT. GARDEN - NIGHT #2#

Ben waters the roses. [[cut this?]]

BEN
All done.

ANNA ^
Finally.
"""


def test_scenes_and_characters():
    screenplay = parse(SMALL_SCRIPT)
    scenes = screenplay.scenes()
    headings = [s.heading.text if s.heading else None for s in scenes]
    assert headings == [None, "INT. KITCHEN - DAY", "EXT. GARDEN - NIGHT"]
    assert scenes[0].elements == [Element("action", "FADE IN:")]
    assert [e.kind for e in scenes[1].elements] == [
        "action", "character", "parenthetical", "dialogue", "character", "dialogue"]
    assert screenplay.characters() == ["ANNA", "BEN"]


def test_outline_of_a_small_script():
    summary = outline(parse(SMALL_SCRIPT))
    assert summary["title"] == "Salt"
    assert [(s["heading"], s["number"], s["words"], s["characters"]) for s in summary["scenes"]] == [
        ("INT. KITCHEN - DAY", "1", 15, ["ANNA", "BEN"]),
        ("EXT. GARDEN - NIGHT", "2", 12, ["BEN", "ANNA"]),
    ]
    assert summary["characters"] == {"ANNA": {"lines": 2, "words": 5}, "BEN": {"lines": 2, "words": 4}}
    assert summary["total_words"] == 29
    assert summary["pages"] == round(23 / LINES_PER_PAGE, 2)
    assert summary["minutes"] == 0.4


def test_page_estimate_wraps_and_breaks_pages():
    long_action = Element("action", " ".join(["word"] * 30))  # 149 characters: 3 lines at 61
    assert estimate_pages(Screenplay(elements=[long_action])) == pytest.approx(4 / LINES_PER_PAGE)
    long_speech = [Element("character", "ANNA"), Element("dialogue", " ".join(["word"] * 14))]  # 69: 2 at 35
    assert estimate_pages(Screenplay(elements=long_speech)) == pytest.approx(4 / LINES_PER_PAGE)
    broken = [Element("action", "A."), Element("page_break"), Element("action", "B.")]
    assert estimate_pages(Screenplay(elements=broken)) == pytest.approx(1 + 2 / LINES_PER_PAGE)


def test_shared_script_outline_is_plausible():
    summary = outline(read_fountain(shared_data("fountain/Brick-and-Steel.fountain")))
    assert len(summary["scenes"]) == 8
    assert summary["characters"]["STEEL"]["lines"] == 9
    assert 2 < summary["minutes"] < 5


# --- files and errors -----------------------------------------------------------------------------

def test_read_encodings(tmp_path):
    (tmp_path / "bom.fountain").write_bytes("\ufeffTitle: Café\n\nINT. CAFÉ - DAY\n".encode("utf-8"))
    screenplay = read_fountain(tmp_path / "bom.fountain")
    assert screenplay.title_page.fields == {"Title": ["Café"]}
    (tmp_path / "win.fountain").write_bytes("INT. CAFÉ – DAY\n".encode("cp1252"))
    assert read_fountain(tmp_path / "win.fountain").elements == [Element("scene_heading", "INT. CAFÉ – DAY")]


def test_missing_file(tmp_path):
    with pytest.raises(ReelganError, match="does not exist"):
        read_fountain(tmp_path / "nope.fountain")
    with pytest.raises(ReelganError, match="is a folder"):
        read_fountain(tmp_path)


@pytest.mark.parametrize("data", [
    b"INT. HOUSE\x00\x01\x02", b"\x89PNG\r\n\x1a\n\x00\x00", b"caf\xe9 \x81\x8d", b"\xff\xd8\xff\x1b\x07 text",
])
def test_binary_file(tmp_path, data):
    path = tmp_path / "binary.fountain"
    path.write_bytes(data)
    with pytest.raises(ReelganError, match="not a text file"):
        read_fountain(path)


@pytest.mark.parametrize("data", [b"", b"\n\n  \n", b"\xef\xbb\xbf"])
def test_empty_file(tmp_path, data):
    path = tmp_path / "empty.fountain"
    path.write_bytes(data)
    with pytest.raises(ReelganError, match="is empty"):
        read_fountain(path)


def test_unknown_kind():
    with pytest.raises(ReelganError, match="unknown Fountain element kind"):
        Element("montage", "x")


def test_title_page_get_is_case_insensitive():
    assert TitlePage({"Draft date": ["1/27/2012"]}).get("DRAFT DATE") == "1/27/2012"
    assert TitlePage().get("title") is None
