"""`export_synthetic`: write a labelled synthetic dataset from a trained generator, resumably.

The work is cut into units (a shard, or for imagefolder a batch of files). After each unit is complete on
disk, `DIR/.synth-progress.json` records the settings, the units done and where each class's seed stream
stands; running the same export again continues from there, and a different one is refused unless
`overwrite`. Files are written to temp names and renamed into place, so an interrupted export (Ctrl-C,
kill) never leaves a half-written final file; the unit it was writing is written again, identically.
"""

from __future__ import annotations

import contextlib
import json
import re
import shutil
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..data.base import to_unit_range
from ..errors import ReelganError
from ..gan.generator import Generator, seed_latents
from ..media import atomic_path, to_uint8
from ..paths import output_folder, remove_stale_temps
from ..progress import track
from ..provenance import make_record
from .card import dataset_card, label_header, label_rows
from .copies import CopyCriterion, load_criterion
from .layouts import Sample, Writer, make_writer
from .plan import NO_CLASS, PROGRESS_FORMAT, ExportSettings, Plan, make_plan, sample_seed

PROGRESS_NAME = ".synth-progress.json"
PARTS_NAME = ".synth-parts"  # labels.csv rows of each finished unit, joined into labels.csv at the end
# A batch in which more than this many candidates per image asked for were near copies stops the export:
# the generator reproduces its training data, and drawing on would not end.
MAX_CANDIDATES_PER_IMAGE = 50
# Files an earlier export wrote in DIR, removed before --overwrite starts again.
OWN_TOP_FILES = re.compile(r"^(labels\.csv|README\.md|part-\d{5,}\.npz|shard-\d{5,}\.tar)(\.c2pa)?$")  # + sidecars
OWN_IMAGE_FILES = re.compile(r"^(\d{6,}\.(png|mp4)|frame-\d{3,}\.png)$")


@dataclass
class Progress:
    """Where an export stands: units done, the next candidate of each class, near copies dropped so far."""

    units_done: int
    cursors: list[int]       # per exported class (Plan.selected order): the next candidate number
    dropped: list[int]       # per exported class: candidates dropped as near copies
    complete: bool = False
    criterion: dict[str, Any] | None = None

    def tried(self) -> int:
        """Candidates generated so far (kept and dropped)."""
        return sum(self.cursors)


@dataclass
class Drawer:
    """Draws the images of a run of items: their candidates' latents, the generator, the copy criterion."""

    G: Generator
    plan: Plan
    progress: Progress
    criterion: CopyCriterion | None
    made: dict[int, int] = field(default_factory=dict)  # images so far of each class (their next k)

    def samples(self, items: range) -> Iterator[Sample]:
        """The samples of `items`, in order, drawn one batch at a time (bounded memory)."""
        batch = self.plan.settings.batch
        for start in range(items.start, items.stop, batch):
            yield from self._chunk(range(start, min(start + batch, items.stop)))

    def _chunk(self, chunk: range) -> Iterator[Sample]:
        classes = self.plan.classes[chunk.start:chunk.stop].tolist()
        accepted = self._draw(Counter(classes))
        taken: Counter[int] = Counter()
        for index, c in zip(chunk, classes):
            seed, image = accepted[c][taken[c]]
            taken[c] += 1
            k = self.made.get(c, 0)
            self.made[c] = k + 1
            name = self.plan.name_of(c)
            extra = {} if c == NO_CLASS else {"class": name, "class_index": c}
            record = make_record(generator_hash=self.G.hash, seed=seed, truncation=self.plan.settings.truncation,
                                 **extra)
            yield Sample(index, c, name, k, seed, image, record)

    def _draw(self, need: Counter[int]) -> dict[int, list[tuple[int, np.ndarray]]]:
        """`need[c]` accepted (seed, image) pairs per class, taking each class's candidates in order."""
        accepted: dict[int, list[tuple[int, np.ndarray]]] = {c: [] for c in need}
        slot = {c: self.plan.selected.index(c) for c in need}
        tried = 0
        while remaining := {c: n - len(accepted[c]) for c, n in need.items() if len(accepted[c]) < n}:
            if tried > MAX_CANDIDATES_PER_IMAGE * sum(need.values()):
                worst = max(remaining, key=lambda c: remaining[c])
                raise ReelganError(f"of {tried} candidates, {tried - sum(map(len, accepted.values()))} were near "
                                   f"copies of training images (class {self.plan.name_of(worst)}); this generator "
                                   "reproduces its training data: retrain it (more data, augmentation) before "
                                   "exporting")
            wanted = []
            for c, count in remaining.items():
                start = self.progress.cursors[slot[c]]
                wanted += [(c, sample_seed(self.plan.settings.seed, c, j)) for j in range(start, start + count)]
                self.progress.cursors[slot[c]] = start + count
            images = self._generate(wanted)  # (B, H, W, C) uint8
            copies = self.criterion.flags(to_unit_range(images.transpose(0, 3, 1, 2))) if self.criterion \
                else np.zeros(len(wanted), dtype=bool)
            for (c, seed), image, copy in zip(wanted, images, copies):
                if copy:
                    self.progress.dropped[slot[c]] += 1
                else:
                    accepted[c].append((seed, image))
            tried += len(wanted)
        return accepted

    def _generate(self, wanted: list[tuple[int, int]]) -> np.ndarray:
        """Images `(B, H, W, C)` (clips `(B, T, H, W, C)`) uint8 for (class, seed) pairs, as written (judged
        after rounding)."""
        seeds = [seed for _, seed in wanted]
        z = seed_latents(seeds, self.G.spec["latent_dim"], self.plan.settings.truncation)  # (B, latent_dim)
        labels = None if not self.plan.class_names else torch.tensor([c for c, _ in wanted], dtype=torch.long)
        made = self.G(z, labels, batch=self.plan.settings.batch)
        if not self.G.is_video:
            return to_uint8(made)  # (B, C, H, W) -> (B, H, W, C)
        clips = made.transpose(1, 2)  # (B, C, T, H, W) -> (B, T, C, H, W)
        frames = to_uint8(clips.flatten(0, 1))  # (B*T, H, W, C)
        return frames.reshape(len(wanted), clips.shape[1], *frames.shape[1:])


def _first_difference(old: dict[str, Any], new: dict[str, Any]) -> str:
    """'seed: 0 there, 1 now' for the first setting that differs."""
    for key in sorted(set(old) | set(new)):
        if old.get(key) != new.get(key):
            return f"{key}: {old.get(key)!r:.60} there, {new.get(key)!r:.60} now"
    return "none"


def _parse_progress(record: Any, plan: Plan) -> Progress | None:
    """The Progress a record holds for `plan`'s settings; None when the record is not a readable one."""
    fields = ("units_done", "cursors", "dropped", "complete", "settings")
    if not isinstance(record, dict) or record.get("format") != PROGRESS_FORMAT or not all(f in record for f in fields):
        return None
    classes = len(plan.selected)
    if not (isinstance(record["units_done"], int) and 0 <= record["units_done"] <= plan.units
            and all(isinstance(v, list) and len(v) == classes and all(isinstance(x, int) for x in v)
                    for v in (record["cursors"], record["dropped"]))):
        return None
    return Progress(record["units_done"], record["cursors"], record["dropped"], bool(record["complete"]),
                    record.get("criterion"))


def read_progress(out: Path, plan: Plan, overwrite: bool) -> tuple[Progress | None, bool]:
    """(where an earlier run of this same export stopped, or None to start afresh; whether DIR holds an
    earlier export whose files `overwrite` should clear). Refuses what it may not continue or replace."""
    if not out.exists() or not any(out.iterdir()):
        return None, False
    path = out / PROGRESS_NAME
    if not path.is_file():
        if overwrite:
            return None, False
        raise ReelganError(f"{out} already exists and holds files that are not a synth export; choose another "
                           "--out or add --overwrite")
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError):
        record = None
    if overwrite:
        return None, True
    wanted = json.loads(json.dumps(plan.record()))  # as JSON gives it back: tuples become lists
    if isinstance(record, dict) and isinstance(record.get("settings"), dict) and record["settings"] != wanted:
        difference = _first_difference(record["settings"], wanted)
        raise ReelganError(f"{out} holds an export made with other settings ({difference}); rerun with the same "
                           "arguments to continue it, or add --overwrite to start again")
    progress = _parse_progress(record, plan)
    if progress is None:
        raise ReelganError(f"{path} is damaged, so the export in {out} cannot be continued; add --overwrite to "
                           "start it again")
    return progress, False


def save_progress(out: Path, plan: Plan, progress: Progress) -> None:
    """Write the progress record atomically (it must never be half written: it decides what a rerun does)."""
    record = {"format": PROGRESS_FORMAT, "settings": plan.record(), "units_done": progress.units_done,
              "cursors": progress.cursors, "dropped": progress.dropped, "complete": progress.complete,
              "criterion": progress.criterion}
    with atomic_path(out / PROGRESS_NAME) as tmp:
        Path(tmp).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")


def data_files(out: Path) -> list[Path]:
    """The samples (images, clips, frames) or shards an export wrote in `out`, in order (for signing each)."""
    files = [p for p in sorted(out.iterdir()) if p.is_file() and OWN_TOP_FILES.match(p.name)
             and p.suffix in (".npz", ".tar")]
    for folder in sorted(p for p in out.iterdir() if p.is_dir() and not p.is_symlink() and p.name != PARTS_NAME):
        files += [p for p in sorted(folder.rglob("*")) if p.is_file() and OWN_IMAGE_FILES.match(p.name)]
    return files


def clear_previous(out: Path) -> None:
    """Remove the files an earlier export wrote in `out` (its own names only: other files stay)."""
    for entry in sorted(out.iterdir()):
        if entry.is_file() and OWN_TOP_FILES.match(entry.name):
            entry.unlink()
        elif entry.is_dir() and entry.name == PARTS_NAME:
            shutil.rmtree(entry)
        elif entry.is_dir() and not entry.is_symlink():
            for image in sorted(entry.rglob("*"), reverse=True):
                if image.is_file() and OWN_IMAGE_FILES.match(image.name):
                    image.unlink()
            for folder in sorted((p for p in entry.rglob("*") if p.is_dir()), reverse=True) + [entry]:
                with contextlib.suppress(OSError):
                    folder.rmdir()  # only when empty
    (out / PROGRESS_NAME).unlink(missing_ok=True)


def _write_units(out: Path, plan: Plan, writer: Writer, drawer: Drawer) -> Iterator[None]:
    """Write the units not yet done, yielding once per image; after each unit, its labels and the progress."""
    parts = out / PARTS_NAME
    for unit in range(drawer.progress.units_done, plan.units):
        files, pairs = [], []
        samples = drawer.samples(plan.unit_range(unit))
        for file in writer.write_unit(unit, _noting(samples, pairs)):
            files.append(file)
            yield
        with atomic_path(parts / f"labels-{unit:05d}.csv") as tmp:
            Path(tmp).write_text(label_rows(plan, files, pairs), encoding="utf-8")
        drawer.progress.units_done = unit + 1
        save_progress(out, plan, drawer.progress)  # last: the unit counts as done only once all of it is on disk


def _noting(samples: Iterator[Sample], pairs: list[tuple[int, int]]) -> Iterator[Sample]:
    """Pass samples through, noting each one's (class index, seed) for labels.csv."""
    for sample in samples:
        pairs.append((sample.class_index, sample.seed))
        yield sample


def _finish(out: Path, plan: Plan, G: Generator, source: str, progress: Progress) -> None:
    """Join the units' rows into labels.csv, write README.md, mark the export complete, drop the parts."""
    parts = out / PARTS_NAME
    with atomic_path(out / "labels.csv") as tmp, open(tmp, "w", encoding="utf-8", newline="") as csv_file:
        csv_file.write(label_header())
        for unit in range(plan.units):
            csv_file.write((parts / f"labels-{unit:05d}.csv").read_text(encoding="utf-8"))
    card = dataset_card(plan, G.spec, source, progress.dropped, progress.criterion, progress.tried())
    with atomic_path(out / "README.md") as tmp:
        Path(tmp).write_text(card, encoding="utf-8")
    progress.complete = True
    save_progress(out, plan, progress)
    shutil.rmtree(parts, ignore_errors=True)


def export_synthetic(G: Generator, out: str | Path, settings: ExportSettings, *, source: str | None = None,
                     overwrite: bool = False, show_progress: bool = True) -> dict[str, Any]:
    """Export `G`'s images as a labelled dataset in `out` (see the module docstring); returns a summary.

    Every check (settings, generator, output folder, real data) runs before anything is written.
    """
    plan = make_plan(G, settings)
    out = output_folder(out)
    progress, clear = read_progress(out, plan, overwrite)
    writer = make_writer(out, plan)
    if progress is not None and progress.complete:
        shutil.rmtree(out / PARTS_NAME, ignore_errors=True)
        return _summary(out, plan, progress, plan.units, already_complete=True)
    criterion = None
    if plan.real is not None:
        criterion = load_criterion(plan.real, G.resolution, G.channels, settings.copy_quantile, settings.max_real)
    if progress is not None and criterion is not None and progress.criterion != criterion.describe():
        raise ReelganError(f"the training images in {plan.real} differ from those the export in {out} began with "
                           "(another copy-check threshold); restore them, or add --overwrite to start again")
    if progress is None:
        if clear:
            clear_previous(out)
        progress = Progress(0, [0] * len(plan.selected), [0] * len(plan.selected),
                            criterion=criterion.describe() if criterion else None)
        out.mkdir(parents=True, exist_ok=True)
        save_progress(out, plan, progress)  # first, so that even a run killed before its first unit resumes
    for folder in [out, out / PARTS_NAME, *writer.folders_used()]:
        remove_stale_temps(folder)  # a killed run's temp files
    resumed_from = progress.units_done
    done = min(resumed_from * settings.unit_size, plan.total)
    made = Counter(plan.classes[:done].tolist())
    drawer = Drawer(G, plan, progress, criterion, dict(made))
    events = _write_units(out, plan, writer, drawer)
    with contextlib.closing(events):  # on an interrupt, the unit being written removes its temp files now
        for _ in track(events, total=plan.total - done, label="synth export", enabled=show_progress):
            pass
    _finish(out, plan, G, source or "a reelgan generator", progress)
    return _summary(out, plan, progress, resumed_from, already_complete=False)


def dataset_record(G: Generator, layout: str, items: int, source: str) -> dict[str, Any]:
    """The provenance record of an export as a whole (its card and labels.csv carry it when signed)."""
    return make_record(generator_hash=G.hash, seed=None, kind="synthetic-dataset", layout=layout, items=items,
                       source=source)


def _summary(out: Path, plan: Plan, progress: Progress, resumed_from: int, already_complete: bool
             ) -> dict[str, Any]:
    """What an export wrote, for the command to print."""
    counts = plan.counts()
    return {"out": str(out), "layout": plan.settings.layout, "images": plan.total, "units": plan.units,
            "resumed_from_unit": resumed_from, "already_complete": already_complete,
            "counts": {plan.name_of(c) or "samples": counts[c] for c in plan.selected},
            "dropped": sum(progress.dropped) if plan.real else None, "candidates": progress.tried(),
            "criterion": progress.criterion}
