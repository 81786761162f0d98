"""The value checks every layer uses: each failure is a one-line `ReelganError` naming the value and the rule."""

from __future__ import annotations

import math
from collections.abc import Sequence

from .errors import ReelganError


def check_choice(name: str, value: object, allowed: Sequence[object], context: str = "") -> None:
    """ReelganError naming `name` and the allowed values unless `value` is one of them.

    `context` ends the rule, e.g. " for clips". True/False never pass for 1/0.
    """
    if isinstance(value, bool) or value not in allowed:
        choices = ", ".join(str(a) for a in allowed)
        raise ReelganError(f"{name} must be one of {choices}{context}; got {value!r}")


def check_int(name: str, value: object, low: int, high: int | None = None) -> None:
    """ReelganError unless `value` is a whole number in [low, high] (no upper bound when high is None)."""
    in_range = isinstance(value, int) and not isinstance(value, bool) and value >= low
    if not in_range or (high is not None and value > high):
        bound = f"between {low} and {high}" if high is not None else f">= {low}"
        raise ReelganError(f"{name} must be a whole number {bound}; got {value!r}")


def check_number(name: str, value: object, *, allow_zero: bool = False) -> None:
    """ReelganError unless `value` is a number > 0 (>= 0 with `allow_zero`)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ReelganError(f"{name} must be a number; got {value!r}")
    if not math.isfinite(value):
        raise ReelganError(f"{name} must be a finite number; got {value!r}")
    if value < 0 or (value == 0 and not allow_zero):
        bound = "0 or more" if allow_zero else "greater than 0"
        raise ReelganError(f"{name} must be {bound}; got {value!r}")
