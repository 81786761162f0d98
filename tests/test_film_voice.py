"""Temp dialogue: `reelgan film --voice` speaks every cue with espeak-ng, times cues and shots by the speech,
and writes an AAC track, one WAV per cue, an audio track on the timeline and the records that declare it."""

from __future__ import annotations

import importlib.util
import json
import sys
import wave
from pathlib import Path

import av
import numpy as np
import pytest

from reelgan.cli.main import main
from reelgan.film.plan import SPEECH_PAUSE, Subtitle, Timing, frame_at, plan_film
from reelgan.film.voice import NARRATOR, VARIANTS, cast_voices, line_name
from reelgan.provenance import read_record
from reelgan.script.fountain import parse

needs_engine = pytest.mark.skipif(importlib.util.find_spec("espeakng_loader") is None,
                                  reason="espeakng-loader is not installed (pip install 'reelgan[voice]')")

SCRIPT = """Title: Two Voices

INT. KITCHEN - NIGHT

Rain on the window.

MARA
He said he would come back.

TOM
I did come back, and I brought the boat.

EXT. HARBOUR - DAWN

Boats knock together in the swell.

MARA
Then stay this time.
"""
FPS = 24
FILM = ["--height", "48", "--fps", str(FPS), "--no-watermark", "--no-progress"]
FAST_READING = ["--words-per-second", "6"]  # reading time shorter than the speech, so cues must stretch


def render(folder: Path, *extra: str) -> tuple[Path, dict]:
    """Render SCRIPT with --voice into `folder`; the MP4 and its authorship record."""
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / "two.fountain"
    script.write_text(SCRIPT)
    out = folder / "two.mp4"
    assert main(["film", str(script), "--out", str(out), *FILM, "--voice", *extra]) == 0
    return out, json.loads(out.with_suffix(".authorship.json").read_text())


@pytest.fixture(scope="module")
def voiced(tmp_path_factory) -> tuple[Path, dict]:
    return render(tmp_path_factory.mktemp("voiced"), *FAST_READING)


def cues(record: dict) -> list[dict]:
    return [cue for shot in record["shots"] for cue in shot["subtitles"]]


def audio_of(mp4: Path) -> tuple[np.ndarray, int, float, float]:
    """The decoded audio (float32 mono), its rate in Hz, and the audio and video streams' durations in s."""
    with av.open(str(mp4)) as container:
        video, audio = container.streams.video[0], container.streams.audio[0]
        assert audio.codec_context.name == "aac"
        video_s = video.frames / FPS
        rate = audio.rate
        samples = np.concatenate([frame.to_ndarray()[0] for frame in container.decode(audio)])
    return samples.astype(np.float32), rate, len(samples) / rate, video_s


def wav_samples(path: Path) -> tuple[np.ndarray, int]:
    with wave.open(str(path)) as wav:
        data = np.frombuffer(wav.readframes(wav.getnframes()), "<i2")
        return data.astype(np.float32) / 32768, wav.getframerate()


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(x.astype(np.float64) ** 2)))


# --- planning (no engine needed) -------------------------------------------------------------------


def test_speech_longer_than_reading_time_stretches_its_cue_and_shot():
    screenplay = parse(SCRIPT)
    plain = plan_film(screenplay, Timing())
    assert plan_film(screenplay, Timing(), speech_seconds=lambda speaker, text: 0.0)[-1].end == \
        pytest.approx(plain[-1].end)  # short speech: reading time rules
    slow = plan_film(screenplay, Timing(), speech_seconds=lambda speaker, text: 9.0)
    for shot in slow:
        for cue in shot.subtitles:
            assert cue.end - cue.start >= 9.0 + SPEECH_PAUSE - 1e-3
            assert shot.start - 1e-3 <= cue.start and cue.end <= shot.end + 1e-3
    assert slow[-1].end > plain[-1].end + 15  # three cues of 9.3 s where reading took about 7 s


def test_voices_are_cast_by_name_not_by_order_and_differ():
    cast = cast_voices(["TOM", "MARA", "NARRATOR", "MARA"])
    assert cast == cast_voices(["NARRATOR", "MARA", "TOM"])
    assert cast["NARRATOR"] == NARRATOR and cast["MARA"].variant != cast["TOM"].variant
    crowd = cast_voices([f"EXTRA {n}" for n in range(12)])
    assert len(set(crowd.values())) == 12 and len({v.variant for v in crowd.values()}) == len(VARIANTS)


def test_line_files_are_named_by_cue_and_speaker():
    assert line_name(3, "MRS. O'NEIL") == "003-MRS-O-NEIL.wav"
    assert line_name(12, "JOSÉ") == "012-JOSE.wav"
    assert line_name(0, "…") == "000-SPEAKER.wav"


# --- a voiced render -------------------------------------------------------------------------------


@needs_engine
def test_the_mp4_has_an_aac_track_as_long_as_the_picture(voiced):
    mp4, _ = voiced
    samples, rate, audio_s, video_s = audio_of(mp4)
    assert rate == 48_000
    assert abs(audio_s - video_s) <= 1 / FPS
    assert np.abs(samples).max() <= 1.0


@needs_engine
def test_speech_is_heard_where_the_subtitles_say_over_quiet_room_tone(voiced):
    mp4, record = voiced
    samples, rate, _, _ = audio_of(mp4)
    spoken = np.zeros(len(samples), bool)
    for cue in cues(record):
        spoken[round(cue["start"] * rate):round(cue["end"] * rate)] = True
    quiet = rms(samples[~spoken])
    assert 10 ** (-60 / 20) < quiet < 10 ** (-40 / 20)  # room tone: there, but about -50 dBFS
    for cue in cues(record):
        window = samples[round(cue["start"] * rate):round((cue["start"] + 0.6) * rate)]
        assert rms(window) > 10 * quiet, cue["text"]  # at least 20 dB above the room tone


@needs_engine
def test_each_cue_and_shot_lasts_at_least_its_speech(voiced):
    mp4, record = voiced
    folder = mp4.with_suffix(".voice")
    all_cues = cues(record)
    wavs = sorted(folder.glob("*.wav"))
    assert [p.name for p in wavs] == [f"{i:03d}-{c['speaker']}.wav" for i, c in enumerate(all_cues)]
    seconds = iter(len(data) / rate for data, rate in map(wav_samples, wavs))
    for shot in record["shots"]:
        speech = [next(seconds) for _ in shot["subtitles"]]
        for cue, said in zip(shot["subtitles"], speech):
            assert cue["end"] - cue["start"] >= said + SPEECH_PAUSE - 2e-3
        assert shot["duration"] >= sum(speech)
    reading = [len(cue["text"].split()) / 6 for cue in all_cues]
    assert any(cue["end"] - cue["start"] > max(1.5, words) + 0.1 for cue, words in zip(all_cues, reading))


@needs_engine
def test_the_timeline_has_an_audio_clip_at_each_cue(voiced):
    otio = pytest.importorskip("opentimelineio")
    mp4, record = voiced
    timeline = otio.adapters.read_from_file(str(mp4.with_suffix(".otio")))
    assert [t.kind for t in timeline.tracks] == [otio.schema.TrackKind.Video, otio.schema.TrackKind.Audio]
    audio = timeline.tracks[1]
    clips = [item for item in audio if isinstance(item, otio.schema.Clip)]
    all_cues = cues(record)
    assert len(clips) == len(all_cues)
    for index, (clip, cue) in enumerate(zip(clips, all_cues)):
        start = clip.range_in_parent().start_time.to_frames()
        assert abs(start - frame_at(cue["start"], FPS)) <= 1
        assert clip.media_reference.target_url == f"two.voice/{index:03d}-{cue['speaker']}.wav"
        assert (mp4.parent / clip.media_reference.target_url).is_file()
    assert audio.duration().to_frames() == timeline.tracks[0].duration().to_frames()


@needs_engine
def test_a_character_keeps_one_voice_and_characters_differ(voiced):
    _, record = voiced
    voice = {}
    for cue in cues(record):
        voice.setdefault(cue["speaker"], set()).add(cue["voiced_by"]["voice"])
    assert voice["MARA"] and len(voice["MARA"]) == 1 and len(voice["TOM"]) == 1
    assert voice["MARA"] != voice["TOM"]
    scenes = {shot["scene"] for shot in record["shots"] if any(c["speaker"] == "MARA" for c in shot["subtitles"])}
    assert scenes == {1, 2}


@needs_engine
def test_the_records_declare_the_synthetic_speech(voiced):
    mp4, record = voiced
    for cue in cues(record):
        assert cue["voiced_by"]["engine"] == "espeak-ng" and cue["voiced_by"]["kind"] == "algorithmic"
        assert cue["voiced_by"]["version"]
    assert record["voice"]["digital_source_type"].endswith("/algorithmicMedia")
    assert "synthesised" in record["voice"]["note"]
    assert set(record["voice"]["voices"]) == {"MARA", "TOM"}
    embedded = read_record(mp4)
    assert embedded["synthetic_speech"]["engine"] == "espeak-ng"
    assert embedded["synthetic_speech"]["lines"] == len(cues(record))
    assert any("synthetic voices" in line and "espeak-ng" in line for line in record["credits"])
    first = sorted(mp4.with_suffix(".voice").glob("*.wav"))[0].read_bytes()
    assert b"ICMT" in first and b"algorithmicMedia" in first and b'"ai_generated":true' in first


@needs_engine
def test_rendering_again_gives_the_same_audio(voiced, tmp_path):
    mp4, _ = voiced
    again, _ = render(tmp_path / "again", *FAST_READING)
    for first, second in zip(sorted(mp4.with_suffix(".voice").glob("*.wav")),
                             sorted(again.with_suffix(".voice").glob("*.wav"))):
        assert first.read_bytes() == second.read_bytes()
    assert np.array_equal(audio_of(mp4)[0], audio_of(again)[0])


@needs_engine
def test_editor_exports_carry_the_audio_track(tmp_path):
    otio = pytest.importorskip("opentimelineio")
    if not {"fcp_xml"} <= {a.name for a in otio.plugins.ActiveManifest().adapters}:
        pytest.skip("otio-fcp-adapter is not installed")
    mp4, record = render(tmp_path, "--shots", "--export", "otioz,fcp7")
    xml = otio.adapters.read_from_file(str(mp4.with_suffix(".xml")))
    assert len(xml.audio_tracks()) == 1
    assert len(list(xml.audio_tracks()[0].find_clips())) == len(cues(record))
    import zipfile

    with zipfile.ZipFile(mp4.with_suffix(".otioz")) as bundle:
        assert sum(name.endswith(".wav") for name in bundle.namelist()) == len(cues(record))


IN_PROCESS = """
import os, sys
from reelgan.film import voice
engine = voice.load_engine()
forked = engine.speak("Then stay this time.", voice.NARRATOR)
del os.fork  # as on Windows
here = engine.speak("Then stay this time.", voice.NARRATOR)
sys.exit(0 if here.dtype == "int16" and abs(len(here) - len(forked)) < engine.rate // 10 else 1)
"""


@needs_engine
def test_lines_are_spoken_in_process_where_there_is_no_fork():
    # in a process of its own: speaking in this one would change the library's state for later renders
    import subprocess

    assert subprocess.run([sys.executable, "-c", IN_PROCESS], timeout=120).returncode == 0


@needs_engine
def test_each_line_is_resampled_to_the_mix_rate(voiced):
    from reelgan.film import voice

    engine = voice.load_engine()
    dialogue = voice.Dialogue(engine, ["MARA"])
    cue = cues(voiced[1])[0]
    spoken = dialogue.speech("MARA", cue["text"])
    mixed = dialogue.line(Subtitle(cue["start"], cue["end"], "MARA", cue["text"]))
    assert mixed.dtype == np.float32 and abs(len(mixed) - len(spoken) * 48_000 / engine.rate) < 64


def test_without_voice_the_film_stays_silent(tmp_path):
    script = tmp_path / "two.fountain"
    script.write_text(SCRIPT)
    assert main(["film", str(script), "--out", str(tmp_path / "two.mp4"), *FILM]) == 0
    with av.open(str(tmp_path / "two.mp4")) as container:
        assert not container.streams.audio
    record = json.loads((tmp_path / "two.authorship.json").read_text())
    assert "voice" not in record and "synthetic_speech" not in record["provenance"]
    assert not (tmp_path / "two.voice").exists()
    assert all("voiced_by" not in cue for cue in cues(record))
    assert not any("voice" in line for line in record["credits"])


# --- bad input ---------------------------------------------------------------------------------------


def test_voice_without_the_engine_fails_before_writing_anything(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "espeakng_loader", None)  # import espeakng_loader now raises ImportError
    script = tmp_path / "two.fountain"
    script.write_text(SCRIPT)
    out = tmp_path / "films" / "two.mp4"
    assert main(["film", str(script), "--out", str(out), *FILM, "--voice"]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        "error: --voice needs the espeakng-loader package; install it with pip install 'reelgan[voice]'"]
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["two.fountain"]


def test_voice_without_the_engine_fails_a_dry_run_too(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "espeakng_loader", None)
    script = tmp_path / "two.fountain"
    script.write_text(SCRIPT)
    assert main(["film", str(script), "--out", str(tmp_path / "two.mp4"), "--voice", "--dry-run"]) == 2
    assert "espeakng-loader" in capsys.readouterr().err


@needs_engine
def test_an_earlier_voice_folder_is_kept_unless_overwritten(tmp_path, capsys):
    (tmp_path / "two.voice").mkdir()
    (tmp_path / "two.voice" / "mine.wav").write_bytes(b"x")
    script = tmp_path / "two.fountain"
    script.write_text(SCRIPT)
    assert main(["film", str(script), "--out", str(tmp_path / "two.mp4"), *FILM, "--voice"]) == 2
    assert "two.voice" in capsys.readouterr().err and not (tmp_path / "two.mp4").exists()
    assert (tmp_path / "two.voice" / "mine.wav").exists()
