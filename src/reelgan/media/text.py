"""Breaking text into lines that fit a width, whatever measures it (a Pillow font in pixels, a PDF font in
points)."""

from __future__ import annotations

from typing import Callable


def wrap_measured(text: str, width: float, measure: Callable[[str], float]) -> list[str]:
    """`text` broken between words into lines whose `measure` is at most `width`; a word wider than the
    width on its own is cut into pieces that fit."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        while measure(word) > width and len(word) > 1:
            cut = max(1, int(len(word) * width / measure(word)) - 1)
            if current:
                lines.append(current)
                current = ""
            lines.append(word[:cut])
            word = word[cut:]
        trial = f"{current} {word}".strip()
        if measure(trial) <= width:
            current = trial
        else:
            lines.append(current)
            current = word
    return lines + ([current] if current else [])
