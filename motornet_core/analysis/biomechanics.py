"""Biomechanics of any effector: moment arms and musculotendon lengths over a joint grid, and the
force-length, force-velocity and passive curves of its muscle model (evaluated by the model itself).
"""

from __future__ import annotations

import itertools
from typing import Any, TypedDict

import numpy as np
import torch

from motornet_core.effector import Effector
from motornet_core.muscles.compliant import CompliantHillMuscle
from motornet_core.state import GeometryState

MAX_GRID = 20_000


class _TensorOptions(TypedDict):
    dtype: torch.dtype
    device: torch.device


@torch.no_grad()
def joint_grid(eff: Effector, n_points: int = 25) -> np.ndarray:
    """(G, n) the product grid of ``n_points`` angles per joint within the bounds (shrunk to <= 20 000 rows)."""
    n = eff.dof
    while n_points > 2 and n_points**n > MAX_GRID:
        n_points -= 1
    axes = [np.linspace(float(lo), float(hi), n_points) for lo, hi in zip(eff.skeleton.pos_lb, eff.skeleton.pos_ub)]
    return np.array(list(itertools.product(*axes)), dtype=float)


@torch.no_grad()
def geometry_over_grid(eff: Effector, n_points: int = 25) -> dict[str, Any]:
    """Musculotendon lengths and moment arms on a joint grid (zero joint velocity).

    Returns:
        ``joints`` (G, n) [rad], ``length`` (G, M) [m], ``moment_arm`` (G, n, M) [m],
        ``axes`` the n per-joint angle vectors, ``muscle_names``.
    """
    q_np = joint_grid(eff, n_points)
    q = torch.tensor(q_np, dtype=eff.dtype, device=eff.device)
    geometry = eff.geometry(q, torch.zeros_like(q), eff.skeleton)
    axes = [np.unique(q_np[:, j]) for j in range(eff.dof)]
    return {
        "joints": q_np,
        "length": geometry.length.cpu().double().numpy(),
        "moment_arm": geometry.moment_arm.cpu().double().numpy(),
        "axes": axes,
        "muscle_names": list(eff.muscle_names),
    }


def _evaluate(eff: Effector, activation: float, ln: torch.Tensor, vnorm: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Normalised total and passive force (K, M) at normalised fibre lengths ``ln`` and velocities ``vnorm``."""
    mus = eff.muscles
    l0_ce = mus.l0_ce
    l0_se = getattr(mus, "l0_se", torch.zeros_like(l0_ce))
    fibre = ln * l0_ce
    geometry = GeometryState(
        length=fibre + l0_se,
        velocity=vnorm * mus.vmax,
        moment_arm=torch.zeros(ln.shape[0], eff.dof, ln.shape[1], dtype=ln.dtype, device=ln.device),
    )
    a = torch.full_like(ln, activation)
    fibre_arg = fibre if mus.has_fibre_state else None
    state = mus.evaluate(a, fibre_arg, geometry)
    passive = state.passive if state.passive is not None else torch.zeros_like(ln)
    return state.force / mus.max_iso_force, passive


@torch.no_grad()
def muscle_curves(eff: Effector, n_points: int = 101, length_range: tuple[float, float] = (0.4, 1.8)) -> dict[str, Any]:
    """Force-length (active and passive) and force-velocity curves of the effector's muscle model.

    Forces are normalised by F_max, lengths by l0_ce and velocities by vmax (the muscle model's
    proprioceptive normaliser). Active = isometric force at full activation minus the model's
    passive force (its ``passive`` row; relu muscles have none). The force-velocity curve is at the optimal length and full
    activation (passive force removed); the compliant model, whose force comes from its tendon,
    gives it by inverting its contractile-element velocity for a range of forces.

    Returns:
        ``length`` (K,), ``active`` (K, M), ``passive`` (K, M), ``velocity`` (K,) or (K, M),
        ``force_velocity`` (K, M), ``muscle_names``, ``kind``.
    """
    mus = eff.muscles
    m = eff.n_muscles
    opts: _TensorOptions = {"dtype": eff.dtype, "device": eff.device}
    ln = torch.linspace(*length_range, n_points, **opts)[:, None].expand(-1, m)
    zero = torch.zeros_like(ln)
    if isinstance(mus, CompliantHillMuscle):  # the only model with a fibre state
        passive = mus.passive(ln * mus.l0_ce)
        active = mus.force_length(ln)
        f_act = torch.linspace(0.0, 1.6, n_points, **opts)[:, None].expand(-1, m)
        ones = torch.ones_like(f_act)
        vn = mus.normalized_velocity(ones, ones, f_act)  # (K, M) [optimal lengths/s]
        velocity = vn * mus.l0_ce / mus.vmax
        force_velocity = f_act
    else:
        total, passive = _evaluate(eff, 1.0, ln, zero)
        active = total - passive
        velocity = torch.linspace(-1.0, 1.0, n_points, **opts)[:, None].expand(-1, m)
        total_v, passive_v = _evaluate(eff, 1.0, torch.ones_like(velocity), velocity)
        force_velocity = total_v - passive_v

    def arr(x: torch.Tensor) -> np.ndarray:
        return x.cpu().double().numpy()

    return {
        "length": arr(ln[:, 0]),
        "active": arr(active),
        "passive": arr(passive),
        "velocity": arr(velocity),
        "force_velocity": arr(force_velocity),
        "muscle_names": list(eff.muscle_names),
        "kind": eff.spec.muscle_kind,
    }
