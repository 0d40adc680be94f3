"""Experiment throughput: N seeds as one replicate ensemble against N single runs and MotorNet 0.3.0.

Network-iterations per second (one iteration of one network = one gradient step on its own batch):

* ``ensemble``: ``train.replicates = N`` (:class:`motornet_core.training.EnsembleTrainer`);
* ``single``: our :class:`Trainer`, one network at a time (N runs one after another take N times as
  long as one, so their network-iterations/s is one run's iterations/s);
* ``motornet``: motornet==0.3.0 training the tutorial (``benchmarks/train.py``'s baseline), one at a time.

Each measurement runs in a fresh spawned process; rounds alternate the three so that the machine's
drift affects them alike. ``--to-loss`` also trains N seeds from scratch until each one's mean loss
over ``--window`` iterations is <= the target: the ensemble (all N together, until the last seed gets
there) against N single runs and MotorNet's N runs one after another (``--motornet-seeds`` of them,
their wall time summed). Run with ``nice``:

    nice -n 10 .venv/bin/python benchmarks/experiment.py --seeds 8 --iterations 10 --rounds 3
    nice -n 10 .venv/bin/python benchmarks/experiment.py --preset arm26_centre_out --seeds 8 --iterations 3 --no-motornet
    nice -n 10 .venv/bin/python benchmarks/experiment.py --seeds 8 --to-loss 0.17 --rounds 0
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from train import isolated, theirs  # benchmarks/train.py: MotorNet's tutorial baseline

from motornet_core import choose_cpu_kernels
from motornet_core.run_presets import run_preset
from motornet_core.training import EnsembleTrainer, Trainer


def _spec(preset: str, seeds: int, compile: bool = False):  # -> RunSpec
    spec = run_preset(preset)
    if compile:  # as the studio's workers compile (call first in a fresh process)
        choose_cpu_kernels(spec.train.batch_size * seeds)
    return spec.with_updates({"train.replicates": seeds, "train.n_iterations": 10**6, "train.compile": compile})


def ensemble_rate(preset: str, seeds: int, iterations: int, compile: bool = False) -> float:
    """Network-iterations/s of a replicate ensemble (after 2 warm-up iterations, which compile)."""
    ens = EnsembleTrainer(_spec(preset, seeds, compile))
    for _ in range(2):
        ens.train_step()
    t0 = time.perf_counter()
    for _ in range(iterations):
        ens.train_step()
    return seeds * iterations / (time.perf_counter() - t0)


def single_rate(preset: str, iterations: int, compile: bool = False) -> float:
    """Iterations/s of one of our single runs (after 2 warm-up iterations, which compile)."""
    trainer = Trainer(_spec(preset, 1, compile))
    for _ in range(2):
        trainer.train_step()
    t0 = time.perf_counter()
    for _ in range(iterations):
        trainer.train_step()
    return iterations / (time.perf_counter() - t0)


def _reached(history: list[float], target: float, window: int) -> bool:
    return len(history) >= window and sum(history[-window:]) / window <= target


def ensemble_to_loss(
    preset: str, seeds: int, target: float, window: int, cap: int, compile: bool = False
) -> tuple[float, int, int]:
    """Wall time [s] until every seed's mean loss over ``window`` is <= ``target`` (compilation included);
    iterations; seeds reached."""
    ens = EnsembleTrainer(_spec(preset, seeds, compile))
    t0 = time.perf_counter()
    while ens.step < cap and not all(_reached(r.history, target, window) for r in ens.replicates):
        ens.train_step()
    return time.perf_counter() - t0, ens.step, sum(_reached(r.history, target, window) for r in ens.replicates)


def singles_to_loss(preset: str, seeds: int, target: float, window: int, cap: int) -> tuple[float, int, int]:
    """The same for ``seeds`` single runs one after another (wall times summed; iterations summed)."""
    total, its, reached = 0.0, 0, 0
    for s in range(seeds):
        trainer = Trainer(_spec(preset, 1).with_updates({"train.seed": s}))
        t0 = time.perf_counter()
        while trainer.step < cap and not _reached(trainer.history, target, window):
            trainer.train_step()
        total += time.perf_counter() - t0
        its += trainer.step
        reached += _reached(trainer.history, target, window)
    return total, its, reached


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--preset", default="tutorial_point_mass")
    p.add_argument("--seeds", type=int, default=8)
    p.add_argument("--iterations", type=int, default=10, help="timed iterations per measurement")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--no-motornet", action="store_true", help="skip MotorNet (it has only the tutorial set-up here)")
    p.add_argument("--compile", action="store_true", help="ours with train.compile (ensemble and single run)")
    p.add_argument("--to-loss", type=float, default=None)
    p.add_argument("--window", type=int, default=10)
    p.add_argument("--max-iterations", type=int, default=1500)
    p.add_argument("--motornet-seeds", type=int, default=None, help="MotorNet runs for --to-loss (default: --seeds)")
    p.add_argument("--single-seeds", type=int, default=None, help="our single runs for --to-loss (default: --seeds)")
    args = p.parse_args()
    n, t = args.seeds, args.threads
    mode = "compiled" if args.compile else "eager"
    print(f"{args.preset}: {n} seeds, {mode}, {args.iterations} timed iterations, {t} thread(s), a process per measurement")
    print(f"machine: {platform.machine()}, {platform.processor() or 'cpu'}, python {platform.python_version()}")
    ratios: dict[str, list[float]] = {"ensemble / single": [], "ensemble / motornet": []}
    for r in range(args.rounds):
        e = isolated(t, ensemble_rate, args.preset, n, args.iterations, args.compile)
        s = isolated(t, single_rate, args.preset, args.iterations, args.compile)
        m = None if args.no_motornet else isolated(t, theirs, args.iterations)
        text = f"round {r + 1}: ensemble {e:8.1f} net-it/s   single {s:7.2f}   ({e / s:.2f}x)"
        ratios["ensemble / single"].append(e / s)
        if isinstance(m, float):
            text += f"   motornet {m:6.2f}   ({e / m:.1f}x)"
            ratios["ensemble / motornet"].append(e / m)
        elif m is not None:
            text += f"   motornet: {m}"
        print(text, flush=True)
    for name, values in ratios.items():
        if values:
            spread = f"range {min(values):.2f}-{max(values):.2f}x, {len(values)} rounds"
            print(f"{name}: median {statistics.median(values):.2f}x ({spread})")
    if args.to_loss is not None:
        cap = (args.to_loss, args.window, args.max_iterations)
        print(f"wall time for {n} seeds to reach a mean loss <= {args.to_loss} over {args.window} iterations each:")
        sec, its, ok = isolated(t, ensemble_to_loss, args.preset, n, *cap, args.compile)
        label = "ensemble (compiled)" if args.compile else "ensemble"
        print(f"  {label:19s} {sec:8.1f} s  {its:6d} iterations  {ok}/{n} seeds reached", flush=True)
        k_single = args.single_seeds or n
        sec, its, ok = isolated(t, singles_to_loss, args.preset, k_single, *cap)
        print(f"  single runs         {sec:8.1f} s  {its:6d} iterations  {ok}/{k_single} seeds reached", flush=True)
        if not args.no_motornet:
            k = args.motornet_seeds or n
            total, its_m, ok_m = 0.0, 0, 0
            for _ in range(k):
                res = isolated(t, theirs, 0, *cap)
                if not isinstance(res, tuple):
                    print(f"  motornet 0.3.0      {res}")
                    break
                total, its_m, ok_m = total + res[0], its_m + res[1], ok_m + int(res[2])
            else:
                print(f"  motornet 0.3.0      {total:8.1f} s  {its_m:6d} iterations  {ok_m}/{k} runs reached")


if __name__ == "__main__":
    main()
