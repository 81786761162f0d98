"""Dialogue on screen: SRT and WebVTT files, and subtitles burned into frames with Pillow."""

from __future__ import annotations

import textwrap

import numpy as np
from PIL import Image, ImageDraw

from .plan import Subtitle
from .visuals import font


def _clock(seconds: float, separator: str) -> str:
    millis = round(seconds * 1000)
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{millis:03d}"


def cue_text(subtitle: Subtitle) -> str:
    """What a subtitle says on screen: `SPEAKER: words`."""
    return f"{subtitle.speaker}: {subtitle.text}"


def to_srt(subtitles: list[Subtitle]) -> str:
    """SubRip text: numbered cues with `HH:MM:SS,mmm --> HH:MM:SS,mmm` times."""
    blocks = [f"{n}\n{_clock(s.start, ',')} --> {_clock(s.end, ',')}\n{cue_text(s)}\n"
              for n, s in enumerate(subtitles, 1)]
    return "\n".join(blocks)


def to_webvtt(subtitles: list[Subtitle]) -> str:
    """WebVTT text: a `WEBVTT` header and cues with `HH:MM:SS.mmm` times, speakers as voice spans."""
    blocks = ["WEBVTT\n"]
    for s in subtitles:
        text = s.text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        blocks.append(f"{_clock(s.start, '.')} --> {_clock(s.end, '.')}\n<v {s.speaker}>{text}\n")
    return "\n".join(blocks)


class SubtitleBurner:
    """Draws each subtitle once (white text, dark outline) and blends it onto frames while it is on screen."""

    def __init__(self, size: tuple[int, int]) -> None:
        self.width, self.height = size
        self.px = max(10, self.height // 18)
        self.cache: dict[Subtitle, tuple[np.ndarray, np.ndarray, int]] = {}

    def _overlay(self, subtitle: Subtitle) -> tuple[np.ndarray, np.ndarray, int]:
        face = font(self.px)
        chars = max(12, int(self.width * 0.9 / (0.55 * self.px)))
        lines = textwrap.wrap(cue_text(subtitle), chars)[:3]
        line_h = int(self.px * 1.3)
        box_h = line_h * len(lines) + self.px // 2
        strip = Image.new("RGBA", (self.width, box_h), (0, 0, 0, 0))
        draw = ImageDraw.Draw(strip)
        stroke = max(1, self.px // 16)
        for index, line in enumerate(lines):
            x = (self.width - draw.textlength(line, font=face)) / 2
            draw.text((x, index * line_h), line, font=face, fill=(255, 255, 255, 255),
                      stroke_width=stroke, stroke_fill=(0, 0, 0, 255))
        rgba = np.asarray(strip).astype(np.float32)
        top = max(0, self.height - box_h - self.height // 20)
        rgba = rgba[: self.height - top]  # tiny frames: keep what fits
        return rgba[..., :3], rgba[..., 3:] / 255.0, top

    def burn(self, frame: np.ndarray, subtitles: list[Subtitle]) -> np.ndarray:
        """`frame` with the given subtitles drawn near the bottom (a new array when any are drawn)."""
        if not subtitles:
            return frame
        frame = frame.copy()
        for subtitle in subtitles[-1:]:  # one speech at a time; the latest wins
            if subtitle not in self.cache:
                self.cache[subtitle] = self._overlay(subtitle)
            colour, alpha, top = self.cache[subtitle]
            region = frame[top:top + colour.shape[0]].astype(np.float32)
            frame[top:top + colour.shape[0]] = (region * (1 - alpha) + colour * alpha).round().astype(np.uint8)
        return frame
