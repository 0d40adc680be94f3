"""A run row's ``kind`` and ``spec`` columns as typed specs: a training RunSpec or a study with parameters."""

from __future__ import annotations

import pytest
from pydantic import TypeAdapter

from backend.app.models import Run
from backend.app.run_specs import AnyRunSpec, StudyRunSpec, TrainingRunSpec, spec_of, study_name
from backend.app.status import RunKind
from motornet_core import SpecError
from motornet_core.run_presets import run_preset


def test_each_kind_round_trips_through_its_columns():
    training = TrainingRunSpec(spec=run_preset("tiny_point_mass"))
    study = StudyRunSpec(study="tuning", params={"seed": 3})
    for typed in (training, study):
        columns = typed.columns()
        assert spec_of(Run(name="r", **columns)) == typed
    assert training.columns()["spec"] == run_preset("tiny_point_mass").model_dump(mode="json")  # the stored JSON as before
    assert study.columns() == {"kind": RunKind.STUDY, "spec": {"study": "tuning", "params": {"seed": 3}}}


def test_the_union_is_discriminated_on_kind():
    adapter: TypeAdapter[TrainingRunSpec | StudyRunSpec] = TypeAdapter(AnyRunSpec)
    assert isinstance(adapter.validate_python({"kind": "study", "study": "tuning"}), StudyRunSpec)
    spec = run_preset("tiny_point_mass").model_dump(mode="json")
    assert isinstance(adapter.validate_python({"kind": "training", "spec": spec}), TrainingRunSpec)
    schema = adapter.json_schema()
    assert schema["discriminator"]["propertyName"] == "kind"


def test_served_fields_and_artifacts_follow_the_type(tmp_path):
    training = TrainingRunSpec(spec=run_preset("tiny_point_mass"))
    study = StudyRunSpec(study="tuning", params={"seed": 3})
    assert training.served() == {"spec": training.spec, "params": None}
    assert study.served() == {"spec": None, "params": {"seed": 3}}
    assert training.artifact_dir(tmp_path) is None and study.artifact_dir(tmp_path) == tmp_path / "study"


def test_a_broken_stored_spec_is_a_spec_error_and_has_no_study_name():
    broken = Run(name="old", kind=RunKind.TRAINING, spec={})
    with pytest.raises(SpecError, match="effector"):
        spec_of(broken)
    assert study_name(broken) is None
    with pytest.raises(SpecError):
        spec_of(Run(name="s", kind=RunKind.STUDY, spec={"params": {}}))  # no study name
    assert study_name(Run(name="s", kind=RunKind.STUDY, spec={"study": "tuning", "params": {}})) == "tuning"
