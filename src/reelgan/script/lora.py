"""LoRA fine-tuning of a screenplay model (`reelgan script train --base MODEL --lora RANK`), through peft.

Low-rank adapters train a few hundred thousand numbers beside the frozen base instead of all of its weights,
so a writer can adapt a 135M-parameter model to their own scripts on a laptop: the optimizer state is small
and each step does not update the base. The model folder reelgan saves holds two things:

- the base with the adapters merged in (`save_pretrained` files), which `reelgan script --model FOLDER` and
  any transformers user load as an ordinary model;
- `adapter/`, peft's own adapter files (a few MB), which `--resume` puts back on a fresh copy of the base,
  so that training continues exactly where it stopped (merging would round the base's weights).
"""

from __future__ import annotations

import contextlib
import copy
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..errors import ReelganError

LORA_INSTALL_HINT = "pip install 'reelgan[script-lora]'"
ADAPTER_FOLDER = "adapter"
LORA_DROPOUT = 0.05  # dropout on the adapters' input, as peft's examples use for small corpora


def require_peft() -> Any:
    """The peft module, or a ReelganError saying how to install it."""
    try:
        import peft
    except ImportError:
        raise ReelganError(f"--lora needs the peft library; run: {LORA_INSTALL_HINT} (or drop --lora to "
                           "fine-tune every weight)") from None
    return peft


def add_adapters(model: Any, rank: int, alpha: float) -> Any:
    """`model` with fresh LoRA adapters of `rank` on every linear layer (the base frozen); scale alpha / rank."""
    peft = require_peft()
    # GPT-2 keeps its weights transposed (Conv1D layers); peft must be told so, or it warns and guesses.
    transposed = getattr(model.config, "model_type", "") == "gpt2"
    config = peft.LoraConfig(r=rank, lora_alpha=alpha, lora_dropout=LORA_DROPOUT, target_modules="all-linear",
                             fan_in_fan_out=transposed, task_type="CAUSAL_LM")
    try:
        with _quiet():
            return peft.get_peft_model(model, config)
    except (ValueError, TypeError) as exc:
        raise ReelganError(f"LoRA adapters cannot be added to this base ({str(exc).splitlines()[0][:120]}); "
                           "drop --lora to fine-tune every weight") from None


def load_adapters(model: Any, folder: Path) -> Any:
    """`model` (a fresh copy of the base) with the trainable adapters saved in `folder/adapter`."""
    peft = require_peft()
    adapter = folder / ADAPTER_FOLDER
    if not (adapter / "adapter_config.json").is_file():
        raise ReelganError(f"{folder} was trained with --lora but holds no {ADAPTER_FOLDER}/ folder; start a new "
                           "model in another --out")
    try:
        with _quiet():
            return peft.PeftModel.from_pretrained(model, str(adapter), is_trainable=True)
    except Exception as exc:  # peft raises many kinds for a damaged or mismatched adapter
        raise ReelganError(f"{adapter} does not fit the base model ({str(exc).splitlines()[0][:120]}); start a "
                           "new model in another --out") from None


def save_with_adapters(model: Any, folder: Path) -> None:
    """Write the merged model (base + adapters) into `folder` and the adapters alone into `folder/adapter`."""
    with _quiet():
        model.save_pretrained(str(folder / ADAPTER_FOLDER))
        merged = copy.deepcopy(model).merge_and_unload()  # a copy: merging in place would round the base's weights
        merged.save_pretrained(str(folder))


def trainable_count(model: Any) -> int:
    """Parameters the optimizer updates."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Silence the deprecation notices peft and transformers give about each other's internals: not for writers."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        yield
