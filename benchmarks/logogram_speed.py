"""Measure logogram rendering speed and write a preview sheet.

Usage: PYTHONPATH=src python benchmarks/logogram_speed.py [--out PATH] [--seconds S]

Prints glyphs per second at 32 and 64 px on one core (rendering is single-threaded Pillow and
numpy; the process is pinned to one CPU where the OS allows) and writes an 8 x 8 sheet of 64
glyphs at 64 px to `--out`.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np
from PIL import Image

from reelgan.data.logograms import render_logogram

DEFAULT_OUT = Path(__file__).resolve().parent / "out" / "logograms_preview.png"


def pin_to_one_cpu() -> None:
    """Restrict this process to one CPU (Linux only), so the rate is a one-core rate."""
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})


def glyphs_per_second(resolution: int, seconds: float) -> float:
    """Render fresh seeds at `resolution` for about `seconds`; the best rate of five rounds."""
    for seed in range(50):  # warm-up: first calls pay for lazy imports and allocator growth
        render_logogram(seed, resolution)
    best, seed = 0.0, 0
    for _ in range(5):
        count, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds / 5:
            for _ in range(50):
                render_logogram(seed, resolution)
                seed += 1
            count += 50
        best = max(best, count / (time.perf_counter() - start))
    return best


def preview_sheet(resolution: int = 64, columns: int = 8, rows: int = 8, pad: int = 4) -> Image.Image:
    """A grid of glyphs for seeds 0 .. columns * rows - 1, separated by `pad` px of grey."""
    cell = resolution + pad
    sheet = np.full((rows * cell + pad, columns * cell + pad), 160, dtype=np.uint8)
    for seed in range(columns * rows):
        row, col = divmod(seed, columns)
        y, x = pad + row * cell, pad + col * cell
        sheet[y : y + resolution, x : x + resolution] = render_logogram(seed, resolution)
    return Image.fromarray(sheet, mode="L")


def main() -> None:
    """Parse arguments, print the rates, save the preview."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="preview PNG path")
    parser.add_argument("--seconds", type=float, default=3.0, help="timing budget per size")
    args = parser.parse_args()
    pin_to_one_cpu()
    for resolution in (32, 64):
        rate = glyphs_per_second(resolution, args.seconds)
        print(f"{resolution:>3} px: {rate:8.0f} glyphs/s")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    preview_sheet().save(args.out)
    print(f"preview: {args.out}")


if __name__ == "__main__":
    main()
