"""Clip datasets from footage: video files read with PyAV, and folders of frames.

A clip is `frames` (T) frames taken every `stride` frames: it spans `(T - 1) * stride + 1` source frames.
Clip starts are `hop = max(1, T * stride // 2)` frames apart, so neighbouring clips overlap by about half,
and a video of n frames gives `max(0, (n - (T - 1) * stride - 1) // hop + 1)` clips.

Scanning counts frames without decoding the videos: the stream's frame count from the container when it
has one, else a count of the demuxed packets (no decoding). Each file's first frame is decoded once to prove
that it can be. `ClipDataset[i]` seeks to the keyframe at or before the clip's first frame, decodes forward
only as far as its last frame, and resizes each frame (short side, then centre crop, Pillow). Items are
`(clip, label)`: clip float32 `(C, T, R, R)` in [-1, 1], label `torch.tensor(0)`.

`build_clip_dataset` also knows the built-in procedural sets "moving-glyphs" and "ink-rings".
"""

from __future__ import annotations

import bisect
import logging
import re
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import torch
from PIL import Image

from ..checks import check_int
from ..errors import ReelganError
from ..paths import IMAGE_SUFFIXES, VIDEO_SUFFIXES
from .base import Dataset
from .image_sets import DECODE_ERRORS, convert_channels, prepare_image, resize_center_crop, to_pil
from .moving_glyphs import InkRingsDataset, MovingGlyphsDataset, check_clip_args

log = logging.getLogger("reelgan")

BUILTIN_CLIP_SETS = ("moving-glyphs", "ink-rings")
# What PyAV and the file system raise for a damaged, empty or non-video file.
VIDEO_ERRORS = (av.error.FFmpegError, OSError, ValueError, EOFError)
# With cache=None, decoded clips are kept in memory when all of them together need at most this many bytes.
MAX_CACHE_BYTES = 2 * 1024**3


@dataclass(frozen=True)
class FootageSource:
    """One video: a video file, or a folder of frame images (`frames` lists them in order)."""

    name: str                      # POSIX path relative to the dataset root ("." for the root itself)
    path: Path
    frames: tuple[Path, ...] = ()  # the frame files of a frame folder; empty for a video file

    @property
    def is_folder(self) -> bool:
        """Whether this video is a folder of frame images."""
        return bool(self.frames)


def natural_key(name: str) -> list[int | str]:
    """Sort key that orders embedded numbers by value: frame2.png before frame10.png."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", name)]


def find_footage(path: Path) -> list[FootageSource]:
    """The video files and frame folders at `path`: a video file, or a folder searched recursively.

    Every folder that directly holds image files is one frame-folder video; its frames are sorted by name.
    """
    if not path.exists():
        raise ReelganError(
            f"clip source {path} does not exist; give a video file, a folder of videos or of frame folders, "
            f"or a built-in name ({', '.join(BUILTIN_CLIP_SETS)})"
        )
    if path.is_file():
        if path.suffix.lower() not in VIDEO_SUFFIXES:
            raise ReelganError(f"{path} is not a video file; give a {', '.join(VIDEO_SUFFIXES)} file or a folder")
        return [FootageSource(path.name, path)]
    files = sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith("."))
    videos = [FootageSource(p.relative_to(path).as_posix(), p) for p in files if p.suffix.lower() in VIDEO_SUFFIXES]
    by_folder: dict[Path, list[Path]] = {}
    for p in files:
        if p.suffix.lower() in IMAGE_SUFFIXES:
            by_folder.setdefault(p.parent, []).append(p)
    folders = [
        FootageSource(folder.relative_to(path).as_posix(), folder,
                      tuple(sorted(frames, key=lambda p: natural_key(p.name))))
        for folder, frames in by_folder.items()
    ]
    sources = sorted(videos + folders, key=lambda s: natural_key(s.name))
    if not sources:
        raise ReelganError(
            f"folder {path} holds no videos ({', '.join(VIDEO_SUFFIXES)}) and no folders of frame images; "
            "add some footage"
        )
    return sources


def video_rate(stream: av.video.stream.VideoStream) -> Fraction | None:
    """Frames per second of a video stream, or None when the container does not say."""
    rate = stream.average_rate or stream.guessed_rate or stream.base_rate
    return Fraction(rate) if rate else None


def count_video_frames(path: Path) -> int:
    """Frames in the first video stream of `path`, without decoding the whole stream.

    Uses the container's frame count when it has one, else counts the demuxed packets of the stream (one
    frame each for video). The first frame is decoded to prove the file decodes; raises one of
    VIDEO_ERRORS for an unreadable file, and returns 0 when nothing decodes.
    """
    with av.open(str(path)) as container:
        if not container.streams.video:
            raise ValueError(f"{path} has no video stream")
        stream = container.streams.video[0]
        if next(container.decode(stream), None) is None:
            return 0
        if stream.frames > 0:
            return int(stream.frames)
    with av.open(str(path)) as container:  # no count in the container: count packets (the flush one has no dts)
        packets = container.demux(container.streams.video[0])
        return sum(1 for packet in packets if packet.dts is not None and packet.size > 0)


def count_folder_frames(source: FootageSource) -> int:
    """Frames of a frame folder; its first frame is decoded to prove it can be (DECODE_ERRORS if not)."""
    to_pil(source.frames[0].read_bytes())
    return len(source.frames)


def _frame_to_array(image: Image.Image, resolution: int, channels: int) -> np.ndarray:
    """PIL image -> uint8 `(C, R, R)`: channels converted, short side resized, centre cropped."""
    array = np.asarray(resize_center_crop(convert_channels(image, channels), resolution), dtype=np.uint8)
    if array.ndim == 2:
        array = array[:, :, None]
    return array.transpose(2, 0, 1)  # (H, W, C) -> (C, H, W)


def _seek_target(stream: av.video.stream.VideoStream, index: int) -> int | None:
    """The presentation timestamp of frame `index` in stream time units, or None if it cannot be known."""
    rate = video_rate(stream)
    if index == 0 or rate is None or not stream.time_base:
        return None
    return (stream.start_time or 0) + int(Fraction(index) / (rate * stream.time_base))


def _first_index(frame: av.VideoFrame, stream: av.video.stream.VideoStream) -> int | None:
    """The frame number of a decoded frame from its timestamp, or None if it has none."""
    rate = video_rate(stream)
    if frame.pts is None or rate is None or not stream.time_base:
        return None
    return round(Fraction(frame.pts - (stream.start_time or 0)) * stream.time_base * rate)


def decode_video_frames(path: Path, wanted: list[int], resolution: int, channels: int,
                        seek: bool = True) -> list[np.ndarray]:
    """Decode frames `wanted` (ascending) of the first video stream as uint8 `(C, R, R)` arrays.

    Seeks to the keyframe at or before the first wanted frame, then decodes forward and stops after the last
    one. If the seek lands past that frame or frames carry no timestamps, decodes from the start instead.
    Wanted frames past the end of the stream repeat the last wanted frame that was decoded.
    """
    wanted_set, picked = set(wanted), {}
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        target = _seek_target(stream, wanted[0]) if seek else None
        if target is not None:
            container.seek(target, stream=stream, backward=True, any_frame=False)
        index = None
        for frame in container.decode(stream):
            if index is None:
                index = _first_index(frame, stream) if target is not None else 0
                if index is None or not 0 <= index <= wanted[0]:
                    return decode_video_frames(path, wanted, resolution, channels, seek=False)
            if index in wanted_set:
                picked[index] = _frame_to_array(frame.to_image(), resolution, channels)
            if index >= wanted[-1]:
                break
            index += 1
    if not picked:
        raise ValueError(f"the stream ends before frame {wanted[0]}")
    last = picked[max(picked)]  # a stream shorter than its frame count said: hold its last wanted frame
    return [picked.get(i, last) for i in wanted]


class ClipDataset(Dataset):
    """Clips of `frames` frames, every `stride` frames, from video files and frame folders.

    Corrupt, unreadable, empty and too-short videos are skipped and counted (`skipped`). With `cache` True
    (or None and all clips fit in MAX_CACHE_BYTES) each clip is kept as uint8 after it is first decoded;
    every DataLoader worker keeps its own cache.
    """

    def __init__(self, path: str | Path, frames: int, stride: int = 1, resolution: int = 64, channels: int = 3,
                 cache: bool | None = None) -> None:
        check_clip_args(frames, resolution, channels)
        check_int("stride", stride, 1)
        self.path = Path(path)
        self.frames, self.stride, self.resolution, self.channels = frames, stride, resolution, channels
        self.span = (frames - 1) * stride + 1  # source frames one clip covers
        self.hop = max(1, frames * stride // 2)  # source frames between neighbouring clip starts
        found = find_footage(self.path)
        self.sources, self.frame_counts, self.skipped = self._scan(found)
        clip_counts = [(n - self.span) // self.hop + 1 for n in self.frame_counts]
        self.starts = np.concatenate([[0], np.cumsum(clip_counts)]).astype(np.int64)  # first clip of each video
        clip_bytes = channels * frames * resolution * resolution
        self.cached = cache if cache is not None else len(self) * clip_bytes <= MAX_CACHE_BYTES
        self.cache: dict[int, np.ndarray] = {}

    def _scan(self, found: list[FootageSource]) -> tuple[list[FootageSource], list[int], int]:
        """Keep the videos long enough for one clip; count and log the rest."""
        kept, counts, unreadable, short = [], [], 0, 0
        for source in found:
            try:
                n = count_folder_frames(source) if source.is_folder else count_video_frames(source.path)
            except (*VIDEO_ERRORS, *DECODE_ERRORS) as exc:
                log.debug("cannot read %s: %s", source.path, exc)
                unreadable += 1
                continue
            if n < self.span:
                short += 1
                continue
            kept.append(source)
            counts.append(n)
        skipped = unreadable + short
        need = f"a clip of {self.frames} frames every {self.stride} needs videos of at least {self.span} frames"
        if not kept:
            raise ReelganError(
                f"none of the {len(found)} video(s) in {self.path} gave a clip ({unreadable} unreadable or "
                f"empty, {short} too short); {need}"
            )
        if skipped:
            log.warning("skipped %d of %d video(s) in %s: %d unreadable or empty, %d too short (%s)",
                        skipped, len(found), self.path, unreadable, short, need)
        return kept, counts, skipped

    @property
    def raw_count(self) -> int:
        return int(self.starts[-1])

    def locate(self, index: int) -> tuple[FootageSource, list[int]]:
        """The video of clip `index` and the frame numbers it takes from it."""
        if not 0 <= index < len(self):
            raise IndexError(f"clip {index} is out of range for {len(self)} clips")
        video = bisect.bisect_right(self.starts, index) - 1
        first = int(index - self.starts[video]) * self.hop
        return self.sources[video], [first + k * self.stride for k in range(self.frames)]

    def _decode(self, index: int) -> np.ndarray:
        """Decode clip `index` as uint8 `(C, T, R, R)`; a file that fails now is named in a clear error."""
        source, wanted = self.locate(index)
        try:
            if source.is_folder:
                images = [prepare_image(source.frames[i].read_bytes(), self.resolution, self.channels)
                          for i in wanted]
            else:
                images = decode_video_frames(source.path, wanted, self.resolution, self.channels)
        except (*VIDEO_ERRORS, *DECODE_ERRORS) as exc:
            raise ReelganError(
                f"frames {wanted[0]}..{wanted[-1]} of {source.path} cannot be decoded ({exc}); remove or "
                "re-encode that video and train again (a run that saved a checkpoint continues with --resume)"
            ) from None
        return np.stack(images, axis=1)  # T x (C, R, R) -> (C, T, R, R)

    def raw_item(self, index: int) -> np.ndarray:
        """uint8 `(C, T, R, R)` of clip `index`."""
        if not self.cached:
            return self._decode(index)
        if index not in self.cache:
            self.cache[index] = self._decode(index)
        return self.cache[index]


def build_clip_dataset(source: str, frames: int, stride: int, resolution: int, channels: int,
                       size: int = 20000, seed: int = 0) -> torch.utils.data.Dataset:
    """The clip dataset that `source` names: "moving-glyphs" or "ink-rings" (procedural, `size` clips from
    `seed`; `stride` does not apply), or a path to a video file or a folder of videos and frame folders."""
    if source == "moving-glyphs":
        return MovingGlyphsDataset(size, frames, resolution, channels, seed)
    if source == "ink-rings":
        return InkRingsDataset(size, frames, resolution, channels, seed)
    return ClipDataset(source, frames, stride, resolution, channels)
