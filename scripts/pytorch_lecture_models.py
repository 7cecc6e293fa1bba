"""The lecture's two models in PyTorch, timed on the CPU: a peer to run beside `trainer bench`.

    pip install torch numpy          # a large CUDA wheel; it runs CPU-only where no GPU exists
    OMP_WAIT_POLICY=PASSIVE python scripts/pytorch_lecture_models.py [--threads 2] [--json]

Measures, on random inputs (timing does not depend on the weights' values):
  - training: forward + backward + Adam (lr 1e-3) at batch 100, median of 5 repetitions
    (MNIST LeNet-like model: 20 steps each; toy 1-D model: 100 steps each);
  - forward passes of the MNIST model at batch 100;
  - generating 48 digits the lecture's way: 784 full forward passes at batch 48, Categorical sampling.
Run it right beside `trainer bench` (same machine, same load) and compare ratios, not absolute times.
OMP_WAIT_POLICY=PASSIVE matters: with libgomp's default spin-wait and two threads on a busy 2-core
machine, PyTorch runs several times slower.
"""
import argparse, json, statistics, time
import torch, torch.nn as nn, torch.nn.functional as F

class Toy(nn.Module):            # Conv1d(2,32,5) ReLU MaxPool(2) Conv1d(32,64,5) ReLU MaxPool(2) ReLU, Linear(320,200) ReLU Linear(200,C)
    def __init__(self, c=64):
        super().__init__()
        self.c1 = nn.Conv1d(2, 32, 5); self.c2 = nn.Conv1d(32, 64, 5)
        self.f1 = nn.Linear(320, 200); self.f2 = nn.Linear(200, c)
    def forward(self, x):
        x = F.max_pool1d(F.relu(self.c1(x)), 2)
        x = F.relu(F.max_pool1d(F.relu(self.c2(x)), 2))
        return self.f2(F.relu(self.f1(x.flatten(1))))

class LeNet(nn.Module):          # Conv2d(2,32,3) MaxPool(2) ReLU Conv2d(32,64,5) ReLU, Linear(64*81,512) ReLU Linear(512,256)
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(2, 32, 3); self.c2 = nn.Conv2d(32, 64, 5)
        self.f1 = nn.Linear(64 * 81, 512); self.f2 = nn.Linear(512, 256)
    def forward(self, x):
        x = F.relu(F.max_pool2d(self.c1(x), 2))
        x = F.relu(self.c2(x))
        return self.f2(F.relu(self.f1(x.flatten(1))))

def train_rate(model, x, y, steps, reps=5, loss=lambda model, x, y: F.cross_entropy(model(x), y)):
    """Training images (or sequences) per second, median and best of `reps` runs of `steps`
    steps of Adam at lr 1e-3 on the batch `x` (`len(x)` of them), after 5 warm-up steps; `loss`
    is the batch's loss of (model, x, y). scripts/pytorch_any_order.py times its network by it too."""
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    def step():
        l = loss(model, x, y); opt.zero_grad(); l.backward(); opt.step()
    for _ in range(5): step()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        for _ in range(steps): step()
        times.append((time.perf_counter() - t0) / steps)
    return len(x) / statistics.median(times), len(x) / min(times)

def forward_rate(model, x, reps=20):
    with torch.no_grad():
        model(x); t0 = time.perf_counter()
        for _ in range(reps): model(x)
    return reps * len(x) / (time.perf_counter() - t0)

def generate_seconds(model, nb=48, mu=33.3, std=78.6):
    gen = torch.zeros(nb, 784, dtype=torch.int64)
    tics = torch.arange(784).view(1, -1).expand(nb, -1)
    t0 = time.perf_counter()
    with torch.no_grad():
        for t in range(784):
            masks = (tics < t).float()
            values = (gen.float() - mu) / std * masks
            out = model(torch.stack((masks, values), 1).view(-1, 2, 28, 28))
            gen[:, t] = torch.distributions.Categorical(logits=out).sample()
    return time.perf_counter() - t0

if __name__ == '__main__':
    ap = argparse.ArgumentParser(); ap.add_argument('--threads', type=int, default=2); ap.add_argument('--json', action='store_true')
    a = ap.parse_args(); torch.set_num_threads(a.threads); torch.manual_seed(0)
    lenet, toy = LeNet(), Toy()
    mnist_med, mnist_best = train_rate(lenet, torch.randn(100, 2, 28, 28), torch.randint(0, 256, (100,)), 20)
    toy_med, toy_best = train_rate(toy, torch.randn(100, 2, 32), torch.randint(0, 64, (100,)), 100)
    lenet.eval()
    out = dict(torch=torch.__version__, threads=a.threads,
               mnist_train_images_per_s=mnist_med, mnist_train_images_per_s_best=mnist_best,
               toy_train_samples_per_s=toy_med, toy_train_samples_per_s_best=toy_best,
               mnist_forward_images_per_s=forward_rate(lenet, torch.randn(100, 2, 28, 28)),
               generate_48_digits_s=generate_seconds(lenet))
    print(json.dumps(out) if a.json else '\n'.join(f'{k}: {v}' for k, v in out.items()))
