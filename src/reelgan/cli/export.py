"""`reelgan export`: a run's generator as a shareable safetensors + JSON pair."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import ReelganError
from ..gan.generator import export_generator, load_generator
from ..paths import output_file, output_folder
from .common import add_command, add_source_argument, source_path

EXAMPLES = """\
  reelgan export runs/00001-logograms-r3gan-32 --out share/
  reelgan export runs/00001-logograms-r3gan-32/checkpoints/latest.pt --out share/ --name glyphs
"""


def add_parser(subparsers) -> None:
    """Register `reelgan export`."""
    p = add_command(subparsers, "export", "write generator weights (safetensors) + config (JSON) that "
                    "`generate` and `reelgan.load_generator` read", EXAMPLES)
    add_source_argument(p)
    p.add_argument("--out", default="export", help="output folder (default export/)")
    p.add_argument("--name", default="generator", help="file stem (default generator)")
    p.add_argument("--overwrite", action="store_true", help="replace existing files")
    p.set_defaults(run=run_export)


def run_export(args: argparse.Namespace) -> int:
    """Load the (EMA) generator and write NAME.safetensors + NAME.json."""
    if not args.name or Path(args.name).name != args.name or args.name in (".", ".."):
        raise ReelganError(f"--name must be a plain file name such as glyphs (no folders: use --out for those); "
                           f"got {args.name!r}")
    out = output_folder(args.out)
    G = load_generator(source_path(args), device="cpu")
    for suffix in (".safetensors", ".json"):
        output_file(out / f"{args.name}{suffix}", args.overwrite)
    path = export_generator(G.net, G.spec, out, stem=args.name)
    print(f"wrote {path} and {path.with_suffix('.json')} (sha256 {G.hash[:16]}...)")
    return 0
