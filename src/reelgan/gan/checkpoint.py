"""Checkpoints: full training state as tensors and plain data, written atomically.

A checkpoint loads with `torch.load(weights_only=True)`, so opening one never runs code from the file.
RNG states are converted to tensors and lists for the same reason.
"""

from __future__ import annotations

import os
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..errors import ReelganError
from ..paths import temp_name

CHECKPOINT_FORMAT = "reelgan-checkpoint-1"


def capture_rng_state() -> dict[str, Any]:
    """Every RNG a training step can draw from: torch (CPU and CUDA), NumPy's global, Python's."""
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    version, internal, gauss_next = random.getstate()
    return {
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        "numpy": {"kind": kind, "keys": torch.from_numpy(keys.astype(np.int64)), "pos": int(pos),
                  "has_gauss": int(has_gauss), "cached_gaussian": float(cached)},
        "python": {"version": version, "internal": torch.tensor(internal, dtype=torch.int64),
                   "gauss_next": gauss_next},
    }


def restore_rng_state(state: dict[str, Any]) -> None:
    """Put back the RNG states that `capture_rng_state` took."""
    torch.set_rng_state(state["torch"])
    if state["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
    numpy_state = state["numpy"]
    np.random.set_state((numpy_state["kind"], numpy_state["keys"].numpy().astype(np.uint32),
                         numpy_state["pos"], numpy_state["has_gauss"], numpy_state["cached_gaussian"]))
    python_state = state["python"]
    random.setstate((python_state["version"], tuple(python_state["internal"].tolist()),
                     python_state["gauss_next"]))


def save_checkpoint(state: dict[str, Any], path: str | Path) -> None:
    """Write `state` to `path` through a temp file in the same folder, renamed into place.

    A crash mid-write leaves the previous checkpoint untouched; the rename is atomic on POSIX and Windows.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(temp_name(path.name))
    try:
        with tmp.open("wb") as handle:
            torch.save({"format": CHECKPOINT_FORMAT, **state}, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Read a checkpoint without unpickling code; a missing, corrupt or foreign file is a ReelganError."""
    path = Path(path)
    if not path.is_file():
        raise ReelganError(f"checkpoint {path} not found; check the path")
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:  # torch raises many kinds for a damaged or foreign file
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ReelganError(f"checkpoint {path} cannot be read ({reason}); it is damaged or not reelgan's") from None
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        raise ReelganError(f"{path} is not a reelgan checkpoint; give checkpoints/latest.pt of a run")
    check_record(state, path)
    return state


# The fields every checkpoint holds, and their types (what `Trainer.state_dict` writes).
CHECKPOINT_FIELDS: dict[str, type | tuple[type, ...]] = {
    "config": dict, "step": int, "critic_steps": int, "batches_consumed": int, "elapsed_s": (int, float),
    "class_names": list, "G": dict, "D": dict, "G_ema": dict, "opt_G": dict, "opt_D": dict, "augment": dict,
    "rng": dict,
}


def check_record(state: dict[str, Any], path: Path) -> None:
    """ReelganError naming the first field a checkpoint lacks or holds with the wrong type."""
    for name, kind in CHECKPOINT_FIELDS.items():
        if name not in state:
            raise ReelganError(f"checkpoint {path} lacks its {name!r} field; it is incomplete or was not written by "
                               "reelgan: use another checkpoint")
        value = state[name]
        if not isinstance(value, kind) or isinstance(value, bool):
            raise ReelganError(f"checkpoint {path} has a damaged {name!r} field ({type(value).__name__}); use "
                               "another checkpoint")
