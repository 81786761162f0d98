#!/bin/bash
# Render speed of this tree against an older one, alternating over two rounds (so that a drift in the
# machine's speed hits both alike): one MP4, and per-shot media with temp dialogue, on film_speed.py's film.
#   git worktree add /tmp/reelgan-old COMMIT && benchmarks/film_ab.sh /tmp/reelgan-old results-folder
set -e
old=$1; out=${2:-.}
new=$(cd "$(dirname "$0")/.." && pwd)
for round in 1 2; do
  for code in new old; do
    if [ $code = new ]; then root=$new; else root=$old; fi
    PYTHONPATH=$root/src:$new/benchmarks python "$new/benchmarks/film_shots_speed.py" --rounds 1 \
      --variants "one MP4 (the default)" "per-shot media + voice" --out "$out/film-ab-$code-r$round.json"
  done
done
