"""The GAN engine's parts, each usable alone: networks, losses, augmentation, the checkpoint format, the
sampling wrapper of a trained generator, and latent sampling."""
