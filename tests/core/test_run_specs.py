"""Run, task, policy, loss and train specs: presets, JSON round trips, schemas and named errors."""

from __future__ import annotations

import json

import pytest

from motornet_core import RunSpec, SpecError, presets
from motornet_core.presets_cli import list_presets, main
from motornet_core.run_presets import RUN_PRESETS, TASK_PRESETS, run_preset, task_preset
from motornet_core.specs import parse_task


def _run(**overrides) -> dict:
    data = {"effector": presets.point_mass_24().model_dump(mode="json"), "task": {"kind": "random_reach"}}
    data.update(overrides)
    return data


@pytest.mark.parametrize("name", sorted(RUN_PRESETS))
def test_run_presets_round_trip(name: str) -> None:
    spec = run_preset(name)
    again = RunSpec.parse(spec.to_json())
    assert again == spec
    assert RunSpec.parse(json.loads(spec.to_json())) == spec


@pytest.mark.parametrize("name", sorted(TASK_PRESETS))
def test_task_presets_parse(name: str) -> None:
    task = task_preset(name)
    assert parse_task(task.model_dump(mode="json")) == task


def test_tutorial_preset_matches_motornet_tutorial() -> None:
    spec = run_preset("tutorial_point_mass")
    assert spec.effector.name == "point_mass_24" and spec.effector.dt == 0.01
    assert spec.task.kind == "random_reach" and spec.task.duration == 1.0
    assert spec.task.vision_delay == 0 and spec.task.action_noise == 0
    assert (spec.policy.kind, spec.policy.hidden_size, spec.policy.readout_bias) == ("gru", 32, -5.0)
    assert (spec.train.batch_size, spec.train.lr, spec.train.grad_clip) == (32, 1e-3, 1.0)
    assert spec.loss.position == 1.0 and spec.loss.position_norm == "l1"


def test_schema_has_descriptions_for_forms() -> None:
    schema = RunSpec.model_json_schema()
    assert {"effector", "task", "policy", "loss", "train"} <= set(schema["properties"])
    defs = schema["$defs"]
    assert "mapping" in json.dumps(schema["properties"]["task"]) or "discriminator" in json.dumps(schema["properties"]["task"])
    assert defs["TrainSpec"]["properties"]["batch_size"]["maximum"] == 4096
    assert defs["TrainSpec"]["properties"]["n_iterations"]["maximum"] == 1_000_000
    assert defs["CentreOutSpec"]["properties"]["radius"]["description"]
    assert "curl_field" in json.dumps(defs)


@pytest.mark.parametrize(
    ("path", "value", "loc"),
    [
        ("train", {"batch_size": 5000}, "train.batch_size"),
        ("train", {"n_iterations": 0}, "train.n_iterations"),
        ("train", {"device": "tpu"}, "train.device"),
        ("policy", {"kind": "transformer"}, "policy.kind"),
        ("loss", {"position": -1}, "loss.position"),
        ("task", {"kind": "random_reach", "proprioception_delay": 0.005}, "task.proprioception_delay"),
        ("task", {"kind": "random_reach", "duration": float("nan")}, "task.duration"),
        ("task", {"kind": "centre_out", "radius": 0}, "task.radius"),
        ("task", {"kind": "centre_out", "delay_min": 0.5, "delay_max": 0.2}, "task.delay_max"),
        ("task", {"kind": "centre_out", "catch_probability": 0.2}, "task.catch_probability"),
        ("task", {"kind": "centre_out", "centre_joint": [0.1]}, "task.centre_joint"),
        (
            "task",
            {"kind": "random_reach", "perturbations": [{"kind": "curl_field", "start": 0.5, "end": 0.2}]},
            "task.perturbations.0.end",
        ),
        (
            "task",
            {"kind": "random_reach", "perturbations": [{"kind": "joint_load", "torque": [1.0]}]},
            "task.perturbations.0.torque",
        ),
        ("task", {"kind": "random_reach", "perturbations": [{"kind": "curl_field", "gain": -2}]}, "task.perturbations.0.gain"),
        ("task", {"kind": "random_reach", "colour": "red"}, "task.colour"),
    ],
)
def test_spec_errors_name_the_field(path: str, value: object, loc: str) -> None:
    with pytest.raises(SpecError) as err:
        RunSpec.parse(_run(**{path: value}))
    locs = [e["loc"] for e in err.value.errors]
    assert loc in locs, locs


def test_unknown_task_kind_is_reported_at_task_kind() -> None:
    with pytest.raises(SpecError) as err:
        RunSpec.parse(_run(task={"kind": "juggling"}))
    assert err.value.errors[0]["loc"].startswith("task")
    assert "juggling" in str(err.value)


def test_with_updates_applies_dotted_paths() -> None:
    spec = run_preset("tutorial_point_mass")
    new = spec.with_updates({"train.lr": 0.01, "policy.kind": "lstm", "task.perturbations": [{"kind": "curl_field"}]})
    assert new.train.lr == 0.01 and new.policy.kind == "lstm" and new.task.perturbations[0].gain == 10.0
    assert spec.train.lr == 1e-3
    with pytest.raises(SpecError):
        spec.with_updates({"train.batch_size": -1})


def test_unknown_presets_raise_spec_errors() -> None:
    with pytest.raises(SpecError, match="unknown run preset"):
        run_preset("nope")
    with pytest.raises(SpecError, match="unknown task preset"):
        task_preset("nope")


def test_presets_command_lists_everything(capsys) -> None:
    assert main(["--json"]) == 0
    table = json.loads(capsys.readouterr().out)
    assert table == list_presets()
    assert "arm26" in table["effectors"] and "centre_out" in table["tasks"] and "tutorial_point_mass" in table["runs"]
    assert "moment_arms" in table["studies"]
    assert all(isinstance(v, str) and v for group in table.values() for v in group.values())
    assert main([]) == 0
    assert "tutorial_point_mass" in capsys.readouterr().out
