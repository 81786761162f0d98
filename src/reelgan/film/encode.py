"""Writing the film: H.264 video through PyAV, an optional AAC audio track (temp dialogue) and soft subtitle
track (mov_text), provenance tags."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from av.subtitles.subtitle import SubtitleSet

from ..media.video import h264_encoder, open_tagged_mp4
from .plan import Subtitle
from .subtitles import cue_text

MILLISECONDS = Fraction(1, 1000)
# x264's "veryfast" encodes an animatic's frames about three times faster than its default "medium", for
# files a little larger at the same quality (CRF): an animatic is a draft, and its time is the render's.
X264_PRESET = "veryfast"
AUDIO_BIT_RATE = 96_000  # bits per second of the mono AAC track (speech over room tone)
# mov_text needs an ASS header to open; players draw the text with their own style.
ASS_HEADER = b"""[Script Info]
ScriptType: v4.00+
PlayResX: 384
PlayResY: 288

[V4+ Styles]
Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, Bold, Italic, \
Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, Alignment, MarginL, MarginR, \
MarginV, Encoding
Style: Default,Arial,16,&Hffffff,&Hffffff,&H0,&H0,0,0,0,0,100,100,0,0,1,1,0,2,10,10,10,0

[Events]
Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text
"""


def write_film(path: Path, frames: Iterable[np.ndarray], size: tuple[int, int], fps: int, record: dict,
               subtitles: list[Subtitle] | None = None, crf: int = 20, audio: Iterable[np.ndarray] | None = None,
               audio_rate: int = 48_000) -> int:
    """Encode RGB frames of `size` (width, height; both even) to `path`; returns the number of frames.

    With `subtitles`, the file also carries them as a soft `mov_text` track that players can switch on. With
    `audio` (mono float32 blocks in [-1, 1] at `audio_rate` Hz, as long as the film), an AAC track, muxed
    alongside the frames so that players read both as they go.
    """
    with FilmWriter(path, size, fps, record, subtitles, crf, audio, audio_rate) as writer:
        for frame in frames:
            writer.add(frame)
    return writer.count


class FilmWriter:
    """An MP4 written a frame at a time (`add`), so that one drawing pass can feed several files at once.

    Use it as a context manager: leaving the block normally flushes the encoders; leaving it on an exception
    only closes the file (the caller's staging folder throws it away).
    """

    def __init__(self, path: Path, size: tuple[int, int], fps: int, record: dict,
                 subtitles: list[Subtitle] | None = None, crf: int = 20, audio: Iterable[np.ndarray] | None = None,
                 audio_rate: int = 48_000) -> None:
        encoder = h264_encoder()
        self.fps, self.count = fps, 0
        self.container = open_tagged_mp4(path, record)
        try:
            options = {"crf": str(crf), "preset": X264_PRESET} if encoder == "libx264" else {}
            self.video = self.container.add_stream(encoder, rate=fps, options=options)
            self.video.width, self.video.height = size
            self.video.pix_fmt = "yuv420p"
            self.sound = _AudioWriter(self.container, audio, audio_rate) if audio is not None else None
            self.text_stream = _subtitle_stream(self.container) if subtitles else None
        except BaseException:
            self.container.close()
            raise
        self.pending = sorted(subtitles or [], key=lambda s: s.start)
        self.cues = len(self.pending)

    def add(self, frame: np.ndarray) -> None:
        """Encode the next (H, W, 3) uint8 frame, with the subtitle cues and sound that start by its time."""
        now = self.count / self.fps
        while self.pending and self.text_stream is not None and self.pending[0].start <= now:
            _mux_subtitle(self.container, self.text_stream, self.pending.pop(0), self.cues - len(self.pending))
        picture = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")
        for packet in self.video.encode(picture.reformat(format="yuv420p")):
            self.container.mux(packet)
        self.count += 1
        if self.sound is not None:
            self.sound.write_until(self.count / self.fps)

    def close(self, flush: bool = True) -> None:
        """Finish the file: with `flush`, mux the cues left and flush the video and audio encoders first
        (without it, after an error, the file is only closed)."""
        try:
            if flush:
                for subtitle in self.pending:
                    _mux_subtitle(self.container, self.text_stream, subtitle, 0)
                self.pending = []
                for packet in self.video.encode(None):
                    self.container.mux(packet)
                if self.sound is not None:
                    self.sound.finish()
        finally:
            self.container.close()

    def __enter__(self) -> "FilmWriter":
        return self

    def __exit__(self, kind, value, traceback) -> None:
        self.close(flush=kind is None)


class _AudioWriter:
    """An AAC stream fed from blocks of samples, a block at a time as the video reaches it."""

    def __init__(self, container: av.container.OutputContainer, blocks: Iterable[np.ndarray], rate: int):
        self.container, self.rate = container, rate
        self.stream = container.add_stream("aac", rate=rate, layout="mono")
        self.stream.bit_rate = AUDIO_BIT_RATE
        self.stream.metadata["language"] = "eng"
        self.blocks: Iterator[np.ndarray] | None = iter(blocks)
        self.written = 0  # samples

    def write_until(self, seconds: float) -> None:
        """Encode blocks until the track reaches `seconds` (or the blocks run out)."""
        while self.blocks is not None and self.written < seconds * self.rate:
            block = next(self.blocks, None)
            if block is None:
                self.blocks = None
                return
            frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(block, np.float32).reshape(1, -1),
                                               format="flt", layout="mono")
            frame.sample_rate, frame.pts, frame.time_base = self.rate, self.written, Fraction(1, self.rate)
            self.written += block.size
            for packet in self.stream.encode(frame):
                self.container.mux(packet)

    def finish(self) -> None:
        """Encode what is left and flush the encoder."""
        self.write_until(float("inf"))
        for packet in self.stream.encode(None):
            self.container.mux(packet)


def _subtitle_stream(container: av.container.OutputContainer):
    """The soft subtitle track (mov_text, in milliseconds)."""
    stream = container.add_stream("mov_text")
    stream.time_base = MILLISECONDS
    stream.metadata["language"] = "eng"
    stream.codec_context.subtitle_header = ASS_HEADER
    return stream


def _mux_subtitle(container, stream, subtitle: Subtitle, number: int) -> None:
    """One cue as a mov_text packet from its start to its end (milliseconds)."""
    start, end = round(subtitle.start * 1000), round(subtitle.end * 1000)
    event = f"{number},0,Default,,0,0,0,,{cue_text(subtitle)}".encode()
    packet = stream.codec_context.encode_subtitle(SubtitleSet.create(event, start=0, end=end - start, pts=start))
    packet.stream = stream
    packet.time_base = MILLISECONDS
    packet.pts = packet.dts = start
    packet.duration = end - start
    container.mux(packet)


def read_soft_subtitles(path: str | Path) -> list[tuple[float, float, str]]:
    """The soft subtitle track of an MP4 as (start s, end s, text); [] when it has none."""
    cues = []
    with av.open(str(path)) as container:
        if not container.streams.subtitles:
            return []
        stream = container.streams.subtitles[0]
        for packet in container.demux(stream):
            if packet.size == 0:
                continue
            for item in stream.decode(packet):
                text = getattr(item, "dialogue", b"")
                text = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
                start = float(packet.pts * packet.time_base)
                cues.append((start, start + float(packet.duration * packet.time_base), text))
    return cues
