"""Schemathesis's own ``st run --checks all`` against a live ``motornet-studio serve`` (issue 18).

Every check Schemathesis has, over its examples, coverage, fuzzing and stateful phases, with one
substitution (``benchmarks/st_hooks.py``: ST202 without the rules between fields that no JSON
Schema can state). Bounded to a minute here; ``benchmarks/api_fuzz.py --st --seconds 300`` is the
long run.
"""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import api_fuzz
import st_hooks

pytestmark = pytest.mark.slow


def test_st_run_with_every_check_finds_no_failure():
    rc, output = api_fuzz.st_live(seconds=60)
    summary = output[output.find("SUMMARY") :] if "SUMMARY" in output else output[-4000:]
    assert rc == 0, output[-12000:]
    assert "Stateful" in summary and "Test cases" in summary, summary


@pytest.mark.parametrize(
    ("status", "body", "rules"),
    [
        (422, {"detail": [{"loc": "spec.freq_max", "msg": "must be >= freq_min", "type": "rule"}]}, True),
        (422, {"detail": [{"loc": "a", "type": "rule"}, {"loc": "b", "type": "greater_than"}]}, False),
        (422, {"detail": [{"loc": "a", "msg": "no type"}]}, False),
        (422, {"detail": []}, False),
        (400, {"detail": [{"type": "rule"}]}, False),
        (422, "not json", False),
    ],
)
def test_only_rules_excuses_only_422s_made_of_rules(status, body, rules):
    assert st_hooks.only_rules(status, body) is rules


def test_a_path_parameter_filled_from_a_null_is_not_schema_valid():
    class Param:
        name = "experiment_id"

        @staticmethod
        def is_valid(value):
            return isinstance(value, int) and not isinstance(value, bool) and value >= 1

    case = SimpleNamespace(operation=SimpleNamespace(path_parameters=[Param()]), path_parameters={"experiment_id": "None"})
    assert not st_hooks.path_parameters_valid(case)
    case.path_parameters = {"experiment_id": "12"}
    assert st_hooks.path_parameters_valid(case)
