"""The invisible watermark: v2 round trips, crops, rescales, JPEG, flat paper, false positives, ECC, video, v1."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageDraw

from reelgan.provenance import ecc, watermark_v1, watermark_v2
from reelgan.provenance.watermark import MIN_SIDE, detect, detect_video, embed, payload_bits

HASH = "ddc667f2" + "0" * 56
BITS = payload_bits(HASH)


def textured(height: int = 180, width: int = 320, seed: int = 0) -> np.ndarray:
    """A natural-ish frame: colour gradients, a few soft blobs and sensor-like noise."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width] / max(height, width)
    base = np.stack([200 * x + 30, 150 * y + 50, 220 - 120 * x], -1)
    for _ in range(4):
        cy, cx, r = rng.uniform(0, 1, 3)
        base += rng.uniform(-60, 60, 3) * np.exp(-((y - cy) ** 2 + (x - cx) ** 2) / (0.02 + 0.05 * r))[..., None]
    return np.clip(base + rng.normal(0, 6, base.shape), 0, 255).astype(np.uint8)


def glyph_frame(height: int = 180, width: int = 320, seed: int = 0) -> np.ndarray:
    """White paper (255) with black ink strokes, like reelgan's logogram frames."""
    rng = np.random.default_rng(seed)
    image = Image.new("RGB", (width, height), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    cx, cy, r = width // 2, height // 2, height // 3
    draw.ellipse((cx - r, cy - r, cx + r, cy + r), outline=(0, 0, 0), width=max(2, height // 30))
    for _ in range(6):
        points = [tuple(int(v) for v in rng.uniform((cx - r, cy - r), (cx + r, cy + r))) for _ in range(3)]
        draw.line(points, fill=(0, 0, 0), width=max(2, height // 45))
    return np.asarray(image)


def jpeg(frame: np.ndarray, quality: int = 75) -> np.ndarray:
    buffer = io.BytesIO()
    Image.fromarray(frame).save(buffer, "JPEG", quality=quality)
    return np.asarray(Image.open(buffer).convert("RGB"))


def resize(frame: np.ndarray, factor: float) -> np.ndarray:
    size = (round(frame.shape[1] * factor), round(frame.shape[0] * factor))
    return np.asarray(Image.fromarray(frame).resize(size, Image.Resampling.BICUBIC))


def flat_mask(frame: np.ndarray, window: int = watermark_v2.WINDOW) -> np.ndarray:
    """Pixels whose window x window neighbourhood (edges repeated) is one colour."""
    radius = window // 2
    padded = np.pad(frame.astype(int), ((radius, radius), (radius, radius), (0, 0)), mode="edge")
    h, w = frame.shape[:2]
    flat = np.ones((h, w), bool)
    for dy in range(window):
        for dx in range(window):
            flat &= (padded[dy:dy + h, dx:dx + w] == frame).all(-1)
    return flat


def assert_reads(frame: np.ndarray, version: int = 2) -> None:
    found = detect([frame])
    assert found.found and found.version == version
    assert found.model_hash_prefix == "ddc667f2" and np.array_equal(found.bits, BITS)


@pytest.fixture(scope="module")
def marked() -> np.ndarray:
    return embed(textured(), BITS)


def test_round_trip_on_a_textured_frame(marked):
    frame = textured()
    assert 10 * np.log10(255 ** 2 / np.mean((marked.astype(float) - frame) ** 2)) > 40
    assert_reads(marked)
    found = detect([marked])
    assert found.false_positive_probability < 1e-6 and found.confidence > 0.5


@pytest.mark.parametrize("attack", ["jpeg75", "half", "double", "crop-sym", "crop-left-top", "crop-right-bottom"])
def test_the_mark_survives(marked, attack):
    h, w = marked.shape[:2]
    dy, dx = h // 10, w // 10
    attacked = {"jpeg75": lambda: jpeg(marked),
                "half": lambda: resize(marked, 0.5),
                "double": lambda: resize(marked, 2.0),
                "crop-sym": lambda: marked[dy:h - dy, dx:w - dx],              # 10% off every edge
                "crop-left-top": lambda: jpeg(marked[2 * dy:, 2 * dx:], 90),   # 20% off two edges
                "crop-right-bottom": lambda: resize(marked[:h - dy, :w - dx], 1 / 0.9)}[attack]()
    assert_reads(attacked)


def test_glyph_frames_keep_flat_paper_and_still_read_after_jpeg():
    frame = glyph_frame(360, 640)
    marked = embed(frame, BITS)
    flat = flat_mask(frame)
    assert flat.mean() > 0.5
    assert np.abs(marked.astype(int) - frame)[flat].max() <= 2
    assert_reads(jpeg(marked))
    assert_reads(jpeg(marked[36:, 64:]))          # 10% off the top and the left, then JPEG


def test_unmarked_frames_are_not_detected():
    rng = np.random.default_rng(7)
    frames = [textured(144, 256, seed) for seed in range(1, 11)]
    frames += [glyph_frame(144, 256, seed) for seed in range(5)]
    frames += [rng.integers(0, 256, (144, 256, 3), dtype=np.uint8) for _ in range(3)]
    frames += [np.full((144, 256, 3), 255, np.uint8), np.zeros((144, 256, 3), np.uint8)]
    for frame in frames:
        found = detect([frame])
        assert not found.found and found.version == 0


def test_the_code_corrects_injected_errors_and_the_crc_rejects_the_rest():
    message = watermark_v2.message(0xDDC667F2)
    coded = ecc.encode(message)
    assert len(coded) == watermark_v2.CODED_BITS
    soft = 2.0 * coded - 1
    rng = np.random.default_rng(3)
    soft[rng.choice(len(soft), 8, replace=False)] *= -1          # 8 hard errors, spread out
    assert np.array_equal(ecc.viterbi(soft), message)
    assert watermark_v2.parse(ecc.viterbi(soft)) == 0xDDC667F2
    broken = message.copy()
    broken[20] ^= 1
    assert watermark_v2.parse(broken) is None


def test_video_averaging_reads_a_mark_single_frames_miss():
    base = textured(180, 320, 5).astype(float)
    rng = np.random.default_rng(11)
    shot = []
    for _ in range(16):
        frame = np.clip(base + rng.normal(0, 10, base.shape), 0, 255).astype(np.uint8)
        shot.append(watermark_v2.embed(frame, 0xDDC667F2, gain=0.35))
    assert sum(detect([frame]).found for frame in shot[:4]) < 4
    found = detect_video(shot)
    assert found.found and found.version == 2 and found.model_hash_prefix == "ddc667f2"


def test_v1_marks_are_still_read_and_small_frames_get_v1():
    frame = textured()
    assert_reads(watermark_v1.embed(frame, BITS), version=1)
    small = textured(96, 160)
    assert min(small.shape[:2]) < MIN_SIDE
    assert_reads(embed(small, BITS), version=1)


def test_verify_reads_a_faint_shot_through_its_frames_together():
    from reelgan.provenance.verify import _watermark

    base = textured(180, 320, 5).astype(float)
    rng = np.random.default_rng(11)
    shot = [watermark_v2.embed(np.clip(base + rng.normal(0, 10, base.shape), 0, 255).astype(np.uint8),
                               0xDDC667F2, gain=0.25) for _ in range(16)]
    single = sum(detect([frame]).found for frame in shot)
    finding = _watermark(shot)
    assert finding.found and finding.data["model_hash_prefix"] == "ddc667f2" and finding.data["version"] == 2
    assert single < 2  # at this strength no two frames read alone: the joint read found it
    assert "read together" in finding.detail and finding.data["false_positive_probability"] < 1e-6
    unmarked = [np.clip(base + rng.normal(0, 10, base.shape), 0, 255).astype(np.uint8) for _ in range(16)]
    assert not _watermark(unmarked).found


@pytest.mark.parametrize("height, width", [(320, 160), (360, 200), (300, 128)])
def test_portrait_frames_are_read(height, width):
    import warnings

    frame = embed(textured(height, width, 3), payload_bits("ab" * 32))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no 0/0 in the period search
        found = detect([frame])
    assert found.found and found.version == 2 and found.model_hash_prefix == "abababab"
