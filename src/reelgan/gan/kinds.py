"""Images or clips: what differs between the two kinds of GAN, decided here once.

The training loop, the generator loader and the sample writers look a kind up (`KINDS[config.data.kind]`,
`kind_of(spec)`) instead of branching on it: which networks it trains, which settings apply to it
(DiffAugment, bf16 autocast under `--precision auto`, channels-last memory and the end-of-run copy check are
for 4-D images), which sizes its networks are built for, and the suffix its samples are written with.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from torch import nn

from ..config import ARCHITECTURES, CHANNELS, CLIP_CHANNELS, CLIP_RESOLUTIONS, RESOLUTIONS, RunConfig
from ..errors import ReelganError
from .nets import build_critic, build_generator


@dataclass(frozen=True)
class Kind:
    """One kind of GAN: images (B, C, H, W) or clips (B, C, T, H, W)."""

    name: str                          # DataConfig.kind
    resolutions: tuple[int, ...]       # what its networks are built for
    channels: tuple[int, ...]
    architectures: tuple[str, ...]
    image_only_settings: bool          # DiffAugment, bf16 "auto", channels-last and the copy check apply
    spec_fields: dict[str, type]       # generator spec fields beyond the common ones, with their types
    spec_extra: Callable[[dict[str, Any], dict[str, Any]], dict[str, Any]]  # those fields from (data, net) config
    build_generator: Callable[[dict[str, Any]], nn.Module]  # an untrained generator from a generator spec
    build_critic: Callable[[RunConfig, int], nn.Module]     # the critic(s) for a config and a class count
    sample_suffix: str                 # how one sample is written: ".png" or ".mp4"


def _image_generator(spec: dict[str, Any]) -> nn.Module:
    return build_generator(spec["arch"], resolution=spec["resolution"], channels=spec["channels"],
                           latent_dim=spec["latent_dim"], width=spec["width"], max_width=spec["max_width"],
                           num_classes=len(spec["class_names"]))


def _image_critic(config: RunConfig, num_classes: int) -> nn.Module:
    data, net = config.data, config.net
    return build_critic(net.arch, resolution=data.resolution, channels=data.channels, width=net.d_width,
                        max_width=net.max_width, num_classes=num_classes, norm=net.critic_norm,
                        class_head=num_classes > 0 and config.loss.class_weight > 0)


def _clip_generator(spec: dict[str, Any]) -> nn.Module:
    """A content + motion generator behind one flat latent per clip."""
    from .nets.video import FlatVideoGenerator

    return FlatVideoGenerator(spec["resolution"], spec["frames"], spec["channels"], spec["content_dim"],
                              spec["motion_dim"], spec["width"], spec["max_width"])


def _clip_critics(config: RunConfig, num_classes: int) -> nn.Module:
    """The clip (3D) and frame (2D) critics as one module; clips have no classes."""
    from .nets.video import VideoCritics

    data, net = config.data, config.net
    return VideoCritics(data.resolution, data.frames, data.channels, net.d_width, net.max_width,
                        norm=net.critic_norm)


def _clip_spec(data: dict[str, Any], net: dict[str, Any]) -> dict[str, Any]:
    """A clip generator's spec: its flat latent holds the content latent and every frame's motion."""
    return {"kind": "video", "arch": "video", "frames": data["frames"], "stride": data["stride"],
            "content_dim": net["content_dim"], "motion_dim": net["motion_dim"],
            "latent_dim": net["content_dim"] + data["frames"] * net["motion_dim"]}


IMAGE = Kind(name="image", resolutions=RESOLUTIONS, channels=CHANNELS, architectures=ARCHITECTURES,
             image_only_settings=True, spec_fields={}, spec_extra=lambda data, net: {},
             build_generator=_image_generator, build_critic=_image_critic, sample_suffix=".png")
CLIP = Kind(name="video", resolutions=CLIP_RESOLUTIONS, channels=CLIP_CHANNELS, architectures=("video",),
            image_only_settings=False, spec_fields={"frames": int, "content_dim": int, "motion_dim": int},
            spec_extra=_clip_spec, build_generator=_clip_generator, build_critic=_clip_critics,
            sample_suffix=".mp4")
KINDS = {kind.name: kind for kind in (IMAGE, CLIP)}


def kind_of(spec: dict[str, Any]) -> Kind:
    """The kind of a generator spec (specs of image generators written before clips existed have no kind)."""
    name = spec.get("kind", "image")
    if name not in KINDS:
        raise ReelganError(f"a generator of kind {name!r} is not one reelgan makes ({', '.join(KINDS)})")
    return KINDS[name]
