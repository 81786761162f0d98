"""LoRA fine-tuning (`reelgan script train --base MODEL --lora RANK`): adapters only, merged saves, exact resume."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from conftest import tiny_script_config

pytest.importorskip("transformers", reason="screenplay models need the script extra")
pytest.importorskip("peft", reason="LoRA fine-tuning needs the script-lora extra (peft)")

from safetensors.torch import load_file  # noqa: E402

from reelgan.cli.main import main  # noqa: E402
from reelgan.errors import ReelganError  # noqa: E402
from reelgan.script.corpus import read_corpus  # noqa: E402
from reelgan.script.lm_training import train_language_model  # noqa: E402
from reelgan.script.model import load_language_model  # noqa: E402

SCENE = """INT. KITCHEN - NIGHT

Mara waits by the window. The kettle screams.

MARA
You said you would call.

TOM
I did. Twice. You never pick up.

"""
QUIET = dict(progress=False, log=lambda message: None)


def tiny_config(**changes):
    return tiny_script_config(**{"batch_size": 2, "warmup": 1, **changes})


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    folder = tmp_path_factory.mktemp("corpus")
    (folder / "kitchen.fountain").write_text(SCENE * 12)
    return read_corpus(folder)


@pytest.fixture(scope="module")
def base(tmp_path_factory, corpus) -> Path:
    out = tmp_path_factory.mktemp("base") / "tiny"
    train_language_model(corpus, out, tiny_config(steps=2), **QUIET)
    return out


def test_lora_trains_only_the_adapters_and_saves_a_merged_model(tmp_path, corpus, base):
    out = tmp_path / "lora"
    record = train_language_model(corpus, out, tiny_config(base=str(base), lora=4, lr=1e-2), **QUIET)
    assert 0 < record["trainable_parameters"] < record["parameters"] / 2
    assert (out / "adapter" / "adapter_config.json").is_file()
    merged, original = load_file(out / "model.safetensors"), load_file(base / "model.safetensors")
    assert merged.keys() == original.keys()  # an ordinary model: no adapter layers left in it
    changed = [k for k in merged if not torch.equal(merged[k], original[k])]
    assert changed and all(merged[k].dim() == 2 for k in changed)  # the adapters only touch weight matrices
    loaded = load_language_model(str(out))  # drafting loads it as any model folder
    ids = loaded.tokenizer("INT. KITCHEN - NIGHT", return_tensors="pt")["input_ids"]
    assert loaded.model(input_ids=ids).logits.shape[-1] == len(loaded.tokenizer)


def test_lora_resumes_exactly(tmp_path, corpus, base):
    config = dict(base=str(base), lora=2, lr=1e-2, steps=4, save_every=10)
    train_language_model(corpus, tmp_path / "whole", tiny_config(**config), **QUIET)
    train_language_model(corpus, tmp_path / "split", tiny_config(**config), stop_at=2, **QUIET)
    train_language_model(corpus, tmp_path / "split", tiny_config(**config), resume=True, **QUIET)
    for name in ("model.safetensors", "adapter/adapter_model.safetensors"):
        whole, split = load_file(tmp_path / "whole" / name), load_file(tmp_path / "split" / name)
        assert whole.keys() == split.keys()
        assert all(torch.equal(whole[k], split[k]) for k in whole), name
    history = json.loads((tmp_path / "split" / "reelgan-training.json").read_text())["history"]
    assert [row["step"] for row in history] == [2, 4]


def test_lora_from_the_cli(tmp_path, corpus, base, capsys):
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "kitchen.fountain").write_text(SCENE * 12)
    out = tmp_path / "cli-lora"
    assert main(["script", "train", str(folder), "--base", str(base), "--lora", "4", "--steps", "2",
                 "--context", "32", "--batch-size", "2", "--out", str(out), "--quiet"]) == 0
    assert "in LoRA adapters of rank 4" in capsys.readouterr().err
    saved = json.loads((out / "reelgan-training.json").read_text())["config"]
    assert saved["lora"] == 4 and saved["lr"] == pytest.approx(2e-4)


def test_lora_errors(tmp_path, corpus, base, monkeypatch, capsys):
    with pytest.raises(ReelganError, match="--lora adapts a trained model: add --base"):
        train_language_model(corpus, tmp_path / "a", tiny_config(lora=4), **QUIET)
    with pytest.raises(ReelganError, match="--lora must be a rank of 0"):
        train_language_model(corpus, tmp_path / "b", tiny_config(base=str(base), lora=-1), **QUIET)
    import builtins

    real_import = builtins.__import__

    def without_peft(name, *args, **kwargs):
        if name == "peft" or name.startswith("peft."):
            raise ImportError("no peft")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", without_peft)
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "kitchen.fountain").write_text(SCENE * 12)
    assert main(["script", "train", str(folder), "--base", str(base), "--lora", "4", "--steps", "2",
                 "--context", "32", "--out", str(tmp_path / "c"), "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "pip install 'reelgan[script-lora]'" in err[0]
    assert not (tmp_path / "c").exists()


def test_a_lora_folder_without_its_adapters_cannot_resume(tmp_path, corpus, base):
    out = tmp_path / "lora"
    config = dict(base=str(base), lora=2, steps=4, save_every=10)
    train_language_model(corpus, out, tiny_config(**config), stop_at=2, **QUIET)
    import shutil

    shutil.rmtree(out / "adapter")
    with pytest.raises(ReelganError, match="holds no adapter/ folder"):
        train_language_model(corpus, out, tiny_config(**config), resume=True, **QUIET)


def test_a_lora_resume_refuses_a_base_whose_weights_changed(tmp_path, corpus, base):
    import shutil

    from safetensors.torch import save_file

    own_base = tmp_path / "base"
    shutil.copytree(base, own_base)
    out = tmp_path / "lora"
    config = dict(base=str(own_base), lora=2, steps=4, save_every=10)
    train_language_model(corpus, out, tiny_config(**config), stop_at=2, **QUIET)
    weights = load_file(own_base / "model.safetensors")
    save_file({k: v + 1e-3 for k, v in weights.items()}, own_base / "model.safetensors", metadata={"format": "pt"})
    with pytest.raises(ReelganError, match="is not the model .* was trained from"):
        train_language_model(corpus, out, tiny_config(**config), resume=True, **QUIET)
