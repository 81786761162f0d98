"""Where outputs go: the one place that decides whether an output path may be written.

Every command that writes a file or a folder asks here first, before any work, so a bad `--out` fails in
one line with nothing left behind: a parent that is a file, an existing output without `--overwrite`, a
folder where a file is meant (or the reverse), a name too long for the file system. Checking creates
nothing; writers make the parent folders when they write.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from pathlib import Path

from .errors import ReelganError

# The one list of each kind of media file reelgan reads, by suffix (lower case): still images (what Pillow
# decodes; a GIF gives its first frame), and videos (what PyAV decodes).
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif", ".tif", ".tiff")
VIDEO_SUFFIXES = (".mp4", ".mov", ".m4v", ".mkv", ".avi", ".webm")
# The longest file name most file systems take (ext4, APFS, NTFS: 255 bytes of UTF-8).
NAME_MAX_BYTES = 255
# A shortened name keeps this many bytes of its start, then "-" and this many hex digits of its sha256.
SHORT_NAME_KEEP_BYTES, SHORT_NAME_HASH_DIGITS = 120, 12
CACHE_VARIABLE = "REELGAN_CACHE"  # where reelgan keeps what it can make again (default ~/.cache/reelgan)
# What `temp_prefix` names look like, with anything after (a random part, ".tmp", a suffix).
_TEMP_PATTERN = re.compile(r"^\..+\.pid(\d+)\..*tmp")


def short_name(name: str, limit: int = NAME_MAX_BYTES) -> str:
    """`name` if it fits `limit` bytes; else its start, a hash of the whole name, and its suffix.

    Two different long names get different short ones, and the same name always the same one.
    """
    if len(name.encode()) <= limit:
        return name
    stem, suffix = os.path.splitext(name)
    if len(suffix.encode()) > 16:  # not a real suffix, just a dot inside a long phrase
        stem, suffix = name, ""
    digest = hashlib.sha256(name.encode()).hexdigest()[:SHORT_NAME_HASH_DIGITS]
    start = stem.encode()[:SHORT_NAME_KEEP_BYTES].decode(errors="ignore").rstrip(" .-")
    return f"{start}-{digest}{suffix}"


def _blocking_file(path: Path) -> Path | None:
    """The nearest existing ancestor of `path` that is not a folder, if any (a file where a folder must be)."""
    for parent in path.parents:
        if parent.exists():
            return None if parent.is_dir() else parent
    return None


def _check_parent(path: Path, flag: str) -> None:
    blocker = _blocking_file(path)
    if blocker is not None:
        raise ReelganError(f"{blocker} is a file, so {path} cannot be written inside it; give {flag} a path "
                           "whose folders are folders")
    for part in path.parts:
        if len(part.encode()) > NAME_MAX_BYTES:
            raise ReelganError(f"the name {part[:40]}... in {flag} is {len(part.encode())} bytes, over the "
                               f"file system's {NAME_MAX_BYTES}; choose a shorter name")


def output_file(path: str | Path, overwrite: bool = False, flag: str = "--out") -> Path:
    """Check that `path` may be written as a file; returns it as a Path (nothing is created).

    Refused: a parent that is a file, an existing folder at `path`, an existing file without `overwrite`,
    and a name longer than the file system allows.
    """
    path = Path(path)
    _check_parent(path, flag)
    if path.is_dir():
        raise ReelganError(f"{path} is a folder; give {flag} a file name (such as {path / 'out'}{path.suffix})")
    if path.exists() and not overwrite:
        raise ReelganError(f"{path} already exists; choose another {flag} or add --overwrite")
    return path


def output_files(paths: list[Path], overwrite: bool = False, flag: str = "--out") -> list[Path]:
    """`output_file` for each of several files written together: all are checked before any is written."""
    return [output_file(path, overwrite, flag) for path in paths]


def output_folder(path: str | Path, flag: str = "--out") -> Path:
    """Check that `path` may hold output files: a folder or nothing yet, below folders (nothing is created).

    The files inside are checked one by one with `output_file`.
    """
    path = Path(path)
    _check_parent(path, flag)
    if path.exists() and not path.is_dir():
        raise ReelganError(f"{path} is a file; give {flag} a folder name (or remove the file)")
    return path


def make_parent(path: Path) -> Path:
    """Create the folders above `path` (after the checks, at write time); returns `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def pid_alive(pid: int) -> bool:
    """True if a process with this id runs on this machine (a temp file's writer may still be writing)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, owned by someone else
        return True
    except OSError:  # pragma: no cover - e.g. Windows without such a process
        return False
    return True


def temp_prefix(name: str) -> str:
    """The start of the hidden name of a temp file or staging folder for `name`: `.NAME.pidPID.`

    The writer's process id in the name lets a later run tell a dead writer's leftovers from live work.
    """
    return f".{name}.pid{os.getpid()}."


def cache_root() -> Path:
    """The folder of reelgan's caches (reference features, fetched weights, dequantised models):
    $REELGAN_CACHE, else ~/.cache/reelgan."""
    return Path(os.environ.get(CACHE_VARIABLE, Path.home() / ".cache" / "reelgan"))


def temp_name(name: str) -> str:
    """A temp file name for `name` in the same folder (one per process): `.NAME.pidPID.tmp`."""
    return temp_prefix(name) + "tmp"


def remove_stale_temps(folder: Path) -> list[Path]:
    """Delete temp files and staging folders in `folder` (named by `temp_name`) whose writer has died.

    A process killed mid-write (kill -9, power loss) cannot clean up after itself; the next run does.
    """
    removed = []
    if not folder.is_dir():
        return removed
    for entry in folder.iterdir():
        match = _TEMP_PATTERN.match(entry.name)
        if match is None or pid_alive(int(match.group(1))):
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
        removed.append(entry)
    return removed


def read_jsonl(path: Path) -> list[dict]:
    """The JSON objects of a .jsonl log, one per line ([] when the file does not exist).

    A cut-off last line (a process killed mid-write) is skipped; any other line that is not a JSON object
    is a ReelganError naming the file and the line, so a damaged log is never silently rewritten.
    """
    if not path.is_file():
        return []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError:
        raise ReelganError(f"{path} is not a text log (it holds binary data); restore or remove it") from None
    lines = [(number, line) for number, line in enumerate(lines, 1) if line.strip()]
    rows: list[dict] = []
    for index, (number, line) in enumerate(lines):
        try:
            row = json.loads(line)
        except ValueError:
            if index == len(lines) - 1 and line.lstrip().startswith("{"):
                break  # the cut-off last line of a killed writer
            row = None
        if isinstance(row, dict) and isinstance(row.get("step"), int) and not isinstance(row["step"], bool):
            rows.append(row)
        else:
            raise ReelganError(f"{path} line {number} is not a JSON object with a step ({line[:40]!r}); the log "
                               "is damaged: fix or delete that line")
    return rows
