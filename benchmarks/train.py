"""Training throughput of the tutorial set-up (point mass 24, random reach, 1 s, GRU 32, batch 32).

Prints iterations per second for motornet_core and, side by side, for motornet==0.3.0 when it is
importable (the same GRU controller and L1 loss driving MotorNet's own environment, following the
public API of its training tutorial). With ``--to-loss 0.17`` it also trains both from scratch until
the mean loss of the last ``--window`` iterations reaches that value (or ``--max-iterations``) and
prints the wall time and the iterations it took; with ``--compile`` too, compiled twice in one fresh
inductor cache: cold (compilation included) and warm (the cache a second run of a set-up finds). With
``--kernels`` each round also times the eager path with the hand-derived kernels off
(``MOTORNET_CORE_EAGER_KERNELS=0``: the generic autograd graph), for the tutorial and for arm26
centre-out, kernels on and off in alternating order. Run with ``nice``:

    nice -n 10 .venv/bin/python benchmarks/train.py --iterations 20 --threads 1
    nice -n 10 .venv/bin/python benchmarks/train.py --iterations 20 --kernels --rounds 5
    nice -n 10 .venv/bin/python benchmarks/train.py --iterations 20 --to-loss 0.17 --max-iterations 600
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import torch

import motornet_core.kernels as eager_kernels
from motornet_core import native, prefer_scalar_cpu_kernels
from motornet_core.policies import build_policy
from motornet_core.run_presets import run_preset
from motornet_core.training import Trainer


def to_loss(step: Callable[[], float], target: float, window: int, cap: int) -> tuple[float, int, bool]:
    """Wall time [s] and iterations until the mean of the last ``window`` losses is <= ``target``."""
    losses: list[float] = []
    t0 = time.perf_counter()
    while len(losses) < cap:
        losses.append(step())
        if len(losses) >= window and sum(losses[-window:]) / window <= target:
            return time.perf_counter() - t0, len(losses), True
    return time.perf_counter() - t0, len(losses), False


def tutorial(compile: bool = False, scalar: bool = True, preset: str = "tutorial_point_mass") -> Trainer:
    """A fresh :class:`Trainer` on the tutorial preset (or another run preset).

    Args:
        compile: ``train.compile``.
        scalar: with ``compile``, :func:`motornet_core.prefer_scalar_cpu_kernels` first, as the
            studio's training workers and ``motornet-studio train`` do (call in a fresh process).
        preset: the run preset's name.
    """
    if compile and scalar:
        prefer_scalar_cpu_kernels()
    return Trainer(run_preset(preset).with_updates({"train.compile": compile}))


def ours(
    iterations: int,
    compile: bool = False,
    scalar: bool = True,
    kernels: bool = True,
    preset: str = "tutorial_point_mass",
    native_kernels: bool = True,
) -> float:
    """Iterations/s of :class:`Trainer` on the tutorial preset (after 2 warm-up iterations).

    Args:
        kernels: False turns the eager kernels off for this process, as ``MOTORNET_CORE_EAGER_KERNELS=0``
            does (call in a fresh process).
        preset: the run preset's name.
        native_kernels: False turns the native (C) kernels off for this process (the Python kernels), as
            ``MOTORNET_CORE_NATIVE_KERNELS=0`` does.
    """
    if not kernels:
        eager_kernels.ENABLED = False
    if not native_kernels:
        native.ENABLED = False
    trainer = tutorial(compile, scalar, preset)
    for _ in range(2):
        trainer.train_step()
    t0 = time.perf_counter()
    for _ in range(iterations):
        trainer.train_step()
    return iterations / (time.perf_counter() - t0)


def ours_default(iterations: int) -> tuple[float, float, str]:
    """The tutorial preset as a user launches it (``train.compile: "auto"``, the default), in a
    process set up like the studio's training workers: (iterations/s over the first ``iterations``
    including the path decision and any compilation or cache load, iterations/s after the first
    two, the run's "training path" log line)."""
    os.environ.pop("MOTORNET_CORE_AUTO_COMPILE", None)
    prefer_scalar_cpu_kernels()  # what the workers do for "auto" runs
    trainer = Trainer(run_preset("tutorial_point_mass"))
    t0 = time.perf_counter()
    for _ in range(2):
        trainer.train_step()
    t1 = time.perf_counter()
    for _ in range(iterations - 2):
        trainer.train_step()
    t2 = time.perf_counter()
    decision = trainer.compile_decision
    return iterations / (t2 - t0), (iterations - 2) / (t2 - t1), decision.message() if decision else "undecided"


def ours_to_loss(
    target: float, window: int, cap: int, compile: bool = False, cache_dir: str | None = None, scalar: bool = True
) -> tuple[float, int, bool]:
    """:func:`to_loss` for a fresh :class:`Trainer` on the tutorial preset (compilation time included).

    Args:
        cache_dir: inductor's cache folder for this process (an empty one: a cold-cache compilation).
        scalar: see :func:`tutorial`.
    """
    if cache_dir is not None:
        os.environ["TORCHINDUCTOR_CACHE_DIR"] = cache_dir
    trainer = tutorial(compile, scalar)
    return to_loss(lambda: trainer.train_step()["loss"], target, window, cap)


def theirs(iterations: int, target: float | None = None, window: int = 10, cap: int = 0) -> float | str | tuple:
    """Iterations/s with motornet 0.3.0's environment (with ``target``: :func:`to_loss` from scratch), or why it could not run."""
    try:
        import motornet as mn  # type: ignore[import-not-found]
    except ImportError:
        return "not installed"
    try:
        effector = mn.effector.ReluPointMass24()
        env = mn.environment.RandomTargetReach(effector=effector, max_ep_duration=1.0)
        spec = run_preset("tutorial_point_mass").policy
        obs, _ = env.reset(options={"batch_size": 32})
        policy = build_policy(spec, int(obs.shape[-1]), int(env.n_muscles))
        opt = torch.optim.Adam(policy.parameters(), lr=1e-3)

        def one() -> float:
            obs, info = env.reset(options={"batch_size": 32})
            h = policy.initial_state(32)
            xy, tg = [info["states"]["fingertip"]], [info["goal"]]
            terminated = False
            while not terminated:
                action, h = policy(obs, h)
                obs, _, terminated, _, info = env.step(action=action)
                xy.append(info["states"]["fingertip"])
                tg.append(info["goal"])
            loss = (torch.stack(xy, 1)[..., :2] - torch.stack(tg, 1)).abs().sum(-1).mean()
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(policy.parameters(), 1.0)
            opt.step()
            return float(loss.detach())

        if target is not None:
            return to_loss(one, target, window, cap)
        for _ in range(2):
            one()
        t0 = time.perf_counter()
        for _ in range(iterations):
            one()
        return iterations / (time.perf_counter() - t0)
    except Exception as exc:  # a peer's failure must not hide our figure
        return f"error: {type(exc).__name__}: {exc}"


def isolated(threads: int, fn: Callable[..., Any], *args: Any) -> Any:
    """``fn(*args)`` in a fresh spawned process with ``threads`` torch threads.

    Each measurement gets a process of its own: run one after another in one process, a later
    trainer was measurably slower (e.g. a compiled trainer 17.5 -> 13.9 it/s after an eager one and
    MotorNet's), which would bias whichever runs last.
    """
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=ctx, initializer=torch.set_num_threads, initargs=(threads,)) as pool:
        return pool.submit(fn, *args).result()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=20)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--to-loss", type=float, default=None, help="also measure the wall time to this mean loss")
    parser.add_argument("--window", type=int, default=10, help="iterations averaged for --to-loss")
    parser.add_argument("--max-iterations", type=int, default=1000, help="cap of the --to-loss runs")
    parser.add_argument("--compile", action="store_true", help="also time motornet_core with train.compile")
    parser.add_argument(
        "--simd",
        action="store_true",
        help="compiled runs keep inductor's vectorised CPU kernels (default: scalar kernels, as the studio's "
        "training workers and motornet-studio train compile them)",
    )
    parser.add_argument("--rounds", type=int, default=1, help="iterations/s measured this many times, alternating")
    parser.add_argument(
        "--default",
        action="store_true",
        help="also time the preset's defaults (train.compile auto) as a studio worker runs them, after the "
        "compiled row has put its graph in inductor's cache (the studio's idle warm-up does the same)",
    )
    parser.add_argument(
        "--kernels",
        action="store_true",
        help="also time the eager path with the hand-derived kernels off (MOTORNET_CORE_EAGER_KERNELS=0), for the "
        "tutorial and for arm26 centre-out, on and off in alternating order",
    )
    parser.add_argument(
        "--native", action="store_true", help="also time the tutorial with the native (C) kernels off (the Python kernels)"
    )
    parser.add_argument("--arm26-iterations", type=int, default=10, help="timed iterations of the arm26 rows of --kernels")
    args = parser.parse_args()
    n = args.threads
    kernels = "vectorised" if args.simd else "scalar"
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    print(f"# {platform.machine()}, {os.cpu_count()} cores, load average {load}, torch {torch.__version__}")
    print(f"tutorial set-up, batch 32, 100 steps, {args.iterations} iterations, {n} thread(s), one process each")
    if args.compile:
        print(f"compiled: {kernels} CPU kernels")
    print(f"{'':24s}{'motornet_core':>14s}   motornet 0.3.0")
    ratios: dict[str, list[float]] = {
        "eager": [],
        "eager, kernels off": [],
        "eager, Python kernels": [],
        "compiled": [],
        "default": [],
        "default, first N": [],
    }
    on_off: dict[str, list[float]] = {"tutorial": [], "arm26_centre_out": []}
    decisions: set[str] = set()
    for r in range(args.rounds):
        # the machine's speed drifts: each round measures MotorNet between ours, eager and compiled;
        # with --kernels, kernels off goes first in odd rounds
        off = isolated(n, ours, args.iterations, False, True, False) if args.kernels and r % 2 else None
        a = isolated(n, ours, args.iterations)
        if args.kernels and off is None:
            off = isolated(n, ours, args.iterations, False, True, False)
        b = isolated(n, theirs, args.iterations)
        b_text = f"{b:10.2f}" if isinstance(b, float) else b
        ratio = f"   ({a / b:.2f}x)" if isinstance(b, float) else ""
        print(f"{'iterations/s':24s}{a:14.2f}   {b_text}{ratio}", flush=True)
        if isinstance(b, float):
            ratios["eager"].append(a / b)
        if args.native:
            py = isolated(n, ours, args.iterations, False, True, True, "tutorial_point_mass", False)
            ratio = f"   ({py / b:.2f}x)" if isinstance(b, float) else ""
            print(f"{'  eager, Python kernels':24s}{py:14.2f}{ratio}   [native/Python {a / py:.2f}x]", flush=True)
            if isinstance(b, float):
                ratios["eager, Python kernels"].append(py / b)
        if off is not None:
            on_off["tutorial"].append(a / off)
            ratio = f"   ({off / b:.2f}x)" if isinstance(b, float) else ""
            print(f"{'  eager, kernels off':24s}{off:14.2f}{ratio}   [kernels on/off {a / off:.2f}x]", flush=True)
            if isinstance(b, float):
                ratios["eager, kernels off"].append(off / b)
            arm = (args.arm26_iterations, False, True)
            if r % 2:
                arm_off = isolated(n, ours, *arm, False, "arm26_centre_out")
                arm_on = isolated(n, ours, *arm, True, "arm26_centre_out")
            else:
                arm_on = isolated(n, ours, *arm, True, "arm26_centre_out")
                arm_off = isolated(n, ours, *arm, False, "arm26_centre_out")
            on_off["arm26_centre_out"].append(arm_on / arm_off)
            print(
                f"{'arm26 eager, on / off':24s}{arm_on:14.2f} / {arm_off:.2f}   [kernels on/off {arm_on / arm_off:.2f}x]",
                flush=True,
            )
        if args.compile:
            c = isolated(n, ours, args.iterations, True, not args.simd)
            ratio = f"   ({c / b:.2f}x)" if isinstance(b, float) else ""
            print(f"{'iterations/s, compiled':24s}{c:14.2f}{ratio}", flush=True)
            if isinstance(b, float):
                ratios["compiled"].append(c / b)
        if args.default:
            first, steady, decision = isolated(n, ours_default, args.iterations + 2)
            decisions.add(decision.split(": ")[1] if ": " in decision else decision)
            if isinstance(b, float):
                ratios["default"].append(steady / b)
                ratios["default, first N"].append(first / b)
            ratio = f"   ({steady / b:.2f}x)" if isinstance(b, float) else ""
            print(f"{'iterations/s, default':24s}{steady:14.2f}{ratio}   [{decision}]", flush=True)
            ratio = f"   ({first / b:.2f}x)" if isinstance(b, float) else ""
            print(f"{'  incl. decision + load':24s}{first:14.2f}{ratio}", flush=True)
    if args.rounds > 1:
        for name, values in ratios.items():
            if values:
                print(
                    f"{name} speed-up over {len(values)} rounds: median {statistics.median(values):.2f}x, "
                    f"range {min(values):.2f}-{max(values):.2f}x"
                )
        for name, values in on_off.items():
            if values:
                print(
                    f"{name} eager kernels on/off over {len(values)} rounds: median {statistics.median(values):.2f}x, "
                    f"range {min(values):.2f}-{max(values):.2f}x"
                )
    if decisions:
        print(f"default path taken: {', '.join(sorted(decisions))}")
    if args.to_loss is not None:
        cap = (args.to_loss, args.window, args.max_iterations)
        rows = [("motornet_core", isolated(n, ours_to_loss, *cap))]
        if args.compile:
            with tempfile.TemporaryDirectory(prefix="inductor-") as cache:
                # the same fresh cache twice: first cold (everything compiled), then warm (loaded)
                rows.append(("  compiled, cold", isolated(n, ours_to_loss, *cap, True, cache, not args.simd)))
                rows.append(("  compiled, warm", isolated(n, ours_to_loss, *cap, True, cache, not args.simd)))
        rows.append(("motornet 0.3.0", isolated(n, theirs, 0, *cap)))
        print(f"wall time to mean loss <= {args.to_loss} over {args.window} iterations (cap {args.max_iterations}):")
        for name, r in rows:
            if isinstance(r, tuple):
                seconds, k, reached = r
                state = "reached" if reached else "NOT reached (cap)"
                print(f"  {name:18s}{seconds:10.1f} s  {k:6d} iterations  {state}")
            else:
                print(f"  {name:18s}{r}")


if __name__ == "__main__":
    main()
