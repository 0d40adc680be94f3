"""Eager fast paths: whole computations as one autograd node with a hand-derived backward.

On the CPU at the batch sizes of training (tens to a few thousand rows) an eager step is bound by
the per-operation cost of PyTorch (dispatch and autograd bookkeeping), not by arithmetic: the
generic point-mass step records ~45 autograd nodes and its backward runs ~90 small kernels. The
functions here compute the same forward values with the same operations, in the same order (so
trajectories are bit-identical to the generic path), without recording a graph, and give their
gradients in a hand-written backward of fewer, larger operations.

* :class:`PointMassReluStep`: one euler step of a point mass with linear ("relu") muscles and
  path geometry (the tutorial's ``point_mass_24``): activation dynamics, forces, skeleton, joint
  limits, geometry and fingertip.
* :class:`GRUCellFunction`: one GRU cell step with the arithmetic of ``torch.gru_cell`` on the CPU.

They are used only where they apply: gradients on, no compilation being traced (compiled chunks
keep the generic graph, which inductor fuses), no functorch transform active and no effector
constant made learnable. ``MOTORNET_CORE_EAGER_KERNELS=0`` turns them off (the generic path, e.g.
to compare). Their gradients are checked against autograd with ``torch.autograd.gradcheck`` in
float64 (tests/core/test_kernels.py).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor
from torch.autograd.function import FunctionCtx

if TYPE_CHECKING:
    from motornet_core.effector import Effector


ENABLED = os.environ.get("MOTORNET_CORE_EAGER_KERNELS", "1") != "0"
"""Whether the kernels are used where they apply (read from ``MOTORNET_CORE_EAGER_KERNELS`` at import;
see :func:`generic_path`)."""


@contextmanager
def generic_path() -> Iterator[None]:
    """Within the block, every step takes the generic autograd graph (to compare with the kernels)."""
    global ENABLED
    before, ENABLED = ENABLED, False
    try:
        yield
    finally:
        ENABLED = before


def kernels_allowed(*tensors: Tensor | None) -> bool:
    """Whether a hand-derived kernel may replace the generic computation now.

    True when the kernels are :data:`ENABLED`, gradients are on, some input requires grad, nothing
    is being compiled and no functorch transform (vmap, grad) is active.
    """
    if not ENABLED or not torch.is_grad_enabled() or torch.compiler.is_compiling():
        return False
    if torch._C._are_functorch_transforms_active():
        return False
    return any(t is not None and t.requires_grad for t in tensors)


def apply_kernel(fn: type[torch.autograd.Function], *args: Any) -> Any:
    """``fn.apply(*args)`` without ``Function.apply``'s functorch bookkeeping (callers checked
    :func:`kernels_allowed`: no transform is active, so there is nothing to unwrap)."""
    return super(torch.autograd.Function, fn).apply(*args)  # type: ignore[misc]


# -- the point mass with linear muscles -------------------------------------------------------------------


def _clamp_mask(clamped: Tensor, raw: Tensor) -> Tensor:
    """Where ``clamp``'s gradient passes: raw within [min, max] is exactly clamped == raw (NaN: False)."""
    return clamped == raw


class PointMassReluStep(torch.autograd.Function):
    """One euler step (``h`` [s]) of :class:`~motornet_core.skeletons.point_mass.PointMass` with
    :class:`~motornet_core.muscles.relu.ReluMuscle` and :class:`~motornet_core.geometry.models.PathGeometry`.

    Inputs: position q (B, 2) [m], velocity qd (B, 2), activation a (B, M), force F (B, M) [N],
    moment arms R (B, 2, M), excitation e (B, M) (clipped here), endpoint load (B, 2) [N] or None,
    joint load (B, 2) [N] or None. Outputs: q', qd', a', F', musculotendon length (B, M) [m],
    velocity (B, M) [m/s], moment arms (B, 2, M) of (q', qd'), fingertip (B, 4).
    """

    @staticmethod
    def forward(
        ctx: FunctionCtx,
        eff: Effector,
        h: float,
        q: Tensor,
        qd: Tensor,
        a: Tensor,
        force: Tensor,
        moment_arm: Tensor,
        e: Tensor,
        endpoint: Tensor | None,
        joint: Tensor | None,
    ) -> tuple[Tensor, ...]:
        mods: Any = eff._modules
        mus, sk, geo = mods["muscles"], mods["skeleton"], mods["geometry"]
        mb: Any = mus._buffers
        sb: Any = sk._buffers
        gb: Any = geo._buffers
        # (buffers from the dicts: nn.Module.__getattr__ is slow)
        a_min, a_max = mb["min_activation"], mb["max_activation"]
        # the generic path's operations, in its order (Effector.step, euler, MuscleModel, PointMass, PathGeometry)
        u = torch.clamp(e, min=a_min, max=a_max)
        a_c = torch.clamp(a, min=a_min, max=a_max)
        scale = 0.5 + 1.5 * a_c
        rising = u > a_c
        tau = torch.where(rising, mb["tau_act"] * scale, mb["tau_deact"] / scale)
        a_dot = (u - a_c) / tau
        q_force = -(moment_arm * force[:, None, :]).sum(-1)
        if joint is not None:
            q_force = q_force + joint
        q_force = q_force - eff._buffers["damping"] * qd  # type: ignore[operator]
        total = q_force if endpoint is None else q_force + endpoint
        qdd = total / sb["mass"]
        a_raw = a + h * a_dot
        a_new = torch.clamp(a_raw, min=a_min, max=a_max)
        f_new = a_new * mb["max_iso_force"]
        qd1 = qd + h * qdd
        q1 = q + h * qd
        qd2 = torch.clamp(qd1, min=sb["vel_lb"], max=sb["vel_ub"])
        inf = float("inf")
        qd3 = torch.clamp(qd2, min=torch.where(q1 <= sb["pos_lb"], 0.0, -inf), max=torch.where(q1 >= sb["pos_ub"], 0.0, inf))
        q2 = torch.clamp(q1, min=sb["pos_lb"], max=sb["pos_ub"])
        w = gb["mass_weight"]
        delta = (gb["end_xy"] - gb["start_xy"]) + q2[:, :, None] * w  # (B, 2, G)
        seg_len = torch.linalg.vector_norm(delta, dim=1)  # (B, G)
        unit = delta / seg_len[:, None]
        seg_arm = unit * w
        seg_vel = (seg_arm * qd3[:, :, None]).sum(1)
        if geo.one_segment:
            length, velocity, arm = seg_len, seg_vel, seg_arm
        else:
            incidence = gb["incidence"]
            length, velocity, arm = seg_len @ incidence, seg_vel @ incidence, seg_arm @ incidence
        fingertip = torch.cat([q2, qd3], dim=-1)
        masks = torch.stack([_clamp_mask(u, e), _clamp_mask(a_c, a), _clamp_mask(a_new, a_raw), rising])
        limit_masks = torch.stack([_clamp_mask(qd2, qd1), _clamp_mask(qd3, qd2), _clamp_mask(q2, q1)])
        ctx.save_for_backward(masks, limit_masks, u, a_c, scale, tau, force, moment_arm, unit, seg_len, seg_arm, qd3)
        ctx.eff, ctx.h = eff, h  # type: ignore[attr-defined]
        ctx.has_endpoint, ctx.has_joint = endpoint is not None, joint is not None  # type: ignore[attr-defined]
        ctx.set_materialize_grads(False)
        return q2, qd3, a_new, f_new, length, velocity, arm, fingertip

    @staticmethod
    def backward(ctx: Any, *grads: Tensor | None) -> tuple[Tensor | None, ...]:
        g_q2, g_qd3, g_an, g_f, g_len, g_vel, g_arm, g_tip = grads
        masks, limit_masks, u, a_c, scale, tau, force, moment_arm, unit, seg_len, seg_arm, qd3 = ctx.saved_tensors
        eff, h = ctx.eff, ctx.h
        mods: Any = eff._modules
        mb, sb, geo = mods["muscles"]._buffers, mods["skeleton"]._buffers, mods["geometry"]
        w = geo._buffers["mass_weight"]
        if g_tip is not None:
            g_q2 = g_tip[:, :2] if g_q2 is None else g_q2 + g_tip[:, :2]
            g_qd3 = g_tip[:, 2:] if g_qd3 is None else g_qd3 + g_tip[:, 2:]
        if g_q2 is None:
            g_q2 = torch.zeros_like(qd3)
        if g_qd3 is None:
            g_qd3 = torch.zeros_like(qd3)
        # geometry: per-muscle sums back to segments
        seg_g = [
            None if g is None else (g if geo.one_segment else g @ geo._buffers["incidence"].T) for g in (g_len, g_vel, g_arm)
        ]
        g_seg_len, g_seg_vel, g_seg_arm = seg_g
        if g_seg_vel is not None:
            g_from_vel = g_seg_vel[:, None, :] * qd3[:, :, None]  # (B, 2, G)
            g_seg_arm = g_from_vel if g_seg_arm is None else g_seg_arm + g_from_vel
            g_qd3 = g_qd3 + (g_seg_vel[:, None, :] * seg_arm).sum(-1)
        if g_seg_arm is not None or g_seg_len is not None:
            # d len / d delta = unit; d unit / d delta = (I - unit unit^T) / len
            g_delta_len = g_seg_len if g_seg_len is not None else None
            if g_seg_arm is not None:
                g_unit = g_seg_arm * w
                radial = (g_unit * unit).sum(1)  # (B, G)
                g_delta = (g_unit - unit * radial[:, None]) / seg_len[:, None]
                if g_delta_len is not None:
                    g_delta = g_delta + unit * g_delta_len[:, None]
            else:
                g_delta = unit * g_delta_len[:, None]  # type: ignore[index]
            g_q2 = g_q2 + (g_delta * w).sum(-1)
        # joint limits
        m_vel, m_pin, m_pos = limit_masks[0], limit_masks[1], limit_masks[2]
        g_q1 = g_q2 * m_pos
        g_qd1 = g_qd3 * m_pin * m_vel
        # q1 = q + h qd, qd1 = qd + h qdd, qdd = (Q [+ endpoint]) / mass, Q = -R F [+ joint] - damping qd
        g_q = g_q1
        g_total = g_qd1 * (h / sb["mass"])
        g_qd = g_qd1 + h * g_q1 - eff._buffers["damping"] * g_total
        g_force = -(g_total[:, :, None] * moment_arm).sum(1)
        g_moment_arm = -(g_total[:, :, None] * force[:, None, :])
        # muscles: F' = a' F_max, a' = clip(a + h a_dot), a_dot = (u - a_c) / tau
        m_u, m_a, m_an, rising = masks[0], masks[1], masks[2], masks[3]
        g_a = None
        g_e = None
        if g_an is not None or g_f is not None:
            fmax = mb["max_iso_force"]
            g_anew = g_an if g_f is None else (g_f * fmax if g_an is None else g_an + g_f * fmax)
            g_raw = g_anew * m_an
            g_u = (h * g_raw) / tau  # d a_dot / d u = 1 / tau
            # d a_dot / d a_c = -1 / tau - (u - a_c) / tau^2 d tau / d scale * 1.5
            d_tau_d_scale = torch.where(rising, mb["tau_act"], -mb["tau_deact"] / (scale * scale))
            g_ac = -g_u - g_u * (u - a_c) / tau * d_tau_d_scale * 1.5
            g_a = g_raw + g_ac * m_a
            g_e = g_u * m_u
        g_endpoint = g_total if ctx.has_endpoint else None
        g_joint = g_total if ctx.has_joint else None
        return None, None, g_q, g_qd, g_a, g_force, g_moment_arm, g_e, g_endpoint, g_joint


def point_mass_relu_applies(eff: Effector) -> bool:
    """Whether :class:`PointMassReluStep` computes ``eff``'s euler step (checked once per effector)."""
    from motornet_core.geometry.models import PathGeometry
    from motornet_core.muscles.relu import ReluMuscle
    from motornet_core.skeletons.point_mass import PointMass

    return (
        eff.integration == "euler"
        and type(eff.skeleton) is PointMass
        and type(eff.muscles) is ReluMuscle
        and type(eff.geometry) is PathGeometry
    )


# -- the GRU cell ---------------------------------------------------------------------------------------------


class GRUCellFunction(torch.autograd.Function):
    """``torch.gru_cell(x, h, w_ih, w_hh, b_ih, b_hh)`` with the CPU's arithmetic and a hand-derived backward.

    x (B, I), h (B, H), w_ih (3H, I), w_hh (3H, H), b_ih, b_hh (3H,); gates reset, update, new.
    """

    @staticmethod
    def forward(ctx: FunctionCtx, x: Tensor, h: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor, b_hh: Tensor) -> Tensor:
        gi = torch.addmm(b_ih, x, w_ih.t())
        gh = torch.addmm(b_hh, h, w_hh.t())
        i_r, i_z, i_n = gi.unsafe_chunk(3, 1)
        h_r, h_z, h_n = gh.unsafe_chunk(3, 1)
        r = h_r.add(i_r).sigmoid_()
        z = h_z.add(i_z).sigmoid_()
        n = i_n.add(h_n * r).tanh_()
        out = (h - n).mul_(z).add_(n)
        ctx.save_for_backward(x, h, w_ih, w_hh, r, z, n, h_n)
        return out

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> tuple[Tensor | None, ...]:
        x, h, w_ih, w_hh, r, z, n, h_n = ctx.saved_tensors
        # out = (h - n) z + n
        g_n = g * torch.rsub(z, 1)
        g_pre_n = g_n * torch.rsub(n * n, 1)  # tanh'
        g_pre_z = g * (h - n) * (z * torch.rsub(z, 1))  # sigmoid'
        g_pre_r = g_pre_n * h_n * (r * torch.rsub(r, 1))
        g_i = torch.cat([g_pre_r, g_pre_z, g_pre_n], dim=1)  # (B, 3H) of gi
        g_h_gates = torch.cat([g_pre_r, g_pre_z, g_pre_n * r], dim=1)  # of gh
        need = ctx.needs_input_grad
        g_x = g_i @ w_ih if need[0] else None
        g_h = torch.addmm(g * z, g_h_gates, w_hh) if need[1] else None
        g_w_ih = g_i.t() @ x if need[2] else None
        g_w_hh = g_h_gates.t() @ h if need[3] else None
        g_b_ih = g_i.sum(0) if need[4] else None
        g_b_hh = g_h_gates.sum(0) if need[5] else None
        return g_x, g_h, g_w_ih, g_w_hh, g_b_ih, g_b_hh


def gru_cell(cell: torch.nn.GRUCell, x: Tensor, h: Tensor) -> Tensor:
    """``cell(x, h)`` through :class:`GRUCellFunction` where :func:`kernels_allowed`, else torch's cell."""
    if cell.bias and x.dim() == 2 and kernels_allowed(x, h, cell.weight_ih):
        out: Tensor = apply_kernel(GRUCellFunction, x, h, cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh)
        return out
    return cell(x, h)
