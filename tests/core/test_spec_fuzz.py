"""Property-based fuzzing of effector, task and run specs.

Each example takes a valid preset (as JSON data), applies a few random mutations at random paths
(wrong types, out-of-range numbers, NaN/inf, missing or extra fields, wrong list lengths, bad
``kind`` tags) and then builds it. The core must either build it (and take a step) or raise
:class:`SpecError` whose errors name a field; any other exception is a bug.
"""

from __future__ import annotations

import copy
import math
import warnings
from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from motornet_core import RunSpec, SpecError, build_effector, presets
from motornet_core.envs.base import MotorEnv
from motornet_core.run_presets import RUN_PRESETS, TASK_PRESETS, run_preset, task_preset
from motornet_core.specs import parse_task

FUZZ = settings(max_examples=500, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)

EFFECTORS = {name: presets.effector_preset(name).model_dump(mode="json") for name in sorted(presets.EFFECTOR_PRESETS)}
TASKS = {name: task_preset(name).model_dump(mode="json") for name in sorted(TASK_PRESETS)}
RUNS = {name: run_preset(name).model_dump(mode="json") for name in sorted(RUN_PRESETS)}

BAD_SCALARS = st.sampled_from(
    [
        None,
        True,
        0,
        -1,
        -1e-9,
        1e12,
        -1e12,
        1e160,  # finite, but its square overflows a float (a two-link arm's L1**2 did)
        1e300,
        -1e300,
        2**63,
        float("nan"),
        float("inf"),
        float("-inf"),
        "",
        "abc",
        "1.0",
        [],
        [1.0],
        {},
        {"kind": "nope"},
    ]
)
BAD_VALUES = BAD_SCALARS.map(copy.deepcopy)  # fresh lists and dicts: a shared one could end up inside itself
BAD_TAGS = st.sampled_from(["nope", "", "RELU", "point_mass ", 3, None, "relu", "thelen", "two_link", "path", "centre_out"])


def _paths(data: Any, prefix: tuple = ()) -> list[tuple]:
    """Every path to a value inside nested dicts and lists (the root excluded)."""
    out = []
    if isinstance(data, dict):
        items = data.items()
    elif isinstance(data, list):
        items = enumerate(data)
    else:
        return out
    for key, value in items:
        out.append((*prefix, key))
        out.extend(_paths(value, (*prefix, key)))
    return out


def _parent(data: Any, path: tuple) -> Any:
    for key in path[:-1]:
        data = data[key]
    return data


@st.composite
def mutated(draw: st.DrawFn, pool: dict[str, dict]) -> dict:
    """A preset's data with one to three random mutations."""
    data = copy.deepcopy(pool[draw(st.sampled_from(sorted(pool)))])
    for _ in range(draw(st.integers(1, 3))):
        paths = _paths(data)
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent, key = _parent(data, path), path[-1]
        value = parent[key]
        op = draw(st.sampled_from(["replace", "scale", "delete", "extra", "resize", "tag"]))
        if op == "replace":
            parent[key] = draw(BAD_VALUES)
        elif op == "scale" and isinstance(value, (int, float)) and not isinstance(value, bool):
            parent[key] = value * draw(st.sampled_from([-1.0, 0.0, 1e-6, 10.0, 1e6])) + draw(st.sampled_from([0.0, 0.5, -2.0]))
        elif op == "delete":
            del parent[key]
        elif op == "extra" and isinstance(value, dict):
            value[draw(st.sampled_from(["unknown_field", "kind_", "__class__"]))] = draw(BAD_VALUES)
        elif op == "resize" and isinstance(value, list):
            if value and draw(st.booleans()):
                parent[key] = value[: draw(st.integers(0, len(value) - 1))]
            else:
                parent[key] = value + [copy.deepcopy(value[-1] if value else 0.0) for _ in range(draw(st.integers(1, 3)))]
        elif op == "tag" and isinstance(value, dict) and "kind" in value:
            value["kind"] = draw(BAD_TAGS)
        else:
            parent[key] = draw(BAD_VALUES)
    return data


def _names_a_field(exc: SpecError) -> None:
    assert exc.errors, exc
    for err in exc.errors:
        assert isinstance(err.get("loc"), str) and isinstance(err.get("msg"), str) and err["msg"], err
    assert any(err["loc"] for err in exc.errors), f"no field named: {exc.errors}"


def _step_env(effector: Any, task: Any) -> None:
    env = MotorEnv(effector, task, deterministic=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        obs, _ = env.reset(seed=0)
        assert obs.shape == (env.obs_size,)
        env.step(np.full(env.action_space.shape, 0.5, dtype=np.float32))


@FUZZ
@given(mutated(EFFECTORS))
def test_mutated_effector_builds_or_names_the_field(data: dict) -> None:
    try:
        eff = build_effector(data)
    except SpecError as exc:
        _names_a_field(exc)
        return
    state = eff.reset(batch_size=1)
    eff.step(state, torch.full((1, eff.n_muscles), 0.5, dtype=eff.dtype))


@FUZZ
@given(mutated(TASKS))
def test_mutated_task_builds_or_names_the_field(data: dict) -> None:
    try:
        task = parse_task(data)
        if float(getattr(task, "duration", 1.0)) > 5.0:  # a valid but long episode: building is enough
            return
        _step_env(presets.point_mass_24(), task)
    except SpecError as exc:
        _names_a_field(exc)


@FUZZ
@given(mutated(RUNS))
def test_mutated_run_builds_or_names_the_field(data: dict) -> None:
    try:
        spec = RunSpec.parse(data)
    except SpecError as exc:
        _names_a_field(exc)
        return
    try:
        if spec.task.duration <= 5.0 and spec.effector.dt >= 1e-3:
            _step_env(spec.effector, spec.task)
    except SpecError as exc:
        _names_a_field(exc)


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("skeleton", "L1"), 1e160),
        (("skeleton", "L2g"), 1e300),
        (("skeleton", "m1"), 1e160),
        (("skeleton", "I2"), 1e300),
        (("muscles", 0, "fl_width"), 1e160),
        (("muscles", 0, "normalized_slack_length"), 1e300),
        (("muscles", 0, "normalized_slack_length"), 1.66),  # 1 + fl_width: the passive stiffness would divide by 0
    ],
)
def test_huge_values_are_named_not_overflowed(path: tuple, value: float) -> None:
    data = copy.deepcopy(EFFECTORS["arm26"])
    _parent(data, path)[path[-1]] = value
    with pytest.raises(SpecError) as info:
        build_effector(data)
    assert [e["loc"] for e in info.value.errors] == [".".join(map(str, path))]


def test_huge_arm_lengths_build_or_are_named() -> None:
    """The audit's case: arm26 with L1 = L2 = 1e160 validated, then overflowed computing L1**2."""
    data = copy.deepcopy(EFFECTORS["arm26"])
    data["skeleton"].update(L1=1e160, L2=1e160)
    with pytest.raises(SpecError) as info:
        build_effector(data)
    assert {e["loc"] for e in info.value.errors} == {"skeleton.L1", "skeleton.L2"}


def test_thelen_exponential_shape_is_bounded() -> None:
    data = copy.deepcopy(EFFECTORS["arm26"])
    for m in data["muscles"]:
        for key in ("normalized_slack_length", "s_as", "fl_width", "q_crit", "a_rel", "b_rel", "min_fl"):
            m.pop(key, None)
        m.update(kind="thelen", k_pe=1e160)
    with pytest.raises(SpecError) as info:
        build_effector(data)
    assert {e["loc"] for e in info.value.errors} == {f"muscles.{i}.k_pe" for i in range(len(data["muscles"]))}


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -math.inf])
def test_non_finite_numbers_are_named(value: float) -> None:
    data = copy.deepcopy(EFFECTORS["arm26"])
    data["dt"] = value
    with pytest.raises(SpecError) as info:
        build_effector(data)
    assert info.value.errors[0]["loc"] == "dt"
