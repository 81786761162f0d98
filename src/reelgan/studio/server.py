"""The studio's web server: the page, its JSON API and the files of the runs, on 127.0.0.1 by default.

Python's own `http.server` (threaded), so that the studio needs nothing beyond reelgan itself. Every API call
is a POST of a JSON object (or a GET of a file); a `ReelganError` becomes `{"error": "..."}` with status 400,
which the page shows as a one-line message; any other failure is logged here and shown as a short internal
error, never a traceback.
"""

from __future__ import annotations

import json
import logging
import mimetypes
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from urllib.parse import unquote, urlparse

from ..errors import ReelganError
from .app import Studio

log = logging.getLogger(__name__)
STATIC = ("index.html", "app.js", "style.css")
MAX_BODY = 8 * 1024 * 1024  # a pasted screenplay fits many times over


def _routes(studio: Studio) -> dict:
    """POST /api/NAME -> handler(params)."""
    routes = {"runs": lambda p: studio.list_runs(), "stats": studio.run_stats, "train": studio.train,
              "resume": studio.resume, "stop": studio.stop, "glyph": studio.glyph,
              "glyph-sheet": studio.glyph_sheet, "film": studio.film}
    for action in ("grid", "children", "crossover", "rate", "suggest", "directions", "move", "keep", "lineage",
                   "export"):
        routes[f"explore/{action}"] = lambda p, a=action: studio.explore(a, p)
    return routes


def make_handler(studio: Studio):
    """The request handler class bound to one studio."""
    routes = _routes(studio)

    class Handler(BaseHTTPRequestHandler):
        server_version = "reelgan-studio"

        def log_message(self, format: str, *args) -> None:  # noqa: A002 - the base class's name
            log.debug("%s %s", self.address_string(), format % args)

        def _send(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.send_header("X-Content-Type-Options", "nosniff")
            self.end_headers()
            self.wfile.write(body)

        def _json(self, status: int, data: dict) -> None:
            self._send(status, json.dumps(data).encode(), "application/json")

        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            path = unquote(urlparse(self.path).path)
            try:
                if path in ("/", "/index.html"):
                    return self._static("index.html")
                if path.startswith("/static/") and path[len("/static/"):] in STATIC:
                    return self._static(path[len("/static/"):])
                if path.startswith("/files/"):
                    name, _, relative = path[len("/files/"):].partition("/")
                    file = studio.run_file(name, relative)
                    kind = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
                    return self._send(200, file.read_bytes(), kind)
                self._json(404, {"error": f"nothing at {path}"})
            except ReelganError as exc:
                self._json(404, {"error": str(exc)})

        def _static(self, name: str) -> None:
            body = resources.files("reelgan.studio").joinpath("static", name).read_bytes()
            kind = {"html": "text/html; charset=utf-8", "js": "text/javascript", "css": "text/css"}
            self._send(200, body, kind[name.rsplit(".", 1)[1]])

        def do_POST(self) -> None:  # noqa: N802
            path = urlparse(self.path).path
            handler = routes.get(path[len("/api/"):]) if path.startswith("/api/") else None
            if handler is None:
                return self._json(404, {"error": f"no API call {path}"})
            try:
                length = int(self.headers.get("Content-Length") or 0)
                if length > MAX_BODY:
                    raise ReelganError(f"the request is over {MAX_BODY // 2**20} MB")
                params = json.loads(self.rfile.read(length) or b"{}")
                if not isinstance(params, dict):
                    raise ReelganError("the request must be a JSON object")
                self._json(200, handler(params))
            except json.JSONDecodeError:
                self._json(400, {"error": "the request is not JSON"})
            except ReelganError as exc:
                self._json(400, {"error": str(exc)})
            except Exception as exc:  # a bug: logged here, a short line on the page
                log.exception("studio request %s failed", path)
                self._json(500, {"error": f"internal error ({type(exc).__name__}); see the studio's log"})

    return Handler


def make_server(studio: Studio, host: str = "127.0.0.1", port: int = 7860) -> ThreadingHTTPServer:
    """A server for `studio` bound to host:port (port 0: any free port), or a ReelganError when it cannot bind."""
    try:
        server = ThreadingHTTPServer((host, port), make_handler(studio))
    except OSError as exc:
        if exc.errno in (98, 48):  # EADDRINUSE on Linux, macOS
            raise ReelganError(f"port {port} on {host} is in use; choose another with --port") from None
        if isinstance(exc, socket.gaierror) or exc.errno in (99, 49):
            raise ReelganError(f"cannot listen on {host}: not an address of this machine; use --host "
                               "127.0.0.1") from None
        raise ReelganError(f"cannot listen on {host}:{port} ({exc.strerror or exc})") from None
    server.daemon_threads = True
    return server


def serve_in_thread(server: ThreadingHTTPServer) -> threading.Thread:
    """Serve in a background thread (tests and embedding); `server.shutdown()` ends it."""
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return thread


def url_of(server: ThreadingHTTPServer) -> str:
    """The address a browser opens."""
    host, port = server.server_address[:2]
    return f"http://{host}:{port}/"


def studio_for(runs: Path) -> Studio:
    """A studio over the runs folder `runs` (created when a run is trained)."""
    runs = Path(runs)
    if runs.exists() and not runs.is_dir():
        raise ReelganError(f"--runs {runs} is a file, not a folder of runs")
    return Studio(runs)
