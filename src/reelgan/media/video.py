"""MP4 (H.264, yuv420p) writing and reading, with the provenance record in the container tags."""

from __future__ import annotations

import functools
import itertools
import os
from collections.abc import Iterable, Iterator
from fractions import Fraction

import av
import numpy as np

from ..errors import ReelganError
from ..media.images import as_hwc, atomic_path, composite_on_white
from ..provenance import check_record, record_json

# Preferred first: libx264 is software-only and bundled with PyAV's wheels; the rest are
# platform/hardware encoders that only work where their device or OS service exists.
_H264_ENCODERS = (
    "libx264",
    "libopenh264",
    "h264_videotoolbox",
    "h264_mf",
    "h264_nvenc",
    "h264_qsv",
    "h264_amf",
    "h264_vaapi",
    "h264_v4l2m2m",
)


@functools.cache
def h264_encoder() -> str:
    """Name of the first H.264 encoder that this PyAV build has and that actually opens here."""
    for name in _H264_ENCODERS:
        try:
            ctx = av.CodecContext.create(name, "w")
            ctx.width, ctx.height, ctx.pix_fmt = 64, 64, "yuv420p"
            ctx.time_base = Fraction(1, 25)
            ctx.framerate = Fraction(25, 1)
            ctx.open()  # hardware encoders are listed even without their device; opening proves it
            return name
        except Exception:
            continue
    raise ReelganError(
        "this PyAV build has no working H.264 encoder; install PyAV from PyPI (`pip install av`), "
        "whose wheels include libx264"
    )


def _frame_iter(frames: np.ndarray | Iterable[np.ndarray]) -> Iterator[np.ndarray]:
    """Yield (H, W, C) uint8 frames from a (T, H, W[, C]) array or an iterable of (H, W[, C]) arrays."""
    if isinstance(frames, np.ndarray) and frames.ndim not in (3, 4):
        raise ReelganError(
            f"frames must be a (T, H, W) or (T, H, W, C) array, got shape {frames.shape}; "
            "add the time axis or pass a list of frames"
        )
    for i, frame in enumerate(frames):
        yield as_hwc(frame, f"frame {i}")


def _to_even_rgb(frame: np.ndarray) -> np.ndarray:
    """(H, W, C) uint8 -> (H', W', 3) uint8 with H', W' even (yuv420p subsamples chroma 2x2)."""
    if frame.shape[2] == 1:
        frame = np.repeat(frame, 3, axis=2)
    elif frame.shape[2] == 4:
        frame = composite_on_white(frame)
    pad_h, pad_w = frame.shape[0] % 2, frame.shape[1] % 2
    if pad_h or pad_w:
        # Edge replication keeps the added row/column from showing as a coloured line.
        frame = np.pad(frame, ((0, pad_h), (0, pad_w), (0, 0)), mode="edge")
    return np.ascontiguousarray(frame)


def _describe(record: dict) -> str:
    """The short human-readable AI-generation notice for the comment/description tags."""
    return (
        f"AI-generated with {record.get('software', 'reelgan')} "
        f"(IPTC digital source type: {record['digital_source_type']})"
    )


def _encode_all(
    container: av.container.OutputContainer,
    first: np.ndarray,
    rest: Iterator[np.ndarray],
    fps: int,
    crf: int,
) -> None:
    """Add the H.264 stream sized from `first`, then encode `first` and every frame of `rest`."""
    encoder = h264_encoder()
    options = {"crf": str(crf)} if encoder == "libx264" else {}
    stream = container.add_stream(encoder, rate=fps, options=options)
    even = _to_even_rgb(first)
    stream.height, stream.width = even.shape[:2]
    stream.pix_fmt = "yuv420p"
    expected = first.shape
    for i, frame in enumerate(itertools.chain([first], rest)):
        if frame.shape != expected:
            raise ReelganError(
                f"frame {i} has shape {frame.shape} but frame 0 has {expected}; all frames must match"
            )
        picture = av.VideoFrame.from_ndarray(_to_even_rgb(frame), format="rgb24")
        for packet in stream.encode(picture.reformat(format="yuv420p")):
            container.mux(packet)
    for packet in stream.encode(None):  # flush the encoder's delayed frames
        container.mux(packet)


def open_tagged_mp4(path: str | os.PathLike, record: dict) -> av.container.OutputContainer:
    """An MP4 opened for writing whose container tags carry `record`: "reelgan" (JSON), "comment", "description"."""
    check_record(record)
    # use_metadata_tags keeps custom keys like "reelgan"; faststart puts the index first for players.
    out = av.open(os.fspath(path), "w", format="mp4", container_options={"movflags": "+faststart+use_metadata_tags"})
    out.metadata["reelgan"] = record_json(record)
    out.metadata["comment"] = _describe(record)
    out.metadata["description"] = _describe(record)
    return out


def save_mp4(
    path: str | os.PathLike,
    frames: np.ndarray | Iterable[np.ndarray],
    fps: int,
    record: dict,
    crf: int = 18,
) -> None:
    """Write frames as an H.264/yuv420p MP4 whose container tags carry the provenance record.

    frames: a (T, H, W) / (T, H, W, C) uint8 array, or an iterable of (H, W[, C]) uint8 arrays
    (consumed one at a time). Gray becomes RGB, RGBA is composited on white, odd sizes are
    padded to even by edge replication. Tags: "reelgan" (record JSON), "comment", "description".
    """
    if isinstance(fps, bool) or not isinstance(fps, (int, np.integer)) or fps <= 0:
        raise ReelganError(f"fps must be a positive whole number, got {fps!r}")
    if isinstance(crf, bool) or not isinstance(crf, (int, np.integer)) or not 0 <= crf <= 51:
        raise ReelganError(
            f"crf must be a whole number from 0 (lossless) to 51, got {crf!r}; 18 is visually clean"
        )
    check_record(record)
    stream = _frame_iter(frames)
    first = next(stream, None)
    if first is None:
        raise ReelganError("cannot write a video with 0 frames; pass at least one frame")
    with atomic_path(path, ".mp4") as tmp:
        with open_tagged_mp4(tmp, record) as out:
            _encode_all(out, first, stream, int(fps), int(crf))


def read_video_frames(path: str | os.PathLike) -> np.ndarray:
    """Decode every frame of a video's first video stream as a (T, H, W, 3) uint8 RGB array."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise ReelganError(f"video {path} does not exist; check the path")
    try:
        with av.open(path) as container:
            if not container.streams.video:
                raise ReelganError(f"{path} has no video stream; pass a video file")
            frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    except av.error.FFmpegError as exc:
        raise ReelganError(f"cannot decode {path} ({exc}); check that it is a valid video") from None
    if not frames:
        raise ReelganError(f"{path} contains no frames; regenerate it")
    return np.stack(frames)
