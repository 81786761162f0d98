"""Subtitles broken as broadcasters break them, the same in SRT, WebVTT and the frames; the opening before the
first scene heading is part of the film; what the film leaves out is logged."""

from __future__ import annotations

import html
import json
import logging
import re

import numpy as np
import pytest

from reelgan.cli.main import main
from reelgan.film.encode import read_soft_subtitles
from reelgan.film.plan import (
    CUE_LINES,
    LINE_CHARS,
    OPENING,
    SHOT,
    TITLE,
    Subtitle,
    Timing,
    cue_lines,
    plan_film,
    scene_headings,
    scene_seed,
    speech_cues,
)
from reelgan.film.subtitles import SubtitleBurner, cue_text, to_srt, to_webvtt
from reelgan.script.fountain import parse

PEANUT = "It was the peanut-butter-and-cheese one, I swear to you, and nobody else ever ate them."
LONG = ("We came down to the harbour before dawn, because the boats were leaving early that day. My father "
        "stood at the end of the pier with a lantern; he did not wave, and he did not call out to us.")
SPEECHES = {"MARA": PEANUT, "TOM": LONG, "ANNA": "Fish & <chips>? Now?", "IAN": "I know -- but I won't say it "
            "to anyone here tonight, or ever — not even to you, not even if you ask me twice."}


def shown(speaker: str, text: str) -> list[tuple[str, ...]]:
    """Each cue of a speech as its lines on screen."""
    return [cue_lines(speaker, cue) for cue in speech_cues(speaker, text)]


def assert_broadcast_shape(cues: list[tuple[str, ...]]) -> None:
    for lines in cues:
        assert 1 <= len(lines) <= CUE_LINES, lines
        assert all(len(line) <= LINE_CHARS for line in lines), lines
        assert all(line == line.strip() and any(c.isalnum() for c in line.split()[0]) for line in lines), lines


# --- breaking ---------------------------------------------------------------------------------------

def test_hyphenated_compounds_are_never_broken():
    cues = shown("MARA", PEANUT)
    assert_broadcast_shape(cues)
    lines = [line for cue in cues for line in cue]
    assert sum("peanut-butter-and-cheese" in line for line in lines) == 1
    assert not any(line.endswith("-") or line.startswith("-") for line in lines)
    assert " ".join(speech_cues("MARA", PEANUT)) == PEANUT


def test_a_200_character_speech_becomes_several_cues_ending_at_pauses():
    assert 190 <= len(LONG) <= 210
    shots = plan_film(parse(f"INT. PIER - DAWN\n\nTOM\n{LONG}\n"), Timing(words_per_second=2.0))
    cues = shots[1].subtitles
    assert len(cues) >= 3
    assert_broadcast_shape([c.lines for c in cues])
    assert " ".join(c.text for c in cues) == LONG
    assert all(c.lines[0].startswith("TOM: ") for c in cues)
    assert all(c.text[-1] in ",;:.!?" for c in cues)  # every cue ends at a sentence or clause end
    words = [len(c.text.split()) for c in cues]  # timed by words: seconds per word the same in every cue
    rates = [(c.end - c.start) / n for c, n in zip(cues, words)]
    assert max(rates) == pytest.approx(min(rates), abs=0.01)


def test_lines_break_after_commas_and_before_conjunctions_and_balance():
    assert cue_lines("MARA", "When the tide came in, we pulled the boats up onto the stones.") == (
        "MARA: When the tide came in,", "we pulled the boats up onto the stones.")
    assert cue_lines("TOM", "I waited at the station for hours but nobody came for me") == (
        "TOM: I waited at the station for hours", "but nobody came for me")
    top, bottom = cue_lines("ANNA", "one two three four five six seven eight nine ten eleven twelve")
    assert abs(len(top) - len(bottom)) <= 8  # no pause anywhere: the most even break
    assert cue_lines("IAN", "Short and sweet.") == ("IAN: Short and sweet.",)  # one line when it fits
    assert not cue_lines("BEN", "I think we should go to the market in the town tomorrow")[0].endswith(" the")


def test_no_line_starts_with_a_lone_mark_and_dashes_keep_their_word():
    for speaker, text in SPEECHES.items():
        cues = shown(speaker, text)
        assert_broadcast_shape(cues)
    ian = [line for cue in shown("IAN", SPEECHES["IAN"]) for line in cue]
    assert not any(line.startswith(("--", "—")) for line in ian)
    lines = cue_lines("ANNA", "I was going to tell you—but then the lights went out, and we ran")
    assert lines[0].endswith("you—") and lines[1].startswith("but")


def test_a_word_longer_than_a_line_gets_a_line_of_its_own():
    word = "Llanfairpwllgwyngyllgogerychwyrndrobwllllantysiliogogogoch"
    cues = speech_cues("GUIDE", f"We stopped at {word} for tea.")
    assert " ".join(cues) == f"We stopped at {word} for tea."
    assert any(word in line for cue in cues for line in cue_lines("GUIDE", cue))


# --- one layout everywhere --------------------------------------------------------------------------

def srt_cues(text: str) -> list[tuple[str, tuple[str, ...]]]:
    blocks = [block.split("\n") for block in text.strip("\n").split("\n\n")]
    return [(lines[1].replace(",", "."), tuple(lines[2:])) for lines in blocks]


def vtt_cues(text: str) -> list[tuple[str, tuple[str, ...]]]:
    blocks = [block.split("\n") for block in text.strip("\n").split("\n\n")]
    assert blocks[0] == ["WEBVTT"]
    cues = []
    for lines in blocks[1:]:
        body = [html.unescape(re.sub(r"^<v [^>]*>", "", line)) for line in lines[1:]]
        cues.append((lines[0], tuple(body)))
    return cues


def test_srt_vtt_and_burned_in_cues_are_the_same():
    script = "INT. PIER - DAWN\n\n" + "".join(f"{name}\n{text}\n\n" for name, text in SPEECHES.items())
    subtitles = [s for shot in plan_film(parse(script)) for s in shot.subtitles]
    assert len(subtitles) > len(SPEECHES)
    burner = SubtitleBurner((640, 360))
    burned = [burner.lines(s) for s in subtitles]
    assert [lines for _, lines in srt_cues(to_srt(subtitles))] == burned
    assert srt_cues(to_srt(subtitles)) == vtt_cues(to_webvtt(subtitles))
    assert "<v ANNA>ANNA: Fish &amp; &lt;chips&gt;? Now?" in to_webvtt(subtitles)
    assert all(cue_text(s) == "\n".join(lines) for s, lines in zip(subtitles, burned))


def ink_bands(frame: np.ndarray, plain: np.ndarray) -> int:
    """Horizontal bands of near-white pixels that are not in `plain` (lines of burned text)."""
    rows = ((frame.min(axis=2) > 230) & (plain.min(axis=2) <= 230)).any(axis=1)
    return int(np.sum(rows[1:] & ~rows[:-1]) + rows[0])


def test_burned_in_text_draws_each_line_with_real_word_gaps():
    plain = np.full((360, 640, 3), 90, np.uint8)
    burner = SubtitleBurner((640, 360))
    two = Subtitle(0.0, 1.0, "MARA", speech_cues("MARA", PEANUT)[0])
    one = Subtitle(0.0, 1.0, "MARA", "He said he would come back.")
    assert len(two.lines) == 2 and len(one.lines) == 1
    assert ink_bands(burner.burn(plain, [two]), plain) == 2
    frame = burner.burn(plain, [one])
    assert ink_bands(frame, plain) == 1
    assert burner.text_size(one.lines) == round(360 / 16)  # a size set by the frame's height
    columns = (frame.min(axis=2) > 230).any(axis=0)
    inside = columns[np.argmax(columns):len(columns) - np.argmax(columns[::-1])]
    gaps = np.diff(np.flatnonzero(np.diff(inside.astype(int)) != 0))[1::2]  # runs of columns without ink
    assert (gaps >= 0.25 * burner.text_size(one.lines)).sum() >= len("He said he would come back.".split())
    dark = burner.burn(np.zeros_like(plain), [one])  # the box keeps contrast on a white picture too
    white = burner.burn(np.full_like(plain, 255), [one])
    assert (white.min(axis=2) < 100).any() and (dark.min(axis=2) > 230).any()


# --- the opening and what is left out ---------------------------------------------------------------

OPENING_SCRIPT = """Title: The Harbour

FADE IN:

Darkness. The sound of the sea.

NARRATOR (V.O.)
Nobody ever found the boat.

[[Check the V.O. timing with Sam.]]

INT. KITCHEN - NIGHT

/* An older version of the scene.
MARA
I never liked boats. */

Rain on the window. [[a storm?]]

# Act two

= Tom returns.

MARA
He said he would come back.
"""


def test_text_before_the_first_heading_opens_the_film():
    shots = plan_film(parse(OPENING_SCRIPT))
    assert [(s.kind, s.scene) for s in shots[:4]] == [(TITLE, 0), (SHOT, 0), (TITLE, 1), (SHOT, 1)]
    assert shots[0].heading == "The Harbour" and shots[1].action == "Darkness. The sound of the sea."
    assert [(s.speaker, s.text) for s in shots[1].subtitles] == [("NARRATOR", "Nobody ever found the boat.")]
    voice = shots[1].subtitles[0]
    assert shots[0].end == shots[1].start and voice.start == pytest.approx(shots[1].start + 6 / 2.5)  # after 6 words
    assert scene_headings(shots) == ["INT. KITCHEN - NIGHT"]  # cast files still number scenes from 1
    assert shots[2].seed == scene_seed(1, "INT. KITCHEN - NIGHT")
    untitled = plan_film(parse(OPENING_SCRIPT.split("\n", 2)[2]))
    assert untitled[0].heading == OPENING
    assert plan_film(parse("FADE IN:\n\nINT. A - DAY\n\nB.\n"))[0].scene == 1  # nothing to show: no opening


def test_what_is_skipped_is_counted_and_logged_once(caplog):
    with caplog.at_level(logging.INFO, logger="reelgan"):
        plan_film(parse(OPENING_SCRIPT))
    said = [r for r in caplog.records if r.name == "reelgan.film.plan"]
    assert len(said) == 1 and said[0].levelno == logging.INFO
    assert said[0].getMessage().startswith("skipped 2 notes, 1 boneyard block, 1 section and 1 synopsis")
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="reelgan"):
        plan_film(parse("INT. A - DAY\n\nB.\n"))
    assert not [r for r in caplog.records if r.name == "reelgan.film.plan"]


def test_the_rendered_film_opens_with_the_opening_and_keeps_one_layout(tmp_path, caplog):
    script = tmp_path / "open.fountain"
    script.write_text(OPENING_SCRIPT.replace("He said he would come back.", LONG))
    out = tmp_path / "open.mp4"
    with caplog.at_level(logging.INFO, logger="reelgan"):
        assert main(["film", str(script), "--out", str(out), "--height", "48", "--fps", "4", "--no-watermark",
                     "--soft-subtitles"]) == 0
    assert sum("skipped 2 notes" in r.getMessage() for r in caplog.records) == 1
    record = json.loads((tmp_path / "open.authorship.json").read_text())
    first, second = record["shots"][:2]
    assert (first["kind"], first["scene"], first["heading"]) == ("title", 0, "The Harbour")
    assert second["subtitles"][0]["text"] == "Nobody ever found the boat." and second["kind"] == "shot"
    srt = srt_cues((tmp_path / "open.srt").read_text())
    assert srt[0][1] == ("NARRATOR: Nobody ever found the boat.",)
    assert srt == vtt_cues((tmp_path / "open.vtt").read_text())
    assert any(len(lines) == 2 for _, lines in srt)
    assert [text for _, _, text in read_soft_subtitles(out)] == ["\n".join(lines) for _, lines in srt]
    said = [s["text"] for shot in record["shots"] for s in shot["subtitles"]]
    assert " ".join(said[1:]) == LONG


def test_a_cast_names_scenes_by_heading_and_number_with_an_opening_before_them(tmp_path):
    """The opening is scene 0: a cast's heading still means the script's first real scene, and a scene number
    past the real scenes is still refused."""
    from reelgan.errors import ReelganError
    from reelgan.film.cast import read_cast
    from reelgan.film.plan import scene_headings

    headings = scene_headings(plan_film(parse(OPENING_SCRIPT)))
    assert headings == ["INT. KITCHEN - NIGHT"]
    (tmp_path / "still.png").write_bytes(b"")
    (tmp_path / "cast.toml").write_text('[scenes]\n"INT. KITCHEN - NIGHT" = "still.png"\n')
    assert sorted(read_cast(tmp_path / "cast.toml", headings).scenes) == [1]
    (tmp_path / "cast.toml").write_text('[scenes]\n2 = "still.png"\n')
    with pytest.raises(ReelganError):
        read_cast(tmp_path / "cast.toml", headings)
