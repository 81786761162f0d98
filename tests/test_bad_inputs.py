"""A corpus of bad input for every command: each must be refused cleanly and leave everything as it was.

The promise (README, `reelgan.errors`): input a user can get wrong gives ONE line on stderr that starts with
`error:` and names the problem and the fix, exit status 2, no traceback, and nothing created, changed or
deleted: no half-written checkpoint, no new run folder, no partial output, no overwritten file.

Every case runs `main(argv)` in-process with the working directory set to the test's own `tmp_path`; the
case's builder makes the bad input there first (before the snapshot) and returns argv with relative paths.
The snapshot covers every path under `tmp_path`, with size, mtime and sha256 of each file.

What the user would see on stderr is emulated faithfully: log records (the CLI logs INFO and up to stderr)
and Python warnings count as stderr lines, as they do when `reelgan` runs in a terminal.

Expensive things (a tiny trained image run, its export, a tiny clip run, a clip MP4, a decompression-bomb
PNG) are made once per module under a tmp_path_factory folder and copied into a case's tmp_path when used.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import re
import shutil
import struct
import sys
import warnings
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pytest
import torch
from PIL import Image

from reelgan.cli.main import main

TINY = ["--data", "logograms", "--resolution", "16", "--data-size", "24", "--g-width", "8", "--d-width", "8",
        "--max-width", "16", "--latent-dim", "16", "--batch", "4", "--n-critic", "1", "--log-every", "2",
        "--sample-every", "2", "--checkpoint-every", "2", "--grid-size", "4", "--device", "cpu", "--no-progress",
        "--steps", "2"]
CLIP_TINY = ["--kind", "video", "--data", "moving-glyphs", "--resolution", "16", "--frames", "8", "--data-size", "8",
             "--g-width", "8", "--d-width", "8", "--max-width", "16", "--content-dim", "8", "--motion-dim", "4",
             "--batch", "2", "--n-critic", "1", "--log-every", "2", "--sample-every", "2", "--checkpoint-every", "2",
             "--grid-size", "2", "--device", "cpu", "--no-progress", "--steps", "2"]
# Script training small enough that a case which wrongly gets as far as training costs a second or two.
SCRIPT_TINY = ["--steps", "2", "--batch-size", "2", "--context", "8", "--vocab-size", "300", "--layers", "1",
               "--width", "8", "--heads", "2", "--positions", "16", "--save-every", "1", "--device", "cpu", "--quiet"]
# Film settings that keep an accidental render cheap.
FILM_SMALL = ["--height", "32", "--fps", "2"]
BLOCKER_EXPECT = "is a file|not a folder|not a directory"

SCREENPLAY = """Title: Test Reel
Author: A Person

INT. LAB - NIGHT

A lamp flickers over a bench of glass.

ANNA
Is anyone there?

EXT. ROOF - DAWN

Wind pulls at a sheet of paper.

BEN
Only us.
"""


# --------------------------------------------------------------------------------------------- the harness

def snapshot(root: Path) -> dict[str, tuple]:
    """Every path under `root`: folders as ('dir',), files as ('file', size, mtime_ns, sha256)."""
    found: dict[str, tuple] = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs:
            path = Path(folder) / name
            rel = path.relative_to(root).as_posix()
            found[rel] = ("link", os.readlink(path)) if path.is_symlink() else ("dir",)
        for name in files:
            path = Path(folder) / name
            rel = path.relative_to(root).as_posix()
            if path.is_symlink():
                found[rel] = ("link", os.readlink(path))
                continue
            stat = path.stat()
            try:
                digest = hashlib.sha256(path.read_bytes()).hexdigest()
            except OSError:
                digest = "unreadable"
            found[rel] = ("file", stat.st_size, stat.st_mtime_ns, digest)
    return found


def describe_changes(before: dict[str, tuple], after: dict[str, tuple]) -> str:
    created = sorted(set(after) - set(before))
    deleted = sorted(set(before) - set(after))
    changed = sorted(p for p in set(before) & set(after) if before[p] != after[p])
    parts = []
    for label, paths in (("created", created), ("deleted", deleted), ("changed", changed)):
        if paths:
            shown = ", ".join(paths[:8]) + (f" (+{len(paths) - 8} more)" if len(paths) > 8 else "")
            parts.append(f"{label}: {shown}")
    return "; ".join(parts)


def run_main(argv: list[str], capsys) -> tuple[int | None, str, str, BaseException | None]:
    """main(argv) with the CLI's stderr logging emulated; (code, stdout, stderr, unexpected exception)."""
    capsys.readouterr()  # drop whatever the builder printed
    handler = logging.StreamHandler(sys.stderr)  # sys.stderr is capsys's stream now
    handler.setFormatter(logging.Formatter("%(message)s"))
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.WARNING)  # as the CLI: other libraries' warnings; main() sets reelgan's own to INFO
    code: int | None = None
    error: BaseException | None = None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            code = main(argv)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        except Exception as exc:  # a bug: reported with its type and message
            error = exc
        finally:
            root.removeHandler(handler)
            root.setLevel(old_level)
    out, err = capsys.readouterr()
    for w in caught:  # the terminal would show these on stderr
        err += warnings.formatwarning(w.message, w.category, w.filename, w.lineno, "").rstrip() + "\n"
    return code, out, err, error


def assert_refused(argv: list[str], tmp_path: Path, capsys, expect: str | None = None) -> None:
    """main(argv) (cwd = tmp_path) must refuse: status 2, one `error:` line naming `expect`, nothing changed.

    `expect` is a case-insensitive substring; alternatives may be separated by '|'.
    """
    assert Path.cwd().resolve() == tmp_path.resolve(), "run cases with monkeypatch.chdir(tmp_path)"
    before = snapshot(tmp_path)
    code, out, err, error = run_main(argv, capsys)
    after = snapshot(tmp_path)
    lines = [line for line in err.strip().splitlines() if line.strip()]
    problems = []
    if error is not None:
        message = " ".join(str(error).split())[:300]
        problems.append(f"raised {type(error).__name__}: {message}")
    elif code != 2:
        problems.append(f"returned {code!r}, not 2")
    if "Traceback" in err or "Traceback" in out:
        problems.append("a traceback was printed")
    if error is None:
        if len(lines) != 1:
            shown = " / ".join(line.strip()[:160] for line in lines[:4])
            problems.append(f"stderr has {len(lines)} lines, not 1" + (f": {shown}" if lines else ""))
        if lines and not lines[-1].startswith("error:") and not lines[0].startswith("error:"):
            problems.append(f"stderr does not start with 'error:': {lines[0][:200]!r}")
        error_line = next((line for line in lines if line.startswith("error:")), lines[0] if lines else "")
        if expect and not any(word.lower() in error_line.lower() for word in expect.split("|")):
            problems.append(f"message does not name {expect!r}: {error_line[:240]!r}")
    changes = describe_changes(before, after)
    if changes:
        problems.append(f"left behind: {changes}")
    if problems:
        first = next((line for line in lines if line.startswith("error:")), lines[0] if lines else "")
        context = f" [stderr: {first[:200]!r}]" if first and error is None else ""
        pytest.fail(" | ".join(problems) + context, pytrace=False)


# ---------------------------------------------------------------------------------- fixtures and helpers

def png_bytes(size=(16, 16), mode="L", seed=0) -> bytes:
    rng = np.random.default_rng(seed)
    channels = {"L": 1, "RGB": 3}[mode]
    pixels = rng.integers(0, 256, size=(size[1], size[0], channels), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels[..., 0] if channels == 1 else pixels, mode).save(buffer, format="PNG")
    return buffer.getvalue()


def bomb_png_bytes(width: int = 20000, height: int = 20000) -> bytes:
    """A 1-bit grayscale PNG of width x height (400 Mpx, over Pillow's MAX_IMAGE_PIXELS), ~60 kB on disk."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    row = b"\x00" + b"\xff" * ((width + 7) // 8)  # filter byte + a white row
    compressor = zlib.compressobj(9)
    data = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")


@dataclass
class Fixtures:
    """Things made once per module; `copy(tmp, name)` puts one into a case's folder and returns its name."""

    base: Path
    run: Path          # a tiny trained image run (16 px, 1 channel, 2 steps)
    export: Path       # its exported generator: generator.safetensors + generator.json
    clip_run: Path     # a tiny trained clip run
    clip_mp4: Path     # one MP4 written by `generate` from the clip run
    bomb: Path         # a 20000x20000 1-bit PNG

    @staticmethod
    def shared(name: str) -> Path:
        """A file of ../shared/data, or skip the case with the reason (conftest.shared_data)."""
        from conftest import shared_data

        return shared_data(name)

    def copy(self, tmp: Path, what: str, name: str | None = None) -> str:
        source: Path = getattr(self, what)
        target = tmp / (name or source.name)
        if source.is_dir():
            shutil.copytree(source, target)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
        return target.relative_to(tmp).as_posix()


@pytest.fixture(scope="module")
def fx(tmp_path_factory) -> Fixtures:
    base = tmp_path_factory.mktemp("bad-input-fixtures")
    assert main(["train", *TINY, "--out", str(base / "runs")]) == 0
    run = next((base / "runs").iterdir())
    assert main(["export", str(run), "--out", str(base / "export"), "--device", "cpu"]) == 0
    assert main(["train", *CLIP_TINY, "--out", str(base / "clip-runs")]) == 0
    clip_run = next((base / "clip-runs").iterdir())
    assert main(["generate", str(clip_run), "--n", "1", "--device", "cpu", "--out", str(base / "clips")]) == 0
    clip_mp4 = next((base / "clips").glob("*.mp4"))
    bomb = base / "bomb.png"
    bomb.write_bytes(bomb_png_bytes())
    return Fixtures(base, run, base / "export", clip_run, clip_mp4, bomb)


def write(tmp: Path, rel: str, data: bytes | str = b"") -> str:
    """Write a file under tmp (parents made); returns `rel`."""
    path = tmp / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        path.write_text(data, encoding="utf-8")
    else:
        path.write_bytes(data)
    return rel


def mkdir(tmp: Path, rel: str) -> str:
    (tmp / rel).mkdir(parents=True, exist_ok=True)
    return rel


def blocker(tmp: Path) -> str:
    """A plain file named `blocker`, for outputs asked to go below it."""
    return write(tmp, "blocker", "I am a file, not a folder.\n")


def screenplay(tmp: Path, name: str = "reel.fountain") -> str:
    return write(tmp, name, SCREENPLAY)


def image_folder(tmp: Path, name: str = "stills", count: int = 5) -> str:
    for i in range(count):
        write(tmp, f"{name}/img{i}.png", png_bytes(seed=i))
    return name


def text_as_png_folder(tmp: Path, name: str = "fakes") -> str:
    for i in range(3):
        write(tmp, f"{name}/img{i}.png", f"not an image {i}\n")
    return name


def flip_data_byte(path: Path) -> None:
    """Flip one byte of a safetensors file's tensor data (not its header)."""
    data = bytearray(path.read_bytes())
    header = struct.unpack("<Q", bytes(data[:8]))[0]
    offset = 8 + header + 7
    data[offset] ^= 0xFF
    path.write_bytes(bytes(data))


def edit_checkpoint(path: Path, change: Callable[[dict], None]) -> None:
    state = torch.load(path, map_location="cpu", weights_only=True)
    change(state)
    torch.save(state, path)


def domain_extractor(tmp: Path) -> str:
    """A copy of the bundled logograms domain extractor (safetensors + json) as domain.safetensors."""
    from reelgan.metrics.domain import BUNDLED_DIR

    shutil.copy2(BUNDLED_DIR / "domain-logograms-32.safetensors", tmp / "domain.safetensors")
    shutil.copy2(BUNDLED_DIR / "domain-logograms-32.json", tmp / "domain.json")
    return "domain.safetensors"


def run_copy(tmp: Path, fx: Fixtures, name: str = "run") -> str:
    return fx.copy(tmp, "run", name)


def export_copy(tmp: Path, fx: Fixtures, name: str = "export") -> str:
    return fx.copy(tmp, "export", name)


# Variants of a generator source, each returning a relative path to pass as SOURCE.

def src_garbage_pt(tmp, fx):
    return write(tmp, "garbage.pt", b"this is not a torch checkpoint\x00\x01\x02" * 20)


def src_pt_missing_fields(tmp, fx):
    from reelgan.gan.checkpoint import CHECKPOINT_FORMAT

    torch.save({"format": CHECKPOINT_FORMAT, "step": 2}, tmp / "partial.pt")
    return "partial.pt"


def src_pt_other_resolution(tmp, fx):
    run = run_copy(tmp, fx)
    path = tmp / run / "checkpoints" / "latest.pt"
    edit_checkpoint(path, lambda s: s["config"]["data"].__setitem__("resolution", 32))
    return f"{run}/checkpoints/latest.pt"


def src_run_without_checkpoints(tmp, fx):
    run = run_copy(tmp, fx)
    shutil.rmtree(tmp / run / "checkpoints")
    for name in ("generator.safetensors", "generator.json"):
        (tmp / run / name).unlink()
    return run


def src_json_missing_fields(tmp, fx):
    ex = export_copy(tmp, fx)
    spec_path = tmp / ex / "generator.json"
    spec = json.loads(spec_path.read_text())
    for key in ("arch", "resolution", "latent_dim"):
        spec.pop(key)
    spec_path.write_text(json.dumps(spec))
    return f"{ex}/generator.safetensors"


def src_json_other_resolution(tmp, fx):
    ex = export_copy(tmp, fx)
    spec_path = tmp / ex / "generator.json"
    spec = json.loads(spec_path.read_text())
    spec["resolution"] = 32
    spec_path.write_text(json.dumps(spec))
    return f"{ex}/generator.safetensors"


def src_flipped_byte(tmp, fx):
    ex = export_copy(tmp, fx)
    flip_data_byte(tmp / ex / "generator.safetensors")
    return f"{ex}/generator.safetensors"


def src_json_without_weights(tmp, fx):
    ex = export_copy(tmp, fx)
    (tmp / ex / "generator.safetensors").unlink()
    return f"{ex}/generator.json"


def src_garbage_safetensors(tmp, fx):
    ex = export_copy(tmp, fx)
    (tmp / ex / "generator.safetensors").write_bytes(b"\xff" * 64)
    return f"{ex}/generator.safetensors"


def src_json_is_a_list(tmp, fx):
    ex = export_copy(tmp, fx)
    (tmp / ex / "generator.json").write_text("[1, 2, 3]\n")
    return f"{ex}/generator.safetensors"


def src_foreign_safetensors(tmp, fx):
    import safetensors.torch

    ex = export_copy(tmp, fx)
    safetensors.torch.save_file({"x": torch.zeros(3)}, str(tmp / ex / "generator.safetensors"))
    return f"{ex}/generator.safetensors"


def src_missing(tmp, fx):
    return "no-such-run"


def src_text_file(tmp, fx):
    return write(tmp, "notes.txt", "hello\n")


SOURCE_VARIANTS = {
    "garbage-pt": (src_garbage_pt, "damaged|cannot be read|not reelgan"),
    "pt-missing-fields": (src_pt_missing_fields, "missing|incomplete|lacks|damaged|not a reelgan"),
    "pt-other-resolution": (src_pt_other_resolution, "damaged|match|resolution|px"),
    "run-without-checkpoints": (src_run_without_checkpoints, "neither|no checkpoint|checkpoints"),
    "json-missing-fields": (src_json_missing_fields, "missing|lack|complete|field|arch"),
    "json-other-resolution": (src_json_other_resolution, "resolution|match|damaged|px"),
    "safetensors-flipped-byte": (src_flipped_byte, "sha256|hash|damaged|checksum"),
    "json-without-safetensors": (src_json_without_weights, "safetensors|not found|missing"),
    "garbage-safetensors": (src_garbage_safetensors, "cannot read|damaged|corrupt"),
    "json-is-a-list": (src_json_is_a_list, "not a reelgan|generator description|damaged"),
    "foreign-safetensors": (src_foreign_safetensors, "match|damaged|not a reelgan|missing|lacks|does not fit"),
    "missing-path": (src_missing, "not found|does not exist"),
    "text-file": (src_text_file, "not a run folder|checkpoint|safetensors"),
}


# ------------------------------------------------------------------------------------------- the cases

@dataclass
class Case:
    id: str
    build: Callable[[Path, Fixtures], list[str]]
    expect: str | None = None
    skip_if: Callable[[], str | None] | None = None


CASES: list[Case] = []


def case(id: str, expect: str | None = None, skip_if=None):
    """Decorator: register a builder function as a case."""
    def register(build):
        CASES.append(Case(id, build, expect, skip_if))
        return build
    return register


def add(id: str, build, expect: str | None = None, skip_if=None) -> None:
    CASES.append(Case(id, build, expect, skip_if))


def cuda_present() -> str | None:
    return "a CUDA GPU is visible, so --device cuda is valid here" if torch.cuda.is_available() else None


# ---- train: flag values

TRAIN_FLAG_CASES = [
    ("steps-negative", ["--steps", "-1"], "steps"),
    ("steps-zero", ["--steps", "0"], "steps"),
    ("steps-not-a-number", ["--steps", "ten"], "invalid int"),
    ("steps-fraction", ["--steps", "2.5"], "invalid int"),
    ("batch-zero", ["--batch", "0"], "batch"),
    ("g-batch-negative", ["--g-batch", "-1"], "g_batch|g-batch"),
    ("betas-one-number", ["--betas", "0.5"], "betas"),
    ("betas-words", ["--betas", "a,b"], "betas"),
    ("betas-three-numbers", ["--betas", "0,0.9,0.99"], "betas"),
    ("betas-beta2-one", ["--betas", "0,1"], "beta"),
    ("betas-nan", ["--betas", "nan,0.9"], "beta"),
    ("lr-nan", ["--lr", "nan"], "lr|learning rate"),
    ("lr-inf", ["--lr", "inf"], "lr|learning rate"),
    ("lr-negative", ["--lr", "-1"], "lr|learning rate"),
    ("lr-zero", ["--lr", "0"], "lr|learning rate"),
    ("lr-g-nan", ["--lr-g", "nan"], "lr_g|lr-g"),
    ("lr-d-negative", ["--lr-d", "-0.001"], "lr_d|lr-d"),
    ("resolution-48", ["--resolution", "48"], "resolution"),
    ("resolution-zero", ["--resolution", "0"], "resolution"),
    ("resolution-word", ["--resolution", "big"], "invalid int"),
    ("channels-2", ["--channels", "2"], "channels"),
    ("channels-zero", ["--channels", "0"], "channels"),
    ("kind-bogus", ["--kind", "bogus"], "kind"),
    ("net-bogus", ["--net", "bogus"], "dcgan|net"),
    ("loss-bogus", ["--loss", "bogus"], "wgan-gp|loss"),
    ("critic-norm-batchnorm", ["--critic-norm", "batchnorm"], "critic_norm|critic-norm|layernorm"),
    ("augment-bogus", ["--augment", "translation,bogus"], "augment|translation"),
    ("augment-auto-and-list", ["--augment", "auto,cutout"], "auto"),
    ("gp-weight-nan", ["--gp-weight", "nan"], "gp_weight|gp-weight"),
    ("gp-weight-negative", ["--gp-weight", "-1"], "gp_weight|gp-weight"),
    ("drift-negative", ["--drift", "-0.5"], "drift"),
    ("r1-interval-zero", ["--loss", "ns-r1", "--r1-interval", "0"], "r1_interval|r1-interval"),
    ("n-critic-zero", ["--n-critic", "0"], "n_critic|n-critic"),
    ("ema-one-and-a-half", ["--ema", "1.5"], "ema"),
    ("ema-negative", ["--ema", "-0.1"], "ema"),
    ("ema-kimg-negative", ["--ema-kimg", "-10"], "ema_kimg"),
    ("r1-gamma-anneal-under-1", ["--r1-gamma-anneal", "0.5"], "r1_gamma_anneal"),
    ("r1-gamma-anneal-nan", ["--r1-gamma-anneal", "nan"], "r1_gamma_anneal"),
    ("r1-gamma-kimg-zero", ["--r1-gamma-kimg", "0"], "r1_gamma_kimg"),
    ("max-minutes-negative", ["--max-minutes", "-1"], "max_minutes|max-minutes"),
    ("max-minutes-nan", ["--max-minutes", "nan"], "max_minutes|max-minutes"),
    ("seed-negative", ["--seed", "-3"], "seed"),
    ("device-bogus", ["--device", "bogus"], "device"),
    ("precision-fp8", ["--precision", "fp8"], "precision|fp32"),
    ("workers-negative", ["--workers", "-1"], "workers"),
    ("log-every-zero", ["--log-every", "0"], "log_every|log-every"),
    ("grid-size-zero", ["--grid-size", "0"], "grid_size|grid-size"),
    ("metrics-bogus", ["--metrics", "bogus"], "metrics|fid"),
    ("metrics-fvd-for-images", ["--metrics", "fvd"], "metrics|fvd|fid"),
    ("metrics-n-five", ["--metrics", "fid", "--metrics-n", "5"], "metrics_n|metrics-n"),
    ("best-metric-pr", ["--best-metric", "pr"], "best_metric|best-metric"),
    ("best-metric-not-computed", ["--metrics", "fid", "--best-metric", "kid"], "best-metric|best_metric"),
    ("data-size-zero", ["--data-size", "0"], "size"),
    ("data-seed-negative", ["--data-seed", "-1"], "seed"),
    ("class-depth-zero", ["--class-depth", "0"], "class_depth|class-depth"),
    ("max-images-negative", ["--max-images", "-1"], "max_images|max-images"),
    ("latent-dim-zero", ["--latent-dim", "0"], "latent_dim|latent-dim"),
    ("g-width-zero", ["--g-width", "0"], "g_width|g-width"),
    ("data-empty-string", ["--data", ""], "source|data"),
    ("preset-bogus", ["--preset", "bogus"], "invalid choice"),
    ("unknown-flag", ["--stepz", "3"], "unrecognized"),
    ("video-frames-99", [*CLIP_TINY, "--frames", "99"], "8-16|frames"),
    ("video-frames-4", [*CLIP_TINY, "--frames", "4"], "8-16|frames"),
    ("video-stride-zero", [*CLIP_TINY, "--stride", "0"], "stride"),
    ("video-resolution-128", [*CLIP_TINY, "--resolution", "128"], "16/32/64|px|resolution"),
    ("video-channels-4", [*CLIP_TINY, "--channels", "4"], "channels"),
    ("video-loss-hinge", [*CLIP_TINY, "--loss", "hinge"], "wgan-gp"),
    ("video-augment", [*CLIP_TINY, "--augment", "translation"], "augment"),
    ("video-cond", [*CLIP_TINY, "--cond"], "cond"),
    ("video-xflip", [*CLIP_TINY, "--xflip"], "xflip"),
    ("video-metrics", [*CLIP_TINY, "--metrics", "fid"], "metrics"),
    ("video-on-logograms", [*CLIP_TINY, "--data", "logograms"], "image set|moving-glyphs"),
    ("clip-set-without-kind-video", ["--data", "moving-glyphs"], "kind video|clip set"),
    ("frames-for-an-image-run", ["--frames", "12"], "video|frames"),
    ("cond-on-logograms", ["--cond"], "class|cond|label"),
]
for _id, _flags, _expect in TRAIN_FLAG_CASES:
    add(f"train-flag-{_id}", lambda tmp, fx, flags=_flags: ["train", *TINY, *flags], _expect)


@case("train-out-is-a-file", "is a file|not a folder")
def _(tmp, fx):
    return ["train", *TINY, "--out", blocker(tmp)]


@case("train-out-below-a-file", BLOCKER_EXPECT)
def _(tmp, fx):
    return ["train", *TINY, "--out", f"{blocker(tmp)}/runs"]


@case("train-metrics-extractor-missing", "not found|does not exist")
def _(tmp, fx):
    return ["train", *TINY, "--metrics", "fid", "--metrics-n", "10", "--extractor", "missing.safetensors"]


@case("train-metrics-inception-without-weights", "fetch-weights|weights")
def _(tmp, fx):
    return ["train", *TINY, "--metrics", "fid", "--metrics-n", "10", "--extractor", "inception"]


@case("train-metrics-on-own-images-without-extractor", "extractor")
def _(tmp, fx):
    return ["train", *TINY, "--data", image_folder(tmp), "--metrics", "fid", "--metrics-n", "10"]


@case("train-cond-on-flat-folder", "class|folder")
def _(tmp, fx):
    return ["train", *TINY, "--data", image_folder(tmp), "--cond"]


@case("train-cond-on-npy-without-labels", "labels")
def _(tmp, fx):
    np.save(tmp / "images.npy", np.zeros((4, 16, 16), dtype=np.uint8))
    return ["train", *TINY, "--data", "images.npy", "--cond"]


# ---- train: TOML config files

TINY_TOML = {
    "data": {"source": '"logograms"', "resolution": "16", "size": "24"},
    "net": {"g_width": "8", "d_width": "8", "max_width": "16", "latent_dim": "16"},
    "loss": {},
    "train": {"steps": "2", "batch": "4", "n_critic": "1", "log_every": "2", "sample_every": "2",
              "checkpoint_every": "2", "grid_size": "4", "device": '"cpu"'},
}


def tiny_toml(section: str, key: str, raw: str, **more: dict[str, str]) -> str:
    """The tiny run as TOML with `section.key = raw` (raw TOML text) in place of, or added to, its settings;
    `more` maps further sections to {key: raw} replacements."""
    sections = {name: dict(values) for name, values in TINY_TOML.items()}
    sections[section][key] = raw
    for name, values in more.items():
        sections[name].update(values)
    return "".join(f"[{name}]\n" + "".join(f"{k} = {v}\n" for k, v in values.items()) + "\n"
                   for name, values in sections.items())


TOML_VALUE_CASES = [
    ("source-int", "data", "source", "5", "source"),
    ("source-list", "data", "source", '["a", "b"]', "source"),
    ("augment-int", "loss", "augment", "3", "augment"),
    ("metrics-int", "train", "metrics", "1", "metrics"),
    ("resolution-float", "data", "resolution", "32.0", "resolution"),
    ("resolution-string", "data", "resolution", '"32"', "resolution"),
    ("channels-float", "data", "channels", "3.0", "channels"),
    ("lr-nan", "train", "lr_g", "nan", "lr_g"),
    ("lr-inf", "train", "lr_d", "inf", "lr_d"),
    ("lr-negative-inf", "train", "lr_g", "-inf", "lr_g"),
    ("steps-bool", "train", "steps", "true", "steps"),
    ("steps-string", "train", "steps", '"10"', "steps"),
    ("steps-zero", "train", "steps", "0", "steps"),
    ("steps-date", "train", "steps", "1979-05-27", "steps"),
    ("batch-negative", "train", "batch", "-4", "batch"),
    ("beta1-out-of-range", "train", "beta1", "1.5", "beta1"),
    ("ema-string", "train", "ema_decay", '"high"', "ema_decay"),
    ("cond-string", "data", "cond", '"yes"', "cond"),
    ("device-bogus", "train", "device", '"tpu"', "device"),
    ("out-int", "train", "out", "5", "out"),
    ("arch-bogus", "net", "arch", '"vgg"', "dcgan|net"),
    ("gp-weight-nan", "loss", "gp_weight", "nan", "gp_weight"),
    ("unknown-key", "train", "stepz", "10", "stepz"),
    ("nested-table", "data", "extra", "{ a = 1 }", "extra"),
]


def _toml_case(body: str, dry: bool):
    def build(tmp, fx):
        write(tmp, "run.toml", body)
        return ["train", "--config", "run.toml", *(["--dry-run"] if dry else ["--no-progress"])]
    return build


for _id, _section, _key, _raw, _expect in TOML_VALUE_CASES:
    _body = tiny_toml(_section, _key, _raw)
    add(f"train-toml-{_id}-dry-run", _toml_case(_body, True), _expect)
    add(f"train-toml-{_id}", _toml_case(_body, False), _expect)
_body = tiny_toml("data", "kind", '"video"', data={"frames": "99", "source": '"moving-glyphs"'})
add("train-toml-video-frames-99-dry-run", _toml_case(_body, True), "8-16|frames")
add("train-toml-video-frames-99", _toml_case(_body, False), "8-16|frames")

TOML_FILE_CASES = [
    ("section-not-a-table", "data = 3\n", "table"),
    ("unknown-section", tiny_toml("train", "steps", "2") + "[model]\nwidth = 3\n", "model"),
    ("invalid-toml", "[data\nsource = logograms\n", "toml"),
    ("duplicate-key", "[train]\nsteps = 2\nsteps = 3\n", "toml"),
    ("not-utf8", b"[data]\nsource = \"\xff\xfe\xfa\"\n", "toml|utf"),
    ("binary", b"\x00\x01\x02\x03PK\x03\x04", "toml"),
]
for _id, _body, _expect in TOML_FILE_CASES:
    for _dry in (True, False):
        add(f"train-toml-{_id}" + ("-dry-run" if _dry else ""), _toml_case(_body, _dry), _expect)


@case("train-config-missing-file", "not found|does not exist")
def _(tmp, fx):
    return ["train", "--config", "missing.toml", "--dry-run"]


@case("train-config-is-a-folder", "folder|directory")
def _(tmp, fx):
    return ["train", "--config", mkdir(tmp, "configs"), "--dry-run"]


@case("train-config-out-below-a-file", BLOCKER_EXPECT)
def _(tmp, fx):
    blocker(tmp)
    write(tmp, "run.toml", tiny_toml("train", "out", '"blocker/runs"'))
    return ["train", "--config", "run.toml", "--no-progress"]


# ---- train: data

@case("train-data-missing-folder", "does not exist")
def _(tmp, fx):
    return ["train", *TINY, "--data", "no-such-folder"]


@case("train-data-empty-folder", "empty")
def _(tmp, fx):
    return ["train", *TINY, "--data", mkdir(tmp, "empty")]


@case("train-data-only-text-files", "no images")
def _(tmp, fx):
    write(tmp, "texts/a.txt", "hello")
    write(tmp, "texts/b.md", "# hi")
    return ["train", *TINY, "--data", "texts"]


@case("train-data-text-renamed-png", "read|valid image|not an image")
def _(tmp, fx):
    return ["train", *TINY, "--data", text_as_png_folder(tmp)]


@case("train-data-unreadable-folder", "permission|cannot be read|unreadable")
def _(tmp, fx):
    folder = image_folder(tmp, "locked")
    (tmp / folder).chmod(0)
    if os.access(tmp / folder, os.R_OK):
        (tmp / folder).chmod(0o755)
        pytest.skip("running as root: a chmod 000 folder stays readable, so there is nothing to refuse")
    return ["train", *TINY, "--data", folder]


@case("train-data-npy-of-strings", "strings|numbers|dtype|not images|pixel")
def _(tmp, fx):
    np.save(tmp / "words.npy", np.full((4, 16, 16), "a", dtype="<U1"))
    return ["train", *TINY, "--data", "words.npy"]


@case("train-data-npy-of-objects", "numpy|object|pickle")
def _(tmp, fx):
    array = np.empty((2,), dtype=object)
    array[:] = [{"a": 1}, [1, 2]]
    np.save(tmp / "objects.npy", array, allow_pickle=True)
    return ["train", *TINY, "--data", "objects.npy"]


@case("train-data-npy-zero-images", "no images|no pixels")
def _(tmp, fx):
    np.save(tmp / "empty.npy", np.zeros((0, 16, 16), dtype=np.uint8))
    return ["train", *TINY, "--data", "empty.npy"]


@case("train-data-npy-all-nan", "nan|finite")
def _(tmp, fx):
    np.save(tmp / "nan.npy", np.full((4, 16, 16), np.nan, dtype=np.float32))
    return ["train", *TINY, "--data", "nan.npy"]


@case("train-data-npy-some-inf", "nan|finite|inf")
def _(tmp, fx):
    array = np.zeros((4, 16, 16), dtype=np.float32)
    array[0, 0, 0] = np.inf
    np.save(tmp / "inf.npy", array)
    return ["train", *TINY, "--data", "inf.npy"]


@case("train-data-npy-2d", "shape")
def _(tmp, fx):
    np.save(tmp / "flat.npy", np.zeros((16, 16), dtype=np.uint8))
    return ["train", *TINY, "--data", "flat.npy"]


@case("train-data-npy-5d", "shape")
def _(tmp, fx):
    np.save(tmp / "deep.npy", np.zeros((2, 1, 3, 16, 16), dtype=np.uint8))
    return ["train", *TINY, "--data", "deep.npy"]


@case("train-data-npy-garbage", "numpy|not a readable")
def _(tmp, fx):
    return ["train", *TINY, "--data", write(tmp, "garbage.npy", b"\x93NUMPY garbage" * 4)]


@case("train-data-npz-without-arrays", "no arrays|no images")
def _(tmp, fx):
    np.savez(tmp / "nothing.npz")
    return ["train", *TINY, "--data", "nothing.npz"]


@case("train-data-npz-only-labels", "images|shape")
def _(tmp, fx):
    np.savez(tmp / "labels.npz", labels=np.arange(4))
    return ["train", *TINY, "--data", "labels.npz"]


@case("train-data-npz-labels-count-mismatch", "labels")
def _(tmp, fx):
    np.savez(tmp / "mismatch.npz", images=np.zeros((4, 16, 16), dtype=np.uint8), labels=np.arange(3))
    return ["train", *TINY, "--data", "mismatch.npz", "--cond"]


@case("train-data-zip-not-a-zip", "zip")
def _(tmp, fx):
    return ["train", *TINY, "--data", write(tmp, "fake.zip", "not a zip at all\n")]


@case("train-data-zip-without-images", "no images")
def _(tmp, fx):
    with zipfile.ZipFile(tmp / "texts.zip", "w") as archive:
        archive.writestr("readme.txt", "hello")
    return ["train", *TINY, "--data", "texts.zip"]


@case("train-data-zip-of-broken-images", "read|valid image")
def _(tmp, fx):
    with zipfile.ZipFile(tmp / "broken.zip", "w") as archive:
        for i in range(3):
            archive.writestr(f"set/img{i}.png", b"\x89PNG\r\n\x1a\n broken")
    return ["train", *TINY, "--data", "broken.zip"]


@case("train-data-zip-truncated", "zip")
def _(tmp, fx):
    with zipfile.ZipFile(tmp / "full.zip", "w") as archive:
        for i in range(4):
            archive.writestr(f"img{i}.png", png_bytes(seed=i))
    data = (tmp / "full.zip").read_bytes()
    (tmp / "full.zip").unlink()
    return ["train", *TINY, "--data", write(tmp, "cut.zip", data[: len(data) // 2])]


@case("train-data-decompression-bomb-png", "pixel")
def _(tmp, fx):
    mkdir(tmp, "bombs")
    fx.copy(tmp, "bomb", "bombs/huge.png")
    return ["train", *TINY, "--data", "bombs"]


@case("train-data-truncated-png-only-image", "read|truncated|damaged")
def _(tmp, fx):
    data = png_bytes(size=(64, 64), seed=3)
    return ["train", *TINY, "--data", write(tmp, "cut/only.png", data[: len(data) // 2]).split("/")[0]]


@case("train-data-unknown-suffix-file", "not a folder|zip|npy")
def _(tmp, fx):
    return ["train", *TINY, "--data", write(tmp, "notes.txt", "hello\n")]


@case("train-video-not-a-video-file", "1 unreadable|not a video|cannot be read|damaged")
def _(tmp, fx):
    return ["train", *CLIP_TINY, "--data", write(tmp, "clip.mp4", "this is text, not a video\n")]


@case("train-video-truncated-mp4", "1 unreadable|1 too short|not a video|cannot be read|damaged|truncated")
def _(tmp, fx):
    data = fx.clip_mp4.read_bytes()
    return ["train", *CLIP_TINY, "--data", write(tmp, "footage/cut.mp4", data[: len(data) // 3]).split("/")[0]]


@case("train-video-text-file", "not a video")
def _(tmp, fx):
    return ["train", *CLIP_TINY, "--data", write(tmp, "clip.txt", "hello\n")]


@case("train-video-missing-folder", "does not exist")
def _(tmp, fx):
    return ["train", *CLIP_TINY, "--data", "no-footage"]


@case("train-video-empty-folder", "no videos|empty")
def _(tmp, fx):
    return ["train", *CLIP_TINY, "--data", mkdir(tmp, "footage")]


@case("train-video-too-short", "too short|frames")
def _(tmp, fx):
    for i in range(3):  # a frame folder of 3 frames, clips need 8
        write(tmp, f"footage/shot/{i:03d}.png", png_bytes(seed=i))
    return ["train", *CLIP_TINY, "--data", "footage"]


@case("train-video-shared-clip-truncated", "1 unreadable|1 too short|not a video|cannot be read|damaged|truncated")
def _(tmp, fx):
    data = fx.shared("video/bigbuckbunny.mp4").read_bytes()
    return ["train", *CLIP_TINY, "--data", write(tmp, "bunny-cut.mp4", data[:20000])]


@case("train-data-shared-omniglot-class-depth-too-deep", "class-depth|class folder")
def _(tmp, fx):
    return ["train", *TINY, "--data", str(fx.shared("omniglot_background.zip")), "--cond", "--class-depth", "5"]


# ---- train --resume

@case("train-resume-missing-folder", "not found|does not exist")
def _(tmp, fx):
    return ["train", "--resume", "runs/00009-nothing", "--no-progress"]


@case("train-resume-latest-without-runs", "no run folders")
def _(tmp, fx):
    return ["train", "--resume", "latest", "--no-progress"]


@case("train-resume-run-without-checkpoints", "checkpoint")
def _(tmp, fx):
    run = run_copy(tmp, fx)
    shutil.rmtree(tmp / run / "checkpoints")
    return ["train", "--resume", run, "--steps", "4", "--no-progress"]


@case("train-resume-garbage-checkpoint", "damaged|cannot be read")
def _(tmp, fx):
    run = run_copy(tmp, fx)
    (tmp / run / "checkpoints" / "latest.pt").write_bytes(b"garbage" * 100)
    return ["train", "--resume", run, "--steps", "4", "--no-progress"]


@case("train-resume-checkpoint-missing-fields", "missing|incomplete|lacks|damaged|not a reelgan")
def _(tmp, fx):
    run = run_copy(tmp, fx)
    edit_checkpoint(tmp / run / "checkpoints" / "latest.pt", lambda s: [s.pop(k) for k in ("G", "D", "opt_G")
                                                                         if k in s])
    return ["train", "--resume", run, "--steps", "4", "--no-progress"]


@case("train-resume-checkpoint-without-config", "missing|incomplete|lacks|damaged|not a reelgan|config")
def _(tmp, fx):
    run = run_copy(tmp, fx)
    edit_checkpoint(tmp / run / "checkpoints" / "latest.pt", lambda s: s.pop("config"))
    return ["train", "--resume", run, "--steps", "4", "--no-progress"]


@case("train-resume-checkpoint-of-another-resolution", "damaged|match|resolution|px")
def _(tmp, fx):
    run = run_copy(tmp, fx)
    edit_checkpoint(tmp / run / "checkpoints" / "latest.pt",
                    lambda s: s["config"]["data"].__setitem__("resolution", 32))
    return ["train", "--resume", run, "--steps", "4", "--no-progress"]


@case("train-resume-asking-another-resolution", "cannot change")
def _(tmp, fx):
    return ["train", "--resume", run_copy(tmp, fx), "--resolution", "32", "--no-progress"]


@case("train-resume-with-config", "config")
def _(tmp, fx):
    write(tmp, "run.toml", "[train]\nsteps = 4\n")
    return ["train", "--resume", run_copy(tmp, fx), "--config", "run.toml", "--no-progress"]


@case("train-resume-with-preset", "preset")
def _(tmp, fx):
    return ["train", "--resume", run_copy(tmp, fx), "--preset", "paper", "--no-progress"]


@case("train-resume-fewer-steps-than-done", "already|steps")
def _(tmp, fx):
    return ["train", "--resume", run_copy(tmp, fx), "--steps", "1", "--no-progress"]


@case("train-resume-garbage-stats-jsonl", "stats.jsonl")
def _(tmp, fx):
    run = run_copy(tmp, fx)
    (tmp / run / "stats.jsonl").write_text("this is not json\n{{{\n")
    return ["train", "--resume", run, "--steps", "4", "--no-progress"]


@case("train-resume-run-is-a-file", "is a file|not a folder|not a run folder")
def _(tmp, fx):
    return ["train", "--resume", write(tmp, "00001-run", "file\n"), "--no-progress"]


# ---- generate

for _name, (_build, _expect) in SOURCE_VARIANTS.items():
    add(f"generate-source-{_name}",
        lambda tmp, fx, b=_build: ["generate", b(tmp, fx), "--n", "2", "--device", "cpu", "--out", "out"], _expect)


@case("generate-latest-without-runs", "no run folders")
def _(tmp, fx):
    return ["generate", "latest", "--n", "2", "--out", "out"]


GENERATE_FLAG_CASES = [
    ("n-zero", ["--n", "0"], "--n"),
    ("n-negative", ["--n", "-3"], "--n"),
    ("truncation-zero", ["--truncation", "0"], "truncation"),
    ("truncation-above-one", ["--truncation", "1.5"], "truncation"),
    ("truncation-nan", ["--truncation", "nan"], "truncation"),
    ("class-on-unconditional", ["--class", "cats"], "class"),
    ("size-zero", ["--size", "0"], "size"),
    ("size-negative", ["--size", "-16"], "size"),
    ("device-bogus", ["--device", "tpu"], "device"),
    ("grid-out-jpg", ["--grid", "--out", "grid.jpg"], ".png|png"),
    ("n-not-a-number", ["--n", "many"], "invalid int"),
]
for _id, _flags, _expect in GENERATE_FLAG_CASES:
    add(f"generate-flag-{_id}",
        lambda tmp, fx, flags=_flags: ["generate", run_copy(tmp, fx), "--device", "cpu", "--out", "out", *flags],
        _expect)


@case("generate-device-cuda-without-gpu", "cuda", skip_if=cuda_present)
def _(tmp, fx):
    return ["generate", run_copy(tmp, fx), "--device", "cuda", "--out", "out"]


@case("generate-out-below-a-file", BLOCKER_EXPECT)
def _(tmp, fx):
    return ["generate", run_copy(tmp, fx), "--n", "2", "--device", "cpu", "--out", f"{blocker(tmp)}/sub"]


@case("generate-out-is-a-file", BLOCKER_EXPECT)
def _(tmp, fx):
    return ["generate", run_copy(tmp, fx), "--n", "2", "--device", "cpu", "--out", blocker(tmp)]


@case("generate-grid-out-below-a-file", BLOCKER_EXPECT)
def _(tmp, fx):
    return ["generate", run_copy(tmp, fx), "--grid", "--device", "cpu", "--out", f"{blocker(tmp)}/grid.png"]


@case("generate-grid-exists", "already exists")
def _(tmp, fx):
    return ["generate", run_copy(tmp, fx), "--grid", "--device", "cpu", "--out", write(tmp, "grid.png", png_bytes())]


@case("generate-one-image-exists", "already exists")
def _(tmp, fx):
    write(tmp, "out/seed000001.png", png_bytes())
    return ["generate", run_copy(tmp, fx), "--n", "3", "--device", "cpu", "--out", "out"]


@case("generate-clip-fps-zero", "fps")
def _(tmp, fx):
    return ["generate", fx.copy(tmp, "clip_run"), "--n", "1", "--fps", "0", "--device", "cpu", "--out", "clips"]


@case("generate-clip-gif-fps-zero", "fps")
def _(tmp, fx):
    return ["generate", fx.copy(tmp, "clip_run"), "--n", "1", "--gif", "--fps", "0", "--device", "cpu",
            "--out", "clips"]


@case("generate-clip-grid-exists", "already exists")
def _(tmp, fx):
    write(tmp, "grid.mp4", b"existing")
    return ["generate", fx.copy(tmp, "clip_run"), "--n", "2", "--grid", "--device", "cpu", "--out", "grid.mp4"]


@case("generate-clip-out-below-a-file", BLOCKER_EXPECT)
def _(tmp, fx):
    return ["generate", fx.copy(tmp, "clip_run"), "--n", "1", "--device", "cpu", "--out", f"{blocker(tmp)}/clips"]


# ---- interpolate

for _name in ("garbage-pt", "pt-other-resolution", "json-missing-fields", "json-other-resolution",
              "safetensors-flipped-byte", "garbage-safetensors", "missing-path"):
    _build, _expect = SOURCE_VARIANTS[_name]
    add(f"interpolate-source-{_name}",
        lambda tmp, fx, b=_build: ["interpolate", b(tmp, fx), "--seeds", "0,1", "--frames", "2", "--size", "16",
                                   "--device", "cpu", "--out", "walks/morph.mp4"], _expect)

INTERPOLATE_FLAG_CASES = [
    ("one-seed", ["--seeds", "1"], "two seeds"),
    ("seeds-words", ["--seeds", "a,b"], "--seeds"),
    ("seeds-empty", ["--seeds", ""], "--seeds"),
    ("frames-zero", ["--frames", "0"], "--frames"),
    ("fps-zero", ["--fps", "0"], "--fps"),
    ("size-zero", ["--size", "0"], "--size"),
    ("mode-bogus", ["--mode", "cubic"], "--mode"),
    ("truncation-two", ["--truncation", "2"], "truncation"),
    ("class-on-unconditional", ["--class", "cats"], "class"),
    ("hold-bogus", ["--hold", "both"], "invalid choice"),
    ("out-avi", ["--out", "walks/morph.avi"], ".mp4|mp4"),
    ("device-bogus", ["--device", "tpu"], "device"),
]
for _id, _flags, _expect in INTERPOLATE_FLAG_CASES:
    add(f"interpolate-flag-{_id}",
        lambda tmp, fx, flags=_flags: ["interpolate", run_copy(tmp, fx), "--seeds", "0,1", "--frames", "2",
                                       "--size", "16", "--device", "cpu", "--out", "walks/morph.mp4", *flags],
        _expect)


@case("interpolate-out-exists", "already exists")
def _(tmp, fx):
    return ["interpolate", run_copy(tmp, fx), "--seeds", "0,1", "--frames", "2", "--size", "16", "--device", "cpu",
            "--out", write(tmp, "morph.mp4", b"an earlier morph")]


@case("interpolate-out-below-a-file", BLOCKER_EXPECT)
def _(tmp, fx):
    return ["interpolate", run_copy(tmp, fx), "--seeds", "0,1", "--frames", "2", "--size", "16", "--device", "cpu",
            "--out", f"{blocker(tmp)}/morph.mp4"]


@case("interpolate-clip-class-on-unconditional", "class")
def _(tmp, fx):
    return ["interpolate", fx.copy(tmp, "clip_run"), "--seeds", "0,1", "--frames", "2", "--size", "16",
            "--device", "cpu", "--class", "cats", "--out", "walks/morph.gif"]


# ---- explore

for _name in ("garbage-pt", "json-other-resolution", "safetensors-flipped-byte", "missing-path", "text-file"):
    _build, _expect = SOURCE_VARIANTS[_name]
    add(f"explore-source-{_name}",
        lambda tmp, fx, b=_build: ["explore", "grid", b(tmp, fx), "--seeds", "0-3", "--device", "cpu"], _expect)


def explored_run(tmp: Path, fx: Fixtures) -> str:
    """A run copy whose lineage holds seeds 0-3 (ids 0-3), 1 liked and 2 disliked."""
    run = run_copy(tmp, fx)
    for argv in (["explore", "grid", run, "--seeds", "0-3", "--device", "cpu", "--out", "g.png"],
                 ["explore", "rate", run, "--like", "1", "--dislike", "2", "--device", "cpu"]):
        assert main(argv) == 0, argv
    (tmp / "g.png").unlink()
    return run


EXPLORE_FLAG_CASES = [
    ("grid-seeds-words", ["grid", "--seeds", "a-b"], "--seeds"),
    ("grid-seeds-negative", ["grid", "--seeds", "-3"], "--seeds"),
    ("grid-truncation-two", ["grid", "--truncation", "2"], "truncation"),
    ("grid-class-on-unconditional", ["grid", "--class", "cats"], "class"),
    ("grid-out-mp4-for-images", ["grid", "--out", "grid.mp4"], ".png"),
    ("grid-size-zero", ["grid", "--size", "0"], "--size"),
    ("children-no-parent", ["children"], "--seed|--of"),
    ("children-two-parents", ["children", "--seed", "1", "--of", "0"], "one parent"),
    ("children-unknown-id", ["children", "--of", "99"], "no sample 99"),
    ("children-sigma-negative", ["children", "--seed", "1", "--sigma", "-1"], "--sigma"),
    ("children-sigma-nan", ["children", "--seed", "1", "--sigma", "nan"], "--sigma"),
    ("children-n-zero", ["children", "--seed", "1", "--n", "0"], "--n"),
    ("children-part-on-images", ["children", "--seed", "1", "--part", "motion"], "clip"),
    ("crossover-one-parent", ["crossover", "--seeds", "1"], "two parents"),
    ("crossover-no-parents", ["crossover"], "--seeds|--of"),
    ("crossover-mode-bogus", ["crossover", "--seeds", "1,2", "--mode", "average"], "--mode"),
    ("crossover-unknown-id", ["crossover", "--of", "0,77"], "no sample 77"),
    ("directions-method-bogus", ["directions", "--method", "ica"], "--method"),
    ("directions-count-zero", ["directions", "--count", "0"], "--count"),
    ("directions-steps-one", ["directions", "--steps", "1"], "--steps"),
    ("directions-amount-zero", ["directions", "--amount", "0"], "--amount"),
    ("directions-out-txt", ["directions", "--out", "d.txt"], ".png"),
    ("rate-nothing", ["rate"], "nothing to rate"),
    ("rate-unknown-id", ["rate", "--like", "42"], "no sample 42"),
    ("rate-like-and-dislike", ["rate", "--like", "1", "--dislike", "1"], "both liked and disliked"),
    ("rate-stars-six", ["rate", "--stars", "0=6"], "stars"),
    ("rate-stars-bad", ["rate", "--stars", "zero=five"], "ID=N"),
    ("suggest-n-zero", ["suggest", "--n", "0"], "--n"),
    ("suggest-explore-negative", ["suggest", "--explore", "-1"], "--explore"),
    ("picks-morph-avi", ["picks", "--morph", "m.avi"], ".mp4"),
    ("picks-morph-one-pick", ["picks", "--morph", "m.mp4"], "two liked"),
]
for _id, _flags, _expect in EXPLORE_FLAG_CASES:
    add(f"explore-flag-{_id}",
        lambda tmp, fx, flags=_flags: ["explore", flags[0], explored_run(tmp, fx), "--device", "cpu", *flags[1:]],
        _expect)


@case("explore-out-exists", "already exists")
def _(tmp, fx):
    return ["explore", "suggest", explored_run(tmp, fx), "--device", "cpu", "--out", write(tmp, "s.png", b"mine")]


@case("explore-picks-files-exist", "already exists")
def _(tmp, fx):
    run = explored_run(tmp, fx)
    write(tmp, "picks/sample000001.png", b"an earlier pick")
    return ["explore", "picks", run, "--device", "cpu", "--files", "picks"]


@case("explore-picks-none-liked", "no liked samples")
def _(tmp, fx):
    return ["explore", "picks", run_copy(tmp, fx), "--device", "cpu"]


@case("explore-lineage-damaged", "cannot read lineage|not a reelgan lineage")
def _(tmp, fx):
    return ["explore", "grid", run_copy(tmp, fx), "--device", "cpu", "--lineage", write(tmp, "l.json", "{oops")]


@case("explore-lineage-pickle", "cannot read lineage|not a reelgan lineage")
def _(tmp, fx):
    import pickle

    return ["explore", "grid", run_copy(tmp, fx), "--device", "cpu",
            "--lineage", write(tmp, "l.json", pickle.dumps({"format": "x"}))]


@case("explore-lineage-other-generator", "made with generator")
def _(tmp, fx):
    run = explored_run(tmp, fx)
    lineage = json.loads((tmp / run / "explore" / "lineage.json").read_text())
    lineage["generator_hash"] = "0" * 64
    return ["explore", "grid", run, "--device", "cpu",
            "--lineage", write(tmp, "other.json", json.dumps(lineage))]


@case("explore-lineage-bad-latent", "latent")
def _(tmp, fx):
    run = explored_run(tmp, fx)
    path = tmp / run / "explore" / "lineage.json"
    lineage = json.loads(path.read_text())
    lineage["entries"][0]["latent"] = lineage["entries"][0]["latent"][:3]
    path.write_text(json.dumps(lineage))
    return ["explore", "grid", run, "--device", "cpu"]


@case("explore-lineage-is-a-folder", "is a folder")
def _(tmp, fx):
    return ["explore", "grid", run_copy(tmp, fx), "--device", "cpu", "--lineage", mkdir(tmp, "lineage")]


# ---- export

for _name in ("garbage-pt", "pt-missing-fields", "pt-other-resolution", "run-without-checkpoints",
              "json-missing-fields", "json-other-resolution", "safetensors-flipped-byte", "json-without-safetensors",
              "missing-path"):
    _build, _expect = SOURCE_VARIANTS[_name]
    add(f"export-source-{_name}", lambda tmp, fx, b=_build: ["export", b(tmp, fx), "--out", "share"], _expect)


@case("export-json-exists", "already exists")
def _(tmp, fx):
    write(tmp, "share/generator.json", "{}\n")
    return ["export", run_copy(tmp, fx), "--out", "share"]


@case("export-safetensors-exists", "already exists")
def _(tmp, fx):
    write(tmp, "share/generator.safetensors", b"older weights")
    return ["export", run_copy(tmp, fx), "--out", "share"]


@case("export-out-is-a-file", BLOCKER_EXPECT)
def _(tmp, fx):
    return ["export", run_copy(tmp, fx), "--out", blocker(tmp)]


@case("export-out-below-a-file", BLOCKER_EXPECT)
def _(tmp, fx):
    return ["export", run_copy(tmp, fx), "--out", f"{blocker(tmp)}/share"]


@case("export-empty-name", "name")
def _(tmp, fx):
    return ["export", run_copy(tmp, fx), "--out", "share", "--name", ""]


@case("export-name-with-folder", "name")
def _(tmp, fx):
    return ["export", run_copy(tmp, fx), "--out", "share", "--name", "../outside"]


# ---- metrics compute

for _name in ("garbage-pt", "pt-other-resolution", "json-missing-fields", "safetensors-flipped-byte",
              "garbage-safetensors", "missing-path"):
    _build, _expect = SOURCE_VARIANTS[_name]
    add(f"metrics-source-{_name}",
        lambda tmp, fx, b=_build: ["metrics", b(tmp, fx), "--data", "logograms", "--n", "20", "--device", "cpu"],
        _expect)

METRICS_FLAG_CASES = [
    ("unknown-metric", ["--data", "logograms", "--metrics", "bogus"], "unknown metric|bogus"),
    ("empty-metrics", ["--data", "logograms", "--metrics", ","], "metric"),
    ("missing-data-flag", [], "--data"),
    ("n-zero", ["--data", "logograms", "--n", "0"], "--n"),
    ("fvd-on-image-generator", ["--data", "logograms", "--metrics", "fvd", "--n", "20"], "fvd|clip"),
    ("data-missing-folder", ["--data", "no-such-folder", "--n", "20", "--extractor", "DOMAIN"], "does not exist"),
    ("extractor-missing", ["--data", "logograms", "--n", "20", "--extractor", "missing.safetensors"],
     "not found|does not exist"),
    ("extractor-inception-without-weights", ["--data", "logograms", "--n", "20", "--extractor", "inception"],
     "fetch-weights|weights"),
    ("own-data-without-extractor", ["--data", "IMAGES", "--n", "5"], "extractor"),
    ("device-bogus", ["--data", "logograms", "--n", "20", "--device", "tpu"], "device"),
]
for _id, _flags, _expect in METRICS_FLAG_CASES:
    def _metrics_build(tmp, fx, flags=_flags):
        swap = {"IMAGES": lambda: image_folder(tmp), "DOMAIN": lambda: domain_extractor(tmp)}
        flags = [swap[f]() if f in swap else f for f in flags]
        return ["metrics", "compute", run_copy(tmp, fx), *flags]
    add(f"metrics-flag-{_id}", _metrics_build, _expect)


@case("metrics-json-exists", "already exists")
def _(tmp, fx):
    return ["metrics", run_copy(tmp, fx), "--data", "logograms", "--n", "20", "--json",
            write(tmp, "scores.json", "{}\n")]


@case("metrics-json-below-a-file", BLOCKER_EXPECT)
def _(tmp, fx):
    return ["metrics", run_copy(tmp, fx), "--data", "logograms", "--n", "20", "--json", f"{blocker(tmp)}/scores.json"]


@case("metrics-bad-data-leaves-no-json-folder", "does not exist")
def _(tmp, fx):
    return ["metrics", run_copy(tmp, fx), "--data", "no-such-folder", "--n", "20", "--extractor",
            domain_extractor(tmp), "--json", "results/scores.json"]


@case("metrics-garbage-extractor", "json|damaged|not a reelgan|sha256")
def _(tmp, fx):
    write(tmp, "domain.safetensors", b"\x00" * 32)
    write(tmp, "domain.json", "not json")
    return ["metrics", run_copy(tmp, fx), "--data", "logograms", "--n", "20", "--extractor", "domain.safetensors"]


@case("metrics-extractor-flipped-byte", "sha256")
def _(tmp, fx):
    flip_data_byte(tmp / domain_extractor(tmp))
    return ["metrics", run_copy(tmp, fx), "--data", "logograms", "--n", "20", "--extractor", "domain.safetensors"]


@case("metrics-fid-on-clip-generator", "fvd|clip")
def _(tmp, fx):
    return ["metrics", fx.copy(tmp, "clip_run"), "--data", "moving-glyphs", "--metrics", "fid", "--n", "4"]


@case("metrics-fvd-without-extractor", "extractor")
def _(tmp, fx):
    return ["metrics", fx.copy(tmp, "clip_run"), "--data", "moving-glyphs", "--metrics", "fvd", "--n", "4"]


@case("metrics-no-subcommand", "required|subcommand")
def _(tmp, fx):
    return ["metrics"]


# ---- metrics train-extractor

EXTRACTOR_TINY = ["--resolution", "16", "--steps", "1", "--batch", "4", "--max-images", "8"]
TRAIN_EXTRACTOR_CASES = [
    ("steps-zero", ["logograms", "--steps", "0"], "--steps"),
    ("batch-zero", ["logograms", "--batch", "0"], "--batch"),
    ("max-images-zero", ["logograms", "--max-images", "0"], "--max-images"),
    ("out-not-safetensors", ["logograms", "--out", "extractor.pt"], ".safetensors"),
    ("missing-data", ["no-such-folder", "--out", "extractors/x.safetensors"], "does not exist"),
    ("empty-data-folder", ["EMPTY", "--out", "extractors/x.safetensors"], "empty"),
    ("resolution-48", ["logograms", "--resolution", "48", "--out", "extractors/x.safetensors"], "resolution"),
    ("channels-2", ["logograms", "--channels", "2", "--out", "extractors/x.safetensors"], "channels"),
    ("text-renamed-png", ["FAKES", "--out", "extractors/x.safetensors"], "read|valid image"),
]
for _id, _flags, _expect in TRAIN_EXTRACTOR_CASES:
    def _extractor_build(tmp, fx, flags=_flags):
        swap = {"EMPTY": lambda: mkdir(tmp, "empty"), "FAKES": lambda: text_as_png_folder(tmp)}
        flags = [swap[f]() if f in swap else f for f in flags]
        return ["metrics", "train-extractor", flags[0], *EXTRACTOR_TINY, *flags[1:]]
    add(f"train-extractor-{_id}", _extractor_build, _expect)


@case("train-extractor-out-exists", "already exists")
def _(tmp, fx):
    return ["metrics", "train-extractor", "logograms", *EXTRACTOR_TINY, "--out",
            write(tmp, "mine.safetensors", b"older")]


@case("train-extractor-json-exists", "already exists")
def _(tmp, fx):
    write(tmp, "mine.json", '{"notes": "my own file"}\n')
    return ["metrics", "train-extractor", "logograms", *EXTRACTOR_TINY, "--out", "mine.safetensors"]


@case("train-extractor-out-below-a-file", BLOCKER_EXPECT)
def _(tmp, fx):
    return ["metrics", "train-extractor", "logograms", *EXTRACTOR_TINY, "--out", f"{blocker(tmp)}/x.safetensors"]


# ---- metrics fetch-weights (never online: file:// URLs only)

@case("fetch-weights-out-exists", "already exists")
def _(tmp, fx):
    return ["metrics", "fetch-weights", "--out", write(tmp, "inception.pth", b"older"), "--url", "file:///nonexistent"]


@case("fetch-weights-missing-url", "cannot download|not found|no such")
def _(tmp, fx):
    return ["metrics", "fetch-weights", "--out", "weights/inception.pth", "--url", f"file://{tmp}/missing.pth"]


@case("fetch-weights-wrong-file", "sha256")
def _(tmp, fx):
    write(tmp, "wrong.pth", b"not the inception weights" * 10)
    return ["metrics", "fetch-weights", "--out", "weights/inception.pth", "--url", f"file://{tmp}/wrong.pth"]


@case("fetch-weights-out-below-a-file", BLOCKER_EXPECT)
def _(tmp, fx):
    write(tmp, "wrong.pth", b"x")
    return ["metrics", "fetch-weights", "--out", f"{blocker(tmp)}/inception.pth", "--url", f"file://{tmp}/wrong.pth"]


@case("fetch-weights-bogus-url-scheme", "cannot download|url")
def _(tmp, fx):
    return ["metrics", "fetch-weights", "--out", "weights/inception.pth", "--url", "bogus://nowhere"]


# ---- audit

AUDIT_SMALL = ["--data", "logograms", "--n", "20", "--max-images", "20", "--device", "cpu"]

for _name in ("garbage-pt", "pt-other-resolution", "json-missing-fields", "safetensors-flipped-byte", "missing-path"):
    _build, _expect = SOURCE_VARIANTS[_name]
    add(f"audit-source-{_name}", lambda tmp, fx, b=_build: ["audit", b(tmp, fx), *AUDIT_SMALL, "--out", "audit"],
        _expect)

AUDIT_FLAG_CASES = [
    ("n-zero", ["--n", "0"], "--n"),
    ("max-images-five", ["--max-images", "5"], "--max-images"),
    ("quantile-zero", ["--quantile", "0"], "quantile"),
    ("quantile-above-one", ["--quantile", "1.5"], "quantile"),
    ("quantile-nan", ["--quantile", "nan"], "quantile"),
    ("data-missing-folder", ["--data", "no-such-folder"], "does not exist"),
    ("data-too-few-images", ["--data", "IMAGES"], "20|at least"),
    ("extractor-missing", ["--extractor", "missing.safetensors"], "not found|does not exist"),
    ("missing-data-flag", ["--data"], "--data|expected one argument"),
]
for _id, _flags, _expect in AUDIT_FLAG_CASES:
    def _audit_build(tmp, fx, flags=_flags):
        flags = [image_folder(tmp) if f == "IMAGES" else f for f in flags]
        return ["audit", run_copy(tmp, fx), *AUDIT_SMALL, "--out", "audit", *flags]
    add(f"audit-flag-{_id}", _audit_build, _expect)


@case("audit-report-exists", "already exists")
def _(tmp, fx):
    write(tmp, "audit/report.json", "{}\n")
    return ["audit", run_copy(tmp, fx), *AUDIT_SMALL, "--out", "audit"]


@case("audit-closest-png-exists", "already exists")
def _(tmp, fx):
    write(tmp, "audit/closest.png", png_bytes())
    return ["audit", run_copy(tmp, fx), *AUDIT_SMALL, "--out", "audit"]


@case("audit-out-below-a-file", BLOCKER_EXPECT)
def _(tmp, fx):
    return ["audit", run_copy(tmp, fx), *AUDIT_SMALL, "--out", f"{blocker(tmp)}/audit"]


@case("audit-out-is-a-file", BLOCKER_EXPECT)
def _(tmp, fx):
    return ["audit", run_copy(tmp, fx), *AUDIT_SMALL, "--out", blocker(tmp)]


# ---- plot

@case("plot-missing-run", "not found|does not exist")
def _(tmp, fx):
    return ["plot", "runs/00001-nothing"]


@case("plot-latest-without-runs", "no run folders")
def _(tmp, fx):
    return ["plot", "latest"]


@case("plot-run-is-a-file", "is a file|not a folder|not a run folder")
def _(tmp, fx):
    return ["plot", write(tmp, "00001-run", "file\n")]


@case("plot-empty-folder", "stats.jsonl")
def _(tmp, fx):
    return ["plot", mkdir(tmp, "00001-empty")]


@case("plot-garbage-stats-jsonl", "stats.jsonl")
def _(tmp, fx):
    run = run_copy(tmp, fx)
    (tmp / run / "stats.jsonl").write_text("not json\n")
    return ["plot", run]


@case("plot-stats-jsonl-not-objects", "stats.jsonl")
def _(tmp, fx):
    run = run_copy(tmp, fx)
    (tmp / run / "stats.jsonl").write_text("[1, 2]\n3\n")
    return ["plot", run]


@case("plot-garbage-metrics-jsonl", "metrics.jsonl")
def _(tmp, fx):
    run = run_copy(tmp, fx)
    (tmp / run / "metrics.jsonl").write_text('not json at all\n{"step": 2, "fid": 1.0}\n')  # damaged mid-file
    return ["plot", run]


@case("plot-metrics-jsonl-without-step", "metrics.jsonl|step")
def _(tmp, fx):
    run = run_copy(tmp, fx)
    (tmp / run / "metrics.jsonl").write_text('{"fid2k": 3.0}\n')
    return ["plot", run]


@case("plot-curves-png-exists", "already exists")
def _(tmp, fx):
    run = run_copy(tmp, fx)
    assert main(["plot", run]) == 0, "the first plot of a good run must work"
    return ["plot", run]


@case("plot-out-exists", "already exists")
def _(tmp, fx):
    return ["plot", run_copy(tmp, fx), "--out", write(tmp, "curves.png", png_bytes())]


@case("plot-out-below-a-file", BLOCKER_EXPECT)
def _(tmp, fx):
    return ["plot", run_copy(tmp, fx), "--out", f"{blocker(tmp)}/curves.png"]


# ---- glyphs write

GLYPHS_WRITE_CASES = [
    ("size-too-small", ["we come", "--size", "4"], "--size"),
    ("size-too-big", ["we come", "--size", "5000"], "--size"),
    ("empty-phrase", ["", "--out", "g.png"], "no words"),
    ("punctuation-only", ["!!! ???", "--out", "g.png"], "no words"),
    ("too-many-characters", ["a" * 201, "--out", "g.png"], "characters"),
    ("too-many-words", [" ".join(f"w{i}" for i in range(13)), "--out", "g.png"], "words"),
    ("out-jpg", ["we come", "--out", "g.jpg"], ".png|.svg"),
    ("features-bogus", ["we come", "--features", "many"], "--features"),
    ("features-reversed", ["we come", "--features", "9-2"], "--features"),
    ("thickness-negative", ["we come", "--thickness", "-1"], "--thickness"),
    ("density-above-one", ["we come", "--density", "2"], "--density"),
    ("style-unknown-field", ["we come", "--style", "bogus=1"], "--style"),
    ("style-bad-value", ["we come", "--style", "bleed=lots"], "--style|bleed"),
    ("style-without-value", ["we come", "--style", "bleed"], "--style"),
]
for _id, _flags, _expect in GLYPHS_WRITE_CASES:
    add(f"glyphs-write-{_id}", lambda tmp, fx, flags=_flags: ["glyphs", "write", *flags, "--size", "64"]
        if "--size" not in flags else ["glyphs", "write", *flags], _expect)


@case("glyphs-write-out-exists", "already exists")
def _(tmp, fx):
    return ["glyphs", "write", "we come", "--size", "64", "--out", write(tmp, "peace.png", png_bytes())]


@case("glyphs-write-out-below-a-file", BLOCKER_EXPECT)
def _(tmp, fx):
    return ["glyphs", "write", "we come", "--size", "64", "--out", f"{blocker(tmp)}/peace.png"]


@case("glyphs-write-out-name-too-long", "too long|name")
def _(tmp, fx):
    return ["glyphs", "write", "we come", "--size", "64", "--out", "x" * 300 + ".png"]


# ---- glyphs dataset

GLYPHS_DATASET_CASES = [
    ("out-not-zip", ["glyphs.tar"], ".zip|zip"),
    ("n-zero", ["sets/glyphs.zip", "--n", "0"], "--n"),
    ("size-too-small", ["sets/glyphs.zip", "--size", "4", "--n", "2"], "--size"),
    ("seed-negative", ["sets/glyphs.zip", "--seed", "-1", "--n", "2"], "--seed"),
    ("features-bogus", ["sets/glyphs.zip", "--features", "x-y", "--n", "2"], "--features"),
    ("density-above-one", ["sets/glyphs.zip", "--density", "0.5-3", "--n", "2"], "--density"),
]
for _id, _flags, _expect in GLYPHS_DATASET_CASES:
    add(f"glyphs-dataset-{_id}", lambda tmp, fx, flags=_flags: ["glyphs", "dataset", *flags], _expect)


@case("glyphs-dataset-exists", "already exists")
def _(tmp, fx):
    return ["glyphs", "dataset", write(tmp, "glyphs.zip", b"older zip"), "--n", "2", "--size", "16"]


@case("glyphs-dataset-out-below-a-file", BLOCKER_EXPECT)
def _(tmp, fx):
    return ["glyphs", "dataset", f"{blocker(tmp)}/glyphs.zip", "--n", "2", "--size", "16"]


# ---- glyphs sheet

GLYPHS_SHEET_CASES = [
    ("cell-8", ["--cell", "8"], "--cell"),
    ("columns-zero", ["--columns", "0"], "--columns"),
    ("seeds-words", ["--seeds", "a-b"], "--seeds"),
    ("seeds-reversed", ["--seeds", "9-2"], "--seeds"),
    ("seeds-negative", ["--seeds", "-3"], "--seeds"),
    ("seeds-too-many", ["--seeds", "0-200000"], "--seeds"),
    ("out-jpg", ["--out", "sheets/sheet.jpg"], ".png"),
    ("phrases-missing-file", ["--phrases", "missing.txt"], "phrases|not found|no such"),
    ("phrase-too-many-words", ["--phrase", " ".join(f"w{i}" for i in range(13))], "words"),
    ("phrase-and-generator", ["--phrase", "we come", "--generator", "RUN"], "not both|phrases or --generator"),
    ("generator-with-style", ["--generator", "RUN", "--features", "2-3"], "--features|drop"),
    ("generator-garbage", ["--generator", "GARBAGE"], "damaged|cannot be read"),
    ("generator-missing", ["--generator", "no-such-run"], "not found|does not exist"),
    ("generator-clip", ["--generator", "CLIP"], "clip generator"),
    ("generator-flipped-byte", ["--generator", "FLIPPED"], "sha256|hash|damaged"),
    ("features-bogus", ["--features", "lots"], "--features"),
]
for _id, _flags, _expect in GLYPHS_SHEET_CASES:
    def _sheet_build(tmp, fx, flags=_flags):
        swap = {"RUN": lambda: run_copy(tmp, fx), "GARBAGE": lambda: src_garbage_pt(tmp, fx),
                "CLIP": lambda: fx.copy(tmp, "clip_run"), "FLIPPED": lambda: src_flipped_byte(tmp, fx)}
        flags = [swap[f]() if f in swap else f for f in flags]
        out = [] if "--out" in flags else ["--out", "sheets/sheet.png"]
        return ["glyphs", "sheet", "--seeds", "0-3", *out, *flags]
    add(f"glyphs-sheet-{_id}", _sheet_build, _expect)


@case("glyphs-sheet-phrases-binary-file", "phrases|text")
def _(tmp, fx):
    return ["glyphs", "sheet", "--phrases", write(tmp, "phrases.txt", b"\x00\xff\xfe binary"),
            "--out", "sheets/sheet.png"]


@case("glyphs-sheet-png-exists", "already exists")
def _(tmp, fx):
    return ["glyphs", "sheet", "--seeds", "0-3", "--out", write(tmp, "sheet.png", png_bytes())]


@case("glyphs-sheet-pdf-exists", "already exists")
def _(tmp, fx):
    write(tmp, "sheet.pdf", b"%PDF-1.4 older")
    return ["glyphs", "sheet", "--seeds", "0-3", "--out", "sheet.png"]


@case("glyphs-sheet-out-below-a-file", BLOCKER_EXPECT)
def _(tmp, fx):
    return ["glyphs", "sheet", "--seeds", "0-3", "--out", f"{blocker(tmp)}/sheet.png"]


# ---- glyphs vectorize

GLYPHS_VECTORIZE_CASES = [
    ("size-too-small", ["logograms", "--size", "4"], "--size"),
    ("seeds-bogus", ["logograms", "--seeds", "x"], "--seeds"),
    ("missing-source", ["no-such-thing"], "not found|does not exist"),
    ("empty-folder", ["EMPTY"], "no png|no images|holds no"),
    ("text-renamed-png", ["FAKE"], "cannot read|glyph image|not an image"),
    ("decompression-bomb", ["BOMB"], "pixel"),
    ("image-over-4096-px", ["WIDE"], "4096"),
    ("clip-generator", ["CLIP"], "clip generator"),
    ("garbage-checkpoint", ["GARBAGE"], "damaged|cannot be read"),
    ("flipped-byte-export", ["FLIPPED"], "sha256|hash|damaged"),
]
for _id, _flags, _expect in GLYPHS_VECTORIZE_CASES:
    def _vector_build(tmp, fx, flags=_flags):
        def wide():
            Image.new("L", (4100, 8), 255).save(tmp / "wide.png")
            return "wide.png"
        swap = {"EMPTY": lambda: mkdir(tmp, "empty"),
                "FAKE": lambda: write(tmp, "glyph.png", "text, not a PNG\n"),
                "BOMB": lambda: fx.copy(tmp, "bomb", "huge.png"), "WIDE": wide,
                "CLIP": lambda: fx.copy(tmp, "clip_run"), "GARBAGE": lambda: src_garbage_pt(tmp, fx),
                "FLIPPED": lambda: src_flipped_byte(tmp, fx)}
        flags = [swap[f]() if f in swap else f for f in flags]
        defaults = [*([] if "--seeds" in flags else ["--seeds", "0"]), *([] if "--size" in flags else ["--size", "64"])]
        return ["glyphs", "vectorize", *flags, *defaults, "--out", "vectors"]
    add(f"glyphs-vectorize-{_id}", _vector_build, _expect)


@case("glyphs-vectorize-svg-exists", "already exists")
def _(tmp, fx):
    write(tmp, "vectors/seed000001.svg", "<svg/>")
    return ["glyphs", "vectorize", "logograms", "--seeds", "0-1", "--size", "64", "--out", "vectors"]


@case("glyphs-vectorize-png-exists", "already exists")
def _(tmp, fx):
    write(tmp, "vectors/seed000000.png", png_bytes())
    return ["glyphs", "vectorize", "logograms", "--seeds", "0", "--size", "64", "--out", "vectors"]


@case("glyphs-vectorize-out-below-a-file", BLOCKER_EXPECT)
def _(tmp, fx):
    return ["glyphs", "vectorize", "logograms", "--seeds", "0", "--size", "64", "--out", f"{blocker(tmp)}/vectors"]


@case("glyphs-no-subcommand", "required|subcommand")
def _(tmp, fx):
    return ["glyphs"]


# ---- script write (the bundled model)

SCRIPT_WRITE_CASES = [
    ("temperature-negative", ["--temperature", "-1"], "--temperature"),
    ("temperature-nan", ["--temperature", "nan"], "--temperature"),
    ("top-p-two", ["--top-p", "2"], "--top-p"),
    ("top-p-zero", ["--top-p", "0"], "--top-p"),
    ("top-k-negative", ["--top-k", "-1"], "--top-k"),
    ("repetition-penalty-zero", ["--repetition-penalty", "0"], "--repetition-penalty"),
    ("repetition-penalty-nan", ["--repetition-penalty", "nan"], "--repetition-penalty"),
    ("max-new-tokens-zero", ["--max-new-tokens", "0"], "--max-new-tokens"),
    ("max-new-tokens-beyond-context", ["--max-new-tokens", "100000"], "--max-new-tokens"),
    ("n-zero", ["--n", "0"], "--n"),
    ("n-too-many", ["--n", "101"], "--n"),
    ("out-fountain-with-n-2", ["--n", "2", "--out", "one.fountain"], "--n"),
    ("continue-missing-file", ["--continue", "act-one.fountain"], "does not exist"),
    ("model-missing-folder", ["--model", "./no-such-model"], "does not exist"),
    ("model-hub-id-not-downloaded", ["--model", "reelgan-test/no-such-model-xyz"], "not downloaded|download-model"),
    ("model-empty", ["--model", ""], "--model"),
    ("device-bogus", ["--device", "tpu"], "device"),
]
for _id, _flags, _expect in SCRIPT_WRITE_CASES:
    add(f"script-write-{_id}",
        lambda tmp, fx, flags=_flags: ["script", "A storm at sea.", "--n", "1", "--max-new-tokens", "8",
                                       "--out", "drafts", "--quiet", *flags], _expect)


@case("script-write-empty-prompt", "prompt|empty")
def _(tmp, fx):
    return ["script", "write", "   ", "--n", "1", "--max-new-tokens", "8", "--out", "drafts", "--quiet"]


@case("script-write-continue-binary", "text")
def _(tmp, fx):
    return ["script", "The hero returns.", "--continue", write(tmp, "act.fountain", b"\x00\x01PK\x03\x04" * 10),
            "--n", "1", "--max-new-tokens", "8", "--out", "next.fountain", "--quiet"]


@case("script-write-continue-not-utf8", "text|utf")
def _(tmp, fx):
    return ["script", "The hero returns.", "--continue",
            write(tmp, "act.fountain", b"INT. LAB - NIGHT\n\nShe waits \x81\x8d\x8f\x90\x9d.\n"),
            "--n", "1", "--max-new-tokens", "8", "--out", "next.fountain", "--quiet"]


@case("script-write-continue-folder", "folder")
def _(tmp, fx):
    return ["script", "The hero returns.", "--continue", mkdir(tmp, "acts"), "--n", "1", "--max-new-tokens", "8",
            "--out", "next.fountain", "--quiet"]


@case("script-write-continue-empty-file", "empty")
def _(tmp, fx):
    return ["script", "The hero returns.", "--continue", write(tmp, "act.fountain", "\n\n"), "--n", "1",
            "--max-new-tokens", "8", "--out", "next.fountain", "--quiet"]


@case("script-write-model-empty-folder", "config.json|not a model")
def _(tmp, fx):
    return ["script", "A storm.", "--model", mkdir(tmp, "my-model"), "--n", "1", "--max-new-tokens", "8",
            "--out", "drafts", "--quiet"]


@case("script-write-model-garbage-config", "could not be loaded|corrupt|config")
def _(tmp, fx):
    from reelgan.script.model import BUNDLED_DIR

    shutil.copytree(BUNDLED_DIR, tmp / "my-model")
    (tmp / "my-model" / "config.json").write_text("{ this is not json")
    return ["script", "A storm.", "--model", "my-model", "--n", "1", "--max-new-tokens", "8", "--out", "drafts",
            "--quiet"]


@case("script-write-model-unknown-type", "causal language model|transformers|model type")
def _(tmp, fx):
    from reelgan.script.model import BUNDLED_DIR

    shutil.copytree(BUNDLED_DIR, tmp / "my-model")
    (tmp / "my-model" / "config.json").write_text('{"model_type": "no-such-architecture"}')
    return ["script", "A storm.", "--model", "my-model", "--n", "1", "--max-new-tokens", "8", "--out", "drafts",
            "--quiet"]


@case("script-write-model-without-weights", "weights")
def _(tmp, fx):
    from reelgan.script.model import BUNDLED_DIR

    shutil.copytree(BUNDLED_DIR, tmp / "my-model")
    (tmp / "my-model" / "model.safetensors").unlink()
    return ["script", "A storm.", "--model", "my-model", "--n", "1", "--max-new-tokens", "8", "--out", "drafts",
            "--quiet"]


@case("script-write-model-truncated-weights", "could not be loaded|corrupt|incomplete")
def _(tmp, fx):
    from reelgan.script.model import BUNDLED_DIR

    shutil.copytree(BUNDLED_DIR, tmp / "my-model")
    weights = tmp / "my-model" / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:4096])
    return ["script", "A storm.", "--model", "my-model", "--n", "1", "--max-new-tokens", "8", "--out", "drafts",
            "--quiet"]


@case("script-write-model-is-a-file", "is a file|not a model folder")
def _(tmp, fx):
    return ["script", "A storm.", "--model", write(tmp, "model.bin", b"weights?"), "--n", "1", "--max-new-tokens",
            "8", "--out", "drafts", "--quiet"]


@case("script-write-draft-exists", "already exists")
def _(tmp, fx):
    write(tmp, "drafts/draft-1.fountain", "INT. MINE - DAY\n\nMy own draft.\n")
    return ["script", "A storm at sea.", "--n", "1", "--max-new-tokens", "8", "--out", "drafts", "--quiet"]


@case("script-write-record-exists", "already exists")
def _(tmp, fx):
    write(tmp, "drafts/draft-1.fountain.authorship.json", "{}\n")
    return ["script", "A storm at sea.", "--n", "1", "--max-new-tokens", "8", "--out", "drafts", "--quiet"]


@case("script-write-out-is-a-file", "is a file")
def _(tmp, fx):
    return ["script", "A storm at sea.", "--n", "1", "--max-new-tokens", "8", "--out", write(tmp, "notes.txt", "x"),
            "--quiet"]


@case("script-write-out-below-a-file", BLOCKER_EXPECT)
def _(tmp, fx):
    return ["script", "A storm at sea.", "--n", "1", "--max-new-tokens", "8", "--out", f"{blocker(tmp)}/drafts",
            "--quiet"]


@case("script-no-subcommand", "required|subcommand")
def _(tmp, fx):
    return ["script"]


# ---- script outline / authorship / download-model

@case("script-outline-missing-file", "does not exist")
def _(tmp, fx):
    return ["script", "outline", "pilot.fountain"]


@case("script-outline-folder", "folder")
def _(tmp, fx):
    return ["script", "outline", mkdir(tmp, "scripts")]


@case("script-outline-binary", "text")
def _(tmp, fx):
    return ["script", "outline", write(tmp, "pilot.fountain", bytes(range(256)))]


@case("script-outline-empty", "empty")
def _(tmp, fx):
    return ["script", "outline", write(tmp, "pilot.fountain", "")]


@case("script-authorship-missing-file", "does not exist")
def _(tmp, fx):
    return ["script", "authorship", "draft.fountain"]


@case("script-authorship-binary", "text")
def _(tmp, fx):
    return ["script", "authorship", write(tmp, "draft.fountain", b"\x00\x01\x02" * 30)]


@case("script-authorship-garbage-record", "authorship record|corrupt")
def _(tmp, fx):
    screenplay(tmp, "draft.fountain")
    write(tmp, "draft.fountain.authorship.json", "{ not json")
    return ["script", "authorship", "draft.fountain"]


@case("script-authorship-record-with-bad-lines", "authorship record|corrupt|not a reelgan")
def _(tmp, fx):
    from reelgan.script.authorship import RECORD_FORMAT

    screenplay(tmp, "draft.fountain")
    write(tmp, "draft.fountain.authorship.json", json.dumps({"format": RECORD_FORMAT, "lines": [1, "two", None],
                                                              "model": "x", "seed": "y"}))
    return ["script", "authorship", "draft.fountain"]


@case("script-download-model-invalid-id", "could not download|id")
def _(tmp, fx):
    return ["script", "download-model", "not a valid id!!"]


# ---- script pdf

@case("script-pdf-missing-file", "does not exist")
def _(tmp, fx):
    return ["script", "pdf", "pilot.fountain"]


@case("script-pdf-folder", "folder")
def _(tmp, fx):
    return ["script", "pdf", mkdir(tmp, "scripts")]


@case("script-pdf-binary", "text")
def _(tmp, fx):
    return ["script", "pdf", write(tmp, "pilot.fountain", b"%PDF-1.4\x00\x01\x02" * 20)]


@case("script-pdf-empty", "empty")
def _(tmp, fx):
    return ["script", "pdf", write(tmp, "pilot.fountain", "\n  \n")]


@case("script-pdf-nothing-to-print", "nothing to print")
def _(tmp, fx):
    return ["script", "pdf", write(tmp, "pilot.fountain", "Title: Only a title\n\n[[a note]]\n\n# Act one\n")]


@case("script-pdf-out-exists", "already exists")
def _(tmp, fx):
    write(tmp, "reel.pdf", b"%PDF-1.4 my own print")
    return ["script", "pdf", screenplay(tmp)]


@case("script-pdf-out-is-a-folder", "folder")
def _(tmp, fx):
    return ["script", "pdf", screenplay(tmp), "--out", mkdir(tmp, "print.pdf")]


@case("script-pdf-out-below-a-file", BLOCKER_EXPECT)
def _(tmp, fx):
    return ["script", "pdf", screenplay(tmp), "--out", f"{blocker(tmp)}/reel.pdf"]


@case("script-pdf-out-not-pdf", ".pdf")
def _(tmp, fx):
    return ["script", "pdf", screenplay(tmp), "--out", "reel.txt"]


@case("script-pdf-out-is-the-script", "replace the script")
def _(tmp, fx):
    return ["script", "pdf", write(tmp, "reel.pdf", SCREENPLAY), "--overwrite"]


@case("script-pdf-garbage-record", "authorship record|corrupt")
def _(tmp, fx):
    screenplay(tmp, "draft.fountain")
    write(tmp, "draft.fountain.authorship.json", "{ not json")
    return ["script", "pdf", "draft.fountain"]


@case("script-pdf-beside-a-draft-exists", "already exists")
def _(tmp, fx):
    write(tmp, "drafts/draft-1.pdf", b"%PDF-1.4 my own print")
    return ["script", "A storm at sea.", "--n", "1", "--max-new-tokens", "8", "--out", "drafts", "--pdf", "--quiet"]


# ---- script train

@case("script-train-missing-corpus", "does not exist")
def _(tmp, fx):
    return ["script", "train", "no-such-scripts", "--out", "model", *SCRIPT_TINY]


@case("script-train-empty-corpus-folder", "has no|empty")
def _(tmp, fx):
    return ["script", "train", mkdir(tmp, "scripts"), "--out", "model", *SCRIPT_TINY]


@case("script-train-corpus-without-text-files", "has no")
def _(tmp, fx):
    write(tmp, "scripts/pilot.pdf", b"%PDF")
    return ["script", "train", "scripts", "--out", "model", *SCRIPT_TINY]


@case("script-train-corpus-only-empty-files", "no text|empty")
def _(tmp, fx):
    write(tmp, "scripts/a.fountain", "\n\n")
    return ["script", "train", "scripts", "--out", "model", *SCRIPT_TINY]


@case("script-train-corpus-binary-file", "text")
def _(tmp, fx):
    write(tmp, "scripts/a.fountain", b"\x00\x01\x02binary")
    return ["script", "train", "scripts", "--out", "model", *SCRIPT_TINY]


@case("script-train-corpus-too-small", "too little|context")
def _(tmp, fx):
    write(tmp, "scripts/a.fountain", "INT. A - DAY\n\nHi.\n")
    return ["script", "train", "scripts", "--out", "model", *SCRIPT_TINY, "--context", "256", "--positions", "512"]


@case("script-train-out-exists-without-resume", "already exists")
def _(tmp, fx):
    from reelgan.script.model import BUNDLED_DIR

    screenplay(tmp, "scripts/a.fountain")
    shutil.copytree(BUNDLED_DIR, tmp / "model")
    return ["script", "train", "scripts", "--out", "model", *SCRIPT_TINY]


@case("script-train-resume-without-state", "no training state|training_state")
def _(tmp, fx):
    screenplay(tmp, "scripts/a.fountain")
    write(tmp, "model/config.json", "{}")
    return ["script", "train", "scripts", "--out", "model", "--resume", "--steps", "4", "--device", "cpu", "--quiet"]


@case("script-train-resume-missing-folder", "no training state|does not exist|not found")
def _(tmp, fx):
    screenplay(tmp, "scripts/a.fountain")
    return ["script", "train", "scripts", "--out", "model", "--resume", "--steps", "4", "--device", "cpu", "--quiet"]


@case("script-train-resume-corrupt-state", "damaged|corrupt")
def _(tmp, fx):
    screenplay(tmp, "scripts/a.fountain")
    write(tmp, "model/training_state.pt", b"garbage" * 20)
    return ["script", "train", "scripts", "--out", "model", "--resume", "--steps", "4", "--device", "cpu", "--quiet"]


SCRIPT_TRAIN_FLAG_CASES = [
    ("steps-zero", ["--steps", "0"], "--steps"),
    ("lr-nan", ["--lr", "nan"], "--lr"),
    ("lr-negative", ["--lr", "-1"], "--lr"),
    ("lr-inf", ["--lr", "inf"], "--lr"),
    ("width-not-multiple-of-heads", ["--width", "10", "--heads", "4"], "--heads|multiple"),
    ("context-beyond-positions", ["--context", "64", "--positions", "16"], "--context|--positions"),
    ("vocab-size-tiny", ["--vocab-size", "10"], "--vocab-size"),
    ("format-bogus", ["--format", "pdf"], "invalid choice"),
    ("base-missing-folder", ["--base", "./no-such-base"], "does not exist"),
    ("device-bogus", ["--device", "tpu"], "device"),
    ("stop-at-zero", ["--stop-at", "0"], "--stop-at"),
    ("warmup-negative", ["--warmup", "-5"], "--warmup"),
]
for _id, _flags, _expect in SCRIPT_TRAIN_FLAG_CASES:
    add(f"script-train-flag-{_id}",
        lambda tmp, fx, flags=_flags: ["script", "train", screenplay(tmp, "scripts/a.fountain").split("/")[0],
                                       "--out", "model", *SCRIPT_TINY, *flags], _expect)


@case("script-train-out-below-a-file", BLOCKER_EXPECT)
def _(tmp, fx):
    screenplay(tmp, "scripts/a.fountain")
    return ["script", "train", "scripts", "--out", f"{blocker(tmp)}/model", *SCRIPT_TINY]


# ---- film

FILM_SCRIPT_CASES = [
    ("missing-script", lambda tmp: "pilot.fountain", "does not exist"),
    ("script-is-a-folder", lambda tmp: mkdir(tmp, "scripts"), "folder"),
    ("script-without-scenes", lambda tmp: write(tmp, "pilot.fountain", "Just some words.\n\nAnd more words.\n"),
     "no scenes"),
    ("script-binary", lambda tmp: write(tmp, "pilot.fountain", b"\x00\x01\x02\x03" * 40), "text"),
    ("script-empty", lambda tmp: write(tmp, "pilot.fountain", ""), "empty"),
]
for _id, _make, _expect in FILM_SCRIPT_CASES:
    add(f"film-{_id}", lambda tmp, fx, make=_make: ["film", make(tmp), "--out", "film.mp4", *FILM_SMALL], _expect)

FILM_FLAG_CASES = [
    ("out-not-mp4", ["--out", "film.avi"], ".mp4"),
    ("height-odd", ["--height", "33"], "--height"),
    ("height-too-small", ["--height", "8"], "--height"),
    ("aspect-bogus", ["--aspect", "wide"], "--aspect"),
    ("aspect-zero-height", ["--aspect", "16:0"], "--aspect"),
    ("aspect-extreme", ["--aspect", "10:1"], "--aspect"),
    ("fps-zero", ["--fps", "0"], "--fps"),
    ("fade-longer-than-shots", ["--fade", "10"], "--fade"),
    ("fade-negative", ["--fade", "-1"], "--fade"),
    ("words-per-second-zero", ["--words-per-second", "0"], "words-per-second|positive"),
    ("min-shot-negative", ["--min-shot", "-1"], "min-shot|positive"),
    ("max-shot-below-min-shot", ["--min-shot", "4", "--max-shot", "2"], "max-shot"),
    ("title-seconds-nan", ["--title-seconds", "nan"], "title"),
    ("device-bogus", ["--device", "tpu"], "device"),
    ("c2pa-cert-missing", ["--c2pa-cert", "chain.pem", "--c2pa-key", "key.pem"], "not found|does not exist|cert"),
    ("c2pa-key-without-cert", ["--c2pa-key", "key.pem"], "cert"),
]
for _id, _flags, _expect in FILM_FLAG_CASES:
    add(f"film-flag-{_id}",
        lambda tmp, fx, flags=_flags: ["film", screenplay(tmp), "--out", "film.mp4", *FILM_SMALL, *flags], _expect)


FILM_FEEDBACK_CASES = [
    ("missing", None, "not found"),
    ("not-json", "{stars", "not readable JSON"),
    ("no-shots", '{"ratings": {"1": 5}}', "neither 'shots' nor 'viewers'"),
    ("shot-out-of-range", '{"shots": {"500": 5}}', "not a shot of this film"),
    ("stars-six", '{"shots": {"1": 6}}', "stars 1-5"),
    ("stars-word", '{"viewers": {"ana": {"1": "great"}}}', "stars 1-5"),
    ("viewer-not-a-table", '{"viewers": {"ana": [5]}}', "must be an object"),
]
for _id, _content, _expect in FILM_FEEDBACK_CASES:
    add(f"film-feedback-{_id}",
        lambda tmp, fx, content=_content: ["film", screenplay(tmp), "--out", "film.mp4", *FILM_SMALL, "--feedback",
                                           "ratings.json" if content is None else write(tmp, "ratings.json",
                                                                                        content)], _expect)

def _cast(body: str | bytes, extra=None):
    def build(tmp, fx):
        if extra:
            extra(tmp, fx)
        write(tmp, "cast.toml", body)
        return ["film", screenplay(tmp), "--cast", "cast.toml", "--out", "film.mp4", *FILM_SMALL]
    return build


FILM_CAST_CASES = [
    ("missing-file", None, None, "does not exist"),
    ("invalid-toml", "default = \n[scenes\n", None, "toml"),
    ("not-utf8", b"default = \"\xff\xfe\"\n", None, "toml|utf"),
    ("unknown-key", 'actors = "x"\n', None, "unknown"),
    ("default-int", "default = 5\n", None, "path|source"),
    ("scenes-not-a-table", "scenes = 3\n", None, "table"),
    ("missing-path", 'default = "runs/00009-none"\n', None, "does not exist"),
    ("scene-number-out-of-range", '[scenes]\n9 = "logograms"\n', None, "scene 9|scenes 1-"),
    ("unknown-heading", '[scenes]\n"INT. NOWHERE - DAY" = "logograms"\n', None, "not a heading"),
    ("truncation-five", '[scenes]\n1 = { source = "run", truncation = 5 }\n', lambda t, f: run_copy(t, f),
     "truncation"),
    ("truncation-nan", '[scenes]\n1 = { source = "run", truncation = nan }\n', lambda t, f: run_copy(t, f),
     "truncation"),
    ("unknown-entry-key", '[scenes]\n1 = { source = "run", seed = 3 }\n', lambda t, f: run_copy(t, f), "unknown"),
    ("class-on-unconditional", '[scenes]\n1 = { source = "run", class = "cats" }\n', lambda t, f: run_copy(t, f),
     "class"),
    ("still-text-renamed-png", '[scenes]\n1 = "still.png"\n', lambda t, f: write(t, "still.png", "not a png"),
     "cannot be read|image"),
    ("still-decompression-bomb", '[scenes]\n1 = "huge.png"\n', lambda t, f: f.copy(t, "bomb", "huge.png"), "pixel"),
    ("still-with-truncation", '[scenes]\n1 = { source = "still.png", truncation = 0.5 }\n',
     lambda t, f: write(t, "still.png", png_bytes()), "still"),
    ("garbage-checkpoint", '[scenes]\n1 = "garbage.pt"\n', lambda t, f: src_garbage_pt(t, f), "damaged|cannot be read"),
    ("flipped-byte-export", '[scenes]\n1 = "export/generator.safetensors"\n', lambda t, f: src_flipped_byte(t, f),
     "sha256|hash|damaged"),
    ("json-other-resolution", '[scenes]\n1 = "export/generator.safetensors"\n',
     lambda t, f: src_json_other_resolution(t, f), "resolution|match|damaged|px"),
    ("empty-folder-as-generator", '[scenes]\n1 = "nothing"\n', lambda t, f: mkdir(t, "nothing"),
     "neither|generator|checkpoint"),
]
for _id, _body, _extra, _expect in FILM_CAST_CASES:
    if _body is None:
        add(f"film-cast-{_id}", lambda tmp, fx: ["film", screenplay(tmp), "--cast", "cast.toml", "--out", "film.mp4",
                                                 *FILM_SMALL], _expect)
    else:
        add(f"film-cast-{_id}", _cast(_body, _extra), _expect)


@case("film-out-exists", "already exists")
def _(tmp, fx):
    return ["film", screenplay(tmp), "--out", write(tmp, "film.mp4", b"my earlier cut"), *FILM_SMALL]


@case("film-srt-exists", "already exists")
def _(tmp, fx):
    write(tmp, "film.srt", "1\n00:00:00,000 --> 00:00:01,000\nmine\n")
    return ["film", screenplay(tmp), "--out", "film.mp4", *FILM_SMALL]


@case("film-out-below-a-file", BLOCKER_EXPECT)
def _(tmp, fx):
    return ["film", screenplay(tmp), "--out", f"{blocker(tmp)}/film.mp4", *FILM_SMALL]


@case("film-out-is-a-folder", "folder")
def _(tmp, fx):
    return ["film", screenplay(tmp), "--out", mkdir(tmp, "film.mp4"), *FILM_SMALL, "--overwrite"]


@case("film-shared-script-cast-scene-out-of-range", "scenes 1-|scene 999")
def _(tmp, fx):
    shutil.copy2(fx.shared("fountain/Brick-and-Steel.fountain"), tmp / "brick.fountain")
    write(tmp, "cast.toml", '[scenes]\n999 = "logograms"\n')
    return ["film", "brick.fountain", "--cast", "cast.toml", "--out", "brick.mp4", *FILM_SMALL]


# ---- verify

VERIFY_CASES = [
    ("folder", lambda tmp, fx: mkdir(tmp, "outputs"), "folder"),
    ("missing-file", lambda tmp, fx: "missing.png", "does not exist"),
    ("text-file", lambda tmp, fx: write(tmp, "notes.txt", "hello\n"), "png|mp4|reads"),
    ("text-renamed-png", lambda tmp, fx: write(tmp, "fake.png", "hello\n"), "cannot be read|damaged|not an image"),
    ("empty-jpg", lambda tmp, fx: write(tmp, "empty.jpg", b""), "cannot be read|damaged|empty"),
    ("text-renamed-mp4", lambda tmp, fx: write(tmp, "fake.mp4", "hello\n"), "cannot be decoded|damaged|not a video"),
    ("truncated-mp4", lambda tmp, fx: write(tmp, "cut.mp4", fx.clip_mp4.read_bytes()[:400]),
     "cannot be decoded|damaged|truncated"),
    ("decompression-bomb", lambda tmp, fx: fx.copy(tmp, "bomb", "huge.png"), "pixel"),
    ("binary-fountain", lambda tmp, fx: write(tmp, "x.fountain", b"\x00\x01" * 30), "text"),
    ("fountain-with-garbage-record",
     lambda tmp, fx: (screenplay(tmp, "x.fountain"), write(tmp, "x.fountain.authorship.json", "{oops"))[0],
     "authorship record|corrupt"),
]
for _id, _make, _expect in VERIFY_CASES:
    add(f"verify-{_id}", lambda tmp, fx, make=_make: ["verify", make(tmp, fx)], _expect)


def unreadable(tmp: Path, rel: str, data: bytes | str) -> str:
    """A file with mode 000; skips the case when this user (root) can read it anyway."""
    write(tmp, rel, data)
    (tmp / rel).chmod(0)
    if os.access(tmp / rel, os.R_OK):
        (tmp / rel).chmod(0o644)
        pytest.skip("running as root: a chmod 000 file stays readable, so there is nothing to refuse")
    return rel


add("verify-unreadable-file", lambda tmp, fx: ["verify", unreadable(tmp, "locked.png", png_bytes())],
    "permission|cannot be read")
add("script-outline-unreadable-file", lambda tmp, fx: ["script", "outline", unreadable(tmp, "p.fountain", SCREENPLAY)],
    "permission|cannot be read")
add("film-unreadable-script", lambda tmp, fx: ["film", unreadable(tmp, "p.fountain", SCREENPLAY), "--out", "f.mp4",
                                               *FILM_SMALL], "permission|cannot be read")



# ---- C2PA signing: the options every writing command shares (cli.common.add_c2pa_options)

def no_c2pa() -> str | None:
    import importlib.util

    if importlib.util.find_spec("c2pa") is None or importlib.util.find_spec("cryptography") is None:
        return "needs c2pa-python and cryptography to get as far as the key"
    return None


def signing_certificate(tmp: Path) -> tuple[str, str]:
    """A test CA's leaf chain and key (conftest.make_test_certificate) in tmp/pem/; relative paths."""
    from conftest import make_test_certificate

    make_test_certificate(tmp / "pem")
    return "pem/chain.pem", "pem/key.pem"


GLYPH_WRITE = ["glyphs", "write", "we come in peace", "--size", "32", "--out", "peace.png"]
C2PA_CASES = [
    ("key-without-cert", lambda tmp: ["--c2pa-key", write(tmp, "key.pem", "x")], "--c2pa-cert"),
    ("cert-without-key", lambda tmp: ["--c2pa-cert", write(tmp, "chain.pem", "x")], "--c2pa-key"),
    ("cert-missing", lambda tmp: ["--c2pa-cert", "chain.pem", "--c2pa-key", write(tmp, "key.pem", "x")],
     "does not exist"),
    ("cert-not-pem", lambda tmp: ["--c2pa-cert", write(tmp, "chain.pem", b"\x00\x01 not a certificate"),
                                  "--c2pa-key", write(tmp, "key.pem", "x")], "not a PEM"),
    ("cert-unreadable", lambda tmp: ["--c2pa-cert", unreadable(tmp, "chain.pem", "x"), "--c2pa-key",
                                     write(tmp, "key.pem", "x")], "cannot be read|permission"),
    ("training-bogus", lambda tmp: ["--c2pa-cert", "chain.pem", "--c2pa-key", "key.pem", "--c2pa-training", "maybe"],
     "--c2pa-training"),
    ("alg-bogus", lambda tmp: ["--c2pa-cert", write(tmp, "chain.pem", "-----BEGIN CERTIFICATE-----\n"),
                               "--c2pa-key", write(tmp, "key.pem", "x"), "--c2pa-alg", "md5"], "--c2pa-alg"),
    ("no-c2pa-with-cert", lambda tmp: ["--no-c2pa", "--c2pa-cert", "chain.pem"], "contradict"),
    ("training-without-cert", lambda tmp: ["--c2pa-training", "allowed"], "need a certificate"),
]
for _id, _flags, _expect in C2PA_CASES:
    add(f"glyphs-write-c2pa-{_id}", lambda tmp, fx, flags=_flags: [*GLYPH_WRITE, *flags(tmp)], _expect)

add("glyphs-sheet-c2pa-key-not-matching", lambda tmp, fx: [
    "glyphs", "sheet", "--seeds", "0-1", "--cell", "32", "--out", "sheet.png", "--c2pa-cert",
    signing_certificate(tmp)[0], "--c2pa-key", write(tmp, "other.pem", "-----BEGIN PRIVATE KEY-----\nAAAA\n"
                                                                    "-----END PRIVATE KEY-----\n")],
    "refused", skip_if=no_c2pa)
add("generate-c2pa-key-without-cert", lambda tmp, fx: [
    "generate", f"{export_copy(tmp, fx)}/generator.safetensors", "--n", "2", "--device", "cpu", "--out", "gen",
    "--c2pa-key", write(tmp, "key.pem", "x")], "--c2pa-cert")
add("interpolate-c2pa-cert-missing", lambda tmp, fx: [
    "interpolate", f"{export_copy(tmp, fx)}/generator.safetensors", "--seeds", "1,2", "--frames", "2",
    "--device", "cpu", "--out", "walk.gif", "--c2pa-cert", "chain.pem", "--c2pa-key", write(tmp, "key.pem", "x")],
    "does not exist")
add("synth-export-c2pa-cert-missing", lambda tmp, fx: [
    "synth", "export", run_copy(tmp, fx), *SYNTH_OUT, "--n", "2", "--c2pa-each", "--c2pa-cert", "chain.pem",
    "--c2pa-key", write(tmp, "key.pem", "x")], "does not exist")
add("synth-export-c2pa-each-without-cert", lambda tmp, fx: [
    "synth", "export", run_copy(tmp, fx), *SYNTH_OUT, "--n", "2", "--c2pa-each"], "--c2pa-each")
add("script-pdf-c2pa-key-without-cert", lambda tmp, fx: [
    "script", "pdf", screenplay(tmp), "--c2pa-key", write(tmp, "key.pem", "x")], "--c2pa-cert")
add("verify-c2pa-trust-missing", lambda tmp, fx: ["verify", write(tmp, "a.png", png_bytes()), "--c2pa-trust",
                                                  "ca.pem"], "cannot be read")
add("verify-c2pa-trust-not-a-certificate", lambda tmp, fx: ["verify", write(tmp, "a.png", png_bytes()),
                                                            "--c2pa-trust", write(tmp, "ca.pem", "hello\n")],
    "no PEM certificate")


# ---- demo (every case either fails fast or is capped to a couple of steps)

DEMO_CASES = [
    ("steps-zero", ["--steps", "0", "--minutes", "0.02"], "steps"),
    ("steps-negative", ["--steps", "-5", "--minutes", "0.02"], "steps"),
    ("minutes-negative", ["--minutes", "-1", "--steps", "1"], "minutes"),
    ("minutes-nan", ["--minutes", "nan", "--steps", "1"], "minutes"),
    ("device-bogus", ["--device", "tpu", "--steps", "1", "--minutes", "0.02"], "device"),
]
for _id, _flags, _expect in DEMO_CASES:
    add(f"demo-{_id}", lambda tmp, fx, flags=_flags: ["demo", "--no-progress", *flags], _expect)


@case("demo-out-is-a-file", "is a file|not a folder")
def _(tmp, fx):
    return ["demo", "--no-progress", "--steps", "1", "--minutes", "0.02", "--device", "cpu", "--out", blocker(tmp)]


@case("demo-out-below-a-file", BLOCKER_EXPECT)
def _(tmp, fx):
    return ["demo", "--no-progress", "--steps", "1", "--minutes", "0.02", "--device", "cpu", "--out",
            f"{blocker(tmp)}/runs"]


# ---- the top level

@case("unknown-command", "invalid choice")
def _(tmp, fx):
    return ["trian", "--steps", "3"]


# --------------------------------------------------------------------------------------------- the tests

assert len({c.id for c in CASES}) == len(CASES), "case ids must be unique"


@pytest.fixture
def isolated(tmp_path, monkeypatch):
    """cwd = tmp_path; caches in a sibling folder (outside the snapshot) so nothing global is touched."""
    monkeypatch.chdir(tmp_path)
    cache = tmp_path.parent / f"{tmp_path.name}-cache"
    monkeypatch.setenv("REELGAN_CACHE", str(cache))
    monkeypatch.delenv("REELGAN_INCEPTION_WEIGHTS", raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return tmp_path


HELD_LOCKS: list = []  # run locks a case holds while its command runs; released after each test


@pytest.fixture(autouse=True)
def release_held_locks():
    yield
    while HELD_LOCKS:
        HELD_LOCKS.pop().release()


def held_run(tmp: Path, fx: Fixtures, name: str = "run") -> str:
    """A copy of the run, locked as a training process holds it (another open file of the lock: same effect)."""
    from reelgan.training.rundir import RunLock

    run = run_copy(tmp, fx, name)
    lock = RunLock(tmp / run)
    lock.acquire()
    HELD_LOCKS.append(lock)
    return run


@case("train-resume-run-held-by-another-process", "being trained by process")
def _(tmp, fx):
    return ["train", "--resume", held_run(tmp, fx), "--steps", "4", "--no-progress"]


@case("train-resume-latest-held-by-another-process", "being trained by process")
def _(tmp, fx):
    held_run(tmp, fx, "00001-run")
    return ["train", "--resume", "latest", "--out", ".", "--steps", "4", "--no-progress"]


# ---- synth

SYNTH_OUT = ["--out", "synth", "--device", "cpu", "--no-progress"]
SYNTH_EXPORT_CASES = [
    ("n-per-class-unconditional", ["--n-per-class", "2"], "class-conditional"),
    ("no-count", [], "--n"),
    ("n-and-n-per-class", ["--n", "2", "--n-per-class", "2"], "not both"),
    ("n-zero", ["--n", "0"], "--n"),
    ("n-not-a-number", ["--n", "two"], "invalid int"),
    ("layout-bogus", ["--n", "2", "--layout", "parquet"], "layout"),
    ("shard-size-zero", ["--n", "2", "--layout", "npz", "--shard-size", "0"], "shard-size"),
    ("shard-size-with-imagefolder", ["--n", "2", "--shard-size", "4"], "shard-size"),
    ("truncation-zero", ["--n", "2", "--truncation", "0"], "truncation"),
    ("truncation-above-one", ["--n", "2", "--truncation", "2"], "truncation"),
    ("truncation-nan", ["--n", "2", "--truncation", "nan"], "truncation"),
    ("seed-negative", ["--n", "2", "--seed", "-3"], "seed"),
    ("batch-zero", ["--n", "2", "--batch", "0"], "batch"),
    ("balance-unconditional", ["--n", "2", "--balance"], "class-conditional"),
    ("classes-unconditional", ["--n", "2", "--classes", "a"], "no classes"),
    ("real-without-reject-copies", ["--n", "2", "--real", "logograms"], "--reject-copies"),
    ("reject-real-missing", ["--n", "2", "--reject-copies", "--real", "no-such-folder"], "does not exist"),
    ("reject-real-too-few", ["--n", "2", "--reject-copies", "--real", "IMAGES"], "20|at least"),
    ("copy-quantile-one", ["--n", "2", "--reject-copies", "--copy-quantile", "1"], "quantile"),
    ("max-real-five", ["--n", "2", "--reject-copies", "--max-real", "5"], "max-real"),
]
for _id, _flags, _expect in SYNTH_EXPORT_CASES:
    def _synth_build(tmp, fx, flags=_flags):
        flags = [image_folder(tmp) if f == "IMAGES" else f for f in flags]
        return ["synth", "export", run_copy(tmp, fx), *SYNTH_OUT, *flags]
    add(f"synth-export-{_id}", _synth_build, _expect)

for _name in ("garbage-pt", "json-missing-fields", "safetensors-flipped-byte", "missing-path"):
    _build, _expect = SOURCE_VARIANTS[_name]
    add(f"synth-export-source-{_name}",
        lambda tmp, fx, b=_build: ["synth", "export", b(tmp, fx), *SYNTH_OUT, "--n", "2"], _expect)


@case("synth-export-out-exists", "already exists")
def _(tmp, fx):
    write(tmp, "synth/notes.txt", "mine\n")
    return ["synth", "export", run_copy(tmp, fx), *SYNTH_OUT, "--n", "2"]


@case("synth-export-out-is-a-file", BLOCKER_EXPECT)
def _(tmp, fx):
    return ["synth", "export", run_copy(tmp, fx), "--out", blocker(tmp), "--n", "2", "--device", "cpu"]


@case("synth-export-out-below-a-file", BLOCKER_EXPECT)
def _(tmp, fx):
    return ["synth", "export", run_copy(tmp, fx), "--out", f"{blocker(tmp)}/synth", "--n", "2", "--device", "cpu"]


@case("synth-export-other-settings-than-the-export-there", "other settings")
def _(tmp, fx):
    run = run_copy(tmp, fx)
    assert main(["synth", "export", run, *SYNTH_OUT, "--n", "2"]) == 0
    return ["synth", "export", run, *SYNTH_OUT, "--n", "3"]


@case("synth-export-damaged-progress-record", "damaged")
def _(tmp, fx):
    write(tmp, "synth/.synth-progress.json", "{oops")
    return ["synth", "export", run_copy(tmp, fx), *SYNTH_OUT, "--n", "2"]


@case("synth-export-reject-copies-of-unknown-training-data", "--real")
def _(tmp, fx):
    ex = export_copy(tmp, fx)
    spec_path = tmp / ex / "generator.json"
    spec_path.write_text(json.dumps({**json.loads(spec_path.read_text()), "dataset": "/gone/stills"}))
    return ["synth", "export", f"{ex}/generator.safetensors", *SYNTH_OUT, "--n", "2", "--reject-copies"]


def synth_classes(tmp: Path) -> str:
    """A folder of two class subfolders of small PNGs, as `synth score --real` reads it."""
    for name in ("a", "b"):
        for i in range(3):
            write(tmp, f"classes/{name}/{i}.png", png_bytes(seed=i))
    return "classes"


SYNTH_SCORE_CASES = [
    ("epochs-zero", ["--epochs", "0"], "--epochs"),
    ("seed-negative", ["--seed", "-1"], "--seed"),
    ("test-fraction-one", ["--test-fraction", "1"], "--test-fraction"),
    ("subset-fraction-zero", ["--subset-fraction", "0"], "--subset-fraction"),
    ("resolution-four", ["--resolution", "4"], "--resolution"),
    ("class-depth-zero", ["--class-depth", "0"], "--class-depth"),
    ("device-bogus", ["--device", "tpu"], "device"),
]
for _id, _flags, _expect in SYNTH_SCORE_CASES:
    add(f"synth-score-{_id}", lambda tmp, fx, flags=_flags: ["synth", "score", mkdir(tmp, "synth"), "--real",
                                                             synth_classes(tmp), "--no-progress", *flags], _expect)


@case("synth-score-missing-folder", "not a folder")
def _(tmp, fx):
    return ["synth", "score", "no-such-set", "--real", synth_classes(tmp), "--no-progress"]


@case("synth-score-unconditional-export", "no class labels")
def _(tmp, fx):
    assert main(["synth", "export", run_copy(tmp, fx), *SYNTH_OUT, "--n", "2"]) == 0
    return ["synth", "score", "synth", "--real", synth_classes(tmp), "--no-progress"]


@case("synth-score-unfinished-export", "unfinished")
def _(tmp, fx):
    write(tmp, "synth/.synth-progress.json", json.dumps({"format": "reelgan-synth-progress-1", "complete": False,
                                                         "settings": {"layout": "imagefolder", "classes": [0]}}))
    return ["synth", "score", "synth", "--real", synth_classes(tmp), "--no-progress"]


@case("synth-score-real-logograms", "no classes")
def _(tmp, fx):
    return ["synth", "score", mkdir(tmp, "synth"), "--real", "logograms", "--no-progress"]


@case("synth-score-report-exists", "already exists")
def _(tmp, fx):
    write(tmp, "synth-score.json", "{}\n")
    return ["synth", "score", mkdir(tmp, "synth"), "--real", synth_classes(tmp), "--no-progress"]


@pytest.mark.parametrize("bad", CASES, ids=[c.id for c in CASES])
def test_bad_input_is_refused_cleanly(bad: Case, isolated, fx, capsys):
    if bad.skip_if is not None and (reason := bad.skip_if()):
        pytest.skip(reason)
    argv = bad.build(isolated, fx)
    assert_refused(argv, isolated, capsys, bad.expect)


# ------------------------------------------------------------------------ positive checks (not the corpus)

def test_vectorize_one_image_to_a_named_svg_writes_that_file(isolated, capsys):
    """`glyphs vectorize a.png --out a.svg`: one image to a named .svg file, not a folder named a.svg."""
    # The source lies in a subfolder: the transparent PNG written beside a.svg is a.png, which must not be the
    # source image itself (reelgan rightly refuses to overwrite that).
    (isolated / "src").mkdir()
    Image.fromarray(np.full((32, 32), 255, dtype=np.uint8)).save(isolated / "src" / "a.png")
    code, out, err, error = run_main(["glyphs", "vectorize", "src/a.png", "--size", "64", "--out", "a.svg"], capsys)
    assert error is None, f"raised {type(error).__name__}: {error}"
    assert code == 0, f"returned {code}: {err.strip()[:300]}"
    assert (isolated / "a.svg").is_file(), (
        "a.svg is " + ("a folder holding " + ", ".join(sorted(p.name for p in (isolated / "a.svg").iterdir()))
                       if (isolated / "a.svg").is_dir() else "missing"))


def test_resume_after_a_cut_off_stats_line_works(isolated, fx, capsys):
    """A run killed while appending stats.jsonl leaves a cut-off last line; --resume must still continue."""
    run = run_copy(isolated, fx)
    stats = isolated / run / "stats.jsonl"
    stats.write_text(stats.read_text() + '{"step": 3, "loss_D": 0.5, "lo')
    code, out, err, error = run_main(["train", "--resume", run, "--steps", "4", "--no-progress"], capsys)
    assert error is None, f"raised {type(error).__name__}: {' '.join(str(error).split())[:300]}"
    assert code == 0, f"returned {code}: {err.strip()[-300:]}"
    rows = [json.loads(line) for line in stats.read_text().splitlines() if line.strip()]
    assert rows[-1]["step"] == 4


def test_truncated_feature_cache_is_recomputed_or_refused_cleanly(isolated, fx, capsys):
    """A cut-off reference-feature cache (.npy under $REELGAN_CACHE/reference-features) must not crash `metrics`.

    Debatable which is right: the cache is reelgan's own, so recomputing it (exit 0, same numbers) is what a
    careful user would expect; a one-line error naming the cache file is accepted too. A traceback is not.
    """
    run = run_copy(isolated, fx)
    argv = ["metrics", run, "--data", "logograms", "--metrics", "fid", "--n", "20", "--device", "cpu"]
    code, first, err, error = run_main(argv, capsys)
    assert error is None and code == 0, f"the first, good evaluation failed: {error or err.strip()[-300:]}"
    caches = sorted(Path(os.environ["REELGAN_CACHE"]).rglob("*.npy"))
    assert caches, "metrics wrote no feature cache under $REELGAN_CACHE (looked for *.npy)"
    for path in caches:
        path.write_bytes(path.read_bytes()[: max(16, path.stat().st_size // 2)])
    code, second, err, error = run_main(argv, capsys)
    assert error is None, f"raised {type(error).__name__}: {' '.join(str(error).split())[:300]}"
    assert "Traceback" not in err
    if code == 0:
        assert second == first, f"recomputed results differ: {first!r} vs {second!r}"
    else:
        lines = err.strip().splitlines()
        assert code == 2 and len(lines) == 1 and lines[0].startswith("error:"), f"returned {code}: {err[-300:]}"
        assert re.search("cache", lines[0], re.I), lines[0]


def test_long_phrase_default_name_is_a_valid_file_name(isolated, capsys):
    """`glyphs write` names the file after the phrase; a phrase of long words in a 4-byte script must not make a
    name the file system refuses (over 255 bytes): either a shortened name (exit 0) or a clean refusal."""
    phrase = "\U00013000" * 100  # one 100-letter word of Egyptian hieroglyphs: 400 bytes in UTF-8
    before = snapshot(isolated)
    code, out, err, error = run_main(["glyphs", "write", phrase, "--size", "32"], capsys)
    assert error is None, f"raised {type(error).__name__}: {' '.join(str(error).split())[:300]}"
    assert "Traceback" not in err
    if code == 0:
        written = [p for p in isolated.iterdir() if p.is_file()]
        assert written and all(len(p.name.encode()) <= 255 for p in written)
    else:
        lines = err.strip().splitlines()
        assert code == 2 and len(lines) == 1 and lines[0].startswith("error:"), f"returned {code}: {err[-300:]}"
        assert snapshot(isolated) == before, describe_changes(before, snapshot(isolated))
