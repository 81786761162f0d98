"""C2PA content credentials for a render: every file signed in the staging folder, in the order C2PA needs.

The shot files first (each with its own record), then the film after its last remux, listing the shots as
`componentOf` ingredients and describing the watermark its generated frames carry, then the companions
(sheets embedded; subtitles, timeline and authorship record as `NAME.EXT.c2pa` sidecars), each spoken
line with its own record, and last the editor exports (after them, since a bundle copies the signed shots).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ..provenance.signing import Signed, sign_film, sign_outputs
from .types import Film

if TYPE_CHECKING:
    from ..provenance.credentials import C2paSigner

COMPANIONS = ("srt", "vtt", "otio", "sheet", "sheet_pdf", "authorship")


def sign_render(signer: C2paSigner, film: Film, staged: dict[str, Path], record: dict, marked: bool
                ) -> list[Signed]:
    """Sign the film, its shot files, companions and spoken lines in `staged`; `marked`: its generated
    frames carry the invisible watermark. Returns what was signed (sidecars lie beside their files)."""
    from ..provenance.assertions import watermark_assertion
    from ..provenance.watermark import version_for
    from .records import combined_hash, generator_hashes

    mark = None
    if marked:
        mark = watermark_assertion(combined_hash(generator_hashes(film)), version=version_for(film.options.size))
    shots = sorted(p for p in staged["shots"].iterdir() if p.suffix in (".mp4", ".png")) \
        if "shots" in staged and staged["shots"].is_dir() else []
    signed = sign_film(signer, staged["mp4"], record["provenance"], shots=shots,
                       companions=[staged[kind] for kind in COMPANIONS if staged[kind].is_file()], watermark=mark)
    if film.dialogue is not None and "voice" in staged:
        from .records import line_record
        from .voice import line_name

        for index, cue in enumerate(film.subtitles):
            wav = staged["voice"] / line_name(index, cue.speaker)
            signed += sign_outputs([wav], signer, line_record(film, index))
    return signed


def sign_exports(signer: C2paSigner, staged: dict[str, Path], exports: tuple[str, ...], record: dict) -> list[Signed]:
    """Sign the editor exports (sidecars: timelines cannot hold a manifest)."""
    return sign_outputs([staged[name] for name in exports], signer, record["provenance"])


def place_sidecars(signed: list[Signed], staging: Path, folder: Path) -> None:
    """Move the sidecars of files at the staging folder's top into `folder`, beside their files' final places
    (a shot's or a line's sidecar travels with its folder)."""
    for entry in signed:
        if entry.sidecar is not None and entry.sidecar.parent == staging:
            entry.sidecar.replace(folder / entry.sidecar.name)
