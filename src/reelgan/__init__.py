"""reelgan: GANs on your own images and footage, for film pre-production.

The Python API mirrors the command line:

    import reelgan
    from reelgan.config import build_config

    result = reelgan.train(build_config(overrides={"data": {"source": "logograms"}, "train": {"steps": 500}}))
    G = reelgan.load_generator(result.run_dir)
    images = G.sample(16, seed=0)  # (16, C, H, W) float tensor in [-1, 1]
"""

__version__ = "0.1.0"

from .config import RunConfig, build_config  # noqa: E402  (after __version__, which submodules read)
from .errors import ReelganError  # noqa: E402
from .gan.generator import Generator, load_generator  # noqa: E402
from .training import train  # noqa: E402

__all__ = ["__version__", "RunConfig", "build_config", "ReelganError", "Generator", "load_generator", "train"]
