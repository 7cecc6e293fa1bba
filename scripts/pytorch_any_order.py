"""Our any-order MNIST U-Net (crates/autoregress/src/models/unet.rs) in PyTorch, timed on the CPU:
the peer to run beside `trainer bench` for its any-order training row.

    pip install torch numpy          # a large CUDA wheel; it runs CPU-only where no GPU exists
    OMP_WAIT_POLICY=PASSIVE python scripts/pytorch_any_order.py [--threads 2] [--batch 64] [--json]

The same network, layer for layer: pre-activation residual blocks x + conv3(GELU(GroupNorm(x))) at
24 / 48 / 128 channels (8 groups), 2x2 stride-2 convolutions down, 2x2 stride-2 transposed
convolutions up (PyTorch's own layers for what ours builds from space-to-depth or depth-to-space and
a 1x1 convolution), additive skips, three dilated blocks at 7x7, a GroupNorm-GELU-1x1 head to 256.
Training as `trainer bench` times it: the input (mask, normalized values, row, column), the mean
over images of the cross-entropy over each image's unknown pixels, Adam at lr 1e-3, at the recipe's batch of 64; 5 warm-up
steps, then the median images/s of 5 repetitions of 20 steps. Random inputs and masks (timing does
not depend on them). Compare ratios from runs side by side, never absolute times.
"""
import argparse, json
import torch, torch.nn as nn, torch.nn.functional as F
from pytorch_lecture_models import train_rate  # the same timing loop as the lecture's models

A, B, C = 24, 48, 128

class Block(nn.Module):
    def __init__(self, ch, dilation=1):
        super().__init__()
        self.norm = nn.GroupNorm(8, ch)
        self.conv = nn.Conv2d(ch, ch, 3, padding=dilation, dilation=dilation)
    def forward(self, x):
        return x + self.conv(F.gelu(self.norm(x)))

class UNet(nn.Module):
    def __init__(self, values=256):
        super().__init__()
        self.stem = nn.Conv2d(4, A, 3, padding=1)
        self.enc1 = nn.Sequential(Block(A))
        self.down1 = nn.Conv2d(A, B, 2, stride=2)
        self.enc2 = nn.Sequential(Block(B), Block(B))
        self.down2 = nn.Conv2d(B, C, 2, stride=2)
        self.mid = nn.Sequential(Block(C, 1), Block(C, 2), Block(C, 3))
        self.up2 = nn.ConvTranspose2d(C, B, 2, stride=2)
        self.dec2 = nn.Sequential(Block(B), Block(B))
        self.up1 = nn.ConvTranspose2d(B, A, 2, stride=2)
        self.dec1 = nn.Sequential(Block(A))
        self.head_norm = nn.GroupNorm(8, A)
        self.head = nn.Conv2d(A, values, 1)
    def forward(self, x):
        s1 = self.enc1(self.stem(x))
        s2 = self.enc2(self.down1(s1))
        x = self.mid(self.down2(s2))
        x = self.dec2(self.up2(x) + s2)
        x = self.dec1(self.up1(x) + s1)
        return self.head(F.gelu(self.head_norm(x)))

def inputs(images, mask, mean=33.3, std=78.6):
    n = images.shape[0]
    coord = torch.linspace(-1, 1, 28)
    rows = coord.view(1, 1, 28, 1).expand(n, 1, 28, 28)
    cols = coord.view(1, 1, 1, 28).expand(n, 1, 28, 28)
    values = (images.float() - mean) / std * mask
    return torch.cat([mask.view(n, 1, 28, 28), values.view(n, 1, 28, 28), rows, cols], 1)

def loss_of(model, images, mask):
    logits = model(inputs(images, mask)).flatten(2)                       # [N, 256, 784]
    ce = F.cross_entropy(logits, images, reduction='none')                # [N, 784]
    unknown = 1 - mask
    return ((ce * unknown).sum(1) / unknown.sum(1).clamp(min=1)).mean()

if __name__ == '__main__':
    ap = argparse.ArgumentParser()
    ap.add_argument('--threads', type=int, default=2); ap.add_argument('--batch', type=int, default=64)
    ap.add_argument('--steps', type=int, default=20); ap.add_argument('--json', action='store_true')
    a = ap.parse_args(); torch.set_num_threads(a.threads); torch.manual_seed(0)
    model = UNet()
    images = torch.randint(0, 256, (a.batch, 784))
    mask = (torch.rand(a.batch, 784) < torch.rand(a.batch, 1)).float()
    med, best = train_rate(model, images, mask, a.steps, loss=loss_of)
    out = dict(torch=torch.__version__, threads=a.threads, batch=a.batch,
               parameters=sum(p.numel() for p in model.parameters()),
               any_order_train_images_per_s=med, any_order_train_images_per_s_best=best)
    print(json.dumps(out) if a.json else '\n'.join(f'{k}: {v}' for k, v in out.items()))
