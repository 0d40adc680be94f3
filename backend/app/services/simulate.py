"""Open-loop simulation, closed-loop evaluation of a run's policy, and geometry sweeps."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from backend.app.core.config import Settings
from backend.app.core.errors import spec_error
from backend.app.schemas import (
    GeometryIn,
    GeometryOut,
    JointSweep,
    MuscleRest,
    MuscleWarning,
    Posture,
    SimulateIn,
    Trajectory,
)
from backend.app.services.kinematics import as_tensor, mid_position, muscle_paths
from motornet_core import Effector, EffectorState, build_effector
from motornet_core.analysis import muscle_physiology, physiology_warnings


def _per_step(value: Any, loc: str, width: int, steps: int, batch: int) -> Tensor | None:
    """A load given as [width] (constant) or [T][width] -> (T, B, width)."""
    if value is None:
        return None
    t = as_tensor(value, loc, (1, 2))
    if t.shape[-1] != width:
        raise spec_error(loc, f"needs {width} values per step, got {t.shape[-1]}")
    if t.dim() == 1:
        t = t.expand(steps, width)
    if t.shape[0] != steps:
        raise spec_error(loc, f"needs one row per excitation step ({steps}), got {t.shape[0]}")
    return t[:, None, :].expand(steps, batch, width)


def _initial(value: Any, loc: str, eff: Effector, batch: int) -> Tensor | None:
    if value is None:
        return None
    t = as_tensor(value, loc, (1, 2))
    if t.shape[-1] != eff.dof or (t.dim() == 2 and t.shape[0] != batch):
        raise spec_error(loc, f"needs shape [{eff.dof}] or [{batch}][{eff.dof}], got {list(t.shape)}")
    return t


def _record(eff: Effector, states: list[EffectorState]) -> dict[str, Any]:
    def stack(fn) -> list:
        return torch.stack([fn(s) for s in states], dim=1).tolist()  # (B, T+1, ...)

    return {
        "position": stack(lambda s: s.position),
        "velocity": stack(lambda s: s.velocity),
        "fingertip": stack(lambda s: s.fingertip[:, :2]),
        "joints": stack(lambda s: eff.body_points(s.position)),
        "activation": stack(lambda s: s.muscle.activation),
        "force": stack(lambda s: s.muscle.force),
        "muscle_length": stack(lambda s: s.geometry.length),
    }


def _check_finite(state: EffectorState, step: int) -> None:
    """Refuse a trajectory that left the floats (NaN or infinite) instead of answering ``null`` arrays.

    Raises:
        SpecError: at ``effector``, naming the step.
    """
    parts = (state.position, state.velocity, state.muscle.activation, state.muscle.force, state.geometry.length)
    if not all(bool(torch.isfinite(t).all()) for t in parts):
        raise spec_error(
            "effector",
            f"the simulation's result is not finite from step {step} on: these parameters make the dynamics "
            "diverge (try a smaller dt, more n_ministeps, longer time constants, smaller forces or larger masses)",
        )


def simulate_open_loop(req: SimulateIn, settings: Settings) -> Trajectory:
    """Run the effector under the given excitations.

    Raises:
        SpecError: bad shapes or limits exceeded (with the field path), or a result that is not
            finite (at ``effector``).
        SimulationError: an initial state outside the bounds.
    """
    eff = build_effector(req.effector)  # type: ignore[arg-type]
    u = as_tensor(req.excitations, "excitations", (2, 3))
    if u.dim() == 2:
        u = u[:, None, :]  # (T, 1, M)
    steps, batch, m = u.shape
    if m != eff.n_muscles:
        raise spec_error("excitations", f"needs {eff.n_muscles} values per step (one per muscle), got {m}")
    if steps > settings.max_sim_steps:
        raise spec_error("excitations", f"at most {settings.max_sim_steps} steps per request, got {steps}")
    if batch > settings.max_sim_batch:
        raise spec_error("excitations", f"at most {settings.max_sim_batch} trajectories per request, got {batch}")
    if steps == 0 or batch == 0:
        raise spec_error("excitations", "needs at least one step and one trajectory")
    position = _initial(req.position, "position", eff, batch)
    position = mid_position(eff) if position is None else position
    velocity = _initial(req.velocity, "velocity", eff, batch)
    endpoint = _per_step(req.endpoint_load, "endpoint_load", 2, steps, batch)
    joint = _per_step(req.joint_load, "joint_load", eff.dof, steps, batch)
    with torch.no_grad():
        state = eff.reset(batch, position=position, velocity=velocity)
        states = [state]
        for k in range(steps):
            state = eff.step(
                state, u[k], None if endpoint is None else endpoint[k], None if joint is None else joint[k]
            )  # (B, M)
            _check_finite(state, k + 1)
            states.append(state)
    rec = _record(eff, states)
    return Trajectory(dt=eff.dt, time=[k * eff.dt for k in range(steps + 1)], muscle_names=eff.muscle_names, **rec)


def _posture(values: list[float], eff: Effector) -> Tensor:
    """The held joint positions (n,), clamped into the skeleton's bounds."""
    if len(values) != eff.dof:
        raise spec_error("posture", f"needs {eff.dof} values (one per joint), got {len(values)}")
    q = as_tensor(values, "posture", (1,)).to(mid_position(eff))
    return torch.minimum(torch.maximum(q, eff.skeleton.pos_lb.to(q)), eff.skeleton.pos_ub.to(q))


def geometry_sweep(req: GeometryIn, settings: Settings) -> GeometryOut:
    """Moment arms and lengths over each joint's range (others at ``req.posture`` or mid-range) and a reference posture."""
    if req.grid > settings.max_geometry_grid:
        raise spec_error("grid", f"at most {settings.max_geometry_grid}", req.grid)
    eff = build_effector(req.effector)
    sk = eff.skeleton
    mid = mid_position(eff)
    held = mid if req.posture is None else _posture(req.posture, eff)
    sweeps, rows = [], []
    with torch.no_grad():
        for j in range(eff.dof):
            angles = torch.linspace(float(sk.pos_lb[j]), float(sk.pos_ub[j]), req.grid)  # (G,)
            q = held.expand(req.grid, -1).clone()
            q[:, j] = angles
            rows.append(q)
            geo = eff.geometry(q, torch.zeros_like(q), sk)
            if not (bool(torch.isfinite(geo.length).all()) and bool(torch.isfinite(geo.moment_arm).all())):
                raise spec_error("effector", f"the muscle geometry is not finite over joint {j}'s range")
            sweeps.append(
                JointSweep(
                    joint=j,
                    angles=angles.tolist(),
                    length=geo.length.tolist(),
                    moment_arm=geo.moment_arm[:, j, :].tolist(),
                )
            )
        q0 = mid[None]
        tip = sk.fingertip(q0, torch.zeros_like(q0))
        reference = Posture(
            position=mid.tolist(),
            joints=eff.body_points(q0)[0].tolist(),
            fingertip=tip[0, :2].tolist(),
            paths=muscle_paths(eff, q0),
        )
    rest = muscle_physiology(eff, mid[None])
    warnings = physiology_warnings(eff, mid, torch.cat(rows))
    return GeometryOut(
        muscle_names=eff.muscle_names,
        dof=eff.dof,
        sweeps=sweeps,
        reference=reference,
        rest=None
        if rest is None
        else MuscleRest(
            fibre_length=rest.fibre_length[0].tolist(),
            tendon_strain=rest.tendon_strain[0].tolist(),
            rest_force=rest.rest_force[0].tolist(),
        ),
        warnings=[MuscleWarning(**vars(w)) for w in warnings],
    )
