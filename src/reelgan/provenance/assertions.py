"""The assertions of reelgan's C2PA manifests: how the file was made, reelgan's record, the AI-training choice,
and the invisible watermark.

- `c2pa.actions`: `c2pa.created` with the record's IPTC digital source type and reelgan as the software agent.
- `org.reelgan.provenance`: the whole provenance record (`reelgan.provenance.make_record`).
- `cawg.training-mining`: the CAWG training-and-data-mining assertion; one choice (allowed, notAllowed,
  constrained) for each of its four uses: generative AI training, AI training, AI inference, data mining.
- `org.reelgan.watermark`: what invisible watermark the pictures carry. reelgan's algorithm is not in the C2PA
  soft-binding algorithm list, so it is described in reelgan's own assertion rather than `c2pa.soft-binding`.
"""

from __future__ import annotations

from collections.abc import Mapping

from .. import __version__
from ..errors import ReelganError

PROVENANCE_LABEL = "org.reelgan.provenance"
TRAINING_MINING_LABEL = "cawg.training-mining"
WATERMARK_LABEL = "org.reelgan.watermark"
WATERMARK_ALGORITHM = "reelgan-watermark"
TRAINING_USES = ("allowed", "notAllowed", "constrained")
TRAINING_ENTRIES = ("cawg.ai_generative_training", "cawg.ai_training", "cawg.ai_inference", "cawg.data_mining")
DEFAULT_TRAINING_USE = "notAllowed"


def training_use(value: str, source: str = "--c2pa-training") -> str:
    """`value` as one of TRAINING_USES (any case, '-' and '_' ignored); ReelganError naming `source` otherwise."""
    wanted = str(value).replace("-", "").replace("_", "").lower()
    for use in TRAINING_USES:
        if use.lower() == wanted:
            return use
    raise ReelganError(f"{source} must be one of {', '.join(TRAINING_USES)}; got {value!r}")


def training_mining_assertion(use: str = DEFAULT_TRAINING_USE) -> dict:
    """The `cawg.training-mining` assertion with the same `use` for all four of its entries."""
    use = training_use(use)
    return {"label": TRAINING_MINING_LABEL, "data": {"entries": {entry: {"use": use} for entry in TRAINING_ENTRIES}}}


def watermark_assertion(model_hash: str, version: int = 1,
                        payload: str = "reelgan's mark and the first 32 bits of the model's sha256") -> dict:
    """What to pass as `watermark=` when signing a file whose frames carry reelgan's invisible watermark:
    `model_hash` is the hash whose prefix the mark carries, `version` the watermark's version."""
    return {"algorithm": WATERMARK_ALGORITHM, "version": int(version), "payload": payload,
            "model_hash_prefix": str(model_hash)[:8], "reader": f"reelgan verify (reelgan {__version__})"}


def manifest_for(record: dict, title: str, training_mining: str = DEFAULT_TRAINING_USE,
                 watermark: Mapping | None = None) -> dict:
    """A C2PA manifest definition declaring how the file was made, with reelgan's record and the choices."""
    assertions = [
        {"label": "c2pa.actions", "data": {"actions": [
            {"action": "c2pa.created", "digitalSourceType": record["digital_source_type"],
             "softwareAgent": {"name": "reelgan", "version": __version__}}]}},
        {"label": PROVENANCE_LABEL, "data": record},
        training_mining_assertion(training_mining),
    ]
    if watermark is not None:
        if not isinstance(watermark, Mapping) or "algorithm" not in watermark:
            raise ReelganError("watermark= must be a dict such as reelgan.provenance.assertions.watermark_assertion "
                               "makes")
        assertions.append({"label": WATERMARK_LABEL, "data": dict(watermark)})
    return {"claim_generator_info": [{"name": "reelgan", "version": __version__}], "title": title,
            "assertions": assertions}
