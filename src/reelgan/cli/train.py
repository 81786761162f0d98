"""`reelgan train`: train a GAN from flags and/or a TOML config, or resume a run."""

from __future__ import annotations

import argparse
import json
import os
from typing import Any

from ..config import PRESETS, LossConfig, TrainConfig, build_config, load_toml
from ..errors import ReelganError
from .common import add_command

EXAMPLES = """\
  reelgan train --data logograms --steps 4000
  reelgan train --data ~/footage/stills --resolution 64 --channels 3 --augment translation,cutout,color
  reelgan train --data omniglot.zip --cond --preset paper --net resnet
  reelgan train --data omniglot_background.zip --cond --class-depth 2     # one class per character
  reelgan train --kind video --data moving-glyphs --resolution 32 --frames 8
  reelgan train --kind video --data ~/footage --resolution 64 --channels 3 --frames 16 --stride 2
  reelgan train --config run.toml --dry-run
  reelgan train --resume runs/00003-logograms-r3gan-32 --steps 8000
  reelgan train --resume latest
"""

# flag destination -> (config section, field). Every flag defaults to None so we know which were given.
FLAG_FIELDS: dict[str, tuple[str, str]] = {
    "data": ("data", "source"), "resolution": ("data", "resolution"), "channels": ("data", "channels"),
    "cond": ("data", "cond"), "class_depth": ("data", "class_depth"), "max_images": ("data", "max_images"),
    "xflip": ("data", "xflip"), "kind": ("data", "kind"), "fit": ("data", "fit"), "frames": ("data", "frames"),
    "stride": ("data", "stride"),
    "content_dim": ("net", "content_dim"), "motion_dim": ("net", "motion_dim"),
    "data_size": ("data", "size"), "data_seed": ("data", "seed"),
    "net": ("net", "arch"), "latent_dim": ("net", "latent_dim"), "g_width": ("net", "g_width"),
    "d_width": ("net", "d_width"), "max_width": ("net", "max_width"), "critic_norm": ("net", "critic_norm"),
    "loss": ("loss", "kind"), "gp_weight": ("loss", "gp_weight"), "drift": ("loss", "drift"),
    "r1_gamma": ("loss", "r1_gamma"), "r1_interval": ("loss", "r1_interval"),
    "r1_gamma_anneal": ("loss", "r1_gamma_anneal"),
    "r1_gamma_kimg": ("loss", "r1_gamma_kimg"), "augment": ("loss", "augment"),
    "class_weight": ("loss", "class_weight"),
    "steps": ("train", "steps"), "batch": ("train", "batch"), "g_batch": ("train", "g_batch"),
    "n_critic": ("train", "n_critic"), "lr_g": ("train", "lr_g"), "lr_d": ("train", "lr_d"),
    "lr_decay": ("train", "lr_decay"), "ema": ("train", "ema_decay"), "ema_kimg": ("train", "ema_kimg"),
    "standing_stats": ("train", "standing_stats"), "seed": ("train", "seed"),
    "device": ("train", "device"), "precision": ("train", "precision"),
    "channels_last": ("train", "channels_last"), "workers": ("train", "workers"), "threads": ("train", "threads"),
    "log_every": ("train", "log_every"), "sample_every": ("train", "sample_every"),
    "checkpoint_every": ("train", "checkpoint_every"), "max_minutes": ("train", "max_minutes"),
    "grid_size": ("train", "grid_size"), "name": ("train", "name"), "out": ("train", "out"),
    "metrics": ("train", "metrics"), "metrics_every": ("train", "metrics_every"),
    "metrics_n": ("train", "metrics_n"), "best_metric": ("train", "best_metric"),
    "extractor": ("train", "extractor"),
}
def add_parser(subparsers) -> None:
    """Register `reelgan train`."""
    p = add_command(subparsers, "train", "train a GAN (R3GAN's loss by default; WGAN-GP with --loss wgan-gp) and write a numbered run folder",
                    EXAMPLES)
    p.add_argument("--config", help="TOML file with [data], [net], [loss], [train] tables; flags override it")
    p.add_argument("--preset", choices=list(PRESETS), help="paper: the WGAN-GP paper's setting "
                   "(n_critic 5, Adam 1e-4, betas 0,0.9); paper-resnet: plus its ResNet model")
    p.add_argument("--resume", metavar="RUN_DIR", help="continue a run folder (or 'latest' under --out)")
    p.add_argument("--dry-run", action="store_true", help="print the resolved config as JSON and stop")
    p.add_argument("--no-progress", action="store_true", help="no progress bar (logs still go to stats.jsonl)")
    data = p.add_argument_group("data")
    data.add_argument("--data", help="folder, .zip, .npy/.npz of images, or the built-in 'logograms'")
    data.add_argument("--resolution", type=int, help="training size: 16, 32, 64, 128 or 256 (default 32)")
    data.add_argument("--channels", type=int, help="1 grayscale, 3 RGB, 4 RGBA (default 1)")
    data.add_argument("--kind", help="image (default) or video: clips from video files, frame folders, "
                      "moving-glyphs or ink-rings")
    data.add_argument("--frames", type=int, help="video: frames per clip, 8-16 (default 8)")
    data.add_argument("--stride", type=int, help="video: use every N-th frame of the footage (default 1)")
    data.add_argument("--cond", action=argparse.BooleanOptionalAction, help="class labels from subfolders")
    data.add_argument("--class-depth", type=int, help="with --cond: folder levels that name a class (default 1; "
                      "Omniglot: 1 = alphabet, 2 = alphabet/character)")
    data.add_argument("--max-images", type=int, help="use at most this many images")
    data.add_argument("--fit", help="images smaller than --resolution or not square: crop (default: scale the "
                      "short side, crop the centre), pad (keep every pixel, pad with the border colour) or resize")
    data.add_argument("--xflip", action=argparse.BooleanOptionalAction, help="add left-right mirror images")
    data.add_argument("--data-size", type=int, help="glyphs in a procedural dataset (default 20000)")
    data.add_argument("--data-seed", type=int, help="seed of a procedural dataset")
    net = p.add_argument_group("networks")
    net.add_argument("--net", help="dcgan (fast, default) or resnet (WGAN-GP paper's CIFAR model)")
    net.add_argument("--latent-dim", type=int, help="size of z (default 128)")
    net.add_argument("--content-dim", type=int, help="video: per-clip content latent (default 96)")
    net.add_argument("--motion-dim", type=int, help="video: per-frame motion noise and GRU size (default 32)")
    net.add_argument("--g-width", type=int, help="generator channels at full resolution")
    net.add_argument("--d-width", type=int, help="critic channels at full resolution")
    net.add_argument("--max-width", type=int, help="cap on channels of any layer")
    net.add_argument("--critic-norm", help="none or layernorm (critics never use batch norm)")
    loss = p.add_argument_group("loss")
    loss.add_argument("--loss", help="r3gan (default: relativistic pairing + lazy R1 and R2, Huang et al. 2024), "
                      "wgan-gp (with its own optimiser settings: n_critic 2, Adam 1e-4/2e-4, betas 0,0.9), hinge "
                      "or ns-r1 (non-saturating + lazy R1)")
    loss.add_argument("--gp-weight", type=float, help="gradient penalty lambda (default 10)")
    loss.add_argument("--drift", type=float, help="WGAN drift epsilon on D(real)^2")
    loss.add_argument("--r1-gamma", type=float, help="R1 gamma for ns-r1 (R1 + R2 for r3gan)")
    loss.add_argument("--r1-interval", type=int, help="lazy R1 interval in critic steps")
    loss.add_argument("--r1-gamma-anneal", type=float, help="gamma starts at this multiple of --r1-gamma and falls "
                      "to it by a cosine, as R3GAN's does, over --max-minutes or else --r1-gamma-kimg (default "
                      f"{LossConfig.r1_gamma_anneal:g}; 1: constant)")
    loss.add_argument("--r1-gamma-kimg", type=float, help="without --max-minutes, gamma's anneal ends after this "
                      f"many thousand generated images (steps x --g-batch; default {LossConfig.r1_gamma_kimg:g})")
    loss.add_argument("--augment", help="DiffAugment policy, e.g. translation,cutout,color ('' = off; default "
                      "auto: translation,cutout (+color for RGB) under 5,000 images)")
    loss.add_argument("--class-weight", type=float, help="with --cond: weight of the auxiliary class loss "
                      "(the critic names each real image's class, the generator makes images named as their "
                      f"label; default {LossConfig.class_weight:g}; 0: projection conditioning alone)")
    tr = p.add_argument_group("schedule")
    tr.add_argument("--steps", type=int, help="generator steps to train to")
    tr.add_argument("--batch", type=int, help="real images per critic step (default 64)")
    tr.add_argument("--g-batch", type=int, help="latents per generator step (default: --batch)")
    tr.add_argument("--n-critic", type=int, help="critic steps per generator step")
    tr.add_argument("--lr", type=float, help="learning rate of both networks")
    tr.add_argument("--lr-g", type=float, help="generator learning rate")
    tr.add_argument("--lr-d", type=float, help="critic learning rate")
    tr.add_argument("--betas", help="Adam betas as b1,b2 (e.g. 0,0.9)")
    tr.add_argument("--lr-decay", action=argparse.BooleanOptionalAction, help="decay learning rates linearly to 0")
    tr.add_argument("--ema", type=float, help="generator EMA decay per step, instead of --ema-kimg's half-life (0 "
                    "disables the EMA)")
    tr.add_argument("--ema-kimg", type=float, help="generator EMA half-life in thousands of images, ramped up "
                    f"early in the run (default {TrainConfig.ema_kimg:g}; 0: --ema's decay per step)")
    tr.add_argument("--standing-stats", action=argparse.BooleanOptionalAction, help="measure the EMA generator's "
                    "batch-norm statistics on its own weights before it samples (default on; --no-standing-stats: "
                    "copy the training generator's, as before and under --preset paper)")
    tr.add_argument("--seed", type=int, help="seed of every RNG (default 0)")
    tr.add_argument("--max-minutes", type=float, help="stop with a checkpoint after this much wall time")
    run = p.add_argument_group("machine and outputs")
    run.add_argument("--device", help="auto, cpu, cuda or mps (default auto)")
    run.add_argument("--gpus", type=int, help="train on this many GPUs of this machine, one process each (runs "
                     "torchrun --standalone --nproc-per-node N; on a CPU, N processes); --batch is the global "
                     "batch, split across them. Several machines: see the README's torchrun commands")
    run.add_argument("--precision", help="auto (default: bf16 autocast on a CPU with AMX or AVX512-BF16, else fp32), "
                     "fp32 or bf16")
    run.add_argument("--channels-last", action=argparse.BooleanOptionalAction, help="channels_last memory format "
                     "for images (default on)")
    run.add_argument("--workers", type=int, help="DataLoader worker processes (default 0)")
    run.add_argument("--threads", type=int, help="CPU threads (default 0: one per core); when another program "
                     "is busy, 1 can be several times faster. Exact resume needs the same count")
    run.add_argument("--log-every", type=int, help="steps between stats.jsonl lines")
    run.add_argument("--sample-every", type=int, help="steps between sample grids")
    run.add_argument("--checkpoint-every", type=int, help="steps between checkpoints")
    run.add_argument("--grid-size", type=int, help="images per sample grid (default 64)")
    run.add_argument("--name", help="run name after its number (default data-loss-resolution)")
    run.add_argument("--metrics", help="metrics during training: fid,kid,pr,dc -> metrics.jsonl")
    run.add_argument("--metrics-every", type=int, help="steps between metric evaluations (0: at the end)")
    run.add_argument("--metrics-n", type=int, help="samples of each side per evaluation (default 2000)")
    run.add_argument("--best-metric", help="fid or kid: checkpoints/best.pt keeps its lowest value")
    run.add_argument("--extractor", help="feature extractor for metrics: a domain .safetensors (default: bundled, "
                     "logograms only), 'inception' or an Inception .pth")
    run.add_argument("--out", help="folder of numbered run folders (default runs)")
    p.set_defaults(run=run_train)


def flag_overrides(args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    """The config values the user gave on the command line, as nested sections."""
    overrides: dict[str, dict[str, Any]] = {}
    for dest, (section, name) in FLAG_FIELDS.items():
        value = getattr(args, dest, None)
        if value is not None:
            overrides.setdefault(section, {})[name] = value
    if args.lr is not None:
        overrides.setdefault("train", {}).update(lr_g=args.lr, lr_d=args.lr)
    if args.betas is not None:
        try:
            beta1, beta2 = (float(b) for b in args.betas.split(","))
        except ValueError:
            raise ReelganError(f"--betas must be two numbers like 0,0.9; got {args.betas!r}") from None
        overrides.setdefault("train", {}).update(beta1=beta1, beta2=beta2)
    return overrides


def run_train(args: argparse.Namespace) -> int:
    """Resolve the config, then train (or print it with --dry-run)."""
    from ..training import resolve_run_dir, train
    from ..training.rundir import resumed_config

    if args.gpus is not None and "RANK" not in os.environ and not args.dry_run:
        return run_under_torchrun(args.argv, args.gpus)
    overrides = flag_overrides(args)
    if args.resume:
        overrides.get("train", {}).pop("out", None)  # --out only says where 'latest' is looked for
        if args.config or args.preset:
            raise ReelganError("--config and --preset cannot be combined with --resume; the run keeps its config")
        run_dir = resolve_run_dir(args.resume, args.out or "runs")
        config = resumed_config(run_dir, overrides)
    else:
        run_dir = None
        toml = load_toml(args.config) if args.config else None
        config = build_config(args.preset or "default", toml, overrides)
    if args.dry_run:
        print(json.dumps(config.to_dict(), indent=2))
        return 0
    result = train(config, resume=run_dir, show_progress=not args.no_progress)
    if os.environ.get("RANK", "0") == "0":  # under torchrun, process 0 speaks for all
        report(result)
    return 130 if result.status == "interrupted" else 0


def run_under_torchrun(argv: list[str], processes: int) -> int:
    """`reelgan train ... --gpus N` as `torchrun --standalone --nproc-per-node N -m reelgan train ...`."""
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.run import main as torchrun

    if processes < 1:
        raise ReelganError(f"--gpus must be at least 1; got {processes}")
    rest = list(argv)
    index = next(i for i, arg in enumerate(rest) if arg == "--gpus" or arg.startswith("--gpus="))
    del rest[index:index + (1 if "=" in rest[index] else 2)]
    try:
        torchrun(["--standalone", f"--nproc-per-node={processes}", "-m", "reelgan", *rest])
    except ChildFailedError as exc:  # each process has printed its own error
        codes = [failure.exitcode for failure in exc.failures.values()]
        return 2 if 2 in codes else 130 if 130 in codes else 1
    return 0


def report(result) -> None:
    """Tell the user where the run is and how to continue it."""
    where = result.run_dir
    if result.status == "finished":
        print(f"trained to step {result.step}: {where} (generator: {where / 'generator.safetensors'})")
    else:
        reason = "interrupted" if result.status == "interrupted" else "time limit reached"
        print(f"{reason} at step {result.step}; checkpoint saved. Continue with: reelgan train --resume {where}")
