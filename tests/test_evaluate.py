import json

import pytest
import torch

from reelgan.cli.main import main
from reelgan.errors import ReelganError
from reelgan.gan.generator import load_generator
from reelgan.metrics.domain import DomainExtractor
from reelgan.metrics.evaluate import count_label, evaluate_generator
from reelgan.training import train


@pytest.fixture
def logogram_run(tiny_config):
    return train(tiny_config(data={"resolution": 32}, train={"steps": 1}), show_progress=False).run_dir


def test_results_are_named_by_protocol_and_reference_features_are_cached(logogram_run, tmp_path, monkeypatch):
    monkeypatch.setenv("REELGAN_CACHE", str(tmp_path / "cache"))
    calls = []
    original = DomainExtractor.features
    monkeypatch.setattr(DomainExtractor, "features", lambda self, x, batch=512: calls.append(len(x)) or
                        original(self, x, batch))
    G = load_generator(logogram_run)
    first = evaluate_generator(G, "logograms", ["fid", "pr"], n=40)
    assert set(first) == {"fid40_domain-logograms-32", "precision40_domain-logograms-32",
                          "recall40_domain-logograms-32"}
    assert calls == [40, 40]  # real and generated features
    second = evaluate_generator(G, "logograms", ["fid", "pr"], n=40)
    assert calls == [40, 40, 40] and second == first  # the real side came from the cache
    assert count_label(10000) == "10k" and count_label(2500) == "2500"


def test_channel_mismatch_and_missing_extractor_are_clear_errors(tiny_config, image_folder):
    rgb = train(tiny_config(data={"resolution": 32, "channels": 3}, train={"steps": 1}), show_progress=False)
    with pytest.raises(ReelganError, match="1-channel images but the generator makes 3"):
        evaluate_generator(load_generator(rgb.run_dir), "logograms", ["fid"], n=8)
    with pytest.raises(ReelganError, match="train-extractor"):
        evaluate_generator(load_generator(rgb.run_dir), str(image_folder), ["fid"], n=8)


def test_metrics_command_prints_and_writes_json(logogram_run, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("REELGAN_CACHE", str(tmp_path / "cache"))
    out = tmp_path / "scores.json"
    assert main(["metrics", str(logogram_run), "--data", "logograms", "--n", "20", "--metrics", "fid,dc",
                 "--json", str(out)]) == 0
    assert "fid20_domain-logograms-32" in capsys.readouterr().out
    saved = json.loads(out.read_text())
    assert set(saved["results"]) == {"fid20_domain-logograms-32", "density20_domain-logograms-32",
                                     "coverage20_domain-logograms-32"}
    assert main(["metrics", str(logogram_run), "--data", "logograms", "--n", "20", "--json", str(out)]) == 2
    assert "already exists" in capsys.readouterr().err  # never replaced without --overwrite
    assert main(["metrics", str(tmp_path / "missing-run"), "--data", "logograms"]) == 2
    assert main(["metrics", str(logogram_run), "--data", "logograms", "--metrics", "is"]) == 2
    assert "unknown metric" in capsys.readouterr().err


def test_reference_images_span_the_whole_set(tmp_path):
    from PIL import Image

    from reelgan.metrics.evaluate import real_images

    for name, shade in (("a_dark", 0), ("b_light", 255)):  # sorted order puts every dark image first
        (tmp_path / name).mkdir()
        for i in range(20):
            Image.new("L", (16, 16), shade).save(tmp_path / name / f"{i}.png")
    subset = real_images(str(tmp_path), 16, 1, 20)
    assert len(subset) == 20
    light = int((subset.mean(dim=(1, 2, 3)) > 0).sum())
    assert 5 <= light <= 15  # both folders are represented, not just the first 20 files
    assert torch.equal(subset, real_images(str(tmp_path), 16, 1, 20))  # the same subset every time
