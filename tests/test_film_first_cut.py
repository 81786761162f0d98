"""The first cut a director watches: a picture per shot (or --hold), --action-captions, --label, --dry-run."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import export_tiny_generator

from reelgan.cli.main import main
from reelgan.media import read_video_frames

SCRIPT = """INT. SHIP - NIGHT

A linguist stands before the glass.

LOUISE
We come in peace.

The visitors answer with a ring of ink.

EXT. FIELD - DAWN

Helicopters idle in the grass.
"""
FILM = ["--height", "48", "--fps", "4", "--no-watermark", "--fade", "0", "--min-shot", "1", "--max-shot", "2",
        "--no-burn-subtitles"]


@pytest.fixture
def project(tmp_path):
    export_tiny_generator(tmp_path / "run")
    (tmp_path / "film.fountain").write_text(SCRIPT)
    (tmp_path / "cast.toml").write_text(f'[scenes]\n1 = "{(tmp_path / "run").as_posix()}"\n')  # scene 2: glyphs
    return tmp_path


def render(project, name: str, *extra: str):
    out = project / f"{name}.mp4"
    assert main(["film", str(project / "film.fountain"), "--cast", str(project / "cast.toml"), "--out", str(out),
                 *FILM, *extra]) == 0
    record = json.loads(out.with_suffix(".authorship.json").read_text())
    return read_video_frames(out), record


def shot_frames(frames, record, index: int):
    """The frames of shot `index` at 4 fps."""
    shot = record["shots"][index]
    return frames[round(shot["start"] * 4): round((shot["start"] + shot["duration"]) * 4)]


def test_each_shot_gets_its_own_picture_and_hold_keeps_one_per_scene(project):
    frames, record = render(project, "fresh")
    shots = [i for i, s in enumerate(record["shots"]) if s["kind"] == "shot" and s["scene"] == 1]
    seeds = [record["shots"][i]["picture"]["seed"] for i in shots]
    assert len(shots) >= 2 and len(set(seeds)) == len(seeds)
    held, held_record = render(project, "held", "--hold")
    held_seeds = {held_record["shots"][i]["picture"]["seed"] for i in shots}
    assert len(held_seeds) == 1
    glyph_shots = [s for s in record["shots"] if s["kind"] == "shot" and s["scene"] == 2]
    assert glyph_shots[0]["picture"]["source"] != "FIELD DAWN"  # the glyph of the shot's words, not the heading
    held_glyph = [s for s in held_record["shots"] if s["kind"] == "shot" and s["scene"] == 2]
    assert held_glyph[0]["picture"]["source"] == "EXT. FIELD DAWN"


def test_label_marks_only_model_made_shots(project):
    plain, record = render(project, "plain")
    labelled, _ = render(project, "labelled", "--label")
    for index, shot in enumerate(record["shots"]):
        a, b = shot_frames(plain, record, index), shot_frames(labelled, record, index)
        changed = np.abs(a.astype(int) - b.astype(int)).max() > 40
        assert changed == (shot["picture"]["maker"] == "model"), (index, shot["kind"], shot["picture"])


def test_action_captions_draw_the_action_at_the_top(project):
    plain, record = render(project, "plain")
    captioned, _ = render(project, "captioned", "--action-captions")
    captioned_shots = []
    for index, shot in enumerate(record["shots"]):
        a, b = shot_frames(plain, record, index), shot_frames(captioned, record, index)
        top, bottom = slice(0, a.shape[1] // 4), slice(a.shape[1] // 2, None)
        if np.abs(a[:, top].astype(int) - b[:, top].astype(int)).max() > 40:
            captioned_shots.append(shot["kind"])
        # never over the subtitles' place (H.264 may round a few pixels there differently)
        assert np.abs(a[:, bottom].astype(int) - b[:, bottom].astype(int)).mean() < 2
    assert captioned_shots and set(captioned_shots) == {"shot"}  # shots with action, never the cards


def test_dry_run_tells_the_length_and_writes_nothing(project, capsys):
    before = sorted(p.name for p in project.iterdir())
    assert main(["film", str(project / "film.fountain"), "--cast", str(project / "cast.toml"), "--out",
                 str(project / "x.mp4"), *FILM, "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "s of film" in out and "shots" in out and "to render" in out
    assert sorted(p.name for p in project.iterdir()) == before
