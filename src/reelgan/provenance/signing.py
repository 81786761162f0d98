"""Signing what a command wrote: many files at once (`sign_outputs`), or a film with its shots (`sign_film`)."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from . import read_record
from .c2pa_formats import embedded_mime

if TYPE_CHECKING:
    from .credentials import C2paSigner


@dataclass(frozen=True)
class Signed:
    """A signed file, and its sidecar manifest when it could not hold one itself."""

    path: Path
    sidecar: Path | None


def sign_outputs(paths: Iterable[str | os.PathLike], signer: C2paSigner, record: dict | None = None, *,
                 ingredients: Iterable[str | os.PathLike] = (), watermark: Mapping | None = None) -> list[Signed]:
    """Sign each file; returns what was signed, in order.

    Each file is signed with the provenance record embedded in it (PNG, GIF, MP4, SVG, PDF: `read_record`),
    else with `record`; a file with neither is skipped (reelgan does not vouch for a file it made no record
    of), and so is an empty file. `ingredients` and `watermark` go into every manifest (see `C2paSigner.sign_file`).
    """
    ingredients = [Path(p) for p in ingredients]
    signed = []
    for path in (Path(p) for p in paths):
        if path.stat().st_size == 0:  # e.g. the subtitles of a film without dialogue: nothing to bind a hash to
            continue
        own = read_record(path) if embedded_mime(path) else None
        chosen = own if own is not None and own.get("ai_generated") is True else record
        if chosen is None:
            continue
        sidecar = signer.sign_file(path, chosen, ingredients=ingredients, watermark=watermark)
        signed.append(Signed(path, sidecar))
    return signed


def sign_film(signer: C2paSigner, film: str | os.PathLike, record: dict, shots: Iterable[str | os.PathLike] = (),
              companions: Iterable[str | os.PathLike] = (), watermark: Mapping | None = None) -> list[Signed]:
    """Sign a film and the files made with it; returns what was signed (shots, film, companions).

    Order matters and is kept here: each shot file first (with its own embedded record, else `record`), then
    the film, whose manifest lists the shots' videos as `componentOf` ingredients carrying their manifests,
    then the companions (contact sheet PNG/PDF embedded; SRT, VTT, OTIO, JSON, EDL ... as `NAME.EXT.c2pa`
    sidecars) with their own record, else `record`. Call it after the film's last remux, and before anything
    copies the signed files elsewhere (an .otioz bundle): signing rewrites the film, the shots and the sheets.
    `watermark` (`assertions.watermark_assertion`) goes into the film's manifest (its generated shots carry
    the mark; a shot's own manifest does not claim it, as title cards and stills have none).
    """
    shots = [Path(p) for p in shots]
    done = sign_outputs(shots, signer, record)
    parts = [s.path for s in done if (embedded_mime(s.path) or "").startswith("video/")]
    done += sign_outputs([film], signer, record, ingredients=parts, watermark=watermark)
    return done + sign_outputs(companions, signer, record)
