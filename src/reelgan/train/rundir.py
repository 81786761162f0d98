"""Numbered run folders: runs/00001-<name>/, never overwritten."""

from __future__ import annotations

import json
import re
from pathlib import Path

from ..errors import ReelganError

RUN_PATTERN = re.compile(r"^(\d{5})-")


def _safe_name(name: str) -> str:
    """A run name usable as a folder name on every OS."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-.")
    return cleaned or "run"


def run_number(path: Path) -> int | None:
    """The number of a run folder, or None if the name is not a numbered run."""
    match = RUN_PATTERN.match(path.name)
    return int(match.group(1)) if match else None


def create_run_dir(root: str | Path, name: str) -> Path:
    """Make `root/NNNNN-name/` with the next free number; an existing folder is never reused."""
    root = Path(root)
    if root.exists() and not root.is_dir():
        raise ReelganError(f"--out {root} is a file, not a folder; give a folder for the run folders")
    root.mkdir(parents=True, exist_ok=True)
    numbers = [n for p in root.iterdir() if p.is_dir() and (n := run_number(p)) is not None]
    number = max(numbers, default=0) + 1
    while True:
        path = root / f"{number:05d}-{_safe_name(name)}"
        try:
            path.mkdir()  # fails if another process took this number first: then try the next one
            return path
        except FileExistsError:
            number += 1


def latest_run(root: str | Path) -> Path:
    """The highest-numbered run folder under `root`."""
    root = Path(root)
    runs = sorted((p for p in root.iterdir() if p.is_dir() and run_number(p) is not None),
                  key=run_number) if root.is_dir() else []
    if not runs:
        raise ReelganError(f"no run folders in {root}; train one first with `reelgan train`")
    return runs[-1]


def resolve_run_dir(target: str | Path, root: str | Path = "runs") -> Path:
    """A run folder from a path, or `latest` for the newest run under `root`."""
    if str(target) == "latest":
        return latest_run(root)
    path = Path(target)
    if not path.is_dir():
        raise ReelganError(f"run folder {path} not found; give a folder such as runs/00001-... or 'latest'")
    if not (path / "checkpoints" / "latest.pt").is_file():
        raise ReelganError(f"{path} has no checkpoints/latest.pt; it is not a reelgan run or it never saved")
    return path


def write_json(path: Path, data: dict) -> None:
    """Write JSON through a temp file renamed into place."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n")
    tmp.replace(path)


def truncate_jsonl(path: Path, last_step: int) -> None:
    """Drop lines logged after `last_step` (from a run that died after its last checkpoint)."""
    if not path.is_file():
        return
    kept = [line for line in path.read_text().splitlines()
            if line.strip() and json.loads(line).get("step", 0) <= last_step]
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text("".join(line + "\n" for line in kept))
    tmp.replace(path)
