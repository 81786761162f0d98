"""Optional C2PA content credentials (extra `reelgan[c2pa]`): sign a file with the user's certificate, read one.

A manifest (see `assertions.py`) is embedded in the types of `c2pa_formats.EMBEDDED_MIME_TYPES`; every other
file gets a `NAME.EXT.c2pa` sidecar bound to its bytes. Signing is offline: no timestamp authority is
contacted. C2PA accepts only a certificate issued by a CA (not self-signed) whose leaf has the
digitalSignature key usage and the emailProtection (or another C2PA-allowed) extended key usage.

The certificate comes from flags or, so that every command signs without them, from the environment:
REELGAN_C2PA_CERT (PEM chain, leaf first), REELGAN_C2PA_KEY (its PEM private key), REELGAN_C2PA_ALG
(default es256) and REELGAN_C2PA_TRAINING (allowed, notAllowed or constrained; default notAllowed).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path

from ..errors import ReelganError
from ..paths import temp_name
from . import check_record
from .assertions import DEFAULT_TRAINING_USE, manifest_for, training_use
from .c2pa_formats import (
    SIDECAR_FORMAT,
    c2pa_context,
    embedded_mime,
    first_line,
    require_c2pa,
    sidecar_path,
)
from .manifests import read_manifest

ALGORITHMS = ("es256", "es384", "es512", "ps256", "ps384", "ps512", "ed25519")
ENV_CERT, ENV_KEY, ENV_ALG, ENV_TRAINING = ("REELGAN_C2PA_CERT", "REELGAN_C2PA_KEY", "REELGAN_C2PA_ALG",
                                            "REELGAN_C2PA_TRAINING")
SIGNING_HINT = ("check that the file is not damaged, and that the certificate was issued by a CA with the "
                "digitalSignature and emailProtection usages C2PA needs")


class C2paSigner:
    """Signs files with a certificate chain (PEM, leaf first) and its private key (PEM).

    `training_mining` is the CAWG training-and-data-mining choice written into every manifest it signs.
    """

    def __init__(self, certificate_chain: bytes, private_key: bytes, algorithm: str = "es256",
                 training_mining: str = DEFAULT_TRAINING_USE) -> None:
        check_algorithm(algorithm)
        c2pa = require_c2pa()
        self.c2pa = c2pa
        self.training_mining = training_use(training_mining)
        info = c2pa.C2paSignerInfo(alg=getattr(c2pa.C2paSigningAlg, algorithm.upper()),
                                   sign_cert=certificate_chain, private_key=private_key, ta_url=None)
        try:
            self.signer = c2pa.Signer.from_info(info)
        except Exception as exc:
            raise ReelganError(f"the C2PA certificate or key was refused ({first_line(exc)}); pass a PEM "
                               "certificate chain and its matching PEM private key") from None
        self.context = c2pa_context(c2pa)

    @classmethod
    def from_files(cls, certificate: str | os.PathLike | None, key: str | os.PathLike | None,
                   algorithm: str = "es256", training_mining: str = DEFAULT_TRAINING_USE,
                   flags: tuple[str, str] = ("--c2pa-cert", "--c2pa-key")) -> "C2paSigner":
        """A signer from PEM files; ReelganError (naming `flags`) when one is missing or unreadable."""
        cert_flag, key_flag = flags
        check_algorithm(algorithm)
        if not certificate or not key:
            raise ReelganError(f"C2PA signing needs both {cert_flag} (certificate chain) and {key_flag}")
        contents = []
        for path, flag in ((Path(certificate), cert_flag), (Path(key), key_flag)):
            if not path.is_file():
                raise ReelganError(f"{path} does not exist or is not a file; check {flag}")
            try:
                contents.append(path.read_bytes())
            except OSError as exc:
                raise ReelganError(f"{path} cannot be read ({exc.strerror}); check {flag} and its "
                                   "permissions") from None
        if b"-----BEGIN" not in contents[0]:
            raise ReelganError(f"{certificate} is not a PEM certificate chain; give {cert_flag} the PEM file "
                               "(leaf first, then its CA)")
        return cls(contents[0], contents[1], algorithm, training_mining)

    def sign_file(self, path: str | os.PathLike, record: dict, ingredients: Iterable[str | os.PathLike] = (),
                  training_mining: str | None = None, watermark: Mapping | None = None,
                  relationship: str = "componentOf") -> Path | None:
        """Sign `path` with a manifest carrying `record`; returns the sidecar written, or None when embedded.

        Embeddable types are replaced by a signed copy (written beside, then renamed over the file); any other
        file gets `NAME.EXT.c2pa`. `ingredients`: files this one is made of (a film's shots), each listed with
        `relationship` and its own manifest. `training_mining` (default: the signer's) is the CAWG choice;
        `watermark` the `assertions.watermark_assertion` of the marks its frames carry.
        On failure nothing is left half-written: the file and any earlier sidecar stay as they were.
        """
        path = Path(path)
        check_record(record)
        manifest = manifest_for(record, path.name, training_use(training_mining or self.training_mining),
                                watermark)
        mime = embedded_mime(path)
        target = path if mime is not None else sidecar_path(path)
        staged = target.with_name(temp_name(target.name))
        try:
            with self.c2pa.Builder(manifest, self.context) as builder:
                for ingredient in ingredients:
                    _add_ingredient(builder, Path(ingredient), relationship)
                if mime is None:
                    builder.set_no_embed()
                with open(path, "rb") as source, (open(staged, "w+b") if mime else tempfile.TemporaryFile()) as out:
                    manifest_bytes = builder.sign(self.signer, mime or SIDECAR_FORMAT, source, out)
            if mime is None:
                staged.write_bytes(manifest_bytes)
            if target.exists():
                staged.chmod(target.stat().st_mode & 0o7777)
            os.replace(staged, target)
        except (ReelganError, OSError):  # OSError: the machine's trouble (disk full ...), which the CLI reports
            raise
        except Exception as exc:
            raise ReelganError(f"C2PA signing of {path.name} failed ({first_line(exc)}); {SIGNING_HINT}") from None
        finally:  # also on Ctrl-C; after the rename there is nothing left to remove
            staged.unlink(missing_ok=True)
        return None if mime is not None else target


def check_algorithm(algorithm: str) -> str:
    """`algorithm` if C2PA signs with it (ALGORITHMS, any case); ReelganError otherwise."""
    if not isinstance(algorithm, str) or algorithm.lower() not in ALGORITHMS:
        raise ReelganError(f"--c2pa-alg must be one of {', '.join(ALGORITHMS)}; got {algorithm!r}")
    return algorithm


def _add_ingredient(builder, path: Path, relationship: str) -> None:
    """List `path` in the manifest being built, with its own manifest when it has one."""
    if not path.is_file():
        raise ReelganError(f"the C2PA ingredient {path} does not exist; sign the parts before the whole")
    with open(path, "rb") as source:
        builder.add_ingredient({"title": path.name, "relationship": relationship},
                               embedded_mime(path) or SIDECAR_FORMAT, source)


def configured_signer(certificate: str | None = None, key: str | None = None, algorithm: str | None = None,
                      training_mining: str | None = None, environ: Mapping[str, str] | None = None
                      ) -> C2paSigner | None:
    """The signer the user configured: flags first, else REELGAN_C2PA_CERT/_KEY/_ALG/_TRAINING; None for none.

    A half configuration (a key without a certificate, or the reverse) is a ReelganError naming what is missing.
    """
    environ = os.environ if environ is None else environ
    if certificate or key:
        flags = ("--c2pa-cert", "--c2pa-key")
        if not certificate:
            raise ReelganError("--c2pa-key was given without --c2pa-cert; C2PA signing needs both the certificate "
                               "chain and its key")
    else:
        certificate, key = environ.get(ENV_CERT) or None, environ.get(ENV_KEY) or None
        flags = (ENV_CERT, ENV_KEY)
        if not certificate and not key:
            if algorithm or training_mining:
                raise ReelganError("--c2pa-alg and --c2pa-training need a certificate to sign with: add --c2pa-cert "
                                   f"and --c2pa-key (or set {ENV_CERT} and {ENV_KEY})")
            return None
        if not certificate or not key:
            given, missing = (ENV_CERT, ENV_KEY) if certificate else (ENV_KEY, ENV_CERT)
            raise ReelganError(f"{given} is set but {missing} is not; set both for C2PA signing, or unset {given}")
    algorithm = algorithm or environ.get(ENV_ALG) or "es256"
    use = training_use(training_mining, "--c2pa-training") if training_mining else \
        training_use(environ.get(ENV_TRAINING) or DEFAULT_TRAINING_USE, ENV_TRAINING)
    return C2paSigner.from_files(certificate, key, algorithm, use, flags)


__all__ = ["ALGORITHMS", "C2paSigner", "configured_signer", "manifest_for", "read_manifest", "require_c2pa"]
