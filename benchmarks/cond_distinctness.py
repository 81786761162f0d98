"""Does a class-conditional generator's label matter? Class distinctness and per-class FID (intra-FID).

For S seeds and every class c, the generator draws x(seed, c). Then:

- class change: the mean RMS pixel difference between x(s, c) and x(s, c') for the same seed and two
  classes, over all seeds and class pairs (images in [-1, 1]);
- seed change: the same between x(s, c) and x(s', c), two seeds of one class;
- distinctness = class change / seed change: near 0 when the label barely changes the image, near 1 or
  more when changing the class changes as much as drawing another image;
- class accuracy: the share of samples whose nearest class mean in the domain feature space (means of the
  real images' features per class) is the class asked for (chance: 1 / classes);
- real accuracy: the same measure for the real images themselves, each left out of its own class mean: the
  ceiling of class accuracy in this feature space (how far apart the classes are to the extractor);
- intra-FID: FID of each class's samples against that class's real images in the domain feature space,
  averaged over classes (few real images per class bias it upwards: compare runs, not absolute values).

    python benchmarks/cond_distinctness.py runs/00004-omniglot_background-r3gan-32 \\
        --data ../shared/data/omniglot_background.zip --extractor EXTRACTOR.safetensors --seeds 64
"""

from __future__ import annotations

import argparse
import json

import numpy as np
import torch

from reelgan.config import DataConfig
from reelgan.data import build_dataset
from reelgan.gan.generator import load_generator, seed_latents
from reelgan.metrics.distances import fid
from reelgan.metrics.distinctness import class_distinctness
from reelgan.metrics.evaluate import choose_extractor


def real_by_class(data: str, resolution: int, channels: int, class_depth: int) -> tuple[list[str], dict]:
    dataset = build_dataset(DataConfig(source=data, resolution=resolution, channels=channels, cond=True,
                                       class_depth=class_depth))
    images: dict[int, list[torch.Tensor]] = {}
    for i in range(len(dataset)):
        image, label = dataset[i]
        images.setdefault(int(label), []).append(image)
    return list(dataset.class_names), {c: torch.stack(v) for c, v in images.items()}


def real_accuracy(real_features: dict[int, np.ndarray], means: np.ndarray) -> float:
    """Nearest-class-mean accuracy of the real images, each one left out of its own class's mean (C, D)."""
    correct = total = 0
    for c in range(len(means)):
        feats, n = real_features[c], len(real_features[c])
        distances = ((feats[:, None, :] - means[None]) ** 2).sum(-1)  # (n, C)
        if n > 1:  # the own class's mean without the item: (n * mean - x) / (n - 1)
            own = (n * means[c][None] - feats) / (n - 1)
            distances[:, c] = ((feats - own) ** 2).sum(-1)
        correct += int((distances.argmin(axis=1) == c).sum())
        total += n
    return correct / total


def measure(generator: str, data: str, extractor_path: str | None, seeds: int, class_depth: int) -> dict:
    G = load_generator(generator)
    names, real = real_by_class(data, G.resolution, G.channels, class_depth)
    classes = len(names)
    z = seed_latents(list(range(seeds)), G.spec["latent_dim"])
    samples = torch.stack([G(z, torch.full((seeds,), c, dtype=torch.long)) for c in range(classes)])  # (C, S, ...)
    change = class_distinctness(lambda _, labels: samples[int(labels[0])], z, classes, max_classes=classes)
    extractor = choose_extractor(extractor_path, data)
    real_features = {c: extractor.features(real[c]) for c in range(classes)}
    means = np.stack([real_features[c].mean(axis=0) for c in range(classes)])  # (C, D)
    correct, intra = 0, []
    for c in range(classes):
        feats = extractor.features(samples[c])
        nearest = np.argmin(((feats[:, None, :] - means[None]) ** 2).sum(-1), axis=1)
        correct += int((nearest == c).sum())
        intra.append(fid(real_features[c], feats)["fid"])
    return {"generator": generator, "trained_steps": G.spec.get("trained_steps"), "classes": classes,
            "seeds": seeds, "class_change": change["class_change"], "seed_change": change["seed_change"],
            "distinctness": change["distinctness"],
            "class_accuracy": round(correct / (classes * seeds), 3), "chance": round(1 / classes, 3),
            "real_accuracy": round(real_accuracy(real_features, means), 3),
            "intra_fid": round(float(np.mean(intra)), 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("generators", nargs="+")
    parser.add_argument("--data", required=True)
    parser.add_argument("--extractor", default=None)
    parser.add_argument("--seeds", type=int, default=64)
    parser.add_argument("--class-depth", type=int, default=1)
    args = parser.parse_args()
    for generator in args.generators:
        print(json.dumps(measure(generator, args.data, args.extractor, args.seeds, args.class_depth)), flush=True)


if __name__ == "__main__":
    main()
