"""Progress bars (rich): the training bar (step, steps/s, ETA, the latest losses) and a plain one for renders."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

SHOWN_STATS = ("loss_D", "loss_G", "gp", "r1")


class TrainingProgress:
    """A context manager around rich's progress bar; a no-op when disabled (tests, non-interactive use).

    With `timed=True` the bar shows the share of the run done (the caller passes it to `update`), so that
    under a time budget (`--max-minutes`) the bar and its ETA follow the clock, not the step count.
    """

    FRACTION_UNITS = 1000  # a timed bar counts thousandths of the run

    def __init__(self, total: int, start: int, enabled: bool = True,
                 shown_stats: tuple[str, ...] = SHOWN_STATS, timed: bool = False) -> None:
        self.enabled, self.shown_stats, self.timed, self.total = enabled, shown_stats, timed, total
        count = TextColumn("step {task.fields[step]}") if timed else MofNCompleteColumn()
        self.progress = Progress(
            TextColumn("[bold]train"), BarColumn(), count,
            TextColumn("{task.fields[speed]}"), TimeRemainingColumn(), TextColumn("{task.fields[losses]}"),
            console=Console(stderr=True), disable=not enabled,
        )
        self.task = self.progress.add_task("train", total=self.FRACTION_UNITS if timed else total,
                                           completed=0 if timed else start, speed="", losses="", step=start)

    def __enter__(self) -> "TrainingProgress":
        self.progress.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.progress.__exit__(*exc)

    def update(self, step: int, row: dict[str, float] | None = None, fraction: float | None = None) -> None:
        """Move the bar to `step` (or, on a timed bar, to `fraction` of the run, 0-1); with a stats row, also
        show its speed and losses."""
        fields: dict[str, Any] = {"step": step}
        if row is not None:
            fields["speed"] = f"{row['steps_per_s']:.2f} step/s"
            fields["losses"] = " ".join(f"{k}={row[k]:.3f}" for k in self.shown_stats if k in row)
        if self.timed:
            completed = round(min(1.0, fraction if fraction is not None else step / self.total)
                              * self.FRACTION_UNITS)
        else:
            completed = step
        self.progress.update(self.task, completed=completed, **fields)


def track(items, total: int, label: str, enabled: bool = True):
    """Yield from `items`, showing a bar of `total` with its rate and time left on stderr (rich); when
    disabled, just yield."""
    if not enabled:
        yield from items
        return
    progress = Progress(TextColumn(f"[bold]{label}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                        console=Console(stderr=True))
    with progress:
        task = progress.add_task(label, total=total)
        for item in items:
            yield item
            progress.advance(task)
