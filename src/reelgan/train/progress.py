"""The training progress bar: step, steps/s, ETA and the latest losses (rich)."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

SHOWN_STATS = ("loss_D", "loss_G", "gp", "r1")


class TrainingProgress:
    """A context manager around rich's progress bar; a no-op when disabled (tests, non-interactive use)."""

    def __init__(self, total: int, start: int, enabled: bool = True,
                 shown_stats: tuple[str, ...] = SHOWN_STATS) -> None:
        self.enabled = enabled
        self.shown_stats = shown_stats
        self.progress = Progress(
            TextColumn("[bold]train"), BarColumn(), MofNCompleteColumn(),
            TextColumn("{task.fields[speed]}"), TimeRemainingColumn(), TextColumn("{task.fields[losses]}"),
            console=Console(stderr=True), disable=not enabled,
        )
        self.task = self.progress.add_task("train", total=total, completed=start, speed="", losses="")

    def __enter__(self) -> "TrainingProgress":
        self.progress.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.progress.__exit__(*exc)

    def update(self, step: int, row: dict[str, float] | None = None) -> None:
        """Move the bar to `step`; with a stats row, also show its speed and losses."""
        fields: dict[str, str] = {}
        if row is not None:
            fields["speed"] = f"{row['steps_per_s']:.2f} step/s"
            fields["losses"] = " ".join(f"{k}={row[k]:.3f}" for k in self.shown_stats if k in row)
        self.progress.update(self.task, completed=step, **fields)
