"""Studies: the catalogue and its errors, and the direction of every effect the studies report.

The curl-field signs are checked with a hand-written PD controller on the point mass (a policy
with a known answer: it deviates with the field, and with a perfect internal model of the field it
shows the opposite after-effect when the field is removed), because a training short enough for
the tests is too weak to adapt reliably. The training studies themselves run end to end with a few
iterations (pipeline, files, progress stream, cancellation).
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
from torch import Tensor, nn

from motornet_core import presets
from motornet_core.effector import Effector
from motornet_core.errors import SpecError
from motornet_core.specs.task import parse_task
from motornet_core.studies import STUDIES, catalogue, quick_params, run_study, study_params
from motornet_core.studies.cli import main as cli_main
from motornet_core.studies.curl_field import curl_conditions, curl_summary, reach_metrics
from motornet_core.studies.pmd import pmd_statistics
from motornet_core.studies.stats import axial_rayleigh_test, rayleigh_test
from motornet_core.training import ListSink

TINY = {"iterations": 3, "batch_size": 4, "hidden_size": 8, "duration": 0.3, "seeds": 2}


@pytest.fixture(autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


# -- catalogue and errors ---------------------------------------------------------------------------


def test_catalogue_is_json_with_schemas_and_defaults():
    entries = catalogue()
    assert [e["name"] for e in entries] == list(STUDIES)
    assert set(STUDIES) == {
        "muscle_curves",
        "moment_arms",
        "centre_out_curl_field",
        "posture_perturbations",
        "pmd_point_mass_vs_arm",
        "premotor_lesion",
    }
    json.dumps(entries)
    for e in entries:
        assert e["schema"]["type"] == "object" and e["expected_seconds"] > 0
        assert STUDIES[e["name"]].params.parse(e["defaults"]).model_dump(mode="json") == e["defaults"]


@pytest.mark.parametrize(
    ("name", "params", "loc"),
    [
        ("no_such_study", {}, "study"),
        ("centre_out_curl_field", {"iterations": 0}, "iterations"),
        ("centre_out_curl_field", {"field_direction": "up"}, "field_direction"),
        ("moment_arms", {"colour": 1}, "colour"),
        ("posture_perturbations", {"test_onsets": [0.2, 0.9]}, "test_onsets.1"),
        ("pmd_point_mass_vs_arm", {"window": [0.5, 0.1]}, "window"),
    ],
)
def test_bad_names_and_params_raise_spec_errors_naming_the_field(name, params, loc):
    with pytest.raises(SpecError) as info:
        run_study(name, params)
    assert info.value.errors[0]["loc"] == loc


def test_study_params_fill_defaults():
    p = study_params("centre_out_curl_field", {"iterations": 3000})
    assert p.iterations == 3000 and p.field_direction == "cw" and p.effector == "arm26"


# -- fast studies ---------------------------------------------------------------------------------


def test_muscle_curves_peak_at_optimal_length_and_force_rises_with_velocity(tmp_path):
    result = run_study("muscle_curves", {"n_points": 61}, out_dir=tmp_path)
    rows = {r["model"]: r for r in result.table}
    assert set(rows) == {"relu", "rigid_hill", "thelen", "mujoco", "compliant_hill"}
    for kind in ("rigid_hill", "thelen", "mujoco", "compliant_hill"):
        r = rows[kind]
        assert 0.9 <= r["active_peak_length"] <= 1.1, kind
        assert r["active_peak_force"] == pytest.approx(1.0, abs=0.05), kind
        assert r["active_at_0.6"] < 0.8 * r["active_peak_force"], kind
        assert r["passive_at_1.5"] > r["passive_at_1.0"] + 0.05, kind
        assert r["fv_monotonic"], kind
        assert r["fv_at_-0.5"] < r["fv_at_0"] < r["fv_at_+0.5"], kind
    assert rows["relu"]["passive_at_1.5"] == 0.0  # a linear muscle has no passive force
    assert {"figures.json", "table.csv", "table.json", "summary.json"} <= {p.name for p in tmp_path.iterdir()}
    figure = json.loads((tmp_path / "figures.json").read_text())["curves"]
    assert len(figure["data"]) == 15 and isinstance(figure["data"][0]["x"], list)


def test_moment_arm_signs_of_flexors_and_extensors():
    result = run_study("moment_arms", {"n_points": 21})
    arm = {(r["effector"], r["muscle"]): r for r in result.table}
    # dL/dq: a flexor shortens as its joint flexes (negative), an extensor lengthens (positive)
    assert arm["arm26", "pectoralis"]["shoulder_moment_arm_cm"] < 0 < arm["arm26", "deltoid"]["shoulder_moment_arm_cm"]
    assert arm["arm26", "brachioradialis"]["elbow_moment_arm_cm"] < 0 < arm["arm26", "tricepslat"]["elbow_moment_arm_cm"]
    for name in ("arm26", "arm210"):
        biceps, triceps = arm[name, "biceps"], arm[name, "tricepslong"]
        assert biceps["shoulder_moment_arm_cm"] < 0 and biceps["elbow_moment_arm_cm"] < 0, name
        assert triceps["shoulder_moment_arm_cm"] > 0 and triceps["elbow_moment_arm_cm"] > 0, name
        assert biceps["role"] == "shoulder flexor, elbow flexor"
    assert arm["arm26", "pectoralis"]["elbow_moment_arm_cm"] == 0.0  # a monoarticular muscle
    assert arm["arm210", "biceps"]["elbow_moment_arm_range_cm"] > 0.1  # path points: the arm varies with angle
    assert set(result.figures) == {"arm26", "arm210", "point_mass_24"}
    # the point mass: moment arms dL/dx, dL/dy and lengths as maps over its workspace (4 muscles x 3)
    maps = result.figures["point_mass_24"]["data"]
    assert len(maps) == 12 and all(t["type"] == "heatmap" for t in maps)
    assert len(maps[0]["z"]) == 21 and len(maps[0]["z"][0]) == 21
    pm = {r["muscle"]: r for r in result.table if r["effector"] == "point_mass_24"}
    assert pm["UpperRight"]["role"] == "pulls toward +x, +y" and pm["LowerLeft"]["role"] == "pulls toward -x, -y"
    assert pm["UpperRight"]["dLdx_centre"] == pytest.approx(-math.sqrt(0.5), abs=1e-5)  # a unit vector at 45 deg
    assert pm["UpperRight"]["dLdx_range"] > 0.1  # the moment arms vary over the workspace


# -- circular statistics ------------------------------------------------------------------------------


def test_rayleigh_tests_separate_uniform_unimodal_and_bimodal_angles():
    rng = np.random.default_rng(0)
    uniform = rng.uniform(-np.pi, np.pi, 120)
    bimodal = np.concatenate([rng.vonmises(np.pi / 4, 4.0, 60), rng.vonmises(np.pi / 4 + np.pi, 4.0, 60)])
    unimodal = rng.vonmises(1.0, 4.0, 120)
    assert rayleigh_test(uniform)["p"] > 0.05 and axial_rayleigh_test(uniform)["p"] > 0.05
    assert rayleigh_test(bimodal)["p"] > 0.05  # the two modes cancel in the plain test
    axial = axial_rayleigh_test(bimodal)
    assert axial["p"] < 1e-6 and axial["mean_angle"] == pytest.approx(np.pi / 4, abs=0.15)
    assert rayleigh_test(unimodal)["p"] < 1e-6
    stats = pmd_statistics(bimodal)
    assert stats["axial_p"] < 1e-6 and stats["axis_deg"] == pytest.approx(45, abs=9)


def test_rayleigh_p_value_matches_monte_carlo():
    rng = np.random.default_rng(1)
    n = 20
    sims = rng.uniform(-np.pi, np.pi, (20000, n))
    r_null = np.hypot(np.cos(sims).mean(1), np.sin(sims).mean(1))
    for r_obs in (0.2, 0.35, 0.5):
        angles = np.full(n, 0.0)
        spread = math.acos(r_obs)  # half the angles at +a, half at -a: R-bar = cos(a)
        angles[: n // 2], angles[n // 2 :] = spread, -spread
        p = rayleigh_test(angles)["p"]
        assert p == pytest.approx((r_null >= r_obs).mean(), abs=0.01)


# -- curl field: the signs, with a controller of known behaviour -----------------------------------------


class PDPointMass(nn.Module):
    """PD control of the point mass through its four corner muscles, with an internal model of a curl field.

    Force F = kp (goal - x) - kd v - k_model [vy, -vx]; the last term cancels a field of gain k_model.
    The velocity comes from the muscle velocities in the observation (a muscle pulling along d
    shortens at v.d). The excitation inverts the first-order activation dynamics (Thelen 2003, as in
    the muscle model) so that the activation reaches the wanted one within a step; the state (B, 1, 4)
    is the controller's prediction of the activation.
    """

    def __init__(self, eff: Effector, k_model: float = 0.0, kp: float = 40.0, kd: float = 15.0) -> None:
        super().__init__()
        self.k_model, self.kp, self.kd, self.dt = k_model, kp, kd, eff.dt
        self.tau_act, self.tau_deact = eff.muscles.tau_act, eff.muscles.tau_deact

    def initial_state(self, batch_size: int, like: Tensor | None = None) -> Tensor:
        return torch.zeros(batch_size, 1, 4, dtype=like.dtype if like is not None else torch.float32)

    def activity(self, state: Tensor) -> Tensor:
        return state[:, -1]

    def draw_noise(self, batch_size: int, like: Tensor, generator=None) -> None:
        return None  # noiseless (the Policy interface the ClosedLoop steps with)

    def forward(self, obs: Tensor, state: Tensor, generator=None, noise: bool = True, eps=None) -> tuple[Tensor, Tensor]:
        goal, pos, muscle_vel = obs[:, :2], obs[:, 2:4], obs[:, 8:12]  # muscles: UR, UL, LR, LL
        along_ur, along_ul = -muscle_vel[:, 0], -muscle_vel[:, 1]
        vel = torch.stack([along_ur - along_ul, along_ur + along_ul], -1) / math.sqrt(2)
        force = self.kp * (goal - pos) - self.kd * vel - self.k_model * torch.stack([vel[:, 1], -vel[:, 0]], -1)
        p = (force[:, 0] + force[:, 1]) / math.sqrt(2)  # along UpperRight (1, 1) / sqrt 2
        q = (force[:, 1] - force[:, 0]) / math.sqrt(2)  # along UpperLeft (-1, 1) / sqrt 2
        want = torch.stack([p.clamp_min(0), q.clamp_min(0), (-q).clamp_min(0), (-p).clamp_min(0)], -1) / 500.0
        a = state[:, 0]
        scale = 0.5 + 1.5 * a
        tau = torch.where(want > a, self.tau_act * scale, self.tau_deact / scale)
        u = (a + tau * (want - a) / self.dt).clamp(0, 1)
        tau = torch.where(u > a, self.tau_act * scale, self.tau_deact / scale)
        a_next = (a + self.dt * (u - a) / tau).clamp(0, 1)
        return u, a_next[:, None]


@pytest.mark.parametrize("direction", ["cw", "ccw"])
def test_curl_field_deviation_has_the_fields_sign_and_after_effects_the_opposite(direction):
    eff = Effector(presets.point_mass_24())
    gain = 10.0
    base = {"kind": "centre_out", "n_targets": 8, "radius": 0.1, "centre_joint": [0.0, 0.0], "duration": 0.8}
    null_task = parse_task(base)
    field_task = parse_task({**base, "perturbations": [{"kind": "curl_field", "gain": gain, "direction": direction}]})
    k = gain if direction == "cw" else -gain
    sign = -1 if direction == "cw" else 1
    networks = []
    for kp, kd in [(40.0, 15.0), (50.0, 17.0), (35.0, 13.0)]:  # three "networks" of slightly different gains
        naive, adapted = PDPointMass(eff, kp=kp, kd=kd), PDPointMass(eff, k_model=k, kp=kp, kd=kd)
        evals = curl_conditions(eff, naive, adapted, null_task, field_task)
        metrics = {c: reach_metrics(e) for c, e in evals.items()}
        assert np.all(np.abs(metrics["baseline"]["outward"]) < 2e-3)  # straight reaches without the field
        assert np.all(sign * metrics["field"]["outward"] > 3e-3)  # every target: the field's side
        assert np.all(-sign * metrics["after_effect"]["outward"] > 3e-3)  # every target: the other side
        networks.append(metrics)
    summary = curl_summary(networks, direction)
    assert summary["field_sign_ok"] and summary["after_effect_sign_ok"]
    assert summary["adaptation_fraction_outward"]["mean"] > 0.5  # the internal model cancels most of the field
    claims = {c["claim"].split(" (")[0]: c for c in summary["claims"] if "outward" in c["claim"]}
    side = "right" if direction == "cw" else "left"
    for text in (f"the field pushes the hand to the {side}", "training in the field reduces the deviation"):
        c = claims[text]
        assert c["n"] == 3 and c["holds"] and c["replicates"] and c["p"] < 0.05 and c["low"] <= c["mean"] <= c["high"]
    assert summary["field_effect_outward_cm"]["mean"] * sign > 0.3


def test_curl_field_study_runs_streams_progress_and_writes_files(tmp_path):
    sink = ListSink()
    params = {**TINY, "effector": "point_mass_24", "adapt_iterations": 2, "adapt_every": 1, "n_targets": 4}
    result = run_study("centre_out_curl_field", params, sink=sink, out_dir=tmp_path)
    steps = [s for s, _ in sink.metrics]
    assert steps == list(range(1, 6))  # 3 baseline + 2 adaptation iterations, one increasing counter
    assert {s.get("phase") for _, s in sink.snapshots} == {"baseline", "adaptation"}
    assert len(result.table) == 2 * 4 and {r["seed"] for r in result.table} == {0, 1}  # 2 seeds x 4 targets
    curve = result.summary["adaptation_curve_cm"]
    assert [c["step"] for c in curve] == [0, 1, 2] and all(c["n"] == 2 and len(c["per_seed"]) == 2 for c in curve)
    assert set(result.figures) == {"paths", "conditions", "adaptation", "per_target"}
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["study"] == "centre_out_curl_field" and summary["params"]["iterations"] == 3
    lateral = summary["summary"]["lateral_outward_cm"]
    assert set(lateral) == {"baseline", "field", "adapted", "after_effect"}
    assert all(v["n"] == 2 and v["low"] <= v["mean"] <= v["high"] for v in lateral.values())
    assert len(summary["summary"]["endpoint_error_cm_per_seed"]["baseline"]) == 2  # every network's final error


def test_should_stop_cancels_a_training_study():
    sink = ListSink()
    result = run_study("centre_out_curl_field", {**TINY, "iterations": 50}, sink=sink, should_stop=lambda: len(sink.metrics) >= 2)
    # polled after each iteration, before its metrics are reported (a stopped iteration is checkpointed
    # first): true after the third, which is kept and reported, and nothing more trains
    assert result.cancelled and len(sink.metrics) == 3 and result.figures == {}


# -- posture and preferred directions --------------------------------------------------------------------


def test_posture_displacement_grows_with_the_load_and_follows_its_direction():
    params = {**TINY, "iterations": 2, "duration": 0.4, "test_onsets": [0.1], "test_magnitudes": [1.0, 4.0], "load_duration": 0.2}
    result = run_study("posture_perturbations", params)
    peaks = result.summary["peak_displacement_cm"]
    assert peaks["4 N @ 0.1 s"]["mean"] > 2 * peaks["1 N @ 0.1 s"]["mean"] > 0
    assert peaks["4 N @ 0.1 s"]["n"] == 2
    assert result.summary["displacement_along_load_deg"]["mean"] < 60
    assert len(result.table) == 2 * 2 * 8 and "d_biceps" in result.table[0]  # seeds x magnitudes x directions
    assert all(0.1 <= r["peak_time_s"] < 0.3 for r in result.table)  # only while the load is on
    assert set(result.figures) == {"paths", "displacement", "muscles", "time_courses", "units"}
    assert result.figures["time_courses"]["data"][0]["x"][-1] == pytest.approx(0.4)  # tested on the trained task
    tests = {c["test"] for c in result.summary["claims"]}
    assert {"Rayleigh per seed, Fisher-combined", "axial Rayleigh per seed, Fisher-combined"} <= tests


def test_pmd_study_pipeline_reports_axial_rayleigh_per_effector():
    params = {**TINY, "hidden_size": 16, "test_directions": 8, "window": [0.0, 0.2], "min_r2": 0.0, "checkpoints": [0.5]}
    result = run_study("pmd_point_mass_vs_arm", params)
    for name in ("point_mass_24", "arm26"):
        s = result.summary[name]
        assert s["tuned_units"]["mean"] == 16 and s["axial_r"]["n"] == 2
        assert len(s["axial_p_per_seed"]) == 2 and 0.0 <= s["axial_p_fisher"] <= 1.0
        assert s["axial_r_growth"]["early_step"] == 2 and s["axial_r_growth"]["n"] == 2
        assert len(s["endpoint_error_cm_per_seed"]) == 2
    diff = result.summary["arm_minus_point_mass_axial_r"]
    assert diff["n"] == diff["n_reference"] == 2 and 0.0 < diff["p_perm"] <= 1.0
    assert isinstance(result.summary["bimodal_arm_not_point_mass"], bool)
    hist = result.figures["pmd_histograms"]["data"]
    assert [sum(t["r"]) for t in hist] == [32, 32]  # 2 seeds x 16 units pooled
    assert [r["effector"] for r in result.table] == ["point_mass_24"] * 2 + ["arm26"] * 2
    assert "axial_r_step_2" in result.table[0]
    claims = result.summary["claims"]
    assert any(c["test"].startswith("permutation test across seeds") for c in claims)


@pytest.mark.parametrize("name", ["centre_out_curl_field", "posture_perturbations", "pmd_point_mass_vs_arm"])
def test_quick_mode_runs_two_seeds_and_reports_claims_with_intervals(name):
    info = STUDIES[name]
    assert info.params().seeds >= 8  # the default is a result; the quick mode is a pipeline check
    params = quick_params(name, {"iterations": 2, "batch_size": 4, "hidden_size": 8})
    if name == "centre_out_curl_field":
        params.update(adapt_iterations=2, adapt_every=1, n_targets=4, effector="point_mass_24")
    if name == "pmd_point_mass_vs_arm":
        params.update(test_directions=8, checkpoints=[0.5])
    result = run_study(name, params)
    assert result.params["seeds"] == 2
    claims = result.summary["claims"]
    assert claims and all(c["n"] == 2 for c in claims)
    for c in claims:
        assert set(c) >= {"claim", "measure", "mean", "low", "high", "n", "test", "p", "holds", "expected", "replicates"}
        if c["low"] is not None and math.isfinite(c["low"]):
            assert c["low"] <= c["mean"] + 1e-9 and c["mean"] <= c["high"] + 1e-9


def test_cli_lists_runs_and_rejects_bad_params(tmp_path, capsys):
    assert cli_main(["--list"]) == 0
    listing = capsys.readouterr().out
    assert "pmd_point_mass_vs_arm" in listing and '--quick: {"seeds": 2' in listing
    assert cli_main(["moment_arms", "--out", str(tmp_path), "--set", "n_points=2", "--quiet"]) == 2
    assert "n_points" in capsys.readouterr().err
    assert cli_main(["moment_arms", "--out", str(tmp_path), "--set", "n_points=11", "--quiet"]) == 0
    assert json.loads(capsys.readouterr().out)["study"] == "moment_arms"
    page = (tmp_path / "figures.html").read_text()
    assert "plotly" in page and "arm210" in page
