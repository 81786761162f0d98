"""Does a state dict fit a network? Checked before `load_state_dict`, so a mismatch is a sentence, not a trace.

`state_mismatch(module, state)` says in a few words what differs (or None); `check_state_fits` turns that into
a `ReelganError`; `load_state_checked` checks, then loads. Any network and any saved state dict: exported
generators, checkpoints' networks, feature extractors.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

from ...errors import ReelganError

LIKELY_CAUSE = ("it was saved for a network of another resolution, width, latent size or architecture than "
                "these settings describe")
_SHOWN = 1  # names quoted per kind of difference; the rest are counted


def _shape(shape: torch.Size | tuple[int, ...]) -> str:
    return "x".join(map(str, shape)) if len(shape) else "a scalar"


def _few(names: list[str]) -> str:
    shown = ", ".join(repr(n) for n in names[:_SHOWN])
    return shown + (f" (and {len(names) - _SHOWN} more)" if len(names) > _SHOWN else "")


def state_mismatch(module: torch.nn.Module, state: Any) -> str | None:
    """None when `state` holds exactly `module`'s tensors (names and shapes); else what differs, briefly.

    E.g. "tensor 'fc.weight' is 512x16 there but 256x16 in the network; it lacks 'blocks.2.conv.weight'
    (and 5 more)". Dtypes are not compared: `load_state_dict` converts them.
    """
    if not isinstance(state, Mapping):
        return f"it holds a {type(state).__name__}, not named tensors"
    not_tensors = sorted(str(k) for k, v in state.items() if not isinstance(v, torch.Tensor))
    if not_tensors:
        return f"{_few(not_tensors)} is not a tensor"
    expected = module.state_dict()
    parts = []
    resized = [k for k in expected if k in state and tuple(state[k].shape) != tuple(expected[k].shape)]
    if resized:
        first = resized[0]
        others = len(resized) - 1
        more = f" ({others} more tensor{'s differ' if others > 1 else ' differs'} in shape)" if others else ""
        parts.append(f"tensor {first!r} is {_shape(state[first].shape)} there but {_shape(expected[first].shape)} "
                     f"in the network{more}")
    missing = [k for k in expected if k not in state]
    if missing:
        parts.append(f"it lacks {_few(missing)}")
    unexpected = sorted(str(k) for k in state if k not in expected)
    if unexpected:
        parts.append(f"it has {_few(unexpected)}, which the network does not")
    return "; ".join(parts) or None


def check_state_fits(module: torch.nn.Module, state: Any, what: str, *,
                     network: str = "the network its settings describe", cause: str = LIKELY_CAUSE) -> None:
    """ReelganError unless `state` fits `module` exactly (same tensor names, same shapes).

    The message reads "{what} does not fit {network}: {difference}; {cause}", e.g. "generator.safetensors
    does not fit the generator generator.json describes: tensor 'fc.weight' is 512x16 there but 256x16 in
    the network; it was saved for a network of another resolution, ...".
    """
    detail = state_mismatch(module, state)
    if detail is not None:
        raise ReelganError(f"{what} does not fit {network}: {detail}; {cause}")


def load_state_checked(module: torch.nn.Module, state: Any, what: str, *,
                       network: str = "the network its settings describe", cause: str = LIKELY_CAUSE) -> None:
    """`check_state_fits`, then `module.load_state_dict(state)`; anything it still refuses is a ReelganError."""
    check_state_fits(module, state, what, network=network, cause=cause)
    try:
        module.load_state_dict(state)
    except (RuntimeError, ValueError, TypeError) as exc:
        detail = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else type(exc).__name__
        raise ReelganError(f"{what} does not load into {network} ({detail}); {cause}") from None
