"""Built-in procedural clip sets, generated on the fly and deterministic by (seed, index).

- `MovingGlyphsDataset`: the Moving-MNIST procedure with reelgan's own logograms in place of digits: one or
  more glyphs drift across the frame at constant speed and bounce off its edges.
- `InkRingsDataset`: a logogram forming as its ink spreads around the ring, revealed by an angular sweep.

Both yield `(clip, label)` with clip a float tensor `(C, T, H, W)` in [-1, 1] (paper +1, ink -1) and label
`torch.tensor(0)`. The helper `check_clip_args` is shared with the footage datasets.
"""

from __future__ import annotations

import math

import numpy as np

from ..checks import check_choice, check_int
from ..config import CLIP_CHANNELS
from ..errors import ReelganError
from .base import Dataset
from .logograms import render_logogram
from .procedural import glyph_seed

PAPER = 255
SPEED_RANGE = (0.06, 0.14)  # glyph speed per frame, as a fraction of the room it has to move in
SWEEP_EDGE = 0.35           # width in radians of the soft edge of the ink-rings sweep


def check_clip_args(frames: int, resolution: int, channels: int, min_resolution: int = 8) -> None:
    """Raise ReelganError unless the clip length, size and channel count are usable."""
    check_int("frames", frames, 1)
    check_int("resolution", resolution, min_resolution)
    check_choice("channels", channels, CLIP_CHANNELS, " for clips (grayscale or RGB)")


def _gray_to_channels(gray: np.ndarray, channels: int) -> np.ndarray:
    """uint8 `(T, H, W)` -> uint8 `(C, T, H, W)`, repeating the gray frames for RGB."""
    return np.repeat(gray[None], channels, axis=0)  # (C, T, H, W)


def _clip_rng(seed: int, index: int) -> np.random.Generator:
    """The random stream of clip `index` in the set with `seed` (independent per index)."""
    return np.random.default_rng(np.random.SeedSequence([seed, index]))


CACHE_LIMIT_BYTES = 2 << 30  # clip sets up to 2 GiB (as uint8 gray) are kept after their first render


class _ClipCache:
    """Rendered gray clips `(T, H, W)` kept after first use, when the whole set fits CACHE_LIMIT_BYTES;
    rendering on every access made training data-bound on a GPU."""

    def __init__(self, size: int, frames: int, resolution: int) -> None:
        self.clips: dict[int, np.ndarray] | None = {} if size * frames * resolution**2 <= CACHE_LIMIT_BYTES else None

    def get(self, index: int, render) -> np.ndarray:
        """The cached clip `index`, rendering it with `render(index)` the first time."""
        if self.clips is None:
            return render(index)
        clip = self.clips.get(index)
        if clip is None:
            clip = self.clips[index] = render(index)
        return clip


def _check_size(size: int, seed: int) -> None:
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise ReelganError(f"size must be a whole number of clips, at least 1; got {size!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ReelganError(f"seed must be a whole number of at least 0, got {seed!r}")


class _ProceduralClips(Dataset):
    """What the procedural clip sets share: no classes, a size and cached rendering."""

    size: int
    channels: int
    cache: _ClipCache

    @property
    def raw_count(self) -> int:
        return self.size

    def _render(self, index: int) -> np.ndarray:
        raise NotImplementedError

    def raw_item(self, index: int) -> np.ndarray:
        """uint8 `(C, T, H, W)` of clip `index` (255 paper, near 0 ink)."""
        return _gray_to_channels(self.cache.get(index, self._render), self.channels)


class MovingGlyphsDataset(_ProceduralClips):
    """`size` clips of logograms moving in straight lines and bouncing off the frame edges.

    Each glyph is rendered at `resolution // 2` pixels (at least 8), starts at a random position with a random
    direction and speed, and is composited onto white paper with `np.minimum`, so overlapping glyphs keep the
    darker ink. Clip `index` depends only on `(seed, index)`.
    """

    def __init__(self, size: int, frames: int, resolution: int, channels: int = 1, seed: int = 0,
                 glyphs_per_clip: tuple[int, int] = (1, 2)) -> None:
        _check_size(size, seed)
        check_clip_args(frames, resolution, channels, min_resolution=16)
        low, high = glyphs_per_clip
        if not 1 <= low <= high:
            raise ReelganError(f"glyphs_per_clip must be (low, high) with 1 <= low <= high, got {glyphs_per_clip!r}")
        self.size, self.frames, self.resolution, self.channels, self.seed = size, frames, resolution, channels, seed
        self.glyphs_per_clip = (low, high)
        self.glyph_size = max(8, resolution // 2)
        self.room = resolution - self.glyph_size  # how far a glyph's top-left corner can move, in pixels
        self.skipped = 0
        self.cache = _ClipCache(size, frames, resolution)

    def _draw(self, index: int) -> tuple[list[int], np.ndarray]:
        """Glyph render seeds and the `(glyphs, T, 2)` top-left pixel positions of clip `index`."""
        if not 0 <= index < self.size:
            raise IndexError(f"clip {index} is out of range for {self.size} clips")
        rng = _clip_rng(self.seed, index)
        count = int(rng.integers(self.glyphs_per_clip[0], self.glyphs_per_clip[1] + 1))
        seeds = [int(s) for s in rng.integers(0, 2**31, size=count)]
        position = rng.uniform(0.0, 1.0, size=(count, 2))  # (glyphs, 2) as x, y in [0, 1] of the room
        angle = rng.uniform(0.0, 2 * math.pi, size=count)
        speed = rng.uniform(*SPEED_RANGE, size=count)
        velocity = speed[:, None] * np.stack([np.cos(angle), np.sin(angle)], axis=1)  # (glyphs, 2)
        path = np.empty((count, self.frames, 2))
        for t in range(self.frames):
            path[:, t] = position
            position = position + velocity
            low, high = position < 0, position > 1
            position = np.where(low, -position, np.where(high, 2 - position, position))  # reflect at the edge
            velocity = np.where(low | high, -velocity, velocity)
        return seeds, np.rint(path * self.room).astype(np.int64)

    def trajectory(self, index: int) -> np.ndarray:
        """int64 `(glyphs, T, 2)`: each glyph's top-left corner per frame as (x, y) pixels.

        Positions lie in [0, resolution - glyph_size]; the glyph covers `glyph_size` pixels from there.
        """
        return self._draw(index)[1]

    def _render(self, index: int) -> np.ndarray:
        """uint8 `(T, H, W)` gray clip `index`."""
        seeds, path = self._draw(index)
        size, resolution = self.glyph_size, self.resolution
        gray = np.full((self.frames, resolution, resolution), PAPER, dtype=np.uint8)  # (T, H, W)
        for seed, positions in zip(seeds, path):
            glyph = render_logogram(seed, size)  # (g, g), white paper, dark ink
            for t, (x, y) in enumerate(positions):
                window = gray[t, y:y + size, x:x + size]
                np.minimum(window, glyph, out=window)
        return gray



class InkRingsDataset(_ProceduralClips):
    """`size` clips of a logogram whose ink spreads around its ring over the clip's frames.

    The glyph is that of `LogogramDataset` item `index` with the same seed, rendered once at full size. Frame
    t shows the part within a sweep of `(t + 1) / T` of a full turn from a random start angle and direction
    (polar angle around the frame centre, with a soft edge), so the last frame is the whole glyph.
    """

    def __init__(self, size: int, frames: int, resolution: int, channels: int = 1, seed: int = 0) -> None:
        _check_size(size, seed)
        check_clip_args(frames, resolution, channels)
        self.size, self.frames, self.resolution, self.channels, self.seed = size, frames, resolution, channels, seed
        centre = (resolution - 1) / 2
        y, x = np.mgrid[:resolution, :resolution] - centre
        self.polar = np.arctan2(y, x)  # (H, W) angle of each pixel around the centre
        self.skipped = 0
        self.cache = _ClipCache(size, frames, resolution)

    def reveal(self, index: int) -> np.ndarray:
        """float32 `(T, H, W)` in [0, 1]: how much of the glyph's ink each frame of clip `index` shows."""
        if not 0 <= index < self.size:
            raise IndexError(f"clip {index} is out of range for {self.size} clips")
        rng = np.random.default_rng(np.random.SeedSequence([self.seed, index, 1]))
        start = rng.uniform(0.0, 2 * math.pi)
        direction = rng.choice([-1.0, 1.0])
        angle = np.mod(direction * self.polar - start, 2 * math.pi)  # (H, W), 0 where the sweep starts
        # The sweep overshoots a full turn by the edge width so that the last frame is fully revealed.
        sweep = (np.arange(1, self.frames + 1) / self.frames) * (2 * math.pi + SWEEP_EDGE)  # (T,)
        return np.clip((sweep[:, None, None] - angle) / SWEEP_EDGE, 0.0, 1.0).astype(np.float32)  # (T, H, W)

    def _render(self, index: int) -> np.ndarray:
        """uint8 `(T, H, W)` gray clip `index`."""
        glyph = render_logogram(glyph_seed(self.seed, index), self.resolution).astype(np.float32)  # (H, W)
        ink = (PAPER - glyph)[None] * self.reveal(index)  # (T, H, W)
        return np.clip(np.rint(PAPER - ink), 0, 255).astype(np.uint8)

