"""Measuring a generator against a dataset (images or clips alike), and training a domain extractor on one:
what `reelgan metrics` computes, as library calls."""

from __future__ import annotations

from pathlib import Path

import torch

from ..config import DataConfig
from ..data import build_dataset
from ..errors import ReelganError
from ..gan.generator import Generator
from . import check_metric_names
from .domain import feature_stats, save_extractor, train_domain_net
from .evaluate import choose_extractor, evaluate_generator

IMAGE_SAMPLES = 10000  # default samples of each side for image metrics
CLIP_SAMPLES = 2000    # clips are T times larger than images: 2000 keeps both sides in memory


def measure_generator(G: Generator, data: str, names: list[str], n: int | None = None,
                      extractor: str | None = None, seed: int = 0, per_class: int = 0,
                      class_depth: int = 1) -> dict[str, float]:
    """The named metrics of G against `data`, protocol-named: image metrics in the extractor's features (the
    bundled domain extractor for built-in sets by default), or the proxy FVD of a clip generator with a clip
    extractor. `n` samples of each side (default IMAGE_SAMPLES, CLIP_SAMPLES for clips). With `per_class`
    (images of each side per class), also the FID within each class and intra-FID (`per_class.py`)."""
    check_metric_names(names)
    if n is not None and n < 1:
        raise ReelganError(f"--n must be at least 1; got {n}")
    if per_class < 0:
        raise ReelganError(f"--per-class must be 0 (off) or a number of images per class; got {per_class}")
    if G.is_video or "fvd" in names:
        if per_class:
            raise ReelganError("--per-class is for class-conditional image generators; drop it for clips")
        return _clip_metrics(G, data, names, n or CLIP_SAMPLES, extractor, seed)
    features = choose_extractor(extractor, data, device=G.device)
    if per_class and not G.class_names:  # before minutes of sampling for the overall metrics
        raise ReelganError("--per-class needs a class-conditional generator (trained with --cond); drop it")
    results = evaluate_generator(G, data, names, n=n or IMAGE_SAMPLES, extractor=features, seed=seed)
    if per_class:
        from .per_class import per_class_fid

        results.update(per_class_fid(G, data, features, per_class, class_depth, seed))
    return results


def _clip_metrics(G: Generator, data: str, names: list[str], n: int, extractor: str | None,
                  seed: int) -> dict[str, float]:
    """The proxy FVD of a clip generator, with a clip extractor trained by benchmarks/clip_metrics.py."""
    from .clip_metrics import evaluate_clip_generator, load_clip_extractor

    if not G.is_video or names != ["fvd"]:
        raise ReelganError("fvd is the metric of clip generators, and the only one for them: use --metrics fvd "
                           "with a clip generator (and fid,kid,pr,dc with an image generator)")
    if not extractor:
        raise ReelganError("fvd needs a clip extractor: --extractor CLIPS.safetensors (train one with "
                           "benchmarks/clip_metrics.py --save-extractor)")
    clip_extractor = load_clip_extractor(extractor)
    stride = G.spec.get("stride", 1)
    if clip_extractor.spec.get("stride", 1) != stride:
        raise ReelganError(f"the generator was trained on clips at stride {stride} but the extractor at stride "
                           f"{clip_extractor.spec.get('stride', 1)}; use an extractor trained at stride {stride}")
    return evaluate_clip_generator(G, data, n, clip_extractor, frames=G.spec["frames"], stride=stride, seed=seed)


def train_extractor(data: str, out: Path, resolution: int = 32, channels: int = 1, max_images: int = 20000,
                    steps: int = 600, batch: int = 128, seed: int = 0, log=print) -> str:
    """Train the domain extractor on the first `max_images` images of `data` and save it to `out` (with its
    .json beside it); returns the weights' sha256."""
    for flag, value in (("--steps", steps), ("--batch", batch), ("--max-images", max_images)):
        if value < 1:
            raise ReelganError(f"{flag} must be at least 1; got {value}")
    config = DataConfig(source=data, resolution=resolution, channels=channels, max_images=max_images,
                        size=max_images)
    dataset = build_dataset(config)
    images = torch.stack([dataset[i][0] for i in range(min(len(dataset), max_images))])  # (N, C, R, R)
    log(f"training the domain extractor on {len(images)} images of {data} for {steps} steps")
    net = train_domain_net(images, steps=steps, batch=batch, seed=seed)
    name = Path(data).stem or "data"
    spec = {"name": "domain", "dataset": data if data == "logograms" else name, "images": len(images),
            "trained_steps": steps, "batch": batch, "seed": seed, **feature_stats(net, images)}
    return save_extractor(net, spec, out)
