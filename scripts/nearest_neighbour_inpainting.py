"""Completions of an erased top half taken from the data itself: for each of the first test images,
the top halves of the training images whose bottom halves are nearest (Euclidean, over the 392
pixels), pasted above its bottom half. A peer for `trainer inpaint --region top`: `trainer judge
--inpainted PREFIX.idx3-ubyte` reads the files it writes (the IDX file and the record beside it).

    pip install numpy
    python3 scripts/nearest_neighbour_inpainting.py --out runs/nn-top [--images 500] [--completions 2]

Prints, for k = 1, 2, 10, 50, the share of the k nearest training bottom halves whose label is the
test image's: how often the bottom half alone names the digit, by this crude posterior.
"""
import argparse, gzip, json, zlib
from pathlib import Path
import numpy as np

root = Path(__file__).resolve().parent.parent
ap = argparse.ArgumentParser()
ap.add_argument("--data-dir", default=str(root / "data/mnist"))
ap.add_argument("--images", type=int, default=500)
ap.add_argument("--completions", type=int, default=2)
ap.add_argument("--out", required=True, help="PREFIX: writes PREFIX.idx3-ubyte and PREFIX.json")
a = ap.parse_args()
if not 1 <= a.images <= 10_000:
    ap.error(f"--images {a.images}: give 1 to 10000 (the test images completed)")
if not 1 <= a.completions <= 50:
    ap.error(f"--completions {a.completions}: give 1 to 50 (the nearest training images used)")

def read(name, offset):
    path = Path(a.data_dir) / name
    if not path.is_file():
        ap.error(f"{path} is not there: --data-dir takes a folder of the four MNIST files (gzip)")
    raw = gzip.open(path).read()
    return np.frombuffer(raw[offset:], np.uint8)

test_name = "t10k-images-idx3-ubyte.gz"
train = read("train-images-idx3-ubyte.gz", 16).reshape(-1, 784)
train_labels = read("train-labels-idx1-ubyte.gz", 8)
test = read(test_name, 16).reshape(-1, 784)[: a.images]
test_labels = read("t10k-labels-idx1-ubyte.gz", 8)[: a.images]

known, pool = test[:, 392:].astype(np.float32), train[:, 392:].astype(np.float32)
distance = (known**2).sum(1)[:, None] - 2 * known @ pool.T + (pool**2).sum(1)[None, :]
nearest = np.argsort(distance, 1)
for k in (1, 2, 10, 50):
    share = (train_labels[nearest[:, :k]] == test_labels[:, None]).mean()
    print(f"the {k} nearest training bottom halves: {100 * share:.1f}% have the test image's label")

completions = np.empty((a.images * a.completions, 784), np.uint8)
for i in range(a.images):
    for c in range(a.completions):
        completions[i * a.completions + c, :392] = train[nearest[i, c], :392]
        completions[i * a.completions + c, 392:] = test[i, 392:]
header = b"".join(n.to_bytes(4, "big") for n in (0x803, len(completions), 28, 28))
idx = header + completions.tobytes()
Path(a.out).parent.mkdir(parents=True, exist_ok=True)
Path(a.out + ".idx3-ubyte").write_bytes(idx)
record = {
    "model": "nearest neighbours (training images)", "weights": "none",
    "input": str(Path(a.data_dir) / test_name), "images": a.images, "completions": a.completions,
    "erased": "top", "erased_share": {"mean": 0.5, "min": 0.5, "max": 0.5}, "seed": 0,
    "completions_crc32": zlib.crc32(idx),
}
Path(a.out + ".json").write_text(json.dumps(record, indent=2))
print(f"wrote {a.out}.idx3-ubyte and {a.out}.json")
