"""Making each shot's visual from its cast entry: a generator's sample, a still, or a procedural glyph.

Everything is loaded and sampled before the first frame is written, so a bad still or checkpoint fails
the render before any output exists. Each visual comes with a part record for the authorship record:
who or what made it (the user, a generator with its hash and seed, or reelgan's procedural glyphs).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

from ..errors import ReelganError
from .cast import PROCEDURAL, Cast, CastEntry
from .plan import CREDITS, TITLE, Shot, scene_seed
from .visuals import KenBurns, LoopingClip, StillFrame, card, contain, cover, present_sample

CLIP_FPS = 8.0          # generated clips play at 8 frames a second, looping back and forth
MAX_STILL_PIXELS = 64_000_000


class Visual(Protocol):
    def frame(self, t: float) -> np.ndarray: ...


@dataclass
class Part:
    """Who made a shot's picture: `maker` is "person", "model", "algorithm" or "reelgan" (cards)."""

    maker: str
    what: str                       # "still", "generated image", "generated clip", "procedural glyph", "card"
    source: str = ""                # a file name, a generator's name
    generator_hash: str | None = None
    seed: int | None = None
    steered: dict | None = None     # viewer feedback changed this shot: its latent, what it was and why


def load_still(path: str) -> np.ndarray:
    """A user's still as (H, W, 3) uint8; ReelganError when it cannot be read."""
    try:
        with Image.open(path) as image:
            if image.width * image.height > MAX_STILL_PIXELS:
                raise ReelganError(f"still {path} is {image.width}x{image.height}, over 64 megapixels; scale it down")
            return np.asarray(image.convert("RGB"))
    except Image.DecompressionBombError:
        raise ReelganError(f"still {path} is over {MAX_STILL_PIXELS // 1_000_000} megapixels (Pillow refuses it as "
                           "a possible decompression bomb); scale it down") from None
    except PermissionError:
        raise ReelganError(f"still {path} cannot be read (permission denied); check its permissions") from None
    except (UnidentifiedImageError, OSError, ValueError):
        raise ReelganError(f"still {path} cannot be read as an image; re-export it as PNG or JPEG") from None


class VisualFactory:
    """Builds visuals for shots, loading each generator and still once."""

    def __init__(self, cast: Cast, size: tuple[int, int], device: str = "cpu", hold: bool = False) -> None:
        self.cast, self.size, self.device, self.hold = cast, size, device, hold
        self.generators: dict[str, object] = {}
        self.stills: dict[str, np.ndarray] = {}

    def check(self) -> None:
        """Load every generator and still the cast names (errors before anything is rendered)."""
        for entry in [self.cast.default, *self.cast.scenes.values()]:
            if entry.kind == "still":
                self._still(entry.source)
            elif entry.kind == "generator":
                self._generator(entry)

    def _still(self, path: str) -> np.ndarray:
        if path not in self.stills:
            self.stills[path] = load_still(path)
        return self.stills[path]

    def _generator(self, entry: CastEntry):
        if entry.source not in self.generators:
            from ..gan.generator import load_generator

            generator = load_generator(entry.source, self.device)
            if entry.class_name is not None:
                generator.class_index(entry.class_name)  # an unknown class fails now
            self.generators[entry.source] = generator
        return self.generators[entry.source]

    def visual(self, shot: Shot, credits: list[str], steer=None) -> tuple[Visual, Part]:
        """The visual of one shot and who made it; `steer` (a `feedback.Steer`) replaces a generated shot's
        seed by the latent viewer feedback chose."""
        if shot.kind == TITLE:
            small = f"Scene {shot.scene}" if shot.scene else None  # the opening (scene 0) has no number
            return StillFrame(card(self.size, [shot.heading], small=small)), Part("reelgan", "card")
        if shot.kind == CREDITS:
            return StillFrame(card(self.size, credits)), Part("reelgan", "card")
        entry = self.cast.for_scene(shot.scene)
        if entry.kind == "still":
            picture = cover(self._still(entry.source), self.size)
            return KenBurns(picture, shot.duration, shot.seed), Part("person", "still", Path(entry.source).name)
        if entry.kind == PROCEDURAL:
            return self._procedural(shot)
        return self._generated(shot, entry, steer)

    def _procedural(self, shot: Shot) -> tuple[Visual, Part]:
        """The logogram of the shot's own words (its action, else its dialogue), so a scene's shots differ;
        with `hold`, of the scene heading for every shot of the scene."""
        from ..glyphs.phrase import MAX_WORDS, render_phrase

        said = " ".join(s.text for s in shot.subtitles)
        text = shot.heading if self.hold else (shot.action or said or shot.heading)
        words = [w for w in text.replace("-", " ").split() if any(c.isalnum() for c in w)]
        phrase = " ".join(words[:MAX_WORDS])[:200] or "scene"
        glyph = render_phrase(phrase, min(1024, max(64, self.size[1])))
        picture = contain(glyph, self.size, fill=0.8)
        return KenBurns(picture, shot.duration, shot.seed), Part("algorithm", "procedural glyph", phrase)

    def _generated(self, shot: Shot, entry: CastEntry, steer=None) -> tuple[Visual, Part]:
        from ..media.images import to_uint8

        generator = self._generator(entry)
        if steer is None:
            seed = scene_seed(shot.scene, shot.heading) + 1 if self.hold else shot.seed  # hold: the first shot's
            sample = generator.sample(1, seed=seed, truncation=entry.truncation, class_name=entry.class_name)
            steered = None
        else:
            labels = None if steer.label is None else torch.tensor([steer.label])
            sample = generator(steer.latent[None], labels)
            seed = None
            steered = {"by": "viewer feedback", "was_seed": steer.was_seed, "reason": steer.reason,
                       "p_liked": steer.p_liked, "latent": [float(v) for v in steer.latent.tolist()],
                       "label": steer.label}
        name = Path(entry.source).name
        if generator.is_video:
            clip = sample[0].permute(1, 0, 2, 3)                    # (C, T, H, W) -> (T, C, H, W)
            frames = [present_sample(f, self.size) for f in to_uint8(clip)]
            return LoopingClip(frames, CLIP_FPS), Part("model", "generated clip", name, generator.hash, seed, steered)
        picture = present_sample(to_uint8(sample)[0], self.size)
        return KenBurns(picture, shot.duration, shot.seed), Part("model", "generated image", name, generator.hash,
                                                                seed, steered)
