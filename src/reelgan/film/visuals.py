"""Pictures for shots: camera moves on stills ("Ken Burns"), looping clips, title and credits cards.

A visual answers `frame(t)`: the (H, W, 3) uint8 RGB picture `t` seconds into its shot. Times outside
the shot are clamped, so a cross-fade can ask for a frame just before or after it.
"""

from __future__ import annotations

import random
import textwrap

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from ..media.images import as_hwc, composite_on_white

PAN_ZOOM = 1.15        # the camera move's largest zoom (1 = the whole picture)
INK = (236, 236, 236)  # text colour on cards
CARD = (12, 12, 14)    # card background


def font(size: int) -> ImageFont.ImageFont:
    """Pillow's bundled scalable font at `size` px (no system fonts needed)."""
    return ImageFont.load_default(size=size)


def to_rgb(image: np.ndarray) -> np.ndarray:
    """(H, W), (H, W, 1|3|4) uint8 as (H, W, 3) RGB; alpha is composited on white."""
    image = as_hwc(image, "image")
    if image.shape[2] == 4:
        image = composite_on_white(image)
    if image.shape[2] == 1:
        image = np.repeat(image, 3, axis=2)
    return np.ascontiguousarray(image[..., :3])


def contain(image: np.ndarray, size: tuple[int, int], fill: float = 1.0) -> np.ndarray:
    """`image` scaled to fit `fill` of the (width, height) frame, centred on its own edge colour."""
    image = to_rgb(image)
    width, height = size
    edge = np.concatenate([image[0], image[-1], image[:, 0], image[:, -1]])
    background = tuple(int(v) for v in np.median(edge, axis=0))
    scale = fill * min(width / image.shape[1], height / image.shape[0])
    inner = (max(1, round(image.shape[1] * scale)), max(1, round(image.shape[0] * scale)))
    picture = Image.fromarray(image).resize(inner, Image.Resampling.LANCZOS)
    canvas = Image.new("RGB", size, background)
    canvas.paste(picture, ((width - inner[0]) // 2, (height - inner[1]) // 2))
    return np.asarray(canvas)


INK_EDGE = (0.35, 0.65)  # grey levels (0-1) between which an upscaled sample's ink edge is redrawn


def present_sample(image: np.ndarray, size: tuple[int, int], fill: float = 0.85) -> np.ndarray:
    """A generator's small sample (say 32 px) enlarged for a frame without smearing it: Lanczos up, then for
    grey samples (ink on paper) the soft edge is steepened back into a crisp one (grey levels between
    INK_EDGE ramp over a short distance, paper and ink stay flat), and colour ones get an unsharp mask sized
    to the enlargement."""
    from PIL import ImageFilter

    grey = image.ndim == 2 or image.shape[2] == 1
    picture = contain(image, size, fill)
    if grey:
        low, high = INK_EDGE
        v = np.clip((picture.astype(np.float32) / 255 - low) / (high - low), 0, 1)
        v = v * v * (3 - 2 * v)  # smoothstep: a sharp edge that is still antialiased
        return (v * 255).round().astype(np.uint8)
    scale = fill * min(size[0] / image.shape[1], size[1] / image.shape[0])
    radius = max(1.0, scale / 3)
    return np.asarray(Image.fromarray(picture).filter(ImageFilter.UnsharpMask(radius=radius, percent=120,
                                                                               threshold=2)))


def cover(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """`image` scaled to fill the (width, height) frame, the overflow cropped evenly."""
    picture = Image.fromarray(to_rgb(image))
    width, height = size
    scale = max(width / picture.width, height / picture.height)
    scaled = picture.resize((max(width, round(picture.width * scale)), max(height, round(picture.height * scale))),
                            Image.Resampling.LANCZOS)
    left, top = (scaled.width - width) // 2, (scaled.height - height) // 2
    return np.asarray(scaled.crop((left, top, left + width, top + height)))


class KenBurns:
    """A slow zoom and pan across a picture that already has the frame's shape, drawn from `seed`."""

    def __init__(self, picture: np.ndarray, duration: float, seed: int) -> None:
        self.image = Image.fromarray(to_rgb(picture))
        self.duration = max(duration, 1e-6)
        rng = random.Random(seed)
        zooms = (1.0, rng.uniform(1.08, PAN_ZOOM))
        self.zoom_from, self.zoom_to = zooms if rng.random() < 0.5 else zooms[::-1]
        self.centre_from = (rng.uniform(0.4, 0.6), rng.uniform(0.4, 0.6))
        self.centre_to = (rng.uniform(0.4, 0.6), rng.uniform(0.4, 0.6))

    def frame(self, t: float) -> np.ndarray:
        """The picture `t` seconds in: a window of 1/zoom of it, moving between the two centres."""
        u = min(max(t / self.duration, 0.0), 1.0)
        u = u * u * (3 - 2 * u)  # ease in and out
        zoom = self.zoom_from + (self.zoom_to - self.zoom_from) * u
        width, height = self.image.size
        box_w, box_h = width / zoom, height / zoom
        cx = (self.centre_from[0] + (self.centre_to[0] - self.centre_from[0]) * u) * width
        cy = (self.centre_from[1] + (self.centre_to[1] - self.centre_from[1]) * u) * height
        left = min(max(cx - box_w / 2, 0.0), width - box_w)
        top = min(max(cy - box_h / 2, 0.0), height - box_h)
        box = (left, top, left + box_w, top + box_h)
        return np.asarray(self.image.resize((width, height), Image.Resampling.BILINEAR, box=box))


class LoopingClip:
    """A generated clip played at `clip_fps`, forwards then backwards, for as long as the shot lasts."""

    def __init__(self, frames: list[np.ndarray], clip_fps: float) -> None:
        self.frames = [to_rgb(f) for f in frames]
        self.clip_fps = clip_fps
        cycle = list(range(len(frames))) + list(range(len(frames) - 2, 0, -1))
        self.cycle = cycle or [0]

    def frame(self, t: float) -> np.ndarray:
        """The clip frame shown `t` seconds in."""
        step = int(max(t, 0.0) * self.clip_fps)
        return self.frames[self.cycle[step % len(self.cycle)]]


class StillFrame:
    """One unchanging picture (cards)."""

    def __init__(self, picture: np.ndarray) -> None:
        self.picture = to_rgb(picture)

    def frame(self, t: float) -> np.ndarray:
        """The same picture at every time."""
        return self.picture


def card(size: tuple[int, int], lines: list[str], small: str | None = None) -> np.ndarray:
    """A dark card with centred text lines (the first one larger) and an optional small line above them."""
    width, height = size
    canvas = Image.new("RGB", size, CARD)
    draw = ImageDraw.Draw(canvas)
    big, regular = max(12, height // 12), max(10, height // 20)
    wrapped: list[tuple[str, int]] = []
    if small:
        wrapped.append((small, regular))
    for index, line in enumerate(lines):
        size_px = big if index == 0 else regular
        chars = max(10, int(width * 0.85 / (0.55 * size_px)))
        wrapped += [(part, size_px) for part in (textwrap.wrap(line, chars) or [""])]
    total = sum(int(s * 1.35) for _, s in wrapped)
    y = (height - total) // 2
    for text, size_px in wrapped:
        face = font(size_px)
        text_width = draw.textlength(text, font=face)
        draw.text(((width - text_width) / 2, y), text, fill=INK, font=face)
        y += int(size_px * 1.35)
    return np.asarray(canvas)
