"""Scenes written element by element by an instruct (chat) model, so that drafts are Fountain by construction.

The model is asked, through its tokenizer's chat template, for a scene: the prompt, the heading when the
prompt names a place (`logline.read_brief`), the characters it names, the end of the script being continued
(`--continue`), and a short example scene in Fountain. Its answer is then written one element at a time:

1. the heading, unless the prompt gives one: `INT. ` or `EXT. ` is written and the model names the place;
2. an action paragraph, then speeches: a CHARACTER cue and one line of dialogue, with an action paragraph
   between runs of two or more speeches, until the token budget (`--max-new-tokens`) is spent.

Every element stops at the end of its line, at the end of the model's turn or at its own token cap. A cue is
forced to an upper-case name: one the prompt or the scene already has, or a new one the model offers; a
line the model does not finish is cut back to its last full sentence. The assembled text then goes through
`coerce_elements` like any model's text, as a safety net; when nothing usable is left, the draft is made as
for other models instead (`draft.continue_draft`: the Fountain text continued, coerced, with retries).

The token ids of the conversation grow as elements are added, and each `generate` call continues from the
key/value cache of the previous one (cropped to the tokens they share), so only new tokens are computed.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from typing import Any

import torch

from ..errors import ReelganError
from .draft import MODEL, PERSON, Draft, SamplingConfig, clean_text, coerce_elements, continue_draft, prompt_elements
from .fountain import Element, Screenplay, parse_body, write
from .logline import COMMON_WORDS, SceneBrief, find_characters, read_brief
from .model import LanguageModel

SYSTEM = ("You are a screenwriter. You write short scenes in Fountain screenplay format: a scene heading, "
          "action in the present tense, and dialogue under each CHARACTER name in capitals.")
EXAMPLE_REQUEST = ("Write a scene.\nStory: Two sisters, June and Ellie, argue about selling the family farm "
                   "in the farmhouse kitchen at night.\nScene heading: INT. FARMHOUSE KITCHEN - NIGHT\n"
                   "Characters: JUNE, ELLIE")
EXAMPLE_SCENE = ("INT. FARMHOUSE KITCHEN - NIGHT\n\nRain drums on the window. JUNE stacks unpaid bills on the "
                 "table.\n\nELLIE\nYou can't sell it. Dad built this place.\n\nJUNE\nDad left us his debts "
                 "too.\n\nELLIE pushes the bills away and stands.\n\nELLIE\nThen we fight for it.")
CONTEXT_CHARS = 1500   # of the script being continued, from its end
MAX_ELEMENTS = 16      # elements after the heading
MAX_CHARACTERS = 6     # new names are refused beyond this many
MAX_FAILURES = 3       # empty or repeated elements in a row before the scene ends
_SENTENCE_END_RE = re.compile(r"""[.!?…]["')\]]*(?=\s|$)""")
_CUE_RE = re.compile(r"[A-Z][A-Z'.-]*(?: [A-Z][A-Z'.-]*){0,2}")
_LIST_MARK_RE = re.compile(r"^(?:\d+[.)]|[-*\u2022])\s+")  # "1. ", "- ": list marks, not screenplay
_PARENTHETICAL_RE = re.compile(r"^(\([^()\n]{1,40}\))\s*(\S.*)$")
_HEADING_RE = re.compile(r"(?:INT|EXT|EST|I/E)[./ ]", re.IGNORECASE)


@dataclass(frozen=True)
class ElementLimits:
    """The most tokens the model may spend on one element of each kind."""

    place: int = 12
    action: int = 64
    cue: int = 8
    speech: int = 56


LIMITS = ElementLimits()


class _StopAtLineEnd:
    """A `generate` stopping rule: stop once the tokens after `start` hold a line break after some text."""

    def __init__(self, tokenizer: Any, start: int):
        self.tokenizer, self.start = tokenizer, start

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor, **kwargs: Any) -> torch.Tensor:
        text = self.tokenizer.decode(input_ids[0, self.start:].tolist(), skip_special_tokens=True)
        ended = "\n" in text.lstrip()  # blank lines before the line do not end it
        return torch.full((input_ids.shape[0],), ended, dtype=torch.bool, device=input_ids.device)


class TokenSession:
    """The conversation so far as token ids; generates one line at a time, reusing the key/value cache."""

    def __init__(self, lm: LanguageModel, prompt_text: str, sampling: SamplingConfig):
        self.lm, self.sampling = lm, sampling
        self.ids: list[int] = self.encode(prompt_text)
        self.cache: Any = None
        self.cached: list[int] = []   # the token ids the cache holds keys and values for
        self.new_tokens = 0           # generated so far, over all calls
        self.device = next(lm.model.parameters()).device

    def encode(self, text: str) -> list[int]:
        """Token ids of `text`, without the tokenizer's special tokens."""
        return list(self.lm.tokenizer(text, add_special_tokens=False)["input_ids"])

    def append(self, text: str) -> None:
        """Add text (the person's, or a cleaned element) to the conversation."""
        self.ids += self.encode(text)

    def mark(self) -> int:
        """A position to `rewind` to."""
        return len(self.ids)

    def rewind(self, position: int) -> None:
        """Forget what was appended after `position`."""
        del self.ids[position:]

    @property
    def tokens_left(self) -> int:
        """What remains of the draft's budget, `--max-new-tokens`."""
        return self.sampling.max_new_tokens - self.new_tokens

    def line(self, max_tokens: int) -> tuple[str, bool]:
        """The model's next line (without its line break) and whether it finished it (line break or end of
        turn) within `max_tokens`; nothing is appended."""
        max_tokens = min(max_tokens, self.tokens_left)
        if max_tokens < 1:
            return "", False
        output, ended = self._generate(max_tokens)
        self.new_tokens += len(output)
        text = self.lm.tokenizer.decode(output, skip_special_tokens=True).lstrip()
        finished = "\n" in text or ended
        return text.split("\n", 1)[0], finished

    def _generate(self, max_tokens: int) -> tuple[list[int], bool]:
        """New token ids after `self.ids`, and whether the model ended its turn."""
        tokenizer, model, s = self.lm.tokenizer, self.lm.model, self.sampling
        eos = tokenizer.eos_token_id
        if self.cache is not None:
            shared = next((i for i, (a, b) in enumerate(zip(self.cached, self.ids)) if a != b),
                          min(len(self.cached), len(self.ids)))
            keep = min(shared, len(self.ids) - 1)
            if len(self.cached) > keep:
                self.cache.crop(keep - len(self.cached))  # a negative count: tokens to remove from the end
            self.cached = self.cached[:keep]
        inputs = torch.tensor([self.ids], device=self.device)
        options: dict[str, Any] = dict(
            max_new_tokens=max_tokens, repetition_penalty=s.repetition_penalty, pad_token_id=eos,
            eos_token_id=eos, attention_mask=torch.ones_like(inputs), use_cache=True,
            return_dict_in_generate=True, stopping_criteria=[_StopAtLineEnd(tokenizer, len(self.ids))])
        if s.temperature > 0:
            options.update(do_sample=True, temperature=s.temperature, top_k=s.top_k, top_p=s.top_p)
        else:
            options.update(do_sample=False)
        if self.cache is not None:
            options[_cache_argument()] = self.cache
        result = model.generate(inputs, **options)
        sequence = result.sequences[0].tolist()
        self.cache = getattr(result, "cache", None) or getattr(result, "past_key_values", None)
        self.cached = sequence[:-1] if self.cache is not None else []
        output = sequence[len(self.ids):]
        ended = bool(output) and eos is not None and output[-1] == eos
        return (output[:-1] if ended else output), ended or not output


def _cache_argument() -> str:
    """What `generate` calls its key/value cache: `cache` in newer transformers, `past_key_values` before."""
    try:
        from transformers.generation.utils import ALL_CACHE_NAMES
    except ImportError:
        return "past_key_values"
    return "cache" if "cache" in ALL_CACHE_NAMES else "past_key_values"


def scene_start(prompt: str) -> tuple[list[Element], SceneBrief]:
    """The person's elements (their Fountain, or the heading their words name; none when they name no
    place) and what the prompt says of the scene."""

    prompt_elements(prompt)  # the documented errors for empty and overlong prompts
    text = clean_text(prompt).strip()
    elements = parse_body(text)
    if any(e.kind == "scene_heading" for e in elements):
        names = [e.text for e in elements if e.kind == "character"]
        return elements, SceneBrief(None, None, False, list(dict.fromkeys(names + find_characters(text))))
    brief = read_brief(re.sub(r"^\s*(?:scene|prompt)\s*:\s*", "", text, flags=re.IGNORECASE))
    return ([Element("scene_heading", brief.heading())] if brief.place else []), brief


def chat_text(lm: LanguageModel, prompt: str, brief: SceneBrief, person: list[Element],
              given: Screenplay | None) -> str:
    """The chat so far: instructions, the example, the request and the start of the answer (the person's
    Fountain, or their heading)."""
    request = ["Write a scene."]
    if given is not None and given.elements:
        request.append("The script so far ends:\n" + write(Screenplay(elements=given.elements))[-CONTEXT_CHARS:])
    if person and not (len(person) == 1 and person[0].kind == "scene_heading"):
        request.append("Continue this scene:\n" + write(Screenplay(elements=person)).strip())
    else:
        request.append(f"Story: {prompt.strip()}")
        request.append(f"Scene heading: {person[0].text}" if person else "Scene heading: choose the place")
    request.append("Characters: " + (", ".join(brief.characters) if brief.characters else "invent one or two"))
    messages = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": EXAMPLE_REQUEST},
                {"role": "assistant", "content": EXAMPLE_SCENE}, {"role": "user", "content": "\n".join(request)}]
    text = lm.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    return text + (write(Screenplay(elements=person)).strip() + "\n\n" if person else "")


def write_scene(lm: LanguageModel, prompt: str, sampling: SamplingConfig, index: int = 0,
                given: Screenplay | None = None) -> Draft:
    """Draft number `index` (seed `sampling.seed + index`) of a scene, element by element (module docstring)."""
    sampling.check()
    if lm.context_length - sampling.max_new_tokens < 16:
        raise ReelganError(f"--max-new-tokens {sampling.max_new_tokens} leaves no room for the prompt in "
                           f"{lm.name}'s {lm.context_length} positions; lower it")
    person, brief = scene_start(prompt)
    if given is not None:
        known = [e.text for e in given.elements if e.kind == "character"]
        brief.characters = list(dict.fromkeys(brief.characters + known))[:MAX_CHARACTERS]
    session = TokenSession(lm, chat_text(lm, prompt, brief, person, given), sampling)
    if len(session.ids) > lm.context_length - sampling.max_new_tokens:
        raise ReelganError(f"the prompt and the script's end take {len(session.ids)} tokens, more than "
                           f"{lm.name} leaves beside --max-new-tokens {sampling.max_new_tokens}; shorten them")
    seed = sampling.seed + index
    devices = [session.device] if session.device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices), torch.no_grad():
        torch.manual_seed(seed)
        heading = [] if person else [_heading(session, brief)]
        body = _elements(session, brief, person, random.Random(seed))
    raw = "\n\n".join(heading + body)
    generated = coerce_elements(raw)
    if not any(e.kind in ("action", "dialogue") for e in generated):
        return continue_draft(lm, prompt, sampling, index, given)  # plain continuation, coerced, with retries
    given_elements = list(given.elements) if given is not None else []
    elements = given_elements + person + generated
    origins = ["given"] * len(given_elements) + ["prompt"] * len(person) + ["model"] * len(generated)
    sources = [MODEL if origin == "model" else PERSON for origin in origins]
    return Draft(elements, sources, seed, raw, session.new_tokens, origins)


def _heading(session: TokenSession, brief: SceneBrief) -> str:
    """A heading whose place the model names (the prompt names none), appended to the conversation."""
    start = session.mark()
    session.append("INT. " if brief.interior else "EXT. ")
    text, finished = session.line(LIMITS.place)
    parts = re.split(r"\s+[-\u2013\u2014]|[,.;:!?(]", text.strip(), maxsplit=1)
    words = [w for w in re.findall(r"[A-Za-z][\w'&-]*", parts[0]) if w.upper() not in ("INT", "EXT")]
    if not finished and len(parts) == 1:
        words = words[:-1]  # the cap may have cut its last word
    words = words[:5]
    heading = brief.heading(" ".join(words).upper() or "SOMEWHERE")
    session.rewind(start)
    session.append(heading + "\n\n")
    return heading


def _elements(session: TokenSession, brief: SceneBrief, person: list[Element], rng: random.Random) -> list[str]:
    """Action paragraphs and speeches, as Fountain blocks, until the budget or the element limit is reached."""
    names = list(brief.characters)
    blocks: list[str] = []
    kind, run, failures, last = "action", 0, 0, ""
    if person and person[-1].kind != "scene_heading":
        kind = "speech" if person[-1].kind == "action" else "action"
    while len(blocks) < MAX_ELEMENTS and failures < MAX_FAILURES and session.tokens_left > 0:
        start = session.mark()
        block = _action(session, not blocks) if kind == "action" else _speech(session, names, last, blocks)
        if block is None or block in blocks:  # nothing usable, or a repeat: try again from the same place
            session.rewind(start)
            failures += 1
            if kind == "speech" and failures > 1:
                kind, run = "action", 0
            continue
        failures = 0
        blocks.append(block)
        if kind == "speech":
            last, run = block.split("\n", 1)[0], run + 1
        kind = _next_kind(kind, run, rng)
        run = 0 if kind == "action" else run
    return blocks


def _next_kind(kind: str, speeches: int, rng: random.Random) -> str:
    """What follows: speeches after action; after two or more speeches, sometimes action."""
    if kind == "action" or speeches < 2:
        return "speech"
    return "action" if rng.random() < 0.4 else "speech"


def _action(session: TokenSession, first: bool = False) -> str | None:
    """One action paragraph, or None (rewound) when the model wrote nothing usable. The `first` paragraph of
    a scene is kept unfinished when the whole budget ran out in it (a tiny --max-new-tokens)."""
    start = session.mark()
    text, finished = session.line(LIMITS.action)
    text = _LIST_MARK_RE.sub("", text.strip())
    text = finish_sentence(text, finished or (first and session.tokens_left == 0))
    if not text or _HEADING_RE.match(text) or _CUE_RE.fullmatch(text):
        session.rewind(start)
        return None
    session.append(text + "\n\n")
    return text


def _speech(session: TokenSession, names: list[str], last: str, blocks: list[str]) -> str | None:
    """A cue (a known or new upper-case NAME) and one line of dialogue, or None (rewound) when the model
    wrote no dialogue."""
    start = session.mark()
    offered, _ = session.line(LIMITS.cue)
    name = cue_name(offered, names)
    if name is None or (name == last and len(names) > 1):
        name = pick_speaker(names, last, blocks)
    session.rewind(start)
    session.append(name + "\n")
    text, finished = session.line(LIMITS.speech)
    text = parenthetical_first(finish_sentence(clean_speech(text, name), finished))
    if not text:
        session.rewind(start)
        return None
    if name not in names:
        names.append(name)
    session.append(text + "\n\n")
    return f"{name}\n{text}"


def cue_name(text: str, names: list[str]) -> str | None:
    """The upper-case NAME a model's cue line offers: a known name it matches (by any of its words), a new
    name (up to three capitalised words, not common words), or None."""
    line = re.split(r"[:(\[]", text.strip(), maxsplit=1)[0].strip().strip("*_\"'")
    upper = line.upper()
    for name in names:
        if upper == name or upper in name.split() or (upper and upper.split()[0] == name.split()[0]):
            return name
    if not line or _HEADING_RE.match(line) or not _CUE_RE.fullmatch(upper) or not line[:1].isupper():
        return None
    words = upper.split()
    if any(word.lower().strip(".'") in COMMON_WORDS for word in words):
        return None
    return upper if len(names) < MAX_CHARACTERS else None


def pick_speaker(names: list[str], last: str, blocks: list[str]) -> str:
    """The known character who spoke least (not `last`), or a name from the scene's action, or a stand-in."""
    if not names:
        found = find_characters(" ".join(b for b in blocks if "\n" not in b))
        names.extend(found[:2] or ["WOMAN", "MAN"])
    spoken = [b.split("\n", 1)[0] for b in blocks if "\n" in b]
    others = [name for name in names if name != last] or names
    return min(others, key=lambda name: (spoken.count(name), others.index(name)))


def clean_speech(text: str, name: str) -> str:
    """A line of dialogue without a repeated `NAME:`, surrounding quotes or a list mark."""
    text = text.strip()
    if text.upper().startswith(name + ":"):
        text = text[len(name) + 1:].strip()
    if len(text) > 1 and text[0] in "\"\u201c" and text[-1] in "\"\u201d":
        text = text[1:-1].strip()
    return _LIST_MARK_RE.sub("", text)


def parenthetical_first(speech: str) -> str:
    """A speech that opens with a parenthetical ("(laughs) No.") with it on its own line, as Fountain has it."""
    match = _PARENTHETICAL_RE.match(speech)
    return f"{match.group(1).lower()}\n{match.group(2)}" if match else speech


def finish_sentence(text: str, finished: bool) -> str:
    """`text` as it is when the model finished the line, else cut back to its last full sentence ("" if none)."""
    if finished or not text:
        return text
    ends = list(_SENTENCE_END_RE.finditer(text))
    return text[:ends[-1].end()].strip() if ends else ""


def write_draft(lm: LanguageModel, prompt: str, sampling: SamplingConfig, index: int = 0,
                given: Screenplay | None = None) -> Draft:
    """Draft number `index` (seed `sampling.seed + index`) continuing the given script and the prompt.

    An instruct model (its tokenizer has a chat template) writes the scene element by element
    (`write_scene`); any other model continues the Fountain text, coerced afterwards (`draft.continue_draft`).
    """
    sampling.check()
    if lm.chat:
        return write_scene(lm, prompt, sampling, index, given)
    return continue_draft(lm, prompt, sampling, index, given)
