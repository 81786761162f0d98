"""Watermark v2: a tiled spread-spectrum pattern that survives crops, rescales, JPEG and H.264.

How it works, in plain words:

- The message is 60 bits: version (4 bits, = 2), reelgan's mark (8 bits), the model hash's first 32 bits
  and a CRC-16 of those 44. A rate-1/2 convolutional code (ecc.py) turns it into 132 coded bits.
- A tile of 16x16 "cells" holds them: 64 cells a fixed random +-1 synchronisation pattern, the other 192
  the coded bits (each once, the first 60 twice), times a fixed random +-1 chip so the tile looks like
  noise whatever the bits. Cells sit at fixed random places, so a local defect hits scattered bits.
- The tile repeats over the whole frame with a period of exactly height / 3 pixels, or height / 6 from
  360 pixels of height up (`LAYOUTS`; smoothly interpolated between cell centres), and is added to R, G
  and B alike. A crop only shifts the repeating pattern; an aspect-preserving rescale changes the period
  and the height alike, so the period is always between 1 and 1.25 times height / 3 or height / 6 of
  whatever frame is read (crops up to 20% of the height), and the detector only searches those ranges.
- Strength follows the picture (`strength`): up to PEAK grey levels where the 7x7 neighbourhood has
  texture or ink, and at most FLAT levels where the neighbourhood is perfectly flat, so blank paper moves
  by 2 levels at most and never streaks. The pattern is computed once per frame size and message and
  cached, so marking a frame is a mask, a multiply, an add and a clip.
- Reading: the luma is shrunk so that one period is about 64 samples, high-passed and normalised by its
  local contrast (every region votes alike). The autocorrelation of that has peaks at multiples of the
  period; the best comb of peaks in the allowed range gives the period to a fraction of a sample. The
  frame is then resampled so the period is exactly 64 samples and folded (averaged) into one 64x64
  tile; its circular cross-correlation with the known synchronisation cells gives the crop's shift;
  each coded bit is read as the correlation with its cells, and the Viterbi decoder and the CRC decide.
  With many frames of one shot the autocorrelations and the folded tiles are summed before deciding.

A false mark needs the 28 check bits (version, mark, CRC) to come out right by chance: 2^-28 per
decoding tried, and at most TRIALS are tried per read. Rotations, flips, heavy blurs, crops of more
than 20% of the height and frames rescaled in one direction only are not resynchronised.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
from PIL import Image

from . import ecc

TILE = 16                      # cells per tile side
LAYOUTS = (3, 6)               # tiles per frame height: 3 below LARGE (360) pixels of height, 6 from there
LARGE = 360
FOLD = 64                      # samples per period when reading (4 per cell)
MAX_CROP = 0.2                 # largest share of the height that may be cut away and still be read
VERSION = 2
MARK = 0x7E                    # 8 bits: "this is a reelgan mark"
MESSAGE_BITS = 4 + 8 + 32 + 16
CODED_BITS = ecc.coded_length(MESSAGE_BITS)              # 132
CHECK_BITS = 4 + 8 + 16                                  # bits a random decoding must also get right
MIN_SIDE = 128                 # frames whose short side is smaller get v1 instead (cells under 2.7 px)
WINDOW = 7                     # side of the neighbourhood (pixels) whose grey range sets the strength
FLAT = 2.0                     # grey levels at most where that neighbourhood is flat
PEAK = 3.3                     # grey levels at most where it has a range of FULL_RANGE or more
FULL_RANGE = 64                # grey-level range of a neighbourhood that gets the full PEAK
TRIALS = 8                     # decodings tried per read (2 layouts x 2 periods x 2 shifts)

SYNC_COUNT = 64                # cells of the tile that hold the synchronisation pattern; the rest carry bits

_RNG = np.random.default_rng(20270214)
_CELLS = _RNG.permutation(TILE * TILE)
PAYLOAD_CELLS = _CELLS[SYNC_COUNT:]                      # (192,) flat cell index of each payload cell
SYNC_CELLS = _CELLS[:SYNC_COUNT]
CODED_OF_CELL = np.arange(len(PAYLOAD_CELLS)) % CODED_BITS   # the coded bit each payload cell carries
CHIPS = _RNG.choice([-1.0, 1.0], len(PAYLOAD_CELLS))   # whitening chip per payload cell
SYNC = _RNG.choice([-1.0, 1.0], len(SYNC_CELLS))       # sync cell values


def message(prefix: int) -> np.ndarray:
    """(60,) uint8: version, mark, the 32-bit model hash prefix, CRC-16 of those 44 bits."""
    head = np.concatenate([ecc.int_bits(VERSION, 4), ecc.int_bits(MARK, 8), ecc.int_bits(prefix, 32)])
    return np.concatenate([head, ecc.int_bits(ecc.crc16(head), 16)])


def parse(bits: np.ndarray) -> int | None:
    """The hash prefix of a decoded 60-bit message, or None when version, mark or CRC disagree."""
    head = bits[:44]
    if ecc.bits_int(bits[:4]) != VERSION or ecc.bits_int(bits[4:12]) != MARK:
        return None
    if ecc.bits_int(bits[44:]) != ecc.crc16(head):
        return None
    return ecc.bits_int(bits[12:44])


def tile(prefix: int | None) -> np.ndarray:
    """(TILE, TILE) float cell values in {-1, 1}; payload cells zero when `prefix` is None (sync only)."""
    cells = np.zeros(TILE * TILE)
    cells[SYNC_CELLS] = SYNC
    if prefix is not None:
        cells[PAYLOAD_CELLS] = CHIPS * (2.0 * ecc.encode(message(prefix))[CODED_OF_CELL] - 1.0)
    return cells.reshape(TILE, TILE)


def interpolation(n: int, period: float) -> np.ndarray:
    """(n, TILE) weights that linearly interpolate the cyclic tile's cells at n samples of a period."""
    coordinate = np.mod((np.arange(n) + 0.5) / period * TILE - 0.5, TILE)
    low = np.floor(coordinate).astype(int)
    fraction = coordinate - low
    weights = np.zeros((n, TILE))
    weights[np.arange(n), low % TILE] += 1 - fraction
    weights[np.arange(n), (low + 1) % TILE] += fraction
    return weights


def tiles_per_height(height: int) -> int:
    """How many tile periods fit the height of a frame being marked: more tiles (smaller cells) hide the
    mark better in natural footage, as long as cells stay large enough (3.75 px at 360p, 7.5 at 720p) for
    compression and for reading after a 50% downscale."""
    return LAYOUTS[1] if height >= LARGE else LAYOUTS[0]


@lru_cache(maxsize=8)
def pattern(height: int, width: int, prefix: int) -> np.ndarray:
    """(height, width) float32 pattern in [-1, 1] for a frame of that size (cached per size and prefix)."""
    period = height / tiles_per_height(height)
    values = (interpolation(height, period) @ tile(prefix) @ interpolation(width, period).T).astype(np.float32)
    values.setflags(write=False)  # cached and shared between calls: nobody may change it
    return values


def _window_extreme(values: np.ndarray, axis: int, take) -> np.ndarray:
    """Max or min (`take` = np.maximum / np.minimum) over the WINDOW (= 7) samples centred on each sample
    along `axis`, edges repeated: windows of 2, then 4, then 7 by overlapping two of 4."""
    radius = WINDOW // 2
    rows = np.moveaxis(values, axis, 0)
    n = rows.shape[0]
    padded = np.concatenate([rows[:1].repeat(radius, 0), rows, rows[-1:].repeat(radius, 0)])
    two = take(padded[:-1], padded[1:])                 # two[i] covers padded[i : i + 2]
    four = take(two[:-2], two[2:])                      # four[i] covers padded[i : i + 4]
    seven = take(four[:n], four[3:n + 3])               # seven[i] covers padded[i : i + 7]
    return np.moveaxis(seven, 0, axis)


_STRENGTH = np.minimum(FLAT + (PEAK - FLAT) * np.arange(256) / FULL_RANGE, PEAK).astype(np.float32)
_STRENGTH[0] = FLAT


def strength(frame: np.ndarray) -> np.ndarray:
    """(H, W) float32 grey levels the pattern may move each pixel: FLAT on perfectly flat 7x7
    neighbourhoods (of (R + 2G + B) / 4), rising with the neighbourhood's grey range up to PEAK."""
    rgb = frame[..., :3].astype(np.uint16)
    grey = ((rgb[..., 0] + 2 * rgb[..., 1] + rgb[..., 2]) >> 2).astype(np.uint8)
    high = _window_extreme(_window_extreme(grey, 0, np.maximum), 1, np.maximum)
    low = _window_extreme(_window_extreme(grey, 0, np.minimum), 1, np.minimum)
    return _STRENGTH[high - low]


def embed(frame: np.ndarray, prefix: int, gain: float = 1.0) -> np.ndarray:
    """`frame` (H, W, 3) uint8 carrying the v2 mark of the 32-bit `prefix`; a new array.

    `gain` scales the strength (1 is the default mark; lower ones are for tests)."""
    height, width = frame.shape[:2]
    change = strength(frame) * pattern(height, width, prefix)
    if gain != 1.0:
        change *= gain
    delta = np.rint(change).astype(np.int16)
    return np.clip(frame[..., :3].astype(np.int16) + delta[..., None], 0, 255).astype(np.uint8)


# --- reading -------------------------------------------------------------------------------------------

HIGH_PASS = 5                  # box (samples, ~1 cell) whose mean is taken away before reading
CONTRAST = 17                  # box (samples) over which the local contrast is normalised
CONTRAST_FLOOR = 0.5           # grey levels added to the local contrast so clean flats do not blow up


def luma(frame: np.ndarray) -> np.ndarray:
    """(H, W) float32 luma (BT.601) of an (H, W, 3) frame."""
    return np.ascontiguousarray(frame[..., :3].astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32))


def _box(values: np.ndarray, size: int) -> np.ndarray:
    """Mean over a size x size box centred on each sample (edges repeated), same shape, float64."""
    radius = size // 2
    padded = np.pad(values.astype(np.float64), radius + 1, mode="edge")
    total = padded.cumsum(0).cumsum(1)
    h, w = values.shape
    a, b = total[size:size + h, size:size + w], total[:h, size:size + w]
    c, d = total[size:size + h, :w], total[:h, :w]
    return (a - b - c + d) / (size * size)


def whitened(grey: np.ndarray, scale_y: int, scale_x: int) -> np.ndarray:
    """(scale_y, scale_x) float32: the luma resized (BOX) to that size, high-passed and divided by its
    local contrast, so the pattern stands out and every region weighs alike."""
    small = np.asarray(Image.fromarray(grey, mode="F").resize((scale_x, scale_y), Image.Resampling.BOX
                                                               if scale_y < grey.shape[0] else
                                                               Image.Resampling.BILINEAR), np.float64)
    detail = small - _box(small, HIGH_PASS)
    contrast = np.sqrt(_box(detail * detail, CONTRAST) + CONTRAST_FLOOR ** 2)
    return (detail / contrast).astype(np.float32)


def _search_size(height: int, width: int, layout: int) -> tuple[int, int]:
    """(h, w) samples for the period search: one nominal period (height / layout) is ~FOLD samples
    (never enlarged)."""
    factor = min(1.0, FOLD * layout / height)
    return max(8, round(height * factor)), max(8, round(width * factor))


def power_spectrum(detail: np.ndarray) -> np.ndarray:
    """|FFT|^2 of the zero-padded (2h, 2w) array, so its inverse is the linear autocorrelation."""
    h, w = detail.shape
    return np.abs(np.fft.rfft2(detail, s=(2 * h, 2 * w))) ** 2


def periods(power: np.ndarray, shape: tuple[int, int], layout: int, count: int = 2) -> list[float]:
    """Up to `count` best tile periods (samples) from a summed power spectrum of arrays of `shape`.

    The score of a period is the mean autocorrelation at its multiples along both axes, searched from
    1 to 1/(1 - MAX_CROP) times height / layout in steps of 1/40 sample, refined by a parabola."""
    h, w = shape
    auto = np.fft.irfft2(power, s=(2 * h, 2 * w))
    row = auto[0, :w] / (h * (w - np.arange(w)))            # unbiased: divide by the overlap
    col = auto[:h, 0] / (w * (h - np.arange(h)))
    if row[0] <= 1e-12 or col[0] <= 1e-12:                 # a flat frame: nothing to search
        return []
    row, col = row / row[0], col / col[0]
    nominal = h / layout
    grid = np.arange(nominal * 0.97, nominal / (1 - MAX_CROP) * 1.03, 0.025)
    score = np.zeros(len(grid))
    for series, limit in ((row, 0.8 * w), (col, 0.8 * h)):
        for k in range(1, int(limit // grid[0]) + 1):
            lags = k * grid
            # a period longer than the series fits no whole repeat: it counts once, not 0/0
            score += np.where(lags <= limit, np.interp(lags, np.arange(len(series)), series), 0) / (
                np.maximum(np.floor(limit / grid), 1))
    score = np.nan_to_num(score, nan=-np.inf)
    best = []
    order = np.argsort(score)[::-1]
    for index in order:
        if all(abs(grid[index] - b) > 2.0 for b in best):
            best.append(float(grid[index]))
        if len(best) == count:
            break
    return best


def fold(grey: np.ndarray, period: float) -> tuple[np.ndarray, np.ndarray]:
    """(FOLD, FOLD) sums and counts of the whitened luma, resampled so that `period` (pixels of `grey`)
    is FOLD samples, folded modulo the period."""
    factor = FOLD / period
    h, w = max(8, round(grey.shape[0] * factor)), max(8, round(grey.shape[1] * factor))
    detail = whitened(grey, h, w)
    rows = np.floor((np.arange(h) + 0.5) * FOLD * grey.shape[0] / (h * period)).astype(int) % FOLD
    cols = np.floor((np.arange(w) + 0.5) * FOLD * grey.shape[1] / (w * period)).astype(int) % FOLD
    index = (rows[:, None] * FOLD + cols[None, :]).ravel()
    sums = np.bincount(index, detail.ravel(), FOLD * FOLD).reshape(FOLD, FOLD)
    counts = np.bincount(index, None, FOLD * FOLD).reshape(FOLD, FOLD)
    return sums, counts


_FOLD_WEIGHTS = interpolation(FOLD, FOLD)                   # (FOLD, TILE): cells at the folded tile's samples
_SYNC_TILE = _FOLD_WEIGHTS @ tile(None) @ _FOLD_WEIGHTS.T    # (FOLD, FOLD) sync cells only
_SYNC_SPECTRUM = np.conj(np.fft.rfft2(_SYNC_TILE))


def shifts(folded: np.ndarray, count: int = 2) -> list[tuple[int, int, float]]:
    """Up to `count` (dy, dx, z) cyclic shifts of the folded tile against the sync cells, best first;
    z is the correlation peak in standard deviations of all FOLD x FOLD shifts."""
    correlation = np.fft.irfft2(np.fft.rfft2(folded) * _SYNC_SPECTRUM, s=folded.shape)
    spread = correlation.std() or 1.0
    found: list[tuple[int, int, float]] = []
    for index in np.argsort(correlation.ravel())[::-1]:
        dy, dx = divmod(int(index), FOLD)
        if all(min(abs(dy - a) % FOLD, -abs(dy - a) % FOLD) + min(abs(dx - b) % FOLD, -abs(dx - b) % FOLD) > 4
               for a, b, _ in found):
            found.append((dy, dx, float((correlation[dy, dx] - correlation.mean()) / spread)))
        if len(found) == count:
            break
    return found


def coded_soft(folded: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """(CODED_BITS,) soft coded bits (positive: 1, unit RMS) of the folded tile aligned by (dy, dx)."""
    aligned = np.roll(folded, (-dy, -dx), axis=(0, 1))
    cells = (_FOLD_WEIGHTS.T @ aligned @ _FOLD_WEIGHTS).ravel()
    soft = np.bincount(CODED_OF_CELL, cells[PAYLOAD_CELLS] * CHIPS, CODED_BITS)   # cells of a bit summed
    return soft / (np.sqrt(np.mean(soft * soft)) or 1.0)


@dataclass
class Read:
    """What a v2 read found, with the working a benchmark wants to see."""

    found: bool = False
    prefix: int = 0
    confidence: float = 0.0                  # 2 * (share of coded bits agreeing with the decoding) - 1
    message: np.ndarray = field(default_factory=lambda: np.zeros(MESSAGE_BITS, np.uint8))
    soft: np.ndarray = field(default_factory=lambda: np.zeros(CODED_BITS))
    period: float = 0.0                      # tile period found, in pixels of the frames read
    shift: tuple[int, int] = (0, 0)          # (dy, dx) in 1/4 cells
    sync_z: float = 0.0
    trials: int = 0


def _attempt(folded: np.ndarray, period: float, dy: int, dx: int, z: float, trials: int) -> Read:
    """Decode the folded tile at one shift."""
    soft = coded_soft(folded, dy, dx)
    bits = ecc.viterbi(soft)
    prefix = parse(bits)
    agree = float(np.mean((soft > 0) == ecc.encode(bits)))
    return Read(prefix is not None, prefix or 0, 2 * agree - 1, bits, soft, period, (dy, dx), z, trials)


def read(frames: list[np.ndarray]) -> Read:
    """Read the v2 mark from frames of one size (one shot: spectra and folded tiles are summed).

    Tries the TRIALS best (layout, period, shift) choices and returns the first that decodes, else the
    best try."""
    greys = [luma(frame) for frame in frames]
    height, width = greys[0].shape
    best, trials = Read(), 0
    for layout in (LAYOUTS[::-1] if height >= 0.75 * LARGE else LAYOUTS):   # likelier one first: faster
        size = _search_size(height, width, layout)
        power = sum(power_spectrum(whitened(grey, *size)) for grey in greys)
        for period in periods(power, size, layout):
            folded = _folded(greys, period * height / size[0])
            for dy, dx, z in shifts(folded):
                trials += 1
                attempt = _attempt(folded, period * height / size[0], dy, dx, z, trials)
                if attempt.found:
                    return attempt
                if attempt.confidence > best.confidence or best.trials == 0:
                    best = attempt
    best.trials = trials
    return best


def _folded(greys: list[np.ndarray], period: float) -> np.ndarray:
    """(FOLD, FOLD) mean of all frames' whitened luma folded at `period` pixels."""
    sums = counts = 0
    for grey in greys:
        s, c = fold(grey, period)
        sums, counts = sums + s, counts + c
    return sums / np.maximum(counts, 1)
