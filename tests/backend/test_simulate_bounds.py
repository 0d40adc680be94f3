"""Physical fields of the effector spec are bounded (422 naming the field), and a simulation whose
result is not finite is answered 422, never 200 with ``null`` arrays."""

from __future__ import annotations

import json
import math

import pytest

from motornet_core import presets
from motornet_core.specs import set_path

ARM26 = presets.arm26().model_dump(mode="json")
POINT_MASS = presets.point_mass_24().model_dump(mode="json")


def _with(spec: dict, path: str, value) -> dict:
    data = json.loads(json.dumps(spec))
    set_path(data, path, value)
    return data


@pytest.mark.parametrize(
    ("base", "path", "value"),
    [
        (POINT_MASS, "damping", 1e308),
        (POINT_MASS, "skeleton.mass", 1e-300),
        (POINT_MASS, "skeleton.vel_upper_bound.0", 1e300),
        (POINT_MASS, "muscles.0.geometry.points.0.x", 1e300),
        (POINT_MASS, "muscles.0.tau_activation", 1e-300),
        (ARM26, "muscles.0.max_iso_force", 1e308),
        (ARM26, "muscles.0.optimal_length", 1e-300),
        (ARM26, "muscles.0.tendon_slack_length", 1e300),
        (ARM26, "muscles.0.geometry.a0", 1e300),
        (ARM26, "muscles.0.geometry.a2.1", -1e300),
        (ARM26, "muscles.0.max_velocity", 1e300),
        (ARM26, "muscles.0.b_rel", 1e300),
        (ARM26, "skeleton.c_viscosity", 1e300),
    ],
)
def test_unphysical_fields_are_422_naming_the_field(client, base, path, value):
    spec = _with(base, path, value)
    m = len(spec["muscles"])
    r = client.post("/api/simulate", json={"effector": spec, "excitations": [[0.5] * m] * 20})
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["loc"] == f"effector.{path}", r.text


def test_every_bounded_field_documents_its_range():
    schema = presets.arm26().model_json_schema()
    hill = schema["$defs"]["RigidHillMuscleSpec"]["properties"]
    for name in ("max_iso_force", "optimal_length", "tau_activation", "max_velocity"):
        assert "maximum" in hill[name] or "exclusiveMaximum" in hill[name], name
        assert hill[name].get("description"), name


def _finite(x) -> bool:
    if isinstance(x, list):
        return all(_finite(v) for v in x)
    return x is not None and math.isfinite(x)


def test_a_simulation_that_is_not_finite_is_422(client):
    # within every bound, but rk4 with dt 0.1, 1 g links, 0.1 ms time constants and 1e5 N diverges
    spec = _with(ARM26, "dt", 0.1)
    spec["integration"] = "rk4"
    spec["skeleton"].update(m1=0.001, m2=0.001, I1=0.0, I2=0.0)
    for muscle in spec["muscles"]:
        muscle.update(max_iso_force=1e5, tau_activation=1e-4, tau_deactivation=1e-4)
    r = client.post("/api/simulate", json={"effector": spec, "excitations": [[1, 0, 1, 0, 1, 0]] * 100})
    assert r.status_code == 422, r.text[:300]
    assert r.json()["detail"][0]["loc"] == "effector" and "not finite" in r.json()["message"]


def test_presets_still_simulate(client):
    for spec in (ARM26, POINT_MASS):
        m = len(spec["muscles"])
        r = client.post("/api/simulate", json={"effector": spec, "excitations": [[0.3] * m] * 20})
        assert r.status_code == 200 and _finite(r.json()["position"])
