"""Multi-area policies and interventions: the specs of areas, their connections and unit/muscle schedules.

A multi-area policy (``policy.kind = "multi_area"``) is a set of named areas, each a GRU or a vanilla
RNN with its own size and time constant, wired by directed :class:`ConnectionSpec` entries (with a
delay and a density); every area lists the observation groups that reach it and whether it drives
the muscles. An :class:`InterventionSpec` silences, clamps, scales or drives units, a whole area or
muscles during a window of every trial (``RunSpec.interventions`` in training and evaluation, or an
evaluation-only list given to :func:`motornet_core.training.interventions.compare_interventions`).

Cross-field checks that need the effector (dt, the number of muscles) live in ``RunSpec._consistent``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from motornet_core.specs.base import SpecModel, fail

InputGroup = Literal["task", "vision", "proprioception", "actions"]
INPUT_GROUPS: tuple[str, ...] = ("task", "vision", "proprioception", "actions")
AREA_NAME = r"^[A-Za-z][A-Za-z0-9_]{0,31}$"


class AreaSpec(SpecModel):
    """One area of a multi-area policy."""

    name: str = Field(..., pattern=AREA_NAME, description="identifier (letters, digits, _; starts with a letter)")
    kind: Literal["gru", "rnn"] = Field("gru", description="gru: gated recurrent units; rnn: h' = f(W x + U h + b)")
    size: int = Field(16, ge=1, le=1024, description="units")
    activation: Literal["tanh", "relu"] = Field("tanh", description="rnn only: the nonlinearity f (relu: non-negative rates)")
    tau: float | None = Field(
        None,
        gt=0.0,
        le=10.0,
        description="time constant [s] (>= dt): h <- h + dt/tau (cell(x, h) - h); None: dt (no leak, the plain cell)",
    )
    inputs: list[InputGroup] = Field(
        default_factory=list, max_length=4, description="observation groups that reach the area directly"
    )
    to_muscles: bool = Field(False, description="the area's units drive the muscle read-out")
    density: float = Field(1.0, gt=0.0, le=1.0, description="fraction of the area's recurrent connections present")
    excitatory: float = Field(
        0.8, gt=0.0, le=1.0, description="Dale's law: fraction of excitatory units (the first ones); the rest inhibit"
    )

    @model_validator(mode="after")
    def _unique_inputs(self) -> AreaSpec:
        if len(set(self.inputs)) != len(self.inputs):
            raise fail("inputs", "lists an input group twice", self.inputs)
        return self


class ConnectionSpec(SpecModel):
    """A directed projection from one area to another."""

    source: str = Field(..., description="the sending area's name")
    target: str = Field(..., description="the receiving area's name")
    delay: float = Field(0.0, ge=0.0, le=1.0, description="extra delay [s] beyond one step (a whole multiple of dt)")
    density: float = Field(1.0, gt=0.0, le=1.0, description="fraction of the possible unit-to-unit connections present")


class InterventionSpec(SpecModel):
    """Silence, clamp, scale or drive units, an area or muscles during [start, end) of every trial.

    Units: applied to the new hidden activity after each policy step, before the read-out and before
    the next step reads it (silence: 0; clamp: ``value``; scale: x ``value``; drive: + ``value``).
    Muscles: applied to the excitation the policy sends (before motor noise), then clipped to [0, 1].
    """

    kind: Literal["silence", "clamp", "scale", "drive"] = Field("silence", description="what is done")
    target: Literal["area", "units", "muscles"] = Field("area", description="what it is done to")
    area: str | None = Field(
        None, description="the area (target area), or the area whose unit indices ``units`` lists (None: the network's)"
    )
    units: list[int] = Field(default_factory=list, max_length=4096, description="target units: unit indices (from 0)")
    muscles: list[int] = Field(default_factory=list, max_length=64, description="target muscles: muscle indices (from 0)")
    value: float = Field(0.0, ge=-100.0, le=100.0, description="clamp: the value; scale: the factor; drive: the added value")
    start: float = Field(0.0, ge=0.0, le=20.0, description="first time it acts [s] (policy steps with start <= t < end)")
    end: float | None = Field(None, ge=0.0, le=20.0, description="when it stops [s]; None: the end of the trial")

    @model_validator(mode="after")
    def _consistent(self) -> InterventionSpec:
        if self.end is not None and self.end <= self.start:
            raise fail("end", f"must be after start ({self.start} s)", self.end)
        if self.target == "area" and self.area is None:
            raise fail("area", "names the area an area intervention acts on", self.area)
        if self.target == "units" and not self.units:
            raise fail("units", "lists at least one unit", self.units)
        if self.target == "muscles" and not self.muscles:
            raise fail("muscles", "lists at least one muscle", self.muscles)
        for name in ("units", "muscles"):
            values = getattr(self, name)
            for i, v in enumerate(values):
                if v < 0:
                    raise fail(f"{name}.{i}", "must be >= 0", v)
            if len(set(values)) != len(values):
                raise fail(name, "lists an index twice", values)
        return self


def check_areas(areas: list[AreaSpec], connections: list[ConnectionSpec]) -> None:
    """Structural checks of a multi-area policy (paths relative to the policy).

    Raises:
        ValueError: from :func:`fail`, naming e.g. ``areas.1.name`` or ``connections.0.target``.
    """
    if not areas:
        raise fail("areas", "a multi_area policy needs at least one area", areas)
    names: dict[str, int] = {}
    for i, a in enumerate(areas):
        if a.name in names:
            raise fail(f"areas.{i}.name", f"is already the name of area {names[a.name]}", a.name)
        names[a.name] = i
    if not any(a.to_muscles for a in areas):
        raise fail("areas", "at least one area must drive the muscles (to_muscles)", [a.name for a in areas])
    if sum(a.size for a in areas) > 4096:
        raise fail("areas", "hold more than 4096 units in all", sum(a.size for a in areas))
    seen: dict[tuple[str, str], int] = {}
    for i, c in enumerate(connections):
        for end in ("source", "target"):
            if getattr(c, end) not in names:
                raise fail(f"connections.{i}.{end}", f"is not an area; areas are {sorted(names)}", getattr(c, end))
        if c.source == c.target:
            raise fail(f"connections.{i}.target", "is the source: an area's own recurrence is always there", c.target)
        key = (c.source, c.target)
        if key in seen:
            raise fail(f"connections.{i}", f"repeats connection {seen[key]} ({c.source} -> {c.target})", key)
        seen[key] = i
