import json

import pytest
import torch
from test_train import all_tensors

from reelgan.errors import ReelganError
from reelgan.training import load_checkpoint, train

METRICS = {"metrics": "fid,kid", "metrics_every": 2, "metrics_n": 16, "best_metric": "fid"}


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("REELGAN_CACHE", str(tmp_path / "cache"))


def test_metrics_during_training_write_metrics_jsonl_and_best_pt(tiny_config):
    result = train(tiny_config(train={"steps": 4, **METRICS}), show_progress=False)
    rows = [json.loads(line) for line in (result.run_dir / "metrics.jsonl").read_text().splitlines()]
    key = "fid16_domain-logograms-32"
    assert [row["step"] for row in rows] == [2, 4] and key in rows[0] and "kid16_domain-logograms-32" in rows[0]
    best_row = min(rows, key=lambda row: row[key])
    best = load_checkpoint(result.run_dir / "checkpoints" / "best.pt")
    assert best["step"] == best_row["step"] and best["best"]["value"] == pytest.approx(best_row[key])
    assert load_checkpoint(result.run_dir / "checkpoints" / "latest.pt")["best"] == best["best"]


def test_evaluating_never_changes_what_is_trained(tiny_config, tmp_path):
    plain = train(tiny_config(train={"steps": 4, "out": str(tmp_path / "a")}), show_progress=False)
    measured = train(tiny_config(train={"steps": 4, "out": str(tmp_path / "b"), **METRICS}), show_progress=False)
    a = all_tensors(load_checkpoint(plain.run_dir / "checkpoints" / "latest.pt"))
    b = all_tensors(load_checkpoint(measured.run_dir / "checkpoints" / "latest.pt"))
    assert [k for k in a if not torch.equal(a[k], b[k])] == []


def test_metric_settings_are_checked(tiny_config, image_folder, tmp_path):
    with pytest.raises(ReelganError, match="must be one of the computed --metrics"):
        tiny_config(train={"metrics": "pr", "best_metric": "fid"})
    with pytest.raises(ReelganError, match="metrics must be one of"):
        tiny_config(train={"metrics": "inception-score"})
    with pytest.raises(ReelganError, match="train-extractor"):
        train(tiny_config(data={"source": str(image_folder), "channels": 3}, train={"metrics": "fid"}),
              show_progress=False)
    assert not (tmp_path / "runs").exists()  # refused before a run folder was made


def test_train_metrics_flags(tmp_path):
    from test_cli import TINY

    from reelgan.cli.main import main

    assert main(["train", *TINY, "--resolution", "32", "--steps", "2", "--metrics", "fid,pr", "--metrics-every",
                 "1", "--metrics-n", "12", "--out", str(tmp_path / "runs")]) == 0
    run_dir = next((tmp_path / "runs").iterdir())
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert [row["step"] for row in rows] == [1, 2] and "precision12_domain-logograms-32" in rows[1]
    assert (run_dir / "checkpoints" / "best.pt").is_file()
