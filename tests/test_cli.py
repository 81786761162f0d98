"""The command line, run in-process through its entry point."""

import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from reelgan.cli.main import main
from reelgan.media import read_video_frames
from reelgan.provenance import TRAINED_ALGORITHMIC_MEDIA, read_record
from reelgan.training import load_checkpoint

TINY = ["--data", "logograms", "--resolution", "16", "--data-size", "24", "--g-width", "8", "--d-width", "8",
        "--max-width", "16", "--latent-dim", "16", "--batch", "4", "--n-critic", "1", "--log-every", "2",
        "--sample-every", "2", "--checkpoint-every", "2", "--grid-size", "4", "--device", "cpu", "--no-progress"]


@pytest.fixture
def trained_run(tmp_path):
    assert main(["train", *TINY, "--steps", "2", "--out", str(tmp_path / "runs")]) == 0
    return next((tmp_path / "runs").iterdir())


def error_line(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err  # one clear line, no traceback
    return err


def test_train_writes_a_run_and_resume_continues_it(tmp_path, trained_run, capsys, caplog):
    caplog.set_level("INFO", logger="reelgan")
    assert main(["train", "--resume", str(trained_run), "--steps", "4", "--no-progress"]) == 0
    assert f"run folder: {trained_run} (step 2 of 4)" in caplog.text
    assert load_checkpoint(trained_run / "checkpoints" / "latest.pt")["step"] == 4
    assert "trained to step 4" in capsys.readouterr().out


def test_resume_latest_uses_the_newest_run(tmp_path, trained_run):
    assert main(["train", "--resume", "latest", "--out", str(tmp_path / "runs"), "--steps", "3",
                 "--no-progress"]) == 0
    assert load_checkpoint(trained_run / "checkpoints" / "latest.pt")["step"] == 3


def test_resume_refuses_to_change_the_model(trained_run, capsys):
    assert main(["train", "--resume", str(trained_run), "--resolution", "32", "--no-progress"]) == 2
    assert "cannot change data.resolution when resuming" in error_line(capsys)


def test_dry_run_prints_the_resolved_config_and_writes_nothing(tmp_path, capsys):
    toml = tmp_path / "run.toml"
    toml.write_text("[loss]\nkind = 'hinge'\n[train]\nsteps = 7\n")
    assert main(["train", "--config", str(toml), "--preset", "paper", "--steps", "9", "--lr", "3e-4",
                 "--betas", "0.5,0.99", "--out", str(tmp_path / "runs"), "--dry-run"]) == 0
    config = json.loads(capsys.readouterr().out)
    assert config["loss"]["kind"] == "hinge" and config["train"]["steps"] == 9
    assert config["train"]["n_critic"] == 5 and config["train"]["lr_d"] == 3e-4
    assert config["train"]["beta1"] == 0.5 and config["data"]["resolution"] == 32
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize("argv, standing", [(["--no-standing-stats"], False), ([], True),
                                            (["--preset", "paper"], False),
                                            (["--preset", "paper", "--standing-stats"], True)])
def test_standing_stats_flag_and_the_paper_preset(capsys, argv, standing):
    assert main(["train", *argv, "--dry-run"]) == 0
    assert json.loads(capsys.readouterr().out)["train"]["standing_stats"] is standing


@pytest.mark.parametrize("argv, message", [
    (["train", "--data", "/no/such/folder"], "does not exist"),
    (["train", "--resolution", "48"], "power of two"),
    (["train", "--resolution", "abc"], "invalid int value"),
    (["train", "--loss", "magic"], "loss must be one of"),
    (["train", "--betas", "0.5"], "--betas must be two numbers"),
    (["train", "--resume", "/no/such/run"], "not found"),
    (["generate", "/no/such/run"], "not found"),
    (["train", "--bogus-flag"], "unrecognized arguments"),
    (["interpolate", "x", "--frames", "many"], "invalid int value"),
])
def test_bad_input_is_one_line_and_exit_status_2(tmp_path, capsys, monkeypatch, argv, message):
    monkeypatch.chdir(tmp_path)  # the default --out is ./runs: nothing may appear there
    assert main(argv) == 2
    assert message in error_line(capsys)
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize("kind", ["empty", "no-images"])
def test_unusable_folders_exit_2(tmp_path, capsys, kind):
    folder = tmp_path / "data"
    folder.mkdir()
    if kind == "no-images":
        (folder / "readme.txt").write_text("hi")
    assert main(["train", *TINY, "--data", str(folder), "--out", str(tmp_path / "runs")]) == 2
    assert ("is empty" if kind == "empty" else "has no images") in error_line(capsys)
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


def test_corrupt_image_is_skipped_and_training_goes_on(tmp_path, caplog):
    folder = tmp_path / "data"
    folder.mkdir()
    for i in range(4):
        Image.new("L", (20, 20), i * 60).save(folder / f"{i}.png")
    (folder / "bad.png").write_bytes(b"\x89PNG broken")
    assert main(["train", *TINY, "--data", str(folder), "--steps", "2", "--out", str(tmp_path / "runs")]) == 0
    assert "skipped 1 image file(s)" in caplog.text and "1 not a readable image" in caplog.text


def test_generate_images_and_grid_carry_ai_metadata(tmp_path, trained_run):
    out = tmp_path / "gen"
    assert main(["generate", str(trained_run), "--n", "3", "--seed", "5", "--out", str(out)]) == 0
    files = sorted(out.iterdir())
    assert [f.name for f in files] == ["seed000005.png", "seed000006.png", "seed000007.png"]
    record = read_record(files[1])
    assert record["digital_source_type"] == TRAINED_ALGORITHMIC_MEDIA and record["seed"] == 6
    assert record["generator_hash"] and record["reelgan_version"]
    grid = tmp_path / "grid.png"
    assert main(["generate", str(trained_run), "--n", "4", "--grid", "--size", "64", "--out", str(grid)]) == 0
    assert max(Image.open(grid).size) == 64 and read_record(grid)["ai_generated"] is True


def test_same_seed_same_image_from_run_checkpoint_and_export(tmp_path, trained_run):
    assert main(["export", str(trained_run), "--out", str(tmp_path / "share")]) == 0
    sources = [trained_run, trained_run / "checkpoints" / "latest.pt", tmp_path / "share" / "generator.safetensors"]
    pixels = []
    for i, source in enumerate(sources):
        out = tmp_path / f"g{i}"
        assert main(["generate", str(source), "--n", "2", "--seed", "9", "--out", str(out)]) == 0
        pixels.append(np.asarray(Image.open(out / "seed000009.png")))
    assert np.array_equal(pixels[0], pixels[1]) and np.array_equal(pixels[0], pixels[2])


def test_outputs_are_never_overwritten_without_asking(tmp_path, trained_run, capsys):
    grid = tmp_path / "grid.png"
    grid.write_bytes(b"precious")
    assert main(["generate", str(trained_run), "--grid", "--out", str(grid)]) == 2
    assert "already exists" in error_line(capsys) and grid.read_bytes() == b"precious"
    assert main(["generate", str(trained_run), "--grid", "--out", str(grid), "--overwrite"]) == 0


@pytest.mark.parametrize("suffix", [".mp4", ".gif"])
def test_interpolate_writes_a_labelled_video(tmp_path, trained_run, suffix):
    out = tmp_path / f"walk{suffix}"
    assert main(["interpolate", str(trained_run), "--seeds", "1,2,3", "--frames", "4", "--size", "32",
                 "--out", str(out)]) == 0
    record = read_record(out)
    assert record["digital_source_type"] == TRAINED_ALGORITHMIC_MEDIA and record["seeds"] == [1, 2, 3]
    if suffix == ".mp4":
        frames = read_video_frames(out)
        assert frames.shape == (2 * 4 + 1, 32, 32, 3)
    else:
        gif = Image.open(out)
        durations = []
        for index in range(gif.n_frames):  # identical frames may be merged into longer ones
            gif.seek(index)
            durations.append(gif.info["duration"])
        assert sum(durations) == pytest.approx(9 * 1000 / 24, abs=9 * 10)


def test_interpolate_errors(tmp_path, trained_run, capsys):
    assert main(["interpolate", str(trained_run), "--seeds", "1", "--out", str(tmp_path / "a.mp4")]) == 2
    assert "at least two seeds" in error_line(capsys)
    assert main(["interpolate", str(trained_run), "--out", str(tmp_path / "a.avi")]) == 2
    assert ".mp4 or .gif" in error_line(capsys)
    assert not (tmp_path / "a.mp4").exists()


def test_every_command_has_help_with_an_example(capsys):
    for command in ("train", "generate", "interpolate", "export", "demo", "metrics", "plot", "audit", "glyphs",
                    "script", "film", "verify"):
        assert main([command, "--help"]) == 0
        out = capsys.readouterr().out
        assert "examples:" in out and f"reelgan {command}" in out


def test_demo_trains_and_writes_grid_and_morph(tmp_path, capsys, monkeypatch):
    from reelgan import demo

    monkeypatch.setattr(demo, "DEMO_OVERRIDES", {  # the demo's model, shrunk to test size
        "data": {"size": 24, "resolution": 16}, "net": {"g_width": 8, "d_width": 8, "max_width": 16},
        "train": {"batch": 4, "grid_size": 4}})
    monkeypatch.setattr(demo, "DEMO_FILM", {"width": 64, "height": 36, "fps": 4, "soft_subtitles": True})
    assert main(["demo", "--steps", "2", "--out", str(tmp_path / "runs"), "--no-progress", "--device", "cpu"]) == 0
    run_dir = next((tmp_path / "runs").iterdir())
    assert read_record(run_dir / "samples.png")["ai_generated"] is True
    assert read_video_frames(run_dir / "morph.mp4").shape[0] == 6 * 36
    animatic = read_video_frames(run_dir / "animatic.mp4")
    assert animatic.shape[1:3] == (36, 64)
    assert read_record(run_dir / "animatic.mp4")["digital_source_type"].endswith("compositeWithTrainedAlgorithmicMedia")
    assert "LOUISE: That there is no time." in (run_dir / "animatic.srt").read_text()
    out = capsys.readouterr().out
    assert str(run_dir) in out
    assert "warning: only 2 steps" in out  # two steps are not worth showing, and the demo says so
    continued = demo.DEMO_VARIETY_STEPS + 1000
    assert f"reelgan train --resume {run_dir} --steps {continued}" in out  # and how to continue for more variety
    config = json.loads((run_dir / "config.json").read_text())
    assert config["train"]["ema_kimg"] == demo.DEMO_RECIPE["train"]["ema_kimg"]  # the demo's short average


def test_demo_trains_the_default_with_its_batch_and_average():
    from reelgan import demo
    from reelgan.config import build_config

    config, default = demo.demo_config(), build_config()
    assert (config.train.batch, config.train.ema_kimg) == (32, 0.5)
    assert (config.train.max_minutes, config.train.steps) == (demo.DEMO_MINUTES, demo.DEMO_STEPS)
    assert (config.data.source, config.data.resolution, config.data.channels) == ("logograms", 32, 1)
    assert (config.loss, config.net) == (default.loss, default.net)  # otherwise the default recipe
    assert (config.train.lr_g, config.train.lr_d, config.train.n_critic) == (default.train.lr_g, default.train.lr_d,
                                                                            default.train.n_critic)


def test_resume_with_lr_decay_refuses_a_new_step_count(tmp_path, capsys):
    assert main(["train", *TINY, "--lr-decay", "--steps", "2", "--out", str(tmp_path / "runs")]) == 0
    run_dir = next((tmp_path / "runs").iterdir())
    assert main(["train", "--resume", str(run_dir), "--steps", "4", "--no-progress"]) == 2
    assert "--lr-decay" in error_line(capsys)


def test_resume_latest_accepts_any_spelling_of_out(tmp_path, trained_run, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["train", "--resume", "latest", "--out", "./runs/", "--steps", "3", "--no-progress"]) == 0
    assert load_checkpoint(trained_run / "checkpoints" / "latest.pt")["step"] == 3


def test_switches_can_be_turned_off_over_a_toml_file(tmp_path, capsys):
    toml = tmp_path / "run.toml"
    toml.write_text("[data]\nxflip = true\n[train]\nlr_decay = true\n")
    assert main(["train", "--config", str(toml), "--no-xflip", "--dry-run"]) == 0
    config = json.loads(capsys.readouterr().out)
    assert config["data"]["xflip"] is False and config["train"]["lr_decay"] is True


def test_generate_device_auto_and_bad_devices(tmp_path, trained_run, capsys):
    assert main(["generate", str(trained_run), "--n", "1", "--device", "auto", "--out", str(tmp_path / "a")]) == 0
    assert main(["generate", str(trained_run), "--device", "tpu", "--out", str(tmp_path / "b")]) == 2
    assert "--device must be one of" in error_line(capsys)
    assert main(["generate", str(trained_run), "--size", "0", "--out", str(tmp_path / "c")]) == 2
    assert "--size must be at least 1" in error_line(capsys)


def test_failed_interpolation_leaves_no_folder(tmp_path, trained_run, capsys):
    out = tmp_path / "new" / "walk.mp4"
    assert main(["interpolate", str(trained_run), "--frames", "0", "--out", str(out)]) == 2
    assert "--frames must be at least 1" in error_line(capsys)
    assert not (tmp_path / "new").exists()


def test_the_cli_shows_reelgan_messages_and_only_warnings_of_other_libraries():
    # A fresh machine's first plot logs matplotlib's "generated new fontManager" at INFO: not for the user.
    code = ("import logging; from reelgan.cli.main import main; main(['--version']); "
            "logging.getLogger('matplotlib.font_manager').info('font cache built'); "
            "logging.getLogger('matplotlib').warning('a real warning'); "
            "logging.getLogger('reelgan.training').info('training 12 images')")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.stderr.split("\n")[:2] == ["a real warning", "training 12 images"]
    assert "font cache" not in done.stderr
