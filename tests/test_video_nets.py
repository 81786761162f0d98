"""Tests for the clip networks (content + motion generator, 3D and frame critics) and the clip WGAN-GP."""

from __future__ import annotations

import pytest
import torch
from torch import Tensor, nn

from reelgan.config import LossConfig
from reelgan.errors import ReelganError
from reelgan.gan.losses import GANLoss
from reelgan.gan.nets.video import FlatVideoGenerator, FrameCritic2D, VideoCritic3D, VideoGenerator, assert_clip_shape

SMALL_G = {"content_dim": 24, "motion_dim": 8, "width": 8, "max_width": 32}
SMALL_D = {"width": 8, "max_width": 32}


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)


def _rng(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _mad(a: Tensor, b: Tensor) -> float:
    """Mean absolute difference."""
    return (a - b).abs().mean().item()


# ---- generator -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("resolution", [16, 32])
@pytest.mark.parametrize("frames", [8, 16])
@pytest.mark.parametrize("channels", [1, 3])
def test_generator_shape_and_range(resolution: int, frames: int, channels: int) -> None:
    G = VideoGenerator(resolution, frames, channels, **SMALL_G)
    z_content, motion_noise = G.sample_latents(3, _rng())
    assert z_content.shape == (3, 24) and motion_noise.shape == (3, frames, 8)
    clips = G(z_content, motion_noise)
    assert clips.shape == (3, channels, frames, resolution, resolution)
    assert clips.min() >= -1 and clips.max() <= 1


def test_same_latents_give_identical_clips() -> None:
    G = VideoGenerator(16, 8, 3, **SMALL_G)
    first = G(*G.sample_latents(2, _rng(7)))
    second = G(*G.sample_latents(2, _rng(7)))
    assert torch.equal(first, second)
    other = G(*G.sample_latents(2, _rng(8)))
    assert _mad(first, other) > 1e-3


def test_motion_changes_frames_content_changes_more() -> None:
    G = VideoGenerator(16, 8, 3, **SMALL_G)
    z_content, motion_noise = G.sample_latents(2, _rng(1))
    # One batch (so the frame generator's batch norm sees the same statistics for all three clips):
    # 0 = (content a, motion a), 1 = (content a, motion b), 2 = (content b, motion a).
    zc = torch.stack([z_content[0], z_content[0], z_content[1]])
    eps = torch.stack([motion_noise[0], motion_noise[1], motion_noise[0]])
    clips = G(zc, eps)  # (3, C, T, H, W)
    assert _mad(clips[0, :, 0], clips[0, :, -1]) > 1e-4  # frames of one clip move
    same_content = _mad(clips[0], clips[1])
    assert same_content > 1e-4  # other motion noise gives another clip
    assert same_content < 0.5 * _mad(clips[0], clips[2])  # ... that looks more alike than other content
    assert _mad(clips[0, :, 0], clips[1, :, 0]) < 0.5 * _mad(clips[0, :, 0], clips[2, :, 0])


def test_sample_variations_share_the_kept_part() -> None:
    G = VideoGenerator(16, 8, 1, **SMALL_G)
    zc, eps = G.sample_variations(3, keep="content", generator=_rng())
    assert torch.equal(zc[0], zc[2]) and not torch.equal(eps[0], eps[2])
    zc, eps = G.sample_variations(3, keep="motion", generator=_rng())
    assert torch.equal(eps[0], eps[2]) and not torch.equal(zc[0], zc[2])
    with pytest.raises(ReelganError, match="keep"):
        G.sample_variations(3, keep="style")


def test_generator_rolls_out_longer_clips() -> None:
    G = VideoGenerator(16, 8, 1, **SMALL_G).eval()
    z_content, motion_noise = G.sample_latents(2, _rng(), frames=12)
    long = G(z_content, motion_noise)
    assert long.shape == (2, 1, 12, 16, 16)
    # The motion is causal: the first 8 frames do not depend on the later noise.
    assert torch.allclose(long[:, :, :8], G(z_content, motion_noise[:, :8]), atol=1e-6)


def test_generator_rejects_bad_latents() -> None:
    G = VideoGenerator(16, 8, 1, **SMALL_G)
    with pytest.raises(ReelganError, match="z_content"):
        G(torch.zeros(2, 5), torch.zeros(2, 8, 8))
    with pytest.raises(ReelganError, match="motion_noise"):
        G(torch.zeros(2, 24), torch.zeros(3, 8, 8))


# ---- critics ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("resolution, frames, channels, downsample",
                         [(16, 8, 1, 1), (32, 16, 3, 1), (32, 8, 3, 2), (32, 12, 1, 4)])
def test_clip_critic_scores_each_clip_alone(resolution: int, frames: int, channels: int,
                                            downsample: int) -> None:
    D = VideoCritic3D(resolution, frames, channels, downsample=downsample, norm="layernorm", **SMALL_D)
    clips = torch.rand(3, channels, frames, resolution, resolution) * 2 - 1
    scores = D(clips)
    assert scores.shape == (3,)
    one_by_one = torch.cat([D(clips[i : i + 1]) for i in range(3)])
    assert torch.allclose(scores, one_by_one, atol=1e-5)


@pytest.mark.parametrize("resolution, channels", [(16, 1), (32, 3)])
def test_frame_critic_scores_each_clip_alone(resolution: int, channels: int) -> None:
    D = FrameCritic2D(resolution, channels, k=8, **SMALL_D)  # k = T: every frame, so no random choice
    clips = torch.rand(3, channels, 8, resolution, resolution) * 2 - 1
    scores = D(clips)
    assert scores.shape == (3,)
    one_by_one = torch.cat([D(clips[i : i + 1]) for i in range(3)])
    assert torch.allclose(scores, one_by_one, atol=1e-5)


def test_frame_critic_choice_is_seedable_and_averages_k_frames() -> None:
    D = FrameCritic2D(16, 1, k=3, **SMALL_D)
    clips = torch.rand(4, 1, 8, 16, 16) * 2 - 1
    assert torch.equal(D(clips, _rng(3)), D(clips, _rng(3)))
    index = D.frame_indices(4, 8, _rng(3))
    assert index.shape == (4, 3) and all(len(set(row.tolist())) == 3 for row in index)
    frames = clips.transpose(1, 2)[torch.arange(4)[:, None], index]  # (4, 3, 1, 16, 16)
    expected = D.image_critic(frames.flatten(0, 1)).view(4, 3).mean(1)
    assert torch.allclose(D(clips, _rng(3)), expected, atol=1e-6)
    with pytest.raises(ReelganError, match="k=3"):
        D(clips[:, :, :2])


def test_clip_shape_errors_name_expected_and_actual() -> None:
    with pytest.raises(ReelganError, match=r"\(B, 3, 8, 16, 16\).*\(2, 3, 8, 16, 32\)"):
        assert_clip_shape(torch.zeros(2, 3, 8, 16, 32), 3, 8, 16, "real clips")
    D = VideoCritic3D(16, 8, 3, **SMALL_D)
    with pytest.raises(ReelganError, match="clip critic"):
        D(torch.zeros(2, 3, 16, 16))  # a batch of images, not clips


@pytest.mark.parametrize("build", [
    lambda: VideoGenerator(24, 8, 3),
    lambda: VideoGenerator(128, 8, 3),
    lambda: VideoGenerator(32, 7, 3),
    lambda: VideoGenerator(32, 17, 3),
    lambda: VideoGenerator(32, 8, 4),
    lambda: VideoGenerator(32, 8, 3, motion_dim=0),
    lambda: VideoCritic3D(48, 8, 3),
    lambda: VideoCritic3D(32, 20, 3),
    lambda: VideoCritic3D(32, 8, 2),
    lambda: VideoCritic3D(16, 8, 3, downsample=4),
    lambda: VideoCritic3D(32, 8, 3, downsample=3),
    lambda: VideoCritic3D(32, 8, 3, norm="batchnorm"),
    lambda: FrameCritic2D(8, 3),
    lambda: FrameCritic2D(32, 4),
    lambda: FrameCritic2D(32, 3, k=0),
])
def test_bad_values_raise(build) -> None:
    with pytest.raises(ReelganError):
        build()


# ---- loss ------------------------------------------------------------------------------------------------


class LinearCritic(nn.Module):
    """score(x) = <w, x> over (C, T, H, W): its input gradient is w for every clip."""

    def __init__(self, weight: Tensor) -> None:
        super().__init__()
        self.weight = nn.Parameter(weight)

    def forward(self, clips: Tensor) -> Tensor:
        return (clips * self.weight).flatten(1).sum(1)  # (B, C, T, H, W) -> (B,)


def _flat_latents(G: FlatVideoGenerator, n: int, seed: int = 0) -> Tensor:
    return torch.randn(n, G.latent_dim, generator=_rng(seed))


WGAN_GP = LossConfig(kind="wgan-gp", augment="", drift=0.0)


def test_gradient_penalty_is_per_clip_over_all_dims() -> None:
    G = FlatVideoGenerator(16, 8, 1, **SMALL_G)
    # A weight spread over frames with ||w|| = 3 over (C, T, H, W): per clip (3 - 1)^2 = 4, whereas a norm
    # over the whole batch of 4 would give (6 - 1)^2 = 25 and a per-frame norm something else again.
    weight = torch.zeros(1, 8, 16, 16)
    weight[0, 0, 0, 0], weight[0, 3, 5, 7], weight[0, 7, 2, 2] = 2.0, 2.0, 1.0
    loss = GANLoss(WGAN_GP, G, nn.ModuleDict({"clip": LinearCritic(weight)}))
    real = torch.rand(4, 1, 8, 16, 16) * 2 - 1
    result = loss.critic_phase(real, None, _flat_latents(G, 4))
    assert result.stats["gp_clip"].item() == pytest.approx(4.0)
    expected = result.stats["loss_D_clip"] + 10.0 * 4.0
    assert result.loss.item() == pytest.approx(expected.item(), rel=1e-5)


def test_one_step_of_generator_and_both_critics_changes_weights() -> None:
    G = FlatVideoGenerator(16, 8, 3, **SMALL_G)
    D3 = VideoCritic3D(16, 8, 3, **SMALL_D)
    D2 = FrameCritic2D(16, 3, k=2, **SMALL_D)
    loss = GANLoss(LossConfig(kind="wgan-gp", augment=""), G, nn.ModuleDict({"clip": D3, "frame": D2}))
    opt_G = torch.optim.Adam(G.parameters(), lr=1e-3, betas=(0.0, 0.9))
    opt_D = torch.optim.Adam([*D3.parameters(), *D2.parameters()], lr=1e-3, betas=(0.0, 0.9))
    before = {name: [p.detach().clone() for p in m.parameters()] for name, m in
              (("G", G), ("D3", D3), ("D2", D2))}
    real = torch.rand(4, 3, 8, 16, 16) * 2 - 1

    G.requires_grad_(False)
    result = loss.critic_phase(real, None, _flat_latents(G, 4, 1))
    assert {"loss_D", "gp_clip", "gp_frame", "score_real_frame"} <= set(result.stats)
    assert result.stats["loss_D"] == result.stats["loss_D_clip"] + result.stats["loss_D_frame"]
    opt_D.zero_grad(set_to_none=True)
    result.loss.backward()
    opt_D.step()
    G.requires_grad_(True)
    for D in (D3, D2):
        D.requires_grad_(False)
    result = loss.generator_phase(_flat_latents(G, 4, 2), None)
    assert set(result.stats) == {"loss_G", "loss_G_clip", "loss_G_frame"}
    opt_G.zero_grad(set_to_none=True)
    result.loss.backward()
    opt_G.step()

    for name, m in (("G", G), ("D3", D3), ("D2", D2)):
        changed = [not torch.equal(a, b) for a, b in zip(before[name], m.parameters())]
        assert all(changed), f"{name}: {changed.count(False)} parameter tensors did not change"
    assert all(torch.isfinite(v) for v in result.stats.values())


def test_loss_rejects_clips_the_generator_does_not_make() -> None:
    G, D = FlatVideoGenerator(16, 8, 1, **SMALL_G), VideoCritic3D(16, 8, 1, **SMALL_D)
    with pytest.raises(ReelganError, match="shape"):
        GANLoss(WGAN_GP, G, nn.ModuleDict({"clip": D})).critic_phase(torch.zeros(2, 1, 9, 16, 16), None,
                                                                       _flat_latents(G, 2))
