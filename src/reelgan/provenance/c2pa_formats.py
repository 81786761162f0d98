"""Where a C2PA manifest goes for each kind of file, and the c2pa-python set-up shared by signing and reading.

c2pa-python 0.38 (c2pa-rs 0.91) embeds a manifest in PNG, JPEG, WebP, GIF, SVG, MP4/MOV, PDF and WAV; those
are the types below. Every other file reelgan writes (Fountain, JSON, CSV, SRT, VTT, OTIO, ZIP, NPZ ...) gets
a sidecar `NAME.EXT.c2pa` beside it: a manifest whose `c2pa.hash.data` covers the file's every byte. The
name keeps the whole file name (c2pa-rs's own convention, `NAME.c2pa`, would give `film.srt`, `film.vtt`
and `film.otio` one and the same sidecar); a sidecar named the c2pa-rs way is read too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import ReelganError

INSTALL_HINT = "pip install 'reelgan[c2pa]'"
# The one table of the file types a manifest is embedded in, by suffix (lower case), with their MIME type.
EMBEDDED_MIME_TYPES = {
    ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".webp": "image/webp", ".gif": "image/gif",
    ".svg": "image/svg+xml", ".mp4": "video/mp4", ".m4v": "video/mp4", ".mov": "video/quicktime",
    ".pdf": "application/pdf", ".wav": "audio/wav",
}
SIDECAR_SUFFIX = ".c2pa"
# The format a sidecar-signed file is hashed as, at signing and at reading: its bytes, whatever they are.
SIDECAR_FORMAT = "application/octet-stream"


def embedded_mime(path: str | Path) -> str | None:
    """The MIME type a manifest is embedded in `path` as; None when the file gets a sidecar instead."""
    return EMBEDDED_MIME_TYPES.get(Path(path).suffix.lower())


def sidecar_path(path: str | Path) -> Path:
    """Where the sidecar manifest of `path` lies: `NAME.EXT.c2pa` beside it."""
    path = Path(path)
    return path.with_name(path.name + SIDECAR_SUFFIX)


def sidecar_candidates(path: str | Path) -> list[Path]:
    """The sidecars `read_manifest` looks for: reelgan's `NAME.EXT.c2pa`, then c2pa-rs's `NAME.c2pa`."""
    path = Path(path)
    names = [sidecar_path(path), path.with_suffix(SIDECAR_SUFFIX)]
    return [p for i, p in enumerate(names) if p not in names[:i] and p != path]


def require_c2pa() -> Any:
    """The c2pa module, or a ReelganError saying how to install it."""
    try:
        import c2pa
    except ImportError:
        raise ReelganError(f"C2PA signing needs the c2pa-python library; run: {INSTALL_HINT}") from None
    return c2pa


def c2pa_context(c2pa: Any, trust_anchors: str | None = None) -> Any:
    """A c2pa Context: no thumbnails (they would be a second, unmarked copy of each picture, and cost 0.1-2 s
    a file), and with `trust_anchors` (PEM CA certificates) a manifest they issued validates as Trusted."""
    settings: dict = {"builder": {"thumbnail": {"enabled": False}}}
    if trust_anchors:
        settings["trust"] = {"trust_anchors": trust_anchors}
    return c2pa.Context(c2pa.Settings.from_dict(settings))


def first_line(exc: BaseException) -> str:
    """An exception's message, first line only, at most 200 characters."""
    text = str(exc).strip()
    return (text.splitlines()[0] if text else type(exc).__name__)[:200]
