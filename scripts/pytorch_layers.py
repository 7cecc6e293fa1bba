"""The lecture's MNIST layers one at a time in PyTorch, at batch 100: the peer of
`trainer bench --layers` (same shapes, same inputs' sizes, same meaning of each column).

    OMP_WAIT_POLICY=PASSIVE python scripts/pytorch_layers.py [--threads 2] [--reps 20]
"""
import argparse, time
import torch, torch.nn as nn, torch.nn.functional as F

ap = argparse.ArgumentParser(); ap.add_argument("--threads", type=int, default=2); ap.add_argument("--reps", type=int, default=20)
a = ap.parse_args(); torch.set_num_threads(a.threads)
conv1, conv2, fc1 = nn.Conv2d(2, 32, 3), nn.Conv2d(32, 64, 5), nn.Linear(64 * 81, 512)
image = torch.randn(100, 2, 28, 28)
conv_out = torch.randn(100, 32, 26, 26, requires_grad=True)
pooled = torch.randn(100, 32, 13, 13, requires_grad=True)
features = torch.randn(100, 64 * 81, requires_grad=True)

def ms(f):
    f(); t0 = time.perf_counter()
    for _ in range(a.reps): f()
    return (time.perf_counter() - t0) / a.reps * 1000

rows = [
    ("conv1 (2->32, 3x3, 28x28)", lambda: conv1(image), lambda: conv1(image).sum().backward()),
    ("max pool 2x2 (32x26x26)", lambda: F.max_pool2d(conv_out, 2), lambda: F.max_pool2d(conv_out, 2).sum().backward()),
    ("conv2 (32->64, 5x5, 13x13)", lambda: conv2(pooled), lambda: conv2(pooled).sum().backward()),
    ("fc1 (5184->512)", lambda: fc1(features), lambda: fc1(features).sum().backward()),
]
for name, forward, both in rows:
    with torch.no_grad():
        f = ms(forward)
    print(f"{'pytorch ' + torch.__version__:<20} {name:<28} forward {f:6.2f} ms   forward+backward {ms(both):6.2f} ms")
