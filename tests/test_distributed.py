"""Training on several processes through torchrun, on the CPU with the gloo backend (issue: scale)."""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from reelgan.data.sampler import ResumableBatchSampler
from reelgan.errors import ReelganError
from reelgan.gan.checkpoint import load_checkpoint
from reelgan.training.distributed import World

TINY = ["--data", "logograms", "--resolution", "16", "--data-size", "32", "--g-width", "8", "--d-width", "8",
        "--max-width", "16", "--latent-dim", "16", "--batch", "8", "--log-every", "2", "--sample-every", "0",
        "--checkpoint-every", "2", "--grid-size", "4", "--device", "cpu", "--threads", "1", "--no-progress"]
JOB = Path(__file__).with_name("distributed_job.py")


def torchrun(*args: str, processes: int = 2, timeout: int = 240) -> subprocess.CompletedProcess:
    """`torchrun --standalone --nproc-per-node N ARGS` in a fresh interpreter; its output as text."""
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone",
                           f"--nproc-per-node={processes}", *args], capture_output=True, text=True, env=env,
                          timeout=timeout)


def state_hash(checkpoint: Path) -> dict[str, str]:
    """sha256 of each network's and optimiser's tensors in a checkpoint."""
    state = load_checkpoint(checkpoint)
    hashes = {}
    for name in ("G", "D", "G_ema"):
        digest = hashlib.sha256()
        for key, tensor in sorted(state[name].items()):
            digest.update(key.encode() + tensor.contiguous().view(-1).view(torch.uint8).numpy().tobytes())
        hashes[name] = digest.hexdigest()
    for name in ("opt_G", "opt_D"):
        digest = hashlib.sha256()
        for index, slot in sorted(state[name]["state"].items()):
            for key in ("exp_avg", "exp_avg_sq"):
                digest.update(slot[key].contiguous().view(-1).view(torch.uint8).numpy().tobytes())
        hashes[name] = digest.hexdigest()
    return hashes


def test_ranks_share_each_batch_and_together_see_the_single_process_order():
    whole = ResumableBatchSampler(50, 8, seed=3, start_batch=5)
    shards = [ResumableBatchSampler(50, 8, seed=3, start_batch=5, shard=(rank, 2)) for rank in range(2)]
    checked = 0
    for batch, first, second in itertools.islice(zip(whole, *shards), 20):  # across epochs (50 items, 8 a batch)
        assert first + second == batch and len(first) == 4
        checked += 1
    assert checked == 20


def test_a_batch_that_does_not_split_evenly_is_refused():
    assert World(rank=1, size=2).share(8) == slice(4, 8)
    with pytest.raises(ReelganError, match="--batch 6 does not split evenly over 4 processes"):
        World(rank=0, size=4).share(6)


def test_two_processes_write_one_run_and_resume_exactly(tmp_path):
    whole = torchrun("-m", "reelgan", "train", *TINY, "--steps", "6", "--out", str(tmp_path / "whole"))
    assert whole.returncode == 0, whole.stderr[-2000:]
    (run,) = (tmp_path / "whole").iterdir()  # one run folder, written by rank 0 alone
    assert load_checkpoint(run / "checkpoints" / "latest.pt")["step"] == 6
    assert len((run / "stats.jsonl").read_text().splitlines()) == 3  # one line per logging step, not per rank
    assert whole.stdout.count("trained to step 6") == 1  # process 0 speaks for both

    part = subprocess.run([sys.executable, "-m", "reelgan", "train", *TINY, "--steps", "4", "--gpus", "2",
                           "--out", str(tmp_path / "parts")], capture_output=True, text=True, timeout=240,
                          env={**os.environ, "OMP_NUM_THREADS": "1"})  # --gpus N wraps torchrun
    assert part.returncode == 0, part.stderr[-2000:]
    (stopped,) = (tmp_path / "parts").iterdir()
    rest = torchrun("-m", "reelgan", "train", "--resume", str(stopped), "--steps", "6", "--no-progress")
    assert rest.returncode == 0, rest.stderr[-2000:]
    assert state_hash(stopped / "checkpoints" / "latest.pt") == state_hash(run / "checkpoints" / "latest.pt")


def test_a_process_that_crashes_ends_the_job_and_the_last_checkpoint_loads(tmp_path):
    done = torchrun(str(JOB), "1", "5", "train", *TINY, "--steps", "20", "--out", str(tmp_path / "runs"))
    assert done.returncode != 0
    assert "a crash on purpose" in done.stderr  # the failing process's own error
    assert "another process of this run stopped" in done.stderr  # and process 0's one line about it
    (run,) = (tmp_path / "runs").iterdir()
    assert load_checkpoint(run / "checkpoints" / "latest.pt")["step"] == 4  # the last one, whole
    assert not [p for p in (run / "checkpoints").iterdir() if p.name.startswith(".")]  # no half-written file


def test_torchrun_restarts_resume_from_the_last_checkpoint_and_end_as_an_unbroken_run(tmp_path):
    whole = torchrun("-m", "reelgan", "train", *TINY, "--steps", "8", "--out", str(tmp_path / "whole"))
    assert whole.returncode == 0, whole.stderr[-2000:]
    (unbroken,) = (tmp_path / "whole").iterdir()
    done = torchrun("--max-restarts", "1", str(JOB), "1", "5", "train", *TINY, "--steps", "8",
                    "--out", str(tmp_path / "runs"))
    assert done.returncode == 0, done.stderr[-3000:]
    assert "a crash on purpose" in done.stderr  # the first attempt did fail
    (run,) = (tmp_path / "runs").iterdir()  # the restart continued the same run folder
    assert load_checkpoint(run / "checkpoints" / "latest.pt")["step"] == 8
    assert state_hash(run / "checkpoints" / "latest.pt") == state_hash(unbroken / "checkpoints" / "latest.pt")

def test_metrics_under_two_processes_score_the_samples_one_process_would(tmp_path, monkeypatch):
    monkeypatch.setenv("REELGAN_CACHE", str(tmp_path / "cache"))  # the processes inherit it
    done = torchrun("-m", "reelgan", "train", *TINY, "--resolution", "32", "--steps", "2", "--metrics", "fid",
                    "--metrics-every", "2", "--metrics-n", "12", "--out", str(tmp_path / "runs"))
    assert done.returncode == 0, done.stderr[-2000:]
    (run,) = (tmp_path / "runs").iterdir()
    (row,) = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    from reelgan.gan.generator import load_generator
    from reelgan.metrics.evaluate import evaluate_generator

    alone = evaluate_generator(load_generator(run), "logograms", ["fid"], n=12)  # one process, seeds 0..11
    assert row["fid12_domain-logograms-32"] == pytest.approx(alone["fid12_domain-logograms-32"], rel=1e-4)
