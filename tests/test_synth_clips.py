"""Synthetic clip datasets: `reelgan synth export` of a clip generator as MP4s, frame folders or npz, with the
same labels, card and records as images; resumable and deterministic."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import av
import numpy as np
import pytest
import torch
from conftest import TINY_CLIP_SPEC, export_tiny_generator, tiny_generator_spec
from PIL import Image

from reelgan.cli.main import main
from reelgan.errors import ReelganError
from reelgan.gan.generator import Generator, build_from_spec
from reelgan.provenance import read_record
from reelgan.synth import ExportSettings, export_synthetic

FRAMES = TINY_CLIP_SPEC["frames"]


def clip_generator() -> Generator:
    spec = tiny_generator_spec(**TINY_CLIP_SPEC)
    torch.manual_seed(0)
    return Generator(build_from_spec(spec), spec)


def export(G: Generator, out: Path, **settings) -> dict:
    return export_synthetic(G, out, ExportSettings(**{"batch": 2, **settings}), show_progress=False)


def labels(out: Path) -> list[dict]:
    with open(out / "labels.csv", newline="") as f:
        return list(csv.DictReader(f))


def decoded(path: Path) -> np.ndarray:
    with av.open(str(path)) as container:
        return np.stack([f.to_ndarray(format="rgb24") for f in container.decode(video=0)])


def test_mp4_layout_writes_one_labelled_clip_per_sample(tmp_path):
    out = tmp_path / "clips"
    summary = export(clip_generator(), out, layout="mp4", n=3, fps=6)
    assert summary["images"] == 3
    files = sorted((out / "samples").iterdir())
    assert [f.name for f in files] == ["000000.mp4", "000001.mp4", "000002.mp4"]
    for row, file in zip(labels(out), files):
        assert row["file"] == f"samples/{file.name}" and row["class"] == ""
        assert read_record(file)["seed"] == int(row["seed"])
        frames = decoded(file)
        assert frames.shape[0] == FRAMES and frames.shape[1:3] == (16, 16)
        assert frames.std() > 0  # a real clip, not a blank one
        with av.open(str(file)) as container:
            assert container.streams.video[0].average_rate == 6
    card = (out / "README.md").read_text()
    assert "3 clips of 8 frames of 16 x 16 px" in card and "video-classification" in card
    assert "Every clip in this set is AI-generated" in card


def test_frames_layout_matches_the_npz_layout_and_repeats(tmp_path):
    G = clip_generator()
    export(G, tmp_path / "frames", layout="frames", n=3)
    export(G, tmp_path / "npz", layout="npz", n=3, shard_size=2)
    folder = tmp_path / "frames" / "samples" / "000001"
    names = sorted(p.name for p in folder.iterdir())
    assert names == [f"frame-{t:03d}.png" for t in range(FRAMES)]
    from_frames = np.stack([np.asarray(Image.open(folder / name)) for name in names])
    part = np.load(tmp_path / "npz" / "part-00000.npz")
    assert part["images"].shape == (2, FRAMES, 16, 16, 1)
    assert np.array_equal(from_frames, part["images"][1, ..., 0])  # the same clip either way
    assert read_record(folder / "frame-003.png")["frame"] == 3
    assert labels(tmp_path / "frames")[1]["file"] == "samples/000001/"
    export(G, tmp_path / "again", layout="frames", n=3)
    again = np.stack([np.asarray(Image.open(tmp_path / "again" / "samples" / "000001" / n)) for n in names])
    assert np.array_equal(again, from_frames)


def test_an_interrupted_clip_export_continues(tmp_path, monkeypatch):
    G = clip_generator()
    export(G, tmp_path / "whole", layout="mp4", n=5)
    import reelgan.synth.layouts as layouts

    real_save, calls = layouts.save_png, []

    def interrupted(path, image, record):
        calls.append(path)
        if len(calls) == FRAMES * 3 + 2:  # the middle of the fourth clip, in the second unit
            raise KeyboardInterrupt
        real_save(path, image, record)

    monkeypatch.setattr(layouts, "save_png", interrupted)
    with pytest.raises(KeyboardInterrupt):
        export(G, tmp_path / "split", layout="frames", n=5)
    monkeypatch.setattr(layouts, "save_png", real_save)
    partial = tmp_path / "split" / "samples"
    assert sorted(p.name for p in partial.iterdir() if not p.name.startswith(".")) == ["000000", "000001", "000002"]
    summary = export(G, tmp_path / "split", layout="frames", n=5)
    assert summary["resumed_from_unit"] == 1
    assert sorted(p.name for p in partial.iterdir()) == [f"{k:06d}" for k in range(5)]
    whole = [row["seed"] for row in labels(tmp_path / "whole")]
    assert [row["seed"] for row in labels(tmp_path / "split")] == whole


def test_clip_layouts_and_copy_rejection_are_refused_where_they_do_not_fit(tmp_path):
    G = clip_generator()
    with pytest.raises(ReelganError, match="this is a clip generator: export with --layout mp4, frames, npz"):
        export(G, tmp_path / "a", layout="imagefolder", n=2)
    with pytest.raises(ReelganError, match="--reject-copies compares images"):
        export(G, tmp_path / "b", layout="mp4", n=2, reject_copies=True, real="logograms")
    image_generator = Generator(build_from_spec(tiny_generator_spec()), tiny_generator_spec())
    with pytest.raises(ReelganError, match="--layout mp4 is for clip generators"):
        export(image_generator, tmp_path / "c", layout="mp4", n=2)
    assert not any((tmp_path / name).exists() for name in "abc")


def test_the_cli_exports_clips_as_mp4_by_default(tmp_path, capsys):
    run = export_tiny_generator(tmp_path / "run", **TINY_CLIP_SPEC)
    out = tmp_path / "set"
    assert main(["synth", "export", str(run), "--out", str(out), "--n", "2", "--no-progress"]) == 0
    assert "wrote 2 clips" in capsys.readouterr().out
    assert sorted(p.name for p in (out / "samples").iterdir()) == ["000000.mp4", "000001.mp4"]
    assert main(["verify", str(out / "samples" / "000000.mp4"), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["declared"] is True
