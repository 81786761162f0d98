"""Per-shot media and editor timelines: `reelgan film --shots` writes FILM.shots/, and --export otioz, fcp7, edl."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reelgan.cli.main import main
from reelgan.media import read_video_frames
from reelgan.provenance import read_record

otio = pytest.importorskip("opentimelineio")

SCRIPT = """Title: Two Rooms

INT. LAB - NIGHT

A lamp flickers over a bench of glass.

ANNA
Is anyone there?

EXT. ROOF - DAWN

Wind pulls at a sheet of paper.

BEN
Only us.
"""
FILM = ["--height", "48", "--fps", "24", "--no-watermark"]


def adapters() -> set[str]:
    return {adapter.name for adapter in otio.plugins.ActiveManifest().adapters}


@pytest.fixture
def script(tmp_path) -> Path:
    (tmp_path / "two.fountain").write_text(SCRIPT)
    return tmp_path / "two.fountain"


def render(script: Path, *extra: str) -> dict:
    out = script.with_suffix(".mp4")
    assert main(["film", str(script), "--out", str(out), *FILM, *extra]) == 0
    return json.loads(out.with_suffix(".authorship.json").read_text())


def test_each_shot_is_its_own_file_and_the_timeline_points_at_them(script):
    record = render(script, "--shots")
    folder = script.with_name("two.shots")
    kinds = [s["kind"] for s in record["shots"]]
    mp4s = sorted(folder.glob("*.mp4"))
    assert [p.name for p in mp4s] == [f"{i:03d}-{kind}.mp4" for i, kind in enumerate(kinds)]
    assert sorted(p.name for p in folder.glob("*.png")) == [f"{i:03d}-{k}.png" for i, k in enumerate(kinds)
                                                            if k in ("title", "credits")]
    film = read_video_frames(script.with_suffix(".mp4"))
    timeline = otio.adapters.read_from_file(str(script.with_suffix(".otio")))
    clips = list(timeline.find_clips())
    assert len(clips) == len(kinds) and timeline.duration().to_frames() == len(film)
    total = 0
    for clip, mp4 in zip(clips, mp4s):
        target = script.parent / clip.media_reference.target_url
        assert target == mp4 and target.is_file()  # the reference resolves, relative to the .otio
        frames = read_video_frames(mp4)
        assert clip.media_reference.available_range.duration.to_frames() == len(frames)
        source = clip.source_range
        assert 0 <= source.start_time.to_frames() and source.end_time_exclusive().to_frames() <= len(frames)
        assert frames.shape[1:] == film.shape[1:]
        total += source.duration.to_frames()
        assert read_record(mp4)["ai_generated"] is True
    assert total == len(film)  # the shots, trimmed to the cut, add up to the film
    speech = [m for clip in clips for m in clip.markers]
    assert [m.name for m in speech] == ["ANNA: Is anyone there?", "BEN: Only us."]


def test_without_shots_one_mp4_and_clips_point_into_it(script):
    render(script)
    assert not script.with_name("two.shots").exists()
    timeline = otio.adapters.read_from_file(str(script.with_suffix(".otio")))
    assert {clip.media_reference.target_url for clip in timeline.find_clips()} == {"two.mp4"}


def test_the_otioz_bundle_carries_the_timeline_and_its_media(script, tmp_path):
    record = render(script, "--shots", "--export", "otioz")
    bundle = script.with_suffix(".otioz")
    extracted = tmp_path / "unpacked"
    extracted.mkdir()
    timeline = otio.adapters.read_from_file(str(bundle), extract_to_directory=str(extracted))
    clips = list(timeline.find_clips())
    assert len(clips) == len(record["shots"])
    for clip in clips:
        path = Path(otio.url_utils.filepath_from_url(clip.media_reference.target_url))
        assert path.parent.name == "media" and (extracted / path).is_file()  # relative to the unpacked bundle


@pytest.mark.skipif("fcp_xml" not in adapters() or "cmx_3600" not in adapters(),
                    reason="the editor adapters are not installed (pip install 'reelgan[nle]')")
def test_final_cut_xml_and_edl_read_back_with_their_adapters(script):
    record = render(script, "--shots", "--export", "fcp7,edl")
    ours = otio.adapters.read_from_file(str(script.with_suffix(".otio")))
    expected = [(c.name, c.source_range.duration.to_frames()) for c in ours.find_clips()]
    xml = otio.adapters.read_from_file(str(script.with_suffix(".xml")), adapter_name="fcp_xml")
    clips = list(xml.find_clips())
    assert [(c.name, c.source_range.duration.to_frames()) for c in clips] == expected
    assert sum(len(c.markers) for c in clips) == 2
    assert all(Path(otio.url_utils.filepath_from_url(c.media_reference.target_url)).is_file() for c in clips)
    edl = otio.adapters.read_from_file(str(script.with_suffix(".edl")), adapter_name="cmx_3600", rate=24)
    edl_clips = list(edl.find_clips())
    assert len(edl_clips) == len(record["shots"])
    assert edl.duration().to_frames() == ours.duration().to_frames()


@pytest.mark.parametrize("flags, message", [
    (["--export", "aaf"], "not a timeline format"),
    (["--export", "fcp7", "--fps", "8"], "frame rate timecode counts in"),
    (["--export", "otioz"], "bundles the per-shot media"),
])
def test_bad_exports_are_refused_before_anything_is_written(script, capsys, flags, message):
    if "fcp7" in flags and "fcp_xml" not in adapters():
        pytest.skip("the Final Cut adapter is not installed")
    assert main(["film", str(script), "--out", str(script.with_suffix(".mp4")), *FILM, *flags]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]
    assert sorted(p.name for p in script.parent.iterdir()) == ["two.fountain"]


def test_an_earlier_shots_folder_is_kept_unless_overwritten(script, capsys):
    render(script, "--shots")
    before = sorted(p.name for p in script.with_name("two.shots").iterdir())
    assert main(["film", str(script), "--out", str(script.with_suffix(".mp4")), *FILM, "--shots"]) == 2
    assert "already exists" in capsys.readouterr().err
    assert main(["film", str(script), "--out", str(script.with_suffix(".mp4")), *FILM, "--shots", "--overwrite"]) == 0
    assert sorted(p.name for p in script.with_name("two.shots").iterdir()) == before


def test_the_contact_sheet_pdf_has_real_text_and_captions_fit_their_cells(script):
    from PIL import ImageFont

    from reelgan.glyphs.sheet import wrap_pixels

    pypdf = pytest.importorskip("pypdf")
    render(script)
    reader = pypdf.PdfReader(str(script.with_name("two.sheet.pdf")))
    text = "".join(page.extract_text() for page in reader.pages)
    assert "INT. LAB - NIGHT" in text and "ANNA: Is anyone there?" in text  # text, not a picture of it
    assert "compositeSynthetic" in reader.metadata.subject or "machine-generated" in reader.metadata.subject
    face = ImageFont.load_default(size=12)
    long = "A caption with a-very-long-hyphenated-compound and Wwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwww letters"
    assert all(face.getlength(line) <= 240 for line in wrap_pixels(long, face, 240))
