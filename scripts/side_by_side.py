"""`trainer bench` and the PyTorch peers (scripts/pytorch_lecture_models.py and
scripts/pytorch_any_order.py), run alternately on the same machine: training throughput ratios
(ours / PyTorch's) for the lecture's MNIST and toy models and for our any-order U-Net (at its
recipe's batch of 64), and the share of the CPU other processes took during each run.

    python3 scripts/side_by_side.py --python /path/to/venv/bin/python [--rounds 2]

Needs `cargo build --release -p trainer` and a Python with torch (`pip install torch numpy`).
"""
import argparse, json, os, resource, subprocess, time
from pathlib import Path

root = Path(__file__).resolve().parent.parent
ap = argparse.ArgumentParser()
ap.add_argument("--python", default="python3")
ap.add_argument("--script", default=str(root / "scripts/pytorch_lecture_models.py"))
ap.add_argument("--any-order-script", default=str(root / "scripts/pytorch_any_order.py"))
ap.add_argument("--trainer", default=str(root / "target/release/trainer"))
ap.add_argument("--rounds", type=int, default=2)
a = ap.parse_args()

def busy_jiffies():
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    return sum(fields) - fields[3] - fields[4]  # all but idle and iowait

def run(cmd, env=None):
    """Runs cmd; returns its stdout and the share of the machine's CPU other processes used."""
    tick = os.sysconf("SC_CLK_TCK")
    before, children, t0 = busy_jiffies(), resource.getrusage(resource.RUSAGE_CHILDREN), time.time()
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env={**os.environ, **(env or {})}).stdout
    after, children_after, wall = busy_jiffies(), resource.getrusage(resource.RUSAGE_CHILDREN), time.time() - t0
    ours = (children_after.ru_utime + children_after.ru_stime) - (children.ru_utime + children.ru_stime)
    others = max(0.0, (after - before) / tick - ours) / (wall * os.cpu_count())
    return out, others

rows = []
for r in range(a.rounds):
    torch_out, torch_load = run([a.python, a.script, "--threads", "2", "--json"], {"OMP_WAIT_POLICY": "PASSIVE"})
    any_out, any_load = run([a.python, a.any_order_script, "--threads", "2", "--json"], {"OMP_WAIT_POLICY": "PASSIVE"})
    ours_out, ours_load = run([a.trainer, "bench", "--backends", "flex", "--train-steps", "100", "--any-order-per-step", "16", "--json"])
    t, ta = json.loads(torch_out), json.loads(any_out)
    o = next(row for row in json.loads(ours_out) if "toy_train_samples_per_s" in row)
    oa = next(row for row in json.loads(ours_out) if row.get("model") == "mnist-any-order")
    rows.append({
        "round": r + 1,
        "mnist_train_images_per_s": {"ours": o["train_images_per_s"], "ours_with_burn_adam": o["train_images_per_s_burn_adam"], "pytorch": t["mnist_train_images_per_s"]},
        "mnist_ratio": o["train_images_per_s"] / t["mnist_train_images_per_s"],
        "toy_train_samples_per_s": {"ours": o["toy_train_samples_per_s"], "pytorch": t["toy_train_samples_per_s"]},
        "toy_ratio": o["toy_train_samples_per_s"] / t["toy_train_samples_per_s"],
        "mnist_forward_ratio": o["forward_images_per_s"] / t["mnist_forward_images_per_s"],
        "any_order_train_images_per_s": {"ours": oa["train_images_per_s"], "pytorch": ta["any_order_train_images_per_s"]},
        "any_order_ratio": oa["train_images_per_s"] / ta["any_order_train_images_per_s"],
        "generate_48_digits_s": {"ours": o["generate_seconds"], "pytorch": t["generate_48_digits_s"]},
        "other_processes_cpu_share": {"pytorch_run": torch_load, "pytorch_any_order_run": any_load, "ours_run": ours_load},
        "torch": t["torch"],
    })
    print(json.dumps(rows[-1]), flush=True)
