"""Do the EMA generator's batch-norm statistics cause its minute-to-minute FID swings?

The EMA generator averages weights but copies the batch-norm running statistics of the live generator, which
were measured on the live weights' activations over its last few batches. This script rescores a benchmark
run's snapshots twice, in the benchmark's own way (same reference images, same latents, same extractor):
as saved, and after `recompute_batch_norm` has measured the statistics again on the averaged weights
("standing statistics", as BigGAN samples).

    python -m benchmarks.quality.bn_restat --dataset fashion-mnist --system reelgan-default \\
        --work-dir /work/bench/work --extractor /work/bench/extractors/fashion-mnist-32.safetensors
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from .datasets import get_dataset
from .run import RESOLUTION, load_snapshot


def main(argv: list[str] | None = None) -> int:
    from reelgan.gan.standing_stats import recompute_batch_norm
    from reelgan.metrics import compute_metrics
    from reelgan.metrics.domain import load_extractor
    from reelgan.metrics.evaluate import real_images, reference_features

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", required=True)
    parser.add_argument("--system", default="reelgan-default")
    parser.add_argument("--work-dir", type=Path, required=True)
    parser.add_argument("--extractor", required=True)
    parser.add_argument("--n", type=int, default=5000)
    parser.add_argument("--batches", type=int, default=32, help="batches of 64 latents for the new statistics")
    parser.add_argument("--json", default=None)
    args = parser.parse_args(argv)
    spec = get_dataset(args.dataset)
    extractor = load_extractor(args.extractor)
    real = real_images(spec.reference, RESOLUTION, spec.channels, args.n)
    real_features = reference_features(real, extractor)
    log = json.loads((args.work_dir / args.dataset / args.system / "log.json").read_text())
    rows = []
    for snap in log["snapshots"]:
        G = load_snapshot(snap["path"])
        as_saved = compute_metrics(["fid", "kid"], real_features, extractor.features(G.sample(len(real), seed=0)))
        recompute_batch_norm(G.net, batches=args.batches)
        restat = compute_metrics(["fid", "kid"], real_features, extractor.features(G.sample(len(real), seed=0)))
        rows.append({"minutes": snap["minutes"], "step": snap["step"], "fid_saved": round(as_saved["fid"], 3),
                     "fid_restat": round(restat["fid"], 3), "kid_saved": round(as_saved["kid"], 5),
                     "kid_restat": round(restat["kid"], 5)})
        print(json.dumps(rows[-1]), flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps({"dataset": args.dataset, "system": args.system, "rows": rows},
                                              indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
