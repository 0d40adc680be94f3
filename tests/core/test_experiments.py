"""Experiments: specs whose errors name the path, statistics with known answers, the command line end to end."""

from __future__ import annotations

import json

import numpy as np
import pytest

from motornet_core.errors import SpecError
from motornet_core.experiments import ExperimentSpec, compare, conditions, curve, grid_points, summarise
from motornet_core.experiments.aggregate import bootstrap_interval
from motornet_core.run_presets import run_preset


def _base(**train) -> dict:
    spec = run_preset("tiny_point_mass").with_updates(
        {"task.duration": 0.1, "train.batch_size": 4, "train.n_iterations": 4, "train.eval_every": 2}
        | {f"train.{k}": v for k, v in train.items()}
    )
    return spec.model_dump(mode="json")


def _errors(data: dict) -> list[dict]:
    with pytest.raises(SpecError) as err:
        ExperimentSpec.parse(data)
    return err.value.errors


def test_conditions_are_the_grid_product_with_seeds_as_replicates() -> None:
    spec = ExperimentSpec.parse(
        {
            "name": "lr x noise",
            "base": _base(),
            "grid": {"train.lr": [1e-3, 3e-3], "task.action_noise": [0.0, 0.01, 0.1]},
            "seeds": 3,
        }
    )
    conds = conditions(spec)
    assert len(conds) == 6 and [c.index for c in conds] == list(range(6))
    assert conds[4].values == {"train.lr": 3e-3, "task.action_noise": 0.01}
    assert conds[4].spec.train.lr == 3e-3 and conds[4].spec.task.action_noise == 0.01
    assert all(c.spec.train.replicates == 3 for c in conds)
    assert conds[4].label == "train.lr=0.003, task.action_noise=0.01"


def test_random_sweeps_are_reproducible_and_combine_with_the_grid() -> None:
    data = {
        "base": _base(),
        "grid": {"policy.hidden_size": [8, 16]},
        "random": {"n": 3, "seed": 7, "params": {"train.lr": {"kind": "uniform", "low": 1e-4, "high": 1e-2, "log": True}}},
    }
    a, b = grid_points(ExperimentSpec.parse(data)), grid_points(ExperimentSpec.parse(data))
    assert a == b and len(a) == 6
    assert all(1e-4 <= p["train.lr"] <= 1e-2 for p in a)
    assert a[0]["train.lr"] == a[3]["train.lr"]  # the same draws under each grid point


@pytest.mark.parametrize(
    ("extra", "loc"),
    [
        ({"grid": {"train.lrr": [1]}}, "grid.train.lrr"),
        ({"grid": {"train.lr": [1e-3, -1.0]}}, "grid.train.lr"),
        ({"grid": {"task.perturbations.0.gain": [5.0]}}, "grid.task.perturbations.0.gain"),
        ({"grid": {"train.seed": [1, 2]}}, "grid.train.seed"),
        ({"grid": {"train.lr": []}}, "grid.train.lr"),
        ({"seeds": 0}, "seeds"),
        ({"seeds": 64, "grid": {"train.lr": [1e-3] * 17}}, "seeds"),
        (
            {"random": {"n": 2, "params": {"train.batch_size": {"kind": "int", "low": 5, "high": 2}}}},
            "random.params.train.batch_size.high",
        ),
        (
            {"search": {"params": {"train.lr": {"kind": "uniform", "low": 1e-4, "high": 1e-2}}}, "grid": {"train.lr": [1e-3]}},
            "search",
        ),
    ],
)
def test_invalid_experiments_name_the_path(extra: dict, loc: str) -> None:
    errors = _errors({"base": _base(), **extra})
    assert errors[0]["loc"] == loc, errors


def test_summaries_of_known_values() -> None:
    s = summarise([1.0, 2.0, 3.0, 4.0, float("nan")])
    assert s.n == 4 and s.mean == 2.5 and s.sd == pytest.approx(np.std([1, 2, 3, 4], ddof=1))
    assert 1.0 <= s.low < 2.5 < s.high <= 4.0
    one = summarise([3.0])
    assert one.n == 1 and one.mean == 3.0 and np.isnan(one.low) and np.isnan(one.sd)
    same = summarise([2.0, 2.0, 2.0])
    assert (same.low, same.high, same.sd) == (2.0, 2.0, 0.0)


def test_bootstrap_intervals_cover_the_true_mean_about_95_percent_of_the_time() -> None:
    """300 synthetic experiments of 12 seeds from N(1, 0.5^2): the interval's coverage is near 0.95."""
    rng = np.random.default_rng(0)
    data = rng.normal(1.0, 0.5, size=(12, 300))
    low, high = bootstrap_interval(data)
    coverage = float(np.mean((low <= 1.0) & (high >= 1.0)))
    assert 0.88 <= coverage <= 0.99, coverage


def test_comparisons_find_a_real_difference_and_not_a_null_one() -> None:
    rng = np.random.default_rng(1)
    ref = rng.normal(0.0, 1.0, 16)
    shifted = compare(rng.normal(2.0, 1.0, 16), ref)
    assert shifted.p < 1e-3 and shifted.low < 2.0 < shifted.high and shifted.low > 0
    null = compare(rng.normal(0.0, 1.0, 16), ref)
    assert null.p > 0.05 and null.low < 0 < null.high
    assert np.isnan(compare([1.0], ref).p)


def test_curves_aggregate_the_steps_every_seed_has() -> None:
    c = curve([([1, 2, 3, 4], [4.0, 3.0, 2.0, 1.0]), ([1, 2, 3], [6.0, 5.0, 4.0])])
    assert c["step"] == [1, 2, 3] and c["mean"] == [5.0, 4.0, 3.0] and c["n"] == [2, 2, 2]
    long = curve([(list(range(1, 1001)), [1.0] * 1000)] * 3, max_points=50)
    assert len(long["step"]) == 50 and long["step"][0] == 1 and long["step"][-1] == 1000


def test_the_command_line_trains_aggregates_and_resumes(tmp_path) -> None:
    from motornet_core.experiments.cli import main

    spec = {"name": "tiny", "base": _base(), "grid": {"train.lr": [1e-3, 1e-2]}, "seeds": 2}
    path = tmp_path / "exp.json"
    path.write_text(json.dumps(spec))
    out = tmp_path / "out"
    assert main([str(path), "--out", str(out), "--quiet"]) == 0
    agg = json.loads((out / "aggregates.json").read_text())
    assert [c["n"] for c in agg["conditions"]] == [2, 2]
    first = agg["conditions"][0]
    losses = [json.loads((out / "c000" / f"seed{s}" / "metrics.jsonl").read_text().splitlines()[-1])["loss"] for s in (0, 1)]
    assert first["final"]["loss"]["mean"] == pytest.approx(np.mean(losses))
    assert first["curves"]["loss"]["step"] == [1, 2, 3, 4]
    assert set(agg["conditions"][1]["vs_reference"]) >= {"loss", "mean_endpoint_error"}
    # every seed is an ordinary run folder: the seed's spec has its own seed and no replicates
    seed1 = json.loads((out / "c001" / "seed1" / "spec.json").read_text())
    assert seed1["train"]["seed"] == 1 and seed1["train"]["replicates"] == 1
    # running it again finds every condition finished and changes nothing
    before = (out / "c000" / "seed0" / "metrics.jsonl").read_text()
    assert main([str(path), "--out", str(out), "--quiet"]) == 0
    assert (out / "c000" / "seed0" / "metrics.jsonl").read_text() == before
    # another experiment into the same folder is refused
    path.write_text(json.dumps({**spec, "seeds": 3}))
    assert main([str(path), "--out", str(out), "--quiet"]) == 2


def test_an_optuna_search_runs_its_trials(tmp_path) -> None:
    pytest.importorskip("optuna")
    from motornet_core.experiments.cli import main

    spec = {
        "name": "search",
        "base": _base(n_iterations=4),
        "seeds": 2,
        "search": {"n_trials": 3, "params": {"train.lr": {"kind": "uniform", "low": 1e-4, "high": 1e-1, "log": True}}},
    }
    path = tmp_path / "exp.json"
    path.write_text(json.dumps(spec))
    assert main([str(path), "--out", str(tmp_path / "out"), "--quiet"]) == 0
    agg = json.loads((tmp_path / "out" / "aggregates.json").read_text())
    assert len(agg["conditions"]) == 3
    assert all(1e-4 <= c["values"]["train.lr"] <= 1e-1 for c in agg["conditions"])
