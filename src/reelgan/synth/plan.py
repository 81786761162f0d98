"""What a synthetic export makes: its settings, which class each item has, and the seed each image comes from.

Items are numbered 0..total-1 in the order they are written. Item i has a class (`plan_classes`) and a number
k within that class; the images of class c come from a stream of candidate seeds `sample_seed(seed, c, j)`,
j = 0, 1, 2, ..., so image k of class c is the same on every run. Without `--reject-copies` candidate j is
image j; with it, candidates that are near copies of training images are skipped, and image k is the k-th
candidate that passed.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..checks import check_choice, check_int, check_number
from ..config import BUILTIN_DATASETS
from ..errors import ReelganError
from ..gan.generator import Generator

IMAGE_LAYOUTS = ("imagefolder", "npz", "webdataset")
CLIP_LAYOUTS = ("mp4", "frames", "npz")  # clip generators: samples/000123.mp4, samples/000123/frame-000.png, npz
LAYOUTS = IMAGE_LAYOUTS + ("mp4", "frames")
FILE_LAYOUTS = ("imagefolder", "mp4", "frames")  # one file (or folder) per item: a unit is a batch of them
DEFAULT_SHARD_SIZE = 1000  # images per .npz part or .tar shard
DEFAULT_BATCH = 256        # images generated (and judged) at once
UNCONDITIONAL_FOLDER = "samples"  # imagefolder layout of an unconditional generator: DIR/samples/000123.png
NO_CLASS = -1              # the class index of an unconditional generator's images (npz labels, seeds)
PROGRESS_FORMAT = "reelgan-synth-progress-1"


@dataclass(frozen=True)
class ExportSettings:
    """How to export a synthetic dataset; `check` validates the values, `resolve` ties them to a generator."""

    layout: str = "imagefolder"             # imagefolder, npz or webdataset
    n: int | None = None                    # images in all (classes drawn at random unless balance)
    n_per_class: int | None = None          # images of each class (conditional generators)
    classes: tuple[str, ...] | None = None  # only these classes (names or numbers); None: all
    shard_size: int | None = None           # npz/webdataset: images per file (default DEFAULT_SHARD_SIZE)
    truncation: float = 1.0                 # (0, 1]: lower is more typical, less varied
    seed: int = 0                           # the base every image's seed is derived from
    reject_copies: bool = False             # drop near copies of training images, draw replacements
    real: str | None = None                 # the training images to compare with (default: a built-in set)
    copy_quantile: float = 0.01             # the copy audit's quantile of held-out real distances
    max_real: int = 20000                   # training images compared with at most
    balance: bool = False                   # with n: the same count for every class
    batch: int = DEFAULT_BATCH              # images generated at once (part of what a resume must match)
    fps: int = 8                            # clips: frames per second of the MP4s

    def check(self) -> None:
        """ReelganError naming the flag for any value out of range (before anything is loaded)."""
        check_choice("--layout", self.layout, LAYOUTS)
        if self.n is not None and self.n_per_class is not None:
            raise ReelganError("give --n (images in all) or --n-per-class (images of each class), not both")
        for flag, value in (("--n", self.n), ("--n-per-class", self.n_per_class)):
            if value is not None:
                check_int(flag, value, 1)
        if self.shard_size is not None:
            if self.layout in FILE_LAYOUTS:
                raise ReelganError(f"--shard-size is for --layout npz or webdataset ({self.layout} writes one file "
                                   "per item); drop it or choose another layout")
            check_int("--shard-size", self.shard_size, 1)
        check_number("--truncation", self.truncation)
        if self.truncation > 1:
            raise ReelganError(f"--truncation must be in (0, 1]; got {self.truncation}")
        check_int("--seed", self.seed, 0)
        check_int("--batch", self.batch, 1)
        check_int("--fps", self.fps, 1)
        check_int("--max-real", self.max_real, 20)
        check_number("--copy-quantile", self.copy_quantile)
        if self.copy_quantile >= 1:
            raise ReelganError(f"--copy-quantile must be between 0 and 1; got {self.copy_quantile}")
        if self.real is not None and not self.reject_copies:
            raise ReelganError("--real gives the training images for --reject-copies; add --reject-copies or "
                               "drop --real")

    @property
    def unit_size(self) -> int:
        """Images per unit of work (one shard; for imagefolder one batch): what a resume counts."""
        if self.layout in FILE_LAYOUTS:
            return self.batch
        return self.shard_size or DEFAULT_SHARD_SIZE


@dataclass(frozen=True)
class Plan:
    """The settings tied to one generator: the chosen classes, the class of every item, the real data."""

    settings: ExportSettings
    class_names: list[str]         # the generator's classes ([] when unconditional)
    selected: list[int]            # the class indices exported ([NO_CLASS] when unconditional)
    classes: np.ndarray            # (total,) int32: the class index of each item
    real: str | None               # the training images --reject-copies compares with (resolved)
    generator_hash: str

    @property
    def total(self) -> int:
        """Images in the whole export."""
        return len(self.classes)

    @property
    def units(self) -> int:
        """Units of work (shards, or batches of files) in the whole export."""
        return -(-self.total // self.settings.unit_size)

    def unit_range(self, unit: int) -> range:
        """The item numbers of one unit."""
        size = self.settings.unit_size
        return range(unit * size, min((unit + 1) * size, self.total))

    def name_of(self, class_index: int) -> str | None:
        """The class name of an index (None when unconditional)."""
        return None if class_index == NO_CLASS else self.class_names[class_index]

    def record(self) -> dict[str, Any]:
        """The settings as the progress record keeps them: a rerun continues only when these are equal."""
        return {**asdict(self.settings), "classes": self.selected, "shard_size": self.settings.unit_size
                if self.settings.layout not in FILE_LAYOUTS else None, "real": self.real,
                "generator_sha256": self.generator_hash}

    def counts(self) -> dict[int, int]:
        """Images per exported class index."""
        found = np.bincount(self.classes - NO_CLASS, minlength=max(self.selected) - NO_CLASS + 1)
        return {c: int(found[c - NO_CLASS]) for c in self.selected}


def sample_seed(base: int, class_index: int, k: int) -> int:
    """The seed of candidate k of a class: a 53-bit number from (base, class, k), the same on every machine.

    Hashing (not base + k) keeps the classes' seed streams apart however many images each one gets; 53 bits
    stay exact in every JSON reader (some read numbers as doubles).
    """
    digest = hashlib.sha256(f"reelgan-synth-1:{base}:{class_index}:{k}".encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 11


def select_classes(G: Generator, names: tuple[str, ...] | None) -> list[int]:
    """The class indices to export: all of G's, or those `names` gives (an unknown name is a ReelganError)."""
    if not G.class_names:
        if names:
            raise ReelganError("--classes was given but this generator has no classes; drop --classes")
        return [NO_CLASS]
    if not names:
        return list(range(len(G.class_names)))
    chosen = [G.class_index(name) for name in names]
    if len(set(chosen)) != len(chosen):
        raise ReelganError("--classes names a class twice; give each class once")
    return [int(c) for c in chosen]


def plan_classes(settings: ExportSettings, selected: list[int], conditional: bool) -> np.ndarray:
    """The class index of every item, `(total,)`: round robin over the classes when balanced (so every shard
    mixes them), else drawn at random by the seed (the generator's own uniform class prior)."""
    if not conditional:
        if settings.n_per_class is not None:
            raise ReelganError("--n-per-class needs a class-conditional generator; this one has no classes: use "
                               "--n")
        if settings.balance:
            raise ReelganError("--balance needs a class-conditional generator; this one has no classes: drop it")
        if settings.n is None:
            raise ReelganError("give --n, the number of images to export")
        return np.full(settings.n, NO_CLASS, dtype=np.int32)
    order = np.asarray(selected, dtype=np.int32)
    if settings.n_per_class is not None:
        return np.tile(order, settings.n_per_class)
    if settings.n is None:
        raise ReelganError("this generator is class-conditional: give --n-per-class N (N of each class) or --n N "
                           "(N in all; add --balance for equal counts)")
    if settings.balance:
        if settings.n % len(order):
            low = settings.n // len(order) * len(order)
            raise ReelganError(f"--balance needs --n to be a multiple of the {len(order)} classes; got "
                               f"{settings.n} (try {low or len(order)} or {low + len(order)}, or use --n-per-class)")
        return np.tile(order, settings.n // len(order))
    draws = np.random.default_rng([settings.seed, 0x5EED]).integers(len(order), size=settings.n)
    return order[draws]


def make_plan(G: Generator, settings: ExportSettings) -> Plan:
    """Check `settings` against G and fix which class every item has (ReelganError for what does not fit)."""
    settings.check()
    check_layout(G, settings)
    selected = select_classes(G, settings.classes)
    classes = plan_classes(settings, selected, bool(G.class_names))
    return Plan(settings, list(G.class_names), selected, classes, resolve_real(G, settings), G.hash)


def default_layout(G: Generator) -> str:
    """The layout an export takes when none is given: mp4 for clip generators, imagefolder for images."""
    return "mp4" if G.is_video else "imagefolder"


def check_layout(G: Generator, settings: ExportSettings) -> None:
    """ReelganError when the layout does not fit the generator's kind (clips: mp4, frames or npz)."""
    if G.is_video:
        if settings.layout not in CLIP_LAYOUTS:
            raise ReelganError(f"this is a clip generator: export with --layout {', '.join(CLIP_LAYOUTS)} (one MP4 "
                               f"per clip, a folder of PNG frames per clip, or arrays), not {settings.layout}")
        if settings.reject_copies:
            raise ReelganError("--reject-copies compares images; for clips drop it and check the generator with "
                               "`reelgan audit`")
    elif settings.layout not in IMAGE_LAYOUTS:
        raise ReelganError(f"--layout {settings.layout} is for clip generators; this one makes images: use "
                           f"{', '.join(IMAGE_LAYOUTS)}")


def resolve_real(G: Generator, settings: ExportSettings) -> str | None:
    """The training images `--reject-copies` compares with: --real, or the generator's built-in dataset."""
    if not settings.reject_copies:
        return None
    if settings.real is not None:
        return settings.real if settings.real in BUILTIN_DATASETS else str(Path(settings.real).resolve())
    dataset = G.spec.get("dataset")
    if dataset in BUILTIN_DATASETS:
        return str(dataset)
    raise ReelganError(f"--reject-copies needs the training images to compare with: give --real DATA (the "
                       f"generator was trained on {str(dataset)[:80]!r}, not a built-in set)")
