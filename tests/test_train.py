import dataclasses
import json
import os
import shutil
import signal
from pathlib import Path

import pytest
import safetensors.torch
import torch

from reelgan.config import RunConfig, build_config, with_added_fields
from reelgan.errors import ReelganError
from reelgan.gan.checkpoint import save_checkpoint
from reelgan.gan.generator import load_generator
from reelgan.gan.losses import GANLoss, PhaseResult
from reelgan.training import Trainer, load_checkpoint, train


def run(config, **kwargs):
    return train(config, show_progress=False, **kwargs)


@pytest.mark.parametrize("arch", ["dcgan", "resnet"])
@pytest.mark.parametrize("loss", ["wgan-gp", "hinge", "ns-r1"])  # r3gan: the resume test below
@pytest.mark.parametrize("channels", [1, 3, 4])
def test_every_network_loss_and_channel_count_trains(tiny_config, arch, loss, channels):
    config = tiny_config(net={"arch": arch}, loss={"kind": loss, "r1_interval": 2},
                         data={"channels": channels}, train={"steps": 2})
    result = run(config)
    state = load_checkpoint(result.run_dir / "checkpoints" / "latest.pt")
    assert result.status == "finished" and state["step"] == 2 and state["critic_steps"] == 4
    assert all(torch.isfinite(t).all() for t in state["G"].values() if t.is_floating_point())
    images = load_generator(result.run_dir).sample(3, seed=1)
    assert images.shape == (3, channels, 16, 16)


def test_conditional_training_on_class_folders(tiny_config, image_folder):
    config = tiny_config(data={"source": str(image_folder), "channels": 3, "cond": True},
                         loss={"augment": "translation,cutout,color"})
    result = run(config)
    G = load_generator(result.run_dir)
    assert G.class_names == ["cats", "dogs"]
    cats, dogs = G.sample(2, seed=0, class_name="cats"), G.sample(2, seed=0, class_name="dogs")
    assert not torch.equal(cats, dogs)


def test_run_folder_layout(tiny_config):
    result = run(tiny_config())
    folder = result.run_dir
    assert folder.name == "00001-logograms-r3gan-16"
    assert json.loads((folder / "config.json").read_text())["data"]["resolution"] == 16
    rows = [json.loads(line) for line in (folder / "stats.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [2, 4]
    assert {"loss_D", "loss_G", "r1", "steps_per_s", "lr_g"} <= set(rows[0])
    assert sorted(p.name for p in (folder / "samples").iterdir()) == ["000002.png", "000004.png"]
    assert (folder / "generator.safetensors").is_file() and (folder / "generator.json").is_file()


def test_new_runs_never_overwrite_old_ones(tiny_config):
    first, second = run(tiny_config()), run(tiny_config())
    assert first.run_dir != second.run_dir
    assert second.run_dir.name.startswith("00002-")
    assert (first.run_dir / "checkpoints" / "latest.pt").is_file()


def test_a_run_that_fails_before_training_leaves_no_folder(tiny_config, tmp_path):
    with pytest.raises(ReelganError, match="does not exist"):
        run(tiny_config(data={"source": str(tmp_path / "nowhere")}))
    assert not (tmp_path / "runs").exists()


def all_tensors(state):
    """Every tensor of a checkpoint, flattened to name -> tensor."""
    out = {}
    def walk(prefix, value):
        if isinstance(value, torch.Tensor):
            out[prefix] = value
        elif isinstance(value, dict):
            for k, v in value.items():
                walk(f"{prefix}.{k}", v)
        elif isinstance(value, (list, tuple)):
            for i, v in enumerate(value):
                walk(f"{prefix}.{i}", v)
    walk("", state)
    return out


@pytest.mark.parametrize("sections", [
    {"loss": {"kind": "wgan-gp", "augment": "translation,cutout,color"}},
    {"loss": {"kind": "ns-r1", "r1_interval": 3}, "train": {"g_batch": 6, "ema_decay": 0.9}},
    {"net": {"arch": "resnet"}, "loss": {"kind": "hinge"}, "train": {"lr_decay": False}},
    {"loss": {"kind": "r3gan", "r1_interval": 2}, "train": {"g_batch": 6}},  # the G phase draws reals too
])
def test_stopped_and_resumed_run_ends_with_the_same_weights(tiny_config, tmp_path, sections):
    def config(steps, out):
        train_section = {**sections.get("train", {}), "steps": steps, "out": str(tmp_path / out)}
        return tiny_config(**{**sections, "train": train_section})

    straight = run(config(6, "straight"))
    stopped = run(config(3, "stopped"))
    resumed = run(config(6, "stopped"), resume=stopped.run_dir)
    assert resumed.run_dir == stopped.run_dir and resumed.step == 6
    a = all_tensors(load_checkpoint(straight.run_dir / "checkpoints" / "latest.pt"))
    b = all_tensors(load_checkpoint(resumed.run_dir / "checkpoints" / "latest.pt"))
    assert a.keys() == b.keys()
    different = [k for k in a if not torch.equal(a[k], b[k])]
    assert different == []
    steps = [json.loads(line)["step"] for line in (stopped.run_dir / "stats.jsonl").read_text().splitlines()]
    assert steps == [2, 3, 4, 6]  # the stopped run logged its last step; the resumed one goes on


def test_checkpoint_write_is_atomic(tmp_path, monkeypatch):
    path = tmp_path / "latest.pt"
    save_checkpoint({"step": 1, "w": torch.ones(3)}, path)

    def broken_save(obj, handle):
        handle.write(b"half a checkpoint")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", broken_save)
    with pytest.raises(OSError):
        save_checkpoint({"step": 2, "w": torch.zeros(3)}, path)
    assert torch.load(path, weights_only=True)["step"] == 1
    assert [p.name for p in tmp_path.iterdir()] == ["latest.pt"]  # no temp file left behind


def test_corrupt_checkpoint_is_a_clear_error(tmp_path):
    path = tmp_path / "latest.pt"
    path.write_bytes(b"not a checkpoint")
    with pytest.raises(ReelganError, match="cannot be read"):
        load_checkpoint(path)


def test_nan_loss_stops_and_keeps_the_last_good_checkpoint(tiny_config, monkeypatch):
    real_phase = GANLoss.generator_phase
    calls = {"n": 0}

    def phase_going_nan(self, z, labels, real=None):
        calls["n"] += 1
        result = real_phase(self, z, labels, real)
        if calls["n"] >= 3:  # step 3 onwards
            return PhaseResult(result.loss * float("nan"), result.stats)
        return result

    monkeypatch.setattr(GANLoss, "generator_phase", phase_going_nan)
    config = tiny_config(train={"steps": 8})
    with pytest.raises(ReelganError, match="NaN or infinite") as info:
        run(config)
    assert "last good checkpoint" in str(info.value)
    run_dir = next(Path(config.train.out).iterdir())
    state = load_checkpoint(run_dir / "checkpoints" / "latest.pt")
    assert state["step"] == 2
    assert all(torch.isfinite(t).all() for t in state["G"].values() if t.is_floating_point())


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_signal_saves_a_checkpoint_then_stops(tiny_config, monkeypatch, signum):
    real_step = Trainer.step

    def step_then_signal(self):
        stats = real_step(self)
        if self.step_count == 3:
            os.kill(os.getpid(), signum)
        return stats

    monkeypatch.setattr(Trainer, "step", step_then_signal)
    before = signal.getsignal(signum)
    result = run(tiny_config(train={"steps": 50, "checkpoint_every": 0}))
    assert result.status == "interrupted" and result.step == 3
    assert not (result.run_dir / "copy-check.json").exists()  # Ctrl-C: no audit before the prompt comes back
    assert load_checkpoint(result.run_dir / "checkpoints" / "latest.pt")["step"] == 3
    assert signal.getsignal(signum) is before  # the caller's handler is back


def test_time_limit_stops_with_a_checkpoint(tiny_config):
    result = run(tiny_config(train={"steps": 10_000, "max_minutes": 1e-6}))
    assert result.status == "time-limit" and result.step == 1
    assert load_checkpoint(result.run_dir / "checkpoints" / "latest.pt")["step"] == 1


def test_bf16_autocast_and_channels_last_run_on_cpu(tiny_config):
    result = run(tiny_config(train={"precision": "bf16", "channels_last": True, "steps": 2}))
    assert result.status == "finished"


def test_ema_tracks_the_generator(tiny_config):
    config = tiny_config(train={"ema_decay": 0.0, "steps": 2})
    result = run(config)
    state = load_checkpoint(result.run_dir / "checkpoints" / "latest.pt")
    statistics = ("running_mean", "running_var", "num_batches_tracked")
    for name, tensor in state["G"].items():
        if not name.endswith(statistics):
            assert torch.equal(tensor, state["G_ema"][name])  # decay 0: the average is the latest weights
    # its batch-norm statistics are measured on those weights (standing statistics), not copied from G's
    # last training batches
    means = [name for name in state["G"] if name.endswith("running_mean")]
    assert means and all(not torch.equal(state["G"][n], state["G_ema"][n]) for n in means)
    # the export a user samples holds the checkpoint's G_ema exactly, statistics included
    exported = safetensors.torch.load_file(result.run_dir / "generator.safetensors")
    assert exported.keys() == state["G_ema"].keys()
    assert all(torch.equal(exported[name], state["G_ema"][name].cpu()) for name in exported)


def test_no_standing_stats_keeps_the_copied_statistics_as_the_paper_preset_does(tiny_config):
    config = tiny_config(train={"ema_decay": 0.0, "steps": 2, "standing_stats": False})
    state = load_checkpoint(run(config).run_dir / "checkpoints" / "latest.pt")
    for name, tensor in state["G"].items():
        assert torch.equal(tensor, state["G_ema"][name])  # decay 0 and copied statistics: G itself
    assert build_config(preset="paper").train.standing_stats is False
    assert build_config(preset="paper-resnet").train.standing_stats is False
    stored = RunConfig().to_dict()
    del stored["train"]["standing_stats"]  # a run stored before the field: it sampled copied statistics
    assert with_added_fields(stored)["train"]["standing_stats"] is False


@pytest.mark.parametrize("sections,schedule", [
    ({"loss": {"kind": "wgan-gp", "augment": "translation"}}, {"lr_decay": True}),
    # gamma's anneal spans the 6 steps of 4 images (24 images), so it moves across the resume
    ({"loss": {"kind": "r3gan", "r1_gamma_anneal": 10.0, "r1_gamma_kimg": 0.024, "r1_interval": 1}},
     {"ema_kimg": 0.01}),
])
def test_signal_stop_then_resume_is_exact_with_schedules(tiny_config, tmp_path, monkeypatch, sections, schedule):
    straight = run(tiny_config(**sections, train={"steps": 6, **schedule, "out": str(tmp_path / "a")}))
    real_step = Trainer.step

    def step_then_signal(self):
        stats = real_step(self)
        if self.step_count == 3:
            os.kill(os.getpid(), signal.SIGINT)
        return stats

    monkeypatch.setattr(Trainer, "step", step_then_signal)
    config = tiny_config(**sections, train={"steps": 6, **schedule, "out": str(tmp_path / "b")})
    stopped = run(config)
    assert stopped.status == "interrupted" and stopped.step == 3
    monkeypatch.setattr(Trainer, "step", real_step)
    run(config, resume=stopped.run_dir)
    a = all_tensors(load_checkpoint(straight.run_dir / "checkpoints" / "latest.pt"))
    b = all_tensors(load_checkpoint(stopped.run_dir / "checkpoints" / "latest.pt"))
    assert [k for k in a if not torch.equal(a[k], b[k])] == []
    rows = [[json.loads(line) for line in (result.run_dir / "stats.jsonl").read_text().splitlines()]
            for result in (straight, stopped)]
    gammas = [[row.get("r1_gamma") for row in run_rows] for run_rows in rows]
    assert gammas[0] == gammas[1]
    if sections["loss"]["kind"] == "r3gan":  # logged at every row, and falling across the resume at step 3
        assert None not in gammas[0] and gammas[0] == sorted(gammas[0], reverse=True) and gammas[0][0] > gammas[0][-1]


def test_progress_bar_and_worker_processes(tiny_config, capsys):
    result = train(tiny_config(train={"workers": 1, "steps": 2}), show_progress=True)
    assert result.status == "finished"
    assert "train" in capsys.readouterr().err  # rich drew its bar on stderr


def test_lazy_r1_is_averaged_over_the_steps_that_ran_it(tiny_config):
    result = run(tiny_config(loss={"kind": "ns-r1", "r1_interval": 4}, train={"steps": 4, "log_every": 4}))
    row = json.loads((result.run_dir / "stats.jsonl").read_text().splitlines()[-1])
    state = load_checkpoint(result.run_dir / "checkpoints" / "latest.pt")
    assert state["critic_steps"] == 8 and "r1" in row  # R1 ran at critic steps 0 and 4
    assert row["r1"] > 0


def test_statistics_are_averaged_over_the_phases_that_reported_them():
    from reelgan.training.loop import add_stats

    sums = {}
    add_stats(sums, {"loss_D": torch.tensor(1.0), "r1": torch.tensor(4.0)})  # a lazy-R1 critic phase
    add_stats(sums, {"loss_D": torch.tensor(3.0)})                           # a plain one
    add_stats(sums, {"loss_D": torch.tensor(8.0)}, count=2)                  # a step's sum of two phases
    assert {key: float(total) / count for key, (total, count) in sums.items()} == {"loss_D": 3.0, "r1": 4.0}


FIXTURE_RUN = Path(__file__).parent / "fixtures" / "run-before-gan-package"  # written before gan/ existed


def test_a_run_written_before_the_gan_package_still_loads_and_resumes(tmp_path):
    run_dir = tmp_path / "old"
    shutil.copytree(FIXTURE_RUN, run_dir)
    G = load_generator(run_dir / "generator.safetensors")
    assert G.sample(2, seed=0).shape == (2, 1, 16, 16)
    state = load_checkpoint(run_dir / "checkpoints" / "latest.pt")
    assert state["step"] == 2
    config = RunConfig.from_dict(with_added_fields(state["config"]))
    # fields added since keep the values the run trained with, whatever today's defaults are
    assert (config.loss.r1_gamma_anneal, config.train.ema_kimg) == (1.0, 0.0)
    result = run(dataclasses.replace(config, train=dataclasses.replace(config.train, steps=3)), resume=run_dir)
    assert result.status == "finished" and result.step == 3


def test_train_refuses_a_resume_that_changes_the_recipe(tiny_config):
    first = run(tiny_config(train={"steps": 2}))
    changed = tiny_config(train={"steps": 4}, loss={"kind": "hinge"})
    with pytest.raises(ReelganError, match="cannot change loss.kind when resuming"):
        run(changed, resume=first.run_dir)
    assert load_checkpoint(first.run_dir / "checkpoints" / "latest.pt")["step"] == 2  # nothing lost
