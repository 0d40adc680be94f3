"""Muscle sizing checks: fibre length, tendon strain and resting force at postures."""

from __future__ import annotations

import pytest
import torch

from motornet_core import build_effector, presets
from motornet_core.analysis.physiology import muscle_physiology, physiology_warnings
from motornet_core.specs import EffectorSpec


def _mid(eff) -> torch.Tensor:  # type: ignore[no-untyped-def]
    return (eff.skeleton.pos_lb + eff.skeleton.pos_ub) / 2


def _sweep(eff, n: int = 21) -> torch.Tensor:  # type: ignore[no-untyped-def]
    rows = []
    for j in range(eff.dof):
        q = _mid(eff).expand(n, -1).clone()
        q[:, j] = torch.linspace(float(eff.skeleton.pos_lb[j]), float(eff.skeleton.pos_ub[j]), n)
        rows.append(q)
    return torch.cat(rows)


def _with_short_muscle(optimal: float, slack: float) -> EffectorSpec:
    """arm210 plus a muscle from the world to the forearm (a path of ~0.25 m)."""
    spec = presets.arm210().model_dump(mode="json")
    extra = {**spec["muscles"][-1], "name": "new", "optimal_length": optimal, "tendon_slack_length": slack}
    extra["geometry"] = {"kind": "path", "points": [{"body": 0, "x": 0.05, "y": 0.05}, {"body": 2, "x": 0.05, "y": 0.0}]}
    spec["muscles"].append(extra)
    return EffectorSpec.model_validate(spec)


def test_arm210_is_plausible_at_rest() -> None:
    eff = build_effector(presets.arm210())
    phys = muscle_physiology(eff, _mid(eff)[None])
    assert phys is not None
    assert phys.fibre_length.shape == (1, 10)
    assert bool(((phys.fibre_length > 0.5) & (phys.fibre_length < 1.5)).all())
    assert float(phys.rest_force.max()) < 0.05
    assert float(phys.tendon_strain.abs().max()) == 0.0  # rigid tendons
    assert physiology_warnings(eff, _mid(eff), _sweep(eff)) == []


def test_a_muscle_too_short_for_its_path_is_flagged() -> None:
    eff = build_effector(_with_short_muscle(0.058, 0.02))
    phys = muscle_physiology(eff, _mid(eff)[None])
    assert phys is not None
    assert float(phys.fibre_length[0, 10]) > 3
    assert float(phys.rest_force[0, 10]) > 100  # the 5.9e7 N of a 500 N muscle
    warnings = physiology_warnings(eff, _mid(eff), _sweep(eff))
    flagged = {(w.name, w.quantity) for w in warnings}
    assert ("new", "fibre_length") in flagged and ("new", "rest_force") in flagged
    assert all(w.muscle == 10 for w in warnings)
    assert "x optimal at the reference posture" in warnings[0].message
    # sized to its path (l0_ce + l0_se = L_mt, split like the presets), the same muscle is fine
    length = float(eff.geometry(_mid(eff)[None], torch.zeros(1, 2), eff.skeleton).length[0, 10])
    fine = build_effector(_with_short_muscle(0.55 * length, 0.45 * length))
    assert physiology_warnings(fine, _mid(fine), _sweep(fine)) == []


def test_compliant_tendon_strain() -> None:
    spec = presets.arm26_compliant().model_dump(mode="json")
    eff = build_effector(EffectorSpec.model_validate(spec))
    phys = muscle_physiology(eff, _mid(eff)[None])
    assert phys is not None and float(phys.tendon_strain.abs().max()) < 0.05
    spec["muscles"][0].update(optimal_length=0.06, tendon_slack_length=0.05)  # pectoralis: a path of 0.19 m
    stretched = build_effector(EffectorSpec.model_validate(spec))
    phys = muscle_physiology(stretched, _mid(stretched)[None])
    assert phys is not None and float(phys.tendon_strain[0, 0]) > 0.1
    assert any(w.quantity == "tendon_strain" and w.muscle == 0 for w in physiology_warnings(stretched, _mid(stretched)))


def test_relu_muscles_have_nothing_to_check() -> None:
    eff = build_effector(presets.point_mass_24())
    assert muscle_physiology(eff, torch.zeros(1, 2)) is None
    assert physiology_warnings(eff, torch.zeros(2)) == []


@pytest.mark.parametrize("name", ["arm26", "arm26_thelen", "arm26_mujoco", "arm26_compliant"])
def test_presets_raise_no_warnings(name: str) -> None:
    eff = build_effector(presets.effector_preset(name))
    assert physiology_warnings(eff, _mid(eff), _sweep(eff)) == []
