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
    mass: Pos = Field(1.0, description="mass [kg]")
    pos_lower_bound: list[float] = Field(default_factory=lambda: [-1.0, -1.0], description="[m]")
    pos_upper_bound: list[float] = Field(default_factory=lambda: [1.0, 1.0], description="[m]")
    vel_lower_bound: list[float] = Field(default_factory=lambda: [-1000.0, -1000.0], description="[m/s]")
    vel_upper_bound: list[float] = Field(default_factory=lambda: [1000.0, 1000.0], description="[m/s]")

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
    m1: Pos = Field(1.864572, description="upper arm mass [kg]")
    m2: Pos = Field(1.534315, description="forearm mass [kg]")
    L1: Pos = Field(0.309, description="upper arm length [m]")
    L2: Pos = Field(0.26, description="forearm length [m]")
    L1g: NonNeg = Field(0.180496, description="upper arm centre of mass from the shoulder [m]")
    L2g: NonNeg = Field(0.181479, description="forearm centre of mass from the elbow [m]")
    I1: NonNeg = Field(0.013193, description="upper arm inertia about its centre of mass [kg m^2]")
    I2: NonNeg = Field(0.020062, description="forearm inertia about its centre of mass [kg m^2]")
    c_viscosity: NonNeg = Field(0.0, description="joint viscosity [N m s/rad]")
    pos_lower_bound: list[float] = Field(default_factory=lambda: [0.0, 0.0], description="[rad]")
    pos_upper_bound: list[float] = Field(default_factory=lambda: [140 * DEG, 160 * DEG], description="[rad]")
    vel_lower_bound: list[float] = Field(default_factory=lambda: [-1000.0, -1000.0], description="[rad/s]")
    vel_upper_bound: list[float] = Field(default_factory=lambda: [1000.0, 1000.0], description="[rad/s]")

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

    mass: Pos = Field(description="[kg]")
    length: Pos = Field(description="[m]")
    com: NonNeg = Field(description="centre of mass from the proximal joint [m]")
    inertia: NonNeg = Field(description="inertia about the centre of mass [kg m^2]")
    pos_lower_bound: float = Field(0.0, description="joint angle lower bound [rad]")
    pos_upper_bound: float = Field(150 * DEG, description="joint angle upper bound [rad]")
    vel_lower_bound: float = Field(-1000.0, description="[rad/s]")
    vel_upper_bound: float = Field(1000.0, description="[rad/s]")

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
    c_viscosity: NonNeg = Field(0.0, description="joint viscosity [N m s/rad]")

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
    x: float = Field(description="[m]")
    y: float = Field(description="[m]")


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
    a0: float = Field(description="[m]")
    a1: list[float] = Field(description="per joint [m/rad]")
    a2: list[float] = Field(description="per joint [m/rad^2]")
    a3: list[float] = Field(description="per joint [rad]")


class ConstantGeometrySpec(SpecModel):
    """Constant moment arms: L = length + sum_j r_j q_j."""

    kind: Literal["constant"] = "constant"
    length: float = Field(description="musculotendon length at q = 0 [m]")
    moment_arms: list[float] = Field(description="per joint [m/rad] (point mass: dimensionless)")


GeometrySpec = Annotated[Union[PathGeometrySpec, PolynomialGeometrySpec, ConstantGeometrySpec], Field(discriminator="kind")]


# ----------------------------------------------------------------------------------------------
# Muscles


class _MuscleBase(SpecModel):
    name: str = Field(min_length=1, max_length=64)
    max_iso_force: Pos = Field(description="maximum isometric force F_max [N]")
    tau_activation: Pos = Field(0.015, description="activation time constant [s]")
    tau_deactivation: Pos = Field(0.05, description="deactivation time constant [s]")
    min_activation: float = Field(0.001, ge=0, lt=1, description="a_min, lower clip of excitation and activation")
    geometry: GeometrySpec


class ReluMuscleSpec(_MuscleBase):
    """Linear muscle: force = activation * F_max."""

    kind: Literal["relu"] = "relu"
    min_activation: float = Field(0.0, ge=0, lt=1)


class _FibreParams(_MuscleBase):
    optimal_length: Pos = Field(description="optimal fibre length l0_ce [m]")
    tendon_slack_length: NonNeg = Field(description="tendon slack length l0_se [m]")


class _HillConstants(_FibreParams):
    normalized_slack_length: Pos = Field(1.4, description="passive slack length / optimal length")
    max_velocity: Pos = Field(10.0, description="vmax in optimal lengths per second")
    s_as: Pos = Field(0.001, description="slope of the force-velocity asymptote")
    fl_width: Pos = Field(0.66, description="width of the quadratic force-length curve")
    q_crit: Pos = Field(0.3, description="activation below which the F-V curvature changes")
    a_rel: float = Field(0.41, description="Hill constant A_rel")
    b_rel: float = Field(5.2, description="Hill constant B_rel [1/s]")
    min_fl: NonNeg = Field(0.01, description="floor of the force-length curve")


class RigidHillMuscleSpec(_HillConstants):
    """Rigid-tendon Hill muscle after Kistemaker, Wong & Gribble (2010)."""

    kind: Literal["rigid_hill"] = "rigid_hill"


class CompliantHillMuscleSpec(_HillConstants):
    """Compliant-tendon Hill muscle after Kistemaker, Wong & Gribble (2010)."""

    kind: Literal["compliant_hill"] = "compliant_hill"
    min_activation: float = Field(0.01, ge=0, lt=1)
    k_se: Pos = Field(625.0, description="tendon stiffness (normalised force per strain^2)")


class ThelenMuscleSpec(_FibreParams):
    """Rigid-tendon muscle after Thelen (2003)."""

    kind: Literal["thelen"] = "thelen"
    normalized_slack_length: Pos = Field(1.0, description="passive slack length / optimal length")
    max_velocity: Pos = Field(10.0, description="vmax in optimal lengths per second")
    af: Pos = Field(0.25, description="force-velocity shape factor A_f")
    fmlen: Pos = Field(1.4, description="maximum normalised lengthening force")
    gamma: Pos = Field(0.45, description="force-length shape factor")
    k_pe: Pos = Field(5.0, description="passive exponential shape factor")
    eps0: Pos = Field(0.6, description="passive strain at F_max")


class MujocoMuscleSpec(_FibreParams):
    """MuJoCo's muscle actuator curves with a rigid tendon."""

    kind: Literal["mujoco"] = "mujoco"
    tau_activation: Pos = Field(0.01)
    tau_deactivation: Pos = Field(0.04)
    min_activation: float = Field(0.0, ge=0, lt=1)
    lmin: Pos = Field(0.5, description="lower end of the F-L curve (optimal lengths)")
    lmax: Pos = Field(1.6, description="upper end of the F-L curve (optimal lengths)")
    vmax: Pos = Field(1.5, description="shortening velocity at zero force (optimal lengths/s)")
    fvmax: Pos = Field(1.2, description="maximum lengthening force (normalised)")
    fpmax: NonNeg = Field(1.3, description="passive force at lmax (normalised)")
    passive_scale: NonNeg = Field(1.0, description="scale of the passive force")

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
    damping: NonNeg = Field(0.0, description="joint damping d in Q = ... - d*qdot [N m s/rad]")
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
        return self

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
