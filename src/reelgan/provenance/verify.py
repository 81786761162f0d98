"""`reelgan verify`: what a file says about how it was made: metadata, C2PA manifest, watermark, authorship.

Each check has a state: "passed" (found reelgan's declaration, intact), "failed" (found one that does not hold:
a C2PA manifest that fails validation because the file changed after signing), "absent" (nothing found) or
"not checked" (the check does not apply to this kind of file, or its library is not installed). A file
"declares itself" when any check finds an AI or synthetic declaration. Absence proves nothing: metadata can
be stripped, a sidecar left behind and the watermark cropped away.
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
DOCUMENT_SUFFIXES = (".svg", ".pdf")     # metadata and C2PA; no frames for the watermark
WATERMARK_FRAMES = 48          # frames of a video checked for the watermark, spread over its length
MIN_MARKED_FRAMES = 2          # a video's mark counts when this many checked frames agree
STATES = ("passed", "failed", "absent", "not checked")
SCHEMA = "reelgan-verify/2"
# Exit statuses of `reelgan verify` (2, a bad input, is every command's).
DECLARED, NOT_DECLARED, BAD_INPUT, INVALID = 0, 1, 2, 3


@dataclass
class Finding:
    """One check: its name, whether it found a declaration, what it says, its state and its details."""

    check: str
    found: bool
    detail: str
    state: str = ""            # one of STATES; "" means passed when found, else absent
    data: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.state = self.state or ("passed" if self.found else "absent")
        if self.state not in STATES:
            raise ValueError(f"state must be one of {STATES}; got {self.state!r}")


@dataclass
class Report:
    """All checks of one file."""

    path: Path
    findings: list[Finding] = field(default_factory=list)

    @property
    def declared(self) -> bool:
        """True when any check found a declaration."""
        return any(f.found for f in self.findings)

    @property
    def invalid(self) -> bool:
        """True when a check failed: what the file declares does not hold (it changed after signing)."""
        return any(f.state == "failed" for f in self.findings)

    @property
    def exit_status(self) -> int:
        """INVALID when a check failed, else DECLARED or NOT_DECLARED."""
        return INVALID if self.invalid else DECLARED if self.declared else NOT_DECLARED

    def as_json(self) -> dict:
        """The stable JSON form (`reelgan verify --json`, documented in its help)."""
        return {"schema": SCHEMA, "file": str(self.path), "declared": self.declared, "invalid": self.invalid,
                "exit_status": self.exit_status,
                "findings": [{"check": f.check, "state": f.state, "found": f.found, "detail": f.detail,
                              "data": f.data} for f in self.findings]}


def verify(path: str | Path, script_check: Callable[[Path], Finding] | None = None,
           trust_anchors: str | None = None) -> Report:
    """Run every check that applies to the file; ReelganError for a missing or unreadable file.

    Screenplays are checked by `script_check` (`reelgan.script.authorship.script_finding`, passed in because
    scripts sit above provenance): without it a screenplay is an error. `trust_anchors`: PEM CA certificates
    whose C2PA signers count as Trusted.
    """
    path = _readable(Path(path))
    suffix = path.suffix.lower()
    report = Report(path)
    credentials = _credentials(path, trust_anchors)
    if suffix in SCRIPT_SUFFIXES:
        if script_check is None:
            raise ReelganError(f"{path.name} is a screenplay; verify it with `reelgan verify` (or pass "
                               "script_check=reelgan.script.authorship.script_finding)")
        report.findings += [script_check(path), credentials]
        return report
    media = suffix in IMAGE_SUFFIXES + VIDEO_SUFFIXES
    if not media and suffix not in DOCUMENT_SUFFIXES and credentials.state in ("absent", "not checked"):
        raise ReelganError(f"{path.name}: verify reads PNG, GIF, JPEG, WebP, MP4/MOV, SVG, PDF and Fountain files, "
                           "and any file signed with a C2PA sidecar (NAME.EXT.c2pa)")
    known = media or suffix in DOCUMENT_SUFFIXES
    report.findings.append(_metadata(path) if known else Finding(
        "metadata", False, "reelgan keeps no record inside this kind of file", "not checked"))
    report.findings.append(credentials)
    if media:
        frames = _video_frames(path) if suffix in VIDEO_SUFFIXES else _image_frames(path)
        report.findings.append(_watermark(frames))
    else:
        report.findings.append(Finding("watermark", False, "the file has no frames to mark", "not checked"))
    return report


def _readable(path: Path) -> Path:
    if path.is_dir():
        raise ReelganError(f"{path} is a folder; give verify one file (for many: a loop over the files)")
    if not path.is_file():
        raise ReelganError(f"{path} does not exist; check the path")
    if not os.access(path, os.R_OK):
        raise ReelganError(f"{path} cannot be read (permission denied); check its permissions")
    return path


def _metadata(path: Path) -> Finding:
    from ..provenance import read_record

    record = read_record(path)
    if record is None:
        return Finding("metadata", False, "no reelgan record in the file's metadata")
    source_type = str(record.get("digital_source_type", "")).rsplit("/", 1)[-1] or "no source type"
    if "ai_generated" not in record:
        return Finding("metadata", False, "a reelgan record without an AI declaration", "absent", {"record": record})
    if record["ai_generated"] is not True:
        return Finding("metadata", False, f"a reelgan record that denies the file is machine-made "
                       f"({source_type}): reelgan never writes one, so it was edited", "failed", {"record": record})
    detail = f"declared machine-made: IPTC {source_type}, by {record.get('software', 'unknown software')}"
    if record.get("generator_hash") and set(str(record["generator_hash"])) != {"0"}:
        detail += f", model sha256 {str(record['generator_hash'])[:16]}"
    return Finding("metadata", True, detail, "passed", {"record": record})


def _credentials(path: Path, trust_anchors: str | None) -> Finding:
    try:
        from .manifests import UNTRUSTED, read_manifest

        manifest = read_manifest(path, trust_anchors)
    except ImportError:
        return Finding("C2PA", False, "not checked (pip install 'reelgan[c2pa]')", "not checked")
    if manifest is None:
        return Finding("C2PA", False, "no C2PA manifest (embedded or NAME.EXT.c2pa beside it)")
    types = ", ".join(t.rsplit("/", 1)[-1] for t in manifest["digital_source_types"]) or "no source type"
    where = f" in {Path(manifest['sidecar']).name}" if manifest["sidecar"] else ""
    if manifest["validation_state"] not in ("Valid", "Trusted"):
        problems = ", ".join(c for c in manifest["validation_codes"] if c != UNTRUSTED)
        why = problems or manifest.get("error") or "no reason given"
        return Finding("C2PA", bool(manifest["digital_source_types"]),
                       f"manifest INVALID{where} ({why}): the file changed after it was signed, or the manifest "
                       "is damaged", "failed", manifest)
    signer = f", signed by {manifest['signer']}" if manifest.get("signer") else ""
    untrusted = UNTRUSTED in manifest["validation_codes"]
    trust = "; signer on no trust list (see --c2pa-trust)" if untrusted and manifest["validation_state"] == "Valid" \
        else ""
    return Finding("C2PA", bool(manifest["digital_source_types"]),
                   f"manifest {manifest['validation_state']} ({types}){signer}{where}{trust}", "passed", manifest)


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
    from .watermark import detect, detect_video

    if not frames:
        return Finding("watermark", False, "no frames to check", "not checked")
    detections = [detect([f]) for f in frames if min(f.shape[:2]) >= 32]  # smaller ones hold no mark
    hits = [d for d in detections if d.found]
    prefixes = {d.model_hash_prefix for d in hits}
    needed = 1 if len(frames) == 1 else MIN_MARKED_FRAMES
    best = max(prefixes, key=lambda p: sum(d.model_hash_prefix == p for d in hits)) if prefixes else None
    agreeing = [d for d in hits if d.model_hash_prefix == best]
    data = {"frames_checked": len(frames), "frames_marked": len(agreeing), "model_hash_prefix": best,
            "confidence": round(float(np.mean([d.confidence for d in agreeing])), 3) if agreeing else
            round(max((float(d.confidence) for d in detections), default=0.0), 3),
            "version": getattr(agreeing[0], "version", 1) if agreeing else None}
    readable = [f for f in frames if min(f.shape[:2]) >= 32]
    if len(agreeing) < needed and len(readable) > 1:
        # Too weak in single frames (heavy compression): the frames read together add up what each one holds.
        joint = detect_video(readable)
        if joint.found:
            data.update(frames_marked=None, model_hash_prefix=joint.model_hash_prefix,
                        confidence=round(float(joint.confidence), 3), version=joint.version,
                        false_positive_probability=joint.false_positive_probability)
            return Finding("watermark", True, f"reelgan watermark in the {len(frames)} frames read together (too "
                           f"faint in single frames), model sha256 starting {joint.model_hash_prefix}, confidence "
                           f"{joint.confidence:.2f} (version {joint.version})", "passed", data)
    if len(agreeing) < needed:
        return Finding("watermark", False, f"no reelgan watermark in {len(frames)} frame(s) checked", "absent", data)
    data["false_positive_probability"] = max(float(getattr(d, "false_positive_probability", 0.0)) for d in agreeing)
    return Finding("watermark", True, f"reelgan watermark in {len(agreeing)} of {len(frames)} frame(s) checked, "
                   f"model sha256 starting {best}, confidence {data['confidence']:.2f} (version "
                   f"{data['version']})", "passed", data)
