"""What the studio's page can ask for, as plain functions of JSON-like requests: no HTTP here (server.py),
and no training or generation logic either: runs are trained and films rendered by `reelgan` subprocesses
(jobs.py), and exploration goes through `reelgan.explore.Explorer`, as the CLI does.

The studio only touches what the person points it at: the runs folder it was started on (its run folders
and their files), the data folder or zip typed into the Train form (handed to `reelgan train`, which reads
it), and its own work folder for film renders (RUNS/studio/).
"""

from __future__ import annotations

import base64
import io
import json
import re
import threading
from pathlib import Path
from typing import Any

import torch
from PIL import Image

from ..checks import check_choice
from ..config import PRESETS, RESOLUTIONS
from ..errors import ReelganError
from ..explore import Explorer
from ..explore.directions import METHODS
from ..media import make_grid, to_uint8, upscale
from ..paths import read_jsonl
from ..training.rundir import run_number
from .jobs import Jobs

PREVIEW_PX = 128          # the long side of a sample as the page shows it
GRID_LIMIT = 64           # the most samples one request may show
STATS_POINTS = 400        # loss curve points sent to the page
SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def png_data_uri(pixels) -> str:
    """An (H, W, C) uint8 image as a data: URI the page can show."""
    image = pixels[..., 0] if pixels.shape[2] == 1 else pixels
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def _int(params: dict, name: str, default: int | None = None, low: int = 0, high: int = 10**6) -> int:
    value = params.get(name, default)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise ReelganError(f"{name} must be a whole number from {low} to {high}; got {value!r}")
    return value


def _float(params: dict, name: str, default: float, low: float, high: float) -> float:
    value = params.get(name, default)
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise ReelganError(f"{name} must be a number; got {value!r}") from None
    if not low <= value <= high:
        raise ReelganError(f"{name} must be from {low} to {high}; got {value}")
    return value


class Studio:
    """The state behind the page: the runs folder, open explorations and background jobs."""

    def __init__(self, runs: Path) -> None:
        self.runs = Path(runs).resolve()
        self.work = self.runs / "studio"
        self.jobs = Jobs()
        self._explorers: dict[str, Explorer] = {}
        self._directions: dict[tuple, object] = {}  # (run, method, count) -> Directions: PCA takes seconds
        self._lock = threading.Lock()  # one exploration step at a time: torch and the lineage file are shared

    # ---- runs ---------------------------------------------------------------------------------------------

    def run_dir(self, name: Any) -> Path:
        """The run folder `name` inside the runs folder; anything else (a path, '..') is refused."""
        if not isinstance(name, str) or not SAFE_NAME.match(name) or not (self.runs / name).is_dir():
            raise ReelganError(f"no run named {name!r} in {self.runs}")
        return self.runs / name

    def list_runs(self) -> dict:
        """Every run folder, newest first, with its progress and newest sample grid."""
        runs = []
        folders = [p for p in self.runs.iterdir() if p.is_dir() and run_number(p) is not None] \
            if self.runs.is_dir() else []
        training = {job.run_dir.name: job for job in self.jobs.all() if job.run_dir and job.status == "running"}
        for folder in sorted(folders, key=run_number, reverse=True):
            stats = read_jsonl(folder / "stats.jsonl")
            samples = sorted((folder / "samples").glob("*.png")) if (folder / "samples").is_dir() else []
            runs.append({"name": folder.name, "step": stats[-1]["step"] if stats else 0,
                         "samples": f"/files/{folder.name}/samples/{samples[-1].name}" if samples else None,
                         "explorable": (folder / "generator.safetensors").is_file()
                         or (folder / "checkpoints" / "latest.pt").is_file(),
                         "training": folder.name in training})
        return {"runs": runs, "jobs": [self._job(job) for job in self.jobs.all()]}

    def _job(self, job) -> dict:
        """A job as the page shows it; a finished film lists its files (MP4, SRT, VTT, OTIO, sheet)."""
        described = job.describe()
        if job.kind == "film" and job.output is not None and job.status == "finished":
            folder = job.output.parent
            described["files"] = [f"/files/studio/{folder.name}/{p.name}" for p in sorted(folder.iterdir())
                                  if p.is_file() and p.name.startswith(job.output.stem)]
        return described

    def run_stats(self, params: dict) -> dict:
        """A run's loss curves (thinned to STATS_POINTS), metrics and newest sample grid."""
        folder = self.run_dir(params.get("run"))
        stats = read_jsonl(folder / "stats.jsonl")
        stride = max(1, len(stats) // STATS_POINTS)
        thinned = stats[::stride] + (stats[-1:] if stats and (len(stats) - 1) % stride else [])
        curves = {key: [row.get(key) for row in thinned] for key in ("step", "loss_D", "loss_G", "time_s")}
        metrics = read_jsonl(folder / "metrics.jsonl")
        samples = sorted((folder / "samples").glob("*.png")) if (folder / "samples").is_dir() else []
        return {"run": folder.name, "curves": curves, "metrics": metrics[-20:],
                "samples": f"/files/{folder.name}/samples/{samples[-1].name}" if samples else None}

    def run_file(self, name: str, relative: str) -> Path:
        """A file inside a run folder (or the studio's work folder), never outside it."""
        base = self.work if name == "studio" else self.run_dir(name)
        path = (base / relative).resolve()
        if not path.is_relative_to(base.resolve()) or not path.is_file():
            raise ReelganError(f"no file {relative!r} in {name}")
        return path

    # ---- training -----------------------------------------------------------------------------------------

    def train(self, params: dict) -> dict:
        """Start `reelgan train` on the person's images, with a preset, resolution and time budget."""
        data = str(params.get("data", "")).strip()
        if not data:
            raise ReelganError("choose the images to train on: a folder, a .zip, or the built-in 'logograms'")
        if data != "logograms" and not Path(data).expanduser().exists():
            raise ReelganError(f"{data} does not exist; give a folder or .zip of images")
        preset = str(params.get("preset", "default"))
        check_choice("preset", preset, tuple(PRESETS))
        resolution = _int(params, "resolution", 32, 8, max(RESOLUTIONS))
        check_choice("resolution", resolution, RESOLUTIONS)
        channels = _int(params, "channels", 1, 1, 4)
        check_choice("channels", channels, (1, 3, 4))
        minutes = _float(params, "minutes", 5.0, 0.1, 24 * 60)
        argv = ["train", "--data", str(Path(data).expanduser()) if data != "logograms" else data, "--preset",
                preset, "--resolution", str(resolution), "--channels", str(channels), "--max-minutes",
                str(minutes), "--out", str(self.runs), "--no-progress"]
        self.runs.mkdir(parents=True, exist_ok=True)
        job = self.jobs.start("train", argv, cwd=self.runs, watch=self.runs, minutes=minutes)
        return job.describe()

    def resume(self, params: dict) -> dict:
        """Continue a stopped run for more minutes."""
        folder = self.run_dir(params.get("run"))
        if any(job.run_dir == folder and job.status in ("running", "stopping") for job in self.jobs.all()):
            raise ReelganError(f"{folder.name} is training already")
        minutes = _float(params, "minutes", 5.0, 0.1, 24 * 60)
        argv = ["train", "--resume", str(folder), "--max-minutes", str(minutes), "--no-progress"]
        job = self.jobs.start("train", argv, cwd=self.runs, minutes=minutes)
        self.jobs.attach_run(job, folder)
        return job.describe()

    def stop(self, params: dict) -> dict:
        """Stop a job as Ctrl-C would: training saves a checkpoint first."""
        job = self.jobs.get(_int(params, "job", None, 1))
        if job is None:
            raise ReelganError(f"no job {params.get('job')!r}")
        self.jobs.stop(job)
        return job.describe()

    # ---- exploring ----------------------------------------------------------------------------------------

    def explorer(self, params: dict) -> Explorer:
        """The exploration of a run (opened once, then kept)."""
        folder = self.run_dir(params.get("run"))
        key = folder.name
        if key not in self._explorers:
            self._explorers[key] = Explorer.open(folder, device="cpu")
        return self._explorers[key]

    def _show(self, explorer: Explorer, entries) -> dict:
        """Entries as the page shows them: id, picture, operation, parents, opinion."""
        images = to_uint8(self._frames(explorer, entries))
        return {"samples": [{"id": e.id, "src": png_data_uri(upscale(image, PREVIEW_PX)), "op": e.op,
                             "parents": e.parents, "liked": e.opinion, "p_liked": e.params.get("p_liked")}
                            for e, image in zip(entries, images)]}

    @staticmethod
    def _frames(explorer: Explorer, entries) -> torch.Tensor:
        """Images (N, C, H, W); a clip is shown by its middle frame."""
        samples = explorer.images(entries)
        return samples[:, :, samples.shape[2] // 2] if samples.dim() == 5 else samples

    def explore(self, action: str, params: dict) -> dict:
        """One exploration step: grid, children, crossover, rate, suggest, move, keep, lineage, export."""
        with self._lock:
            explorer = self.explorer(params)
            handler = getattr(self, f"_explore_{action}", None)
            if handler is None:
                raise ReelganError(f"unknown exploration step {action!r}")
            result = handler(explorer, params)
            if action not in ("move", "directions", "lineage"):
                explorer.save()
            return result

    def _explore_grid(self, explorer: Explorer, params: dict) -> dict:
        start = _int(params, "seed", 0, 0, 2**31 - 1)
        n = _int(params, "n", 16, 1, GRID_LIMIT)
        return self._show(explorer, explorer.seeds(list(range(start, start + n))))

    def _explore_children(self, explorer: Explorer, params: dict) -> dict:
        parent = explorer.lineage.get(_int(params, "of", None))
        sigma = _float(params, "sigma", 0.5, 0.0, 3.0)
        n = _int(params, "n", 8, 1, GRID_LIMIT)
        seed = len(explorer.lineage.entries)  # a new brood each time
        return self._show(explorer, explorer.children(parent, n, sigma, seed))

    def _explore_crossover(self, explorer: Explorer, params: dict) -> dict:
        ids = params.get("of")
        if not isinstance(ids, list) or len(ids) < 2:
            raise ReelganError("pick two or more samples to cross")
        parents = [explorer.lineage.get(_int({"id": i}, "id")) for i in ids]
        n = _int(params, "n", 8, 1, GRID_LIMIT)
        return self._show(explorer, explorer.crossover(parents, n, seed=len(explorer.lineage.entries)))

    def _explore_rate(self, explorer: Explorer, params: dict) -> dict:
        entry_id = _int(params, "id", None)
        liked = params.get("liked")
        if liked not in (True, False, None):
            raise ReelganError("liked is true, false or null")
        entry = explorer.lineage.get(entry_id)
        entry.liked = liked
        return {"id": entry.id, "liked": entry.opinion, "rated": len(explorer.lineage.rated())}

    def _explore_suggest(self, explorer: Explorer, params: dict) -> dict:
        n = _int(params, "n", 16, 1, GRID_LIMIT)
        explore = _float(params, "explore", 1.0, 0.0, 10.0)
        return self._show(explorer, explorer.suggest(n, explore))

    def _explore_directions(self, explorer: Explorer, params: dict) -> dict:
        method = str(params.get("method", "sefa"))
        check_choice("method", method, METHODS)
        count = _int(params, "count", 6, 1, 16)
        directions = self._directions_of(explorer, params, method, count)
        return {"method": method, "count": len(directions), "strengths": directions.strengths.tolist()}

    def _directions_of(self, explorer: Explorer, params: dict, method: str, count: int):
        """The run's directions, computed once per method and count (a slider moves many times)."""
        key = (params.get("run"), method, count)
        if key not in self._directions:
            self._directions[key] = explorer.directions(method, count)
        return self._directions[key]

    def _moved(self, explorer: Explorer, params: dict):
        base = explorer.lineage.get(_int(params, "of", None))
        method = str(params.get("method", "sefa"))
        check_choice("method", method, METHODS)
        amounts = params.get("amounts", [])
        if not isinstance(amounts, list) or not all(isinstance(a, (int, float)) and abs(a) <= 10 for a in amounts):
            raise ReelganError("amounts is a list of numbers from -10 to 10, one per slider")
        directions = self._directions_of(explorer, params, method, max(1, len(amounts)))
        z = base.z + sum(float(a) * v for a, v in zip(amounts, directions.vectors))
        return base, z

    def _explore_move(self, explorer: Explorer, params: dict) -> dict:
        """A live preview of the sliders' latent: not recorded until `keep`."""
        base, z = self._moved(explorer, params)
        labels = None if base.label is None else torch.tensor([base.label])
        sample = explorer.G(z[None], labels)
        sample = sample[:, :, sample.shape[2] // 2] if sample.dim() == 5 else sample
        return {"src": png_data_uri(upscale(to_uint8(sample)[0], PREVIEW_PX * 2))}

    def _explore_keep(self, explorer: Explorer, params: dict) -> dict:
        base, z = self._moved(explorer, params)
        labels = None if base.label is None else torch.tensor([base.label])
        entries = explorer.lineage.add("direction", z[None], labels=labels, parents=[[base.id]],
                                       params={"method": params.get("method", "sefa"),
                                               "amounts": [float(a) for a in params.get("amounts", [])]})
        return self._show(explorer, entries)

    def _explore_lineage(self, explorer: Explorer, params: dict) -> dict:
        return {"path": str(explorer.lineage.path), "entries": [
            {"id": e.id, "op": e.op, "parents": e.parents, "seed": e.seed, "liked": e.opinion, "time": e.time}
            for e in explorer.lineage.entries]}

    def _explore_export(self, explorer: Explorer, params: dict) -> dict:
        """The picks as PNGs with their records, a grid and (with two or more) a morph video, in RUN/explore."""
        picks = explorer.picks()
        if not picks:
            raise ReelganError("nothing is liked yet: like a sample first")
        folder = explorer.lineage.path.parent
        run = self.run_dir(params.get("run")).name
        files = explorer.write_files(picks, folder / "picks", overwrite=True, svg=True)
        grid = folder / ("picks-grid.mp4" if explorer.G.is_video else "picks.png")  # clips: a video of grids
        explorer.write_grid(picks, grid)
        out = {"files": [f"/files/{run}/{p.relative_to(self.runs / run)}" for p in files],
               "grid": f"/files/{run}/explore/{grid.name}"}
        if len(picks) >= 2 and not explorer.G.is_video:
            explorer.write_morph(picks, folder / "picks.mp4", frames=12, size=256)
            out["morph"] = f"/files/{run}/explore/picks.mp4"
        return out

    # ---- glyphs and films ---------------------------------------------------------------------------------

    def glyph(self, params: dict) -> dict:
        """A phrase as its logogram (the same phrase always gives the same glyph)."""
        from ..glyphs.phrase import render_phrase

        phrase = str(params.get("phrase", "")).strip()
        size = _int(params, "size", 256, 16, 1024)
        pixels = render_phrase(phrase, size)
        return {"src": png_data_uri(pixels[..., None])}

    def glyph_sheet(self, params: dict) -> dict:
        """Several phrases' glyphs side by side."""
        from ..glyphs.phrase import render_phrase

        phrases = [p.strip() for p in str(params.get("phrases", "")).splitlines() if p.strip()][:GRID_LIMIT]
        if not phrases:
            raise ReelganError("write one phrase per line")
        images = torch.stack([torch.from_numpy(render_phrase(p, 128)).float()[None] / 127.5 - 1 for p in phrases])
        return {"src": png_data_uri(make_grid(images, nrow=min(4, len(phrases)), padding=4))}

    def film(self, params: dict) -> dict:
        """Render a Fountain script with `reelgan film`, scenes cast from a run's picks (or glyphs)."""
        script = str(params.get("script", ""))
        if not script.strip():
            raise ReelganError("paste or upload a Fountain script first")
        self.work.mkdir(parents=True, exist_ok=True)
        number = 1 + max([int(p.name) for p in self.work.glob("[0-9]*") if p.name.isdigit()], default=0)
        folder = self.work / f"{number:04d}"
        folder.mkdir()
        (folder / "script.fountain").write_text(script, encoding="utf-8")
        argv = ["film", str(folder / "script.fountain"), "--out", str(folder / "film.mp4"), "--height", "240"]
        if params.get("run"):  # cast: scene k gets the k-th exported pick, the rest the first
            stills = sorted((self.explorer(params).lineage.path.parent / "picks").glob("sample*.png"))
            if not stills:
                raise ReelganError("this run has no exported picks; like samples and press Export picks first")
            lines = [f"default = {json.dumps(stills[0].as_posix())}", "[scenes]"]
            lines += [f"{k + 1} = {json.dumps(still.as_posix())}" for k, still in enumerate(stills)]
            (folder / "cast.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
            argv += ["--cast", str(folder / "cast.toml")]
        job = self.jobs.start("film", argv, cwd=folder, output=folder / "film.mp4")
        return job.describe()
