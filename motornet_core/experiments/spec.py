"""Experiment specs: a base run, swept fields (a grid and/or a random sweep, or an Optuna search) and seeds.

An experiment is conditions x seeds. Each condition is the base :class:`RunSpec` with some dotted-path
fields set (``{"task.perturbations.0.gain": 5.0}``) and ``train.replicates = seeds``: its seeds are
trained together as one replicate ensemble (:class:`~motornet_core.training.EnsembleTrainer`), seed
i of a condition being an ordinary run with ``train.seed = base seed + i``.

Example::

    spec = ExperimentSpec.parse({
        "name": "curl gain",
        "base": run_preset("tutorial_point_mass").model_dump(mode="json"),
        "grid": {"task.perturbations": [[], [{"kind": "curl_field", "gain": 5.0}]]},
        "seeds": 8,
    })
    [c.label for c in conditions(spec)]
"""

from __future__ import annotations

import itertools
import math
import random
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from motornet_core.errors import SpecError
from motornet_core.specs.base import SpecModel, fail, set_path
from motornet_core.specs.run import RunSpec

MAX_CONDITIONS = 256
MAX_NETWORKS = 1024


class UniformParam(SpecModel):
    """A real value drawn uniformly from [low, high] (``log``: uniformly in log space, low > 0)."""

    kind: Literal["uniform"] = "uniform"
    low: float
    high: float
    log: bool = Field(False, description="draw log-uniformly (both bounds > 0)")

    @model_validator(mode="after")
    def _bounds(self) -> UniformParam:
        if not (math.isfinite(self.low) and math.isfinite(self.high)) or self.high < self.low:
            raise fail("high", f"must be finite and >= low ({self.low})", self.high)
        if self.log and self.low <= 0:
            raise fail("low", "must be > 0 for a log-uniform parameter", self.low)
        return self


class IntParam(SpecModel):
    """An integer drawn uniformly from low..high (inclusive)."""

    kind: Literal["int"] = "int"
    low: int
    high: int

    @model_validator(mode="after")
    def _bounds(self) -> IntParam:
        if self.high < self.low:
            raise fail("high", f"must be >= low ({self.low})", self.high)
        return self


class ChoiceParam(SpecModel):
    """One of the listed values."""

    kind: Literal["choice"] = "choice"
    values: list[Any] = Field(min_length=1, max_length=64)


Param = Annotated[UniformParam | IntParam | ChoiceParam, Field(discriminator="kind")]


class RandomSweep(SpecModel):
    """``n`` conditions with each parameter drawn independently (reproducibly from ``seed``)."""

    n: int = Field(8, ge=1, le=MAX_CONDITIONS, description="conditions to draw")
    seed: int = Field(0, ge=0, le=2**31 - 1, description="seed of the draws")
    params: dict[str, Param] = Field(min_length=1, description="dotted spec path -> distribution")


class SearchSpec(SpecModel):
    """An adaptive search with Optuna (TPE sampler, median pruning on ``metric``).

    Trials are run one after another; each is a condition trained with the experiment's seeds, and
    its objective is the mean over seeds of ``metric`` (a metric key such as ``loss``, or
    ``mean_endpoint_error`` from the evaluation snapshots) at the end of training.
    """

    n_trials: int = Field(8, ge=1, le=MAX_CONDITIONS, description="trials (conditions) to run")
    metric: str = Field("loss", min_length=1, max_length=64, description="metric to optimise")
    direction: Literal["minimize", "maximize"] = "minimize"
    params: dict[str, Param] = Field(min_length=1, description="dotted spec path -> search space")
    pruning: bool = Field(True, description="stop trials whose intermediate value is worse than the median")
    seed: int = Field(0, ge=0, le=2**31 - 1, description="seed of the TPE sampler")


class ExperimentSpec(SpecModel):
    """An experiment: a base run, the conditions to compare, and seeds per condition."""

    name: str = Field("experiment", min_length=1, max_length=128)
    base: RunSpec
    grid: dict[str, list[Any]] = Field(
        default_factory=dict, description="dotted spec path -> values; conditions are the product of the lists"
    )
    random: RandomSweep | None = Field(None, description="random conditions (combined with the grid as a product)")
    search: SearchSpec | None = Field(None, description="an adaptive Optuna search instead of a grid or random sweep")
    seeds: int = Field(4, ge=1, le=64, description="replicate networks per condition (base seed + 0 .. seeds - 1)")
    notes: str = Field("", max_length=10_000)

    @model_validator(mode="after")
    def _conditions_valid(self) -> ExperimentSpec:
        if self.search is not None and (self.grid or self.random is not None):
            raise fail("search", "an adaptive search replaces grid and random sweeps: use one or the other", None)
        for path, values in self.grid.items():
            if not values:
                raise fail(f"grid.{path}", "needs at least one value", values)
        n = 1 if self.search is not None else len(grid_points(self))
        if n > MAX_CONDITIONS:
            raise fail("grid", f"gives {n} conditions, more than {MAX_CONDITIONS}", None)
        if n * self.seeds > MAX_NETWORKS:
            raise fail("seeds", f"{n} conditions x {self.seeds} seeds is more than {MAX_NETWORKS} networks", self.seeds)
        if self.base.train.replicates != 1:
            raise fail("base.train.replicates", "is set by the experiment's seeds: leave it at 1", self.base.train.replicates)
        if self.base.train.seed + self.seeds - 1 > 2**31 - 1:
            raise fail("base.train.seed", "plus seeds - 1 must stay a valid seed", self.base.train.seed)
        try:  # every condition must validate (errors name <part>.<path> and the value)
            if self.search is None:
                _points_to_conditions(self, grid_points(self))
            else:
                condition_of(self, 0, {path: _example(p) for path, p in self.search.params.items()})
        except SpecError as exc:
            first = exc.errors[0]
            raise fail(str(first["loc"]), str(first["msg"]), first.get("input")) from None
        return self


@dataclass(frozen=True)
class Condition:
    """One condition of an experiment.

    Attributes:
        index: 0-based position in the experiment.
        values: dotted path -> value set on the base spec.
        spec: the condition's run spec (``train.replicates`` = the experiment's seeds).
    """

    index: int
    values: dict[str, Any]
    spec: RunSpec

    @property
    def label(self) -> str:
        """``path=value, ...`` (the base spec's name when nothing is swept)."""
        return ", ".join(f"{_short(k)}={_fmt(v)}" for k, v in self.values.items()) or "base"


def grid_points(spec: ExperimentSpec) -> list[dict[str, Any]]:
    """The swept values of every condition: the grid's product, times the random sweep's draws."""
    keys = list(spec.grid)
    grid = [dict(zip(keys, combo, strict=True)) for combo in itertools.product(*(spec.grid[k] for k in keys))]
    if spec.random is None:
        return grid
    rng = random.Random(spec.random.seed)
    draws = [{path: _sample(p, rng) for path, p in spec.random.params.items()} for _ in range(spec.random.n)]
    return [{**g, **d} for g in grid for d in draws]


def conditions(spec: ExperimentSpec) -> list[Condition]:
    """Every condition of a grid / random experiment (a search's are made trial by trial: :func:`condition_of`)."""
    if spec.search is not None:
        raise SpecError([{"loc": "search", "msg": "a search's conditions come from its trials", "input": None}])
    return _points_to_conditions(spec, grid_points(spec))


def condition_of(spec: ExperimentSpec, index: int, values: dict[str, Any]) -> Condition:
    """The condition that sets ``values`` on the base spec.

    Raises:
        SpecError: a path that the run spec lacks or a value it refuses, located where the experiment
            spec names the path (``grid.<path>``, ``random.params.<path>`` or ``search.params.<path>``).
    """
    for path, value in values.items():
        _check_path(spec, f"{_part(spec, path)}.{path}", path, value)
    try:
        run = spec.base.with_updates({**values, "train.replicates": spec.seeds})
    except SpecError as exc:
        errors = []
        for e in exc.errors:
            path = str(e["loc"])
            swept = next((k for k in values if path == k or path.startswith(f"{k}.")), None)
            errors.append({**e, "loc": f"{_part(spec, swept)}.{path}" if swept else f"base.{path}"})
        raise SpecError(errors) from None
    label = ", ".join(f"{_short(k)}={_fmt(v)}" for k, v in values.items())
    name = f"{spec.name} [{label}]" if values else spec.base.name
    return Condition(index, dict(values), run.with_updates({"name": name[:128]}))


def _part(spec: ExperimentSpec, path: str) -> str:
    """Where the experiment spec names a swept ``path``."""
    if path in spec.grid:
        return "grid"
    return "search.params" if spec.search is not None else "random.params"


def _points_to_conditions(spec: ExperimentSpec, points: list[dict[str, Any]]) -> list[Condition]:
    return [condition_of(spec, i, p) for i, p in enumerate(points)]


def _check_path(spec: ExperimentSpec, loc: str, path: str, value: Any) -> None:
    """Raise SpecError at ``loc`` unless ``path`` names a field of the run spec (and is not the replicates)."""
    if path in ("train.replicates", "train.seed"):
        raise SpecError([{"loc": loc, "msg": "seeds are the experiment's own axis: set 'seeds' instead", "input": value}])
    try:
        set_path(spec.base.model_dump(mode="json"), path, value)
    except SpecError as exc:
        raise SpecError([{**e, "loc": loc} for e in exc.errors]) from None


def _sample(p: Param, rng: random.Random) -> Any:
    if isinstance(p, UniformParam):
        if p.log:
            return math.exp(rng.uniform(math.log(p.low), math.log(p.high)))
        return rng.uniform(p.low, p.high)
    if isinstance(p, IntParam):
        return rng.randint(p.low, p.high)
    return rng.choice(p.values)


def _example(p: Param) -> Any:
    return p.low if isinstance(p, (UniformParam, IntParam)) else p.values[0]


def _short(path: str) -> str:
    parts = path.split(".")
    return ".".join(parts[-2:]) if len(parts) > 2 else path


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, list) and not v:
        return "none"
    if isinstance(v, (list, dict)):
        text = str(v)
        return text if len(text) <= 40 else text[:37] + "..."
    return str(v)
