"""Replicate ensembles' policy step: ``vmap(functional_call)`` (what ``EnsemblePolicy`` does) against
hand-written grouped matrix products (``torch.baddbmm`` on stacked weights), issue 13's "measure and pick".

Both run the same N GRU policies (the tutorial's: GRU 32, one layer, sigmoid read-out) on N groups
of B rows for T steps, forward and backward through the stacked parameters, in alternating rounds
in one process (one thread). The outputs are checked equal (to float32 rounding) before timing.
Prints each round and the median ratio grouped / vmap of steps per second::

    nice -n 10 .venv/bin/python benchmarks/ensemble_policy.py --replicates 8 --batch 32 --steps 100 --rounds 5

With ``--training``: whole eager training iterations of an 8-replicate tutorial ensemble
(``EnsembleTrainer``, physics and loss included) with ``EnsemblePolicy.grouped`` on and off, in
alternating rounds in one process::

    nice -n 10 .venv/bin/python benchmarks/ensemble_policy.py --training --rounds 4
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time

import torch
from torch import Tensor

from motornet_core.policies.recurrent import build_policy
from motornet_core.run_presets import run_preset
from motornet_core.training.ensemble import EnsemblePolicy


def _policies(n: int, n_inputs: int, n_outputs: int) -> EnsemblePolicy:
    spec = run_preset("tutorial_point_mass").policy
    policies = []
    for i in range(n):
        torch.manual_seed(i)
        policies.append(build_policy(spec, n_inputs, n_outputs, None, 0.01))
    return EnsemblePolicy(policies)


def grouped_step(p: dict[str, Tensor], obs: Tensor, h: Tensor) -> tuple[Tensor, Tensor]:
    """One GRU + sigmoid read-out step of N policies with ``baddbmm``: obs (N, B, I), h (N, B, H)."""
    gi = torch.baddbmm(p["cells.0.bias_ih"].unsqueeze(1), obs, p["cells.0.weight_ih"].transpose(1, 2))
    gh = torch.baddbmm(p["cells.0.bias_hh"].unsqueeze(1), h, p["cells.0.weight_hh"].transpose(1, 2))
    i_r, i_z, i_n = gi.chunk(3, dim=-1)
    h_r, h_z, h_n = gh.chunk(3, dim=-1)
    r, z = torch.sigmoid(i_r + h_r), torch.sigmoid(i_z + h_z)
    new = (1 - z) * torch.tanh(i_n + r * h_n) + z * h
    action = torch.sigmoid(torch.baddbmm(p["readout.bias"].unsqueeze(1), new, p["readout.weight"].transpose(1, 2)))
    return action, new


def _rollout_vmap(ens: EnsemblePolicy, obs: Tensor, steps: int) -> Tensor:
    ens.bind()
    n, b = obs.shape[0], obs.shape[1]
    h = ens.initial_state(n * b, obs)
    total = obs.new_zeros(())
    x = obs.reshape(n * b, -1)
    for _ in range(steps):
        action, h = ens(x, h, noise=False)
        total = total + action.square().mean()
    return total


def _rollout_grouped(ens: EnsemblePolicy, obs: Tensor, steps: int) -> Tensor:
    ens.bind()
    p = ens._stacked
    assert p is not None
    n, b = obs.shape[0], obs.shape[1]
    h = obs.new_zeros(n, b, ens.hidden_size)
    total = obs.new_zeros(())
    for _ in range(steps):
        action, h = grouped_step(p, obs, h)
        total = total + action.square().mean()
    return total


def _rate(fn, ens: EnsemblePolicy, obs: Tensor, steps: int, repeats: int) -> float:
    t0 = time.perf_counter()
    for _ in range(repeats):
        ens.zero_grad(set_to_none=True)
        fn(ens, obs, steps).backward()
    return repeats * steps / (time.perf_counter() - t0)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--replicates", type=int, default=8)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--steps", type=int, default=100)
    p.add_argument("--inputs", type=int, default=16, help="observation size")
    p.add_argument("--outputs", type=int, default=4, help="muscles")
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--training", action="store_true", help="whole ensemble training iterations, grouped on and off")
    a = p.parse_args()
    torch.set_num_threads(1)
    if a.training:
        training(a.replicates, a.rounds, a.repeats)
        return
    ens = _policies(a.replicates, a.inputs, a.outputs)
    obs = torch.randn(a.replicates, a.batch, a.inputs, generator=torch.Generator().manual_seed(0))
    # the same computation: equal outputs and gradients before any timing
    ens.zero_grad()
    _rollout_vmap(ens, obs, 5).backward()
    g_vmap = [q.grad.clone() for q in ens.parameters()]
    ens.zero_grad()
    _rollout_grouped(ens, obs, 5).backward()
    g_grouped = [q.grad.clone() for q in ens.parameters()]
    for x, y in zip(g_vmap, g_grouped, strict=True):
        torch.testing.assert_close(x, y, rtol=1e-4, atol=1e-7)
    print(f"machine: {platform.machine()} {torch.get_num_threads()} thread, torch {torch.__version__}")
    print(f"{a.replicates} replicates x batch {a.batch}, GRU {ens.hidden_size}, {a.steps} steps, forward + backward")
    ratios = []
    for k in range(a.rounds):
        order = ("vmap", "grouped") if k % 2 == 0 else ("grouped", "vmap")
        rates = {}
        for name in order:
            fn = _rollout_vmap if name == "vmap" else _rollout_grouped
            rates[name] = _rate(fn, ens, obs, a.steps, a.repeats)
        ratios.append(rates["grouped"] / rates["vmap"])
        vm, gr = rates["vmap"], rates["grouped"]
        print(f"round {k + 1}: vmap {vm:8.0f} steps/s, grouped {gr:8.0f} steps/s, grouped/vmap {ratios[-1]:.2f}")
    print(f"grouped / vmap: median {statistics.median(ratios):.2f} (rounds {min(ratios):.2f}-{max(ratios):.2f})")


def training(replicates: int, rounds: int, repeats: int) -> None:
    """Eager ensemble training iterations/s of the tutorial with grouped GRU steps on and off."""
    from motornet_core.training.ensemble import EnsembleTrainer

    spec = run_preset("tutorial_point_mass").with_updates({"train.replicates": replicates, "train.compile": False})
    ens = EnsembleTrainer(spec)
    ens.train_step()  # warm-up
    print(f"machine: {platform.machine()}, torch {torch.__version__}, 1 thread")
    print(f"tutorial, {replicates} replicates, eager training iterations, {repeats} per measurement")
    ratios = []
    for k in range(rounds):
        rates = {}
        for grouped in (True, False) if k % 2 == 0 else (False, True):
            ens.policy.grouped = grouped
            t0 = time.perf_counter()
            for _ in range(repeats):
                ens.train_step()
            rates[grouped] = repeats / (time.perf_counter() - t0)
        ratios.append(rates[True] / rates[False])
        print(f"round {k + 1}: grouped {rates[True]:.2f} it/s, vmap {rates[False]:.2f} it/s, grouped/vmap {ratios[-1]:.2f}")
    print(f"grouped / vmap: median {statistics.median(ratios):.2f} (rounds {min(ratios):.2f}-{max(ratios):.2f})")


if __name__ == "__main__":
    main()
