#!/usr/bin/env bash
# web/weights/toy-any-order.bpk: our dilated 1-D convnet, one run from scratch on fresh toy
# sequences every batch (130 epochs of 50,000), mask mix 0.3 uniform, 0.7 prefix, seed 11.
# About 72 minutes on 2 CPU cores. Usage: scripts/recipes/toy-any-order.sh [DEST]
source "$(dirname "$0")/common.sh"
train toy-any-order --device flex --seed 11 --epochs 130 --lr 1e-3 --mask-mix 0.3,0.7,0 --out "$dest/toy-any-order.bpk"
