"""Effector presets, each returning an :class:`EffectorSpec` (values in physics.md §9).

* :func:`point_mass_24`: 1 kg point mass, four 500 N linear muscles pulling to (+-2, +-2) m.
* :func:`arm26`: Nijhof & Kouwenhoven (2000) two-link arm, six lumped muscles, polynomial geometry;
  rigid-tendon Hill (Kistemaker et al. 2010), Thelen (2003) or MuJoCo muscles.
* :func:`arm26_compliant`: the same arm with compliant-tendon Hill muscles (rk4_motornet, dt 0.2 ms).
* :func:`arm210`: two-link arm with ten path-point Thelen muscles (MotorNet's arm210).
* :func:`arm3_winter`: a three-link arm (shoulder, elbow, wrist) from Winter's anthropometric
  tables (Winter 2009, Biomechanics and Motor Control of Human Movement, table 4.1) for a
  1.75 m, 70 kg adult, with arm210's shoulder and elbow muscles plus a lumped wrist flexor and
  extensor whose sizes follow Holzbaur, Murray & Delp (2005, Ann Biomed Eng 33:829). Our own
  design, not a MotorNet model: ``motornet_compat`` is off, so its path-point velocities are the
  true rates of change of the musculotendon lengths.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, Literal

from motornet_core.specs.effector import EffectorSpec

DEG = math.pi / 180.0

_ARM26_MUSCLES = [
    # name, F_max [N], l0_ce [m], l0_se [m], a0 [m], a1 (shoulder, elbow), a2 (shoulder, elbow)
    ("pectoralis", 838.0, 0.134, 0.039, 0.151, (-0.03, 0.0), (0.0, 0.0)),
    ("deltoid", 1207.0, 0.140, 0.066, 0.2322, (0.03, 0.0), (0.0, 0.0)),
    ("brachioradialis", 1422.0, 0.092, 0.172, 0.2859, (0.0, -0.014), (0.0, -0.004)),
    ("tricepslat", 1549.0, 0.093, 0.187, 0.2355, (0.0, 0.025), (0.0, -0.0022)),
    ("biceps", 414.0, 0.137, 0.204, 0.3329, (-0.03, -0.016), (0.0, -0.0057)),
    ("tricepslong", 603.0, 0.127, 0.217, 0.2989, (0.03, 0.03), (0.0, -0.0032)),
]

_ARM26_SKELETON = {
    "kind": "two_link_arm",
    "m1": 1.82,
    "m2": 1.43,
    "L1": 0.309,
    "L2": 0.333,
    "L1g": 0.135,
    "L2g": 0.165,
    "I1": 0.051,
    "I2": 0.057,
    "pos_lower_bound": [0.0, 0.0],
    "pos_upper_bound": [135 * DEG, 155 * DEG],
}


def point_mass_24() -> EffectorSpec:
    """1 kg point mass with four relu muscles of 500 N towards the corners (+-2, +-2) m."""
    corners = [("UpperRight", 2.0, 2.0), ("UpperLeft", -2.0, 2.0), ("LowerRight", 2.0, -2.0), ("LowerLeft", -2.0, -2.0)]
    muscles = [
        {
            "kind": "relu",
            "name": name,
            "max_iso_force": 500.0,
            "geometry": {"kind": "path", "points": [{"body": 0, "x": x, "y": y}, {"body": 1, "x": 0.0, "y": 0.0}]},
        }
        for name, x, y in corners
    ]
    return EffectorSpec.parse(
        {
            "name": "point_mass_24",
            "description": "Point mass (1 kg) with four linear muscles pulling to the corners.",
            "skeleton": {"kind": "point_mass", "mass": 1.0},
            "muscles": muscles,
        }
    )


def arm26(muscle: Literal["rigid_hill", "thelen", "mujoco"] = "rigid_hill") -> EffectorSpec:
    """Two-link arm with six lumped muscles and the polynomial geometry (physics.md §9.1)."""
    muscles = []
    for name, fmax, l0_ce, l0_se, a0, a1, a2 in _ARM26_MUSCLES:
        muscles.append(
            {
                "kind": muscle,
                "name": name,
                "max_iso_force": fmax,
                "optimal_length": l0_ce,
                "tendon_slack_length": l0_se,
                "geometry": {"kind": "polynomial", "a0": a0, "a1": list(a1), "a2": list(a2), "a3": [math.pi / 2, 0.0]},
            }
        )
    suffix = "" if muscle == "rigid_hill" else f"_{muscle}"
    return EffectorSpec.parse(
        {
            "name": f"arm26{suffix}",
            "description": f"Two-link arm, six lumped muscles ({muscle}), Nijhof & Kouwenhoven (2000) geometry.",
            "skeleton": _ARM26_SKELETON,
            "muscles": muscles,
        }
    )


def arm26_compliant() -> EffectorSpec:
    """arm26 with compliant-tendon Hill muscles (physics.md §9.2); rk4_motornet at dt = 0.2 ms."""
    spec = arm26("rigid_hill").model_dump()
    overrides = {"pectoralis": (0.070, 0.182), "deltoid": (0.070, 0.2362)}
    for m in spec["muscles"]:
        m["kind"] = "compliant_hill"
        m["min_activation"] = 0.01
        if m["name"] in overrides:
            m["tendon_slack_length"], m["geometry"]["a0"] = overrides[m["name"]]
    spec.update(name="arm26_compliant", integration="rk4_motornet", dt=0.0002)
    spec["description"] = "arm26 with compliant-tendon Hill muscles (Kistemaker et al. 2010)."
    return EffectorSpec.parse(spec)


_ARM210_MUSCLES: list[tuple[str, float, float, float, float, list[tuple[int, float, float]]]] = [
    ("pectoralis", 838, 0.134, 0.039, 1.48, [(0, -0.15, 0.03), (1, 0.094, 0.017)]),
    ("clavicular deltoid", 680, 0.104, 0.039, 1.40, [(0, -0.034, 0.022), (1, 0.144, 0.01)]),
    ("deltoid", 1207, 0.140, 0.066, 1.52, [(0, 0.14, 0.0), (0, 0.05, 0.0), (1, 0.153, 0.0)]),
    ("teres major", 1207, 0.068, 0.066, 1.65, [(0, 0.1, 0.0), (0, 0.05, -0.03), (1, 0.062, 0.004)]),
    ("brachioradialis", 1422, 0.092, 0.172, 1.43, [(1, 0.23, 0.001), (2, 0.231, 0.01)]),
    ("tricepslat", 1549, 0.093, 0.187, 1.45, [(1, 0.03, 0.0), (1, 0.138, -0.019), (2, -0.04, -0.017)]),
    ("biceps", 414, 0.137, 0.204, 1.50, [(0, -0.052, 0.033), (2, 0.044, 0.001)]),
    ("tricepslong", 603, 0.127, 0.217, 1.40, [(0, 0.02, -0.028), (2, -0.04, -0.017)]),
    ("anconeus", 300, 0.015, 0.010, 1.72, [(1, 0.306, -0.011), (2, 0.003, -0.025)]),
    ("prot", 700, 0.058, 0.020, 1.48, [(1, 0.277, 0.0), (2, 0.075, 0.02)]),
]


def _path_muscles(
    kind: str, table: list[tuple[str, float, float, float, float, list[tuple[int, float, float]]]]
) -> list[dict[str, Any]]:
    return [
        {
            "kind": kind,
            "name": name,
            "max_iso_force": float(fmax),
            "optimal_length": l0_ce,
            "tendon_slack_length": l0_se,
            "normalized_slack_length": nsl,
            "geometry": {"kind": "path", "points": [{"body": b, "x": x, "y": y} for b, x, y in path]},
        }
        for name, fmax, l0_ce, l0_se, nsl, path in table
    ]


def arm210() -> EffectorSpec:
    """Two-link arm (generic defaults) with ten Thelen muscles on fixation points (physics.md §9.4)."""
    return EffectorSpec.parse(
        {
            "name": "arm210",
            "description": "Two-link arm with ten path-point Thelen muscles (MotorNet's arm210).",
            "skeleton": {"kind": "two_link_arm"},
            "muscles": _path_muscles("thelen", _ARM210_MUSCLES),
        }
    )


def _winter_link(mass_frac: float, len_frac: float, com_frac: float, gyr_frac: float, lo: float, hi: float) -> dict[str, float]:
    height, body_mass = 1.75, 70.0
    mass, length = mass_frac * body_mass, len_frac * height
    return {
        "mass": round(mass, 4),
        "length": round(length, 4),
        "com": round(com_frac * length, 4),
        "inertia": round(mass * (gyr_frac * length) ** 2, 6),
        "pos_lower_bound": lo,
        "pos_upper_bound": hi,
    }


def arm3_winter() -> EffectorSpec:
    """Three-link arm (upper arm, forearm, hand) with twelve Thelen path-point muscles.

    No MotorNet recording depends on it, so it uses the exact path-point velocity
    (``motornet_compat=False``): muscle velocity = dL/dt.
    """
    links = [
        _winter_link(0.028, 0.186, 0.436, 0.322, 0.0, 135 * DEG),
        _winter_link(0.016, 0.146, 0.430, 0.303, 0.0, 155 * DEG),
        _winter_link(0.006, 0.108, 0.506, 0.297, -70 * DEG, 80 * DEG),
    ]
    table = list(_ARM210_MUSCLES)
    table += [
        ("wrist flexor", 250, 0.063, 0.200, 1.40, [(2, 0.02, 0.012), (2, 0.24, 0.015), (3, 0.03, 0.012)]),
        ("wrist extensor", 250, 0.081, 0.180, 1.40, [(2, 0.02, -0.012), (2, 0.24, -0.015), (3, 0.03, -0.012)]),
    ]
    return EffectorSpec.parse(
        {
            "name": "arm3_winter",
            "description": "Three-link arm from Winter's anthropometry (1.75 m, 70 kg) with wrist flexor/extensor.",
            "skeleton": {"kind": "planar_arm", "links": links},
            "muscles": _path_muscles("thelen", table),
            "motornet_compat": False,
        }
    )


EFFECTOR_PRESETS: dict[str, Callable[[], EffectorSpec]] = {
    "point_mass_24": point_mass_24,
    "arm26": arm26,
    "arm26_thelen": lambda: arm26("thelen"),
    "arm26_mujoco": lambda: arm26("mujoco"),
    "arm26_compliant": arm26_compliant,
    "arm210": arm210,
    "arm3_winter": arm3_winter,
}


def effector_preset(name: str) -> EffectorSpec:
    """Look up an effector preset by name."""
    from motornet_core.errors import SpecError

    if name not in EFFECTOR_PRESETS:
        raise SpecError(
            [{"loc": "preset", "msg": f"unknown effector preset; choose one of {sorted(EFFECTOR_PRESETS)}", "input": name}]
        )
    return EFFECTOR_PRESETS[name]()
