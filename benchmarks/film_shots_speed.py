"""Render speed of `reelgan film` with and without per-shot media and editor exports, side by side.

The script and cast of `film_speed.py` (5 scenes, about 123 s of film, an image generator, a clip generator
and a still, 640x360 at 24 fps) are rendered as: one MP4 only (the default), with per-shot media
(`--shots`), with per-shot media plus every export (otioz, fcp7, edl), and with per-shot media plus temp
dialogue (`--voice`: every cue spoken by espeak-ng, an AAC track, one WAV per cue; its film is longer,
since shots stretch to the speech, so compare film seconds per second too). The variants alternate over
`--rounds` rounds in one invocation, so that a drift in the machine's speed hits them alike. Also checks
`--dry-run`'s estimate against the measured time.

    python benchmarks/film_shots_speed.py --rounds 2 --out benchmarks/results/film-shots-speed.json
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from pathlib import Path

import torch
from film_speed import bunny_still, tiny_generators, two_minute_script

VARIANTS = {"one MP4 (the default)": {"shots": False, "exports": ()},
            "per-shot media": {"shots": True, "exports": ()},
            "per-shot media + otioz, fcp7, edl": {"shots": True, "exports": ("otioz", "fcp7", "edl")},
            "per-shot media + voice": {"shots": True, "exports": (), "voice": True}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--variants", nargs="+", choices=list(VARIANTS), default=list(VARIANTS),
                        help="render only these variants (default: all)")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    from reelgan.film.render import FilmOptions, dry_run, render_film

    variants = {name: VARIANTS[name] for name in args.variants}
    times: dict[str, list[float]] = {name: [] for name in variants}
    lengths: dict[str, float] = {}  # seconds of film per variant (--voice stretches shots to the speech)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        image, clip = tiny_generators(folder)
        bunny_still(folder / "still.png")
        script, cast = folder / "film.fountain", folder / "cast.toml"
        script.write_text(two_minute_script())
        cast.write_text(f'default = "{image}"\n[scenes]\n2 = "{clip}"\n5 = "{clip}"\n3 = "still.png"\n')
        estimate = {shots: dry_run(script, cast, FilmOptions(), shots)["estimated_render_s"] for shots in (0, 1)}
        for round_ in range(args.rounds):
            for index, (name, variant) in enumerate(variants.items()):
                out = folder / f"r{round_}-{index}" / "film.mp4"
                options = FilmOptions(voice=variant.get("voice", False))
                start = time.perf_counter()
                record = render_film(script, out, cast, options, shots=variant["shots"], exports=variant["exports"])
                times[name].append(time.perf_counter() - start)
                lengths[name] = record["shots"][-1]["start"] + record["shots"][-1]["duration"]
                print(f"round {round_ + 1} {name}: {times[name][-1]:.1f} s", flush=True)
    length = next(iter(lengths.values()))
    results = {"machine": f"{platform.machine()}, {torch.get_num_threads()} torch threads",
               "film_seconds": round(length, 2), "size": "640x360", "fps": 24,
               "dry_run_estimate_s": {"no shots": estimate[0], "shots": estimate[1]},
               "variants": {name: {"film_seconds": round(lengths[name], 2), "render_s": [round(t, 2) for t in ts],
                                   "film_seconds_per_second": [round(lengths[name] / t, 3) for t in ts]}
                            for name, ts in times.items()}}
    print(json.dumps(results, indent=2))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
