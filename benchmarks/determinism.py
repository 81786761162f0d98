"""Determinism of CPU training: distinct final-weight hashes over many fresh-process trials, and the speed cost.

Each trial is a fresh Python process that trains the tests' tiny config (or the 32 px default) `--reps` times
uninterrupted and `--reps` times stopped at `--resume-at` and resumed from the checkpoint, through the real
`reelgan.training.train` (run folders, checkpoints), and hashes every tensor of each run's final checkpoint
(G, D, G_ema and both optimisers). Exact training gives one hash over all runs.

    python benchmarks/determinism.py --trials 20                      # 20 processes x (2 straight + 2 resumed)
    python benchmarks/determinism.py --trials 20 --load 1             # with a CPU-burning process beside them
    python benchmarks/determinism.py --trials 20 --warm --flush old   # threads made before the trainer's flush
    python benchmarks/determinism.py --speed                          # s/step of each --flush mode, side by side

`--flush` picks how denormals are handled, so one script compares before and after the fix:
  as-is  whatever the installed Trainer does;
  old    `torch.set_flush_denormal(True)` on the calling thread only (the Trainer before the fix);
  all    `reelgan.devices.configure_cpu_determinism()`: pinned thread count, flush on every worker thread;
  off    no flushing at all.
`--warm` runs a multi-threaded op before the first Trainer, as a test session, a notebook or a script that
touched torch first would: the OpenMP workers then exist before the flush call (and `old` misses them).
Each trial also reports the share of a multi-threaded op's denormal results that were flushed during training
(1.0 every thread, 0.5 one of two, 0.0 none).
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FLUSH_MODES = ("as-is", "old", "all", "off")


def tiny_overrides(out: str, steps: int) -> dict:
    """tests/conftest.py's tiny config (16 px, widths 8/16, batch 4, n_critic 2, DiffAugment on)."""
    return {
        "data": {"source": "logograms", "resolution": 16, "channels": 1, "size": 24},
        "net": {"g_width": 8, "d_width": 8, "max_width": 16, "latent_dim": 16},
        "train": {"steps": steps, "batch": 4, "n_critic": 2, "log_every": 1, "sample_every": 0,
                  "checkpoint_every": 0, "grid_size": 4, "out": out, "device": "cpu"},
    }


def default_overrides(out: str, steps: int) -> dict:
    """The 32 px default config (batch 64, n_critic 2, default widths) on 256 logograms."""
    return {
        "data": {"source": "logograms", "resolution": 32, "channels": 1, "size": 256},
        "train": {"steps": steps, "log_every": 1, "sample_every": 0, "checkpoint_every": 0, "grid_size": 4,
                  "out": out, "device": "cpu"},
    }


CONFIGS = {"tiny": tiny_overrides, "default": default_overrides}


# ---- child: one fresh process ---------------------------------------------------------------------------------

def apply_flush_mode(mode: str) -> None:
    """Make the Trainer handle denormals as `mode` says (patching what it calls; `as-is` changes nothing)."""
    import importlib

    import torch

    from reelgan import devices

    loop = importlib.import_module("reelgan.training.loop")
    if mode == "as-is":
        return
    choices = {
        "old": lambda flush_denormal=True: bool(torch._C.set_flush_denormal(flush_denormal)),
        "all": devices.configure_cpu_determinism,
        "off": lambda flush_denormal=True: devices.configure_cpu_determinism(flush_denormal=False),
    }
    configure = choices[mode]
    # The Trainer calls either torch.set_flush_denormal(True) (before the fix) or configure_cpu_determinism().
    torch.set_flush_denormal = lambda enabled: configure(flush_denormal=enabled)
    if hasattr(loop, "configure_cpu_determinism"):
        loop.configure_cpu_determinism = configure


def checkpoint_hash(run_dir: Path) -> str:
    """sha256 (16 hex digits) of every tensor in a run's final checkpoint, in a fixed order."""
    from reelgan.training import load_checkpoint

    state = load_checkpoint(run_dir / "checkpoints" / "latest.pt")
    digest = hashlib.sha256()

    def walk(prefix: str, value) -> None:
        import torch

        if isinstance(value, torch.Tensor):
            digest.update(prefix.encode())
            digest.update(value.detach().contiguous().cpu().view(-1).view(torch.uint8).numpy().tobytes()
                          if value.is_floating_point() else value.contiguous().cpu().numpy().tobytes())
        elif isinstance(value, dict):
            for key in sorted(value, key=str):
                walk(f"{prefix}.{key}", value[key])
        elif isinstance(value, (list, tuple)):
            for i, item in enumerate(value):
                walk(f"{prefix}.{i}", item)

    for name in ("G", "D", "G_ema", "opt_G", "opt_D"):
        walk(name, state[name])
    return digest.hexdigest()[:16]


def losses(run_dir: Path) -> list[float]:
    """loss_D of each step (stats.jsonl, log_every 1)."""
    rows = [json.loads(line) for line in (run_dir / "stats.jsonl").read_text().splitlines()]
    return [row.get("loss_D") for row in rows]


def child(args: argparse.Namespace) -> None:
    """Train `reps` straight and `reps` stopped-and-resumed runs; print one JSON line per pair."""
    import logging

    import torch

    logging.disable(logging.WARNING)
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.warm:
        x = torch.randn(512, 512)
        (x @ x).sum()  # a parallel op: the OpenMP workers are created now, before any Trainer
    from reelgan import devices
    from reelgan.config import build_config
    from reelgan.training import Trainer, train

    apply_flush_mode(args.flush)
    make = CONFIGS[args.config]
    with tempfile.TemporaryDirectory() as tmp:
        if args.time:
            config = build_config(overrides=make(str(Path(tmp) / "t"), 10**6))
            trainer = Trainer(config, None)
            for _ in range(args.warmup):
                trainer.step()
            start = time.perf_counter()
            for _ in range(args.steps):
                trainer.step()
            seconds = (time.perf_counter() - start) / args.steps
            print(json.dumps({"s_per_step": seconds, "share": devices.denormal_flush_share(),
                              "threads": torch.get_num_threads()}), flush=True)
            return
        for rep in range(args.reps):
            root = Path(tmp) / str(rep)
            straight = train(build_config(overrides=make(str(root / "a"), args.steps)), show_progress=False)
            share = devices.denormal_flush_share()  # the state training ran in (the Trainer set it)
            row = {"straight": checkpoint_hash(straight.run_dir), "straight_losses": losses(straight.run_dir),
                   "share": share, "threads": torch.get_num_threads()}
            if args.resume_at:
                stopped = train(build_config(overrides=make(str(root / "b"), args.resume_at)), show_progress=False)
                resumed = train(build_config(overrides=make(str(root / "b"), args.steps)), resume=stopped.run_dir,
                                show_progress=False)
                row.update(resumed=checkpoint_hash(resumed.run_dir), resumed_losses=losses(resumed.run_dir))
            print(json.dumps(row), flush=True)


# ---- parent ---------------------------------------------------------------------------------------------------

class Burners:
    """`count` CPU-burning processes for the duration of a `with` block (killed by their own handles)."""

    def __init__(self, count: int) -> None:
        self.count, self.procs = count, []

    def __enter__(self) -> "Burners":
        self.procs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(self.count)]
        return self

    def __exit__(self, *exc) -> None:
        for proc in self.procs:
            proc.kill()
            proc.wait()


def child_command(args: argparse.Namespace, flush: str, warm: bool, config: str, timing: bool) -> list[str]:
    command = [sys.executable, __file__, "--child", "--flush", flush, "--config", config,
               "--steps", str(args.steps), "--resume-at", str(args.resume_at), "--reps", str(args.reps),
               "--threads", str(args.threads), "--warmup", str(args.warmup)]
    return command + (["--warm"] if warm else []) + (["--time"] if timing else [])


def run_child(command: list[str]) -> list[dict]:
    done = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "PYTHONHASHSEED": "random"})
    if done.returncode != 0:
        raise SystemExit(f"trial failed:\n{done.stderr[-3000:]}")
    return [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]


def first_difference(a: list, b: list) -> int | None:
    """The first step (1-based) whose logged loss differs, or None."""
    return next((i + 1 for i, (x, y) in enumerate(zip(a, b)) if x != y), None)


def trials(args: argparse.Namespace) -> dict:
    rows: list[dict] = []
    started = time.perf_counter()
    with Burners(args.load):
        for trial in range(args.trials):
            rows += run_child(child_command(args, args.flush, args.warm, args.config, timing=False))
            if args.verbose:
                print(f"trial {trial + 1}: {rows[-1]['straight']} {rows[-1].get('resumed', '')}", flush=True)
    straight = collections.Counter(r["straight"] for r in rows)
    resumed = collections.Counter(r["resumed"] for r in rows if "resumed" in r)
    reference = straight.most_common(1)[0][0]
    ref_losses = next(r["straight_losses"] for r in rows if r["straight"] == reference)
    odd_steps = sorted({first_difference(ref_losses, r[key + "_losses"]) for r in rows
                        for key in ("straight", "resumed") if r.get(key, reference) != reference} - {None})
    result = {
        "config": args.config, "flush": args.flush, "warm": args.warm, "load": args.load, "trials": args.trials,
        "reps": args.reps, "steps": args.steps, "resume_at": args.resume_at,
        "threads": sorted({r["threads"] for r in rows}), "flush_share": sorted({r["share"] for r in rows}),
        "straight_runs": sum(straight.values()), "straight_hashes": dict(straight),
        "resumed_runs": sum(resumed.values()), "resumed_hashes": dict(resumed),
        "distinct_hashes": len(set(straight) | set(resumed)),
        "runs_off_the_common_hash": sum(n for h, n in (straight + resumed).items() if h != reference),
        "first_differing_logged_steps": odd_steps, "wall_s": round(time.perf_counter() - started, 1),
    }
    print(f"{args.config} config, {args.trials} fresh processes x {args.reps} runs, {args.steps} steps"
          f"{f' (resumed at {args.resume_at})' if args.resume_at else ''}, threads {result['threads']}, "
          f"flush {args.flush}{' after a warm-up op' if args.warm else ''}, {args.load} burner(s)")
    print(f"  uninterrupted: {len(straight)} distinct hash(es) over {result['straight_runs']} runs {dict(straight)}")
    if resumed:
        print(f"  resumed:       {len(resumed)} distinct hash(es) over {result['resumed_runs']} runs {dict(resumed)}")
    print(f"  all runs: {result['distinct_hashes']} distinct, {result['runs_off_the_common_hash']} off the common "
          f"hash; first differing logged steps {odd_steps}; denormal flush share {result['flush_share']}")
    return result


def speed(args: argparse.Namespace) -> dict:
    """s/step of each flush mode on the tiny and the 32 px default config, in fresh processes, interleaved."""
    cases = [("old", False), ("old", True), ("all", True), ("off", False)]
    result: dict = {}
    with Burners(args.load):
        for config in ("tiny", "default"):
            times: dict[str, list[float]] = collections.defaultdict(list)
            shares: dict[str, float] = {}
            for _ in range(args.rounds):  # A B C D A B C D ...: machine noise spreads over every mode
                for flush, warm in cases:
                    name = f"{flush}{' (warm)' if warm else ''}"
                    (row,) = run_child(child_command(args, flush, warm, config, timing=True))
                    times[name].append(row["s_per_step"])
                    shares[name] = row["share"]
            result[config] = {name: {"median_s_per_step": statistics.median(t), "all": t, "flush_share": shares[name]}
                              for name, t in times.items()}
            base = result[config]["old"]["median_s_per_step"]
            print(f"{config} config, {args.steps} timed steps after {args.warmup}, median of {args.rounds} processes:")
            for name, entry in result[config].items():
                s = entry["median_s_per_step"]
                print(f"  {name:10s} {s * 1000:8.1f} ms/step  {1 / s:7.2f} steps/s  ({s / base - 1:+.1%} vs old)  "
                      f"flush share {entry['flush_share']}")
    return result


def machine() -> dict:
    import torch

    model = ""
    try:
        model = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                     if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return {"cpu": model or platform.processor(), "cores": os.cpu_count(), "torch": torch.__version__,
            "python": platform.python_version(), "default_threads": torch.get_num_threads()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=10, help="fresh processes")
    parser.add_argument("--reps", type=int, default=2, help="straight + resumed run pairs per process")
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--resume-at", type=int, default=5, help="stop here and resume (0: no resumed runs)")
    parser.add_argument("--config", choices=sorted(CONFIGS), default="tiny")
    parser.add_argument("--threads", type=int, default=0, help="torch.set_num_threads first (0: torch's default)")
    parser.add_argument("--flush", choices=FLUSH_MODES, default="as-is")
    parser.add_argument("--warm", action="store_true", help="a multi-threaded op before the first Trainer")
    parser.add_argument("--load", type=int, default=0, help="CPU-burning processes running beside the trials")
    parser.add_argument("--speed", action="store_true", help="time each flush mode instead")
    parser.add_argument("--rounds", type=int, default=3, help="--speed: processes per mode and config")
    parser.add_argument("--warmup", type=int, default=2, help="--speed: untimed steps first")
    parser.add_argument("--json", default=None, help="also write the result here")
    parser.add_argument("--verbose", action="store_true")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--time", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    result = {"machine": machine(), **(speed(args) if args.speed else trials(args))}
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
