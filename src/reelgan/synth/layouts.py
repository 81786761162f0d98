"""The three ways an export lies on disk, each written one unit (a shard, or a batch of files) at a time.

- imagefolder: `DIR/CLASS/000123.png` (unconditional: `DIR/samples/000123.png`), as torchvision's
  `ImageFolder` and `reelgan train --cond` read it; the number is the image's number within its class.
- npz: `DIR/part-00000.npz` with `images` uint8 `(N, H, W, C)`, `labels` int64 `(N,)` (-1 when unconditional),
  `class_names`, `seeds` and `records` (each image's provenance record as JSON, since an array cannot carry
  PNG metadata). A .npz cannot be appended to, so each part holds at most `--shard-size` images.
- webdataset: `DIR/shard-00000.tar` with `000123.png`, `000123.cls` (conditional) and `000123.json` per
  sample; the key is the image's number in the whole export.
- Clip generators: `mp4` (`DIR/samples/000123.mp4`, H.264 at `--fps`), `frames` (`DIR/samples/000123/`
  holding `frame-000.png`, ... : what frame-based video loaders read) or `npz` (`images` `(N, T, H, W, C)`).

Every file is written to a temp name and renamed into place; PNGs carry the AI record either way.
"""

from __future__ import annotations

import io
import json
import shutil
import tarfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ReelganError
from ..media import atomic_path, save_png
from ..paths import temp_name, temp_prefix
from .plan import NO_CLASS, UNCONDITIONAL_FOLDER, Plan

# A fixed time stamp for archive members, so the same export gives the same bytes (zip's earliest date).
ZIP_TIME = (1980, 1, 1, 0, 0, 0)


@dataclass
class Sample:
    """One generated image, ready to write."""

    index: int               # its number in the whole export
    class_index: int         # NO_CLASS when the generator is unconditional
    class_name: str | None
    k: int                   # its number within its class
    seed: int                # the latent's seed (reelgan generate --seed SEED --n 1 makes it again)
    image: np.ndarray        # (H, W, C) uint8; a clip: (T, H, W, C)
    record: dict[str, Any]   # the provenance record (make_record)


def digits(total: int) -> int:
    """Digits of the zero-padded numbers in file names: 6, or more for a larger export."""
    return max(6, len(str(max(total - 1, 0))))


def class_folder(plan: Plan, class_index: int) -> str:
    """The imagefolder sub-folder of a class; a name that is not a safe relative path is a ReelganError."""
    if class_index == NO_CLASS:
        return UNCONDITIONAL_FOLDER
    name = plan.class_names[class_index]
    parts = name.split("/")
    if any(part in ("", ".", "..") or part.startswith(".") or "\\" in part for part in parts):
        raise ReelganError(f"the class name {name!r} cannot be a folder name; use --layout npz or webdataset")
    return name


class ImageFolderWriter:
    """`DIR/CLASS/000123.png`, one file per image (a unit is a batch of files)."""

    def __init__(self, out: Path, plan: Plan) -> None:
        self.out, self.plan, self.width = out, plan, digits(plan.total)
        self.folders = {c: class_folder(plan, c) for c in plan.selected}

    def write_unit(self, unit: int, samples: Iterator[Sample]) -> Iterator[str]:
        """Write each sample as it comes; yields its path relative to DIR."""
        for sample in samples:
            rel = f"{self.folders[sample.class_index]}/{sample.k:0{self.width}d}.png"
            save_png(self.out / rel, sample.image, sample.record)
            yield rel

    def folders_used(self) -> list[Path]:
        """Folders the writer puts files in (where a killed writer's temp files may lie)."""
        return [self.out / folder for folder in self.folders.values()]


class NpzWriter:
    """`DIR/part-00000.npz`: a unit's images are gathered (one part at most in memory), then written at once."""

    def __init__(self, out: Path, plan: Plan) -> None:
        self.out, self.plan = out, plan

    def write_unit(self, unit: int, samples: Iterator[Sample]) -> Iterator[str]:
        """Gather the part's samples (yielding each one's `part-00000.npz#row`), then write the part."""
        name, count = f"part-{unit:05d}.npz", len(self.plan.unit_range(unit))
        images: np.ndarray | None = None
        labels, seeds = np.zeros(count, dtype=np.int64), np.zeros(count, dtype=np.int64)
        records: list[str] = []
        for row, sample in enumerate(samples):
            if images is None:
                images = np.zeros((count, *sample.image.shape), dtype=np.uint8)  # (N, H, W, C)
            images[row], labels[row], seeds[row] = sample.image, sample.class_index, sample.seed
            records.append(json.dumps(sample.record, sort_keys=True))
            yield f"{name}#{row}"
        assert images is not None and len(records) == count, "a unit always has its full count of samples"
        write_npz(self.out / name, {"images": images, "labels": labels, "seeds": seeds,
                                    "class_names": np.array(self.plan.class_names, dtype=str),
                                    "records": np.array(records, dtype=str)})

    def folders_used(self) -> list[Path]:
        """Folders the writer puts files in."""
        return [self.out]


def write_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Like `numpy.savez_compressed`, but with fixed member time stamps (the same arrays give the same
    bytes, so a resumed export matches an uninterrupted one), written atomically; loads without pickle."""
    with atomic_path(path) as tmp, zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for key, array in arrays.items():
            info = zipfile.ZipInfo(f"{key}.npy", date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            with archive.open(info, "w", force_zip64=True) as member:
                np.lib.format.write_array(member, np.ascontiguousarray(array), allow_pickle=False)


class WebDatasetWriter:
    """`DIR/shard-00000.tar` in the WebDataset convention: members grouped by key, streamed into the shard."""

    def __init__(self, out: Path, plan: Plan) -> None:
        self.out, self.plan, self.width = out, plan, digits(plan.total)

    def write_unit(self, unit: int, samples: Iterator[Sample]) -> Iterator[str]:
        """Append each sample's members to the shard's temp file as it comes; the shard is renamed into place
        when complete. Yields `shard-00000.tar#000123.png` for each sample."""
        name = f"shard-{unit:05d}.tar"
        with atomic_path(self.out / name) as tmp, tarfile.open(tmp, "w", format=tarfile.USTAR_FORMAT) as tar:
            for sample in samples:
                key = f"{sample.index:0{self.width}d}"
                add_member(tar, f"{key}.png", self._png(sample))
                if sample.class_index != NO_CLASS:
                    add_member(tar, f"{key}.cls", f"{sample.class_index}\n".encode())
                meta = {"class": sample.class_name, "class_index": None if sample.class_index == NO_CLASS
                        else sample.class_index, "seed": sample.seed, "truncation": sample.record["truncation"],
                        "generator_sha256": sample.record["generator_hash"]}
                add_member(tar, f"{key}.json", (json.dumps(meta, sort_keys=True) + "\n").encode())
                yield f"{name}#{key}.png"

    def _png(self, sample: Sample) -> bytes:
        """The sample as PNG bytes with its record, through the one PNG writer (`media.save_png`)."""
        path = self.out / f"{temp_prefix('member')}tmp.png"  # a temp name: a killed run's copy is cleaned up
        try:
            save_png(path, sample.image, sample.record)
            return path.read_bytes()
        finally:
            path.unlink(missing_ok=True)

    def folders_used(self) -> list[Path]:
        """Folders the writer puts files in."""
        return [self.out]


def add_member(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    """Add one regular file to a tar; owner, mode and time are fixed so the same data gives the same bytes."""
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = len(data), 0o644, 0
    tar.addfile(info, io.BytesIO(data))


class ClipWriter:
    """A clip generator's clips, one file per clip: `samples/000123.mp4`, or with `frames` a folder
    `samples/000123/` of `frame-000.png`, ... (the folder is filled under a temp name, then renamed)."""

    def __init__(self, out: Path, plan: Plan) -> None:
        self.out, self.plan, self.width = out, plan, digits(plan.total)
        self.frames = plan.settings.layout == "frames"

    def write_unit(self, unit: int, samples: Iterator[Sample]) -> Iterator[str]:
        """Write each clip as it comes; yields its path relative to DIR (a folder's with a trailing /)."""
        from ..media import save_mp4

        for sample in samples:
            name = f"{UNCONDITIONAL_FOLDER}/{sample.k:0{self.width}d}"
            if not self.frames:
                save_mp4(self.out / f"{name}.mp4", list(sample.image), self.plan.settings.fps, sample.record)
                yield f"{name}.mp4"
                continue
            final = self.out / name
            staging = final.with_name(temp_name(final.name))
            shutil.rmtree(staging, ignore_errors=True)
            staging.mkdir(parents=True)
            for t, frame in enumerate(sample.image):
                save_png(staging / f"frame-{t:03d}.png", frame, {**sample.record, "frame": t})
            if final.exists():  # a killed run's folder of the same clip: written again, identically
                shutil.rmtree(final)
            staging.rename(final)
            yield f"{name}/"

    def folders_used(self) -> list[Path]:
        """Folders the writer puts files in."""
        return [self.out / UNCONDITIONAL_FOLDER]


WRITERS = {"imagefolder": ImageFolderWriter, "npz": NpzWriter, "webdataset": WebDatasetWriter,
           "mp4": ClipWriter, "frames": ClipWriter}
Writer = ImageFolderWriter | NpzWriter | WebDatasetWriter | ClipWriter


def make_writer(out: Path, plan: Plan) -> Writer:
    """The writer of the plan's layout (a class name unfit for a folder is refused here, before writing)."""
    return WRITERS[plan.settings.layout](out, plan)
