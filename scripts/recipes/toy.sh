#!/usr/bin/env bash
# web/weights/toy.bpk: the lecture's 1-D convnet, one run from scratch (50,000 training
# sequences, 20 epochs, batch 100, lr 1e-3). About 45 s on 2 CPU cores (90 s when first run).
# Usage: scripts/recipes/toy.sh [DEST]
source "$(dirname "$0")/common.sh"
train toy --device flex --seed 0 --out "$dest/toy.bpk"
