"""Measure logogram rendering speed and write a preview sheet.

Usage: python benchmarks/logogram_speed.py [--out PATH] [--seconds S]

Prints glyphs per second at 32 and 64 px on one core (rendering is Pillow and numpy, single
threaded) and writes an 8 x 8 sheet of 64 glyphs at 64 px to `--out`.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from PIL import Image

from reelgan.data.logograms import render_logogram

DEFAULT_OUT = Path(__file__).resolve().parent / "out" / "logograms_preview.png"


def glyphs_per_second(resolution: int, seconds: float) -> float:
    """Render consecutive seeds at `resolution` for about `seconds` and return the rate."""
    for seed in range(20):  # warm-up: first calls pay for imports and allocator growth
        render_logogram(seed, resolution)
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        for seed in range(count, count + 100):
            render_logogram(seed, resolution)
        count += 100
    return count / (time.perf_counter() - start)


def preview_sheet(resolution: int = 64, columns: int = 8, rows: int = 8, pad: int = 4) -> Image.Image:
    """A grid of glyphs for seeds 0..columns*rows-1, separated by `pad` px of grey."""
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
    parser.add_argument("--seconds", type=float, default=2.0, help="timing budget per size")
    args = parser.parse_args()
    for resolution in (32, 64):
        rate = glyphs_per_second(resolution, args.seconds)
        print(f"{resolution:>3} px: {rate:8.0f} glyphs/s")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    preview_sheet().save(args.out)
    print(f"preview: {args.out}")


if __name__ == "__main__":
    main()
