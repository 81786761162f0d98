"""Exact CPU training with two intra-op threads: repeated runs and resumed runs end bit-for-bit the same.

`torch.set_flush_denormal` sets flush-to-zero on the calling thread only; OpenMP workers keep the mode they
were created with. In a process whose workers already exist (a test session, a notebook, a script that ran a
parallel op first), the trainer must still put every thread in the same mode, or part of each op would be
computed differently than in a fresh `reelgan train` process. So the repetitions below start from each state
the worker threads can be in (none flushing, all flushing, only the main thread flushing) and demand
identical weights, and that training ran with every thread flushing.
"""

from __future__ import annotations

import hashlib
import itertools

import pytest
import torch

from reelgan import devices
from reelgan.training import Trainer, load_checkpoint, train

# (name, every thread flushes, the main thread flushes)
WORKER_STATES = (("no thread flushes", False, False), ("every thread flushes", True, True),
                 ("only the main thread flushes", False, True))


def enter(state: tuple[str, bool, bool]) -> str:
    """Put the main thread and the OpenMP workers in `state`; return its name."""
    name, every_thread, main_thread = state
    devices.set_flush_denormal(every_thread)
    torch._C.set_flush_denormal(main_thread)
    return name


@pytest.fixture
def two_threads():
    """Two intra-op threads with their workers created; the thread count and denormal mode are put back after."""
    if "OpenMP" not in torch.__config__.parallel_info():
        pytest.skip("torch here does not thread with OpenMP")
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    share = devices.denormal_flush_share()  # a parallel op: the OpenMP workers exist from here on
    if not torch._C.set_flush_denormal(share == 1.0):
        torch.set_num_threads(threads)
        pytest.skip("this CPU has no flush-to-zero mode")
    yield
    torch.set_num_threads(2)
    devices.set_flush_denormal(share == 1.0)
    if 0.0 < share < 1.0:  # only the calling thread flushed
        torch._C.set_flush_denormal(True)
    torch.set_num_threads(threads)


def fingerprint(state: dict) -> str:
    """sha256 over the bytes of every tensor of G, D, G_ema and both optimisers (bit-for-bit, NaN included)."""
    digest = hashlib.sha256()

    def walk(prefix, value):
        if isinstance(value, torch.Tensor):
            data = value.detach().contiguous().view(-1)
            digest.update(prefix.encode())
            digest.update((data.view(torch.uint8) if value.is_floating_point() else data).numpy().tobytes())
        elif isinstance(value, dict):
            for key in sorted(value, key=str):
                walk(f"{prefix}.{key}", value[key])
        elif isinstance(value, (list, tuple)):
            for i, item in enumerate(value):
                walk(f"{prefix}.{i}", item)

    for name in ("G", "D", "G_ema", "opt_G", "opt_D"):
        walk(name, state[name])
    return digest.hexdigest()


def test_set_flush_denormal_reaches_workers_made_before_it(two_threads):
    assert devices.set_flush_denormal(False) and devices.denormal_flush_share() == 0.0
    assert devices.set_flush_denormal(True) and devices.denormal_flush_share() == 1.0
    torch._C.set_flush_denormal(False)  # torch's own call: the calling thread only
    assert devices.denormal_flush_share() == 0.5
    assert devices.configure_cpu_determinism() and devices.denormal_flush_share() == 1.0
    assert torch.get_num_threads() == 2


def test_the_trainer_puts_every_worker_thread_in_one_denormal_mode(tiny_config, two_threads):
    for state in WORKER_STATES:
        name = enter(state)
        Trainer(tiny_config(), None)
        assert devices.denormal_flush_share() == 1.0, f"before the Trainer: {name}"


def test_repeated_two_thread_runs_end_with_identical_weights(tiny_config, two_threads):
    config = tiny_config(train={"steps": 10 ** 6}, loss={"augment": "translation,cutout,color"})
    runs = []
    for state in WORKER_STATES + WORKER_STATES:  # six runs in one process, two from each state
        name = enter(state)
        trainer = Trainer(config, None)
        for _ in range(10):
            trainer.step()
        runs.append((name, devices.denormal_flush_share(), fingerprint(trainer.state_dict())))
    assert len({digest for _, _, digest in runs}) == 1, runs
    assert {share for _, share, _ in runs} == {1.0}, runs


def test_stopped_and_resumed_runs_repeatedly_match_the_uninterrupted_run(tiny_config, tmp_path, two_threads):
    """Stopped at 3 and at 5, and resumed in a chain 2 -> 4 -> 6 -> 8; each run from another worker state."""
    states = itertools.cycle(WORKER_STATES)

    def run(steps, out, resume=None):
        enter(next(states))
        config = tiny_config(train={"steps": steps, "out": str(tmp_path / out), "checkpoint_every": 0,
                                    "sample_every": 0})
        result = train(config, resume=resume, show_progress=False)
        assert result.step == steps and devices.denormal_flush_share() == 1.0
        return result

    def weights(result):
        return fingerprint(load_checkpoint(result.run_dir / "checkpoints" / "latest.pt"))

    straight = weights(run(8, "straight"))
    resumed = {}
    for k in (3, 5):
        stopped = run(k, f"stopped-at-{k}")
        resumed[f"stopped at {k}"] = weights(run(8, f"stopped-at-{k}", resume=stopped.run_dir))
    chain = run(2, "chain")
    for steps in (4, 6, 8):
        result = run(steps, "chain", resume=chain.run_dir)
    resumed["resumed at 2, 4 and 6"] = weights(result)
    assert {name: digest for name, digest in resumed.items() if digest != straight} == {}
