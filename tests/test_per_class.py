"""Per-class FID and intra-FID (`reelgan metrics compute --per-class N`): a generator that follows its labels
scores better than one that ignores them, on the same images."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import tiny_generator_spec
from PIL import Image

from reelgan.cli.main import main
from reelgan.errors import ReelganError
from reelgan.gan.generator import Generator
from reelgan.metrics.per_class import per_class_fid

CLASSES = ["across", "down"]
PER_CLASS = 24


def stripes(class_index: int, i: int) -> np.ndarray:
    """16 px grey stripes, across (class 0) or down (class 1), with a random phase and noise."""
    rng = np.random.default_rng([class_index, i])
    y, x = np.mgrid[:16, :16]
    lines = (y if class_index == 0 else x) + int(rng.integers(4))
    return np.clip((lines // 2 % 2) * 200 + rng.integers(0, 50, size=(16, 16)), 0, 255).astype(np.uint8)


def real_tensor() -> tuple[torch.Tensor, torch.Tensor]:
    images = [stripes(c, i) for c in range(len(CLASSES)) for i in range(PER_CLASS)]
    labels = [c for c in range(len(CLASSES)) for _ in range(PER_CLASS)]
    return torch.from_numpy(np.stack(images)).float()[:, None] / 127.5 - 1, torch.tensor(labels)


class StoredImages(torch.nn.Module):
    """A stand-in network returning fresh stripes of the asked class, or (`ignore_labels`) of a class picked
    by the latent: the second covers both classes as well overall, but not within a class."""

    def __init__(self, ignore_labels: bool = False):
        super().__init__()
        self.ignore_labels = ignore_labels
        self.register_buffer("anchor", torch.zeros(1))

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        out = []
        for row, latent in enumerate(z):
            index = int(latent[0].abs() * 1e6) % 10_000 + 1000  # not one of the real images' draws
            c = int(latent[1] > 0) if self.ignore_labels or labels is None else int(labels[row])
            out.append(torch.from_numpy(stripes(c, index)).float()[None] / 127.5 - 1)
        return torch.stack(out)


def generator(ignore_labels: bool = False) -> Generator:
    return Generator(StoredImages(ignore_labels), tiny_generator_spec(class_names=CLASSES))


class StripeFeatures:
    """A stand-in extractor: how much the image changes down and across, on a few scales (features that
    tell the two classes apart)."""

    spec = {"sha256": "stripe-features", "channels": 1}

    def label(self, resolution: int) -> str:
        return f"stripes-{resolution}"

    def features(self, images: torch.Tensor, batch: int = 512) -> np.ndarray:
        x = images[:, 0]
        rows = [(x[:, k:] - x[:, :-k]).abs().mean(dim=(1, 2)) for k in (1, 2, 3)]
        cols = [(x[:, :, k:] - x[:, :, :-k]).abs().mean(dim=(1, 2)) for k in (1, 2, 3)]
        return torch.stack(rows + cols, dim=1).numpy().astype(np.float64)


@pytest.fixture
def real_folder(tmp_path) -> Path:
    root = tmp_path / "real"
    for c, name in enumerate(CLASSES):
        (root / name).mkdir(parents=True)
        for i in range(PER_CLASS):
            Image.fromarray(stripes(c, i)).save(root / name / f"{i:03d}.png")
    return root


def test_intra_fid_rewards_following_the_labels(real_folder, tmp_path, monkeypatch):
    monkeypatch.setenv("REELGAN_CACHE", str(tmp_path / "cache"))
    follows = per_class_fid(generator(), str(real_folder), StripeFeatures(), n_per_class=PER_CLASS)
    ignores = per_class_fid(generator(ignore_labels=True), str(real_folder), StripeFeatures(), n_per_class=PER_CLASS)
    key = f"intra_fid{PER_CLASS}_stripes-16"
    assert set(follows) == {key, "intra_fid_classes", f"fid{PER_CLASS}_class-across_stripes-16",
                            f"fid{PER_CLASS}_class-down_stripes-16"}
    assert follows["intra_fid_classes"] == 2
    assert follows[key] == pytest.approx(np.mean([follows[k] for k in follows if "_class-" in k]))
    assert ignores[key] > 3 * follows[key]


def test_per_class_errors(real_folder, tmp_path):
    unconditional = Generator(StoredImages(), tiny_generator_spec())
    with pytest.raises(ReelganError, match="needs a class-conditional generator"):
        per_class_fid(unconditional, str(real_folder), StripeFeatures())
    with pytest.raises(ReelganError, match="--per-class must be at least 2"):
        per_class_fid(generator(), str(real_folder), StripeFeatures(), n_per_class=1)
    other = tmp_path / "other"
    (other / "cats").mkdir(parents=True)
    Image.fromarray(stripes(0, 0)).save(other / "cats" / "0.png")
    Image.fromarray(stripes(0, 1)).save(other / "cats" / "1.png")
    with pytest.raises(ReelganError, match="none of the generator's classes"):
        per_class_fid(generator(), str(other), StripeFeatures())


def test_per_class_from_the_cli_refuses_an_unconditional_run(tiny_config, capsys):
    from reelgan.training import train

    run = train(tiny_config(data={"resolution": 32}, train={"steps": 1}), show_progress=False).run_dir
    assert main(["metrics", str(run), "--data", "logograms", "--n", "8", "--per-class", "4"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--per-class needs a class-conditional generator" in err[0]
