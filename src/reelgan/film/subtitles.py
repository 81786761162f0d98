"""Dialogue on screen: SRT and WebVTT files, and subtitles burned into frames with Pillow.

All three show each cue's `Subtitle.lines` (`SPEAKER: words`, broken by `plan.cue_lines`), so a viewer reads
the same lines, broken in the same places, whichever they watch.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from .plan import Subtitle
from .visuals import font

TEXT_HEIGHT = 1 / 16    # text size as a share of the frame height (broadcast subtitles are about 1/15-1/20)
MIN_PX = 8              # smallest text size Pillow draws legibly
WORD_SPACE = 0.3        # the gap between words in ems: the bundled font's own space (0.2 em) reads as cramped
LINE_SPACING = 1.3      # line pitch in ems
BOX = (0, 0, 0, 150)    # the translucent box behind each line, for contrast on any picture
INK, OUTLINE = (255, 255, 255, 255), (0, 0, 0, 255)


def _clock(seconds: float, separator: str) -> str:
    millis = round(seconds * 1000)
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{millis:03d}"


def cue_text(subtitle: Subtitle) -> str:
    """What a subtitle says on screen: `SPEAKER: words`, its lines joined by newlines."""
    return "\n".join(subtitle.lines)


def _escape(text: str) -> str:
    """Text safe inside a WebVTT cue (and its voice tag)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def to_srt(subtitles: list[Subtitle]) -> str:
    """SubRip text: numbered cues with `HH:MM:SS,mmm --> HH:MM:SS,mmm` times and the cues' lines."""
    blocks = [f"{n}\n{_clock(s.start, ',')} --> {_clock(s.end, ',')}\n{cue_text(s)}\n"
              for n, s in enumerate(subtitles, 1)]
    return "\n".join(blocks)


def to_webvtt(subtitles: list[Subtitle]) -> str:
    """WebVTT text: a `WEBVTT` header and cues with `HH:MM:SS.mmm` times; each cue names its speaker in a voice
    span and shows the same lines as the SRT file and the frames (players do not show voice names)."""
    blocks = ["WEBVTT\n"]
    for s in subtitles:
        blocks.append(f"{_clock(s.start, '.')} --> {_clock(s.end, '.')}\n<v {_escape(s.speaker)}>"
                      f"{_escape(cue_text(s))}\n")
    return "\n".join(blocks)


class SubtitleBurner:
    """Draws each subtitle once (white text with a dark outline on a translucent box, centred near the bottom)
    and blends it onto frames while it is on screen."""

    def __init__(self, size: tuple[int, int]) -> None:
        self.width, self.height = size
        self.cache: dict[Subtitle, tuple[np.ndarray, np.ndarray, int]] = {}

    def lines(self, subtitle: Subtitle) -> tuple[str, ...]:
        """The lines drawn for `subtitle`: its cue's lines in the SRT and WebVTT files."""
        return subtitle.lines

    def text_size(self, lines: tuple[str, ...]) -> int:
        """Pixels per em: TEXT_HEIGHT of the frame height, smaller only if the longest line would not fit in
        90% of the width (lines are never re-broken here, so the files and the frames agree)."""
        px = max(MIN_PX, round(self.height * TEXT_HEIGHT))
        widest = max(line_width(line, font(px), px) for line in lines)
        room = 0.9 * self.width
        return px if widest <= room else max(MIN_PX, int(px * room / widest))

    def _overlay(self, subtitle: Subtitle) -> tuple[np.ndarray, np.ndarray, int]:
        """The subtitle as (colour, alpha, top row): a strip as wide as the frame."""
        lines = self.lines(subtitle)
        px = self.text_size(lines)
        face = font(px)
        pitch, pad = round(px * LINE_SPACING), max(1, round(px * 0.2))
        strip_h = pitch * len(lines) + 2 * pad
        box = Image.new("RGBA", (self.width, strip_h), (0, 0, 0, 0))
        text = Image.new("RGBA", (self.width, strip_h), (0, 0, 0, 0))
        boxes, ink = ImageDraw.Draw(box), ImageDraw.Draw(text)
        for index, line in enumerate(lines):
            width = line_width(line, face, px)
            x, y = (self.width - width) / 2, pad + index * pitch
            boxes.rectangle((x - 2 * pad, y - (pad if index == 0 else 0), x + width + 2 * pad,
                             y + pitch - 1 + (pad if index == len(lines) - 1 else 0)), fill=BOX)
            _draw_line(ink, (x, y + pitch / 2), line, face, px)
        rgba = np.asarray(Image.alpha_composite(box, text)).astype(np.float32)
        top = max(0, self.height - strip_h - self.height // 16)
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


def word_gap(face: ImageFont.FreeTypeFont, px: int) -> float:
    """Pixels between words: at least WORD_SPACE ems, plus the outline that would otherwise eat into the gap."""
    return max(face.getlength(" "), WORD_SPACE * px) + max(1, round(px / 14))


def line_width(line: str, face: ImageFont.FreeTypeFont, px: int) -> float:
    """The drawn width of a line in pixels, words measured by the font and spaced by `_word_gap`."""
    words = line.split(" ")
    return sum(face.getlength(word) for word in words) + word_gap(face, px) * (len(words) - 1)


def _draw_line(draw: ImageDraw.ImageDraw, at: tuple[float, float], line: str, face: ImageFont.FreeTypeFont,
               px: int) -> None:
    """Draw a line word by word from `at` (its left end, at mid height), each word whole with its kerning and
    `_word_gap` apart."""
    x, y = at
    gap, stroke = word_gap(face, px), max(1, round(px / 14))
    for word in line.split(" "):
        draw.text((x, y), word, font=face, anchor="lm", fill=INK, stroke_width=stroke, stroke_fill=OUTLINE)
        x += face.getlength(word) + gap
