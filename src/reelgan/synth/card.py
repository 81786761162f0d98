"""The files that describe an export: `labels.csv` (one row per image) and `README.md`, a dataset card in
the Hugging Face layout (YAML front matter, then sections) that says how the images were made."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from .. import __version__
from ..config import BUILTIN_DATASETS
from .plan import NO_CLASS, Plan

LABEL_COLUMNS = ("file", "class", "class_index", "seed", "truncation", "generator_sha256")
LAYOUT_TEXT = {
    "imagefolder": "one PNG per image in a folder per class (`CLASS/000123.png`; an unconditional generator's "
                   "images are in `samples/`), as torchvision's `ImageFolder` and `reelgan train --cond` read it",
    "npz": "NumPy archives `part-00000.npz`, each with `images` (uint8, N x H x W x C), `labels` (int, the "
           "class index; -1 without classes), `class_names`, `seeds` and `records` (each image's provenance "
           "record as JSON); load with `numpy.load(path)`",
    "webdataset": "WebDataset tar shards `shard-00000.tar`; each sample is `KEY.png`, `KEY.cls` (the class index, "
                  "conditional sets only) and `KEY.json` (class, seed, truncation, generator sha256)",
    "mp4": "one H.264 MP4 per clip in `samples/` (`samples/000123.mp4`), its provenance record in the container's "
           "tags",
    "frames": "one folder of PNG frames per clip in `samples/` (`samples/000123/frame-000.png`, ...), each frame "
              "with its provenance record",
}
CLIP_NPZ_TEXT = ("NumPy archives `part-00000.npz`, each with `images` (uint8, N x T x H x W x C: clips of T frames), "
                 "`labels` (-1: no classes), `seeds` and `records` (each clip's provenance record as JSON); load "
                 "with `numpy.load(path)`")


def label_rows(plan: Plan, files: list[str], samples: list[tuple[int, int]]) -> str:
    """CSV rows (no header) for one unit: `files[i]` and its (class index, seed) pair."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    for file, (class_index, seed) in zip(files, samples):
        name = plan.name_of(class_index)
        writer.writerow([file, "" if name is None else name, "" if class_index == NO_CLASS else class_index,
                         seed, plan.settings.truncation, plan.generator_hash])
    return buffer.getvalue()


def label_header() -> str:
    """The first line of labels.csv."""
    return ",".join(LABEL_COLUMNS) + "\n"


def size_category(total: int) -> str:
    """The Hugging Face `size_categories` value for a number of images."""
    for bound, label in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"),
                         (1_000_000, "100K<n<1M"), (10_000_000, "1M<n<10M")):
        if total < bound:
            return label
    return "n>10M"


def training_data_text(dataset: Any) -> str:
    """What the generator's recorded training data was, in words."""
    if dataset in BUILTIN_DATASETS:
        return (f"`{dataset}`, reelgan's built-in procedural set (glyphs drawn by a program; no third-party "
                "images)")
    return (f"`{dataset}` (the images the generator was trained on, as recorded in its spec; their licence and "
            "consent govern what may be done with images made from them)")


def front_matter(plan: Plan, clips: bool = False) -> str:
    """The card's YAML header: the licence is left for the user (`other` until they fill it)."""
    return "\n".join([
        "---",
        "license: other  # fill in: the licence you release this set under (see Licence below)",
        "task_categories:", "- video-classification" if clips else "- image-classification",
        "tags:", "- synthetic", "- ai-generated", "- reelgan",
        "size_categories:", f"- {size_category(plan.total)}",
        f"pretty_name: Synthetic {'clips' if clips else 'images'} from a reelgan generator",
        "---", "",
    ])


def counts_table(plan: Plan, dropped: list[int]) -> str:
    """The markdown table of images (and dropped near copies) per class."""
    counts = plan.counts()
    lines = ["| class | class index | images | near copies dropped |", "|---|---|---|---|"]
    for c, drops in zip(plan.selected, dropped):
        name = plan.name_of(c)
        lines.append(f"| {name or '(no classes)'} | {'' if c == NO_CLASS else c} | {counts[c]} | "
                     f"{drops if plan.real else 'not checked'} |")
    lines.append(f"| **all** | | **{plan.total}** | {sum(dropped) if plan.real else 'not checked'} |")
    return "\n".join(lines)


def audit_text(plan: Plan, dropped: list[int], criterion: dict[str, Any] | None, tried: int) -> str:
    """The memorisation audit's section: what was compared, the threshold, how many were dropped."""
    if not plan.real or criterion is None:
        return ("Not run: the images were not compared with the training images. Run the export again with "
                "`--reject-copies --real DATA` to drop near copies, or check the generator with `reelgan audit`.")
    return (f"Every candidate image was compared with {criterion['training_images']} training images "
            f"(`{criterion['data']}`) by RMS pixel distance, the criterion of `reelgan audit`: a candidate nearer "
            f"to a training image than the {criterion['quantile']:g} quantile of held-out training images' "
            f"distances to the rest (a threshold of {criterion['pixel_threshold']:.4f}, on a scale where 2 is "
            f"the largest possible) was dropped as a likely copy and replaced by the next seed of its class. "
            f"{sum(dropped)} of {tried} candidates were dropped ({sum(dropped) / max(tried, 1):.2%}); the table "
            "above gives them per class. A near-copy check in pixel space does not find every kind of "
            "memorisation (e.g. a copy shifted by a few pixels).")


def dataset_card(plan: Plan, spec: dict[str, Any], source: str, dropped: list[int],
                 criterion: dict[str, Any] | None, tried: int) -> str:
    """README.md of an export, as text."""
    s = plan.settings
    shown_spec = {k: v for k, v in spec.items() if k != "weights_sha256"}
    conditional = bool(plan.class_names)
    clips = spec.get("kind") == "video"
    items = "clips" if clips else "images"
    size = f"{spec['resolution']} x {spec['resolution']} px"
    what = (f"{plan.total} clips of {spec.get('frames', '?')} frames of {size} ({s.fps} frames per second in "
            f"MP4s) with {spec['channels']} channel(s)") if clips else \
        f"{plan.total} {size} images with {spec['channels']} channel(s)"
    layout = CLIP_NPZ_TEXT if clips and s.layout == "npz" else LAYOUT_TEXT[s.layout]
    carrier = ("Each MP4 carries a provenance record in its container tags, each PNG frame in a `reelgan` text "
               "chunk and XMP" if clips else "Each PNG carries a provenance record (a `reelgan` text chunk and XMP")
    sections = [
        front_matter(plan, clips),
        f"# Synthetic {items} from a reelgan generator\n",
        "## Dataset description\n",
        f"{what}, {'labelled with the class each was generated for' if conditional else 'without class labels'}, "
        f"all made by a generative adversarial network (GAN). None of them is a photograph, footage or a drawing "
        f"by a person. Layout: {layout}. `labels.csv` lists every item with its class, class index, "
        "seed, truncation and the generator's sha256 (a file inside an archive is named `ARCHIVE#MEMBER`).\n",
        "## How it was made\n",
        f"- Generator: `{source}`, weights sha256 `{plan.generator_hash}`",
        f"- Trained on: {training_data_text(spec.get('dataset'))}, for {spec.get('trained_steps', '?')} steps",
        f"- Made with reelgan {__version__}: `reelgan synth export` with seed {s.seed}, truncation "
        f"{s.truncation:g}, batch {s.batch}. Item k of class c comes from the latent of a seed derived from "
        "(seed, c, k) and listed in labels.csv; `reelgan generate SOURCE --seed SEED --n 1 --class CLASS "
        "--truncation T` makes it again.",
        "- The generator's spec:\n", "```json", json.dumps(shown_spec, indent=2), "```\n",
        "## Counts per class\n", counts_table(plan, dropped) + "\n",
        "## AI disclosure\n",
        f"Every {items[:-1]} in this set is AI-generated. {carrier} with the IPTC digital source type "
        "`trainedAlgorithmicMedia`, the generator's sha256 and the seed); `reelgan verify FILE` reads it. The npz "
        f"layout keeps the same records in its `records` array. Keep this disclosure with the {items} wherever "
        "they go, and do not present them as real data.\n",
        "## Licence\n",
        f"To be filled in by whoever releases this set: the licence (replace `license: other` above), and "
        f"whether the training data's licence and the consent of the people in it allow releasing {items} made "
        "by a model trained on it.\n",
        "## Memorisation audit\n", audit_text(plan, dropped, criterion, tried) + "\n",
    ]
    return "\n".join(sections)
