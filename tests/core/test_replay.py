"""Fidelity: our physics reproduces MotorNet's recordings (shared/reference).

Tolerance per key, before the first joint-limit contact: |ours - ref| <= atol + 2e-5 * |ref| with
atol = 10 x the recording's float32-vs-float64 figure (the spread float32 round-off alone causes)
+ 1e-6. The relative part covers the 6-significant-digit rounding of the stored numbers (5e-6).
Our worst ratio on the shared files is about 0.2 of this bound; a 1 % change of one muscle's F_max,
or Euler in place of rk4_motornet, exceeds it by two to four orders of magnitude (tested below).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from refdata import REFERENCE_DIR, load, reference_files  # type: ignore[import-not-found]

from motornet_core.replay import OUTPUT_KEYS, replay

FIGURE_FOR = {
    "joint_position": "joint_position",
    "joint_velocity": "joint_velocity",
    "fingertip_position": "fingertip_position",
    "fingertip_velocity": "joint_velocity",
    "muscle_force": "muscle_force",
    "muscle_velocity": "joint_velocity",
    "musculotendon_velocity": "joint_velocity",
}
RTOL = 2e-5


def _pre_contact_rows(scenario: dict) -> list[int]:
    first = scenario["first_output_step_at_bound"]
    return [i for i, s in enumerate(scenario["output_step_indices"]) if first is None or s < first]


def worst_ratio(scenario: dict, out: dict) -> tuple[float, str]:
    """Largest |error| / tolerance over every output key before contact, and its key."""
    rows = _pre_contact_rows(scenario)
    figures = scenario["float32_vs_float64_max_abs_diff"]
    worst = (0.0, "")
    for key in OUTPUT_KEYS:
        ours, ref = np.asarray(out[key])[rows], np.asarray(scenario[key])[rows]
        assert ours.shape == ref.shape, key
        atol = 1e-6 + (10 * figures[FIGURE_FOR[key]] if key in FIGURE_FOR else 0.0)
        ratio = float((np.abs(ours - ref) / (atol + RTOL * np.abs(ref))).max())
        worst = max(worst, (ratio, key))
    return worst


@pytest.mark.parametrize("path", reference_files(), ids=lambda p: p.stem)
def test_replay_matches_recording(path: Path) -> None:
    scenario = json.loads(path.read_text())
    out = replay(scenario)
    ratio, key = worst_ratio(scenario, out)
    assert ratio <= 1.0, f"{key} misses the recording by {ratio:.2f} x tolerance"
    # after contact agreement is not required (physics.md), but the trajectory must stay close
    post = [i for i in range(len(scenario["output_step_indices"])) if i not in _pre_contact_rows(scenario)]
    if post:
        diff = np.abs(np.asarray(out["joint_position"])[post] - np.asarray(scenario["joint_position"])[post]).max()
        assert diff < 1e-2


def test_reference_files_present() -> None:
    assert len(reference_files()) >= 9


@pytest.mark.parametrize(
    "change",
    [
        lambda sc: sc["parameters"]["muscle"]["max_iso_force"].__setitem__(
            0, sc["parameters"]["muscle"]["max_iso_force"][0] * 1.01
        ),
        lambda sc: sc.__setitem__("integration_method", "euler"),
        lambda sc: sc["parameters"]["skeleton"].__setitem__("I2", sc["parameters"]["skeleton"]["I2"] * 1.01),
    ],
    ids=["fmax+1%", "euler-not-rk4_motornet", "I2+1%"],
)
def test_wrong_model_is_rejected(change) -> None:
    name = "arm26_rigid_hill__sine__rk4_motornet__dt0.01"
    scenario = load(name)
    change(scenario)
    ratio, _ = worst_ratio(load(name), replay(scenario))
    assert ratio > 30.0


def test_replay_cli_writes_every_key(tmp_path: Path) -> None:
    src = REFERENCE_DIR / "pointmass24_relu__pm_sine__euler__dt0.01.json"
    out = tmp_path / "out.json"
    cmd = [sys.executable, "-m", "backend.cli", "replay", str(src), "-o", str(out)]
    subprocess.run(cmd, check=True, capture_output=True, timeout=120)
    data = json.loads(out.read_text())
    scenario = json.loads(src.read_text())
    for key in OUTPUT_KEYS:
        assert np.asarray(data[key]).shape == np.asarray(scenario[key]).shape
    assert worst_ratio(scenario, data)[0] <= 1.0


def test_replay_cli_reports_bad_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"parameters": {"muscle_class": "Nope"}}')
    proc = subprocess.run(
        [sys.executable, "-m", "motornet_core.replay", str(bad), "-o", str(tmp_path / "o.json")], capture_output=True, text=True
    )
    assert proc.returncode == 2
    assert "cannot replay" in proc.stderr


def _with_loads(loads: dict) -> dict:
    scenario = load("arm26_rigid_hill__sine__euler__dt0.01")
    scenario["external_loads"] = loads
    return scenario


def test_replay_load_kinds_change_the_trajectory() -> None:
    base = replay(_with_loads(None))  # type: ignore[arg-type]
    for loads in (
        {"type": "constant endpoint force", "endpoint_load_N": [3.0, -2.0]},
        {"type": "constant joint torque", "joint_load_Nm": [0.5, -0.3], "damping": 0.2},
        {"type": "viscous curl field", "k_Ns_per_m": 10.0},
    ):
        out = replay(_with_loads(loads))
        moved = np.abs(np.asarray(out["joint_position"])[:20] - np.asarray(base["joint_position"])[:20]).max()
        assert moved > 1e-4, loads["type"]


def test_curl_field_follows_the_rule() -> None:
    scenario = _with_loads({"type": "viscous curl field", "k_Ns_per_m": 10.0})
    out = replay(scenario)
    applied = np.asarray(out["applied_endpoint_load"])  # (T, B, 2)
    vel = np.asarray(out["fingertip_velocity"])  # (T + 1, B, 2)
    np.testing.assert_allclose(applied[:, :, 0], 10.0 * vel[:-1, :, 1], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(applied[:, :, 1], -10.0 * vel[:-1, :, 0], rtol=1e-5, atol=1e-6)
