"""`reelgan studio`: the local web studio (train, explore, glyphs, film) in a browser."""

from __future__ import annotations

import argparse
import logging
import webbrowser
from pathlib import Path

from ..errors import ReelganError
from ..studio import make_server, studio_for, url_of
from .common import add_command

EXAMPLES = """\
  reelgan studio                         # the runs in ./runs, at http://127.0.0.1:7860/
  reelgan studio runs/00001-logograms-r3gan-32 --open
  reelgan studio --runs ~/gan-runs --port 8000
"""
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


def add_parser(subparsers) -> None:
    """Register `reelgan studio`."""
    p = add_command(subparsers, "studio", "a local web studio: train on your images, explore and steer what a "
                    "generator makes, glyphs, films", EXAMPLES)
    p.add_argument("run_folder", nargs="?", metavar="RUN", help="a run folder to open (its parent is the runs "
                   "folder)")
    p.add_argument("--runs", default="runs", help="the folder of run folders (default: runs)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine "
                   "only)")
    p.add_argument("--port", type=int, default=7860, help="port (default 7860; 0 picks a free one)")
    p.add_argument("--public", action="store_true", help="allow a --host other than this machine; anyone who "
                   "can reach it can train, read the runs and write files in them")
    p.add_argument("--open", action="store_true", help="open the page in the default browser")
    p.set_defaults(run=run_studio)


def run_studio(args: argparse.Namespace) -> int:
    """Serve the studio until Ctrl-C."""
    if not 0 <= args.port <= 65535:
        raise ReelganError(f"--port must be 0-65535; got {args.port}")
    if args.host not in LOCAL_HOSTS and not args.public:
        raise ReelganError(f"--host {args.host} would let other machines in; add --public if that is meant")
    runs = Path(args.runs)
    if args.run_folder is not None:
        folder = Path(args.run_folder)
        if not folder.is_dir():
            raise ReelganError(f"{folder} is not a run folder")
        runs = folder.resolve().parent
    studio = studio_for(runs)
    server = make_server(studio, args.host, args.port)
    url = url_of(server)
    print(f"reelgan studio at {url} (runs in {studio.runs}); Ctrl-C to stop", flush=True)
    logging.getLogger("reelgan.studio").setLevel(logging.INFO)
    if args.open:
        webbrowser.open(url)
    try:
        server.serve_forever()
    finally:
        server.server_close()
        studio.jobs.stop_all()
    return 0
