"""The film's records: the provenance record embedded in the MP4, the authorship record beside it, the watermark."""

from __future__ import annotations

import hashlib

import numpy as np

from ..provenance import (
    ALGORITHMIC_MEDIA,
    COMPOSITE_SYNTHETIC,
    COMPOSITE_WITH_TRAINED_ALGORITHMIC_MEDIA,
    TRAINED_ALGORITHMIC_MEDIA,
    make_record,
)
from .types import Film, Outputs
from .voice import ENGINE

RECORD_FORMAT = "reelgan-film-authorship/1"
NO_MODEL = "0" * 64
VOICE_NOTE = ("The dialogue is temp speech synthesised by espeak-ng (formant synthesis: rules and a "
              "source-filter model, no trained model and no recorded voice; IPTC algorithmicMedia), one voice "
              "per character, standing in for actors' readings. No person spoke these lines.")


def generator_hashes(film: Film) -> list[str]:
    """The sha256 of each generator the film uses, in order of first use."""
    return list(dict.fromkeys(p.generator_hash for p in film.parts if p.generator_hash))


def combined_hash(hashes: list[str]) -> str:
    """One hash for the film: the generator's, or a hash over several (all zeros when no model was used)."""
    if not hashes:
        return NO_MODEL
    return hashes[0] if len(hashes) == 1 else hashlib.sha256("".join(sorted(hashes)).encode()).hexdigest()


def watermark_payload(film: Film) -> np.ndarray | None:
    """The watermark bits (reelgan mark + model hash), or None when no shot is model-made."""
    from ..provenance.watermark import payload_bits

    hashes = generator_hashes(film)
    return payload_bits(combined_hash(hashes)) if hashes else None


def _model_lines(film: Film) -> set[str]:
    from ..script.authorship import compare, read_record

    record = read_record(film.script)
    if record is None:
        return set()
    return {text.strip() for _, source, text in compare(film.script, record).per_line if source == "model"}


def _writer(lines: tuple[str, ...], model_lines: set[str]) -> str:
    """Who wrote a speech, from the script's authorship record: "model", "person" or "model and person"."""
    by_model = [line.strip() in model_lines for line in lines if line.strip()]
    if by_model and all(by_model):
        return "model"
    return "model and person" if any(by_model) else "person"


def film_record(film: Film, outputs: Outputs) -> dict:
    """The authorship record (JSON) of a film; its "provenance" entry is what the MP4's tags carry."""
    hashes = generator_hashes(film)
    model_lines = _model_lines(film)
    files = {kind: path.name for kind, path in outputs.all().items()}
    uses_ai = bool(hashes) or bool(model_lines)
    speech = _synthetic_speech(film)
    provenance = make_record(
        generator_hash=combined_hash(hashes), seed=None,
        source_type=COMPOSITE_WITH_TRAINED_ALGORITHMIC_MEDIA if uses_ai else COMPOSITE_SYNTHETIC,
        kind="animatic", script=film.script.name, generators=hashes, watermark=bool(hashes) and film.options.watermark,
        **({"synthetic_speech": speech} if speech else {}),
    )
    shots = []
    for index, (shot, part) in enumerate(zip(film.shots, film.parts)):
        picture = {"maker": part.maker, "what": part.what, "source": part.source}
        if part.maker == "model":
            picture.update(generator_hash=part.generator_hash, seed=part.seed,
                           digital_source_type=TRAINED_ALGORITHMIC_MEDIA)
            if part.steered is not None:
                picture["steered"] = part.steered
        subtitles = [{"start": s.start, "end": s.end, "speaker": s.speaker, "text": s.text,
                      "written_by": _writer(s.source_lines, model_lines)} for s in shot.subtitles]
        if film.dialogue is not None:
            for entry, subtitle in zip(subtitles, shot.subtitles):
                entry["voiced_by"] = film.dialogue.voiced_by(subtitle.speaker)
        shots.append({"index": index, "kind": shot.kind, "scene": shot.scene, "heading": shot.heading,
                      "start": round(shot.start, 3), "duration": round(shot.duration, 3), "picture": picture,
                      "subtitles": subtitles})
    made_by: dict[str, int] = {}
    for part in film.parts:
        made_by[part.maker] = made_by.get(part.maker, 0) + 1
    steered = [shot["index"] for shot in shots if "steered" in shot["picture"]]
    record = {"format": RECORD_FORMAT, "files": files, "provenance": provenance, "shots": shots,
              "steered_by_feedback": steered,
              "pictures_by_maker": made_by, "script_lines_by_model": len(model_lines), "credits": film.credits}
    if speech:
        record["voice"] = {**speech, "note": VOICE_NOTE,
                           "voices": {name: film.dialogue.voice(name).label for name in _speakers(film)}}
    return record


def _speakers(film: Film) -> list[str]:
    """The film's speakers, each once, in order of first cue."""
    return list(dict.fromkeys(s.speaker for s in film.subtitles))


def _synthetic_speech(film: Film) -> dict | None:
    """What the MP4's record says about its speech: None when the film is silent (no --voice)."""
    if film.dialogue is None:
        return None
    return {"engine": ENGINE, "version": film.dialogue.engine.version, "kind": "algorithmic",
            "digital_source_type": ALGORITHMIC_MEDIA, "lines": len(film.subtitles)}


def line_record(film: Film, index: int) -> dict:
    """The provenance record of the WAV of cue `index` (0-based, in film order): synthetic speech made by an
    algorithm, no model."""
    cue = film.subtitles[index]
    return make_record(generator_hash=NO_MODEL, seed=None, source_type=ALGORITHMIC_MEDIA, kind="temp dialogue",
                       script=film.script.name, cue=index, start=cue.start, speaker=cue.speaker, text=cue.text,
                       voiced_by=film.dialogue.voiced_by(cue.speaker))
