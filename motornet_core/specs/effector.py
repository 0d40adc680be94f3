"""Effector specification: skeleton + muscles (+ per-muscle geometry) + integration settings.

SI units throughout (m, s, kg, N, rad). The spec is the only way to build an effector
(:func:`motornet_core.build_effector`).
"""

from __future__ import annotations

import math
from typing import Annotated, Literal, Union

from pydantic import Field, model_validator

from motornet_core.specs.base import SpecModel, fail

Pos = Annotated[float, Field(gt=0)]
NonNeg = Annotated[float, Field(ge=0)]

# Physical upper bounds of a skeleton's dimensions: generous for any limb or robot arm (the presets
# are below 0.4 m, 2 kg and 0.06 kg m^2), and small enough that every constant the dynamics derive
# from them (m L^2 terms, the mass matrix) stays finite in float32. Larger values are refused with
# SpecError naming the field instead of building an effector that overflows.
MAX_LENGTH = 10.0  # [m]
MAX_MASS = 1000.0  # [kg]
MAX_INERTIA = 1000.0  # [kg m^2]
# Dimensionless shape factors of the muscle curves enter exponentials and squares when an effector
# is built; these bounds keep them finite (the literature values are 0.4 to 5).
MAX_SHAPE = 10.0
MAX_EXP_SHAPE = 50.0  # exp(50) ~ 5e21
# Lower bounds where a parameter divides: a segment or fibre shorter than 0.1 mm, a body lighter
# than 1 g or a time constant below 0.1 ms would make the dynamics overflow in one step.
MIN_LENGTH = 1e-4  # [m]
MIN_MASS = 1e-3  # [kg]
MIN_TAU, MAX_TAU = 1e-4, 10.0  # [s]
MAX_FORCE = 1e5  # [N], a large human muscle is ~5000 N
MAX_DAMPING = 1000.0  # [N m s/rad] (point mass: [N s/m])
MAX_ANGLE = 10.0  # [rad], joint angles and angle offsets (more than a turn and a half)
MAX_POSITION = 100.0  # [m] or [rad], state bounds
MAX_SPEED = 1e4  # [m/s] or [rad/s], state bounds
MAX_RATE = 100.0  # fibre velocities in optimal lengths per second
MAX_FACTOR = 100.0  # normalised force factors and curve constants
MAX_STIFFNESS = 1e5  # tendon stiffness (normalised force per strain^2)

Length = Annotated[float, Field(ge=MIN_LENGTH, le=MAX_LENGTH)]
Distance = Annotated[float, Field(ge=0, le=MAX_LENGTH)]
Coordinate = Annotated[float, Field(ge=-MAX_LENGTH, le=MAX_LENGTH)]
Mass = Annotated[float, Field(ge=MIN_MASS, le=MAX_MASS)]
Inertia = Annotated[float, Field(ge=0, le=MAX_INERTIA)]
Shape = Annotated[float, Field(gt=0, le=MAX_SHAPE)]
Force = Annotated[float, Field(gt=0, le=MAX_FORCE)]
Tau = Annotated[float, Field(ge=MIN_TAU, le=MAX_TAU)]
Damping = Annotated[float, Field(ge=0, le=MAX_DAMPING)]
Angle = Annotated[float, Field(ge=-MAX_ANGLE, le=MAX_ANGLE)]
PosBound = Annotated[float, Field(ge=-MAX_POSITION, le=MAX_POSITION)]
VelBound = Annotated[float, Field(ge=-MAX_SPEED, le=MAX_SPEED)]
Rate = Annotated[float, Field(gt=0, le=MAX_RATE)]
Factor = Annotated[float, Field(gt=0, le=MAX_FACTOR)]
NonNegFactor = Annotated[float, Field(ge=0, le=MAX_FACTOR)]
Fraction = Annotated[float, Field(gt=0, le=1)]

DEG = math.pi / 180.0


def _check_bounds(lo: list[float], hi: list[float], n: int, what: str) -> None:
    if len(lo) != n:
        raise fail(f"{what}_lower_bound", f"needs {n} values", lo)
    if len(hi) != n:
        raise fail(f"{what}_upper_bound", f"needs {n} values", hi)
    for i, (a, b) in enumerate(zip(lo, hi, strict=True)):
        if not a < b:
            raise fail(f"{what}_upper_bound.{i}", f"must be greater than the lower bound {a}", b)


# ----------------------------------------------------------------------------------------------
# Skeletons


class PointMassSpec(SpecModel):
    """A point mass moving in the plane (2 dof: x, y in m)."""

    kind: Literal["point_mass"] = "point_mass"
    mass: Mass = Field(1.0, description=f"mass [kg], at most {MAX_MASS:g}")
    pos_lower_bound: list[PosBound] = Field(default_factory=lambda: [-1.0, -1.0], description=f"[m], within ±{MAX_POSITION:g}")
    pos_upper_bound: list[PosBound] = Field(default_factory=lambda: [1.0, 1.0], description=f"[m], within ±{MAX_POSITION:g}")
    vel_lower_bound: list[VelBound] = Field(
        default_factory=lambda: [-1000.0, -1000.0], description=f"[m/s], within ±{MAX_SPEED:g}"
    )
    vel_upper_bound: list[VelBound] = Field(default_factory=lambda: [1000.0, 1000.0], description=f"[m/s], within ±{MAX_SPEED:g}")

    @model_validator(mode="after")
    def _bounds(self) -> PointMassSpec:
        _check_bounds(self.pos_lower_bound, self.pos_upper_bound, 2, "pos")
        _check_bounds(self.vel_lower_bound, self.vel_upper_bound, 2, "vel")
        return self

    @property
    def dof(self) -> int:
        return 2

    @property
    def n_bodies(self) -> int:
        """Bodies a path point can sit on: 0 the world, 1 the mass."""
        return 2


class TwoLinkArmSpec(SpecModel):
    """Planar two-link arm (shoulder q1 from +x, elbow q2 relative to the upper arm).

    Defaults are MotorNet's generic arm (physics.md §4.2).
    """

    kind: Literal["two_link_arm"] = "two_link_arm"
    m1: Mass = Field(1.864572, description=f"upper arm mass [kg], at most {MAX_MASS:g}")
    m2: Mass = Field(1.534315, description=f"forearm mass [kg], at most {MAX_MASS:g}")
    L1: Length = Field(0.309, description=f"upper arm length [m], at most {MAX_LENGTH:g}")
    L2: Length = Field(0.26, description=f"forearm length [m], at most {MAX_LENGTH:g}")
    L1g: Distance = Field(0.180496, description=f"upper arm centre of mass from the shoulder [m], at most {MAX_LENGTH:g}")
    L2g: Distance = Field(0.181479, description=f"forearm centre of mass from the elbow [m], at most {MAX_LENGTH:g}")
    I1: Inertia = Field(0.013193, description=f"upper arm inertia about its centre of mass [kg m^2], at most {MAX_INERTIA:g}")
    I2: Inertia = Field(0.020062, description=f"forearm inertia about its centre of mass [kg m^2], at most {MAX_INERTIA:g}")
    c_viscosity: Damping = Field(0.0, description=f"joint viscosity [N m s/rad], at most {MAX_DAMPING:g}")
    pos_lower_bound: list[PosBound] = Field(default_factory=lambda: [0.0, 0.0], description=f"[rad], within ±{MAX_POSITION:g}")
    pos_upper_bound: list[PosBound] = Field(
        default_factory=lambda: [140 * DEG, 160 * DEG], description=f"[rad], within ±{MAX_POSITION:g}"
    )
    vel_lower_bound: list[VelBound] = Field(
        default_factory=lambda: [-1000.0, -1000.0], description=f"[rad/s], within ±{MAX_SPEED:g}"
    )
    vel_upper_bound: list[VelBound] = Field(
        default_factory=lambda: [1000.0, 1000.0], description=f"[rad/s], within ±{MAX_SPEED:g}"
    )

    @model_validator(mode="after")
    def _bounds(self) -> TwoLinkArmSpec:
        _check_bounds(self.pos_lower_bound, self.pos_upper_bound, 2, "pos")
        _check_bounds(self.vel_lower_bound, self.vel_upper_bound, 2, "vel")
        return self

    @property
    def dof(self) -> int:
        return 2

    @property
    def n_bodies(self) -> int:
        return 3


class LinkSpec(SpecModel):
    """One segment of a planar chain and the joint at its proximal end."""

    mass: Mass = Field(description=f"[kg], at most {MAX_MASS:g}")
    length: Length = Field(description=f"[m], at most {MAX_LENGTH:g}")
    com: Distance = Field(description=f"centre of mass from the proximal joint [m], at most {MAX_LENGTH:g}")
    inertia: Inertia = Field(description=f"inertia about the centre of mass [kg m^2], at most {MAX_INERTIA:g}")
    pos_lower_bound: PosBound = Field(0.0, description=f"joint angle lower bound [rad], within ±{MAX_POSITION:g}")
    pos_upper_bound: PosBound = Field(150 * DEG, description=f"joint angle upper bound [rad], within ±{MAX_POSITION:g}")
    vel_lower_bound: VelBound = Field(-1000.0, description=f"[rad/s], within ±{MAX_SPEED:g}")
    vel_upper_bound: VelBound = Field(1000.0, description=f"[rad/s], within ±{MAX_SPEED:g}")

    @model_validator(mode="after")
    def _bounds(self) -> LinkSpec:
        if not self.pos_lower_bound < self.pos_upper_bound:
            raise fail("pos_upper_bound", f"must be greater than pos_lower_bound {self.pos_lower_bound}", self.pos_upper_bound)
        if not self.vel_lower_bound < self.vel_upper_bound:
            raise fail("vel_upper_bound", f"must be greater than vel_lower_bound {self.vel_lower_bound}", self.vel_upper_bound)
        return self


class PlanarArmSpec(SpecModel):
    """General planar chain of n links (n >= 1), solved with an n x n mass matrix."""

    kind: Literal["planar_arm"] = "planar_arm"
    links: list[LinkSpec] = Field(min_length=1, max_length=8)
    c_viscosity: Damping = Field(0.0, description=f"joint viscosity [N m s/rad], at most {MAX_DAMPING:g}")

    @property
    def dof(self) -> int:
        return len(self.links)

    @property
    def n_bodies(self) -> int:
        return len(self.links) + 1


SkeletonSpec = Annotated[Union[PointMassSpec, TwoLinkArmSpec, PlanarArmSpec], Field(discriminator="kind")]


# ----------------------------------------------------------------------------------------------
# Per-muscle geometry


class PathPointSpec(SpecModel):
    """A fixation point: body 0 is the world, body i >= 1 the i-th segment (or the point mass).

    Coordinates are in the body's frame (first axis along the segment, origin at its proximal joint).
    """

    body: int = Field(ge=0, le=8)
    x: Coordinate = Field(description=f"[m], within ±{MAX_LENGTH:g}")
    y: Coordinate = Field(description=f"[m], within ±{MAX_LENGTH:g}")


class PathGeometrySpec(SpecModel):
    """Straight segments through fixation points; length, velocity and moment arms computed online."""

    kind: Literal["path"] = "path"
    points: list[PathPointSpec] = Field(min_length=2, max_length=16)

    @model_validator(mode="after")
    def _no_zero_segment(self) -> PathGeometrySpec:
        for i in range(len(self.points) - 1):
            p, q = self.points[i], self.points[i + 1]
            if p.body == q.body and p.x == q.x and p.y == q.y:
                raise fail(
                    f"points.{i + 1}", "zero-length segment: same body and coordinates as the previous point", q.model_dump()
                )
        return self


class PolynomialGeometrySpec(SpecModel):
    """Nijhof & Kouwenhoven (2000) polynomial: L = a0 + sum_j (a1_j + a2_j x_j) x_j, x_j = q_j - a3_j."""

    kind: Literal["polynomial"] = "polynomial"
    a0: Coordinate = Field(description=f"[m], within ±{MAX_LENGTH:g}")
    a1: list[Coordinate] = Field(description=f"per joint [m/rad], within ±{MAX_LENGTH:g}")
    a2: list[Coordinate] = Field(description=f"per joint [m/rad^2], within ±{MAX_LENGTH:g}")
    a3: list[Angle] = Field(description=f"per joint [rad], within ±{MAX_ANGLE:g}")


class ConstantGeometrySpec(SpecModel):
    """Constant moment arms: L = length + sum_j r_j q_j."""

    kind: Literal["constant"] = "constant"
    length: Coordinate = Field(description=f"musculotendon length at q = 0 [m], within ±{MAX_LENGTH:g}")
    moment_arms: list[Coordinate] = Field(description=f"per joint [m/rad] (point mass: dimensionless), within ±{MAX_LENGTH:g}")


GeometrySpec = Annotated[Union[PathGeometrySpec, PolynomialGeometrySpec, ConstantGeometrySpec], Field(discriminator="kind")]


# ----------------------------------------------------------------------------------------------
# Muscles


class _MuscleBase(SpecModel):
    name: str = Field(min_length=1, max_length=64)
    max_iso_force: Force = Field(description=f"maximum isometric force F_max [N], at most {MAX_FORCE:g}")
    tau_activation: Tau = Field(0.015, description=f"activation time constant [s], {MIN_TAU:g} to {MAX_TAU:g}")
    tau_deactivation: Tau = Field(0.05, description=f"deactivation time constant [s], {MIN_TAU:g} to {MAX_TAU:g}")
    min_activation: float = Field(0.001, ge=0, lt=1, description="a_min, lower clip of excitation and activation")
    geometry: GeometrySpec


class ReluMuscleSpec(_MuscleBase):
    """Linear muscle: force = activation * F_max."""

    kind: Literal["relu"] = "relu"
    min_activation: float = Field(0.0, ge=0, lt=1)


class _FibreParams(_MuscleBase):
    optimal_length: Length = Field(description=f"optimal fibre length l0_ce [m], {MIN_LENGTH:g} to {MAX_LENGTH:g}")
    tendon_slack_length: Distance = Field(description=f"tendon slack length l0_se [m], at most {MAX_LENGTH:g}")


class _HillConstants(_FibreParams):
    normalized_slack_length: Shape = Field(1.4, description=f"passive slack length / optimal length, at most {MAX_SHAPE:g}")
    max_velocity: Rate = Field(10.0, description=f"vmax in optimal lengths per second, at most {MAX_RATE:g}")
    s_as: Fraction = Field(0.001, description="slope of the force-velocity asymptote, at most 1")
    fl_width: Shape = Field(0.66, description=f"width of the quadratic force-length curve, at most {MAX_SHAPE:g}")
    q_crit: Fraction = Field(0.3, description="activation below which the F-V curvature changes, at most 1")
    a_rel: float = Field(0.41, ge=-MAX_FACTOR, le=MAX_FACTOR, description=f"Hill constant A_rel, within ±{MAX_FACTOR:g}")
    b_rel: float = Field(5.2, ge=-MAX_FACTOR, le=MAX_FACTOR, description=f"Hill constant B_rel [1/s], within ±{MAX_FACTOR:g}")
    min_fl: float = Field(0.01, ge=0, le=1, description="floor of the force-length curve, at most 1")

    @model_validator(mode="after")
    def _passive_stiffness(self) -> _HillConstants:
        # the passive stiffness is 1 / (1 + fl_width - normalized_slack_length)^2
        nsl, top = self.normalized_slack_length, 1.0 + self.fl_width
        if abs(top - nsl) < 1e-6:
            raise fail("normalized_slack_length", f"must differ from 1 + fl_width = {top:g}", nsl)
        return self


class RigidHillMuscleSpec(_HillConstants):
    """Rigid-tendon Hill muscle after Kistemaker, Wong & Gribble (2010)."""

    kind: Literal["rigid_hill"] = "rigid_hill"


class CompliantHillMuscleSpec(_HillConstants):
    """Compliant-tendon Hill muscle after Kistemaker, Wong & Gribble (2010)."""

    kind: Literal["compliant_hill"] = "compliant_hill"
    min_activation: float = Field(0.01, ge=0, lt=1)
    k_se: float = Field(
        625.0, gt=0, le=MAX_STIFFNESS, description=f"tendon stiffness (normalised force per strain^2), at most {MAX_STIFFNESS:g}"
    )


class ThelenMuscleSpec(_FibreParams):
    """Rigid-tendon muscle after Thelen (2003)."""

    kind: Literal["thelen"] = "thelen"
    normalized_slack_length: Shape = Field(1.0, description=f"passive slack length / optimal length, at most {MAX_SHAPE:g}")
    max_velocity: Rate = Field(10.0, description=f"vmax in optimal lengths per second, at most {MAX_RATE:g}")
    af: Shape = Field(0.25, description=f"force-velocity shape factor A_f, at most {MAX_SHAPE:g}")
    fmlen: Shape = Field(1.4, description=f"maximum normalised lengthening force, at most {MAX_SHAPE:g}")
    gamma: Shape = Field(0.45, description=f"force-length shape factor, at most {MAX_SHAPE:g}")
    k_pe: Pos = Field(5.0, le=MAX_EXP_SHAPE, description=f"passive exponential shape factor, at most {MAX_EXP_SHAPE:g}")
    eps0: Shape = Field(0.6, description=f"passive strain at F_max, at most {MAX_SHAPE:g}")


class MujocoMuscleSpec(_FibreParams):
    """MuJoCo's muscle actuator curves with a rigid tendon."""

    kind: Literal["mujoco"] = "mujoco"
    tau_activation: Tau = Field(0.01, description=f"activation time constant [s], {MIN_TAU:g} to {MAX_TAU:g}")
    tau_deactivation: Tau = Field(0.04, description=f"deactivation time constant [s], {MIN_TAU:g} to {MAX_TAU:g}")
    min_activation: float = Field(0.0, ge=0, lt=1)
    lmin: Shape = Field(0.5, description=f"lower end of the F-L curve (optimal lengths), at most {MAX_SHAPE:g}")
    lmax: Shape = Field(1.6, description=f"upper end of the F-L curve (optimal lengths), at most {MAX_SHAPE:g}")
    vmax: Rate = Field(1.5, description=f"shortening velocity at zero force (optimal lengths/s), at most {MAX_RATE:g}")
    fvmax: Shape = Field(1.2, description=f"maximum lengthening force (normalised), at most {MAX_SHAPE:g}")
    fpmax: NonNegFactor = Field(1.3, description=f"passive force at lmax (normalised), at most {MAX_FACTOR:g}")
    passive_scale: NonNegFactor = Field(1.0, description=f"scale of the passive force, at most {MAX_FACTOR:g}")

    @model_validator(mode="after")
    def _range(self) -> MujocoMuscleSpec:
        if not self.lmin < 0.95 < self.lmax or self.lmax <= 1.0:
            raise fail("lmax", f"need lmin < 0.95 and lmax > 1 (lmin={self.lmin})", self.lmax)
        if self.fvmax <= 1.0:
            raise fail("fvmax", "must be > 1", self.fvmax)
        return self


MuscleSpec = Annotated[
    Union[ReluMuscleSpec, RigidHillMuscleSpec, ThelenMuscleSpec, MujocoMuscleSpec, CompliantHillMuscleSpec],
    Field(discriminator="kind"),
]

IntegrationMethod = Literal["euler", "rk4", "rk4_motornet"]


class EffectorSpec(SpecModel):
    """A complete effector.

    ``motornet_compat`` keeps MotorNet's documented quirks that change the physics (path-point
    velocity on distal bodies, the compliant muscle's velocity units, A condition and initial
    state); turn it off for the physically exact variants. The muscle/geometry one-stage lag is
    part of the ``euler``/``rk4_motornet`` step order; the true ``rk4`` integrates the ODE without it.
    """

    name: str = Field("effector", min_length=1, max_length=128)
    description: str = Field("", max_length=4000)
    skeleton: SkeletonSpec
    muscles: list[MuscleSpec] = Field(min_length=1, max_length=64)
    dt: float = Field(0.01, gt=0, le=0.1, description="time step [s]")
    integration: IntegrationMethod = "euler"
    n_ministeps: int = Field(1, ge=1, le=1000)
    damping: Damping = Field(0.0, description=f"joint damping d in Q = ... - d*qdot [N m s/rad], at most {MAX_DAMPING:g}")
    motornet_compat: bool = True

    @model_validator(mode="after")
    def _consistent(self) -> EffectorSpec:
        kind = self.muscles[0].kind
        gkind = self.muscles[0].geometry.kind
        n = self.skeleton.dof
        names: set[str] = set()
        for i, m in enumerate(self.muscles):
            if m.kind != kind:
                raise fail(f"muscles.{i}.kind", f"all muscles of an effector share one model ({kind!r})", m.kind)
            if m.name in names:
                raise fail(f"muscles.{i}.name", "muscle names must be unique", m.name)
            names.add(m.name)
            g = m.geometry
            if g.kind != gkind:
                raise fail(f"muscles.{i}.geometry.kind", f"all muscles share one geometry model ({gkind!r})", g.kind)
            if isinstance(g, PolynomialGeometrySpec):
                for key in ("a1", "a2", "a3"):
                    if len(getattr(g, key)) != n:
                        raise fail(f"muscles.{i}.geometry.{key}", f"needs one value per joint ({n})", getattr(g, key))
            elif isinstance(g, ConstantGeometrySpec):
                if len(g.moment_arms) != n:
                    raise fail(f"muscles.{i}.geometry.moment_arms", f"needs one value per joint ({n})", g.moment_arms)
            else:
                for j, p in enumerate(g.points):
                    if p.body >= self.skeleton.n_bodies:
                        raise fail(
                            f"muscles.{i}.geometry.points.{j}.body",
                            f"no such body (this skeleton has bodies 0..{self.skeleton.n_bodies - 1})",
                            p.body,
                        )
                if all(p.body == g.points[0].body for p in g.points):
                    raise fail(f"muscles.{i}.geometry.points", "a path must span at least two bodies", [p.body for p in g.points])
                joints = self._joint_centres()
                for j in range(1, len(g.points)):
                    a, b = g.points[j - 1], g.points[j]
                    if ((a.body, a.x, a.y), (b.body, b.x, b.y)) in joints:
                        raise fail(
                            f"muscles.{i}.geometry.points.{j}",
                            f"zero-length segment: on the joint centre that point {j - 1} is on, in every posture",
                            b.model_dump(),
                        )
        return self

    def _joint_centres(self) -> set[tuple[tuple[int, float, float], tuple[int, float, float]]]:
        """Pairs of (body, x, y) points on two bodies that coincide in every posture: the joint
        centres of a chain (world (0, 0) = body 1's (0, 0); body k's (L_k, 0) = body k + 1's (0, 0)),
        both ways round. The point mass has none."""
        sk = self.skeleton
        if isinstance(sk, TwoLinkArmSpec):
            lengths = [sk.L1, sk.L2]
        elif isinstance(sk, PlanarArmSpec):
            lengths = [link.length for link in sk.links]
        else:
            return set()
        pairs = [((0, 0.0, 0.0), (1, 0.0, 0.0))]
        pairs += [((k, lengths[k - 1], 0.0), (k + 1, 0.0, 0.0)) for k in range(1, len(lengths))]
        return {*pairs, *((q, p) for p, q in pairs)}

    @property
    def dof(self) -> int:
        """Number of degrees of freedom n."""
        return self.skeleton.dof

    @property
    def n_muscles(self) -> int:
        """Number of muscles M."""
        return len(self.muscles)

    @property
    def muscle_kind(self) -> str:
        """The muscle model shared by every muscle."""
        return self.muscles[0].kind
