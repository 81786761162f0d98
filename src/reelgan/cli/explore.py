"""`reelgan explore`: look around a trained generator: seed grids, children, crossovers, latent directions,
likes and dislikes, proposals from the preference model, picks. Every sample shown gets an id in the lineage
file (RUN/explore/lineage.json), so any of them can be picked, rated, bred from or regenerated exactly."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import ReelganError
from ..explore import Explorer
from ..explore.directions import METHODS, PARTS
from ..explore.variations import CROSSOVER_MODES
from ..paths import output_file
from .common import (
    add_c2pa_options,
    add_command,
    add_source_argument,
    parse_int_list,
    parse_seeds,
    sign_and_report,
    signer_from_args,
    source_path,
    subcommand_adder,
)

EXAMPLES = """\
  reelgan explore grid latest --seeds 0-15 --out grid.png          # ids 0-15 in the lineage
  reelgan explore rate latest --like 3,7 --dislike 0,12
  reelgan explore suggest latest --n 16 --out more.png             # more like what you liked
  reelgan explore children latest --of 7 --n 8 --sigma 0.4 --out kids.png
  reelgan explore crossover latest --of 3,7 --n 8 --out cross.png
  reelgan explore directions latest --seed 7 --method sefa --count 6 --out strips.png
  reelgan explore directions latest --seed 7 --count 3 --out directions.mp4
  reelgan explore picks latest --out picks.png --files picks/ --svg --morph picks.mp4
"""


def _common(p: argparse.ArgumentParser, out: str | None) -> None:
    add_source_argument(p)
    p.add_argument("--lineage", type=Path, help="the lineage file (default: RUN/explore/lineage.json, or "
                   "NAME.lineage.json beside a checkpoint or exported generator)")
    if out is not None:
        p.add_argument("--out", type=Path, help=f"the file to write: .png (clips: .mp4 or .gif) (default "
                       f"{out}.png, clips {out}.mp4)")
        p.set_defaults(out_stem=out)
        p.add_argument("--size", type=int, help="upscale the grid's long side to this many pixels")
        p.add_argument("--overwrite", action="store_true", help="replace an existing output file")
        add_c2pa_options(p)


def _parent_options(p: argparse.ArgumentParser, many: bool) -> None:
    if many:
        p.add_argument("--seeds", help="parents by seed, e.g. 3,7")
        p.add_argument("--of", help="parents by lineage id, e.g. 12,40")
    else:
        p.add_argument("--seed", type=int, help="start from this seed")
        p.add_argument("--of", type=int, help="start from this lineage id")


def add_parser(subparsers) -> None:
    """Register `reelgan explore` and its subcommands."""
    p = add_command(subparsers, "explore", "explore a generator: grids, children, crossovers, directions, "
                    "likes and proposals, all recorded in a lineage", EXAMPLES)
    sub = subcommand_adder(p, "explore_command", EXAMPLES)

    g = sub("grid", "samples at seeds, each recorded with an id")
    _common(g, "grid")
    g.add_argument("--seeds", default="0-15", help="seeds, e.g. 0-15 or 3,17,42 (default 0-15)")
    g.add_argument("--truncation", type=float, default=1.0, help="0-1: lower is more typical, less varied")
    g.add_argument("--class", dest="class_name", help="class for a conditional generator")
    g.set_defaults(run=run_grid)

    c = sub("children", "variations of one sample: z + sigma * noise")
    _common(c, "children")
    _parent_options(c, many=False)
    c.add_argument("--n", type=int, default=8, help="children (default 8)")
    c.add_argument("--sigma", type=float, default=0.5, help="how far they stray, in latent standard deviations "
                   "(0.2 close, 1 about another seed; default 0.5)")
    c.add_argument("--part", default="all", help=f"clips: vary the {' or '.join(PARTS[1:])} only (default all)")
    c.add_argument("--child-seed", type=int, default=0, help="seed of the noise (default 0)")
    c.set_defaults(run=run_children)

    x = sub("crossover", "offspring of two or more samples")
    _common(x, "crossover")
    _parent_options(x, many=True)
    x.add_argument("--n", type=int, default=8, help="offspring (default 8)")
    x.add_argument("--mode", default="slerp", help=f"{' or '.join(CROSSOVER_MODES)}: along the arc between two "
                   "parents (random blends of more), or mixing their coordinates (clips: one's content, "
                   "another's motion) (default slerp)")
    x.add_argument("--cross-seed", type=int, default=0, help="seed of the random choices (default 0)")
    x.set_defaults(run=run_crossover)

    d = sub("directions", "latent directions as strips (.png: one row each) or a video (.mp4/.gif)")
    _common(d, "directions")
    _parent_options(d, many=False)
    d.add_argument("--method", default="sefa", help=f"{' or '.join(METHODS)} (default sefa)")
    d.add_argument("--count", type=int, default=6, help="directions, strongest first (default 6)")
    d.add_argument("--steps", type=int, default=7, help="samples per strip (default 7)")
    d.add_argument("--amount", type=float, default=3.0, help="how far each strip goes either way, in latent "
                   "standard deviations (default 3)")
    d.add_argument("--part", default="all", help="clips: content or motion directions (default all: content)")
    d.add_argument("--fps", type=int, default=24, help="video frames per second (default 24)")
    d.set_defaults(run=run_directions)

    r = sub("rate", "like, dislike or star samples by lineage id")
    _common(r, None)
    r.add_argument("--like", default="", help="ids you like, e.g. 3,7")
    r.add_argument("--dislike", default="", help="ids you do not, e.g. 0,12")
    r.add_argument("--stars", action="append", default=[], metavar="ID=N", help="1-5 stars (4-5 count as "
                   "liked, 1-2 as disliked); repeatable")
    r.set_defaults(run=run_rate)

    s = sub("suggest", "the preference model's next samples: more like what you liked")
    _common(s, "suggest")
    s.add_argument("--n", type=int, default=16, help="samples (default 16)")
    s.add_argument("--explore", type=float, default=1.0, help="0 shows the model's best guesses; higher shows "
                   "more of what it is unsure about (default 1)")
    s.add_argument("--pool-seed", type=int, help="seed of the candidate pool (default: a new one each round)")
    s.set_defaults(run=run_suggest)

    k = sub("picks", "the liked samples as a grid, one file each, and a morph video between them")
    _common(k, "picks")
    k.add_argument("--files", type=Path, help="also write each pick to this folder (sampleID.png, with its record)")
    k.add_argument("--svg", action="store_true", help="with --files: also trace each grey pick to SVG")
    k.add_argument("--morph", type=Path, help="also write a morph video through the picks (.mp4 or .gif)")
    k.add_argument("--frames", type=int, default=24, help="morph frames from one pick to the next (default 24)")
    k.set_defaults(run=run_picks)


def _open(args: argparse.Namespace) -> Explorer:
    if getattr(args, "size", None) is not None and args.size < 1:
        raise ReelganError(f"--size must be at least 1 pixel; got {args.size}")
    explorer = Explorer.open(source_path(args), args.lineage, args.device)
    if hasattr(args, "out"):
        video = explorer.G.is_video
        suffixes = (".mp4", ".gif") if video else (".png",)
        if args.explore_command == "directions" and not video:
            suffixes = (".png", ".mp4", ".gif")  # strips, or a video along each direction in turn
        args.out = args.out or Path(args.out_stem + suffixes[0])
        if args.out.suffix.lower() not in suffixes:
            raise ReelganError(f"--out {args.out} must end in {' or '.join(suffixes)} for this generator")
        args.out = output_file(args.out, args.overwrite)
        args.signer = signer_from_args(args)  # checked before anything is drawn
    return explorer


def _ids(entries) -> str:
    return f"id {entries[0].id}" if len(entries) == 1 else f"ids {entries[0].id}-{entries[-1].id}"


def _finish(explorer: Explorer, entries, out: Path | None, nrow: int | None = None, size: int | None = None,
            signer=None) -> int:
    if out is not None:
        explorer.write_grid(entries, out, nrow=nrow, size=size)
    explorer.save()
    where = f"{out} " if out is not None else ""
    print(f"wrote {where}({len(entries)} samples, {_ids(entries)} in {explorer.lineage.path})")
    if out is not None:
        sign_and_report(signer, [out])
    return 0


def run_grid(args: argparse.Namespace) -> int:
    """Samples at seeds."""
    seeds = parse_seeds(args.seeds)
    explorer = _open(args)
    entries = explorer.seeds(seeds, args.truncation, args.class_name)
    return _finish(explorer, entries, args.out, size=args.size, signer=args.signer)


def run_children(args: argparse.Namespace) -> int:
    """Children of one sample."""
    explorer = _open(args)
    parent = explorer.parent(args.seed, args.of)
    entries = explorer.children(parent, args.n, args.sigma, args.child_seed, args.part)
    return _finish(explorer, entries, args.out, size=args.size, signer=args.signer)


def _parents(explorer: Explorer, args: argparse.Namespace):
    if (args.seeds is None) == (args.of is None):
        raise ReelganError("give the parents by --seeds or by --of (lineage ids), e.g. --seeds 3,7")
    if args.of is not None:
        return [explorer.lineage.get(i) for i in parse_int_list(args.of, "--of")]
    return explorer.seeds(parse_seeds(args.seeds))


def run_crossover(args: argparse.Namespace) -> int:
    """Offspring of two or more samples."""
    explorer = _open(args)
    entries = explorer.crossover(_parents(explorer, args), args.n, args.cross_seed, args.mode)
    return _finish(explorer, entries, args.out, size=args.size, signer=args.signer)


def run_directions(args: argparse.Namespace) -> int:
    """Strips (or a video) along the strongest directions."""
    explorer = _open(args)
    base = explorer.parent(args.seed if args.seed is not None or args.of is not None else 0, args.of)
    directions = explorer.directions(args.method, args.count, args.part)
    rows = explorer.direction_strip(base, directions, args.steps, args.amount)
    entries = [entry for row in rows for entry in row]
    if args.out.suffix.lower() == ".png":
        return _finish(explorer, entries, args.out, nrow=args.steps, size=args.size, signer=args.signer)
    frames = explorer.write_direction_video(rows, args.out, fps=args.fps, size=args.size or 256)
    explorer.save()
    print(f"wrote {args.out} ({len(rows)} directions, {frames} frames; {_ids(entries)} in "
          f"{explorer.lineage.path})")
    sign_and_report(args.signer, [args.out])
    return 0


def run_rate(args: argparse.Namespace) -> int:
    """Record likes, dislikes and stars."""
    liked = parse_int_list(args.like, "--like") if args.like.strip() else []
    disliked = parse_int_list(args.dislike, "--dislike") if args.dislike.strip() else []
    stars = {}
    for item in args.stars:
        key, sep, value = item.partition("=")
        if not sep or not key.strip().isdigit() or not value.strip().isdigit():
            raise ReelganError(f"--stars takes ID=N, such as 7=5; got {item!r}")
        stars[int(key)] = int(value)
    if not (liked or disliked or stars):
        raise ReelganError("nothing to rate: give --like, --dislike or --stars ID=N")
    explorer = _open(args)
    changed = explorer.rate(liked, disliked, stars)
    explorer.save()
    print(f"rated {len(changed)} sample(s); {len(explorer.lineage.rated())} rated in {explorer.lineage.path}")
    return 0


def run_suggest(args: argparse.Namespace) -> int:
    """The preference model's proposals."""
    explorer = _open(args)
    entries = explorer.suggest(args.n, args.explore, args.pool_seed)
    if not explorer.lineage.rated():
        print("nothing is rated yet, so these are fresh samples; rate some with `reelgan explore rate`")
    return _finish(explorer, entries, args.out, size=args.size, signer=args.signer)


def run_picks(args: argparse.Namespace) -> int:
    """The liked samples, as a grid and optionally files and a morph."""
    explorer = _open(args)
    picks = explorer.picks()
    if not picks:
        raise ReelganError(f"no liked samples in {explorer.lineage.path}; like some with "
                           "`reelgan explore rate RUN --like IDS`")
    morph = None
    if args.morph is not None:  # every output is checked before anything is written
        if args.morph.suffix.lower() not in (".mp4", ".gif"):
            raise ReelganError(f"--morph {args.morph} must end in .mp4 or .gif")
        if len(picks) < 2:
            raise ReelganError("--morph needs at least two liked samples; like another with `reelgan explore rate`")
        morph = output_file(args.morph, args.overwrite, "--morph")
    if args.files is not None:
        explorer.check_files(picks, args.files, args.overwrite, args.svg)
    written = []
    if morph is not None:
        explorer.write_morph(picks, morph, frames=args.frames, size=args.size or 256)
        print(f"wrote {morph}")
        written.append(morph)
    if args.files is not None:
        paths = explorer.write_files(picks, args.files, size=args.size, overwrite=args.overwrite, svg=args.svg)
        print(f"wrote {len(paths)} file(s) to {args.files}")
        written += paths
    explorer.write_grid(picks, args.out, size=args.size)
    print(f"wrote {args.out} ({len(picks)} picks)")
    sign_and_report(args.signer, [*written, args.out])
    return 0
