"""`reelgan verify`: what a file says about how it was made: metadata, C2PA manifest, watermark, script record.

Each check reports what it found; a file "declares itself" when any of them finds an AI or synthetic
declaration. Absence proves nothing: metadata can be stripped and the watermark cropped away.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import ReelganError
from ..paths import IMAGE_SUFFIXES, VIDEO_SUFFIXES

SCRIPT_SUFFIXES = (".fountain", ".spmd")
WATERMARK_FRAMES = 48          # frames of a video checked for the watermark, spread over its length
MIN_MARKED_FRAMES = 2          # a video's mark counts when this many checked frames agree


@dataclass
class Finding:
    """One check: its name, whether it found a declaration, and what it says."""

    check: str
    found: bool
    detail: str


@dataclass
class Report:
    """All checks of one file."""

    path: Path
    findings: list[Finding] = field(default_factory=list)

    @property
    def declared(self) -> bool:
        """True when any check found a declaration."""
        return any(f.found for f in self.findings)


def verify(path: str | Path, script_check: Callable[[Path], Finding] | None = None) -> Report:
    """Run every check that applies to the file; ReelganError for a missing or unreadable file.

    Screenplays are checked by `script_check` (`reelgan.script.authorship.script_finding`, passed in because
    scripts sit above provenance): without it a screenplay is an error.
    """
    path = Path(path)
    if path.is_dir():
        raise ReelganError(f"{path} is a folder; give verify one file (for many: a loop over the files)")
    if not path.is_file():
        raise ReelganError(f"{path} does not exist; check the path")
    if not os.access(path, os.R_OK):
        raise ReelganError(f"{path} cannot be read (permission denied); check its permissions")
    suffix = path.suffix.lower()
    report = Report(path)
    if suffix in SCRIPT_SUFFIXES:
        if script_check is None:
            raise ReelganError(f"{path.name} is a screenplay; verify it with `reelgan verify` (or pass "
                               "script_check=reelgan.script.authorship.script_finding)")
        report.findings.append(script_check(path))
        return report
    if suffix not in IMAGE_SUFFIXES + VIDEO_SUFFIXES:
        raise ReelganError(f"{path.name}: verify reads PNG, GIF, JPEG, WebP, MP4/MOV and Fountain files")
    report.findings.append(_metadata(path))
    report.findings.append(_credentials(path))
    frames = _video_frames(path) if suffix in VIDEO_SUFFIXES else _image_frames(path)
    report.findings.append(_watermark(frames))
    return report


def _metadata(path: Path) -> Finding:
    from ..provenance import read_record

    record = read_record(path)
    if record is None:
        return Finding("metadata", False, "no reelgan record in the file's metadata")
    source_type = str(record.get("digital_source_type", "")).rsplit("/", 1)[-1] or "no source type"
    detail = f"declared machine-made: IPTC {source_type}, by {record.get('software', 'unknown software')}"
    if record.get("generator_hash") and set(str(record["generator_hash"])) != {"0"}:
        detail += f", model sha256 {str(record['generator_hash'])[:16]}"
    return Finding("metadata", bool(record.get("ai_generated")), detail)


def _credentials(path: Path) -> Finding:
    try:
        from .credentials import read_manifest

        manifest = read_manifest(path)
    except ImportError:
        return Finding("C2PA", False, "not checked (pip install 'reelgan[c2pa]')")
    if manifest is None:
        return Finding("C2PA", False, "no C2PA manifest")
    types = ", ".join(t.rsplit("/", 1)[-1] for t in manifest["digital_source_types"]) or "no source type"
    signer = f", signed by {manifest['signer']}" if manifest.get("signer") else ""
    return Finding("C2PA", bool(manifest["digital_source_types"]),
                   f"manifest {manifest['validation_state'] or 'present'} ({types}){signer}")


def _image_frames(path: Path) -> list[np.ndarray]:
    from PIL import Image, ImageSequence

    try:
        with Image.open(path) as image:
            return [np.asarray(frame.convert("RGB")) for frame in ImageSequence.Iterator(image)][:WATERMARK_FRAMES]
    except Exception:
        raise ReelganError(f"{path} cannot be read as an image; check that it is not damaged") from None


def _video_frames(path: Path) -> list[np.ndarray]:
    import av

    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise ReelganError(f"{path} has no video stream")
            return _spread_frames(container.decode(container.streams.video[0]))
    except ReelganError:
        raise
    except Exception:
        raise ReelganError(f"{path} cannot be decoded as a video; check that it is not damaged") from None


def _spread_frames(decoded) -> list[np.ndarray]:
    """About WATERMARK_FRAMES frames spread evenly over a video of unknown length, in bounded memory.

    Every `step`-th frame is kept; when twice as many as wanted are held, every other one is dropped and
    the step doubles, so the kept frames always span the whole video.
    """
    kept: list[np.ndarray] = []
    step = 1
    for index, frame in enumerate(decoded):
        if index % step:
            continue
        kept.append(frame.to_ndarray(format="rgb24"))
        if len(kept) >= 2 * WATERMARK_FRAMES:
            kept, step = kept[::2], step * 2
    return kept


def _watermark(frames: list[np.ndarray]) -> Finding:
    from .watermark import detect

    if not frames:
        return Finding("watermark", False, "no frames to check")
    hits = [d for d in (detect([f]) for f in frames if min(f.shape[:2]) >= 32) if d.found]
    prefixes = {d.model_hash_prefix for d in hits}
    needed = 1 if len(frames) == 1 else MIN_MARKED_FRAMES
    best = max(prefixes, key=lambda p: sum(d.model_hash_prefix == p for d in hits)) if prefixes else None
    agreeing = sum(d.model_hash_prefix == best for d in hits) if best else 0
    if agreeing < needed:
        return Finding("watermark", False, f"no reelgan watermark in {len(frames)} frame(s) checked")
    return Finding("watermark", True, f"reelgan watermark in {agreeing} of {len(frames)} frame(s) checked, "
                   f"model sha256 starting {best}")
