"""How useful is a synthetic set? Train a class-conditional generator for a time budget, export a labelled set,
and score it (`reelgan synth score`: CAS, GAN-test, augmentation gain, the real yardstick).

Fashion-MNIST as the quality benchmark prepares it (`python -m benchmarks.quality.datasets prepare
fashion-mnist`): the generator trains on the 10,000 training images with their labels; the scores use the
10,000 held-out test images, which the generator never saw, as the real set (split again into the
classifiers' own train and test parts).

    python benchmarks/synth_usefulness.py --minutes 10 --per-class 500 --out benchmarks/results/synth-fashion-10min.json
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

DATA = Path("/work/data/fashion-mnist")


def reelgan(*args: str) -> str:
    """Run `reelgan ARGS` and return its stdout (raise with its stderr when it fails)."""
    done = subprocess.run([sys.executable, "-m", "reelgan", *args], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"reelgan {' '.join(args)} failed:\n{done.stderr[-2000:]}")
    return done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--per-class", type=int, default=500)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--threads", type=int, default=0, help="training's CPU threads (0: one per core)")
    parser.add_argument("--work", type=Path, help="keep the run and the export here (default: a temp folder)")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    labels = np.load(args.data / "fashion-mnist-labels.npz")
    with tempfile.TemporaryDirectory() as tmp:
        work = args.work or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        train = work / "train.npz"
        np.savez(train, x=np.load(args.data / "fashion-mnist.npy"), labels=labels["train"])
        real = work / "real-test"
        if not real.exists():  # the held-out test images, one folder per class
            for k, (image, label) in enumerate(zip(np.load(args.data / "fashion-mnist-test.npy"), labels["test"])):
                (real / str(label)).mkdir(parents=True, exist_ok=True)
                Image.fromarray(image).save(real / str(label) / f"{k:05d}.png")
        start = time.perf_counter()
        reelgan("train", "--data", str(train), "--cond", "--channels", "1", "--resolution", "32",
                "--max-minutes", str(args.minutes), "--threads", str(args.threads), "--out", str(work / "runs"),
                "--no-progress")
        trained_s = time.perf_counter() - start
        run = sorted((work / "runs").iterdir())[-1]
        start = time.perf_counter()
        reelgan("synth", "export", str(run), "--out", str(work / "synth"), "--n-per-class", str(args.per_class),
                "--overwrite", "--no-progress")
        export_s = time.perf_counter() - start
        report = work / "score.json"
        table = reelgan("synth", "score", str(work / "synth"), "--real", str(real), "--epochs", str(args.epochs),
                        "--out", str(report))
        result = {"minutes": args.minutes, "threads": args.threads, "per_class": args.per_class,
                  "train_s": round(trained_s, 1),
                  "export_s": round(export_s, 1), "run": run.name, "score": json.loads(report.read_text()),
                  "table": table}
    print(table)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
