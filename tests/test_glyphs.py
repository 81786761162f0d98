"""The glyph studio: phrase glyphs, style options, datasets, sheets and vector output from the CLI."""

import dataclasses
import zipfile

import numpy as np
import pytest
from PIL import Image

from reelgan.cli.main import main
from reelgan.config import DataConfig
from reelgan.data import build_dataset
from reelgan.data.logograms import LogogramStyle, compose_logogram, render_logogram
from reelgan.errors import ReelganError
from reelgan.glyphs.phrase import MAX_WORDS, MIN_SPACING, check_phrase, phrase_glyph, render_phrase
from reelgan.glyphs.procedural import style_from_options
from reelgan.provenance import read_record


def test_a_phrase_always_gives_the_same_glyph():
    a, b = render_phrase("we come in peace", 64), render_phrase("we come in peace", 64)
    assert a.shape == (64, 64) and a.dtype == np.uint8 and np.array_equal(a, b)
    assert not np.array_equal(a, render_phrase("we come in war", 64))
    # Case and punctuation do not make a different word.
    assert np.array_equal(a, render_phrase("We come, in PEACE!", 64))


def test_shared_words_share_features_in_the_same_place():
    peace, war = phrase_glyph("we come in peace"), phrase_glyph("we come in war")
    places = {seed: place for seed, place in war.features}
    shared = [(seed, place) for seed, place in peace.features if seed in places]
    assert len(shared) == 3  # we, come, in: the same feature seeds...
    for seed, place in shared:  # ...in the same place, give or take the nudge that keeps words apart
        assert abs(place - places[seed]) <= MIN_SPACING
    assert peace.ring_seed != war.ring_seed
    assert phrase_glyph("peace peace").words == ["peace"]  # a repeated word is drawn once


def test_a_feature_seed_draws_the_same_shape_on_any_ring():
    one = compose_logogram(1, [(42, 0.25)], LogogramStyle(inner_mark_probability=0, gap_probability=0))
    other = compose_logogram(2, [(42, 0.25)], LogogramStyle(inner_mark_probability=0, gap_probability=0))
    assert len(one.polygons) == len(other.polygons) >= 2  # the ring plus the same feature's shapes
    assert not np.allclose(one.polygons[0][:10], other.polygons[0][:10])  # different rings


def test_phrase_limits_are_clear_errors():
    with pytest.raises(ReelganError, match="no words"):
        check_phrase("  ,.! ")
    too_many = " ".join(f"word{i}" for i in range(MAX_WORDS + 1))
    with pytest.raises(ReelganError, match=f"at most {MAX_WORDS}"):
        check_phrase(too_many)
    with pytest.raises(ReelganError, match="at most 200"):
        check_phrase("a" * 201)


def test_style_options_set_and_check_the_generator():
    style = style_from_options("3-9", "0.03-0.05", "0.5-0.9", ["bleed=0", "gap_probability=0"])
    assert style.feature_count == (3, 9) and style.ring_thickness == (0.03, 0.05)
    assert style.ink_density == (0.5, 0.9) and style.bleed == 0 and style.gap_probability == 0
    for bad in (("9-3", None, None, []), (None, None, "0.5-2", []), (None, None, None, ["nonsense=1"]),
                ("x", None, None, [])):
        with pytest.raises(ReelganError):
            style_from_options(*bad)


def test_ink_texture_bleed_and_density_are_deterministic_settings():
    flat = LogogramStyle(ink_texture=0, bleed=0, ink_density=(1, 1), softness=0)
    crisp = render_logogram(5, 64, flat)
    assert crisp.min() == 0  # solid ink
    solid = render_logogram(5, 128, flat) == 0
    mottled = render_logogram(5, 128, dataclasses.replace(flat, ink_texture=0.5))
    assert mottled[solid].std() > 5 and mottled[solid].max() > 40  # the ink's darkness now varies
    small = render_logogram(5, 32, dataclasses.replace(flat, ink_texture=0.5))
    assert np.array_equal(small, render_logogram(5, 32, flat))  # no mottling at 32 px: too small to show
    pale = render_logogram(5, 64, dataclasses.replace(flat, ink_density=(0.5, 0.5)))
    assert 120 <= pale.min() <= 135  # half-dark ink
    bled = render_logogram(5, 64, dataclasses.replace(flat, bleed=0.02))
    assert (bled < 250).sum() > (crisp < 250).sum()  # ink soaked beyond the shapes
    assert np.array_equal(render_logogram(5, 64), render_logogram(5, 64))


def test_dataset_zip_is_read_by_training_and_matches_the_built_in_set(tmp_path):
    out = tmp_path / "glyphs.zip"
    assert main(["glyphs", "dataset", str(out), "--n", "6", "--size", "16"]) == 0
    with zipfile.ZipFile(out) as archive:
        names = archive.namelist()
        assert names == [f"{i:06d}.png" for i in range(6)]
        assert b'"n": 6' in archive.comment
    dataset = build_dataset(DataConfig(source=str(out), resolution=16, channels=1))
    builtin = build_dataset(DataConfig(source="logograms", resolution=16, channels=1, size=6))
    assert len(dataset) == 6
    for i in range(6):  # the same glyphs as the built-in set with the same seed
        assert np.allclose(dataset[i][0].numpy(), builtin[i][0].numpy(), atol=1e-6)
    assert main(["glyphs", "dataset", str(out), "--n", "6"]) == 2  # exists: refused, file kept
    assert main(["glyphs", "dataset", str(tmp_path / "x.tar"), "--n", "2"]) == 2
    assert main(["glyphs", "dataset", str(tmp_path / "y.zip"), "--size", "4000"]) == 2
    assert not (tmp_path / "y.zip").exists()


def test_write_sheet_and_vectorize_commands(tmp_path, capsys):
    png = tmp_path / "peace.png"
    assert main(["glyphs", "write", "we come in peace", "--size", "64", "--out", str(png)]) == 0
    record = read_record(png)
    assert record["phrase"] == "we come in peace" and record["digital_source_type"].endswith("algorithmicMedia")
    assert np.array_equal(np.asarray(Image.open(png)), render_phrase("we come in peace", 64))
    clear = tmp_path / "clear.png"
    assert main(["glyphs", "write", "peace", "--size", "64", "--transparent", "--out", str(clear)]) == 0
    assert Image.open(clear).mode == "RGBA"
    sheet = tmp_path / "sheet.png"
    assert main(["glyphs", "sheet", "--seeds", "0-3", "--cell", "32", "--out", str(sheet)]) == 0
    assert sheet.with_suffix(".pdf").read_bytes().startswith(b"%PDF")
    assert read_record(sheet)["seeds"] == [0, 1, 2, 3]
    vectors = tmp_path / "vectors"
    assert main(["glyphs", "vectorize", "logograms", "--seeds", "0,7", "--size", "64", "--out", str(vectors)]) == 0
    assert sorted(p.name for p in vectors.iterdir()) == ["seed000000.png", "seed000000.svg", "seed000007.png",
                                                         "seed000007.svg"]
    assert "<path" in (vectors / "seed000007.svg").read_text()
    capsys.readouterr()
    assert main(["glyphs", "write", "", "--out", str(tmp_path / "e.png")]) == 2
    assert "no words" in capsys.readouterr().err and not (tmp_path / "e.png").exists()
    assert main(["glyphs", "write", "peace", "--out", str(tmp_path / "x.jpg")]) == 2


def test_vectorize_images_pads_non_square_and_refuses_huge(tmp_path):
    folder = tmp_path / "mine"
    folder.mkdir()
    image = np.full((40, 80), 255, np.uint8)
    image[10:30, 20:60] = 0
    Image.fromarray(image).save(folder / "wide.png")
    assert main(["glyphs", "vectorize", str(folder), "--size", "64", "--out", str(tmp_path / "v")]) == 0
    assert Image.open(tmp_path / "v" / "wide.png").size == (64, 64)
    Image.new("L", (5000, 10), 255).save(folder / "huge.png")
    assert main(["glyphs", "vectorize", str(folder), "--out", str(tmp_path / "w")]) == 2


def test_images_over_the_pixel_limit_are_refused_not_a_traceback(tmp_path, monkeypatch):
    folder = tmp_path / "big"
    folder.mkdir()
    Image.new("L", (400, 400), 255).save(folder / "bomb.png")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)  # stands in for a decompression bomb
    assert main(["glyphs", "vectorize", str(folder), "--out", str(tmp_path / "v")]) == 2


def test_sheet_and_vectorize_from_a_trained_generator(tiny_config, tmp_path):
    from reelgan.training import train

    run = train(tiny_config(train={"steps": 1}), show_progress=False).run_dir
    sheet = tmp_path / "samples.png"
    assert main(["glyphs", "sheet", "--generator", str(run), "--seeds", "3,5", "--cell", "32",
                 "--out", str(sheet)]) == 0
    record = read_record(sheet)
    assert record["digital_source_type"].endswith("trainedAlgorithmicMedia") and record["seeds"] == [3, 5]
    out = tmp_path / "vectors"
    assert main(["glyphs", "vectorize", str(run), "--seeds", "2", "--size", "64", "--out", str(out)]) == 0
    assert read_record(out / "seed000002.png")["seed"] == 2


def test_rgba_and_rgb_samples_become_gray_glyphs_on_white():
    from reelgan.glyphs.sources import glyph_gray

    rgba = np.zeros((2, 2, 4), np.uint8)  # black ink; alpha 0 (paper) and 255 (ink)
    rgba[0, 0, 3], rgba[1, 1, 3] = 0, 255
    gray = glyph_gray(rgba)
    assert gray[0, 0] == 255 and gray[1, 1] == 0
    assert glyph_gray(np.full((2, 2, 3), 200, np.uint8)).tolist() == [[200, 200], [200, 200]]


def test_sheet_refuses_options_that_would_be_ignored(tmp_path):
    out = str(tmp_path / "s.png")
    assert main(["glyphs", "sheet", "--phrase", "peace", "--generator", "runs/x", "--out", out]) == 2
    assert main(["glyphs", "sheet", "--generator", "runs/x", "--features", "2-3", "--out", out]) == 2
    assert not (tmp_path / "s.png").exists()
