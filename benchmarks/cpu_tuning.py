"""Wall-clock tuning runs: train for a fixed time and save the EMA generator's grid at time marks.

Used to choose reelgan's CPU defaults: compare the WGAN-GP paper's preset with the defaults on the same data
for the same wall time (grids at 2, 5 and 10 minutes by default).

    python benchmarks/cpu_tuning.py --data ../shared/data/omniglot_background.zip --preset paper --tag omniglot-paper
    python benchmarks/cpu_tuning.py --data logograms --tag logograms-default

With `--snapshot-every 1 --snapshot-dir DIR` it also exports the EMA generator every minute (DIR/TAG-XXmin),
for `benchmarks/fid_curves.py` to score after the run, so scoring does not eat into the timed run.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import torch

from reelgan.config import build_config
from reelgan.gan.generator import export_generator, generator_spec, weights_hash
from reelgan.media import make_grid, save_png, upscale
from reelgan.provenance import make_record
from reelgan.training import Trainer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default="logograms")
    parser.add_argument("--preset", default="default")
    parser.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=JSON",
                        help="extra override, e.g. train.n_critic=1 (repeatable)")
    parser.add_argument("--marks", default="2,5,10", help="minutes at which to save a grid")
    parser.add_argument("--tag", required=True, help="name of the output files")
    parser.add_argument("--out", default="benchmarks/results")
    parser.add_argument("--snapshot-every", type=float, default=0.0, help="minutes between exports (0: none)")
    parser.add_argument("--snapshot-dir", default=None, help="where the exports go")
    args = parser.parse_args()

    overrides: dict = {"data": {"source": args.data, "resolution": 32, "channels": 1},
                       "train": {"steps": 10**9, "device": "cpu"}}
    for item in args.set:
        key, value = item.split("=", 1)
        section, name = key.split(".")
        overrides.setdefault(section, {})[name] = json.loads(value)
    config = build_config(args.preset, None, overrides)
    marks = [float(m) for m in args.marks.split(",")]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    setup_start = time.perf_counter()
    trainer = Trainer(config, Path(tempfile.mkdtemp()))
    setup_s = time.perf_counter() - setup_start
    z = torch.randn(64, config.net.latent_dim, generator=torch.Generator().manual_seed(7))
    log = {"tag": args.tag, "config": config.to_dict(), "setup_s": round(setup_s, 1), "marks": [],
           "threads": torch.get_num_threads()}
    snapshots = [] if not args.snapshot_every else [
        args.snapshot_every * i for i in range(int(round(max(marks) / args.snapshot_every)) + 1)]
    log["snapshots"] = []

    def export_due(elapsed_min: float) -> None:
        # Exports take a few milliseconds; their time is inside the run's wall clock.
        while snapshots and snapshots[0] <= elapsed_min:
            minutes = snapshots.pop(0)
            spec = generator_spec(config.to_dict(), trainer.class_names, trainer.step_count)
            stem = f"{args.tag}-{minutes:05.2f}min"
            export_generator(trainer.G_ema, spec, Path(args.snapshot_dir), stem=stem)
            log["snapshots"].append({"minutes": minutes, "step": trainer.step_count, "stem": stem})

    start = time.perf_counter()
    for mark in marks:
        while time.perf_counter() - start < mark * 60:
            export_due((time.perf_counter() - start) / 60)
            trainer.step()
        export_due(mark)
        trainer.check_finite()
        with torch.no_grad():
            images = trainer.G_ema(z).float()
        path = out / f"{args.tag}-{mark:g}min.png"
        save_png(path, upscale(make_grid(images, nrow=8), 2 * 8 * 33),
                 make_record(generator_hash=weights_hash(trainer.G_ema), seed=7, step=trainer.step_count))
        log["marks"].append({"minutes": mark, "step": trainer.step_count, "grid": path.name})
        print(json.dumps(log["marks"][-1]), flush=True)
    (out / f"{args.tag}.json").write_text(json.dumps(log, indent=2) + "\n")


if __name__ == "__main__":
    main()
