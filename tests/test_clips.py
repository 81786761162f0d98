"""Clip datasets: video files and frame folders through PyAV, and the procedural clip sets."""

from __future__ import annotations

import logging
import shutil
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
import torch
from conftest import shared_data
from PIL import Image

from reelgan.data.clip_sets import ClipDataset, build_clip_dataset, decode_video_frames
from reelgan.data.logograms import render_logogram
from reelgan.data.moving_glyphs import InkRingsDataset, MovingGlyphsDataset
from reelgan.data.procedural import glyph_seed
from reelgan.errors import ReelganError

WIDTH, HEIGHT = 64, 48


def square_frames(count: int) -> np.ndarray:
    """uint8 `(T, H, W, 3)`: a white square on dark grey moving right by 2 pixels a frame."""
    frames = np.full((count, HEIGHT, WIDTH, 3), 40, dtype=np.uint8)
    for i in range(count):
        x = 2 + (2 * i) % (WIDTH - 14)
        frames[i, 18:30, x:x + 12] = 255
    return frames


def write_video(path: Path, count: int, codec: str = "libx264", gop: int = 12) -> Path:
    """Encode `count` moving-square frames with PyAV (keyframe every `gop` frames)."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=Fraction(25, 1))
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        stream.codec_context.gop_size = gop
        for picture in square_frames(count):
            frame = av.VideoFrame.from_ndarray(picture, format="rgb24")
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


def square_x(clip: torch.Tensor) -> np.ndarray:
    """Per frame of a `(C, T, H, W)` clip, the mean column of its bright pixels."""
    bright = (clip.mean(0) > 0.3).float()  # (T, H, W)
    columns = torch.arange(clip.shape[-1], dtype=torch.float32)
    return ((bright.sum(1) * columns).sum(1) / bright.sum((1, 2))).numpy()


@pytest.fixture(scope="module")
def footage(tmp_path_factory) -> Path:
    """One folder of small test videos and frame folders, written once for this file."""
    root = tmp_path_factory.mktemp("footage")
    write_video(root / "square.mp4", 20)
    write_video(root / "short.mp4", 3)
    write_video(root / "keyframes.mp4", 40, gop=4)
    write_video(root / "square.mkv", 20, codec="mpeg4")
    (root / "corrupt.mp4").write_bytes(np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    (root / "empty.mp4").write_bytes(b"")
    frames = root / "frames" / "take1"
    frames.mkdir(parents=True)
    for i, picture in enumerate(square_frames(20)):  # unpadded names: frame2 must come before frame10
        Image.fromarray(picture).save(frames / f"frame{i}.png")
    return root


def only(footage: Path, tmp_path: Path, *names: str) -> Path:
    """A folder holding copies of just the named files of the footage folder."""
    for name in names:
        shutil.copyfile(footage / name, tmp_path / name)
    return tmp_path


# Footage from the shared data folder

@pytest.fixture(scope="module")
def bunny() -> ClipDataset:
    return ClipDataset(shared_data("video/bigbuckbunny.mp4"), frames=8, stride=2, resolution=32, channels=3,
                       cache=False)


def test_shared_video_clips_have_the_right_shape_and_range(bunny):
    assert len(bunny) > 0
    clip, label = bunny[0]
    assert clip.shape == (3, 8, 32, 32) and clip.dtype == torch.float32
    assert clip.min() >= -1.0 and clip.max() <= 1.0
    assert label.item() == 0


def test_shared_video_clips_differ_and_repeat_exactly(bunny):
    first, again, second = bunny[0][0], bunny[0][0], bunny[1][0]
    assert torch.equal(first, again)
    assert (first - second).abs().mean() > 0.01


def test_shared_video_frames_are_in_temporal_order(bunny):
    clip = bunny[1][0]  # (C, T, H, W)
    near = np.mean([(clip[:, t + 1] - clip[:, t]).abs().mean().item() for t in range(3)])
    far = np.mean([(clip[:, t + 4] - clip[:, t]).abs().mean().item() for t in range(3)])
    assert near < far


# Small videos written here

def test_video_clip_count_follows_the_hop(footage, tmp_path):
    data = ClipDataset(only(footage, tmp_path, "square.mp4"), frames=4, stride=2, resolution=16, channels=3)
    assert data.hop == 4 and data.span == 7
    assert len(data) == (20 - 7) // 4 + 1
    assert data.locate(1)[1] == [4, 6, 8, 10]


def test_video_frames_come_in_order_and_from_the_right_place(footage, tmp_path):
    data = ClipDataset(only(footage, tmp_path, "square.mp4"), frames=4, stride=2, resolution=48, channels=1)
    clip, _ = data[1]  # source frames 4, 6, 8, 10: the square moves 4 source pixels a clip frame
    assert clip.shape == (1, 4, 48, 48)
    x = square_x(clip)
    assert np.all(np.diff(x) > 2)
    assert x[0] == pytest.approx(2 + 8 + 6 - 8, abs=1.5)  # square centre at frame 4, minus the 8-pixel crop


def test_seeking_matches_decoding_from_the_start(footage):
    path, wanted = footage / "keyframes.mp4", [21, 23, 25, 27]
    seeked = decode_video_frames(path, wanted, 32, 3)
    walked = decode_video_frames(path, wanted, 32, 3, seek=False)
    assert all(np.array_equal(a, b) for a, b in zip(seeked, walked))


def test_mkv_without_a_frame_count_is_counted_by_packets(footage, tmp_path):
    data = ClipDataset(only(footage, tmp_path, "square.mkv"), frames=4, stride=1, resolution=16, channels=3)
    assert data.frame_counts == [20]
    assert data[len(data) - 1][0].shape == (3, 4, 16, 16)


def test_frame_folder_gives_the_same_clips_as_the_video(footage, tmp_path):
    folder = ClipDataset(footage / "frames", frames=4, stride=2, resolution=16, channels=3)
    video = ClipDataset(only(footage, tmp_path, "square.mp4"), frames=4, stride=2, resolution=16, channels=3)
    assert len(folder) == len(video) and folder.frame_counts == [20]
    for index in (0, len(folder) - 1):
        assert folder[index][0].shape == (3, 4, 16, 16)
        assert (folder[index][0] - video[index][0]).abs().mean() < 0.05  # only compression differs


def test_bad_videos_are_skipped_and_counted(footage, tmp_path, caplog):
    root = only(footage, tmp_path, "square.mp4", "short.mp4", "corrupt.mp4", "empty.mp4")
    with caplog.at_level(logging.WARNING, logger="reelgan"):
        data = ClipDataset(root, frames=4, stride=2, resolution=16, channels=3)
    assert data.skipped == 3
    assert [s.name for s in data.sources] == ["square.mp4"]
    assert len(data) == (20 - 7) // 4 + 1
    assert "skipped 3 of 4" in caplog.text


def test_all_bad_videos_raise_naming_the_requirement(footage, tmp_path):
    root = only(footage, tmp_path, "short.mp4", "corrupt.mp4", "empty.mp4")
    with pytest.raises(ReelganError, match=r"none of the 3 .*at least 7 frames"):
        ClipDataset(root, frames=4, stride=2, resolution=16, channels=3)


def test_missing_path_and_bad_arguments_raise(footage, tmp_path):
    with pytest.raises(ReelganError, match="does not exist"):
        ClipDataset(tmp_path / "nowhere", frames=4)
    with pytest.raises(ReelganError, match="no videos"):
        ClipDataset(tmp_path, frames=4)
    with pytest.raises(ReelganError, match="channels"):
        ClipDataset(footage / "square.mp4", frames=4, channels=4)
    with pytest.raises(ReelganError, match="stride"):
        ClipDataset(footage / "square.mp4", frames=4, stride=0)


def test_one_channel_clips(footage):
    data = ClipDataset(footage / "square.mp4", frames=3, stride=1, resolution=16, channels=1, cache=True)
    clip, _ = data[2]
    assert clip.shape == (1, 3, 16, 16)
    assert data.cached and torch.equal(data[2][0], clip)


# Procedural clip sets

def test_moving_glyphs_shape_and_determinism():
    data = MovingGlyphsDataset(size=10, frames=6, resolution=32, channels=3, seed=1)
    clip, label = data[0]
    assert clip.shape == (3, 6, 32, 32) and label.item() == 0
    assert clip.min() >= -1.0 and clip.max() <= 1.0 and clip.min() < 0  # some ink on the paper
    again = MovingGlyphsDataset(size=10, frames=6, resolution=32, channels=3, seed=1)[0][0]
    other_seed = MovingGlyphsDataset(size=10, frames=6, resolution=32, channels=3, seed=2)[0][0]
    assert torch.equal(clip, again)
    assert not torch.equal(clip, other_seed)
    assert not torch.equal(clip, data[1][0])


def test_moving_glyphs_move():
    data = MovingGlyphsDataset(size=4, frames=6, resolution=32)
    for index in range(4):
        clip = data[index][0]  # (1, T, H, W)
        assert (clip[:, 1:] - clip[:, :-1]).abs().mean() > 0


def test_moving_glyph_trajectories_stay_inside_and_bounce():
    data = MovingGlyphsDataset(size=40, frames=24, resolution=32, glyphs_per_clip=(2, 2))
    room, max_step = data.room, 0.14 * data.room + 1
    bounces = 0
    for index in range(len(data)):
        path = data.trajectory(index)  # (glyphs, T, 2)
        assert path.shape == (2, 24, 2)
        assert path.min() >= 0 and path.max() <= room
        for glyph in range(2):
            for axis in range(2):
                track = path[glyph, :, axis]
                moves = np.flatnonzero(np.diff(track))
                for a, b in zip(moves[:-1], moves[1:]):
                    if np.sign(track[a + 1] - track[a]) != np.sign(track[b + 1] - track[b]):
                        turn = track[b]  # where the direction changed: within a step of an edge
                        assert min(turn, room - turn) <= max_step
                        bounces += 1
    assert bounces > 0


def test_ink_rings_form_over_the_clip():
    data = InkRingsDataset(size=5, frames=8, resolution=32, seed=3)
    for index in range(3):
        clip = data[index][0]  # (1, T, H, W)
        assert clip.shape == (1, 8, 32, 32)
        ink = (1 - clip[0]).sum((1, 2))  # (T,)
        assert ink[-1] > ink[0]
        whole = torch.from_numpy(render_logogram(glyph_seed(3, index), 32)).float() / 127.5 - 1
        assert torch.allclose(clip[0, -1], whole)
    assert torch.equal(data[0][0], InkRingsDataset(size=5, frames=8, resolution=32, seed=3)[0][0])
    assert not torch.equal(data[0][0], data[1][0])


def test_build_clip_dataset_names(footage):
    assert isinstance(build_clip_dataset("moving-glyphs", 4, 1, 16, 1, size=3), MovingGlyphsDataset)
    rings = build_clip_dataset("ink-rings", 4, 1, 16, 3, size=3, seed=2)
    assert isinstance(rings, InkRingsDataset) and rings[0][0].shape == (3, 4, 16, 16)
    assert isinstance(build_clip_dataset(str(footage / "square.mp4"), 4, 2, 16, 3), ClipDataset)
