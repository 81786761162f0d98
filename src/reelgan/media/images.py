"""Still images and GIFs: tensors to uint8 pixels, grids, and PNG/GIF files that carry provenance.

Images here are numpy uint8 arrays, (H, W) or (H, W, C) with C in 1, 3, 4.
"""

from __future__ import annotations

import contextlib
import math
import os
import tempfile
from collections.abc import Iterator

import numpy as np
import torch
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from ..errors import ReelganError
from ..paths import temp_prefix
from ..provenance import check_record, record_json, xmp_packet

_MODES = {1: "L", 3: "RGB", 4: "RGBA"}


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str | None = None) -> Iterator[str]:
    """Yield a temp path in the target's folder; on success move it onto `path`, on error delete it.

    The temp name keeps `suffix` (default: the target's) so format-sniffing writers pick the
    right format. os.replace in the same folder is atomic, so readers never see half a file.
    """
    final = os.path.abspath(os.fspath(path))
    folder, name = os.path.split(final)
    os.makedirs(folder, exist_ok=True)  # the path was checked (reelgan.paths) before any work began
    suffix = os.path.splitext(name)[1] if suffix is None else suffix
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=temp_prefix(name), suffix=f".tmp{suffix}")
    os.close(fd)
    try:
        yield tmp
        # mkstemp (and some writers that recreate the file) make it private (0600); give it the mode a
        # plain open() would, once the writer is done.
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, final)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        raise


def _umask() -> int:
    """The process umask (reading it means setting it, so put it straight back)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def to_uint8(batch: torch.Tensor) -> np.ndarray:
    """(B, C, H, W) float in [-1, 1] -> (B, H, W, C) uint8; values are rounded and clamped."""
    if not isinstance(batch, torch.Tensor) or batch.ndim != 4:
        shape = tuple(batch.shape) if hasattr(batch, "shape") else type(batch).__name__
        raise ReelganError(
            f"expected a (B, C, H, W) tensor, got {shape}; add the missing batch/channel dims"
        )
    if not batch.is_floating_point():
        raise ReelganError(f"expected a float tensor in [-1, 1], got {batch.dtype}; convert with .float()")
    if batch.shape[1] not in _MODES:
        raise ReelganError(f"expected 1, 3 or 4 channels, got {batch.shape[1]}; pass gray, RGB or RGBA images")
    pixels = ((batch.detach().float().cpu() + 1.0) * 127.5).round().clamp(0, 255)
    return pixels.to(torch.uint8).permute(0, 2, 3, 1).contiguous().numpy()


def make_grid(batch: torch.Tensor, nrow: int | None = None, padding: int = 1) -> np.ndarray:
    """Tile a (B, C, H, W) batch in [-1, 1] into one (H', W', C) uint8 image.

    `nrow` is images per row (default ceil(sqrt(B))). Padding and empty cells are white
    (255 in every channel, so alpha is opaque).
    """
    images = to_uint8(batch)  # (B, H, W, C)
    count, height, width, channels = images.shape
    if count == 0:
        raise ReelganError("cannot make a grid of 0 images; pass at least one")
    if padding < 0:
        raise ReelganError(f"padding must be >= 0, got {padding}")
    cols = max(1, math.ceil(math.sqrt(count))) if nrow is None else int(nrow)
    if cols < 1:
        raise ReelganError(f"nrow must be >= 1, got {nrow}")
    cols = min(cols, count)
    rows = math.ceil(count / cols)
    step_y, step_x = height + padding, width + padding
    grid = np.full((rows * step_y + padding, cols * step_x + padding, channels), 255, dtype=np.uint8)
    for i in range(count):
        y, x = padding + (i // cols) * step_y, padding + (i % cols) * step_x
        grid[y : y + height, x : x + width] = images[i]
    return grid


def as_hwc(image: np.ndarray, what: str) -> np.ndarray:
    """Check one uint8 image and return it as (H, W, C) with C in 1, 3, 4."""
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8:
        dtype = getattr(image, "dtype", type(image).__name__)
        raise ReelganError(f"{what} must be a numpy uint8 array, got {dtype}; convert with media.to_uint8")
    if image.ndim == 2:
        image = image[:, :, None]
    if image.ndim != 3:
        raise ReelganError(f"{what} must be (H, W) or (H, W, C), got shape {image.shape}; drop extra dims")
    if image.shape[2] not in _MODES:
        raise ReelganError(f"{what} has {image.shape[2]} channels; use 1 (gray), 3 (RGB) or 4 (RGBA)")
    if image.shape[0] == 0 or image.shape[1] == 0:
        raise ReelganError(f"{what} is empty (shape {image.shape}); pass an image with pixels")
    return image


def _to_pil(image: np.ndarray) -> Image.Image:
    """(H, W, C) uint8 -> PIL image in mode L, RGB or RGBA (Pillow infers the mode from the shape)."""
    pixels = image[:, :, 0] if image.shape[2] == 1 else image
    return Image.fromarray(np.ascontiguousarray(pixels))


def save_png(path: str | os.PathLike, image: np.ndarray, record: dict) -> None:
    """Write `image` ((H, W) or (H, W, 1|3|4) uint8) as an L/RGB/RGBA PNG carrying `record`.

    The record goes in a "reelgan" text chunk (JSON) and as XMP in the standard
    "XML:com.adobe.xmp" iTXt chunk; "Software" names reelgan.
    """
    pil = _to_pil(as_hwc(image, "image"))
    check_record(record)
    info = PngInfo()
    info.add_text("reelgan", record_json(record))
    info.add_itxt("XML:com.adobe.xmp", xmp_packet(record), zip=False)
    info.add_text("Software", str(record.get("software", "reelgan")))
    with atomic_path(path, ".png") as tmp:
        pil.save(tmp, format="PNG", pnginfo=info)


def _gif_frame(frame: np.ndarray) -> Image.Image:
    """One (H, W, C) uint8 frame as a GIF-ready PIL image; alpha is composited on white."""
    if frame.shape[2] == 4:
        # GIF only has 1-bit transparency; a white matte matches the grid/video convention.
        frame = composite_on_white(frame)
    return _to_pil(frame)


def composite_on_white(rgba: np.ndarray) -> np.ndarray:
    """(H, W, 4) uint8 -> (H, W, 3) uint8, as if drawn over a white background."""
    alpha = rgba[:, :, 3:4].astype(np.float32) / 255.0
    rgb = rgba[:, :, :3].astype(np.float32) * alpha + 255.0 * (1.0 - alpha)
    return np.clip(np.rint(rgb), 0, 255).astype(np.uint8)


def save_gif(path: str | os.PathLike, frames: np.ndarray, fps: float, record: dict) -> None:
    """Write (T, H, W) or (T, H, W, C) uint8 frames as a looping GIF; the record is its comment (JSON).

    Note: Pillow merges identical consecutive frames into one longer frame.
    """
    if not isinstance(frames, np.ndarray) or frames.ndim not in (3, 4):
        shape = getattr(frames, "shape", type(frames).__name__)
        raise ReelganError(f"frames must be a (T, H, W) or (T, H, W, C) array, got {shape}")
    if len(frames) == 0:
        raise ReelganError("cannot write a GIF with 0 frames; pass at least one frame")
    if not (isinstance(fps, (int, float)) and math.isfinite(fps) and fps > 0):
        raise ReelganError(f"fps must be a positive number, got {fps!r}")
    check_record(record)
    pictures = [_gif_frame(as_hwc(frame, f"frame {i}")) for i, frame in enumerate(frames)]
    with atomic_path(path, ".gif") as tmp:
        pictures[0].save(
            tmp,
            format="GIF",
            save_all=True,
            append_images=pictures[1:],
            duration=max(10, round(1000 / fps)),  # ms; GIF stores centiseconds, players floor tiny delays
            loop=0,  # 0 = forever
            comment=record_json(record).encode("ascii"),
        )


def upscale(image: np.ndarray, size: int) -> np.ndarray:
    """Resize an (H, W) or (H, W, C) uint8 image so its longer side is `size` pixels (Lanczos).

    Generators often work at 32-64 px; sheets and videos are easier to look at larger.
    """
    image = as_hwc(image, "image")
    height, width = image.shape[:2]
    if size < 1:
        raise ReelganError(f"--size must be at least 1 pixel; got {size}")
    if max(height, width) == size:
        return image
    scale = size / max(height, width)
    new_size = (max(1, round(width * scale)), max(1, round(height * scale)))
    pil = Image.fromarray(image[..., 0] if image.shape[2] == 1 else image)
    resized = np.asarray(pil.resize(new_size, Image.Resampling.LANCZOS))
    return resized[..., None] if resized.ndim == 2 else resized
