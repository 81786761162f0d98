"""`reelgan film --feedback`: generated shots steered toward what viewers liked, and the record of why."""

from __future__ import annotations

import json

import pytest
import torch
from conftest import export_tiny_generator

from reelgan.cli.main import main
from reelgan.gan.generator import seed_latents

SCRIPT = """INT. SHIP - NIGHT

A linguist stands before the glass.

LOUISE
We come in peace.

The visitors answer with a ring of ink.

EXT. FIELD - DAWN

Helicopters idle in the grass.

IAN
Did they understand?

A second ring forms.
"""
FILM = ["--height", "48", "--fps", "4", "--no-watermark", "--fade", "0", "--min-shot", "1", "--max-shot", "2"]


@pytest.fixture
def project(tmp_path):
    export_tiny_generator(tmp_path / "run")
    (tmp_path / "film.fountain").write_text(SCRIPT)
    (tmp_path / "cast.toml").write_text(f'default = "{(tmp_path / "run").as_posix()}"\n')
    return tmp_path


def render(project, out: str, *extra: str) -> dict:
    argv = ["film", str(project / "film.fountain"), "--cast", str(project / "cast.toml"),
            "--out", str(project / out), *FILM, *extra]
    assert main(argv) == 0
    return json.loads((project / out).with_suffix(".authorship.json").read_text())


def test_feedback_replaces_disliked_and_unrated_shots_and_says_why(project, capsys):
    first = render(project, "v1.mp4")
    generated = [s["index"] for s in first["shots"] if s["picture"]["maker"] == "model"]
    assert len(generated) >= 4
    liked, disliked = generated[0], generated[1]
    card = next(s["index"] for s in first["shots"] if s["kind"] == "title")
    (project / "ratings.json").write_text(json.dumps({"viewers": {
        "ana": {str(liked): 5, str(disliked): 1, str(card): 1},
        "ben": {str(liked): 4, str(disliked): 2}}}))
    second = render(project, "v2.mp4", "--feedback", str(project / "ratings.json"))
    assert "viewer feedback changed" in capsys.readouterr().err
    shots = {s["index"]: s for s in second["shots"]}
    before = {s["index"]: s for s in first["shots"]}
    assert shots[liked]["picture"] == before[liked]["picture"]            # liked: kept as it was
    assert shots[card]["picture"] == before[card]["picture"]              # cards are never steered
    steer = shots[disliked]["picture"]["steered"]
    assert steer["was_seed"] == before[disliked]["picture"]["seed"] and shots[disliked]["picture"]["seed"] is None
    assert "disliked (mean 1.5 stars from 2 rating(s))" in steer["reason"]
    unrated = [i for i in generated if i not in (liked, disliked)]
    assert all("not rated" in shots[i]["picture"]["steered"]["reason"] for i in unrated)
    assert sorted(second["steered_by_feedback"]) == sorted([disliked, *unrated])
    latents = [tuple(shots[i]["picture"]["steered"]["latent"]) for i in second["steered_by_feedback"]]
    assert len(set(latents)) == len(latents)  # each changed shot got its own picture
    old = seed_latents([steer["was_seed"]], 32)[0]
    assert not torch.equal(torch.tensor(steer["latent"]), old)


def test_only_dislikes_move_only_the_disliked_shots(project):
    first = render(project, "v1.mp4")
    generated = [s["index"] for s in first["shots"] if s["picture"]["maker"] == "model"]
    (project / "ratings.json").write_text(json.dumps({"shots": {str(generated[0]): [1, 2]}}))
    second = render(project, "v2.mp4", "--feedback", str(project / "ratings.json"))
    assert second["steered_by_feedback"] == [generated[0]]


def test_same_feedback_same_film(project):
    first = render(project, "v1.mp4")
    generated = [s["index"] for s in first["shots"] if s["picture"]["maker"] == "model"]
    (project / "ratings.json").write_text(json.dumps({"shots": {str(generated[0]): 5, str(generated[1]): 1}}))
    a = render(project, "a.mp4", "--feedback", str(project / "ratings.json"))
    b = render(project, "b.mp4", "--feedback", str(project / "ratings.json"))
    assert [s["picture"] for s in a["shots"]] == [s["picture"] for s in b["shots"]]


@pytest.mark.parametrize("content, message", [
    ('{"shots": {"999": 5}}', "not a shot of this film"),
    ('{"shots": {"1": 6}}', "stars 1-5"),
    ('{"shots": {"1": "good"}}', "stars 1-5"),
    ('{"ratings": {}}', "neither 'shots' nor 'viewers'"),
    ("{oops", "not readable JSON"),
])
def test_bad_feedback_is_refused_before_anything_is_written(project, capsys, content, message):
    (project / "ratings.json").write_text(content)
    argv = ["film", str(project / "film.fountain"), "--cast", str(project / "cast.toml"),
            "--out", str(project / "v2.mp4"), *FILM, "--feedback", str(project / "ratings.json")]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]
    assert not (project / "v2.mp4").exists()
