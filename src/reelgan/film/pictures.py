"""Each shot's picture at each film frame, drawn and marked once however many files use it.

The film shows a shot's picture under dissolves, subtitles and captions; the shot's own file (`--shots`)
shows it clean. Both take it from here, so a frame is drawn by its visual and watermarked (when the shot is
model-made) once, and only the frames still in use are held.
"""

from __future__ import annotations

import numpy as np

from ..provenance.watermark import embed
from .types import Film
from .visuals import LoopingClip

MARKED_CLIP_FRAMES = 64  # marked clip frames kept for reuse (two shots' clips at a dissolve; 90 MB at 640x360)


class ShotPictures:
    """Each shot's clean picture at a film frame (no dissolve, subtitle or caption), watermarked when the shot
    is model-made, drawn and marked once however many files use it (the film, the dissolve, the shot's own
    file). Held are only the frames still in use: `forget_before(index)` drops the older ones."""

    def __init__(self, film: Film, watermark_bits: np.ndarray | None = None) -> None:
        self.film, self.bits = film, watermark_bits
        self.held: dict[tuple[int, int], np.ndarray] = {}
        # A clip's visual hands back the same array each time a frame repeats (it loops at CLIP_FPS): its
        # frames are marked once, by shot and identity. The source array is kept beside its marked copy, so
        # the id stays valid. Only clips: a panned still makes a new array every frame, never seen again.
        self.marked: dict[tuple[int, int], tuple[np.ndarray, np.ndarray]] = {}

    def at(self, shot: int, index: int) -> np.ndarray:
        """(H, W, 3) uint8: shot `shot`'s picture at the middle of film frame `index` (the visual clamps times
        outside the shot, which the shot files' handles use)."""
        key = (shot, index)
        if key not in self.held:
            t = (index + 0.5) / self.film.options.fps - self.film.shots[shot].start
            self.held[key] = self._mark(shot, self.film.visuals[shot].frame(t))
        return self.held[key]

    def _mark(self, shot: int, picture: np.ndarray) -> np.ndarray:
        if self.bits is None or self.film.parts[shot].maker != "model":
            return picture
        if not isinstance(self.film.visuals[shot], LoopingClip):
            return embed(picture, self.bits)
        key = (shot, id(picture))
        if key not in self.marked or self.marked[key][0] is not picture:
            if len(self.marked) >= MARKED_CLIP_FRAMES:  # another shot's clip, or a long one: start again
                self.marked.clear()
            self.marked[key] = (picture, embed(picture, self.bits))
        return self.marked[key][1]

    def forget_before(self, index: int) -> None:
        """Drop the pictures of film frames before `index`."""
        for key in [k for k in self.held if k[1] < index]:
            del self.held[key]
