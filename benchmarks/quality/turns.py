"""Systems that take turns on the machine, so that each sees the same machine.

The CPU's speed drifts on this shared machine by up to 1.6x within half an hour (twemoji: 705 reelgan steps per
minute at one time, 440 twenty minutes later, nothing else running). Systems trained one after the other then
meet different machines, and the drift swamps the differences being measured. So every system of a dataset
runs in its own process, all set up before the first is timed. Only one runs at a time: the parent gives each a
turn of `TURN_S` seconds (SIGCONT ... SIGSTOP), round robin. Each system's clock counts only its own turns
(`TurnClock`), and it trains until that clock reaches the budget. Over a 4-minute budget with 30-second turns,
each system meets every stretch of the machine's drift alike.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

TURN_S = 30.0
CLOCK_VARIABLE = "REELGAN_BENCH_CLOCK"  # the file a child reads its clock from


class TurnClock:
    """Seconds of this process's own turns: the active time before the current turn, plus the time since it
    began (both written by the parent into the clock file before it lets the process run)."""

    def __init__(self, path: str | Path | None = None) -> None:
        path = path or os.environ.get(CLOCK_VARIABLE)
        self.path = Path(path) if path else None
        self._stamp: tuple[float, float] | None = None
        self._mtime = None

    def wait_for_first_turn(self) -> None:
        """Stop until the parent gives the first turn (set-up is done and untimed)."""
        if self.path is not None:
            os.kill(os.getpid(), signal.SIGSTOP)

    def __call__(self) -> float:
        if self.path is None:  # not under a parent that takes turns: plain wall time from the first call
            if self._stamp is None:
                self._stamp = (0.0, time.monotonic())
        else:
            mtime = self.path.stat().st_mtime_ns
            if mtime != self._mtime:  # a new turn began since the last read
                record = json.loads(self.path.read_text())
                self._stamp, self._mtime = (record["active_s"], record["resumed"]), mtime
        active, resumed = self._stamp
        return active + time.monotonic() - resumed


def take_turns(commands: dict[str, list[str]], folder: Path, env: dict[str, str], cwd: Path,
               turn_s: float = TURN_S) -> dict[str, int]:
    """Run each named command as a child that stops itself after set-up (`TurnClock.wait_for_first_turn`), then
    give the children turns of `turn_s` seconds, round robin, until all have exited; their exit codes."""
    children, clocks, active = {}, {}, {}
    for name, command in commands.items():
        clocks[name] = folder / f"{name}.clock.json"
        clocks[name].unlink(missing_ok=True)
        children[name] = subprocess.Popen(command, cwd=cwd, env={**env, CLOCK_VARIABLE: str(clocks[name])})
        active[name] = 0.0
        _wait_until_stopped(children[name])  # set-up of one at a time, so none is timed while another loads
    codes: dict[str, int] = {}
    previous = signal.signal(signal.SIGTERM, _exit_on_sigterm)  # so that `finally` runs under kill/pkill too
    try:
        _rounds(children, clocks, active, codes, turn_s)
    finally:  # interrupted: a stopped child would wait forever, so wake each one to end it
        signal.signal(signal.SIGTERM, previous)
        for name, child in children.items():
            if child.poll() is None:
                child.send_signal(signal.SIGCONT)
                child.terminate()
    return codes


def _exit_on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def _rounds(children: dict[str, subprocess.Popen], clocks: dict[str, Path], active: dict[str, float],
            codes: dict[str, int], turn_s: float) -> None:
    """Turns of `turn_s` seconds, round robin, until every child has exited (their codes into `codes`)."""
    while len(codes) < len(children):
        for name, child in children.items():
            if name in codes:
                continue
            tmp = clocks[name].with_suffix(".tmp")
            resumed = time.monotonic()
            tmp.write_text(json.dumps({"active_s": active[name], "resumed": resumed}))
            tmp.replace(clocks[name])
            child.send_signal(signal.SIGCONT)
            try:
                codes[name] = child.wait(timeout=turn_s)
            except subprocess.TimeoutExpired:
                child.send_signal(signal.SIGSTOP)
                _wait_until_stopped(child)
            active[name] += time.monotonic() - resumed


def _wait_until_stopped(child: subprocess.Popen) -> None:
    """Block until `child` is stopped (state T in /proc) or has exited."""
    while child.poll() is None:
        try:
            state = Path(f"/proc/{child.pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            return
        if state in ("T", "t"):
            return
        time.sleep(0.05)
