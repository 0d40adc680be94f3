"""The interactive playground behind ``/ws/sim`` and closed-loop evaluation of saved runs.

Open loop: the client's excitation drives the effector one ``dt`` per message. Under a run's
policy: the client moves the target and the trained network drives the effector towards it.
Either way the client may switch on external loads (a curl field, a constant endpoint load, ...)
given as the core's perturbation specs; they act at every step until switched off.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import torch
from sqlalchemy.orm import Session

from backend.app.core.errors import Conflict, spec_error
from backend.app.services.kinematics import as_tensor, mid_position, workspace_grids
from backend.app.services.runs import checkpoint_file
from motornet_core import Effector, EffectorState, MotornetError, build_effector
from motornet_core.envs import EnvState, FunctionalEnv, LoadPlan, plan_loads
from motornet_core.policies import Policy
from motornet_core.specs import PerturbationSpec
from motornet_core.training import ClosedLoop

MAX_STEPS_PER_MESSAGE = 100


def _check_targets(targets: list[list[float]] | None) -> None:
    """422 naming ``targets`` unless it is None or a list of finite [x, y] pairs."""
    if targets is not None:
        as_tensor(targets, "targets", (2,))
        if any(len(t) != 2 for t in targets):
            raise spec_error("targets", "each target is [x, y]", targets)


def evaluate_run(session: Session, run_id: int, targets: list[list[float]] | None) -> dict[str, Any]:
    """Snapshot of a saved run's policy reaching ``targets`` (its last checkpoint)."""
    from motornet_core.training import evaluate_policy

    path = checkpoint_file(session, run_id)
    _check_targets(targets)
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

    path = checkpoint_file(session, run_id)
    _check_targets(targets)
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
        self.steps = 0  # steps taken since the last reset
        self.perturbations: list[PerturbationSpec] = []
        self.open_loads: LoadPlan | None = None  # open loop: the loads' one-step schedule (None: no load)
        self.endpoint_force: list[float] = [0.0, 0.0]  # [N] external fingertip force of the last step
        self.path_geometry = all(getattr(m.geometry, "kind", "") == "path" for m in effector.spec.muscles)

    # -- construction ------------------------------------------------------------------------------------
    @classmethod
    def for_effector(cls, spec: Any, position: Any, max_steps: int, perturbations: Sequence[PerturbationSpec] = ()) -> Playground:
        """Open-loop playground at ``position`` (default: mid-range) under ``perturbations``."""
        pg = cls(build_effector(spec), max_steps)
        pg.reset(position)
        pg.perturb(perturbations)
        return pg

    @classmethod
    def for_run(cls, session: Session, run_id: int, max_steps: int, perturbations: Sequence[PerturbationSpec] = ()) -> Playground:
        """Closed-loop playground under a run's latest checkpoint."""
        from motornet_core.training import Trainer

        path = checkpoint_file(session, run_id)
        try:
            trainer = Trainer.from_checkpoint(path, device="cpu")
        except MotornetError:
            raise
        except Exception as exc:  # unreadable or mismatched file
            raise Conflict(f"the checkpoint of run {run_id} cannot be used: {exc}") from None
        return cls.for_trainer(trainer, max_steps, perturbations)

    @classmethod
    def for_trainer(cls, trainer: Any, max_steps: int, perturbations: Sequence[PerturbationSpec] = ()) -> Playground:
        """Closed-loop playground under a :class:`~motornet_core.training.Trainer`'s policy."""
        pg = cls(trainer.effector, max_steps)
        policy: Policy = trainer.policy.eval()
        pg.loop = ClosedLoop(FunctionalEnv(trainer.effector, trainer.spec.task, deterministic=True), policy)
        pg.reset(None)
        pg.perturb(perturbations)
        return pg

    def reset(self, position: Any) -> None:
        """Back to the start posture (zero velocity, zero recurrent state)."""
        self.t = 0.0
        self.steps = 0
        self.endpoint_force = [0.0, 0.0]
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
        plan = self.open_loads
        with torch.no_grad():
            for _ in range(self._steps(steps)):
                endpoint = joint = None
                if plan is not None:  # evaluated from the fingertip state at the step's start (physics.md §6)
                    endpoint, joint = plan.at(0, state.fingertip)
                    self.endpoint_force = endpoint[0].tolist()
                state = self.effector.step(state, u[None].clamp(0.0, 1.0), endpoint_load=endpoint, joint_load=joint)
                self.t += self.effector.dt
                self.steps += 1
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
                if self.perturbations:  # the force the step will apply (read from the episode's schedule)
                    self.endpoint_force = state.episode.loads.at(state.step, state.effector.fingertip)[0][0].tolist()
                h, state = loop.step(h, state, noise=False)
                self.t += self.effector.dt
                self.steps += 1
        self.hidden, self.env_state, self.state = h, state, state.effector
        return self.message()

    def perturb(self, perturbations: Sequence[PerturbationSpec]) -> dict[str, Any]:
        """Apply these external loads at every step from now on (an empty list: none); the state is unchanged.

        Raises:
            SpecError: a window or probability (training-schedule settings the playground cannot honour:
                it applies a load at every step), or a joint load without one value per joint.
        """
        perturbations = list(perturbations)
        for i, p in enumerate(perturbations):
            for field, default in (("start", 0.0), ("end", None), ("probability", 1.0)):
                if getattr(p, field) != default:
                    msg = "the playground applies its loads at every step: leave start 0, end unset and probability 1"
                    raise spec_error(f"perturbations.{i}.{field}", msg, getattr(p, field))
        state = self.state
        assert state is not None
        if self.loop is not None and self.env_state is not None:
            self.env_state = self.loop.env.with_perturbations(self.env_state, perturbations)
        else:
            with_joint = [(i, getattr(p, "torque", None)) for i, p in enumerate(perturbations)]
            for i, torque in with_joint:
                if torque is not None and len(torque) != self.effector.dof:
                    raise spec_error(f"perturbations.{i}.torque", f"needs one value per joint ({self.effector.dof})", torque)
            xy = state.fingertip[:, :2]
            plan = plan_loads(perturbations, 1, 1, self.effector.dof, self.effector.dt, xy, xy, None)
            self.open_loads = plan if perturbations else None
        self.perturbations = perturbations
        if not perturbations:
            self.endpoint_force = [0.0, 0.0]
        return self.message()

    def _steps(self, steps: int) -> int:
        if not 1 <= steps <= MAX_STEPS_PER_MESSAGE:
            raise spec_error("steps", f"must be 1..{MAX_STEPS_PER_MESSAGE}", steps)
        return steps

    def _set_goal(self, xy: list[float]) -> None:
        assert self.loop is not None and self.env_state is not None
        goal = torch.tensor([xy], dtype=self.effector.dtype)  # (1, 2) [m]
        env = self.loop.env
        self.env_state = env.hold_goal(self.env_state, goal)  # (which drops the episode's loads: put ours back)
        if self.perturbations:
            self.env_state = env.with_perturbations(self.env_state, self.perturbations)
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
            "step": self.steps,
            "endpoint_force": self.endpoint_force,
            "perturbations": [p.model_dump() for p in self.perturbations],
        }
        if not self.path_geometry:  # [n][M] [m] at this posture: the drawing's stand-in for the muscle lines
            out["moment_arm"] = s.geometry.moment_arm[0].tolist()
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
            "dof": self.effector.dof,
            "workspace": workspace_grids(self.effector),
            # [n][M] at the start posture, for every geometry: which joints each muscle crosses, and how
            "start_moment_arm": self.state.geometry.moment_arm[0].tolist() if self.state is not None else None,
            "state": self.message(),
        }
