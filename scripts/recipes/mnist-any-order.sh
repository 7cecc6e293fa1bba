#!/usr/bin/env bash
# web/weights/mnist-any-order.bpk: our U-Net of pre-activation residual blocks, one run from
# scratch at the model's defaults (75 epochs of the 10,000 training images, batch 64, Adam with
# lr 2e-3 after a 200-step warm-up and a cosine to zero, mask mix 0.4 uniform, 0.35 prefix,
# 0.25 region), seed 0, evaluated on the first 100 test images. 84 minutes on 2 CPU cores,
# 2026-12-07 (docs/experiments.md). Usage: scripts/recipes/mnist-any-order.sh [DEST]
source "$(dirname "$0")/common.sh"
train mnist-any-order --device flex --seed 0 --eval-images 100 --out "$dest/mnist-any-order.bpk"
