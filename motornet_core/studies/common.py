"""Shared by the training studies: small run specs, training with progress and cancellation, evaluation."""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import torch
from pydantic import Field

from motornet_core import presets
from motornet_core.effector import Effector
from motornet_core.envs import FunctionalEnv
from motornet_core.policies import Policy
from motornet_core.run_presets import ARM26_CENTRE, arm26_centre_out
from motornet_core.specs.base import SpecModel
from motornet_core.specs.run import RunSpec
from motornet_core.studies.base import OffsetSink, StudyCancelled, StudyContext
from motornet_core.training import Trainer, TrainResult, rollout
from motornet_core.training.ensemble import EnsembleTrainer
from motornet_core.training.sinks import NullSink, TrainingSink

Reacher = Literal["arm26", "point_mass_24"]


class TrainingParams(SpecModel):
    """Network and optimiser settings shared by the training studies (small defaults: minutes on 2 CPU cores)."""

    iterations: int = Field(400, ge=1, le=100_000, description="gradient steps of the (first) training")
    batch_size: int = Field(16, ge=1, le=1024, description="episodes per gradient step")
    hidden_size: int = Field(32, ge=2, le=512, description="GRU units")
    lr: float = Field(3e-3, gt=0.0, le=1.0, description="Adam learning rate (cosine-decayed to lr / 30)")
    duration: float = Field(0.8, ge=0.2, le=5.0, description="episode length [s]")
    seed: int = Field(0, ge=0, le=2**31 - 1, description="seed of the first network (network i: seed + i) and the trials")
    seeds: int = Field(8, ge=1, le=64, description="independently initialised networks per condition (trained as one ensemble)")
    threads: int = Field(1, ge=1, le=64, description="torch CPU threads while the study runs")


def run_spec(effector: Reacher, task: dict[str, Any], p: TrainingParams, name: str) -> RunSpec:
    """arm26_centre_out's network, loss, delays and noise on ``effector`` and ``task``, at the study's sizes."""
    base = arm26_centre_out().model_dump(mode="json")
    base["name"] = name
    base["tags"] = ["study"]
    base["effector"] = presets.EFFECTOR_PRESETS[effector]().model_dump(mode="json")
    senses = {k: base["task"][k] for k in ("vision_delay", "proprioception_delay", "vision_noise", "proprioception_noise")}
    base["task"] = {**senses, "action_noise": 1e-3, "duration": p.duration, **task}
    if effector == "point_mass_24" and "centre_joint" in base["task"]:
        base["task"]["centre_joint"] = [0.0, 0.0]
    base["policy"]["hidden_size"] = p.hidden_size
    base["train"].update(
        n_iterations=p.iterations,
        batch_size=p.batch_size,
        lr=p.lr,
        lr_min=p.lr / 30,
        seed=p.seed,
        eval_every=max(p.iterations // 10, 1),
        checkpoint_every=10**6,
        device="cpu",
    )
    return RunSpec.parse(base)


def centre(effector: Reacher) -> list[float]:
    """Joint position of the reach centre (arm26: shoulder 45 deg, elbow 90 deg; point mass: origin)."""
    return list(ARM26_CENTRE) if effector == "arm26" else [0.0, 0.0]


def train(
    ctx: StudyContext, trainer: Trainer, phase: str, until: int | None = None, sink: OffsetSink | None = None
) -> TrainResult:
    """Train to ``until`` iterations (default: the spec's), streaming to the study sink; raise StudyCancelled on stop."""
    if until is not None and until != trainer.spec.train.n_iterations:
        trainer.spec = trainer.spec.with_updates({"train.n_iterations": until})
    ctx.log(f"{phase}: training {trainer.spec.name} to step {trainer.spec.train.n_iterations}")
    out = trainer.train(sink or OffsetSink(ctx, phase), should_stop=ctx.stopped)
    if out.stopped:
        raise StudyCancelled
    return out


def fresh_trainer(spec: RunSpec, policy: Policy | None = None) -> Trainer:
    """A Trainer for ``spec``, starting from ``policy``'s weights when given (a new optimiser)."""
    trainer = Trainer(spec, device="cpu")
    if policy is not None:
        trainer.policy.load_state_dict(policy.state_dict())
    return trainer


def ensemble(spec: RunSpec, seeds: int, policies: list[Policy] | None = None) -> EnsembleTrainer:
    """An ensemble of ``seeds`` networks of ``spec`` (network i: seed + i), from ``policies``' weights when given."""
    ens = EnsembleTrainer(spec.with_updates({"train.replicates": seeds}), device="cpu")
    if policies is not None:
        for r, policy in zip(ens.replicates, policies, strict=True):
            r.policy.load_state_dict(policy.state_dict())
    return ens


def train_seeds(
    ctx: StudyContext, ens: EnsembleTrainer, phase: str, until: int | None = None, sink: OffsetSink | None = None
) -> None:
    """Train every network of ``ens`` to ``until`` iterations (default: its spec's) with the spec's learning-rate schedule.

    The study's sink sees the first network's metrics and snapshots (one increasing step counter);
    raises StudyCancelled on stop.
    """
    stop_at = until if until is not None else ens.spec.train.n_iterations
    ctx.log(f"{phase}: training {ens.n} networks of {ens.spec.name} (seeds {ens.spec.train.seed}..) to step {stop_at}")
    sinks: list[TrainingSink] = [sink or OffsetSink(ctx, phase)] + [NullSink() for _ in range(ens.n - 1)]
    ens.train(sinks, should_stop=lambda: ctx.stopped() or ens.step >= stop_at)
    if ctx.stopped():
        raise StudyCancelled


def final_losses(ens: EnsembleTrainer) -> list[float]:
    """The last training loss of every network."""
    return [r.history[-1] if r.history else float("nan") for r in ens.replicates]


@torch.no_grad()
def evaluate(effector: Effector, policy: Policy, task: Any, batch_size: int = 8, seed: int = 0) -> dict[str, np.ndarray]:
    """Noise-free rollout of the task's evaluation set at full time resolution.

    Returns numpy arrays: ``hand`` (B, T+1, 2) [m], ``start`` (B, 2) [m], ``target`` (B, 2) [m]
    (final), ``hidden`` (B, T+1, H) (0 at t = 0), ``activation`` (B, T+1, M), ``load`` (B, T, 2) [N]
    (constant endpoint loads), ``time`` (T+1,) [s], and ``dt``.
    """
    env = FunctionalEnv(effector, task, deterministic=True)
    policy.eval()
    gen = torch.Generator().manual_seed(seed)
    run = rollout(env, policy, batch_size, generator=gen, evaluation=True)
    traj, episode = run.trajectory, run.episode
    hand = traj.fingertip[..., :2].double().numpy()
    hidden = traj.hidden.double().numpy()
    hidden = np.concatenate([np.zeros_like(hidden[:, :1]), hidden], axis=1)
    return {
        "hand": hand,
        "start": hand[:, 0],
        "target": traj.target[:, -1].double().numpy(),
        "hidden": hidden,
        "activation": traj.activation.double().numpy(),
        "load": episode.loads.endpoint.double().numpy(),
        "time": np.arange(hand.shape[1]) * env.dt,
        "dt": np.asarray(env.dt, dtype=np.float64),  # 0-d
    }
