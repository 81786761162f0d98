"""Screenplay model speed: generation and training tokens/s for the bundled model and a GPT-2-small config.

Generation: one draft at a time (batch 1, as `reelgan script` does), sampling with the default settings,
end-of-text disabled so every run makes exactly --new-tokens tokens; the median of --repeats runs.
Training: optimizer steps of `reelgan script train`'s loop (AdamW, clipped gradients) on random windows;
tokens/s after one warm-up step. The GPT-2-small config (124M parameters, 1024 positions, 50,257-token
vocabulary) has random weights: speed does not depend on the weights, and nothing is downloaded.

    python benchmarks/script_speed.py --out benchmarks/results/script-speed.json
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time

import torch


def generation_speed(model, vocab: int, new_tokens: int, repeats: int, prompt_tokens: int = 32) -> dict:
    """Median tokens/s of sampled generation, batch 1."""
    model.eval()
    inputs = torch.randint(0, vocab, (1, prompt_tokens), generator=torch.Generator().manual_seed(0))
    options = dict(max_new_tokens=new_tokens, min_new_tokens=new_tokens, do_sample=True, temperature=0.9,
                   top_k=50, top_p=0.95, repetition_penalty=1.1, pad_token_id=0,
                   attention_mask=torch.ones_like(inputs))
    with torch.no_grad():
        model.generate(inputs, **{**options, "max_new_tokens": 4, "min_new_tokens": 4})  # warm-up
        seconds = []
        for seed in range(repeats):
            torch.manual_seed(seed)
            start = time.perf_counter()
            output = model.generate(inputs, **options)
            seconds.append(time.perf_counter() - start)
            assert output.shape[1] == prompt_tokens + new_tokens
    median = statistics.median(seconds)
    return {"new_tokens": new_tokens, "seconds_median": round(median, 3),
            "tokens_per_s": round(new_tokens / median, 1)}


def training_speed(model, vocab: int, context: int, batch: int, steps: int) -> dict:
    """Training tokens/s of the script trainer's step (forward, backward, clip, AdamW)."""
    from reelgan.script.lm_training import ScriptTrainConfig, _optimizer, _train_step

    config = ScriptTrainConfig(batch_size=batch, context=context, steps=steps + 1)
    stream = torch.randint(0, vocab, (200_000,), generator=torch.Generator().manual_seed(0))
    model.train()
    optimizer = _optimizer(model, config)
    _train_step(model, optimizer, stream, 0, config, torch.device("cpu"))  # warm-up
    start = time.perf_counter()
    for step in range(1, steps + 1):
        _train_step(model, optimizer, stream, step, config, torch.device("cpu"))
    elapsed = time.perf_counter() - start
    return {"context": context, "batch": batch, "steps": steps, "seconds_per_step": round(elapsed / steps, 3),
            "tokens_per_s": round(steps * batch * context / elapsed, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--new-tokens", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--train-steps", type=int, default=5)
    parser.add_argument("--out", help="write the results here as JSON")
    args = parser.parse_args()
    import transformers

    from reelgan.script.model import load_language_model

    bundled = load_language_model("bundled")
    bundled_config = bundled.model.config
    small = transformers.GPT2LMHeadModel(transformers.GPT2Config())  # GPT-2 small's shape: 124M parameters
    results = {"machine": f"{platform.machine()}, {torch.get_num_threads()} torch threads, torch {torch.__version__}",
               "transformers": transformers.__version__}
    for name, model, vocab, context, batch in (
        ("bundled", bundled.model, bundled_config.vocab_size, 512, 8),
        ("gpt2-small-config", small, 50257, 512, 4),
    ):
        parameters = sum(p.numel() for p in model.parameters())
        row = {"parameters": parameters,
               "generation": generation_speed(model, vocab, args.new_tokens, args.repeats),
               "training": training_speed(model, vocab, context, batch, args.train_steps)}
        results[name] = row
        print(name, json.dumps(row))
    if args.out:
        with open(args.out, "w") as handle:
            json.dump(results, handle, indent=2)


if __name__ == "__main__":
    main()
