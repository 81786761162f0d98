"""Synthetic datasets: `reelgan synth export` (layouts, labels, the card, provenance, determinism, resume, copy
rejection) and `reelgan synth score` (CAS / GAN-train, GAN-test, augmentation), with tiny generators."""

from __future__ import annotations

import csv
import hashlib
import json
import re
import tarfile
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import tiny_generator_spec
from PIL import Image

from reelgan.cli.main import main
from reelgan.data.image_sets import ImageDataset
from reelgan.errors import ReelganError
from reelgan.gan.generator import Generator, build_from_spec, export_generator
from reelgan.provenance import read_record
from reelgan.synth import ClassifierSettings, ExportSettings, export_synthetic, layouts, sample_seed, score_synthetic

CLASSES = ["a", "b", "c"]
REAL_PER_CLASS = 20
FAST = ClassifierSettings(epochs=10, batch=8, width=8, lr=3e-3)


def make_spec(**changes) -> dict:
    return tiny_generator_spec(**{"latent_dim": 16, "max_width": 16, "class_names": list(CLASSES), **changes})


def tiny_generator(**changes) -> Generator:
    """An untrained conditional generator: random weights still give varied images."""
    spec = make_spec(**changes)
    torch.manual_seed(0)
    return Generator(build_from_spec(spec), spec)


def pattern(class_index: int, i: int) -> np.ndarray:
    """A 16 px grey image of a class: horizontal stripes (a), vertical stripes (b) or a bright square (c), with
    a random phase or place and noise, so that no two are the same."""
    rng = np.random.default_rng([class_index, i])
    y, x = np.mgrid[:16, :16]
    shift = int(rng.integers(4))
    if class_index == 0:
        base = ((y + shift) // 2 % 2) * 200
    elif class_index == 1:
        base = ((x + shift) // 2 % 2) * 200
    else:
        top, left = rng.integers(0, 10, size=2)
        base = ((y >= top) & (y < top + 6) & (x >= left) & (x < left + 6)) * 220
    return np.clip(base + rng.integers(0, 40, size=(16, 16)), 0, 255).astype(np.uint8)


@pytest.fixture
def real_folder(tmp_path) -> Path:
    """Class subfolders a/, b/, c/ of 16 px PNGs."""
    root = tmp_path / "real"
    for c, name in enumerate(CLASSES):
        (root / name).mkdir(parents=True)
        for i in range(REAL_PER_CLASS):
            Image.fromarray(pattern(c, i)).save(root / name / f"{i:03d}.png")
    return root


def real_tensor() -> tuple[torch.Tensor, torch.Tensor]:
    """The real images (N, 1, 16, 16) in [-1, 1] and their labels, as real_folder holds them."""
    images = [pattern(c, i) for c in range(len(CLASSES)) for i in range(REAL_PER_CLASS)]
    labels = [c for c in range(len(CLASSES)) for _ in range(REAL_PER_CLASS)]
    pixels = torch.from_numpy(np.stack(images)).float()[:, None] / 127.5 - 1
    return pixels, torch.tensor(labels)


class FixedImages(torch.nn.Module):
    """A stand-in generator network: returns stored images of the asked class, picked by the latent. With
    `copy_share` < 1, the rest are noise from the latent (far from every stored image); with `noise`, all are."""

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, copy_share: float = 1.0, noise: bool = False):
        super().__init__()
        self.register_buffer("images", images)
        self.register_buffer("labels", labels)
        self.register_buffer("projection", torch.randn(16, 256, generator=torch.Generator().manual_seed(3)))
        self.copy_share, self.noise = copy_share, noise

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        out = []
        for row, latent in enumerate(z):
            pool = torch.arange(len(self.images)) if labels is None else torch.nonzero(self.labels == labels[row])[:, 0]
            pick = pool[int(latent[0].abs() * 1000) % len(pool)]
            copy = not self.noise and float(torch.special.ndtr(latent[1])) < self.copy_share
            out.append(self.images[pick] if copy else torch.tanh(latent @ self.projection).reshape(1, 16, 16))
        return torch.stack(out)


def fake_generator(**kwargs) -> Generator:
    images, labels = real_tensor()
    return Generator(FixedImages(images, labels, **kwargs), make_spec())


def export(G: Generator, out: Path, overwrite: bool = False, **settings) -> dict:
    return export_synthetic(G, out, ExportSettings(**{"batch": 4, **settings}), overwrite=overwrite,
                            show_progress=False)


def tree(root: Path) -> dict[str, bytes]:
    """Every file under root (hidden ones too) -> its bytes."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def labels_csv(out: Path) -> list[dict]:
    with open(out / "labels.csv", newline="") as f:
        return list(csv.DictReader(f))


# ---- layouts

def test_imagefolder_layout_is_what_imagefolder_readers_expect(tmp_path):
    G = tiny_generator()
    summary = export(G, tmp_path / "out", n_per_class=4)
    out = tmp_path / "out"
    assert summary["counts"] == {"a": 4, "b": 4, "c": 4}
    for name in CLASSES:
        assert sorted(p.name for p in (out / name).iterdir()) == [f"{k:06d}.png" for k in range(4)]
    dataset = ImageDataset(out, 16, 1, cond=True)
    assert dataset.class_names == CLASSES and dataset.labels.bincount().tolist() == [4, 4, 4]
    assert not (out / ".synth-parts").exists()


def test_imagefolder_of_an_unconditional_generator_uses_samples(tmp_path):
    G = tiny_generator(class_names=[])
    export(G, tmp_path / "out", n=5)
    assert sorted(p.name for p in (tmp_path / "out" / "samples").iterdir()) == [f"{k:06d}.png" for k in range(5)]
    rows = labels_csv(tmp_path / "out")
    assert [r["class"] for r in rows] == [""] * 5 and [r["class_index"] for r in rows] == [""] * 5


def test_npz_parts_hold_at_most_shard_size_images_with_labels(tmp_path):
    G = tiny_generator()
    export(G, tmp_path / "out", layout="npz", n=9, balance=True, shard_size=4)
    parts = sorted((tmp_path / "out").glob("part-*.npz"))
    assert [p.name for p in parts] == ["part-00000.npz", "part-00001.npz", "part-00002.npz"]
    labels = []
    for path in parts:
        with np.load(path, allow_pickle=False) as part:
            assert part["images"].dtype == np.uint8 and part["images"].shape[1:] == (16, 16, 1)
            assert len(part["images"]) == len(part["labels"]) == len(part["seeds"]) == len(part["records"])
            assert list(part["class_names"]) == CLASSES
            record = json.loads(part["records"][0])
            assert record["ai_generated"] is True and record["generator_hash"] == G.hash
            labels += part["labels"].tolist()
    assert [len(np.load(p)["images"]) for p in parts] == [4, 4, 1]
    assert sorted(labels) == [0, 0, 0, 1, 1, 1, 2, 2, 2]
    assert [r["file"] for r in labels_csv(tmp_path / "out")][:5] == [f"part-00000.npz#{i}" for i in range(4)] + [
        "part-00001.npz#0"]


def test_webdataset_shards_group_png_cls_and_json_by_key(tmp_path):
    G = tiny_generator()
    export(G, tmp_path / "out", layout="webdataset", n_per_class=3, shard_size=5)
    shards = sorted((tmp_path / "out").glob("shard-*.tar"))
    assert [s.name for s in shards] == ["shard-00000.tar", "shard-00001.tar"]
    with tarfile.open(shards[0]) as tar:
        names = tar.getnames()
        assert names[:3] == ["000000.png", "000000.cls", "000000.json"]
        assert len(names) == 15
        meta = json.loads(tar.extractfile("000001.json").read())
        assert meta["class"] == CLASSES[int(tar.extractfile("000001.cls").read())]
        assert meta["generator_sha256"] == G.hash
        png = tar.extractfile("000001.png").read()
    (tmp_path / "member.png").write_bytes(png)
    record = read_record(tmp_path / "member.png")
    assert record["ai_generated"] is True and record["seed"] == meta["seed"] and record["class"] == meta["class"]
    with tarfile.open(shards[1]) as tar:
        assert len(tar.getnames()) == 12  # items 5..8


# ---- labels.csv, the card, provenance

def test_labels_csv_and_every_image_carry_the_ai_record(tmp_path):
    G = tiny_generator()
    export(G, tmp_path / "out", n_per_class=2, truncation=0.7, seed=5)
    rows = labels_csv(tmp_path / "out")
    assert list(rows[0]) == ["file", "class", "class_index", "seed", "truncation", "generator_sha256"]
    assert len(rows) == 6
    for row in rows:
        record = read_record(tmp_path / "out" / row["file"])
        assert record["ai_generated"] is True and "trainedAlgorithmicMedia" in record["digital_source_type"]
        assert record["generator_hash"] == G.hash == row["generator_sha256"]
        assert record["seed"] == int(row["seed"]) and record["class"] == row["class"]
        assert record["class_index"] == int(row["class_index"]) and record["truncation"] == 0.7
        k = int(Path(row["file"]).stem)
        assert int(row["seed"]) == sample_seed(5, int(row["class_index"]), k)
    assert main(["verify", str(tmp_path / "out" / rows[0]["file"])]) == 0


def test_dataset_card_has_the_hugging_face_layout_and_the_facts(tmp_path):
    G = tiny_generator()
    export(G, tmp_path / "out", n_per_class=3)
    card = (tmp_path / "out" / "README.md").read_text()
    front = card.split("---")[1]
    assert "license: other" in front
    assert "task_categories:\n- image-classification" in front
    assert "- synthetic" in front and "- ai-generated" in front
    for section in ("## Dataset description", "## How it was made", "## Counts per class", "## AI disclosure",
                    "## Licence", "## Memorisation audit"):
        assert section in card
    assert G.hash in card and '"dataset": "test"' in card and "`test`" in card
    assert "| a | 0 | 3 |" in card and "**9**" in card
    assert "Not run" in card


# ---- determinism

def test_same_seed_same_bytes_other_seed_other_images(tmp_path):
    G = tiny_generator()
    export(G, tmp_path / "one", n_per_class=3, layout="webdataset")
    export(G, tmp_path / "two", n_per_class=3, layout="webdataset")
    assert tree(tmp_path / "one") == tree(tmp_path / "two")
    export(G, tmp_path / "three", n_per_class=3, layout="webdataset", seed=1)
    one, three = tree(tmp_path / "one"), tree(tmp_path / "three")
    assert one["shard-00000.tar"] != three["shard-00000.tar"]


def test_image_k_of_a_class_does_not_depend_on_how_many_are_made(tmp_path):
    G = tiny_generator()
    export(G, tmp_path / "small", n_per_class=2)
    export(G, tmp_path / "large", n_per_class=5, batch=3)
    for name in CLASSES:
        for k in range(2):
            small = np.asarray(Image.open(tmp_path / "small" / name / f"{k:06d}.png"))
            large = np.asarray(Image.open(tmp_path / "large" / name / f"{k:06d}.png"))
            assert np.array_equal(small, large)


def test_n_without_balance_draws_classes_by_seed(tmp_path):
    G = tiny_generator()
    first = export(G, tmp_path / "one", n=12, layout="npz")
    again = export(G, tmp_path / "two", n=12, layout="npz")
    assert first["counts"] == again["counts"] and sum(first["counts"].values()) == 12


# ---- resume

def interrupt_after(monkeypatch, name: str, calls: int) -> None:
    """Make layouts.`name` (the PNG or npz writer) raise KeyboardInterrupt on call number `calls` + 1."""
    real = getattr(layouts, name)
    count = {"n": 0}

    def writer(*args, **kwargs):
        if count["n"] == calls:
            raise KeyboardInterrupt
        count["n"] += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(layouts, name, writer)


@pytest.mark.parametrize("layout, writer, calls", [("imagefolder", "save_png", 6), ("webdataset", "save_png", 7),
                                                   ("npz", "write_npz", 1)])
def test_an_interrupted_export_continues_to_the_same_bytes(tmp_path, monkeypatch, layout, writer, calls):
    G = tiny_generator()
    settings = {"n_per_class": 4, "layout": layout} | ({} if layout == "imagefolder" else {"shard_size": 5})
    export(G, tmp_path / "whole", **settings)
    with monkeypatch.context() as patch:
        interrupt_after(patch, writer, calls)
        with pytest.raises(KeyboardInterrupt):
            export(G, tmp_path / "cut", **settings)
    cut = tmp_path / "cut"
    leftovers = [p.name for p in cut.rglob("*") if p.name.startswith(".") and ".pid" in p.name]
    assert leftovers == [], "temp files were left behind"
    assert not (cut / "labels.csv").exists() and not (cut / "README.md").exists()
    for png in cut.rglob("*.png"):
        assert read_record(png)["ai_generated"] is True  # every final file is whole
    progress = json.loads((cut / ".synth-progress.json").read_text())
    assert 0 < progress["units_done"] < 3 and not progress["complete"]
    summary = export(G, cut, **settings)
    assert summary["resumed_from_unit"] == progress["units_done"]
    assert tree(cut) == tree(tmp_path / "whole")


def test_a_killed_writers_temp_files_are_cleaned_on_resume(tmp_path, monkeypatch):
    G = tiny_generator()
    with monkeypatch.context() as patch:
        interrupt_after(patch, "save_png", 5)
        with pytest.raises(KeyboardInterrupt):
            export(G, tmp_path / "out", n_per_class=3)
    stale = tmp_path / "out" / "a" / ".000002.png.pid999999999.x1.tmp.png"
    stale.write_bytes(b"half a png")
    export(G, tmp_path / "out", n_per_class=3)
    assert not stale.exists()
    export(G, tmp_path / "whole", n_per_class=3)
    assert tree(tmp_path / "out") == tree(tmp_path / "whole")


def test_other_settings_are_refused_unless_overwrite(tmp_path, monkeypatch):
    G = tiny_generator()
    with monkeypatch.context() as patch:
        interrupt_after(patch, "save_png", 5)
        with pytest.raises(KeyboardInterrupt):
            export(G, tmp_path / "out", n_per_class=3)
    with pytest.raises(ReelganError, match="other settings.*seed"):
        export(G, tmp_path / "out", n_per_class=3, seed=1)
    export(G, tmp_path / "out", n_per_class=2, seed=1, overwrite=True)
    export(G, tmp_path / "fresh", n_per_class=2, seed=1)
    assert tree(tmp_path / "out") == tree(tmp_path / "fresh")


def test_a_complete_export_run_again_does_nothing(tmp_path):
    G = tiny_generator()
    export(G, tmp_path / "out", n_per_class=2)
    before = tree(tmp_path / "out")
    assert export(G, tmp_path / "out", n_per_class=2)["already_complete"]
    assert tree(tmp_path / "out") == before
    with pytest.raises(ReelganError, match="other settings"):
        export(G, tmp_path / "out", n_per_class=3)


# ---- --reject-copies

def nearest_distance(image: np.ndarray, training: torch.Tensor) -> float:
    pixels = torch.from_numpy(image.astype(np.float32)).reshape(1, -1) / 127.5 - 1
    return float(torch.cdist(pixels, training.flatten(1)).min())


def test_reject_copies_drops_near_copies_and_keeps_the_counts(tmp_path, real_folder):
    training, _ = real_tensor()
    G = fake_generator(copy_share=0.5)
    export(G, tmp_path / "plain", n_per_class=6)
    plain = [np.asarray(Image.open(p)) for p in sorted((tmp_path / "plain").rglob("*.png"))]
    assert sum(nearest_distance(image, training) == 0 for image in plain) >= 3  # the fake does copy
    summary = export(G, tmp_path / "out", n_per_class=6, reject_copies=True, real=str(real_folder))
    assert summary["counts"] == {"a": 6, "b": 6, "c": 6}
    assert summary["dropped"] > 0 and summary["candidates"] == 18 + summary["dropped"]
    kept = [np.asarray(Image.open(p)) for p in sorted((tmp_path / "out").rglob("*.png"))]
    assert len(kept) == 18 and all(nearest_distance(image, training) > 0.5 for image in kept)
    card = (tmp_path / "out" / "README.md").read_text()
    assert f"{summary['dropped']} of {summary['candidates']} candidates were dropped" in card
    assert f"{summary['criterion']['pixel_threshold']:.4f}" in card


def test_reject_copies_is_deterministic_and_resumes(tmp_path, real_folder, monkeypatch):
    G = fake_generator(copy_share=0.5)
    settings = {"n_per_class": 5, "reject_copies": True, "real": str(real_folder), "layout": "npz", "shard_size": 4}
    export(G, tmp_path / "whole", **settings)
    with monkeypatch.context() as patch:
        interrupt_after(patch, "write_npz", 2)
        with pytest.raises(KeyboardInterrupt):
            export(G, tmp_path / "cut", **settings)
    export(G, tmp_path / "cut", **settings)
    assert tree(tmp_path / "cut") == tree(tmp_path / "whole")


def test_a_generator_that_only_copies_is_stopped(tmp_path, real_folder):
    G = fake_generator(copy_share=1.0)
    with pytest.raises(ReelganError, match="near copies"):
        export(G, tmp_path / "out", n_per_class=2, reject_copies=True, real=str(real_folder))


def test_reject_copies_defaults_to_a_built_in_training_set(tmp_path):
    G = tiny_generator(class_names=[], dataset="logograms")
    summary = export(G, tmp_path / "out", n=4, reject_copies=True, max_real=40)
    assert summary["criterion"]["data"] == "logograms" and summary["criterion"]["training_images"] == 40
    assert "Every candidate image was compared with 40 training images" in (tmp_path / "out" / "README.md").read_text()


def test_classes_exports_only_the_named_classes(tmp_path):
    G = tiny_generator()
    summary = export(G, tmp_path / "out", n_per_class=2, classes=("c", "0"))
    assert summary["counts"] == {"c": 2, "a": 2}
    assert sorted(p.name for p in (tmp_path / "out").iterdir() if p.is_dir()) == ["a", "c"]


# ---- score

def test_score_gives_higher_cas_for_real_looking_images_than_for_noise(tmp_path, real_folder):
    export(fake_generator(), tmp_path / "good", n_per_class=20)
    export(fake_generator(noise=True), tmp_path / "noise", n_per_class=20, layout="npz")
    good = score_synthetic(tmp_path / "good", real_folder, settings=FAST, show_progress=False)
    noise = score_synthetic(tmp_path / "noise", real_folder, settings=FAST, show_progress=False)
    assert good["accuracy"]["cas"] > noise["accuracy"]["cas"] + 0.2
    assert good["accuracy"]["cas"] > 0.6 and good["accuracy"]["real"] > 0.6
    assert good["accuracy"]["gan_test"] > noise["accuracy"]["gan_test"]
    assert good["counts"]["synthetic"] == {"a": 20, "b": 20, "c": 20}
    assert sum(good["counts"]["real_test"].values()) == 12 and good["counts"]["real_subset"] == {"a": 2, "b": 2, "c": 2}
    assert good["classifier"]["epochs"] == 10 and good["classifier"]["resolution"] == 16
    assert good["augmentation_gain"] == pytest.approx(good["accuracy"]["real_subset_plus_synthetic"]
                                                      - good["accuracy"]["real_subset"])
    again = score_synthetic(tmp_path / "good", real_folder, settings=FAST, show_progress=False)
    assert again["accuracy"] == good["accuracy"]


def test_score_reads_every_layout_the_same(tmp_path, real_folder):
    from reelgan.synth.score import load_synthetic

    found = {}
    for layout in ("imagefolder", "npz", "webdataset"):
        export(fake_generator(), tmp_path / layout, n_per_class=2, layout=layout)
        images = load_synthetic(tmp_path / layout, None, 1)
        order = np.lexsort((images.images.reshape(len(images.images), -1).sum(1), images.labels))
        found[layout] = (images.images[order], images.labels[order], images.class_names)
    for layout in ("npz", "webdataset"):
        assert np.array_equal(found[layout][0], found["imagefolder"][0])
        assert np.array_equal(found[layout][1], found["imagefolder"][1])
        assert found[layout][2] == CLASSES


# ---- the command

@pytest.fixture
def runs(tmp_path) -> dict[str, Path]:
    """Exported tiny generators: conditional (classes a, b, c) and unconditional."""
    found = {}
    for name, classes in (("cond", CLASSES), ("plain", [])):
        spec = make_spec(class_names=classes)
        torch.manual_seed(0)
        export_generator(build_from_spec(spec), spec, tmp_path / name)
        found[name] = tmp_path / name
    return found


def test_export_and_score_from_the_command_line(tmp_path, runs, real_folder, capsys):
    out = tmp_path / "synth"
    argv = ["synth", "export", str(runs["cond"]), "--out", str(out), "--n-per-class", "3", "--device", "cpu",
            "--no-progress"]
    assert main(argv) == 0
    assert "wrote 9 images" in capsys.readouterr().out
    assert len(labels_csv(out)) == 9
    assert main(argv) == 0 and "nothing to do" in capsys.readouterr().out
    report = tmp_path / "score.json"
    assert main(["synth", "score", str(out), "--real", str(real_folder), "--epochs", "1", "--out", str(report),
                 "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert "| CAS / GAN-train | synthetic set | real test split |" in printed and "GAN-test" in printed
    data = json.loads(report.read_text())
    assert data["seed"] == 0 and data["classifier"]["epochs"] == 1 and set(data["accuracy"]) == {
        "real", "cas", "gan_test", "real_subset", "real_subset_plus_synthetic"}


def snapshot(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir"
            for p in sorted(root.rglob("*"))}


def assert_refused(argv: list[str], root: Path, capsys, expect: str) -> None:
    before = snapshot(root)
    capsys.readouterr()
    code = main(argv)
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2, err
    assert len(lines) == 1 and lines[0].startswith("error:"), err
    assert re.search(expect, lines[0], re.I), lines[0]
    assert snapshot(root) == before


EXPORT_ERRORS = [
    ("plain", ["--n-per-class", "2"], "class-conditional"),
    ("plain", ["--n", "2", "--balance"], "class-conditional"),
    ("plain", ["--n", "2", "--classes", "a"], "no classes"),
    ("plain", [], "--n"),
    ("cond", [], "--n-per-class"),
    ("cond", ["--n", "2", "--n-per-class", "2"], "not both"),
    ("cond", ["--n-per-class", "2", "--classes", "a,zebra"], "unknown class 'zebra'"),
    ("cond", ["--n-per-class", "2", "--layout", "tar"], "layout must be one of"),
    ("cond", ["--n", "0"], "--n must"),
    ("cond", ["--n-per-class", "-1"], "--n-per-class must"),
    ("cond", ["--n", "3", "--layout", "npz", "--shard-size", "0"], "--shard-size must"),
    ("cond", ["--n", "3", "--shard-size", "2"], "--shard-size is for"),
    ("cond", ["--n", "3", "--truncation", "0"], "--truncation"),
    ("cond", ["--n", "3", "--truncation", "1.5"], "--truncation"),
    ("cond", ["--n", "3", "--truncation", "nan"], "--truncation"),
    ("cond", ["--n", "3", "--seed", "-1"], "--seed"),
    ("cond", ["--n", "3", "--batch", "0"], "--batch"),
    ("cond", ["--n", "4", "--balance"], "multiple of the 3 classes"),
    ("cond", ["--n", "3", "--reject-copies"], "--real"),
    ("cond", ["--n", "3", "--real", "REAL"], "--reject-copies"),
    ("cond", ["--n", "3", "--reject-copies", "--real", "missing"], "does not exist"),
    ("cond", ["--n", "3", "--reject-copies", "--real", "FEW"], "at least 20"),
    ("cond", ["--n", "3", "--reject-copies", "--real", "REAL", "--copy-quantile", "1"], "quantile"),
]


@pytest.mark.parametrize("run, flags, expect", EXPORT_ERRORS, ids=[f"{r}-{' '.join(f)}" for r, f, _ in EXPORT_ERRORS])
def test_export_refuses_bad_input_and_writes_nothing(tmp_path, runs, real_folder, capsys, run, flags, expect):
    few = tmp_path / "few" / "a"
    few.mkdir(parents=True)
    for i in range(5):
        Image.fromarray(pattern(0, i)).save(few / f"{i}.png")
    flags = [{"REAL": str(real_folder), "FEW": str(tmp_path / "few"), "missing": str(tmp_path / "missing")}.get(f, f)
             for f in flags]
    argv = ["synth", "export", str(runs[run]), "--out", str(tmp_path / "synth"), "--device", "cpu", "--no-progress"]
    assert_refused(argv + flags, tmp_path, capsys, expect)


def test_export_refuses_an_existing_output_without_overwrite(tmp_path, runs, capsys):
    (tmp_path / "synth").mkdir()
    (tmp_path / "synth" / "notes.txt").write_text("mine\n")
    argv = ["synth", "export", str(runs["cond"]), "--out", str(tmp_path / "synth"), "--n-per-class", "1",
            "--device", "cpu", "--no-progress"]
    assert_refused(argv, tmp_path, capsys, "already exists")
    assert main(argv + ["--overwrite"]) == 0
    assert (tmp_path / "synth" / "notes.txt").read_text() == "mine\n"  # other files are left alone
    other = [*argv[:5], "--n-per-class", "2", "--device", "cpu", "--no-progress"]
    assert_refused(other, tmp_path, capsys, "other settings")


def test_export_refuses_a_clip_generator(tmp_path):
    spec = make_spec(kind="video", arch="video", frames=8, stride=1, content_dim=8, motion_dim=4,
                     latent_dim=8 + 4 * 8, class_names=[])
    torch.manual_seed(0)
    G = Generator(build_from_spec(spec), spec)
    with pytest.raises(ReelganError, match="clip generator"):
        export(G, tmp_path / "out", n=2)
    assert not (tmp_path / "out").exists()


def test_score_refuses_bad_input(tmp_path, runs, real_folder, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the default --out lands here
    out = tmp_path / "synth"
    assert main(["synth", "export", str(runs["cond"]), "--out", str(out), "--n-per-class", "2", "--device", "cpu",
                 "--no-progress"]) == 0
    assert main(["synth", "export", str(runs["plain"]), "--out", str(tmp_path / "plain-synth"), "--n", "2",
                 "--device", "cpu", "--no-progress"]) == 0
    (tmp_path / "flat").mkdir()
    for i in range(3):
        Image.fromarray(pattern(0, i)).save(tmp_path / "flat" / f"{i}.png")
    (tmp_path / "report.json").write_text("{}\n")
    (tmp_path / "other" / "x").mkdir(parents=True)
    for i in range(3):
        Image.fromarray(pattern(0, i)).save(tmp_path / "other" / "x" / f"{i}.png")
    base = ["synth", "score", str(out), "--real", str(real_folder), "--no-progress", "--out",
            str(tmp_path / "new.json")]
    cases = [
        (["synth", "score", str(tmp_path / "plain-synth"), "--real", str(real_folder), "--no-progress"],
         "no class labels"),
        (base[:4] + [str(tmp_path / "missing")] + base[5:], "does not exist"),
        (base[:4] + [str(tmp_path / "flat")] + base[5:], "class folder"),
        (base[:4] + [str(tmp_path / "other")] + base[5:], "no class a"),
        (base[:4] + ["logograms"] + base[5:], "no classes"),
        (base[:2] + [str(tmp_path / "missing")] + base[3:], "not a folder"),
        (base + ["--epochs", "0"], "--epochs"),
        (base + ["--test-fraction", "1"], "--test-fraction"),
        (base + ["--subset-fraction", "0"], "--subset-fraction"),
        (base[:-1] + [str(tmp_path / "report.json")], "already exists"),
    ]
    for argv, expect in cases:
        assert_refused(argv, tmp_path, capsys, expect)
    progress = out / ".synth-progress.json"
    record = json.loads(progress.read_text())
    progress.write_text(json.dumps({**record, "complete": False}))
    assert_refused(base, tmp_path, capsys, "unfinished")


def test_score_reads_real_images_from_a_zip_and_leaves_out_classes_not_exported(tmp_path, real_folder):
    import zipfile

    archive = tmp_path / "real.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for path in sorted(real_folder.rglob("*.png")):
            z.write(path, f"real/{path.relative_to(real_folder).as_posix()}")
    export(fake_generator(), tmp_path / "two", n_per_class=4, classes=("a", "b"), layout="npz")
    quick = ClassifierSettings(epochs=1, batch=8, width=8)
    report = score_synthetic(tmp_path / "two", archive, settings=quick, show_progress=False)
    assert report["classes"] == ["a", "b"] and report["real_classes_left_out"] == ["c"]
    assert report["counts"]["synthetic"] == {"a": 4, "b": 4}
    assert report["counts"]["real_test"] == {"a": 4, "b": 4} and report["chance"] == 0.5
