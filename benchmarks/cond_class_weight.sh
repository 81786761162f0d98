#!/usr/bin/env bash
# Class conditioning on Omniglot's 30 alphabets: the projection critic alone against the auxiliary class loss
# (--class-weight), same data, seed and wall time, one after the other in one invocation, each then measured by
# cond_distinctness.py (class change / seed change, nearest-class-mean accuracy and its real ceiling, intra-FID)
# and by `reelgan metrics` (overall FID, precision/recall) in the Omniglot domain extractor's space.
#
#   benchmarks/cond_class_weight.sh WORK_DIR EXTRACTOR [MINUTES] [WEIGHTS...]
#   benchmarks/cond_class_weight.sh /work/bench/cond /work/bench/extractors/omniglot-32.safetensors 5 0 1
set -euo pipefail
work=$1; extractor=$2; minutes=${3:-5}; shift $(( $# < 3 ? $# : 3 ))
weights=("$@"); [ $# -eq 0 ] && weights=(0 1)
data=${OMNIGLOT:-$(dirname "$0")/../../shared/data/omniglot_background.zip}
mkdir -p "$work"
if [ ! -f "$extractor" ]; then
    python -m reelgan metrics train-extractor "$data" --resolution 32 --channels 1 --steps 600 --seed 0 \
        --out "$extractor"
fi
for weight in "${weights[@]}"; do
    runs="$work/weight-$weight"
    python -m reelgan train --data "$data" --cond --class-weight "$weight" --max-minutes "$minutes" \
        --steps 1000000 --out "$runs" > "$runs.log" 2>&1
    run=$(ls -d "$runs"/*/ | head -1)
    echo "class_weight $weight: $run"
    python benchmarks/cond_distinctness.py "$run" --data "$data" --extractor "$extractor" --seeds 64
    python -m reelgan metrics "$run" --data "$data" --extractor "$extractor" --metrics fid,kid,pr --n 5000 \
        --json "$run/metrics.json" | tail -3
done
