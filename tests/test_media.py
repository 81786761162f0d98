"""Media writers: pixels survive the round trip and every file says it is AI-generated."""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET

import av
import numpy as np
import pytest
import torch
from PIL import Image

from reelgan.errors import ReelganError
from reelgan.media import make_grid, read_video_frames, save_gif, save_mp4, save_png, to_uint8
from reelgan.provenance import (
    COMPOSITE_WITH_TRAINED_ALGORITHMIC_MEDIA,
    TRAINED_ALGORITHMIC_MEDIA,
    make_record,
    read_record,
    xmp_packet,
)


@pytest.fixture
def record() -> dict:
    return make_record(generator_hash="deadbeef", seed=7, run="test <&> run", step=3)


def _rng_image(shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, size=shape, dtype=np.uint8)


def _smooth_frames(t: int, h: int, w: int, c: int | None) -> np.ndarray:
    """(T, H, W[, C]) gradients that drift over time, without wrap-around edges: H.264 at crf 18
    with 4:2:0 chroma keeps such content within a few levels."""
    ys, xs = np.mgrid[0:h, 0:w]
    frames = []
    for i in range(t):
        rgb = np.stack([ys * 6 + xs * 4 + i * 3, 200 - ys * 5 - i * 2, 60 + xs * 8 + i], axis=-1)
        frames.append(rgb[..., 0] if c is None else rgb[..., :c])
    return np.stack(frames).astype(np.uint8)


def test_make_record_fields_and_reserved_keys() -> None:
    rec = make_record(generator_hash="h", seed=None, source_type=COMPOSITE_WITH_TRAINED_ALGORITHMIC_MEDIA)
    assert rec["ai_generated"] is True
    assert rec["digital_source_type"] == COMPOSITE_WITH_TRAINED_ALGORITHMIC_MEDIA
    assert rec["software"].startswith("reelgan ")
    assert rec["seed"] is None
    with pytest.raises(ReelganError):
        make_record(generator_hash="h", seed=1, ai_generated=False)
    with pytest.raises(ReelganError):
        make_record(generator_hash="h", seed=1, source_type="camera")
    with pytest.raises(ReelganError):
        make_record(generator_hash="h", seed=1, blob=object())


def test_xmp_packet_is_xml_with_iptc_source_type(record: dict) -> None:
    packet = xmp_packet(record)
    assert packet.startswith("<?xpacket begin=")
    root = ET.fromstring(packet.split("?>", 1)[1].rsplit("<?xpacket", 1)[0])
    ns = {"Iptc4xmpExt": "http://iptc.org/std/Iptc4xmpExt/2008-02-29/", "xmp": "http://ns.adobe.com/xap/1.0/"}
    assert root.find(".//Iptc4xmpExt:DigitalSourceType", ns).text == TRAINED_ALGORITHMIC_MEDIA
    assert root.find(".//xmp:CreatorTool", ns).text == record["software"]
    assert root.find(".//{urn:reelgan:provenance:1.0/}run").text == "test <&> run"


def test_to_uint8_maps_range_ends() -> None:
    batch = torch.tensor([-1.0, 1.0, 0.0, -5.0, 5.0]).reshape(1, 1, 1, 5)
    out = to_uint8(batch)
    assert out.shape == (1, 1, 5, 1) and out.dtype == np.uint8
    assert out.ravel().tolist() == [0, 255, 128, 0, 255]  # 0 -> 127.5 -> 128 (half to even)
    assert to_uint8(torch.zeros(2, 3, 4, 5)).shape == (2, 4, 5, 3)


def test_make_grid_shape_and_white_padding() -> None:
    batch = -torch.ones(5, 3, 8, 9)  # black images
    grid = make_grid(batch)  # nrow = ceil(sqrt(5)) = 3 -> 3 columns, 2 rows
    assert grid.shape == (2 * 8 + 3, 3 * 9 + 4, 3)
    assert (grid[0] == 255).all() and (grid[:, 0] == 255).all()
    assert (grid[1:9, 1:10] == 0).all()
    assert (grid[10:18, 21:30] == 255).all()  # the empty sixth cell is white
    rgba = make_grid(-torch.ones(2, 4, 3, 3), nrow=1, padding=2)
    assert rgba.shape == (2 * 3 + 3 * 2, 3 + 2 * 2, 4) and rgba[0, 0, 3] == 255


@pytest.mark.parametrize(
    "shape, mode", [((9, 11), "L"), ((9, 11, 1), "L"), ((9, 11, 3), "RGB"), ((9, 11, 4), "RGBA")]
)
def test_png_round_trip(tmp_path, record: dict, shape: tuple[int, ...], mode: str) -> None:
    image = _rng_image(shape)
    path = tmp_path / "out.png"
    save_png(path, image, record)
    with Image.open(path) as im:
        assert im.mode == mode
        expected = image[:, :, 0] if mode == "L" and image.ndim == 3 else image  # L reads back as (H, W)
        np.testing.assert_array_equal(np.asarray(im), expected)
        xmp = im.text["XML:com.adobe.xmp"]
        assert TRAINED_ALGORITHMIC_MEDIA in xmp and "Iptc4xmpExt:DigitalSourceType" in xmp
        assert im.text["Software"] == record["software"]
    assert read_record(path) == record
    assert os.listdir(tmp_path) == ["out.png"]


def test_read_record_without_record(tmp_path) -> None:
    plain = tmp_path / "plain.png"
    Image.new("RGB", (4, 4)).save(plain)
    assert read_record(plain) is None
    with pytest.raises(ReelganError):
        read_record(tmp_path / "missing.png")


def test_gif_round_trip(tmp_path, record: dict) -> None:
    frames = _rng_image((4, 10, 12, 3))
    path = tmp_path / "anim.gif"
    save_gif(path, frames, fps=8, record=record)
    with Image.open(path) as im:
        assert im.n_frames == 4
        assert im.info["loop"] == 0
    assert read_record(path) == record
    save_gif(tmp_path / "gray.gif", _rng_image((3, 5, 5)), fps=2.5, record=record)
    assert read_record(tmp_path / "gray.gif") == record


@pytest.mark.parametrize("channels", [None, 3])
def test_mp4_round_trip_odd_size(tmp_path, record: dict, channels: int | None) -> None:
    frames = _smooth_frames(12, 17, 15, channels)  # (T, H=17, W=15[, C]) - both odd
    path = tmp_path / "clip.mp4"
    save_mp4(path, frames, fps=12, record=record)
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert stream.codec_context.pix_fmt == "yuv420p"
        assert container.metadata["comment"].startswith("AI-generated")
        assert TRAINED_ALGORITHMIC_MEDIA in container.metadata["description"]
    decoded = read_video_frames(path)
    assert decoded.shape == (12, 18, 16, 3)
    expected = frames if channels else np.repeat(frames[..., None], 3, axis=-1)
    diff = np.abs(decoded[:, :17, :15].astype(int) - expected.astype(int))
    assert diff.mean() < 6
    assert read_record(path) == record
    assert os.listdir(tmp_path) == ["clip.mp4"]


def test_mp4_streams_iterable_and_rgba(tmp_path, record: dict) -> None:
    rgba = np.zeros((8, 8, 4), dtype=np.uint8)  # fully transparent -> white
    save_mp4(tmp_path / "s.mp4", (rgba for _ in range(3)), fps=5, record=record)
    decoded = read_video_frames(tmp_path / "s.mp4")
    assert decoded.shape == (3, 8, 8, 3) and decoded.min() > 240


@pytest.mark.parametrize(
    "call",
    [
        lambda p, r: save_png(p / "x.png", np.zeros((4, 4), np.float32), r),
        lambda p, r: save_png(p / "x.png", np.zeros((4, 4, 2), np.uint8), r),
        lambda p, r: save_png(p / "x.png", np.zeros((1, 4, 4, 3), np.uint8), r),
        lambda p, r: save_png(p / "x.png", np.zeros((4, 4), np.uint8), {"seed": 1}),
        lambda p, r: save_gif(p / "x.gif", np.zeros((0, 4, 4), np.uint8), 10, r),
        lambda p, r: save_gif(p / "x.gif", np.zeros((2, 4, 4), np.uint8), 0, r),
        lambda p, r: save_mp4(p / "x.mp4", np.zeros((0, 4, 4), np.uint8), 10, r),
        lambda p, r: save_mp4(p / "x.mp4", [], 10, r),
        lambda p, r: save_mp4(p / "x.mp4", np.zeros((4, 4), np.uint8), 10, r),
        lambda p, r: save_mp4(p / "x.mp4", np.zeros((2, 4, 4, 5), np.uint8), 10, r),
        lambda p, r: save_mp4(p / "x.mp4", np.zeros((2, 4, 4), np.uint8), 10, r, crf=99),
        lambda p, r: to_uint8(torch.zeros(3, 4, 4)),
        lambda p, r: to_uint8(torch.zeros(1, 2, 4, 4)),
        lambda p, r: to_uint8(torch.zeros(1, 3, 4, 4, dtype=torch.uint8)),
        lambda p, r: read_video_frames(p / "missing.mp4"),
    ],
)
def test_bad_input_raises_reelgan_error(tmp_path, record: dict, call) -> None:
    with pytest.raises(ReelganError):
        call(tmp_path, record)
    assert os.listdir(tmp_path) == []


def test_failing_mp4_write_leaves_nothing(tmp_path, record: dict) -> None:
    target = tmp_path / "clip.mp4"
    target.write_bytes(b"old")  # an existing file must survive a failed overwrite untouched

    def frames():
        for _ in range(5):
            yield np.zeros((16, 16, 3), np.uint8)
        yield np.zeros((16, 20, 3), np.uint8)  # wrong size mid-stream

    with pytest.raises(ReelganError, match="frame 5"):
        save_mp4(target, frames(), fps=10, record=record)
    assert os.listdir(tmp_path) == ["clip.mp4"]
    assert target.read_bytes() == b"old"

    with pytest.raises(ReelganError):
        save_mp4(tmp_path / "new.mp4", frames(), fps=10, record=record)
    assert os.listdir(tmp_path) == ["clip.mp4"]


def test_failing_gif_write_leaves_nothing(tmp_path, record: dict) -> None:
    bad = np.zeros((3, 4, 4, 2), np.uint8)  # 2 channels
    with pytest.raises(ReelganError):
        save_gif(tmp_path / "x.gif", bad, 10, record)
    assert os.listdir(tmp_path) == []


def test_writers_make_the_folders_their_checked_path_needs(tmp_path, record: dict) -> None:
    path = tmp_path / "new" / "deeper" / "x.png"
    save_png(path, np.zeros((4, 4), np.uint8), record)
    assert path.is_file() and [p.name for p in path.parent.iterdir()] == ["x.png"]  # no temp file left
