"""Long jobs of the studio (training, rendering a film) as `reelgan` subprocesses.

A job is the same command a person would type, run in the background with its output kept. Stopping sends
SIGINT, which `reelgan train` answers as it does Ctrl-C: it saves a checkpoint and exits, so the run can be
resumed. The page polls a job's status; nothing here trains or renders by itself.
"""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

LOG_LINES = 200  # output lines kept per job


@dataclass
class Job:
    """One background `reelgan` command."""

    id: int
    kind: str                   # "train" or "film"
    argv: list[str]
    started: float = field(default_factory=time.time)
    process: subprocess.Popen | None = None
    lines: list[str] = field(default_factory=list)
    run_dir: Path | None = None   # training: the run folder, once it exists
    output: Path | None = None    # film: the MP4
    minutes: float | None = None  # training: the time budget
    ended: float | None = None
    stopping: bool = False        # a stop was asked for

    @property
    def status(self) -> str:
        """running, stopping, finished, stopped or failed."""
        if self.process is None:
            return "starting"
        code = self.process.poll()
        if code is None:
            return "stopping" if self.stopping else "running"
        if code == 0:  # training answers a stop by saving a checkpoint and exiting cleanly
            return "stopped" if self.stopping else "finished"
        return "stopped" if code in (130, -signal.SIGINT) else "failed"

    @property
    def error(self) -> str | None:
        """The job's one-line `error:` message, when it failed."""
        if self.status != "failed":
            return None
        for line in reversed(self.lines):
            if line.startswith("error:"):
                return line
        return self.lines[-1] if self.lines else f"exited with status {self.process.returncode}"

    def describe(self) -> dict:
        """What the page shows of a job."""
        elapsed = (self.ended or time.time()) - self.started
        eta = None
        if self.minutes and self.status == "running":
            eta = max(0.0, self.minutes * 60 - elapsed)
        return {"id": self.id, "kind": self.kind, "status": self.status, "error": self.error,
                "run": self.run_dir.name if self.run_dir else None,
                "output": str(self.output) if self.output else None, "elapsed_s": round(elapsed, 1),
                "eta_s": None if eta is None else round(eta), "log": self.lines[-8:],
                "command": "reelgan " + " ".join(self.argv)}


class Jobs:
    """The studio's background jobs, by id."""

    def __init__(self) -> None:
        self._jobs: dict[int, Job] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def start(self, kind: str, argv: list[str], *, cwd: Path, watch: Path | None = None,
              minutes: float | None = None, output: Path | None = None) -> Job:
        """Run `reelgan ARGV...` in the background. With `watch` (a runs folder), the job's run folder is the
        folder that appears there after the start."""
        job = Job(next(self._ids), kind, argv, minutes=minutes, output=output)
        before = set(watch.iterdir()) if watch is not None and watch.is_dir() else set()
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        job.process = subprocess.Popen([sys.executable, "-m", "reelgan", *argv], cwd=cwd, env=env,
                                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                       stdin=subprocess.DEVNULL)
        threading.Thread(target=self._follow, args=(job, watch, before), daemon=True).start()
        with self._lock:
            self._jobs[job.id] = job
        return job

    def _follow(self, job: Job, watch: Path | None, before: set[Path]) -> None:
        """Keep the job's last output lines and find its run folder."""
        assert job.process is not None and job.process.stdout is not None
        for line in job.process.stdout:
            job.lines = (job.lines + [line.rstrip()])[-LOG_LINES:]
            if watch is not None and job.run_dir is None and watch.is_dir():
                new = sorted(p for p in set(watch.iterdir()) - before if p.is_dir())
                job.run_dir = new[0] if new else None
        job.process.wait()
        job.ended = time.time()
        if watch is not None and job.run_dir is None and watch.is_dir():
            new = sorted(p for p in set(watch.iterdir()) - before if p.is_dir())
            job.run_dir = new[0] if new else None

    def attach_run(self, job: Job, run_dir: Path) -> None:
        """Name the run folder of a job that resumes an existing run."""
        job.run_dir = run_dir

    def get(self, job_id: int) -> Job | None:
        """The job with this id."""
        with self._lock:
            return self._jobs.get(job_id)

    def all(self) -> list[Job]:
        """Every job, newest first."""
        with self._lock:
            return sorted(self._jobs.values(), key=lambda j: -j.id)

    def stop(self, job: Job) -> None:
        """Ask the job to stop as Ctrl-C would (training saves a checkpoint first)."""
        if job.process is not None and job.process.poll() is None:
            job.stopping = True
            job.process.send_signal(signal.SIGINT)

    def stop_all(self, timeout: float = 30.0) -> None:
        """Stop every running job and wait for them (the studio is closing)."""
        for job in self.all():
            self.stop(job)
        deadline = time.time() + timeout
        for job in self.all():
            if job.process is not None:
                try:
                    job.process.wait(max(0.1, deadline - time.time()))
                except subprocess.TimeoutExpired:
                    job.process.kill()
