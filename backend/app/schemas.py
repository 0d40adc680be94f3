"""API request and response types. Specs are the core's own pydantic classes, never redefined here."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal, Union

from fastapi import Path
from pydantic import AfterValidator, BaseModel, ConfigDict, Discriminator, Field, Tag, field_validator, model_validator

from backend.app.core.errors import json_safe
from backend.app.status import RunKind, RunStatus
from motornet_core import EffectorSpec
from motornet_core.experiments import ExperimentSpec
from motornet_core.specs import PerturbationSpec, RunSpec, TaskSpec
from motornet_core.specs.areas import InterventionSpec
from motornet_core.specs.base import reject_lax_scalars

SpecKind = Literal["effector", "task", "run", "policy", "loss", "train", "dynamics"]

MAX_ID = 2**63 - 1
"""The largest row id: ids are SQLite INTEGERs (signed 64 bits), so no larger number names a row."""
Id = Annotated[int, Field(ge=1, le=MAX_ID, description="a row id, 1..2^63-1")]
"""A run or saved-spec id in a request body (422 outside 1..2^63-1)."""
PathId = Annotated[int, Path(ge=1, le=MAX_ID, description="a row id, 1..2^63-1")]
"""A run or saved-spec id in a URL path (422 outside 1..2^63-1; a websocket closes with 1008)."""


def _aware(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


Timestamp = Annotated[datetime, AfterValidator(_aware)]
"""A moment in UTC (the database keeps naive UTC times; answers carry the offset, RFC 3339)."""


class ApiModel(BaseModel):
    """Base of the API types: unknown request fields are rejected."""

    model_config = ConfigDict(extra="forbid")


class ApiIn(ApiModel):
    """Base of the request bodies: also NaN and infinities are rejected, and scalars of a JSON kind a
    field does not take, e.g. true for a number (422 naming the field)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    @model_validator(mode="before")
    @classmethod
    def _strict_json_kinds(cls, data: Any) -> Any:
        reject_lax_scalars(cls, data)
        return data


# -- meta ------------------------------------------------------------------------------------------------------
class HealthOut(ApiModel):
    status: Literal["ok"] = "ok"
    version: str
    max_workers: int
    active_runs: int
    queued_runs: int
    ws_dropped_messages: int = Field(
        description="run messages dropped for websocket viewers too slow to read them, since the server started"
    )


class PresetsOut(ApiModel):
    effectors: dict[str, EffectorSpec]
    tasks: dict[str, TaskSpec]
    runs: dict[str, RunSpec]
    studies: dict[str, Any] = Field(default_factory=dict)


class ErrorItem(ApiModel):
    loc: str = Field(description="dotted path into the submitted spec, e.g. muscles.2.optimal_length")
    msg: str
    input: Any = Field(None, description="the offending value as sent (NaN and infinities as strings)")
    type: str = Field("rule", description="the constraint broken: pydantic's error type, or rule (see ValidationError)")

    @field_validator("input", mode="before")
    @classmethod
    def _json_safe(cls, value: Any) -> Any:
        return json_safe(value)


class ValidateOut(ApiModel):
    valid: bool
    errors: list[ErrorItem] = Field(default_factory=list)
    spec: dict[str, Any] | None = Field(None, description="the normalised spec (defaults filled in) when valid")


# -- saved specs -------------------------------------------------------------------------------------------------
class EffectorIn(ApiIn):
    name: str = Field(min_length=1, max_length=128)
    spec: EffectorSpec


class EffectorOut(EffectorIn):
    id: int
    created_at: Timestamp
    updated_at: Timestamp


class TaskIn(ApiIn):
    name: str = Field(min_length=1, max_length=128)
    spec: TaskSpec


class TaskOut(TaskIn):
    id: int
    created_at: Timestamp
    updated_at: Timestamp


# -- simulation ----------------------------------------------------------------------------------------------------
Unit = Annotated[float, Field(ge=0, le=1)]


def _depth(value: Any) -> int:
    """Nesting depth of lists: the deepest element counts (``[[], [1.0]]`` is 2, as is ``[[]]``)."""
    if not isinstance(value, list):
        return 0
    return 1 + max((_depth(v) for v in value), default=0)


def by_depth(levels: int) -> Discriminator:
    """Tells ``shallow | deep`` apart, nested lists with ``deep`` ``levels`` deep, by the input's own
    nesting: a bad value gets the errors of the one shape it has (not also those of the other)."""
    return Discriminator(lambda value: "deep" if _depth(value) >= levels else "shallow")


# one trajectory [T][M] or a batch [T][B][M] of excitations
Excitations = Annotated[
    Union[Annotated[list[list[Unit]], Tag("shallow")], Annotated[list[list[list[Unit]]], Tag("deep")]], by_depth(3)
]
# one vector [n] or one per row [B][n] (or per step [T][n])
VectorOrRows = Annotated[Union[Annotated[list[float], Tag("shallow")], Annotated[list[list[float]], Tag("deep")]], by_depth(2)]


class SimulateIn(ApiIn):
    """Open loop (``effector`` + ``excitations``) or closed loop under a saved run's policy (``run_id`` + ``targets``)."""

    effector: EffectorSpec | None = None
    excitations: Excitations | None = Field(None, description="[T][M] (one trajectory) or [T][B][M], each in [0, 1]")
    position: VectorOrRows | None = Field(
        None, description="initial joint position [n] or [B][n]; default: the middle of the joint bounds"
    )
    velocity: VectorOrRows | None = Field(None, description="initial joint velocity [n] or [B][n]")
    endpoint_load: VectorOrRows | None = Field(None, description="fingertip force [N]: [2] constant or [T][2]")
    joint_load: VectorOrRows | None = Field(None, description="joint torques [N m]: [n] constant or [T][n]")
    run_id: Id | None = None
    targets: list[list[float]] | None = Field(None, description="closed loop: fingertip targets [[x, y], ...] [m]")

    @model_validator(mode="after")
    def _one_mode(self) -> SimulateIn:
        open_loop = self.effector is not None or self.excitations is not None
        closed = self.run_id is not None
        if open_loop == closed:
            raise ValueError("give either effector + excitations (open loop) or run_id + targets (a run's policy)")
        if open_loop and (self.effector is None or self.excitations is None):
            raise ValueError("open loop needs both effector and excitations")
        if closed and not self.targets:
            raise ValueError("a run's policy needs targets [[x, y], ...]")
        return self


class Trajectory(ApiModel):
    """Open-loop result; every array is batch first: ``position[b][t][j]`` with t = 0..T (T + 1 states)."""

    mode: Literal["open_loop"] = "open_loop"
    dt: float
    time: list[float]
    muscle_names: list[str]
    position: list[list[list[float]]]
    velocity: list[list[list[float]]]
    fingertip: list[list[list[float]]] = Field(description="[B][T+1][2] fingertip x, y [m]")
    joints: list[list[list[list[float]]]] = Field(description="[B][T+1][J][2] joint and fingertip xy [m] for drawing")
    activation: list[list[list[float]]]
    force: list[list[list[float]]]
    muscle_length: list[list[list[float]]]


class PolicyTrajectory(ApiModel):
    """Closed-loop result: the core's evaluation snapshot (hand, joints, activation, hidden, targets, time)."""

    mode: Literal["policy"] = "policy"
    run_id: int
    snapshot: dict[str, Any]


class InterventionIn(ApiIn):
    """Interventions to evaluate a run's latest checkpoint with (and without), on its evaluation batch."""

    interventions: list[InterventionSpec] = Field(..., min_length=1, max_length=16)
    targets: list[list[float]] | None = Field(None, max_length=64, description="fingertip targets [[x, y], ...] [m]")


class InterventionOut(ApiModel):
    """The same evaluation intact and with the interventions (see ``motornet_core.training.intervene``)."""

    run_id: int
    step: int
    intact: dict[str, Any] = Field(description="evaluation snapshot without any intervention")
    intervened: dict[str, Any] = Field(description="evaluation snapshot with the interventions")
    groups: list[dict[str, Any]] = Field(description="unit ranges [{name, start, stop}] of the areas (or the network)")
    activity: dict[str, Any] = Field(description="population RMS activity per group over time, both conditions")
    summary: dict[str, Any] = Field(description="endpoint error [m], mean RMS activity per group, mean excitation per muscle")
    interventions: list[dict[str, Any]]


class GeometryIn(ApiIn):
    effector: EffectorSpec
    grid: int = Field(41, ge=3, description="angles per joint sweep")
    posture: list[float] | None = Field(
        None, description="[n] where the joints not swept sit (clamped to the bounds); default mid-range"
    )


class JointSweep(ApiModel):
    joint: int
    angles: list[float] = Field(description="[G] joint positions swept over the bounds (others at the posture)")
    length: list[list[float]] = Field(description="[G][M] musculotendon lengths [m]")
    moment_arm: list[list[float]] = Field(description="[G][M] moment arms about this joint [m]")


class Posture(ApiModel):
    position: list[float]
    joints: list[list[float]] = Field(description="[J][2] joint and fingertip xy [m]")
    fingertip: list[float]
    paths: list[list[list[float]]] | None = Field(None, description="[M][P][2] muscle path points in world xy (path geometry)")


class MuscleRest(ApiModel):
    """Each muscle at rest (minimal activation) at the reference posture; absent for relu muscles."""

    fibre_length: list[float] = Field(description="[M] fibre length / optimal fibre length")
    tendon_strain: list[float] = Field(description="[M] (L_t - l0_se) / l0_se (rigid tendons: 0, or < 0 when slack)")
    rest_force: list[float] = Field(description="[M] force at minimal activation [F_max]")


class MuscleWarning(ApiModel):
    """An implausible value: a muscle sized for another path (see motornet_core.analysis.physiology)."""

    muscle: int
    name: str
    quantity: Literal["fibre_length", "tendon_strain", "rest_force"]
    value: float
    message: str


class GeometryOut(ApiModel):
    muscle_names: list[str]
    dof: int
    sweeps: list[JointSweep]
    reference: Posture
    rest: MuscleRest | None = None
    warnings: list[MuscleWarning] = Field(
        default_factory=list, description="implausible muscle values at the reference posture and over the sweeps"
    )


# -- runs -----------------------------------------------------------------------------------------------------------------
class RunCreate(ApiIn):
    """A full spec, or a preset name plus dotted overrides such as ``{"train.n_iterations": 20}``."""

    spec: RunSpec | None = None
    preset: str | None = None
    overrides: dict[str, Any] = Field(default_factory=dict)
    name: str | None = Field(None, min_length=1, max_length=128)
    tags: list[str] | None = Field(None, max_length=32)
    parent_id: int | None = Field(None, ge=1, le=2**63 - 1, description="the run this one reruns with changes")

    @model_validator(mode="after")
    def _one_source(self) -> RunCreate:
        if (self.spec is None) == (self.preset is None):
            raise ValueError("give exactly one of spec or preset")
        return self


class RunSummary(ApiModel):
    id: int
    name: str
    kind: RunKind = RunKind.TRAINING
    study: str | None = Field(None, description="the study's name (kind study)")
    tags: list[str]
    status: RunStatus
    progress: float = Field(ge=0, le=1)
    step: int
    n_iterations: int
    seed: int | None
    device: str | None
    node: str | None = Field(None, description="where the worker ran: 'local (<host>)' or 'ray <node ip> (<node id>)'")
    preset: str | None
    created_at: Timestamp
    started_at: Timestamp | None
    finished_at: Timestamp | None
    duration: float | None = Field(description="seconds from start to finish (or to now while running)")
    error: str | None
    last_metrics: dict[str, float]
    last_eval_error: float | None = Field(None, description="mean endpoint error [m] of the latest evaluation snapshot")
    checkpoint_step: int | None
    queued_at: Timestamp | None = Field(None, description="while queued: when it entered the queue (created, resumed, requeued)")
    queue_position: int | None = Field(
        None, ge=1, description="while queued: 1 = the next job of its lane to start (queued work starts first in, first out)"
    )
    queue_lane: Literal["quick", "training"] = Field(
        "training", description="quick: studies that train nothing, started in slots kept free of training"
    )
    worker_pid: int | None
    notes: str | None = None
    experiment_id: int | None = Field(None, description="the experiment this run is a network of")
    parent_id: int | None = Field(None, description="the run this one was rerun from (with changes)")
    condition_index: int | None = None
    replicate_index: int | None = Field(None, description="seed = the experiment's base seed + replicate_index")


class RunOut(RunSummary):
    spec: RunSpec | None = Field(description="the RunSpec (null for a study run)")
    params: dict[str, Any] | None = Field(None, description="a study run's validated parameters")
    result: dict[str, Any] | None


# -- studies -----------------------------------------------------------------------------------------------------------
class StudyOut(ApiModel):
    """A study of the core's catalogue."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    name: str
    title: str
    description: str
    expected_seconds: float = Field(description="rough duration with the defaults on a 2-core CPU")
    trains: bool = Field(description="True when the study trains networks (minutes)")
    defaults: dict[str, Any]
    quick: dict[str, Any] = Field(
        default_factory=dict,
        description="parameter overrides of the quick mode (2 seeds, few iterations: a pipeline check, not a result)",
    )
    schema_: dict[str, Any] = Field(alias="schema", description="JSON schema of the parameters")


class StudyRunCreate(ApiIn):
    """Overrides of the study's parameters (the rest keep their defaults), optional run name and tags."""

    params: dict[str, Any] = Field(default_factory=dict)
    name: str | None = Field(None, min_length=1, max_length=128)
    tags: list[str] | None = Field(None, max_length=32)


class StudyResultOut(ApiModel):
    """What a finished study run produced (read from its artifact files)."""

    run_id: int
    study: str
    params: dict[str, Any]
    seconds: float
    figures: dict[str, Any] = Field(description="plotly figures {key: {data, layout}}")
    table: list[dict[str, Any]] = Field(description="rows of numbers, the same keys in every row")
    summary: dict[str, Any] = Field(description="headline numbers")


class MetricSeries(ApiModel):
    step: list[int]
    value: list[float]
    time: list[float]
    total: int = Field(description="points stored before downsampling")


class MetricsOut(ApiModel):
    run_id: int
    series: dict[str, MetricSeries]


class SnapshotInfo(ApiModel):
    index: int
    step: int
    created_at: Timestamp


class SnapshotOut(SnapshotInfo):
    data: dict[str, Any]


class LogOut(ApiModel):
    level: str
    message: str
    time: float


# -- websockets ---------------------------------------------------------------------------------------------------------
class SimInit(ApiIn):
    """Start a playground on an effector spec (open loop) or on a saved run's policy."""

    type: Literal["init"]
    effector: EffectorSpec | None = None
    run_id: Id | None = None
    position: list[float] | None = Field(None, description="open loop: start posture; default mid-range")
    perturbations: list[PerturbationSpec] = Field(
        default_factory=list, max_length=16, description="external loads applied at every step (as in a perturb message)"
    )

    @model_validator(mode="after")
    def _one(self) -> SimInit:
        if (self.effector is None) == (self.run_id is None):
            raise ValueError("give exactly one of effector or run_id")
        return self


class SimExcitation(ApiIn):
    """Hold these excitations [M] in [0, 1] for ``steps`` time steps."""

    type: Literal["excitation"]
    values: list[float]
    steps: int = 1


class SimTarget(ApiIn):
    """Move the policy's target to ``xy`` [m] and advance ``steps`` time steps."""

    type: Literal["target"]
    xy: list[float]
    steps: int = 1


class SimPerturb(ApiIn):
    """Apply these external loads at every step from now on (the core's perturbation specs; [] removes them).

    A curl field ``{"kind": "curl_field", "gain": 10}`` or a constant endpoint load
    ``{"kind": "endpoint_load", "magnitude": 5, "angle": 90}``, ...; ``start``, ``end`` and
    ``probability`` keep their defaults (the playground applies loads at every step).
    """

    type: Literal["perturb"]
    perturbations: list[PerturbationSpec] = Field(max_length=16)


class SimReset(ApiIn):
    """Back to the start posture."""

    type: Literal["reset"]
    position: list[float] | None = None


SimMessage = Annotated[SimInit | SimExcitation | SimTarget | SimPerturb | SimReset, Field(discriminator="type")]


# -- experiments ----------------------------------------------------------------------------------------------------
class RunPatch(ApiIn):
    """Edit a run's free-text notes and its tags (fields left out stay as they are)."""

    notes: str | None = Field(None, max_length=10_000)
    tags: list[Annotated[str, Field(max_length=128)]] | None = Field(None, max_length=32)


class ExperimentCreate(ApiIn):
    """A full ExperimentSpec (``spec``), or a run preset with dotted overrides plus the sweep.

    With ``preset``: ``overrides`` set fields of the base run, ``grid`` / ``random`` / ``seeds`` /
    ``notes`` / ``name`` are the ExperimentSpec's fields of those names.
    """

    spec: ExperimentSpec | None = None
    preset: str | None = None
    overrides: dict[str, Any] = Field(default_factory=dict)
    name: str | None = Field(None, min_length=1, max_length=128)
    grid: dict[str, list[Any]] | None = None
    random: dict[str, Any] | None = None
    search: dict[str, Any] | None = None
    seeds: int | None = None
    notes: str | None = Field(None, max_length=10_000)

    @model_validator(mode="after")
    def _one_source(self) -> ExperimentCreate:
        if (self.spec is None) == (self.preset is None):
            raise ValueError("give exactly one of spec or preset")
        if self.spec is not None:
            extra = [k for k in ("grid", "random", "search", "seeds", "notes", "name") if getattr(self, k) is not None]
            if extra or self.overrides:
                raise ValueError(f"with spec, give {extra or ['overrides']} inside the spec")
        return self


class ExperimentPatch(ApiIn):
    """Rename an experiment or edit its notes (fields left out stay as they are)."""

    notes: str | None = Field(None, max_length=10_000)
    name: str | None = Field(None, min_length=1, max_length=128)


class ConditionOut(ApiModel):
    index: int
    label: str = Field(description="path=value, ... ('base' when nothing is swept)")
    values: dict[str, Any] = Field(description="dotted path -> value set on the base run")
    status: RunStatus = Field(description="derived from its runs")
    run_ids: list[int] = Field(description="one run per seed, in replicate order (seed = base seed + i)")
    step: int = Field(description="iterations its networks have done")


class ExperimentOut(ApiModel):
    id: int
    name: str
    status: RunStatus = Field(description="derived from its runs")
    created_at: datetime
    updated_at: datetime
    notes: str
    spec: ExperimentSpec
    seeds: int
    n_conditions: int
    n_networks: int
    progress: float = Field(ge=0, le=1, description="iterations done / total, over every network")
    conditions: list[ConditionOut]


class ExperimentEstimate(ApiModel):
    n_conditions: int
    seeds: int
    n_networks: int
    iterations: int = Field(description="ensemble iterations: conditions x train.n_iterations (seeds step together)")
    estimated_seconds: float = Field(description="wall-clock seconds with this server's workers (a rough model)")
