"""Fine-tuning SmolLM2-135M on a writer's own scripts on this CPU: LoRA against tuning every weight.

The shared Fountain screenplays (`../shared/data/fountain`) are the writer's scripts: all but one train, the
held-out one measures what was learnt (its loss in nats per token, before and after, in windows of
--context tokens). Both systems run `reelgan script train --base smollm2` (LoRA: `--lora 8`, learning rate
2e-4; every weight: 5e-5) for the same --steps, batch and context, one after the other in one invocation.
Reported: trainable parameters, seconds per step, peak resident memory of the process (the two runs share
one process, so the second's peak includes the first's), the saved folder's size, and the held-out loss.

    python benchmarks/script_lora.py --steps 30 --out benchmarks/results/script-lora.json
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import tempfile
import time
from pathlib import Path

import torch

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "fountain"


def held_out_loss(model, tokenizer, text: str, context: int) -> float:
    """Mean next-token loss (nats) of `text` in consecutive windows of `context` tokens."""
    from reelgan.script.lm_training import validation_loss

    stream = torch.tensor(tokenizer(text)["input_ids"], dtype=torch.long)
    return validation_loss(model, stream, context, torch.device("cpu"))


def folder_mb(folder: Path) -> float:
    return round(sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 2**20, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--context", type=int, default=256)
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    from reelgan.script.corpus import read_corpus
    from reelgan.script.lm_training import FINE_TUNE_LR, LORA_LR, ScriptTrainConfig, train_language_model
    from reelgan.script.model import load_language_model

    scripts = sorted(args.data.glob("*.fountain"))
    held_out = scripts[-1]
    base = load_language_model("smollm2")
    before = held_out_loss(base.model, base.tokenizer, held_out.read_text(), args.context)
    del base
    results = {"machine": f"{platform.machine()}, {torch.get_num_threads()} torch threads",
               "train_scripts": [p.name for p in scripts[:-1]], "held_out": held_out.name,
               "steps": args.steps, "batch": args.batch, "context": args.context,
               "held_out_loss_before": round(before, 4), "systems": {}}
    with tempfile.TemporaryDirectory() as tmp:
        corpus_folder = Path(tmp) / "corpus"
        corpus_folder.mkdir()
        for script in scripts[:-1]:
            (corpus_folder / script.name).write_text(script.read_text())
        corpus = read_corpus(corpus_folder)
        for name, lora, lr in (("LoRA rank 8", 8, LORA_LR), ("every weight", 0, FINE_TUNE_LR)):
            out = Path(tmp) / name.replace(" ", "-")
            config = ScriptTrainConfig(base="smollm2", lora=lora, lr=lr, steps=args.steps, batch_size=args.batch,
                                       context=args.context, warmup=max(1, args.steps // 10),
                                       save_every=args.steps)
            start = time.perf_counter()
            record = train_language_model(corpus, out, config, progress=False, log=lambda m: None)
            seconds = time.perf_counter() - start
            tuned = load_language_model(str(out))
            after = held_out_loss(tuned.model, tuned.tokenizer, held_out.read_text(), args.context)
            results["systems"][name] = {
                "trainable_parameters": record["trainable_parameters"], "parameters": record["parameters"],
                "seconds": round(seconds, 1), "seconds_per_step": round(seconds / args.steps, 2),
                "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
                "saved_mb": folder_mb(out), "adapter_mb": folder_mb(out / "adapter") if lora else None,
                "held_out_loss_after": round(after, 4)}
            print(name, results["systems"][name], flush=True)
            del tuned
    print(json.dumps(results, indent=2))
    if args.out:
        args.out.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
