"""Reading a file's C2PA manifest, embedded or in a sidecar, with what c2pa says of its validity.

`read_manifest` returns a plain dict (the `data` of `reelgan verify --json`'s C2PA finding):

- validation_state: "Trusted" (valid, and the signer chains to a trust anchor given), "Valid" (signature and
  hashes check out, the signer is not on a trust list given), "Invalid" (the file or manifest changed after
  signing, or the manifest is damaged), as c2pa reports it.
- validation_codes: c2pa's failure codes, e.g. ["assertion.dataHash.mismatch"]; "signingCredential.untrusted"
  alone means Valid, not Trusted.
- where: "embedded" or "sidecar"; sidecar: the sidecar's path (else None).
- title, signer, digital_source_types, reelgan (the `org.reelgan.provenance` record).
- ingredients: [{"title", "relationship", "validation_state", "has_manifest"}].
- training_mining: {"cawg.ai_training": "notAllowed", ...} (empty when the manifest has no such assertion).
- watermark: the `org.reelgan.watermark` assertion's data, or None.
- error: why a manifest could not be read (then validation_state is "Invalid"), else None.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from .assertions import PROVENANCE_LABEL, TRAINING_MINING_LABEL, WATERMARK_LABEL
from .c2pa_formats import SIDECAR_FORMAT, c2pa_context, embedded_mime, first_line, sidecar_candidates

UNTRUSTED = "signingCredential.untrusted"


def read_manifest(path: str | os.PathLike, trust_anchors: str | None = None) -> dict | None:
    """The active C2PA manifest of `path` (embedded, else a sidecar beside it) as described above; None when
    there is none. `trust_anchors`: PEM CA certificates whose signers count as Trusted.

    Raises ImportError when c2pa-python is not installed.
    """
    import c2pa

    path = Path(path)
    context = c2pa_context(c2pa, trust_anchors)
    mime = embedded_mime(path)
    if mime is not None:
        store = _read(c2pa, context, path, mime)
        if store is not None:
            return summarize(store, "embedded", None)
    for sidecar in sidecar_candidates(path):
        if sidecar.is_file():
            store = _read(c2pa, context, path, SIDECAR_FORMAT, sidecar.read_bytes())
            return summarize(store or _damaged("the sidecar holds no manifest"), "sidecar", sidecar)
    return None


def _read(c2pa: Any, context: Any, path: Path, mime: str, manifest_data: bytes | None = None) -> dict | None:
    """The manifest store as JSON data; None when there is none; a damaged one as an Invalid store."""
    try:
        with open(path, "rb") as stream, c2pa.Reader(mime, stream, manifest_data, context=context) as reader:
            return json.loads(reader.json())
    except (c2pa.C2paError.ManifestNotFound, c2pa.C2paError.NotSupported, c2pa.C2paError.Io):
        return None  # no manifest, or bytes c2pa cannot parse at all (the picture check reports the damage)
    except c2pa.C2paError as exc:
        return _damaged(first_line(exc))


def _damaged(reason: str) -> dict:
    return {"validation_state": "Invalid", "error": reason, "manifests": {}}


def summarize(store: dict, where: str, sidecar: Path | None) -> dict:
    """The fields of the module docstring from a c2pa manifest store (`Reader.json()`). A manifest is
    whatever its signer wrote: every field is checked for its type, and what does not fit is left out."""
    manifests = _dict(store.get("manifests"))
    manifest = _dict(manifests.get(store.get("active_manifest")) if isinstance(store.get("active_manifest"), str)
                     else None)
    codes = [s.get("code") for s in _list(store.get("validation_status")) if isinstance(s, dict)]
    summary = {"validation_state": _text(store.get("validation_state")),
               "validation_codes": [c for c in codes if isinstance(c, str)],
               "where": where, "sidecar": str(sidecar) if sidecar else None, "title": _text(manifest.get("title")),
               "signer": _signer(_dict(manifest.get("signature_info"))), "digital_source_types": [],
               "reelgan": None, "ingredients": [_ingredient(i) for i in _list(manifest.get("ingredients"))
                                                if isinstance(i, dict)],
               "training_mining": {}, "watermark": None, "error": _text(store.get("error"))}
    for assertion in (a for a in _list(manifest.get("assertions")) if isinstance(a, dict)):
        label, data = _text(assertion.get("label")) or "", _dict(assertion.get("data"))
        if label.startswith("c2pa.actions"):
            summary["digital_source_types"] += [a["digitalSourceType"] for a in _list(data.get("actions"))
                                                if isinstance(a, dict) and isinstance(a.get("digitalSourceType"), str)]
        elif label == PROVENANCE_LABEL:
            summary["reelgan"] = data
        elif label == TRAINING_MINING_LABEL:
            summary["training_mining"] = {str(name): _text(_dict(entry).get("use"))
                                          for name, entry in _dict(data.get("entries")).items()}
        elif label == WATERMARK_LABEL:
            summary["watermark"] = data
    return summary


def _dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list:
    return value if isinstance(value, list) else []


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _signer(signature: dict) -> str | None:
    """'common name (issuer)', or whichever of them the signature names."""
    name, issuer = signature.get("common_name"), signature.get("issuer")
    if name and issuer and name != issuer:
        return f"{name} ({issuer})"
    return name or issuer


def _ingredient(ingredient: dict) -> dict:
    results = _dict(_dict(ingredient.get("validation_results")).get("activeManifest"))
    failures = [s.get("code") for s in _list(results.get("failure")) if isinstance(s, dict)
                and s.get("code") != UNTRUSTED]
    state = None
    if ingredient.get("active_manifest"):
        state = "Invalid" if failures else "Valid"
    return {"title": _text(ingredient.get("title")), "relationship": _text(ingredient.get("relationship")),
            "validation_state": state, "has_manifest": bool(ingredient.get("active_manifest"))}
