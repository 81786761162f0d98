"""Optional C2PA content credentials (extra `reelgan[c2pa]`): sign a file with the user's certificate, read one.

The manifest holds a `c2pa.actions` assertion (`c2pa.created` with the IPTC digital source type) and
reelgan's own provenance record as `org.reelgan.provenance`. Signing is offline: no timestamp authority
is contacted. C2PA accepts only a certificate issued by a CA (not self-signed) whose leaf has the
digitalSignature key usage and the emailProtection (or another C2PA-allowed) extended key usage.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from .. import __version__
from ..errors import ReelganError

INSTALL_HINT = "pip install 'reelgan[c2pa]'"
MIME_TYPES = {".mp4": "video/mp4", ".mov": "video/quicktime", ".png": "image/png", ".jpg": "image/jpeg",
              ".jpeg": "image/jpeg", ".gif": "image/gif", ".webp": "image/webp"}
ALGORITHMS = ("es256", "es384", "es512", "ps256", "ps384", "ps512", "ed25519")


def require_c2pa() -> Any:
    """The c2pa module, or a ReelganError saying how to install it."""
    try:
        import c2pa
    except ImportError:
        raise ReelganError(f"C2PA signing needs the c2pa-python library; run: {INSTALL_HINT}") from None
    return c2pa


def manifest_for(record: dict, title: str) -> dict:
    """A C2PA manifest declaring how the file was made, with reelgan's record."""
    return {
        "claim_generator_info": [{"name": "reelgan", "version": __version__}],
        "title": title,
        "assertions": [
            {"label": "c2pa.actions", "data": {"actions": [
                {"action": "c2pa.created", "digitalSourceType": record["digital_source_type"],
                 "softwareAgent": {"name": "reelgan", "version": __version__}}]}},
            {"label": "org.reelgan.provenance", "data": record},
        ],
    }


class C2paSigner:
    """Signs files with a certificate chain (PEM, leaf first) and its private key (PEM)."""

    def __init__(self, certificate_chain: bytes, private_key: bytes, algorithm: str = "es256") -> None:
        c2pa = require_c2pa()
        if algorithm.lower() not in ALGORITHMS:
            raise ReelganError(f"--c2pa-alg must be one of {', '.join(ALGORITHMS)}; got {algorithm!r}")
        self.c2pa = c2pa
        info = c2pa.C2paSignerInfo(alg=getattr(c2pa.C2paSigningAlg, algorithm.upper()),
                                   sign_cert=certificate_chain, private_key=private_key, ta_url=None)
        try:
            self.signer = c2pa.Signer.from_info(info)
        except Exception as exc:
            raise ReelganError(f"the C2PA certificate or key was refused ({_first_line(exc)}); pass a PEM "
                               "certificate chain and its matching PEM private key") from None

    @classmethod
    def from_files(cls, certificate: str | None, key: str | None, algorithm: str = "es256") -> "C2paSigner":
        """A signer from PEM files; ReelganError when one is missing."""
        if not certificate or not key:
            raise ReelganError("C2PA signing needs both --c2pa-cert (certificate chain) and --c2pa-key")
        for path in (certificate, key):
            if not Path(path).is_file():
                raise ReelganError(f"{path} does not exist; check --c2pa-cert and --c2pa-key")
        return cls(Path(certificate).read_bytes(), Path(key).read_bytes(), algorithm)

    def sign_file(self, path: Path, record: dict) -> None:
        """Replace `path` by a signed copy whose manifest carries `record`."""
        mime = MIME_TYPES.get(path.suffix.lower())
        if mime is None:
            raise ReelganError(f"C2PA signing supports {', '.join(MIME_TYPES)} files, not {path.name}")
        signed = path.with_name(f".{path.name}.signing{path.suffix}")
        manifest = manifest_for(record, path.name)
        try:
            with self.c2pa.Builder(manifest) as builder, open(path, "rb") as source, \
                    open(signed, "w+b") as destination:
                builder.sign(self.signer, mime, source, destination)
        except Exception as exc:
            signed.unlink(missing_ok=True)
            raise ReelganError(f"C2PA signing failed ({_first_line(exc)}); C2PA needs a CA-issued certificate "
                               "with digitalSignature and emailProtection usage") from None
        os.replace(signed, path)


def read_manifest(path: str | Path) -> dict | None:
    """The active C2PA manifest of a file with its validation state, or None when it has none.

    Returns {"validation_state", "digital_source_types", "reelgan", "signer", "title"}; raises ImportError when
    c2pa-python is not installed.
    """
    import c2pa

    try:
        with c2pa.Reader(str(path)) as reader:
            store = json.loads(reader.json())
    except Exception:  # no manifest, or a format c2pa cannot read
        return None
    manifest = store.get("manifests", {}).get(store.get("active_manifest"), {})
    source_types, reelgan_record = [], None
    for assertion in manifest.get("assertions", []):
        if assertion.get("label", "").startswith("c2pa.actions"):
            source_types += [a.get("digitalSourceType") for a in assertion.get("data", {}).get("actions", [])
                             if a.get("digitalSourceType")]
        elif assertion.get("label") == "org.reelgan.provenance":
            reelgan_record = assertion.get("data")
    signature = manifest.get("signature_info", {})
    return {"validation_state": store.get("validation_state"), "digital_source_types": source_types,
            "reelgan": reelgan_record, "signer": signature.get("issuer") or signature.get("common_name"),
            "title": manifest.get("title")}


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return (text.splitlines()[0] if text else type(exc).__name__)[:200]
