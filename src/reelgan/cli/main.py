"""The `reelgan` command: parses arguments, dispatches to one module per command, reports user errors.

A `ReelganError` (or a bad flag) prints one line to stderr and exits with status 2; anything else is a bug
and shows its traceback.
"""

from __future__ import annotations

import argparse
import errno
import logging
import os
import signal
import sys

from .. import __version__
from ..errors import ReelganError
from . import (
    audit,
    demo,
    explore,
    export,
    film,
    generate,
    glyphs,
    interpolate,
    metrics,
    plot,
    script,
    studio,
    synth,
    train,
    verify,
)

COMMANDS = (train, generate, interpolate, export, explore, studio, metrics, plot, audit, glyphs, script, film, verify,
            synth, demo)


class OneLineErrorParser(argparse.ArgumentParser):
    """argparse that reports a bad flag on one line, with the command's --help as the fix."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"error: {message} (see `{self.prog} --help`)\n")


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with one subcommand per module in COMMANDS."""
    parser = OneLineErrorParser(prog="reelgan", description="GANs for film pre-production: train, sample, "
                                "morph and export generators of your own images.")
    parser.add_argument("--version", action="version", version=f"reelgan {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=OneLineErrorParser)
    for command in COMMANDS:
        command.add_parser(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script; returns the exit status."""
    rank = int(os.environ.get("RANK", "0"))  # under torchrun, process 0 alone reports progress
    # reelgan's own messages at INFO; other libraries' (matplotlib's font cache, ...) only when they warn
    logging.basicConfig(level=logging.WARNING if rank == 0 else logging.ERROR, format="%(message)s",
                        stream=sys.stderr)
    logging.getLogger("reelgan").setLevel(logging.INFO if rank == 0 else logging.ERROR)
    parser = build_parser()
    argv = script.route(metrics.route(list(sys.argv[1:] if argv is None else argv)))
    try:
        args = parser.parse_args(argv)
        args.argv = argv
    except SystemExit as exc:  # --help, --version, or a bad flag already reported by the parser
        return int(exc.code or 0)
    if args.command is None:
        parser.print_help()
        return 2
    try:  # clean-up (finally blocks) runs on SIGTERM too
        previous = signal.signal(signal.SIGTERM, _terminate)
    except ValueError:  # not the main thread: the caller keeps its handler
        previous = None
    try:
        return int(args.run(args) or 0)
    except ReelganError as exc:
        print(f"error{f' (process {rank})' if rank else ''}: {one_line(str(exc))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted; outputs already finished are kept and half-written ones were removed",
              file=sys.stderr)
        return 130
    except OSError as exc:  # the machine's trouble, not reelgan's: a full disk, a permission, a vanished file
        print(f"error: {os_error_message(exc)}", file=sys.stderr)
        return 2
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _terminate(signum: int, frame: object) -> None:
    """SIGTERM ends a command as Ctrl-C does, so its clean-up runs (training installs its own handler)."""
    raise KeyboardInterrupt


def one_line(message: str) -> str:
    """A message on one line (a wrapped path or an exception's text must not split the error)."""
    return " ".join(message.split())


def os_error_message(exc: OSError) -> str:
    """One line naming what failed, on which file, and the fix."""
    where = f" {exc.filename}" if exc.filename else ""
    reason = exc.strerror or type(exc).__name__
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        fix = "free some space (a stopped training run continues with --resume from its last checkpoint)"
    elif exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        fix = "check the file's permissions, or choose another path"
    elif exc.errno in (errno.ENAMETOOLONG,):
        fix = "choose a shorter name"
    else:
        fix = "check the path and try again"
    return one_line(f"{reason}:{where}; {fix}")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
