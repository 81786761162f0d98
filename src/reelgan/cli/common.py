"""Helpers shared by the commands: example-bearing help, output paths, reading a generator."""

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
