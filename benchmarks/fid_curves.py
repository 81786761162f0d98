"""FID against wall-clock time: score the generator snapshots that `cpu_tuning.py --snapshot-every` exported.

Scoring happens after the timed runs, so it costs the runs nothing. Each snapshot is scored on 10,000
samples against 10,000 real images with a domain extractor (`fid10k_domain-...`); the last snapshot of each
run also gets KID and precision/recall.

    python benchmarks/fid_curves.py --data logograms --tags logograms-default,logograms-paper \\
        --snapshots /work/curves/snapshots --name logograms
    python benchmarks/fid_curves.py --data ../shared/data/omniglot_background.zip \\
        --extractor domain-omniglot_background-32.safetensors \\
        --tags omniglot-default,omniglot-paper --snapshots /work/curves/snapshots --name omniglot
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from reelgan.gan.generator import load_generator  # noqa: E402
from reelgan.metrics.evaluate import choose_extractor, evaluate_generator  # noqa: E402


def score_run(tag: str, results_dir: Path, snapshots: Path, data: str, extractor, n: int) -> dict:
    """FID of every snapshot of one run, plus KID and precision/recall of its last."""
    log = json.loads((results_dir / f"{tag}.json").read_text())
    points = []
    for i, snap in enumerate(log["snapshots"]):
        G = load_generator(snapshots / f"{snap['stem']}.safetensors")
        last = i == len(log["snapshots"]) - 1
        start = time.perf_counter()
        results = evaluate_generator(G, data, ["fid", "kid", "pr"] if last else ["fid"], n=n, extractor=extractor)
        point = {"minutes": snap["minutes"], "step": snap["step"], **results,
                 "score_s": round(time.perf_counter() - start, 1)}
        print(json.dumps(point), flush=True)
        points.append(point)
    return {"tag": tag, "preset": log["config"].get("preset", tag.rsplit("-", 1)[-1]), "points": points}


def plot_curves(runs: list[dict], key: str, title: str, path: Path) -> None:
    """Two panels, one line per run: FID (log scale) against wall-clock minutes and against generator steps.

    Steps do not depend on how busy the machine was, so the right panel checks the left one.
    """
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), dpi=120)
    for run in runs:
        points = [p for p in run["points"] if p["minutes"] > 0]
        for axis, x in zip(axes, ("minutes", "step")):
            label = run.get("label", run["tag"])
            axis.plot([p[x] for p in points], [p[key] for p in points], marker="o", label=label)
    for axis, label in zip(axes, ("wall-clock minutes of training (2-core CPU)", "generator steps")):
        axis.set_yscale("log")
        axis.set_xlabel(label)
        axis.set_ylabel(key)
        axis.grid(True, which="both", alpha=0.3)
        axis.legend()
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", required=True)
    parser.add_argument("--extractor", default=None, help="domain extractor (default: bundled, logograms)")
    parser.add_argument("--tags", required=True, help="comma-separated cpu_tuning.py tags")
    parser.add_argument("--snapshots", required=True)
    parser.add_argument("--name", required=True, help="output name: results/fid-curves-NAME.{json,png}")
    parser.add_argument("--n", type=int, default=10000)
    parser.add_argument("--results", default="benchmarks/results")
    parser.add_argument("--replot", action="store_true", help="only redraw the PNG from the JSON")
    args = parser.parse_args()

    results_dir = Path(args.results)
    if args.replot:
        saved = json.loads((results_dir / f"fid-curves-{args.name}.json").read_text())
        plot_curves(saved["runs"], saved["key"], f"{args.name}: {saved['key']}",
                    results_dir / f"fid-curves-{args.name}.png")
        return
    extractor = choose_extractor(args.extractor, args.data)
    runs = [score_run(tag, results_dir, Path(args.snapshots), args.data, extractor, args.n)
            for tag in args.tags.split(",")]
    key = next(k for k in runs[0]["points"][0] if k.startswith("fid"))
    (results_dir / f"fid-curves-{args.name}.json").write_text(json.dumps({"key": key, "runs": runs}, indent=2) + "\n")
    plot_curves(runs, key, f"{args.name}: {key}", results_dir / f"fid-curves-{args.name}.png")


if __name__ == "__main__":
    main()
