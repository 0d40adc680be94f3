"""The interactive playground behind ``/ws/sim`` and closed-loop evaluation of saved runs.

Open loop: the client's excitation drives the effector one ``dt`` per message. Under a run's
policy: the client moves the target and the trained network drives the effector towards it.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import torch
from sqlalchemy.orm import Session

from backend.app.core.errors import Conflict, NotFound, spec_error
from backend.app.models import Run
from backend.app.services.kinematics import as_tensor, joint_points, mid_position
from motornet_core import Effector, EffectorState, MotornetError, build_effector

MAX_STEPS_PER_MESSAGE = 100


def _checkpoint(session: Session, run_id: int) -> Path:
    run = session.get(Run, run_id)
    if run is None:
        raise NotFound(f"run {run_id} not found")
    if not run.checkpoint_path or not Path(run.checkpoint_path).is_file():
        raise NotFound(f"run {run_id} has no checkpoint yet")
    return Path(run.checkpoint_path)


def evaluate_run(session: Session, run_id: int, targets: list[list[float]] | None) -> dict[str, Any]:
    """Snapshot of a saved run's policy reaching ``targets`` (its last checkpoint)."""
    from motornet_core.training import evaluate_policy

    path = _checkpoint(session, run_id)
    if targets is not None:
        as_tensor(targets, "targets", (2,))
        if any(len(t) != 2 for t in targets):
            raise spec_error("targets", "each target is [x, y]", targets)
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
        return evaluate_policy(payload["spec"], payload, targets=targets, device="cpu").to_dict()
    except MotornetError:
        raise
    except Exception as exc:  # unreadable or mismatched file: the checkpoint's fault, not the request's
        raise Conflict(f"the checkpoint of run {run_id} cannot be used: {exc}") from None


class Playground:
    """One websocket's simulation: an effector driven by excitations or by a run's policy."""

    def __init__(self, effector: Effector, max_steps: int) -> None:
        self.effector = effector
        self.max_steps = max_steps
        self.t = 0.0
        self.state: EffectorState | None = None
        self.policy: Any = None
        self.env: Any = None
        self.hidden: torch.Tensor | None = None
        self.obs: torch.Tensor | None = None
        self.target: list[float] | None = None
        self.zero_loads: Any = None

    # -- construction ------------------------------------------------------------------------------------
    @classmethod
    def for_effector(cls, spec: Any, position: Any, max_steps: int) -> Playground:
        """Open-loop playground at ``position`` (default: mid-range)."""
        pg = cls(build_effector(spec), max_steps)
        pg.reset(position)
        return pg

    @classmethod
    def for_run(cls, session: Session, run_id: int, max_steps: int) -> Playground:
        """Closed-loop playground under a run's latest checkpoint."""
        from motornet_core.training import Trainer

        path = _checkpoint(session, run_id)
        try:
            trainer = Trainer.from_checkpoint(path, device="cpu")
        except MotornetError:
            raise
        except Exception as exc:  # unreadable or mismatched file
            raise Conflict(f"the checkpoint of run {run_id} cannot be used: {exc}") from None
        return cls.for_trainer(trainer, max_steps)

    @classmethod
    def for_trainer(cls, trainer: Any, max_steps: int) -> Playground:
        """Closed-loop playground under a :class:`~motornet_core.training.Trainer`'s policy."""
        from motornet_core.envs import MotorEnv

        pg = cls(trainer.effector, max_steps)
        pg.policy = trainer.policy.eval()
        pg.env = MotorEnv(trainer.effector, trainer.spec.task, deterministic=True)
        pg.reset(None)
        return pg

    def reset(self, position: Any) -> None:
        """Back to the start posture (zero velocity, zero recurrent state)."""
        self.t = 0.0
        with torch.no_grad():
            if self.env is None:
                q = mid_position(self.effector) if position is None else as_tensor(position, "position", (1,))
                self.state = self.effector.reset(1, position=q)
                return
            # one trial from the task's centre (an evaluation set may hold several, e.g. centre-out's
            # targets); the goal is then moved onto the start: hold still until the user clicks
            gen = torch.Generator().manual_seed(0)
            hold = torch.zeros(1, 2, dtype=self.effector.dtype)
            self.obs, self.state = self.env.reset_batch(1, generator=gen, targets=hold)
            self.hidden = self.policy.initial_state(1, like=self.obs)
            self._set_goal(self.state.fingertip[0, :2].tolist())

    # -- stepping ------------------------------------------------------------------------------------------
    def excite(self, values: Any, steps: int) -> dict[str, Any]:
        """Hold the excitation [M] for ``steps`` dt."""
        if self.env is not None:
            raise spec_error("type", "this playground follows a run's policy: send target messages")
        u = as_tensor(values, "values", (1,))
        if u.shape[0] != self.effector.n_muscles:
            raise spec_error("values", f"needs {self.effector.n_muscles} excitations, got {u.shape[0]}")
        with torch.no_grad():
            for _ in range(self._steps(steps)):
                self.state = self.effector.step(self.state, u[None].clamp(0.0, 1.0))  # (1, M)
                self.t += self.effector.dt
        return self.message()

    def reach(self, xy: Any, steps: int) -> dict[str, Any]:
        """Move the policy's goal to ``xy`` and advance ``steps`` dt."""
        if self.env is None:
            raise spec_error("type", "target needs a run's policy: init with run_id")
        goal = as_tensor(xy, "xy", (1,))
        if goal.shape[0] != 2:
            raise spec_error("xy", "needs [x, y]", xy)
        self._set_goal(goal.tolist())
        env = self.env
        with torch.no_grad():
            for _ in range(self._steps(steps)):
                if env.k >= env.n_steps:  # endless episode: keep going with the same state
                    env.k = 0
                action, self.hidden = self.policy(self.obs, self.hidden, noise=False)
                self.obs, info = env.step_batch(action)
                self.state = info.state
                self.t += self.effector.dt
        return self.message()

    def _steps(self, steps: int) -> int:
        if not 1 <= steps <= MAX_STEPS_PER_MESSAGE:
            raise spec_error("steps", f"must be 1..{MAX_STEPS_PER_MESSAGE}", steps)
        return steps

    def _set_goal(self, xy: list[float]) -> None:
        env = self.env
        ep = env.episode
        goal = torch.tensor(xy, dtype=ep.goal.dtype).expand_as(ep.goal).clone()  # (1, T + 1, 2)
        if self.zero_loads is None:
            self.zero_loads = dataclasses.replace(
                ep.loads, **{f.name: torch.zeros_like(getattr(ep.loads, f.name)) for f in dataclasses.fields(ep.loads)}
            )
        cue = None if ep.cue is None else torch.ones_like(ep.cue)
        env.episode = dataclasses.replace(ep, goal=goal, target=goal.clone(), cue=cue, loads=self.zero_loads)
        self.target = list(xy)

    def message(self) -> dict[str, Any]:
        """``{"type": "state", ...}`` for the current state."""
        s = self.state
        assert s is not None
        out = {
            "type": "state",
            "t": round(self.t, 6),
            "position": s.position[0].tolist(),
            "joints": joint_points(self.effector, s.position)[0].tolist(),
            "fingertip": s.fingertip[0, :2].tolist(),
            "activation": s.muscle.activation[0].tolist(),
            "force": s.muscle.force[0].tolist(),
        }
        if self.target is not None:
            out["target"] = self.target
        return out

    def describe(self) -> dict[str, Any]:
        """``{"type": "ready", ...}``: muscle names, dt and the first state, sent after init."""
        return {
            "type": "ready",
            "dt": self.effector.dt,
            "muscle_names": self.effector.muscle_names,
            "mode": "policy" if self.env is not None else "excitation",
            "state": self.message(),
        }
