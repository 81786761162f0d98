"""Learning an alphabet: class = alphabet or character (--class-depth), and DiffAugment on for small sets."""

import logging
import zipfile

import numpy as np
import pytest
from conftest import shared_data
from PIL import Image

from reelgan.cli.main import main
from reelgan.config import DataConfig, LossConfig, resolve_augment
from reelgan.data import build_dataset
from reelgan.errors import ReelganError
from reelgan.gan.generator import load_generator
from reelgan.training import Trainer, train


def write_alphabet_zip(path, alphabets=("Alpha", "Beta"), characters=3, drawings=2):
    """An Omniglot-style zip: top/alphabet/characterNN/N.png, one blob per character at its own place."""
    with zipfile.ZipFile(path, "w") as archive:
        for a, alphabet in enumerate(alphabets):
            for c in range(characters):
                for d in range(drawings):
                    image = np.full((20, 20), 255, np.uint8)
                    image[2 + 5 * c:6 + 5 * c, 2 + 8 * a:8 + 8 * a] = 0
                    buffer = Image.fromarray(image)
                    name = f"images_background/{alphabet}/character{c + 1:02d}/{d}.png"
                    with archive.open(name, "w") as f:
                        buffer.save(f, format="PNG")
    return path


def test_class_depth_picks_alphabets_or_characters(tmp_path):
    data = write_alphabet_zip(tmp_path / "alphabets.zip")
    by_alphabet = build_dataset(DataConfig(source=str(data), resolution=16, cond=True))
    assert by_alphabet.class_names == ["Alpha", "Beta"]
    by_character = build_dataset(DataConfig(source=str(data), resolution=16, cond=True, class_depth=2))
    assert by_character.class_names == [f"{a}/character{c:02d}" for a in ("Alpha", "Beta") for c in (1, 2, 3)]
    assert np.bincount(by_character.labels.numpy()).tolist() == [2] * 6
    with pytest.raises(ReelganError, match="--class-depth 4"):  # deeper than the zip's folders go
        build_dataset(DataConfig(source=str(data), resolution=16, cond=True, class_depth=4))


def test_a_class_with_one_image_is_trained_with_a_warning(tmp_path, caplog):
    data = write_alphabet_zip(tmp_path / "lonely.zip", alphabets=("Solo",), characters=2, drawings=1)
    with caplog.at_level(logging.WARNING, logger="reelgan"):
        dataset = build_dataset(DataConfig(source=str(data), resolution=16, cond=True, class_depth=2))
    assert len(dataset.class_names) == 2
    assert "single image" in caplog.text


def test_auto_augment_turns_on_under_5000_images():
    auto = LossConfig()
    assert auto.augment == "auto"
    assert resolve_augment(auto, 4999, 1).augment == "translation,cutout"
    assert resolve_augment(auto, 100, 3).augment == "translation,cutout,color"
    assert resolve_augment(auto, 5000, 1).augment == ""
    assert resolve_augment(LossConfig(augment=""), 10, 1).augment == ""  # an explicit choice stays
    assert resolve_augment(LossConfig(augment="color"), 10, 1).augment == "color"
    with pytest.raises(ReelganError, match="not both"):
        LossConfig(augment="auto,color")


def test_trainer_augments_a_small_alphabet_and_samples_a_class(tiny_config, tmp_path):
    data = write_alphabet_zip(tmp_path / "alphabets.zip")
    config = tiny_config(data={"source": str(data), "cond": True, "class_depth": 2})
    trainer = Trainer(config, None)
    assert trainer.loss.augment.ops == ["translation", "cutout"]
    off = Trainer(tiny_config(data={"source": str(data)}, loss={"augment": ""}), None)
    assert off.loss.augment.ops == []
    run = train(config, show_progress=False).run_dir
    G = load_generator(run)
    assert G.class_names[0] == "Alpha/character01"
    assert G.sample(2, class_name="Beta/character03").shape == (2, 1, 16, 16)
    out = tmp_path / "beta.png"
    assert main(["generate", str(run), "--n", "4", "--grid", "--class", "Beta/character03", "--out", str(out)]) == 0
    assert main(["generate", str(run), "--n", "1", "--class", "Gamma", "--out", str(tmp_path / "g")]) == 2


def test_omniglot_classes_from_the_shared_zip():
    path = shared_data("omniglot_background.zip")
    dataset = build_dataset(DataConfig(source=str(path), resolution=16, cond=True, class_depth=2, max_images=60))
    alphabet, character = dataset.class_names[0].split("/")
    assert alphabet and character.startswith("character")
