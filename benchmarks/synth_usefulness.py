"""How useful is a synthetic set? Train a class-conditional generator for a time budget, export a labelled set,
and score it (`reelgan synth score`: CAS, GAN-test, augmentation gain, the real yardstick).

Fashion-MNIST as the quality benchmark prepares it (`python -m benchmarks.quality.datasets prepare
fashion-mnist`): the generator trains on the 10,000 training images with their labels; the scores use the
10,000 held-out test images, which the generator never saw, as the real set (split again into the
classifiers' own train and test parts). Omniglot (`--dataset omniglot`): the background set's 30 alphabets
as classes, each character's drawers 1-16 for the generator and 17-20 as the real set.

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
OMNIGLOT = Path(__file__).resolve().parents[2] / "shared" / "data" / "omniglot_background.zip"


def reelgan(*args: str) -> str:
    """Run `reelgan ARGS` and return its stdout (raise with its stderr when it fails)."""
    done = subprocess.run([sys.executable, "-m", "reelgan", *args], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"reelgan {' '.join(args)} failed:\n{done.stderr[-2000:]}")
    return done.stdout


def prepare_fashion(data: Path, work: Path) -> tuple[Path, Path]:
    """Fashion-MNIST: the 10,000 training images with labels as one .npz, the 10,000 test images as class
    folders (the real set of the scores)."""
    labels = np.load(data / "fashion-mnist-labels.npz")
    train = work / "train.npz"
    np.savez(train, x=np.load(data / "fashion-mnist.npy"), labels=labels["train"])
    real = work / "real-test"
    if not real.exists():  # the held-out test images, one folder per class
        for k, (image, label) in enumerate(zip(np.load(data / "fashion-mnist-test.npy"), labels["test"])):
            (real / str(label)).mkdir(parents=True, exist_ok=True)
            Image.fromarray(image).save(real / str(label) / f"{k:05d}.png")
    return train, real


def prepare_omniglot(archive: Path, work: Path, test_drawers: int = 4) -> tuple[Path, Path]:
    """Omniglot's background set at alphabet level (30 classes): each character's first 20 - `test_drawers`
    drawers train the generator, the last `test_drawers` are the real set of the scores (people the
    generator never saw drawing the same characters)."""
    import zipfile

    train, real = work / "train", work / "real-test"
    if not train.exists():
        with zipfile.ZipFile(archive) as source:
            for name in source.namelist():
                parts = name.split("/")
                if len(parts) != 4 or not parts[3].endswith(".png"):
                    continue
                alphabet, character, file = parts[1:]
                drawer = int(file.rsplit("_", 1)[1].split(".")[0])
                folder = (real if drawer > 20 - test_drawers else train) / alphabet
                folder.mkdir(parents=True, exist_ok=True)
                (folder / f"{character}-{file}").write_bytes(source.read(name))
    return train, real


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", choices=("fashion-mnist", "omniglot"), default="fashion-mnist")
    parser.add_argument("--data", type=Path, help="the Fashion-MNIST folder (default /work/data/fashion-mnist) or "
                        "the Omniglot background zip (default ../shared/data/omniglot_background.zip)")
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--per-class", type=int, default=500)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--threads", type=int, default=0, help="training's CPU threads (0: one per core)")
    parser.add_argument("--steps", type=int, default=10**6, help="training's step limit (default: so many that "
                        "--minutes decides; reelgan train's own default stops at its --steps)")
    parser.add_argument("--work", type=Path, help="keep the run and the export here (default: a temp folder)")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = args.work or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        if args.dataset == "omniglot":
            train, real = prepare_omniglot(args.data or OMNIGLOT, work)
        else:
            train, real = prepare_fashion(args.data or DATA, work)
        start = time.perf_counter()
        reelgan("train", "--data", str(train), "--cond", "--channels", "1", "--resolution", "32",
                "--max-minutes", str(args.minutes), "--steps", str(args.steps), "--threads", str(args.threads),
                "--out", str(work / "runs"),
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
        result = {"dataset": args.dataset, "minutes": args.minutes, "steps_limit": args.steps, "threads": args.threads,
                  "per_class": args.per_class, "train_s": round(trained_s, 1),
                  "export_s": round(export_s, 1), "run": run.name, "score": json.loads(report.read_text()),
                  "table": table}
    print(table)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
