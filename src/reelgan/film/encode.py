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
    encoder = h264_encoder()
    with open_tagged_mp4(path, record) as container:
        video = container.add_stream(encoder, rate=fps, options={"crf": str(crf)} if encoder == "libx264" else {})
        video.width, video.height = size
        video.pix_fmt = "yuv420p"
        sound = _AudioWriter(container, audio, audio_rate) if audio is not None else None
        text_stream = _subtitle_stream(container) if subtitles else None
        pending = sorted(subtitles or [], key=lambda s: s.start)
        count = 0
        for count, frame in enumerate(frames, 1):
            now = (count - 1) / fps
            while pending and text_stream is not None and pending[0].start <= now:
                _mux_subtitle(container, text_stream, pending.pop(0), len(subtitles) - len(pending))
            picture = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")
            for packet in video.encode(picture.reformat(format="yuv420p")):
                container.mux(packet)
            if sound is not None:
                sound.write_until(count / fps)
        for subtitle in pending:
            _mux_subtitle(container, text_stream, subtitle, 0)
        for packet in video.encode(None):
            container.mux(packet)
        if sound is not None:
            sound.finish()
    return count


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
