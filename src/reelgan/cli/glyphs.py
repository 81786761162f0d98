"""`reelgan glyphs`: the glyph studio: write a phrase as a glyph, datasets, contact sheets, SVG and PNG output."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from ..errors import ReelganError
from ..paths import output_file, output_folder, short_name
from .common import add_c2pa_options, parse_seeds, sign_and_report, signer_from_args, subcommand_adder

EXAMPLES = """\
  reelgan glyphs write "we come in peace" --size 1024 --out peace.png
  reelgan glyphs write "we come in peace" --out peace.svg          # traced vector, transparent
  reelgan glyphs write "there is no time" --transparent --out time.png
  reelgan glyphs dataset --n 20000 --size 64 glyphs64.zip --features 3-9 --thickness 0.03-0.06
  reelgan glyphs sheet --seeds 0-63 --out sheet.png               # also writes sheet.pdf
  reelgan glyphs sheet --phrase "we come in peace" --phrase "we come in war" --out phrases.png
  reelgan glyphs sheet --generator runs/00001-logograms-r3gan-32 --seeds 0-31 --out samples.png
  reelgan glyphs vectorize runs/00001-logograms-r3gan-32 --seeds 0-15 --out vectors/
  reelgan glyphs write "we come in peace" --out peace.svg --c2pa-cert chain.pem --c2pa-key key.pem  # signed
"""


def add_style_options(parser: argparse.ArgumentParser) -> None:
    """The procedural glyphs' settings (ranges are drawn from per glyph)."""
    parser.add_argument("--features", help="features (tendrils, hooks, blots, splatter) per glyph, e.g. 2-7")
    parser.add_argument("--thickness", help="ring thickness in image widths, e.g. 0.022-0.045")
    parser.add_argument("--density", help="ink darkness 0-1, e.g. 0.95-1 (lower: paler, more paper shows)")
    parser.add_argument("--style", action="append", default=[], metavar="FIELD=VALUE",
                        help="any other LogogramStyle field, e.g. bleed=0.008, gap_probability=0 (repeatable)")


def add_parser(subparsers) -> None:
    """Register `reelgan glyphs` and its subcommands."""
    from .common import add_command

    p = add_command(subparsers, "glyphs", "Arrival-style logograms: phrases, datasets, sheets, SVG", EXAMPLES)
    sub = subcommand_adder(p, "glyphs_command", EXAMPLES)

    w = sub("write", "write a phrase as one logogram (the same phrase always gives the same glyph)")
    w.add_argument("phrase", help="the words; each becomes a feature on the ring")
    w.add_argument("--size", type=int, default=512, help="pixels, 8-1024 (default 512)")
    w.add_argument("--out", help=".png or .svg (default: the phrase's words joined by '-', .png)")
    w.add_argument("--transparent", action="store_true", help="PNG with ink as alpha, no paper")
    w.add_argument("--overwrite", action="store_true", help="replace an existing file")
    add_style_options(w)
    add_c2pa_options(w)
    w.set_defaults(run=run_write)

    d = sub("dataset", "write procedural glyphs as a zip of PNGs that `reelgan train --data` reads")
    d.add_argument("out", help="the .zip to write")
    d.add_argument("--n", type=int, default=20000, help="number of glyphs (default 20000)")
    d.add_argument("--size", type=int, default=64, help="pixels, 8-1024 (default 64)")
    d.add_argument("--seed", type=int, default=0, help="dataset seed (default 0: the built-in set's glyphs)")
    d.add_argument("--overwrite", action="store_true", help="replace an existing zip")
    add_style_options(d)
    add_c2pa_options(d)
    d.set_defaults(run=run_dataset)

    s = sub("sheet", "a contact sheet (PNG and PDF) of glyphs captioned with their seeds or phrases")
    s.add_argument("--seeds", default="0-31", help="seeds, e.g. 0-63 or 3,17,42 (default 0-31)")
    s.add_argument("--phrase", action="append", default=[], help="a phrase glyph instead of seeds (repeatable)")
    s.add_argument("--phrases", help="a text file of phrases, one per line")
    s.add_argument("--generator", help="sample a trained generator (run folder, checkpoint, export) at the seeds")
    s.add_argument("--columns", type=int, default=8, help="glyphs per row (default 8)")
    s.add_argument("--cell", type=int, default=128, help="pixels per glyph (default 128)")
    s.add_argument("--out", default="sheet.png", help="the .png; the .pdf goes beside it (default sheet.png)")
    s.add_argument("--overwrite", action="store_true", help="replace existing files")
    add_style_options(s)
    add_c2pa_options(s)
    s.set_defaults(run=run_sheet)

    v = sub("vectorize", "trace glyphs to SVG (transparent) and write transparent PNGs beside them")
    v.add_argument("source", help="a trained generator (run folder, checkpoint, export), 'logograms', or a "
                   "glyph image / folder of images")
    v.add_argument("--seeds", default="0-15", help="seeds to sample (default 0-15; not for images)")
    v.add_argument("--size", type=int, default=1024, help="PNG size and SVG canvas, 8-1024 px (default 1024)")
    v.add_argument("--out", default="vectors", help="output folder (default vectors/); a name ending in .svg "
                   "is one file (its .png beside it), for one glyph only")
    v.add_argument("--overwrite", action="store_true", help="replace existing files")
    add_c2pa_options(v)
    v.set_defaults(run=run_vectorize)


def _style(args: argparse.Namespace):
    from ..glyphs.procedural import style_from_options

    return style_from_options(args.features, args.thickness, args.density, args.style)


def run_write(args: argparse.Namespace) -> int:
    """Render the phrase's glyph and write it as PNG (paper or transparent) or SVG."""
    from ..glyphs.phrase import phrase_glyph, render_phrase
    from ..glyphs.procedural import check_size, procedural_record
    from ..glyphs.vector import transparent_png, write_svg
    from ..media import save_png

    check_size(args.size)
    style = _style(args)
    glyph = phrase_glyph(args.phrase, style)  # checks the phrase before anything is written
    out = Path(args.out or short_name(f"{'-'.join(glyph.words)}.png"))
    if out.suffix.lower() not in (".png", ".svg"):
        raise ReelganError(f"--out must end in .png or .svg; got {out.name}")
    output_file(out, args.overwrite)
    signer = signer_from_args(args)
    gray = render_phrase(args.phrase, args.size, style)
    record = procedural_record(glyph.ring_seed, phrase=args.phrase, words=glyph.words)
    if out.suffix.lower() == ".svg":
        write_svg(gray, out, size=args.size, record=record)
    elif args.transparent:
        transparent_png(gray, out, record=record)
    else:
        save_png(out, gray, record)
    print(f"wrote {out}: {len(glyph.words)} word(s) ({', '.join(glyph.words)}) around one ring")
    sign_and_report(signer, [out], record)
    return 0


def run_dataset(args: argparse.Namespace) -> int:
    """Render and zip the glyphs, with a progress bar."""
    from rich.progress import Progress

    from ..glyphs.procedural import procedural_record, write_dataset

    out = Path(args.out)
    if out.suffix.lower() != ".zip":
        raise ReelganError(f"the dataset is written as a .zip; got {out.name}")
    if args.seed < 0:
        raise ReelganError(f"--seed must be 0 or more; got {args.seed}")
    output_file(out, args.overwrite)
    style = _style(args)
    signer = signer_from_args(args)
    with Progress(transient=True) as progress:
        task = progress.add_task("rendering glyphs", total=args.n)
        write_dataset(out, args.n, args.size, args.seed, style,
                      progress=lambda done: progress.update(task, completed=done))
    print(f"wrote {args.n} glyphs ({args.size} px) to {out}; train with `reelgan train --data {out}`")
    sign_and_report(signer, [out], procedural_record(args.seed, kind="glyph-dataset", n=args.n, size=args.size))
    return 0


def _sheet_glyphs(args: argparse.Namespace) -> tuple[list[np.ndarray], list[str], dict]:
    """The sheet's glyphs, captions and provenance record, from phrases, a generator, or seeds."""
    from ..glyphs.sources import sheet_glyphs

    phrases = list(args.phrase)
    if args.phrases:
        try:
            phrases += [line.strip() for line in Path(args.phrases).read_text().splitlines() if line.strip()]
        except (OSError, UnicodeDecodeError) as exc:
            raise ReelganError(f"cannot read phrases from {args.phrases} ({exc}); give a text file") from None
    styled = args.features or args.thickness or args.density or args.style
    if phrases and args.generator:
        raise ReelganError("give phrases or --generator, not both: a trained generator does not write phrases")
    if args.generator and styled:
        raise ReelganError("--features, --thickness, --density and --style set procedural glyphs; drop them "
                           "with --generator")
    seeds = [] if phrases else parse_seeds(args.seeds)
    G = _load_generator(args.generator) if args.generator and not phrases else None
    return sheet_glyphs(phrases, seeds, min(1024, max(64, args.cell)), None if G else _style(args), G)


def _load_generator(path: str):
    """A trained generator; 'latest' is the newest run in runs/."""
    from ..gan.generator import load_generator
    from ..training.rundir import latest_run

    return load_generator(latest_run("runs") if path == "latest" else path)


def run_sheet(args: argparse.Namespace) -> int:
    """Lay the glyphs out with captions; write PNG and PDF."""
    from ..glyphs.sheet import contact_sheet, glyph_cells, save_sheet

    out = Path(args.out)
    if args.cell < 16 or args.columns < 1:
        raise ReelganError(f"--cell must be at least 16 px and --columns at least 1; got {args.cell} and "
                           f"{args.columns}")
    if out.suffix.lower() != ".png":
        raise ReelganError(f"--out must end in .png (the .pdf is written beside it); got {out.name}")
    output_file(out, args.overwrite)
    output_file(out.with_suffix(".pdf"), args.overwrite)
    signer = signer_from_args(args)
    glyphs, captions, record = _sheet_glyphs(args)
    sheet = contact_sheet(glyphs, captions, columns=args.columns, cell=args.cell)
    png, pdf = save_sheet(sheet, out, record, cells=glyph_cells(glyphs, captions), columns=args.columns)
    print(f"wrote {png} and {pdf} ({len(glyphs)} glyphs)")
    sign_and_report(signer, [png, pdf], record)
    return 0


def run_vectorize(args: argparse.Namespace) -> int:
    """Trace each glyph to SVG and write a transparent PNG beside it."""
    from ..glyphs.procedural import check_size
    from ..glyphs.vector import transparent_png, write_svg

    check_size(args.size)
    signer = signer_from_args(args)
    items = _vector_sources(args)
    out = Path(args.out)
    if out.suffix.lower() == ".svg":  # one named file (its PNG beside it), or a refusal for many glyphs
        if len(items) != 1:
            raise ReelganError(f"--out {out} names one SVG file but {len(items)} glyphs would be traced; give "
                               "a folder as --out, or one seed or image")
        stems = [out.with_suffix("")]
    else:
        stems = [output_folder(out) / name for name, _, _ in items]
    targets = [(output_file(stem.with_name(stem.name + ".svg"), args.overwrite),
                output_file(stem.with_name(stem.name + ".png"), args.overwrite)) for stem in stems]
    for (svg, png), (_, gray, record) in zip(targets, items):
        write_svg(gray, svg, size=args.size, record=record)
        transparent_png(gray, png, size=args.size, record=record)
    where = targets[0][0] if out.suffix.lower() == ".svg" else f"{out}/"
    print(f"wrote {len(items)} SVG + transparent PNG pair(s) to {where}")
    sign_and_report(signer, [path for pair in targets for path in pair])
    return 0


def _vector_sources(args: argparse.Namespace) -> list[tuple[str, np.ndarray, dict | None]]:
    """(name, (H, W) uint8 glyph, record) for each glyph to trace."""
    from ..glyphs.sources import image_glyphs, is_image_source, seed_glyphs

    if args.source == "logograms":
        return seed_glyphs(parse_seeds(args.seeds), args.size)
    if is_image_source(Path(args.source)):
        return image_glyphs(Path(args.source))
    G = _load_generator(args.source)
    return seed_glyphs(parse_seeds(args.seeds), args.size, G)
