"""Shared fixtures: tiny configs, tiny image folders, and the shared data folder."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from reelgan.config import build_config, merge

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def tiny_overrides(tmp_path: Path) -> dict:
    """A configuration small enough to train a step in well under a second on a CPU."""
    return {
        "data": {"source": "logograms", "resolution": 16, "channels": 1, "size": 24},
        "net": {"g_width": 8, "d_width": 8, "max_width": 16, "latent_dim": 16},
        "train": {"steps": 4, "batch": 4, "n_critic": 2, "log_every": 2, "sample_every": 2,
                  "checkpoint_every": 2, "grid_size": 4, "out": str(tmp_path / "runs"), "device": "cpu"},
    }


@pytest.fixture
def tiny_config(tmp_path):
    """Build a tiny RunConfig, with optional nested overrides."""
    def make(**sections):
        return build_config(overrides=merge(tiny_overrides(tmp_path), sections))
    return make


def write_images(folder: Path, count: int, size=(20, 24), mode="RGB", suffix=".png", subfolder="") -> list[Path]:
    """Random images in `folder/subfolder`, returned as paths."""
    target = folder / subfolder if subfolder else folder
    target.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(len(subfolder) + count)
    paths = []
    channels = {"L": 1, "RGB": 3, "RGBA": 4}[mode]
    for i in range(count):
        pixels = rng.integers(0, 256, size=(size[1], size[0], channels), dtype=np.uint8)
        image = Image.fromarray(pixels[..., 0] if channels == 1 else pixels, mode)
        path = target / f"img{i}{suffix}"
        image.save(path)
        paths.append(path)
    return paths


@pytest.fixture
def image_folder(tmp_path):
    """Two class subfolders of small RGB PNGs."""
    root = tmp_path / "images"
    write_images(root, 5, subfolder="cats")
    write_images(root, 3, subfolder="dogs")
    return root


def shared_data(name: str) -> Path:
    """A file of ../shared/data, or skip the test with the reason."""
    path = SHARED_DATA / name
    if not path.exists():
        pytest.skip(f"{path} is absent (shared test data lives beside the repository)")
    return path


# A generator spec small enough to build in milliseconds; untrained weights still map latents to varied,
# structured images, which is all the exploration, film and synth tests need.
TINY_CLIP_SPEC = {"kind": "video", "arch": "video", "frames": 8, "stride": 1, "content_dim": 16, "motion_dim": 8,
                  "latent_dim": 16 + 8 * 8}


def tiny_generator_spec(**changes) -> dict:
    """A 16 px grey DCGAN generator's spec (latent 32, widths 8-32), with `changes` applied."""
    from reelgan import __version__
    from reelgan.gan.generator import GENERATOR_FORMAT

    spec = {"format": GENERATOR_FORMAT, "arch": "dcgan", "resolution": 16, "channels": 1, "latent_dim": 32,
            "width": 8, "max_width": 32, "class_names": [], "trained_steps": 0, "dataset": "test",
            "reelgan_version": __version__}
    return {**spec, **changes}


def export_tiny_generator(folder: Path, seed: int = 0, **changes) -> Path:
    """An untrained tiny generator (see `tiny_generator_spec`) exported to `folder`, weights from `seed`."""
    import torch

    from reelgan.gan.generator import build_from_spec, export_generator

    spec = tiny_generator_spec(**changes)
    torch.manual_seed(seed)
    export_generator(build_from_spec(spec), spec, folder)
    return folder
