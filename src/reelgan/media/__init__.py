"""Writing generated media (PNG, GIF, MP4), each file labelled AI-generated in its metadata."""

from ..media.images import (
    atomic_path,
    composite_on_white,
    make_grid,
    save_gif,
    save_png,
    to_uint8,
    upscale,
)
from ..media.video import h264_encoder, read_video_frames, save_mp4

__all__ = [
    "atomic_path",
    "composite_on_white",
    "h264_encoder",
    "make_grid",
    "read_video_frames",
    "save_gif",
    "save_mp4",
    "save_png",
    "to_uint8",
    "upscale",
]
