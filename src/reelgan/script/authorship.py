"""Who wrote what: the title-page declaration and the line-by-line authorship record of a script.

Every script `reelgan script` writes gets a title page that declares AI generation and names its record,
and a JSON record beside it (`NAME.fountain.authorship.json`) listing every line of the file with its
source: `model` (text a language model generated: model name and sha256, seed, sampling settings),
`person` (lines kept from the prompt or from a script the person gave) or `reelgan` (the title page's
declaration, written by reelgan). `compare` later checks the file as it is now against its record, so
lines a person edited or added after generation count as theirs.
"""

from __future__ import annotations

import datetime
import difflib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

from ..errors import ReelganError
from ..provenance import COMPOSITE_WITH_TRAINED_ALGORITHMIC_MEDIA, make_record
from ..provenance.verify import Finding
from .draft import MODEL, PERSON, Draft, SamplingConfig
from .fountain import Screenplay, TitlePage, decode_text, read_fountain, word_count, written_lines
from .model import LanguageModel

TOOL = "reelgan"
RECORD_FORMAT = "reelgan-authorship/1"
RECORD_SUFFIX = ".authorship.json"
EDITED = "person (edited or added after generation)"


def record_path(script: Path) -> Path:
    """Where the authorship record of `script` lives: beside it, `NAME.fountain.authorship.json`."""
    return script.with_name(script.name + RECORD_SUFFIX)


def title_page(draft_number: int, lm: LanguageModel, seed: int, script: Path,
               given: TitlePage | None = None) -> TitlePage:
    """The draft's title page: the given script's fields (or a draft title) plus the AI declaration."""
    fields = dict(given.fields) if given is not None and given.fields else {"Title": [f"Draft {draft_number}"]}
    fields["Credit"] = fields.get("Credit", ["AI-generated draft"])
    fields["Disclosure"] = [
        "Contains AI-generated text: scenes written by a language model",
        f"({lm.display_name}, sha256 {lm.sha256[:16]}, seed {seed}) from a person's prompt.",
        f"Line-by-line authorship: {record_path(script).name}",
    ]
    fields["Draft date"] = [datetime.date.today().isoformat()]
    return TitlePage(fields)


def build_script(draft: Draft, lm: LanguageModel, sampling: SamplingConfig, prompt: str, script: Path,
                 draft_number: int, given: Screenplay | None = None) -> tuple[str, dict]:
    """The Fountain text of a draft and its authorship record (not yet written to disk)."""
    page = title_page(draft_number, lm, draft.seed, script, given.title_page if given else None)
    screenplay = Screenplay(page, draft.elements)
    lines = []
    for number, (text, owner) in enumerate(written_lines(screenplay), 1):
        if not text.strip():
            continue
        if owner is None:
            source, origin = TOOL, "title page"
        else:
            source, origin = draft.sources[owner], draft.origins[owner]
        lines.append({"line": number, "text": text, "source": source, "origin": origin})
    record = make_record(
        generator_hash=lm.sha256, seed=draft.seed, source_type=COMPOSITE_WITH_TRAINED_ALGORITHMIC_MEDIA,
        format=RECORD_FORMAT, kind="screenplay", file=script.name, model={"name": lm.display_name, "sha256": lm.sha256},
        sampling={**asdict(sampling), "seed": draft.seed}, prompt=prompt, new_tokens=draft.new_tokens,
        lines=lines,
    )
    text = "\n".join(t for t, _ in written_lines(screenplay)) + "\n"
    return text, record


@dataclass
class AuthorshipSplit:
    """Lines and words of a script by source, as the file is now."""

    lines: dict[str, int] = field(default_factory=dict)
    words: dict[str, int] = field(default_factory=dict)
    per_line: list[tuple[int, str, str]] = field(default_factory=list)  # (line number, source, text)
    removed_model_lines: int = 0


def read_record(script: Path) -> dict | None:
    """The authorship record beside `script`, or None when there is none; ReelganError when it is corrupt."""
    path = record_path(script)
    if not path.is_file():
        return None
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError):
        raise ReelganError(f"authorship record {path} is corrupt (not JSON); restore it from a backup") from None
    if not isinstance(record, dict) or record.get("format") != RECORD_FORMAT or not isinstance(
            record.get("lines"), list):
        raise ReelganError(f"{path} is not a reelgan authorship record; restore it or remove it")
    model = record.get("model")
    lines_ok = all(isinstance(entry, dict) and isinstance(entry.get("text"), str)
                   and isinstance(entry.get("source", PERSON), str) for entry in record["lines"])
    model_ok = isinstance(model, dict) and all(isinstance(model.get(key), str) for key in ("name", "sha256"))
    if not lines_ok or not model_ok or not isinstance(record.get("sampling") or {}, dict):
        raise ReelganError(f"authorship record {path} is damaged (its lines or model entry are not what reelgan "
                           "writes); restore it from a backup")
    return record


def compare(script: Path, record: dict) -> AuthorshipSplit:
    """Attribute every non-blank line of `script` as it is now, using its record.

    Lines that match the record (in order, by text) keep their recorded source; lines that do not are a
    person's edits or additions. Recorded model lines no longer in the file are counted as removed.
    """
    if not script.is_file():
        raise ReelganError(f"script {script} does not exist; check the path")
    text = decode_text(script.read_bytes(), script).replace("\r\n", "\n").replace("\r", "\n")
    current = [(n, line) for n, line in enumerate(text.split("\n"), 1) if line.strip()]
    recorded = [entry for entry in record["lines"] if isinstance(entry, dict) and "text" in entry]
    matcher = difflib.SequenceMatcher(a=[e["text"] for e in recorded], b=[t for _, t in current], autojunk=False)
    sources = [EDITED] * len(current)
    kept = set()
    for block in matcher.get_matching_blocks():
        for offset in range(block.size):
            sources[block.b + offset] = str(recorded[block.a + offset].get("source", PERSON))
            kept.add(block.a + offset)
    split = AuthorshipSplit()
    for (number, text), source in zip(current, sources):
        split.lines[source] = split.lines.get(source, 0) + 1
        split.words[source] = split.words.get(source, 0) + word_count(text)
        split.per_line.append((number, source, text))
    split.removed_model_lines = sum(1 for i, e in enumerate(recorded) if i not in kept and e.get("source") == MODEL)
    return split


def script_finding(path: Path) -> Finding:
    """What `reelgan verify` says of a screenplay: its authorship record, or its title page's disclosure."""
    screenplay = read_fountain(path)
    disclosure = screenplay.title_page.get("Disclosure") or ""
    record = read_record(path)
    if record is not None:
        words = compare(path, record).words
        total = sum(words.values()) or 1
        share = 100 * words.get("model", 0) / total
        return Finding("authorship", True, f"authorship record: {share:.0f}% of words generated by "
                       f"{record['model']['name']} (sha256 {record['model']['sha256'][:16]})",
                       data={"record": record_path(path).name, "model": record["model"],
                             "model_share": round(share / 100, 4), "words": words})
    if "ai-generated" in disclosure.lower():
        return Finding("authorship", True, "title page declares AI generation (no authorship record beside it)",
                       data={"record": None, "disclosure": disclosure})
    return Finding("authorship", False, "no AI declaration on the title page and no authorship record",
                   data={"record": None, "disclosure": disclosure or None})


def write_drafts(lm: LanguageModel, prompt: str, sampling: SamplingConfig, paths: list[Path],
                 given: Screenplay | None = None,
                 progress: Callable[[int, int, float], None] | None = None) -> list[tuple[Path, str, dict]]:
    """Draft one screenplay per path (draft i with seed `sampling.seed + i`) and write each with its authorship
    record beside it. All drafts are generated before any file is written, and each file is written atomically,
    so an interruption leaves no half of a set. Returns (path, Fountain text, record) per draft.

    `progress(draft number, new tokens, seconds)` is called after each draft is generated."""
    import time

    from ..media import atomic_path
    from .scene_writer import write_draft

    written = []
    for index, path in enumerate(paths):
        started = time.perf_counter()
        draft = write_draft(lm, prompt, sampling, index, given)
        if progress is not None:
            progress(index + 1, draft.new_tokens, time.perf_counter() - started)
        written.append((path, *build_script(draft, lm, sampling, prompt, path, index + 1, given)))
    for path, text, record in written:
        for target, content in ((path, text), (record_path(path), json.dumps(record, indent=1, ensure_ascii=False)
                                                + "\n")):
            with atomic_path(target) as temporary:
                Path(temporary).write_text(content, encoding="utf-8")
    return written
