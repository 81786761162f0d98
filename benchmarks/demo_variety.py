"""Do a logogram generator's samples have the procedural set's variety, or are they alike thin rings?

The procedural logograms have tendrils, blots, gaps in the ring and inner marks. Three shape statistics of
each 32 px glyph (ink = pixels darker than mid-grey) see them:

- ink share: the fraction of pixels that are ink (thin rings: small; blots and tendrils: larger);
- ink pieces: 8-connected components of ink (detached blots and inner marks add pieces);
- enclosed regions: 4-connected components of paper that do not touch the border (a closed ring encloses
  one; a gap opens it to 0; inner marks can split the inside into several).

For each statistic the script reports the real glyphs' and the samples' means and the total-variation
distance between their histograms (0: the same distribution, 1: disjoint), and the domain recall (the share
of real glyphs whose neighbourhood in the bundled logogram extractor's feature space holds a sample: the
variety measure of Kynkaanniemi et al. 2019). Real glyphs are data seed 1, never trained on.

    python benchmarks/demo_variety.py runs/00001-demo-logograms runs/00002-old-demo --n 2000
"""

from __future__ import annotations

import argparse
import json

import numpy as np
import torch
import torch.nn.functional as F

from reelgan.gan.generator import load_generator
from reelgan.metrics.evaluate import evaluate_generator, real_images

BINS = {"ink_share": np.linspace(0, 0.5, 26), "ink_pieces": np.arange(0.5, 12.5), "enclosed": np.arange(-0.5, 8.5)}
# Reported beside the pass line's three: ink pieces of 1-2 pixels. The real glyphs' spatter has about one
# per glyph; a generator that buys its piece count with speckle noise has many more.
SPECK_PIXELS = 3
EXTRA_BINS = {"specks": np.arange(-0.5, 12.5)}


def components(mask: torch.Tensor, diagonal: bool) -> torch.Tensor:
    """Connected components of each (N, H, W) bool mask, by min-label propagation; (N, H, W) int labels, -1 off."""
    n, h, w = mask.shape
    big = n * h * w + 1
    labels = torch.where(mask, torch.arange(n * h * w).view(n, h, w), torch.full_like(mask, big, dtype=torch.long))
    kernel = 3
    while True:
        padded = F.pad(labels[:, None].float(), (1, 1, 1, 1), value=float(big))
        if diagonal:
            spread = -F.max_pool2d(-padded, kernel, stride=1)[:, 0].long()
        else:  # 4-neighbours: the minimum over the cross only
            p = padded[:, 0].long()
            spread = torch.stack([p[:, 1:-1, 1:-1], p[:, :-2, 1:-1], p[:, 2:, 1:-1], p[:, 1:-1, :-2],
                                  p[:, 1:-1, 2:]]).min(dim=0).values
        updated = torch.where(mask, torch.minimum(labels, spread), labels)
        if torch.equal(updated, labels):
            return torch.where(mask, labels, torch.full_like(labels, -1))
        labels = updated


def shape_statistics(images: torch.Tensor) -> dict[str, np.ndarray]:
    """Per-image ink share, ink pieces, enclosed paper regions and specks (ink pieces under SPECK_PIXELS) of
    grayscale glyphs (N, 1, H, W) in [-1, 1]."""
    ink = images[:, 0] < 0  # (N, H, W)
    pieces = components(ink, diagonal=True)
    paper = components(~ink, diagonal=False)
    border = torch.zeros_like(ink)
    border[:, 0, :] = border[:, -1, :] = border[:, :, 0] = border[:, :, -1] = True
    stats: dict[str, list] = {"ink_share": [], "ink_pieces": [], "enclosed": [], "specks": []}
    for i in range(len(images)):
        ink_labels, ink_sizes = pieces[i][pieces[i] >= 0].unique(return_counts=True)
        paper_labels = paper[i][paper[i] >= 0].unique()
        outside = paper[i][border[i] & (paper[i] >= 0)].unique()
        stats["ink_share"].append(float(ink[i].float().mean()))
        stats["ink_pieces"].append(len(ink_labels))
        stats["enclosed"].append(len(paper_labels) - len(outside))
        stats["specks"].append(int((ink_sizes < SPECK_PIXELS).sum()))
    return {k: np.asarray(v, dtype=np.float64) for k, v in stats.items()}


def total_variation(a: np.ndarray, b: np.ndarray, bins: np.ndarray) -> float:
    """Half the L1 distance between the normalised histograms of a and b (values outside the bins clipped)."""
    a, b = np.clip(a, bins[0], bins[-1]), np.clip(b, bins[0], bins[-1])
    ha, _ = np.histogram(a, bins)
    hb, _ = np.histogram(b, bins)
    return float(0.5 * np.abs(ha / ha.sum() - hb / hb.sum()).sum())


def distances(real: dict[str, np.ndarray], fake: dict[str, np.ndarray]) -> dict[str, dict[str, float]]:
    """For each statistic of `shape_statistics` (the pass line's and the extra ones): the real and sample means
    and the TV distance between their histograms."""
    return {name: {"real_mean": round(float(real[name].mean()), 3),
                   "sample_mean": round(float(fake[name].mean()), 3),
                   "tv_distance": round(total_variation(real[name], fake[name], bins), 3)}
            for name, bins in {**BINS, **EXTRA_BINS}.items()}


def variety(generator: str, n: int) -> dict:
    """The shape statistics, their distances to the real glyphs', and the domain recall of one generator."""
    G = load_generator(generator)
    real = shape_statistics(real_images("logograms", G.resolution, 1, n))
    fake = shape_statistics(G.sample(n, seed=0))
    result: dict = {"generator": generator, "trained_steps": G.spec.get("trained_steps"), "n": n}
    result.update(distances(real, fake))
    metrics = evaluate_generator(G, "logograms", ["fid", "pr"], n=n)
    result["domain"] = {k: round(v, 4) for k, v in metrics.items()}
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("generators", nargs="+", help="run folders, checkpoints or generator.safetensors")
    parser.add_argument("--n", type=int, default=2000)
    args = parser.parse_args()
    for generator in args.generators:
        print(json.dumps(variety(generator, args.n)), flush=True)


if __name__ == "__main__":
    main()
