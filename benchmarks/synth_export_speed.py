"""Export speed of `reelgan synth export` (images/s) at 32 and 64 px in each layout, and its memory for a large set.

A default-width generator (untrained: speed does not depend on the weights), RGB, as `preference.py` builds
it. Each (resolution, layout) exports --n images into a fresh folder, one after the other in one invocation;
the time includes sampling, the AI record on every image, PNG or archive encoding and labels.csv. Memory: an
export of --large images (npz, 1,000 a part) runs in a child process, whose peak resident memory
(`ru_maxrss`) is reported beside that of a child that only loads the generator and samples one batch.

    python benchmarks/synth_export_speed.py --n 2000 --large 100000 --out benchmarks/results/synth-export-speed.json
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent
CHILD = """
import resource, sys, time
sys.path.insert(0, {here!r})
from preference import untrained
from reelgan.synth import ExportSettings, export_synthetic
G = untrained({resolution})
start = time.perf_counter()
if {n}:
    export_synthetic(G, {out!r}, ExportSettings(layout="npz", n={n}), show_progress=False)
else:
    G.sample(256, seed=0)
print(time.perf_counter() - start, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""


def timed_export(resolution: int, layout: str, n: int, folder: Path) -> float:
    """Seconds to export `n` images of an untrained default generator at `resolution` in `layout`."""
    from preference import untrained

    from reelgan.synth import ExportSettings, export_synthetic

    G = untrained(resolution)
    start = time.perf_counter()
    export_synthetic(G, folder, ExportSettings(layout=layout, n=n), show_progress=False)
    return time.perf_counter() - start


def child_memory(resolution: int, n: int, out: Path) -> tuple[float, float]:
    """(seconds, peak resident MB) of a child process exporting `n` images (0: only sampling one batch)."""
    code = CHILD.format(here=str(HERE), resolution=resolution, n=n, out=str(out))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    seconds, peak = map(float, done.stdout.split())
    return seconds, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--large", type=int, default=100_000)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    sys.path.insert(0, str(HERE))
    results = {"machine": f"{platform.machine()}, {torch.get_num_threads()} torch threads", "n": args.n,
               "images_per_s": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for resolution in (32, 64):
            for layout in ("imagefolder", "npz", "webdataset"):
                seconds = timed_export(resolution, layout, args.n, Path(tmp) / f"{layout}-{resolution}")
                results["images_per_s"][f"{layout} {resolution} px"] = round(args.n / seconds, 1)
                print(f"{layout} {resolution} px: {args.n / seconds:.0f} images/s", flush=True)
        if args.large:
            base_s, base_mb = child_memory(32, 0, Path(tmp) / "none")
            seconds, peak = child_memory(32, args.large, Path(tmp) / "large")
            size = sum(p.stat().st_size for p in (Path(tmp) / "large").rglob("*") if p.is_file())
            results["large"] = {"images": args.large, "layout": "npz", "resolution": 32, "seconds": round(seconds, 1),
                                "peak_rss_mb": round(peak), "peak_rss_mb_sampling_one_batch": round(base_mb),
                                "folder_mb": round(size / 2**20, 1)}
            print(results["large"], flush=True)
    print(json.dumps(results, indent=2))
    if args.out:
        args.out.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
