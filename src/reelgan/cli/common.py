"""Helpers shared by the commands: example-bearing help, output paths, reading a generator, C2PA signing."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from ..errors import ReelganError


def add_command(subparsers, name: str, help_text: str, examples: str) -> argparse.ArgumentParser:
    """Register a subcommand whose --help ends with worked examples."""
    return subparsers.add_parser(
        name, help=help_text, description=help_text, epilog=f"examples:\n{examples}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def subcommand_adder(parser: argparse.ArgumentParser, dest: str, examples: str):
    """A function `sub(name, help)` that registers a required subcommand of `parser` (help ends with examples)."""
    commands = parser.add_subparsers(dest=dest, metavar="SUBCOMMAND", required=True, parser_class=type(parser))

    def sub(name: str, help_text: str) -> argparse.ArgumentParser:
        return commands.add_parser(name, help=help_text, description=help_text, epilog=f"examples:\n{examples}",
                                   formatter_class=argparse.RawDescriptionHelpFormatter)

    return sub


def add_source_argument(parser: argparse.ArgumentParser) -> None:
    """The first argument of generate/interpolate/export: a run folder, checkpoint or exported generator."""
    parser.add_argument("source", help="a run folder (or 'latest'), a checkpoints/*.pt file, or an exported "
                        "generator.safetensors")
    parser.add_argument("--runs", default="runs", help="where 'latest' looks for run folders (default: runs)")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda or mps (default: auto)")


def source_path(args: argparse.Namespace) -> Path:
    """The generator source, with 'latest' resolved to the newest run folder."""
    from ..training.rundir import latest_run

    return latest_run(args.runs) if args.source == "latest" else Path(args.source)


def parse_int_list(text: str, flag: str) -> list[int]:
    """'1,2,5' -> [1, 2, 5], or a ReelganError naming the flag."""
    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise ReelganError(f"{flag} must be comma-separated whole numbers such as 1,2,3; got {text!r}") from None
    if not values:
        raise ReelganError(f"{flag} needs at least one number, such as 1,2,3")
    return values


def parse_seeds(text: str) -> list[int]:
    """'0-31' or '3,17,42' (or a mix, '0-3,9') -> a list of non-negative seeds."""
    seeds: list[int] = []
    for part in text.split(","):
        match = re.fullmatch(r"\s*(\d+)\s*-\s*(\d+)\s*", part)
        if match:
            low, high = int(match[1]), int(match[2])
            if high < low or high - low >= 100000:
                raise ReelganError(f"--seeds range {part!r} must run low-high, at most 100000 seeds")
            seeds.extend(range(low, high + 1))
        else:
            seeds.extend(parse_int_list(part, "--seeds"))
    if any(seed < 0 for seed in seeds):
        raise ReelganError("--seeds must be non-negative")
    return seeds


C2PA_ENVIRONMENT = ("every command that writes files signs them when REELGAN_C2PA_CERT and REELGAN_C2PA_KEY "
                    "name your PEM certificate chain and key (REELGAN_C2PA_ALG and REELGAN_C2PA_TRAINING set the "
                    "other two); the flags win over them")


def add_c2pa_options(parser: argparse.ArgumentParser, each: str | None = None) -> None:
    """--c2pa-cert/--c2pa-key/--c2pa-alg/--c2pa-training/--no-c2pa: sign the outputs with C2PA content
    credentials (reelgan[c2pa]); `each` adds --c2pa-each with that help."""
    from ..provenance.assertions import TRAINING_USES

    group = parser.add_argument_group("C2PA content credentials (pip install 'reelgan[c2pa]')", C2PA_ENVIRONMENT)
    group.add_argument("--c2pa-cert", metavar="PEM", help="sign the outputs: your certificate chain (PEM, leaf "
                       "first, issued by a CA; default $REELGAN_C2PA_CERT)")
    group.add_argument("--c2pa-key", metavar="PEM", help="the private key (PEM) of --c2pa-cert (default "
                       "$REELGAN_C2PA_KEY)")
    group.add_argument("--c2pa-alg", metavar="ALG", help="es256, es384, es512, ps256, ps384, ps512 or ed25519 "
                       "(default $REELGAN_C2PA_ALG, else es256)")
    group.add_argument("--c2pa-training", metavar="USE", help=f"may the outputs be used for AI training, AI "
                       f"inference and data mining: {', '.join(TRAINING_USES)} (default $REELGAN_C2PA_TRAINING, "
                       "else notAllowed)")
    group.add_argument("--no-c2pa", action="store_true", help="do not sign, even when REELGAN_C2PA_CERT is set")
    if each:
        group.add_argument("--c2pa-each", action="store_true", help=each)


def signer_from_args(args: argparse.Namespace):
    """The C2PA signer the flags or the environment configure (checked now, before any work), or None."""
    if getattr(args, "no_c2pa", False):
        if args.c2pa_cert or args.c2pa_key:
            raise ReelganError("--no-c2pa and --c2pa-cert/--c2pa-key contradict each other; drop one")
        return None
    from ..provenance.credentials import configured_signer

    return configured_signer(args.c2pa_cert, args.c2pa_key, args.c2pa_alg, getattr(args, "c2pa_training", None))


def sign_and_report(signer, paths, record: dict | None = None) -> list:
    """Sign `paths` (see `reelgan.provenance.signing.sign_outputs`) when there is a signer; one line on stderr.
    Every command calls it with the files it wrote, signed or not: an earlier run's sidecar manifest beside a
    file written again no longer fits it, so it is removed first."""
    from ..provenance.c2pa_formats import sidecar_path

    paths = [Path(p) for p in paths]
    for path in paths:
        sidecar_path(path).unlink(missing_ok=True)
    if signer is None:
        return []
    from ..provenance.signing import sign_outputs

    signed = sign_outputs(paths, signer, record)
    report_signed(signed)
    return signed


def report_signed(signed: list) -> None:
    """One stderr line: how many files were signed, how many of them in sidecars."""
    import sys

    sidecars = sum(1 for s in signed if s.sidecar is not None)
    beside = f" ({sidecars} in NAME.EXT.c2pa sidecars)" if sidecars else ""
    if signed:
        print(f"signed {len(signed)} file(s) with C2PA content credentials{beside}", file=sys.stderr)
    else:
        print("nothing signed with C2PA: these files carry no reelgan record of AI generation", file=sys.stderr)
