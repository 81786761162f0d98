"""Nothing a user opens runs code, and a file that is not what its record says is one clear line.

Crafted pickles (whose unpickling would create a marker file) stand in for malicious downloads; each test
checks the command exits 2 with one line and that the marker was never made. Tiny models only: GPT-2s of one
layer trained in seconds, 16/32 px generators built without training.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import safetensors.torch
import torch
from conftest import tiny_overrides  # noqa: E402

from reelgan.cli.main import main
from reelgan.config import build_config
from reelgan.errors import ReelganError
from reelgan.gan.checkpoint import save_checkpoint
from reelgan.gan.generator import build_from_spec, export_generator, generator_spec, load_generator
from reelgan.gan.nets import build_generator
from reelgan.gan.nets.check import check_state_fits, load_state_checked, state_mismatch


class MakesMarker:
    """Unpickling this calls `Path.touch(marker)`: what a malicious pickle would do instead of anything worse."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def error_line(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err  # one clear line, no traceback
    return err


# --- screenplay models ------------------------------------------------------------------------------

SCENE = """INT. KITCHEN - NIGHT

MARA stands at the window. Rain.

MARA
He said he would come back.

TOM (O.S.)
I did come back.

EXT. HARBOUR - DAWN

Boats knock together in the swell.
"""


@pytest.fixture(scope="module")
def script_corpus(tmp_path_factory) -> Path:
    pytest.importorskip("transformers", reason="screenplay models need the script extra (transformers)")
    folder = tmp_path_factory.mktemp("corpus")
    (folder / "kitchen.fountain").write_text(SCENE * 12)
    return folder


@pytest.fixture(scope="module")
def script_model(tmp_path_factory, script_corpus) -> Path:
    """A GPT-2 of one layer trained two steps (and saved at step 1), with its training state."""
    from reelgan.script.corpus import read_corpus
    from reelgan.script.lm_training import ScriptTrainConfig, train_language_model

    out = tmp_path_factory.mktemp("models") / "tiny"
    config = ScriptTrainConfig(steps=4, batch_size=2, context=32, vocab_size=320, layers=1, width=32, heads=2,
                               positions=64, save_every=10, warmup=1)
    train_language_model(read_corpus(script_corpus), out, config, progress=False, log=lambda m: None, stop_at=2)
    return out


def copy_model(script_model: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "model"
    shutil.copytree(script_model, folder)
    return folder


def test_a_crafted_training_state_is_refused_without_running_it(tmp_path, script_corpus, script_model, capsys):
    folder = copy_model(script_model, tmp_path)
    marker = tmp_path / "pwned"
    torch.save({"step": MakesMarker(marker), "optimizer": {}, "config": {}}, folder / "training_state.pt")
    code = main(["script", "train", str(script_corpus), "--out", str(folder), "--resume", "--quiet"])
    assert code == 2
    err = error_line(capsys)
    assert "training_state.pt" in err and "tensors and plain data" in err
    assert not marker.exists()


def test_a_training_state_with_missing_or_wrong_fields_names_the_file(tmp_path, script_corpus, script_model):
    from reelgan.script.corpus import read_corpus
    from reelgan.script.lm_training import ScriptTrainConfig, train_language_model

    folder = copy_model(script_model, tmp_path)
    path = folder / "training_state.pt"
    state = torch.load(path, weights_only=True)
    for change, message in [(lambda s: s.pop("optimizer"), "'optimizer' should be an optimizer state"),
                            (lambda s: s.update(step="2"), "'step' should be a step count"),
                            (lambda s: s.update(rng=[1, 2]), "'rng' should be a random generator state"),
                            (lambda s: s["config"].update(lr="fast"), "setting 'lr' is 'fast', not a number")]:
        broken = {**state, "config": dict(state["config"])}
        change(broken)
        torch.save(broken, path)
        with pytest.raises(ReelganError, match=message) as info:
            train_language_model(read_corpus(script_corpus), folder, ScriptTrainConfig(steps=4), resume=True,
                                 progress=False, log=lambda m: None)
        assert str(path) in str(info.value) and "another --out" in str(info.value)


def test_a_state_written_by_an_earlier_version_still_resumes(tmp_path, script_corpus, script_model):
    from reelgan.script.corpus import read_corpus
    from reelgan.script.lm_training import ScriptTrainConfig, train_language_model

    folder = copy_model(script_model, tmp_path)
    state = torch.load(folder / "training_state.pt", weights_only=True)
    assert state.pop("format") == "reelgan-script-state-1"  # earlier versions wrote the same, without it
    torch.save(state, folder / "training_state.pt")
    record = train_language_model(read_corpus(script_corpus), folder, ScriptTrainConfig(steps=3), resume=True,
                                  progress=False, log=lambda m: None)
    assert record["history"][-1]["step"] == 3


def test_pickle_weights_are_refused_before_they_are_opened(tmp_path, script_corpus, script_model, capsys,
                                                          monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    folder = copy_model(script_model, tmp_path)
    (folder / "model.safetensors").unlink()
    marker = tmp_path / "pwned"
    torch.save({"transformer.wte.weight": MakesMarker(marker)}, folder / "pytorch_model.bin")
    code = main(["script", "INT. LAB - NIGHT", "--model", str(folder), "--out", str(tmp_path / "drafts"),
                 "--n", "1", "--quiet"])
    assert code == 2
    err = error_line(capsys)
    assert "pytorch_model.bin" in err and "--trust-pickle" in err
    assert not marker.exists() and not (tmp_path / "drafts").exists()
    # fine-tuning from it is refused the same way
    code = main(["script", "train", str(script_corpus), "--base", str(folder), "--out", str(tmp_path / "m"),
                 "--quiet"])
    assert code == 2 and "--trust-pickle" in error_line(capsys)
    assert not marker.exists()


def test_pickle_shards_named_by_an_index_are_refused_too(tmp_path, script_model):
    from reelgan.script.model import load_language_model

    folder = copy_model(script_model, tmp_path)
    (folder / "model.safetensors").unlink()
    (folder / "pytorch_model.bin.index.json").write_text(json.dumps(
        {"weight_map": {"a": "pytorch_model-00001-of-00002.bin", "b": "pytorch_model-00002-of-00002.bin"}}))
    with pytest.raises(ReelganError, match=r"pytorch_model-00001-of-00002.bin and 1 more.*--trust-pickle"):
        load_language_model(str(folder))


def test_trusted_pickle_weights_load(tmp_path, script_model):
    from reelgan.script.model import load_language_model

    folder = copy_model(script_model, tmp_path)
    weights = safetensors.torch.load_file(folder / "model.safetensors")
    (folder / "model.safetensors").unlink()
    torch.save(weights, folder / "pytorch_model.bin")
    with pytest.raises(ReelganError, match="--trust-pickle"):
        load_language_model(str(folder))
    lm = load_language_model(str(folder), trust_pickle=True)
    assert torch.equal(lm.model.state_dict()["transformer.wte.weight"], weights["transformer.wte.weight"])


# --- generators ----------------------------------------------------------------------------------------

def tiny_spec(tmp_path: Path, resolution: int = 16) -> dict:
    overrides = tiny_overrides(tmp_path)
    overrides["data"]["resolution"] = resolution
    return generator_spec(build_config(overrides=overrides).to_dict(), [], 1)


@pytest.fixture
def exported(tmp_path) -> Path:
    """An exported 16 px generator (not trained: the checks do not care)."""
    spec = tiny_spec(tmp_path)
    torch.manual_seed(0)
    return export_generator(build_from_spec(spec), spec, tmp_path / "share")


def generate(source: Path, tmp_path: Path, out: str = "out") -> int:
    return main(["generate", str(source), "--n", "2", "--device", "cpu", "--out", str(tmp_path / out)])


def test_tampered_weights_are_refused_by_their_sha256(exported, tmp_path, capsys):
    assert generate(exported, tmp_path, "before") == 0  # the export as written is fine
    assert len(list((tmp_path / "before").glob("*.png"))) == 2
    data = bytearray(exported.read_bytes())
    header = int.from_bytes(data[:8], "little")  # safetensors: 8-byte header length, JSON header, tensor data
    data[8 + header + 5] ^= 0x40  # one bit of one weight
    exported.write_bytes(bytes(data))
    assert generate(exported, tmp_path) == 2
    err = error_line(capsys)
    assert "does not match the sha256 recorded in generator.json" in err and "re-export" in err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("field", ["resolution", "arch", "class_names", "weights_sha256"])
def test_a_description_lacking_a_field_is_one_line(exported, tmp_path, capsys, field):
    spec_path = exported.with_suffix(".json")
    spec = json.loads(spec_path.read_text())
    del spec[field]
    spec_path.write_text(json.dumps(spec))
    assert generate(exported, tmp_path) == 2
    err = error_line(capsys)
    assert f"lacks the field '{field}'" in err and "generator.json" in err
    assert not (tmp_path / "out").exists()


def test_a_description_with_a_wrong_type_is_one_line(exported, tmp_path, capsys):
    spec_path = exported.with_suffix(".json")
    spec_path.write_text(json.dumps({**json.loads(spec_path.read_text()), "resolution": "16"}))
    assert generate(exported, tmp_path) == 2
    assert "'resolution' is '16', not an integer" in error_line(capsys)


def test_weights_of_another_resolution_are_named_in_pixels(tmp_path, capsys):
    spec32 = tiny_spec(tmp_path, 32)
    path = export_generator(build_from_spec(spec32), spec32, tmp_path / "share")
    spec_path = path.with_suffix(".json")
    spec_path.write_text(json.dumps({**json.loads(spec_path.read_text()), "resolution": 16}))
    assert generate(path, tmp_path) == 2
    err = error_line(capsys)
    assert "generator.safetensors holds a 32 px generator; generator.json says 16 px" in err
    assert not (tmp_path / "out").exists()


def test_weights_of_another_width_name_the_tensor_and_both_shapes(tmp_path, capsys):
    spec = tiny_spec(tmp_path)
    path = export_generator(build_from_spec({**spec, "latent_dim": 8}), spec, tmp_path / "share")
    assert generate(path, tmp_path) == 2
    err = error_line(capsys)
    assert "does not fit the generator generator.json describes: tensor 'fc.weight' is 256x8 there but 256x16" in err


@pytest.fixture(scope="module")
def trained_checkpoint(tmp_path_factory) -> dict:
    """The checkpoint of a one-step 16 px run, as read back (every field a real run writes)."""
    from reelgan.training import train

    folder = tmp_path_factory.mktemp("run")
    result = train(build_config(overrides=tiny_overrides(folder)), show_progress=False)
    return torch.load(result.run_dir / "checkpoints" / "latest.pt", weights_only=True)


def checkpoint(tmp_path: Path, state: dict, **changes) -> Path:
    """`state` with `changes` (None: the field removed), saved as tmp_path/ckpt.pt."""
    state = {**state, **changes}
    path = tmp_path / "ckpt.pt"
    save_checkpoint({k: v for k, v in state.items() if v is not None and k != "format"}, path)
    return path


def test_a_checkpoint_whose_generator_does_not_fit_its_config_is_one_line(tmp_path, trained_checkpoint, capsys):
    assert generate(checkpoint(tmp_path, trained_checkpoint), tmp_path, "before") == 0  # as written it is fine
    config = trained_checkpoint["config"]
    spec32 = generator_spec({**config, "data": {**config["data"], "resolution": 32}}, [], 1)
    assert generate(checkpoint(tmp_path, trained_checkpoint, G_ema=build_from_spec(spec32).state_dict()),
                    tmp_path) == 2
    err = error_line(capsys)
    assert "ckpt.pt's G_ema holds a 32 px generator; its config says 16 px" in err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("change, words", [
    ({"G_ema": None}, ["lacks", "'G_ema'"]),
    ({"class_names": None}, ["lacks", "'class_names'"]),
    ({"step": "1"}, ["'step'"]),
    ({"config": {"data": {}, "net": {}}}, ["G_ema", "does not fit"]),
])
def test_a_checkpoint_lacking_a_field_is_one_line(tmp_path, trained_checkpoint, capsys, change, words):
    assert generate(checkpoint(tmp_path, trained_checkpoint, **change), tmp_path) == 2
    err = error_line(capsys)
    assert all(word in err for word in words) and "ckpt.pt" in err


def test_the_shape_check_works_for_any_module():
    net = build_generator("dcgan", resolution=16, channels=1, latent_dim=16, width=8, max_width=16)
    state = net.state_dict()
    assert state_mismatch(net, state) is None
    check_state_fits(net, state, "x.pt")
    load_state_checked(net, state, "x.pt")
    wide = build_generator("dcgan", resolution=16, channels=3, latent_dim=16, width=8, max_width=16).state_dict()
    with pytest.raises(ReelganError, match=r"^x.pt does not fit the glyph generator: tensor 'to_image.weight' is "
                                           r"3x8x3x3 there but 1x8x3x3 in the network \(1 more tensor differs in "
                                           r"shape\); it was saved for a network of another resolution"):
        load_state_checked(net, wide, "x.pt", network="the glyph generator")
    extra = {**state, "head.weight": torch.zeros(1)}
    assert "it has 'head.weight', which the network does not" in state_mismatch(net, extra)
    fewer = {k: v for k, v in state.items() if k != "fc.weight"}
    assert "it lacks 'fc.weight'" in state_mismatch(net, fewer)
    assert "is not a tensor" in state_mismatch(net, {**state, "fc.weight": [1.0]})
    assert "not named tensors" in state_mismatch(net, [1, 2])
    with pytest.raises(ReelganError):
        load_generator(Path("missing.safetensors"))


# --- every other loader: a crafted pickle in the place of its file -----------------------------------

def crafted_pickle(path: Path, marker: Path) -> Path:
    """A file at `path` whose unpickling (by torch.load without weights_only) would create `marker`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"format": "reelgan-checkpoint-1", "G_ema": MakesMarker(marker)}, path)
    return path


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory) -> Path:
    from reelgan.training import train

    folder = tmp_path_factory.mktemp("security-run")
    return train(build_config(overrides=tiny_overrides(folder)), show_progress=False).run_dir


@pytest.mark.parametrize("loader", ["generate-checkpoint", "resume-checkpoint", "inception-weights",
                                    "domain-extractor", "clip-extractor", "generator-safetensors"])
def test_no_loader_runs_code_from_a_crafted_file(tmp_path, tiny_run, capsys, monkeypatch, loader):
    monkeypatch.chdir(tmp_path)
    marker = tmp_path / "ran-code"
    run = tmp_path / "run"
    shutil.copytree(tiny_run, run)
    if loader == "generate-checkpoint":
        argv = ["generate", str(crafted_pickle(tmp_path / "evil.pt", marker)), "--out", "out"]
    elif loader == "resume-checkpoint":
        crafted_pickle(run / "checkpoints" / "latest.pt", marker)
        argv = ["train", "--resume", str(run), "--steps", "8", "--no-progress"]
    elif loader == "inception-weights":
        argv = ["metrics", str(run), "--data", "logograms", "--metrics", "fid", "--n", "10",
                "--extractor", str(crafted_pickle(tmp_path / "inception.pth", marker))]
    elif loader in ("domain-extractor", "clip-extractor"):
        weights = crafted_pickle(tmp_path / "extractor.safetensors", marker)
        (tmp_path / "extractor.json").write_text("{}")
        metric = "fid" if loader == "domain-extractor" else "fvd"
        argv = ["metrics", str(run), "--data", "logograms", "--metrics", metric, "--n", "10",
                "--extractor", str(weights)]
    else:
        crafted_pickle(run / "generator.safetensors", marker)
        argv = ["generate", str(run), "--out", "out"]
    assert main(argv) == 2
    error_line(capsys)
    assert not marker.exists()
    assert not (tmp_path / "out").exists()
