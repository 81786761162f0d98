"""Animatic rendering speed, and how well the watermark survives JPEG and resizing.

Writes a 5-scene script of about two minutes (action and dialogue at the default 2.5 words a second), a
cast that uses every kind of visual (an image generator, a clip generator, a still from the shared Big
Buck Bunny clip), renders it at 640x360, 24 fps, and reports wall time and seconds of film per second.
Then it decodes frames of the MP4 and reads the watermark: from frames of generated shots (as encoded,
after JPEG quality 75, after a 50% resize, after both) and from frames that carry no mark (title cards,
the still, Big Buck Bunny itself) to count false detections.

    python benchmarks/film_speed.py --out benchmarks/results/film-speed.json
Generators: --image-generator / --clip-generator, else tiny ones are trained for a few steps (speed does
not depend on how well they are trained).
"""

from __future__ import annotations

import argparse
import io
import json
import platform
import tempfile
import time
from pathlib import Path

import av
import numpy as np
import torch
from PIL import Image

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
WORDS = ("the light falls across the water and nobody on the pier says a word about it while the boats "
         "knock together in the swell and gulls turn over the harbour wall").split()


def two_minute_script() -> str:
    """Five scenes: an action line of 10 words and four 11-word speeches each (about 123 s with cards)."""
    places = ["INT. KITCHEN - NIGHT", "EXT. HARBOUR - DAWN", "INT. CAR - DAY", "EXT. PIER - DUSK",
              "INT. LIGHTHOUSE - NIGHT"]
    parts = ["Title: Benchmark\nAuthor: reelgan benchmarks\n"]
    for number, heading in enumerate(places):
        parts.append(heading)
        parts.append(" ".join(WORDS[number:number + 10]).capitalize() + ".")
        for speech in range(4):
            start = (number * 4 + speech) % (len(WORDS) - 11)
            parts.append(f"{('MARA', 'TOM')[speech % 2]}\n" + " ".join(WORDS[start:start + 11]).capitalize() + ".")
    return "\n\n".join(parts) + "\n"


def tiny_generators(folder: Path) -> tuple[Path, Path]:
    from reelgan.config import build_config
    from reelgan.training import train

    runs = []
    for name, data, net in (
        ("image", {"source": "logograms", "resolution": 32, "size": 256}, {}),
        ("clip", {"source": "moving-glyphs", "kind": "video", "frames": 8, "resolution": 32, "size": 64},
         {"content_dim": 16, "motion_dim": 8}),
    ):
        config = build_config(overrides={"data": data, "net": net, "train": {
            "steps": 4, "batch": 8, "out": str(folder / name), "device": "cpu", "log_every": 4, "sample_every": 4,
            "checkpoint_every": 4}})
        runs.append(train(config, show_progress=False).run_dir)
    return runs[0], runs[1]


def bunny_still(path: Path) -> np.ndarray:
    with av.open(str(SHARED / "video" / "bigbuckbunny.mp4")) as container:
        frames = [f.to_ndarray(format="rgb24") for i, f in zip(range(60), container.decode(video=0))]
    Image.fromarray(frames[45]).save(path)
    return np.stack(frames[::6])


def jpeg(frame: np.ndarray, quality: int = 75) -> np.ndarray:
    buffer = io.BytesIO()
    Image.fromarray(frame).save(buffer, "JPEG", quality=quality)
    return np.asarray(Image.open(buffer).convert("RGB"))


def half(frame: np.ndarray) -> np.ndarray:
    height, width = frame.shape[:2]
    return np.asarray(Image.fromarray(frame).resize((width // 2, height // 2), Image.Resampling.BICUBIC))


def watermark_study(mp4: Path, record: dict, bunny: np.ndarray, bits: np.ndarray) -> dict:
    from reelgan.provenance.watermark import detect

    fps = 24
    marked_spans, unmarked_spans = [], []
    for shot in record["shots"]:
        span = (shot["start"] + 0.5, shot["start"] + shot["duration"] - 0.5)  # away from cross-fades
        (marked_spans if shot["picture"]["maker"] == "model" else unmarked_spans).append(span)
    with av.open(str(mp4)) as container:
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]

    def pick(spans, every):
        return [frames[i] for i in range(0, len(frames), every)
                if any(a <= i / fps <= b for a, b in spans)]

    marked, unmarked = pick(marked_spans, 12), pick(unmarked_spans, 12) + list(bunny)
    attacks = {"as encoded (H.264 crf 20)": lambda f: f, "JPEG q75": jpeg, "50% resize": half,
               "50% resize + JPEG q75": lambda f: jpeg(half(f))}
    result = {"marked_frames": len(marked), "unmarked_frames": len(unmarked)}
    for name, attack in attacks.items():
        detections = [detect([attack(f)]) for f in marked]
        result[name] = {"bit_accuracy": round(float(np.mean([(d.bits == bits).mean() for d in detections])), 4),
                        "min_bit_accuracy": round(float(min((d.bits == bits).mean() for d in detections)), 4),
                        "detected": round(float(np.mean([d.found for d in detections])), 4)}
    result["false_detections_unmarked"] = int(sum(detect([f]).found for f in unmarked))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--image-generator")
    parser.add_argument("--clip-generator")
    parser.add_argument("--out", help="write the results here as JSON")
    args = parser.parse_args()
    from reelgan.film.render import FilmOptions, render_film
    from reelgan.provenance.watermark import payload_bits

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if args.image_generator and args.clip_generator:
            image, clip = Path(args.image_generator), Path(args.clip_generator)
        else:
            image, clip = tiny_generators(folder)
        bunny = bunny_still(folder / "still.png")
        (folder / "film.fountain").write_text(two_minute_script())
        (folder / "cast.toml").write_text(f'default = "{image}"\n[scenes]\n2 = "{clip}"\n5 = "{clip}"\n'
                                          '3 = "still.png"\n')
        start = time.perf_counter()
        record = render_film(folder / "film.fountain", folder / "film.mp4", folder / "cast.toml", FilmOptions())
        seconds = time.perf_counter() - start
        length = record["shots"][-1]["start"] + record["shots"][-1]["duration"]
        hashes = record["provenance"]["generators"]
        from reelgan.film.provenance import combined_hash

        study = watermark_study(folder / "film.mp4", record, bunny, payload_bits(combined_hash(hashes)))
        results = {"machine": f"{platform.machine()}, {torch.get_num_threads()} torch threads",
                   "film_seconds": round(length, 2), "render_seconds": round(seconds, 2),
                   "film_seconds_per_second": round(length / seconds, 3), "size": "640x360", "fps": 24,
                   "shots": len(record["shots"]), "mp4_bytes": (folder / "film.mp4").stat().st_size,
                   "watermark": study}
    print(json.dumps(results, indent=2))
    if args.out:
        Path(args.out).write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
