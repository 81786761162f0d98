"""Watermark v1 (read-only in new frames): 48 bits by QIM on low DCT coefficients of a 256x256 luma grid.

Kept so that frames marked before v2 are still read (`watermark.detect` falls back to `decode`), and so that
frames too small for v2 still get a mark. v2 (watermark_v2.py) replaces it for everything else.

How it works: the frame's luma is resampled to a fixed 256x256 grid, so the mark survives rescaling.
The grid is cut into 16x16 blocks (256 blocks); in each block's orthonormal 2-D DCT two low-frequency
coefficients, (1, 2) and (2, 1), carry one bit each by quantisation index modulation (QIM: the
coefficient is moved to the nearest multiple of STEP, offset by STEP/2 for a 1). That gives 512 slots;
each of the 48 bits is spread over 10 of them by a fixed permutation (the last 32 are unused) and read
back by a soft vote. The change is computed on the grid, resized to the frame and added to R, G and B
alike, a few times over to undo clipping at black and white. Low frequencies at a coarse grid are what
JPEG and resizing keep; crops, rotations, flips and heavy blurs destroy the mark, and a flat white or
black frame cannot hold it. On white paper the change shows as faint streaks, one reason for v2.
"""

from __future__ import annotations

import hashlib

import numpy as np
from PIL import Image

GRID = 256                    # luma is resampled to GRID x GRID
BLOCK = 16                    # DCT block size on the grid
STEP = 40.0                   # QIM step (DCT units on the 0-255 luma scale)
COEFFICIENTS = ((1, 2), (2, 1))
PAYLOAD_BITS = 48
MAGIC = 0x7E61                # 16 bits: "this is a reelgan mark"
REPEATS = (GRID // BLOCK) ** 2 * len(COEFFICIENTS) // PAYLOAD_BITS  # 10 slots per bit
ROUNDS = 3                    # embedding passes (each corrects what clipping undid)
MIN_CONFIDENCE = 0.25         # mean |soft vote| (0-1) below which no mark is reported


def _dct_matrix(n: int) -> np.ndarray:
    """(n, n) orthonormal DCT-II matrix."""
    k = np.arange(n)[:, None]
    x = np.arange(n)[None, :]
    matrix = np.sqrt(2 / n) * np.cos(np.pi * (2 * x + 1) * k / (2 * n))
    matrix[0] /= np.sqrt(2)
    return matrix


_DCT = _dct_matrix(BLOCK)
_SLOTS = np.random.default_rng(20261122).permutation((GRID // BLOCK) ** 2 * len(COEFFICIENTS))[
    : PAYLOAD_BITS * REPEATS].reshape(PAYLOAD_BITS, REPEATS)


def payload_bits(model_hash: str) -> np.ndarray:
    """The 48 bits: 16-bit MAGIC then the first 32 bits of the model's sha256 (hex)."""
    try:
        prefix = int(model_hash[:8], 16)
    except ValueError:
        prefix = int.from_bytes(hashlib.sha256(model_hash.encode()).digest()[:4], "big")
    value = (MAGIC << 32) | prefix
    return np.array([(value >> (PAYLOAD_BITS - 1 - i)) & 1 for i in range(PAYLOAD_BITS)], dtype=np.uint8)


def _luma_grid(frame: np.ndarray) -> np.ndarray:
    """(GRID, GRID) float32 luma of a frame of any size."""
    luma = np.ascontiguousarray(frame[..., :3].astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32))
    return np.asarray(Image.fromarray(luma, mode="F").resize((GRID, GRID), Image.Resampling.BOX))


def _coefficients(grid: np.ndarray) -> np.ndarray:
    """(blocks * 2,) the carrying coefficients of every block, block-major."""
    n = GRID // BLOCK
    blocks = grid.reshape(n, BLOCK, n, BLOCK).transpose(0, 2, 1, 3)          # (n, n, BLOCK, BLOCK)
    dct = _DCT @ blocks @ _DCT.T
    return np.stack([dct[..., u, v] for u, v in COEFFICIENTS], axis=-1).reshape(-1)


def _grid_from_coefficient_change(change: np.ndarray) -> np.ndarray:
    """The (GRID, GRID) luma change that moves the carrying coefficients by `change`."""
    n = GRID // BLOCK
    dct = np.zeros((n, n, BLOCK, BLOCK), np.float32)
    per_block = change.reshape(n, n, len(COEFFICIENTS))
    for index, (u, v) in enumerate(COEFFICIENTS):
        dct[..., u, v] = per_block[..., index]
    blocks = _DCT.T @ dct @ _DCT
    return np.ascontiguousarray(blocks.transpose(0, 2, 1, 3).reshape(GRID, GRID), dtype=np.float32)


def embed(frame: np.ndarray, bits: np.ndarray) -> np.ndarray:
    """`frame` (H, W, 3) uint8 carrying `bits` (48 zeros and ones); a new array."""
    targets = np.zeros(len(_SLOTS.reshape(-1)), np.float32)
    slot_bits = np.repeat(bits.astype(np.float32), REPEATS)
    height, width = frame.shape[:2]
    marked = frame.astype(np.float32)
    for _ in range(ROUNDS):
        coefficients = _coefficients(_luma_grid(marked))[_SLOTS.reshape(-1)]
        offset = slot_bits * STEP / 2
        targets = np.round((coefficients - offset) / STEP) * STEP + offset
        change = np.zeros((GRID // BLOCK) ** 2 * len(COEFFICIENTS), np.float32)
        change[_SLOTS.reshape(-1)] = targets - coefficients
        if np.abs(change).max() < 0.5:
            break
        delta = Image.fromarray(_grid_from_coefficient_change(change), mode="F").resize(
            (width, height), Image.Resampling.BILINEAR)
        marked = np.clip(marked + np.asarray(delta)[..., None], 0, 255)
    return marked.round().astype(np.uint8)


def soft_bits(frame: np.ndarray) -> np.ndarray:
    """(48,) votes in [-1, 1] per bit (positive: 1) read from a frame of any size."""
    coefficients = _coefficients(_luma_grid(frame))[_SLOTS]               # (48, REPEATS)
    phase = np.mod(coefficients, STEP) / STEP                             # 0: a 0 bit, 0.5: a 1 bit
    return (-np.cos(2 * np.pi * phase)).mean(axis=1)


def decode(frames: list[np.ndarray]) -> tuple[bool, str, float, np.ndarray]:
    """(found, 8-hex model hash prefix, confidence, 48 bits) from one or more frames (votes are averaged).

    Found when the 16-bit MAGIC matches and the mean |vote| reaches MIN_CONFIDENCE."""
    votes = np.mean([soft_bits(f) for f in frames], axis=0)
    bits = (votes > 0).astype(np.uint8)
    value = int("".join(map(str, bits)), 2)
    confidence = float(np.abs(votes).mean())
    found = (value >> 32) == MAGIC and confidence >= MIN_CONFIDENCE
    return found, f"{value & 0xFFFFFFFF:08x}", confidence, bits
