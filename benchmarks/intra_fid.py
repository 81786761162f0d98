"""How much does a class-conditional generator follow its labels? Intra-FID beside its two bounds.

For a `--cond` run and its labelled real images (a folder per class), in one domain extractor's features:

- `generator`: `reelgan metrics --per-class N` as users run it: FID within each class, and the mean (intra-FID);
- `labels ignored`: the same generator's samples with labels drawn at random, scored against each class,
  which is what a generator that ignores its label would score (the upper reference);
- `real vs real`: each class's real images split in two halves, one scored against the other (the floor at
  this sample size: FID is biased upwards at small N).

    python benchmarks/intra_fid.py RUN --real REAL_DIR --extractor EXTRACTOR --per-class 500 --out result.json
"""

from __future__ import annotations

import argparse
import json
import platform
from pathlib import Path

import numpy as np
import torch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run", type=Path)
    parser.add_argument("--real", required=True)
    parser.add_argument("--extractor", required=True)
    parser.add_argument("--per-class", type=int, default=500)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    from reelgan.gan.generator import load_generator
    from reelgan.metrics.distances import fid
    from reelgan.metrics.domain import load_extractor
    from reelgan.metrics.per_class import class_images, per_class_fid

    G = load_generator(args.run)
    extractor = load_extractor(args.extractor)
    ours = per_class_fid(G, args.real, extractor, args.per_class)
    real = class_images(args.real, G, 1, 2 * args.per_class)
    mixture = extractor.features(G.sample(args.per_class, seed=10**6))  # labels drawn at random per seed
    ignored, floor = {}, {}
    for name, images in real.items():
        features = extractor.features(images)
        ignored[name] = fid(features[: args.per_class], mixture)["fid"]
        half = len(features) // 2
        floor[name] = fid(features[:half], features[half:])["fid"]
    key = next(k for k in ours if k.startswith("intra_fid") and k != "intra_fid_classes")
    result = {"machine": f"{platform.machine()}, {torch.get_num_threads()} torch threads", "run": str(args.run),
              "n_per_class": args.per_class, "generator_intra_fid": round(ours[key], 2),
              "labels_ignored_intra_fid": round(float(np.mean(list(ignored.values()))), 2),
              "real_vs_real_intra_fid": round(float(np.mean(list(floor.values()))), 2),
              "per_class": {name: {"generator": round(ours[k], 2), "labels_ignored": round(ignored[name], 2),
                                   "real_vs_real": round(floor[name], 2)}
                            for name in real for k in ours if f"_class-{name}_" in k}}
    print(json.dumps(result, indent=2))
    if args.out:
        args.out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
