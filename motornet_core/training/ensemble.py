"""Replicate ensembles: N independently initialised networks of one run spec trained as one batched computation.

Replicate i is the run ``spec`` with ``train.seed = seed + i`` (its own initial weights and its own
data stream). Each replicate keeps what a single run has (:class:`~motornet_core.training.Trainer`:
its policy, Adam optimiser, random generator, loss history, checkpoints and evaluation snapshots),
so a replicate is an ordinary run and its checkpoint resumes as one. What the ensemble shares is the
rollout: the N policies' parameters are stacked along a leading replicate axis and applied to N
groups of B trials with ``torch.func.vmap`` + ``functional_call``, and the physics and the
environment step all N x B trials at once (the effector is the same for every replicate), eagerly
or in compiled chunks. Each replicate's random numbers come from its own generator in the order of a
single run, so replicate i trains like a single run with seed i, to rounding.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Sequence
from dataclasses import fields
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn
from torch.func import functional_call, vmap

from motornet_core.envs import EnvState, FunctionalEnv, StepNoise
from motornet_core.errors import SpecError
from motornet_core.losses import Trajectory, compute_loss
from motornet_core.policies import Policy
from motornet_core.policies.recurrent import GRUPolicy
from motornet_core.specs.run import RunSpec
from motornet_core.training.fastpath import AutoCompile, CompileDecision, graph_key
from motornet_core.training.interventions import InterventionSchedule
from motornet_core.training.loop import CheckpointClock, Trainer, TrainingDiverged, allow_compiled_variants, learning_rate
from motornet_core.training.records import TrainResult
from motornet_core.training.rollout import ClosedLoop, GeneratorGroups, LoopDraws, RandomSource, rollout_from
from motornet_core.training.sinks import NullSink, TrainingSink


def replicate_specs(spec: RunSpec) -> list[RunSpec]:
    """The N single-run specs of an ensemble: ``train.seed + i`` and ``train.replicates = 1`` for i < N."""
    n, seed = spec.train.replicates, spec.train.seed
    if seed + n - 1 > 2**31 - 1:
        raise SpecError([{"loc": "train.seed", "msg": f"seed + replicates - 1 must be <= {2**31 - 1}", "input": seed}])
    return [spec.with_updates({"train.seed": seed + i, "train.replicates": 1}) for i in range(n)]


def cat_rows(items: Sequence[Any]) -> Any:
    """Concatenate frozen dataclasses of tensors (or tensors, tuples, None) along the batch axis 0."""
    head = items[0]
    if isinstance(head, Tensor):
        return torch.cat(list(items), dim=0)
    if head is None or isinstance(head, (int, float, str)):
        return head
    if isinstance(head, tuple):
        return tuple(cat_rows([x[j] for x in items]) for j in range(len(head)))
    if isinstance(head, list):
        return [cat_rows([x[j] for x in items]) for j in range(len(head))]
    return type(head)(**{f.name: cat_rows([getattr(x, f.name) for x in items]) for f in fields(head)})


def take_rows(obj: Any, rows: slice) -> Any:
    """Rows ``rows`` of every tensor in a frozen dataclass (or tensor, tuple, list, None)."""
    if isinstance(obj, Tensor):
        return obj[rows]
    if obj is None or isinstance(obj, (int, float, str)):
        return obj
    if isinstance(obj, (tuple, list)):
        return type(obj)(take_rows(x, rows) for x in obj)
    return type(obj)(**{f.name: take_rows(getattr(obj, f.name), rows) for f in fields(obj)})


class EnsemblePolicy(nn.Module):
    """N policies of one architecture applied to N groups of B rows at once.

    Call :meth:`bind` before a rollout: it stacks the replicates' parameters (N, ...) (differentiably:
    gradients reach each replicate's own parameters). ``forward`` then takes (N * B, ...) rows, the
    first B belonging to replicate 0, and applies replicate i's parameters to its group with
    ``vmap(functional_call(...))``.

    Args:
        policies: the replicates (same class and spec).
    """

    def __init__(self, policies: Sequence[Policy]) -> None:
        super().__init__()
        self.replicates = nn.ModuleList(policies)
        head = policies[0]
        self.n = len(policies)
        self.hidden_size, self.n_layers, self.state_size = head.hidden_size, head.n_layers, head.state_size
        self.area_slices: dict[str, slice] = dict(getattr(head, "area_slices", {}))
        self._template = [copy.deepcopy(head).to("meta")]  # a list: not a submodule, no parameters of its own
        self._stacked: dict[str, Tensor] | None = None
        # plain GRU policies step as grouped matrix products (faster than vmap eagerly); others through
        # vmap. False sends GRUs through vmap too (to compare: benchmarks/ensemble_policy.py --training)
        self.grouped = type(head) is GRUPolicy and {n for n, _ in head.named_buffers()} == set()

    def bind(self) -> None:
        """Stack the replicates' current parameters for the next rollout."""
        # buffers too (a multi-area policy's masks and signs, drawn per replicate seed)
        named = [{**dict(r.named_parameters()), **dict(r.named_buffers())} for r in self.replicates]
        # torch.stack, not torch.func.stack_module_state: that one makes new leaves, cut from the replicates
        self._stacked = {name: torch.stack([p[name] for p in named]) for name in named[0]}

    def _one(
        self, params: dict[str, Tensor], obs: Tensor, h: Tensor, eps: list[Tensor] | None, units: tuple[Tensor, Tensor] | None
    ) -> tuple[Tensor, Tensor]:
        kwargs: dict[str, object] = {"noise": False, "eps": eps, "fused": False}
        if units is not None:
            kwargs["units"] = units
        return functional_call(self._template[0], params, (obs, h), kwargs)

    def forward(
        self,
        obs: Tensor,
        h: Tensor,
        noise: bool = False,
        eps: list[Tensor] | None = None,
        units: tuple[Tensor, Tensor] | None = None,
    ) -> tuple[Tensor, Tensor]:
        """Excitations (N B, M) and new states (N B, L, S) from observations (N B, I) and states (N B, L, S).

        ``units``: an intervention's (gain (H,), offset (H,)), the same for every replicate.
        """
        if self._stacked is None:
            raise RuntimeError("EnsemblePolicy.bind() must come before a rollout")
        n, rows = self.n, obs.shape[0]
        group = rows // n
        o, s = obs.reshape(n, group, -1), h.reshape(n, group, *h.shape[1:])
        e = None if eps is None else [x.reshape(n, group, -1) for x in eps]
        if self.grouped:
            action, new = self._grouped_gru(self._stacked, o, s, e, units)
        else:
            action, new = vmap(self._one, in_dims=(0, 0, 0, None if e is None else 0, None))(self._stacked, o, s, e, units)
        return action.reshape(rows, -1), new.reshape(rows, *h.shape[1:])

    def _grouped_gru(
        self, p: dict[str, Tensor], obs: Tensor, state: Tensor, eps: list[Tensor] | None, units: tuple[Tensor, Tensor] | None
    ) -> tuple[Tensor, Tensor]:
        """:class:`GRUPolicy`'s step for N groups as grouped matrix products (``baddbmm`` on the stacked
        weights): obs (N, B, I), state (N, B, L, H). The same arithmetic as ``_advance_unfused`` per
        group; 2.2x the steps per second of ``vmap(functional_call)`` eagerly (benchmarks/ensemble_policy.py)."""
        x, layers = obs, []
        noise = self._template[0].spec.hidden_noise
        for layer in range(self.n_layers):
            hl = state[:, :, layer]
            gi = torch.baddbmm(p[f"cells.{layer}.bias_ih"].unsqueeze(1), x, p[f"cells.{layer}.weight_ih"].transpose(1, 2))
            gh = torch.baddbmm(p[f"cells.{layer}.bias_hh"].unsqueeze(1), hl, p[f"cells.{layer}.weight_hh"].transpose(1, 2))
            i_r, i_z, i_n = gi.chunk(3, dim=-1)
            h_r, h_z, h_n = gh.chunk(3, dim=-1)
            r, z = torch.sigmoid(i_r + h_r), torch.sigmoid(i_z + h_z)
            new = (1 - z) * torch.tanh(i_n + r * h_n) + z * hl
            if eps is not None:
                new = new + noise * eps[layer]
            if units is not None and layer == self.n_layers - 1:
                new = units[0] * new + units[1]
            layers.append(new)
            x = new
        action = torch.sigmoid(torch.baddbmm(p["readout.bias"].unsqueeze(1), x, p["readout.weight"].transpose(1, 2)))
        return action, torch.stack(layers, dim=2)

    def initial_state(self, batch_size: int, like: Tensor | None = None) -> Tensor:
        """Zero recurrent state (N B, L, S) for ``batch_size`` = N B rows."""
        return self._template[0].initial_state(batch_size, like)

    def activity(self, state: Tensor) -> Tensor:
        """Hidden activity (N B, H) of the last layer."""
        return state[:, -1, : self.hidden_size]

    def draw_noise(self, batch_size: int, like: Tensor, generator: torch.Generator | None = None) -> list[Tensor] | None:
        """One group's hidden noise (see :meth:`Policy.draw_noise`)."""
        return self._template[0].draw_noise(batch_size, like, generator)


class EnsembleLoop(ClosedLoop):
    """The closed loop of an ensemble: each group's noise from its own generator, the schedule once."""

    policy: EnsemblePolicy  # type: ignore[assignment]

    def draw(self, state: EnvState, generator: RandomSource = None, noise: bool = True) -> LoopDraws:
        """The step's draws: for each group in turn, its hidden noise then its environment noise.

        ``generator`` is a :class:`GeneratorGroups` with one generator per replicate (row groups in
        order); anything else draws for all rows at once, like :class:`ClosedLoop`.
        """
        if not isinstance(generator, GeneratorGroups):
            return super().draw(state, generator, noise)
        gens = generator.generators
        group = state.batch_size // len(gens)
        ref = state.effector.position
        eps_parts: list[list[Tensor]] = []
        env_parts: list[StepNoise] = []
        for g in gens:  # one generator each: a group draws what a single run would, in its order
            eps = self.policy.draw_noise(group, ref, g) if noise else None
            if eps is not None:
                eps_parts.append(eps)
            env_parts.append(self.env.draw_noise(group, g))
        eps_all = [torch.cat(layer, 0) for layer in zip(*eps_parts, strict=True)] if eps_parts else None
        return LoopDraws(eps_all, self.env.with_schedule(state, cat_rows(env_parts)), self.intervention_at(state.step))


class EnsembleTrainer:
    """Trains ``spec.train.replicates`` replicates of ``spec`` together (see the module).

    Attributes:
        replicates: one :class:`Trainer` per replicate (spec with seed + i), holding its policy,
            optimiser, generator, step and history; each is an ordinary single run.
    """

    def __init__(
        self, spec: RunSpec | dict | str, device: str | None = None, replicates: Sequence[Trainer] | None = None
    ) -> None:
        self.spec = RunSpec.parse(spec)
        self.replicates = list(replicates) if replicates is not None else [Trainer(s, device) for s in replicate_specs(self.spec)]
        head = self.replicates[0]
        self.device, self.effector = head.device, head.effector
        for r in self.replicates[1:]:  # every replicate steps the one shared effector
            r.effector, r.env, r.eval_env = head.effector, head.env, head.eval_env
        self.env: FunctionalEnv = head.env
        self.policy = EnsemblePolicy([r.policy for r in self.replicates])
        # the path of the whole ensemble (see Trainer): "auto" continues resumed replicates' path
        self.fast = AutoCompile(self.spec.train.compile, graph_key(self.spec), self.device, self.spec.name)
        if self.fast.decision is None and head.fast.decision is not None and head.step > 0:
            self.fast.decision = head.fast.decision
        self._interventions = InterventionSchedule.for_policy(
            self.spec.interventions, head.policy, self.effector.n_muscles, self.env.dt, self.env.n_steps
        )
        self.loop = EnsembleLoop(self.env, self.policy, interventions=self._interventions)  # type: ignore[arg-type]
        self._decision_logged = False
        if self.fast.decision is not None:
            self._decided()

    @property
    def compile_decision(self) -> CompileDecision | None:
        """Which path the training steps take and why (None: ``auto``, not decided yet)."""
        return self.fast.decision

    def _decided(self) -> None:
        decision = self.fast.decision
        assert decision is not None
        for r in self.replicates:  # their checkpoints record the path
            r.fast.decision = decision
        if decision.compiled and not self.loop.compiled:
            allow_compiled_variants()
            self.loop = EnsembleLoop(self.env, self.policy, compile=True, interventions=self._interventions)  # type: ignore[arg-type]

    @property
    def n(self) -> int:
        """N, the number of replicates."""
        return len(self.replicates)

    @property
    def step(self) -> int:
        """Iterations done (every replicate has done as many)."""
        return self.replicates[0].step

    @classmethod
    def from_checkpoints(
        cls, spec: RunSpec | dict | str, paths: Sequence[str | Path], device: str | None = None
    ) -> EnsembleTrainer:
        """Resume an ensemble from its replicates' single-run checkpoints (replicate order)."""
        trainers = [Trainer.from_checkpoint(p, device=device) for p in paths]
        if len({t.step for t in trainers}) != 1:
            raise SpecError([{"loc": "checkpoints", "msg": "the replicates' checkpoints are at different steps", "input": None}])
        return cls(spec, device, replicates=trainers)

    # -- one iteration ---------------------------------------------------------------------------------
    def train_step(self) -> list[dict[str, float]]:
        """One gradient step of every replicate on its own fresh batch; the replicates' metric rows
        (``train.compile: "auto"``: decided like :meth:`Trainer.train_step`)."""
        remaining = self.spec.train.n_iterations - self.step
        if self.fast.before_step(remaining):
            self._decided()
        started, was_compiled = time.perf_counter(), self.loop.compiled
        rows = self._train_step()
        if self.fast.after_step(time.perf_counter() - started, remaining - 1, was_compiled):
            self._decided()
        return rows

    def _train_step(self) -> list[dict[str, float]]:
        lr = learning_rate(self.spec, self.step)
        for r in self.replicates:
            for group in r.optimizer.param_groups:
                group["lr"] = lr
            r.policy.train()
            r.begin_iteration()
        try:
            return self._iteration(lr)
        finally:
            for r in self.replicates:
                r.end_iteration()

    def _iteration(self, lr: float) -> list[dict[str, float]]:
        t = self.spec.train
        self.policy.bind()
        traj = self.rollout([r.generator for r in self.replicates], t.batch_size)
        losses, parts = [], []
        step = self.step + 1
        for i in range(self.n):
            loss, terms = compute_loss(self.spec.loss, take_rows(traj, slice(i * t.batch_size, (i + 1) * t.batch_size)))
            if not bool(torch.isfinite(loss)):
                raise TrainingDiverged(step, f"loss of replicate {i} is {float(loss.detach())}")
            losses.append(loss)
            parts.append(terms)
        for r in self.replicates:
            r.optimizer.zero_grad(set_to_none=True)
        torch.stack(losses).sum().backward()  # the replicates' parameters are disjoint: each gets its own gradient
        rows = []
        for i, r in enumerate(self.replicates):
            params = [p for p in r.policy.parameters() if p.grad is not None]
            grad_norm = torch.nn.utils.clip_grad_norm_(params, t.grad_clip if t.grad_clip is not None else float("inf"))
            if not bool(torch.isfinite(grad_norm)):
                raise TrainingDiverged(step, f"gradient norm of replicate {i} is {float(grad_norm)}")
            values = {"loss": float(losses[i].detach())}
            values.update({f"loss/{name}": float(v.detach()) for name, v in parts[i].items()})
            values.update(lr=lr, grad_norm=float(grad_norm))
            rows.append(values)
        for r, values in zip(self.replicates, rows, strict=True):
            r.commit_iteration(step, values["loss"])
        return rows

    def rollout(self, generators: Sequence[torch.Generator], batch_size: int) -> Trajectory:
        """A training rollout of every replicate's B trials, each from its own generator (differentiable)."""
        env = self.env
        episodes = [self._episode(batch_size, g) for g in generators]
        noise = [env.initial_noise(batch_size, g) for g in generators]
        state = env.start(cat_rows(episodes), cat_rows(noise))
        return rollout_from(self.loop, state, GeneratorGroups(tuple(generators)), noise=not env.deterministic).trajectory

    def _episode(self, batch_size: int, generator: torch.Generator) -> Any:
        from motornet_core.envs.tasks import sample_episode

        return sample_episode(self.effector, self.env.task, batch_size, generator)

    # -- the loop ------------------------------------------------------------------------------------------
    def train(
        self,
        sinks: Sequence[TrainingSink] | None = None,
        should_stop: Callable[[], bool] | None = None,
        checkpoint_paths: Sequence[str | Path] | None = None,
    ) -> list[TrainResult]:
        """Train every replicate from :attr:`step` to ``train.n_iterations``; replicate i reports to ``sinks[i]``.

        Each replicate's sink sees what a single run's would (metrics every iteration, snapshots of its
        own evaluation batch, checkpoints at ``checkpoint_paths[i]``, log lines).

        Raises:
            TrainingDiverged: a replicate's loss or gradients stopped being finite (the ensemble stops).
        """
        n, t = self.n, self.spec.train
        out = list(sinks) if sinks is not None else [NullSink() for _ in range(n)]
        paths = list(checkpoint_paths) if checkpoint_paths is not None else None
        if len(out) != n or (paths is not None and len(paths) != n):
            raise ValueError(f"an ensemble of {n} replicates needs {n} sinks and checkpoint paths")
        start_step, t0 = self.step, time.perf_counter()
        last_snapshot = last_checkpoint = -1
        checkpoint_due = CheckpointClock(t.checkpoint_every, t.checkpoint_seconds)
        stopped = False
        for r, sink in zip(self.replicates, out, strict=True):
            sink.on_log("info", f"training {r.spec.name!r} (replicate seed {r.spec.train.seed} of {n}) from step {r.step}")
        self._log_decision(out)
        stop = should_stop is not None and should_stop()
        while self.step < t.n_iterations:
            if stop:
                stopped = True
                for sink in out:
                    sink.on_log("info", f"stopped at step {self.step}")
                break
            try:
                rows = self.train_step()
            except TrainingDiverged as exc:
                for sink in out:
                    sink.on_log("error", str(exc))
                raise
            self._log_decision(out)
            stop = should_stop is not None and should_stop()  # as Trainer.train: kept before it is shown
            if stop and paths is not None:
                self._checkpoints(paths, out)
                last_checkpoint = self.step
            for sink, values in zip(out, rows, strict=True):
                sink.on_metric(self.step, values)
            if paths is not None and last_checkpoint != self.step and checkpoint_due(self.step):
                self._checkpoints(paths, out)
                last_checkpoint = self.step
            if self.step % t.eval_every == 0:
                self._snapshots(out)
                last_snapshot = self.step
        if paths is not None and last_checkpoint != self.step:  # before the last evaluation
            self._checkpoints(paths, out)
        if last_snapshot != self.step:
            self._snapshots(out)
        seconds = time.perf_counter() - t0
        self.fast.save()
        return [
            TrainResult(
                step=r.step,
                loss=r.history[-1] if r.history else float("nan"),
                seconds=seconds,
                iterations=r.step - start_step,
                stopped=stopped,
            )
            for r in self.replicates
        ]

    def _log_decision(self, sinks: Sequence[TrainingSink]) -> None:
        if not self._decision_logged and self.fast.decision is not None:
            self._decision_logged = True
            for sink in sinks:
                sink.on_log("info", self.fast.decision.message())

    def _snapshots(self, sinks: Sequence[TrainingSink]) -> None:
        for r, sink in zip(self.replicates, sinks, strict=True):
            sink.on_snapshot(r.step, r.evaluate())

    def _checkpoints(self, paths: Sequence[str | Path], sinks: Sequence[TrainingSink]) -> None:
        for r, path, sink in zip(self.replicates, paths, sinks, strict=True):
            r.checkpoint_completed(path, sink)
