"""The effector: skeleton + muscles + geometry, stepped by one of the integrators.

Example:
    >>> from motornet_core import build_effector, presets
    >>> eff = build_effector(presets.arm26())
    >>> s = eff.reset(batch_size=8)
    >>> s = eff.step(s, torch.full((8, 6), 0.2))
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn

import motornet_core.kernels as _kernels
from motornet_core import native
from motornet_core.errors import SimulationError
from motornet_core.geometry import build_geometry
from motornet_core.integrate import STEPPERS
from motornet_core.kernels import (
    NATIVE_COMPILED_MIN_BATCH,
    Arm26HillStep,
    NativeArm26HillStep,
    NativePointMassReluStep,
    PointMassReluStep,
    apply_kernel,
    arm26_hill_applies,
    arm26_native_applies,
    arm26_native_struct,
    arm26_step_compiled,
    forward_only,
    native_dtype,
    point_mass_native_applies,
    point_mass_relu_applies,
    wants_gradient,
)
from motornet_core.muscles import build_muscles
from motornet_core.skeletons import build_skeleton
from motornet_core.specs.effector import EffectorSpec
from motornet_core.state import EffectorState, GeometryState, MuscleState


@dataclass(frozen=True)
class Loads:
    """External loads held constant over a step.

    Attributes:
        endpoint: (B, 2) [N] force at the fingertip (mapped through J^T for arms), or None.
        joint: (B, n) [N m] joint torques (point mass: forces [N]), or None.
    """

    endpoint: Tensor | None = None
    joint: Tensor | None = None


@dataclass(frozen=True)
class Derivative:
    """What MotorNet's schemes integrate: da/dt (B, M), vn (B, M) or None, qddot (B, n)."""

    activation: Tensor
    fibre: Tensor | None
    acceleration: Tensor

    def __add__(self, other: Derivative) -> Derivative:
        fibre = None if self.fibre is None or other.fibre is None else self.fibre + other.fibre
        return Derivative(self.activation + other.activation, fibre, self.acceleration + other.acceleration)

    def scale(self, factor: float) -> Derivative:
        """Multiply every part by ``factor``."""
        fibre = None if self.fibre is None else self.fibre * factor
        return Derivative(self.activation * factor, fibre, self.acceleration * factor)


class Effector(nn.Module):
    """A differentiable, batched effector built from an :class:`EffectorSpec`.

    All constants are buffers, so ``.to(torch.float64)`` or ``.to("cuda")`` moves the whole model;
    tensors passed in must match. ``make_learnable`` turns chosen constants into parameters.

    The model is float32 by default. Constants are created in float64 from the spec's numbers and
    kept as an exact master copy: a cast to float64 restores them (``L1`` is then exactly 0.309,
    not float32's 0.30900001525...), unless they were changed in between.
    """

    damping: Tensor  # () [N m s/rad]

    def __init__(self, spec: EffectorSpec) -> None:
        super().__init__()
        self.spec = spec
        self.skeleton = build_skeleton(spec.skeleton)
        self.muscles = build_muscles(spec)
        self.geometry = build_geometry(spec)
        self.dt = spec.dt
        self.n_ministeps = spec.n_ministeps
        self.integration = spec.integration
        self.register_buffer("damping", torch.tensor(spec.damping, dtype=torch.float64))
        # float64 constants, kept on the CPU outside the module's buffers (no device moves, not in the state dict)
        self._exact: dict[str, Tensor] = {
            name: buf.detach().cpu().clone() for name, buf in self.named_buffers() if buf.dtype == torch.float64
        }
        self.float()
        # a hand-derived eager step where one exists for this model (motornet_core.kernels)
        self._point_mass_kernel = point_mass_relu_applies(self)
        self._arm26_kernel = arm26_hill_applies(self)
        self._point_mass_native: bool | None = None  # NativePointMassReluStep applies (decided on first use)
        self._arm26_native: bool | None = None  # NativeArm26HillStep applies (decided on first use)
        # the model NativeArm26HillStep computes (compiled graphs of large batches call its C step)
        self._arm26_native_struct = arm26_native_struct(self)

    def _apply(self, fn: Callable[[Tensor], Tensor], recurse: bool = True) -> Effector:
        """``nn.Module._apply`` (behind ``to``, ``double``, ``cuda``, ...), then: a constant cast up to
        float64 from a lower precision gets its exact value back, if it still equals its master's rounding."""
        before = dict(self.named_buffers())
        super()._apply(fn, recurse)
        for name, buf in self.named_buffers():
            exact, old = self._exact.get(name), before.get(name)
            if exact is None or old is None or buf.dtype != torch.float64 or old.dtype == torch.float64:
                continue
            if old.shape == exact.shape and torch.equal(old.detach().cpu(), exact.to(old.dtype)):
                buf.copy_(exact)
        return self

    # -- descriptive properties ---------------------------------------------------------------------
    @property
    def dof(self) -> int:
        """Number of degrees of freedom n."""
        return self.skeleton.dof

    @property
    def n_muscles(self) -> int:
        """Number of muscles M."""
        return self.muscles.n_muscles

    @property
    def muscle_names(self) -> list[str]:
        """Muscle names in the order of the muscle axis."""
        return [m.name for m in self.spec.muscles]

    @property
    def dtype(self) -> torch.dtype:
        """Floating dtype of the model's constants."""
        return self.damping.dtype

    @property
    def device(self) -> torch.device:
        """Device of the model's constants."""
        return self.damping.device

    def make_learnable(self, names: list[str]) -> list[nn.Parameter]:
        """Turn buffers such as ``"muscles.max_iso_force"`` into trainable parameters."""
        params = []
        for name in names:
            owner_name, _, attr = name.rpartition(".")
            owner = self.get_submodule(owner_name) if owner_name else self
            value = owner._buffers.get(attr)
            if value is None:
                raise SimulationError(f"no constant named {name!r}")
            del owner._buffers[attr]
            param = nn.Parameter(value.clone())
            owner.register_parameter(attr, param)
            params.append(param)
        return params

    # -- state construction ----------------------------------------------------------------------------
    def _kinematics(self, q: Tensor, qd: Tensor) -> tuple[GeometryState, Tensor]:
        return self.geometry(q, qd, self.skeleton), self.skeleton.fingertip(q, qd)

    def reset(
        self,
        batch_size: int = 1,
        position: Tensor | None = None,
        velocity: Tensor | None = None,
        generator: torch.Generator | None = None,
    ) -> EffectorState:
        """Initial state (physics.md §8).

        Args:
            batch_size: B, used when ``position`` is None or has no batch axis.
            position: (B, n) or (n,) joint positions; None draws them uniformly within bounds.
            velocity: (B, n) or (n,) joint velocities; default 0.
            generator: random source for drawn positions (on any device; the draw is moved to the model's).

        Raises:
            SimulationError: a position outside the skeleton's bounds.
        """
        sk = self.skeleton
        opts = {"dtype": self.dtype, "device": self.device}
        if position is None:
            # draw on the generator's own device (a CUDA generator cannot draw CPU numbers)
            device = generator.device if generator is not None else self.device
            u = torch.rand(batch_size, self.dof, generator=generator, dtype=self.dtype, device=device).to(self.device)
            q = sk.pos_lb + u * (sk.pos_ub - sk.pos_lb)
        else:
            q = torch.as_tensor(position, **opts)  # type: ignore[arg-type]
            q = q.expand(batch_size, -1).clone() if q.dim() == 1 else q
        if q.shape[-1] != self.dof:
            raise SimulationError(f"position needs {self.dof} values per row, got shape {tuple(q.shape)}")
        if bool(((q < sk.pos_lb) | (q > sk.pos_ub)).any()):
            raise SimulationError(
                f"initial position outside the bounds [{sk.pos_lb.tolist()}, {sk.pos_ub.tolist()}]: {q.tolist()[:4]}"
            )
        if velocity is None:
            qd = torch.zeros_like(q)
        else:
            qd = torch.as_tensor(velocity, **opts)  # type: ignore[arg-type]
            qd = qd.expand_as(q).clone() if qd.dim() == 1 else qd
        geometry, fingertip = self._kinematics(q, qd)
        muscle = self.muscles.initial_state(geometry, self.dt)
        return EffectorState(q, qd, muscle, geometry, fingertip)

    def body_points(self, position: Tensor) -> Tensor:
        """World positions (..., P, 2) [m] for drawing, from joint positions (..., n).

        Arms: shoulder (the origin), elbow, ..., fingertip (P = n + 1); the point mass: the mass (P = 1).
        """
        return self.skeleton.body_points(position)

    # -- the two building blocks of MotorNet's schemes (physics.md §7) -------------------------------
    def generalized_force(self, force: Tensor, moment_arm: Tensor, qd: Tensor, loads: Loads) -> Tensor:
        """Q (B, n) = -sum_m F_m r_jm + joint load - damping * qd."""
        q_force = -(moment_arm * force[:, None, :]).sum(-1)
        if loads.joint is not None:
            q_force = q_force + loads.joint
        return q_force - self.damping * qd

    def derivative(self, state: EffectorState, u: Tensor, loads: Loads) -> Derivative:
        """f(S, u, loads): activation and fibre rates from S's muscle state, joint accelerations."""
        a_dot = self.muscles.activation_derivative(state.muscle.activation, u)
        vn = self.muscles.fibre_velocity(state.muscle)
        q_force = self.generalized_force(state.muscle.force, state.geometry.moment_arm, state.velocity, loads)
        qdd = self.skeleton.acceleration(state.position, state.velocity, q_force, loads.endpoint)
        return Derivative(a_dot, vn, qdd)

    def stage(self, h: float, d: Derivative, state: EffectorState) -> EffectorState:
        """g(h, D, S): muscle from S's geometry, semi-explicit skeleton update, limits, new geometry."""
        muscle = self.muscles.stage_update(h, d.activation, d.fibre, state.muscle, state.geometry)
        qd = state.velocity + h * d.acceleration
        q = state.position + h * state.velocity
        q, qd = self.skeleton.apply_limits(q, qd)
        geometry, fingertip = self._kinematics(q, qd)
        return EffectorState(q, qd, muscle, geometry, fingertip)

    def muscle_state_at(self, activation: Tensor, fibre_length: Tensor | None, geometry: GeometryState) -> MuscleState:
        """Muscle state consistent with a geometry (used by the true rk4)."""
        state = self.muscles.evaluate(activation, fibre_length, geometry)
        if self.muscles.has_fibre_state:
            state = self.muscles.with_velocity(state)  # type: ignore[operator]
        return state

    # -- stepping ----------------------------------------------------------------------------------------
    def step(
        self,
        state: EffectorState,
        excitation: Tensor,
        endpoint_load: Tensor | None = None,
        joint_load: Tensor | None = None,
    ) -> EffectorState:
        """Advance by ``dt`` with the excitation (B, M) and loads held constant.

        Args:
            state: current state.
            excitation: (B, M) in [0, 1]; clipped to [a_min, 1] first.
            endpoint_load: (B, 2) [N] at the fingertip.
            joint_load: (B, n) [N m] joint torques.
        """
        if self._point_mass_kernel or self._arm26_kernel:
            wants = wants_gradient(
                excitation,
                state.position,
                state.velocity,
                state.muscle.activation,
                state.muscle.force,
                state.geometry.length,
                state.geometry.velocity,
                endpoint_load,
                joint_load,
            )
            run: Callable[..., Any] | None = None
            if wants is True and not self._learnable():  # (a learnable constant: the generic graph)
                run = apply_kernel
            elif wants is False and self.native_kernel(state.position) is not None:
                run = forward_only  # no gradient wanted: the native step's forward alone (the generic graph's values)
            if run is not None:
                kernel_step = self._point_mass_relu if self._point_mass_kernel else self._arm26_hill
                return kernel_step(state, excitation, endpoint_load, joint_load, run)
        if (
            self._arm26_native_struct
            and native.LOADED
            and native.ENABLED
            and torch.compiler.is_compiling()
            and torch.is_grad_enabled()
            and state.position.shape[0] >= NATIVE_COMPILED_MIN_BATCH
            and native_dtype(state.position)
            and not self._learnable()
        ):  # a compiled graph of a large batch: the C step as one operator (kernels.arm26_step_op)
            return self._arm26_compiled(state, excitation, endpoint_load, joint_load)
        u = self.muscles.clip_excitation(excitation)
        loads = Loads(endpoint_load, joint_load)
        stepper = STEPPERS[self.integration]
        h = self.dt / self.n_ministeps
        for _ in range(self.n_ministeps):
            state = stepper(self, state, u, loads, h)
        return state

    def native_kernel(self, like: Tensor) -> str | None:
        """``"point_mass"`` or ``"arm26"`` where a native C step (:class:`~motornet_core.kernels.NativePointMassReluStep`,
        :class:`~motornet_core.kernels.NativeArm26HillStep`) computes :meth:`step` for tensors like ``like``
        (float32 or float64 on the CPU), else None: the eager kernels and native kernels on, no
        learnable constant."""
        if not _kernels.ENABLED or not self._native_step(like) or self._learnable():
            return None
        return "point_mass" if self._point_mass_kernel else "arm26"

    def _native_step(self, like: Tensor) -> bool:
        """Whether this effector's hand-derived kernel has a native C version for tensors like ``like``
        (the library on and built, the model covered: decided on first use)."""
        if not native.ENABLED or not native_dtype(like):
            return False
        if self._point_mass_kernel:
            if self._point_mass_native is None:
                self._point_mass_native = point_mass_native_applies(self)
            return self._point_mass_native
        if self._arm26_kernel:
            if self._arm26_native is None:
                self._arm26_native = arm26_native_applies(self)
            return self._arm26_native
        return False

    def _learnable(self) -> bool:
        """Whether any constant is a parameter (:meth:`make_learnable`)."""
        return any(m._parameters for m in (self, *self._modules.values()))  # type: ignore[union-attr]

    def _point_mass_relu(
        self,
        state: EffectorState,
        excitation: Tensor,
        endpoint_load: Tensor | None,
        joint_load: Tensor | None,
        run: Callable[..., Any] = apply_kernel,
    ) -> EffectorState:
        """:meth:`step` through :class:`~motornet_core.kernels.PointMassReluStep` (same values, one autograd
        node; ``run`` :func:`~motornet_core.kernels.forward_only`: no node)."""
        h = self.dt / self.n_ministeps
        kernel = NativePointMassReluStep if self._native_step(state.position) else PointMassReluStep
        for _ in range(self.n_ministeps):
            m, g = state.muscle, state.geometry
            q, qd, a, f, length, velocity, arm, tip = run(
                kernel,
                self,
                h,
                state.position,
                state.velocity,
                m.activation,
                m.force,
                g.moment_arm,
                excitation,
                endpoint_load,
                joint_load,
            )
            # the relu muscle's length and velocity are the geometry it was evaluated from (the step's start)
            muscle = MuscleState(a, g.length, g.velocity, f)
            state = EffectorState(q, qd, muscle, GeometryState(length, velocity, arm), tip)
        return state

    def _arm26_compiled(
        self, state: EffectorState, excitation: Tensor, endpoint_load: Tensor | None, joint_load: Tensor | None
    ) -> EffectorState:
        """:meth:`step` inside a compiled graph through :func:`~motornet_core.kernels.arm26_step_compiled`."""
        h = self.dt / self.n_ministeps
        for _ in range(self.n_ministeps):
            m, g = state.muscle, state.geometry
            q, qd, a, length, f, f_pe, f_ce, act, g_len, g_vel, arm, tip = arm26_step_compiled(
                self, h, state.position, state.velocity, m.activation, m.force, g.length, g.velocity, g.moment_arm,
                excitation, endpoint_load, joint_load,
            )  # fmt: skip
            muscle = MuscleState(a, length, g.velocity, f, f_pe, f_ce, act)
            state = EffectorState(q, qd, muscle, GeometryState(g_len, g_vel, arm), tip)
        return state

    def _arm26_hill(
        self,
        state: EffectorState,
        excitation: Tensor,
        endpoint_load: Tensor | None,
        joint_load: Tensor | None,
        run: Callable[..., Any] = apply_kernel,
    ) -> EffectorState:
        """:meth:`step` through :class:`~motornet_core.kernels.Arm26HillStep` (same values, one autograd
        node; ``run`` :func:`~motornet_core.kernels.forward_only`: no node)."""
        h = self.dt / self.n_ministeps
        kernel = NativeArm26HillStep if self._native_step(state.position) else Arm26HillStep
        for _ in range(self.n_ministeps):
            m, g = state.muscle, state.geometry
            q, qd, a, length, f, f_pe, f_ce, act, g_len, g_vel, arm, tip = run(
                kernel,
                self,
                h,
                state.position,
                state.velocity,
                m.activation,
                m.force,
                g.length,
                g.velocity,
                g.moment_arm,
                excitation,
                endpoint_load,
                joint_load,
            )
            # the rigid Hill muscle's velocity is the geometry's it was evaluated from (the step's start)
            muscle = MuscleState(a, length, g.velocity, f, f_pe, f_ce, act)
            state = EffectorState(q, qd, muscle, GeometryState(g_len, g_vel, arm), tip)
        return state

    def rollout(
        self,
        state: EffectorState,
        excitations: Tensor,
        endpoint_loads: Tensor | None = None,
        joint_loads: Tensor | None = None,
    ) -> list[EffectorState]:
        """Run T steps; ``excitations`` (B, T, M), loads (B, T, 2) and (B, T, n). Returns T + 1 states."""
        states = [state]
        for k in range(excitations.shape[1]):
            ep = None if endpoint_loads is None else endpoint_loads[:, k]
            jl = None if joint_loads is None else joint_loads[:, k]
            state = self.step(state, excitations[:, k], ep, jl)
            states.append(state)
        return states
