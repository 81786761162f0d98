"""Writing the film: H.264 video through PyAV, an optional soft subtitle track (mov_text), provenance tags."""

from __future__ import annotations

from collections.abc import Iterable
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from av.subtitles.subtitle import SubtitleSet

from ..media.video import h264_encoder, open_tagged_mp4
from .plan import Subtitle
from .subtitles import cue_text

MILLISECONDS = Fraction(1, 1000)
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
               subtitles: list[Subtitle] | None = None, crf: int = 20) -> int:
    """Encode RGB frames of `size` (width, height; both even) to `path`; returns the number of frames.

    With `subtitles`, the file also carries them as a soft `mov_text` track that players can switch on.
    """
    encoder = h264_encoder()
    with open_tagged_mp4(path, record) as container:
        video = container.add_stream(encoder, rate=fps, options={"crf": str(crf)} if encoder == "libx264" else {})
        video.width, video.height = size
        video.pix_fmt = "yuv420p"
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
        for subtitle in pending:
            _mux_subtitle(container, text_stream, subtitle, 0)
        for packet in video.encode(None):
            container.mux(packet)
    return count


def _subtitle_stream(container: av.container.OutputContainer):
    stream = container.add_stream("mov_text")
    stream.time_base = MILLISECONDS
    stream.metadata["language"] = "eng"
    stream.codec_context.subtitle_header = ASS_HEADER
    return stream


def _mux_subtitle(container, stream, subtitle: Subtitle, number: int) -> None:
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
