#!/bin/sh
# Content/style figures: CVAE, split and a plain VAE (8-D code, class-mean shift) on MNIST,
# 30 epochs each, seeds 1-3. Usage: LATENTLAB_BIN=... run.sh OUT_DIR
set -eu
out=${1:-runs/styles}
bin=${LATENTLAB_BIN:-latentlab}
for seed in 1 2 3; do
  for model in cvae split vae; do
    extra=""
    [ "$model" = vae ] && extra="--latent 8"
    echo "== $model seed $seed"
    $bin train --model $model $extra --epochs 30 --seed $seed --out "$out/$model-$seed" 2>&1 |
      grep -E "style swap|probes|finished"
  done
done
