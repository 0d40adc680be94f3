"""EffectorSpec: JSON round trips and SpecErrors that name the field and the value."""

from __future__ import annotations

import json
import math

import pytest
import torch

from motornet_core import EffectorSpec, SpecError, build_effector, presets


@pytest.mark.parametrize("name", sorted(presets.EFFECTOR_PRESETS))
def test_presets_round_trip_through_json(name: str) -> None:
    spec = presets.EFFECTOR_PRESETS[name]()
    again = EffectorSpec.parse(spec.to_json())
    assert again == spec
    assert json.loads(again.to_json()) == json.loads(spec.to_json())
    build_effector(json.loads(spec.to_json()))


def _arm26() -> dict:
    return presets.arm26().model_dump(mode="json")


def _arm210() -> dict:
    return presets.arm210().model_dump(mode="json")


def _arm26_mixed() -> dict:
    data = _arm26()
    data["muscles"][3] = presets.arm26("thelen").model_dump(mode="json")["muscles"][3]
    return data


def _set(data: dict, path: str, value: object) -> dict:
    node = data
    keys = path.split(".")
    for k in keys[:-1]:
        node = node[int(k)] if isinstance(node, list) else node[k]
    last = keys[-1]
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return data


CASES = [
    ("negative mass", _arm26, "skeleton.m1", -1.0, "skeleton.m1"),
    ("zero segment length", _arm26, "skeleton.L2", 0.0, "skeleton.L2"),
    ("optimal length <= 0", _arm26, "muscles.2.optimal_length", 0.0, "muscles.2.optimal_length"),
    ("NaN force", _arm26, "muscles.1.max_iso_force", math.nan, "muscles.1.max_iso_force"),
    ("infinite dt", _arm26, "dt", math.inf, "dt"),
    ("unknown muscle kind", _arm26, "muscles.0.kind", "springy", "muscles.0"),
    ("unknown integration", _arm26, "integration", "verlet", "integration"),
    ("path point on missing body", _arm210, "muscles.4.geometry.points.1.body", 5, "muscles.4.geometry.points.1.body"),
    ("wrong polynomial size", _arm26, "muscles.0.geometry.a1", [0.1], "muscles.0.geometry.a1"),
    ("mixed muscle models", _arm26_mixed, "muscles.3.kind", "thelen", "muscles.3.kind"),
    ("duplicate names", _arm26, "muscles.3.name", "deltoid", "muscles.3.name"),
    ("unknown field", _arm26, "skeleton.wings", 2, "skeleton.wings"),
    ("bounds reversed", _arm26, "skeleton.pos_upper_bound", [-1.0, 2.0], "skeleton.pos_upper_bound.0"),
]


@pytest.mark.parametrize(("what", "base", "path", "value", "loc"), CASES, ids=[c[0] for c in CASES])
def test_invalid_spec_names_field_and_value(what: str, base, path: str, value: object, loc: str) -> None:
    data = _set(base(), path, value)
    with pytest.raises(SpecError) as info:
        build_effector(data)
    locs = [e["loc"] for e in info.value.errors]
    assert any(lo.startswith(loc) for lo in locs), (what, locs)
    text = str(info.value)
    shown = value[0] if isinstance(value, list) and "bound" in path else value
    assert repr(shown)[:6] in text or str(shown)[:6] in text, text


def test_zero_length_segment_is_rejected() -> None:
    data = _arm210()
    first = data["muscles"][2]["geometry"]["points"][0]
    data["muscles"][2]["geometry"]["points"][1] = dict(first)
    with pytest.raises(SpecError) as info:
        EffectorSpec.parse(data)
    assert info.value.errors[0]["loc"] == "muscles.2.geometry.points.1"
    assert "zero-length" in info.value.errors[0]["msg"]


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ({"body": 0, "x": 0.0, "y": 0.0}, {"body": 1, "x": 0.0, "y": 0.0}),  # world origin = the shoulder
        ({"body": 1, "x": 0.309, "y": 0.0}, {"body": 2, "x": 0.0, "y": 0.0}),  # end of the upper arm = the elbow
        ({"body": 2, "x": 0.0, "y": 0.0}, {"body": 1, "x": 0.309, "y": 0.0}),
    ],
)
def test_a_segment_between_two_bodies_on_their_common_joint_centre_is_rejected(a, b) -> None:
    """Two points on different bodies at the same joint centre coincide in every posture: the
    segment's length is 0 and its moment arms would be NaN."""
    data = _arm210()
    data["muscles"][3]["geometry"]["points"] = [{"body": 0, "x": -0.05, "y": 0.0}, a, b]
    with pytest.raises(SpecError) as info:
        EffectorSpec.parse(data)
    assert info.value.errors[0]["loc"] == "muscles.3.geometry.points.2"
    assert "zero-length" in info.value.errors[0]["msg"] and info.value.errors[0]["input"] == b
    data["muscles"][3]["geometry"]["points"][2] = {**b, "y": 0.01}  # 1 cm off the joint: a valid path
    assert torch.isfinite(build_effector(data).reset(4).geometry.moment_arm).all()


def test_every_error_is_reported() -> None:
    data = _arm26()
    data["muscles"][0]["max_iso_force"] = -5
    data["muscles"][1]["optimal_length"] = -0.1
    with pytest.raises(SpecError) as info:
        EffectorSpec.parse(data)
    assert {e["loc"] for e in info.value.errors} >= {
        "muscles.0.max_iso_force",
        "muscles.1.optimal_length",
    }


def test_invalid_json_text() -> None:
    with pytest.raises(SpecError, match="invalid JSON"):
        EffectorSpec.parse("{not json")


def test_with_updates_applies_dotted_paths() -> None:
    spec = presets.arm26().with_updates({"dt": 0.005, "muscles.0.max_iso_force": 900.0})
    assert spec.dt == 0.005 and spec.muscles[0].max_iso_force == 900.0
    with pytest.raises(SpecError):
        presets.arm26().with_updates({"muscles.9.max_iso_force": 1.0})


def test_strings_that_are_not_valid_unicode_are_refused_with_their_path():
    from motornet_core.run_presets import run_preset
    from motornet_core.specs import RunSpec

    data = run_preset("tiny_point_mass").model_dump(mode="json")
    data["tags"] = ["fine", "\udfff"]
    with pytest.raises(SpecError) as info:
        RunSpec.parse(data)
    assert info.value.errors[0]["loc"] == "tags.1" and "surrogate" in info.value.errors[0]["msg"]
    data["tags"], data["effector"]["muscles"][2]["name"] = [], "m\ud800"
    with pytest.raises(SpecError) as info:
        RunSpec.parse(data)
    assert info.value.errors[0]["loc"] == "effector.muscles.2.name"
