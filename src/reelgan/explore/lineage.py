"""The lineage record: every sample an exploration showed, with its latent, parents, operation and rating.

It is one JSON file (by default `RUN/explore/lineage.json`), rewritten atomically after each change. The
latent is stored exactly (float32 values written as JSON numbers read back to the same float32), so any
entry regenerates the same image: `regenerate(G, entry)`. A lineage belongs to one generator, by its weights'
sha256; opening it with another generator is refused.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import torch

from ..errors import ReelganError
from ..gan.generator import Generator
from ..media import atomic_path

LINEAGE_FORMAT = "reelgan-lineage/1"
OPERATIONS = ("seed", "children", "crossover", "direction", "suggest")
STARS = range(1, 6)
ENTRY_FIELDS: dict[str, tuple[type, ...]] = {
    "id": (int,), "op": (str,), "params": (dict,), "parents": (list,), "seed": (int, type(None)),
    "latent": (list,), "label": (int, type(None)), "liked": (bool, type(None)), "stars": (int, type(None)),
    "time": (str,),
}


@dataclass
class Entry:
    """One shown sample. `liked` is True/False/None (not rated); `stars` 1-5 or None."""

    id: int
    op: str
    latent: list[float]
    params: dict[str, Any] = field(default_factory=dict)
    parents: list[int] = field(default_factory=list)
    seed: int | None = None
    label: int | None = None
    liked: bool | None = None
    stars: int | None = None
    time: str = ""

    @property
    def z(self) -> torch.Tensor:
        """The latent as a float32 tensor (D,)."""
        return torch.tensor(self.latent, dtype=torch.float32)

    @property
    def opinion(self) -> bool | None:
        """Liked (True), disliked (False) or neither: a like/dislike wins; else 4-5 stars like, 1-2 dislike."""
        if self.liked is not None:
            return self.liked
        if self.stars is None or self.stars == 3:
            return None
        return self.stars >= 4


def default_lineage_path(source: Path) -> Path:
    """RUN/explore/lineage.json for a run folder; beside a checkpoint or exported file otherwise."""
    source = Path(source)
    if source.is_dir():
        return source / "explore" / "lineage.json"
    return source.parent / f"{source.stem}.lineage.json"


class Lineage:
    """The entries of one exploration of one generator, saved to `path` by `save()`."""

    def __init__(self, path: Path, generator_hash: str, entries: list[Entry] | None = None) -> None:
        self.path, self.generator_hash = Path(path), generator_hash
        self.entries: list[Entry] = entries or []

    @classmethod
    def open(cls, path: str | Path, G: Generator) -> Lineage:
        """The lineage at `path` (a new, empty one when the file does not exist), checked against `G`."""
        path = Path(path)
        if path.is_dir():
            raise ReelganError(f"--lineage {path} is a folder; give a .json file")
        if not path.exists():
            return cls(path, G.hash)
        fix = f"give another --lineage file, or move {path} away to start a new one"
        try:
            data = json.loads(path.read_text())
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ReelganError(f"cannot read lineage {path} ({type(exc).__name__}); {fix}") from None
        if not isinstance(data, dict) or data.get("format") != LINEAGE_FORMAT or not isinstance(
                data.get("entries"), list):
            raise ReelganError(f"{path} is not a reelgan lineage file; {fix}")
        if data.get("generator_hash") != G.hash:
            raise ReelganError(f"lineage {path} was made with generator {str(data.get('generator_hash'))[:12]}, "
                               f"not this one ({G.hash[:12]}); {fix}")
        entries = [_entry(item, path, G.spec["latent_dim"], fix) for item in data["entries"]]
        return cls(path, G.hash, entries)

    def add(self, op: str, latents: torch.Tensor, *, labels: torch.Tensor | None = None,
            parents: list[list[int]] | None = None, seeds: list[int | None] | None = None,
            params: dict[str, Any] | None = None) -> list[Entry]:
        """Record one entry per latent (N, D) shown by operation `op`; returns them (not yet saved)."""
        if op not in OPERATIONS:
            raise ReelganError(f"unknown lineage operation {op!r}")
        start = self.entries[-1].id + 1 if self.entries else 0
        now = datetime.now(timezone.utc).isoformat(timespec="seconds")
        added = []
        for k, z in enumerate(latents.float()):
            added.append(Entry(
                id=start + k, op=op, latent=[float(v) for v in z.tolist()], params=dict(params or {}),
                parents=list(parents[k]) if parents else [], seed=None if seeds is None else seeds[k],
                label=None if labels is None else int(labels[k]), time=now))
        self.entries += added
        return added

    def get(self, entry_id: int) -> Entry:
        """The entry with this id, or a ReelganError saying which ids exist."""
        if 0 <= entry_id < len(self.entries) and self.entries[entry_id].id == entry_id:
            return self.entries[entry_id]
        for entry in self.entries:
            if entry.id == entry_id:
                return entry
        last = f"0-{self.entries[-1].id}" if self.entries else "none yet"
        raise ReelganError(f"no sample {entry_id} in lineage {self.path} (ids: {last})")

    def rate(self, entry_id: int, *, liked: bool | None = None, stars: int | None = None) -> Entry:
        """Mark an entry liked/disliked and/or give it 1-5 stars (not yet saved)."""
        if stars is not None and stars not in STARS:
            raise ReelganError(f"stars are 1-5; got {stars}")
        entry = self.get(entry_id)
        if liked is not None:
            entry.liked = liked
        if stars is not None:
            entry.stars = stars
        return entry

    def rated(self) -> list[Entry]:
        """Entries with an opinion (liked or disliked), oldest first."""
        return [entry for entry in self.entries if entry.opinion is not None]

    def save(self) -> Path:
        """Write the lineage atomically; returns its path."""
        data = {"format": LINEAGE_FORMAT, "generator_hash": self.generator_hash,
                "entries": [asdict(entry) for entry in self.entries]}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(self.path) as tmp:
            Path(tmp).write_text(json.dumps(data, indent=1) + "\n")
        return self.path


def _entry(item: Any, path: Path, latent_dim: int, fix: str) -> Entry:
    """One entry read from JSON, every field checked."""
    if not isinstance(item, dict):
        raise ReelganError(f"lineage {path} has an entry that is not an object; {fix}")
    for name, types in ENTRY_FIELDS.items():
        value = item.get(name)
        if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
            raise ReelganError(f"lineage {path}: entry {item.get('id')!r} has a bad {name!r}; {fix}")
    latent = item["latent"]
    if len(latent) != latent_dim or not all(isinstance(v, (int, float)) and not isinstance(v, bool)
                                            for v in latent):
        raise ReelganError(f"lineage {path}: entry {item['id']} has no {latent_dim}-number latent; {fix}")
    return Entry(**{name: item[name] for name in ENTRY_FIELDS})


def regenerate(G: Generator, entry: Entry) -> torch.Tensor:
    """The sample an entry showed, exactly: (1, C, H, W) (clips (1, C, T, H, W)) in [-1, 1]."""
    labels = None if entry.label is None else torch.tensor([entry.label])
    return G(entry.z[None], labels)
