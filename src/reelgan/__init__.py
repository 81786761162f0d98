"""reelgan: GANs on your own images and footage, for film pre-production."""

__version__ = "0.1.0"
