"""Drawing helpers over the core's public effector API: joint and muscle-path xy."""

from __future__ import annotations

import itertools
from typing import Any

import torch
from torch import Tensor

from backend.app.core.errors import spec_error
from motornet_core import Effector


def mid_position(eff: Effector) -> Tensor:
    """(n,) the middle of each joint's bounds."""
    return (eff.skeleton.pos_lb + eff.skeleton.pos_ub) / 2


def muscle_paths(eff: Effector, q: Tensor) -> list[list[list[float]]] | None:
    """[M][P][2] world xy of each muscle's path points at posture ``q`` (1, n), or None without path geometry."""
    out = []
    for muscle in eff.spec.muscles:
        points = getattr(muscle.geometry, "points", None)
        if points is None:
            return None
        body = torch.tensor([p.body for p in points], dtype=torch.long)
        coords = torch.tensor([[p.x, p.y] for p in points], dtype=q.dtype)
        x, _, _ = eff.skeleton.point_kinematics(q, torch.zeros_like(q), body, coords, False)
        out.append(x[0].tolist())
    return out


def as_tensor(data: Any, loc: str, ndim: tuple[int, ...]) -> Tensor:
    """A float32 tensor from nested lists, with a spec error naming ``loc`` when ragged or mis-shaped."""
    try:
        t = torch.tensor(data, dtype=torch.float32)
    except (TypeError, ValueError) as exc:
        raise spec_error(loc, f"must be a rectangular array of numbers ({exc})") from None
    if t.dim() not in ndim:
        raise spec_error(loc, f"must have {' or '.join(str(n) for n in ndim)} dimensions, got shape {list(t.shape)}")
    if not bool(torch.isfinite(t).all()):
        raise spec_error(loc, "must be finite numbers")
    return t


def workspace_grids(eff: Effector, n: int = 16, max_grids: int = 64) -> list[list[list[list[float]]]]:
    """The reachable fingertip region from the joint limits, as grids of fingertip xy [m], rounded to 0.1 mm.

    Each grid is [n + 1][k][2]: the fingertip over an (n + 1) x (n + 1) lattice of two joints' ranges
    (k = 1 for a one-joint chain), every other joint held fixed. The region is the union of the grids'
    quadrilaterals (corners [i][j], [i+1][j], [i+1][j+1], [i][j+1]). Two joints: one grid over the
    whole range. More: one grid per pair of joints with the others at their limits (three joints: at
    their limits and mid-range), i.e. the 2-faces of the joint-limit box, whose images hold the
    region's boundary (a planar chain's singular postures, all links in line, lie on those faces
    when a joint's range starts at 0; beyond ``max_grids`` faces an even subset is kept, n halved).
    Positions come from the core's forward kinematics (:meth:`~motornet_core.Effector.body_points`,
    the last point is the fingertip).
    """
    lb, ub = eff.skeleton.pos_lb.detach().double().cpu(), eff.skeleton.pos_ub.detach().double().cpu()
    dof = int(lb.shape[0])
    mid = (lb + ub) / 2
    if dof == 1:
        lattices = [torch.linspace(float(lb[0]), float(ub[0]), n + 1, dtype=torch.float64)[:, None, None]]
    else:
        levels = [lb, mid, ub] if dof == 3 else [lb, ub]
        faces: list[tuple[int, int, tuple[int, ...]]] = []
        for a in range(dof):
            for b in range(a + 1, dof):
                others = [j for j in range(dof) if j not in (a, b)]
                for combo in itertools.product(range(len(levels)), repeat=len(others)):
                    faces.append((a, b, combo))
        if len(faces) > max_grids:
            keep = torch.linspace(0, len(faces) - 1, max_grids).round().long().tolist()
            faces, n = [faces[i] for i in keep], max(4, n // 2)
        lattices = []
        for a, b, combo in faces:
            others = [j for j in range(dof) if j not in (a, b)]
            q = mid.repeat(n + 1, n + 1, 1)  # (n + 1, n + 1, dof)
            qa = torch.linspace(float(lb[a]), float(ub[a]), n + 1, dtype=torch.float64)
            qb = torch.linspace(float(lb[b]), float(ub[b]), n + 1, dtype=torch.float64)
            q[..., a], q[..., b] = qa[:, None].expand(n + 1, n + 1), qb[None, :].expand(n + 1, n + 1)
            for j, level in zip(others, combo, strict=True):
                q[..., j] = levels[level][j]
            lattices.append(q)
    out = []
    for q in lattices:
        with torch.no_grad():
            tip = eff.body_points(q.reshape(-1, dof).to(dtype=eff.dtype, device=eff.device))[:, -1, :]  # (N, 2) [m]
        out.append((torch.round(tip.double().cpu() * 1e4) / 1e4).reshape(*q.shape[:2], 2).tolist())
    return out
