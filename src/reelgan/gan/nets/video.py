"""Networks for short clips: a content + motion generator, a 3D clip critic and a 2D frame critic.

The generator follows MoCoGAN (Tulyakov et al. 2018) and TGAN (Saito et al. 2017): a content latent fixed
for the whole clip and a motion latent per frame from a GRU, concatenated per frame and decoded by one
shared 2D DCGAN generator. Two critics judge a clip: a 3D-convolution critic on the whole clip (motion and
consistency, optionally on a spatially pooled copy as in DVD-GAN, Clark et al. 2019) and a 2D critic on a
few random frames (per-frame quality). Neither critic uses batch norm, so each score depends only on its
own clip and the per-sample gradient penalty stays valid. Clips are `(B, C, T, H, W)` in [-1, 1].
"""

from __future__ import annotations

from functools import partial

import torch
from torch import Tensor, nn

from ...checks import check_choice, check_int
from ...config import CLIP_CHANNELS, CLIP_FRAMES, CLIP_RESOLUTIONS, CRITIC_NORMS
from ...errors import ReelganError
from .dcgan import DCGANCritic, DCGANGenerator
from .layers import critic_norm, stage_width

DOWNSAMPLES = (1, 2, 4)


# ---- checks ----------------------------------------------------------------------------------------------


def check_clip_spec(resolution: int, frames: int, channels: int) -> None:
    """Validate what every clip network is built for: resolution 16/32/64, 8-16 frames, 1 or 3 channels."""
    check_choice("resolution", resolution, CLIP_RESOLUTIONS, " for clips")
    check_int("frames", frames, *CLIP_FRAMES)
    check_choice("channels", channels, CLIP_CHANNELS, " for clips")


def assert_clip_shape(x: Tensor, channels: int, frames: int | None, resolution: int, what: str) -> None:
    """Raise `ReelganError` unless `x` is a batch of clips (B, channels, frames, resolution, resolution).

    `frames=None` accepts any number of frames. The message names `what`, the expected and the actual shape.
    """
    t = "T" if frames is None else frames
    expected = f"(B, {channels}, {t}, {resolution}, {resolution})"
    ok = (x.dim() == 5 and x.shape[0] >= 1 and x.shape[1] == channels
          and (frames is None or x.shape[2] == frames) and tuple(x.shape[3:]) == (resolution, resolution))
    if not ok:
        raise ReelganError(f"{what} must have shape {expected} (batch, channels, frames, height, width); "
                           f"got {tuple(x.shape)}")


def _init_normal(module: nn.Module) -> None:
    """DCGAN initialisation for 3D critics: conv and linear weights N(0, 0.02), biases 0."""
    for m in module.modules():
        if isinstance(m, (nn.Conv3d, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)


# ---- generator -------------------------------------------------------------------------------------------


class VideoGenerator(nn.Module):
    """Clips from a content latent (one per clip) and per-frame motion noise driving a GRU.

    Frame t of a clip is `frame_generator(concat(z_content, h_t))` where `h_t = GRU(eps_t, h_{t-1})`,
    `h_0 = 0`. The frame generator is the DCGAN generator, shared by all frames. The motion noise is an
    input, so clips are reproducible from a seeded `torch.Generator` (see `sample_latents`). `forward`
    accepts any number of frames, so clips longer than the `frames` trained on can be rolled out.
    """

    def __init__(self, resolution: int, frames: int, channels: int, content_dim: int = 96,
                 motion_dim: int = 32, width: int = 16, max_width: int = 128) -> None:
        super().__init__()
        check_clip_spec(resolution, frames, channels)
        for name, value in (("content_dim", content_dim), ("motion_dim", motion_dim), ("width", width),
                            ("max_width", max_width)):
            check_int(name, value, 1)
        self.resolution, self.frames, self.channels = resolution, frames, channels
        self.content_dim, self.motion_dim = content_dim, motion_dim
        self.motion = nn.GRUCell(motion_dim, motion_dim)
        self.frame_generator = DCGANGenerator(resolution=resolution, channels=channels,
                                              latent_dim=content_dim + motion_dim, width=width,
                                              max_width=max_width)

    def _check_latents(self, z_content: Tensor, motion_noise: Tensor) -> None:
        """Raise `ReelganError` unless z_content is (B, content_dim) and motion_noise (B, T, motion_dim)."""
        if z_content.dim() != 2 or z_content.shape[1] != self.content_dim:
            raise ReelganError(f"z_content must have shape (B, {self.content_dim}); got {tuple(z_content.shape)}")
        if (motion_noise.dim() != 3 or motion_noise.shape[0] != z_content.shape[0]
                or motion_noise.shape[1] < 1 or motion_noise.shape[2] != self.motion_dim):
            raise ReelganError(f"motion_noise must have shape ({z_content.shape[0]}, T, {self.motion_dim}) "
                               f"with T >= 1; got {tuple(motion_noise.shape)}")

    def motion_latents(self, motion_noise: Tensor) -> Tensor:
        """Roll the GRU over per-frame noise: (B, T, motion_dim) -> z_m (B, T, motion_dim)."""
        h = motion_noise.new_zeros(motion_noise.shape[0], self.motion_dim)  # (B, M)
        states = []
        for t in range(motion_noise.shape[1]):
            h = self.motion(motion_noise[:, t], h)  # (B, M), (B, M) -> (B, M)
            states.append(h)
        return torch.stack(states, dim=1)  # T x (B, M) -> (B, T, M)

    def forward(self, z_content: Tensor, motion_noise: Tensor) -> Tensor:
        """Generate clips (B, channels, T, resolution, resolution) in [-1, 1].

        `z_content` (B, content_dim) is shared by all frames of a clip; `motion_noise` (B, T, motion_dim).
        """
        self._check_latents(z_content, motion_noise)
        batch, frames = motion_noise.shape[:2]
        z_motion = self.motion_latents(motion_noise)  # (B, T, M)
        z_content = z_content[:, None].expand(-1, frames, -1)  # (B, Zc) -> (B, T, Zc)
        z = torch.cat([z_content, z_motion], dim=2)  # (B, T, Zc + M)
        images = self.frame_generator(z.reshape(batch * frames, -1))  # (B*T, Zc + M) -> (B*T, C, H, W)
        clips = images.view(batch, frames, *images.shape[1:])  # (B*T, C, H, W) -> (B, T, C, H, W)
        return clips.transpose(1, 2)  # (B, T, C, H, W) -> (B, C, T, H, W)

    def sample_latents(self, n: int, generator: torch.Generator | None = None,
                       frames: int | None = None) -> tuple[Tensor, Tensor]:
        """Draw (z_content (n, content_dim), motion_noise (n, frames, motion_dim)) from N(0, 1).

        Drawn with `generator` (the global RNG when None) on its device, then moved to this module's device.
        `frames` defaults to the number the generator was built for.
        """
        check_int("n", n, 1)
        frames = self.frames if frames is None else frames
        check_int("frames", frames, 1)
        device = generator.device if generator is not None else torch.device("cpu")
        z_content = torch.randn(n, self.content_dim, generator=generator, device=device)
        motion_noise = torch.randn(n, frames, self.motion_dim, generator=generator, device=device)
        target = self.motion.weight_ih.device
        return z_content.to(target), motion_noise.to(target)

    def sample_variations(self, n: int, keep: str = "content", generator: torch.Generator | None = None,
                          frames: int | None = None) -> tuple[Tensor, Tensor]:
        """Latents of n clips that share one part: `keep="content"` (same subject, different motion) or
        `keep="motion"` (same motion, different subjects). Feed the pair to `forward`."""
        check_choice("keep", keep, ("content", "motion"))
        z_content, motion_noise = self.sample_latents(n, generator, frames)
        if keep == "content":
            z_content = z_content[:1].expand_as(z_content).clone()  # (1, Zc) -> (n, Zc)
        else:
            motion_noise = motion_noise[:1].expand_as(motion_noise).clone()  # (1, T, M) -> (n, T, M)
        return z_content, motion_noise


# ---- critics ---------------------------------------------------------------------------------------------


def _conv3d_stages(resolution: int, frames: int) -> tuple[list[tuple[int, int]], int]:
    """(spatial size read, temporal stride) of each stride-2 block down to 4x4, and the frames left.

    Time is halved (kernel 4) while at least 4 frames remain, then kept (kernel 3), so short clips keep
    2-3 frames of temporal context at the end.
    """
    stages, size, t = [], resolution, frames
    while size > 4:
        t_stride = 2 if t >= 4 else 1
        stages.append((size, t_stride))
        size = size // 2
        t = (t - 2) // 2 + 1 if t_stride == 2 else t  # Conv3d length formula for kernel 4, stride 2, pad 1
    return stages, t


class VideoCritic3D(nn.Module):
    """3D-convolution critic on whole clips: stride-2 Conv3d + LeakyReLU(0.2) blocks to 4x4, then linear.

    With `downsample > 1` the clip is first average-pooled spatially by that factor (DVD-GAN's temporal
    critic), which makes the critic cheaper and focused on motion. Widths follow the image rule on the
    pooled size r: the block reading size s writes `min(max_width, width * r // s)` channels. `norm` is
    "none" or "layernorm" (per sample; never batch norm). Returns raw scores (B,).
    """

    def __init__(self, resolution: int, frames: int, channels: int, width: int = 32, max_width: int = 256,
                 downsample: int = 1, norm: str = "none") -> None:
        super().__init__()
        check_clip_spec(resolution, frames, channels)
        check_int("width", width, 1)
        check_int("max_width", max_width, 1)
        check_choice("downsample", downsample, DOWNSAMPLES)
        check_choice("norm", norm, CRITIC_NORMS)
        if resolution // downsample < 8:
            raise ReelganError(f"downsample {downsample} leaves {resolution // downsample} px of a "
                               f"{resolution} px clip; the clip critic needs at least 8")
        self.resolution, self.frames, self.channels = resolution, frames, channels
        pooled = resolution // downsample
        self.pool = nn.AvgPool3d((1, downsample, downsample)) if downsample > 1 else nn.Identity()
        w = partial(stage_width, resolution=pooled, width=width, max_width=max_width)
        layers: list[nn.Module] = []
        in_channels = channels
        stages, t_out = _conv3d_stages(pooled, frames)
        for i, (size, t_stride) in enumerate(stages):
            t_kernel = 4 if t_stride == 2 else 3
            layers += [nn.Conv3d(in_channels, w(size), (t_kernel, 4, 4), stride=(t_stride, 2, 2), padding=1),
                       nn.Identity() if i == 0 else critic_norm(norm, w(size)),  # first block: no norm
                       nn.LeakyReLU(0.2)]
            in_channels = w(size)
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(in_channels * t_out * 4 * 4, 1)
        _init_normal(self)

    def forward(self, clips: Tensor) -> Tensor:
        """Score clips (B, channels, frames, resolution, resolution); returns (B,) raw scores."""
        assert_clip_shape(clips, self.channels, self.frames, self.resolution, "clips given to the clip critic")
        h = self.pool(clips)  # (B, C, T, H, W) -> (B, C, T, H/d, W/d)
        h = self.features(h)  # -> (B, w, T', 4, 4)
        return self.head(h.flatten(1)).squeeze(1)  # (B, w*T'*16) -> (B, 1) -> (B,)


class FrameCritic2D(nn.Module):
    """Scores `k` random frames of each clip with the DCGAN image critic and averages them to (B,).

    Frames are drawn without replacement, independently per clip, from `generator` (the global RNG when
    None). Any number of frames >= k is accepted. `norm` as in `VideoCritic3D`.
    """

    def __init__(self, resolution: int, channels: int, width: int = 32, max_width: int = 256, k: int = 4,
                 norm: str = "none") -> None:
        super().__init__()
        check_choice("resolution", resolution, CLIP_RESOLUTIONS, " for clips")
        check_choice("channels", channels, CLIP_CHANNELS, " for clips")
        check_int("width", width, 1)
        check_int("max_width", max_width, 1)
        check_int("k", k, 1, CLIP_FRAMES[1])
        check_choice("norm", norm, CRITIC_NORMS)
        self.resolution, self.channels, self.k = resolution, channels, k
        self.image_critic = DCGANCritic(resolution=resolution, channels=channels, width=width,
                                        max_width=max_width, norm=norm)

    def frame_indices(self, batch: int, frames: int, generator: torch.Generator | None = None,
                      device: torch.device | None = None) -> Tensor:
        """k distinct frame indices per clip, (batch, k), drawn with `generator`."""
        rng_device = generator.device if generator is not None else torch.device("cpu")
        keys = torch.rand(batch, frames, generator=generator, device=rng_device)  # (B, T)
        return keys.argsort(dim=1)[:, : self.k].to(device or rng_device)  # (B, T) -> (B, k)

    def forward(self, clips: Tensor, generator: torch.Generator | None = None) -> Tensor:
        """Score clips (B, channels, T, resolution, resolution) with T >= k; returns (B,) raw scores."""
        assert_clip_shape(clips, self.channels, None, self.resolution, "clips given to the frame critic")
        batch, frames = clips.shape[0], clips.shape[2]
        if frames < self.k:
            raise ReelganError(f"the frame critic scores k={self.k} frames per clip; the clips have {frames}")
        index = self.frame_indices(batch, frames, generator, clips.device)  # (B, k)
        rows = torch.arange(batch, device=clips.device)[:, None]  # (B, 1)
        picked = clips.transpose(1, 2)[rows, index]  # (B, T, C, H, W) -> (B, k, C, H, W)
        scores = self.image_critic(picked.flatten(0, 1))  # (B*k, C, H, W) -> (B*k,)
        return scores.view(batch, self.k).mean(dim=1)  # (B*k,) -> (B, k) -> (B,)


class FlatVideoGenerator(nn.Module):
    """A VideoGenerator driven by one flat latent per clip, so that the image engine's code paths (seeded
    latents, EMA, export, `Generator.sample`) work on clips unchanged.

    z (B, content_dim + frames * motion_dim) is split into the content latent (B, content_dim) and the
    motion noise (B, frames, motion_dim). `labels` is accepted and ignored (clips have no classes).
    """

    def __init__(self, resolution: int, frames: int, channels: int, content_dim: int = 96, motion_dim: int = 32,
                 width: int = 16, max_width: int = 128) -> None:
        super().__init__()
        self.video = VideoGenerator(resolution, frames, channels, content_dim, motion_dim, width, max_width)
        self.frames, self.content_dim, self.motion_dim = frames, content_dim, motion_dim
        self.latent_dim = content_dim + frames * motion_dim

    def split(self, z: Tensor) -> tuple[Tensor, Tensor]:
        """(B, latent_dim) -> z_content (B, content_dim), motion noise (B, frames, motion_dim)."""
        if z.dim() != 2 or z.shape[1] != self.latent_dim:
            raise ReelganError(f"a clip latent has shape (B, {self.latent_dim}); got {tuple(z.shape)}")
        return z[:, :self.content_dim], z[:, self.content_dim:].reshape(len(z), self.frames, self.motion_dim)

    def forward(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        """Clips (B, C, T, H, W) in [-1, 1] from flat latents (B, latent_dim)."""
        return self.video(*self.split(z))


class VideoCritics(nn.ModuleDict):
    """The clip critic (3D convolutions) and the frame critic (2D, k random frames) as one module, so that
    one optimiser and one checkpoint entry hold both. `GANLoss` scores with each (`critics["clip"]`,
    `critics["frame"]`) and adds their losses."""

    def __init__(self, resolution: int, frames: int, channels: int, width: int = 32, max_width: int = 256,
                 norm: str = "none") -> None:
        super().__init__({"clip": VideoCritic3D(resolution, frames, channels, width, max_width, norm=norm),
                          "frame": FrameCritic2D(resolution, channels, width, max_width, norm=norm)})
