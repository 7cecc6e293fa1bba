#!/usr/bin/env bash
# web/weights/mnist-any-order.bpk: our U-Net in six warm-started stages (--init: a fresh
# optimizer and cosine schedule each), batch 50, seed 0, evaluated on the first 100 test images.
# 3 h 26 min on 2 CPU cores when first run (stages 1-5 beside other work); see
# docs/experiments.md. Usage: scripts/recipes/mnist-any-order.sh [DEST]
source "$(dirname "$0")/common.sh"
stage() { # N EPOCHS LR MIX [OPTIONS]
  local n=$1 epochs=$2 lr=$3 mix=$4; shift 4
  local out="$dest/stage$n.bpk"
  [ "$n" = 6 ] && out="$dest/mnist-any-order.bpk"
  train mnist-any-order --device flex --seed 0 --batch-size 50 --eval-images 100 \
    --epochs "$epochs" --lr "$lr" --mask-mix "$mix" --out "$out" "$@"
}
stage 1 45 1e-3 0.4,0.35,0.25
stage 2 12 5e-4 0.4,0.35,0.25 --init "$dest/stage1.bpk"
stage 3 24 4e-4 0.35,0.45,0.2 --init "$dest/stage2.bpk"
stage 4 24 3e-4 0.35,0.45,0.2 --init "$dest/stage3.bpk"
stage 5 12 2.5e-4 0.3,0.5,0.2 --init "$dest/stage4.bpk"
stage 6 60 4e-4 0.4,0.4,0.2 --init "$dest/stage5.bpk"
