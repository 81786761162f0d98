"""Steps per second of training systems on this machine, side by side in one invocation.

Each system runs for `--seconds` of wall time after a warm-up of `--warmup` steps, in the order given, then
the whole list is run again (`--rounds`), so a change in the machine's load shows as a difference between
rounds rather than between systems. Systems are named as in `run.py` (`NAME=JSON` with reelgan config
sections, or `{"kind": "reference", ...}`); `"precision": "bf16"` and `"channels_last": true` in `train`
measure bf16 autocast and the channels-last layout on the CPU.

    python -m benchmarks.quality.speed --data /work/data/fashion-mnist/fashion-mnist.npy --seconds 20 \\
        --system 'ref={"kind": "reference"}' --system 'default={}'
"""

from __future__ import annotations

import argparse
import json
import os
import time

import torch


def time_reelgan(system: dict, source: str, channels: int, seconds: float, warmup: int) -> dict:
    """Generator steps per second of a reelgan Trainer on `source`."""
    from reelgan.training import Trainer

    from .run import resolved_config, warm

    config = resolved_config(system, source, channels, "cpu", 0)
    trainer = Trainer(config, None)
    warm(trainer.dataset)
    for _ in range(warmup):
        trainer.step()
    steps, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        trainer.step()
        steps += 1
    trainer.check_finite()
    return {"steps": steps, "seconds": time.perf_counter() - start}


def time_reference(settings: dict, source: str, channels: int, seconds: float, warmup: int) -> dict:
    """Generator steps per second of the reference loop (its own warm-up is its first steps)."""
    from reelgan.config import DataConfig
    from reelgan.data import build_dataset

    from .reference_dcgan import train_reference
    from .run import RESOLUTION, warm

    dataset = build_dataset(DataConfig(source=source, resolution=RESOLUTION, channels=channels))
    warm(dataset)
    import tempfile

    with tempfile.TemporaryDirectory() as out:
        log = train_reference(dataset, seconds, seconds, out, 0, **settings)
    return {"steps": log["steps"], "seconds": log["train_s"]}


def main(argv: list[str] | None = None) -> int:
    from .run import parse_system

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default="logograms")
    parser.add_argument("--channels", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--system", action="append", default=[], metavar="NAME=JSON")
    parser.add_argument("--json", default=None, help="also write the results here")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    systems = [parse_system(text) for text in args.system]
    rows: dict[str, list[float]] = {name: [] for name, _ in systems}
    print(f"load {os.getloadavg()[0]:.2f}, {torch.get_num_threads()} threads, {args.data}")
    for round_index in range(args.rounds):
        for name, system in systems:
            if system["kind"] == "reference":
                result = time_reference(system["settings"], args.data, args.channels, args.seconds, args.warmup)
            else:
                result = time_reelgan(system, args.data, args.channels, args.seconds, args.warmup)
            rate = result["steps"] / result["seconds"]
            rows[name].append(rate)
            print(f"round {round_index + 1}  {name:24s} {rate:6.2f} steps/s  (load {os.getloadavg()[0]:.2f})",
                  flush=True)
    print("\n| system | steps/s per round |\n| --- | --- |")
    for name, rates in rows.items():
        print(f"| {name} | {' / '.join(f'{r:.2f}' for r in rates)} |")
    if args.json:
        with open(args.json, "w") as handle:
            json.dump({"data": args.data, "threads": torch.get_num_threads(), "rates": rows}, handle, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
