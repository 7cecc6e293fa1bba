"""How well the bottom half alone names the digit: a small convnet trained on bottom halves only
(the top half zeroed), on the 10,000 training images and test images 1,000-9,999 (the last 1,500
held out to pick the epoch by their cross-entropy), then scored on the first 500 test images, the
ones `trainer inpaint --images 500` completes: its accuracy, and the mean probability it gives the
true label, which is how often completions drawn from its posterior would keep the digit, before
the judge's own errors. The same network on whole images, for scale. `--pool train` trains it on
the 10,000 training images alone, the only images the any-order network learns from.

    pip install torch numpy
    OMP_WAIT_POLICY=PASSIVE python3 scripts/bottom_half_classifier.py [--threads N] [--pool all|train]
"""
import argparse, gzip, numpy as np, torch, torch.nn as nn, torch.nn.functional as F
ap = argparse.ArgumentParser()
ap.add_argument('--threads', type=int, default=1)
ap.add_argument('--pool', choices=['all', 'train'], default='all',
                help='all: the training images and test images 1,000-9,999; train: the 10,000 training images only')
a = ap.parse_args()
torch.set_num_threads(a.threads); torch.manual_seed(0)
from pathlib import Path
d = str(Path(__file__).resolve().parent.parent / 'data/mnist') + '/'
def imgs(p): b = gzip.open(d + p).read(); return np.frombuffer(b[16:], np.uint8).reshape(-1, 1, 28, 28)
def labs(p): b = gzip.open(d + p).read(); return np.frombuffer(b[8:], np.uint8)
tr, trl = imgs('train-images-idx3-ubyte.gz'), labs('train-labels-idx1-ubyte.gz')
te, tel = imgs('t10k-images-idx3-ubyte.gz'), labs('t10k-labels-idx1-ubyte.gz')
pool, pool_labels = (tr, trl) if a.pool == 'train' else (np.concatenate([tr, te[1000:]]), np.concatenate([trl, tel[1000:]]))
x, y = torch.tensor(pool, dtype=torch.float32) / 255, torch.tensor(pool_labels, dtype=torch.long)
xt, yt = torch.tensor(te[:500], dtype=torch.float32) / 255, torch.tensor(tel[:500], dtype=torch.long)
for half in ('bottom', 'whole'):
    def view(v): v = v.clone(); v[:, :, :14] = 0; return v
    xs, xts = (view(x), view(xt)) if half == 'bottom' else (x, xt)
    net = nn.Sequential(nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(),
                        nn.MaxPool2d(2), nn.Flatten(), nn.Dropout(0.3), nn.Linear(64 * 49, 256), nn.ReLU(), nn.Dropout(0.3), nn.Linear(256, 10))
    opt = torch.optim.Adam(net.parameters(), 1e-3)
    # The last 1,500 of the training pool held out to pick the epoch (early stopping on NLL).
    va = slice(len(xs) - 1500, None)
    best, state = 1e9, None
    for epoch in range(12):
        net.train(); perm = torch.randperm(len(xs) - 1500)
        for i in range(0, len(perm), 100):
            b = perm[i:i + 100]; loss = F.cross_entropy(net(xs[b]), y[b]); opt.zero_grad(); loss.backward(); opt.step()
        net.eval()
        with torch.no_grad(): v = F.cross_entropy(net(xs[va]), y[va]).item()
        if v < best: best, state = v, {k: t.clone() for k, t in net.state_dict().items()}
    net.load_state_dict(state); net.eval()
    with torch.no_grad(): p = F.softmax(net(xts), 1)
    print(f'{half}: held-out NLL {best:.3f} nats; first 500 test images: accuracy {(p.argmax(1) == yt).float().mean():.3f}, '
          f'mean probability of the true label {p[torch.arange(500), yt].mean():.3f}')
