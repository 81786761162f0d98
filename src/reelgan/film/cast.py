"""The cast file: which visuals serve which scene.

A small TOML file names, per scene, a trained generator (run folder, checkpoint `.pt`, exported
`.safetensors`) or a still image the user made; `default` serves every scene not named. Scenes are named
by number ("1", "2", ...) or by their exact heading. Paths are relative to the cast file. Without a cast
file, or without a default, scenes get reelgan's procedural logogram for their heading (no model).

    default = "runs/00001-logograms-r3gan-32"
    [scenes]
    1 = "stills/market.jpg"
    "EXT. HARBOUR - DAWN" = { source = "runs/00002-moving-glyphs/generator.safetensors", truncation = 0.8 }
    3 = { source = "runs/00003-alphabets", class = "Futurama" }
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from ..errors import ReelganError
from ..paths import IMAGE_SUFFIXES

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

PROCEDURAL = "logograms"  # the built-in visual: the procedural glyph of the scene heading


@dataclass(frozen=True)
class CastEntry:
    """What serves a scene: `kind` is "generator", "still" or PROCEDURAL."""

    kind: str
    source: str = ""             # the path (absolute) for generators and stills
    class_name: str | None = None
    truncation: float = 1.0


@dataclass
class Cast:
    """Per-scene entries (by 1-based number) and the default."""

    scenes: dict[int, CastEntry]
    default: CastEntry

    def for_scene(self, number: int) -> CastEntry:
        """The entry serving scene `number`."""
        return self.scenes.get(number, self.default)


def entry_from(value: object, base: Path, where: str) -> CastEntry:
    """A cast entry from a TOML value (a path string, or a table with `source`), checked on disk."""
    if isinstance(value, str):
        value = {"source": value}
    if not isinstance(value, dict) or not isinstance(value.get("source"), str):
        raise ReelganError(f"{where} must be a path or a table with source = \"PATH\"")
    unknown = sorted(set(value) - {"source", "class", "truncation"})
    if unknown:
        raise ReelganError(f"{where} has unknown keys {unknown}; use source, class, truncation")
    if value["source"] == PROCEDURAL:
        return CastEntry(PROCEDURAL)
    path = base / Path(value["source"]).expanduser()
    if not path.exists():
        raise ReelganError(f"{where} names {path}, which does not exist; fix the path in the cast file")
    truncation = value.get("truncation", 1.0)
    if not isinstance(truncation, (int, float)) or not 0 < truncation <= 2:
        raise ReelganError(f"{where}: truncation must be a number in (0, 2]; got {truncation!r}")
    class_name = value.get("class")
    kind = "still" if path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES else "generator"
    if kind == "still" and (class_name is not None or "truncation" in value):
        raise ReelganError(f"{where} is a still image; class and truncation apply only to generators")
    return CastEntry(kind, str(path.resolve()), None if class_name is None else str(class_name), float(truncation))


def read_cast(path: str | Path | None, headings: list[str]) -> Cast:
    """Read and check a cast file against the script's scene headings (None: procedural glyphs throughout)."""
    if path is None:
        return Cast({}, CastEntry(PROCEDURAL))
    path = Path(path)
    if not path.is_file():
        raise ReelganError(f"cast file {path} does not exist; check the path or drop --cast")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ReelganError(f"cast file {path} is not valid TOML ({str(exc).splitlines()[0]}); fix it") from None
    unknown = sorted(set(data) - {"default", "scenes"})
    if unknown:
        raise ReelganError(f"cast file {path} has unknown keys {unknown}; use default and [scenes]")
    base = path.parent
    default = entry_from(data["default"], base, "default") if "default" in data else CastEntry(PROCEDURAL)
    if not isinstance(data.get("scenes", {}), dict):
        raise ReelganError(f"cast file {path}: scenes must be a table ([scenes] with one line per scene)")
    scenes = {}
    for key, value in data.get("scenes", {}).items():
        number = _scene_number(key, headings, path)
        scenes[number] = entry_from(value, base, f"scene {key!r}")
    return Cast(scenes, default)


def _scene_number(key: str, headings: list[str], path: Path) -> int:
    if key.strip().isdecimal() and key.strip().isascii():
        number = int(key)
        if not 1 <= number <= len(headings):
            raise ReelganError(f"cast file {path} names scene {number}, but the script has scenes 1-"
                               f"{len(headings)}; fix the scene number")
        return number
    matches = [i + 1 for i, heading in enumerate(headings) if heading.casefold() == key.strip().casefold()]
    if not matches:
        raise ReelganError(f"cast file {path} names scene {key!r}, which is not a heading in the script; use a "
                           "heading exactly as written or the scene's number")
    if len(matches) > 1:
        raise ReelganError(f"cast file {path}: heading {key!r} is used by scenes {matches}; name them by number")
    return matches[0]
