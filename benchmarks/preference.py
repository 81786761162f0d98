"""Does "show me more like my picks" work? The preference loop against a simulated viewer whose taste is hidden.

For each trained generator, each taste and each seed: round 0 shows 16 fresh samples; the viewer likes those
its taste scores in the top quarter of all samples (so the base rate is 25%) and dislikes the rest; each
following round shows the preference model's 16 proposals (`reelgan.explore.propose`, as `reelgan explore
suggest` does) and the viewer rates them too. Reported: the share of shown samples the viewer likes after 0,
1, 3 and 5 rounds of ratings, against 16 fresh random samples per round, averaged over the seeds.

The tastes (none of them is what the model sees, though "ink" is one of its 17 picture features):
- `latent`: a random unit direction u in latent space; the taste is z . u;
- `ink`: the image's mean darkness (thick, heavy ink, or dark emoji);
- `domain`: a random direction in the dataset's domain-extractor feature space (a learned description of the
  image the model never sees);
- `grey8x8`: a random direction over the image's 8x8 grey levels (a coarser grid than the model's 4x4).

Also measured: SeFa's time per generator, PCA's, and how long one round of proposals takes (the time from a
click to a new grid of 16 in the studio, less drawing), at 32 and 64 px.

    python benchmarks/preference.py --generator logograms=/path/snapshot.safetensors ... [--seeds 10]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from reelgan.explore import pca_directions, propose, sefa_directions
from reelgan.explore.preference import image_descriptor
from reelgan.gan.generator import GENERATOR_FORMAT, Generator, build_from_spec, load_generator, seed_latents

TASTES = ("latent", "ink", "domain", "grey8x8")
ROUNDS = 5
SHOWN = 16
QUANTILE = 0.75                # the viewer likes the top quarter
THRESHOLD_SAMPLES = 2000       # samples that set each taste's threshold
THRESHOLD_SEED = 1_000_000     # their seeds, far from any shown


def taste_function(name: str, G: Generator, seed: int, extractor=None):
    """score(z (N, D)) -> (N,) for one hidden taste; `seed` draws its random direction."""
    generator = torch.Generator().manual_seed(10_000 + seed)
    if name == "latent":
        u = torch.nn.functional.normalize(torch.randn(G.spec["latent_dim"], generator=generator), dim=0)
        return lambda z: z @ u
    if name == "ink":
        return lambda z: image_descriptor(G(z))[:, -1]
    if name == "grey8x8":
        u = torch.randn(64, generator=generator)

        def grey(z):
            images = G(z)[:, :3].mean(dim=1, keepdim=True)
            return torch.nn.functional.adaptive_avg_pool2d(images, 8).flatten(1) @ u
        return grey
    if name == "domain":
        if extractor is None:
            return None
        u = None

        def domain(z):
            nonlocal u
            features = torch.from_numpy(extractor.features(G(z))).float()
            if u is None:
                u = torch.randn(features.shape[1], generator=generator)
            return features @ u
        return domain
    raise SystemExit(f"unknown taste {name!r}")


def spread(z: torch.Tensor) -> float:
    """Mean pairwise distance between latents (N, D), over that of independent normal latents (sqrt(2D)): 1 is
    as varied as random samples, near 0 is one image over and over."""
    return float(torch.pdist(z).mean() / (2 * z.shape[1]) ** 0.5)


def one_trial(G: Generator, score, seed: int, explore: float) -> tuple[list[float], list[float], list[float]]:
    """Liked share per round for the preference loop and for random samples, and the loop's spread."""
    threshold = torch.quantile(score(seed_latents(list(range(THRESHOLD_SEED, THRESHOLD_SEED + THRESHOLD_SAMPLES)),
                                                  G.spec["latent_dim"])), QUANTILE)
    directions = sefa_directions(G, 16)
    rated: list = []
    loop, random, spreads = [], [], []
    for round_ in range(ROUNDS + 1):
        pool_seed = 1 + seed * 100 + round_
        shown, _ = propose(G, rated, n=SHOWN, explore=explore, seed=pool_seed, directions=directions)
        labels = shown.labels
        likes = score(shown.latents) > threshold
        loop.append(float(likes.float().mean()))
        spreads.append(spread(shown.latents))
        rated += [(len(rated) + k, z, None if labels is None else labels[k], bool(like))
                  for k, (z, like) in enumerate(zip(shown.latents, likes))]
        fresh = seed_latents(list(range(50_000 + pool_seed * SHOWN, 50_000 + (pool_seed + 1) * SHOWN)),
                             G.spec["latent_dim"])
        random.append(float((score(fresh) > threshold).float().mean()))
    return loop, random, spreads


def timings(G: Generator) -> dict[str, float]:
    """Seconds for SeFa, PCA, and one proposal round after 48 ratings."""
    out = {}
    start = time.perf_counter()
    directions = sefa_directions(G, 16)
    out["sefa_s"] = time.perf_counter() - start
    start = time.perf_counter()
    pca_directions(G, 8)
    out["pca_s"] = time.perf_counter() - start
    z = seed_latents(list(range(48)), G.spec["latent_dim"])
    labels = G.labels_for(list(range(48)), None)
    rated = [(k, z[k], None if labels is None else labels[k], k % 3 == 0) for k in range(48)]
    start = time.perf_counter()
    shown, _ = propose(G, rated, n=SHOWN, seed=1, directions=directions)
    G(shown.latents, shown.labels, batch=1)  # the grid itself, drawn one by one as the explorer does
    out["suggest_16_s"] = time.perf_counter() - start
    start = time.perf_counter()
    G(seed_latents(list(range(16)), G.spec["latent_dim"]), G.labels_for(list(range(16)), None), batch=1)
    out["grid_16_s"] = time.perf_counter() - start
    return out


def untrained(resolution: int) -> Generator:
    """A default-width untrained generator at `resolution`, for timing only."""
    from reelgan import __version__
    from reelgan.config import NetConfig

    net = NetConfig()
    spec = {"format": GENERATOR_FORMAT, "arch": net.arch, "resolution": resolution, "channels": 3,
            "latent_dim": net.latent_dim, "width": net.g_width, "max_width": net.max_width, "class_names": [],
            "trained_steps": 0, "dataset": "none", "reelgan_version": __version__}
    torch.manual_seed(0)
    return Generator(build_from_spec(spec), spec)


def markdown(result: dict) -> str:
    """The liked share after 0, 1, 3, 5 rounds (loop / random) and the spread at round 3, per taste."""
    rows = ["| generator | taste | after 0 | 1 | 3 | 5 rounds | random (mean) | spread at 3 |",
            "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for name, data in result["generators"].items():
        for taste, t in data["tastes"].items():
            loop, random = t["loop"], t["random"]
            rows.append(f"| {name} | {taste} | {loop[0]:.2f} | {loop[1]:.2f} | {loop[3]:.2f} | {loop[5]:.2f} | "
                        f"{sum(random) / len(random):.2f} | {t['spread'][3]:.2f} |")
    return "\n".join(rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--generator", action="append", default=[], metavar="NAME=PATH",
                        help="a trained generator (run folder, checkpoint or export); repeatable")
    parser.add_argument("--extractor", action="append", default=[], metavar="NAME=PATH",
                        help="the domain extractor of generator NAME (for the `domain` taste)")
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--explore", type=float, default=1.0)
    parser.add_argument("--tastes", default=",".join(TASTES))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--no-timing", action="store_true", help="skip the timings (for a busy machine)")
    parser.add_argument("--timing-only", action="store_true", help="only the timings")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/preference.json"))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    from reelgan.metrics.domain import load_extractor

    extractors = {name: load_extractor(path) for name, _, path in (e.partition("=") for e in args.extractor)}
    result = {"protocol": {"rounds": ROUNDS, "shown": SHOWN, "base_rate": 1 - QUANTILE, "seeds": args.seeds,
                           "explore": args.explore, "threads": args.threads}, "generators": {}, "timing": {}}
    for resolution in () if args.no_timing else (32, 64):
        result["timing"][f"untrained-{resolution}px"] = timings(untrained(resolution))
        print(f"timing {resolution} px: {result['timing'][f'untrained-{resolution}px']}", flush=True)
    for item in args.generator:
        name, _, path = item.partition("=")
        G = load_generator(path, device="cpu")
        if not args.no_timing:
            result["timing"][name] = timings(G)
        if args.timing_only:
            continue
        per_taste = {}
        for taste in args.tastes.split(","):
            trials = []
            for seed in range(args.seeds):
                score = taste_function(taste, G, seed, extractors.get(name))
                if score is None:
                    break
                trials.append(one_trial(G, score, seed, args.explore))
            if not trials:
                continue
            loop = torch.tensor([t[0] for t in trials]).mean(dim=0).tolist()
            random = torch.tensor([t[1] for t in trials]).mean(dim=0).tolist()
            spreads = torch.tensor([t[2] for t in trials]).mean(dim=0).tolist()
            per_taste[taste] = {"loop": loop, "random": random, "spread": spreads}
            print(f"{name:14s} {taste:8s} loop " + " ".join(f"{v:.2f}" for v in loop)
                  + "  random " + " ".join(f"{v:.2f}" for v in random)
                  + "  spread " + " ".join(f"{v:.2f}" for v in spreads), flush=True)
        result["generators"][name] = {"path": path, "tastes": per_taste}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    if result["generators"]:
        print(markdown(result))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
