"""The quality benchmark's datasets: where each comes from, how to prepare it, and how reelgan reads it.

Every dataset ends up as a source string that `reelgan train --data` reads (a folder of PNGs, a .zip, a .npy,
or the built-in "logograms"), plus the source its reference statistics come from (the same set, or a held-out
split where one exists). Downloaded and converted data lives outside the repository (default /work/data,
or $REELGAN_BENCH_DATA); nothing here is committed.

    python -m benchmarks.quality.datasets list
    python -m benchmarks.quality.datasets prepare fashion-mnist      # -> /work/data/fashion-mnist/
    python -m benchmarks.quality.datasets prepare twemoji            # -> /work/data/twemoji/
    python -m benchmarks.quality.datasets prepare twemoji-faces      # -> /work/data/twemoji-faces/
    python -m benchmarks.quality.datasets verify                     # loads each with reelgan, prints N

Sources (see README.md beside this file for licences and the choices made):

- omniglot: ../shared/data/omniglot_background.zip, read by reelgan directly (nothing to prepare).
- logograms: reelgan's built-in procedural set (20,000 glyphs of data seed 0; the reference is glyphs of seed 1).
- fashion-mnist: the 70,000 PNGs of Fashion-MNIST in the public repository Sentdex/nnfs_book (commit
  6c459c9e, folder fashion_mnist_images/, MIT licence of Zalando SE), because zalandoresearch/fashion-mnist's
  image files are too large for the snapshot store. Bring it in with the search tool's
  `fetch github:Sentdex/nnfs_book`; `prepare` reads the PNGs from that bare git directory. 10,000 training
  images (1,000 per class, seeded choice) -> fashion-mnist.npy (N, 28, 28) uint8; the 10,000 test images ->
  fashion-mnist-test.npy, the reference for the metrics.
- twemoji: Twemoji v16.0.1 (jdecked's maintained fork of twitter/twemoji), 3,786 64x64 PNGs from the npm package
  emoji-datasource-twitter 16.0.0 (graphics CC-BY 4.0), because the twitter/twemoji and jdecked/twemoji
  repositories are over the snapshot size limit. `prepare` runs `npm pack` (or takes --tarball).
- twemoji-faces: the small-data case, 478 images of the same package: every face of "Smileys & Emotion"
  (subcategories face-*, cat-face, monkey-face) and every "person" and "person-gesture" emoji of
  "People & Body" with its skin-tone variants.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
DATA_ROOT = Path(os.environ.get("REELGAN_BENCH_DATA", "/work/data"))
SHARED_DATA = REPO.parent / "shared" / "data"
MIRROR_ROOT = Path("/work/.mirror")

FASHION_REPO = "Sentdex/nnfs_book"
FASHION_COMMIT = "6c459c9ebadcccb2b4967da1cce1b57ed32e2791"  # the last commit that holds fashion_mnist_images/
FASHION_PER_CLASS = 1000  # training images per class: 10,000 in all
FASHION_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
                   "Ankle boot")
TWEMOJI_PACKAGE = "emoji-datasource-twitter"
TWEMOJI_VERSION = "16.0.0"  # holds Twemoji v16.0.1 (jdecked/twemoji)
TWEMOJI_PNG_DIR = "package/img/twitter/64/"
FACE_SUBCATEGORIES = ("cat-face", "monkey-face")  # plus every "face-*" subcategory of Smileys & Emotion
PERSON_SUBCATEGORIES = ("person", "person-gesture")  # of People & Body, with skin tones


@dataclass(frozen=True)
class BenchDataset:
    """One benchmark dataset as reelgan sources."""

    name: str
    channels: int       # channels reelgan trains and measures with
    train: str          # --data of the training runs
    reference: str      # the real images the metrics compare samples with
    licence: str
    origin: str
    prepared_by: str    # the command that makes `train` (and `reference`) exist

    def missing(self) -> list[str]:
        """The paths among train and reference that do not exist yet."""
        return [s for s in {self.train, self.reference} if s != "logograms" and not Path(s).exists()]


def datasets(root: str | Path | None = None) -> dict[str, BenchDataset]:
    """The benchmark's datasets, with prepared data under `root` (default $REELGAN_BENCH_DATA or /work/data)."""
    root = Path(root) if root is not None else DATA_ROOT
    omniglot = str(SHARED_DATA / "omniglot_background.zip")
    prepare = "python -m benchmarks.quality.datasets prepare"
    return {
        "logograms": BenchDataset(
            "logograms", 1, "logograms", "logograms", "reelgan's own procedural glyphs (the project's licence)",
            "built into reelgan; training uses data seed 0, the reference glyphs of seed 1", "nothing to prepare"),
        "omniglot": BenchDataset(
            "omniglot", 1, omniglot, omniglot, "MIT (brendenlake/omniglot)",
            "Omniglot background set, 19,280 105x105 1-bit PNGs of 964 characters of 30 alphabets "
            "(../shared/data/SOURCES.md)", "nothing to prepare (read from ../shared/data)"),
        "fashion-mnist": BenchDataset(
            "fashion-mnist", 1, str(root / "fashion-mnist" / "fashion-mnist.npy"),
            str(root / "fashion-mnist" / "fashion-mnist-test.npy"), "MIT (Zalando SE)",
            f"Fashion-MNIST (Xiao, Rasul & Vollgraf 2017), 28x28 grayscale, as PNGs in {FASHION_REPO} at "
            f"{FASHION_COMMIT[:8]}: 10,000 of the 60,000 training images, the 10,000 test images as reference",
            f"fetch github:{FASHION_REPO} (search tool), then {prepare} fashion-mnist"),
        "twemoji": BenchDataset(
            "twemoji", 3, str(root / "twemoji"), str(root / "twemoji"),
            "graphics CC-BY 4.0 (Twitter, Inc and other contributors); package MIT",
            f"Twemoji v16.0.1, 64x64 RGBA PNGs from npm {TWEMOJI_PACKAGE}@{TWEMOJI_VERSION}; "
            "trained as RGB composited on white", f"{prepare} twemoji"),
        "twemoji-faces": BenchDataset(
            "twemoji-faces", 3, str(root / "twemoji-faces"), str(root / "twemoji-faces"),
            "graphics CC-BY 4.0 (Twitter, Inc and other contributors); package MIT",
            "the small-data case: Twemoji faces (Smileys & Emotion face-*, cat-face, monkey-face) and people "
            "(People & Body person, person-gesture, every skin tone)", f"{prepare} twemoji-faces"),
    }


def get_dataset(name: str, root: str | Path | None = None) -> BenchDataset:
    """The named dataset, or SystemExit listing the known names."""
    known = datasets(root)
    if name not in known:
        raise SystemExit(f"unknown dataset {name!r}; known: {', '.join(known)}")
    return known[name]


# ---- preparing ----------------------------------------------------------------------------------------------


def sha256_file(path: str | Path) -> str:
    """sha256 of a file's bytes, in hex."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _git(git_dir: Path, *args: str, data: bytes | None = None) -> bytes:
    result = subprocess.run(["git", f"--git-dir={git_dir}", *args], input=data, capture_output=True, check=False)
    if result.returncode != 0:
        raise SystemExit(f"git {' '.join(args[:2])} in {git_dir} failed: {result.stderr.decode().strip()}")
    return result.stdout


def read_git_files(git_dir: Path, commit: str, prefix: str) -> dict[str, bytes]:
    """Every file under `prefix` at `commit` of a bare git directory, as {path: bytes} (one `cat-file --batch`)."""
    rows = [line.split("\t", 1) for line in _git(git_dir, "ls-tree", "-r", commit, prefix).decode().splitlines()]
    entries = [(meta.split()[2], path) for meta, path in rows if meta.split()[1] == "blob"]
    if not entries:
        raise SystemExit(f"{git_dir} has no files under {prefix} at {commit[:8]}")
    out = _git(git_dir, "cat-file", "--batch", data="".join(f"{sha}\n" for sha, _ in entries).encode())
    files, pos = {}, 0
    for sha, path in entries:
        end = out.index(b"\n", pos)
        header = out[pos:end].decode().split()
        if header[1] == "missing":
            raise SystemExit(f"{path} ({sha[:8]}) is missing from {git_dir}: the snapshot lacks it")
        size = int(header[2])
        files[path] = out[end + 1:end + 1 + size]
        pos = end + 1 + size + 1  # content, then a newline
    return files


def _decode_gray(data: bytes) -> np.ndarray:
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        array = np.asarray(image.convert("L"), dtype=np.uint8)
    if array.shape != (28, 28):
        raise SystemExit(f"expected 28x28 Fashion-MNIST images; got {array.shape}")
    return array


def prepare_fashion_mnist(out: Path, git_dir: Path | None = None, commit: str = FASHION_COMMIT,
                          per_class: int = FASHION_PER_CLASS, seed: int = 0) -> dict:
    """fashion-mnist.npy (10 x per_class training images), fashion-mnist-test.npy (all 10,000 test images),
    fashion-mnist-labels.npz (train, test), from the PNGs of Sentdex/nnfs_book's bare git directory."""
    git_dir = git_dir or MIRROR_ROOT / FASHION_REPO.replace("/", "+") / "repo"
    if not git_dir.exists():
        raise SystemExit(f"{git_dir} not found: bring the repository in first with the search tool's "
                         f"`fetch github:{FASHION_REPO}`, or pass --git-dir")
    files = read_git_files(git_dir, commit, "fashion_mnist_images/")
    licence = files.pop("fashion_mnist_images/LICENSE", b"").decode()
    rng = np.random.default_rng(seed)
    splits: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for split in ("train", "test"):
        images, labels = [], []
        for label in range(10):
            names = sorted(p for p in files if p.startswith(f"fashion_mnist_images/{split}/{label}/"))
            if split == "train":
                names = [names[i] for i in np.sort(rng.choice(len(names), per_class, replace=False))]
            images += [_decode_gray(files[p]) for p in names]
            labels += [label] * len(names)
        splits[split] = (np.stack(images), np.array(labels, dtype=np.uint8))  # (N, 28, 28), (N,)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"train": out / "fashion-mnist.npy", "test": out / "fashion-mnist-test.npy"}
    for split, path in paths.items():
        np.save(path, splits[split][0])
    np.savez(out / "fashion-mnist-labels.npz", train=splits["train"][1], test=splits["test"][1])
    (out / "LICENSE").write_text(licence or "MIT License, Copyright (c) 2017 Zalando SE\n")
    return {"repository": FASHION_REPO, "commit": commit, "classes": list(FASHION_CLASSES),
            "train_images": len(splits["train"][0]), "test_images": len(splits["test"][0]),
            "train_selection": f"{per_class} per class of the 6,000, numpy default_rng({seed}).choice, sorted",
            "files": {p.name: sha256_file(p) for p in paths.values()}}


def twemoji_tarball(tarball: Path | None, downloads: Path) -> Path:
    """The emoji-datasource-twitter tarball: the one given, one already in `downloads`, or `npm pack` it there."""
    if tarball is not None:
        if not tarball.is_file():
            raise SystemExit(f"--tarball {tarball} not found")
        return tarball
    path = downloads / f"{TWEMOJI_PACKAGE}-{TWEMOJI_VERSION}.tgz"
    if not path.is_file():
        downloads.mkdir(parents=True, exist_ok=True)
        print(f"npm pack {TWEMOJI_PACKAGE}@{TWEMOJI_VERSION} -> {downloads} (about 62 MB)", flush=True)
        result = subprocess.run(["npm", "pack", f"{TWEMOJI_PACKAGE}@{TWEMOJI_VERSION}", "--pack-destination",
                                 str(downloads)], capture_output=True, text=True, check=False)
        if result.returncode != 0 or not path.is_file():
            raise SystemExit(f"npm pack failed ({result.stderr.strip()[-300:]}); download the tarball "
                             "another way and pass --tarball")
    return path


def face_images(emoji: list[dict]) -> list[str]:
    """File names of the twemoji-faces subset: Smileys & Emotion faces and People & Body people, every skin tone."""
    def files(entry: dict) -> list[str]:
        names = [entry["image"]] if entry.get("has_img_twitter") else []
        names += [v["image"] for v in (entry.get("skin_variations") or {}).values() if v.get("has_img_twitter")]
        return names

    chosen = []
    for entry in emoji:
        sub = entry["subcategory"]
        face = entry["category"] == "Smileys & Emotion" and (sub.startswith("face-") or sub in FACE_SUBCATEGORIES)
        person = entry["category"] == "People & Body" and sub in PERSON_SUBCATEGORIES
        if face or person:
            chosen += files(entry)
    return sorted(set(chosen))


TWEMOJI_SOURCE_NOTE = """\
# {name}

{count} Twemoji graphics (64x64 RGBA PNG), Twemoji v16.0.1 by Twitter, Inc and other contributors
(https://github.com/jdecked/twemoji, the maintained fork of twitter/twemoji), licensed CC-BY 4.0
(https://creativecommons.org/licenses/by/4.0/). Taken from the npm package {package}@{version}
(iamcal/emoji-data, MIT), folder img/twitter/64/. {selection}
Made by `python -m benchmarks.quality.datasets prepare {name}`. Not for the repository.
"""


def prepare_twemoji(out: Path, name: str, tarball: Path | None, downloads: Path) -> dict:
    """Extract the 64x64 PNGs (all of them, or the faces subset) of the emoji-datasource-twitter tarball."""
    tarball = twemoji_tarball(tarball, downloads)
    with tarfile.open(tarball) as archive:
        members = {m.name: m for m in archive.getmembers() if m.isfile()}
        emoji = json.load(archive.extractfile(members["package/emoji.json"]))
        pngs = sorted(n for n in members if n.startswith(TWEMOJI_PNG_DIR) and n.endswith(".png"))
        if name == "twemoji-faces":
            wanted = {TWEMOJI_PNG_DIR + f for f in face_images(emoji)}
            pngs = [n for n in pngs if n in wanted]
            selection = ("Subset: every face of 'Smileys & Emotion' (face-*, cat-face, monkey-face) and every "
                         "'person' and 'person-gesture' emoji of 'People & Body' with its skin-tone variants.")
        else:
            selection = "All of the package's 64 px images."
        out.mkdir(parents=True, exist_ok=True)
        for stale in out.glob("*.png"):
            stale.unlink()
        for member in pngs:
            (out / Path(member).name).write_bytes(archive.extractfile(members[member]).read())
    (out / "SOURCE.md").write_text(TWEMOJI_SOURCE_NOTE.format(name=name, count=len(pngs), package=TWEMOJI_PACKAGE,
                                                              version=TWEMOJI_VERSION, selection=selection))
    return {"package": f"{TWEMOJI_PACKAGE}@{TWEMOJI_VERSION}", "tarball_sha256": sha256_file(tarball),
            "images": len(pngs), "selection": selection}


def verify(spec: BenchDataset, resolution: int = 32) -> dict:
    """Load the training and reference sources with reelgan; their image counts."""
    from reelgan.config import DataConfig
    from reelgan.data import build_dataset

    counts = {}
    for role, source in (("train", spec.train), ("reference", spec.reference)):
        if role == "reference" and source == spec.train and source != "logograms":
            counts[role] = counts["train"]
            continue
        dataset = build_dataset(DataConfig(source=source, resolution=resolution, channels=spec.channels,
                                           seed=1 if role == "reference" else 0))
        item = dataset[0][0]
        assert tuple(item.shape) == (spec.channels, resolution, resolution), item.shape
        assert -1.0 <= float(item.min()) and float(item.max()) <= 1.0
        counts[role] = len(dataset)
        counts[f"{role}_skipped"] = int(getattr(dataset, "skipped", 0))
    return counts


def prepare(name: str, out: Path | None = None, root: Path | None = None, git_dir: Path | None = None,
            tarball: Path | None = None, downloads: Path | None = None) -> dict:
    """Make dataset `name` exist (under `out`, default ROOT/NAME), verify it loads, write prepared.json there."""
    root = root or DATA_ROOT
    spec = get_dataset(name, root)
    out = out or root / name
    downloads = downloads or root / "downloads"
    if name == "fashion-mnist":
        info = prepare_fashion_mnist(out, git_dir)
    elif name in ("twemoji", "twemoji-faces"):
        info = prepare_twemoji(out, name, tarball, downloads)
    elif name == "omniglot":
        if not Path(spec.train).is_file():
            raise SystemExit(f"{spec.train} not found; it comes with the project's shared/ data")
        info = {"sha256": sha256_file(spec.train)}
        out = None  # read in place
    else:
        info = {}
        out = None
    if out is not None and out != root / name:
        print(f"note: run.py looks for {name} under --data-root {root}; pass --data-root {out.parent} "
              f"if the folder is named {name}", file=sys.stderr)
    counts = verify(get_dataset(name, out.parent if out is not None else root))
    record = {**asdict(spec), **info, "counts_at_32px": counts}
    if out is not None:
        (out / "prepared.json").write_text(json.dumps(record, indent=2) + "\n")
    return record


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.quality.datasets", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-root", type=Path, default=DATA_ROOT, help=f"where prepared data lives ({DATA_ROOT})")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="the datasets, their sources and licences")
    p = commands.add_parser("prepare", help="make a dataset exist as a reelgan source, then verify it")
    p.add_argument("name", choices=list(datasets()))
    p.add_argument("--out", type=Path, help="folder to write (default DATA_ROOT/NAME)")
    p.add_argument("--git-dir", type=Path, help=f"fashion-mnist: bare git directory of {FASHION_REPO} "
                   "(default: where `fetch` puts it)")
    p.add_argument("--tarball", type=Path, help=f"twemoji: a {TWEMOJI_PACKAGE}-{TWEMOJI_VERSION}.tgz you have")
    p.add_argument("--downloads", type=Path, help="twemoji: where npm pack writes (default DATA_ROOT/downloads)")
    v = commands.add_parser("verify", help="load datasets with reelgan (32 px) and print their sizes")
    v.add_argument("names", nargs="*", help="default: all")
    args = parser.parse_args(argv)

    if args.command == "list":
        for spec in datasets(args.data_root).values():
            state = "ready" if not spec.missing() else "missing: " + ", ".join(spec.missing())
            print(f"{spec.name:14s} C={spec.channels}  {state}\n  train     {spec.train}\n  reference "
                  f"{spec.reference}\n  licence   {spec.licence}\n  origin    {spec.origin}\n  prepare   "
                  f"{spec.prepared_by}")
        return 0
    if args.command == "prepare":
        record = prepare(args.name, args.out, args.data_root, args.git_dir, args.tarball, args.downloads)
        print(json.dumps(record["counts_at_32px"]))
        return 0
    for name in args.names or list(datasets()):
        spec = get_dataset(name, args.data_root)
        if spec.missing():
            print(f"{name}: missing {', '.join(spec.missing())}; {spec.prepared_by}")
            continue
        print(f"{name}: {json.dumps(verify(spec))}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
