"""`score_synthetic`: how useful is a synthetic set for training a classifier? Both directions, named:

- CAS / GAN-train: a classifier trained on the synthetic set only, tested on held-out real images (are the
  synthetic images varied and right enough to learn the classes from?).
- GAN-test: a classifier trained on real images, tested on the synthetic set (does each synthetic image look
  like its class?).
- augmentation gain: a small real subset (10% of each class) plus the synthetic set, against the subset alone.
- the yardstick: the same classifier trained on the real training split, tested on the real test split.

The real data is split into train and test by a seeded shuffle within each class; the test part is held out
from every classifier. All four classifiers are the same small ResNet with the same seed.
"""

from __future__ import annotations

import io
import json
import math
import tarfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from ..checks import check_int, check_number
from ..config import BUILTIN_DATASETS
from ..data.image_sets import DECODE_ERRORS, ImageDataset, prepare_image
from ..errors import ReelganError
from ..progress import track
from .classifier import ClassifierSettings, accuracy, train_classifier
from .export import PROGRESS_NAME
from .plan import NO_CLASS

SCORE_FORMAT = "reelgan-synth-score-1"
MAX_SCORE_RESOLUTION = 32  # larger sets are scored at 32 px: enough to tell classes apart, fast on a CPU
MODES = {"L": 1, "RGB": 3, "RGBA": 4}


@dataclass
class LabelledImages:
    """uint8 images `(N, C, R, R)` with class indices `(N,)` into `class_names`."""

    images: np.ndarray
    labels: np.ndarray
    class_names: list[str]

    def subset(self, index: np.ndarray) -> "LabelledImages":
        """The images at `index`."""
        return LabelledImages(self.images[index], self.labels[index], self.class_names)

    def counts(self) -> dict[str, int]:
        """Images per class name."""
        found = Counter(self.labels.tolist())
        return {name: found.get(i, 0) for i, name in enumerate(self.class_names)}


def synthetic_layout(folder: Path) -> str:
    """The layout of a synthetic set (an unfinished export is refused: its labels are not all written)."""
    if not folder.is_dir():
        raise ReelganError(f"{folder} is not a folder; give the --out folder of `reelgan synth export`")
    record_path = folder / PROGRESS_NAME
    if record_path.is_file():
        try:
            record = json.loads(record_path.read_text(encoding="utf-8"))
            layout, complete = record["settings"]["layout"], record["complete"]
        except (ValueError, KeyError, TypeError, UnicodeDecodeError):
            raise ReelganError(f"{record_path} is damaged; export the set again") from None
        if not complete:
            raise ReelganError(f"{folder} is an unfinished export; run the same `reelgan synth export` again to "
                               "finish it, then score it")
        if record["settings"].get("classes") == [NO_CLASS]:
            raise ReelganError(f"{folder} has no class labels (an unconditional export); scoring needs a "
                               "class-conditional set")
        return str(layout)
    if any(folder.glob("part-*.npz")):
        return "npz"
    if any(folder.glob("shard-*.tar")):
        return "webdataset"
    return "imagefolder"


def _npz_parts(folder: Path) -> list[Path]:
    parts = sorted(folder.glob("part-*.npz"))
    if not parts:
        raise ReelganError(f"{folder} holds no part-*.npz files")
    return parts


def _tar_shards(folder: Path) -> list[Path]:
    shards = sorted(folder.glob("shard-*.tar"))
    if not shards:
        raise ReelganError(f"{folder} holds no shard-*.tar files")
    return shards


def _first_image(folder: Path, layout: str) -> tuple[str, int]:
    """(Pillow mode, width) of one image of the set: its channels and size."""
    try:
        if layout == "npz":
            with np.load(_npz_parts(folder)[0], allow_pickle=False) as part:
                array = part["images"][0]
            return {1: "L", 3: "RGB", 4: "RGBA"}.get(array.shape[-1], "RGB"), int(array.shape[1])
        if layout == "webdataset":
            with tarfile.open(_tar_shards(folder)[0]) as tar:
                member = next(m for m in tar.getmembers() if m.name.endswith(".png"))
                data = tar.extractfile(member).read()
        else:
            data = next(p for p in sorted(folder.rglob("*.png")) if not p.name.startswith(".")).read_bytes()
        with Image.open(io.BytesIO(data)) as image:
            return image.mode, image.size[0]
    except StopIteration:
        raise ReelganError(f"{folder} holds no images") from None
    except (KeyError, ValueError, tarfile.TarError, *DECODE_ERRORS) as exc:
        raise ReelganError(f"cannot read the synthetic set in {folder} ({exc}); export it again") from None


def _read_npz(folder: Path, resolution: int, channels: int) -> LabelledImages:
    images, labels, names = [], [], None
    for path in _npz_parts(folder):
        try:
            with np.load(path, allow_pickle=False) as part:
                pixels, part_labels, part_names = part["images"], part["labels"], [str(n) for n in part["class_names"]]
        except (KeyError, ValueError, OSError) as exc:
            raise ReelganError(f"cannot read {path} ({exc}); export the set again") from None
        names = names or part_names
        images += [prepare_image(p[..., 0] if p.shape[-1] == 1 else p, resolution, channels) for p in pixels]
        labels.append(part_labels.astype(np.int64))
    return LabelledImages(np.stack(images), np.concatenate(labels), names or [])


def _read_tars(folder: Path, resolution: int, channels: int) -> LabelledImages:
    images, labels, names = [], [], {}
    for path in _tar_shards(folder):
        try:
            with tarfile.open(path) as tar:
                members = {m.name: m for m in tar.getmembers() if m.isfile()}
                for name in sorted(n for n in members if n.endswith(".png")):
                    meta = json.loads(tar.extractfile(members[name[:-4] + ".json"]).read())
                    images.append(prepare_image(tar.extractfile(members[name]).read(), resolution, channels))
                    labels.append(-1 if meta["class_index"] is None else int(meta["class_index"]))
                    names[labels[-1]] = meta["class"]
        except (KeyError, ValueError, TypeError, tarfile.TarError, *DECODE_ERRORS) as exc:
            raise ReelganError(f"cannot read {path} ({exc}); export the set again") from None
    ordered = [names.get(i, str(i)) for i in range(max(names) + 1)] if names and max(names) >= 0 else []
    return LabelledImages(np.stack(images), np.asarray(labels, dtype=np.int64), ordered)


def read_labelled_folder(path: str | Path, resolution: int, channels: int, class_depth: int) -> LabelledImages:
    """Images in class subfolders (a folder or a zip, as `reelgan train --cond` reads them)."""
    dataset = ImageDataset(path, resolution, channels, cond=True, class_depth=class_depth)
    images = np.stack([dataset.raw(i) for i in range(dataset.raw_count)])
    return LabelledImages(images, dataset.labels.numpy().astype(np.int64), list(dataset.class_names))


def load_synthetic(folder: Path, resolution: int | None, class_depth: int) -> LabelledImages:
    """A synthetic set in any export layout, at `resolution` (default: its own, at most 32 px)."""
    layout = synthetic_layout(folder)
    mode, width = _first_image(folder, layout)
    channels = MODES.get(mode, 3)
    resolution = resolution or min(width, MAX_SCORE_RESOLUTION)
    if layout == "npz":
        found = _read_npz(folder, resolution, channels)
    elif layout == "webdataset":
        found = _read_tars(folder, resolution, channels)
    else:
        found = read_labelled_folder(folder, resolution, channels, class_depth)
    if not found.class_names or (found.labels < 0).any():
        raise ReelganError(f"{folder} has no class labels (an unconditional export); scoring needs a "
                           "class-conditional set")
    present = sorted(set(found.labels.tolist()))  # an export of some classes (--classes) names them all
    mapping = np.zeros(len(found.class_names), dtype=np.int64)
    mapping[present] = np.arange(len(present))
    return LabelledImages(found.images, mapping[found.labels], [found.class_names[i] for i in present])


def match_classes(synthetic: LabelledImages, real: LabelledImages) -> tuple[LabelledImages, LabelledImages,
                                                                          list[str]]:
    """Both sets relabelled to the synthetic set's classes (by name); real classes the synthetic set lacks are
    left out (returned), synthetic classes the real data lacks are a ReelganError."""
    missing = sorted(set(synthetic.class_names) - set(real.class_names))
    if missing:
        shown = ", ".join(missing[:5]) + (" ..." if len(missing) > 5 else "")
        raise ReelganError(f"the real data has no class {shown} of the synthetic set; give --real the data with "
                           "the same class folders (or the right --class-depth)")
    names = sorted(synthetic.class_names)
    left_out = sorted(set(real.class_names) - set(names))

    def relabel(found: LabelledImages) -> LabelledImages:
        mapping = np.array([names.index(n) if n in names else -1 for n in found.class_names], dtype=np.int64)
        labels = mapping[found.labels]
        keep = labels >= 0
        return LabelledImages(found.images[keep], labels[keep], names)

    return relabel(synthetic), relabel(real), left_out


def split_real(real: LabelledImages, test_fraction: float, subset_fraction: float, seed: int
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(train, test, subset) indices: a seeded shuffle within each class; the subset is drawn from train."""
    rng = np.random.default_rng([seed, 0x5C07E])
    train, test, subset = [], [], []
    for c, name in enumerate(real.class_names):
        index = np.flatnonzero(real.labels == c)
        if len(index) < 2:
            raise ReelganError(f"class {name} has {len(index)} real image(s); scoring needs at least 2 per class "
                               "(one to train on, one to test on)")
        index = rng.permutation(index)
        n_test = min(len(index) - 1, max(1, round(test_fraction * len(index))))
        test.append(index[:n_test])
        train.append(index[n_test:])
        subset.append(index[n_test:][:max(1, round(subset_fraction * (len(index) - n_test)))])
    return tuple(np.sort(np.concatenate(part)) for part in (train, test, subset))  # type: ignore[return-value]


def _measure(name: str, trained_on: str, tested_on: str, count: int, result: tuple[float, list[float]],
             class_names: list[str]) -> dict[str, Any]:
    overall, per_class = result
    clean = [None if math.isnan(v) else v for v in per_class]
    return {"measure": name, "trained_on": trained_on, "tested_on": tested_on, "training_images": count,
            "accuracy": None if math.isnan(overall) else overall, "per_class": dict(zip(class_names, clean))}


def _train_all(real: LabelledImages, synthetic: LabelledImages, parts: tuple[np.ndarray, np.ndarray, np.ndarray],
               settings: ClassifierSettings, seed: int, device: torch.device, show: bool) -> dict[str, Any]:
    """The four classifiers and their accuracies."""
    train, test, subset = (real.subset(p) for p in parts)
    augmented = LabelledImages(np.concatenate([subset.images, synthetic.images]),
                               np.concatenate([subset.labels, synthetic.labels]), real.class_names)
    jobs = [("real", train), ("cas", synthetic), ("real_subset", subset), ("real_subset_plus_synthetic", augmented)]
    nets = {}
    for key, data in track(jobs, total=len(jobs), label="synth score", enabled=show):
        nets[key] = train_classifier(data.images, data.labels, len(real.class_names), settings, seed, device)
    names = real.class_names
    pct = f"{len(subset.labels)} images"
    return {
        "real": _measure("yardstick: real", "real train split", "real test split", len(train.labels),
                         accuracy(nets["real"], test.images, test.labels), names),
        "cas": _measure("CAS / GAN-train", "synthetic set", "real test split", len(synthetic.labels),
                        accuracy(nets["cas"], test.images, test.labels), names),
        "gan_test": _measure("GAN-test", "real train split", "synthetic set", len(train.labels),
                             accuracy(nets["real"], synthetic.images, synthetic.labels), names),
        "real_subset": _measure("real subset", f"real subset ({pct})", "real test split", len(subset.labels),
                                accuracy(nets["real_subset"], test.images, test.labels), names),
        "real_subset_plus_synthetic": _measure(
            "real subset + synthetic", f"real subset ({pct}) + synthetic set", "real test split",
            len(augmented.labels), accuracy(nets["real_subset_plus_synthetic"], test.images, test.labels), names),
    }


def check_score_settings(settings: ClassifierSettings, seed: int, resolution: int | None, class_depth: int,
                         test_fraction: float, subset_fraction: float) -> None:
    """ReelganError naming the flag for any value out of range (before anything is read)."""
    check_int("--epochs", settings.epochs, 1)
    check_int("--batch", settings.batch, 2)
    check_int("--seed", seed, 0)
    check_int("--class-depth", class_depth, 1)
    if resolution is not None:
        check_int("--resolution", resolution, 8, 256)
    check_number("--lr", settings.lr)
    for flag, value in (("--test-fraction", test_fraction), ("--subset-fraction", subset_fraction)):
        check_number(flag, value)
        if value >= 1:
            raise ReelganError(f"{flag} must be between 0 and 1; got {value}")


def score_synthetic(folder: str | Path, real: str | Path, *, settings: ClassifierSettings = ClassifierSettings(),
                    seed: int = 0, resolution: int | None = None, class_depth: int = 1,
                    test_fraction: float = 0.2, subset_fraction: float = 0.1, device: str | torch.device = "cpu",
                    show_progress: bool = True) -> dict[str, Any]:
    """Score the synthetic set in `folder` against the real labelled images `real`; a JSON-able report.

    `resolution`: the size both sets are classified at (default: the synthetic set's, at most 32 px).
    """
    check_score_settings(settings, seed, resolution, class_depth, test_fraction, subset_fraction)
    if str(real) in BUILTIN_DATASETS:
        raise ReelganError(f"{real} has no classes; give --real a folder (or zip) of class subfolders")
    folder = Path(folder)
    synthetic = load_synthetic(folder, resolution, class_depth)
    size, channels = synthetic.images.shape[2], synthetic.images.shape[1]
    real_set = read_labelled_folder(real, size, channels, class_depth)
    synthetic, real_set, left_out = match_classes(synthetic, real_set)
    parts = split_real(real_set, test_fraction, subset_fraction, seed)
    device = torch.device(device)
    measures = _train_all(real_set, synthetic, parts, settings, seed, device, show_progress)
    acc = {key: m["accuracy"] for key, m in measures.items()}
    gain = None if None in (acc["real_subset"], acc["real_subset_plus_synthetic"]) else \
        acc["real_subset_plus_synthetic"] - acc["real_subset"]
    return {
        "format": SCORE_FORMAT, "synthetic": str(folder), "real": str(real), "seed": seed,
        "split": {"seed": seed, "test_fraction": test_fraction, "subset_fraction": subset_fraction,
                  "by_class": True},
        "classifier": {**settings.describe(size, channels), "seed": seed, "device": str(device)},
        "classes": synthetic.class_names, "real_classes_left_out": left_out,
        "counts": {"synthetic": synthetic.counts(), **{key: real_set.subset(p).counts() for key, p in
                                                       zip(("real_train", "real_test", "real_subset"), parts)}},
        "measures": measures,
        "accuracy": acc,
        "augmentation_gain": gain,
        "cas_over_real": acc["cas"] / acc["real"] if acc["cas"] is not None and acc["real"] else None,
        "chance": 1 / len(synthetic.class_names),
    }


def markdown_table(report: dict[str, Any]) -> str:
    """The report's accuracies as a markdown table (then the augmentation gain and chance level)."""
    lines = ["| measure | trained on | tested on | training images | accuracy |", "|---|---|---|---|---|"]
    for m in report["measures"].values():
        shown = "n/a" if m["accuracy"] is None else f"{m['accuracy']:.3f}"
        lines.append(f"| {m['measure']} | {m['trained_on']} | {m['tested_on']} | {m['training_images']} | {shown} |")
    gain = report["augmentation_gain"]
    lines.append(f"| augmentation gain | (subset + synthetic) - subset | real test split | | "
                 f"{'n/a' if gain is None else f'{gain:+.3f}'} |")
    test = sum(report["counts"]["real_test"].values())
    lines.append("")
    lines.append(f"{len(report['classes'])} classes (chance {report['chance']:.3f}); {test} real test images held out "
                 f"from every classifier; seed {report['seed']}.")
    return "\n".join(lines)
