"""Viewer feedback: re-render a film with its generated shots steered toward what viewers liked.

The ratings file is JSON: 1-5 stars per shot, by the shot's index in the previous render's authorship record
(`FILM.authorship.json`, "shots"), from one viewer or several:

    {"shots": {"3": 5, "4": [1, 2], "7": 4}}
    {"viewers": {"ana": {"3": 5, "4": 1}, "ben": {"4": 2, "7": 4}}}

For each generator the cast uses, its rated shots train the preference model (`reelgan.explore.propose`: a
mean of 4 or more is liked, 2 or less disliked, 3 neither). Liked shots keep their picture. Disliked shots, and
shots nobody rated, of a generator with at least one liked shot get the model's best proposal instead
(explore 0: what it is most sure viewers will like), each a different one. A generator whose shots were all
disliked moves those shots away from them. Cards, stills and glyphs are never changed. The authorship
record says, per changed shot, what it was, what it is now, and why.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import torch

from ..errors import ReelganError
from .cast import Cast
from .plan import SHOT, Shot

LIKED, DISLIKED = 4.0, 2.0   # mean stars at or above / at or below
FEEDBACK_POOL = 1024         # candidates scored for a generator's shots


@dataclass(frozen=True)
class Steer:
    """A shot's new latent, and why."""

    latent: torch.Tensor   # (latent_dim,)
    label: int | None      # the class of a conditional generator
    reason: str
    was_seed: int
    p_liked: float


def _stars(value: object, where: str) -> list[int]:
    values = value if isinstance(value, list) else [value]
    if not values or not all(isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= 5 for v in values):
        raise ReelganError(f"{where}: ratings are whole stars 1-5 (or a list of them); got {value!r}")
    return values


def read_feedback(path: Path, shot_count: int) -> dict[int, list[int]]:
    """Shot index -> every star given to it; a ReelganError naming the problem when the file is not right."""
    fix = 'write {"shots": {"SHOT": STARS}} or {"viewers": {"NAME": {"SHOT": STARS}}}, shots numbered as in ' \
          "the film's .authorship.json"
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ReelganError(f"--feedback {path} not found") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ReelganError(f"--feedback {path} is not readable JSON ({type(exc).__name__}); {fix}") from None
    if not isinstance(data, dict) or not (isinstance(data.get("shots"), dict) or isinstance(data.get("viewers"), dict)):
        raise ReelganError(f"--feedback {path} has neither 'shots' nor 'viewers'; {fix}")
    tables = [data["shots"]] if isinstance(data.get("shots"), dict) else list(data["viewers"].values())
    ratings: dict[int, list[int]] = {}
    for table in tables:
        if not isinstance(table, dict):
            raise ReelganError(f"--feedback {path}: each viewer's ratings must be an object; {fix}")
        for key, value in table.items():
            if not str(key).isdigit() or not int(key) < shot_count:
                raise ReelganError(f"--feedback {path}: shot {key!r} is not a shot of this film (0-{shot_count - 1})")
            ratings.setdefault(int(key), []).extend(_stars(value, f"--feedback {path}, shot {key}"))
    return ratings


def steer_shots(shots: list[Shot], cast: Cast, generators: dict, ratings: dict[int, list[int]]
                ) -> dict[int, Steer]:
    """Shot index -> its steered latent, for the generated shots the feedback changes (see the module)."""
    from ..explore import propose
    from ..gan.generator import seed_latents

    groups: dict[str, list[int]] = {}
    for index, shot in enumerate(shots):
        entry = cast.for_scene(shot.scene)
        if shot.kind == SHOT and entry.kind == "generator":
            groups.setdefault(entry.source, []).append(index)
    steered: dict[int, Steer] = {}
    for source, indices in groups.items():
        G = generators[source]
        entry = cast.for_scene(shots[indices[0]].scene)
        means = {i: sum(ratings[i]) / len(ratings[i]) for i in indices if i in ratings}
        opinion = {i: m >= LIKED for i, m in means.items() if m >= LIKED or m <= DISLIKED}
        if not opinion:
            continue
        labels = G.labels_for([shots[i].seed for i in indices], G.class_index(entry.class_name))
        label_of = {i: None if labels is None else labels[k] for k, i in enumerate(indices)}
        z_of = {i: seed_latents([shots[i].seed], G.spec["latent_dim"], entry.truncation)[0] for i in indices}
        rated = [(i, z_of[i], label_of[i], like) for i, like in opinion.items()]
        any_liked = any(opinion.values())
        change = [i for i in indices if opinion.get(i) is False or (any_liked and i not in opinion)]
        if not change:
            continue
        chosen, p = propose(G, rated, n=len(change), explore=0.0, seed=shots[change[0]].seed, pool=FEEDBACK_POOL,
                            class_index=G.class_index(entry.class_name))
        for k, i in enumerate(change):
            why = (f"disliked (mean {means[i]:.1f} stars from {len(ratings[i])} rating(s))" if i in means
                   and opinion.get(i) is False else "not rated" if i not in means else
                   f"neither liked nor disliked (mean {means[i]:.1f})")
            label = None if chosen.labels is None else int(chosen.labels[k])
            steered[i] = Steer(chosen.latents[k], label, f"{why}; replaced by the preference model's best guess from "
                                                  f"{sum(opinion.values())} liked and "
                                                  f"{len(opinion) - sum(opinion.values())} disliked shot(s)",
                               shots[i].seed, round(float(p[k]), 4))
    return steered
