"""How quickly the studio answers a click: from the request to the JSON of a new grid of 16 samples.

Starts the studio's real server on a free port over a temporary runs folder holding the generators given
(and an untrained 64 px generator at the default widths, since timing does not depend on training), then
times, through HTTP as the page does: a new grid of 16, children (8), a crossover (8), "more like my picks"
(16, after 4 likes and 4 dislikes), and one slider move (the live preview). Median and worst of `--repeats`.

    python benchmarks/studio_speed.py --generator logograms-32=/path/run-or-export --repeats 5
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import tempfile
import time
import urllib.request
from pathlib import Path

import torch


def post(url: str, params: dict) -> dict:
    request = urllib.request.Request(url, data=json.dumps(params).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=120) as response:
        return json.loads(response.read())


def untrained_export(folder: Path, resolution: int) -> None:
    """preference.py's untrained default-width generator at `resolution`, exported to `folder`."""
    from preference import untrained

    from reelgan.gan.generator import export_generator

    G = untrained(resolution)
    export_generator(G.net, G.spec, folder)


def time_run(url: str, run: str, repeats: int) -> dict[str, dict[str, float]]:
    """Seconds per request kind for one run folder."""
    api = url + "api/explore/"
    seconds: dict[str, list[float]] = {k: [] for k in ("grid 16", "children 8", "crossover 8", "suggest 16",
                                                       "slider move")}
    first = post(api + "grid", {"run": run, "n": 16, "seed": 0})["samples"]
    for k, sample in enumerate(first[:8]):
        post(api + "rate", {"run": run, "id": sample["id"], "liked": k % 2 == 0})
    post(api + "directions", {"run": run, "count": 6})  # the page asks for them when a sample is selected
    for repeat in range(repeats):
        for name, action, params in (
            ("grid 16", "grid", {"n": 16, "seed": 100 + 16 * repeat}),
            ("children 8", "children", {"of": first[0]["id"], "n": 8}),
            ("crossover 8", "crossover", {"of": [first[0]["id"], first[2]["id"]], "n": 8}),
            ("suggest 16", "suggest", {"n": 16}),
            ("slider move", "move", {"of": first[0]["id"], "amounts": [1.5 * repeat, 0, 0, 0, 0, 0]}),
        ):
            start = time.perf_counter()
            post(api + action, {"run": run, **params})
            seconds[name].append(time.perf_counter() - start)
    return {name: {"median_s": round(statistics.median(v), 3), "worst_s": round(max(v), 3)}
            for name, v in seconds.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--generator", action="append", default=[], metavar="NAME=PATH")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    from reelgan.studio import Studio, make_server, serve_in_thread, url_of

    results = {"threads": args.threads, "repeats": args.repeats, "runs": {}}
    with tempfile.TemporaryDirectory() as tmp:
        runs = Path(tmp) / "runs"
        names = []
        for k, item in enumerate(args.generator, 1):
            name, _, path = item.partition("=")
            folder = runs / f"{k:05d}-{name}"
            source = Path(path)
            folder.mkdir(parents=True)
            if source.suffix == ".safetensors":
                shutil.copy(source, folder / "generator.safetensors")
                shutil.copy(source.with_suffix(".json"), folder / "generator.json")
            else:
                shutil.copytree(source, folder, dirs_exist_ok=True)
            names.append(folder.name)
        untrained_export(runs / "09999-untrained-64px", 64)
        names.append("09999-untrained-64px")
        server = make_server(Studio(runs), "127.0.0.1", 0)
        serve_in_thread(server)
        try:
            for name in names:
                results["runs"][name] = time_run(url_of(server), name, args.repeats)
                print(name, json.dumps(results["runs"][name]), flush=True)
        finally:
            server.shutdown()
            server.server_close()
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
