"""What the README's promises section guarantees: one writer per run, clean-up after kills, a full disk and
Ctrl-C in one line, runs that never checkpointed leave nothing (or resume from step 0), typed configs."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys

import pytest
import torch

from reelgan.cli.main import main
from reelgan.config import build_config
from reelgan.errors import ReelganError
from reelgan.paths import output_file, remove_stale_temps, short_name
from reelgan.training import load_checkpoint
from reelgan.training.rundir import RunLock

TINY = ["--data", "logograms", "--resolution", "16", "--data-size", "24", "--g-width", "8", "--d-width", "8",
        "--max-width", "16", "--latent-dim", "16", "--batch", "4", "--n-critic", "1", "--log-every", "1",
        "--sample-every", "2", "--checkpoint-every", "2", "--grid-size", "4", "--device", "cpu", "--no-progress"]


def one_error_line(capsys) -> str:
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in captured.err + captured.out, err
    return err


@pytest.fixture
def run_dir(tmp_path):
    assert main(["train", *TINY, "--steps", "2", "--out", str(tmp_path / "runs")]) == 0
    return next((tmp_path / "runs").iterdir())


def test_a_second_writer_is_refused_and_told_who_holds_the_run(run_dir, capsys):
    before = (run_dir / "checkpoints" / "latest.pt").read_bytes()
    with RunLock(run_dir):
        assert main(["train", "--resume", str(run_dir), "--steps", "4", "--no-progress"]) == 2
    assert f"being trained by process {os.getpid()}" in one_error_line(capsys)
    assert (run_dir / "checkpoints" / "latest.pt").read_bytes() == before  # nothing written by the refused one
    assert main(["train", "--resume", str(run_dir), "--steps", "3", "--no-progress"]) == 0  # released on exit


def test_a_lock_held_by_another_process_is_refused_and_freed_when_it_dies(run_dir, capsys):
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, time; from reelgan.training.rundir import RunLock; lock = RunLock(sys.argv[1]); "
        "lock.acquire(); print('locked', flush=True); time.sleep(60)"), str(run_dir)], stdout=subprocess.PIPE,
        text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        assert main(["train", "--resume", str(run_dir), "--steps", "3", "--no-progress"]) == 2
        assert f"process {holder.pid}" in one_error_line(capsys)
    finally:
        holder.kill()  # kill -9: no chance to release; the kernel drops the lock
        holder.wait()
    assert (run_dir / ".lock").read_text().strip() == str(holder.pid)  # a stale lock file stays behind
    assert main(["train", "--resume", str(run_dir), "--steps", "3", "--no-progress"]) == 0


def test_leftovers_of_a_killed_writer_are_removed_on_resume(run_dir):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True).stdout.strip()
    stale = [run_dir / "checkpoints" / f".latest.pt.pid{dead}.tmp",
             run_dir / "samples" / f".000004.png.pid{dead}.x1y2.tmp.png", run_dir / f".config.json.pid{dead}.tmp"]
    live = run_dir / "checkpoints" / f".best.pt.pid{os.getpid()}.tmp"  # a live writer's temp file stays
    for path in [*stale, live]:
        path.write_bytes(b"partial")
    assert main(["train", "--resume", str(run_dir), "--steps", "3", "--no-progress"]) == 0
    assert not any(path.exists() for path in stale) and live.exists()


def test_a_cut_off_last_stats_line_does_not_stop_a_resume(run_dir):
    stats = run_dir / "stats.jsonl"
    stats.write_text(stats.read_text() + '{"step": 3, "loss_D": 0.')  # killed mid-line
    assert main(["train", "--resume", str(run_dir), "--steps", "4", "--no-progress"]) == 0
    steps = [json.loads(line)["step"] for line in stats.read_text().splitlines()]
    assert steps == [1, 2, 3, 4]


def test_a_run_killed_before_its_first_checkpoint_resumes_from_step_0(tmp_path, run_dir):
    reference = load_checkpoint(run_dir / "checkpoints" / "latest.pt")["G"]
    for name in ("checkpoints", "samples"):  # as if killed inside the very first checkpoint write
        for path in (run_dir / name).iterdir():
            path.unlink()
    for path in run_dir.glob("generator.*"):
        path.unlink()
    (run_dir / "stats.jsonl").write_text('{"step": 1}\n')
    assert main(["train", "--resume", str(run_dir), "--no-progress"]) == 0
    resumed = load_checkpoint(run_dir / "checkpoints" / "latest.pt")
    assert resumed["step"] == 2
    assert all(torch.equal(reference[key], resumed["G"][key]) for key in reference)  # as if never killed


def test_a_run_that_fails_before_its_first_checkpoint_leaves_no_folder(tmp_path, capsys, monkeypatch):
    from reelgan.training.loop import Trainer

    def nan_step(self):
        self.nonfinite |= True
        return {}

    monkeypatch.setattr(Trainer, "step", nan_step)
    assert main(["train", *TINY, "--steps", "4", "--out", str(tmp_path / "runs")]) == 2
    message = one_error_line(capsys)
    assert "NaN" in message and "no checkpoint was saved" in message and "resume" not in message
    assert list((tmp_path / "runs").iterdir()) == []


def test_a_full_disk_ends_in_one_line_and_keeps_the_last_checkpoint(run_dir, capsys, monkeypatch):
    before = (run_dir / "checkpoints" / "latest.pt").read_bytes()

    def full_disk(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(torch, "save", full_disk)
    assert main(["train", "--resume", str(run_dir), "--steps", "4", "--no-progress"]) == 2
    message = one_error_line(capsys)
    assert "No space left on device" in message and "free some space" in message
    assert (run_dir / "checkpoints" / "latest.pt").read_bytes() == before
    assert not [p for p in (run_dir / "checkpoints").iterdir() if p.name.startswith(".")]  # no partial file


def test_ctrl_c_in_a_command_is_one_line_and_leaves_no_staging(tmp_path, capsys, monkeypatch):
    import reelgan.film.encode as encode

    script = tmp_path / "scene.fountain"
    script.write_text("INT. ROOM - DAY\n\nA cup.\n", encoding="utf-8")

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(encode, "write_film", interrupted)
    out = tmp_path / "film" / "scene.mp4"
    assert main(["film", str(script), "--out", str(out)]) == 130
    assert "interrupted" in one_error_line(capsys)
    assert not (tmp_path / "film").exists()  # the staging folder and the folder made for it are gone


@pytest.mark.parametrize("toml, message", [
    ("[data]\nsource = 5\n", "data.source must be text"),
    ("[data]\nresolution = 32.0\n", "data.resolution must be a whole number; got 32.0"),
    ("[data]\nchannels = 3.0\n", "data.channels must be a whole number"),
    ("[train]\nsteps = true\n", "train.steps must be a whole number; got True"),
    ("[train]\nsteps = \"10\"\n", "train.steps must be a whole number; got '10'"),
    ("[train]\nlr_g = nan\n", "train.lr_g must be a finite number"),
    ("[train]\nmetrics = 1\n", "train.metrics must be text"),
    ("[loss]\naugment = [\"translation\"]\n", "loss.augment must be text"),
    ("[data]\ncond = 1\n", "data.cond must be true or false"),
    ("data = 3\n", "config section [data] must be a table"),
])
def test_config_values_of_the_wrong_type_are_named(tmp_path, capsys, toml, message):
    path = tmp_path / "run.toml"
    path.write_text(toml)
    assert main(["train", "--config", str(path), "--dry-run"]) == 2
    assert message in one_error_line(capsys)


def test_whole_numbers_are_numbers_where_a_float_belongs():
    config = build_config(toml={"train": {"lr_g": 1, "max_minutes": 2}})
    assert config.train.lr_g == 1.0 and isinstance(config.train.lr_g, float)


def test_output_paths_are_checked_before_anything_is_written(tmp_path):
    (tmp_path / "file.txt").write_text("x")
    with pytest.raises(ReelganError, match="is a file"):
        output_file(tmp_path / "file.txt" / "sub" / "out.png")
    with pytest.raises(ReelganError, match="already exists"):
        output_file(tmp_path / "file.txt")
    with pytest.raises(ReelganError, match="is a folder"):
        output_file(tmp_path)
    assert output_file(tmp_path / "file.txt", overwrite=True) == tmp_path / "file.txt"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file.txt"]


def test_long_names_are_shortened_by_hash_and_stay_distinct():
    long_a, long_b = "word-" * 80 + "a.png", "word-" * 80 + "b.png"
    short_a, short_b = short_name(long_a), short_name(long_b)
    assert len(short_a.encode()) <= 255 and short_a.endswith(".png") and short_a != short_b
    assert short_name(long_a) == short_a and short_name("peace.png") == "peace.png"


def test_stale_temps_are_only_those_of_dead_writers(tmp_path):
    (tmp_path / f".a.png.pid{os.getpid()}.tmp").write_text("live")
    (tmp_path / ".a.png.pid999999999.tmp").write_text("dead")
    (tmp_path / ".hidden-user-file").write_text("mine")
    removed = remove_stale_temps(tmp_path)
    assert [p.name for p in removed] == [".a.png.pid999999999.tmp"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [f".a.png.pid{os.getpid()}.tmp", ".hidden-user-file"]


def test_a_collapsed_step_rate_is_reported_once_with_what_to_do(caplog):
    from types import SimpleNamespace

    from reelgan.training.loop import Trainer

    trainer = SimpleNamespace(slow_warned=False, best_rate=0.0, device=torch.device("cpu"), run_dir="runs/00001-x")
    caplog.set_level("WARNING", logger="reelgan")
    for rate in (2.0, 2.2, 1.5, 0.7, 0.3, 0.2):  # 2.2 at best; 0.7 is a third of it
        Trainer._watch_speed(trainer, rate)
    warnings = [r.getMessage() for r in caplog.records]
    assert warnings == ["training slowed from 2.20 to 0.70 steps/s; another program is using the CPU: close it, or "
                        "continue with fewer threads (stop, then `reelgan train --resume runs/00001-x --threads 1`)"]
