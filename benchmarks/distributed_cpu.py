"""Several processes on the CPU (torchrun, gloo) against one, with the same global batch: speed and results.

For each process count N (default 1 and 2) it trains reelgan's default recipe on the built-in logograms for
`--steps` steps through `torchrun --standalone --nproc-per-node N`, with the machine's cores split evenly
between the processes (`--threads cores/N`), and reads the run's stats.jsonl: steps/s over the timed
logging windows (the first window, with start-up, is left out) and the losses. Each configuration runs
`--rounds` times, alternating, so the machine's drift meets them alike.

Equivalence: the final generators are compared parameter by parameter (relative L2 distance of G_ema's
weights). For scale, two single-process runs that differ only in their seed are compared the same way: runs
of N processes are "documented-equivalent" when they are much nearer the one-process run than another seed
is. Batch norm in the generator sees each process's share of the batch, so they are not identical.

    python benchmarks/distributed_cpu.py                      # 1 vs 2 processes, 600 steps, 2 rounds
    python benchmarks/distributed_cpu.py --steps 200 --rounds 1 --json /tmp/dist.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import torch

from reelgan.gan.checkpoint import load_checkpoint

DATA = ["--data", "logograms", "--resolution", "32", "--log-every", "50", "--sample-every", "0",
        "--checkpoint-every", "0", "--device", "cpu", "--no-progress"]


def train(processes: int, steps: int, batch: int, seed: int, out: Path) -> Path:
    """One run under torchrun with `processes` processes; its run folder."""
    threads = max(1, (os.cpu_count() or 2) // processes)
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={processes}",
               "-m", "reelgan", "train", *DATA, "--steps", str(steps), "--batch", str(batch), "--seed", str(seed),
               "--threads", str(threads), "--out", str(out)]
    subprocess.run(command, check=True, capture_output=True, env={**os.environ, "OMP_NUM_THREADS": str(threads)})
    (run,) = out.iterdir()
    return run


def rates_and_losses(run: Path) -> tuple[list[float], list[float]]:
    """steps/s of each logging window after the first, and loss_D of every logging step."""
    rows = [json.loads(line) for line in (run / "stats.jsonl").read_text().splitlines()]
    return [row["steps_per_s"] for row in rows[1:]], [row["loss_D"] for row in rows]


def weights(run: Path) -> torch.Tensor:
    """G_ema's floating-point parameters, flattened (running statistics left out)."""
    state = load_checkpoint(run / "checkpoints" / "latest.pt")["G_ema"]
    return torch.cat([v.flatten().double() for k, v in sorted(state.items())
                      if v.is_floating_point() and "running" not in k])


def relative_distance(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a - b).norm() / a.norm())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--processes", default="1,2", help="process counts to compare (default 1,2)")
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--batch", type=int, default=64, help="global batch (default 64)")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    counts = [int(n) for n in args.processes.split(",")]
    results: dict[str, dict] = {str(n): {"rates": [], "runs": []} for n in counts}
    with tempfile.TemporaryDirectory() as tmp:
        for round_ in range(args.rounds):
            for n in counts if round_ % 2 == 0 else reversed(counts):
                run = train(n, args.steps, args.batch, 0, Path(tmp) / f"n{n}-r{round_}")
                rates, losses = rates_and_losses(run)
                results[str(n)]["rates"] += rates
                results[str(n)]["runs"].append({"weights": weights(run), "loss_D": losses})
        other_seed = weights(train(1, args.steps, args.batch, 1, Path(tmp) / "seed1"))
        single = results["1"]["runs"][0]["weights"] if "1" in results else None
        table = []
        for n in counts:
            entry = results[str(n)]
            row = {"processes": n, "threads_each": max(1, (os.cpu_count() or 2) // n),
                   "steps_per_s": round(statistics.median(entry["rates"]), 3)}
            if single is not None:
                row["distance_to_1_process"] = round(relative_distance(single, entry["runs"][-1]["weights"]), 5)
            table.append(row)
        seed_distance = relative_distance(single, other_seed) if single is not None else None
    base = next((r["steps_per_s"] for r in table if r["processes"] == 1), None)
    print(f"{args.steps} steps, global batch {args.batch}, {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cores; another seed lies at relative distance {seed_distance:.4f}")
    print("| processes | threads each | steps/s | ratio to 1 process | G_ema distance to 1 process |")
    print("| --- | --- | --- | --- | --- |")
    for row in table:
        ratio = f"{row['steps_per_s'] / base:.2f}" if base else "-"
        print(f"| {row['processes']} | {row['threads_each']} | {row['steps_per_s']} | {ratio} | "
              f"{row.get('distance_to_1_process', '-')} |")
    if args.json:
        args.json.write_text(json.dumps({"steps": args.steps, "batch": args.batch, "rounds": args.rounds,
                                         "seed_distance": seed_distance, "table": table}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
