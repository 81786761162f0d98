"""`reelgan synth`: synthetic datasets from a trained generator: `export` writes a labelled set (with a dataset
card, every image disclosed as AI-made, resumable), `score` measures how useful it is for training."""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path

from ..errors import ReelganError
from ..paths import output_file, output_folder
from .common import (
    add_c2pa_options,
    add_command,
    add_source_argument,
    sign_and_report,
    signer_from_args,
    source_path,
    subcommand_adder,
)

EXAMPLES = """\
  reelgan synth export runs/00004-letters-r3gan-32 --out synth/ --n-per-class 500
  reelgan synth export latest --out synth-npz/ --layout npz --n 9000 --balance --shard-size 2000
  reelgan synth export latest --out synth-wds/ --layout webdataset --n-per-class 1000 --reject-copies --real ~/letters
  reelgan synth export latest --out glyphs/ --n 2000 --reject-copies            # logograms: compared with the set
  reelgan synth score synth/ --real ~/letters --epochs 5 --out score.json
"""


def _export_parser(e: argparse.ArgumentParser) -> None:
    add_source_argument(e)
    e.add_argument("--out", required=True, help="the dataset folder (an unfinished export there continues)")
    e.add_argument("--n", type=int, help="images in all (a conditional generator's classes drawn at random; "
                   "add --balance for equal counts)")
    e.add_argument("--n-per-class", type=int, help="images of each class (class-conditional generators)")
    e.add_argument("--classes", help="only these classes, comma-separated names or numbers (default: all)")
    e.add_argument("--layout", help="images: imagefolder (CLASS/000123.png), npz (part-00000.npz) or webdataset "
                   "(shard-00000.tar) (default imagefolder); clips: mp4 (samples/000123.mp4), frames "
                   "(samples/000123/frame-000.png) or npz (default mp4)")
    e.add_argument("--fps", type=int, default=8, help="clips: frames per second of the MP4s (default 8)")
    e.add_argument("--shard-size", type=int, help="npz and webdataset: images per file (default 1000)")
    e.add_argument("--truncation", type=float, default=1.0, help="0-1: lower is more typical, less varied")
    e.add_argument("--seed", type=int, default=0, help="base seed: image k of class c always comes from the seed "
                   "derived from (seed, c, k) (default 0)")
    e.add_argument("--reject-copies", action="store_true", help="drop near copies of training images (the copy "
                   "audit's criterion) and draw replacements, so the counts stay as asked")
    e.add_argument("--real", help="with --reject-copies: the training images (folder, zip, npy/npz; default: the "
                   "generator's built-in dataset, such as logograms)")
    e.add_argument("--copy-quantile", type=float, default=0.01, help="a sample nearer to a training image than "
                   "this share of held-out training images are is a copy (default 0.01)")
    e.add_argument("--max-real", type=int, default=20000, help="training images compared with at most "
                   "(default 20000)")
    e.add_argument("--balance", action="store_true", help="with --n: the same number of images of every class")
    e.add_argument("--batch", type=int, default=256, help="images generated at once (default 256; a resumed "
                   "export needs the same)")
    e.add_argument("--overwrite", action="store_true", help="start again in a folder holding an export (its "
                   "files are replaced) or other files")
    e.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_c2pa_options(e, each="also sign every image, clip or shard, not only labels.csv and README.md (about "
                     "5 ms a 32-64 px PNG and 11 ms at 256 px on one CPU core: 100,000 small images take some 8 "
                     "minutes more)")
    e.set_defaults(run=run_export)


def _score_parser(s: argparse.ArgumentParser) -> None:
    s.add_argument("folder", help="a synthetic set written by `reelgan synth export` (any layout)")
    s.add_argument("--real", required=True, help="real images in class subfolders: a folder or a zip (as "
                   "`reelgan train --cond` reads them)")
    s.add_argument("--class-depth", type=int, default=1, help="folder levels that name a class (default 1)")
    s.add_argument("--epochs", type=int, default=5, help="training epochs of each classifier (default 5)")
    s.add_argument("--seed", type=int, default=0, help="seed of the real train/test split and of every "
                   "classifier (default 0)")
    s.add_argument("--resolution", type=int, help="size the images are classified at (default: the synthetic "
                   "set's, at most 32 px)")
    s.add_argument("--test-fraction", type=float, default=0.2, help="share of each real class held out for "
                   "testing (default 0.2)")
    s.add_argument("--subset-fraction", type=float, default=0.1, help="share of each real class's training "
                   "images in the augmentation subset (default 0.1)")
    s.add_argument("--batch", type=int, default=64, help="classifier batch size (default 64)")
    s.add_argument("--device", default="cpu", help="auto, cpu, cuda or mps (default cpu, for repeatable numbers)")
    s.add_argument("--out", default="synth-score.json", help="the JSON report (default synth-score.json)")
    s.add_argument("--overwrite", action="store_true", help="replace an existing report")
    s.add_argument("--no-progress", action="store_true", help="no progress bar")
    s.set_defaults(run=run_score)


def add_parser(subparsers) -> None:
    """Register `reelgan synth` and its subcommands."""
    p = add_command(subparsers, "synth", "synthetic datasets: export labelled, AI-disclosed images from a "
                    "generator, and score how useful they are for training classifiers", EXAMPLES)
    sub = subcommand_adder(p, "synth_command", EXAMPLES)
    _export_parser(sub("export", "write a labelled synthetic dataset (imagefolder, npz or webdataset) with "
                       "labels.csv and a dataset card; rerun to continue an interrupted export"))
    _score_parser(sub("score", "how useful is a synthetic set: CAS (GAN-train), GAN-test, augmentation gain, "
                      "and the real-data yardstick"))


def run_export(args: argparse.Namespace) -> int:
    """Check everything, load the generator, export, and say what was written."""
    from ..gan.generator import load_generator
    from ..synth import ExportSettings, export_synthetic
    from ..synth.plan import default_layout

    classes = None
    if args.classes is not None:
        classes = tuple(name.strip() for name in args.classes.split(",") if name.strip())
        if not classes:
            raise ReelganError("--classes needs at least one class name, such as a,b")
    settings = ExportSettings(layout=args.layout or "imagefolder", n=args.n, n_per_class=args.n_per_class,
                              classes=classes, shard_size=args.shard_size, truncation=args.truncation, seed=args.seed,
                              reject_copies=args.reject_copies, real=args.real, copy_quantile=args.copy_quantile,
                              max_real=args.max_real, balance=args.balance, batch=args.batch, fps=args.fps)
    settings.check()
    output_folder(args.out)
    signer = signer_from_args(args)
    if args.c2pa_each and signer is None:
        raise ReelganError("--c2pa-each signs with a certificate: add --c2pa-cert and --c2pa-key (or set "
                           "REELGAN_C2PA_CERT and REELGAN_C2PA_KEY)")
    source = source_path(args)
    G = load_generator(source, device=args.device)
    if args.layout is None:
        settings = replace(settings, layout=default_layout(G))
    summary = export_synthetic(G, args.out, settings, source=str(source), overwrite=args.overwrite,
                               show_progress=not args.no_progress)
    counts = ", ".join(f"{name} {count}" for name, count in list(summary["counts"].items())[:8])
    more = " ..." if len(summary["counts"]) > 8 else ""
    items = "clips" if G.is_video else "images"
    if summary["already_complete"]:
        print(f"{summary['out']} already holds this export, complete ({summary['images']} {items}); nothing to do")
        _sign_export(signer, summary, G, source, args.c2pa_each)
        return 0
    resumed = f", continued from unit {summary['resumed_from_unit']}" if summary["resumed_from_unit"] else ""
    print(f"wrote {summary['images']} {items} ({counts}{more}) to {summary['out']}/ as {summary['layout']}"
          f"{resumed}; labels.csv and README.md (the dataset card) beside them")
    if summary["dropped"] is not None:
        print(f"dropped {summary['dropped']} near copies of training images of {summary['candidates']} candidates "
              f"(RMS pixel distance below {summary['criterion']['pixel_threshold']:.4f})")
    _sign_export(signer, summary, G, source, args.c2pa_each)
    return 0


def _sign_export(signer, summary: dict, G, source: Path, each: bool) -> None:
    """Sign the dataset card and labels.csv (sidecars) and, with `each`, every sample or shard (without a
    signer, only an earlier export's stale sidecars are removed)."""
    from ..synth.export import data_files, dataset_record

    out = Path(summary["out"])
    record = dataset_record(G, summary["layout"], summary["images"], str(source))
    sign_and_report(signer, [out / "README.md", out / "labels.csv", *(data_files(out) if each else [])], record)


def run_score(args: argparse.Namespace) -> int:
    """Train the four classifiers, print the table, write the JSON report."""
    from ..devices import pick_device
    from ..media import atomic_path
    from ..synth import ClassifierSettings, markdown_table, score_synthetic

    out = output_file(args.out, args.overwrite)
    settings = ClassifierSettings(epochs=args.epochs, batch=args.batch)
    device = pick_device(args.device)
    report = score_synthetic(Path(args.folder), args.real, settings=settings, seed=args.seed,
                             resolution=args.resolution, class_depth=args.class_depth,
                             test_fraction=args.test_fraction, subset_fraction=args.subset_fraction, device=device,
                             show_progress=not args.no_progress)
    with atomic_path(out) as tmp:
        Path(tmp).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(markdown_table(report))
    print(f"report: {out}")
    return 0
