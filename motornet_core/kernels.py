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
* :class:`Arm26HillStep`: one euler step of the two-link arm with rigid-tendon Hill muscles and the
  polynomial geometry (arm26 and every variant of it with those models): activation dynamics, the
  Hill muscle at the state's geometry, accelerations, joint limits, geometry and fingertip.
* :class:`GRUCellFunction`: one GRU cell step with the arithmetic of ``torch.gru_cell`` on the CPU.

Where a kernel regroups the generic path's arithmetic (a Python number as a 0-d tensor, two columns'
equations as one (B, 2) operation) it does so only where every element gets the same IEEE operations
on the same operands; transcendental functions see the same tensors (layout included) as in the
generic path, so the forward values stay bit-identical (tests/core/test_kernels.py).

Native versions (:mod:`motornet_core.native`, plain C built on first use) replace the physics
kernels' tensor operations by one call each way, and the GRU cell's elementwise backward by one:

* :class:`NativePointMassReluStep` and :class:`NativeArm26HillStep`: the same forward values (the
  arm's sines and cosines and both models' muscle-torque sums stay PyTorch's, on the generic path's
  tensors), backwards that recompute the forward per row; float32 and float64 on the CPU.
* :func:`GRUCellFunction.backward <GRUCellFunction>` with ``gru.c`` for the gates.

They are used only where they apply: gradients on, no compilation being traced (compiled chunks
keep the generic graph, which inductor fuses), no functorch transform active and no effector
constant made learnable. ``MOTORNET_CORE_EAGER_KERNELS=0`` turns them all off (the generic path,
e.g. to compare), ``MOTORNET_CORE_NATIVE_KERNELS=0`` only the native ones (the Python kernels here).
Their gradients are checked against autograd with ``torch.autograd.gradcheck`` in float64
(tests/core/test_kernels.py, tests/core/test_native.py).
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


def _parts(eff: Effector) -> tuple[Any, Any, Any, Any, Any, Any]:
    """The effector's muscles, skeleton and geometry modules and their buffer dicts (read from the
    dicts directly: ``nn.Module.__getattr__`` is slow at one call per step)."""
    mods: Any = eff._modules
    mus, sk, geo = mods["muscles"], mods["skeleton"], mods["geometry"]
    return mus, sk, geo, mus._buffers, sk._buffers, geo._buffers


def _activation_and_joint_force(
    eff: Effector,
    mb: Any,
    c05: Tensor,
    c15: Tensor,
    e: Tensor,
    a: Tensor,
    qd: Tensor,
    force: Tensor,
    moment_arm: Tensor,
    joint: Tensor | None,
) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor]:
    """The step's first part, shared by the kernels and in the generic path's order: clipped excitation u
    and activation a_c (B, M), the time-constant scale, where activation rises, tau [s] and da/dt (B, M),
    and the joint torques from the muscles, joint loads and damping (B, J) [N m]."""
    a_min, a_max = mb["min_activation"], mb["max_activation"]
    u = torch.clamp(e, min=a_min, max=a_max)
    a_c = torch.clamp(a, min=a_min, max=a_max)
    scale = c05 + c15 * a_c
    rising = u > a_c
    tau = torch.where(rising, mb["tau_act"] * scale, mb["tau_deact"] / scale)
    a_dot = (u - a_c) / tau
    q_force = -(moment_arm * force[:, None, :]).sum(-1)
    if joint is not None:
        q_force = q_force + joint
    q_force = q_force - eff._buffers["damping"] * qd  # type: ignore[operator]
    return u, a_c, scale, rising, tau, a_dot, q_force


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


def wants_gradient(*tensors: Tensor | None) -> bool | None:
    """How a hand-derived kernel may compute a step of ``tensors`` now, decided once per step.

    None where no kernel may: the kernels are not :data:`ENABLED`, something is being compiled, or a
    functorch transform (vmap, grad) is active. Otherwise whether a gradient is wanted (gradients on
    and some input requires grad): True for a kernel with its backward (:func:`apply_kernel`), False
    for a native kernel's forward alone (:func:`forward_only`: evaluation, replay, the playground,
    RL rollouts).
    """
    if not _eager_context():
        return None
    return torch.is_grad_enabled() and _any_requires_grad(tensors)


def kernels_allowed(*tensors: Tensor | None) -> bool:
    """Whether a hand-derived kernel with its backward may replace the generic computation now
    (:func:`wants_gradient` is True)."""
    return wants_gradient(*tensors) is True


def _eager_context() -> bool:
    """The kernels :data:`ENABLED`, nothing being compiled and no functorch transform (vmap, grad) active."""
    return ENABLED and not torch.compiler.is_compiling() and not torch._C._are_functorch_transforms_active()


def _any_requires_grad(tensors: tuple[Tensor | None, ...]) -> bool:
    return any(t is not None and t.requires_grad for t in tensors)


class DirectCtx:
    """What a kernel's static ``forward`` needs of its ``ctx`` when called directly, outside autograd
    (:func:`forward_only`): attributes, and a ``save_for_backward`` and ``set_materialize_grads``
    that do nothing (no backward follows)."""

    def save_for_backward(self, *tensors: Any) -> None:
        pass

    def set_materialize_grads(self, value: bool) -> None:
        pass


def forward_only(fn: type[torch.autograd.Function], *args: Any) -> Any:
    """``fn``'s forward called directly: its outputs, with no autograd node (callers checked that
    :func:`wants_gradient` is False)."""
    return fn.forward(DirectCtx(), *args)


def apply_kernel(fn: type[torch.autograd.Function], *args: Any) -> Any:
    """``fn.apply(*args)`` without ``Function.apply``'s functorch bookkeeping (callers checked
    :func:`kernels_allowed`: no transform is active, so there is nothing to unwrap)."""
    return super(torch.autograd.Function, fn).apply(*args)  # type: ignore[misc]


# -- the point mass with linear muscles -------------------------------------------------------------------


def _clamp_mask(clamped: Tensor, raw: Tensor) -> Tensor:
    """Where ``clamp``'s gradient passes: raw within [min, max] is exactly clamped == raw (NaN: False)."""
    return clamped == raw


_SCALARS: dict[tuple[torch.dtype, torch.device, float], tuple[Tensor, ...]] = {}


def _scalars(like: Tensor, h: float) -> tuple[Tensor, ...]:
    """0-d tensors of ``like``'s dtype and device: 0.5, 1.5, 2, 1, 0.9, -0.5, 0, inf, -inf, 3 and ``h``.

    An operation with a 0-d tensor gives the same values as with the Python number (which is cast to
    the tensor's dtype first) and skips that cast: about half the cost of a small operation.
    """
    key = (like.dtype, like.device, h)
    hit = _SCALARS.get(key)
    if hit is None:
        inf = float("inf")
        values = (0.5, 1.5, 2.0, 1.0, 0.9, -0.5, 0.0, inf, -inf, 3.0, h)
        hit = _SCALARS[key] = tuple(torch.tensor(v, dtype=like.dtype, device=like.device) for v in values)
    return hit


def _cached(owner: Any, name: str, sources: tuple[Tensor, ...], make: Any) -> Any:
    """``make()`` of constants derived from ``sources``, cached on ``owner`` until a source is replaced
    (``.to``, a learnable constant) or changed in place (its version counter)."""
    key = tuple((t, t._version) for t in sources)
    hit = owner.__dict__.get(name)
    if hit is not None and len(hit[0]) == len(key) and all(a is b and u == v for (a, u), (b, v) in zip(hit[0], key, strict=True)):
        return hit[1]
    with torch.no_grad():
        value = make()
    owner.__dict__[name] = (key, value)
    return value


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
        _, _, geo, mb, sb, gb = _parts(eff)
        # (buffers from the dicts: nn.Module.__getattr__ is slow)
        a_min, a_max = mb["min_activation"], mb["max_activation"]
        c05, c15, _, _, _, _, zero, inf, ninf, _, ch = _scalars(q, h)
        # the generic path's operations, in its order (Effector.step, euler, MuscleModel, PointMass, PathGeometry)
        u, a_c, scale, rising, tau, a_dot, q_force = _activation_and_joint_force(
            eff, mb, c05, c15, e, a, qd, force, moment_arm, joint
        )
        total = q_force if endpoint is None else q_force + endpoint
        qdd = total / sb["mass"]
        a_raw = a + ch * a_dot
        a_new = torch.clamp(a_raw, min=a_min, max=a_max)
        f_new = a_new * mb["max_iso_force"]
        qd1 = qd + ch * qdd
        q1 = q + ch * qd
        qd2 = torch.clamp(qd1, min=sb["vel_lb"], max=sb["vel_ub"])
        qd3 = torch.clamp(qd2, min=torch.where(q1 <= sb["pos_lb"], zero, ninf), max=torch.where(q1 >= sb["pos_ub"], zero, inf))
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


_POINT_MASS_NATIVE_SOURCES = ("min_activation", "max_activation", "tau_act", "tau_deact", "max_iso_force")


def _point_mass_native_constants(eff: Effector) -> Tensor:
    """The packed constants of ``point_mass.c`` (REAL[8 M + 11], its header), cached on the effector until
    a buffer is replaced or changed in place."""
    _, _, _, mb, sb, gb = _parts(eff)
    sources = (
        *(mb[n] for n in _POINT_MASS_NATIVE_SOURCES),
        gb["mass_weight"], gb["end_xy"], gb["start_xy"],
        sb["mass"], sb["vel_lb"], sb["vel_ub"], sb["pos_lb"], sb["pos_ub"], eff._buffers["damping"],
    )  # fmt: skip

    def make() -> Tensor:
        m = gb["end_xy"].shape[-1]
        parts = [mb[n].expand(m) for n in _POINT_MASS_NATIVE_SOURCES]
        parts += [gb["mass_weight"].expand(m), (gb["end_xy"] - gb["start_xy"]).reshape(-1)]
        parts += [sb[n].expand(2) for n in ("mass", "vel_lb", "vel_ub", "pos_lb", "pos_ub")]
        parts.append(eff._buffers["damping"].reshape(1))  # type: ignore[union-attr]
        return torch.cat(parts).contiguous()

    packed: Tensor = _cached(eff, "_native_point_mass_constants", sources, make)
    return packed


def _ptr(t: Tensor | None) -> int | None:
    return None if t is None else t.data_ptr()


def _contig(t: Tensor | None) -> Tensor | None:
    return None if t is None else t.contiguous()


class NativePointMassReluStep(torch.autograd.Function):
    """:class:`PointMassReluStep` (one-segment geometry) with its forward and backward in C
    (:mod:`motornet_core.native`, ``point_mass.c``): one call each way instead of ~70 tensor operations.

    Same inputs and outputs; the forward evaluates the generic path's expressions in its order; the
    backward recomputes the forward's intermediates per row instead of saving them.
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
        from motornet_core import native

        lib: Any = native.library()
        suffix = "f32" if q.dtype == torch.float32 else "f64"
        c = _point_mass_native_constants(eff)
        ins = [t.contiguous() for t in (q, qd, a, force, moment_arm, e)]
        endpoint, joint = _contig(endpoint), _contig(joint)
        rf = (moment_arm * force[:, None, :]).sum(-1).contiguous()  # PyTorch's order of addition, as the generic path
        b, m = ins[2].shape
        new = q.new_empty
        outs = (new(b, 2), new(b, 2), new(b, m), new(b, m), new(b, m), new(b, m), new(b, 2, m), new(b, 4))
        getattr(lib, f"point_mass_forward_{suffix}")(
            b, m, h, c.data_ptr(), *(t.data_ptr() for t in ins), _ptr(endpoint), _ptr(joint), rf.data_ptr(),
            *(t.data_ptr() for t in outs),
        )  # fmt: skip
        ctx.save_for_backward(*ins, endpoint, joint, rf)  # type: ignore[arg-type]  # None is allowed
        ctx.c, ctx.h, ctx.suffix = c, h, suffix  # type: ignore[attr-defined]
        ctx.set_materialize_grads(False)
        return outs

    @staticmethod
    def backward(ctx: Any, *grads: Tensor | None) -> tuple[Tensor | None, ...]:
        from motornet_core import native

        lib: Any = native.library()
        saved = ctx.saved_tensors
        q, a, endpoint, joint = saved[0], saved[2], saved[6], saved[7]
        c = ctx.c
        b, m = a.shape
        gs = [_contig(g) for g in grads]
        new = q.new_empty
        outs = (new(b, 2), new(b, 2), new(b, m), new(b, m), new(b, 2, m), new(b, m), new(b, 2))
        getattr(lib, f"point_mass_backward_{ctx.suffix}")(
            b, m, ctx.h, c.data_ptr(), *(_ptr(t) for t in saved), *(_ptr(g) for g in gs), *(t.data_ptr() for t in outs)
        )
        g_q, g_qd, g_a, g_force, g_arm, g_e, g_total = outs
        g_endpoint = g_total if endpoint is not None else None
        g_joint = (g_total if endpoint is None else g_total.clone()) if joint is not None else None
        return None, None, g_q, g_qd, g_a, g_force, g_arm, g_e, g_endpoint, g_joint


def point_mass_native_applies(eff: Effector) -> bool:
    """Whether :class:`NativePointMassReluStep` computes ``eff``'s step: :func:`point_mass_relu_applies`,
    one segment per muscle, one weight per segment and the native library available (built on the
    first call; the dtype and device are checked per call, :func:`native_dtype`)."""
    from motornet_core import native

    if not point_mass_relu_applies(eff):
        return False
    _, _, geo, _, _, gb = _parts(eff)
    return bool(geo.one_segment) and gb["mass_weight"].dim() <= 1 and native.available()


def native_dtype(t: Tensor) -> bool:
    """Whether a native kernel takes ``t``'s dtype and device (float32 or float64 on the CPU)."""
    return t.device.type == "cpu" and t.dtype in (torch.float32, torch.float64)


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


# -- the two-link arm with rigid-tendon Hill muscles ----------------------------------------------------------


_ARM_SOURCES = ("inertia_c", "inertia_m", "lengths", "coriolis", "c_viscosity")


def _arm_constants(sb: Any) -> tuple[Tensor, ...]:
    """The two-link arm's constants: (c11, c12, c22) and (m11, m12, m22) of the inertia (3,), (-k, k) of the
    Coriolis factor k (2,), the inertia's m11, m12, m22, L1, L2, -L1, -L2 (0-d), k and the viscosity
    (the negations computed as the generic path does)."""
    ic, im, lengths, k = sb["inertia_c"], sb["inertia_m"], sb["lengths"], sb["coriolis"]
    L1, L2 = lengths[0], lengths[1]
    pick = ((0, 0), (0, 1), (1, 1))
    c3, m3 = torch.stack([ic[i] for i in pick]), torch.stack([im[i] for i in pick])
    return (c3, m3, torch.stack([-k, k]), im[0, 0], im[0, 1], im[1, 1], L1, L2, -L1, -L2, k, sb["c_viscosity"])


def _hill_sources(mb: Any, gb: Any) -> tuple[Tensor, ...]:
    """The buffers :func:`_hill_constants` derives from (its cache's key)."""
    return (gb["a2"], mb["b_rel"], mb["q_crit"], mb["fl_width_sq"], mb["l0_ce"], mb["vmax"])


def _hill_constants(mb: Any, gb: Any) -> tuple[Tensor, ...]:
    """Per-muscle factors of the Hill step: 2 a2 (n, M), 0.005 - q_crit (as the generic path computes them);
    for the backward dB/da / (1 - 0.9 (a - q_crit) / (0.005 - q_crit)), d F_CE / d length / (ln - 1),
    2 / l0_ce, 1 / vmax."""
    return (
        2 * gb["a2"],
        0.005 - mb["q_crit"],
        -1.8 * mb["b_rel"] / (0.005 - mb["q_crit"]),
        -2 / (mb["fl_width_sq"] * mb["l0_ce"]),
        2 / mb["l0_ce"],
        1 / mb["vmax"],
    )


class Arm26HillStep(torch.autograd.Function):
    """One euler step (``h`` [s]) of :class:`~motornet_core.skeletons.planar_arm.TwoLinkArm` with
    :class:`~motornet_core.muscles.hill.RigidHillMuscle` and
    :class:`~motornet_core.geometry.models.PolynomialGeometry` (arm26 and its variants).

    Inputs: joint angles q (B, 2) [rad], velocities qd (B, 2) [rad/s], activation a (B, M), force F
    (B, M) [N], the state's geometry: musculotendon length (B, M) [m], velocity (B, M) [m/s], moment
    arms (B, 2, M) [m]; excitation e (B, M) (clipped here), endpoint load (B, 2) [N] or None, joint
    load (B, 2) [N m] or None. Outputs: q', qd', the muscle state evaluated at the input geometry
    (a', fibre length, F', F_PE, F_CE, active force; its velocity is the input geometry's), the
    geometry of (q', qd') (length, velocity, moment arms) and the fingertip (B, 4).
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
        g_length: Tensor,
        g_velocity: Tensor,
        moment_arm: Tensor,
        e: Tensor,
        endpoint: Tensor | None,
        joint: Tensor | None,
    ) -> tuple[Tensor, ...]:
        mus, sk, _, mb, sb, gb = _parts(eff)
        # the generic path's operations on the same values (Effector.step, euler, MuscleModel,
        # RigidHillMuscle.evaluate, TwoLinkArm, Skeleton.apply_limits, PolynomialGeometry)
        c05, c15, c2_, one, c09, cm05, zero, inf, ninf, _, ch = _scalars(q, h)
        inertia_c, inertia_m, neg_k_k, _, _, _, L1, L2, nL1, nL2, _, cv = _cached(
            sk, "_kernel_constants", tuple(sb[n] for n in _ARM_SOURCES), lambda: _arm_constants(sb)
        )
        two_a2, qc_den, *_ = _cached(mus, "_kernel_constants", _hill_sources(mb, gb), lambda: _hill_constants(mb, gb))
        a_min, a_max = mb["min_activation"], mb["max_activation"]
        u, a_c, scale, rising, tau, a_dot, q_force = _activation_and_joint_force(
            eff, mb, c05, c15, e, a, qd, force, moment_arm, joint
        )
        # TwoLinkArm.acceleration, its two columns' equations as (B, 2) and (B, 3) operations: the same
        # per-element arithmetic (x - y is x + (-y), (-x) y is -(x y) exactly), in half the operations
        q1, q2 = q[:, 0], q[:, 1]
        dq1, dq2 = qd[:, 0], qd[:, 1]
        c2, s2 = torch.cos(q2), torch.sin(q2)
        m11, m12, m22 = (c2[:, None] * inertia_m + inertia_c).unbind(1)  # ic + im c2
        dq12 = c2_ * dq1 + dq2
        # cor1 = -k s2 (2 dq1 + dq2) dq2 + cv dq1, cor2 = k s2 dq1 dq1 + cv dq2
        cor = s2[:, None] * neg_k_k * torch.stack([dq12, dq1], dim=1) * qd.flip(1) + cv * qd
        r = q_force - cor
        jac: tuple[Tensor, ...] = ()
        if endpoint is not None:
            s1, c1 = torch.sin(q1), torch.cos(q1)
            q12 = q1 + q2
            s12, c12 = torch.sin(q12), torch.cos(q12)
            fx, fy = endpoint[:, 0], endpoint[:, 1]
            j11, j21, j12, j22 = nL1 * s1 - L2 * s12, L1 * c1 + L2 * c12, nL2 * s12, L2 * c12
            r = r + torch.stack([j11, j12], dim=1) * fx[:, None] + torch.stack([j21, j22], dim=1) * fy[:, None]
            jac = (j11, j21, j12, j22, fx, fy)
        r1, r2 = r.unbind(1)
        det = m11 * m22 - m12 * m12
        n12 = -m12
        # (m22 r1 - m12 r2) / det, (-m12 r1 + m11 r2) / det
        qdd = (torch.stack([m22, n12], dim=1) * r1[:, None] + torch.stack([n12, m11], dim=1) * r2[:, None]) / det[:, None]
        # the muscle at the new activation and the state's geometry (RigidHillMuscle.evaluate)
        a_raw = a + ch * a_dot
        an = torch.clamp(a_raw, min=a_min, max=a_max)
        length = torch.relu(g_length - mb["l0_se"])
        l0_ce = mb["l0_ce"]
        ln = length / l0_ce
        vn = g_velocity / mb["vmax"]
        stretch = torch.relu((length - mb["l0_pe"]) / l0_ce)
        k_pe_stretch = mb["k_pe"] * stretch
        f_pe = k_pe_stretch * stretch
        dl = ln - 1
        fl_raw = one - dl * dl / mb["fl_width_sq"]
        min_fl = mb["min_fl"]
        f_ce = torch.maximum(fl_raw, min_fl)
        a_rel, b_rel, q_crit, s_as = mb["a_rel"], mb["b_rel"], mb["q_crit"], mb["s_as"]
        long = ln > 1
        big_a = torch.where(long, a_rel * f_ce, a_rel.expand_as(f_ce))
        low_a = an < q_crit
        b_base = one - c09 * (an - q_crit) / qc_den
        big_b = torch.where(low_a, b_rel * b_base**2, b_rel.expand_as(an))
        f = an * f_ce
        f_ce_a = f_ce + big_a
        two_a = c2_ * an
        t_den = two_a * f_ce_a / big_b
        den = s_as - t_den
        p1 = cm05 * f / den
        v_s = torch.clamp(vn, max=0.0)
        v_l = torch.clamp(vn, min=0.0)
        vs_a = v_s * an
        d_s = big_b - v_s
        shortening = (vs_a * big_a + f * big_b) / d_s
        p1_v = p1 + v_l
        inner = s_as * p1_v + c15 * f
        lengthening = (f * p1 + v_l * inner) / p1_v
        short = vn < 0
        act = torch.relu(torch.where(short, shortening, lengthening))
        f_max = mb["max_iso_force"]
        f_new = (act + f_pe) * f_max
        # skeleton update, joint limits (Skeleton.apply_limits)
        qd1 = qd + ch * qdd
        qa = q + ch * qd
        qd2 = torch.clamp(qd1, min=sb["vel_lb"], max=sb["vel_ub"])
        qd3 = torch.clamp(qd2, min=torch.where(qa <= sb["pos_lb"], zero, ninf), max=torch.where(qa >= sb["pos_ub"], zero, inf))
        qb = torch.clamp(qa, min=sb["pos_lb"], max=sb["pos_ub"])
        # PolynomialGeometry of (qb, qd3)
        a1, a2 = gb["a1"], gb["a2"]
        x = qb[:, :, None] - gb["a3"]
        arm = a1 + two_a2 * x
        new_length = gb["a0"] + ((a1 + a2 * x) * x).sum(1)
        new_velocity = (qd3[:, :, None] * arm).sum(1)
        # TwoLinkArm.fingertip of (qb, qd3)
        t1, t12 = qb[:, 0], qb[:, 0] + qb[:, 1]
        ts1, tc1, ts12, tc12 = torch.sin(t1), torch.cos(t1), torch.sin(t12), torch.cos(t12)
        tdq1, tdq2 = qd3[:, 0], qd3[:, 1]
        tx, ty = L1 * tc1 + L2 * tc12, L1 * ts1 + L2 * ts12
        tip = torch.stack([tx, ty, -ty * tdq1 - L2 * ts12 * tdq2, tx * tdq1 + L2 * tc12 * tdq2], dim=-1)

        # where each gradient passes, as 0/1 in the model's dtype (one conversion, no bool products later)
        masks = torch.stack(
            [
                _clamp_mask(u, e),
                _clamp_mask(a_c, a),
                _clamp_mask(an, a_raw),
                rising,
                length > 0,
                stretch > 0,
                long,
                low_a,
                _clamp_mask(v_s, vn),
                _clamp_mask(v_l, vn),
                short,
                act > 0,
                fl_raw > min_fl,
                fl_raw == min_fl,  # maximum's gradient is shared at a tie
            ]
        ).to(q.dtype)
        limit_masks = torch.stack([_clamp_mask(qb, qa), _clamp_mask(qd3, qd2) & _clamp_mask(qd2, qd1)]).to(q.dtype)
        ctx.save_for_backward(
            masks, limit_masks, scale, a_dot, tau, force, moment_arm, an, k_pe_stretch, dl,
            f_ce, big_a, big_b, b_base, f, f_ce_a, two_a, t_den, den, p1, v_s, v_l, vs_a, d_s, shortening, p1_v,
            inner, lengthening, qd, c2, s2, dq12, m11, m12, m22, r1, r2, det, qdd, arm, qd3, ts1, tc1, ts12, tc12, tx, ty,
            *jac,
        )  # fmt: skip
        ctx.eff, ctx.h = eff, h  # type: ignore[attr-defined]
        ctx.has_endpoint, ctx.has_joint = endpoint is not None, joint is not None  # type: ignore[attr-defined]
        ctx.set_materialize_grads(False)
        return qb, qd3, an, length, f_new, f_pe, f_ce, act, new_length, new_velocity, arm, tip

    @staticmethod
    def backward(ctx: Any, *grads: Tensor | None) -> tuple[Tensor | None, ...]:
        g_qb, g_qd3, g_an, g_mlen, g_fnew, g_fpe, g_fce, g_act, g_nlen, g_nvel, g_narm, g_tip = grads
        (
            masks, limit_masks, scale, a_dot, tau, force, moment_arm, an, k_pe_stretch, dl,
            f_ce, big_a, big_b, b_base, f, f_ce_a, two_a, t_den, den, p1, v_s, v_l, vs_a, d_s, shortening, p1_v,
            inner, lengthening, qd, c2, s2, dq12, m11, m12, m22, r1, r2, det, qdd, arm, qd3, ts1, tc1, ts12, tc12, tx, ty,
            *jac,
        ) = ctx.saved_tensors  # fmt: skip
        eff, h = ctx.eff, ctx.h
        mods: Any = eff._modules
        mb, sb, gb = mods["muscles"]._buffers, mods["skeleton"]._buffers, mods["geometry"]._buffers
        g_q = g_qb
        g_w = g_qd3  # of qd3
        # fingertip: x = L1 c1 + L2 c12, y = L1 s1 + L2 s12, xd = -y w1 - L2 s12 w2, yd = x w1 + L2 c12 w2
        _, c15, c2_, _, _, _, _, _, _, c3, ch = _scalars(qd3, h)
        _, _, _, i11, i12, i22, L1, L2, _, _, k, cv = _cached(
            mods["skeleton"], "_kernel_constants", tuple(sb[n] for n in _ARM_SOURCES), lambda: _arm_constants(sb)
        )
        two_a2, _, d_b_coef, d_fl_coef, two_over_l0, inv_vmax = _cached(
            mods["muscles"], "_kernel_constants", _hill_sources(mb, gb), lambda: _hill_constants(mb, gb)
        )
        if g_tip is not None:
            gx, gy, gxd, gyd = g_tip.unbind(1)
            w1, w2 = qd3.unbind(1)
            g_x = torch.addcmul(gx, gyd, w1)
            g_y = torch.addcmul(gy, gxd, w1, value=-1)
            g_c12 = torch.addcmul(g_x, gyd, w2)
            g_s12 = torch.addcmul(g_y, gxd, w2, value=-1)
            g_t12 = (g_s12 * tc12 - g_c12 * ts12) * L2
            g_tq = torch.stack([torch.addcmul(g_t12, g_y * tc1 - g_x * ts1, L1), g_t12], dim=1)
            g_tw = torch.stack([gyd * tx - gxd * ty, (gyd * tc12 - gxd * ts12) * L2], dim=1)
            g_q = g_tq if g_q is None else g_q + g_tq
            g_w = g_tw if g_w is None else g_w + g_tw
        # polynomial geometry: L = a0 + sum_j (a1 + a2 x) x, R = a1 + 2 a2 x, V = sum_j qd_j R_j
        g_arm = g_narm
        if g_nvel is not None:
            g_from_vel = g_nvel[:, None, :] * qd3[:, :, None]
            g_arm = g_from_vel if g_arm is None else g_arm + g_from_vel
            g_wv = (g_nvel[:, None, :] * arm).sum(-1)
            g_w = g_wv if g_w is None else g_w + g_wv
        g_x3 = None if g_arm is None else g_arm * two_a2
        if g_nlen is not None:
            g_x3 = g_nlen[:, None, :] * arm if g_x3 is None else torch.addcmul(g_x3, g_nlen[:, None, :], arm)
        if g_x3 is not None:
            g_q = g_x3.sum(-1) if g_q is None else g_q + g_x3.sum(-1)
        # joint limits, then q' = q + h qd, qd' = qd + h qdd
        zeros = torch.zeros_like(qd3)
        g_qa = zeros if g_q is None else g_q * limit_masks[0]
        g_qd1 = zeros if g_w is None else g_w * limit_masks[1]
        # TwoLinkArm.acceleration: qdd = M^-1 r, M = [[m11, m12], [m12, m22]], det = m11 m22 - m12^2
        g1, g2 = (g_qd1 * ch / det[:, None]).unbind(1)  # of qdd, over det
        g_r1 = g1 * m22 - g2 * m12
        g_r2 = g2 * m11 - g1 * m12
        qdd1, qdd2 = qdd.unbind(1)
        g_det = -(g1 * qdd1 + g2 * qdd2)
        # d / d c2 through m11, m12, m22
        g_m11 = torch.addcmul(g2 * r2, g_det, m22)
        g_m22 = torch.addcmul(g1 * r1, g_det, m11)
        g_m12 = torch.addcmul(g1 * r2 + g2 * r1, g_det, m12, value=2)  # minus d / d m12
        g_c2 = g_m11 * i11 - g_m12 * i12 + g_m22 * i22
        dq1, dq2 = qd.unbind(1)
        # cor1 = -k s2 (2 dq1 + dq2) dq2 + cv dq1, cor2 = k s2 dq1^2 + cv dq2; r = Q - cor
        g_s2 = (g_r1 * dq12 * dq2 - g_r2 * dq1 * dq1) * k
        ks2 = k * s2
        g_dq1 = (g_r1 * dq2 - g_r2 * dq1) * (c2_ * ks2) - g_r1 * cv
        g_dq2 = g_r1 * ks2 * (dq12 + dq2) - g_r2 * cv
        g_q2 = g_s2 * c2 - g_c2 * s2
        g_endpoint = None
        if ctx.has_endpoint:
            j11, j21, j12, j22, fx, fy = jac
            g_endpoint = torch.stack([g_r1 * j11 + g_r2 * j12, g_r1 * j21 + g_r2 * j22], dim=1)
            # d j11 / d q1 = -j21, d j21 / d q1 = j11, d j12 / d q1 = d j12 / d q2 = -j22, d j22 / d q. = j12
            d12 = j12 * fy - j22 * fx
            g_q1 = g_r1 * (j11 * fy - j21 * fx) + g_r2 * d12
            g_q2 = torch.addcmul(g_q2, g_r1 + g_r2, d12)
            g_qin = g_qa + torch.stack([g_q1, g_q2], dim=1)
        else:
            g_qin = g_qa + torch.stack([zeros[:, 0], g_q2], dim=1)
        g_Q = torch.stack([g_r1, g_r2], dim=1)
        g_qd = g_qd1 + torch.stack([g_dq1, g_dq2], dim=1) - eff._buffers["damping"] * g_Q
        g_qd = torch.add(g_qd, g_qa, alpha=h)
        g_force = -(g_Q[:, :, None] * moment_arm).sum(1)
        g_moment_arm = g_Q[:, :, None] * -force[:, None, :]
        g_joint = g_Q if ctx.has_joint else None
        # the Hill muscle at (a', the input geometry)
        m_u, m_a, m_an, rising, m_len, m_str, long, low_a, m_vs, m_vl, short, m_act, m_fl, m_tie = masks.unbind(0)
        f_max = mb["max_iso_force"]
        g_a_out = g_an
        g_actf = g_pe = None
        if g_fnew is not None:
            g_actf = g_pe = g_fnew * f_max
        if g_act is not None:
            g_actf = g_act if g_actf is None else g_actf + g_act
        if g_fpe is not None:
            g_pe = g_fpe if g_pe is None else g_pe + g_fpe
        g_len_m = g_mlen  # of the fibre length
        g_gvel = None
        g_fce_t = g_fce
        if g_actf is not None:
            s_as = mb["s_as"]
            g_sel = g_actf * m_act
            g_sh = g_sel * short
            g_le = g_sel - g_sh
            # shortening = (v_s a A + f B) / d_s, d_s = B - v_s
            g_ns = g_sh / d_s
            # lengthening = (f p1 + v_l inner) / p1_v, inner = s_as p1_v + 1.5 f
            g_nl = g_le / p1_v
            g_p1v = g_nl * (v_l * s_as - lengthening)
            g_f = torch.addcmul(g_ns * big_b, g_nl, torch.add(p1, v_l, alpha=1.5))
            g_p1 = torch.addcmul(g_p1v, g_nl, f)
            g_vl = torch.addcmul(g_p1v, g_nl, inner)
            g_vs = g_ns * (an * big_a + shortening)
            g_A = g_ns * vs_a
            g_B = g_ns * (f - shortening)
            g_a_m = g_ns * (v_s * big_a)
            # p1 = -0.5 f / den, den = s_as - 2 a (f_ce + A) / B
            g_p1_den = g_p1 / den
            g_f = torch.add(g_f, g_p1_den, alpha=-0.5)
            g_t = g_p1_den * p1 / big_b
            g_a_m = torch.addcmul(g_a_m, g_t, f_ce_a, value=2)
            g_fa = g_t * two_a
            g_A = g_A + g_fa
            g_B = torch.addcmul(g_B, g_t, t_den, value=-1)
            # f = a f_ce; A = a_rel f_ce where ln > 1
            g_a_m = torch.addcmul(g_a_m, g_f, f_ce)
            g_fce_m = torch.addcmul(torch.addcmul(g_fa, g_f, an), g_A, long * mb["a_rel"])
            g_fce_t = g_fce_m if g_fce_t is None else g_fce_t + g_fce_m
            # B = b_rel (1 - 0.9 (a - q_crit) / (0.005 - q_crit))^2 below q_crit
            d_b = d_b_coef * low_a
            g_a_m = torch.addcmul(g_a_m, g_B * d_b, b_base)
            g_a_out = g_a_m if g_a_out is None else g_a_out + g_a_m
            g_gvel = torch.addcmul(g_vs * m_vs, g_vl, m_vl) * inv_vmax
        if g_fce_t is not None:
            # f_ce = max(1 - (ln - 1)^2 / w^2, min_fl); ln = length / l0_ce
            d_fl = torch.add(m_fl, m_tie, alpha=0.5) * dl * d_fl_coef
            g_ln = g_fce_t * d_fl
            g_len_m = g_ln if g_len_m is None else g_len_m + g_ln
        if g_pe is not None:
            g_from_pe = g_pe * (k_pe_stretch * m_str) * two_over_l0
            g_len_m = g_from_pe if g_len_m is None else g_len_m + g_from_pe
        g_glen = None if g_len_m is None else g_len_m * m_len
        # activation: a' = clip(a + h a_dot), a_dot = (u - a_c) / tau, tau = tau_act s or tau_deact / s, s = 0.5 + 1.5 a_c
        g_a = g_e = None
        if g_a_out is not None:
            g_raw = g_a_out * m_an
            g_u = g_raw * ch / tau
            # d a_dot / d a_c = -1 / tau - a_dot / tau d tau / d a_c, d tau / d a_c = +-1.5 tau / s
            g_ac = -g_u - g_raw * (ch * a_dot * (rising * c3 - c15) / scale)
            g_a = torch.addcmul(g_raw, g_ac, m_a)
            g_e = g_u * m_u
        return (
            None, None, g_qin, g_qd, g_a, g_force, g_glen, g_gvel, g_moment_arm, g_e, g_endpoint, g_joint,
        )  # fmt: skip


_ARM_NATIVE_MUSCLE = (
    "min_activation", "max_activation", "tau_act", "tau_deact", "max_iso_force", "l0_ce", "l0_se", "l0_pe", "k_pe",
    "vmax", "s_as", "fl_width_sq", "q_crit", "a_rel", "b_rel", "min_fl",
)  # fmt: skip
ARM_NATIVE_MAX_MUSCLES = 16
"""The most muscles ``arm26.c`` takes (its per-row scratch)."""


def _arm26_native_constants(eff: Effector) -> Tensor:
    """The packed constants of ``arm26.c`` (REAL[26 M + 21], its header), cached on the effector until a
    buffer is replaced or changed in place."""
    _, _, _, mb, sb, gb = _parts(eff)
    sources = (
        *(mb[n] for n in _ARM_NATIVE_MUSCLE), *(gb[n] for n in ("a0", "a1", "a2", "a3")),
        *(sb[n] for n in (*_ARM_SOURCES, "vel_lb", "vel_ub", "pos_lb", "pos_ub")), eff._buffers["damping"],
    )  # fmt: skip

    packed: Tensor = _cached(eff, "_native_arm26_constants", sources, lambda: _arm26_pack(eff).contiguous())
    return packed


def _arm26_pack(eff: Effector) -> Tensor:
    """The packed constants of ``arm26.c`` from the buffers (graph operations when traced)."""
    _, _, _, mb, sb, gb = _parts(eff)
    m = gb["a0"].shape[-1]
    parts = [mb[n].expand(m) for n in _ARM_NATIVE_MUSCLE]
    parts += [0.005 - mb["q_crit"].expand(m), gb["a0"].expand(m)]  # as _hill_constants computes it
    parts += [gb[n].expand(2, m).reshape(-1) for n in ("a1", "a2", "a3")]
    parts.append((2 * gb["a2"]).expand(2, m).reshape(-1))
    c3, m3, _, _, _, _, L1, L2, nL1, nL2, k, cv = _arm_constants(sb)
    parts += [m3, c3, torch.stack([k, cv, L1, L2, nL1, nL2])]
    parts += [sb[n].expand(2) for n in ("vel_lb", "vel_ub", "pos_lb", "pos_ub")]
    parts.append(eff._buffers["damping"].reshape(1))  # type: ignore[union-attr]
    return torch.cat(parts)


class NativeArm26HillStep(torch.autograd.Function):
    """:class:`Arm26HillStep` (polynomial geometry) with its forward and backward in C
    (:mod:`motornet_core.native`, ``arm26.c``).

    Same inputs and outputs. The sines and cosines are PyTorch's, on the same tensors as the generic
    path (its kernels round differently from the C library's); the rest is one C call each way, the
    forward in the generic path's order of operations, the backward recomputing the forward per row.
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
        g_length: Tensor,
        g_velocity: Tensor,
        moment_arm: Tensor,
        e: Tensor,
        endpoint: Tensor | None,
        joint: Tensor | None,
    ) -> tuple[Tensor, ...]:
        from motornet_core import native

        lib: Any = native.library()
        suffix = "f32" if q.dtype == torch.float32 else "f64"
        c = _arm26_native_constants(eff)
        q1, q2 = q[:, 0], q[:, 1]
        trig = [torch.cos(q2), torch.sin(q2)]
        if endpoint is not None:
            q12 = q1 + q2
            trig += [torch.sin(q1), torch.cos(q1), torch.sin(q12), torch.cos(q12)]
        trig = [t.contiguous() for t in trig]
        rf = (moment_arm * force[:, None, :]).sum(-1).contiguous()  # PyTorch's order of addition, as the generic path
        ins = [t.contiguous() for t in (q, qd, a, force, g_length, g_velocity, moment_arm, e)]
        endpoint, joint = _contig(endpoint), _contig(joint)
        b, m = ins[2].shape
        new = q.new_empty
        outs = (new(b, 2), new(b, 2), *(new(b, m) for _ in range(8)), new(b, 2, m))
        trig_ptrs = [t.data_ptr() for t in trig] + [None] * (6 - len(trig))
        rc = getattr(lib, f"arm26_forward_{suffix}")(
            b, m, h, c.data_ptr(), *(t.data_ptr() for t in ins), _ptr(endpoint), _ptr(joint), rf.data_ptr(), *trig_ptrs,
            *(t.data_ptr() for t in outs),
        )  # fmt: skip
        if rc != 0:
            raise ValueError(f"arm26.c takes at most {ARM_NATIVE_MAX_MUSCLES} muscles, got {m}")
        qb, qd3 = outs[0], outs[1]
        t1 = qb[:, 0]
        t12 = t1 + qb[:, 1]
        tip_trig = [t.contiguous() for t in (torch.sin(t1), torch.cos(t1), torch.sin(t12), torch.cos(t12))]
        tip = new(b, 4)
        getattr(lib, f"arm26_tip_{suffix}")(b, c.data_ptr(), m, qd3.data_ptr(), *(t.data_ptr() for t in tip_trig), tip.data_ptr())
        ctx.save_for_backward(*ins, endpoint, joint, rf, *trig, *tip_trig)  # type: ignore[arg-type]  # None is allowed
        ctx.c, ctx.h, ctx.suffix, ctx.n_trig = c, h, suffix, len(trig)  # type: ignore[attr-defined]
        ctx.set_materialize_grads(False)
        return (*outs, tip)

    @staticmethod
    def backward(ctx: Any, *grads: Tensor | None) -> tuple[Tensor | None, ...]:
        from motornet_core import native

        lib: Any = native.library()
        saved = ctx.saved_tensors
        ins, endpoint, joint, rf = saved[:8], saved[8], saved[9], saved[10]
        trig = list(saved[11 : 11 + ctx.n_trig])
        tip_trig = saved[11 + ctx.n_trig :]
        q, a = ins[0], ins[2]
        b, m = a.shape
        gs = [_contig(g) for g in grads]
        new = q.new_empty
        outs = (new(b, 2), new(b, 2), *(new(b, m) for _ in range(4)), new(b, 2, m), new(b, m), new(b, 2), new(b, 2))
        trig_ptrs = [t.data_ptr() for t in trig] + [None] * (6 - len(trig))
        getattr(lib, f"arm26_backward_{ctx.suffix}")(
            b, m, ctx.h, ctx.c.data_ptr(), *(t.data_ptr() for t in ins), _ptr(endpoint), _ptr(joint), rf.data_ptr(),
            *trig_ptrs,
            *(t.data_ptr() for t in tip_trig), *(_ptr(g) for g in gs), *(t.data_ptr() for t in outs),
        )  # fmt: skip
        g_q, g_qd, g_a, g_force, g_glen, g_gvel, g_arm, g_e, g_Q, g_ep = outs
        g_endpoint = g_ep if endpoint is not None else None
        g_joint = g_Q if joint is not None else None
        return None, None, g_q, g_qd, g_a, g_force, g_glen, g_gvel, g_arm, g_e, g_endpoint, g_joint


def arm26_native_applies(eff: Effector) -> bool:
    """Whether :class:`NativeArm26HillStep` computes ``eff``'s step: :func:`arm26_hill_applies` with the
    polynomial geometry, at most :data:`ARM_NATIVE_MAX_MUSCLES` muscles and the native library available
    (the dtype and device are checked per call, :func:`native_dtype`)."""
    from motornet_core import native

    return arm26_native_struct(eff) and native.available()


def arm26_native_struct(eff: Effector) -> bool:
    """Whether ``eff`` is the model ``arm26.c`` computes (:func:`arm26_hill_applies` with the polynomial
    geometry and at most :data:`ARM_NATIVE_MAX_MUSCLES` muscles), whether or not the library is built."""
    from motornet_core.geometry.models import PolynomialGeometry

    if not arm26_hill_applies(eff) or type(eff.geometry) is not PolynomialGeometry:
        return False
    _, _, _, _, _, gb = _parts(eff)
    return bool(gb["a0"].shape[-1] <= ARM_NATIVE_MAX_MUSCLES)


def arm26_hill_applies(eff: Effector) -> bool:
    """Whether :class:`Arm26HillStep` computes ``eff``'s euler step (checked once per effector)."""
    from motornet_core.geometry.models import ConstantGeometry, PolynomialGeometry
    from motornet_core.muscles.hill import RigidHillMuscle
    from motornet_core.skeletons.planar_arm import TwoLinkArm

    return (
        eff.integration == "euler"
        and type(eff.skeleton) is TwoLinkArm
        and type(eff.muscles) is RigidHillMuscle
        and type(eff.geometry) in (PolynomialGeometry, ConstantGeometry)
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
        ctx.save_for_backward(x, h, w_ih, w_hh, r, z, n, gh)
        return out

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> tuple[Tensor | None, ...]:
        x, h, w_ih, w_hh, r, z, n, gh = ctx.saved_tensors
        need = ctx.needs_input_grad
        lib = _native_library(g)
        if lib is not None:
            return _gru_backward_native(lib, need, g, x, h, w_ih, w_hh, r, z, n, gh)
        h_n = gh.unsafe_chunk(3, 1)[2]
        # out = (h - n) z + n
        g_n = g * torch.rsub(z, 1)
        g_pre_n = g_n * torch.rsub(n * n, 1)  # tanh'
        g_pre_z = g * (h - n) * (z * torch.rsub(z, 1))  # sigmoid'
        g_pre_r = g_pre_n * h_n * (r * torch.rsub(r, 1))
        g_i = torch.cat([g_pre_r, g_pre_z, g_pre_n], dim=1)  # (B, 3H) of gi
        g_h_gates = torch.cat([g_pre_r, g_pre_z, g_pre_n * r], dim=1)  # of gh
        g_x = g_i @ w_ih if need[0] else None
        g_h = torch.addmm(g * z, g_h_gates, w_hh) if need[1] else None
        g_w_ih = g_i.t() @ x if need[2] else None
        g_w_hh = g_h_gates.t() @ h if need[3] else None
        g_b_ih = g_i.sum(0) if need[4] else None
        g_b_hh = g_h_gates.sum(0) if need[5] else None
        return g_x, g_h, g_w_ih, g_w_hh, g_b_ih, g_b_hh


def _native_library(like: Tensor) -> Any:
    """The native library where it is on and takes ``like``'s dtype and device, else None."""
    from motornet_core import native

    return native.library() if native.ENABLED and native_dtype(like) else None


def _gru_backward_native(
    lib: Any, need: tuple[bool, ...], g: Tensor, x: Tensor, h: Tensor, w_ih: Tensor, w_hh: Tensor,
    r: Tensor, z: Tensor, n: Tensor, gh: Tensor,
) -> tuple[Tensor | None, ...]:  # fmt: skip
    """:meth:`GRUCellFunction.backward` with its elementwise part in C (``gru.c``) and the products in BLAS."""
    g, h, r, z, n, gh = (t.contiguous() for t in (g, h, r, z, n, gh))
    b, hid = h.shape
    new = h.new_empty
    g_i, g_hg, g_hz, g_b_ih, g_b_hh = new(b, 3 * hid), new(b, 3 * hid), new(b, hid), new(3 * hid), new(3 * hid)
    fn = lib.gru_backward_f32 if h.dtype == torch.float32 else lib.gru_backward_f64
    fn(b, hid, *(t.data_ptr() for t in (g, h, r, z, n, gh, g_i, g_hg, g_hz, g_b_ih, g_b_hh)))
    g_x = g_i @ w_ih if need[0] else None
    g_h = torch.addmm(g_hz, g_hg, w_hh) if need[1] else None
    g_w_ih = g_i.t() @ x if need[2] else None
    g_w_hh = g_hg.t() @ h if need[3] else None
    return g_x, g_h, g_w_ih, g_w_hh, g_b_ih if need[4] else None, g_b_hh if need[5] else None


def gru_cell(cell: torch.nn.GRUCell, x: Tensor, h: Tensor) -> Tensor:
    """``cell(x, h)`` through :class:`GRUCellFunction` where :func:`kernels_allowed`, else torch's cell."""
    if cell.bias and x.dim() == 2 and kernels_allowed(x, h, cell.weight_ih):
        out: Tensor = apply_kernel(GRUCellFunction, x, h, cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh)
        return out
    return cell(x, h)


# -- the arm26 C step inside compiled graphs ------------------------------------------------------------------

NATIVE_COMPILED_MIN_BATCH = 512
"""From this many rows a compiled graph calls the arm26 C step (:func:`arm26_step_op`) instead of
tracing the generic step into inductor's kernels: at large batches the C loop (which saves only the
step's inputs for the backward and recomputes the rest) is faster than the fused graph (memory
traffic of its saved activations); below it, the fused graph wins (the op's per-call cost)."""

_OptT = Tensor | None


@torch.library.custom_op("motornet_core::arm26_step", mutates_args=())
def arm26_step_op(
    c: Tensor, q: Tensor, qd: Tensor, a: Tensor, force: Tensor, glen: Tensor, gvel: Tensor, arm: Tensor,
    e: Tensor, endpoint: _OptT, joint: _OptT, rf: Tensor, c2: Tensor, s2: Tensor, s1: _OptT, c1: _OptT,
    s12: _OptT, c12: _OptT, h: float,
) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor]:  # fmt: skip
    """``arm26.c``'s forward as an operator compiled graphs can call: the step's outputs but the
    fingertip (qb, qd3, a', fibre length, F', F_PE, F_CE, active force, new length, velocity, moment
    arms), from the packed constants ``c``, the inputs, PyTorch's R F sum ``rf`` and the trig of ``q``."""
    from motornet_core import native

    lib: Any = native.library()
    b, m = a.shape
    outs = tuple(q.new_empty(s) for s in [(b, 2), (b, 2), *[(b, m)] * 8, (b, 2, m)])
    suffix = "f32" if q.dtype == torch.float32 else "f64"
    # contiguous copies kept alive until the call returns (a pointer into a dropped copy dangles)
    ins = [_contig(t) for t in (c, q, qd, a, force, glen, gvel, arm, e, endpoint, joint, rf, c2, s2, s1, c1, s12, c12)]
    getattr(lib, f"arm26_forward_{suffix}")(b, m, h, *(_ptr(t) for t in ins), *(t.data_ptr() for t in outs))
    return outs  # type: ignore[return-value]


@arm26_step_op.register_fake
def _(c, q, qd, a, force, glen, gvel, arm, e, endpoint, joint, rf, c2, s2, s1, c1, s12, c12, h):
    b, m = a.shape
    return tuple(q.new_empty(s) for s in [(b, 2), (b, 2), *[(b, m)] * 8, (b, 2, m)])


@torch.library.custom_op("motornet_core::arm26_step_backward", mutates_args=())
def arm26_step_backward_op(
    c: Tensor, q: Tensor, qd: Tensor, a: Tensor, force: Tensor, glen: Tensor, gvel: Tensor, arm: Tensor,
    e: Tensor, endpoint: _OptT, joint: _OptT, rf: Tensor, c2: Tensor, s2: Tensor, s1: _OptT, c1: _OptT,
    s12: _OptT, c12: _OptT, h: float, grads: list[Tensor | None],
) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor]:  # fmt: skip
    """``arm26.c``'s backward (no fingertip: compiled graphs differentiate it as PyTorch operations):
    gradients of q, qd, a, F, length, velocity, moment arms, e, the joint torques and the endpoint load."""
    from motornet_core import native

    lib: Any = native.library()
    b, m = a.shape
    # the C step writes every gradient but the endpoint load's, which it writes only with a load
    outs = (*(q.new_empty(s) for s in [(b, 2), (b, 2), *[(b, m)] * 4, (b, 2, m), (b, m), (b, 2)]), q.new_zeros(b, 2))
    suffix = "f32" if q.dtype == torch.float32 else "f64"
    # contiguous copies kept alive until the call returns (a pointer into a dropped copy dangles)
    ins = [_contig(t) for t in (c, q, qd, a, force, glen, gvel, arm, e, endpoint, joint, rf, c2, s2, s1, c1, s12, c12)]
    gs = [_contig(g) for g in grads]  # None: an output nothing used (NULL: the C step skips its terms)
    getattr(lib, f"arm26_backward_{suffix}")(
        b, m, h, *(_ptr(t) for t in ins), None, None, None, None, *(_ptr(g) for g in gs), None,  # no fingertip gradient
        *(t.data_ptr() for t in outs),
    )  # fmt: skip
    return outs  # type: ignore[return-value]


@arm26_step_backward_op.register_fake
def _(c, q, qd, a, force, glen, gvel, arm, e, endpoint, joint, rf, c2, s2, s1, c1, s12, c12, h, grads):
    b, m = a.shape
    return tuple(q.new_empty(s) for s in [(b, 2), (b, 2), *[(b, m)] * 4, (b, 2, m), (b, m), (b, 2), (b, 2)])


def _arm26_op_setup(ctx: Any, inputs: tuple[Any, ...], output: Any) -> None:
    # None, not zeros, for the gradient of an output nothing uses: inside a compiled chunk, the force
    # components and muscle length of every step but the last, which the C backward then skips
    ctx.set_materialize_grads(False)
    ctx.save_for_backward(*(t for t in inputs[:18] if t is not None))
    ctx.present = [t is not None for t in inputs[:18]]
    ctx.h = inputs[18]


def _arm26_op_backward(ctx: Any, *grads: Tensor | None) -> tuple[Tensor | None, ...]:
    it = iter(ctx.saved_tensors)
    ins = [next(it) if present else None for present in ctx.present]
    g_q, g_qd, g_a, g_force, g_glen, g_gvel, g_arm, g_e, g_Q, g_ep = arm26_step_backward_op(*ins, ctx.h, list(grads))
    endpoint, joint = ins[9], ins[10]
    return (
        None, g_q, g_qd, g_a, g_force, g_glen, g_gvel, g_arm, g_e,
        g_ep if endpoint is not None else None, g_Q if joint is not None else None,
        *([None] * 7), None,
    )  # fmt: skip


arm26_step_op.register_autograd(_arm26_op_backward, setup_context=_arm26_op_setup)


def arm26_step_compiled(
    eff: Effector, h: float, q: Tensor, qd: Tensor, a: Tensor, force: Tensor, g_length: Tensor, g_velocity: Tensor,
    moment_arm: Tensor, e: Tensor, endpoint: Tensor | None, joint: Tensor | None,
) -> tuple[Tensor, ...]:  # fmt: skip
    """:class:`NativeArm26HillStep`'s outputs inside a compiled graph: the trig and the fingertip as
    PyTorch operations (inductor fuses them), the rest as :func:`arm26_step_op`."""
    sb = _parts(eff)[4]
    c = _arm26_native_constants_traced(eff)
    q1, q2 = q[:, 0], q[:, 1]
    trig: list[Tensor | None] = [torch.cos(q2), torch.sin(q2)]
    if endpoint is not None:
        q12 = q1 + q2
        trig += [torch.sin(q1), torch.cos(q1), torch.sin(q12), torch.cos(q12)]
    else:
        trig += [None] * 4
    rf = (moment_arm * force[:, None, :]).sum(-1)
    outs = arm26_step_op(c, q, qd, a, force, g_length, g_velocity, moment_arm, e, endpoint, joint, rf, *trig, h)
    qb, qd3 = outs[0], outs[1]
    lengths = sb["lengths"]
    L1, L2 = lengths[0], lengths[1]
    t1, t12 = qb[:, 0], qb[:, 0] + qb[:, 1]
    ts1, tc1, ts12, tc12 = torch.sin(t1), torch.cos(t1), torch.sin(t12), torch.cos(t12)
    w1, w2 = qd3[:, 0], qd3[:, 1]
    tx, ty = L1 * tc1 + L2 * tc12, L1 * ts1 + L2 * ts12
    tip = torch.stack([tx, ty, -ty * w1 - L2 * ts12 * w2, tx * w1 + L2 * tc12 * w2], dim=-1)
    return (*outs, tip)


def _arm26_native_constants_traced(eff: Effector) -> Tensor:
    """The packed constants built from the buffers as graph operations (no cache: compiled graphs
    trace the buffers, and a cached tensor would be baked in as a constant)."""
    return _arm26_pack(eff)
