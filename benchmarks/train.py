"""Training throughput of the tutorial set-up (point mass 24, random reach, 1 s, GRU 32, batch 32).

Prints iterations per second for motornet_core and, side by side, for motornet==0.3.0 when it is
importable (the same GRU controller and L1 loss driving MotorNet's own environment, following the
public API of its training tutorial). Run with ``nice``:

    nice -n 10 .venv/bin/python benchmarks/train.py --iterations 20 --threads 1
"""

from __future__ import annotations

import argparse
import time

import torch

from motornet_core.policies import build_policy
from motornet_core.run_presets import run_preset
from motornet_core.training import Trainer


def ours(iterations: int) -> float:
    """Iterations/s of :class:`Trainer` on the tutorial preset (after 2 warm-up iterations)."""
    trainer = Trainer(run_preset("tutorial_point_mass"))
    for _ in range(2):
        trainer.train_step()
    t0 = time.perf_counter()
    for _ in range(iterations):
        trainer.train_step()
    return iterations / (time.perf_counter() - t0)


def theirs(iterations: int) -> float | str:
    """Iterations/s with motornet 0.3.0's environment, or why it could not run."""
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

        def one() -> None:
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

        for _ in range(2):
            one()
        t0 = time.perf_counter()
        for _ in range(iterations):
            one()
        return iterations / (time.perf_counter() - t0)
    except Exception as exc:  # a peer's failure must not hide our figure
        return f"error: {type(exc).__name__}: {exc}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=20)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    a = ours(args.iterations)
    b = theirs(args.iterations)
    b_text = f"{b:10.2f}" if isinstance(b, float) else b
    print(f"tutorial set-up, batch 32, 100 steps, {args.iterations} iterations, {args.threads} thread(s)")
    print(f"{'':24s}{'motornet_core':>14s}   motornet 0.3.0")
    print(f"{'iterations/s':24s}{a:14.2f}   {b_text}")


if __name__ == "__main__":
    main()
