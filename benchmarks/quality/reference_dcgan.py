"""The reference peer: a plain DCGAN loop, the textbook recipe reelgan's defaults must beat. Not part of reelgan.

Radford et al. 2016 as commonly written: a generator of transposed 4x4 convolutions with batch norm and ReLU
(192-96-48 channels from 4 px up to 32 px, tanh out), a critic of strided 4x4 convolutions with LeakyReLU 0.2
(48-96-192 down to 4 px, then a 4x4 convolution to one logit), the non-saturating logistic loss without any
penalty, one critic step per generator step, Adam lr 2e-4 with betas (0.5, 0.999), batch 64, and an EMA of the
generator (decay 0.999, warmed up as min(0.999, (1 + t) / (10 + t)) like reelgan's, so that early snapshots are
not mostly the initial weights; `ema_warmup=False` gives the bare 0.999). Real and fake batches go through the
critic in one forward pass. It reads the same reelgan dataset object (items in [-1, 1], (C, H, W)) through
reelgan's data loader, so data preparation and order are identical to reelgan's runs.

    python -m benchmarks.quality.reference_dcgan --data logograms --seconds 60 --checkpoint-every 20 \\
        --out /work/data/quality-runs/reference-logograms
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import math
import time
from pathlib import Path
from typing import Callable

import safetensors.torch
import torch
import torch.nn.functional as F
from torch import nn

REFERENCE_FORMAT = "reference-dcgan-1"


class ReferenceGenerator(nn.Module):
    """z (B, latent) -> images (B, C, R, R) in [-1, 1]; `labels` is accepted and ignored (reelgan's call form)."""

    def __init__(self, latent_dim: int = 128, channels: int = 1, resolution: int = 32, width: int = 48) -> None:
        super().__init__()
        ups = int(math.log2(resolution)) - 2  # 4 px -> resolution: 3 doublings at 32 px
        ch = width * 2 ** (ups - 1)  # 192 at 4 px for width 48 at 32 px
        layers: list[nn.Module] = [nn.ConvTranspose2d(latent_dim, ch, 4, 1, 0, bias=False), nn.BatchNorm2d(ch),
                                   nn.ReLU(True)]  # (B, latent, 1, 1) -> (B, ch, 4, 4)
        for _ in range(ups - 1):
            layers += [nn.ConvTranspose2d(ch, ch // 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ch // 2), nn.ReLU(True)]
            ch //= 2
        layers += [nn.ConvTranspose2d(ch, channels, 4, 2, 1), nn.Tanh()]  # (B, width, R/2, R/2) -> (B, C, R, R)
        self.net = nn.Sequential(*layers)
        self.latent_dim = latent_dim

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return self.net(z[:, :, None, None])


class ReferenceCritic(nn.Module):
    """images (B, C, R, R) -> logits (B,)."""

    def __init__(self, channels: int = 1, resolution: int = 32, width: int = 48) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        ch_in, ch, size = channels, width, resolution
        while size > 4:  # 32 -> 16 -> 8 -> 4 px with 48, 96, 192 channels
            layers += [nn.Conv2d(ch_in, ch, 4, 2, 1), nn.LeakyReLU(0.2, True)]
            ch_in, ch, size = ch, ch * 2, size // 2
        layers.append(nn.Conv2d(ch_in, 1, 4, 1, 0))  # (B, 192, 4, 4) -> (B, 1, 1, 1)
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).flatten()


@torch.no_grad()
def update_ema(ema: nn.Module, model: nn.Module, decay: float) -> None:
    """ema <- decay * ema + (1 - decay) * model for parameters; batch-norm buffers copied."""
    for e, m in zip(ema.parameters(), model.parameters()):
        e.lerp_(m, 1.0 - decay)
    for e, m in zip(ema.buffers(), model.buffers()):
        e.copy_(m)


def spec_of(G: ReferenceGenerator, channels: int, resolution: int, width: int, **extra) -> dict:
    """What rebuilds the generator, in the shape reelgan's `Generator` wrapper reads (class_names etc.)."""
    return {"format": REFERENCE_FORMAT, "arch": "reference-dcgan", "resolution": resolution, "channels": channels,
            "latent_dim": G.latent_dim, "width": width, "class_names": [], **extra}


def save_snapshot(G_ema: nn.Module, spec: dict, path: Path) -> Path:
    """path.safetensors (EMA generator weights) + path.json (spec with the weights' sha256)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    weights = path.with_suffix(".safetensors")
    state = {k: v.detach().cpu().contiguous() for k, v in G_ema.state_dict().items()}
    safetensors.torch.save_file(state, str(weights), metadata={"format": REFERENCE_FORMAT})
    digest = hashlib.sha256(weights.read_bytes()).hexdigest()
    path.with_suffix(".json").write_text(json.dumps({**spec, "sha256": digest}, indent=2) + "\n")
    return weights


def load_reference_generator(weights: str | Path, device: str | torch.device = "cpu"):
    """A saved snapshot as a reelgan `Generator` (so reelgan's sampling and metrics apply unchanged)."""
    from reelgan.gan.generator import Generator

    weights = Path(weights)
    spec = json.loads(weights.with_suffix(".json").read_text())
    if spec.get("format") != REFERENCE_FORMAT:
        raise ValueError(f"{weights} is not a reference-dcgan snapshot")
    if hashlib.sha256(weights.read_bytes()).hexdigest() != spec["sha256"]:
        raise ValueError(f"{weights} does not match the sha256 in its .json")
    net = ReferenceGenerator(spec["latent_dim"], spec["channels"], spec["resolution"], spec["width"])
    net.load_state_dict(safetensors.torch.load_file(str(weights)))
    return Generator(net, spec, device)


def train_reference(dataset, seconds: float, checkpoint_every_s: float, out_dir: str | Path, seed: int = 0,
                    *, batch: int = 64, latent_dim: int = 128, width: int = 48, lr: float = 2e-4,
                    betas: tuple[float, float] = (0.5, 0.999), ema_decay: float = 0.999, ema_warmup: bool = True,
                    device: str | torch.device = "cpu", on_step: Callable[[int], None] | None = None,
                    clock: Callable[[], float] = time.perf_counter) -> dict:
    """Train for `seconds` of wall time; every `checkpoint_every_s` (and at the end) save the EMA generator as
    out_dir/snapshots/<seconds>s.safetensors + .json. Returns the log: steps, snapshots, timings.

    The clock starts after the networks and optimisers are built; snapshot saving (milliseconds) counts.
    """
    from reelgan.data import build_loader

    out_dir = Path(out_dir)
    device = torch.device(device)
    torch.manual_seed(seed)
    image, _ = dataset[0]
    channels, resolution = image.shape[0], image.shape[-1]
    G = ReferenceGenerator(latent_dim, channels, resolution, width).to(device)
    D = ReferenceCritic(channels, resolution, width).to(device)
    G_ema = copy.deepcopy(G).eval().requires_grad_(False)
    opt_G = torch.optim.Adam(G.parameters(), lr=lr, betas=betas)
    opt_D = torch.optim.Adam(D.parameters(), lr=lr, betas=betas)
    loader = iter(build_loader(dataset, batch, seed, 0, 0, device.type == "cuda"))
    count = max(1, math.ceil(seconds / checkpoint_every_s - 1e-9))
    marks = [round(min(seconds, checkpoint_every_s * k), 6) for k in range(1, count + 1)]  # ..., the budget
    settings = {"batch": batch, "latent_dim": latent_dim, "width": width, "lr": lr, "betas": list(betas),
                "ema_decay": ema_decay, "ema_warmup": ema_warmup, "n_critic": 1, "loss": "non-saturating logistic",
                "seed": seed}
    log = {"system": "reference-dcgan", "settings": settings, "snapshots": [], "nonfinite": False}
    step = 0
    start = clock()

    def snapshot(at_s: float) -> None:
        spec = spec_of(G, channels, resolution, width, trained_steps=step, seconds=at_s)
        stem = f"{len(log['snapshots']) + 1:03d}-{int(round(at_s)):05d}s"  # no dot: it would read as a suffix
        path = save_snapshot(G_ema, spec, out_dir / "snapshots" / stem)
        log["snapshots"].append({"seconds": at_s, "minutes": at_s / 60, "step": step,
                                 "kimg": step * batch / 1000, "path": str(path)})

    nonfinite = torch.zeros((), dtype=torch.bool, device=device)  # checked at snapshots: no sync per step
    while marks:
        elapsed = clock() - start
        if marks and elapsed >= marks[0] and bool(nonfinite):
            log["nonfinite"] = True  # a loss became NaN/inf since the last snapshot: stop, keep the earlier ones
            break
        while marks and elapsed >= marks[0]:
            snapshot(marks.pop(0))
        if not marks:
            break
        real = next(loader)[0].to(device, non_blocking=True)  # (B, C, R, R) in [-1, 1]
        z = torch.randn(real.size(0), latent_dim, device=device)
        fake = G(z)
        logits = D(torch.cat([real, fake.detach()]))  # one critic pass over real and fake, (2B,)
        loss_D = F.softplus(-logits[:len(real)]).mean() + F.softplus(logits[len(real):]).mean()
        opt_D.zero_grad(set_to_none=True)
        loss_D.backward()
        opt_D.step()
        loss_G = F.softplus(-D(fake)).mean()  # non-saturating: -log sigmoid(D(G(z)))
        opt_G.zero_grad(set_to_none=True)
        loss_G.backward()
        opt_G.step()
        update_ema(G_ema, G, min(ema_decay, (1 + step) / (10 + step)) if ema_warmup else ema_decay)
        step += 1
        nonfinite |= ~(torch.isfinite(loss_D.detach()) & torch.isfinite(loss_G.detach()))
        if on_step is not None:
            on_step(step)
    log.update({"steps": step, "kimg": step * batch / 1000, "train_s": round(clock() - start, 3),
                "threads": torch.get_num_threads()})
    return log


def main(argv: list[str] | None = None) -> int:
    from reelgan.config import DataConfig
    from reelgan.data import build_dataset

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default="logograms", help="a reelgan source: folder, .zip, .npy/.npz, logograms")
    parser.add_argument("--resolution", type=int, default=32)
    parser.add_argument("--channels", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=600.0, help="wall-time budget")
    parser.add_argument("--checkpoint-every", type=float, default=60.0, help="seconds between EMA snapshots")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args(argv)
    dataset = build_dataset(DataConfig(source=args.data, resolution=args.resolution, channels=args.channels))
    log = train_reference(dataset, args.seconds, args.checkpoint_every, args.out, args.seed, device=args.device)
    (args.out / "log.json").write_text(json.dumps(log, indent=2) + "\n")
    print(json.dumps({k: log[k] for k in ("steps", "kimg", "train_s")}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
