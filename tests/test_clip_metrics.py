"""Clip metrics: the contrastive ClipNet extractor, proxy FVD, and motion checks against known motion."""

import json

import numpy as np
import pytest
import torch

from reelgan.data.clip_sets import build_clip_dataset
from reelgan.errors import ReelganError
from reelgan.metrics.clip_metrics import (
    ClipNet,
    build_clip_extractor,
    clip_views,
    compare_motion,
    evaluate_clip_generator,
    fvd,
    load_clip_extractor,
    motion_stats,
    save_clip_extractor,
    track_ink,
)


@pytest.fixture(scope="module")
def clips():
    dataset = build_clip_dataset("moving-glyphs", frames=8, stride=1, resolution=16, channels=1, size=32, seed=0)
    return torch.stack([dataset[i][0] for i in range(len(dataset))])  # (32, 1, 8, 16, 16)


@pytest.fixture(scope="module")
def extractor(clips):
    return build_clip_extractor(clips, "moving-glyphs", steps=3, batch=16, seed=0)


def moving_square(start: tuple[int, int], velocity: tuple[int, int], frames: int = 6, size: int = 4,
                  resolution: int = 16) -> tuple[torch.Tensor, np.ndarray]:
    """One clip `(1, 1, T, R, R)` of a solid ink square on paper and its known centroids `(T, 2)` as (x, y)."""
    clip = torch.ones(1, 1, frames, resolution, resolution)
    truth = np.zeros((frames, 2))
    for t in range(frames):
        x, y = start[0] + velocity[0] * t, start[1] + velocity[1] * t
        clip[0, 0, t, y:y + size, x:x + size] = -1.0
        truth[t] = (x + (size - 1) / 2, y + (size - 1) / 2)
    return clip, truth


def test_clipnet_feature_shape():
    net = ClipNet(channels=3, resolution=32, frames=8)
    x = torch.rand(2, 3, 8, 32, 32) * 2 - 1
    assert net.features(x).shape == (2, 128)
    assert torch.allclose(net(x).norm(dim=1), torch.ones(2))


def test_views_keep_the_clip_shape(clips):
    assert clip_views(clips[:4]).shape == clips[:4].shape


def test_extractor_label_and_features(extractor, clips):
    assert extractor.label() == "clipnet-moving-glyphs-16x8s1"
    features = extractor.features(clips)
    assert features.shape == (32, 128) and features.dtype == np.float32
    assert abs(float(features.mean())) < 1e-3  # centred on the training clips
    with pytest.raises(ReelganError):
        extractor.features(clips[:, :, :4])  # wrong frame count


def test_save_load_round_trip_and_tamper_check(extractor, clips, tmp_path):
    path = tmp_path / "clipnet.safetensors"
    digest = save_clip_extractor(extractor.net, extractor.spec, path)
    assert digest == extractor.spec["sha256"]
    loaded = load_clip_extractor(path)
    assert loaded.label() == extractor.label()
    np.testing.assert_array_equal(loaded.features(clips), extractor.features(clips))
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ReelganError, match="sha256"):
        load_clip_extractor(path)


def test_load_rejects_other_files(tmp_path):
    (tmp_path / "x.safetensors").write_bytes(b"")
    (tmp_path / "x.json").write_text(json.dumps({"format": "something-else"}))
    with pytest.raises(ReelganError, match="not a reelgan clip extractor"):
        load_clip_extractor(tmp_path / "x.safetensors")
    with pytest.raises(ReelganError, match="not found"):
        load_clip_extractor(tmp_path / "missing.safetensors")


def test_fvd_sees_broken_time(extractor, clips):
    real = extractor.features(clips)
    shuffled = clips[:, :, torch.randperm(8, generator=torch.Generator().manual_seed(0))]
    static = clips[:, :, :1].expand_as(clips)
    same = fvd(real, real)["fvd"]
    assert same == pytest.approx(0.0, abs=1e-6)
    assert fvd(real, extractor.features(shuffled))["fvd"] > same + 1e-3
    assert fvd(real, extractor.features(static))["fvd"] > same + 1e-3


def test_evaluate_clip_generator_names_the_protocol(extractor, clips, tmp_path, monkeypatch):
    monkeypatch.setenv("REELGAN_CACHE", str(tmp_path))
    class FakeGenerator:  # stands in for a trained clip generator: returns real clips
        is_video, channels, resolution = True, 1, 16

        def sample(self, n, seed=0):
            return clips[:n]

    result = evaluate_clip_generator(FakeGenerator(), "moving-glyphs", 16, extractor, frames=8)
    assert list(result) == ["fvd16_clipnet-moving-glyphs-16x8s1"]
    assert result["fvd16_clipnet-moving-glyphs-16x8s1"] >= 0
    with pytest.raises(ReelganError, match="frames=8"):
        evaluate_clip_generator(FakeGenerator(), "moving-glyphs", 16, extractor, frames=4)


def test_track_ink_follows_a_moving_square():
    clip, truth = moving_square(start=(1, 9), velocity=(2, -1))
    np.testing.assert_allclose(track_ink(clip)[0], truth, atol=1e-9)
    blank = torch.ones(1, 1, 3, 16, 16)
    assert np.isnan(track_ink(blank)).all()


def test_motion_stats_of_a_steady_square():
    clip, _ = moving_square(start=(1, 2), velocity=(1, 1))
    stats = motion_stats(clip)
    assert stats["speed"] == pytest.approx(2 ** 0.5)
    assert stats["speed_cv"] == pytest.approx(0.0, abs=1e-9)
    assert stats["persistence"] == pytest.approx(1.0)


def test_motion_stats_of_static_and_moving_clips(clips):
    static = motion_stats(clips[:, :, :1].expand_as(clips))
    assert static["frame_diff"] == 0 and static["speed"] == 0
    moving = motion_stats(clips)
    assert moving["frame_diff"] > 0 and moving["speed"] > 0
    assert moving["persistence"] == pytest.approx(1.0, abs=0.1)
    assert 0 <= moving["bounce_consistency"] <= 1


def test_bounce_at_the_edge_counts_and_mid_frame_turn_does_not():
    frames = [(10, 4), (11, 4), (12, 4), (11, 4), (10, 4)]  # reaches x = 12..15: the right edge
    edge = torch.ones(1, 1, 5, 16, 16)
    middle = torch.ones(1, 1, 5, 16, 16)
    for t, (x, y) in enumerate(frames):
        edge[0, 0, t, y:y + 4, x:x + 4] = -1.0
        middle[0, 0, t, y:y + 4, x - 6:x - 2] = -1.0  # the same path 6 px to the left
    assert motion_stats(edge)["bounce_consistency"] == 1.0
    assert motion_stats(middle)["bounce_consistency"] == 0.0


def test_compare_motion_ratios(clips):
    result = compare_motion(clips, clips)
    assert set(result) == {"real", "fake", "ratio"}
    assert result["ratio"]["speed"] == pytest.approx(1.0)
    with pytest.raises(ReelganError):
        motion_stats(clips[:, :, :1])
