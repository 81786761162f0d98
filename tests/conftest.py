"""Shared fixtures: tiny configs, tiny image folders, and the shared data folder."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from reelgan.config import build_config, merge

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def tiny_overrides(tmp_path: Path) -> dict:
    """A configuration small enough to train a step in well under a second on a CPU."""
    return {
        "data": {"source": "logograms", "resolution": 16, "channels": 1, "size": 24},
        "net": {"g_width": 8, "d_width": 8, "max_width": 16, "latent_dim": 16},
        "train": {"steps": 4, "batch": 4, "n_critic": 2, "log_every": 2, "sample_every": 2,
                  "checkpoint_every": 2, "grid_size": 4, "out": str(tmp_path / "runs"), "device": "cpu"},
    }


@pytest.fixture
def tiny_config(tmp_path):
    """Build a tiny RunConfig, with optional nested overrides."""
    def make(**sections):
        return build_config(overrides=merge(tiny_overrides(tmp_path), sections))
    return make


def write_images(folder: Path, count: int, size=(20, 24), mode="RGB", suffix=".png", subfolder="") -> list[Path]:
    """Random images in `folder/subfolder`, returned as paths."""
    target = folder / subfolder if subfolder else folder
    target.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(len(subfolder) + count)
    paths = []
    channels = {"L": 1, "RGB": 3, "RGBA": 4}[mode]
    for i in range(count):
        pixels = rng.integers(0, 256, size=(size[1], size[0], channels), dtype=np.uint8)
        image = Image.fromarray(pixels[..., 0] if channels == 1 else pixels, mode)
        path = target / f"img{i}{suffix}"
        image.save(path)
        paths.append(path)
    return paths


@pytest.fixture
def image_folder(tmp_path):
    """Two class subfolders of small RGB PNGs."""
    root = tmp_path / "images"
    write_images(root, 5, subfolder="cats")
    write_images(root, 3, subfolder="dogs")
    return root


def shared_data(name: str) -> Path:
    """A file of ../shared/data, or skip the test with the reason."""
    path = SHARED_DATA / name
    if not path.exists():
        pytest.skip(f"{path} is absent (shared test data lives beside the repository)")
    return path


# A generator spec small enough to build in milliseconds; untrained weights still map latents to varied,
# structured images, which is all the exploration, film and synth tests need.
TINY_CLIP_SPEC = {"kind": "video", "arch": "video", "frames": 8, "stride": 1, "content_dim": 16, "motion_dim": 8,
                  "latent_dim": 16 + 8 * 8}


def tiny_generator_spec(**changes) -> dict:
    """A 16 px grey DCGAN generator's spec (latent 32, widths 8-32), with `changes` applied."""
    from reelgan import __version__
    from reelgan.gan.generator import GENERATOR_FORMAT

    spec = {"format": GENERATOR_FORMAT, "arch": "dcgan", "resolution": 16, "channels": 1, "latent_dim": 32,
            "width": 8, "max_width": 32, "class_names": [], "trained_steps": 0, "dataset": "test",
            "reelgan_version": __version__}
    return {**spec, **changes}


def export_tiny_generator(folder: Path, seed: int = 0, **changes) -> Path:
    """An untrained tiny generator (see `tiny_generator_spec`) exported to `folder`, weights from `seed`."""
    import torch

    from reelgan.gan.generator import build_from_spec, export_generator

    spec = tiny_generator_spec(**changes)
    torch.manual_seed(seed)
    export_generator(build_from_spec(spec), spec, folder)
    return folder


def tiny_script_config(**changes):
    """A screenplay-model training config small enough for a few steps in a second (1 layer, width 32)."""
    from reelgan.script.lm_training import ScriptTrainConfig

    settings = dict(steps=4, batch_size=4, context=32, vocab_size=320, layers=1, width=32, heads=2, positions=128,
                    save_every=2, warmup=2)
    return ScriptTrainConfig(**{**settings, **changes})


def make_test_certificate(folder: Path) -> tuple[Path, Path]:
    """A test CA and a leaf it issues (digitalSignature, emailProtection), as C2PA requires: PEM files
    `chain.pem` (leaf, then CA) and `key.pem` in `folder`, and the CA alone in `ca.pem` (a trust anchor)."""
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    def name(common: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common),
                          x509.NameAttribute(NameOID.ORGANIZATION_NAME, "reelgan tests")])

    now = dt.datetime.now(dt.timezone.utc)
    usage = dict(content_commitment=False, key_encipherment=False, data_encipherment=False, key_agreement=False,
                 encipher_only=False, decipher_only=False)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(name("reelgan test CA")).issuer_name(name("reelgan test CA"))
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=30))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=False, key_cert_sign=True, crl_sign=True, **usage),
                         critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    leaf = (x509.CertificateBuilder().subject_name(name("reelgan test signer")).issuer_name(ca.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=False, crl_sign=False, **usage),
                           critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    folder.mkdir(parents=True, exist_ok=True)
    chain, private = folder / "chain.pem", folder / "key.pem"
    chain.write_bytes(b"".join(c.public_bytes(serialization.Encoding.PEM) for c in (leaf, ca)))
    private.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    (folder / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    return chain, private


@pytest.fixture(scope="module")
def c2pa_certificate(tmp_path_factory) -> tuple[Path, Path]:
    """(chain.pem, key.pem) of a test CA's leaf (ca.pem beside them); skips without c2pa or cryptography."""
    pytest.importorskip("c2pa", reason="C2PA signing needs the c2pa extra (pip install 'reelgan[c2pa]')")
    pytest.importorskip("cryptography", reason="making a test certificate needs cryptography")
    return make_test_certificate(tmp_path_factory.mktemp("c2pa-certificate"))
