"""Typed, validated configuration for a training run.

One dataclass per part (`DataConfig`, `NetConfig`, `LossConfig`, `TrainConfig`), gathered in `RunConfig`.
CLI flags and TOML files fill the same dataclasses; every value is checked on construction and a bad one
raises `ReelganError` naming the field and the allowed values. `RunConfig.to_dict()` is what a run folder
and every checkpoint store, and `RunConfig.from_dict()` reads it back.
"""

from __future__ import annotations

import dataclasses
import math
import sys
import typing
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from .checks import check_choice, check_int, check_number
from .devices import DEVICE_NAMES
from .errors import ReelganError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

BUILTIN_DATASETS = ("logograms",)
BUILTIN_CLIP_SETS = ("moving-glyphs", "ink-rings")
DATA_KINDS = ("image", "video")
FITS = ("crop", "pad", "resize")  # how an image becomes a resolution x resolution square
ARCHITECTURES = ("dcgan", "resnet")
LOSSES = ("wgan-gp", "hinge", "ns-r1", "r3gan")
CRITIC_NORMS = ("none", "layernorm")
AUGMENTS = ("translation", "cutout", "color")
RESOLUTIONS = (16, 32, 64, 128, 256)
CHANNELS = (1, 3, 4)
CLIP_RESOLUTIONS = (16, 32, 64)  # what the clip GAN trains on
CLIP_CHANNELS = (1, 3)
CLIP_FRAMES = (8, 16)  # fewest and most frames per training clip
PRECISIONS = ("auto", "fp32", "bf16")
METRIC_NAMES = ("fid", "kid", "pr", "dc", "fvd")  # the registry in reelgan.metrics holds exactly these
IMAGE_METRIC_NAMES = ("fid", "kid", "pr", "dc")  # fvd is for clip features
BEST_METRICS = ("fid", "kid")  # lower is better; best.pt keeps the checkpoint with the lowest value


_TYPE_WORDS = {bool: "true or false", int: "a whole number", float: "a number", str: "text (a quoted string)"}


def _describe(value: Any) -> str:
    """A value as the user wrote it, with its TOML-ish type: `5 (a whole number)`."""
    kinds = {bool: "true/false", int: "a whole number", float: "a number", str: "text", list: "a list",
             dict: "a table"}
    return f"{value!r} ({kinds.get(type(value), type(value).__name__)})"


def check_field_types(config: Any, section: str) -> None:
    """Check every field of a config dataclass against its annotation (bool, int, float or str).

    The one type check for TOML files, flags and stored configs alike: a wrong type raises a ReelganError
    naming `section.field` (or the flag `--field-name` when `section` is "--"), the expected type and the
    value given. Whole numbers are accepted where a
    number belongs (and stored as floats); numbers must be finite.
    """
    hints = typing.get_type_hints(type(config))
    for item in fields(config):
        expected, value = hints[item.name], getattr(config, item.name)
        name = f"--{item.name.replace('_', '-')}" if section == "--" else f"{section}.{item.name}"
        if expected is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
            setattr(config, item.name, value)
        if expected not in _TYPE_WORDS:  # pragma: no cover - every config field is one of the four
            continue
        if type(value) is not expected:
            raise ReelganError(f"{name} must be {_TYPE_WORDS[expected]}; got {_describe(value)}")
        if expected is float and not math.isfinite(value):
            raise ReelganError(f"{name} must be a finite number; got {value!r}")


@dataclass
class DataConfig:
    """Where the training images come from and how they are prepared."""

    source: str = "logograms"   # a folder, .zip, .npy/.npz, or a built-in name (see BUILTIN_DATASETS)
    resolution: int = 32        # training size in pixels (square, power of two 16..256)
    channels: int = 1           # 1 grayscale, 3 RGB, 4 RGBA
    cond: bool = False          # class labels from the subfolder names
    class_depth: int = 1        # with cond: how many folder levels name a class (Omniglot: 1 alphabet, 2 character)
    max_images: int = 0         # use at most this many images (0: all)
    xflip: bool = False         # also show each image mirrored left-right (doubles the set)
    size: int = 20000           # number of glyphs (or clips) in a procedural dataset
    seed: int = 0               # seed of a procedural dataset (which glyphs it holds)
    kind: str = "image"         # image, or video: clips (C, T, H, W) from videos, frame folders or a clip set
    frames: int = 8             # video: frames per clip (T, 8-16)
    stride: int = 1             # video: take every stride-th frame of the footage
    fit: str = "crop"           # images not square or smaller than resolution: crop, pad (border colour), resize

    def __post_init__(self) -> None:
        check_field_types(self, "data")
        if not isinstance(self.source, str) or not self.source:
            raise ReelganError("data.source must be a path or a built-in dataset name; got nothing")
        if self.resolution not in RESOLUTIONS:
            raise ReelganError(
                f"resolution must be a power of two from 16 to 256 ({', '.join(map(str, RESOLUTIONS))}); "
                f"got {self.resolution!r}"
            )
        check_choice("channels", self.channels, CHANNELS)
        check_int("data.max_images", self.max_images, 0)
        check_int("data.class_depth", self.class_depth, 1)
        check_int("data.size", self.size, 1)
        check_int("data.seed", self.seed, 0)
        check_choice("data.kind", self.kind, DATA_KINDS)
        check_int("data.stride", self.stride, 1)
        check_choice("data.fit", self.fit, FITS)
        if self.kind == "video":
            if self.max_images or self.xflip or self.class_depth != 1:
                raise ReelganError("--max-images, --xflip and --class-depth are for images; drop them for --kind video")
            if self.source in BUILTIN_DATASETS:
                raise ReelganError(f"{self.source} is an image set; for clips use {' or '.join(BUILTIN_CLIP_SETS)}, "
                                   "video files or frame folders")
            low, high = CLIP_FRAMES
            if not low <= self.frames <= high or self.resolution not in CLIP_RESOLUTIONS or \
                    self.channels not in CLIP_CHANNELS:
                raise ReelganError(f"clips are {low}-{high} frames, {'/'.join(map(str, CLIP_RESOLUTIONS))} px, "
                                   f"{' or '.join(map(str, CLIP_CHANNELS))} channels; got {self.frames} frames, "
                                   f"{self.resolution} px, {self.channels} channels")
        elif self.source in BUILTIN_CLIP_SETS:
            raise ReelganError(f"{self.source} is a clip set; add --kind video")
        elif (self.frames, self.stride) != (DataConfig.frames, DataConfig.stride):
            raise ReelganError(f"--frames and --stride are for clips (got {self.frames} and {self.stride}); add "
                               "--kind video, or drop them for images")
        if self.cond and self.source in BUILTIN_DATASETS + BUILTIN_CLIP_SETS:
            raise ReelganError(f"{self.source} has no classes, so --cond has nothing to learn; drop --cond (classes "
                               "come from the subfolders of your own images)")


SMALL_DATA_IMAGES = 5000  # below this many images, augment "auto" turns DiffAugment on


def resolve_augment(loss: "LossConfig", images: int, channels: int) -> "LossConfig":
    """`loss` with augment "auto" decided for a dataset of `images` images (mirrors not counted).

    Under SMALL_DATA_IMAGES images the critic memorises the set and training collapses without
    augmentation (Zhao et al. 2020), so "auto" means translation and cutout (plus colour for RGB);
    otherwise off.
    """
    if loss.augment.strip() != "auto":
        return loss
    policy = ("translation,cutout" + (",color" if channels >= 3 else "")) if images < SMALL_DATA_IMAGES else ""
    return dataclasses.replace(loss, augment=policy)


@dataclass
class NetConfig:
    """Which generator and critic to build, and how wide."""

    arch: str = "dcgan"        # dcgan (fast, the CPU default) or resnet (the WGAN-GP paper's CIFAR model)
    latent_dim: int = 128      # size of the latent vector z
    # Widths chosen on a 2-core CPU at 32 px (benchmarks/RESULTS.md, "Training recipe"): at 32 px the
    # generator has 192-192-96-48-24 channels from 4 px up and the critic 48-96-192, the textbook DCGAN's
    # shape; on a GPU try 64 / 64 / 512.
    g_width: int = 24          # generator channels at full resolution (doubling as it shrinks)
    d_width: int = 48          # critic channels at full resolution (doubling as it shrinks)
    max_width: int = 192       # cap on any layer's channels
    critic_norm: str = "none"  # none or layernorm; never batch norm (the gradient penalty is per sample)
    content_dim: int = 96      # video: the per-clip content latent
    motion_dim: int = 32       # video: the per-frame motion noise and the motion GRU's size

    def __post_init__(self) -> None:
        check_field_types(self, "net")
        check_choice("net", self.arch, ARCHITECTURES)
        check_int("net.latent_dim", self.latent_dim, 1)
        check_int("net.g_width", self.g_width, 1)
        check_int("net.d_width", self.d_width, 1)
        check_int("net.max_width", self.max_width, 1)
        check_choice("net.critic_norm", self.critic_norm, CRITIC_NORMS)


@dataclass
class LossConfig:
    """The adversarial loss, its regularisers, and differentiable augmentation."""

    kind: str = "r3gan"        # r3gan (relativistic, lazy R1+R2), wgan-gp, hinge, ns-r1 (non-saturating, lazy R1)
    gp_weight: float = 10.0    # lambda of the WGAN-GP gradient penalty
    drift: float = 0.001       # epsilon * D(real)^2 keeps WGAN critic scores near 0 (0 to disable)
    r1_gamma: float = 0.1      # gamma of R1 + R2 (r3gan; R3GAN's value at 32 px), and of R1 (ns-r1: 1 by its recipe)
    r1_interval: int = 16      # lazy R1: apply every this many critic steps, scaled up to match
    # R3GAN anneals gamma: it starts at r1_gamma_anneal x r1_gamma and falls by a cosine to r1_gamma (R3GAN's
    # ratio is 10; 1: constant), over a --max-minutes budget when there is one, else over r1_gamma_kimg
    # thousand images (so a run continued with more --steps follows the same schedule as one trained straight).
    r1_gamma_anneal: float = 10.0
    r1_gamma_kimg: float = 256.0  # the default 4,000 steps of 64 images
    augment: str = "auto"      # DiffAugment: translation,cutout,color list, "" = off, auto = on under 5k images
    # With --cond: weight of the auxiliary class loss (AC-GAN, Odena et al. 2017). The critic learns to name
    # the class of real images, the generator to make images named as their label; 0: projection alone.
    class_weight: float = 0.0

    def __post_init__(self) -> None:
        check_field_types(self, "loss")
        check_choice("loss", self.kind, LOSSES)
        check_number("loss.gp_weight", self.gp_weight, allow_zero=True)
        check_number("loss.drift", self.drift, allow_zero=True)
        check_number("loss.r1_gamma", self.r1_gamma, allow_zero=True)
        check_int("loss.r1_interval", self.r1_interval, 1)
        anneal = self.r1_gamma_anneal
        if isinstance(anneal, (int, float)) and not isinstance(anneal, bool) and anneal < 1:  # 0 and 0.5 alike
            raise ReelganError(f"loss.r1_gamma_anneal must be 1 or more (gamma starts at this multiple of r1_gamma "
                               f"and falls to it; 1 keeps it constant); got {anneal!r}")
        check_number("loss.r1_gamma_anneal", anneal)
        check_number("loss.r1_gamma_kimg", self.r1_gamma_kimg)
        check_number("loss.class_weight", self.class_weight, allow_zero=True)
        for op in self.augment_ops:
            check_choice("augment", op, AUGMENTS)
        if "auto" in self.augment and self.augment.strip() != "auto":
            raise ReelganError(f"augment is 'auto' or a list of {', '.join(AUGMENTS)}, not both; got {self.augment!r}")

    @property
    def augment_ops(self) -> list[str]:
        """The augmentation policy as a list of operation names ("auto" is resolved by `resolve_augment`)."""
        return [op.strip() for op in self.augment.split(",") if op.strip() and op.strip() != "auto"]


@dataclass
class TrainConfig:
    """The schedule, optimisers and bookkeeping of the training loop."""

    steps: int = 4000           # generator steps
    batch: int = 64             # real images per critic step
    g_batch: int = 0            # latents per generator step (0: same as batch)
    # The default loss's recipe (R3GAN's optimiser: Adam 2e-4, betas (0, 0.99), one critic step); the other
    # losses bring their own (LOSS_RECIPES below), under any preset, TOML value or flag.
    n_critic: int = 1           # critic steps per generator step
    lr_g: float = 2e-4          # Adam learning rate of the generator
    lr_d: float = 2e-4          # Adam learning rate of the critic
    beta1: float = 0.0          # Adam beta1
    beta2: float = 0.99         # Adam beta2
    lr_decay: bool = False      # linear decay of both learning rates to 0 at the last step
    ema_decay: float = 0.999    # generator EMA decay per step when ema_kimg is 0 (warmed up early); 0: no EMA
    ema_kimg: float = 10.0      # EMA half-life in thousands of images, ramped up (StyleGAN2-ADA); 0: ema_decay
    # G_ema's batch-norm statistics measured on its own weights before it samples (gan/standing_stats.py);
    # False: the live G's, copied at each EMA update (the textbook loop's, and the paper presets').
    standing_stats: bool = True
    seed: int = 0               # seeds every RNG of the run
    device: str = "auto"        # auto, cpu, cuda, mps
    precision: str = "auto"     # auto (bf16 autocast for images on a CPU with AMX/AVX512-BF16, else fp32), fp32, bf16
    channels_last: bool = True  # channels_last memory format for images (15-20% faster steps on the CPU)
    workers: int = 0            # DataLoader worker processes (0: load in the training process)
    threads: int = 0            # CPU threads for the maths (0: torch's default, one per core); same count, same bits
    log_every: int = 50         # write stats.jsonl every this many steps
    sample_every: int = 500     # write a sample grid every this many steps (0: only at the end)
    checkpoint_every: int = 500  # write checkpoints/latest.pt every this many steps (0: only at the end)
    max_minutes: float = 0.0    # stop (with a checkpoint) after this much wall time (0: no limit)
    grid_size: int = 64         # images in each sample grid
    metrics: str = ""           # metrics during training, comma-separated from fid,kid,pr,dc ("" = none)
    metrics_every: int = 0      # steps between evaluations (0: only at the end of a finished run)
    metrics_n: int = 2000       # samples of each side per evaluation
    best_metric: str = "fid"    # best.pt keeps the checkpoint with the lowest value of this metric
    extractor: str = ""         # domain .safetensors, "inception" or an Inception .pth ("" = bundled, logograms)
    name: str = ""              # run name after the number (default: data-loss-resolution)
    out: str = "runs"           # folder that holds the numbered run folders

    def __post_init__(self) -> None:
        check_field_types(self, "train")
        check_int("steps", self.steps, 1)
        check_int("batch", self.batch, 1)
        check_int("train.g_batch", self.g_batch, 0)
        check_int("train.n_critic", self.n_critic, 1)
        check_number("train.lr_g", self.lr_g)
        check_number("train.lr_d", self.lr_d)
        for name in ("beta1", "beta2", "ema_decay"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1:
                raise ReelganError(f"train.{name} must be in [0, 1); got {value!r}")
        check_number("train.ema_kimg", self.ema_kimg, allow_zero=True)
        check_int("seed", self.seed, 0)
        check_choice("device", self.device, DEVICE_NAMES)
        check_choice("precision", self.precision, PRECISIONS)
        check_int("train.workers", self.workers, 0)
        check_int("train.threads", self.threads, 0)
        check_int("train.log_every", self.log_every, 1)
        check_int("train.sample_every", self.sample_every, 0)
        check_int("train.checkpoint_every", self.checkpoint_every, 0)
        check_number("train.max_minutes", self.max_minutes, allow_zero=True)
        check_int("train.grid_size", self.grid_size, 1)
        for name in self.metric_names:
            check_choice("metrics", name, IMAGE_METRIC_NAMES)
        check_int("train.metrics_every", self.metrics_every, 0)
        check_int("train.metrics_n", self.metrics_n, 10)
        check_choice("best_metric", self.best_metric, BEST_METRICS)
        if self.metric_names and self.best_metric not in self.metric_names:
            raise ReelganError(f"--best-metric {self.best_metric} must be one of the computed --metrics "
                               f"({self.metrics}); add it to --metrics")

    @property
    def metric_names(self) -> list[str]:
        """The metrics to compute during training, as a list."""
        return [name.strip() for name in self.metrics.split(",") if name.strip()]

    @property
    def generator_batch(self) -> int:
        """Latents per generator step."""
        return self.g_batch or self.batch


@dataclass
class RunConfig:
    """Everything that defines a training run."""

    data: DataConfig = field(default_factory=DataConfig)
    net: NetConfig = field(default_factory=NetConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    train: TrainConfig = field(default_factory=TrainConfig)

    def __post_init__(self) -> None:
        if self.data.kind == "image" and (self.net.content_dim, self.net.motion_dim) != (NetConfig.content_dim,
                                                                          NetConfig.motion_dim):
            raise ReelganError("--content-dim and --motion-dim are for clip generators; add --kind video, or drop "
                               "them for images (--latent-dim sizes an image generator's latent)")
        if self.data.kind == "video":  # what the clip engine does not do yet
            if self.loss.kind != "wgan-gp":
                raise ReelganError(f"clips train with --loss wgan-gp only; got {self.loss.kind}")
            if self.loss.augment.strip() not in ("", "auto"):
                raise ReelganError("DiffAugment works on images, not clips; drop --augment for --kind video")
            if self.train.metric_names:
                raise ReelganError("metrics during training are for images; drop --metrics for --kind video")
            if self.data.cond:
                raise ReelganError("class-conditional clips are not supported; drop --cond for --kind video")

    def to_dict(self) -> dict[str, dict[str, Any]]:
        """The resolved config as plain JSON-able data (every default written out)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "RunConfig":
        """Build a config from nested plain data; unknown sections or keys are errors."""
        _known_sections(data)
        return cls(**{name: _section(name, kind, data.get(name, {})) for name, kind in SECTIONS.items()})

    def run_name(self) -> str:
        """The name after the run number: the user's, or data-loss-resolution."""
        if self.train.name:
            return self.train.name
        return f"{Path(self.data.source).stem or 'data'}-{self.loss.kind}-{self.data.resolution}"


SECTIONS: dict[str, type] = {"data": DataConfig, "net": NetConfig, "loss": LossConfig, "train": TrainConfig}

# Presets change several fields at once. "paper" is the WGAN-GP paper's setting (Gulrajani et al. 2017,
# Algorithm 1): n_critic 5, Adam lr 1e-4, betas (0, 0.9), lambda 10, batch 64, no drift term.
PRESETS: dict[str, dict[str, dict[str, Any]]] = {
    "paper": {
        "loss": {"kind": "wgan-gp", "gp_weight": 10.0, "drift": 0.0, "augment": ""},
        "train": {"n_critic": 5, "lr_g": 1e-4, "lr_d": 1e-4, "beta1": 0.0, "beta2": 0.9, "batch": 64,
                  "ema_decay": 0.0, "precision": "fp32",
                  "standing_stats": False},
    },
    "paper-resnet": {
        "net": {"arch": "resnet", "g_width": 128, "d_width": 128, "max_width": 128},
        "loss": {"kind": "wgan-gp", "gp_weight": 10.0, "drift": 0.0, "augment": ""},
        "train": {"n_critic": 5, "lr_g": 2e-4, "lr_d": 2e-4, "beta1": 0.0, "beta2": 0.9, "batch": 64,
                  "lr_decay": True, "ema_decay": 0.0, "precision": "fp32",
                  "standing_stats": False},
    },
    "default": {},
}

# The settings each loss trains with unless the preset, a TOML file or a flag says otherwise. The dataclass
# defaults are r3gan's; WGAN-GP, hinge and ns-r1 keep the optimiser reelgan used for them before r3gan became
# the default (n_critic 2, a generator half as fast as the critic: with both at 2e-4 WGAN-GP's FID swung by
# 50x from one minute to the next, benchmarks/RESULTS.md).
_TWO_TIME_SCALES = {"n_critic": 2, "lr_g": 1e-4, "lr_d": 2e-4, "beta1": 0.0, "beta2": 0.9, "ema_kimg": 0.0}
LOSS_RECIPES: dict[str, dict[str, dict[str, Any]]] = {
    "r3gan": {},
    "wgan-gp": {"train": dict(_TWO_TIME_SCALES)},
    "hinge": {"train": dict(_TWO_TIME_SCALES)},
    "ns-r1": {"loss": {"r1_gamma": 1.0, "r1_gamma_anneal": 1.0}, "train": dict(_TWO_TIME_SCALES)},
}
# Clips train with WGAN-GP (the only loss of the clip engine) at the widths their defaults were measured with.
CLIP_RECIPE: dict[str, dict[str, Any]] = {"net": {"g_width": 16, "d_width": 32, "max_width": 128},
                                          "loss": {"kind": "wgan-gp"}, "train": dict(_TWO_TIME_SCALES)}


# Fields added after runs were first stored, with the value that reproduces how those runs trained. A stored
# config lacks them, and would otherwise pick up today's default when it resumes.
ADDED_FIELDS: dict[tuple[str, str], Any] = {("loss", "r1_gamma_anneal"): 1.0, ("train", "ema_kimg"): 0.0,
                                            ("train", "standing_stats"): False, ("loss", "class_weight"): 0.0}


def with_added_fields(stored: dict[str, Any]) -> dict[str, Any]:
    """A stored config (a checkpoint's or config.json) with ADDED_FIELDS that it lacks set to their old values."""
    filled = {name: dict(values) if isinstance(values, dict) else values for name, values in stored.items()}
    for (section, key), old_value in ADDED_FIELDS.items():
        if isinstance(filled.get(section), dict):
            filled[section].setdefault(key, old_value)
    return filled


def _known_sections(data: dict[str, Any]) -> None:
    """Every top-level key names a section, and every section is a table."""
    if not isinstance(data, dict):
        raise ReelganError(f"a config must be a table of sections ({', '.join(SECTIONS)}); got {_describe(data)}")
    unknown = set(data) - set(SECTIONS)
    if unknown:
        raise ReelganError(
            f"unknown config section(s) {', '.join(sorted(unknown))}; use {', '.join(SECTIONS)}"
        )
    for name, values in data.items():
        if not isinstance(values, dict):
            raise ReelganError(f"config section [{name}] must be a table of key = value pairs; got "
                               f"{_describe(values)} (write [{name}] on its own line, then key = value lines)")


def _section(name: str, kind: type, values: Any) -> Any:
    allowed = {f.name for f in fields(kind)}
    unknown = set(values) - allowed
    if unknown:
        raise ReelganError(
            f"unknown key(s) {', '.join(sorted(unknown))} in [{name}]; allowed: {', '.join(sorted(allowed))}"
        )
    try:
        return kind(**values)
    except TypeError as exc:  # pragma: no cover - guarded by the key check above
        raise ReelganError(f"bad config section [{name}]: {exc}") from None


def merge(base: dict[str, dict[str, Any]], override: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Section-wise update of nested config data; `override` wins."""
    merged = {name: dict(values) for name, values in base.items()}
    for name, values in override.items():
        merged.setdefault(name, {}).update(values)
    return merged


def load_toml(path: str | Path) -> dict[str, dict[str, Any]]:
    """Read a TOML config file into nested plain data (sections data, net, loss, train)."""
    path = Path(path)
    if path.is_dir():
        raise ReelganError(f"--config {path} is a folder; give the TOML file inside it")
    if not path.is_file():
        raise ReelganError(f"config file {path} not found; check the path given to --config")
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ReelganError(f"config file {path} is not valid TOML ({exc}); fix the file") from None
    _known_sections(data)
    return data


def build_config(preset: str = "default", toml: dict | None = None, overrides: dict | None = None) -> RunConfig:
    """Resolve a config: defaults, the chosen loss's recipe (LOSS_RECIPES), then a preset, a TOML file and
    explicit overrides (CLI flags), each winning over the ones before."""
    if preset not in PRESETS:
        raise ReelganError(f"preset must be one of {', '.join(PRESETS)}; got {preset!r}")
    preset_data, toml, overrides = (_one_ema_choice(layer) for layer in (PRESETS[preset], toml or {}, overrides or {}))
    data = merge(merge(preset_data, toml), overrides)
    return RunConfig.from_dict(merge(_recipe(data), data))


def _one_ema_choice(layer: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """A config layer that sets one of the EMA's two fields decides both, so the later layer's EMA wins whole:
    ema_decay alone means a decay per step (ema_kimg 0); ema_kimg alone a half-life with the EMA on, even over
    a preset's ema_decay 0."""
    train = layer.get("train")
    if not isinstance(train, dict) or ("ema_decay" in train) == ("ema_kimg" in train):
        return layer
    implied = {"ema_kimg": 0.0} if "ema_decay" in train else {"ema_decay": TrainConfig.ema_decay}
    return merge(layer, {"train": implied | train})


def _recipe(data: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The recipe under a config's explicit values: the clip engine's for clips, else its loss's."""
    if data.get("data", {}).get("kind") == "video":
        return CLIP_RECIPE
    kind = data.get("loss", {}).get("kind", LossConfig.kind)
    return LOSS_RECIPES.get(kind, {}) if isinstance(kind, str) else {}  # a bad kind is named by LossConfig
