"""An exploration of one generator: every operation the CLI and the studio offer, each recorded in the lineage.

`Explorer` holds the generator and its lineage. Each operation makes latents (seeds, children, crossovers,
steps along a direction, proposals of the preference model), records them as lineage entries and returns the
entries; `images(entries)` renders them and `write(...)` writes them as labelled files. Nothing is saved until
`save()`, so a caller can show first and record once.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from ..checks import check_int, check_number
from ..errors import ReelganError
from ..gan.generator import Generator, load_generator, seed_latents
from ..gan.sampling import SAMPLE_WRITERS, latent_walk, sample_suffix, write_sheet
from ..media import to_uint8, upscale
from ..paths import output_file, output_folder
from ..provenance import make_record
from .directions import Directions, check_part, find_directions, move
from .lineage import Entry, Lineage, default_lineage_path, regenerate
from .preference import propose
from .variations import children, crossover


class Explorer:
    """A generator and the lineage of what was shown of it."""

    def __init__(self, G: Generator, lineage: Lineage) -> None:
        self.G, self.lineage = G, lineage

    @classmethod
    def open(cls, source: str | Path, lineage: str | Path | None = None, device: str = "auto") -> Explorer:
        """Load the generator at `source` (run folder, checkpoint, export) and its lineage (default:
        `default_lineage_path(source)`; created on the first save)."""
        G = load_generator(source, device=device)
        return cls(G, Lineage.open(lineage or default_lineage_path(Path(source)), G))

    # ---- operations: each returns the new entries -------------------------------------------------------

    def seeds(self, seeds: list[int], truncation: float = 1.0, class_name: str | int | None = None
              ) -> list[Entry]:
        """The samples at `seeds` (the same ones `reelgan generate` writes)."""
        z = seed_latents(seeds, self.G.spec["latent_dim"], truncation)
        labels = self.G.labels_for(seeds, self.G.class_index(class_name))
        return self.lineage.add("seed", z, labels=labels, seeds=list(seeds), params={"truncation": truncation})

    def parent(self, seed: int | None = None, entry_id: int | None = None) -> Entry:
        """An entry to start from: an existing lineage id, or a seed (recorded as a new entry)."""
        if (seed is None) == (entry_id is None):
            raise ReelganError("give one parent: a seed (--seed) or a lineage id (--of)")
        return self.lineage.get(entry_id) if entry_id is not None else self.seeds([seed])[0]

    def children(self, parent: Entry, n: int = 8, sigma: float = 0.5, seed: int = 0, part: str = "all"
                 ) -> list[Entry]:
        """`n` children of `parent` (z + sigma * noise); clips may vary only their content or motion."""
        span = check_part(self.G, part)
        z = children(parent.z, n, sigma, seed, span=span)
        labels = None if parent.label is None else torch.full((n,), parent.label)
        return self.lineage.add("children", z, labels=labels, parents=[[parent.id]] * n,
                                params={"sigma": sigma, "seed": seed, "part": part})

    def crossover(self, parents: list[Entry], n: int = 8, seed: int = 0, mode: str = "slerp") -> list[Entry]:
        """`n` offspring of two or more parents (slerp along the arc, or mixing coordinates; for clips `mix`
        takes the content of one parent and the motion of another)."""
        span = check_part(self.G, "content") if self.G.is_video else None
        z = crossover(torch.stack([p.z for p in parents]), n, seed, mode, span=span)
        labels = None if parents[0].label is None else torch.full((n,), parents[0].label)
        return self.lineage.add("crossover", z, labels=labels, parents=[[p.id for p in parents]] * n,
                                params={"mode": mode, "seed": seed})

    def directions(self, method: str = "sefa", count: int = 8, part: str = "all") -> Directions:
        """The generator's latent directions (see `reelgan.explore.directions`)."""
        return find_directions(self.G, method, count, part)

    def direction_strip(self, base: Entry, directions: Directions, steps: int = 7, amount: float = 3.0
                        ) -> list[list[Entry]]:
        """For each direction a row of `steps` samples from base - amount to base + amount (latent std)."""
        check_int("--steps", steps, 2)
        check_number("--amount", amount)
        amounts = torch.linspace(-amount, amount, steps)
        rows = []
        for k, vector in enumerate(directions.vectors):
            z = move(base.z, vector, amounts)
            labels = None if base.label is None else torch.full((steps,), base.label)
            row = self.lineage.add("direction", z, labels=labels, parents=[[base.id]] * steps,
                                   params={"method": directions.method, "part": directions.part, "index": k})
            for entry, a in zip(row, amounts.tolist()):
                entry.params["amount"] = round(a, 6)
            rows.append(row)
        return rows

    def suggest(self, n: int = 16, explore: float = 1.0, seed: int | None = None) -> list[Entry]:
        """The preference model's next `n` samples, "more like what I liked" (see `preference.propose`)."""
        rated = [(e.id, e.z, None if e.label is None else torch.tensor(e.label), bool(e.opinion))
                 for e in self.lineage.rated()]
        rounds = sum(1 for e in self.lineage.entries if e.op == "suggest")
        pool_seed = seed if seed is not None else 1 + rounds  # pool seed 0 overlaps the seeds shown first
        chosen, probability = propose(self.G, rated, n=n, explore=explore, seed=pool_seed)
        parents = [[p] if p >= 0 else [] for p in chosen.parents]
        entries = self.lineage.add("suggest", chosen.latents, labels=chosen.labels, parents=parents,
                                   params={"explore": explore, "pool_seed": pool_seed, "rated": len(rated)})
        for entry, p in zip(entries, probability.tolist()):
            entry.params["p_liked"] = None if np.isnan(p) else round(p, 4)
        return entries

    def rate(self, liked: list[int] = (), disliked: list[int] = (), stars: dict[int, int] | None = None
             ) -> list[Entry]:
        """Record likes, dislikes and star ratings by lineage id."""
        both = sorted(set(liked) & set(disliked))
        if both:
            raise ReelganError(f"ids {both} are both liked and disliked; give each one once")
        changed = [self.lineage.rate(i, liked=True) for i in liked]
        changed += [self.lineage.rate(i, liked=False) for i in disliked]
        changed += [self.lineage.rate(i, stars=s) for i, s in (stars or {}).items()]
        return changed

    def picks(self) -> list[Entry]:
        """The liked entries (4-5 stars count as liked), oldest first."""
        return [e for e in self.lineage.rated() if e.opinion]

    # ---- rendering and writing --------------------------------------------------------------------------

    def images(self, entries: list[Entry]) -> torch.Tensor:
        """The samples of `entries`, (N, C, H, W) (clips (N, C, T, H, W)) in [-1, 1]."""
        if not entries:
            raise ReelganError("nothing to show: no samples were chosen")
        z = torch.stack([e.z for e in entries])
        labels = None if entries[0].label is None else torch.tensor([e.label for e in entries])
        # One at a time, as `regenerate` does: a convolution may round differently in another batch size,
        # and a picked sample must be the very image that was shown.
        return self.G(z, labels, batch=1)

    def record(self, entries: list[Entry], **extra) -> dict:
        """The AI-generation record of a file showing `entries`."""
        seed = entries[0].seed if len(entries) == 1 else None
        return make_record(generator_hash=self.G.hash, seed=seed, lineage=str(self.lineage.path),
                           lineage_ids=[e.id for e in entries], operation=entries[0].op, **extra)

    def write_grid(self, entries: list[Entry], out: Path, nrow: int | None = None, size: int | None = None,
                   fps: int = 8) -> Path:
        """One PNG (clips: MP4/GIF) of `entries` as a grid, labelled AI-generated with their lineage ids."""
        return write_sheet(out, self.images(entries), self.record(entries), nrow=nrow, size=size, fps=fps)

    def write_files(self, entries: list[Entry], folder: Path, size: int | None = None, fps: int = 8,
                    overwrite: bool = False, svg: bool = False) -> list[Path]:
        """One file per entry, `sample<ID>.png` (clips .mp4), each with its AI record and lineage id; with
        `svg`, a grey image generator's samples are also traced to `sample<ID>.svg` (ink as vector paths)."""
        paths = self.check_files(entries, folder, overwrite, svg)
        suffix = sample_suffix(self.G)
        images = [p for p in paths if p.suffix == suffix]
        for path, entry in zip(images, entries):
            sample = regenerate(self.G, entry)
            frames = sample.transpose(1, 2)[0] if self.G.is_video else sample
            pixels = [upscale(f, size) if size else f for f in to_uint8(frames)]
            SAMPLE_WRITERS[suffix](path, pixels, fps, self.record([entry]))
            if svg and self.traceable:
                from ..glyphs.vector import write_svg

                write_svg(to_uint8(sample)[0, ..., 0], path.with_suffix(".svg"), size=size or 512,
                          record=self.record([entry]))
        return paths

    @property
    def traceable(self) -> bool:
        """Whether samples can be traced to SVG: grey images (ink on paper), not colour or clips."""
        return not self.G.is_video and self.G.channels == 1

    def check_files(self, entries: list[Entry], folder: Path, overwrite: bool = False, svg: bool = False
                    ) -> list[Path]:
        """The paths `write_files` writes, each checked (nothing exists there without `overwrite`)."""
        folder = output_folder(folder, "--files")
        suffixes = [sample_suffix(self.G)] + ([".svg"] if svg and self.traceable else [])
        return [output_file(folder / f"sample{e.id:06d}{suffix}", overwrite, "--files") for suffix in suffixes
                for e in entries]

    def write_direction_video(self, rows: list[list[Entry]], out: Path, fps: int = 24, size: int = 256) -> int:
        """A video (.mp4 or .gif) moving along each direction in turn, out to one end, back through the base to
        the other end and home; each row of `direction_strip` is one direction. Returns the frame count."""
        check_int("--fps", fps, 1)
        frames: list[torch.Tensor] = []
        for row in rows:  # steps -a .. +a; the walk goes 0 -> +a -> -a -> 0 along the row's latents
            z = torch.stack([e.z for e in row])
            middle = len(row) // 2
            order = list(range(middle, len(row))) + list(range(len(row) - 2, -1, -1)) + list(range(1, middle + 1))
            walk = latent_walk(z[order], max(1, fps // 4), "lerp")
            labels = None if row[0].label is None else torch.full((len(walk),), row[0].label)
            frames.append(self._frames(walk, labels))
        images = torch.cat(frames)
        pixels = [upscale(image, size) for image in to_uint8(images)]
        SAMPLE_WRITERS[Path(out).suffix.lower()](out, pixels, fps, self.record([e for r in rows for e in r]))
        return len(pixels)

    def _frames(self, z: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        """One video frame per latent (K, D): the image, or frame k mod T of a clip. -> (K, C, H, W)"""
        if not self.G.is_video:
            return self.G(z, labels)
        clips = self.G(z)  # (K, C, T, H, W)
        steps = torch.arange(len(z))
        return clips[steps, :, steps % clips.shape[2]]

    def write_morph(self, entries: list[Entry], out: Path, frames: int = 24, fps: int = 24, size: int = 256,
                    loop: bool = False) -> int:
        """A morph video (.mp4 or .gif) through the entries' latents in order (slerp); returns its frame count.
        Clips show frame k mod T of the clip at walk step k."""
        if len(entries) < 2:
            raise ReelganError("a morph needs at least two samples; pick two or more")
        check_int("--frames", frames, 1)
        z = latent_walk(torch.stack([e.z for e in entries]), frames, "slerp", loop)  # (K, D)
        labels = None if entries[0].label is None else torch.full((len(z),), entries[0].label)
        images = self._frames(z, labels)
        pixels = [upscale(image, size) for image in to_uint8(images)]
        SAMPLE_WRITERS[Path(out).suffix.lower()](out, pixels, fps, self.record(entries, morph=True))
        return len(pixels)

    def save(self) -> Path:
        """Write the lineage (atomically)."""
        return self.lineage.save()
