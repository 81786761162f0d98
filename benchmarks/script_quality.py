"""Do screenplay drafts stay on the story? Structure, names, place and variety of drafts from loglines.

For each model (default: the bundled Shakespeare model and `smollm2`) and each of the loglines below
(varied genres, each naming its characters and a place), --drafts drafts with fixed seeds (draft i of
logline j: seed 1000 * j + i), through `write_draft` exactly as `reelgan script` makes them. Per model:

- `structured`: share of drafts that parse into at least one scene with a heading, an action paragraph and
  two or more speeches under named cues;
- `names_kept`: share of drafts in which every character the logline names has a cue (the name, or a cue
  holding its words: GRANDPA JOE for JOE); `place_kept`: share whose first heading holds the logline's place;
  `on_prompt`: both; `prompt_overlap`: share of the logline's other content words that the model's lines use;
- `distinct_2`: distinct word bigrams / bigrams over the model's lines (mean per draft);
  `longest_repeat`: the longest word n-gram that occurs twice in a draft's model lines (mean and max);
- `tokens_per_s`, `seconds_per_draft` (mean) and `load_seconds`.

    OMP_NUM_THREADS=2 python benchmarks/script_quality.py --out benchmarks/results/script-quality.json
    python benchmarks/script_quality.py --loglines 20 --drafts 1 --models smollm2   # a shorter run
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from pathlib import Path

import torch

# (logline, characters it names (as cues), a word of its place)
LOGLINES = [
    ("Detective Rosa Alvarez questions a nervous chef named Tomas in the kitchen of a Paris bistro at midnight.",
     ["ROSA ALVAREZ", "TOMAS"], "KITCHEN"),
    ("Captain Reyes and her engineer Malik argue about abandoning ship on the bridge of a failing starship.",
     ["CAPTAIN REYES", "MALIK"], "BRIDGE"),
    ("Two sisters, June and Ellie, fight over selling the family farm in the farmhouse kitchen at night.",
     ["JUNE", "ELLIE"], "FARMHOUSE"),
    ("A linguist named Louise meets the visitors for the first time in a vast shell-shaped chamber at dawn.",
     ["LOUISE"], "CHAMBER"),
    ("Old friends Ben and Lucy meet again at Blackwood Manor after their father's funeral.",
     ["BEN", "LUCY"], "BLACKWOOD MANOR"),
    ("Marcus confesses to his boss Diane that he lost the client's money, in her office at dusk.",
     ["MARCUS", "DIANE"], "OFFICE"),
    ("Ripley and Parker hunt the creature through the cargo hold aboard the Nostromo.",
     ["RIPLEY", "PARKER"], "NOSTROMO"),
    ("A nervous teenager, Sam, asks Maya to the prom in the school library.",
     ["SAM", "MAYA"], "LIBRARY"),
    ("Grandpa Joe teaches his grandson Leo to fish on the pier at sunrise.",
     ["JOE", "LEO"], "PIER"),
    ("Sheriff Cole faces the outlaw Jesse Kane in the main street of a dusty town at noon.",
     ["SHERIFF COLE", "JESSE KANE"], "STREET"),
    ("Nadia, a hacker, breaks into a bank's servers while her partner Viktor keeps watch in a parked car.",
     ["NADIA", "VIKTOR"], "CAR"),
    ("Elena tells Pablo she is leaving for Madrid, in the cafe where they first met, on a rainy morning.",
     ["ELENA", "PABLO"], "CAFE"),
    ("Dr. Okafor tells Hannah the test results in a quiet hospital corridor at night.",
     ["OKAFOR", "HANNAH"], "CORRIDOR"),
    ("Two rival bakers, Gus and Priya, sabotage each other's cakes in the bakery before the contest.",
     ["GUS", "PRIYA"], "BAKERY"),
    ("Knight Aldric begs Queen Isolde for an army in the throne room of the castle.",
     ["ALDRIC", "QUEEN ISOLDE"], "CASTLE"),
    ("Zoe finds her missing brother Theo hiding in the abandoned warehouse at the docks.",
     ["ZOE", "THEO"], "WAREHOUSE"),
    ("Coach Miller gives the losing team a speech in the locker room of the gym at halftime.",
     ["COACH MILLER"], "GYM"),
    ("Mara waits for Tom in the kitchen of their small flat while the storm rages outside.",
     ["MARA", "TOM"], "KITCHEN"),
    ("Professor Lin and her student Arjun decode an alien signal in the observatory lab at midnight.",
     ["LIN", "ARJUN"], "LAB"),
    ("Ghost hunters Kat and Dev spend the night in a haunted motel on the highway.",
     ["KAT", "DEV"], "MOTEL"),
    ("Frank, a retired boxer, trains the young fighter Rosie in a run-down gym in Brooklyn.",
     ["FRANK", "ROSIE"], "GYM"),
    ("Amira and her husband Karim bargain for a carpet in the crowded marketplace of Marrakesh.",
     ["AMIRA", "KARIM"], "MARKETPLACE"),
]


def ngrams(words: list[str], n: int) -> list[tuple[str, ...]]:
    """The word n-grams of `words`, in order."""
    return [tuple(words[i:i + n]) for i in range(len(words) - n + 1)]


def distinct_2(words: list[str]) -> float:
    """Distinct bigrams over bigrams (1.0: no bigram repeats; 0.0 when there are none)."""
    grams = ngrams(words, 2)
    return len(set(grams)) / len(grams) if grams else 0.0


def longest_repeat(words: list[str]) -> int:
    """The length of the longest word n-gram that occurs at least twice."""
    best = 0
    for n in range(1, len(words)):
        grams = ngrams(words, n)
        if len(set(grams)) == len(grams):
            break
        best = n
    return best


def names_kept(names: list[str], cues: set[str]) -> bool:
    """Whether every named character speaks: a cue is the name, or holds all its words ("GRANDPA JOE" for JOE)."""
    return all(any(set(name.split()) <= set(cue.split()) for cue in cues) for name in names)


STOPWORDS = set("""about after again against along among around because before behind being below beneath beside
between beyond could during every from have having into just more most much must never only other over same
should since some such than that their them then there these they this those through under until upon very
were what when where which while whom whose will with within without would your""".split())


def prompt_words(logline: str, names: list[str]) -> set[str]:
    """The logline's content words (4 letters or more, not stop words, not the characters' names), as
    5-letter stems so that "argue" finds "arguing"."""
    named = {part.lower() for name in names for part in name.split()}
    words = {w.strip(".,;:!?'\"()").lower() for w in logline.split()}
    return {w[:5] for w in words if len(w) >= 4 and w.isalpha() and w not in STOPWORDS and w not in named}


def prompt_overlap(logline: str, names: list[str], model_words: list[str]) -> float:
    """Share of the logline's content words (`prompt_words`) that the model's own lines use."""
    wanted = prompt_words(logline, names)
    stems = {w.strip(".,;:!?'\"()-")[:5] for w in model_words}
    return len(wanted & stems) / len(wanted) if wanted else 1.0


def draft_scores(draft, names: list[str], place: str, logline: str = "") -> dict:
    """Structure, names, place and variety of one draft (its model-written lines for the last two)."""
    from reelgan.script.fountain import Screenplay, parse, write

    screenplay = parse(write(Screenplay(elements=draft.elements)))
    structured = False
    for scene in screenplay.scenes():
        kinds = [e.kind for e in scene.elements]
        named = [e for e in scene.elements if e.kind == "character" and e.text.strip()]
        structured |= scene.heading is not None and "action" in kinds and len(named) >= 2 and (
            kinds.count("dialogue") >= 2)
    cues = {e.text for e in draft.elements if e.kind == "character"}
    headings = [e.text for e in draft.elements if e.kind == "scene_heading"]
    model_text = " ".join(e.text for e, s in zip(draft.elements, draft.sources) if s == "model")
    words = model_text.lower().split()
    kept_names, kept_place = names_kept(names, cues), bool(headings) and place in headings[0]
    return {"structured": structured, "names_kept": kept_names, "place_kept": kept_place,
            "on_prompt": kept_names and kept_place, "distinct_2": distinct_2(words),
            "longest_repeat": longest_repeat(words), "new_tokens": draft.new_tokens,
            "prompt_overlap": prompt_overlap(logline, names, words)}


def benchmark_model(name: str, loglines: list, drafts: int, max_new_tokens: int, samples_out: list) -> dict:
    """Every score of `draft_scores` over the loglines' drafts, with load time and speed."""
    from reelgan.errors import ReelganError
    from reelgan.script.draft import SamplingConfig
    from reelgan.script.model import load_language_model
    from reelgan.script.scene_writer import write_draft

    start = time.perf_counter()
    lm = load_language_model(name)
    load_seconds = time.perf_counter() - start
    rows, seconds = [], []
    for j, (logline, names, place) in enumerate(loglines):
        for i in range(drafts):
            sampling = SamplingConfig(max_new_tokens=max_new_tokens, seed=1000 * j + i)
            start = time.perf_counter()
            try:
                draft = write_draft(lm, logline, sampling)
            except ReelganError as error:  # no usable text: counts as a draft that fails every check
                rows.append({"structured": False, "names_kept": False, "place_kept": False, "on_prompt": False,
                             "distinct_2": 0.0,
                             "longest_repeat": 0, "new_tokens": 0, "prompt_overlap": 0.0, "error": str(error)})
                seconds.append(time.perf_counter() - start)
                continue
            seconds.append(time.perf_counter() - start)
            rows.append(draft_scores(draft, names, place, logline))
            if i == 0:
                from reelgan.script.fountain import Screenplay, write

                samples_out.append({"model": name, "logline": logline,
                                    "fountain": write(Screenplay(elements=draft.elements))})
    share = lambda key: round(sum(bool(r[key]) for r in rows) / len(rows), 3)  # noqa: E731
    tokens = sum(r["new_tokens"] for r in rows)
    return {"model": lm.display_name, "sha256": lm.sha256, "drafts": len(rows),
            "structured": share("structured"), "names_kept": share("names_kept"), "place_kept": share("place_kept"),
            "on_prompt": share("on_prompt"),
            "prompt_overlap": round(statistics.mean(r["prompt_overlap"] for r in rows), 3),
            "distinct_2": round(statistics.mean(r["distinct_2"] for r in rows), 3),
            "longest_repeat_mean": round(statistics.mean(r["longest_repeat"] for r in rows), 2),
            "longest_repeat_max": max(r["longest_repeat"] for r in rows),
            "tokens_per_s": round(tokens / sum(seconds), 1), "seconds_per_draft": round(statistics.mean(seconds), 2),
            "new_tokens_mean": round(tokens / len(rows), 1), "load_seconds": round(load_seconds, 2),
            "errors": sum(1 for r in rows if "error" in r)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", default=["bundled", "smollm2"])
    parser.add_argument("--loglines", type=int, default=len(LOGLINES), help="use the first N loglines")
    parser.add_argument("--drafts", type=int, default=3, help="drafts per logline")
    parser.add_argument("--max-new-tokens", type=int, default=200)
    parser.add_argument("--out", help="write the results here as JSON")
    parser.add_argument("--samples", help="also write each logline's first draft per model here as JSON")
    args = parser.parse_args()
    import transformers

    results = {"machine": f"{platform.machine()}, {torch.get_num_threads()} torch threads, torch {torch.__version__}",
               "transformers": transformers.__version__, "loglines": args.loglines, "drafts_per_logline": args.drafts,
               "max_new_tokens": args.max_new_tokens, "models": []}
    samples: list = []
    for name in args.models:
        results["models"].append(benchmark_model(name, LOGLINES[:args.loglines], args.drafts, args.max_new_tokens,
                                                 samples))
        print(json.dumps(results["models"][-1]), flush=True)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(results, indent=2) + "\n")
    if args.samples:
        Path(args.samples).write_text(json.dumps(samples, indent=1, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
