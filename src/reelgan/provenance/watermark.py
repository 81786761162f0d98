"""An invisible watermark for generated frames: reelgan's mark + the model hash's first 32 bits.

The pip packages that exist either fail after JPEG (invisible-watermark's dwtDct), need a 150 MB OpenCV
(its dwtDctSvd), or download model weights at run time (TrustMark), so reelgan has its own, in numpy.

This module is the public face. `embed` writes version 2 (watermark_v2.py): a tile of 16x16 random-looking
cells, half synchronisation and half a convolutionally coded 60-bit message (version, mark, hash prefix,
CRC-16), repeated over the frame with a period tied to the frame's height and added with a strength that
follows the picture's texture, so flat paper moves by 2 grey levels at most. Because the pattern repeats,
a crop is only a shift of it and a rescale only a change of its period; the detector finds both again
(autocorrelation for the period, cross-correlation with the sync cells for the shift) before decoding,
so the mark survives crops of up to 20% of the height, rescales, JPEG and H.264.

Frames whose short side is under MIN_SIDE (128) pixels are too small for v2's cells and get the version 1
mark instead (watermark_v1.py: QIM on low DCT coefficients of a 256x256 grid; survives JPEG and
rescaling, not crops). `detect` tries v2 first, then v1, and says which it found.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from . import ecc, watermark_v1, watermark_v2

MAGIC = watermark_v1.MAGIC                 # 16 bits that start the 48 identity bits of `payload_bits`
PAYLOAD_BITS = watermark_v1.PAYLOAD_BITS   # 48
MIN_SIDE = watermark_v2.MIN_SIDE           # short side (pixels) below which frames get v1


def payload_bits(model_hash: str) -> np.ndarray:
    """The mark's 48 identity bits: 16-bit MAGIC then the first 32 bits of the model's sha256 (hex).

    `embed` turns them into the v2 message (version, mark, prefix, CRC) itself; `detect` gives them back
    as `Detection.bits` whichever version it read."""
    return watermark_v1.payload_bits(model_hash)


def _prefix(bits: np.ndarray) -> int:
    """The 32-bit model hash prefix held in the last 32 of the 48 identity bits."""
    return ecc.bits_int(np.asarray(bits)[-32:])


def version_for(size: tuple[int, int]) -> int:
    """The watermark version `embed` writes into frames of `size` (either order): 2, or 1 when the short side
    is under MIN_SIDE pixels."""
    return 1 if min(size) < MIN_SIDE else 2


def embed(frame: np.ndarray, bits: np.ndarray) -> np.ndarray:
    """`frame` (H, W, 3) uint8 carrying `bits` (the 48 of `payload_bits`); a new (H, W, 3) uint8 array.

    Writes v2, or v1 when the short side is under MIN_SIDE pixels (`version_for`)."""
    if version_for(frame.shape[:2]) == 1:
        return watermark_v1.embed(frame, bits)
    return watermark_v2.embed(frame, _prefix(bits))


@dataclass(frozen=True)
class Detection:
    """What a watermark read found: whether it is reelgan's mark, the model hash prefix, the confidence.

    `bits` are the 48 identity bits (MAGIC + prefix) as `payload_bits` gives them; `version` is 2 or 1 for
    the mark found, 0 for none; `false_positive_probability` is the computed chance that frames without
    a mark pass the check this read passed (for a miss: the check of either version)."""

    found: bool
    model_hash_prefix: str
    confidence: float
    bits: np.ndarray
    version: int = 0
    false_positive_probability: float = 0.0


def v2_false_positive_probability(trials: int = watermark_v2.TRIALS) -> float:
    """Chance that an unmarked input passes v2: each decoding tried must get 28 check bits right by luck."""
    return trials * 2.0 ** -watermark_v2.CHECK_BITS


def v1_false_positive_probability() -> float:
    """Chance that an unmarked input passes v1, modelling each slot's QIM phase as uniform: 2^-16 for
    MAGIC times a normal tail bound on the mean |vote| reaching MIN_CONFIDENCE (each vote is the mean
    of 10 values of -cos(2 pi U), variance 1/20)."""
    sigma = math.sqrt(0.5 / watermark_v1.REPEATS)
    mean = sigma * math.sqrt(2 / math.pi)
    spread = sigma * math.sqrt(1 - 2 / math.pi) / math.sqrt(PAYLOAD_BITS)
    tail = 0.5 * math.erfc((watermark_v1.MIN_CONFIDENCE - mean) / spread / math.sqrt(2))
    return 2.0 ** -16 * tail


def _identity(prefix: int) -> np.ndarray:
    """The 48 identity bits of a 32-bit prefix."""
    return np.concatenate([ecc.int_bits(MAGIC, 16), ecc.int_bits(prefix, 32)])


def detect_video(frames: list[np.ndarray]) -> Detection:
    """Read the v2 mark from the frames of one shot together (same size; spectra and folded tiles are
    summed, so a mark too weak for any single frame can be read); falls back to v1 like `detect`."""
    return detect(frames)


def detect(frames: list[np.ndarray]) -> Detection:
    """Read the mark from one or more frames: v2 first (all frames of the commonest size read together),
    then v1 (votes averaged over all frames). Found when a check passes; see `Detection`."""
    frames = [np.asarray(f) for f in frames]
    sizes = [f.shape[:2] for f in frames]
    common = max(set(sizes), key=sizes.count)
    same = [f for f in frames if f.shape[:2] == common]
    result = watermark_v2.read(same) if min(common) >= 16 else watermark_v2.Read()
    if result.found:
        return Detection(True, f"{result.prefix:08x}", result.confidence, _identity(result.prefix), 2,
                         v2_false_positive_probability(result.trials))
    found, prefix, confidence, bits = watermark_v1.decode(frames)
    if found:
        return Detection(True, prefix, confidence, bits, 1, v1_false_positive_probability())
    missed = v2_false_positive_probability() + v1_false_positive_probability()
    return Detection(False, f"{result.prefix:08x}", result.confidence, _identity(result.prefix), 0, missed)
