"""Dynamics analyses of a trained run: fixed points, tangling and population trajectories per condition.

The trained policy is run on the deterministic evaluation batch (one trial per condition, e.g. each
centre-out target); its hidden states seed the fixed-point search of
:func:`motornet_core.analysis.dynamics.find_fixed_points`, with the network's input held at the
observation of one chosen condition at one chosen time; tangling and PCA read the same trajectories,
for the whole network and for each area of a multi-area policy. The trajectories include the run's
own ``interventions`` (they are part of every trial it was trained on); the fixed points are those of
the intact map.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from pydantic import Field

from motornet_core.analysis.dynamics import find_fixed_points, population_trajectories, tangling
from motornet_core.errors import SpecError
from motornet_core.specs.base import SpecModel
from motornet_core.specs.run import RunSpec
from motornet_core.training.loop import EVAL_SEED_OFFSET, Trainer

MAX_POINTS = 100


class DynamicsParams(SpecModel):
    """Parameters of the dynamics analyses (bounded so that one analysis takes seconds on a CPU)."""

    n_initial: int = Field(32, ge=1, le=256, description="fixed-point searches, started from states sampled on the trajectories")
    n_iterations: int = Field(1000, ge=1, le=5000, description="Adam steps of each search")
    lr: float = Field(1e-2, gt=0.0, le=1.0, description="Adam learning rate of the searches")
    q_tolerance: float = Field(1e-5, gt=0.0, le=10.0, description="largest q = 0.5|F(h) - h|^2 kept (slow points above ~1e-8)")
    unique_distance: float = Field(1e-2, gt=0.0, le=10.0, description="points closer than this are merged")
    condition: int = Field(0, ge=0, le=255, description="evaluation trial whose input is held during the search")
    input_time: float | None = Field(None, ge=0.0, le=20.0, description="time of that input [s]; None: the trial's end")
    n_components: int = Field(3, ge=2, le=10, description="principal components of the population trajectories")
    eps_fraction: float = Field(0.1, gt=0.0, le=10.0, description="tangling's eps as a fraction of the total variance")
    init_noise: float = Field(
        0.0, ge=0.0, le=10.0, description="std of Gaussian noise added to the sampled initial states (explores off trajectories)"
    )
    seed: int = Field(0, ge=0, le=2**31 - 1, description="seed of the sampled initial states")


def _r(x: Any, digits: int = 6) -> Any:
    return np.round(np.asarray(x, float), digits).tolist()


@torch.no_grad()
def _evaluation_trials(trainer: Trainer) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Observations (C, T, I), states (C, T, S), hidden activity (C, T, H) and final targets (C, 2) [m]."""
    block = trainer.current_block()  # a protocol's runs: the perturbations of the block last trained
    env = trainer.eval_env if block is None else trainer.block_eval_envs[block]
    policy = trainer.policy
    policy.eval()
    gen = torch.Generator(device=trainer.device).manual_seed(trainer.spec.train.seed + EVAL_SEED_OFFSET)
    state = env.initial(trainer.spec.train.eval_batch_size, generator=gen, evaluation=True)
    loop = trainer.eval_loop
    h = policy.initial_state(state.batch_size, like=state.effector.position)
    targets = state.episode.target[:, -1]
    obs, states, hidden = [], [], []
    while not env.done(state):
        obs.append(env.observation(state))
        h, state = loop.step(h, state, gen, noise=False)
        states.append(h.reshape(h.shape[0], -1))
        hidden.append(policy.activity(h))
    return torch.stack(obs, 1), torch.stack(states, 1), torch.stack(hidden, 1), targets


def analyse_dynamics(trainer: Trainer, params: DynamicsParams | None = None) -> dict[str, Any]:
    """Fixed points, tangling and population trajectories of ``trainer``'s policy (JSON-able).

    Returns:
        ``params``; ``time`` (T',) [s] and ``targets`` (C, 2) [m]; for the whole network
        ``trajectories`` (C, T', k) in its leading PCs, ``tangling`` (C, T') and ``tangling_max`` (C,)
        [1/s^2]; ``areas``: the same per area (one ``network`` group without areas) with its unit
        range and ``fixed_points_pc``; ``fixed_points``: ``pc`` (K, k), ``q`` (K,), ``stable`` (K,),
        ``eigenvalues_real`` / ``eigenvalues_imag`` (K, S) of the Jacobian of the state map.

    Raises:
        SpecError: a policy other than a one-layer GRU or RNN (``policy.kind``, ``policy.n_layers``),
            or a ``condition`` beyond the evaluation batch.
    """
    p = params if params is not None else DynamicsParams()
    spec: RunSpec = trainer.spec
    if spec.policy.kind not in ("gru", "rnn", "multi_area"):
        raise SpecError(
            [{"loc": "policy.kind", "msg": "dynamics analyses need a gru, rnn or multi_area policy", "input": spec.policy.kind}]
        )
    if spec.policy.kind != "multi_area" and spec.policy.n_layers != 1:
        raise SpecError([{"loc": "policy.n_layers", "msg": "dynamics analyses need one layer", "input": spec.policy.n_layers}])
    obs, states, hidden, targets = _evaluation_trials(trainer)
    c, t = obs.shape[0], obs.shape[1]
    if p.condition >= c:
        raise SpecError([{"loc": "condition", "msg": f"must be below the {c} evaluation trials", "input": p.condition}])
    dt = trainer.env.dt
    k_in = t - 1 if p.input_time is None else min(round(p.input_time / dt), t - 1)
    u = obs[p.condition, k_in]  # (I,)
    policy = trainer.policy
    layers, size = policy.n_layers, policy.state_size

    def step(h: torch.Tensor) -> torch.Tensor:
        _, new = policy(u.expand(h.shape[0], -1), h.reshape(h.shape[0], layers, size), noise=False)
        return new.reshape(h.shape[0], -1)

    gen = torch.Generator().manual_seed(p.seed)
    pool = states.reshape(c * t, -1)
    idx = torch.randint(0, pool.shape[0], (p.n_initial,), generator=gen)
    starts = pool[idx]
    if p.init_noise > 0:
        starts = starts + p.init_noise * torch.randn(starts.shape, generator=gen, dtype=starts.dtype)
    for param in policy.parameters():
        param.requires_grad_(False)
    try:
        fps = find_fixed_points(step, starts, p.n_iterations, p.lr, p.q_tolerance, p.unique_distance)
    finally:
        for param in policy.parameters():
            param.requires_grad_(True)
    pcs = population_trajectories(hidden.double().numpy(), p.n_components)
    comps, mean = pcs["components"], pcs["mean"]
    fp_pc = (fps.points[:, : policy.hidden_size] - mean) @ comps.T if len(fps.points) else np.zeros((0, comps.shape[0]))
    q_t = tangling(pcs["projection"], dt, p.eps_fraction)  # (C, T)
    sel = np.unique(np.round(np.linspace(0, t - 1, min(t, MAX_POINTS))).astype(int))
    eig = fps.eigenvalues
    n = policy.hidden_size
    slices: dict[str, slice] = dict(getattr(policy, "area_slices", {})) or {"network": slice(0, n)}
    act = hidden.double().numpy()
    areas = []
    for name, sl in slices.items():
        k = min(p.n_components, sl.stop - sl.start)
        a_pcs = population_trajectories(act[..., sl], k)
        a_q = tangling(a_pcs["projection"], dt, p.eps_fraction)
        a_fp = (fps.points[:, sl] - a_pcs["mean"]) @ a_pcs["components"].T if len(fps.points) else np.zeros((0, k))
        areas.append(
            {
                "name": name,
                "start": sl.start,
                "stop": sl.stop,
                "explained_variance_ratio": _r(a_pcs["explained_variance_ratio"]),
                "trajectories": _r(a_pcs["projection"][:, sel]),
                "tangling": _r(a_q[:, sel]),
                "tangling_max": _r(a_q.max(1)),
                "fixed_points_pc": _r(a_fp),
            }
        )
    return {
        "params": p.model_dump(mode="json"),
        "dt": dt,
        "time": _r((sel + 1) * dt),
        "targets": _r(targets.numpy()),
        "input_step": k_in,
        "explained_variance_ratio": _r(pcs["explained_variance_ratio"]),
        "trajectories": _r(pcs["projection"][:, sel]),
        "tangling": _r(q_t[:, sel]),
        "tangling_max": _r(q_t.max(1)),
        "areas": areas,
        "fixed_points": {
            "pc": _r(fp_pc),
            "q": [float(f"{v:.3e}") for v in fps.q],
            "stable": [bool(s) for s in fps.stable],
            "eigenvalues_real": _r(eig.real),
            "eigenvalues_imag": _r(eig.imag),
            "n_candidates": len(fps.candidate_q),
            "n_below_tolerance": int((fps.candidate_q < p.q_tolerance).sum()),
        },
    }
