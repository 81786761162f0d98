"""Does a class-conditional generator's label change what it draws? Class distinctness, in pixels.

For S seeds and every class c the generator draws x(s, c), images in [-1, 1]. Then:

- class change: the mean RMS pixel difference between x(s, c) and x(s, c') for the same seed and two
  classes, over all seeds and class pairs;
- seed change: the same between x(s, c) and x(s', c), two seeds of one class;
- distinctness = class change / seed change: near 0 when the label barely changes the image, near 1 or
  more when changing the class changes as much as drawing another image.

It needs no features and no real images, so the end of every `--cond` run can afford it.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import torch

# Under this distinctness the label barely steers the samples. Measured at 5 minutes (benchmarks/RESULTS.md,
# "the auxiliary class loss"): Omniglot's 30 alphabets 0.48 and 0.51 with the projection critic alone (two
# seeds), 0.85-0.94 with --class-weight 1; Fashion-MNIST's 10 classes 1.27 without it.
WEAK_DISTINCTNESS = 0.7
# Class pairs grow with the square of the classes: the check looks at the first ones only.
MAX_CLASSES = 32


def mean_rms(a: torch.Tensor, b: torch.Tensor) -> float:
    """Mean over items of the RMS difference of two image batches of the same shape (N, C, H, W)."""
    return float((a - b).flatten(1).square().mean(dim=1).sqrt().mean())


def class_distinctness(draw: Callable[[torch.Tensor, torch.Tensor], torch.Tensor], latents: torch.Tensor,
                       classes: int, max_classes: int = MAX_CLASSES) -> dict[str, float | int]:
    """Class change, seed change and their ratio for `draw(latents (S, Z), labels (S,)) -> images (S, C, H, W)`.

    Uses the first `max_classes` classes and all S latents (S >= 2, classes >= 2)."""
    if classes < 2 or len(latents) < 2:
        raise ValueError(f"class distinctness needs 2 classes and 2 latents, not {classes} and {len(latents)}")
    used = min(classes, max_classes)
    samples = [draw(latents, torch.full((len(latents),), c, dtype=torch.long)).float().cpu() for c in range(used)]
    class_change = np.mean([mean_rms(samples[c], samples[d]) for c in range(used) for d in range(c + 1, used)])
    seed_change = np.mean([mean_rms(s, s.roll(1, dims=0)) for s in samples])
    return {"classes": used, "seeds": len(latents), "class_change": round(float(class_change), 6),
            "seed_change": round(float(seed_change), 6),
            "distinctness": round(float(class_change / max(seed_change, 1e-8)), 3)}
