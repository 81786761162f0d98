"""`reelgan audit`: does a generator copy its training images?"""

from __future__ import annotations

import argparse

from .common import add_command, add_source_argument, source_path

EXAMPLES = """\
  reelgan audit runs/00003-stills-r3gan-64 --data ~/stills --out audit/
  reelgan audit latest --data logograms --n 2000 --quantile 0.001
"""


def add_parser(subparsers) -> None:
    """Register `reelgan audit`."""
    p = add_command(subparsers, "audit", "find generated samples that are near-copies of training images "
                    "(writes report.json and closest.png)", EXAMPLES)
    add_source_argument(p)
    p.add_argument("--data", required=True, help="the training data (folder, zip, npy/npz, logograms)")
    p.add_argument("--n", type=int, default=1000, help="generated samples to check (default 1000)")
    p.add_argument("--quantile", type=float, default=0.01, help="flag samples nearer to a training image "
                   "than this share of held-out real images are (default 0.01)")
    p.add_argument("--extractor", help="extractor for feature distances: a domain .safetensors (default: bundled "
                   "for logograms), 'inception' or an Inception .pth")
    p.add_argument("--max-images", type=int, default=20000, help="training images to compare with (default "
                   "20000; for logograms, the first of the training set)")
    p.add_argument("--out", default="audit", help="output folder (default audit/)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing report.json and closest.png")
    p.set_defaults(run=run_audit_command)


def run_audit_command(args: argparse.Namespace) -> int:
    """Audit and summarise: flagged count, thresholds, where the files are."""
    from ..errors import ReelganError
    from ..gan.generator import load_generator
    from ..metrics.audit import run_audit
    from ..paths import output_files, output_folder

    out = output_folder(args.out)
    output_files([out / "report.json", out / "closest.png"], args.overwrite)
    if args.n < 1 or args.max_images < 20:
        raise ReelganError(f"--n must be at least 1 and --max-images at least 20; got {args.n}, {args.max_images}")
    if not 0 < args.quantile < 1:
        raise ReelganError(f"--quantile must be between 0 and 1; got {args.quantile}")
    G = load_generator(source_path(args), device=args.device)
    report = run_audit(G, args.data, out, args.n, args.quantile, args.extractor, limit=args.max_images)
    print(f"{len(report['flagged'])} of {report['samples']} samples flagged as likely copies "
          f"(RMS pixel distance below {report['pixel_threshold']:.4f}, the {args.quantile:g} quantile of held-out "
          f"real images); report: {out / 'report.json'}, closest pairs: {out / 'closest.png'}")
    return 0
