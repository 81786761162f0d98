"""Does a glyph generator collapse? Mean pairwise distances of samples against those of real glyphs.

A collapsed generator draws near-identical glyphs: its samples' mean pairwise distance falls far below that
of real glyphs. Measured in pixels (RMS difference, images in [-1, 1]) and in domain-feature space, on
`--n` samples and `--n` real images (a fixed random subset of the data).

    python benchmarks/glyph_diversity.py --generator SNAPSHOT.safetensors \\
        --data ../shared/data/omniglot_background.zip --extractor domain-omniglot_background-32.safetensors
"""

from __future__ import annotations

import argparse
import json

import numpy as np
import torch

from reelgan.gan.generator import load_generator
from reelgan.metrics.evaluate import choose_extractor, real_images


def mean_pairwise(x: np.ndarray) -> float:
    """Mean Euclidean distance over all pairs of rows of `x` (N, D), float64."""
    x = torch.from_numpy(x.astype(np.float64))
    d = torch.cdist(x, x)
    n = len(x)
    return float(d.sum() / (n * (n - 1)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--generator", required=True)
    parser.add_argument("--data", required=True)
    parser.add_argument("--extractor", default=None)
    parser.add_argument("--n", type=int, default=2000)
    args = parser.parse_args()

    G = load_generator(args.generator)
    extractor = choose_extractor(args.extractor, args.data)
    fake = G.sample(args.n, seed=0)
    real = real_images(args.data, G.resolution, G.channels, args.n)
    scale = np.sqrt(fake[0].numel())  # RMS over pixels
    result = {"n": args.n, "generator": args.generator}
    for name, images in (("real", real), ("generated", fake)):
        result[f"{name}_pixel_rms"] = mean_pairwise(images.flatten(1).numpy()) / scale
        result[f"{name}_feature"] = mean_pairwise(extractor.features(images))
    result["pixel_ratio"] = result["generated_pixel_rms"] / result["real_pixel_rms"]
    result["feature_ratio"] = result["generated_feature"] / result["real_feature"]
    print(json.dumps({k: round(v, 4) if isinstance(v, float) else v for k, v in result.items()}))


if __name__ == "__main__":
    main()
