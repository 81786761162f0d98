"""Numbered run folders: runs/00001-<name>/, never overwritten."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from ..config import RunConfig, with_added_fields
from ..errors import ReelganError
from ..paths import NAME_MAX_BYTES, read_jsonl, short_name, temp_name

RUN_PATTERN = re.compile(r"^(\d{5})-")


def _safe_name(name: str) -> str:
    """A run name usable as a folder name on every OS."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-.")
    return short_name(cleaned or "run", NAME_MAX_BYTES - len("00000-"))


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


ELASTIC_RECORD = "torchrun.json"  # which torchrun job a run folder belongs to, for its restarts


def record_elastic_run(run_dir: Path) -> None:
    """Under torchrun, note the job's run id in the new run folder, so that a restarted job finds it."""
    if "TORCHELASTIC_RUN_ID" in os.environ:
        write_json(run_dir / ELASTIC_RECORD, {"run_id": os.environ["TORCHELASTIC_RUN_ID"]})


def elastic_run_dir(root: str | Path) -> Path | None:
    """When torchrun restarts a failed job (`--max-restarts`), the run folder its first attempt made under
    `root` (the newest with this job's run id), to continue from its last checkpoint; None otherwise."""
    if int(os.environ.get("TORCHELASTIC_RESTART_COUNT", "0")) == 0 or not Path(root).is_dir():
        return None
    run_id = os.environ.get("TORCHELASTIC_RUN_ID")
    runs = [p for p in Path(root).iterdir() if run_number(p) is not None and (p / ELASTIC_RECORD).is_file()]
    for path in sorted(runs, key=run_number, reverse=True):
        try:
            if json.loads((path / ELASTIC_RECORD).read_text()).get("run_id") == run_id:
                return path
        except (OSError, ValueError, AttributeError):
            continue
    return None


def latest_run(root: str | Path) -> Path:
    """The highest-numbered run folder under `root`."""
    root = Path(root)
    runs = sorted((p for p in root.iterdir() if p.is_dir() and run_number(p) is not None),
                  key=run_number) if root.is_dir() else []
    if not runs:
        raise ReelganError(f"no run folders in {root}; train one first with `reelgan train`")
    return runs[-1]


def check_run_folder(path: Path) -> None:
    """ReelganError unless `path` is a folder (a run folder given as a file or a missing path is named)."""
    if path.is_file():
        raise ReelganError(f"{path} is a file, not a run folder; give a folder such as runs/00001-... or 'latest'")
    if not path.is_dir():
        raise ReelganError(f"run folder {path} not found; give a folder such as runs/00001-... or 'latest'")


def resolve_run_dir(target: str | Path, root: str | Path = "runs") -> Path:
    """A run folder from a path, or `latest` for the newest run under `root`."""
    if str(target) == "latest":
        return latest_run(root)
    path = Path(target)
    check_run_folder(path)
    if not (path / "checkpoints" / "latest.pt").is_file() and not (path / "config.json").is_file():
        raise ReelganError(f"{path} has neither checkpoints/latest.pt nor config.json, so it is not a reelgan run "
                           "folder; give the folder `reelgan train` printed")
    return path


def stored_config(run_dir: Path) -> dict:
    """The config a run folder was trained with: its checkpoint's, or (before the first checkpoint) config.json.

    A run killed before its first checkpoint has only config.json; it resumes from step 0.
    """
    from ..gan.checkpoint import load_checkpoint

    checkpoint = run_dir / "checkpoints" / "latest.pt"
    if checkpoint.is_file():
        return with_added_fields(load_checkpoint(checkpoint)["config"])
    try:
        data = json.loads((run_dir / "config.json").read_text())
    except (OSError, ValueError) as exc:
        raise ReelganError(f"{run_dir / 'config.json'} cannot be read ({exc}); start a new run") from None
    if not isinstance(data, dict):
        raise ReelganError(f"{run_dir / 'config.json'} is not a reelgan config; start a new run")
    return with_added_fields(data)


def write_json(path: Path, data: dict) -> None:
    """Write JSON through a temp file renamed into place."""
    tmp = path.with_name(temp_name(path.name))
    tmp.write_text(json.dumps(data, indent=2) + "\n")
    tmp.replace(path)


def truncate_jsonl(path: Path, last_step: int) -> None:
    """Keep only whole lines logged up to `last_step` (a run that died after its last checkpoint wrote more)."""
    if not path.is_file():
        return
    kept = [row for row in read_jsonl(path) if row["step"] <= last_step]
    tmp = path.with_name(temp_name(path.name))
    tmp.write_text("".join(json.dumps(row) + "\n" for row in kept))
    tmp.replace(path)


LOCK_FILE = ".lock"  # in a run folder while a process trains it; holds that process's id


class RunLock:
    """One writer per run folder: an exclusive lock on `RUN/.lock`, released when the process exits.

    Taken with `fcntl.flock` where it exists (the kernel drops it when its process dies, so a lock left by a
    killed run is never in the way); elsewhere with `O_EXCL`, and a lock file whose process has died is
    taken over. A second process is refused with a message naming the process that holds the run.
    """

    def __init__(self, run_dir: Path) -> None:
        self.path = Path(run_dir) / LOCK_FILE
        self._fd: int | None = None
        self._flock = False

    def __enter__(self) -> "RunLock":
        self.acquire()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()

    def _refuse(self) -> ReelganError:
        try:
            holder = self.path.read_text().strip() or "another process"
        except OSError:
            holder = "another process"
        return ReelganError(f"{self.path.parent} is being trained by process {holder}; wait for it to finish or "
                            f"stop it (kill {holder}) before resuming")

    def acquire(self) -> None:
        """Take the lock, or raise ReelganError if a live process holds it."""
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows
            self._acquire_exclusive_create()
            return
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise self._refuse() from None
        pid = str(os.getpid()).encode()
        if os.read(fd, 32) != pid:  # the last writer's id stays in the file; rewrite it only when it changes
            os.ftruncate(fd, 0)
            os.pwrite(fd, pid, 0)
        self._fd, self._flock = fd, True

    def _acquire_exclusive_create(self) -> None:  # pragma: no cover - Windows
        from ..paths import pid_alive

        for _ in range(2):
            try:
                fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            except FileExistsError:
                text = self.path.read_text().strip()
                if text.isdigit() and pid_alive(int(text)):
                    raise self._refuse() from None
                self.path.unlink(missing_ok=True)  # a stale lock: its process has died
                continue
            os.write(fd, str(os.getpid()).encode())
            self._fd, self._flock = fd, False
            return
        raise self._refuse()

    def release(self) -> None:
        """Give the lock up. A flock'd file stays (removing it would let two later writers lock two different
        files); an O_EXCL lock file is removed."""
        if self._fd is None:
            return
        try:
            if not self._flock:  # pragma: no cover - Windows
                self.path.unlink(missing_ok=True)
        finally:
            os.close(self._fd)
            self._fd = None


# What a resumed run may change: how long it runs, where, and how often it reports.
# standing_stats changes what G_ema samples from the next checkpoint on, never a training step.
RESUMABLE_FIELDS = {"steps", "max_minutes", "device", "workers", "threads", "log_every", "sample_every",
                    "checkpoint_every", "standing_stats"}


def check_resume_changes(stored: dict[str, dict[str, Any]], config: dict[str, dict[str, Any]]) -> None:
    """ReelganError if resuming a run stored as `stored` with `config` (both `RunConfig.to_dict()`) changes
    anything but RESUMABLE_FIELDS, or changes --steps under --lr-decay."""
    if stored["train"]["lr_decay"] and config["train"]["steps"] != stored["train"]["steps"]:
        raise ReelganError(
            "cannot change --steps when resuming a run with --lr-decay: its decay schedule is fixed by the "
            "total steps; resume without --steps, or start a new run"
        )
    for section, values in config.items():
        for name, value in values.items():
            if name not in RESUMABLE_FIELDS and value != stored[section][name]:
                raise ReelganError(
                    f"cannot change {section}.{name} when resuming; a resumed run keeps its config except "
                    f"{', '.join(sorted(RESUMABLE_FIELDS))} (start a new run to change it)"
                )


def resumed_config(run_dir: Path, overrides: dict[str, dict[str, Any]]) -> RunConfig:
    """The stored config of `run_dir` with the fields of `overrides` (nested sections) replaced, checked by
    `check_resume_changes`."""
    stored = RunConfig.from_dict(stored_config(run_dir)).to_dict()  # a damaged record fails here, in one line
    changed = {section: dict(values) for section, values in stored.items()}
    for section, values in overrides.items():
        changed[section].update(values)
    check_resume_changes(stored, changed)
    return RunConfig.from_dict(changed)
