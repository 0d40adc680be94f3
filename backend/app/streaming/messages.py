"""The typed messages of a run's websocket (``/ws/runs/{id}``), shared by the manager and the socket routes.

Every message is a frozen dataclass whose :meth:`LiveMessage.to_dict` is its JSON object
(``{"type": ..., "run_id": ..., "seq": ..., <fields>}``), encoded by
:func:`motornet_core.training.dumps`, the one encoder of the project.

``seq`` numbers the run's *stream* messages (metric, snapshot, log) 1, 2, 3, ... without holes;
the manager stamps it when it publishes (:class:`backend.app.workers.publisher.Publisher`). A
status message is state, not stream: it carries the ``seq`` of the stream message before it (a
socket may leave out a repeated status). A viewer that sees a stream message whose ``seq`` is not
its last ``seq`` + 1 has missed messages and catches up (docs/server.md, "Catching up").
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, ClassVar

from backend.app.models import Run
from backend.app.status import RunStatus


@dataclass(frozen=True, kw_only=True)
class LiveMessage:
    """What every run message has: the run and its sequence number (None until published)."""

    type: ClassVar[str] = ""
    stream: ClassVar[bool] = True  # counted by ``seq`` (False: a status, which repeats the last seq)
    run_id: int
    seq: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON object sent to viewers (``type`` first)."""
        return {"type": self.type, **{f.name: getattr(self, f.name) for f in fields(self)}}


@dataclass(frozen=True, kw_only=True)
class MetricMessage(LiveMessage):
    """Scalar metrics of one step (``loss``, ``loss/<term>``, ``lr``, ``grad_norm``; finite values only)."""

    type: ClassVar[str] = "metric"
    step: int
    values: dict[str, float]


@dataclass(frozen=True, kw_only=True)
class SnapshotMessage(LiveMessage):
    """An evaluation snapshot (``Snapshot.to_dict()``) taken at ``step``."""

    type: ClassVar[str] = "snapshot"
    step: int
    data: dict[str, Any]


@dataclass(frozen=True, kw_only=True)
class LogMessage(LiveMessage):
    """A worker's log line (``time``: unix seconds)."""

    type: ClassVar[str] = "log"
    level: str
    message: str
    time: float


@dataclass(frozen=True, kw_only=True)
class StatusMessage(LiveMessage):
    """The run's status, progress (0..1), error, device and worker pid."""

    type: ClassVar[str] = "status"
    stream: ClassVar[bool] = False
    status: str
    step: int | None = None
    progress: float | None = None
    error: str | None = None
    device: str | None = None
    node: str | None = None
    worker_pid: int | None = None


@dataclass(frozen=True, kw_only=True)
class DeletedMessage(LiveMessage):
    """The last message viewers of a deleted run get before their socket closes (code 4410)."""

    type: ClassVar[str] = "status"
    stream: ClassVar[bool] = False
    status: str = "deleted"


def progress_of(run: Run) -> float:
    """Fraction of the iterations done, 0..1 (1 once finished)."""
    if run.status == RunStatus.FINISHED:
        return 1.0
    if not run.n_iterations:
        return 0.0
    return max(0.0, min(1.0, run.step / run.n_iterations))


def status_message(run: Run, worker_pid: int | None = None) -> StatusMessage:
    """The status message of a run row."""
    return StatusMessage(
        run_id=run.id,
        status=run.status,
        step=run.step,
        progress=progress_of(run),
        error=run.error,
        device=run.device,
        node=run.node,
        worker_pid=worker_pid,
    )


def deleted_message(run_id: int) -> DeletedMessage:
    """The last message viewers of a deleted run get before their socket closes (code 4410)."""
    return DeletedMessage(run_id=run_id)
