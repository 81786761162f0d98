"""The quality benchmark in one command: training systems side by side, same data, same wall time, scored by
FID/KID/precision/recall in each dataset's own domain feature space.

For every dataset it (1) trains the dataset's domain extractor once (`reelgan metrics train-extractor`,
kept as EXTRACTORS/NAME-32.safetensors, its sha256 recorded), (2) trains each system for the same wall-clock
budget of its own time, each in a fresh process, the systems taking turns of 30 s on the machine (turns.py)
so that its drifting speed meets them alike, exporting the EMA generator at fixed marks of that time, and
(3) after all runs of the dataset, scores every snapshot against the dataset's reference images
(FID, KID, precision/recall on the same latents for every system), then writes results/<dataset>.json, a plot
results/<dataset>-fid.png (FID against wall-clock minutes, one line per system), a grid of the last snapshot
per system, and prints a markdown table for benchmarks/RESULTS.md.

    python -m benchmarks.quality.run                                   # everything: 5 datasets x 3 systems
    python -m benchmarks.quality.run --datasets logograms,fashion-mnist --minutes 10 --snapshot-every 1
    python -m benchmarks.quality.run --datasets omniglot --system 'hinge-ttur={"loss": {"kind": "hinge"}}'
    python -m benchmarks.quality.run --datasets logograms --systems reelgan-default \\
        --system 'paper-resnet={"preset": "paper-resnet"}'
    python -m benchmarks.quality.run --datasets twemoji --score-only  # rescore existing snapshots

Systems: reelgan-default (reelgan's defaults), reelgan-paper (`--preset paper`), reference-dcgan (the plain DCGAN
loop of reference_dcgan.py), and any `--system NAME=JSON` (or NAME=@file.json / @file.toml): reelgan config
sections {"data"|"net"|"loss"|"train": {...}} plus an optional "preset"; or {"kind": "reference", "settings":
{...}} for a variant of the reference loop (keyword arguments of `train_reference`). The data source,
resolution and channels are the dataset's; train.steps is unbounded unless the system sets it.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from .turns import TURN_S, TurnClock, take_turns

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
DEFAULT_DATASETS = ("logograms", "omniglot", "fashion-mnist", "twemoji", "twemoji-faces")
BUILTIN_SYSTEMS: dict[str, dict[str, Any]] = {
    "reelgan-default": {"kind": "reelgan", "preset": "default", "overrides": {}},
    "reelgan-paper": {"kind": "reelgan", "preset": "paper", "overrides": {}},
    "reference-dcgan": {"kind": "reference", "settings": {}},
}
DEFAULT_SYSTEMS = tuple(BUILTIN_SYSTEMS)
RESOLUTION = 32
UNBOUNDED_STEPS = 10**9
LAST_MINUTES = 3.0  # the table's "best FID of the last three minutes"


# ---- systems ------------------------------------------------------------------------------------------------


def parse_system(text: str) -> tuple[str, dict[str, Any]]:
    """'NAME=JSON' or 'NAME=@file.json|.toml' -> (name, system)."""
    name, sep, body = text.partition("=")
    if not sep or not name.strip():
        raise SystemExit(f"--system takes NAME=JSON (or NAME=@file.json / @file.toml); got {text!r}")
    name = name.strip()
    if body.startswith("@"):
        path = Path(body[1:])
        if path.suffix == ".toml":
            from reelgan.config import load_toml

            data = load_toml(path)
        else:
            data = json.loads(path.read_text())
    else:
        try:
            data = json.loads(body)
        except json.JSONDecodeError as exc:
            raise SystemExit(f"--system {name}: not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise SystemExit(f"--system {name}: expected a JSON object of config sections")
    data = dict(data)
    if data.get("kind") == "reference":
        import inspect

        from .reference_dcgan import train_reference

        settings = dict(data.get("settings", {}))
        allowed = [p.name for p in inspect.signature(train_reference).parameters.values()
                   if p.kind == p.KEYWORD_ONLY and p.name not in ("device", "on_step")]
        bad = sorted(set(settings) - set(allowed))
        if bad:
            raise SystemExit(f"--system {name}: unknown reference setting(s) {', '.join(bad)}; allowed: "
                             f"{', '.join(allowed)}")
        return name, {"kind": "reference", "settings": settings}
    data.pop("kind", None)
    preset = data.pop("preset", "default")
    system = {"kind": "reelgan", "preset": preset, "overrides": data}
    from reelgan.errors import ReelganError

    try:
        resolved_config(system, "logograms", 1, "cpu", 0)  # fail now on a bad key or value, not after hours
    except ReelganError as exc:
        raise SystemExit(f"--system {name}: {exc}") from None
    return name, system


def resolved_config(system: dict[str, Any], source: str, channels: int, device: str, seed: int,
                    minutes: float = 0.0):
    """The RunConfig of a reelgan system on a dataset: its preset and overrides, then the benchmark's data,
    device, seed and time budget (`--max-minutes`, so schedules that follow it do); no periodic outputs (the
    benchmark exports snapshots itself)."""
    from reelgan.config import build_config, merge

    overrides = system.get("overrides", {})
    steps = overrides.get("train", {}).get("steps", UNBOUNDED_STEPS)
    forced = {"data": {"source": source, "resolution": RESOLUTION, "channels": channels},
              "train": {"steps": steps, "device": device, "seed": seed, "metrics": "", "sample_every": 0,
                        "checkpoint_every": 0, "max_minutes": float(minutes)}}
    return build_config(system.get("preset", "default"), None, merge(overrides, forced))


# ---- machine ------------------------------------------------------------------------------------------------


def machine_info(device: str) -> dict[str, Any]:
    """CPU model, cores, torch version and threads, Python, reelgan version and commit, GPU if used."""
    import torch

    import reelgan

    model = ""
    try:
        for line in subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout.splitlines():
            if line.startswith("Model name:"):
                model = line.split(":", 1)[1].strip()
    except OSError:
        pass
    info: dict[str, Any] = {
        "cpu_model": model, "cpu_count": os.cpu_count(), "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(), "torch_interop_threads": torch.get_num_interop_threads(),
        "python": platform.python_version(), "platform": platform.platform(), "reelgan": reelgan.__version__,
        "device": device, "hostname": platform.node(),
    }
    try:
        info["load_average_at_start"] = [round(x, 2) for x in os.getloadavg()]
    except OSError:
        pass
    git = ["git", "-C", str(REPO)]
    head = subprocess.run([*git, "rev-parse", "HEAD"], capture_output=True, text=True, check=False).stdout.strip()
    dirty = subprocess.run([*git, "status", "--porcelain", "--", "src"], capture_output=True, text=True,
                           check=False).stdout.strip()
    info["git_commit"] = head + ("+local-changes-in-src" if dirty else "")
    if device.startswith("cuda") and torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name()
    return info


# ---- extractors ---------------------------------------------------------------------------------------------


def ensure_extractor(spec, directory: Path, steps: int, retrain: bool) -> dict[str, Any]:
    """The dataset's domain extractor DIR/NAME-32.safetensors, trained now with `reelgan metrics
    train-extractor` if it does not exist (or `retrain`); its path, sha256, label and training record."""
    path = directory / f"{spec.name}-{RESOLUTION}.safetensors"
    meta = path.with_suffix(".json")
    if path.is_file() and meta.is_file() and not retrain:
        record = json.loads(meta.read_text())
        if record.get("trained_steps") != steps or record.get("channels") != spec.channels:
            raise SystemExit(f"{path} was trained for {record.get('trained_steps')} steps at {record.get('channels')} "
                             f"channel(s), not {steps} at {spec.channels}: pass --extractor-steps "
                             f"{record.get('trained_steps')}, another --extractors-dir, or --retrain-extractors")
        trained_s = None
    else:
        directory.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, "-m", "reelgan", "metrics", "train-extractor", spec.train, "--resolution",
                   str(RESOLUTION), "--channels", str(spec.channels), "--steps", str(steps), "--seed", "0",
                   "--out", str(path), "--overwrite"]
        print(f"[{spec.name}] training the domain extractor: {' '.join(command[2:])}", flush=True)
        start = time.perf_counter()
        subprocess.run(command, check=True, cwd=REPO)
        trained_s = round(time.perf_counter() - start, 1)
        record = json.loads(meta.read_text())
    return {"path": str(path), "sha256": record["sha256"], "label": f"domain-{record['dataset']}-{RESOLUTION}",
            "trained_steps": record["trained_steps"], "batch": record.get("batch"), "images": record.get("images"),
            "train_s": trained_s, "command": f"reelgan metrics train-extractor {spec.train} --resolution "
            f"{RESOLUTION} --channels {spec.channels} --steps {steps} --seed 0 --out {path}"}


# ---- training (in a child process per system) ---------------------------------------------------------------


def warm(dataset) -> None:
    """Render a procedural set's glyphs before the clock starts (files are decoded when the dataset is built)."""
    if hasattr(dataset, "glyph") and hasattr(dataset, "size"):
        for index in range(dataset.size):
            dataset.glyph(index)


def load_average() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def train_reelgan(job: dict[str, Any]) -> dict[str, Any]:
    """One reelgan system: a Trainer stepped until the budget, exporting G_ema at each wall-clock mark."""
    import torch

    from reelgan.errors import ReelganError
    from reelgan.gan.generator import export_generator, generator_spec
    from reelgan.training import Trainer

    out = Path(job["out"])
    config = resolved_config(job["system"], job["source"], job["channels"], job["device"], job["seed"],
                             job["minutes"])
    setup_start = time.perf_counter()
    trainer = Trainer(config, out / "run")
    warm(trainer.dataset)
    setup_s = time.perf_counter() - setup_start
    clock = TurnClock()
    clock.wait_for_first_turn()
    marks = snapshot_marks(job["minutes"], job["snapshot_every"])
    log: dict[str, Any] = {"kind": "reelgan", "preset": job["system"]["preset"],
                           "overrides": job["system"]["overrides"], "config": config.to_dict(),
                           "notices": list(trainer.notices), "setup_s": round(setup_s, 2), "snapshots": [],
                           "status": "finished", "load_before": load_average()}
    batch = config.train.batch

    def export(minutes: float) -> None:
        trainer.check_finite()
        spec = generator_spec(config.to_dict(), trainer.class_names, trainer.step_count)
        stem = f"{len(log['snapshots']) + 1:03d}-{int(round(minutes * 60)):05d}s"
        path = export_generator(trainer.sampling_generator(), spec, out / "snapshots", stem=stem)
        log["snapshots"].append({"minutes": minutes, "step": trainer.step_count,
                                 "kimg": round(trainer.batches_consumed * batch / 1000, 3), "path": str(path)})
        print(f"  {minutes:6.2f} min  step {trainer.step_count}", flush=True)

    trainer.clock = clock  # --max-minutes counts this system's turns only
    start = trainer.session_start = clock()  # as `Trainer.run()` sets it
    try:
        while marks:
            elapsed_min = (clock() - start) / 60
            while marks and elapsed_min >= marks[0]:
                export(marks.pop(0))
            if not marks:
                break
            if trainer.step_count >= config.train.steps:  # a system that set its own steps and finished early
                export(marks.pop(0))
                log["status"] = "steps-done"
                continue
            trainer.step()
    except ReelganError as exc:  # a NaN/inf loss: the snapshots so far stay
        log["status"] = f"nonfinite: {exc}"
    log.update({"steps": trainer.step_count, "critic_steps": trainer.critic_steps,
                "kimg": round(trainer.batches_consumed * batch / 1000, 3),
                "train_s": round(clock() - start, 2), "threads": torch.get_num_threads(),
                "load_after": load_average()})
    return log


def train_reference_system(job: dict[str, Any]) -> dict[str, Any]:
    """The reference DCGAN loop on the same reelgan dataset object."""
    from reelgan.config import DataConfig
    from reelgan.data import build_dataset

    from .reference_dcgan import train_reference

    setup_start = time.perf_counter()
    dataset = build_dataset(DataConfig(source=job["source"], resolution=RESOLUTION, channels=job["channels"]))
    warm(dataset)
    setup_s = time.perf_counter() - setup_start
    clock = TurnClock()
    clock.wait_for_first_turn()
    load_before = load_average()
    log = train_reference(dataset, job["minutes"] * 60, job["snapshot_every"] * 60, job["out"], job["seed"],
                          device=job["device"], **job["system"].get("settings", {}),
                          on_step=None, clock=clock)
    log.update({"kind": "reference", "setup_s": round(setup_s, 2), "load_before": load_before,
                "load_after": load_average(),
                "status": "nonfinite" if log.pop("nonfinite") else "finished"})
    for snap in log["snapshots"]:
        snap["minutes"] = round(snap.pop("seconds") / 60, 6)
    return log


def snapshot_marks(minutes: float, every: float) -> list[float]:
    """Wall-clock minutes of the snapshots: every, 2 every, ..., the budget."""
    count = max(1, math.ceil(minutes / every - 1e-9))
    return [round(min(minutes, every * k), 6) for k in range(1, count + 1)]


def child_main(job_path: Path) -> int:
    """Run one (dataset, system) job described by a JSON file; write its log.json beside it."""
    import torch

    job = json.loads(job_path.read_text())
    if job.get("threads"):
        torch.set_num_threads(job["threads"])
    log = (train_reelgan if job["system"]["kind"] == "reelgan" else train_reference_system)(job)
    log["system"] = job["name"]
    (Path(job["out"]) / "log.json").write_text(json.dumps(log, indent=2) + "\n")
    print(f"  done: {log['steps']} steps, {log['kimg']} kimg, status {log['status']}", flush=True)
    return 0


def run_systems(systems: dict[str, dict], spec, args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    """Train every system on one dataset, each in a fresh Python process, taking turns on the machine
    (`turns.take_turns`) so that each meets the same machine; their logs by name."""
    commands = {}
    for name, system in systems.items():
        out = args.work_dir / spec.name / name
        if out.exists():
            shutil.rmtree(out)
        out.mkdir(parents=True)
        job = {"name": name, "system": system, "source": spec.train, "channels": spec.channels,
               "device": args.device, "seed": args.seed, "minutes": args.minutes,
               "snapshot_every": args.snapshot_every, "threads": args.threads, "out": str(out)}
        (out / "job.json").write_text(json.dumps(job, indent=2) + "\n")
        commands[name] = [sys.executable, "-m", "benchmarks.quality.run", "--child", str(out / "job.json")]
    print(f"[{spec.name}] {', '.join(systems)}: {args.minutes:g} min each, taking turns of {args.turn:g} s",
          flush=True)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    codes = take_turns(commands, args.work_dir / spec.name, env, REPO, args.turn)
    logs = {}
    for name, code in codes.items():
        log_path = args.work_dir / spec.name / name / "log.json"
        if code != 0 or not log_path.is_file():  # one broken system does not stop the others
            print(f"[{spec.name}] {name}: FAILED (exit {code}); continuing", file=sys.stderr, flush=True)
            logs[name] = {"system": name, "status": f"failed (exit {code})", "steps": 0, "kimg": 0, "snapshots": []}
        else:
            logs[name] = json.loads(log_path.read_text())
    return logs


# ---- scoring ------------------------------------------------------------------------------------------------


def load_snapshot(path: str):
    """A reelgan export or a reference-dcgan snapshot, as a reelgan Generator."""
    meta = json.loads(Path(path).with_suffix(".json").read_text())
    if meta.get("format", "").startswith("reference-dcgan"):
        from .reference_dcgan import load_reference_generator

        return load_reference_generator(path)
    from reelgan.gan.generator import load_generator

    return load_generator(path)


def score_dataset(spec, logs: dict[str, dict], extractor_info: dict, args: argparse.Namespace
                  ) -> tuple[dict[str, Any], int]:
    """Score every snapshot of every system against the same reference features; points per system."""
    from reelgan.metrics import compute_metrics
    from reelgan.metrics.domain import load_extractor
    from reelgan.metrics.evaluate import metric_key, real_images, reference_features

    extractor = load_extractor(extractor_info["path"])
    real = real_images(spec.reference, RESOLUTION, spec.channels, args.n)  # all of a set smaller than n
    n = len(real)
    real_features = reference_features(real, extractor)
    names = [m.strip() for m in args.metrics.split(",") if m.strip()]
    scored: dict[str, Any] = {}
    for system, log in logs.items():
        points = []
        for snap in log["snapshots"]:
            start = time.perf_counter()
            G = load_snapshot(snap["path"])
            fake = extractor.features(G.sample(n, seed=0))  # seeds 0..n-1: the same latents for every system
            raw = compute_metrics(names, real_features, fake)
            point = {"minutes": snap["minutes"], "steps": snap["step"], "kimg": snap["kimg"],
                     "fid": raw.get("fid"), "kid": raw.get("kid"), "kid_std": raw.get("kid_std"),
                     "precision": raw.get("precision"), "recall": raw.get("recall"),
                     "metrics": {metric_key(k, n, extractor, RESOLUTION): v for k, v in raw.items()},
                     "score_s": round(time.perf_counter() - start, 1)}
            points.append(point)
            print(f"[{spec.name}] {system:18s} {point['minutes']:6.2f} min  step {point['steps']:6d}  "
                  f"fid {fmt(point['fid'])}  kid {fmt(point['kid'], 4)}", flush=True)
        scored[system] = {**{k: v for k, v in log.items() if k != "snapshots"}, "points": points}
        if log["snapshots"]:
            write_grid(spec.name, system, log["snapshots"][-1]["path"], args.results)
    return scored, n


def write_grid(dataset: str, system: str, snapshot: str, results: Path) -> None:
    """results/<dataset>-<system>-samples.png: 64 samples (seeds 0-63) of the last snapshot, labelled AI-made."""
    from reelgan.media import make_grid, save_png, upscale
    from reelgan.provenance import make_record

    G = load_snapshot(snapshot)
    grid = upscale(make_grid(G.sample(64, seed=0), nrow=8), 8 * 33 * 2)
    save_png(results / f"{dataset}-{system}-samples.png", grid,
             make_record(generator_hash=G.hash, seed=0, benchmark="quality", system=system, dataset=dataset))


def fmt(value: float | None, digits: int = 2) -> str:
    return "-" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.{digits}f}"


# ---- reporting ----------------------------------------------------------------------------------------------


def summary_rows(result: dict[str, Any]) -> list[dict[str, Any]]:
    """Per system: steps, kimg, FID at the end, best FID of the last three minutes, KID/precision/recall at the end."""
    rows = []
    budget = result["protocol"]["minutes"]
    for system, data in result["systems"].items():
        points = [p for p in data["points"] if p.get("fid") is not None]
        last = points[-1] if points else {}
        window = [p["fid"] for p in points if p["minutes"] >= budget - LAST_MINUTES - 1e-9]
        rows.append({"system": system, "steps": data.get("steps"), "kimg": data.get("kimg"),
                     "fid_end": last.get("fid"), "fid_best_last3": min(window) if window else None,
                     "kid_end": last.get("kid"), "precision_end": last.get("precision"),
                     "recall_end": last.get("recall"), "status": data.get("status")})
    return rows


def markdown_table(result: dict[str, Any]) -> str:
    p = result["protocol"]
    head = (f"**{result['dataset']}** ({result['n_reference']} reference images, {p['fid_key']}, "
            f"{p['minutes']:g} min per system, {result['machine']['cpu_model'] or result['machine']['device']}, "
            f"{result['machine']['torch_threads']} threads)\n\n")
    lines = ["| system | steps | kimg | FID at end | best FID, last 3 min | KID at end | precision | recall |",
             "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in summary_rows(result):
        flag = "" if r["status"] in ("finished", "steps-done") else f" ({r['status'][:40]})"
        lines.append(f"| {r['system']}{flag} | {r['steps']} | {fmt(r['kimg'], 1)} | {fmt(r['fid_end'])} | "
                     f"{fmt(r['fid_best_last3'])} | {fmt(r['kid_end'], 4)} | {fmt(r['precision_end'], 3)} | "
                     f"{fmt(r['recall_end'], 3)} |")
    return head + "\n".join(lines) + "\n"


def plot(result: dict[str, Any], path: Path) -> None:
    """FID (log scale) against wall-clock minutes, one line per system; KID beside it."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), dpi=120)
    for system, data in result["systems"].items():
        points = [p for p in data["points"] if p.get("fid") is not None]
        axes[0].plot([p["minutes"] for p in points], [p["fid"] for p in points], marker="o", label=system)
        kid = [p for p in points if p.get("kid") is not None]
        axes[1].plot([p["minutes"] for p in kid], [max(p["kid"], 1e-6) for p in kid], marker="o", label=system)
    p, m = result["protocol"], result["machine"]
    for axis, name in zip(axes, (p["fid_key"], p["fid_key"].replace("fid", "kid", 1))):
        axis.set_yscale("log")
        where = f"{m['cpu_model'] or m['device']}, {m['torch_threads']} threads"
        axis.set_xlabel(f"wall-clock minutes of training ({where})")
        axis.set_ylabel(name)
        axis.grid(True, which="both", alpha=0.3)
        axis.legend()
    fig.suptitle(f"{result['dataset']}: FID against wall-clock time ({result['n_reference']} samples, "
                 f"extractor {result['extractor']['sha256'][:12]})")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def merged_systems(path: Path, result: dict[str, Any]) -> dict[str, Any]:
    """Systems of an earlier result with the same protocol that this run did not redo, then this run's."""
    if not path.is_file():
        return result["systems"]
    old = json.loads(path.read_text())
    same_extractor = old.get("extractor", {}).get("sha256") == result["extractor"]["sha256"]
    if old.get("protocol") != result["protocol"] or not same_extractor:
        print(f"note: {path} had another protocol or extractor; replacing it", flush=True)
        return result["systems"]
    return {**{k: v for k, v in old.get("systems", {}).items() if k not in result["systems"]}, **result["systems"]}


# ---- main ---------------------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    from .datasets import DATA_ROOT

    parser = argparse.ArgumentParser(prog="python -m benchmarks.quality.run", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", default=",".join(DEFAULT_DATASETS), help="comma-separated (default: all five)")
    parser.add_argument("--systems", default=",".join(DEFAULT_SYSTEMS),
                        help=f"comma-separated, from {', '.join(BUILTIN_SYSTEMS)} and the --system names")
    parser.add_argument("--system", action="append", default=[], metavar="NAME=JSON",
                        help="add a system: reelgan config sections (+ optional \"preset\") as JSON or @file; "
                        "repeatable; added to --systems")
    parser.add_argument("--minutes", type=float, default=10.0, help="wall-clock training budget per system")
    parser.add_argument("--snapshot-every", type=float, default=1.0, help="minutes between generator snapshots")
    parser.add_argument("--n", type=int, default=10000, help="samples for the metrics (capped at the reference "
                        "set's size: twemoji 3,786, twemoji-faces 478)")
    parser.add_argument("--metrics", default="fid,kid,pr", help="from fid,kid,pr,dc (fid is required)")
    parser.add_argument("--threads", type=int, default=0, help="torch intra-op threads (default: torch's choice)")
    parser.add_argument("--device", default="cpu", help="cpu or cuda, for every system alike")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data-root", type=Path, default=DATA_ROOT, help=f"prepared datasets ({DATA_ROOT})")
    parser.add_argument("--extractors-dir", type=Path, default=DATA_ROOT / "extractors")
    parser.add_argument("--extractor-steps", type=int, default=600, help="train-extractor --steps (default 600)")
    parser.add_argument("--retrain-extractors", action="store_true", help="train the extractors again")
    parser.add_argument("--work-dir", type=Path, default=DATA_ROOT / "quality-runs",
                        help="snapshots and logs of the runs (outside the repository)")
    parser.add_argument("--results", type=Path, default=HERE / "results", help="JSON, plots, grids, tables")
    parser.add_argument("--score-only", action="store_true", help="score the snapshots already in --work-dir")
    parser.add_argument("--turn", type=float, default=TURN_S, help="seconds per turn on the machine when the "
                        f"systems take turns (default {TURN_S:g})")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.child is not None:
        return child_main(args.child)
    import torch

    from reelgan.metrics.evaluate import count_label

    from .datasets import get_dataset

    if args.threads:
        torch.set_num_threads(args.threads)
    if "fid" not in args.metrics.split(","):
        parser.error("--metrics must include fid")
    if args.minutes <= 0 or args.snapshot_every <= 0 or args.n < 10:
        parser.error("--minutes and --snapshot-every must be positive and --n at least 10")
    systems = {name: BUILTIN_SYSTEMS[name] for name in args.systems.split(",") if name in BUILTIN_SYSTEMS}
    custom = dict(parse_system(text) for text in args.system)
    unknown = [name for name in args.systems.split(",") if name and name not in BUILTIN_SYSTEMS and name not in custom]
    if unknown and args.score_only:  # scoring reads each system's log from --work-dir; no definition needed
        custom.update({name: {"kind": "from-log"} for name in unknown})
    elif unknown:
        parser.error(f"unknown system(s) {', '.join(unknown)}; built in: {', '.join(BUILTIN_SYSTEMS)}, or add one "
                     "with --system NAME=JSON")
    systems.update(custom)
    specs = [get_dataset(name.strip(), args.data_root) for name in args.datasets.split(",") if name.strip()]
    missing = [f"{s.name}: {s.prepared_by}" for s in specs if s.missing()]
    if missing:
        raise SystemExit("prepare these datasets first:\n  " + "\n  ".join(missing))
    args.results.mkdir(parents=True, exist_ok=True)
    machine = machine_info(args.device)
    command = "python -m benchmarks.quality.run " + " ".join(argv if argv is not None else sys.argv[1:])
    print(f"machine: {json.dumps(machine)}", flush=True)
    busy = machine.get("load_average_at_start", [0])[0]
    if busy > 0.5 and not args.score_only:
        print(f"warning: load average {busy} before any run: something else is using the CPU, and with torch's "
              "threads contending for cores a step can take many times longer (measured up to 9x for reelgan's "
              "default step with 2 threads on a 2-core machine); wall-clock results are only comparable on a "
              "quiet machine (or try --threads 1)", file=sys.stderr, flush=True)

    # 1. Every dataset's extractor, once, before any system is trained or scored.
    extractors = {s.name: ensure_extractor(s, args.extractors_dir, args.extractor_steps, args.retrain_extractors)
                  for s in specs}
    tables = []
    for spec in specs:
        # 2. Each system for the same wall time, taking turns on the machine.
        logs = {}
        if not args.score_only:
            logs = run_systems(systems, spec, args)
        for name in systems if args.score_only else ():
            log_path = args.work_dir / spec.name / name / "log.json"
            if not log_path.is_file():
                print(f"[{spec.name}] {name}: no snapshots in {log_path.parent}; skipped", flush=True)
                continue
            logs[name] = json.loads(log_path.read_text())
        if not logs:
            continue
        # 3. Every snapshot scored against the same reference features.
        scored, n = score_dataset(spec, logs, extractors[spec.name], args)

        budget = (max((p["minutes"] for s in logs.values() for p in s["snapshots"]), default=args.minutes)
                  if args.score_only else args.minutes)
        result = {
            "dataset": spec.name, "source": spec.train, "reference": spec.reference, "channels": spec.channels,
            "resolution": RESOLUTION, "licence": spec.licence, "origin": spec.origin, "n_reference": n,
            "protocol": {"minutes": budget, "snapshot_every": args.snapshot_every, "n": n, "seed": args.seed,
                         "metrics": args.metrics, "device": args.device, "turn_s": args.turn,
                         "fid_key": f"fid{count_label(n)}_{extractors[spec.name]['label']}"},
            "extractor": extractors[spec.name], "machine": machine, "command": command,
            "date": time.strftime("%Y-%m-%d %H:%M:%S %z"), "systems": scored,
            "notes": ("FID on fewer than 10,000 samples is biased upward: compare systems within one dataset only."
                      if n < 10000 else ""),
        }
        if not args.score_only:
            for data in scored.values():
                data["machine"] = machine  # kept with each system when results of several runs are merged
        path = args.results / f"{spec.name}.json"
        result["systems"] = merged_systems(path, result)
        path.write_text(json.dumps(result, indent=2) + "\n")
        plot(result, args.results / f"{spec.name}-fid.png")
        tables.append(markdown_table(result))
        print("\n" + tables[-1], flush=True)
    if tables:
        everything = [markdown_table(json.loads(p.read_text())) for p in sorted(args.results.glob("*.json"))]
        (args.results / "summary.md").write_text("\n".join(everything))
        print("\n".join(tables))
        print(f"written: {args.results}/<dataset>.json, <dataset>-fid.png, <dataset>-<system>-samples.png, "
              "summary.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
