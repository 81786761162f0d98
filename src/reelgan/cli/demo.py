"""`reelgan demo`: train on the built-in logograms for a bounded time, then show what came out."""

from __future__ import annotations

import argparse

from ..demo import DEMO_MINUTES, DEMO_PHRASE, DEMO_STEPS, DEMO_VARIETY_STEPS, run_demo
from .common import add_command

EXAMPLES = """\
  reelgan demo                  # about 5 minutes on 2 CPU cores
  reelgan demo --minutes 1 --out /tmp/demo-runs
"""


def add_parser(subparsers) -> None:
    """Register `reelgan demo`."""
    p = add_command(subparsers, "demo", "train on built-in Arrival-style logograms for a few minutes, then "
                    "write samples, a morph video, a phrase glyph, a contact sheet, an SVG and a short animatic",
                    EXAMPLES)
    p.add_argument("--minutes", type=float, default=DEMO_MINUTES, help=f"training time limit (default {DEMO_MINUTES:g})")
    p.add_argument("--steps", type=int, default=DEMO_STEPS, help=f"step limit, if reached first (default {DEMO_STEPS})")
    p.add_argument("--out", default="runs", help="folder of numbered run folders (default runs)")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda or mps")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(run=run_demo_command)


def run_demo_command(args: argparse.Namespace) -> int:
    """Train, export, then write samples, morph video and the glyph studio's outputs into the run folder."""
    print(f"training on built-in logograms for at most {args.minutes:g} minutes "
          f"(stop early with Ctrl-C; the run is kept)")
    result = run_demo(args.minutes, args.steps, args.out, args.device, show_progress=not args.no_progress)
    run_dir = result.run_dir
    print(f"step {result.step} in {run_dir}\n  samples: {run_dir / 'samples.png'}\n"
          f"  morph:   {run_dir / 'morph.mp4'} ({result.morph_frames} frames)\n"
          f"  phrase:  {run_dir / 'phrase.png'} (\"{DEMO_PHRASE}\" written as one glyph)\n"
          f"  sheet:   {run_dir / 'sheet.png'} and sheet.pdf (samples with their seeds)\n"
          f"  vector:  {run_dir / 'glyph.svg'} and glyph.png (a traced sample; transparent)\n"
          f"  film:    {run_dir / 'animatic.mp4'} (a 2-scene script with the generator's glyphs, subtitled;\n"
          f"           .srt, .vtt, .otio, contact sheet and authorship record beside it)\n"
          f"  generator: {run_dir / 'generator.safetensors'}\n"
          f"next: pick the glyphs you like and steer toward them in the browser with `reelgan studio {run_dir}`")
    if result.step < DEMO_VARIETY_STEPS:
        print(f"more variety: the glyphs' gaps and detached marks grow with training (about {DEMO_VARIETY_STEPS:,} "
              f"steps for the real set's); continue this run with `reelgan train --resume {run_dir} "
              f"--steps {DEMO_VARIETY_STEPS + 1000} --max-minutes 4`")
    return 0
