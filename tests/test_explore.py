"""The exploration library and `reelgan explore`: directions, variations, the preference model, the lineage."""

from __future__ import annotations

import json

import pytest
import torch
from conftest import TINY_CLIP_SPEC, tiny_generator_spec

from reelgan.cli.main import main
from reelgan.errors import ReelganError
from reelgan.explore import (
    Explorer,
    Lineage,
    PreferenceModel,
    children,
    crossover,
    pca_directions,
    propose,
    regenerate,
    sefa_directions,
)
from reelgan.explore.preference import image_descriptor
from reelgan.gan.generator import Generator, build_from_spec, export_generator, seed_latents
from reelgan.provenance import read_record

make_spec = tiny_generator_spec
CLIP_SPEC = tiny_generator_spec(**TINY_CLIP_SPEC)


def tiny_generator(spec: dict | None = None, seed: int = 0) -> Generator:
    """An untrained generator: random weights still map latents to varied, structured images."""
    spec = spec or make_spec()
    torch.manual_seed(seed)
    return Generator(build_from_spec(spec), spec)


@pytest.fixture
def exported(tmp_path):
    """An exported tiny image generator in tmp_path/run."""
    spec = make_spec()
    torch.manual_seed(0)
    export_generator(build_from_spec(spec), spec, tmp_path / "run")
    return tmp_path / "run"


def orthonormality_error(vectors: torch.Tensor) -> float:
    return float((vectors @ vectors.T - torch.eye(len(vectors))).abs().max())


# ---- directions

@pytest.mark.parametrize("method", [sefa_directions, pca_directions])
@pytest.mark.parametrize("arch", ["dcgan", "resnet"])
def test_directions_are_orthonormal_unit_vectors_in_latent_space(method, arch):
    G = tiny_generator(make_spec(arch=arch))
    directions = method(G, 6)
    assert directions.vectors.shape == (6, 32)
    assert orthonormality_error(directions.vectors) < 1e-5
    assert torch.all(directions.strengths[:-1] >= directions.strengths[1:] - 1e-6)  # strongest first


def test_sefa_first_direction_is_what_the_first_layer_stretches_most():
    G = tiny_generator()
    weight = G.net.fc.weight.detach()
    top = sefa_directions(G, 1).vectors[0]
    stretch = (weight @ top).norm()
    random_units = torch.nn.functional.normalize(torch.randn(200, 32, generator=torch.Generator().manual_seed(1)))
    assert stretch >= (random_units @ weight.T).norm(dim=1).max()
    assert torch.isclose(stretch, torch.linalg.svdvals(weight)[0], rtol=1e-4)


def test_directions_are_the_same_every_time():
    G = tiny_generator()
    for method in (sefa_directions, pca_directions):
        assert torch.equal(method(G, 4).vectors, method(G, 4).vectors)


def test_clip_directions_split_content_from_motion():
    G = tiny_generator(CLIP_SPEC)
    content = sefa_directions(G, 4, "content").vectors
    motion = sefa_directions(G, 3, "motion").vectors
    assert content[:, 16:].abs().max() == 0 and motion[:, :16].abs().max() == 0
    frames = motion[:, 16:].reshape(3, 8, 8)  # (K, T, M): one motion direction moves every frame alike
    assert torch.allclose(frames, frames[:, :1].expand_as(frames))
    assert orthonormality_error(torch.cat([content, motion])) < 1e-5
    assert pca_directions(G, 3, "motion", samples=64).vectors[:, :16].abs().max() == 0


def test_moving_along_a_direction_changes_the_image_more_than_a_random_direction():
    G = tiny_generator()
    z = seed_latents([3], 32)[0]
    top = sefa_directions(G, 1).vectors[0]
    random_unit = torch.nn.functional.normalize(torch.randn(32, generator=torch.Generator().manual_seed(5)), dim=0)
    base = G(z[None])
    along = (G((z + 2 * top)[None]) - base).abs().mean()
    across = (G((z + 2 * random_unit)[None]) - base).abs().mean()
    assert along > across


# ---- variations

def test_children_are_reproducible_by_seed_and_stay_near_their_parent():
    parent = seed_latents([1], 32)[0]
    first, again = children(parent, 5, 0.3, seed=7), children(parent, 5, 0.3, seed=7)
    assert torch.equal(first, again)
    assert not torch.equal(first, children(parent, 5, 0.3, seed=8))
    assert torch.equal(children(parent, 3, 0.0, seed=1), parent.expand(3, -1))
    assert (first - parent).norm(dim=1).max() < (seed_latents([2], 32)[0] - parent).norm()


def test_children_of_a_clip_can_vary_the_motion_alone():
    parent = seed_latents([1], 80)[0]
    kids = children(parent, 4, 0.5, seed=0, span=slice(16, 80))
    assert torch.equal(kids[:, :16], parent[:16].expand(4, -1))
    assert not torch.equal(kids[:, 16:], parent[16:].expand(4, -1))


def test_crossover_ends_at_the_parents_and_mix_takes_every_coordinate_from_one():
    parents = seed_latents([1, 2], 32)
    arc = crossover(parents, 5, seed=0)
    assert torch.equal(arc[0], parents[0]) and torch.equal(arc[-1], parents[1])
    mixed = crossover(parents, 6, seed=0, mode="mix")
    assert torch.all((mixed == parents[0]) | (mixed == parents[1]))
    assert torch.equal(mixed, crossover(parents, 6, seed=0, mode="mix"))
    three = crossover(seed_latents([1, 2, 3], 32), 4, seed=0)
    assert three.shape == (4, 32)
    with pytest.raises(ReelganError, match="two parents"):
        crossover(parents[:1], 2, seed=0)


def test_clip_crossover_takes_one_parents_content_and_anothers_motion():
    parents = seed_latents([1, 2], 80)
    offspring = crossover(parents, 6, seed=3, mode="mix", span=slice(0, 16))
    for child in offspring:
        content_from = 0 if torch.equal(child[:16], parents[0, :16]) else 1
        assert torch.equal(child[:16], parents[content_from, :16])
        assert torch.equal(child[16:], parents[1 - content_from, 16:])


# ---- the preference model

def test_logistic_model_recovers_a_linear_taste():
    generator = torch.Generator().manual_seed(0)
    features = torch.randn(300, 5, generator=generator)
    liked = (features[:, 2] - 0.5 * features[:, 0] > 0).float()
    model = PreferenceModel().fit(features, liked)
    test = torch.randn(500, 5, generator=generator)
    truth = test[:, 2] - 0.5 * test[:, 0] > 0
    assert ((model.probability(test) > 0.5) == truth).float().mean() > 0.9
    mean, std = model.logit(test)
    assert torch.all(std > 0)


def test_the_preference_loop_beats_random_on_a_hidden_taste():
    """A simulated viewer likes images darker than three quarters of all samples; after three rounds of 16
    ratings the proposals must be liked far more often than random samples (the base rate is 25%)."""
    G = tiny_generator()

    def ink(z: torch.Tensor) -> torch.Tensor:
        return image_descriptor(G(z))[:, -1]

    threshold = torch.quantile(ink(seed_latents(list(range(10_000, 12_000)), 32)), 0.75)
    rated: list = []
    shown = None
    for round_ in range(4):
        shown, _ = propose(G, rated, n=16, seed=100 + round_, pool=256)
        likes = ink(shown.latents) > threshold
        rated += [(len(rated) + k, z, None, bool(like)) for k, (z, like) in enumerate(zip(shown.latents, likes))]
    assert float(likes.float().mean()) >= 0.5


def test_proposals_are_reproducible_and_follow_the_pool_seed():
    G = tiny_generator()
    z = seed_latents([1, 2, 3], 32)
    rated = [(0, z[0], None, True), (1, z[1], None, False), (2, z[2], None, True)]
    first, p = propose(G, rated, n=8, seed=4, pool=64)
    again, _ = propose(G, rated, n=8, seed=4, pool=64)
    assert torch.equal(first.latents, again.latents) and p.shape == (8,)
    assert not torch.equal(first.latents, propose(G, rated, n=8, seed=5, pool=64)[0].latents)


# ---- the lineage

def test_lineage_round_trips_and_regenerates_every_sample_exactly(exported):
    explorer = Explorer.open(exported, device="cpu")
    seeds = explorer.seeds([4, 5, 6])
    kids = explorer.children(seeds[0], 3, 0.4, seed=2)
    offspring = explorer.crossover(seeds[1:], 3)
    explorer.rate(liked=[kids[1].id], disliked=[seeds[2].id], stars={offspring[0].id: 5})
    suggested = explorer.suggest(4, seed=9)
    shown = seeds + kids + offspring + suggested
    images = explorer.images(shown)
    path = explorer.save()
    assert path == exported / "explore" / "lineage.json"

    reopened = Explorer.open(exported, device="cpu")
    assert [e.id for e in reopened.lineage.entries] == [e.id for e in shown]
    for k, entry in enumerate(reopened.lineage.entries):
        assert torch.equal(regenerate(reopened.G, entry)[0], images[k])
    assert reopened.lineage.get(kids[0].id).parents == [seeds[0].id]
    assert reopened.lineage.get(offspring[0].id).parents == [seeds[1].id, seeds[2].id]
    assert [e.id for e in reopened.picks()] == [kids[1].id, offspring[0].id]
    assert torch.equal(reopened.lineage.get(seeds[0].id).z, seed_latents([4], 32)[0])


def test_a_lineage_belongs_to_one_generator(exported, tmp_path):
    explorer = Explorer.open(exported, device="cpu")
    explorer.seeds([1])
    explorer.save()
    other = tiny_generator(seed=1)
    with pytest.raises(ReelganError, match="made with generator"):
        Lineage.open(exported / "explore" / "lineage.json", other)
    (tmp_path / "bad.json").write_text(json.dumps({"format": "reelgan-lineage/1", "generator_hash": explorer.G.hash,
                                                   "entries": [{"id": "zero"}]}))
    with pytest.raises(ReelganError, match="bad 'id'"):
        Lineage.open(tmp_path / "bad.json", explorer.G)


def test_picks_written_as_files_carry_their_record_and_lineage_id(exported, tmp_path):
    explorer = Explorer.open(exported, device="cpu")
    entries = explorer.seeds([1, 2])
    explorer.rate(liked=[1])
    paths = explorer.write_files(explorer.picks(), tmp_path / "picks")
    assert [p.name for p in paths] == ["sample000001.png"]
    record = read_record(paths[0])
    assert record["ai_generated"] and record["lineage_ids"] == [1] and record["seed"] == 2
    assert record["generator_hash"] == explorer.G.hash
    assert entries[1].id == 1


# ---- the command

def run(argv, capsys):
    code = main(argv)
    return code, capsys.readouterr().out


def test_explore_commands_take_a_person_from_a_grid_to_picks(exported, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    src = str(exported)
    assert run(["explore", "grid", src, "--seeds", "0-7", "--device", "cpu"], capsys)[0] == 0
    assert run(["explore", "rate", src, "--like", "2,5", "--dislike", "0", "--device", "cpu"], capsys)[0] == 0
    code, out = run(["explore", "suggest", src, "--n", "8", "--device", "cpu"], capsys)
    assert code == 0 and "ids 8-15" in out
    assert run(["explore", "children", src, "--of", "5", "--n", "4", "--device", "cpu"], capsys)[0] == 0
    assert run(["explore", "crossover", src, "--of", "2,5", "--n", "4", "--device", "cpu"], capsys)[0] == 0
    assert run(["explore", "directions", src, "--seed", "3", "--count", "2", "--steps", "3", "--device", "cpu"],
               capsys)[0] == 0
    assert run(["explore", "directions", src, "--of", "5", "--count", "2", "--steps", "3", "--device", "cpu",
                "--out", "walk.gif"], capsys)[0] == 0
    code, out = run(["explore", "picks", src, "--files", "picks", "--svg", "--morph", "picks.gif", "--frames", "2",
                     "--device", "cpu"], capsys)
    assert code == 0
    for name in ("grid.png", "suggest.png", "children.png", "crossover.png", "directions.png", "walk.gif",
                 "picks.png", "picks.gif", "picks/sample000002.png", "picks/sample000005.png",
                 "picks/sample000005.svg"):
        assert (tmp_path / name).stat().st_size > 0, name
    lineage = json.loads((exported / "explore" / "lineage.json").read_text())
    ops = [e["op"] for e in lineage["entries"]]
    assert ops[:8] == ["seed"] * 8 and ops.count("suggest") == 8 and ops.count("children") == 4
    assert ops.count("direction") == 12  # two directions of three steps, for the strips and for the video
    assert sum(e["liked"] is True for e in lineage["entries"]) == 2
