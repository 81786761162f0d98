"""`reelgan verify`: report a file's AI declarations (metadata, C2PA, watermark, authorship record)."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from ..errors import ReelganError
from .common import add_command

TRUST_ENV = "REELGAN_C2PA_TRUST"

EXAMPLES = """\
  reelgan verify pilot.mp4            # exit 0: declared AI-generated; 1: no declaration found; 2: bad input;
                                      # 3: INVALID (a C2PA manifest does not match the file: changed after signing)
  reelgan verify samples.png --json
  reelgan verify drafts/draft-1.fountain
  reelgan verify pilot.srt            # any file signed with a sidecar (pilot.srt.c2pa beside it)
  reelgan verify pilot.mp4 --c2pa-trust my-ca.pem     # signers under my-ca.pem read Trusted, not just Valid

checks and their states:
  metadata    the reelgan record in PNG/GIF/MP4/SVG/PDF metadata
  C2PA        the C2PA manifest (embedded, or NAME.EXT.c2pa beside the file) and c2pa's validation state:
              Trusted (valid, signer under a --c2pa-trust CA), Valid (signature and hashes hold; signer on no
              trust list given) or Invalid; with its ingredients, AI-training choice and watermark assertion
  watermark   reelgan's invisible watermark in the frames, with its confidence (0-1)
  authorship  screenplays: the authorship record or the title page's declaration
  each one: passed, failed (the declaration does not hold), absent, or not checked

--json prints one object (schema "reelgan-verify/2"):
  {"schema": "reelgan-verify/2", "file": PATH, "declared": BOOL, "invalid": BOOL, "exit_status": 0|1|3,
   "findings": [{"check": "metadata"|"C2PA"|"watermark"|"authorship",
                 "state": "passed"|"failed"|"absent"|"not checked", "found": BOOL (declares AI),
                 "detail": TEXT, "data": {...}}]}
  data of metadata: {"record": {...}}; of watermark: {"frames_checked", "frames_marked", "model_hash_prefix",
  "confidence", "version"}; of C2PA: {"validation_state", "validation_codes", "where" ("embedded"|"sidecar"),
  "sidecar", "title", "signer", "digital_source_types", "reelgan", "ingredients": [{"title", "relationship",
  "validation_state", "has_manifest"}], "training_mining": {"cawg.ai_training": "notAllowed", ...},
  "watermark", "error"}; of authorship: {"record", "model", "model_share", "words"} or {"disclosure"}
"""


def add_parser(subparsers) -> None:
    """Register `reelgan verify`."""
    p = add_command(subparsers, "verify", "say what a file (PNG, GIF, JPEG, MP4, SVG, PDF, Fountain, or any "
                    "file with a C2PA sidecar) declares about AI, and whether its content credentials hold",
                    EXAMPLES)
    p.add_argument("file", help="the file to check")
    p.add_argument("--json", action="store_true", help="print the findings as JSON (schema in the help's end)")
    p.add_argument("--c2pa-trust", metavar="PEM", help=f"CA certificates (PEM) to trust: manifests their signers "
                   f"signed read Trusted (default ${TRUST_ENV})")
    p.set_defaults(run=run)


def _trust_anchors(args: argparse.Namespace) -> str | None:
    """The PEM text of --c2pa-trust (or $REELGAN_C2PA_TRUST); ReelganError when it cannot be read."""
    given = args.c2pa_trust or os.environ.get(TRUST_ENV)
    if not given:
        return None
    flag = "--c2pa-trust" if args.c2pa_trust else TRUST_ENV
    try:
        text = Path(given).read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError):
        raise ReelganError(f"{given} cannot be read as PEM certificates; check {flag}") from None
    if "-----BEGIN CERTIFICATE-----" not in text:
        raise ReelganError(f"{given} holds no PEM certificate; give {flag} the CA's certificate (PEM)")
    return text


def run(args: argparse.Namespace) -> int:
    """Print the findings; exit 0 declared, 1 none found, 3 a C2PA manifest is INVALID."""
    from ..provenance.verify import verify
    from ..script.authorship import script_finding

    report = verify(args.file, script_check=script_finding, trust_anchors=_trust_anchors(args))
    if args.json:
        print(json.dumps(report.as_json(), indent=2))
        return report.exit_status
    print(f"{report.path}:")
    for finding in report.findings:
        print(f"  {finding.state:<11} {finding.check}: {finding.detail}")
        if finding.check == "C2PA" and finding.data:
            for line in _manifest_lines(finding.data):
                print(f"              {line}")
    found = [f.check for f in report.findings if f.found]
    if report.invalid:
        failed = ", ".join(f.check for f in report.findings if f.state == "failed")
        print(f"  => INVALID: {failed} does not hold: the file was changed after it was signed or labelled, so "
              "what it declares cannot be relied on")
    elif found:
        print(f"  => declares itself AI-generated or synthetic ({', '.join(found)})")
    else:
        print("  => no declaration found (which does not prove it was made without AI)")
    return report.exit_status


def _manifest_lines(manifest: dict) -> list[str]:
    """The manifest's ingredients, AI-training choice and watermark assertion, one line each."""
    lines = []
    if manifest.get("ingredients"):
        parts = [f"{i['title']} ({i['relationship']}{', ' + i['validation_state'] if i['validation_state'] else ''})"
                 for i in manifest["ingredients"]]
        shown = ", ".join(parts[:6]) + (f" and {len(parts) - 6} more" if len(parts) > 6 else "")
        lines.append(f"ingredients: {shown}")
    uses = manifest.get("training_mining") or {}
    if uses:
        kinds = sorted({str(v) for v in uses.values()})
        choice = kinds[0] if len(kinds) == 1 else ", ".join(f"{k.split('.')[-1]} {v}" for k, v in uses.items())
        lines.append(f"AI training, inference and data mining: {choice}")
    mark = manifest.get("watermark")
    if mark:
        lines.append(f"watermark assertion: {mark.get('algorithm')} version {mark.get('version')}, model sha256 "
                     f"starting {mark.get('model_hash_prefix')}")
    return lines
