"""The training recipe's machine choices and schedules: precision "auto", time-budget schedules, copy check."""

import json
import logging
import math
import time

import pytest
import torch
from conftest import write_images

from reelgan import devices
from reelgan.progress import TrainingProgress
from reelgan.training import Trainer, train
from reelgan.training import loop as train_loop


@pytest.mark.parametrize("amx,avx512_bf16,expected", [(True, False, "bf16"), (False, True, "bf16"),
                                                      (False, False, "fp32")])
def test_auto_precision_is_bf16_only_on_a_cpu_that_computes_it(monkeypatch, amx, avx512_bf16, expected):
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: amx)
    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: avx512_bf16)
    assert devices.resolve_precision("auto", torch.device("cpu")) == expected
    assert devices.resolve_precision("auto", torch.device("cuda")) == "fp32"  # launch-bound there: no gain
    assert devices.resolve_precision("fp32", torch.device("cpu")) == "fp32"
    assert devices.resolve_precision("bf16", torch.device("cpu")) == "bf16"


def test_auto_precision_is_what_the_trainer_uses_and_says(tiny_config, monkeypatch):
    monkeypatch.setattr(devices, "cpu_has_native_bf16", lambda: False)
    trainer = Trainer(tiny_config(), None)
    assert trainer.precision == "fp32" and trainer.loss.autocast is None
    assert any(", fp32;" in notice for notice in trainer.notices)
    monkeypatch.setattr(devices, "cpu_has_native_bf16", lambda: True)
    trainer = Trainer(tiny_config(), None)
    assert trainer.precision == "bf16" and trainer.loss.autocast is not None
    clips = Trainer(tiny_config(data={"source": "moving-glyphs", "kind": "video", "frames": 8, "size": 8},
                                net={"content_dim": 8, "motion_dim": 4}), None)
    assert clips.precision == "fp32"  # clips keep the paper's float32 unless asked


def test_paper_presets_keep_float32():
    from reelgan.config import build_config

    for preset in ("paper", "paper-resnet"):
        assert build_config(preset).train.precision == "fp32"


def test_lr_decay_follows_the_time_budget(tiny_config):
    trainer = Trainer(tiny_config(train={"steps": 1000, "lr_decay": True, "max_minutes": 1.0}), None)
    assert trainer.run_fraction() == 0.0  # not running: steps only
    trainer.session_start = time.perf_counter() - 45  # 45 s of a 60 s budget
    assert trainer.run_fraction() == pytest.approx(0.75, abs=0.01)
    trainer.step()
    lr = trainer.opt_G.param_groups[0]["lr"]
    assert lr == pytest.approx(trainer.config.train.lr_g * 0.25, rel=0.05)
    trainer.session_start = time.perf_counter() - 600  # over the budget: never negative
    assert trainer.run_fraction() == 1.0


def test_a_resumed_time_budget_continues_the_schedule_where_it_stopped(tiny_config):
    config = tiny_config(train={"steps": 10**6, "max_minutes": 1.0})
    first = Trainer(config, None)
    first.session_start = time.perf_counter() - 30  # half the first session's budget
    state = first.state_dict()
    assert state["run_fraction"] == pytest.approx(0.5, abs=0.01)
    resumed = Trainer(config, None, resume=state)
    resumed.session_start = time.perf_counter()
    assert resumed.run_fraction() == pytest.approx(0.5, abs=0.01)  # not back to the start
    resumed.session_start = time.perf_counter() - 30  # half the new budget: half of what was left
    assert resumed.run_fraction() == pytest.approx(0.75, abs=0.01)


def test_more_time_for_a_run_that_spent_its_budget_stretches_its_schedules(tiny_config):
    config = tiny_config(train={"steps": 10**6, "max_minutes": 1.0, "lr_decay": True})
    first = Trainer(config, None)
    first.session_start = time.perf_counter() - 90  # past its budget: the schedules are at their ends
    first.elapsed_s = 60.0
    state = first.state_dict()
    assert state["run_fraction"] == 1.0
    resumed = Trainer(config, None, resume=state)  # another minute: 60 s done of 120 s in all
    assert any("spent its time budget" in notice for notice in resumed.notices)
    resumed.session_start = time.perf_counter()
    assert resumed.run_fraction() == pytest.approx(0.5, abs=0.01)
    resumed.step()
    assert resumed.opt_G.param_groups[0]["lr"] == pytest.approx(config.train.lr_g * 0.5, rel=0.05)  # not 0


def test_lr_decay_without_a_time_budget_follows_the_steps(tiny_config):
    trainer = Trainer(tiny_config(train={"steps": 4, "lr_decay": True}), None)
    trainer.session_start = time.perf_counter() - 3600  # time is ignored without --max-minutes
    trainer.step()
    trainer.step()
    assert trainer.opt_G.param_groups[0]["lr"] == pytest.approx(trainer.config.train.lr_g * 0.75)


def test_gamma_anneals_by_a_cosine_from_its_start_to_its_end(tiny_config):
    # without a time budget: over r1_gamma_kimg thousand images (100 steps of 10 here), whatever --steps says
    trainer = Trainer(tiny_config(loss={"r1_gamma": 0.1, "r1_gamma_anneal": 10.0, "r1_gamma_kimg": 1.0},
                                  train={"steps": 7, "batch": 10}), None)
    for step, expected in ((0, 1.0), (50, 0.55), (100, 0.1), (300, 0.1)):
        trainer.step_count = step
        assert trainer.r1_gamma() == pytest.approx(expected)
    trainer.step_count = 25  # a cosine, not a line: a quarter of the way it has lost 15% of the way down
    assert trainer.r1_gamma() == pytest.approx(0.1 + 0.9 * (1 + math.cos(math.pi / 4)) / 2)
    timed = Trainer(tiny_config(loss={"r1_gamma": 0.1, "r1_gamma_anneal": 10.0},
                                train={"steps": 10**6, "max_minutes": 1.0}), None)
    timed.session_start = time.perf_counter() - 30  # half of the time budget: half way down
    assert timed.r1_gamma() == pytest.approx(0.55, abs=0.01)
    constant = Trainer(tiny_config(loss={"r1_gamma": 0.3, "r1_gamma_anneal": 1.0}), None)
    constant.step_count = 3
    assert constant.r1_gamma() == 0.3


def test_the_trainer_gives_the_penalty_its_scheduled_gamma(tiny_config, monkeypatch):
    trainer = Trainer(tiny_config(loss={"kind": "r3gan", "r1_gamma": 0.1, "r1_gamma_anneal": 10.0,
                                        "r1_interval": 1}), None)
    seen, critic_phase = [], trainer.loss.critic_phase
    monkeypatch.setattr(trainer.loss, "critic_phase",
                        lambda *args, **kwargs: seen.append(kwargs["r1_gamma"]) or critic_phase(*args, **kwargs))
    trainer.step()
    assert seen and all(gamma == pytest.approx(1.0) for gamma in seen)  # step 0: its start, 10 x 0.1


def test_ema_by_half_life_in_images_ramps_up_then_holds(tiny_config):
    from reelgan.training.ema import EMA_RAMPUP, ema_decay_by_images

    # after a half-life's worth of steps, the old average has half its weight
    decay = ema_decay_by_images(10**7, batch=64, halflife_kimg=10)
    assert decay ** (10_000 / 64) == pytest.approx(0.5)
    # early on the half-life is 5% of the images seen, so the first generators are soon forgotten
    early = ema_decay_by_images(64_000, batch=64, halflife_kimg=10)
    assert early ** (EMA_RAMPUP * 64_000 / 64) == pytest.approx(0.5)
    assert early < decay
    assert ema_decay_by_images(0, batch=64, halflife_kimg=10) == 0.0  # the first step copies the generator
    trainer = Trainer(tiny_config(train={"ema_kimg": 10.0, "batch": 4}), None)
    trainer.step_count = 10**6
    assert trainer.ema_decay() == pytest.approx(ema_decay_by_images(4 * 10**6, 4, 10.0))


def test_a_timed_progress_bar_follows_the_share_of_the_run():
    with TrainingProgress(10_000, 0, enabled=False, timed=True) as bar:
        bar.update(37, fraction=0.5)
        task = bar.progress.tasks[0]
        assert task.completed == 500 and task.total == 1000 and task.fields["step"] == 37
    with TrainingProgress(200, 10, enabled=False) as bar:
        bar.update(50)
        assert bar.progress.tasks[0].completed == 50 and bar.progress.tasks[0].total == 200


def test_a_run_under_max_minutes_shows_a_timed_bar(tiny_config, capsys):
    result = train(tiny_config(train={"steps": 3, "max_minutes": 5.0}), show_progress=True)
    assert result.status == "finished"
    assert "step 3" in capsys.readouterr().err


def test_a_small_set_is_checked_for_copies_at_the_end(tiny_config, tmp_path, monkeypatch, caplog):
    folder = tmp_path / "few"
    write_images(folder, 30, size=(16, 16), mode="L")
    config = tiny_config(data={"source": str(folder)}, train={"steps": 2})
    with caplog.at_level(logging.INFO, logger="reelgan"):
        result = train(config, show_progress=False)
    check = json.loads((result.run_dir / "copy-check.json").read_text())
    assert check["images"] == 30 and check["samples"] == train_loop.COPY_CHECK_SAMPLES
    assert 0 <= check["flagged"] <= check["samples"] and check["step"] == 2
    assert "copy check" in caplog.text or "copying" in caplog.text
    monkeypatch.setattr(train_loop, "COPY_WARN_SHARE", 0.0)  # every share warns: the warning's words
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="reelgan"):
        Trainer(config, result.run_dir).check_copies()
    assert "copying its training set" in caplog.text and "reelgan audit" in caplog.text


def test_sets_at_or_over_the_threshold_are_not_copy_checked(tiny_config, monkeypatch):
    monkeypatch.setattr(train_loop, "COPY_CHECK_IMAGES", 24)  # the tiny set's 24 glyphs are then "large"
    result = train(tiny_config(train={"steps": 2}), show_progress=False)
    assert not (result.run_dir / "copy-check.json").exists()
