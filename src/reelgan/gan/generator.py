"""Trained generators: export to safetensors + JSON, load from a run, checkpoint or export, and sample.

`load_generator(path)` accepts a run folder, a checkpoint (`.pt`), or an exported generator
(`generator.safetensors` with `generator.json` beside it) and returns a `Generator` whose `sample(n, seed=...)`
gives the same images for the same seed on any machine.

Loading checks before it trusts: the record's fields and types, that the weights' names and shapes fit the
network the record describes (before `load_state_dict`), and for an export that the weights' sha256 is the
one `generator.json` recorded. Each failure is a one-line `ReelganError`.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import safetensors.torch
import torch

from .. import __version__
from ..config import RunConfig
from ..devices import pick_device
from ..errors import ReelganError
from ..media import atomic_path
from .kinds import CLIP, kind_of
from .nets.check import LIKELY_CAUSE, load_state_checked, state_mismatch

GENERATOR_FORMAT = "reelgan-generator-1"
# Latent values beyond this many standard deviations are redrawn when truncation is on (BigGAN's trick).
TRUNCATION_BOUND = 2.0


def weights_hash(module: torch.nn.Module) -> str:
    """sha256 of a network's tensors (names, shapes, dtypes and values), in hex: its identity in metadata."""
    digest = hashlib.sha256()
    for name, tensor in sorted(module.state_dict().items()):
        tensor = tensor.detach().cpu().contiguous()
        digest.update(f"{name}:{tuple(tensor.shape)}:{tensor.dtype}".encode())
        digest.update(tensor.reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def generator_spec(config: dict[str, Any], class_names: list[str], steps: int) -> dict[str, Any]:
    """What is needed to rebuild a generator, as plain data, from a resolved run config."""
    data, net = config["data"], config["net"]
    spec = {
        "format": GENERATOR_FORMAT, "arch": net["arch"], "resolution": data["resolution"],
        "channels": data["channels"], "latent_dim": net["latent_dim"], "width": net["g_width"],
        "max_width": net["max_width"], "class_names": list(class_names), "trained_steps": steps,
        "dataset": data["source"], "reelgan_version": __version__,
    }
    return {**spec, **kind_of(data).spec_extra(data, net)}


def build_from_spec(spec: dict[str, Any]) -> torch.nn.Module:
    """An untrained generator network shaped as `spec` says."""
    return kind_of(spec).build_generator(spec)


# The fields `build_from_spec` and sampling read, with their types; each kind adds its own (`Kind.spec_fields`).
SPEC_FIELDS: dict[str, type] = {"arch": str, "resolution": int, "channels": int, "latent_dim": int, "width": int,
                                "max_width": int, "class_names": list}


def check_spec(spec: Any, where: str, fix: str) -> None:
    """ReelganError naming the field and `where` unless `spec` has every field a generator is built from."""
    if not isinstance(spec, dict):
        raise ReelganError(f"{where} does not describe a generator (it holds a {type(spec).__name__}); {fix}")
    try:
        required = {**SPEC_FIELDS, **kind_of(spec).spec_fields}
    except ReelganError as exc:
        raise ReelganError(f"{where}: {exc}; {fix}") from None
    for name, kind in required.items():
        if name not in spec:
            raise ReelganError(f"{where} lacks the field {name!r} a generator is built from; {fix}")
        value = spec[name]
        if isinstance(value, bool) or not isinstance(value, kind):
            raise ReelganError(f"{where}: {name!r} is {value!r:.40}, not {'an' if kind is int else 'a'} "
                               f"{ {int: 'integer', str: 'string', list: 'list'}[kind]}; {fix}")
    if not all(isinstance(name, str) for name in spec["class_names"]):
        raise ReelganError(f"{where}: 'class_names' must be a list of names; {fix}")


def _build_checked(spec: dict[str, Any], where: str, fix: str) -> torch.nn.Module:
    try:
        return build_from_spec(spec)
    except (ValueError, ReelganError) as exc:
        raise ReelganError(f"{where} describes a generator reelgan cannot build ({exc}); {fix}") from None


def _what_fits(spec: dict[str, Any], state: dict[str, Any]) -> tuple[str, str] | None:
    """("a 32 px generator", "16 px") when the weights would fit `spec` with only its resolution (or channels, or
    architecture) changed: what the weights hold and what the spec says. None when no such change fits."""
    kind, channels = kind_of(spec), spec["channels"]
    variants = [("resolution", r, f"a {r} px generator", f"{spec['resolution']} px")
                for r in kind.resolutions if r != spec["resolution"]]
    variants += [("channels", c, f"a {c}-channel generator", f"{channels} channel{'' if channels == 1 else 's'}")
                 for c in kind.channels if c != channels]
    variants += [("arch", a, f"a {a} generator", str(spec["arch"])) for a in kind.architectures if a != spec["arch"]]
    for field, value, holds, says in variants:
        try:
            with torch.device("meta"):  # shapes only: no memory, no initialisation cost
                candidate = build_from_spec({**spec, field: value})
        except Exception:  # a variant the other fields do not allow
            continue
        if state_mismatch(candidate, state) is None:
            return holds, says
    return None


def _load_fitting(net: torch.nn.Module, spec: dict[str, Any], state: Any, weights: str, described_by: str,
                  fix: str) -> None:
    """Load `state` into `net` after checking it fits; a mismatch names it in user terms (ReelganError).

    E.g. "generator.safetensors holds a 32 px generator; generator.json says 16 px; re-export it ...", or,
    when no single setting explains it, the first differing tensor with both shapes (`nets.check`).
    """
    if isinstance(state, dict) and state_mismatch(net, state) is not None:
        fits = _what_fits(spec, state)
        if fits is not None:
            raise ReelganError(f"{weights} holds {fits[0]}; {described_by} says {fits[1]}; {fix}")
    load_state_checked(net, state, weights, network=f"the generator {described_by} describes",
                       cause=f"{LIKELY_CAUSE}; {fix}")


def seed_latents(seeds: list[int], latent_dim: int, truncation: float = 1.0) -> torch.Tensor:
    """One latent per seed, `(len(seeds), latent_dim)`: the same seed always gives the same latent.

    truncation < 1 draws from a normal truncated at +-2 and scales by `truncation`: less variety, more
    typical images. 1 means the plain normal.
    """
    if not 0 < truncation <= 1:
        raise ReelganError(f"--truncation must be in (0, 1]; got {truncation}")
    latents = []
    for seed in seeds:
        generator = torch.Generator().manual_seed(int(seed))
        z = torch.randn(latent_dim, generator=generator)
        if truncation < 1:
            while (outside := z.abs() > TRUNCATION_BOUND).any():
                z[outside] = torch.randn(int(outside.sum()), generator=generator)
            z = z * truncation
        latents.append(z)
    return torch.stack(latents)


class Generator:
    """A trained generator ready to sample: the network (in eval mode) and its spec."""

    def __init__(self, net: torch.nn.Module, spec: dict[str, Any], device: str | torch.device = "cpu") -> None:
        self.net = net.to(device).eval().requires_grad_(False)
        self.spec, self.device = spec, torch.device(device)
        self.hash = weights_hash(self.net)

    @property
    def class_names(self) -> list[str]:
        """Class names, in label order (empty when unconditional)."""
        return self.spec["class_names"]

    @property
    def resolution(self) -> int:
        """Output size in pixels."""
        return self.spec["resolution"]

    @property
    def channels(self) -> int:
        """Output channels: 1, 3 or 4."""
        return self.spec["channels"]

    @property
    def is_video(self) -> bool:
        """True for a clip generator: `sample` gives `(n, C, T, H, W)`."""
        return kind_of(self.spec) is CLIP

    def class_index(self, name: str | int | None) -> int | None:
        """A class given by name or number as its label index; an unknown one is a ReelganError."""
        if name is None or not self.class_names:
            if name is not None:
                raise ReelganError("--class was given but this generator has no classes; drop --class")
            return None
        if str(name) in self.class_names:
            return self.class_names.index(str(name))
        if str(name).isdigit() and int(name) < len(self.class_names):
            return int(name)
        shown = ", ".join(self.class_names[:10]) + (" ..." if len(self.class_names) > 10 else "")
        raise ReelganError(f"unknown class {name!r}; this generator knows {shown}")

    def labels_for(self, seeds: list[int], class_index: int | None) -> torch.Tensor | None:
        """Labels for conditional sampling: the given class, or one drawn from each seed."""
        if not self.class_names:
            return None
        if class_index is not None:
            return torch.full((len(seeds),), class_index, dtype=torch.long)
        return torch.tensor([int(np.random.default_rng(s).integers(len(self.class_names))) for s in seeds])

    @torch.no_grad()
    def __call__(self, z: torch.Tensor, labels: torch.Tensor | None = None, batch: int = 64) -> torch.Tensor:
        """Images `(B, C, H, W)` (clips `(B, C, T, H, W)`) in [-1, 1] on the CPU for latents `(B, latent_dim)`."""
        out = []
        for start in range(0, len(z), batch):
            chunk = z[start:start + batch].to(self.device)
            chunk_labels = None if labels is None else labels[start:start + batch].to(self.device)
            out.append(self.net(chunk, chunk_labels).float().cpu())
        return torch.cat(out)

    def sample(self, n: int, seed: int = 0, truncation: float = 1.0, class_name: str | int | None = None
               ) -> torch.Tensor:
        """`n` images `(n, C, H, W)` (clips: `(n, C, T, H, W)`) in [-1, 1]; item i comes from seed `seed + i`."""
        if n < 1:
            raise ReelganError(f"--n must be at least 1; got {n}")
        seeds = list(range(seed, seed + n))
        z = seed_latents(seeds, self.spec["latent_dim"], truncation)
        return self(z, self.labels_for(seeds, self.class_index(class_name)))


def export_generator(net: torch.nn.Module, spec: dict[str, Any], out_dir: str | Path,
                     stem: str = "generator") -> Path:
    """Write `stem.safetensors` (weights) and `stem.json` (spec + weights hash); returns the weights path."""
    out_dir = Path(out_dir)
    weights_path, spec_path = out_dir / f"{stem}.safetensors", out_dir / f"{stem}.json"
    state = {k: v.detach().cpu().contiguous() for k, v in net.state_dict().items()}
    out_dir.mkdir(parents=True, exist_ok=True)
    with atomic_path(weights_path) as tmp:
        safetensors.torch.save_file(state, tmp, metadata={"format": GENERATOR_FORMAT})
    with atomic_path(spec_path) as tmp:
        Path(tmp).write_text(json.dumps({**spec, "weights_sha256": weights_hash(net)}, indent=2) + "\n")
    return weights_path


def _load_export(weights_path: Path, device: str | torch.device) -> Generator:
    spec_path = weights_path.with_suffix(".json")
    if not spec_path.is_file():
        raise ReelganError(f"{spec_path} not found; an exported generator needs its .json beside the .safetensors")
    fix = "re-export it from its run (reelgan export)"
    try:
        spec = json.loads(spec_path.read_text())
        state = safetensors.torch.load_file(str(weights_path))
    except (json.JSONDecodeError, UnicodeDecodeError, OSError, safetensors.SafetensorError) as exc:
        reason = str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__
        raise ReelganError(f"cannot read exported generator {weights_path} ({reason}); {fix}") from None
    if not isinstance(spec, dict) or spec.get("format") != GENERATOR_FORMAT:
        raise ReelganError(f"{spec_path} is not a reelgan generator description")
    check_spec(spec, str(spec_path), fix)
    recorded = spec.get("weights_sha256")
    if not isinstance(recorded, str) or not recorded:
        raise ReelganError(f"{spec_path} lacks the field 'weights_sha256' (the sha256 of its weights), so "
                           f"{weights_path.name} cannot be checked; {fix}")
    net = _build_checked(spec, str(spec_path), fix)
    _load_fitting(net, spec, state, str(weights_path), spec_path.name, fix)
    generator = Generator(net, spec, device)
    if generator.hash != recorded:
        raise ReelganError(f"{weights_path} does not match the sha256 recorded in {spec_path.name} (the weights "
                           f"were changed or damaged); {fix}")
    return generator


def _load_checkpoint_generator(path: Path, device: str | torch.device) -> Generator:
    from .checkpoint import load_checkpoint

    state = load_checkpoint(path)  # its fields and their types are checked there
    fix = "use a checkpoint a reelgan run wrote (checkpoints/latest.pt)"
    try:  # the same checks as any config: every field present (defaults filled in) and of its type
        config = RunConfig.from_dict(state["config"]).to_dict()
    except ReelganError as exc:
        raise ReelganError(f"checkpoint {path} holds a config reelgan cannot use ({exc}); {fix}") from None
    spec = generator_spec(config, state["class_names"], state["step"])
    check_spec(spec, f"checkpoint {path}'s config", fix)
    net = _build_checked(spec, f"checkpoint {path}'s config", fix)
    _load_fitting(net, spec, state["G_ema"], f"checkpoint {path}'s G_ema", "its config", fix)
    return Generator(net, spec, device)


def load_generator(path: str | Path, device: str | torch.device = "cpu") -> Generator:
    """Load a generator from a run folder, a checkpoint `.pt`, or an exported `.safetensors`/`.json`.

    `device` is a torch device or a name: auto, cpu, cuda, mps. In a run folder the export is preferred;
    training rewrites it with every checkpoint, so the two hold the same EMA weights.
    """
    device = pick_device(device) if isinstance(device, str) else device
    path = Path(path)
    if path.is_dir():
        if (path / "generator.safetensors").is_file():
            return _load_export(path / "generator.safetensors", device)
        if (path / "checkpoints" / "latest.pt").is_file():
            return _load_checkpoint_generator(path / "checkpoints" / "latest.pt", device)
        raise ReelganError(f"{path} holds neither generator.safetensors nor checkpoints/latest.pt")
    if not path.is_file():
        raise ReelganError(f"{path} not found; give a run folder, a checkpoint .pt or a generator .safetensors")
    if path.suffix == ".pt":
        return _load_checkpoint_generator(path, device)
    if path.suffix in (".safetensors", ".json"):
        return _load_export(path.with_suffix(".safetensors"), device)
    raise ReelganError(f"{path} is not a run folder, .pt checkpoint or .safetensors generator")
