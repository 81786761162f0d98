"""Class distinctness: how much a conditional generator's label changes its samples, and the end-of-run check."""

import json
import logging

import pytest
import torch

from reelgan.metrics.distinctness import class_distinctness
from reelgan.training import Trainer, train


def flat_images(values: torch.Tensor) -> torch.Tensor:
    """One 1x4x4 image per value, every pixel that value: (N, 1, 4, 4)."""
    return values.float()[:, None, None, None].expand(-1, 1, 4, 4).clone()


def test_distinctness_in_closed_form():
    # x(s, c) = 0.3 s + 0.1 c on every pixel: a class pair differs by 0.1 |c - c'|, two seeds by 0.3.
    latents = torch.tensor([[0.0], [1.0]])
    draw = lambda z, labels: flat_images(0.3 * z[:, 0] + 0.1 * labels)  # noqa: E731
    result = class_distinctness(draw, latents, classes=3)
    assert result["class_change"] == pytest.approx((0.1 + 0.2 + 0.1) / 3, abs=1e-4)
    assert result["seed_change"] == pytest.approx(0.3, abs=1e-4)
    assert result["distinctness"] == pytest.approx(0.444, abs=1e-3)
    assert result["classes"] == 3 and result["seeds"] == 2


def test_a_generator_that_ignores_its_label_has_no_distinctness_and_only_the_first_classes_are_drawn():
    asked = []

    def draw(z, labels):
        asked.append(int(labels[0]))
        return flat_images(z[:, 0])

    result = class_distinctness(draw, torch.randn(5, 3), classes=100, max_classes=4)
    assert result["distinctness"] == 0.0 and result["seed_change"] > 0
    assert asked == [0, 1, 2, 3] and result["classes"] == 4


def test_distinctness_needs_two_classes_and_two_seeds():
    with pytest.raises(ValueError, match="2 classes"):
        class_distinctness(lambda z, labels: flat_images(z[:, 0]), torch.randn(4, 2), classes=1)
    with pytest.raises(ValueError, match="2 latents"):
        class_distinctness(lambda z, labels: flat_images(z[:, 0]), torch.randn(1, 2), classes=3)


def test_a_conditional_run_measures_its_label_at_the_end_and_says_when_it_barely_matters(
        tiny_config, image_folder, caplog, monkeypatch, tmp_path):
    config = tiny_config(data={"source": str(image_folder), "channels": 3, "cond": True}, train={"steps": 2})
    with caplog.at_level(logging.INFO, logger="reelgan"):
        result = train(config, show_progress=False)
    check = json.loads((result.run_dir / "cond-check.json").read_text())
    assert check["step"] == 2 and check["classes"] == 2 and check["seeds"] == 16
    assert check["distinctness"] == pytest.approx(check["class_change"] / check["seed_change"], abs=1e-3)
    assert "class distinctness" in caplog.text or "barely changes" in caplog.text
    from reelgan.metrics import distinctness
    caplog.clear()
    monkeypatch.setattr(distinctness, "WEAK_DISTINCTNESS", 1e9)  # every run is weak: the warning's words
    with caplog.at_level(logging.WARNING, logger="reelgan"):
        Trainer(config, result.run_dir).check_conditioning()
    assert "barely changes the samples" in caplog.text and "--class-weight 1" in caplog.text
    caplog.clear()  # with the class loss on, it is not suggested again
    on = tiny_config(data={"source": str(image_folder), "channels": 3, "cond": True}, train={"steps": 2},
                     loss={"class_weight": 1.0})
    with caplog.at_level(logging.WARNING, logger="reelgan"):
        (tmp_path / "on").mkdir()
        Trainer(on, tmp_path / "on").check_conditioning()
    assert "--class-weight" not in caplog.text


def test_an_unconditional_run_has_no_conditioning_check(tiny_config):
    result = train(tiny_config(train={"steps": 2}), show_progress=False)
    assert not (result.run_dir / "cond-check.json").exists()
