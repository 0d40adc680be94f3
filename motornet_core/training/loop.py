"""The training loop: backpropagation through time over whole episodes, Adam, gradient clipping.

Reproducible on the CPU: the network's initial weights come from ``train.seed`` and every random
draw of a run (trials, sensory/action/hidden noise) from one :class:`torch.Generator` seeded with it,
whose state is saved in checkpoints, so a resumed run continues with exactly the same losses.
"""

from __future__ import annotations

import logging
import math
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from motornet_core.effector import Effector
from motornet_core.envs import FunctionalEnv
from motornet_core.errors import MotornetError, SpecError
from motornet_core.losses import Trajectory, compute_loss
from motornet_core.policies import Policy, build_policy
from motornet_core.specs.run import RunSpec, block_task, observation_groups
from motornet_core.training.fastpath import AutoCompile, CompileDecision, graph_key
from motornet_core.training.protocol import protocol_readouts, trial_kinds, with_trial_kinds
from motornet_core.training.records import Snapshot, TrainResult
from motornet_core.training.rollout import ClosedLoop, build_snapshot, rollout, rollout_from
from motornet_core.training.sinks import NullSink, TrainingSink

log = logging.getLogger(__name__)

CHECKPOINT_FORMAT = "motornet_studio.checkpoint/1"
EVAL_SEED_OFFSET = 7919

# TrainSpec fields a resumed run may change: none of them changes a model's shape or the run's
# identity. ``seed`` is excluded (it defines the initial weights and the evaluation batch), and
# every effector, task, policy and loss field too (the checkpoint's weights were trained for them).
RESUME_FIELDS = frozenset(
    {
        "n_iterations",
        "batch_size",
        "lr",
        "grad_clip",
        "lr_schedule",
        "lr_step_every",
        "lr_step_gamma",
        "lr_min",
        "device",
        "eval_every",
        "checkpoint_every",
        "checkpoint_seconds",
        "eval_batch_size",
        "compile",
    }
)


def resume_spec(spec: RunSpec, updates: dict[str, Any]) -> RunSpec:
    """The spec of a resumed run: ``spec`` with dotted-path ``updates`` of :data:`RESUME_FIELDS` applied.

    Raises:
        SpecError: an update of any other field (named in the error), or an invalid value.
    """
    refused = [
        {"loc": path, "msg": "cannot be changed when resuming a run (only train settings that keep the models)", "input": value}
        for path, value in updates.items()
        if not (path.startswith("train.") and path[len("train.") :] in RESUME_FIELDS)
    ]
    if refused:
        raise SpecError(refused)
    return spec.with_updates(updates) if updates else spec


class TrainingDiverged(MotornetError):
    """The loss or the gradient norm became NaN or infinite.

    Attributes:
        step: the iteration (1-based) at which it happened.
    """

    def __init__(self, step: int, message: str) -> None:
        self.step = step
        super().__init__(f"training diverged at step {step}: {message}")


def choose_device(device: str | None) -> tuple[torch.device, str | None]:
    """The device to run on and, where a requested GPU is missing, why it is the CPU instead.

    'auto' (or None) picks CUDA when available; 'cuda...' without a GPU gives the CPU and a warning.
    """
    if device in (None, "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu"), None
    if str(device).startswith("cuda") and not torch.cuda.is_available():
        return torch.device("cpu"), f"device {device!r} requested but CUDA is not available; training on cpu"
    return torch.device(str(device)), None


def resolve_device(device: str | None) -> torch.device:
    """Like :func:`choose_device`, but a requested GPU that is missing is an error.

    Raises:
        MotornetError: 'cuda' requested without a GPU.
    """
    chosen, missing = choose_device(device)
    if missing is not None:
        raise MotornetError(f"device {device!r} requested but CUDA is not available")
    return chosen


@dataclass(frozen=True)
class CheckpointInfo:
    """What a checkpoint file says about its run, read without building any model.

    Attributes:
        spec: the run's spec as stored (a JSON string or dict; parse with ``RunSpec.parse``).
        step: iterations trained.
        history: the loss of each iteration 1..step.
    """

    spec: Any
    step: int
    history: list[float]

    def loss_rows(self) -> list[tuple[int, float]]:
        """(step k, loss) for k = 1..step where the loss is finite: the ``loss`` metric rows the history gives."""
        return [(k, v) for k, v in enumerate(self.history[: self.step], start=1) if math.isfinite(v)]


def read_checkpoint(path: str | Path) -> CheckpointInfo:
    """Read :meth:`Trainer.save_checkpoint`'s file (weights only) for its spec, step and loss history.

    Raises:
        MotornetError: not a checkpoint of this format, or a step or history that is not a whole
            number of iterations with one finite-or-NaN loss each.
    """
    return _checkpoint_info(_load_checkpoint(path), path)


def _load_checkpoint(path: str | Path) -> dict[str, Any]:
    payload = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(payload, dict) or payload.get("format") != CHECKPOINT_FORMAT:
        found = payload.get("format") if isinstance(payload, dict) else type(payload).__name__
        raise MotornetError(f"{path} is not a motornet-studio checkpoint (format {found!r})")
    return payload


def _checkpoint_info(payload: dict[str, Any], path: str | Path) -> CheckpointInfo:
    step, history = payload.get("step"), payload.get("history")
    if isinstance(step, bool) or not isinstance(step, int) or step < 0:
        raise MotornetError(f"{path}: step must be a whole number >= 0, got {step!r}")
    if not isinstance(history, list) or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in history):
        raise MotornetError(f"{path}: history must be a list of numbers")
    if len(history) != step:
        raise MotornetError(f"{path}: the history holds {len(history)} losses for {step} iterations")
    return CheckpointInfo(payload.get("spec"), step, [float(v) for v in history])


def learning_rate(spec: RunSpec, step: int) -> float:
    """Learning rate of iteration ``step`` (0-based) under the run's schedule."""
    t = spec.train
    if t.lr_schedule == "step":
        return t.lr * t.lr_step_gamma ** (step // t.lr_step_every)
    if t.lr_schedule == "cosine":
        frac = min(step / max(t.n_iterations, 1), 1.0)
        return t.lr_min + (t.lr - t.lr_min) * 0.5 * (1 + math.cos(math.pi * frac))
    return t.lr


def build_models(spec: RunSpec, device: torch.device) -> tuple[Effector, FunctionalEnv, FunctionalEnv, Policy]:
    """Effector, training env, deterministic evaluation env and a freshly initialised policy."""
    effector = Effector(spec.effector).to(device)
    env = FunctionalEnv(effector, spec.task)
    eval_env = FunctionalEnv(effector, spec.task, deterministic=True)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(spec.train.seed)
        policy = build_policy(spec.policy, env.obs_size, effector.n_muscles, observation_groups(spec), effector.dt)
    return effector, env, eval_env, policy.to(device)


class CheckpointClock:
    """When a checkpoint is due: every ``every`` iterations, and after ``seconds`` of training at most.

    Call it once per completed iteration with the step; True means write a checkpoint now (the
    clock then restarts).
    """

    def __init__(self, every: int, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.every, self.seconds, self.clock = every, seconds, clock
        self.since = clock()

    def __call__(self, step: int) -> bool:
        now = self.clock()
        if step % self.every == 0 or now - self.since >= self.seconds:
            self.since = now
            return True
        return False


def allow_compiled_variants() -> None:
    """Let dynamo keep up to 64 compiled variants (batch sizes, grad modes, several trainers in one process)."""
    torch._dynamo.config.recompile_limit = max(torch._dynamo.config.recompile_limit, 64)


class Trainer:
    """Trains a policy for a :class:`RunSpec`.

    Example:
        >>> trainer = Trainer(run_preset("tutorial_point_mass"))
        >>> summary = trainer.train()
    """

    def __init__(self, spec: RunSpec | dict | str, device: str | None = None) -> None:
        self.spec = RunSpec.parse(spec)
        if self.spec.train.replicates != 1:
            raise SpecError(
                [
                    {
                        "loc": "train.replicates",
                        "msg": "a Trainer trains one network: use motornet_core.training.EnsembleTrainer for replicates",
                        "input": self.spec.train.replicates,
                    }
                ]
            )
        self.device = resolve_device(device if device is not None else self.spec.train.device)
        self.effector, self.env, self.eval_env, self.policy = build_models(self.spec, self.device)
        # train.compile: the path is decided by AutoCompile ("auto": after the first iteration, or
        # at once from an earlier run's timings of this graph); the loop starts eager
        self.fast = AutoCompile(self.spec.train.compile, graph_key(self.spec), self.device, self.spec.name)
        self.loop = ClosedLoop(self.env, self.policy, interventions=self.spec.interventions)
        self.eval_loop = ClosedLoop(self.eval_env, self.policy, interventions=self.spec.interventions)
        self._decision_logged = False
        # a protocol's blocks: the task with each block's perturbations draws the block's episodes
        # (training and evaluation); the load schedule travels in the episode, so every block steps
        # through the one (eager or compiled) loop above
        self.block_envs: list[FunctionalEnv] = []
        self.block_eval_envs: list[FunctionalEnv] = []
        if self.spec.train.protocol is not None:
            for block in self.spec.train.protocol.blocks:
                task = block_task(self.spec.task, block)
                self.block_envs.append(FunctionalEnv(self.effector, task))
                self.block_eval_envs.append(FunctionalEnv(self.effector, task, deterministic=True))
        if self.fast.decision is not None and self.fast.decision.compiled:
            self._use_compiled()
        self.optimizer = torch.optim.Adam(self.policy.parameters(), lr=self.spec.train.lr)
        self.generator = torch.Generator(device=self.device).manual_seed(self.spec.train.seed)
        self.step = 0
        self.history: list[float] = []
        # A checkpoint may be written from another thread while an iteration runs (a worker asked to
        # stop mid-iteration): the weights and the optimiser change only in the iteration's commit
        # (under this lock), and the generator state that the iteration started from is kept here.
        self.state_lock = threading.RLock()
        self._iteration_rng: torch.Tensor | None = None

    # -- the training path ----------------------------------------------------------------------------
    @property
    def compile_decision(self) -> CompileDecision | None:
        """Which path the training steps take and why (None: ``auto``, not decided before the first iteration)."""
        return self.fast.decision

    def _use_compiled(self) -> None:
        if not self.loop.compiled:
            allow_compiled_variants()
            self.loop = ClosedLoop(self.env, self.policy, compile=True, interventions=self.spec.interventions)

    def _decided(self) -> None:
        decision = self.fast.decision
        assert decision is not None
        log.info("%s: %s", self.spec.name, decision.message())
        if decision.compiled:
            self._use_compiled()

    # -- one iteration ---------------------------------------------------------------------------------
    def train_step(self) -> dict[str, float]:
        """One gradient step on a fresh batch; returns the metric row (``loss``, ``loss/<term>``, ``lr``, ``grad_norm``).

        With ``train.compile: "auto"`` the first iteration runs eagerly and is timed: then the run
        decides its path (:mod:`motornet_core.training.fastpath`, :attr:`compile_decision`).
        """
        t = self.spec.train
        if self.fast.before_step(t.n_iterations - self.step):
            self._decided()
        started, was_compiled = time.perf_counter(), self.loop.compiled
        values = self._train_step()
        if self.fast.after_step(time.perf_counter() - started, t.n_iterations - self.step, was_compiled):
            self._decided()
        return values

    def _train_step(self) -> dict[str, float]:
        t = self.spec.train
        lr = learning_rate(self.spec, self.step)
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        self.policy.train()
        self.begin_iteration()
        try:
            readouts: dict[str, float] = {}
            if self.block_envs:
                traj, readouts = self._protocol_rollout()
            else:
                traj = rollout(self.env, self.policy, t.batch_size, generator=self.generator, loop=self.loop).trajectory
            loss, parts = compute_loss(self.spec.loss, traj)
            step = self.step + 1
            if not bool(torch.isfinite(loss)):
                raise TrainingDiverged(step, f"loss is {float(loss.detach())}")
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            params = [p for p in self.policy.parameters() if p.grad is not None]
            grad_norm = torch.nn.utils.clip_grad_norm_(params, t.grad_clip if t.grad_clip is not None else float("inf"))
            if not bool(torch.isfinite(grad_norm)):
                raise TrainingDiverged(step, f"gradient norm is {float(grad_norm)}")
            values = {"loss": float(loss.detach())}
            values.update({f"loss/{name}": float(v.detach()) for name, v in parts.items()})
            values.update(lr=lr, grad_norm=float(grad_norm))
            values.update(readouts)
            self.commit_iteration(step, values["loss"])
        finally:
            self.end_iteration()
        return values

    def _protocol_rollout(self) -> tuple[Trajectory, dict[str, float]]:
        """The batch of iteration :attr:`step` under its protocol block, and its learning-curve readouts."""
        protocol = self.spec.train.protocol
        assert protocol is not None
        index = protocol.block_index(self.step)
        env = self.block_envs[index]
        state = env.initial(self.spec.train.batch_size, generator=self.generator)
        kinds = trial_kinds(state.batch_size, protocol, self.generator, state.effector.position)
        state = with_trial_kinds(state, kinds, protocol)
        traj = rollout_from(self.loop, state, self.generator, noise=not env.deterministic).trajectory
        return traj, protocol_readouts(traj, state.episode.loads, kinds, index)

    def current_block(self) -> int | None:
        """The protocol block of the last completed iteration (the first before any); None without a protocol."""
        protocol = self.spec.train.protocol
        return None if protocol is None else protocol.block_index(max(self.step - 1, 0))

    def begin_iteration(self) -> None:
        """Note the generator state an iteration starts from (what a checkpoint written during it saves)."""
        self._iteration_rng = self.generator.get_state()

    def end_iteration(self) -> None:
        """Forget the iteration's starting generator state (after its commit, or when it failed)."""
        self._iteration_rng = None

    def commit_iteration(self, step: int, loss: float) -> None:
        """Apply the iteration's gradients (Adam step) and count it, atomically for :meth:`save_checkpoint`."""
        with self.state_lock:
            self.optimizer.step()
            self.step = step
            self.history.append(loss)
            self._iteration_rng = None

    # -- evaluation --------------------------------------------------------------------------------------
    @torch.no_grad()
    def evaluate(self, targets: list[list[float]] | None = None) -> Snapshot:
        """Snapshot of the deterministic evaluation batch (fixed seed; centre-out: every target).

        Under a protocol the batch has the perturbations of :meth:`current_block` (no catch or channel trials).
        """
        self.policy.eval()
        block = self.current_block()
        env = self.eval_env if block is None else self.block_eval_envs[block]
        gen = torch.Generator(device=self.device).manual_seed(self.spec.train.seed + EVAL_SEED_OFFSET)
        tgt = None if targets is None else torch.tensor(targets, dtype=torch.float32, device=self.device)
        run = rollout(
            env,
            self.policy,
            self.spec.train.eval_batch_size,
            generator=gen,
            evaluation=True,
            targets=tgt,
            loop=self.eval_loop,
        )
        return build_snapshot(self.step, self.effector, run.trajectory, run.joints, go_time=run.episode.go_time)

    # -- the loop ------------------------------------------------------------------------------------------
    def train(
        self,
        sink: TrainingSink | None = None,
        should_stop: Callable[[], bool] | None = None,
        checkpoint_path: str | Path | None = None,
    ) -> TrainResult:
        """Train from :attr:`step` to ``train.n_iterations``.

        Args:
            sink: receives metrics, snapshots, checkpoints and log lines.
            should_stop: polled before the first iteration and after each; True stops early (after a last
                snapshot and checkpoint). An iteration after which it is True is checkpointed before its
                metrics are reported.
            checkpoint_path: where to write checkpoints (every ``checkpoint_every`` iterations and at the end).

        Returns:
            a :class:`TrainResult` (step, loss, seconds, iterations, stopped).

        Raises:
            TrainingDiverged: the loss or the gradients stopped being finite.
        """
        sink = sink if sink is not None else NullSink()
        t = self.spec.train
        start_step, t0 = self.step, time.perf_counter()
        last_snapshot = last_checkpoint = -1
        checkpoint_due = CheckpointClock(t.checkpoint_every, t.checkpoint_seconds)
        stopped = False
        values: dict[str, float] = {}
        sink.on_log("info", f"training {self.spec.name!r} from step {self.step} to {t.n_iterations} on {self.device}")
        self._log_decision(sink)
        stop = should_stop is not None and should_stop()
        while self.step < t.n_iterations:
            if stop:
                stopped = True
                sink.on_log("info", f"stopped at step {self.step}")
                break
            try:
                values = self.train_step()
            except TrainingDiverged as exc:
                sink.on_log("error", str(exc))
                raise
            self._log_decision(sink)
            # a stop that came during this iteration: keep it before showing it (a stopping worker may be
            # terminated at any moment, and a resume must continue from the last step shown)
            stop = should_stop is not None and should_stop()
            if stop and checkpoint_path is not None:
                self._checkpoint(checkpoint_path, sink)
                last_checkpoint = self.step
            sink.on_metric(self.step, values)
            if checkpoint_path is not None and last_checkpoint != self.step and checkpoint_due(self.step):
                self._checkpoint(checkpoint_path, sink)
                last_checkpoint = self.step
            if self.step % t.eval_every == 0:
                sink.on_snapshot(self.step, self.evaluate())
                last_snapshot = self.step
        # the checkpoint before the last evaluation: a worker stopped meanwhile keeps its work
        if checkpoint_path is not None and last_checkpoint != self.step:
            self._checkpoint(checkpoint_path, sink)
        if last_snapshot != self.step:
            sink.on_snapshot(self.step, self.evaluate())
        seconds = time.perf_counter() - t0
        self.fast.save()
        return TrainResult(
            step=self.step,
            loss=values.get("loss", self.history[-1] if self.history else float("nan")),
            seconds=seconds,
            iterations=self.step - start_step,
            stopped=stopped,
        )

    def _log_decision(self, sink: TrainingSink) -> None:
        if not self._decision_logged and self.fast.decision is not None:
            self._decision_logged = True
            sink.on_log("info", self.fast.decision.message())

    def _checkpoint(self, path: str | Path, sink: TrainingSink) -> None:
        self.checkpoint_completed(path, sink)

    def checkpoint_completed(self, path: str | Path, sink: TrainingSink | None = None) -> int:
        """Write the last completed iteration's checkpoint and report it; safe from another thread
        while :meth:`train_step` runs (the iteration in progress is not part of it).

        Returns:
            the step written.
        """
        with self.state_lock:
            self.save_checkpoint(path)
            if sink is not None:
                sink.on_checkpoint(self.step, str(path))
            return self.step

    # -- checkpoints -----------------------------------------------------------------------------------------
    def save_checkpoint(self, path: str | Path) -> None:
        """Write the run atomically (temporary file + ``os.replace``); loadable with ``weights_only=True``."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        with self.state_lock:  # the last completed iteration, also while another one runs
            rng = self._iteration_rng
            payload = {
                "format": CHECKPOINT_FORMAT,
                "spec": self.spec.to_json(),
                "policy": self.policy.state_dict(),
                "optimizer": self.optimizer.state_dict(),
                "step": self.step,
                "generator": rng if rng is not None else self.generator.get_state(),
                "generator_device": self.generator.device.type,
                "history": list(self.history),
                "compiled": None if self.fast.decision is None else self.fast.decision.compiled,
            }
            tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
            torch.save(payload, tmp)
            os.replace(tmp, path)

    @classmethod
    def from_checkpoint(cls, path: str | Path, device: str | None = None, updates: dict[str, Any] | None = None) -> Trainer:
        """Rebuild a run from :meth:`save_checkpoint`'s file, ready to continue training.

        Args:
            path: the checkpoint file.
            device: overrides ``train.device``.
            updates: dotted-path changes of :data:`RESUME_FIELDS` (e.g. ``{"train.n_iterations": 5000}``),
                applied before the models are built.

        Raises:
            SpecError: ``updates`` touches another field.
            MotornetError: not a checkpoint of this format (or its step and history disagree).
        """
        payload = _load_checkpoint(path)
        info = _checkpoint_info(payload, path)
        trainer = cls(resume_spec(RunSpec.parse(info.spec), updates or {}), device=device)
        trainer.policy.load_state_dict(payload["policy"])
        trainer.optimizer.load_state_dict(payload["optimizer"])
        trainer.step = info.step
        trainer._restore_generator(payload["generator"], payload.get("generator_device"), path)
        trainer.history = info.history
        compiled = payload.get("compiled")
        if trainer.fast.decision is None and isinstance(compiled, bool):
            # "auto": the path of the run it continues, so that it continues with the same rounding
            trainer.fast.decision = CompileDecision(compiled, f"the path of the run it resumes (step {info.step})")
            trainer._decided()
        return trainer

    def _restore_generator(self, state: torch.Tensor, saved_device: str | None, path: str | Path) -> None:
        """Continue the checkpoint's random stream; a stream from another device type is replaced.

        A CPU generator's state cannot be loaded into a CUDA generator and vice versa, so a run
        resumed on another device type is reseeded from (seed, step): it continues, reproducibly,
        but with another random stream than an uninterrupted run.

        Raises:
            MotornetError: the state does not fit a generator of its own device type.
        """
        here = self.generator.device.type
        if saved_device is None:  # checkpoints before "generator_device": only CPU states have this size
            saved_device = "cpu" if state.numel() == _CPU_GENERATOR_STATE_SIZE else "cuda"
        if saved_device != here:
            seed = (self.spec.train.seed * 1_000_003 + self.step) % 2**63
            self.generator.manual_seed(seed)
            log.warning(
                "%s was written on %s, this run is on %s: the random generator is reseeded (seed %d), so the "
                "random stream differs from that of an uninterrupted run",
                path,
                saved_device,
                here,
                seed,
            )
            return
        try:
            self.generator.set_state(state)
        except (RuntimeError, TypeError) as exc:
            raise MotornetError(
                f"{path}: the random-generator state ({state.numel()} bytes) does not fit a {here} generator: {exc}"
            ) from None


_CPU_GENERATOR_STATE_SIZE = torch.Generator().get_state().numel()


def evaluate_policy(
    spec: RunSpec | dict | str,
    policy_state: dict[str, Any],
    targets: list[list[float]] | None = None,
    device: str = "cpu",
) -> Snapshot:
    """Run a saved policy (its ``state_dict``, or a whole checkpoint dict) and return a snapshot.

    Args:
        spec: the run the policy was trained in.
        policy_state: ``policy.state_dict()`` or a checkpoint payload with a ``"policy"`` entry.
        targets: [[x, y], ...] [m] reach from the task's centre to these targets; None: the run's
            evaluation batch.
        device: where to run.
    """
    run = RunSpec.parse(spec)
    trainer = Trainer(run, device=device)
    state = policy_state.get("policy", policy_state) if "format" in policy_state else policy_state
    trainer.policy.load_state_dict(state)
    trainer.step = int(policy_state.get("step", 0)) if "format" in policy_state else 0
    return trainer.evaluate(targets)
