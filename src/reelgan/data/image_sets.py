"""Image datasets from a folder, a .zip of images, or a .npy/.npz array.

Every image is converted to the requested channel count, resized so its short side matches the training
resolution, centre-cropped to a square, and stored as uint8 `(C, H, W)`. Items come out as float tensors in
[-1, 1]. Files that cannot be decoded are skipped and counted (`ImageDataset.skipped`).
"""

from __future__ import annotations

import io
import logging
import os
import zipfile
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Callable

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

from ..errors import ReelganError
from ..paths import IMAGE_SUFFIXES
from .base import Dataset

log = logging.getLogger("reelgan")

ARRAY_SUFFIXES = (".npy", ".npz")
# What Pillow and zipfile raise for a damaged or non-image file.
DECODE_ERRORS = (UnidentifiedImageError, OSError, ValueError, SyntaxError, zipfile.BadZipFile, EOFError,
                 Image.DecompressionBombError)  # the last: an image over Pillow's size limit (~179 Mpx)
# Pillow refuses to decode images over 2 * Image.MAX_IMAGE_PIXELS (a decompression-bomb guard); this
# environment variable sets Image.MAX_IMAGE_PIXELS for people whose stills really are that large.
PIXEL_LIMIT_VARIABLE = "REELGAN_MAX_IMAGE_PIXELS"
if os.environ.get(PIXEL_LIMIT_VARIABLE, "").isdigit():
    Image.MAX_IMAGE_PIXELS = int(os.environ[PIXEL_LIMIT_VARIABLE])
# Above this many decoded bytes the images are decoded on access instead of held in memory.
MAX_CACHE_BYTES = 4 * 1024**3


@dataclass(frozen=True)
class ImageSource:
    """One image: a name relative to the dataset root, and a way to read its bytes."""

    name: str                        # POSIX path relative to the root, e.g. "cats/001.png"
    read: Callable[[], bytes | np.ndarray]


def to_pil(data: bytes | np.ndarray) -> Image.Image:
    """Decode file bytes (first frame of an animation) or wrap an (H, W[, C]) uint8 array."""
    if isinstance(data, np.ndarray):
        return Image.fromarray(data)
    image = Image.open(io.BytesIO(data))
    image.seek(0)  # GIF and other animations: the first frame
    image.load()
    return image


def convert_channels(image: Image.Image, channels: int) -> Image.Image:
    """Convert to L (1), RGB (3) or RGBA (4); transparent areas become white when alpha is dropped."""
    has_alpha = image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)
    if channels == 4:
        return image.convert("RGBA")
    if has_alpha:
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(white, rgba)
    return image.convert("L" if channels == 1 else "RGB")


def resize_center_crop(image: Image.Image, resolution: int) -> Image.Image:
    """Scale so the short side is `resolution` pixels, then crop the centre square."""
    width, height = image.size
    scale = resolution / min(width, height)
    new_size = (max(resolution, round(width * scale)), max(resolution, round(height * scale)))
    if new_size != image.size:
        image = image.resize(new_size, Image.Resampling.LANCZOS, reducing_gap=3.0)
    left = (new_size[0] - resolution) // 2
    top = (new_size[1] - resolution) // 2
    return image.crop((left, top, left + resolution, top + resolution))


def border_colour(image: Image.Image) -> tuple[int, ...] | int:
    """The median colour of an image's outermost pixels: the paper or background to pad with."""
    pixels = np.asarray(image)
    if pixels.ndim == 2:
        pixels = pixels[:, :, None]
    edge = np.concatenate([pixels[0], pixels[-1], pixels[:, 0], pixels[:, -1]])  # (perimeter, C)
    colour = tuple(int(v) for v in np.median(edge, axis=0))
    return colour[0] if len(colour) == 1 else colour


def pad_to_square(image: Image.Image, resolution: int) -> Image.Image:
    """Shrink so the long side fits `resolution` (never enlarge), then pad to a centred square with the border
    colour: small images keep their pixels exactly (no upsampling blur), non-square ones are not cropped."""
    width, height = image.size
    if max(width, height) > resolution:
        scale = resolution / max(width, height)
        image = image.resize((max(1, round(width * scale)), max(1, round(height * scale))),
                             Image.Resampling.LANCZOS, reducing_gap=3.0)
        width, height = image.size
    canvas = Image.new(image.mode, (resolution, resolution), border_colour(image))
    canvas.paste(image, ((resolution - width) // 2, (resolution - height) // 2))
    return canvas


def fit_image(image: Image.Image, resolution: int, fit: str = "crop") -> Image.Image:
    """`image` as a `resolution` square: crop (scale the short side, crop the centre), pad (see
    `pad_to_square`) or resize (scale both sides, changing the aspect ratio if it is not square)."""
    if fit == "pad":
        return pad_to_square(image, resolution)
    if fit == "resize":
        if image.size == (resolution, resolution):
            return image
        return image.resize((resolution, resolution), Image.Resampling.LANCZOS, reducing_gap=3.0)
    return resize_center_crop(image, resolution)


def prepare_image(data: bytes | np.ndarray, resolution: int, channels: int, fit: str = "crop") -> np.ndarray:
    """Decode, convert and fit (`fit_image`) one image: returns uint8 `(C, H, W)`."""
    image = fit_image(convert_channels(to_pil(data), channels), resolution, fit)
    array = np.asarray(image, dtype=np.uint8)
    if array.ndim == 2:
        array = array[:, :, None]
    return np.ascontiguousarray(array.transpose(2, 0, 1))  # (H, W, C) -> (C, H, W)


def _common_root(names: list[str], depth: int = 1) -> PurePosixPath:
    """The folders every file of a zip shares (its top folder), kept only while every file still has
    `depth` class folders below them: `set/cats/1.png, set/dogs/2.png` -> `set`, but `cats/1.png` alone ->
    nothing."""
    parents = [PurePosixPath(name).parent.parts for name in names]
    common: list[str] = []
    for level in zip(*parents):
        if len(set(level)) != 1:
            break
        common.append(level[0])
    while common and min(len(p) for p in parents) < len(common) + depth:
        common.pop()  # stripping this much would leave some file without its class folders
    return PurePosixPath(*common)


def label_names(names: list[str], strip_common_root: bool = False, depth: int = 1) -> list[str]:
    """Class of each file: its first `depth` subfolders (below a zip's common top folder), joined by '/'.

    Depth 1 on Omniglot-style `alphabet/character/*.png` gives alphabets; depth 2 gives characters
    (`Futurama/character01`).
    """
    root = _common_root(names, depth) if strip_common_root else PurePosixPath()
    labels = []
    for name in names:
        parts = PurePosixPath(name).relative_to(root).parts
        if len(parts) < depth + 1:
            raise ReelganError(
                f"--cond with --class-depth {depth} needs every image {depth} class folder(s) deep, but {name} "
                "is not; move it, lower --class-depth, or drop --cond"
            )
        labels.append("/".join(parts[:depth]))
    counts = Counter(labels)
    lonely = sorted(label for label, count in counts.items() if count == 1)
    if lonely:  # documented behaviour: trained anyway, but such a class can only be copied
        log.warning("%d class(es) have a single image (%s); the generator can only copy it for those classes",
                    len(lonely), ", ".join(lonely[:3]) + (", ..." if len(lonely) > 3 else ""))
    return labels


def _folder_sources(root: Path) -> list[ImageSource]:
    if not os.access(root, os.R_OK | os.X_OK):
        raise ReelganError(f"folder {root} cannot be read (permission denied); check its permissions")
    files = sorted(p for p in root.rglob("*") if p.is_file() and not p.name.startswith("."))
    if not files:
        raise ReelganError(f"folder {root} is empty; put training images in it (PNG, JPEG, WebP, BMP, GIF)")
    images = [p for p in files if p.suffix.lower() in IMAGE_SUFFIXES]
    if not images:
        raise ReelganError(
            f"folder {root} has no images ({len(files)} other files); add PNG, JPEG, WebP, BMP or GIF files"
        )
    return [ImageSource(p.relative_to(root).as_posix(), p.read_bytes) for p in images]


class ZipMemberReader:
    """Reads one member of a zip; picklable, and opens the archive once per process (DataLoader workers)."""

    _open: dict[tuple[int, str], zipfile.ZipFile] = {}

    def __init__(self, archive: Path, member: str) -> None:
        self.archive, self.member = archive, member

    def __call__(self) -> bytes:
        key = (os.getpid(), str(self.archive))
        if key not in self._open:
            self._open[key] = zipfile.ZipFile(self.archive)
        return self._open[key].read(self.member)


class ArrayItemReader:
    """Item `index` of an in-memory image array; picklable (the array pickles once per dataset)."""

    def __init__(self, images: np.ndarray, index: int) -> None:
        self.images, self.index = images, index

    def __call__(self) -> np.ndarray:
        return self.images[self.index]


def _zip_sources(path: Path) -> list[ImageSource]:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise ReelganError(f"{path} is not a readable zip file ({exc}); check the file") from None
    with archive:
        members = _zip_image_members(archive)
    if not members:
        raise ReelganError(f"zip file {path} holds no images; add PNG, JPEG, WebP, BMP or GIF files")
    return [ImageSource(m, ZipMemberReader(path, m)) for m in members]


def _zip_image_members(archive: zipfile.ZipFile) -> list[str]:
    """Image files of a zip, sorted, without folders, macOS resource forks and hidden files."""
    return sorted(
        info.filename for info in archive.infolist()
        if not info.is_dir() and PurePosixPath(info.filename).suffix.lower() in IMAGE_SUFFIXES
        and not info.filename.startswith("__MACOSX/")
        and not PurePosixPath(info.filename).name.startswith(".")
    )


def _array_sources(path: Path, cond: bool) -> tuple[list[ImageSource], list[str] | None]:
    """Images (and optional integer labels) from a .npy or .npz array."""
    try:
        loaded = np.load(path, allow_pickle=False)
    except (ValueError, OSError) as exc:
        raise ReelganError(f"{path} is not a readable NumPy file ({exc}); check the file") from None
    labels = None
    if isinstance(loaded, np.lib.npyio.NpzFile):
        keys = list(loaded.keys())
        key = next((k for k in ("images", "x", "arr_0") if k in keys), keys[0] if keys else None)
        if key is None:
            raise ReelganError(f"{path} holds no arrays; save the images as 'images' in the .npz")
        array = loaded[key]
        label_key = next((k for k in ("labels", "y") if k in keys), None)
        if label_key is not None and cond:  # labels make a conditional model only when asked for
            labels = [str(v) for v in loaded[label_key].tolist()]
            if len(labels) != len(array):
                raise ReelganError(
                    f"{path} has {len(array)} images but {len(labels)} labels; save one label per image"
                )
    else:
        array = loaded
    if cond and labels is None:
        raise ReelganError(f"--cond needs labels, but {path} has none; save them as 'labels' in a .npz")
    images = _array_to_hwc_uint8(array, path)
    sources = [ImageSource(f"{i:08d}", ArrayItemReader(images, i)) for i in range(len(images))]
    return sources, labels


def _array_to_hwc_uint8(array: np.ndarray, path: Path) -> np.ndarray:
    """(N, H, W), (N, H, W, C) or (N, C, H, W), uint8 or float, -> (N, H, W[, C]) uint8."""
    if array.dtype.kind not in "biuf":
        raise ReelganError(f"{path} holds {array.dtype} values, not pixels; save the images as uint8 (0-255) or "
                           "float (0-1 or -1..1) numbers")
    if array.ndim == 3:
        pass
    elif array.ndim == 4 and array.shape[1] in (1, 3, 4) and array.shape[3] not in (1, 3, 4):
        array = array.transpose(0, 2, 3, 1)  # (N, C, H, W) -> (N, H, W, C)
    elif array.ndim != 4:
        raise ReelganError(
            f"{path} has shape {array.shape}; expected (N, H, W), (N, H, W, C) or (N, C, H, W)"
        )
    if array.ndim == 4 and array.shape[3] == 1:
        array = array[..., 0]
    if array.size == 0:
        raise ReelganError(f"{path} holds no pixels (its shape is {array.shape}); save at least one image of at "
                           "least 1x1 pixels")
    if array.dtype != np.uint8:
        array = array.astype(np.float64)
        if not np.isfinite(array).all():
            bad = int((~np.isfinite(array)).reshape(len(array), -1).any(axis=1).sum())
            raise ReelganError(f"{path} has NaN or infinite pixels in {bad} of its {len(array)} images; replace "
                               "them (e.g. numpy.nan_to_num) or drop those images")
        low, high = float(array.min()), float(array.max())
        if low >= -1.0 and high <= 1.0:
            array = (array + 1.0) * 127.5 if low < 0 else array * 255.0  # [-1, 1] or [0, 1]
        array = np.clip(np.rint(array), 0, 255).astype(np.uint8)
    return array


def find_sources(path: Path, cond: bool, class_depth: int = 1) -> tuple[list[ImageSource], list[str] | None]:
    """List the images at `path` (folder, zip, npy/npz) and, with `cond`, their class names."""
    if not path.exists():
        raise ReelganError(f"data path {path} does not exist; give a folder, .zip, .npy/.npz or 'logograms'")
    if path.is_dir():
        sources = _folder_sources(path)
    elif path.suffix.lower() == ".zip":
        sources = _zip_sources(path)
    elif path.suffix.lower() in ARRAY_SUFFIXES:
        return _array_sources(path, cond)
    else:
        raise ReelganError(f"{path} is not a folder, .zip, .npy or .npz; give one of those")
    is_zip = path.suffix.lower() == ".zip"
    return sources, (label_names([s.name for s in sources], is_zip, class_depth) if cond else None)


class ImageDataset(Dataset):
    """Images prepared to `(C, resolution, resolution)`, as float tensors in [-1, 1] with an int label.

    Small sets are decoded once and held in memory as uint8; larger ones are decoded on access.
    """

    def __init__(self, path: str | Path, resolution: int, channels: int, cond: bool = False,
                 max_images: int = 0, xflip: bool = False, class_depth: int = 1, fit: str = "crop") -> None:
        self.path = Path(path)
        self.resolution, self.channels, self.xflip, self.fit = resolution, channels, xflip, fit
        self.sizes: Counter[tuple[int, int]] = Counter()  # (width, height) of the images read -> count
        sources, names = find_sources(self.path, cond, class_depth)
        if max_images:
            sources, names = sources[:max_images], (names[:max_images] if names else None)
        self.class_names: list[str] = sorted(set(names)) if names else []
        labels = [self.class_names.index(n) for n in names] if names else [0] * len(sources)
        bytes_needed = len(sources) * channels * resolution * resolution
        self.cached = bytes_needed <= MAX_CACHE_BYTES
        self.sources, self.labels, self.images, self.skipped = self._scan(sources, labels)
        self.raw_count = len(self.sources)
        if not self.sources:
            raise ReelganError(f"none of the {self.skipped} image files in {self.path} could be used: "
                               f"{self._skip_summary()}")
        if self.skipped:
            log.warning("skipped %d image file(s) in %s: %s", self.skipped, self.path, self._skip_summary())

    def _scan(self, sources: list[ImageSource], labels: list[int]):
        """Decode (cached mode) or verify (lazy mode) each file, dropping unreadable ones (counted by reason)."""
        def check(source: ImageSource) -> tuple[np.ndarray | bool | str, tuple[int, int] | None]:
            """(the prepared image, True in lazy mode, or why it failed; its original width and height)."""
            try:
                data = source.read()
                if isinstance(data, np.ndarray):
                    size = (data.shape[1], data.shape[0])
                else:
                    with Image.open(io.BytesIO(data)) as header:
                        size = header.size
                if self.cached:
                    return prepare_image(data, self.resolution, self.channels, self.fit), size
                if not isinstance(data, np.ndarray):
                    Image.open(io.BytesIO(data)).verify()
                return True, size
            except Image.DecompressionBombError:
                return "over the pixel limit", None
            except PermissionError:
                return "permission denied", None
            except DECODE_ERRORS:
                return "not a readable image", None

        with ThreadPoolExecutor(max_workers=4) as pool:
            checked = list(pool.map(check, sources))
        results = [result for result, _ in checked]
        self.sizes = Counter(size for _, size in checked if size is not None)
        keep = [i for i, r in enumerate(results) if not isinstance(r, str)]
        self.skip_reasons = Counter(r for r in results if isinstance(r, str))
        images = np.stack([results[i] for i in keep]) if self.cached and keep else None  # (N, C, H, W)
        return ([sources[i] for i in keep], torch.tensor([labels[i] for i in keep], dtype=torch.long),
                images, len(sources) - len(keep))

    def _skip_summary(self) -> str:
        """'2 over the pixel limit, 1 not a readable image', with the fix for the pixel limit."""
        text = ", ".join(f"{count} {reason}" for reason, count in self.skip_reasons.most_common())
        if "over the pixel limit" in self.skip_reasons:
            text += (f" (Pillow refuses images over {2 * Image.MAX_IMAGE_PIXELS:,} pixels as a decompression-bomb "
                     f"guard; scale them down, or raise it with {PIXEL_LIMIT_VARIABLE}=N, which allows 2N pixels)")
        if "permission denied" in self.skip_reasons:
            text += " (check the files' permissions)"
        return text

    def _decode(self, source: ImageSource) -> np.ndarray:
        """Decode one file on access (large sets); a file that fails now is named in a clear error."""
        try:
            return prepare_image(source.read(), self.resolution, self.channels, self.fit)
        except DECODE_ERRORS as exc:
            raise ReelganError(
                f"image {source.name} in {self.path} passed the header check but cannot be decoded ({exc}); "
                "remove or re-save it and train again (a run that saved a checkpoint continues with --resume)"
            ) from None

    def describe(self) -> str:
        """What was found and done, for the start of a run: images, skipped, sizes and how they were fitted."""
        total = sum(self.sizes.values())
        small = sum(n for (w, h), n in self.sizes.items() if min(w, h) < self.resolution)
        oblong = sum(n for (w, h), n in self.sizes.items() if w != h)
        (width, height), _ = self.sizes.most_common(1)[0] if self.sizes else ((0, 0), 0)
        parts = [f"{len(self.sources)} images from {self.path} (most {width}x{height} px)"]
        if self.skipped:
            parts.append(f"skipped {self.skipped}: {self._skip_summary()}")
        if small or oblong:
            done = {"crop": "scaled so the short side fits, centre cropped", "pad": "padded with their border colour",
                    "resize": "scaled to the square"}[self.fit]
            parts.append(f"{small} of {total} smaller than {self.resolution} px and {oblong} not square: {done} "
                         f"(--fit {self.fit}; --fit crop|pad|resize)")
        if self.class_names:
            counts = Counter(self.labels.tolist())
            shown = ", ".join(f"{name} {counts[i]}" for i, name in enumerate(self.class_names[:6]))
            more = f", ... ({len(self.class_names)} classes)" if len(self.class_names) > 6 else ""
            parts.append(f"classes: {shown}{more}")
        return "; ".join(parts)

    def raw_item(self, index: int) -> np.ndarray:
        """uint8 `(C, H, W)` of image `index`: from memory, or decoded now for large sets."""
        return self.images[index] if self.images is not None else self._decode(self.sources[index])
