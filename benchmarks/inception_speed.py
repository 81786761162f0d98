"""Feature-extraction speed of the `inception` (FID Inception-v3) and `domain` extractors.

Speed does not depend on the weights, so the Inception network here is randomly initialised (the real
weights are 95.6 MB and fetched by `reelgan metrics fetch-weights`); the domain extractor is the bundled one.

    python benchmarks/inception_speed.py --n 256                 # CPU: extrapolate to 10k
    python benchmarks/inception_speed.py --device cuda --n 10000
"""

from __future__ import annotations

import argparse
import json
import time

import torch

from reelgan.metrics.domain import bundled_extractor_path, load_extractor
from reelgan.metrics.inception import FIDInceptionV3, InceptionExtractor


def time_features(extractor, images: torch.Tensor, device: str, batch: int) -> float:
    """Seconds to extract features of `images`, after one warm-up batch."""
    extractor.features(images[:8], batch=batch)
    if device == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    extractor.features(images, batch=batch)
    if device == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--n", type=int, default=256, help="32 px grayscale images to extract")
    parser.add_argument("--batch", type=int, default=64, help="Inception batch")
    args = parser.parse_args()

    images = torch.rand(args.n, 1, 32, 32) * 2 - 1
    inception = InceptionExtractor(FIDInceptionV3(), "random-weights", args.device)
    seconds = time_features(inception, images, args.device, args.batch)
    domain_s = time_features(load_extractor(bundled_extractor_path("logograms", 32)), images, "cpu", 512)
    print(json.dumps({
        "device": torch.cuda.get_device_name() if args.device == "cuda" else "cpu",
        "threads": torch.get_num_threads(), "torch": torch.__version__, "n": args.n,
        "inception_s": round(seconds, 2), "inception_images_per_s": round(args.n / seconds, 1),
        "inception_10k_s_estimate": round(10000 * seconds / args.n, 1),
        "domain_s (cpu)": round(domain_s, 2),
    }))


if __name__ == "__main__":
    main()
