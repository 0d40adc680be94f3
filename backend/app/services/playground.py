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
from backend.app.services.kinematics import as_tensor, mid_position
from motornet_core import Effector, EffectorState, MotornetError, build_effector
from motornet_core.envs import EnvState, FunctionalEnv
from motornet_core.policies import Policy
from motornet_core.training import ClosedLoop

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


def intervene_run(session: Session, run_id: int, interventions: list[Any], targets: list[list[float]] | None) -> dict[str, Any]:
    """A saved run's latest checkpoint evaluated without and with ``interventions`` (422 naming a bad one's path)."""
    from motornet_core.training.intervene import compare_interventions

    path = _checkpoint(session, run_id)
    if targets is not None:
        as_tensor(targets, "targets", (2,))
        if any(len(t) != 2 for t in targets):
            raise spec_error("targets", "each target is [x, y]", targets)
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
        spec = payload["spec"]
    except Exception as exc:  # unreadable file: the checkpoint's fault, not the request's
        raise Conflict(f"the checkpoint of run {run_id} cannot be used: {exc}") from None
    try:
        out = compare_interventions(spec, payload, interventions, targets=targets, device="cpu")
    except MotornetError:
        raise
    except Exception as exc:  # mismatched weights
        raise Conflict(f"the checkpoint of run {run_id} cannot be used: {exc}") from None
    return {"run_id": run_id, "step": int(payload.get("step", 0)), **out}


class Playground:
    """One websocket's simulation: an effector driven by excitations or by a run's policy."""

    def __init__(self, effector: Effector, max_steps: int) -> None:
        self.effector = effector
        self.max_steps = max_steps
        self.t = 0.0
        self.state: EffectorState | None = None
        self.loop: ClosedLoop | None = None  # under a run's policy: the closed loop every trainer uses
        self.env_state: EnvState | None = None
        self.hidden: torch.Tensor | None = None
        self.target: list[float] | None = None

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
        pg = cls(trainer.effector, max_steps)
        policy: Policy = trainer.policy.eval()
        pg.loop = ClosedLoop(FunctionalEnv(trainer.effector, trainer.spec.task, deterministic=True), policy)
        pg.reset(None)
        return pg

    def reset(self, position: Any) -> None:
        """Back to the start posture (zero velocity, zero recurrent state)."""
        self.t = 0.0
        with torch.no_grad():
            if self.loop is None:
                q = mid_position(self.effector) if position is None else as_tensor(position, "position", (1,))
                self.state = self.effector.reset(1, position=q)
                return
            # one trial from the task's centre (an evaluation set may hold several, e.g. centre-out's
            # targets); the goal is then moved onto the start: hold still until the user clicks
            hold = torch.zeros(1, 2, dtype=self.effector.dtype)
            env_state = self.loop.env.initial(1, generator=torch.Generator().manual_seed(0), targets=hold)
            self.hidden = self.loop.policy.initial_state(1, like=env_state.effector.position)
            self.env_state = env_state
            self.state = env_state.effector
            self._set_goal(env_state.effector.fingertip[0, :2].tolist())

    # -- stepping ------------------------------------------------------------------------------------------
    def excite(self, values: Any, steps: int) -> dict[str, Any]:
        """Hold the excitation [M] for ``steps`` dt."""
        if self.loop is not None:
            raise spec_error("type", "this playground follows a run's policy: send target messages")
        u = as_tensor(values, "values", (1,))
        if u.shape[0] != self.effector.n_muscles:
            raise spec_error("values", f"needs {self.effector.n_muscles} excitations, got {u.shape[0]}")
        state = self.state
        if state is None:
            raise spec_error("type", "send init first")
        with torch.no_grad():
            for _ in range(self._steps(steps)):
                state = self.effector.step(state, u[None].clamp(0.0, 1.0))  # (1, M)
                self.t += self.effector.dt
        self.state = state
        return self.message()

    def reach(self, xy: Any, steps: int) -> dict[str, Any]:
        """Move the policy's goal to ``xy`` and advance ``steps`` dt."""
        if self.loop is None or self.env_state is None or self.hidden is None:
            raise spec_error("type", "target needs a run's policy: init with run_id")
        goal = as_tensor(xy, "xy", (1,))
        if goal.shape[0] != 2:
            raise spec_error("xy", "needs [x, y]", xy)
        self._set_goal(goal.tolist())
        loop, h, state = self.loop, self.hidden, self.env_state
        with torch.no_grad():
            for _ in range(self._steps(steps)):
                if loop.env.done(state):  # an endless episode: the same trial's clock starts again
                    state = dataclasses.replace(state, step=0)
                h, state = loop.step(h, state, noise=False)
                self.t += self.effector.dt
        self.hidden, self.env_state, self.state = h, state, state.effector
        return self.message()

    def _steps(self, steps: int) -> int:
        if not 1 <= steps <= MAX_STEPS_PER_MESSAGE:
            raise spec_error("steps", f"must be 1..{MAX_STEPS_PER_MESSAGE}", steps)
        return steps

    def _set_goal(self, xy: list[float]) -> None:
        assert self.loop is not None and self.env_state is not None
        goal = torch.tensor([xy], dtype=self.effector.dtype)  # (1, 2) [m]
        self.env_state = self.loop.env.hold_goal(self.env_state, goal)
        self.target = list(xy)

    def message(self) -> dict[str, Any]:
        """``{"type": "state", ...}`` for the current state."""
        s = self.state
        assert s is not None
        out = {
            "type": "state",
            "t": round(self.t, 6),
            "position": s.position[0].tolist(),
            "joints": self.effector.body_points(s.position)[0].tolist(),
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
            "mode": "policy" if self.loop is not None else "excitation",
            "state": self.message(),
        }
