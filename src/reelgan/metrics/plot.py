"""Training curves of a run folder: losses from stats.jsonl and metrics from metrics.jsonl, drawn to PNG."""

from __future__ import annotations

from pathlib import Path

from ..errors import ReelganError
from ..media import atomic_path
from ..paths import read_jsonl

LOSS_KEYS = ("loss_D", "loss_G", "gp", "r1")


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def plot_run(run_dir: str | Path, out: str | Path | None = None) -> Path:
    """Draw losses (and metrics, when the run has them) against the step; returns the PNG's path.

    The PNG is a chart of numbers, not generated media, so it carries no AI-generation record.
    """
    try:
        import matplotlib
    except ImportError:
        raise ReelganError("plotting needs matplotlib: pip install 'reelgan[plot]'") from None
    matplotlib.use("Agg")  # no display needed
    import matplotlib.pyplot as plt

    run_dir = Path(run_dir)
    stats, metrics = (read_jsonl(run_dir / name) for name in ("stats.jsonl", "metrics.jsonl"))
    if not stats:
        raise ReelganError(f"{run_dir} has no stats.jsonl rows yet; train it for at least --log-every steps "
                           "(or it is not a reelgan run folder)")
    # One panel per metric; spreads such as kid_std stay in metrics.jsonl.
    metric_keys = sorted({key for row in metrics for key in row
                          if key != "step" and "_std" not in key and _is_number(row[key])})
    panels = 1 + len(metric_keys)
    figure, axes = plt.subplots(panels, 1, figsize=(8, 2.6 * panels), sharex=True, squeeze=False)
    loss_axis = axes[0][0]
    for key in LOSS_KEYS:
        points = [(row["step"], row[key]) for row in stats if _is_number(row.get(key))]
        if points:
            loss_axis.plot(*zip(*points), label=key)
    loss_axis.set_ylabel("loss")
    loss_axis.legend(loc="best")
    loss_axis.set_title(run_dir.name)
    for axis, key in zip((row[0] for row in axes[1:]), metric_keys):
        points = [(row["step"], row[key]) for row in metrics if _is_number(row.get(key))]
        axis.plot(*zip(*points), marker="o")
        axis.set_ylabel(key, fontsize=8)
    axes[-1][0].set_xlabel("generator step")
    figure.tight_layout()
    out = Path(out) if out else run_dir / "curves.png"
    with atomic_path(out) as tmp:
        figure.savefig(tmp, format="png", dpi=100)
    plt.close(figure)
    return out
