"""`reelgan verify`: report a file's AI declarations (metadata, C2PA, watermark, script record)."""

from __future__ import annotations

import argparse
import json

from .common import add_command

EXAMPLES = """\
  reelgan verify pilot.mp4            # exit 0: declared AI-generated; 1: no declaration found; 2: bad input
  reelgan verify samples.png --json
  reelgan verify drafts/draft-1.fountain
"""


def add_parser(subparsers) -> None:
    """Register `reelgan verify`."""
    p = add_command(subparsers, "verify", "say what a PNG, GIF, JPEG, MP4 or Fountain file declares about AI",
                    EXAMPLES)
    p.add_argument("file", help="the file to check")
    p.add_argument("--json", action="store_true", help="print the findings as JSON")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Print the findings; exit 0 when a declaration was found, 1 when none."""
    from ..provenance.verify import verify
    from ..script.authorship import script_finding

    report = verify(args.file, script_check=script_finding)
    if args.json:
        print(json.dumps({"file": str(report.path), "declared": report.declared,
                          "findings": [vars(f) for f in report.findings]}, indent=2))
    else:
        print(f"{report.path}:")
        for finding in report.findings:
            print(f"  {finding.check}: {finding.detail}")
        found = [f.check for f in report.findings if f.found]
        print(f"  => declares itself AI-generated or synthetic ({', '.join(found)})" if found
              else "  => no declaration found (which does not prove it was made without AI)")
    return 0 if report.declared else 1
