#!/usr/bin/env bash
# web/weights/mnist.bpk: the lecture's LeNet-like convnet in three runs, each from the weights of
# the one before (--init: a fresh optimizer and cosine schedule), all at batch 100, seed 0.
# About 20 minutes of training on 2 CPU cores at today's 3,000 images/s (98 minutes when first
# run, before our kernels: see docs/experiments.md). Usage: scripts/recipes/mnist.sh [DEST]
source "$(dirname "$0")/common.sh"
train mnist --device flex --seed 0 --epochs 100 --out "$dest/stage1.bpk"
train mnist --device flex --seed 0 --init "$dest/stage1.bpk" --epochs 60 --lr 5e-4 --out "$dest/stage2.bpk"
train mnist --device flex --seed 0 --init "$dest/stage2.bpk" --epochs 200 --lr 7e-4 --out "$dest/mnist.bpk"
