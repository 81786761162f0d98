"""Watermark robustness matrix, v1 against v2, on real frames.

Frames: the shared Big Buck Bunny clip (CC-BY, ../shared/data/video/bigbuckbunny.mp4) at 1280x720, and
reelgan logograms (`render_phrase`) on white 1280x720 paper. Each frame is marked with v1 and with v2,
attacked (JPEG, rescales, crops, brightness and contrast, combinations, H.264 through PyAV) and read back.
Reported per attack and version: detection rate (the right model hash prefix found) and bit accuracy (v1:
its 48 bits; v2: the 60 message bits after error correction, and the raw coded bits before it). Also:
false positives of `detect` on unmarked frames (video frames, crops of them, glyph frames, noise, flat),
PSNR and SSIM of marked frames, the largest change of a flat-paper pixel, and embed and detect times.

    OMP_NUM_THREADS=1 python benchmarks/watermark_robustness.py --frames 6 --out results.json
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

from reelgan.provenance import ecc, watermark, watermark_v1, watermark_v2

ROOT = Path(__file__).resolve().parents[1]
CLIP = ROOT.parent / "shared" / "data" / "video" / "bigbuckbunny.mp4"
PREFIX = 0xDDC667F2
BITS = watermark.payload_bits(f"{PREFIX:08x}" + "0" * 56)
PHRASES = ["we come in peace", "the sea remembers the ship", "light falls on the old road", "who keeps the fire",
           "seven birds and one stone", "the door was never locked", "rain before the harvest", "we were here"]
SIZE = (1280, 720)


# --- frames and attacks ------------------------------------------------------------------------------

def video_frames(count: int, size: tuple[int, int] = SIZE, start: int = 0, step: int | None = None) -> list[np.ndarray]:
    """`count` frames of the clip (spread over it unless `step` is given), resized to `size` if needed."""
    import av

    with av.open(str(CLIP)) as container:
        frames = [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]
    step = step or max(1, (len(frames) - start) // count)
    picked = frames[start::step][:count]
    if picked[0].shape[1::-1] != size:
        picked = [np.asarray(Image.fromarray(f).resize(size, Image.Resampling.BOX)) for f in picked]
    return picked


def glyph_frames(count: int, size: tuple[int, int] = SIZE) -> list[np.ndarray]:
    """`count` logograms drawn on white paper, contained in frames of `size`."""
    from reelgan.film.visuals import contain
    from reelgan.glyphs.phrase import render_phrase

    return [contain(render_phrase(PHRASES[i % len(PHRASES)], 512), size, 0.8) for i in range(count)]


def jpeg(frame: np.ndarray, quality: int) -> np.ndarray:
    """The frame after a JPEG round trip at `quality` (Pillow)."""
    buffer = io.BytesIO()
    Image.fromarray(frame).save(buffer, "JPEG", quality=quality)
    return np.asarray(Image.open(buffer).convert("RGB"))


def resize(frame: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """The frame resized (bicubic) to `size` (width, height)."""
    return np.asarray(Image.fromarray(frame).resize(size, Image.Resampling.BICUBIC))


def scale(frame: np.ndarray, factor: float) -> np.ndarray:
    """The frame rescaled by `factor`, aspect kept."""
    return resize(frame, (round(frame.shape[1] * factor), round(frame.shape[0] * factor)))


def crop(frame: np.ndarray, total: float, one_sided: bool) -> np.ndarray:
    """`total` of each dimension cut away: half from each edge, or all from the left and the top."""
    h, w = frame.shape[:2]
    dy, dx = round(h * total), round(w * total)
    if one_sided:
        return frame[dy:, dx:]
    return frame[dy // 2:h - (dy - dy // 2), dx // 2:w - (dx - dx // 2)]


def levels(frame: np.ndarray, gain: float, around: float) -> np.ndarray:
    """Brightness (around 0) or contrast (around 128) scaled by `gain`, clipped."""
    return np.clip((frame.astype(np.float32) - around) * gain + around, 0, 255).round().astype(np.uint8)


def crop_back(frame: np.ndarray, total: float) -> np.ndarray:
    """A one-sided crop of `total` rescaled back to the original size."""
    return resize(crop(frame, total, True), frame.shape[1::-1])


ATTACKS = {
    "none": lambda f: f,
    "jpeg 90": lambda f: jpeg(f, 90), "jpeg 75": lambda f: jpeg(f, 75), "jpeg 50": lambda f: jpeg(f, 50),
    "resize 0.5x": lambda f: scale(f, 0.5), "resize 2x": lambda f: scale(f, 2.0),
    "crop 5% sym": lambda f: crop(f, 0.05, False), "crop 10% sym": lambda f: crop(f, 0.10, False),
    "crop 20% sym": lambda f: crop(f, 0.20, False), "crop 5% one-sided": lambda f: crop(f, 0.05, True),
    "crop 10% one-sided": lambda f: crop(f, 0.10, True), "crop 20% one-sided": lambda f: crop(f, 0.20, True),
    "brightness +20%": lambda f: levels(f, 1.2, 0), "brightness -20%": lambda f: levels(f, 0.8, 0),
    "contrast +20%": lambda f: levels(f, 1.2, 128), "contrast -20%": lambda f: levels(f, 0.8, 128),
    "crop 10% sym + jpeg 75": lambda f: jpeg(crop(f, 0.10, False), 75),
    "crop 20% one-sided + resize back": lambda f: crop_back(f, 0.20),
    "crop 10% sym + resize 0.5x + jpeg 75": lambda f: jpeg(scale(crop(f, 0.10, False), 0.5), 75),
}


def h264(frames: list[np.ndarray], crf: int) -> list[np.ndarray]:
    """The frames after an H.264 (libx264, yuv420p, preset veryfast) round trip at `crf` through PyAV."""
    import av

    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=24)
        stream.width, stream.height, stream.pix_fmt = frames[0].shape[1], frames[0].shape[0], "yuv420p"
        stream.options = {"crf": str(crf), "preset": "veryfast"}
        for frame in frames:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
        container.mux(stream.encode())
    buffer.seek(0)
    with av.open(buffer) as container:
        return [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]


# --- reading -----------------------------------------------------------------------------------------

TRUE_MESSAGE = watermark_v2.message(PREFIX)
TRUE_CODED = ecc.encode(TRUE_MESSAGE)


def read_v1(frames: list[np.ndarray]) -> dict:
    """v1's decoder on (one or more) frames: detected and bit accuracy of the 48 bits."""
    found, prefix, _, bits = watermark_v1.decode(frames)
    return {"detected": bool(found and prefix == f"{PREFIX:08x}"), "bits": float(np.mean(bits == BITS))}


def read_v2(frames: list[np.ndarray]) -> dict:
    """v2's reader on frames of one shot: detected, message bit accuracy (after ECC), raw coded bits."""
    result = watermark_v2.read(frames)
    return {"detected": bool(result.found and result.prefix == PREFIX),
            "bits": float(np.mean(result.message == TRUE_MESSAGE)),
            "raw": float(np.mean((result.soft > 0) == TRUE_CODED))}


def summarise(reads: list[dict]) -> dict:
    """Mean of each field over reads, rounded."""
    return {key: round(float(np.mean([r[key] for r in reads])), 4) for key in reads[0]}


def matrix(kinds: dict[str, list[np.ndarray]]) -> dict:
    """attack -> kind -> version -> summary, for every still-image attack."""
    marked = {kind: {"v1": [watermark_v1.embed(f, BITS) for f in frames],
                     "v2": [watermark.embed(f, BITS) for f in frames]} for kind, frames in kinds.items()}
    table: dict = {}
    for name, attack in ATTACKS.items():
        row = table.setdefault(name, {})
        for kind, versions in marked.items():
            row[kind] = {"v1": summarise([read_v1([attack(f)]) for f in versions["v1"]]),
                         "v2": summarise([read_v2([attack(f)]) for f in versions["v2"]])}
        print(f"  {name}: " + "  ".join(f"{k} v1 {row[k]['v1']['detected']:.2f} v2 {row[k]['v2']['detected']:.2f}"
                                        for k in row), file=sys.stderr, flush=True)
    return table


def video_matrix(shots: dict[str, list[np.ndarray]], every: int = 3) -> dict:
    """crf -> kind -> version -> per-frame summary (every `every`th frame) and the whole shot averaged."""
    table: dict = {}
    for crf in (18, 23, 28):
        for kind, shot in shots.items():
            entry = table.setdefault(f"h264 crf {crf}", {}).setdefault(kind, {})
            for version, mark, reader in (("v1", watermark_v1.embed, read_v1), ("v2", watermark.embed, read_v2)):
                decoded = h264([mark(f, BITS) for f in shot], crf)
                entry[version] = {"per frame": summarise([reader([f]) for f in decoded[::every]]),
                                  "shot": summarise([reader(decoded)])}
            print(f"  h264 crf {crf} {kind}: v1 {entry['v1']} v2 {entry['v2']}", file=sys.stderr, flush=True)
    return table


# --- quality, false positives, speed -----------------------------------------------------------------

def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """Peak signal-to-noise ratio (dB) of two uint8 frames."""
    mse = np.mean((a.astype(np.float64) - b) ** 2)
    return float(10 * np.log10(255 ** 2 / mse)) if mse else float("inf")


def _box_mean(values: np.ndarray, size: int = 7) -> np.ndarray:
    """Means over every size x size window (valid positions only)."""
    total = np.pad(values, ((1, 0), (1, 0))).cumsum(0).cumsum(1)
    return (total[size:, size:] - total[:-size, size:] - total[size:, :-size] + total[:-size, :-size]) / size ** 2


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    """Mean SSIM of the luma of two frames, 7x7 uniform windows (the usual constants K1 0.01, K2 0.03)."""
    x, y = watermark_v2.luma(a).astype(np.float64), watermark_v2.luma(b).astype(np.float64)
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    mx, my = _box_mean(x), _box_mean(y)
    vx, vy, cxy = _box_mean(x * x) - mx * mx, _box_mean(y * y) - my * my, _box_mean(x * y) - mx * my
    return float(np.mean((2 * mx * my + c1) * (2 * cxy + c2) / ((mx * mx + my * my + c1) * (vx + vy + c2))))


def flat(frame: np.ndarray, window: int) -> np.ndarray:
    """Pixels whose window x window neighbourhood (edges repeated) holds one colour."""
    r = window // 2
    padded = np.pad(frame.astype(np.int16), ((r, r), (r, r), (0, 0)), mode="edge")
    h, w = frame.shape[:2]
    same = np.ones((h, w), bool)
    for dy in range(window):
        for dx in range(window):
            same &= (padded[dy:dy + h, dx:dx + w] == frame).all(-1)
    return same


def quality(kinds: dict[str, list[np.ndarray]]) -> dict:
    """PSNR and SSIM of v1 and v2 marks per kind; largest flat-paper change on glyph frames."""
    out: dict = {}
    for kind, frames in kinds.items():
        for version, mark in (("v1", watermark_v1.embed), ("v2", watermark.embed)):
            marked = [mark(f, BITS) for f in frames]
            entry = {"psnr_db": round(float(np.mean([psnr(m, f) for m, f in zip(marked, frames)])), 2),
                     "psnr_db_min": round(min(psnr(m, f) for m, f in zip(marked, frames)), 2),
                     "ssim": round(float(np.mean([ssim(m, f) for m, f in zip(marked, frames)])), 5)}
            if kind == "glyph":
                for window in (watermark_v2.WINDOW, 3):
                    changes = [np.abs(m.astype(int) - f)[flat(f, window)].max() for m, f in zip(marked, frames)]
                    entry[f"max_flat_change_{window}x{window}"] = int(max(changes))
            out.setdefault(kind, {})[version] = entry
    return out


def false_positive_frames(count: int, rng: np.random.Generator) -> list[np.ndarray]:
    """`count` varied unmarked frames at low resolution: video frames and crops, glyphs, noise, flat."""
    video = video_frames(132, (640, 360), step=1)
    glyphs = glyph_frames(len(PHRASES), (640, 360))
    frames = []
    for i in range(count):
        pick = i % 10
        if pick < 4:
            frame = video[rng.integers(len(video))]
            y, x = rng.integers(0, 90), rng.integers(0, 160)
            frame = frame[y:y + rng.integers(180, 360 - y + 1), x:x + rng.integers(320, 640 - x + 1)]
        elif pick < 6:
            frame = np.asarray(Image.fromarray(video[rng.integers(len(video))]).resize((320, 180)))
        elif pick < 8:
            frame = glyphs[rng.integers(len(glyphs))][:, :: (1 + i % 2)]
        elif pick == 8:
            frame = rng.integers(0, 256, (180, 320, 3), dtype=np.uint8)
        else:
            frame = np.full((180, 320, 3), rng.integers(256), np.uint8)
        frames.append(np.ascontiguousarray(frame))
    return frames


def false_positives(count: int) -> dict:
    """`detect` (v2, then v1) on `count` unmarked frames; the computed bounds beside the counts."""
    found = {1: 0, 2: 0}
    for frame in false_positive_frames(count, np.random.default_rng(5)):
        detection = watermark.detect([frame])
        if detection.found:
            found[detection.version] += 1
    return {"frames": count, "found_v2": found[2], "found_v1": found[1],
            "bound_v2": watermark.v2_false_positive_probability(),
            "bound_v1": watermark.v1_false_positive_probability()}


def timing(kinds: dict[str, list[np.ndarray]]) -> dict:
    """Milliseconds per frame: embed v1 / v2 at 640x360 and 1280x720, detect at 1280x720."""
    def ms(call, frames, repeat=3):
        call(frames[0])                                        # warms the per-size pattern cache
        start = time.perf_counter()
        for _ in range(repeat):
            for frame in frames:
                call(frame)
        return round((time.perf_counter() - start) / (repeat * len(frames)) * 1000, 2)

    video = kinds["video"][:3]
    small = [np.asarray(Image.fromarray(f).resize((640, 360), Image.Resampling.BOX)) for f in video]
    marked = [watermark.embed(f, BITS) for f in video]
    return {"embed_v2_640x360": ms(lambda f: watermark.embed(f, BITS), small, 10),
            "embed_v2_1280x720": ms(lambda f: watermark.embed(f, BITS), video, 10),
            "embed_v1_1280x720": ms(lambda f: watermark_v1.embed(f, BITS), video, 1),
            "detect_marked_1280x720": ms(lambda f: watermark.detect([f]), marked, 1),
            "detect_unmarked_1280x720": ms(lambda f: watermark.detect([f]), video, 1)}


# --- report ------------------------------------------------------------------------------------------

def goals(result: dict) -> list[tuple[str, bool, str]]:
    """(goal, met, measured) for the targets of the watermark v2 issue."""
    m, v, q, fp = result["matrix"], result["h264"], result["quality"], result["false_positives"]
    crop = min(m[a][k]["v2"]["bits"] for a in ("crop 20% sym", "crop 20% one-sided") for k in m[a])
    crf = min(v["h264 crf 28"][k]["v2"][w]["bits"] for k in v["h264 crf 28"] for w in ("per frame", "shot"))
    flat_change = q["glyph"]["v2"][f"max_flat_change_{watermark_v2.WINDOW}x{watermark_v2.WINDOW}"]
    glyph_jpeg = m["jpeg 75"]["glyph"]["v2"]["detected"]
    return [("bit accuracy >= 95% after a 20% crop (v2, worst kind)", crop >= 0.95, f"{crop:.1%}"),
            ("bit accuracy >= 95% after H.264 CRF 28 (v2, worst of per-frame and shot)", crf >= 0.95, f"{crf:.1%}"),
            ("false-positive bound < 1e-6 (v2 + v1)", fp["bound_v2"] + fp["bound_v1"] < 1e-6,
             f"{fp['bound_v2'] + fp['bound_v1']:.2e}"),
            (f"no false positive in {fp['frames']} unmarked frames", fp["found_v2"] + fp["found_v1"] == 0,
             f"v2 {fp['found_v2']}, v1 {fp['found_v1']}"),
            ("PSNR >= 42 dB on footage (v2, mean)", q["video"]["v2"]["psnr_db"] >= 42,
             f"{q['video']['v2']['psnr_db']} dB"),
            ("glyph frames: no flat-paper pixel moved by more than 2", flat_change <= 2, f"max {flat_change}"),
            ("glyph frames: mark read after JPEG 75 (v2)", glyph_jpeg == 1.0, f"{glyph_jpeg:.0%} of frames")]


def markdown(result: dict) -> str:
    """The summary tables."""
    kinds = list(next(iter(result["matrix"].values())))
    cell = lambda r: f"{r['detected']:.0%} / {r['bits']:.1%}"
    lines = ["# Watermark v1 vs v2: robustness", "",
             f"{result['frames']} frames per kind at 1280x720 ({', '.join(kinds)}). Cells: detection rate / bit "
             "accuracy (v1: its 48 bits; v2: the 60 message bits after error correction). Produced by "
             "`benchmarks/watermark_robustness.py`; raw numbers in `benchmarks/results/watermark-robustness.json`.",
             "", "| attack | " + " | ".join(f"{k} v1 | {k} v2" for k in kinds) + " |",
             "|---|" + "---|---|" * len(kinds)]
    for name, row in result["matrix"].items():
        lines.append(f"| {name} | " + " | ".join(f"{cell(row[k]['v1'])} | {cell(row[k]['v2'])}" for k in kinds) + " |")
    for name, row in result["h264"].items():
        for how in ("per frame", "shot"):
            lines.append(f"| {name}, {how} | " + " | ".join(
                f"{cell(row[k]['v1'][how])} | {cell(row[k]['v2'][how])}" for k in kinds) + " |")
    lines += ["", "| quality | " + " | ".join(f"{k} v1 | {k} v2" for k in kinds) + " |",
              "|---|" + "---|---|" * len(kinds)]
    for key in dict.fromkeys(k for kind in kinds for k in result["quality"][kind]["v2"]):
        values = [f"{result['quality'][k][v].get(key, '-')}" for k in kinds for v in ("v1", "v2")]
        lines.append(f"| {key} | " + " | ".join(values) + " |")
    fp = result["false_positives"]
    lines += ["", f"False positives of `detect` on {fp['frames']} unmarked frames: v2 {fp['found_v2']}, v1 "
              f"{fp['found_v1']}; computed bounds per read: v2 {fp['bound_v2']:.2e}, v1 {fp['bound_v1']:.2e}.", "",
              "Time per frame (ms, one core): " + ", ".join(f"{k} {v}" for k, v in result["timing"].items()) + ".",
              "", "| goal | met | measured |", "|---|---|---|"]
    lines += [f"| {goal} | {'yes' if met else 'NO'} | {measured} |" for goal, met, measured in result["goals"]]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=6, help="frames per kind (video, glyph)")
    parser.add_argument("--shot", type=int, default=24, help="frames of each H.264 shot")
    parser.add_argument("--fp-frames", type=int, default=1000, help="unmarked frames for false positives")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "watermark-robustness.json")
    parser.add_argument("--notes", type=Path, default=ROOT.parent / "notes" / "watermark.md")
    args = parser.parse_args(argv)
    if not CLIP.exists():
        print(f"missing {CLIP}", file=sys.stderr)
        return 2
    started = time.perf_counter()
    kinds = {"video": video_frames(args.frames), "glyph": glyph_frames(args.frames)}
    shots = {"video": video_frames(args.shot, start=40, step=1), "glyph": glyph_frames(1) * args.shot}
    result: dict = {"frames": args.frames, "shot_frames": args.shot}
    result["timing"] = timing(kinds)
    result["quality"] = quality(kinds)
    result["matrix"] = matrix(kinds)
    result["h264"] = video_matrix(shots)
    result["false_positives"] = false_positives(args.fp_frames)
    result["goals"] = goals(result)
    result["seconds"] = round(time.perf_counter() - started, 1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    args.notes.parent.mkdir(parents=True, exist_ok=True)
    args.notes.write_text(markdown(result))
    print(markdown(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
