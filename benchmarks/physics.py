"""Physics throughput: simulated steps x batch per second for arm26 (rigid Hill, euler, dt 0.01).

Forward (no autograd) and forward + backward (a 100-step rollout, gradient of the final fingertip
w.r.t. every excitation), at several batch sizes, for motornet_core and — when the optional
``bench`` extra (``motornet==0.3.0``) is installed — MotorNet in the same run (each measurement
in a fresh spawned process, one after another).

    .venv/bin/python benchmarks/physics.py [--batches 1 64 1024 8192] [--steps 100] [--threads 1] [--compile] [--kernels]

``--kernels`` adds a column for our eager path with the hand-derived kernels off
(``motornet_core.kernels``: the generic autograd graph) and the on/off ratio; ``--native`` one for
the Python kernels (the C kernels of ``motornet_core.native`` off) and the native/Python ratio.

``--compile`` adds a column for :class:`motornet_core.OpenLoop` (``--chunk`` steps per
``torch.compile``'d call, default 4; ``--chunk 1`` is ``torch.compile(effector.step)``) and prints how
long each compilation took (inductor's on-disk cache shortens later ones: clear
``/tmp/torchinductor_$USER`` for cold figures).

Both sides take their excitations as T separate (B, 6) tensors (``unbind``): indexing one (T, B, 6)
tensor per step would add T full-size zero-filled gradient buffers to every backward pass, a cost
of the benchmark rather than of the physics.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from train import isolated

import motornet_core.kernels as eager_kernels
from motornet_core import OpenLoop, build_effector, native, presets

Q0 = [0.785398, 1.570796]


def _best_of(fn: Callable[[], None], repeats: int) -> float:
    fn()  # warm-up
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def ours(batch: int, steps: int, backward: bool, compile: bool = False, chunk: int = 4) -> Callable[[], None]:
    eff = build_effector(presets.arm26())
    q0 = torch.tensor(Q0)
    if compile:
        torch._dynamo.reset()  # each configuration compiles afresh (no recompile limit reached)
    loop = OpenLoop(eff, compile=True, chunk=chunk) if compile else None  # compiled even where eager is faster

    def run() -> None:
        u = torch.full((steps, batch, 6), 0.3, requires_grad=backward).unbind(0)
        with torch.set_grad_enabled(backward):
            s = eff.reset(batch, position=q0)
            if loop is not None:
                s = loop.run(s, u).state
            else:
                for k in range(steps):
                    s = eff.step(s, u[k])
            if backward:
                s.fingertip[:, :2].sum().backward()

    return run


def motornet_baseline(batch: int, steps: int, backward: bool) -> Callable[[], None] | None:
    try:
        import motornet as mn  # optional baseline, never a runtime dependency
    except ImportError:
        return None
    eff = mn.effector.RigidTendonArm26(muscle=mn.muscle.RigidTendonHillMuscle(), timestep=0.01)
    q0 = torch.tensor([[*Q0, 0.0, 0.0]]).repeat(batch, 1)

    def run() -> None:
        u = torch.full((steps, batch, 6), 0.3, requires_grad=backward).unbind(0)
        with torch.set_grad_enabled(backward):
            eff.reset(options={"batch_size": batch, "joint_state": q0})
            for k in range(steps):
                eff.step(u[k])
            if backward:
                eff.states["fingertip"][:, :2].sum().backward()

    return run


def measure(impl: str, batch: int, steps: int, backward: bool, repeats: int, chunk: int) -> tuple[float | None, float]:
    """Steps x batch per second of ``impl`` ("ours", "generic": ours with the eager kernels off, "python":
    ours with the native kernels off,
    "motornet" or "compiled"; None: MotorNet is not installed) and the seconds its first run took
    (the compilation, for "compiled")."""
    if impl == "motornet":
        run = motornet_baseline(batch, steps, backward)
        if run is None:
            return None, 0.0
    elif impl == "generic":
        eager_kernels.ENABLED = False  # this process only (each measurement runs in a fresh one)
        run = ours(batch, steps, backward)
    elif impl == "python":
        native.ENABLED = False  # the Python kernels, this process only
        run = ours(batch, steps, backward)
    else:
        run = ours(batch, steps, backward, compile=impl == "compiled", chunk=chunk)
    t0 = time.perf_counter()
    run()
    first = time.perf_counter() - t0
    return steps * batch / _best_of(run, repeats), first


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 64, 1024, 8192])
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--compile", action="store_true", help="also time motornet_core.OpenLoop (compiled chunks)")
    parser.add_argument("--chunk", type=int, default=4, help="steps per compiled call with --compile")
    parser.add_argument("--rounds", type=int, default=1, help="every row this many times, alternating ours and MotorNet")
    parser.add_argument(
        "--kernels", action="store_true", help="also time ours with the eager kernels off (the generic autograd graph)"
    )
    parser.add_argument("--native", action="store_true", help="also time ours with the native (C) kernels off")
    parser.add_argument("--modes", nargs="+", default=["forward", "forward+backward"], choices=["forward", "forward+backward"])
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    print(
        f"# {platform.processor() or platform.machine()}, {os.cpu_count()} cores, load average {load}, "
        f"{torch.get_num_threads()} torch thread(s), torch {torch.__version__}"
    )
    print(f"# arm26 rigid Hill, euler, dt 0.01, {args.steps} steps per rollout; figures in simulated steps x batch / s")
    print(f"{'mode':18s} {'batch':>6s} {'ours':>12s} {'motornet':>12s} {'speed-up':>9s}", end="")
    print(f" {'kernels off':>12s} {'on/off':>7s}" if args.kernels else "", end="")
    print(f" {'python kern.':>12s} {'native/py':>9s}" if args.native else "", end="")
    print(f" {'compiled':>12s} {'speed-up':>9s}  compile" if args.compile else "")
    ratios: dict[tuple[str, int], list[tuple[float, float | None]]] = {}
    on_off: dict[tuple[str, int], list[float]] = {}
    native_py: dict[tuple[str, int], list[float]] = {}
    for _ in range(args.rounds):
        for mode in args.modes:
            backward = mode == "forward+backward"
            for batch in args.batches:
                # each measurement in a fresh process: in one process, later ones ran measurably slower
                cfg = (batch, args.steps, backward, args.repeats, args.chunk)
                ours_rate, _ = isolated(args.threads, measure, "ours", *cfg)
                base_rate, _ = isolated(args.threads, measure, "motornet", *cfg)
                line = f"{mode:18s} {batch:6d} {ours_rate:12.0f} "
                line += f"{base_rate:12.0f} {ours_rate / base_rate:8.2f}x" if base_rate else f"{'n/a':>12s} {'':>9s}"
                compiled_ratio = None
                if args.kernels:
                    off_rate, _ = isolated(args.threads, measure, "generic", *cfg)
                    line += f" {off_rate:12.0f} {ours_rate / off_rate:6.2f}x"
                    on_off.setdefault((mode, batch), []).append(ours_rate / off_rate)
                if args.native:
                    py_rate, _ = isolated(args.threads, measure, "python", *cfg)
                    line += f" {py_rate:12.0f} {ours_rate / py_rate:8.2f}x"
                    native_py.setdefault((mode, batch), []).append(ours_rate / py_rate)
                if args.compile:
                    rate, first = isolated(args.threads, measure, "compiled", *cfg)
                    ratio = f"{rate / base_rate:8.2f}x" if base_rate else f"{'':>9s}"
                    line += f" {rate:12.0f} {ratio}  {first:5.1f} s"
                    compiled_ratio = rate / base_rate if base_rate else None
                if base_rate:
                    ratios.setdefault((mode, batch), []).append((ours_rate / base_rate, compiled_ratio))
                print(line, flush=True)
    if args.rounds > 1:
        print(f"speed-up over MotorNet, {args.rounds} alternating rounds: median (range)")
        for (mode, batch), rows in ratios.items():
            eager = [r[0] for r in rows]
            line = f"{mode:18s} {batch:6d}  eager {statistics.median(eager):.2f}x ({min(eager):.2f}-{max(eager):.2f})"
            comp = [r[1] for r in rows if r[1] is not None]
            if comp:
                line += f"  compiled {statistics.median(comp):.2f}x ({min(comp):.2f}-{max(comp):.2f})"
            if (mode, batch) in on_off:
                k = on_off[(mode, batch)]
                line += f"  eager kernels on/off {statistics.median(k):.2f}x ({min(k):.2f}-{max(k):.2f})"
            if (mode, batch) in native_py:
                k = native_py[(mode, batch)]
                line += f"  native/Python kernels {statistics.median(k):.2f}x ({min(k):.2f}-{max(k):.2f})"
            print(line)


if __name__ == "__main__":
    main()
