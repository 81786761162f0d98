"""`reelgan metrics`: measure generators (compute), train the `domain` extractor, fetch the Inception weights."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import ReelganError
from ..metrics import METRICS
from ..paths import make_parent, output_file
from .common import add_command, add_source_argument, source_path

SUBCOMMANDS = ("train-extractor", "compute", "fetch-weights")


def route(argv: list[str]) -> list[str]:
    """`reelgan metrics SOURCE ...` is short for `reelgan metrics compute SOURCE ...`."""
    if len(argv) >= 2 and argv[0] == "metrics" and argv[1] not in SUBCOMMANDS and not argv[1].startswith("-"):
        return ["metrics", "compute", *argv[1:]]
    return argv

EXAMPLES = """\
  reelgan metrics runs/00001-logograms-r3gan-32 --data logograms --metrics fid,kid,pr --n 10000
  reelgan metrics latest --data ~/stills --extractor stills-64.safetensors --json scores.json
  reelgan metrics train-extractor logograms --resolution 32
  reelgan metrics train-extractor ~/stills --resolution 64 --channels 3 --steps 4000 --out stills-64.safetensors
  reelgan metrics fetch-weights          # once, online: the FID Inception weights
  reelgan metrics latest --data ~/stills --extractor inception --metrics fid,kid
  reelgan metrics latest --data ~/letters --extractor letters-32.safetensors --per-class 500   # intra-FID, --cond
"""


def add_parser(subparsers) -> None:
    """Register `reelgan metrics` and its subcommands."""
    p = add_command(subparsers, "metrics", "measure generators: FID/KID/precision/recall, feature extractors",
                    EXAMPLES)
    commands = p.add_subparsers(dest="metrics_command", metavar="SUBCOMMAND", required=True,
                                parser_class=type(p))
    t = commands.add_parser("train-extractor", help="train a small CNN on a dataset's images (no labels "
                            "needed) whose features FID/KID/precision/recall use for data far from ImageNet",
                            description="Contrastive (SimCLR) training of the domain feature extractor.",
                            epilog=f"examples:\n{EXAMPLES}", formatter_class=argparse.RawDescriptionHelpFormatter)
    t.add_argument("data", help="folder, .zip, .npy/.npz of images, or the built-in 'logograms'")
    t.add_argument("--resolution", type=int, default=32, help="image size the extractor works at (default 32)")
    t.add_argument("--channels", type=int, default=1, help="1, 3 or 4 (default 1)")
    t.add_argument("--max-images", type=int, default=20000, help="train on at most this many images")
    t.add_argument("--steps", type=int, default=600, help="training batches (default 600)")
    t.add_argument("--batch", type=int, default=128, help="images per batch (default 128)")
    t.add_argument("--seed", type=int, default=0, help="seed (default 0)")
    t.add_argument("--out", help="weights file (default domain-<data>-<resolution>.safetensors)")
    t.add_argument("--overwrite", action="store_true", help="replace an existing extractor")
    t.set_defaults(run=run_train_extractor)
    c = commands.add_parser("compute", help="FID/KID/precision/recall/density/coverage of a generator against "
                            "a dataset (also: reelgan metrics SOURCE ...)", epilog=f"examples:\n{EXAMPLES}",
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    add_source_argument(c)
    c.add_argument("--data", required=True, help="the dataset to compare with (folder, zip, npy/npz, logograms)")
    c.add_argument("--metrics", default="fid,kid,pr", help=f"comma-separated, from {', '.join(METRICS)}")
    c.add_argument("--n", type=int, help="samples of each side (default 10000 images, or 2000 clips)")
    c.add_argument("--extractor", help="a domain extractor .safetensors (default: the bundled one for logograms), "
                   "'inception' (weights from $REELGAN_INCEPTION_WEIGHTS or fetch-weights) or an Inception .pth")
    c.add_argument("--seed", type=int, default=0, help="first sample seed (default 0)")
    c.add_argument("--per-class", type=int, default=0, metavar="N", help="also FID within each class (up to N "
                   "images of each side per class) and their mean, intra-FID: how well a --cond generator "
                   "follows its labels (default 0: off)")
    c.add_argument("--class-depth", type=int, default=1, help="with --per-class: folder levels that name a class, "
                   "as in training (default 1)")
    c.add_argument("--json", help="also write the results to this JSON file")
    c.add_argument("--overwrite", action="store_true", help="replace an existing --json file")
    c.set_defaults(run=run_compute)
    f = commands.add_parser("fetch-weights", help="download the FID Inception-v3 weights (95.6 MB) for "
                            "--extractor inception; the only command that uses the network",
                            epilog=f"examples:\n{EXAMPLES}", formatter_class=argparse.RawDescriptionHelpFormatter)
    f.add_argument("--out", help="where to write them (default: $REELGAN_CACHE/weights or ~/.cache/reelgan/weights)")
    f.add_argument("--url", help="download from here instead (a mirror, or a file:// path)")
    f.add_argument("--overwrite", action="store_true", help="replace an existing file")
    f.set_defaults(run=run_fetch_weights)


def run_train_extractor(args: argparse.Namespace) -> int:
    """Load the images, train the extractor, save it with its sha256."""
    from ..metrics.measure import train_extractor

    out = Path(args.out or f"domain-{Path(args.data).stem or 'data'}-{args.resolution}.safetensors")
    if out.suffix != ".safetensors":
        raise ReelganError(f"--out must end in .safetensors; got {out.name}")
    output_file(out, args.overwrite)
    output_file(out.with_suffix(".json"), args.overwrite)  # the extractor's description beside it
    digest = train_extractor(args.data, out, args.resolution, args.channels, args.max_images, args.steps,
                             args.batch, args.seed)
    print(f"wrote {out} (sha256 {digest[:16]}...)")
    return 0


def run_compute(args: argparse.Namespace) -> int:
    """Sample the generator, compare with the data, print a table and optionally write JSON."""
    import json

    from ..gan.generator import load_generator
    from ..metrics import check_metric_names
    from ..metrics.measure import measure_generator

    names = [name.strip() for name in args.metrics.split(",") if name.strip()]
    check_metric_names(names)
    if args.n is not None and args.n < 1:
        raise ReelganError(f"--n must be at least 1; got {args.n}")
    json_path = output_file(Path(args.json), args.overwrite) if args.json else None
    source = source_path(args)
    G = load_generator(source, device=args.device)
    results = measure_generator(G, args.data, names, args.n, args.extractor, args.seed, args.per_class,
                                args.class_depth)
    width = max(map(len, results))
    for key, value in results.items():
        print(f"{key:<{width}}  {value:.4f}")
    if json_path is not None:
        make_parent(json_path).write_text(json.dumps({"source": str(source), "data": args.data,
                                         "generator_hash": G.hash, "results": results}, indent=2) + "\n")
    return 0


def run_fetch_weights(args: argparse.Namespace) -> int:
    """Download the Inception weights, check their sha256, say where they went."""
    from ..metrics.inception import INCEPTION_URL, fetch_weights

    url = args.url or INCEPTION_URL
    print(f"downloading {url}")
    out = fetch_weights(args.out, url, args.overwrite)
    print(f"wrote {out} (sha256 checked); use it with --extractor inception"
          + ("" if not args.out else f" and REELGAN_INCEPTION_WEIGHTS={out}, or --extractor {out}"))
    return 0
