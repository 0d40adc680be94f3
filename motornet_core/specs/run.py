"""Policy, loss, training and run specifications.

A :class:`RunSpec` is everything needed to reproduce a training run: the effector, the task, the
network, the loss weights and the optimiser settings. Cross-field checks (delays that are whole
multiples of dt, one value per joint or muscle) live in :meth:`RunSpec._consistent`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from motornet_core.specs.areas import AreaSpec, ConnectionSpec, InterventionSpec, check_areas
from motornet_core.specs.base import SpecModel, fail
from motornet_core.specs.effector import EffectorSpec
from motornet_core.specs.task import CentreOutSpec, JointLoadSpec, TaskSpec

DELAY_TOLERANCE = 1e-6


def delay_steps(delay: float, dt: float) -> int:
    """Number of steps a delay of ``delay`` seconds lags a signal: round(delay / dt).

    Raises:
        ValueError: ``delay`` is not a whole multiple of ``dt`` (relative tolerance 1e-6, so that
            0.14 s at dt = 0.01 s passes despite float division).
    """
    steps = round(delay / dt)
    if abs(steps * dt - delay) > DELAY_TOLERANCE * max(dt, abs(delay)):
        raise ValueError(f"must be a whole multiple of dt = {dt} s, got {delay}")
    return int(steps)


class PolicySpec(SpecModel):
    """The controller network: observation -> excitation in [0, 1] (sigmoid read-out)."""

    kind: Literal["gru", "rnn", "lstm", "mlp", "multi_area"] = Field(
        "gru", description="network type (multi_area: named areas, see areas and connections)"
    )
    hidden_size: int = Field(32, ge=1, le=2048, description="units per hidden layer (not multi_area: its areas' sizes)")
    n_layers: int = Field(1, ge=1, le=8, description="stacked hidden layers (not multi_area)")
    hidden_noise: float = Field(0.0, ge=0.0, le=10.0, description="std of the noise added to hidden states each step")
    readout_bias: float = Field(-5.0, ge=-20.0, le=20.0, description="initial read-out bias (-5: excitation starts near 0)")
    areas: list[AreaSpec] = Field(default_factory=list, max_length=8, description="multi_area: the areas, in unit order")
    connections: list[ConnectionSpec] = Field(
        default_factory=list, max_length=64, description="multi_area: projections between areas (source -> target)"
    )
    dale: bool = Field(
        False,
        description="multi_area: Dale's law: each unit's outgoing weights keep one sign (excitatory >= 0, inhibitory "
        "<= 0); projections to other areas and to the muscles leave excitatory units only",
    )

    @model_validator(mode="after")
    def _areas(self) -> PolicySpec:
        if self.kind == "multi_area":
            check_areas(self.areas, self.connections)
        else:
            for name in ("areas", "connections"):
                if getattr(self, name):
                    raise fail(name, "is only used by kind 'multi_area'", f"{len(getattr(self, name))} entries")
            if self.dale:
                raise fail("dale", "is only used by kind 'multi_area'", self.dale)
        return self

    @property
    def n_units(self) -> int:
        """Units the read-out can see: the areas' sizes summed (multi_area) or ``hidden_size``."""
        return sum(a.size for a in self.areas) if self.kind == "multi_area" else self.hidden_size


class LossSpec(SpecModel):
    """Weights of the named loss terms (0 disables a term)."""

    position: float = Field(1.0, ge=0.0, le=1e6, description="weight of the fingertip-to-target distance")
    position_norm: Literal["l1", "l2"] = Field("l1", description="l1: sum_xy |d|; l2: sum_xy d^2")
    position_start: float = Field(0.0, ge=0.0, le=20.0, description="start of the position-loss window [s]")
    position_end: float | None = Field(None, ge=0.0, le=20.0, description="end of the window [s]; None: episode end")
    activation_l1: float = Field(0.0, ge=0.0, le=1e6, description="mean |activation|")
    activation_l2: float = Field(0.0, ge=0.0, le=1e6, description="mean activation^2")
    activation_rate: float = Field(0.0, ge=0.0, le=1e6, description="mean squared change of activation per step")
    hidden: float = Field(0.0, ge=0.0, le=1e6, description="mean squared hidden activity")
    hidden_rate: float = Field(0.0, ge=0.0, le=1e6, description="mean squared change of hidden activity per step")
    hand_speed: float = Field(0.0, ge=0.0, le=1e6, description="mean squared fingertip speed [m^2/s^2]")
    hand_jerk: float = Field(0.0, ge=0.0, le=1e6, description="mean squared fingertip jerk (finite differences) [m^2/s^6]")

    @model_validator(mode="after")
    def _window(self) -> LossSpec:
        if self.position_end is not None and self.position_end <= self.position_start:
            raise fail("position_end", f"must be after position_start ({self.position_start} s)", self.position_end)
        return self


class TrainSpec(SpecModel):
    """Optimiser and loop settings (Adam, BPTT over whole episodes)."""

    n_iterations: int = Field(1000, ge=1, le=1_000_000, description="gradient steps")
    batch_size: int = Field(32, ge=1, le=4096, description="episodes per gradient step")
    lr: float = Field(1e-3, gt=0.0, le=1.0, description="Adam learning rate")
    grad_clip: float | None = Field(1.0, gt=0.0, le=1e6, description="max gradient norm; None: no clipping")
    lr_schedule: Literal["none", "step", "cosine"] = Field("none", description="learning-rate schedule")
    lr_step_every: int = Field(1000, ge=1, le=1_000_000, description="step schedule: iterations between decays")
    lr_step_gamma: float = Field(0.5, gt=0.0, le=1.0, description="step schedule: decay factor")
    lr_min: float = Field(0.0, ge=0.0, le=1.0, description="cosine schedule: final learning rate")
    seed: int = Field(0, ge=0, le=2**31 - 1, description="seed of every random source")
    replicates: int = Field(
        1,
        ge=1,
        le=64,
        description="independently initialised networks trained together as one batched computation; replicate i "
        "is this run with seed + i (its own weights and data), an ordinary run of its own",
    )
    device: Literal["cpu", "cuda", "auto"] = Field("cpu", description="auto: cuda when available")
    eval_every: int = Field(100, ge=1, le=1_000_000, description="iterations between evaluation snapshots")
    checkpoint_every: int = Field(500, ge=1, le=1_000_000, description="iterations between checkpoints")
    checkpoint_seconds: float = Field(
        30.0,
        ge=1.0,
        le=86_400.0,
        description="seconds of training between checkpoints at most (whichever of this and checkpoint_every "
        "comes first): a crash loses at most this much training",
    )
    eval_batch_size: int = Field(8, ge=1, le=256, description="episodes of the evaluation batch (centre-out: all targets)")
    compile: Literal["auto", True, False] = Field(
        "auto",
        description="auto: torch.compile the training steps (policy and environment, 4 steps per graph) when that "
        "pays for the run's length: the iterations left x the eager time per iteration saved by the ~3-4x faster "
        "compiled chunks must exceed the compilation (~20 s cold, a few seconds once inductor's disk cache holds "
        "the graph); the run's log says which path it took and why. true/false: always/never. Compiled results "
        "agree with eager mode to rounding, not bit for bit; evaluation stays eager",
    )


class RunSpec(SpecModel):
    """A complete, reproducible training run."""

    name: str = Field("run", min_length=1, max_length=128)
    effector: EffectorSpec
    task: TaskSpec
    policy: PolicySpec = Field(default_factory=PolicySpec)
    loss: LossSpec = Field(default_factory=LossSpec)
    train: TrainSpec = Field(default_factory=TrainSpec)
    tags: list[str] = Field(default_factory=list, max_length=32)
    interventions: list[InterventionSpec] = Field(
        default_factory=list,
        max_length=16,
        description="silence, clamp, scale or drive units, areas or muscles during part of every trial (training and evaluation)",
    )

    @model_validator(mode="after")
    def _consistent(self) -> RunSpec:
        dt, task = self.effector.dt, self.task
        check_policy_timing(self.policy, dt, "policy")
        check_interventions(self.interventions, self.policy, self.effector.n_muscles, task.duration, "interventions")
        for name in ("vision_delay", "proprioception_delay"):
            value = getattr(task, name)
            try:
                steps = delay_steps(value, dt)
            except ValueError as exc:
                raise fail(f"task.{name}", str(exc).split(", got")[0], value) from None
            if steps * dt >= task.duration:
                raise fail(f"task.{name}", f"must be shorter than the episode ({task.duration} s)", value)
        n, m = self.effector.dof, self.effector.n_muscles
        for name in ("centre_joint",):
            value = getattr(task, name, None)
            if value is not None and len(value) != n:
                raise fail(f"task.{name}", f"needs one value per joint ({n})", value)
            lo, hi = _position_bounds(self.effector)
            for i, q in enumerate(value or []):
                if not lo[i] <= q <= hi[i]:
                    raise fail(f"task.{name}.{i}", f"must lie within the joint bounds [{lo[i]}, {hi[i]}]", q)
        if isinstance(task.action_noise, list) and len(task.action_noise) != m:
            raise fail("task.action_noise", f"needs one value per muscle ({m}) or a scalar", task.action_noise)
        n_obs = observation_size(self)
        if isinstance(task.obs_noise, list) and len(task.obs_noise) != n_obs:
            raise fail("task.obs_noise", f"needs one value per observation entry ({n_obs}) or a scalar", task.obs_noise)
        for i, p in enumerate(task.perturbations):
            if isinstance(p, JointLoadSpec) and len(p.torque) != n:
                raise fail(f"task.perturbations.{i}.torque", f"needs one value per joint ({n})", p.torque)
        if self.loss.position_end is not None and self.loss.position_end > task.duration + 1e-9:
            raise fail("loss.position_end", f"must be within the episode ({task.duration} s)", self.loss.position_end)
        return self


def check_policy_timing(policy: PolicySpec, dt: float, prefix: str) -> None:
    """Time constants >= dt and connection delays in whole steps (raises :func:`fail` under ``prefix``)."""
    for i, a in enumerate(policy.areas):
        if a.tau is not None and a.tau < dt * (1 - DELAY_TOLERANCE):
            raise fail(f"{prefix}.areas.{i}.tau", f"must be >= dt = {dt} s", a.tau)
    for i, c in enumerate(policy.connections):
        try:
            delay_steps(c.delay, dt)
        except ValueError as exc:
            raise fail(f"{prefix}.connections.{i}.delay", str(exc).split(", got")[0], c.delay) from None


def check_interventions(
    interventions: list[InterventionSpec], policy: PolicySpec, n_muscles: int, duration: float, prefix: str
) -> None:
    """Interventions that name existing areas, units and muscles and start within the trial."""
    sizes = {a.name: a.size for a in policy.areas}
    for i, iv in enumerate(interventions):
        where = f"{prefix}.{i}"
        if iv.start >= duration:
            raise fail(f"{where}.start", f"must be within the trial ({duration} s)", iv.start)
        if iv.target in ("area", "units") and iv.area is not None and iv.area not in sizes:
            known = f"areas are {sorted(sizes)}" if sizes else "the policy has no areas (kind multi_area has)"
            raise fail(f"{where}.area", f"is not an area of the policy; {known}", iv.area)
        if iv.target == "units":
            n = sizes[iv.area] if iv.area is not None else policy.n_units
            for j, u in enumerate(iv.units):
                if u >= n:
                    raise fail(f"{where}.units.{j}", f"must be < {n} (the units of {iv.area or 'the network'})", u)
        if iv.target == "muscles":
            for j, m in enumerate(iv.muscles):
                if m >= n_muscles:
                    raise fail(f"{where}.muscles.{j}", f"must be < {n_muscles} (the effector's muscles)", m)


def _position_bounds(effector: EffectorSpec) -> tuple[list[float], list[float]]:
    """Lower and upper position bound of each joint of the effector's skeleton."""
    sk = effector.skeleton
    if hasattr(sk, "links"):
        return [link.pos_lower_bound for link in sk.links], [link.pos_upper_bound for link in sk.links]
    return list(sk.pos_lower_bound), list(sk.pos_upper_bound)


def task_input_size(task: object) -> int:
    """Goal (2) plus the go cue (1) where the task has one."""
    return 2 + int(isinstance(task, CentreOutSpec) and task.go_cue)


def observation_groups(spec: RunSpec) -> dict[str, tuple[int, int]]:
    """[start, stop) of each observation group: task inputs, vision, proprioception, stacked actions."""
    m = spec.effector.n_muscles
    sizes = {
        "task": task_input_size(spec.task),
        "vision": 2,
        "proprioception": 2 * m,
        "actions": spec.task.action_frame_stacking * m,
    }
    out, start = {}, 0
    for name, size in sizes.items():
        out[name] = (start, start + size)
        start += size
    return out


def observation_size(spec: RunSpec) -> int:
    """Entries of the observation: task inputs, vision (2), proprioception (2M), stacked actions."""
    m = spec.effector.n_muscles
    return task_input_size(spec.task) + 2 + 2 * m + spec.task.action_frame_stacking * m
