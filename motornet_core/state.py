"""Frozen dataclasses of named tensors describing an effector's state.

Shapes use B for the batch, M for the number of muscles and n for the degrees of freedom.
Updates go through :func:`dataclasses.replace`; no state is ever mutated in place.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from torch import Tensor


@dataclass(frozen=True)
class MuscleState:
    """State of M muscles of one model.

    Attributes:
        activation: (B, M) activation a, dimensionless in [a_min, 1].
        length: (B, M) [m] fibre length (relu: musculotendon length).
        velocity: (B, M) [m/s] fibre velocity as stored by the model.
        force: (B, M) [N] muscle force along the path.
        passive: (B, M) normalised passive force F_PE (None for relu).
        curve_a: (B, M) model row 5: force-length factor (rigid models) or tendon force F_SE
            (compliant model); None for relu.
        curve_b: (B, M) model row 6: force-velocity factor (rigid models; the rigid Hill model
            stores the active force a*F_L*F_V) or active force F_act (compliant); None for relu.
    """

    activation: Tensor
    length: Tensor
    velocity: Tensor
    force: Tensor
    passive: Tensor | None = None
    curve_a: Tensor | None = None
    curve_b: Tensor | None = None


@dataclass(frozen=True)
class GeometryState:
    """Musculotendon geometry.

    Attributes:
        length: (B, M) [m] musculotendon length L_mt.
        velocity: (B, M) [m/s] musculotendon velocity V_mt.
        moment_arm: (B, n, M) [m] moment arms dL_mt/dq (point mass: dimensionless).
    """

    length: Tensor
    velocity: Tensor
    moment_arm: Tensor


@dataclass(frozen=True)
class EffectorState:
    """Full effector state.

    Attributes:
        position: (B, n) joint angles [rad] (point mass: position [m]).
        velocity: (B, n) joint velocities [rad/s] (point mass: [m/s]).
        muscle: muscle state; by MotorNet's step order it was computed from the geometry of the
            previous stage (see physics.md §7).
        geometry: geometry of (position, velocity).
        fingertip: (B, 4) end-point x, y [m] and their velocities [m/s].
    """

    position: Tensor
    velocity: Tensor
    muscle: MuscleState
    geometry: GeometryState
    fingertip: Tensor

    @property
    def batch_size(self) -> int:
        """Number of batch rows B."""
        return int(self.position.shape[0])

    def detach(self) -> EffectorState:
        """Return a copy whose tensors are cut from the autograd graph."""
        return _map(self, lambda t: t.detach())

    def requiring_grad(self) -> EffectorState:
        """Return a copy in which every tensor requires grad: those that did not become new (dense) leaves.

        Same values; gradients reach nothing new upstream. A compiled chunk that starts from it sees
        the requires_grad pattern of every later chunk, so it compiles one variant, not two.
        """
        return _map(self, requiring_grad)

    def to(self, *args: object, **kwargs: object) -> EffectorState:
        """Move/cast every tensor like :meth:`torch.Tensor.to`."""
        return _map(self, lambda t: t.to(*args, **kwargs))

    def index(self, rows: Tensor | slice) -> EffectorState:
        """Select batch rows."""
        return _map(self, lambda t: t[rows])


def requiring_grad(t: Tensor) -> Tensor:
    """``t`` if it requires grad, else a detached dense copy that does (a new leaf, same values).

    A copy: a compiled graph specialises on strides, and a reset state may hold expanded (stride 0)
    tensors where every later step holds dense ones; ``clone`` makes those contiguous and keeps the
    layout of dense ones (which later steps reproduce).
    """
    return t if t.requires_grad else t.detach().clone().requires_grad_()


def _map(obj: object, fn):
    if isinstance(obj, Tensor):
        return fn(obj)
    if obj is None:
        return None
    values = {f.name: _map(getattr(obj, f.name), fn) for f in fields(obj)}  # type: ignore[arg-type]
    return type(obj)(**values)
