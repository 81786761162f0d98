import pytest
import torch

from reelgan.config import DataConfig
from reelgan.data import build_dataset
from reelgan.errors import ReelganError
from reelgan.metrics import fid
from reelgan.metrics.domain import (
    DomainNet,
    contrastive_views,
    load_extractor,
    nt_xent,
    save_extractor,
    train_domain_net,
)


@pytest.fixture(scope="module")
def glyphs():
    dataset = build_dataset(DataConfig(source="logograms", resolution=16, size=96))
    return torch.stack([dataset[i][0] for i in range(len(dataset))])  # (96, 1, 16, 16)


def test_nt_xent_rewards_matching_views():
    z = torch.nn.functional.normalize(torch.eye(8), dim=1)  # 8 orthogonal embeddings
    matched = nt_xent(z, z)
    shuffled = nt_xent(z, z[torch.randperm(8, generator=torch.Generator().manual_seed(0))])
    assert matched < shuffled


def test_contrastive_training_lowers_the_loss(glyphs):
    torch.manual_seed(1)
    views = contrastive_views(glyphs), contrastive_views(glyphs)
    before = nt_xent(DomainNet(1, 16, width=8, feature_dim=32)(views[0]),
                     DomainNet(1, 16, width=8, feature_dim=32)(views[1]))
    net = train_domain_net(glyphs, steps=40, batch=64, width=8, feature_dim=32)
    with torch.no_grad():
        after = nt_xent(net(views[0]), net(views[1]))
    assert after < before


def test_save_load_round_trip_and_tampering(glyphs, tmp_path):
    net = train_domain_net(glyphs, steps=2, batch=16, width=8, feature_dim=32)
    path = tmp_path / "domain.safetensors"
    digest = save_extractor(net, {"dataset": "logograms", "trained_steps": 2}, path)
    extractor = load_extractor(path)
    assert extractor.spec["sha256"] == digest and extractor.spec["dataset"] == "logograms"
    features = extractor.features(glyphs[:5])
    assert features.shape == (5, 32)
    assert torch.allclose(torch.from_numpy(features), net.features(glyphs[:5]).detach(), atol=1e-6)
    upsized = torch.nn.functional.interpolate(glyphs[:5], scale_factor=2, mode="nearest")
    assert extractor.features(upsized).shape == (5, 32)  # other sizes are resized to the extractor's
    with pytest.raises(ReelganError, match=r"\(N, 1, H, W\)"):
        extractor.features(glyphs[:2].repeat(1, 3, 1, 1))
    path.write_bytes(path.read_bytes()[:-4] + b"\x00\x00\x00\x00")
    with pytest.raises(ReelganError, match="sha256"):
        load_extractor(path)
    with pytest.raises(ReelganError, match="not found"):
        load_extractor(tmp_path / "missing.safetensors")


def test_domain_features_separate_glyphs_from_blobs(glyphs):
    net = train_domain_net(glyphs, steps=20, batch=64, width=8, feature_dim=32)
    with torch.no_grad():
        real_a, real_b = net.features(glyphs[:48]).numpy(), net.features(glyphs[48:]).numpy()
        blobs = torch.nn.functional.avg_pool2d(glyphs[48:], 5, stride=1, padding=2)  # blurred glyphs
        fake = net.features(blobs).numpy()
    assert fid(real_a, real_b)["fid"] < fid(real_a, fake)["fid"]


def test_train_extractor_command(tmp_path, capsys):
    from reelgan.cli.main import main

    out = tmp_path / "d.safetensors"
    argv = ["metrics", "train-extractor", "logograms", "--resolution", "16", "--steps", "3", "--batch", "16",
            "--max-images", "32", "--out", str(out)]
    assert main(argv) == 0
    extractor = load_extractor(out)
    assert extractor.spec["trained_steps"] == 3 and len(extractor.spec["feature_mean"]) == extractor.net.feature_dim
    from reelgan.data.procedural import LogogramDataset

    glyphs = torch.stack([LogogramDataset(32, 16, 1)[i][0] for i in range(32)])
    features = extractor.features(glyphs)  # the training images: centred, unit mean variance
    assert abs(features.mean(axis=0)).max() < 1e-3 and abs(features.var(axis=0).mean() - 1) < 0.05
    assert main(argv) == 2  # never overwrites without asking
    assert "already exists" in capsys.readouterr().err
    assert main(["metrics", "train-extractor", str(tmp_path / "none"), "--out", str(tmp_path / "x.safetensors")]) == 2
    assert main(["metrics", "train-extractor", "logograms", "--steps", "0"]) == 2


def test_bundled_logograms_extractor_loads_and_tells_glyphs_from_blurs():
    from reelgan.metrics.domain import bundled_extractor_path

    extractor = load_extractor(bundled_extractor_path("logograms", 32))  # also verifies its sha256
    assert extractor.spec["dataset"] == "logograms" and extractor.spec["resolution"] == 32
    dataset = build_dataset(DataConfig(source="logograms", resolution=32, size=200, seed=99))  # unseen glyphs
    real = torch.stack([dataset[i][0] for i in range(200)])
    blurred = torch.nn.functional.avg_pool2d(real[100:], 3, stride=1, padding=1)
    a, b, c = extractor.features(real[:100]), extractor.features(real[100:]), extractor.features(blurred)
    assert a.shape == (100, extractor.spec["feature_dim"])
    assert 0.3 < a.var(axis=0).mean() < 3  # features scaled to unit average variance on glyphs
    assert fid(a, b)["fid"] * 3 < fid(a, c)["fid"]
    with pytest.raises(ReelganError, match="train-extractor"):
        bundled_extractor_path("logograms", 256)
