"""Writing scene drafts with a causal language model, coerced into valid Fountain.

The prompt is a person's words. Written as Fountain (it has a scene heading), it is used as it is;
otherwise it becomes an action paragraph under a scene heading made of the place and time it names
("Scene: A bustling marketplace, the hero walks through." -> `EXT. BUSTLING MARKETPLACE - DAY`; see
`logline`). Instruct models write their scene element by element instead (`scene_writer`, whose
`write_draft` chooses between the two). A
given script (`--continue`) goes before it. The model continues that Fountain text; what it writes is
then coerced into screenplay elements (`coerce_elements`): `NAME: speech` lines become cues and
dialogue, speech without a cue and cues without speech become action, and notes, boneyard, sections
and the like are dropped. Each draft keeps, per element, whether a person or the model wrote it.

Draft i of seed s is sampled with seed s + i, so `--seed s+i --n 1` reproduces it alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import torch

from ..config import check_field_types
from ..errors import ReelganError
from .fountain import SPEECH_KINDS, Element, Screenplay, parse_body, write
from .model import LanguageModel

PERSON, MODEL = "person", "model"
MAX_PROMPT_CHARS = 20_000
RETRIES = 3  # extra samples tried when a draft has no usable model text

_LABEL_RE = re.compile(r"^\s*(?:scene|prompt)\s*:\s*", re.IGNORECASE)
_INLINE_SPEECH_RE = re.compile(r"([A-Z][A-Za-z'.-]*(?: [A-Z][A-Za-z'.-]*){0,3}):[ \t]*(\S.*)?")
_CUE_LINE_RE = re.compile(r"[A-Z][A-Z'.-]*(?: [A-Z][A-Z'.-]*){0,3}(?: \([A-Z. ']+\))?")
_MARKUP_RE = re.compile(r"/\*|\*/|\[\[|\]\]")
_LINE_BREAKS_RE = re.compile("\r\n|[\r\x85\u2028\u2029]")  # every line break Python knows, as "\n"
_CONTROL_RE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")    # what read_fountain refuses (tab and newline stay)
_TRANSITION_RE = re.compile(r"[A-Z][A-Z .'-]* TO:|FADE OUT\.|FADE TO BLACK\.")
_HEADING_START_RE = re.compile(r"(?:INT\.?/EXT|INT|EXT|EST|I/E)[. ]", re.IGNORECASE)


@dataclass
class SamplingConfig:
    """How tokens are drawn; the same settings, model and seed give the same text."""

    temperature: float = 0.9        # 0: always the likeliest token (greedy)
    top_k: int = 50                 # keep the k likeliest tokens (0: all)
    top_p: float = 0.95             # keep the smallest set holding this probability
    repetition_penalty: float = 1.1  # >1 discourages repeating tokens already in the text
    max_new_tokens: int = 250
    seed: int = 0

    def check(self) -> None:
        """ReelganError for values sampling cannot use."""
        check_field_types(self, "--")
        if self.temperature < 0:
            raise ReelganError(f"--temperature must be 0 or more; got {self.temperature}")
        if self.top_k < 0:
            raise ReelganError(f"--top-k must be 0 or more; got {self.top_k}")
        if not 0 < self.top_p <= 1:
            raise ReelganError(f"--top-p must be in (0, 1]; got {self.top_p}")
        if self.repetition_penalty <= 0:
            raise ReelganError(f"--repetition-penalty must be positive; got {self.repetition_penalty}")
        if self.max_new_tokens < 1:
            raise ReelganError(f"--max-new-tokens must be at least 1; got {self.max_new_tokens}")


@dataclass
class Draft:
    """One coerced draft: its elements, who wrote each (`sources[i]` for `elements[i]`), and how it was made."""

    elements: list[Element]
    sources: list[str]
    seed: int
    raw_text: str                    # the model's text before coercion
    new_tokens: int                  # tokens the model generated
    origins: list[str] = field(default_factory=list)  # per element: "given", "prompt" or "model"


def prompt_elements(prompt: str) -> list[Element]:
    """The person's prompt as Fountain elements: as written if it has a scene heading, else heading + action."""
    if not prompt or not prompt.strip():
        raise ReelganError('the prompt is empty; describe the scene, e.g. "Scene: A bustling marketplace, '
                           'the hero walks through."')
    if len(prompt) > MAX_PROMPT_CHARS:
        raise ReelganError(f"the prompt is {len(prompt):,} characters, over {MAX_PROMPT_CHARS:,}; put long "
                           "material in a file and pass it with --continue")
    text = clean_text(prompt).strip()
    elements = parse_body(text)
    if any(e.kind == "scene_heading" for e in elements):
        return elements
    description = _LABEL_RE.sub("", text).strip() or text
    return [Element("scene_heading", heading_for(description)), Element("action", description)]


def heading_for(description: str) -> str:
    """A scene heading from a description: the place and time of day it names (`logline.read_brief`),
    INT./EXT. by its words; `SOMEWHERE` and `DAY` where it names none."""
    from .logline import read_brief

    return read_brief(description).heading()


def clean_text(text: str) -> str:
    """`text` with every line break as "\n" and no control characters, so it reads back as Fountain."""
    return _CONTROL_RE.sub("", _LINE_BREAKS_RE.sub("\n", text))


def coerce_elements(text: str) -> list[Element]:
    """A model's raw text as screenplay elements: headings, action, cues with speech, transitions."""
    text = _MARKUP_RE.sub("", clean_text(text))
    lines: list[str] = []
    source = text.split("\n")
    for index, line in enumerate(source):
        match = _INLINE_SPEECH_RE.fullmatch(line.strip())
        following = source[index + 1].strip() if index + 1 < len(source) else ""
        stripped = line.strip()
        if match and not _HEADING_START_RE.match(stripped) and not _TRANSITION_RE.fullmatch(stripped):
            lines += ["", match.group(1).upper()] + ([match.group(2)] if match.group(2) else [])
        elif lines and lines[-1].strip() and _CUE_LINE_RE.fullmatch(line.strip()) and following:
            lines += ["", line.strip()]  # a cue run into the previous paragraph starts a new speech
        else:
            lines.append(line)
    return _clean(parse_body("\n".join(lines)))


def _clean(elements: list[Element]) -> list[Element]:
    """Keep what a scene is made of; turn stray speech and cues into action; drop notes and the like."""
    kept: list[Element] = []
    for index, element in enumerate(elements):
        kind, text = element.kind, element.text.strip()
        if not text and kind != "character":
            continue
        if kind == "character":
            has_speech = index + 1 < len(elements) and elements[index + 1].kind in SPEECH_KINDS
            if has_speech:
                kept.append(Element("character", text, extension=element.extension))
            elif text:
                kept.append(Element("action", " ".join(filter(None, [text, element.extension]))))
        elif kind in SPEECH_KINDS:
            in_speech = bool(kept) and kept[-1].kind in ("character", *SPEECH_KINDS)
            if in_speech:
                kept.append(Element("parenthetical" if kind == "parenthetical" else "dialogue", text))
            else:
                kept.append(Element("action", text))
        elif kind in ("scene_heading", "action", "transition"):
            kept.append(Element(kind, text))
        elif kind == "centered":
            kept.append(Element("action", text))
        # notes, boneyard, sections, synopses and page breaks are not part of a drafted scene
    while kept and kept[-1].kind in ("character", "parenthetical"):
        kept.pop()  # a speech cut off by the token limit
    return kept


def _usable(elements: list[Element]) -> bool:
    return any(e.kind in ("action", "dialogue") for e in elements)


def continue_draft(lm: LanguageModel, prompt: str, sampling: SamplingConfig, index: int = 0,
                   given: Screenplay | None = None) -> Draft:
    """Draft `index` as the model's continuation of the given script and the prompt's Fountain, coerced."""
    sampling.check()
    person = prompt_elements(prompt)
    given_elements = list(given.elements) if given is not None else []
    context = write(Screenplay(elements=given_elements + person)) + "\n"
    seed = sampling.seed + index
    for attempt in range(RETRIES + 1):
        raw, new_tokens = sample_text(lm, context, sampling, seed + attempt * 1_000_003)
        generated = coerce_elements(raw)
        if _usable(generated) or attempt == RETRIES:
            break
    elements = given_elements + person + generated
    origins = ["given"] * len(given_elements) + ["prompt"] * len(person) + ["model"] * len(generated)
    sources = [MODEL if origin == "model" else PERSON for origin in origins]
    if not _usable(generated):
        raise ReelganError(f"{lm.name} wrote no usable scene text for this prompt in {RETRIES + 1} tries; "
                           "add an action line to the prompt, raise --max-new-tokens or use another --model")
    return Draft(elements, sources, seed, raw, new_tokens, origins)


def sample_text(lm: LanguageModel, context: str, sampling: SamplingConfig, seed: int) -> tuple[str, int]:
    """The model's continuation of `context` (text, token count), sampled with `seed` on a private RNG."""
    tokenizer, model = lm.tokenizer, lm.model
    eos = tokenizer.eos_token_id
    budget = lm.context_length - sampling.max_new_tokens
    if budget < 16:
        raise ReelganError(f"--max-new-tokens {sampling.max_new_tokens} leaves no room for the prompt in "
                           f"{lm.name}'s {lm.context_length} positions; lower it")
    ids = tokenizer(context, add_special_tokens=False)["input_ids"]
    ids = ([eos] if eos is not None else []) + ids
    ids = ids[-budget:]  # a long script keeps its end, where the new scene follows
    device = next(model.parameters()).device
    inputs = torch.tensor([ids], device=device)
    options = dict(max_new_tokens=sampling.max_new_tokens, repetition_penalty=sampling.repetition_penalty,
                   pad_token_id=eos, eos_token_id=eos, attention_mask=torch.ones_like(inputs))
    if sampling.temperature > 0:
        options.update(do_sample=True, temperature=sampling.temperature, top_k=sampling.top_k,
                       top_p=sampling.top_p)
    else:
        options.update(do_sample=False)
    devices = [device] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices), torch.no_grad():
        torch.manual_seed(seed)
        output = model.generate(inputs, **options)[0, len(ids):]
    finished = len(output) < sampling.max_new_tokens or (eos is not None and int(output[-1]) == eos)
    text = tokenizer.decode(output, skip_special_tokens=True)
    if not finished and "\n" in text:
        text = text[: text.rindex("\n")]  # drop the line the token limit cut off
    return text, len(output)
