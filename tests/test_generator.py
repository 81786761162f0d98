import json

import pytest
import torch

from reelgan.errors import ReelganError
from reelgan.gan.generator import TRUNCATION_BOUND, export_generator, load_generator, seed_latents
from reelgan.gan.sampling import latent_walk, lerp, slerp
from reelgan.training import train


def test_seed_latents_depend_only_on_each_seed():
    a = seed_latents([3, 4, 5], 16)
    b = seed_latents([5, 3], 16)
    assert torch.equal(a[0], b[1]) and torch.equal(a[2], b[0])
    assert not torch.equal(a[0], a[1])


def test_truncation_bounds_and_scales_latents():
    z = seed_latents(list(range(50)), 64, truncation=0.5)
    assert z.abs().max() <= TRUNCATION_BOUND * 0.5
    assert z.std() < seed_latents(list(range(50)), 64).std()
    with pytest.raises(ReelganError, match="truncation"):
        seed_latents([1], 4, truncation=1.5)


def test_slerp_and_lerp_hit_their_endpoints():
    a, b = torch.randn(8), torch.randn(8)
    t = torch.tensor([0.0, 0.5, 1.0])
    for path in (lerp(a, b, t), slerp(a, b, t)):
        assert torch.allclose(path[0], a, atol=1e-5) and torch.allclose(path[-1], b, atol=1e-5)
    # slerp keeps the norm between the two norms (no dip through the low-density middle)
    mid = slerp(a, b, torch.tensor([0.5]))[0]
    assert mid.norm() == pytest.approx(float((a.norm() + b.norm()) / 2), rel=1e-4)


def test_latent_walk_frame_counts():
    keys = torch.randn(3, 4)
    assert latent_walk(keys, 5).shape == (2 * 5 + 1, 4)
    looped = latent_walk(keys, 5, loop=True)
    assert looped.shape == (3 * 5, 4) and torch.allclose(looped[0], keys[0], atol=1e-6)
    with pytest.raises(ReelganError, match="mode"):
        latent_walk(keys, 5, mode="cubic")


def test_export_round_trip_and_its_errors(tiny_config, tmp_path):
    result = train(tiny_config(train={"steps": 1}), show_progress=False)
    G = load_generator(result.run_dir / "checkpoints" / "latest.pt")
    path = export_generator(G.net, G.spec, tmp_path / "share")
    again = load_generator(path)
    assert again.hash == G.hash == json.loads(path.with_suffix(".json").read_text())["weights_sha256"]
    assert torch.equal(again.sample(2, seed=4), G.sample(2, seed=4))
    path.with_suffix(".json").unlink()
    with pytest.raises(ReelganError, match="needs its .json"):
        load_generator(path)
    with pytest.raises(ReelganError, match="has no classes"):
        G.sample(1, class_name="cats")
    with pytest.raises(ReelganError, match="at least 1"):
        G.sample(0)


def test_exported_files_get_normal_permissions(tiny_config, tmp_path):
    import os
    import stat

    result = train(tiny_config(train={"steps": 1}), show_progress=False)
    umask = os.umask(0)
    os.umask(umask)
    for name in ("generator.safetensors", "generator.json"):
        mode = stat.S_IMODE((result.run_dir / name).stat().st_mode)
        assert mode == 0o666 & ~umask, (name, oct(mode))
