"""Typed records a run produces (evaluation snapshots, training results) and the one JSON encoder.

Every layer that ships these records (the trainer's sinks, the studio's worker pipe, its database
and its websockets, the command line's files) encodes them with :func:`dumps` / :func:`jsonable`:
plain JSON values, numpy and torch values as lists, NaN and infinities as ``null``.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any


def jsonable(x: Any) -> Any:
    """Plain JSON values of ``x``: records and dataclasses to dicts, numpy/torch values to Python,
    NaN and infinities to None, anything else unknown to its ``str``."""
    if isinstance(x, bool) or x is None or isinstance(x, (int, str)):
        return x
    if isinstance(x, float):
        return x if math.isfinite(x) else None
    if hasattr(x, "to_dict"):
        return jsonable(x.to_dict())
    if dataclasses.is_dataclass(x) and not isinstance(x, type):
        return jsonable({f.name: getattr(x, f.name) for f in dataclasses.fields(x)})
    if isinstance(x, Mapping):
        return {str(k): jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [jsonable(v) for v in x]
    if hasattr(x, "tolist"):
        return jsonable(x.tolist())
    if hasattr(x, "model_dump"):  # a pydantic model
        return jsonable(x.model_dump(mode="json"))
    return str(x)


def _default(x: Any) -> Any:
    if hasattr(x, "to_dict"):
        return x.to_dict()
    return jsonable(x)


def dumps(x: Any, indent: int | None = None) -> str:
    """Strict JSON text of ``x`` (see :func:`jsonable`; compact unless ``indent`` is given)."""
    separators = (",", ":") if indent is None else None
    try:  # the fast path: no walk over large lists of finite floats
        return json.dumps(x, separators=separators, indent=indent, allow_nan=False, default=_default)
    except ValueError:  # a NaN or an infinity somewhere
        return json.dumps(jsonable(x), separators=separators, indent=indent, allow_nan=False)


@dataclass(frozen=True)
class Snapshot(Mapping[str, Any]):
    """A JSON-ready summary of one evaluation rollout (time downsampled to T' <= 100 points).

    Read as attributes, or as a read-only mapping of its JSON keys (``snap["hand"]``: analysis
    functions take a snapshot or the same dict read back from a database). ``B`` trials, ``P``
    drawn body points, ``M`` muscles, ``H'`` <= 64 hidden units.

    Attributes:
        step: training iteration it was taken at.
        dt: simulation time step [s].
        time: [T'] sample times [s].
        targets: [B][2] final targets [m].
        hand: [B][T'][2] fingertip positions [m].
        joints: [B][T'][P][2] body points for drawing (shoulder, elbow, ..., fingertip) [m].
        activation: [B][T'][M] muscle activations (0..1).
        muscle_names: [M].
        hidden: [B][T'][H'] policy hidden state (its first sample is the initial state, zeros).
        endpoint_error: [B] final distance to the final target [m].
        mean_endpoint_error: mean of ``endpoint_error`` [m].
        effector_kind: ``"point_mass"`` or ``"arm"``.
        go_time: [B] when each trial's go signal came [s] (0 without one).
        phase: the study phase that took it (None outside studies; then not in :meth:`to_dict`).
    """

    step: int
    dt: float
    time: list[float]
    targets: list[list[float]]
    hand: list[Any]
    joints: list[Any]
    activation: list[Any]
    muscle_names: list[str]
    hidden: list[Any]
    endpoint_error: list[float]
    mean_endpoint_error: float
    effector_kind: str
    go_time: list[float]
    phase: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON object (``phase`` only when set); the lists are shared, not copied."""
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        if self.phase is None:
            del out["phase"]
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Snapshot:
        """The snapshot of a JSON object made by :meth:`to_dict` (unknown keys are ignored)."""
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})

    def __getitem__(self, key: str) -> Any:
        if key == "phase" and self.phase is None:
            raise KeyError(key)
        try:
            return getattr(self, key)
        except AttributeError:
            raise KeyError(key) from None

    def __iter__(self) -> Iterator[str]:
        return iter(self.to_dict())

    def __len__(self) -> int:
        return len(self.to_dict())


@dataclass(frozen=True)
class TrainResult:
    """What :meth:`~motornet_core.training.Trainer.train` returns.

    Attributes:
        step: the iteration training stopped at.
        loss: the last iteration's loss (NaN when none ran and there is no history).
        seconds: wall-clock duration [s].
        iterations: iterations run by this call.
        stopped: True when ``should_stop()`` ended it early.
    """

    step: int
    loss: float
    seconds: float
    iterations: int
    stopped: bool

    def to_dict(self) -> dict[str, Any]:
        """The JSON object (a non-finite loss becomes None)."""
        return jsonable(dataclasses.asdict(self))
