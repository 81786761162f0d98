"""C2PA content credentials: every kind of file reelgan writes is signed (embedded, or a NAME.EXT.c2pa sidecar),
read back with its validation state, ingredients, AI-training choice and watermark assertion, and `reelgan
verify` reports all of it; a file changed after signing reads INVALID.

The certificate is a test CA's leaf made here. c2pa reports such a manifest "Valid" (signature and hashes hold)
with the status code signingCredential.untrusted, because the CA is on no trust list; given the CA as a trust
anchor it reads "Trusted".
"""

from __future__ import annotations

import json
import struct
import wave
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("c2pa", reason="C2PA signing needs the c2pa extra (pip install 'reelgan[c2pa]')")

from reelgan.cli.main import main  # noqa: E402
from reelgan.errors import ReelganError  # noqa: E402
from reelgan.provenance import COMPOSITE_WITH_TRAINED_ALGORITHMIC_MEDIA, make_record, read_record  # noqa: E402
from reelgan.provenance.assertions import TRAINING_ENTRIES, watermark_assertion  # noqa: E402
from reelgan.provenance.credentials import C2paSigner, configured_signer, read_manifest  # noqa: E402
from reelgan.provenance.signing import sign_film, sign_outputs  # noqa: E402

RECORD = make_record(generator_hash="ab" * 32, seed=7, kind="test")
UNTRUSTED = "signingCredential.untrusted"


@pytest.fixture(scope="module")
def signer(c2pa_certificate) -> C2paSigner:
    return C2paSigner.from_files(*c2pa_certificate)


def picture(size: int = 32, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (size, size, 3), dtype=np.uint8)


def write_media(folder: Path, name: str) -> Path:
    """A small file of the type `name` ends in, written by reelgan's own writer where it has one."""
    from reelgan.glyphs.vector import write_svg
    from reelgan.media import save_gif, save_mp4, save_png
    from reelgan.media.sheet_pdf import Cell, write_sheet_pdf

    path = folder / name
    suffix = path.suffix
    if suffix == ".png":
        save_png(path, picture(), RECORD)
    elif suffix == ".gif":
        save_gif(path, np.stack([picture(seed=i) for i in range(3)]), 4, RECORD)
    elif suffix == ".mp4":
        save_mp4(path, [picture(seed=i) for i in range(4)], 4, RECORD)
    elif suffix == ".svg":
        gray = np.full((64, 64), 255, np.uint8)
        gray[16:48, 16:48] = 0
        write_svg(gray, path, size=64, record=RECORD)
    elif suffix == ".pdf":
        write_sheet_pdf(path, [Cell(picture(), ("seed 7",))], "test sheet", RECORD, columns=2)
    elif suffix == ".wav":
        with wave.open(str(path), "wb") as out:
            out.setnchannels(1), out.setsampwidth(2), out.setframerate(8000)
            out.writeframes(np.zeros(800, np.int16).tobytes())
    elif suffix in (".jpg", ".webp"):
        Image.fromarray(picture()).save(path)
    else:
        path.write_text(f"{name}: a companion file\n" * 20)
    return path


def edit_png_pixel(path: Path) -> None:
    """Change one pixel of a PNG in place, keeping every other chunk (the C2PA one too): a valid, edited PNG."""
    data = path.read_bytes()
    start = data.index(b"IDAT") - 4
    length = struct.unpack(">I", data[start:start + 4])[0]
    pixels = bytearray(zlib.decompress(data[start + 8:start + 8 + length]))
    pixels[5] ^= 0xFF  # row 0 (after its filter byte), a colour byte
    body = zlib.compress(bytes(pixels))
    chunk = struct.pack(">I", len(body)) + b"IDAT" + body + struct.pack(">I", zlib.crc32(b"IDAT" + body))
    path.write_bytes(data[:start] + chunk + data[start + 12 + length:])


@pytest.mark.parametrize("name", ["a.png", "a.jpg", "a.webp", "a.gif", "a.svg", "a.mp4", "a.pdf", "a.wav"])
def test_each_embeddable_type_round_trips(tmp_path, signer, name):
    path = write_media(tmp_path, name)
    record_before = read_record(path)
    assert signer.sign_file(path, RECORD) is None  # embedded: no sidecar
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]  # no temp file left
    manifest = read_manifest(path)
    # Valid, not Trusted: the test CA is on no trust list, which c2pa says with signingCredential.untrusted.
    assert manifest["validation_state"] == "Valid" and manifest["validation_codes"] == [UNTRUSTED]
    assert manifest["where"] == "embedded" and manifest["title"] == name
    assert manifest["reelgan"] == RECORD
    assert manifest["digital_source_types"] == [RECORD["digital_source_type"]]
    assert manifest["training_mining"] == dict.fromkeys(TRAINING_ENTRIES, "notAllowed")
    assert read_record(path) == record_before  # reelgan's own metadata survives the embedding
    if name.endswith((".png", ".jpg", ".webp", ".gif")):
        with Image.open(path) as image:
            assert image.size == (32, 32)


def test_the_ca_as_trust_anchor_makes_it_trusted(tmp_path, signer, c2pa_certificate, capsys):
    path = write_media(tmp_path, "a.png")
    signer.sign_file(path, RECORD)
    ca = c2pa_certificate[0].with_name("ca.pem")
    assert read_manifest(path, ca.read_text())["validation_state"] == "Trusted"
    assert main(["verify", str(path), "--c2pa-trust", str(ca)]) == 0
    assert "C2PA: manifest Trusted (trainedAlgorithmicMedia)" in capsys.readouterr().out


@pytest.mark.parametrize("name", ["film.srt", "notes.json", "draft-1.fountain"])
def test_other_types_get_a_sidecar_bound_to_their_bytes(tmp_path, signer, name, capsys):
    path = write_media(tmp_path, name)
    before = path.read_bytes()
    sidecar = signer.sign_file(path, RECORD)
    assert sidecar == tmp_path / f"{name}.c2pa" and path.read_bytes() == before
    manifest = read_manifest(path)
    assert manifest["validation_state"] == "Valid" and manifest["where"] == "sidecar"
    assert manifest["reelgan"] == RECORD
    if name.endswith(".srt"):
        assert main(["verify", str(path)]) == 0
        out = capsys.readouterr().out
        assert "passed      C2PA: manifest Valid (trainedAlgorithmicMedia)" in out and "film.srt.c2pa" in out
    path.write_bytes(before.replace(b"companion", b"Companion", 1))  # one letter changed after signing
    manifest = read_manifest(path)
    assert manifest["validation_state"] == "Invalid"
    assert "assertion.dataHash.mismatch" in manifest["validation_codes"]


def test_a_tampered_png_reads_invalid_and_verify_says_so(tmp_path, signer, capsys):
    path = write_media(tmp_path, "a.png")
    signer.sign_file(path, RECORD)
    edit_png_pixel(path)
    manifest = read_manifest(path)
    assert manifest["validation_state"] == "Invalid" and "assertion.dataHash.mismatch" in manifest["validation_codes"]
    capsys.readouterr()
    assert main(["verify", str(path)]) == 3
    out = capsys.readouterr().out
    assert "failed      C2PA: manifest INVALID (assertion.dataHash.mismatch)" in out and "=> INVALID" in out
    assert main(["verify", str(path), "--json"]) == 3
    assert json.loads(capsys.readouterr().out)["invalid"] is True


def test_an_edited_signed_pdf_reads_invalid(tmp_path, signer):
    path = write_media(tmp_path, "sheet.pdf")
    signer.sign_file(path, RECORD)
    data = path.read_bytes()
    assert b"test sheet" in data
    path.write_bytes(data.replace(b"test sheet", b"best sheet", 1))
    assert read_manifest(path)["validation_state"] == "Invalid"


def test_a_film_lists_its_shots_as_ingredients_with_their_manifests(tmp_path, signer, capsys):
    shots = [write_media(tmp_path, f"00{i}-shot.png") for i in (1, 2)]
    for shot in shots:
        signer.sign_file(shot, make_record(generator_hash="cd" * 32, seed=1, shot=shot.name))
    film = write_media(tmp_path, "film.mp4")
    mark = watermark_assertion("ddc667f2" + "0" * 56, version=2)
    signer.sign_file(film, RECORD, ingredients=shots, watermark=mark)
    manifest = read_manifest(film)
    assert manifest["validation_state"] == "Valid"
    assert [(i["title"], i["relationship"]) for i in manifest["ingredients"]] == [
        ("001-shot.png", "componentOf"), ("002-shot.png", "componentOf")]
    assert all(i["has_manifest"] and i["validation_state"] == "Valid" for i in manifest["ingredients"])
    assert manifest["watermark"]["algorithm"] == "reelgan-watermark" and manifest["watermark"]["version"] == 2
    assert manifest["watermark"]["model_hash_prefix"] == "ddc667f2"
    capsys.readouterr()
    main(["verify", str(film)])
    out = capsys.readouterr().out
    assert "ingredients: 001-shot.png (componentOf, Valid), 002-shot.png (componentOf, Valid)" in out
    assert "watermark assertion: reelgan-watermark version 2, model sha256 starting ddc667f2" in out


def test_sign_film_signs_shots_then_the_film_then_the_companions(tmp_path, signer):
    folder = tmp_path / "film.shots"
    folder.mkdir()
    shots = [write_media(folder, "000-shot.mp4"), write_media(folder, "000-shot.png")]
    film = write_media(tmp_path, "film.mp4")
    companions = [write_media(tmp_path, "film.srt"), write_media(tmp_path, "film.otio"),
                  write_media(tmp_path, "film.sheet.pdf")]
    film_record = make_record(generator_hash="ef" * 32, seed=None, source_type=COMPOSITE_WITH_TRAINED_ALGORITHMIC_MEDIA)
    signed = sign_film(signer, film, film_record, shots, companions, watermark=watermark_assertion("ef" * 32))
    assert [s.path for s in signed] == [*shots, film, *companions]
    assert [s.sidecar.name for s in signed if s.sidecar] == ["film.srt.c2pa", "film.otio.c2pa"]
    manifest = read_manifest(film)
    assert [i["title"] for i in manifest["ingredients"]] == ["000-shot.mp4"]  # the shot's video, not its still
    assert manifest["reelgan"] == RECORD  # the film's own embedded record comes first
    assert read_manifest(companions[0])["reelgan"] == film_record  # a file without a record gets the film's
    assert read_manifest(shots[1])["watermark"] is None


def test_training_mining_choice_is_written_and_checked(tmp_path, c2pa_certificate, signer):
    allowed = C2paSigner.from_files(*c2pa_certificate, training_mining="allowed")
    path = write_media(tmp_path, "a.png")
    allowed.sign_file(path, RECORD)
    assert set(read_manifest(path)["training_mining"].values()) == {"allowed"}
    signer.sign_file(path, RECORD, training_mining="constrained")  # per call; re-signing replaces the manifest
    assert read_manifest(path)["training_mining"]["cawg.ai_generative_training"] == "constrained"
    with pytest.raises(ReelganError, match="--c2pa-training must be one of allowed, notAllowed, constrained"):
        C2paSigner.from_files(*c2pa_certificate, training_mining="maybe")


def test_a_failed_signing_leaves_the_file_as_it_was(tmp_path, signer):
    path = tmp_path / "fake.png"
    path.write_text("not a picture\n")
    with pytest.raises(ReelganError, match="C2PA signing of fake.png failed"):
        signer.sign_file(path, RECORD)
    assert path.read_text() == "not a picture\n" and sorted(p.name for p in tmp_path.iterdir()) == ["fake.png"]
    with pytest.raises(ReelganError, match="does not declare the file AI-generated"):
        signer.sign_file(write_media(tmp_path, "a.png"), {"ai_generated": False})


def test_sign_outputs_uses_each_files_record_and_skips_files_without_one(tmp_path, signer):
    png = write_media(tmp_path, "a.png")
    plain = write_media(tmp_path, "plain.jpg")  # no reelgan record inside
    signed = sign_outputs([png, plain], signer)
    assert [s.path for s in signed] == [png]
    assert read_manifest(plain) is None


def test_verify_json_schema(tmp_path, signer, capsys):
    path = write_media(tmp_path, "a.png")
    signer.sign_file(path, RECORD)
    capsys.readouterr()
    assert main(["verify", str(path), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert set(report) == {"schema", "file", "declared", "invalid", "exit_status", "findings"}
    assert report["schema"] == "reelgan-verify/2" and report["exit_status"] == 0 and report["declared"]
    checks = {f["check"]: f for f in report["findings"]}
    assert list(checks) == ["metadata", "C2PA", "watermark"]
    assert all(set(f) == {"check", "state", "found", "detail", "data"} for f in report["findings"])
    assert checks["metadata"]["state"] == "passed" and checks["metadata"]["data"]["record"] == RECORD
    assert checks["C2PA"]["state"] == "passed" and checks["C2PA"]["data"]["validation_state"] == "Valid"
    assert set(checks["C2PA"]["data"]) == {"validation_state", "validation_codes", "where", "sidecar", "title",
                                           "signer", "digital_source_types", "reelgan", "ingredients",
                                           "training_mining", "watermark", "error"}
    assert checks["watermark"]["state"] == "absent"
    assert set(checks["watermark"]["data"]) == {"frames_checked", "frames_marked", "model_hash_prefix", "confidence",
                                                "version"}


def test_the_environment_makes_every_command_sign(tmp_path, c2pa_certificate, monkeypatch, capsys):
    chain, key = c2pa_certificate
    monkeypatch.setenv("REELGAN_C2PA_CERT", str(chain))
    monkeypatch.setenv("REELGAN_C2PA_KEY", str(key))
    monkeypatch.setenv("REELGAN_C2PA_TRAINING", "allowed")
    out = tmp_path / "peace.svg"
    assert main(["glyphs", "write", "we come in peace", "--size", "64", "--out", str(out)]) == 0
    assert "signed 1 file(s) with C2PA" in capsys.readouterr().err
    manifest = read_manifest(out)
    assert manifest["validation_state"] == "Valid" and set(manifest["training_mining"].values()) == {"allowed"}
    assert main(["glyphs", "write", "we come in peace", "--size", "64", "--out", str(tmp_path / "p.png"),
                 "--no-c2pa"]) == 0
    assert read_manifest(tmp_path / "p.png") is None
    assert main(["glyphs", "sheet", "--seeds", "0-1", "--cell", "32", "--out", str(tmp_path / "s.png")]) == 0
    assert read_manifest(tmp_path / "s.pdf")["validation_state"] == "Valid"


def test_a_script_pdf_is_signed_only_when_it_declares_ai(tmp_path, signer, c2pa_certificate, capsys):
    pytest.importorskip("reportlab", reason="screenplay PDFs need reportlab")
    chain, key = c2pa_certificate
    person, model = tmp_path / "person.fountain", tmp_path / "model.fountain"
    person.write_text("Title: Mine\n\nINT. A - DAY\n\nB walks.\n")
    model.write_text("Title: X\nDisclosure: Contains AI-generated text\n\nINT. A - DAY\n\nB walks.\n")
    for script in (person, model):
        assert main(["script", "pdf", str(script), "--c2pa-cert", str(chain), "--c2pa-key", str(key)]) == 0
    assert "nothing signed" in capsys.readouterr().err
    assert read_manifest(tmp_path / "person.pdf") is None
    assert read_manifest(tmp_path / "model.pdf")["reelgan"]["kind"] == "screenplay-pdf"
    signer.sign_file(model, read_manifest(tmp_path / "model.pdf")["reelgan"])  # the Fountain file: a sidecar
    assert main(["verify", str(model)]) == 0
    out = capsys.readouterr().out
    assert "passed      authorship: title page declares AI generation" in out and "model.fountain.c2pa" in out


@pytest.mark.parametrize("environment, flags, expect", [
    ({"REELGAN_C2PA_KEY": "key.pem"}, [], "REELGAN_C2PA_KEY is set but REELGAN_C2PA_CERT is not"),
    ({"REELGAN_C2PA_CERT": "chain.pem"}, [], "REELGAN_C2PA_CERT is set but REELGAN_C2PA_KEY is not"),
    ({"REELGAN_C2PA_CERT": "missing.pem", "REELGAN_C2PA_KEY": "key.pem"}, [], "check REELGAN_C2PA_CERT"),
    ({"REELGAN_C2PA_CERT": "chain.pem", "REELGAN_C2PA_KEY": "key.pem", "REELGAN_C2PA_TRAINING": "maybe"}, [],
     "REELGAN_C2PA_TRAINING must be one of"),
    ({}, ["--c2pa-cert", "chain.pem", "--c2pa-key", "key.pem", "--no-c2pa"], "contradict"),
])
def test_a_bad_environment_is_one_line_and_status_2(tmp_path, c2pa_certificate, monkeypatch, capsys, environment,
                                                    flags, expect):
    monkeypatch.chdir(c2pa_certificate[0].parent)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    out = tmp_path / "g.png"
    assert main(["glyphs", "write", "hello", "--size", "32", "--out", str(out), *flags]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and expect in err[0]
    assert not out.exists()


def test_configured_signer_prefers_flags_and_is_none_without_configuration(c2pa_certificate):
    chain, key = c2pa_certificate
    assert configured_signer(environ={}) is None
    signer = configured_signer(str(chain), str(key), environ={"REELGAN_C2PA_CERT": "gone.pem",
                                                             "REELGAN_C2PA_KEY": "gone.pem"})
    assert signer.training_mining == "notAllowed"


def test_generate_and_synth_export_sign_their_outputs(tmp_path, c2pa_certificate, capsys):
    from conftest import export_tiny_generator

    chain, key = c2pa_certificate
    flags = ["--c2pa-cert", str(chain), "--c2pa-key", str(key)]
    generator = export_tiny_generator(tmp_path / "export") / "generator.safetensors"
    assert main(["generate", str(generator), "--n", "2", "--device", "cpu", "--out", str(tmp_path / "g"), *flags]) == 0
    assert [read_manifest(p)["reelgan"]["seed"] for p in sorted((tmp_path / "g").iterdir())] == [0, 1]
    out = tmp_path / "synth"
    argv = ["synth", "export", str(generator), "--out", str(out), "--n", "3", "--device", "cpu", "--no-progress"]
    assert main([*argv, *flags, "--c2pa-each"]) == 0
    assert "signed 5 file(s) with C2PA content credentials (2 in NAME.EXT.c2pa sidecars)" in capsys.readouterr().err
    assert read_manifest(out / "README.md")["reelgan"]["kind"] == "synthetic-dataset"
    images = sorted(out.rglob("*.png"))
    assert len(images) == 3 and all(read_manifest(p)["validation_state"] == "Valid" for p in images)
    assert main([*argv, "--overwrite"]) == 0  # unsigned this time: the old sidecars go with the old export
    assert not list(out.glob("*.c2pa")) and read_manifest(out / "labels.csv") is None


def test_script_drafts_their_records_and_pdfs_are_signed(tmp_path, c2pa_certificate, capsys):
    pytest.importorskip("reportlab", reason="screenplay PDFs need reportlab")
    chain, key = c2pa_certificate
    draft = tmp_path / "storm.fountain"
    assert main(["script", "A storm at sea.", "--model", "bundled", "--n", "1", "--out", str(draft),
                 "--max-new-tokens", "8", "--quiet", "--pdf", "--c2pa-cert", str(chain), "--c2pa-key", str(key)]) == 0
    assert "signed 3 file(s) with C2PA content credentials (2 in NAME.EXT.c2pa sidecars)" in capsys.readouterr().err
    manifest = read_manifest(draft)
    assert manifest["where"] == "sidecar" and manifest["reelgan"]["kind"] == "screenplay"
    assert "lines" not in manifest["reelgan"]  # the line-by-line record stays in the authorship file
    assert read_manifest(tmp_path / "storm.fountain.authorship.json")["validation_state"] == "Valid"
    assert read_manifest(tmp_path / "storm.pdf")["where"] == "embedded"
    draft.write_text(draft.read_text() + "\nA person's new line.\n")  # editing a draft breaks its credentials
    assert main(["verify", str(draft)]) == 3
    out = capsys.readouterr().out
    assert "passed      authorship:" in out and "failed      C2PA: manifest INVALID in storm.fountain.c2pa" in out


def test_writing_a_signed_film_again_drops_the_manifest_but_the_watermark_stays(tmp_path, signer, capsys):
    """What an editor's tools do to a signed film: write it out again, here decoded and encoded into a new MP4
    with a mov_text subtitle track (harsher than a remux, which copies the stream). The C2PA manifest does not
    survive that; the invisible watermark does."""
    import av

    from reelgan.film.encode import FilmWriter
    from reelgan.film.plan import Subtitle
    from reelgan.provenance.watermark import embed, payload_bits

    rng = np.random.default_rng(4)
    y, x = np.mgrid[0:180, 0:240] / 240  # gradients and sensor-like noise: texture for the mark to sit in
    base = np.clip(np.stack([200 * x + 30, 150 * y + 50, 220 - 120 * x], -1) + rng.normal(0, 6, (180, 240, 3)),
                   0, 255).astype(np.uint8)
    bits = payload_bits("ab" * 32)
    film = tmp_path / "film.mp4"
    with FilmWriter(film, (240, 180), 8, RECORD) as writer:
        for _ in range(8):
            writer.add(embed(base, bits))
    signer.sign_file(film, RECORD)
    assert read_manifest(film)["validation_state"] in ("Valid", "Trusted")
    remuxed = tmp_path / "remuxed.mp4"
    subtitles = [Subtitle(0.0, 0.5, "MARA", "A line.")]
    with av.open(str(film)) as source, FilmWriter(remuxed, (240, 180), 8, RECORD, subtitles) as writer:
        for frame in source.decode(video=0):  # decoded and written again, with a mov_text track beside it
            writer.add(frame.to_ndarray(format="rgb24"))
    manifest = read_manifest(remuxed)
    assert manifest is None or manifest["validation_state"] == "Invalid"
    capsys.readouterr()
    assert main(["verify", str(remuxed), "--json"]) == 0
    checks = {f["check"]: f for f in json.loads(capsys.readouterr().out)["findings"]}
    assert checks["watermark"]["found"] and checks["watermark"]["data"]["model_hash_prefix"] == "abababab"


def test_a_manifest_of_unexpected_shapes_is_summarised_not_crashed_on():
    from reelgan.provenance.manifests import summarize

    store = {"active_manifest": "m", "validation_state": "Valid", "validation_status": [None, {"code": 5}],
             "manifests": {"m": {"title": ["not text"], "ingredients": [None, {"title": 3}],
                                 "assertions": [None, {"label": "c2pa.actions", "data": {"actions": [None, {}]}},
                                                {"label": "cawg.training-mining", "data": {"entries": {"x": None}}},
                                                {"label": "org.reelgan.watermark", "data": ["a list"]}]}}}
    summary = summarize(store, "embedded", None)
    assert summary["title"] is None and summary["validation_codes"] == []
    assert summary["ingredients"] == [{"title": None, "relationship": None, "validation_state": None,
                                       "has_manifest": False}]
    assert summary["digital_source_types"] == [] and summary["training_mining"] == {"x": None}
    assert summary["watermark"] == {}
    assert summarize({"manifests": "nonsense", "active_manifest": 7}, "embedded", None)["reelgan"] is None


def test_writing_a_file_again_unsigned_removes_its_old_sidecar(tmp_path, c2pa_certificate, capsys):
    from reelgan.provenance.c2pa_formats import sidecar_path

    chain, key = c2pa_certificate
    out = tmp_path / "glyphs.zip"
    dataset = ["glyphs", "dataset", str(out), "--n", "4", "--size", "32"]
    assert main([*dataset, "--c2pa-cert", str(chain), "--c2pa-key", str(key)]) == 0
    assert sidecar_path(out).is_file() and read_manifest(out)["validation_state"] in ("Valid", "Trusted")
    assert main([*dataset, "--overwrite", "--no-c2pa", "--seed", "1"]) == 0
    assert not sidecar_path(out).exists() and read_manifest(out) is None
    capsys.readouterr()
    assert main(["verify", str(out)]) == 2  # an unsigned zip is nothing verify reads (and not INVALID, exit 3)
    assert "any file signed with a C2PA sidecar" in capsys.readouterr().err
