"""Screenplay writing: corpus reading, training (exact resume), seeded drafts that parse, authorship, errors.

Models are tiny GPT-2s trained inside the tests on text the tests write; nothing is downloaded.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch
from conftest import tiny_script_config

pytest.importorskip("transformers", reason="screenplay models need the script extra (transformers)")

from reelgan.cli.main import main  # noqa: E402
from reelgan.errors import ReelganError  # noqa: E402
from reelgan.script.authorship import build_script, compare, read_record, record_path  # noqa: E402
from reelgan.script.corpus import PLAY_LOCATIONS, play_to_fountain, read_corpus  # noqa: E402
from reelgan.script.draft import (  # noqa: E402
    MODEL,
    PERSON,
    SamplingConfig,
    coerce_elements,
    heading_for,
    prompt_elements,
    sample_text,
)
from reelgan.script.fountain import Element, parse, read_fountain  # noqa: E402
from reelgan.script.lm_training import train_language_model  # noqa: E402
from reelgan.script.model import BUNDLED_DIR, load_language_model, weights_sha256  # noqa: E402
from reelgan.script.scene_writer import write_draft  # noqa: E402

PLAY = """First Citizen:
Before we proceed any further, hear me speak.

All:
Speak, speak.

First Citizen:
You are all resolved rather to die than to famish?
Is it not so?

Second Citizen:
One word, good citizens.
"""

SCENE = """INT. KITCHEN - NIGHT

MARA stands at the window. Rain.

MARA
He said he would come back.

TOM (O.S.)
I did come back.

She turns. TOM stands in the doorway, soaked.

CUT TO:

EXT. HARBOUR - DAWN

Boats knock together in the swell.
"""


tiny_config = tiny_script_config


@pytest.fixture(scope="module")
def corpus_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("corpus")
    (folder / "kitchen.fountain").write_text(SCENE * 6)
    (folder / "play.txt").write_text(PLAY * 8)
    return folder


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory, corpus_dir) -> Path:
    out = tmp_path_factory.mktemp("models") / "tiny"
    train_language_model(read_corpus(corpus_dir), out, tiny_config(steps=6), progress=False, log=lambda m: None)
    return out


# --- corpus -----------------------------------------------------------------------------------------

def test_plays_become_fountain_scenes_with_cues_and_dialogue():
    scenes = play_to_fountain(PLAY * 3, seed=1, min_speeches=4, max_speeches=4)
    assert len(scenes) == 3
    first = parse(scenes[0]).elements
    assert first[0].kind == "scene_heading" and first[0].text in PLAY_LOCATIONS
    assert first[1] == Element("action", "FIRST CITIZEN, ALL and SECOND CITIZEN are here.")
    assert first[2:4] == [Element("character", "FIRST CITIZEN"),
                          Element("dialogue", "Before we proceed any further, hear me speak.")]
    assert Element("dialogue", "You are all resolved rather to die than to famish?\nIs it not so?") in first
    assert play_to_fountain(PLAY * 3, seed=1) == play_to_fountain(PLAY * 3, seed=1)


def test_corpus_reads_fountain_as_is_and_detects_plays(corpus_dir):
    corpus = read_corpus(corpus_dir)
    assert corpus.documents[0] == (SCENE * 6).strip() + "\n"
    assert all(parse(d).elements[0].kind == "scene_heading" for d in corpus.documents[1:])
    plain = read_corpus(corpus_dir / "play.txt", "text")
    assert plain.documents == [(PLAY * 8).strip() + "\n"]


@pytest.mark.parametrize("make, message", [
    (lambda d: None, "has no .fountain"),
    (lambda d: (d / "empty.txt").write_text("  \n"), "holds no text"),
    (lambda d: (d / "bad.txt").write_bytes(b"\x00\x01binary"), "not a text file"),
])
def test_corpus_errors(tmp_path, make, message):
    make(tmp_path)
    with pytest.raises(ReelganError, match=message):
        read_corpus(tmp_path)
    with pytest.raises(ReelganError, match="does not exist"):
        read_corpus(tmp_path / "missing")


# --- training ---------------------------------------------------------------------------------------

def test_training_resumes_exactly(tmp_path, corpus_dir):
    corpus = read_corpus(corpus_dir)
    quiet = dict(progress=False, log=lambda m: None)
    config = dict(steps=6, warmup=1, save_every=10)  # the break falls in the cosine decay, not the warm-up
    train_language_model(corpus, tmp_path / "whole", tiny_config(**config), **quiet)
    train_language_model(corpus, tmp_path / "split", tiny_config(**config), stop_at=4, **quiet)
    train_language_model(corpus, tmp_path / "split", tiny_config(**config), resume=True, **quiet)
    from safetensors.torch import load_file

    whole = load_file(tmp_path / "whole" / "model.safetensors")
    split = load_file(tmp_path / "split" / "model.safetensors")
    assert whole.keys() == split.keys()
    assert all(torch.equal(whole[k], split[k]) for k in whole)
    history = json.loads((tmp_path / "split" / "reelgan-training.json").read_text())["history"]
    assert [row["step"] for row in history] == [4, 6]


def test_resume_from_the_cli_keeps_the_saved_settings(tmp_path, corpus_dir, capsys):
    out = tmp_path / "m"
    base = ["script", "train", str(corpus_dir), "--out", str(out), "--quiet", "--context", "32", "--batch-size", "2",
            "--vocab-size", "320", "--layers", "1", "--width", "32", "--heads", "2", "--positions", "64"]
    assert main([*base, "--steps", "3", "--seed", "5", "--stop-at", "2"]) == 0
    assert main(["script", "train", str(corpus_dir), "--out", str(out), "--quiet", "--resume", "--steps", "3"]) == 0
    assert "step 3" in capsys.readouterr().out  # the saved seed picked the same play headings: same corpus
    assert main(["script", "train", str(corpus_dir), "--out", str(out), "--resume", "--steps", "4",
                 "--lr", "0.5"]) == 2
    assert "--lr 0.5 differs" in capsys.readouterr().err


def test_a_trained_model_loads_with_plain_transformers(tiny_model):
    import transformers

    model = transformers.AutoModelForCausalLM.from_pretrained(tiny_model)
    tokenizer = transformers.AutoTokenizer.from_pretrained(tiny_model)
    ids = tokenizer("INT. KITCHEN - NIGHT", return_tensors="pt")["input_ids"]
    assert model(input_ids=ids).logits.shape == (1, ids.shape[1], len(tokenizer))
    assert tokenizer.decode(ids[0]) == "INT. KITCHEN - NIGHT"


def test_fine_tuning_starts_from_the_base_weights(tmp_path, corpus_dir, tiny_model):
    out = tmp_path / "tuned"
    config = tiny_config(base=str(tiny_model), steps=1, lr=1e-9, warmup=1)
    train_language_model(read_corpus(corpus_dir), out, config, progress=False, log=lambda m: None)
    from safetensors.torch import load_file

    base, tuned = load_file(tiny_model / "model.safetensors"), load_file(out / "model.safetensors")
    assert all(torch.allclose(base[k], tuned[k], atol=1e-5) for k in base)
    assert (out / "tokenizer.json").read_text() == (tiny_model / "tokenizer.json").read_text()


def test_training_refuses_to_overwrite_or_to_resume_what_it_cannot(tmp_path, corpus_dir, tiny_model):
    corpus = read_corpus(corpus_dir)
    with pytest.raises(ReelganError, match="already exists; add --resume"):
        train_language_model(corpus, tiny_model, tiny_config(), progress=False)
    with pytest.raises(ReelganError, match="already trained for 6 steps"):
        train_language_model(corpus, tiny_model, tiny_config(steps=6), resume=True, progress=False)
    with pytest.raises(ReelganError, match="corpus differs"):
        train_language_model(read_corpus(corpus_dir / "play.txt"), tiny_model, tiny_config(steps=9), resume=True,
                             progress=False, log=lambda m: None)
    (tmp_path / "empty").mkdir()
    with pytest.raises(ReelganError, match="no training state"):
        train_language_model(corpus, tmp_path / "empty", tiny_config(), resume=True, progress=False)
    with pytest.raises(ReelganError, match="too little for one --context"):
        train_language_model(read_corpus(corpus_dir), tmp_path / "x", tiny_config(context=100_000, positions=100_000),
                             progress=False)


def test_a_save_cut_off_between_its_renames_is_recovered(tmp_path, corpus_dir, tiny_model):
    out = tmp_path / "model"
    shutil.copytree(tiny_model, out.with_name("model.old"))  # as if the crash came after the first rename
    (tmp_path / "model.saving").mkdir()
    train_language_model(read_corpus(corpus_dir), out, tiny_config(steps=8), resume=True, progress=False,
                         log=lambda m: None)
    assert json.loads((out / "reelgan-training.json").read_text())["step"] == 8
    assert not (tmp_path / "model.old").exists() and not (tmp_path / "model.saving").exists()


# --- drafts -----------------------------------------------------------------------------------------

def test_prompts_become_a_heading_and_action_unless_already_fountain():
    assert prompt_elements("Scene: A bustling marketplace, the hero walks through.") == [
        Element("scene_heading", "EXT. BUSTLING MARKETPLACE - DAY"),
        Element("action", "A bustling marketplace, the hero walks through."),
    ]
    assert heading_for("The kitchen of a small flat at night; rain") == "INT. KITCHEN OF A SMALL FLAT - NIGHT"
    assert heading_for("Night falls over the city") == "EXT. SOMEWHERE - NIGHT"
    assert prompt_elements(SCENE) == parse(SCENE).elements
    for empty in ("", "   \n"):
        with pytest.raises(ReelganError, match="the prompt is empty"):
            prompt_elements(empty)


def test_model_text_is_coerced_into_scene_elements():
    raw = ("JOHN: Where were you?\nMary: Out.\n\n(quietly)\n\nTHE END\n\n[[a note]] They leave. /* cut */\n\n"
           "# Act two\n\nINT. CAR - NIGHT\n\nHe looks up.\nANNA (V.O.)\nDrive.\n\nDOCTOR\n(beat)")
    assert coerce_elements(raw) == [
        Element("character", "JOHN"), Element("dialogue", "Where were you?"),
        Element("character", "MARY"), Element("dialogue", "Out."),
        Element("action", "(quietly)"),
        Element("action", "THE END"),
        Element("action", "a note They leave.  cut"),
        Element("scene_heading", "INT. CAR - NIGHT"),
        Element("action", "He looks up."),
        Element("character", "ANNA", extension="(V.O.)"), Element("dialogue", "Drive."),
    ]


def test_seeded_drafts_repeat_and_seed_plus_i_reproduces_draft_i(tiny_model):
    lm = load_language_model(str(tiny_model))
    sampling = SamplingConfig(max_new_tokens=40, seed=5)
    first = write_draft(lm, "A storm at sea.", sampling, index=1)
    again = write_draft(lm, "A storm at sea.", SamplingConfig(max_new_tokens=40, seed=6), index=0)
    assert first.raw_text == again.raw_text and first.elements == again.elements and first.seed == 6
    other = write_draft(lm, "A storm at sea.", SamplingConfig(max_new_tokens=40, seed=7))
    assert other.raw_text != first.raw_text
    greedy = [sample_text(lm, "EXT. SEA - DAY\n\n", SamplingConfig(temperature=0, max_new_tokens=20), seed)
              for seed in (1, 2)]
    assert greedy[0] == greedy[1] and greedy[0][1] > 0


@pytest.mark.parametrize("prompt", ["Scene: A bustling marketplace, the hero walks through.", SCENE, "x"])
def test_every_draft_parses_into_a_scene_with_heading_and_text(tiny_model, tmp_path, prompt):
    lm = load_language_model(str(tiny_model))
    for seed in range(6):
        draft = write_draft(lm, prompt, SamplingConfig(max_new_tokens=48, temperature=1.5, seed=seed))
        text, record = build_script(draft, lm, SamplingConfig(seed=seed), prompt, tmp_path / "d.fountain", 1)
        screenplay = parse(text)
        assert screenplay.elements == draft.elements  # the written text reads back as the draft
        assert any(scene.heading is not None and any(e.kind in ("action", "dialogue") for e in scene.elements)
                   for scene in screenplay.scenes())
        assert MODEL in draft.sources and PERSON in draft.sources
        assert "AI-generated" in screenplay.title_page.get("Disclosure")


def test_the_bundled_model_writes_a_scene_offline():
    assert (BUNDLED_DIR / "model.safetensors").stat().st_size < 8_000_000
    lm = load_language_model("bundled")
    draft = write_draft(lm, "Scene: A bustling marketplace, the hero walks through.",
                        SamplingConfig(max_new_tokens=120, seed=0))
    kinds = {e.kind for e, s in zip(draft.elements, draft.sources) if s == MODEL}
    assert kinds & {"character", "dialogue", "action", "scene_heading"}


# --- authorship -------------------------------------------------------------------------------------

def test_cli_writes_drafts_with_authorship_and_reports_the_split(tiny_model, tmp_path, capsys):
    out = tmp_path / "drafts"
    argv = ["script", "A storm at sea.", "--model", str(tiny_model), "--n", "2", "--out", str(out),
            "--max-new-tokens", "30", "--seed", "3", "--quiet"]
    assert main(argv) == 0
    drafts = sorted(out.glob("*.fountain"))
    assert [d.name for d in drafts] == ["draft-1.fountain", "draft-2.fountain"]
    record = read_record(drafts[0])
    assert record["ai_generated"] is True and record["seed"] == 3
    assert record["model"]["sha256"] == weights_sha256(tiny_model)
    assert record["digital_source_type"].endswith("compositeWithTrainedAlgorithmicMedia")
    lines = drafts[0].read_text().split("\n")
    sources = {entry["line"]: entry["source"] for entry in record["lines"]}
    assert sources[lines.index("EXT. SEA - DAY") + 1] == PERSON
    assert sources[lines.index("A storm at sea.") + 1] == PERSON
    assert all(sources[n] == "reelgan" for n in range(1, lines.index("") + 1) if n in sources)
    model_lines = [n for n, s in sources.items() if s == MODEL]
    assert model_lines and len(sources) == sum(1 for line in lines if line.strip())
    capsys.readouterr()

    assert main(["script", "authorship", str(drafts[0]), "--json"]) == 0
    split = json.loads(capsys.readouterr().out)
    assert split["lines"]["person"] == 2 and split["lines"]["model"] == len(model_lines)
    assert main(["verify", str(drafts[1])]) == 0
    assert "authorship record" in capsys.readouterr().out

    # a person edits one generated line and adds one: both count as theirs
    edited = lines[:]
    edited[model_lines[0] - 1] = "Rewritten by hand."
    edited.append("An added line.")
    drafts[0].write_text("\n".join(edited))
    after = compare(drafts[0], record)
    assert after.lines.get("model", 0) == len(model_lines) - 1 and after.removed_model_lines == 1
    assert after.lines["person (edited or added after generation)"] == 2

    assert main(argv) == 2  # refuses to overwrite
    assert "already exists" in capsys.readouterr().err


def test_continuing_a_script_keeps_its_lines_as_the_persons(tiny_model, tmp_path, capsys):
    given = tmp_path / "act-one.fountain"
    given.write_text("Title: The Harbour\nAuthor: M. Writer\n\n" + SCENE)
    out = tmp_path / "next.fountain"
    assert main(["script", "They meet again.", "--model", str(tiny_model), "--n", "1", "--continue", str(given),
                 "--out", str(out), "--max-new-tokens", "30", "--quiet"]) == 0
    script = read_fountain(out)
    assert script.title_page.get("Title") == "The Harbour" and script.title_page.get("Author") == "M. Writer"
    assert script.elements[:len(parse(SCENE).elements)] == parse(SCENE).elements
    record = read_record(out)
    person = [e["text"] for e in record["lines"] if e["source"] == PERSON]
    assert "He said he would come back." in person and "They meet again." in person


def test_authorship_without_a_record_says_so(tmp_path, capsys):
    script = tmp_path / "mine.fountain"
    script.write_text(SCENE)
    assert main(["script", "authorship", str(script)]) == 1
    assert "no authorship record" in capsys.readouterr().out
    record_path(script).write_text("{not json")
    assert main(["script", "authorship", str(script)]) == 2
    assert "is corrupt" in capsys.readouterr().err


def test_outline_command(tmp_path, capsys):
    script = tmp_path / "s.fountain"
    script.write_text(SCENE)
    assert main(["script", "outline", str(script), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert [s["heading"] for s in summary["scenes"]] == ["INT. KITCHEN - NIGHT", "EXT. HARBOUR - DAWN"]
    assert summary["characters"]["TOM"]["words"] == 4
    assert main(["script", "outline", str(script)]) == 0
    assert "2 scenes" in capsys.readouterr().out


# --- errors -----------------------------------------------------------------------------------------

def corrupt_weights(folder: Path) -> None:
    (folder / "model.safetensors").write_bytes(b"\x08\x00\x00\x00\x00\x00\x00\x00{}garbage")


@pytest.mark.parametrize("setup, argv, message", [
    (None, ["script", "", "--model", "M"], "the prompt is empty"),
    (None, ["script", "x", "--model", "{tmp}/missing"], "does not exist"),
    ("nofolder", ["script", "x", "--model", "{tmp}/plain"], "not a model folder (no config.json)"),
    ("corrupt", ["script", "x", "--model", "{tmp}/broken"], "could not be loaded"),
    (None, ["script", "x", "--model", "gpt2-not-cached"], "reelgan script download-model gpt2-not-cached"),
    (None, ["script", "x", "--model", "M", "--top-p", "0"], "--top-p must be in (0, 1]"),
    (None, ["script", "x", "--model", "M", "--n", "2", "--out", "{tmp}/one.fountain"], "is one file"),
    (None, ["script", "x", "--model", "M", "--max-new-tokens", "500"], "leaves no room for the prompt"),
    ("binary", ["script", "outline", "{tmp}/bin.fountain"], "not a text file"),
    ("binary", ["script", "train", "{tmp}/bin.fountain", "--out", "{tmp}/m", "--format", "text"], "not a text file"),
    (None, ["script", "train", "{tmp}", "--out", "{tmp}/m"], "has no .fountain"),
])
def test_bad_input_is_one_line_and_exit_status_2(tmp_path, tiny_model, capsys, monkeypatch, setup, argv, message):
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))  # an empty Hugging Face cache
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    if setup == "nofolder":
        (tmp_path / "plain").mkdir()
    elif setup == "corrupt":
        shutil.copytree(tiny_model, tmp_path / "broken")
        corrupt_weights(tmp_path / "broken")
    elif setup == "binary":
        (tmp_path / "bin.fountain").write_bytes(b"\x00\xff\x00binary")
    argv = [str(tiny_model) if a == "M" else a.replace("{tmp}", str(tmp_path)) for a in argv]
    before = sorted(p.name for p in tmp_path.iterdir())
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and "\n" not in err
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "hf-home") == [b for b in before if b != "hf-home"]
