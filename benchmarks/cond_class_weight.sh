#!/usr/bin/env bash
# Class conditioning: the projection critic alone against the auxiliary class loss (--class-weight), same data,
# seed and wall time, one after the other in one invocation, each then measured by cond_distinctness.py (class
# change / seed change, nearest-class-mean accuracy and its real ceiling, intra-FID) and by `reelgan metrics`
# (overall FID, precision/recall) in the dataset's domain extractor's space.
#
#   [DATA=SOURCE] [SEED=0] benchmarks/cond_class_weight.sh WORK_DIR EXTRACTOR [MINUTES] [WEIGHTS...]
#   benchmarks/cond_class_weight.sh /work/bench/cond /work/bench/extractors/omniglot-32.safetensors 5 0 1
#   DATA=/work/bench/fashion-labelled.npz benchmarks/cond_class_weight.sh /work/bench/cond-fashion \
#       /work/bench/extractors/fashion-mnist-32.safetensors 5 0 1
#
# DATA is any labelled reelgan source (default: Omniglot's 30 alphabets); an .npz with arrays x (N, H, W) and
# labels (N,) is one.
set -euo pipefail
work=$1; extractor=$2; minutes=${3:-5}; shift $(( $# < 3 ? $# : 3 ))
weights=("$@"); [ $# -eq 0 ] && weights=(0 1)
data=${DATA:-$(dirname "$0")/../../shared/data/omniglot_background.zip}
seed=${SEED:-0}
mkdir -p "$work"
if [ ! -f "$extractor" ]; then
    python -m reelgan metrics train-extractor "$data" --resolution 32 --channels 1 --steps 600 --seed 0 \
        --out "$extractor"
fi
for weight in "${weights[@]}"; do
    runs="$work/weight-$weight-seed-$seed"
    python -m reelgan train --data "$data" --cond --class-weight "$weight" --max-minutes "$minutes" \
        --steps 1000000 --seed "$seed" --out "$runs" > "$runs.log" 2>&1
    run=$(ls -d "$runs"/*/ | head -1)
    echo "class_weight $weight, seed $seed: $run"
    python benchmarks/cond_distinctness.py "$run" --data "$data" --extractor "$extractor" --seeds 64
    python -m reelgan metrics "$run" --data "$data" --extractor "$extractor" --metrics fid,kid,pr --n 5000 \
        --json "$run/metrics.json" | tail -3
done
