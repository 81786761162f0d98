"""Training a screenplay language model: fine-tune a causal LM, or train a small GPT-2 from scratch.

The corpus (`corpus.read_corpus`) is tokenized once into one stream of token ids, documents separated by
the end-of-text token. Each step draws `batch_size` random windows of `context + 1` tokens; the window
starts come from a generator seeded by (seed, step), so resuming at step s draws exactly the batches an
unbroken run would. Every `save_every` steps the model folder is replaced as a whole (written beside it,
then swapped in), holding `save_pretrained` files that any transformers user can load, plus
`training_state.pt` (optimizer, RNG, step) for `--resume`, and `reelgan-training.json` (settings and
loss history) for people. The state holds tensors and plain data only and is read with
`torch.load(weights_only=True)`, so resuming never runs code from the file; its fields are checked before use.

From scratch, a byte-level BPE tokenizer is trained on the corpus with the `tokenizers` library, so any
text in any language can be written.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any, Callable

import torch

from .. import __version__
from ..config import check_field_types
from ..errors import ReelganError
from .corpus import Corpus
from .lora import add_adapters, load_adapters, save_with_adapters, trainable_count
from .model import require_transformers

END_OF_TEXT = "<|endoftext|>"
STATE_FILE = "training_state.pt"
STATE_FORMAT = "reelgan-script-state-1"  # earlier versions wrote the same fields without "format"
RECORD_FILE = "reelgan-training.json"
VALIDATION_EVERY = 20  # every 20th document is held out to measure validation loss
FINE_TUNE_LR = 5e-5    # peak learning rate when every weight of a base model is tuned
LORA_LR = 2e-4         # ... and when only LoRA adapters are (they start at zero and need larger steps)


@dataclass
class ScriptTrainConfig:
    """Settings of `reelgan script train`; the model-shape fields apply only when training from scratch."""

    steps: int = 2000              # optimizer steps in all (a resumed run continues up to this)
    batch_size: int = 16           # windows per step
    context: int = 256             # tokens per training window
    lr: float = 1e-3               # peak learning rate (AdamW); fine-tuning wants ~5e-5
    warmup: int = 100              # steps of linear warm-up, then cosine decay to 10% of lr
    weight_decay: float = 0.1
    seed: int = 0                  # model init, dropout and batch order
    save_every: int = 250          # steps between saves of the model folder
    base: str | None = None        # a model to fine-tune (folder, `bundled` or hub id); None: from scratch
    vocab_size: int = 4096         # from scratch: BPE vocabulary
    layers: int = 4                # from scratch: transformer blocks
    width: int = 128               # from scratch: embedding width
    heads: int = 4                 # from scratch: attention heads
    positions: int = 512           # from scratch: longest prompt + draft, in tokens
    dropout: float = 0.1
    text_format: str = "auto"      # how the corpus's .txt files were read (corpus.FORMATS)
    lora: int = 0                  # with a base: train LoRA adapters of this rank instead of every weight (peft)
    lora_alpha: float = 16.0       # LoRA scale numerator: the adapters' update is scaled by alpha / rank

    def check(self) -> None:
        """ReelganError for values training cannot use."""
        check_field_types(self, "--")
        if self.warmup < 0 or not 0 <= self.dropout < 1 or self.weight_decay < 0:
            raise ReelganError(f"--warmup must be 0 or more, dropout in [0, 1) and weight decay 0 or more; got "
                               f"{self.warmup}, {self.dropout}, {self.weight_decay}")
        for name in ("steps", "batch_size", "context", "save_every", "vocab_size", "layers", "width", "heads",
                     "positions"):
            if getattr(self, name) < 1:
                raise ReelganError(f"--{name.replace('_', '-')} must be at least 1; got {getattr(self, name)}")
        if self.lr <= 0:
            raise ReelganError(f"--lr must be positive; got {self.lr}")
        if self.lora < 0 or self.lora_alpha <= 0:
            raise ReelganError(f"--lora must be a rank of 0 (off) or more and --lora-alpha positive; got "
                               f"{self.lora} and {self.lora_alpha}")
        if self.lora and self.base is None:
            raise ReelganError("--lora adapts a trained model: add --base (e.g. --base smollm2), or drop --lora to "
                               "train a small model from scratch")
        if self.base is None and self.width % self.heads:
            raise ReelganError(f"--width ({self.width}) must be a multiple of --heads ({self.heads})")
        if self.base is None and self.context > self.positions:
            raise ReelganError(f"--context ({self.context}) cannot exceed --positions ({self.positions})")
        if self.base is None and self.vocab_size < 300:
            raise ReelganError(f"--vocab-size must be at least 300 (256 bytes plus merges); got {self.vocab_size}")


@dataclass
class TokenStreams:
    """The corpus as token ids: training and held-out validation streams (1-D int64 tensors)."""

    train: torch.Tensor
    validation: torch.Tensor
    documents: int = 0


def train_tokenizer(corpus: Corpus, vocab_size: int) -> Any:
    """A byte-level BPE tokenizer trained on the corpus, wrapped as a transformers fast tokenizer."""
    transformers = require_transformers()
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=[END_OF_TEXT], show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tokenizer.train_from_iterator(corpus.documents, trainer=trainer)
    return transformers.PreTrainedTokenizerFast(tokenizer_object=tokenizer, bos_token=END_OF_TEXT,
                                                eos_token=END_OF_TEXT, unk_token=END_OF_TEXT)


def new_model(config: ScriptTrainConfig, tokenizer: Any) -> Any:
    """A GPT-2 of the configured shape with random weights (seeded by `config.seed`)."""
    transformers = require_transformers()
    torch.manual_seed(config.seed)
    gpt2 = transformers.GPT2Config(
        vocab_size=len(tokenizer), n_positions=config.positions, n_embd=config.width, n_layer=config.layers,
        n_head=config.heads, resid_pdrop=config.dropout, embd_pdrop=config.dropout, attn_pdrop=config.dropout,
        bos_token_id=tokenizer.eos_token_id, eos_token_id=tokenizer.eos_token_id,
    )
    return transformers.GPT2LMHeadModel(gpt2)


def tokenize_corpus(corpus: Corpus, tokenizer: Any, context: int) -> TokenStreams:
    """Token streams for training and validation; ReelganError if the training text is shorter than a window."""
    eos = tokenizer.eos_token_id
    if eos is None:
        raise ReelganError("the base model's tokenizer has no end-of-text token; choose a GPT-2 family model")
    train_ids: list[int] = []
    validation_ids: list[int] = []
    for index, document in enumerate(corpus.documents):
        ids = tokenizer(document, add_special_tokens=False)["input_ids"] + [eos]
        held_out = len(corpus.documents) >= VALIDATION_EVERY and index % VALIDATION_EVERY == VALIDATION_EVERY - 1
        (validation_ids if held_out else train_ids).extend(ids)
    if len(train_ids) <= context + 1:
        raise ReelganError(f"the corpus is {len(train_ids)} tokens, too little for one --context {context} "
                           "window; add text or lower --context")
    return TokenStreams(torch.tensor(train_ids), torch.tensor(validation_ids), len(corpus.documents))


def batch_at(stream: torch.Tensor, step: int, config: ScriptTrainConfig) -> tuple[torch.Tensor, torch.Tensor]:
    """The (inputs, targets) of `step`, each [batch_size, context]: the same for the same seed and step."""
    generator = torch.Generator().manual_seed(config.seed * 1_000_003 + step)
    starts = torch.randint(0, len(stream) - config.context - 1, (config.batch_size,), generator=generator)
    windows = torch.stack([stream[s:s + config.context + 1] for s in starts.tolist()])
    return windows[:, :-1], windows[:, 1:]


def learning_rate(step: int, config: ScriptTrainConfig) -> float:
    """Linear warm-up to `lr`, then cosine decay to 10% of it at `steps`."""
    if step < config.warmup:
        return config.lr * (step + 1) / config.warmup
    progress = min(1.0, (step - config.warmup) / max(1, config.steps - config.warmup))
    return config.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))


@torch.no_grad()
def validation_loss(model: Any, stream: torch.Tensor, context: int, device: torch.device,
                    max_windows: int = 64) -> float | None:
    """Mean cross-entropy (nats per token) over up to `max_windows` consecutive windows; None if none fit."""
    count = min(max_windows, (len(stream) - 1) // context)
    if count < 1:
        return None
    model.eval()
    inputs = stream[: count * context].view(count, context)
    targets = stream[1: count * context + 1].view(count, context)
    total = 0.0
    for i in range(0, count, 8):
        logits = model(input_ids=inputs[i:i + 8].to(device)).logits
        total += float(torch.nn.functional.cross_entropy(
            logits.flatten(0, 1), targets[i:i + 8].flatten().to(device), reduction="sum"))
    model.train()
    return total / (count * context)


def train_language_model(
    corpus: Corpus,
    out: Path,
    config: ScriptTrainConfig,
    *,
    resume: bool = False,
    device: torch.device = torch.device("cpu"),
    progress: bool = True,
    log: Callable[[str], None] = print,
    stop_at: int | None = None,
    trust_pickle: bool = False,
) -> dict:
    """Train (or resume training) a model on `corpus` into the folder `out`; returns the training record.

    `stop_at` ends this session at that step (saving there), as an interruption would; the learning-rate
    schedule still spans `config.steps`, and resuming with the same settings continues exactly as an
    unbroken run would. `trust_pickle` allows a base (or resumed) model whose weights are pickle files.
    """
    out = Path(out)
    _recover_interrupted_save(out)
    if resume:
        model, tokenizer, state = _load_for_resume(out, config, trust_pickle=trust_pickle)
    else:
        if out.exists():
            raise ReelganError(f"{out} already exists; add --resume to continue training it, or choose a new --out")
        config.check()
        model, tokenizer, base_sha256 = _starting_model(corpus, config, trust_pickle=trust_pickle)
        state = {"step": 0, "history": [], "base_sha256": base_sha256}
    streams = tokenize_corpus(corpus, tokenizer, config.context)
    fingerprint = _fingerprint(streams.train)
    if resume and state.get("corpus_sha256") not in (None, fingerprint):
        raise ReelganError(f"the corpus differs from the one {out} was trained on; resume with the same corpus "
                           "and settings, or start a new --out")
    model.to(device).train()
    optimizer = _optimizer(model, config)
    if resume:
        _restore(out / STATE_FILE, state, optimizer, device)
    else:
        torch.manual_seed(config.seed)
    history = state["history"]
    start = state["step"]
    adapters = f" ({trainable_count(model):,} in LoRA adapters of rank {config.lora})" if config.lora else ""
    log(f"training on {len(streams.train):,} tokens ({streams.documents} documents, "
        f"{len(streams.validation):,} held out), {_parameter_count(model):,} parameters{adapters}, "
        f"steps {start}-{config.steps}")
    from ..progress import TrainingProgress

    started, tokens = time.perf_counter(), 0
    with TrainingProgress(config.steps, start, enabled=progress, shown_stats=("loss", "val_loss")) as bar:
        end = config.steps if stop_at is None else min(config.steps, max(stop_at, start + 1))
        for step in range(start, end):
            loss = _train_step(model, optimizer, streams.train, step, config, device)
            tokens += config.batch_size * config.context
            if (step + 1) % config.save_every == 0 or step + 1 == end:
                elapsed = time.perf_counter() - started
                row = {"step": step + 1, "loss": loss, "seconds": round(elapsed, 2),
                       "tokens_per_s": round(tokens / max(elapsed, 1e-9), 1),
                       "steps_per_s": (step + 1 - start) / max(elapsed, 1e-9)}
                val = validation_loss(model, streams.validation, config.context, device)
                if val is not None:
                    row["val_loss"] = val
                history.append(row)
                _save(out, model, tokenizer, optimizer, config, history, step + 1, fingerprint, corpus,
                      state.get("base_sha256"))
                bar.update(step + 1, row)
            else:
                bar.update(step + 1)
    return _record(config, history, corpus, streams, model)


def _train_step(model: Any, optimizer: torch.optim.Optimizer, stream: torch.Tensor, step: int,
                config: ScriptTrainConfig, device: torch.device) -> float:
    """One optimizer step on the batch of `step`; returns its loss (nats per token)."""
    for group in optimizer.param_groups:
        group["lr"] = learning_rate(step, config)
    inputs, targets = batch_at(stream, step, config)
    logits = model(input_ids=inputs.to(device)).logits          # [batch, context, vocab]
    loss = torch.nn.functional.cross_entropy(logits.flatten(0, 1), targets.flatten().to(device))
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    return float(loss.detach())


def _starting_model(corpus: Corpus, config: ScriptTrainConfig, *, trust_pickle: bool = False
                    ) -> tuple[Any, Any, str | None]:
    """The model to train, its tokenizer and the sha256 of the base's weights (None from scratch)."""
    if config.base is None:
        tokenizer = train_tokenizer(corpus, config.vocab_size)
        return new_model(config, tokenizer), tokenizer, None
    from .model import load_language_model

    base = load_language_model(config.base, trust_pickle=trust_pickle)
    if config.context > base.context_length:
        raise ReelganError(f"--context {config.context} is longer than {config.base}'s {base.context_length} "
                           "positions; lower --context")
    torch.manual_seed(config.seed)
    if config.lora:
        return add_adapters(base.model, config.lora, config.lora_alpha), base.tokenizer, base.sha256
    return base.model, base.tokenizer, base.sha256


def _optimizer(model: Any, config: ScriptTrainConfig) -> torch.optim.Optimizer:
    """AdamW with weight decay on matrices only (not biases, norms)."""
    decay = [p for p in model.parameters() if p.requires_grad and p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.requires_grad and p.dim() < 2]
    groups = [{"params": decay, "weight_decay": config.weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=config.lr, betas=(0.9, 0.95))


def _parameter_count(model: Any) -> int:
    return sum(p.numel() for p in model.parameters())


def _fingerprint(stream: torch.Tensor) -> str:
    import hashlib

    return hashlib.sha256(stream.numpy().tobytes()).hexdigest()


def _save(out: Path, model: Any, tokenizer: Any, optimizer: torch.optim.Optimizer, config: ScriptTrainConfig,
          history: list[dict], step: int, fingerprint: str, corpus: Corpus, base_sha256: str | None) -> None:
    """Write the model folder beside `out`, then swap it in, so `out` is always a whole save."""
    saving = out.with_name(out.name + ".saving")
    shutil.rmtree(saving, ignore_errors=True)
    if config.lora:
        save_with_adapters(model, saving)
    else:
        model.save_pretrained(saving)
    tokenizer.save_pretrained(saving)
    state = {"format": STATE_FORMAT, "step": step, "optimizer": optimizer.state_dict(),
             "rng": torch.get_rng_state(),
             "cuda_rng": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None,
             "config": asdict(config), "history": history, "corpus_sha256": fingerprint, "base_sha256": base_sha256}
    torch.save(state, saving / STATE_FILE)
    record = {"reelgan_version": __version__, "step": step, "config": asdict(config), "history": history,
              "corpus": sorted(set(corpus.sources))[:100], "corpus_sha256": fingerprint, "base_sha256": base_sha256}
    (saving / RECORD_FILE).write_text(json.dumps(record, indent=2) + "\n")
    old = out.with_name(out.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if out.exists():
        os.replace(out, old)
    os.replace(saving, out)
    shutil.rmtree(old, ignore_errors=True)


def _recover_interrupted_save(out: Path) -> None:
    """If a save was cut off between its two renames, put the previous whole save back."""
    old = out.with_name(out.name + ".old")
    if not out.exists() and old.is_dir():
        os.replace(old, out)
    shutil.rmtree(out.with_name(out.name + ".saving"), ignore_errors=True)


def saved_config(out: Path) -> dict:
    """The settings a model folder was trained with (from its reelgan-training.json); {} when unknown."""
    try:
        return dict(json.loads((Path(out) / RECORD_FILE).read_text())["config"])
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def check_resume_settings(out: Path, given: dict[str, Any]) -> None:
    """Refuse settings that differ from those the model in `out` was trained with (only steps and save_every may
    change on a resume); `given` maps ScriptTrainConfig fields to the values asked for."""
    saved = saved_config(out)
    for name, value in given.items():
        if name not in ("steps", "save_every") and name in saved and saved[name] != value:
            flag = "--format" if name == "text_format" else f"--{name.replace('_', '-')}"
            raise ReelganError(f"{flag} {value} differs from the {saved[name]} {out} was trained with; resuming "
                               f"keeps its settings: drop {flag}")


def _load_for_resume(out: Path, config: ScriptTrainConfig, *, trust_pickle: bool = False
                     ) -> tuple[Any, Any, dict]:
    """The saved model, tokenizer and state; `config` takes the saved settings except `steps`/`save_every`."""
    if not (out / STATE_FILE).is_file():
        raise ReelganError(f"{out} holds no training state to resume ({STATE_FILE}); drop --resume to start "
                           "a new model in another --out")
    state = read_training_state(out / STATE_FILE)
    for field in fields(ScriptTrainConfig):
        if field.name in state["config"] and field.name not in ("steps", "save_every"):
            setattr(config, field.name, state["config"][field.name])
    config.check()
    if state["step"] >= config.steps:
        raise ReelganError(f"{out} is already trained for {state['step']} steps; raise --steps to train further")
    from .model import load_language_model

    if config.lora:  # the adapters go back on a fresh copy of the base, not on the merged model
        base = load_language_model(config.base, trust_pickle=trust_pickle)
        if state.get("base_sha256") not in (None, base.sha256):
            raise ReelganError(f"--base {config.base} is not the model {out} was trained from (its weights differ); "
                               "put that base back, or start a new model in another --out")
        return load_adapters(base.model, out), base.tokenizer, state
    loaded = load_language_model(str(out), trust_pickle=trust_pickle)
    return loaded.model, loaded.tokenizer, state


_RESTART = "start a new model in another --out (or resume from a copy of the folder made before)"


def read_training_state(path: Path) -> dict:
    """The training state in `path`, read without unpickling code, with every field checked.

    A file holding anything but tensors and plain data, a damaged file, or one whose fields are missing or
    of the wrong type is a ReelganError naming the file.
    """
    import pickle

    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        if "unsupported global" not in str(exc).lower():  # no refused object: the bytes are just damaged
            raise ReelganError(f"{path} is damaged (not a training state reelgan can read); {_RESTART}") from None
        raise ReelganError(f"{path} holds objects other than tensors and plain data, which reelgan does not "
                           f"open (they could run code), and reelgan never writes them: {_RESTART}") from None
    except Exception:  # torch raises many kinds for a truncated or foreign file
        raise ReelganError(f"{path} is damaged (not a training state reelgan can read); {_RESTART}") from None
    if not isinstance(state, dict):
        raise ReelganError(f"{path} is not a reelgan training state (it holds a {type(state).__name__}); "
                           f"{_RESTART}")
    if state.get("format", STATE_FORMAT) != STATE_FORMAT:
        raise ReelganError(f"{path} is a training state of another format ({state.get('format')!r}); "
                           f"{_RESTART}")

    def wrong(key: str, expected: str) -> ReelganError:
        found = type(state[key]).__name__ if key in state else "missing"
        return ReelganError(f"{path} is not a whole training state: {key!r} should be {expected} but is "
                            f"{found}; {_RESTART}")

    if not isinstance(state.get("step"), int) or isinstance(state["step"], bool) or state["step"] < 0:
        raise wrong("step", "a step count")
    optimizer = state.get("optimizer")
    if not (isinstance(optimizer, dict) and isinstance(optimizer.get("state"), dict)
            and isinstance(optimizer.get("param_groups"), list)):
        raise wrong("optimizer", "an optimizer state (state and param_groups)")
    rng = state.get("rng")
    if not (isinstance(rng, torch.Tensor) and rng.dtype == torch.uint8 and rng.dim() == 1):
        raise wrong("rng", "a random generator state (a byte tensor)")
    cuda_rng = state.get("cuda_rng")
    if cuda_rng is not None and not (isinstance(cuda_rng, list) and all(
            isinstance(t, torch.Tensor) and t.dtype == torch.uint8 for t in cuda_rng)):
        raise wrong("cuda_rng", "a list of random generator states")
    if not isinstance(state.get("config"), dict):
        raise wrong("config", "the training settings")
    if not (isinstance(state.get("history"), list) and all(isinstance(row, dict) for row in state["history"])):
        raise wrong("history", "a list of logged steps")
    for key in ("corpus_sha256", "base_sha256"):
        if not isinstance(state.get(key), (str, type(None))):
            raise wrong(key, "a sha256")
    defaults = ScriptTrainConfig()
    for field in fields(ScriptTrainConfig):
        if field.name not in state["config"]:
            continue
        value, default = state["config"][field.name], getattr(defaults, field.name)
        allowed, kind = ((int, float), "a number") if isinstance(default, float) else \
            ((str, type(None)), "text or null") if default is None else \
            ((str,), "text") if isinstance(default, str) else ((int,), "a whole number")
        if isinstance(value, bool) or not isinstance(value, allowed):
            raise ReelganError(f"{path} is not a whole training state: setting {field.name!r} is "
                               f"{value!r:.40}, not {kind}; {_RESTART}")
    return state


def _restore(path: Path, state: dict, optimizer: torch.optim.Optimizer, device: torch.device) -> None:
    """Put the saved optimizer and RNG states back; ReelganError when they do not fit this model."""
    try:
        optimizer.load_state_dict(state["optimizer"])
    except (ValueError, KeyError, TypeError, IndexError, RuntimeError) as exc:
        detail = str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__
        raise ReelganError(f"{path} does not fit the model beside it ({detail}); {_RESTART}") from None
    try:
        torch.set_rng_state(state["rng"])
        if device.type == "cuda" and state.get("cuda_rng"):
            torch.cuda.set_rng_state_all(state["cuda_rng"])
    except (RuntimeError, ValueError, TypeError) as exc:
        detail = str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__
        raise ReelganError(f"{path} holds a damaged random generator state ({detail}); {_RESTART}") from None


def _record(config: ScriptTrainConfig, history: list[dict], corpus: Corpus, streams: TokenStreams,
            model: Any) -> dict:
    return {"config": asdict(config), "history": history, "parameters": _parameter_count(model),
            "trainable_parameters": trainable_count(model),
            "train_tokens": len(streams.train), "validation_tokens": len(streams.validation),
            "documents": streams.documents}
