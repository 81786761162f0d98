"""Text drawn over a shot besides dialogue: the action caption (`--action-captions`) and the visible AI label
(`--label`).

The action caption sits in a translucent band at the top of the frame, so that it never covers the dialogue
subtitles at the bottom; storyboards put the action beside the picture for the same reason. The label is a
small mark in the top-right corner of model-made shots only ("contains AI-generated images"), as the EU AI
Act's Article 50 asks for synthetic content at first exposure, without hampering the work.
"""

from __future__ import annotations

import textwrap

import numpy as np
from PIL import Image, ImageDraw

from .subtitles import line_width, word_gap
from .visuals import font

AI_LABEL = "contains AI-generated images"
CAPTION_LINES = 2          # the action caption shows at most this many lines
CAPTION_SIZE = 1 / 20      # of the frame's height, in pixels of text
LABEL_SIZE = 1 / 28


def _band(frame: np.ndarray, lines: list[str], size_px: int, top: int, right_align: bool) -> np.ndarray:
    """`lines` on a dark translucent band starting `top` px down (right-aligned, or centred)."""
    image = Image.fromarray(frame).convert("RGBA")
    overlay = Image.new("RGBA", image.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    face = font(size_px)
    pad, gap = max(2, size_px // 3), max(1, size_px // 5)
    widths = [line_width(line, face, size_px) for line in lines]
    height = len(lines) * (size_px + gap) - gap + 2 * pad
    if right_align:
        left = image.width - max(widths) - 2 * pad - pad
        box = (left, top, image.width - pad, top + height)
    else:
        box = (0, top, image.width, top + height)
    draw.rectangle(box, fill=(0, 0, 0, 150))
    for k, (line, width) in enumerate(zip(lines, widths)):
        x = box[2] - pad - width if right_align else (image.width - width) / 2
        for word in line.split(" "):  # word by word: the bundled font's own space reads as cramped
            draw.text((x, top + pad + k * (size_px + gap)), word, font=face, fill=(255, 255, 255, 235))
            x += face.getlength(word) + word_gap(face, size_px)
    return np.asarray(Image.alpha_composite(image, overlay).convert("RGB"))


def action_caption(frame: np.ndarray, text: str) -> np.ndarray:
    """The shot's action text in a band at the top of `frame` (H, W, 3), wrapped to the frame's width."""
    if not text.strip():
        return frame
    size_px = max(8, round(frame.shape[0] * CAPTION_SIZE))
    chars = max(12, int(frame.shape[1] * 0.92 / (0.5 * size_px)))
    lines = textwrap.wrap(" ".join(text.split()), chars, break_on_hyphens=False)
    if len(lines) > CAPTION_LINES:
        lines = lines[:CAPTION_LINES]
        lines[-1] = lines[-1].rstrip(".,;: ") + " ..."
    return _band(frame, lines, size_px, 0, right_align=False)


def ai_label(frame: np.ndarray, below: int = 0) -> np.ndarray:
    """The visible AI label in the top-right corner of `frame` (H, W, 3), `below` px down."""
    size_px = max(7, round(frame.shape[0] * LABEL_SIZE))
    return _band(frame, [AI_LABEL], size_px, below + max(2, size_px // 3), right_align=True)


def caption_height(frame_height: int, text: str, width: int) -> int:
    """How far down the action caption of `text` reaches, so the label can sit below it."""
    if not text.strip():
        return 0
    size_px = max(8, round(frame_height * CAPTION_SIZE))
    chars = max(12, int(width * 0.92 / (0.5 * size_px)))
    lines = min(CAPTION_LINES, len(textwrap.wrap(" ".join(text.split()), chars, break_on_hyphens=False)))
    return lines * (size_px + max(1, size_px // 5)) - max(1, size_px // 5) + 2 * max(2, size_px // 3)
