"""`reelgan plot`: loss and metric curves of a run folder, as PNG."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..metrics.plot import plot_run
from ..paths import output_file
from ..training.rundir import check_run_folder, latest_run
from .common import add_command

EXAMPLES = """\
  reelgan plot runs/00003-logograms-r3gan-32            # writes runs/00003-.../curves.png
  reelgan plot latest --out curves.png
"""


def add_parser(subparsers) -> None:
    """Register `reelgan plot`."""
    p = add_command(subparsers, "plot", "draw a run's loss and metric curves to PNG (needs reelgan[plot])",
                    EXAMPLES)
    p.add_argument("run_dir", metavar="RUN", help="a run folder, or 'latest'")
    p.add_argument("--runs", default="runs", help="where 'latest' looks for run folders (default: runs)")
    p.add_argument("--out", help="PNG path (default RUN/curves.png)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing curves PNG")
    p.set_defaults(run=run_plot)


def run_plot(args: argparse.Namespace) -> int:
    """Plot and say where."""
    run_dir = latest_run(args.runs) if args.run_dir == "latest" else Path(args.run_dir)
    check_run_folder(run_dir)
    out = output_file(Path(args.out) if args.out else run_dir / "curves.png", args.overwrite)
    print(f"wrote {plot_run(run_dir, out)}")
    return 0
