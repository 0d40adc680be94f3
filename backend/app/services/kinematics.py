"""Drawing helpers over the core's public effector API: joint and muscle-path xy."""

from __future__ import annotations

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
