"""The training loop: critic phases, the generator phase, EMA, logging, samples and checkpoints.

One `Trainer.step()` is one generator step: `n_critic` critic phases (each on a fresh real batch), one
generator phase, then the EMA update. Everything random comes from RNGs that the checkpoint saves, so a run
stopped at step k and resumed ends bit-for-bit where an uninterrupted run would (on the CPU).
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import json
import logging
import math
import random
import shutil
import signal
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import torch

from .. import __version__
from ..config import SMALL_DATA_IMAGES, RunConfig, resolve_augment, with_added_fields
from ..data import build_dataset, build_loader
from ..devices import configure_cpu_determinism, pick_device, resolve_precision
from ..errors import ReelganError
from ..gan.checkpoint import capture_rng_state, load_checkpoint, restore_rng_state, save_checkpoint
from ..gan.generator import Generator, export_generator, generator_spec, seed_latents, weights_hash
from ..gan.kinds import KINDS
from ..gan.losses import LAZY_REGULARISED, RELATIVISTIC, GANLoss
from ..gan.nets import ImageGenerator
from ..gan.nets.check import load_state_checked
from ..gan.standing_stats import recompute_batch_norm
from ..media import make_grid, save_png
from ..paths import read_jsonl, remove_stale_temps
from ..progress import TrainingProgress
from ..provenance import make_record
from .distributed import World
from .ema import ema_decay_at, ema_decay_by_images, update_ema
from .rundir import record_elastic_run, truncate_jsonl, write_json

log = logging.getLogger("reelgan")
SIGNAL_ECHO_S = 5.0  # under torchrun, a second signal this soon after the first is the same Ctrl-C passed on
SLOWDOWN_FACTOR = 3  # a step rate this many times below the session's best is reported once
FIXED_LATENT_SEED = 1234  # the sample grids' latents: fixed so progress is visible from grid to grid


def seed_everything(seed: int) -> None:
    """Seed torch (all devices), NumPy's global RNG and Python's."""
    torch.manual_seed(seed)
    np.random.seed(seed)
    random.seed(seed)


# Under this many images a generator can memorise its set: the end of a run audits its samples for copies.
COPY_CHECK_IMAGES = 2000
COPY_CHECK_SAMPLES = 500
# Under the audit's rule about 1% of samples of a generator that does not copy are flagged (the held-out
# reals' 1% quantile); a share this many times larger means copying.
COPY_WARN_SHARE = 0.1
# The end of a --cond run draws this many seeds of every class to see whether the label steers the samples.
COND_CHECK_SEEDS = 16


@dataclass
class TrainResult:
    """What a call to `train` did."""

    run_dir: Path
    step: int
    status: str  # "finished", "interrupted" or "time-limit"


class Trainer:
    """Owns the networks, optimisers, loss, data stream and run folder of one training run."""

    def __init__(self, config: RunConfig, run_dir: Path | None, resume: dict[str, Any] | None = None,
                 world: World | None = None) -> None:
        """Build everything a run needs; nothing is written until `run()` (so bad data leaves no folder).

        `run_dir` may be None while the folder does not exist yet; `train()` sets it before running. `world`:
        this process's place among the processes of a torchrun job (default: the only one).
        """
        self.config, self.run_dir = config, (Path(run_dir) if run_dir is not None else None)
        tc = config.train
        self.world = world or World()
        for batch in (tc.batch, tc.generator_batch):
            self.world.share(batch)  # a batch that does not split evenly over the processes is refused here
        self.device = pick_device(tc.device)
        if self.device.type == "cuda" and self.world.distributed:
            self.device = torch.device("cuda", self.world.local_rank)
        if self.device.type == "cpu" and tc.threads:
            torch.set_num_threads(tc.threads)
        if self.device.type == "cpu":
            # Tiny values late in training become denormal floats, which x86 CPUs handle 10-100x slower;
            # flushing them to zero made CPU steps 15-30% faster (benchmarks/RESULTS.md). It must reach every
            # worker thread, not only this one, or workers made earlier in the process compute without it
            # (slower, and in another numerical mode than a fresh process).
            configure_cpu_determinism(flush_denormal=True)
        seed_everything(tc.seed)
        self.notices: list[str] = []  # what the user should know, logged once the run has begun
        self.kind = KINDS[config.data.kind]
        self.dataset = build_dataset(config.data)
        describe = getattr(self.dataset, "describe", None)
        self.notices.append(describe() if describe else f"{len(self.dataset)} items from {config.data.source}")
        # "auto": bf16 autocast for images on a CPU that computes it natively (2x faster there); clips stay fp32.
        self.precision = resolve_precision(tc.precision if self.kind.image_only_settings else
                                           tc.precision.replace("auto", "fp32"), self.device)
        threads = f", {torch.get_num_threads()} threads" if self.device.type == "cpu" else ""
        self.notices.append(f"device {self.device}{threads}, {self.precision}; {config.data.resolution} px, "
                            f"{config.data.channels} channel(s), loss {config.loss.kind}")
        self.class_names: list[str] = list(getattr(self.dataset, "class_names", []))
        self._build_networks()
        autocast = torch.autocast(self.device.type, dtype=torch.bfloat16) if self.precision == "bf16" else None
        self.loss = GANLoss(self._loss_config(), self.G, self.D, autocast)
        self.step_count, self.critic_steps, self.batches_consumed, self.elapsed_s = 0, 0, 0, 0.0
        self.best: dict[str, Any] | None = None  # {"key", "value", "step"} of the best evaluation so far
        self.fraction_at_resume = 0.0  # run_fraction() when the checkpoint this session resumed was written
        self.extractor = self._metrics_extractor()  # fails here, before a run folder exists
        self.fixed_z, self.fixed_labels = self._fixed_latents()
        self.standing_stats_step = -1  # the step at which G_ema's batch-norm statistics were last measured
        if resume is not None:
            self._load_state(resume)
        self.stream = self._real_batches()
        self.stop_signal: int | None = None
        self.stop_time = 0.0  # time.monotonic() of the first stop signal
        self.clock = time.perf_counter  # what --max-minutes is measured with (seconds)
        self.session_start: float | None = None  # self.clock() when run() began
        self.agreed_session_s = 0.0  # rank 0's time since then, as of the last logging step (several processes)
        self.slow_warned, self.best_rate = False, 0.0  # the slowdown warning: once per session, against its best
        self.nonfinite = torch.zeros((), dtype=torch.bool, device=self.device)

    def _loss_config(self):
        """The loss settings with augment "auto" decided by the dataset's size (logged when it turns on)."""
        data = self.config.data
        if not self.kind.image_only_settings:  # DiffAugment's operations are for images
            return dataclasses.replace(self.config.loss, augment="")
        images = self.image_count()
        loss = resolve_augment(self.config.loss, images, data.channels)
        if self.config.loss.augment.strip() == "auto" and loss.augment:  # told once the run has started
            self.notices.append(f"{images} images (< {SMALL_DATA_IMAGES}): DiffAugment {loss.augment} is on; "
                                "--augment '' turns it off")
        return loss

    def image_count(self) -> int:
        """Items of the training set, mirror images (--xflip) not counted."""
        return self.dataset.raw_count

    def _build_networks(self) -> None:
        """G (from the generator spec, as a loaded generator is), the critic(s), G_ema and both optimisers."""
        tc = self.config.train
        num_classes = len(self.class_names)
        spec = generator_spec(self.config.to_dict(), self.class_names, 0)
        self.latent_dim = spec["latent_dim"]
        self.G = self.kind.build_generator(spec).to(self.device)
        self.D = self.kind.build_critic(self.config, num_classes).to(self.device)
        if num_classes:
            counts = torch.bincount(self.dataset.labels, minlength=num_classes).float()
            self.class_weights = counts / counts.sum()  # generator labels follow the data's class mix
        if self.channels_last:
            self.G, self.D = (m.to(memory_format=torch.channels_last) for m in (self.G, self.D))
        self.G_ema = copy.deepcopy(self.G).eval().requires_grad_(False)
        # On a GPU one fused kernel updates all parameters (one launch instead of several per tensor).
        adam = {"betas": (tc.beta1, tc.beta2), "fused": True if self.device.type == "cuda" else None}
        self.opt_G = torch.optim.Adam(self.G.parameters(), lr=tc.lr_g, **adam)
        self.opt_D = torch.optim.Adam(self.D.parameters(), lr=tc.lr_d, **adam)

    @property
    def channels_last(self) -> bool:
        """Networks and real batches in channels-last memory (4-D images only)."""
        return self.config.train.channels_last and self.kind.image_only_settings

    def _metrics_extractor(self):
        """The domain extractor for metrics during training, or None when no metrics are asked for."""
        if not self.config.train.metric_names:
            return None
        from ..metrics.evaluate import choose_extractor

        with self._isolated_rng():  # building the network to load into draws initial weights
            return choose_extractor(self.config.train.extractor or None, self.config.data.source, self.device)

    def _isolated_rng(self):
        """A context in which torch's global RNG (CPU, and this CUDA device) is put back afterwards."""
        devices = [torch.cuda.current_device()] if self.device.type == "cuda" else []
        return torch.random.fork_rng(devices=devices)

    def evaluate(self) -> dict[str, float] | None:
        """Metrics of G_ema against the data, appended to metrics.jsonl; best.pt follows the best value.

        Sampling uses fixed seeds and the metrics their own RNGs, so evaluating never changes training. Under
        several processes each samples its part of the seeds and rank 0 scores them all (None elsewhere), with
        the same samples as one process would.
        """
        from ..metrics.evaluate import evaluate_generator, metric_key

        tc = self.config.train
        spec = generator_spec(self.config.to_dict(), self.class_names, self.step_count)
        with self._isolated_rng():
            G, fake = Generator(self.sampling_generator(), spec, self.device), None
            if self.world.distributed:
                part = self.world.part(tc.metrics_n)
                own = self.extractor.features(G.sample(part.stop - part.start, seed=part.start))
                fake = np.concatenate(self.world.gather(own))
            if not self.world.is_main:
                return None
            results = evaluate_generator(G, self.config.data.source, tc.metric_names, n=tc.metrics_n,
                                         extractor=self.extractor, fake_features=fake)
        with (self.run_dir / "metrics.jsonl").open("a") as handle:
            handle.write(json.dumps({"step": self.step_count, **results}) + "\n")
        key = metric_key(tc.best_metric, tc.metrics_n, self.extractor, self.config.data.resolution)
        if self.best is None or results[key] < self.best["value"]:
            self.best = {"key": key, "value": results[key], "step": self.step_count}
            self.check_finite()
            save_checkpoint(self.state_dict(), self.run_dir / "checkpoints" / "best.pt")
        return results

    def _fixed_latents(self) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Latents (and labels) of the sample grids, from their own RNG so they draw nothing from training's."""
        generator = torch.Generator().manual_seed(FIXED_LATENT_SEED)
        n = self.config.train.grid_size
        z = torch.randn(n, self.latent_dim, generator=generator)
        labels = torch.arange(n) % len(self.class_names) if self.class_names else None
        return z, labels

    def _real_batches(self) -> Iterator[tuple[torch.Tensor, torch.Tensor | None]]:
        """Endless real batches on the device, resuming at `batches_consumed`."""
        loader = build_loader(self.dataset, self.config.train.batch, self.config.train.seed,
                              self.batches_consumed, self.config.train.workers, self.device.type == "cuda",
                              shard=(self.world.rank, self.world.size))
        memory_format = torch.channels_last if self.channels_last else torch.contiguous_format
        for images, labels in loader:
            self.batches_consumed += 1
            images = images.to(self.device, non_blocking=True, memory_format=memory_format)
            yield images, (labels.to(self.device) if self.class_names else None)

    def _real_batch_of(self, n: int) -> tuple[torch.Tensor, torch.Tensor | None]:
        """`n` real images (and their labels) from the stream, taking more batches when n exceeds --batch."""
        images, labels = [], []
        while sum(len(x) for x in images) < n:
            real, real_labels = next(self.stream)
            images.append(real)
            labels.append(real_labels)
        real = torch.cat(images)[:n]
        return real, (None if labels[0] is None else torch.cat(labels)[:n])

    def _generator_labels(self, n: int) -> torch.Tensor | None:
        """Class labels for this rank's share of `n` generated images, drawn for all `n` (equal RNG on all ranks)."""
        if not self.class_names:
            return None
        return torch.multinomial(self.class_weights, n, replacement=True)[self.world.share(n)].to(self.device)

    def _latents(self, n: int) -> torch.Tensor:
        """This rank's share of `n` latents, drawn for all `n` so that every rank's RNG moves alike."""
        return torch.randn(n, self.latent_dim, device=self.device)[self.world.share(n)]

    def run_fraction(self) -> float:
        """The share of the run done, 0-1: steps out of --steps or, while `run()` trains under --max-minutes,
        this session's time out of that budget, whichever is further along (the one that will end the run)."""
        tc = self.config.train
        fraction = self.step_count / tc.steps
        if tc.max_minutes and self.session_start is not None:
            # Several processes follow rank 0's clock as agreed at the last logging step, so their learning
            # rates stay equal. A resumed session spends its budget on the rest of the schedule, from where
            # the checkpoint left it.
            seconds = self.agreed_session_s if self.world.distributed else self.clock() - self.session_start
            start = self.fraction_at_resume
            fraction = max(fraction, start + (1 - start) * seconds / (tc.max_minutes * 60))
        return min(fraction, 1.0)

    def _set_learning_rates(self) -> None:
        tc = self.config.train
        # Under a time budget the decay follows the clock, so it reaches 0 when the time is up.
        scale = 1.0 - self.run_fraction() if tc.lr_decay else 1.0
        for optimiser, lr in ((self.opt_G, tc.lr_g), (self.opt_D, tc.lr_d)):
            for group in optimiser.param_groups:
                group["lr"] = lr * scale

    def penalised(self) -> bool:
        """Whether this run's loss takes the lazy R1 (+ R2) penalty, whose strength `r1_gamma` gives."""
        lc = self.config.loss
        return lc.kind in LAZY_REGULARISED and lc.r1_gamma > 0

    def r1_gamma(self) -> float:
        """This step's gamma: a cosine from --r1-gamma-anneal x --r1-gamma at the start down to --r1-gamma at
        the end of the time budget, or after --r1-gamma-kimg thousand images without one (constant for an
        anneal of 1)."""
        lc = self.config.loss
        if lc.r1_gamma_anneal == 1:
            return lc.r1_gamma
        if self.config.train.max_minutes and self.session_start is not None:
            fraction = self.run_fraction()  # the time budget (or --steps, if it ends the run first)
        else:
            fraction = min(1.0, self.step_count * self.config.train.generator_batch / (1000 * lc.r1_gamma_kimg))
        remaining = 0.5 * (1 + math.cos(math.pi * fraction))  # 1 at the start, 0 at the end
        return lc.r1_gamma * (1 + (lc.r1_gamma_anneal - 1) * remaining)

    def ema_decay(self) -> float:
        """This step's EMA decay: by half-life in images (--ema-kimg) or the warmed-up --ema decay per step;
        an --ema of 0 turns the average off either way (G_ema is then the latest G)."""
        tc = self.config.train
        if tc.ema_decay == 0:
            return 0.0
        if tc.ema_kimg:
            return ema_decay_by_images(self.step_count * tc.generator_batch, tc.generator_batch, tc.ema_kimg)
        return ema_decay_at(self.step_count, tc.ema_decay)

    def step(self) -> dict[str, tuple[torch.Tensor, int]]:
        """One generator step: n_critic critic phases, one generator phase, the EMA update.

        Returns each statistic as (sum over the phases that reported it, number of those phases).
        """
        tc, lc = self.config.train, self.config.loss
        self._set_learning_rates()
        stats: dict[str, tuple[torch.Tensor, int]] = {}
        self.G.requires_grad_(False)
        self.D.requires_grad_(True)
        for _ in range(tc.n_critic):
            real, labels = next(self.stream)
            z = self._latents(tc.batch)
            apply_r1 = self.penalised() and self.critic_steps % lc.r1_interval == 0
            result = self.loss.critic_phase(real, labels, z, apply_r1=apply_r1,
                                            r1_gamma=self.r1_gamma() if apply_r1 else None)
            self._optimise(self.opt_D, result.loss)
            self.critic_steps += 1
            add_stats(stats, result.stats)
        self.G.requires_grad_(True)
        self.D.requires_grad_(False)
        z = self._latents(tc.generator_batch)
        if lc.kind in RELATIVISTIC:  # each fake is paired with a real image of the same class
            real, labels = self._real_batch_of(len(z))
            result = self.loss.generator_phase(z, labels, real)
        else:
            result = self.loss.generator_phase(z, self._generator_labels(tc.generator_batch))
        self._optimise(self.opt_G, result.loss)
        add_stats(stats, result.stats)
        update_ema(self.G_ema, self.G, self.ema_decay())
        self.step_count += 1
        return stats

    def _optimise(self, optimiser: torch.optim.Optimizer, loss: torch.Tensor) -> None:
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        self.world.average_gradients(p for group in optimiser.param_groups for p in group["params"])
        optimiser.step()
        self.nonfinite |= ~torch.isfinite(loss.detach())

    def check_finite(self) -> None:
        """Stop with a clear message if any loss since the last check was NaN or infinite."""
        if bool(self.nonfinite):
            saved = self.run_dir / "checkpoints" / "latest.pt"
            if saved.is_file():
                kept = f"the last good checkpoint is {saved}. Lower the learning rates (--lr), then resume it"
            else:
                kept = "no checkpoint was saved. Lower the learning rates (--lr) or use --loss wgan-gp and start again"
            raise ReelganError(f"a loss became NaN or infinite by step {self.step_count}; training stopped and {kept}")

    # ---- state --------------------------------------------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        """The full training state as tensors and plain data."""
        return {
            "config": self.config.to_dict(), "reelgan_version": __version__, "step": self.step_count,
            "critic_steps": self.critic_steps, "batches_consumed": self.batches_consumed,
            "elapsed_s": self.elapsed_s, "class_names": self.class_names,
            "G": self.G.state_dict(), "D": self.D.state_dict(), "G_ema": self.G_ema.state_dict(),
            "opt_G": self.opt_G.state_dict(), "opt_D": self.opt_D.state_dict(),
            "augment": self.loss.augment.state_dict(), "rng": capture_rng_state(), "best": self.best,
            "run_fraction": self.run_fraction(),
        }

    def _load_state(self, state: dict[str, Any]) -> None:
        """Put a checkpoint's state (fields checked by `load_checkpoint`) into this trainer."""
        if state["class_names"] != self.class_names:
            raise ReelganError("the dataset's classes differ from the checkpoint's; resume with the same data")
        what = f"the checkpoint of {self.run_dir}"
        for name in ("G", "D", "G_ema"):
            load_state_checked(getattr(self, name), state[name], f"{what} ({name})",
                               network=f"the {self.config.data.resolution} px networks its config describes")
        for name in ("opt_G", "opt_D"):
            try:
                getattr(self, name).load_state_dict(state[name])
            except (ValueError, KeyError, RuntimeError, TypeError) as exc:
                raise ReelganError(f"{what} has an optimiser state ({name}) that does not fit its networks ({exc}); "
                                   "it is damaged: start a new run") from None
        self.step_count, self.critic_steps = state["step"], state["critic_steps"]
        self.batches_consumed, self.elapsed_s = state["batches_consumed"], state["elapsed_s"]
        self.best = state.get("best")
        fraction = state.get("run_fraction", 0.0)  # absent in checkpoints written before schedules followed time
        self.fraction_at_resume = float(fraction) if isinstance(fraction, (int, float)) else 0.0
        budget_s = 60 * (self.config.train.max_minutes or 0)
        if budget_s and self.fraction_at_resume >= 1.0:
            # The run had spent its budget, so its schedules had ended (with --lr-decay at a learning rate of
            # 0). More time then stretches them over the whole run, as more --steps does for a run by steps.
            self.fraction_at_resume = self.elapsed_s / (self.elapsed_s + budget_s)
            self.notices.append(f"this run had spent its time budget: gamma's anneal and --lr-decay now run over "
                                f"its {self.elapsed_s / 60:.1f} minutes so far and the new {budget_s / 60:g}, from "
                                f"{100 * self.fraction_at_resume:.0f}% of the way")
        try:
            restore_rng_state(state["rng"])
        except (KeyError, TypeError, ValueError, RuntimeError, AttributeError):
            raise ReelganError(f"{what} has a damaged RNG state, so it cannot resume exactly; start a new run") from None

    def save_checkpoint(self) -> Path:
        """Write checkpoints/latest.pt atomically, then the export beside it, once the losses are finite.

        Exporting with every checkpoint keeps `generate run_dir` on the newest weights even when a session
        dies between checkpoints.
        """
        self.check_finite()
        self.sampling_generator()  # the checkpoint's G_ema is the one its exports sample
        path = self.run_dir / "checkpoints" / "latest.pt"
        save_checkpoint(self.state_dict(), path)
        self.export()
        return path

    def sampling_generator(self) -> torch.nn.Module:
        """G_ema with its batch-norm statistics measured on its own weights (gan/standing_stats.py): what every
        grid, metric, copy audit, export and checkpoint of the run samples.

        Each EMA update copies the live G's statistics, measured on other weights. Measuring them again removed
        the late FID swings of the benchmark's Fashion-MNIST and twemoji runs; on Omniglot it was mixed
        (benchmarks/RESULTS.md). Training never reads G_ema's statistics and the next update replaces them, so
        this changes no step. Clip generators, and runs with --no-standing-stats (the paper presets), keep the
        copied statistics (clip latents have another shape).
        """
        measure = self.config.train.standing_stats and isinstance(self.G_ema, ImageGenerator)
        if measure and self.standing_stats_step != self.step_count:
            recompute_batch_norm(self.G_ema)
            self.standing_stats_step = self.step_count
        return self.G_ema

    def write_samples(self) -> Path:
        """A grid of G_ema on the fixed latents, as samples/<step>.png with AI-generation metadata."""
        with torch.no_grad():
            labels = None if self.fixed_labels is None else self.fixed_labels.to(self.device)
            images = self.sampling_generator()(self.fixed_z.to(self.device), labels).float().cpu()  # (N, C, H, W)
        nrow = None
        if images.dim() == 5:  # clips (N, C, T, H, W): one row of frames per clip, at most 8 clips
            images = images[:8].transpose(1, 2)  # (n, T, C, H, W)
            nrow = images.shape[1]
            images = images.reshape(-1, *images.shape[2:])  # (n*T, C, H, W)
        path = self.run_dir / "samples" / f"{self.step_count:06d}.png"
        path.parent.mkdir(exist_ok=True)
        record = make_record(generator_hash=weights_hash(self.G_ema), seed=FIXED_LATENT_SEED,
                             step=self.step_count, run=self.run_dir.name)
        save_png(path, make_grid(images, nrow=nrow), record)
        return path

    def export(self) -> Path:
        """The shareable generator: generator.safetensors + generator.json in the run folder."""
        spec = generator_spec(self.config.to_dict(), self.class_names, self.step_count)
        return export_generator(self.sampling_generator(), spec, self.run_dir)

    # ---- the loop -----------------------------------------------------------------------------------------

    def run(self, show_progress: bool = True) -> TrainResult:
        """Train to `config.train.steps`, a time limit, or a SIGINT/SIGTERM; checkpoint and export at the end."""
        tc, main = self.config.train, self.world.is_main
        if main:
            truncate_jsonl(self.run_dir / "stats.jsonl", self.step_count)
            truncate_jsonl(self.run_dir / "metrics.jsonl", self.step_count)
        status = "finished"
        previous = self._install_signal_handlers()
        started, window_start, window_steps = self.clock(), self.clock(), 0
        self.session_start = started
        base_elapsed = self.elapsed_s
        sums: dict[str, tuple[torch.Tensor, int]] = {}
        timed = bool(tc.max_minutes)  # the bar and its ETA follow whichever of steps and time ends the run
        try:
            with TrainingProgress(tc.steps, self.step_count, enabled=show_progress and main,
                                  timed=timed) as progress:
                while self.step_count < tc.steps:
                    for key, (total, count) in self.step().items():
                        add_stats(sums, {key: total}, count)
                    window_steps += 1
                    self.elapsed_s = base_elapsed + self.clock() - started
                    reason = ("interrupted" if self.stop_signal is not None else
                              "time-limit" if tc.max_minutes and self.clock() - started >= tc.max_minutes * 60
                              else None)  # this session's time
                    logging_step = self.step_count % tc.log_every == 0 or self.step_count == tc.steps
                    if logging_step:
                        sums, reason = self._agree(sums, reason)  # several processes stop at the same step
                        now = self.clock()
                        row = self._log_row(sums, window_steps, now - window_start)
                        progress.update(self.step_count, row, self.run_fraction())
                        sums, window_start, window_steps = {}, now, 0
                    else:
                        progress.update(self.step_count, fraction=self.run_fraction() if timed else None)
                    self._periodic_outputs()
                    if reason is not None and (logging_step or not self.world.distributed):
                        status = reason
                        break
        finally:
            self._restore_signal_handlers(previous)
        evaluated = tc.metrics_every and self.step_count % tc.metrics_every == 0
        if status == "finished" and tc.metric_names and not evaluated:
            self.evaluate()  # every rank samples its part
        if main:
            self.save_checkpoint()
            self.write_samples()
            if status != "interrupted":  # a user who pressed Ctrl-C wants the prompt back, not an audit
                self.check_copies()
                self.check_conditioning()
        return TrainResult(self.run_dir, self.step_count, status)

    def _agree(self, sums: dict[str, tuple[torch.Tensor, int]], reason: str | None
               ) -> tuple[dict[str, tuple[torch.Tensor, int]], str | None]:
        """At a logging step of a multi-process run, what all ranks go on with: each statistic averaged over the
        ranks, a NaN on any rank, the stop reason of any rank, and rank 0's clock for schedules that follow
        --max-minutes (one all-reduce). A single process keeps its own."""
        if not self.world.distributed:
            return sums, reason
        keys = sorted(sums)
        own_time = self.clock() - self.session_start if self.world.is_main else 0.0
        flags = torch.tensor([reason == "interrupted", reason == "time-limit", own_time], dtype=torch.float64)
        packed = torch.cat([torch.stack([sums[k][0] for k in keys]).double().cpu() if keys else flags[:0], flags,
                            self.nonfinite.double().cpu().reshape(1)])
        total = self.world.sum(packed.to(self.device)).cpu()
        means = total[:len(keys)] / self.world.size
        interrupted, time_up, self.agreed_session_s, nonfinite = total[len(keys):].tolist()
        self.nonfinite = torch.tensor(nonfinite > 0, device=self.device)
        reason = "interrupted" if interrupted else "time-limit" if time_up else None
        return {k: (means[i].to(self.device), sums[k][1]) for i, k in enumerate(keys)}, reason

    def check_copies(self) -> dict[str, Any] | None:
        """On a small image set (under COPY_CHECK_IMAGES), audit G_ema for copies of training images; warn with
        the numbers when a large share of samples is one (`reelgan audit` gives the full report).

        Writes copy-check.json in the run folder; returns its content, or None when the set is not small.
        """
        images = self.image_count()
        if not self.kind.image_only_settings or images >= COPY_CHECK_IMAGES or images < 20:
            return None
        from ..metrics.audit import audit_generator

        training = torch.stack([self.dataset[i][0] for i in range(images)])  # (N, C, R, R), the unmirrored set
        spec = generator_spec(self.config.to_dict(), self.class_names, self.step_count)
        with self._isolated_rng():
            report, _ = audit_generator(Generator(self.sampling_generator(), spec, self.device), training,
                                        n=COPY_CHECK_SAMPLES)
        share = len(report["flagged"]) / report["samples"]
        result = {"step": self.step_count, "images": images, "samples": report["samples"],
                  "flagged": len(report["flagged"]), "share": round(share, 4),
                  "pixel_threshold": round(report["pixel_threshold"], 4),
                  "median_sample_distance": round(report["sample_pixel"]["median"], 4),
                  "median_held_out_distance": round(report["held_out_pixel"]["median"], 4)}
        write_json(self.run_dir / "copy-check.json", result)
        if share >= COPY_WARN_SHARE:
            log.warning("%d of %d samples (%.0f%%) are nearer a training image than 99%% of held-out real images "
                        "are (RMS %.3f): with %d images the generator is copying its training set. Add images, "
                        "use --xflip, or stop earlier; `reelgan audit %s --data %s` shows the pairs",
                        len(report["flagged"]), report["samples"], 100 * share, report["pixel_threshold"], images,
                        self.run_dir, self.config.data.source)
        else:
            log.info("copy check: %d of %d samples are near-copies of the %d training images (%.0f%%)",
                     len(report["flagged"]), report["samples"], images, 100 * share)
        return result

    def check_conditioning(self) -> dict[str, Any] | None:
        """For a class-conditional image run, measure how much the label changes G_ema's samples
        (metrics/distinctness.py); when it barely does and the class loss is off, say how to turn it on.

        Writes cond-check.json in the run folder; returns its content, or None for an unconditional run.
        """
        if len(self.class_names) < 2 or not isinstance(self.G_ema, ImageGenerator):
            return None
        from ..metrics.distinctness import WEAK_DISTINCTNESS, class_distinctness

        spec = generator_spec(self.config.to_dict(), self.class_names, self.step_count)
        G = Generator(self.sampling_generator(), spec, self.device)
        z = seed_latents(list(range(COND_CHECK_SEEDS)), self.latent_dim)  # `reelgan generate --seed 0..15`'s
        with self._isolated_rng():  # Generator draws without gradients
            result = class_distinctness(G, z, len(self.class_names))
        result = {"step": self.step_count, **result}
        write_json(self.run_dir / "cond-check.json", result)
        if result["distinctness"] < WEAK_DISTINCTNESS and self.config.loss.class_weight == 0:
            log.warning("the class label barely changes the samples: changing it moves the pixels %.2f times as "
                        "much as changing the seed (under %.1f is weak). Train with --class-weight 1: on "
                        "Omniglot's alphabets it raised this from about 0.5 to 0.9 and cut the FID "
                        "(benchmarks/RESULTS.md)", result["distinctness"], WEAK_DISTINCTNESS)
        else:
            log.info("class distinctness %.2f: changing the label moves the pixels that many times as much as "
                     "changing the seed", result["distinctness"])
        return result

    def _periodic_outputs(self) -> None:
        """Sample grids, metrics and checkpoints when they are due (files from rank 0 only)."""
        tc, main = self.config.train, self.world.is_main
        if main and tc.sample_every and self.step_count % tc.sample_every == 0:
            self.write_samples()
        if tc.metric_names and tc.metrics_every and self.step_count % tc.metrics_every == 0:
            self.evaluate()
        if main and tc.checkpoint_every and self.step_count % tc.checkpoint_every == 0:
            self.save_checkpoint()

    def _log_row(self, sums: dict[str, tuple[torch.Tensor, int]], steps: int, seconds: float
                 ) -> dict[str, float]:
        """Append one line to stats.jsonl: step, mean of each statistic over the phases since the last line
        that reported it (r1 only runs on lazy steps), speed, learning rate."""
        self.check_finite()
        tc = self.config.train
        row: dict[str, float] = {
            "step": self.step_count, "kimg": self.batches_consumed * tc.batch / 1000,
            "time_s": round(self.elapsed_s, 3), "steps_per_s": round(steps / max(seconds, 1e-9), 4),
            "lr_g": self.opt_G.param_groups[0]["lr"], "lr_d": self.opt_D.param_groups[0]["lr"],
        }
        if self.penalised():
            row["r1_gamma"] = round(self.r1_gamma(), 6)  # where the anneal is at this step
        row.update({key: round(float(total) / count, 6) for key, (total, count) in sums.items()})
        if self.world.is_main:
            with (self.run_dir / "stats.jsonl").open("a") as handle:
                handle.write(json.dumps(row) + "\n")
            self._watch_speed(row["steps_per_s"])
        return row

    def _watch_speed(self, steps_per_s: float) -> None:
        """Warn once when the step rate falls to a third of the best seen this session: another program is
        then busy on the CPU, and torch's threads wait for cores (measured 8x slower on 2 cores)."""
        self.best_rate = max(self.best_rate, steps_per_s)
        if self.slow_warned or steps_per_s * SLOWDOWN_FACTOR > self.best_rate:
            return
        self.slow_warned = True
        advice = ("another program is using the CPU: close it, or continue with fewer threads "
                  f"(stop, then `reelgan train --resume {self.run_dir} --threads 1`)"
                  if self.device.type == "cpu" else "the device is shared or throttled")
        log.warning("training slowed from %.2f to %.2f steps/s; %s", self.best_rate, steps_per_s, advice)

    def _install_signal_handlers(self) -> dict[int, Any]:
        """SIGINT/SIGTERM ask the loop to stop after the current step; it then saves and returns."""
        previous: dict[int, Any] = {}

        def request_stop(signum: int, frame: Any) -> None:
            if self.stop_signal is not None:  # a second Ctrl-C: stop now, the last checkpoint stays
                if self.world.distributed and time.monotonic() - self.stop_time < SIGNAL_ECHO_S:
                    return  # torchrun passes the terminal's Ctrl-C on to its workers, which had it already
                raise KeyboardInterrupt
            self.stop_time = time.monotonic()
            self.stop_signal = signum
            log.warning("stopping after this step: saving a checkpoint (press Ctrl-C again to abort)")

        for signum in (signal.SIGINT, signal.SIGTERM):
            try:
                previous[signum] = signal.signal(signum, request_stop)
            except ValueError:  # not the main thread: signals stay with the caller
                pass
        return previous

    @staticmethod
    def _restore_signal_handlers(previous: dict[int, Any]) -> None:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def add_stats(sums: dict[str, tuple[torch.Tensor, int]], stats: dict[str, torch.Tensor], count: int = 1) -> None:
    """Add statistics (detached scalar tensors, kept on the device to avoid a sync) to running sums."""
    for key, value in stats.items():
        total, seen = sums.get(key, (torch.zeros((), device=value.device), 0))
        sums[key] = (total + value.float(), seen + count)


def train(config: RunConfig, resume: str | Path | None = None, show_progress: bool = True) -> TrainResult:
    """Train a GAN as `config` says, in a new numbered run folder, or continue the run folder `resume`.

    One process at a time trains a run folder (`RunLock`). A new run whose first checkpoint was never
    written (bad data found late, a NaN, a second Ctrl-C) leaves no folder behind; one killed before its
    first checkpoint resumes from step 0.

    >>> from reelgan.config import build_config
    >>> result = reelgan.train(build_config(overrides={"train": {"steps": 100}}))  # doctest: +SKIP
    """
    world = World.from_environment(pick_device(config.train.device).type)  # torchrun's processes, or this one
    try:
        result = _train_in(world, config, resume, show_progress)
        world.wait_for_all()  # the processes leave together, once rank 0's last files are written
        return result
    finally:
        world.close()


def _train_in(world: World, config: RunConfig, resume: str | Path | None, show_progress: bool) -> TrainResult:
    """`train` as one process of `world`: rank 0 owns the run folder, every rank trains."""
    from .rundir import RunLock, check_resume_changes, create_run_dir, elastic_run_dir, stored_config

    if resume is None and world.distributed:  # torchrun restarted the job (--max-restarts): continue its run
        resume = world.broadcast(elastic_run_dir(config.train.out) if world.is_main else None)
    lock = RunLock if world.is_main else _no_lock  # rank 0 owns the run folder
    if resume is not None:
        run_dir = Path(resume)
        with lock(run_dir):
            for folder in (run_dir, run_dir / "checkpoints", run_dir / "samples") if world.is_main else ():
                remove_stale_temps(folder)  # left by a process killed mid-write
            checkpoint = run_dir / "checkpoints" / "latest.pt"
            state = load_checkpoint(checkpoint) if checkpoint.is_file() else None  # None: from step 0
            stored = with_added_fields(state["config"]) if state is not None else stored_config(run_dir)
            check_resume_changes(RunConfig.from_dict(stored).to_dict(), config.to_dict())
            check_resumable(run_dir, state, config)
            trainer = Trainer(config, run_dir, resume=state, world=world)
            if world.is_main:
                write_json(run_dir / "config.json", config.to_dict())  # a resume may change steps or reporting
            return _start(trainer, show_progress)
    trainer = Trainer(config, None, world=world)  # fails on bad data before any folder is made
    trainer.run_dir = world.broadcast(create_run_dir(config.train.out, config.run_name()) if world.is_main else None)
    with lock(trainer.run_dir):
        try:
            if world.is_main:
                write_json(trainer.run_dir / "config.json", config.to_dict())
                record_elastic_run(trainer.run_dir)
            return _start(trainer, show_progress)
        except BaseException:
            if world.is_main and not (trainer.run_dir / "checkpoints" / "latest.pt").is_file():
                shutil.rmtree(trainer.run_dir, ignore_errors=True)  # nothing to resume: leave nothing behind
            raise


@contextlib.contextmanager
def _no_lock(run_dir: Path) -> Iterator[None]:
    """Ranks other than 0 write nothing into the run folder, so they take no lock on it."""
    yield


def _start(trainer: Trainer, show_progress: bool) -> TrainResult:
    """Say where the run is (and what was decided for it), then run it."""
    world = trainer.world
    processes = f" on {world.size} processes (global batch {trainer.config.train.batch})" if world.distributed else ""
    log.info("run folder: %s (step %d of %d)%s", trainer.run_dir, trainer.step_count, trainer.config.train.steps,
             processes)
    for notice in trainer.notices if world.is_main else ():
        log.info("%s", notice)
    return trainer.run(show_progress=show_progress)


def check_resumable(run_dir: Path, state: dict[str, Any] | None, config: RunConfig) -> None:
    """ReelganError, before anything is written, if `run_dir` cannot continue as `config` asks."""
    if state is None and (run_dir / "generator.safetensors").exists():
        raise ReelganError(f"{run_dir} has an exported generator but no checkpoints/latest.pt: its checkpoint was "
                           "removed, so it cannot continue; start a new run (its generator.safetensors still samples)")
    step = state["step"] if state is not None else 0
    if config.train.steps <= step:
        raise ReelganError(f"{run_dir} is already at step {step}; give --steps more than {step} to train further")
    for name in ("stats.jsonl", "metrics.jsonl"):
        read_jsonl(run_dir / name)  # a damaged log is named now, not half-rewritten later
