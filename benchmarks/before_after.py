"""Before/after: the same measurements on two source trees of this project, alternating rounds.

Each measurement runs in a fresh process whose ``PYTHONPATH`` is one tree (its own
``benchmarks/train.py`` and ``benchmarks/physics.py`` measure it), so a refactor's cost shows as a
ratio new/old taken minutes apart on the same machine. Make the old tree with ``git worktree``:

    git worktree add /tmp/old 88941a2
    nice -n 10 .venv/bin/python benchmarks/before_after.py --old /tmp/old --rounds 3

Measures: the tutorial's training iterations/s (eager, and compiled with ``--compile``) and the
physics' steps x batch per second (arm26, forward + backward, batch 64 and 1024).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

PROBE = """
import json, sys, torch
torch.set_num_threads(1)
sys.path.insert(0, "benchmarks")
kind, arg = sys.argv[1], sys.argv[2]
if kind == "train":
    import train
    print(json.dumps(train.ours(int(arg), compile=False)))
elif kind == "train-compiled":
    from motornet_core import prefer_scalar_cpu_kernels
    prefer_scalar_cpu_kernels()
    import train
    print(json.dumps(train.ours(int(arg), compile=True)))
else:
    import physics
    rate, _ = physics.measure("ours", int(arg), 100, True, 3, 4)
    print(json.dumps(rate))
"""


def measure(tree: Path, kind: str, arg: int) -> float:
    """One measurement of ``kind`` in a fresh process running ``tree``'s code."""
    env = {**os.environ, "PYTHONPATH": str(tree), "OMP_NUM_THREADS": "1"}
    out = subprocess.run(
        [sys.executable, "-c", PROBE, kind, str(arg)], cwd=tree, env=env, check=True, capture_output=True, text=True
    )
    return float(json.loads(out.stdout.strip().splitlines()[-1]))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--old", type=Path, required=True, help="the earlier source tree (a git worktree)")
    p.add_argument("--new", type=Path, default=REPO, help="the later source tree (default: this one)")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--iterations", type=int, default=30, help="timed training iterations per measurement")
    p.add_argument("--compile", action="store_true", help="also the compiled training path")
    args = p.parse_args()
    cases = [("train", args.iterations), ("physics", 64), ("physics", 1024)]
    if args.compile:
        cases.insert(1, ("train-compiled", args.iterations))
    print(f"machine: {platform.machine()} {os.cpu_count()} cores, python {platform.python_version()}")
    for kind, arg in cases:
        old, new = [], []
        for r in range(args.rounds):  # alternate which tree goes first
            order = [("old", args.old), ("new", args.new)] if r % 2 == 0 else [("new", args.new), ("old", args.old)]
            for name, tree in order:
                (old if name == "old" else new).append(measure(tree, kind, arg))
        ratios = [n / o for n, o in zip(new, old, strict=True)]
        label = f"{kind} {'iterations' if kind.startswith('train') else 'batch'} {arg}"
        print(
            f"{label:28s} old {statistics.median(old):10.1f}  new {statistics.median(new):10.1f}  "
            f"new/old median {statistics.median(ratios):.3f} (rounds {', '.join(f'{x:.3f}' for x in ratios)})"
        )


if __name__ == "__main__":
    main()
