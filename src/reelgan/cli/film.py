"""`reelgan film`: a Fountain script to an animatic MP4 with subtitles, timeline, contact sheet and credits."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..errors import ReelganError
from .common import add_c2pa_options, add_command, signer_from_args

EXAMPLES = """\
  reelgan film pilot.fountain --out pilot.mp4                       # procedural glyphs for every scene
  reelgan film pilot.fountain --cast cast.toml --out pilot.mp4      # generators and stills per scene
  reelgan film pilot.fountain --out pilot.mp4 --height 720 --aspect 2.39:1 --fps 25 --soft-subtitles
  reelgan film pilot.fountain --out pilot.mp4 --c2pa-cert chain.pem --c2pa-key key.pem   # signed (reelgan[c2pa])
  reelgan film pilot.fountain --cast cast.toml --feedback ratings.json --out pilot-v2.mp4  # steered by viewers
  reelgan film pilot.fountain --out pilot.mp4 --shots --export fcp7,edl,otioz   # for editors (reelgan[nle])
  reelgan film pilot.fountain --out pilot.mp4 --voice            # temp dialogue, espeak-ng (reelgan[voice])
  reelgan film pilot.fountain --out pilot.mp4 --voice       # temp dialogue read by espeak-ng (reelgan[voice])

cast.toml:
  default = "runs/00001-logograms-r3gan-32"        # a run folder, .pt, .safetensors, or an image
  [scenes]
  1 = "stills/market.jpg"
  "EXT. HARBOUR - DAWN" = { source = "runs/00002-moving-glyphs", truncation = 0.8 }
"""


def parse_aspect(text: str) -> float:
    """'16:9' or '1.78' -> width / height."""
    try:
        if ":" in text:
            width, height = (float(part) for part in text.split(":", 1))
            value = width / height
        else:
            value = float(text)
    except (ValueError, ZeroDivisionError):
        raise ReelganError(f"--aspect must look like 16:9 or 1.78; got {text!r}") from None
    if not 0.2 <= value <= 5:
        raise ReelganError(f"--aspect must be between 1:5 and 5:1; got {text!r}")
    return value


def add_parser(subparsers) -> None:
    """Register `reelgan film`."""
    from ..film.plan import Timing

    p = add_command(subparsers, "film", "assemble an animatic MP4 from a Fountain script", EXAMPLES)
    p.add_argument("script", help="a .fountain screenplay")
    p.add_argument("--out", required=True, help="the .mp4 to write; .srt, .vtt, .otio, .sheet.png/.pdf and "
                   ".authorship.json go beside it")
    p.add_argument("--cast", help="a TOML file naming the generator or still for each scene (default: "
                   "procedural glyphs)")
    p.add_argument("--height", type=int, default=360, help="pixels (default 360)")
    p.add_argument("--aspect", default="16:9", help="width:height (default 16:9)")
    p.add_argument("--fps", type=int, default=24, help="frames per second (default 24)")
    p.add_argument("--fade", type=float, default=0.5, help="seconds of cross-fade at each cut (default 0.5)")
    timing = Timing()
    p.add_argument("--words-per-second", type=float, default=timing.words_per_second,
                   help=f"reading speed that sets shot lengths (default {timing.words_per_second})")
    p.add_argument("--min-shot", type=float, default=timing.min_shot, help=f"seconds (default {timing.min_shot})")
    p.add_argument("--max-shot", type=float, default=timing.max_shot, help=f"seconds (default {timing.max_shot})")
    p.add_argument("--title-seconds", type=float, default=timing.title_card,
                   help=f"each scene's title card (default {timing.title_card})")
    p.add_argument("--credits-seconds", type=float, default=timing.credits,
                   help=f"the closing credits card (default {timing.credits})")
    p.add_argument("--soft-subtitles", action="store_true", help="also a switchable subtitle track in the MP4")
    p.add_argument("--no-burn-subtitles", action="store_true", help="do not draw dialogue into the frames")
    p.add_argument("--no-watermark", action="store_true", help="no invisible watermark in generated frames")
    p.add_argument("--device", default="cpu", help="for generators: cpu, cuda, mps or auto (default cpu)")
    p.add_argument("--hold", action="store_true", help="one picture per scene (today's animatics held one), not "
                   "a fresh sample or glyph per shot")
    p.add_argument("--action-captions", action="store_true", help="show each shot's action text in a band at the "
                   "top of the frame")
    p.add_argument("--label", action="store_true", help="a small visible 'contains AI-generated images' on "
                   "model-made shots")
    p.add_argument("--dry-run", action="store_true", help="print the film's length, shots and estimated render "
                   "time, and stop before drawing anything")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--shots", action="store_true", help="also write each shot as its own clean file in FILM.shots/ "
                   "with dissolve handles, and point the timeline at them (about doubles the render time)")
    p.add_argument("--export", default="", help="editor timelines beside the .otio, comma-separated: otioz "
                   "(timeline + media in one file), fcp7 (Final Cut 7 XML, which Premiere imports), edl (CMX 3600); "
                   "fcp7 and edl need pip install 'reelgan[nle]'")
    p.add_argument("--feedback", help='viewers\' ratings of an earlier render, JSON: {"shots": {"3": 5, "4": [1, 2]}} '
                   "(1-5 stars by shot index in its .authorship.json, one viewer or several); generated shots are "
                   "steered toward what was liked")
    p.add_argument("--voice", action="store_true", help="temp dialogue: speak every subtitle with espeak-ng's "
                   "offline formant synthesis, one voice per character, over quiet room tone; the MP4 gets an "
                   "AAC track, FILM.voice/ one WAV per line, the timeline an audio track, and shots last as "
                   "long as their speech. Needs pip install 'reelgan[voice]'")
    p.add_argument("--overwrite", action="store_true", help="replace existing outputs")
    add_c2pa_options(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Render the film and print what was written."""
    import time

    from ..devices import pick_device
    from ..film.plan import Timing
    from ..film.render import FilmOptions, Outputs, render_film

    pick_device(args.device)  # a bad --device is refused even when no shot needs a generator
    exports = tuple(dict.fromkeys(name.strip() for name in args.export.split(",") if name.strip()))
    aspect = parse_aspect(args.aspect)
    width = max(16, round(args.height * aspect / 2) * 2)
    timing = Timing(args.words_per_second, min(Timing.min_beat, args.min_shot), args.min_shot, args.max_shot,
                    args.title_seconds, args.credits_seconds)
    options = FilmOptions(width, args.height, args.fps, args.fade, timing, not args.no_burn_subtitles,
                          args.soft_subtitles, not args.no_watermark, args.device, hold=args.hold,
                          action_captions=args.action_captions, label=args.label, voice=args.voice)
    if args.dry_run:
        from ..film.render import dry_run

        plan = dry_run(Path(args.script), Path(args.cast) if args.cast else None, options, args.shots)
        print(f"{plan['length_s']:.1f} s of film: {plan['scenes']} scene(s), {plan['shots']} shots "
              f"({plan['generated_shots']} generated) and {plan['cards']} cards, {plan['frames']} frames at "
              f"{width}x{args.height}; about {plan['estimated_render_s']:.0f} s to render on a 2-core CPU")
        return 0
    signer = signer_from_args(args)
    started = time.perf_counter()
    record = render_film(Path(args.script), Path(args.out), Path(args.cast) if args.cast else None, options,
                         args.overwrite, signer, Path(args.feedback) if args.feedback else None,
                         shots=args.shots, exports=exports,
                         progress=not args.no_progress and sys.stderr.isatty())
    seconds = time.perf_counter() - started
    length = sum(shot["duration"] for shot in record["shots"])
    print(f"wrote {args.out} ({length:.1f} s of film at {width}x{args.height}, {args.fps} fps, "
          f"{len(record['shots'])} shots) in {seconds:.1f} s", file=sys.stderr)
    if args.feedback:
        steered = record["steered_by_feedback"]
        print(f"viewer feedback changed {len(steered)} shot(s): {', '.join(map(str, steered)) or 'none'} "
              "(why: the .authorship.json, each shot's picture.steered)", file=sys.stderr)
    for path in Outputs(Path(args.out), args.shots, exports, args.voice).all().values():
        print(path)
    return 0
