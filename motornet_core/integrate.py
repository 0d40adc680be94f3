"""Integrators: pure functions ``(effector, state, u, loads, h) -> state`` (physics.md §7).

* ``euler``: MotorNet's semi-explicit Euler (positions advance with the old velocity, the muscle
  state lags the geometry by one stage).
* ``rk4_motornet``: MotorNet's four-stage scheme (stages chain from the previous stage; first order).
* ``rk4``: classical fourth-order Runge-Kutta on y = (q, qdot, a[, fibre length]) with the muscle
  state evaluated at each stage's own geometry (no lag); joint limits and activation clipping are
  applied at the end of the step.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from torch import Tensor

from motornet_core.state import EffectorState

if TYPE_CHECKING:
    from motornet_core.effector import Effector, Loads

Stepper = Callable[["Effector", EffectorState, Tensor, "Loads", float], EffectorState]


def euler(eff: Effector, state: EffectorState, u: Tensor, loads: Loads, h: float) -> EffectorState:
    """S_{n+1} = g(h, f(S_n), S_n)."""
    return eff.stage(h, eff.derivative(state, u, loads), state)


def rk4_motornet(eff: Effector, state: EffectorState, u: Tensor, loads: Loads, h: float) -> EffectorState:
    """MotorNet's four-stage scheme (quirk: stages 2 and 3 start from the previous stage)."""
    k1 = eff.derivative(state, u, loads)
    s_a = eff.stage(h / 2, k1, state)
    k2 = eff.derivative(s_a, u, loads)
    s_b = eff.stage(h / 2, k2, s_a)
    k3 = eff.derivative(s_b, u, loads)
    s_c = eff.stage(h, k3, s_b)
    k4 = eff.derivative(s_c, u, loads)
    weighted = (k1 + k2.scale(2.0) + k3.scale(2.0) + k4).scale(1.0 / 6.0)
    return eff.stage(h, weighted, state)


def _rhs(eff: Effector, y: tuple[Tensor, ...], u: Tensor, loads: Loads) -> tuple[Tensor, ...]:
    q, qd, a = y[0], y[1], y[2]
    fibre = y[3] if len(y) > 3 else None
    geometry = eff.geometry(q, qd, eff.skeleton)
    muscle = eff.muscles.evaluate(eff.muscles.clip_activation(a), fibre, geometry)
    a_dot = eff.muscles.activation_derivative(a, u)
    q_force = eff.generalized_force(muscle.force, geometry.moment_arm, qd, loads)
    qdd = eff.skeleton.acceleration(q, qd, q_force, loads.endpoint)
    out: tuple[Tensor, ...] = (qd, qdd, a_dot)
    if fibre is not None:
        vn = eff.muscles.fibre_velocity(muscle)
        assert vn is not None
        out = (*out, vn * eff.muscles.l0_ce)
    return out


def rk4(eff: Effector, state: EffectorState, u: Tensor, loads: Loads, h: float) -> EffectorState:
    """Classical RK4 over positions, velocities, activations (and compliant fibre lengths)."""
    y: tuple[Tensor, ...] = (state.position, state.velocity, state.muscle.activation)
    if eff.muscles.has_fibre_state:
        y = (*y, state.muscle.length)

    def shifted(k: tuple[Tensor, ...], c: float) -> tuple[Tensor, ...]:
        return tuple(yi + c * ki for yi, ki in zip(y, k, strict=True))

    k1 = _rhs(eff, y, u, loads)
    k2 = _rhs(eff, shifted(k1, h / 2), u, loads)
    k3 = _rhs(eff, shifted(k2, h / 2), u, loads)
    k4 = _rhs(eff, shifted(k3, h), u, loads)
    new = tuple(yi + (h / 6.0) * (a + 2 * b + 2 * c + d) for yi, a, b, c, d in zip(y, k1, k2, k3, k4, strict=True))
    q, qd = eff.skeleton.apply_limits(new[0], new[1])
    activation = eff.muscles.clip_activation(new[2])
    geometry = eff.geometry(q, qd, eff.skeleton)
    muscle = eff.muscle_state_at(activation, new[3] if len(new) > 3 else None, geometry)
    return EffectorState(q, qd, muscle, geometry, eff.skeleton.fingertip(q, qd))


STEPPERS: dict[str, Stepper] = {"euler": euler, "rk4_motornet": rk4_motornet, "rk4": rk4}

__all__ = ["STEPPERS", "euler", "rk4", "rk4_motornet"]
