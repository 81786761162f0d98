"""The demo: train on the built-in logograms for a bounded time, then make everything reelgan makes from the
generator (samples, a morph video, a phrase glyph, a contact sheet, a traced SVG and a short animatic)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from .config import RunConfig, build_config, merge
from .gan.generator import load_generator
from .gan.sampling import write_walk
from .media import make_grid, save_png, upscale
from .provenance import make_record
from .training import train

# The demo's data with reelgan's default recipe: since gamma anneals from 10x (1.0 at the start) and the EMA
# is by half-life in images, the default no longer collapses on the logograms, which needed a constant gamma
# of 1 before (benchmarks/RESULTS.md, "Training recipe").
DEMO_OVERRIDES: dict = {"data": {"source": "logograms", "resolution": 32, "channels": 1}}
# The demo's recipe beside the default: batches of 32 (not 64), so a 2-core CPU takes about 1.8x the steps in
# its minutes, and a generator average with a half-life of 500 images (16 steps, not 10,000 images). In
# 4.5 minutes the default's steps and average give alike closed rings; these give the real glyphs' gaps and
# detached marks (benchmarks/RESULTS.md, "The demo's batch and generator average").
DEMO_RECIPE: dict = {"train": {"batch": 32, "ema_kimg": 0.5}}
DEMO_MINUTES = 4.5
DEMO_STEPS = 8000  # the cap, if reached before the minutes (a fast CPU or a GPU)


@dataclass
class DemoResult:
    """Where the demo's run is, how far it trained, and how many frames its morph video has."""

    run_dir: Path
    step: int
    status: str
    morph_frames: int


def demo_config(minutes: float = DEMO_MINUTES, steps: int = DEMO_STEPS, out: str = "runs",
                device: str = "auto") -> RunConfig:
    """The demo's run: the default recipe on the built-in logograms with DEMO_RECIPE's batch and average."""
    return build_config(overrides=merge(merge(DEMO_RECIPE, DEMO_OVERRIDES), {
        "data": {"source": "logograms"},
        "train": {"steps": steps, "max_minutes": minutes, "out": out, "device": device,
                  "name": "demo-logograms", "sample_every": 250, "checkpoint_every": 250},
    }))


def run_demo(minutes: float = DEMO_MINUTES, steps: int = DEMO_STEPS, out: str = "runs", device: str = "auto",
             show_progress: bool = True, warn: Callable[[str], None] = print) -> DemoResult:
    """Train for at most `minutes` (or `steps`), export, then write the samples, morph video, glyph studio
    outputs and animatic into the run folder. `warn` is told when too few steps were trained to be worth
    showing."""
    result = train(demo_config(minutes, steps, out, device), show_progress=show_progress)
    run_dir = result.run_dir
    if result.step < DEMO_MIN_STEPS:
        warn(f"warning: only {result.step} steps in {minutes:g} minutes (the demo needs about {DEMO_MIN_STEPS} "
             "for glyphs worth showing; another program may be using the CPU), so these samples are still "
             f"mostly noise: continue with `reelgan train --resume {run_dir} --max-minutes 5`, or close other "
             "programs and run the demo again")
    G = load_generator(run_dir)
    grid = make_grid(G.sample(64, seed=0))
    save_png(run_dir / "samples.png", upscale(grid, 768), make_record(generator_hash=G.hash, seed=0, n=64))
    frames = write_walk(G, [0, 1, 2, 3, 4, 5], run_dir / "morph.mp4", frames=36, loop=True, size=384)
    write_glyph_studio(G, run_dir, warn)
    write_animatic(run_dir)
    return DemoResult(run_dir, result.step, result.status, frames)


DEMO_PHRASE = "we come in peace"
# An idle 2-core CPU with bf16 trained about 4,100 of the demo's batches of 32 in its 4.5 minutes (and about
# 2,200 of 64 before, 930 of 64 in float32, benchmarks/RESULTS.md); under 600 (the images of the 300 batches
# of 64 that were this limit), the demo says its samples are not yet worth showing.
DEMO_MIN_STEPS = 600
# The samples' shape statistics (ink, detached pieces, openings in the ring) come within the pass line of the
# real glyphs' from about this many of the demo's steps (benchmarks/RESULTS.md, "The demo's batch and
# generator average"). Under it the demo says how to continue.
DEMO_VARIETY_STEPS = 4000

DEMO_SCRIPT = """Title: First Contact
Author: reelgan demo

EXT. MONTANA FIELD - DAWN

Mist over the grass. A shell hangs above the field, silent.

LOUISE
They are writing to us.

INT. SHELL - CONTINUOUS

Behind the glass, ink blooms into a ring and hangs in the air.

IAN
What does it say?

LOUISE
That there is no time.
"""


DEMO_FILM: dict = {"soft_subtitles": True}  # FilmOptions for the demo's animatic (640x360, 24 fps)


def write_animatic(run_dir: Path) -> None:
    """A 2-scene animatic of the demo script, every shot served by the demo's generator."""
    from .film.render import FilmOptions, render_film

    (run_dir / "animatic.fountain").write_text(DEMO_SCRIPT, encoding="utf-8")
    (run_dir / "cast.toml").write_text('default = "."\n', encoding="utf-8")
    render_film(run_dir / "animatic.fountain", run_dir / "animatic.mp4", run_dir / "cast.toml",
                FilmOptions(**DEMO_FILM), overwrite=True)


def write_glyph_studio(G, run_dir: Path, warn: Callable[[str], None] = print) -> None:
    """The glyph studio on the demo's generator: a phrase glyph, a captioned sheet, SVG + transparent PNG."""
    from .glyphs.phrase import phrase_glyph, render_phrase
    from .glyphs.procedural import procedural_record
    from .glyphs.sheet import contact_sheet, glyph_cells, save_sheet
    from .glyphs.vector import trace_svg, transparent_png, write_svg
    from .media import to_uint8

    glyph = phrase_glyph(DEMO_PHRASE)
    save_png(run_dir / "phrase.png", render_phrase(DEMO_PHRASE, 512),
             procedural_record(glyph.ring_seed, phrase=DEMO_PHRASE, words=glyph.words))
    samples = to_uint8(G.sample(32, seed=0))[..., 0]  # (32, H, W) gray, seeds 0..31
    captions = [f"seed {i}" for i in range(32)]
    sheet = contact_sheet(list(samples), captions, columns=8, cell=96,
                          title=f"reelgan demo: generated glyphs, step {G.spec['trained_steps']}")
    save_sheet(sheet, run_dir / "sheet.png", make_record(generator_hash=G.hash, seed=0, n=32),
               cells=glyph_cells(list(samples), captions), columns=8)
    seed = next((i for i, sample in enumerate(samples) if "<path" in trace_svg(sample, size=1024)), None)
    if seed is None:
        warn("warning: none of the first 32 samples has ink enough to trace, so glyph.svg is empty: train longer")
        seed = 0
    record = make_record(generator_hash=G.hash, seed=seed)
    write_svg(samples[seed], run_dir / "glyph.svg", size=1024, record=record)
    transparent_png(samples[seed], run_dir / "glyph.png", size=1024, record=record)
