"""Generator and critic networks, built by architecture name."""

from __future__ import annotations

from ...checks import check_choice
from ...config import ARCHITECTURES
from .dcgan import DCGANCritic, DCGANGenerator
from .layers import ImageCritic, ImageGenerator
from .resnet import ResNetCritic, ResNetGenerator

__all__ = ["ARCHITECTURES", "Critic", "Generator", "build_critic", "build_generator"]

_GENERATORS: dict[str, type[ImageGenerator]] = {"dcgan": DCGANGenerator, "resnet": ResNetGenerator}
_CRITICS: dict[str, type[ImageCritic]] = {"dcgan": DCGANCritic, "resnet": ResNetCritic}


def build_generator(arch: str, *, resolution: int, channels: int, latent_dim: int = 128, width: int = 64,
                    max_width: int = 256, num_classes: int = 0) -> ImageGenerator:
    """Build the generator of architecture `arch` ("dcgan" or "resnet").

    `resolution` is a power of two in 16..256 and `channels` 1, 3 or 4; a stage at spatial size r
    has `min(max_width, width * resolution // r)` channels. Raises `ReelganError` on a bad value.
    """
    check_choice("arch", arch, ARCHITECTURES)
    return _GENERATORS[arch](resolution=resolution, channels=channels, latent_dim=latent_dim, width=width,
                             max_width=max_width, num_classes=num_classes)


def build_critic(arch: str, *, resolution: int, channels: int, width: int = 64, max_width: int = 256,
                 num_classes: int = 0, norm: str = "none", class_head: bool = False) -> ImageCritic:
    """Build the critic of architecture `arch` ("dcgan" or "resnet").

    `norm` is "none" or "layernorm" (per-sample; critics never use batch norm). `class_head` adds the class
    logits of the auxiliary class loss (needs `num_classes`). Other arguments as in `build_generator`.
    Raises `ReelganError` on a bad value.
    """
    check_choice("arch", arch, ARCHITECTURES)
    return _CRITICS[arch](resolution=resolution, channels=channels, width=width, max_width=max_width,
                          num_classes=num_classes, norm=norm, class_head=class_head)
