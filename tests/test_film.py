"""Animatics: planning shots, cast files, a 3-scene film end to end, subtitles, timeline, provenance, verify."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
from conftest import tiny_overrides
from PIL import Image

from reelgan.cli.main import main
from reelgan.config import build_config, merge
from reelgan.errors import ReelganError
from reelgan.film.cast import read_cast
from reelgan.film.encode import read_soft_subtitles
from reelgan.film.plan import CREDITS, SHOT, TITLE, Subtitle, Timing, plan_film, scene_seed
from reelgan.film.subtitles import to_srt, to_webvtt
from reelgan.media import read_video_frames
from reelgan.provenance import read_record
from reelgan.provenance.watermark import detect, embed, payload_bits
from reelgan.script.fountain import parse
from reelgan.training import train

SCRIPT = """Title: The Harbour
Author: M. Writer

INT. KITCHEN - NIGHT

Rain on the window.

MARA
He said he would come back.

EXT. HARBOUR - DAWN

Boats knock together in the swell.

TOM
I did come back.

INT. CAR - DAY

They drive in silence.
"""


@pytest.fixture(scope="module")
def generators(tmp_path_factory) -> dict[str, Path]:
    """A tiny image generator and a tiny clip generator, trained for 2 steps."""
    root = tmp_path_factory.mktemp("generators")
    runs = {}
    for name, sections in {
        "image": {},
        "clip": {"data": {"source": "moving-glyphs", "kind": "video", "frames": 8, "resolution": 16, "size": 16},
                 "net": {"content_dim": 8, "motion_dim": 4}},
    }.items():
        config = build_config(overrides=merge(tiny_overrides(root / name), merge(sections, {"train": {"steps": 2}})))
        runs[name] = train(config, show_progress=False).run_dir
    return runs


@pytest.fixture
def project(tmp_path, generators) -> Path:
    """A script, a still and a cast file naming a generator, a clip generator and the still."""
    (tmp_path / "film.fountain").write_text(SCRIPT)
    still = (np.indices((48, 80)).sum(axis=0) % 40 * 6).astype(np.uint8)
    Image.fromarray(np.stack([still, still[::-1], 255 - still], axis=-1)).save(tmp_path / "still.png")
    (tmp_path / "cast.toml").write_text(
        f'default = "{generators["image"]}"\n[scenes]\n'
        f'"EXT. HARBOUR - DAWN" = {{ source = "{generators["clip"]}", truncation = 0.8 }}\n3 = "still.png"\n')
    return tmp_path


FILM_ARGS = ["--height", "64", "--fps", "8", "--soft-subtitles"]


# --- planning ---------------------------------------------------------------------------------------

def test_shots_last_as_long_as_their_words_take_to_read():
    timing = Timing(words_per_second=2.0, min_beat=1.0, min_shot=2.0, max_shot=5.5, title_card=1.5, credits=3.0)
    script = parse("INT. ROOM - DAY\n\nOne two three four five six seven eight nine ten.\n\nANNA\nHi.\n\n"
                   "EXT. ROAD - NIGHT\n")
    shots = plan_film(script, timing)
    assert [s.kind for s in shots] == [TITLE, SHOT, SHOT, TITLE, SHOT, CREDITS]
    assert [s.duration for s in shots] == [1.5, 5.0, 2.0, 1.5, 2.0, 3.0]  # 10 words / 2 wps; min shot; min shot
    assert all(a.end == pytest.approx(b.start) for a, b in zip(shots, shots[1:]))
    speech = shots[2].subtitles
    assert speech == [Subtitle(6.5, 7.5, "ANNA", "Hi.")]  # one beat of min_beat seconds at the shot's start
    assert plan_film(script, timing)[1].seed == shots[1].seed and shots[1].seed != shots[4].seed
    with pytest.raises(ReelganError, match="no scenes"):
        plan_film(parse("Just some action.\n"), timing)


def test_long_speeches_become_several_two_line_subtitles():
    speech = " ".join(f"word{i}" for i in range(40))
    shots = plan_film(parse(f"INT. ROOM - DAY\n\nHAMLET\n{speech}\n"), Timing(words_per_second=2.0))
    cues = shots[1].subtitles
    assert len(cues) > 1 and all(len(f"{c.speaker}: {c.text}") <= 84 for c in cues)
    assert " ".join(c.text for c in cues) == speech
    assert cues[0].start == shots[1].start and cues[-1].end == pytest.approx(shots[1].start + 20.0, abs=0.01)
    assert all(a.end == pytest.approx(b.start, abs=0.002) for a, b in zip(cues, cues[1:]))
    assert shots[1].duration == 20.0  # a beat longer than --max-shot gets a shot of its own


def test_outputs_are_named_after_the_whole_mp4_name():
    from reelgan.film.render import Outputs

    names = {kind: path.name for kind, path in Outputs(Path("pilot.v2.mp4")).all().items()}
    assert names["srt"] == "pilot.v2.srt" and names["otio"] == "pilot.v2.otio"
    assert names["sheet"] == "pilot.v2.sheet.png" and names["authorship"] == "pilot.v2.authorship.json"


def test_subtitle_files():
    cues = [Subtitle(1.5, 3.25, "ANNA", "Hi & <bye>."), Subtitle(3661.0, 3662.0, "TOM", "Later.")]
    assert to_srt(cues) == ("1\n00:00:01,500 --> 00:00:03,250\nANNA: Hi & <bye>.\n\n"
                            "2\n01:01:01,000 --> 01:01:02,000\nTOM: Later.\n")
    # the VTT cue shows the same text as the SRT cue and the frames; the voice span names the speaker
    assert to_webvtt(cues).startswith("WEBVTT\n\n00:00:01.500 --> 00:00:03.250\n<v ANNA>ANNA: Hi &amp; &lt;bye&gt;."
                                      "\n")


def test_cast_files_name_scenes_by_number_or_heading(project, generators):
    headings = ["INT. KITCHEN - NIGHT", "EXT. HARBOUR - DAWN", "INT. CAR - DAY"]
    cast = read_cast(project / "cast.toml", headings)
    assert cast.for_scene(1).kind == "generator" and cast.for_scene(2).truncation == 0.8
    assert cast.for_scene(3).kind == "still"
    assert read_cast(None, headings).for_scene(2).kind == "logograms"
    cases = {
        'default = "missing.pt"': "does not exist",
        '[scenes]\n7 = "still.png"': "has scenes 1-3",
        '[scenes]\n"INT. MOON - DAY" = "still.png"': "not a heading in the script",
        'default = ': "not valid TOML",
        'cast = "x"': "unknown keys",
        '[scenes]\n3 = { source = "still.png", class = "x" }': "class and truncation apply only to generators",
        'scenes = 3': "scenes must be a table",
        '[scenes]\n"\u00b2" = "still.png"': "not a heading in the script",
    }
    for text, message in cases.items():
        (project / "bad.toml").write_text(text)
        with pytest.raises(ReelganError, match=message):
            read_cast(project / "bad.toml", headings)


# --- the film ---------------------------------------------------------------------------------------

def test_a_three_scene_script_renders_end_to_end(project, generators, capsys):
    out = project / "film.mp4"
    assert main(["film", str(project / "film.fountain"), "--cast", str(project / "cast.toml"), "--out", str(out),
                 *FILM_ARGS]) == 0
    record = json.loads((project / "film.authorship.json").read_text())
    shots = record["shots"]
    assert [s["kind"] for s in shots] == ["title", "shot", "title", "shot", "title", "shot", "credits"]
    length = shots[-1]["start"] + shots[-1]["duration"]
    frames = read_video_frames(out)
    assert frames.shape == (round(length * 8), 64, 114, 3)

    pictures = [s["picture"] for s in shots if s["kind"] == "shot"]
    assert [p["what"] for p in pictures] == ["generated image", "generated clip", "still"]
    assert pictures[0]["maker"] == "model" and pictures[0]["seed"] == scene_seed(1, "INT. KITCHEN - NIGHT") + 1
    assert pictures[0]["generator_hash"] and pictures[1]["generator_hash"] != pictures[0]["generator_hash"]
    assert pictures[2] == {"maker": "person", "what": "still", "source": "still.png"}
    assert "Written by M. Writer" in record["credits"] and any("AI" in line for line in record["credits"])

    srt = (project / "film.srt").read_text()
    assert srt.count(" --> ") == 2 and "MARA: He said he would come back." in srt
    assert (project / "film.vtt").read_text().startswith("WEBVTT")
    soft = read_soft_subtitles(out)
    assert [text for _, _, text in soft] == ["MARA: He said he would come back.", "TOM: I did come back."]
    assert soft[0][0] == pytest.approx(shots[1]["subtitles"][0]["start"])

    import opentimelineio as otio

    timeline = otio.adapters.read_from_file(str(project / "film.otio"))
    clips = list(timeline.find_clips())
    assert len(clips) == len(shots) and timeline.duration().to_frames() == frames.shape[0]
    assert clips[1].media_reference.target_url == "film.mp4" and len(clips[1].markers) == 1
    marker = clips[1].markers[0].marked_range  # in the clip's media time, inside its source range
    assert clips[1].source_range.start_time <= marker.start_time < clips[1].source_range.end_time_exclusive()

    mp4_record = read_record(out)
    assert mp4_record["digital_source_type"].endswith("compositeWithTrainedAlgorithmicMedia")
    assert read_record(project / "film.sheet.png")["kind"] == "animatic"
    assert (project / "film.sheet.pdf").stat().st_size > 0
    capsys.readouterr()
    assert main(["verify", str(out), "--json"]) == 0
    findings = {f["check"]: f for f in json.loads(capsys.readouterr().out)["findings"]}
    assert findings["metadata"]["found"] and findings["watermark"]["found"]

    # the same script and cast render the same film
    again = project / "again.mp4"
    assert main(["film", str(project / "film.fountain"), "--cast", str(project / "cast.toml"), "--out",
                 str(again), *FILM_ARGS]) == 0
    assert np.array_equal(read_video_frames(again), frames)


def test_without_a_cast_scenes_get_procedural_glyphs(tmp_path):
    script = tmp_path / "s.fountain"
    script.write_text("EXT. SEA - DAY\n\nWaves.\n")
    out = tmp_path / "s.mp4"
    assert main(["film", str(script), "--out", str(out), "--height", "48", "--fps", "4", "--no-watermark"]) == 0
    record = json.loads((tmp_path / "s.authorship.json").read_text())
    assert record["shots"][1]["picture"]["what"] == "procedural glyph"
    assert record["provenance"]["digital_source_type"].endswith("compositeSynthetic")


@pytest.mark.parametrize("change, message", [
    ("script_no_scenes", "has no scenes"),
    ("missing_checkpoint", "does not exist; fix the path"),
    ("unknown_scene", "not a heading in the script"),
    ("unreadable_still", "cannot be read as an image"),
    ("exists", "already exists"),
    ("odd_height", "must be an even number of pixels"),
    ("long_fade", "--fade must be 0 to 2 seconds"),
])
def test_bad_input_fails_whole_with_status_2(project, capsys, change, message):
    script, cast, out = project / "film.fountain", project / "cast.toml", project / "film.mp4"
    argv = ["film", str(script), "--cast", str(cast), "--out", str(out), *FILM_ARGS]
    if change == "script_no_scenes":
        script.write_text("Just action, no heading.\n")
    elif change == "missing_checkpoint":
        cast.write_text('default = "runs/nothing-here"\n')
    elif change == "unknown_scene":
        cast.write_text('[scenes]\n"INT. MOON - DAY" = "still.png"\n')
    elif change == "unreadable_still":
        (project / "still.png").write_bytes(b"not a png at all")
    elif change == "exists":
        out.write_bytes(b"precious")
    elif change == "odd_height":
        argv += ["--height", "63"]
    elif change == "long_fade":
        argv += ["--fade", "30"]
    before = {p.name: p.read_bytes() for p in project.iterdir() if p.is_file()}
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and "\n" not in err
    assert {p.name: p.read_bytes() for p in project.iterdir() if p.is_file()} == before  # nothing written
    assert not [p for p in project.iterdir() if p.name.startswith(".film.mp4")]


# --- watermark, C2PA, verify ------------------------------------------------------------------------

def test_the_watermark_survives_jpeg_and_half_size_and_is_absent_elsewhere():
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:180, 0:320]
    frame = np.clip(np.stack([x * 0.8, y * 1.4, 255 - x * 0.5], -1) + rng.normal(0, 6, (180, 320, 3)), 0, 255)
    frame = frame.astype(np.uint8)
    bits = payload_bits("ddc667f2" + "0" * 56)
    marked = embed(frame, bits)
    assert np.abs(marked.astype(int) - frame).mean() < 2  # invisible: about a grey level on average
    buffer = io.BytesIO()
    Image.fromarray(marked).save(buffer, "JPEG", quality=75)
    jpeg = np.asarray(Image.open(buffer).convert("RGB"))
    half = np.asarray(Image.fromarray(marked).resize((160, 90), Image.Resampling.BICUBIC))
    for attacked in (marked, jpeg, half):
        found = detect([attacked])
        assert found.found and found.model_hash_prefix == "ddc667f2" and np.array_equal(found.bits, bits)
    assert not detect([frame]).found


def test_verify_exit_status(tmp_path, capsys):
    plain = tmp_path / "plain.png"
    Image.fromarray(np.full((40, 40, 3), 128, np.uint8)).save(plain)
    assert main(["verify", str(plain)]) == 1
    assert "no declaration found" in capsys.readouterr().out
    assert main(["verify", str(tmp_path / "missing.png")]) == 2
    (tmp_path / "fake.png").write_bytes(b"text, not an image")
    assert main(["verify", str(tmp_path / "fake.png")]) == 2
    (tmp_path / "notes.txt").write_text("hello")
    assert main(["verify", str(tmp_path / "notes.txt")]) == 2
    script = tmp_path / "s.fountain"
    script.write_text("Title: X\nDisclosure: Contains AI-generated text\n\nINT. A - DAY\n\nB.\n")
    assert main(["verify", str(script)]) == 0
    from reelgan.media import save_gif
    from reelgan.provenance import make_record

    save_gif(tmp_path / "g.gif", np.zeros((3, 16, 16), np.uint8), 4, make_record(generator_hash="ab" * 32, seed=1))
    capsys.readouterr()
    assert main(["verify", str(tmp_path / "g.gif")]) == 0
    assert "metadata: declared machine-made: IPTC trainedAlgorithmicMedia" in capsys.readouterr().out


def test_c2pa_signing_with_a_test_certificate(tmp_path, capsys, c2pa_certificate):
    chain, key = c2pa_certificate
    script = tmp_path / "s.fountain"
    script.write_text("EXT. SEA - DAY\n\nWaves.\n")
    out = tmp_path / "signed.mp4"
    assert main(["film", str(script), "--out", str(out), "--height", "48", "--fps", "4", "--c2pa-cert", str(chain),
                 "--c2pa-key", str(key)]) == 0
    from reelgan.provenance.credentials import read_manifest

    manifest = read_manifest(out)
    assert manifest["validation_state"] in ("Valid", "Trusted")
    assert manifest["digital_source_types"] == [read_record(out)["digital_source_type"]]
    assert manifest["reelgan"]["kind"] == "animatic"
    assert read_video_frames(out).shape[0] > 0  # still a playable MP4
    capsys.readouterr()
    assert main(["verify", str(out)]) == 0
    assert "C2PA: manifest Valid (compositeSynthetic)" in capsys.readouterr().out


def test_a_signed_film_lists_its_shots_and_signs_every_companion(tmp_path, capsys, c2pa_certificate):
    from conftest import export_tiny_generator

    from reelgan.provenance.c2pa_formats import sidecar_path
    from reelgan.provenance.credentials import read_manifest

    chain, key = c2pa_certificate
    run = export_tiny_generator(tmp_path / "run")
    script = tmp_path / "s.fountain"
    script.write_text("EXT. SEA - DAY\n\nWaves break.\n\nMARA\nLook.\n")
    (tmp_path / "cast.toml").write_text(f'default = "{run}"\n')
    out = tmp_path / "signed.mp4"
    film = ["film", str(script), "--out", str(out), "--cast", str(tmp_path / "cast.toml"), "--height", "144",
            "--fps", "4", "--shots", "--no-progress"]
    assert main([*film, "--c2pa-cert", str(chain), "--c2pa-key", str(key), "--c2pa-training", "allowed"]) == 0
    manifest = read_manifest(out)
    assert manifest["validation_state"] in ("Valid", "Trusted")
    shot_files = sorted(out.with_suffix(".shots").glob("*.mp4"))
    assert len(shot_files) >= 3  # title card, the shot, the credits
    assert [i["title"] for i in manifest["ingredients"]] == [p.name for p in shot_files]
    assert {i["relationship"] for i in manifest["ingredients"]} == {"componentOf"}
    assert all(i["has_manifest"] and i["validation_state"] == "Valid" for i in manifest["ingredients"])
    assert manifest["watermark"]["version"] == 2 and set(manifest["training_mining"].values()) == {"allowed"}
    for shot in shot_files:
        assert read_manifest(shot)["validation_state"] in ("Valid", "Trusted")
    for name in ("signed.srt", "signed.otio", "signed.authorship.json"):  # sidecars, beside their files
        assert sidecar_path(tmp_path / name).is_file(), name
        assert read_manifest(tmp_path / name)["validation_state"] in ("Valid", "Trusted")
    assert read_manifest(tmp_path / "signed.sheet.png")["where"] == "embedded"
    capsys.readouterr()
    assert main(["verify", str(out), "--json"]) == 0
    checks = {f["check"]: f for f in json.loads(capsys.readouterr().out)["findings"]}
    assert checks["watermark"]["found"] and checks["C2PA"]["state"] == "passed"
    assert main([*film, "--overwrite", "--no-c2pa"]) == 0  # unsigned again: no stale manifest stays behind
    assert not sidecar_path(tmp_path / "signed.srt").exists() and read_manifest(out) is None
    (tmp_path / "bad-key.pem").write_text("-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n")
    assert main(["film", str(script), "--out", str(tmp_path / "x.mp4"), "--height", "48", "--fps", "4",
                 "--c2pa-cert", str(chain), "--c2pa-key", str(tmp_path / "bad-key.pem")]) == 2
    assert "C2PA certificate or key was refused" in capsys.readouterr().err
    assert not (tmp_path / "x.mp4").exists()
