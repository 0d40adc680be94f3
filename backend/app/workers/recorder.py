"""Persists what workers report and publishes it to the websocket hub (used by the manager thread only).

Snapshots, logs and checkpoint paths are written as they come; metric rows are buffered and
inserted in one batch per flush (``settings.metric_flush_interval``, and before every status change).
While the database is locked or unreachable, nothing is dropped: metric rows stay buffered and
other messages wait in order (``pending``) until a later flush succeeds. Non-finite metric values
are not stored (nor sent to viewers: ``NaN`` is not JSON).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import insert
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from backend.app.core.db import session_scope
from backend.app.models import LogEntry, Metric, Run, Snapshot, utcnow
from backend.app.status import WORKER_TERMINAL_STATUSES, RunKind, RunStatus
from backend.app.streaming.messages import LogMessage, MetricMessage, SnapshotMessage, status_message
from backend.app.workers.protocol import CheckpointMsg, LogMsg, MetricMsg, SnapshotMsg, StatusMsg, WorkerMessage
from backend.app.workers.publisher import Publisher
from motornet_core.training.records import jsonable

log = logging.getLogger(__name__)
MAX_PENDING = 100_000  # messages kept while the database is unavailable (then the oldest go)

INTERRUPTED = "the server stopped while this run was running; resume it from its last checkpoint"
INTERRUPTED_EARLY = (
    "the server stopped while this run was running, before its first iteration completed: "
    "there is no checkpoint to resume from (start it again)"
)
CANCELLED_EARLY = "cancelled before its first iteration completed: there is no checkpoint to resume from (start it again)"


def has_checkpoint(run: Run) -> bool:
    """The run's recorded checkpoint file exists (what a resume continues from)."""
    return bool(run.checkpoint_path) and Path(run.checkpoint_path or "").is_file()


def stop_reason(run: Run, status: RunStatus, error: str | None) -> str | None:
    """The reason a training run that stopped early shows: whether, and from where, it can resume.

    An interrupted run is told to resume only when its checkpoint exists; a cancelled one without a
    checkpoint says that there is nothing to resume. Other statuses, and study runs, keep ``error``.
    """
    if run.kind != RunKind.TRAINING:
        return error
    if status == RunStatus.INTERRUPTED:
        return INTERRUPTED if has_checkpoint(run) else INTERRUPTED_EARLY
    if status == RunStatus.CANCELLED and error is None and not has_checkpoint(run):
        return CANCELLED_EARLY
    return error


@dataclass
class Progress:
    """What the manager knows of one active run between flushes."""

    pid: int | None
    step: int = 0
    last_metrics: dict[str, float] = field(default_factory=dict)
    dirty: bool = False
    terminal: bool = False
    cancel_requested: bool = False


class Recorder:
    """The single writer of worker data."""

    def __init__(self, sessions: sessionmaker[Session], publisher: Publisher) -> None:
        self.sessions = sessions
        self.publisher = publisher
        self.rows: list[dict[str, Any]] = []
        self.pending: list[tuple[WorkerMessage, Progress, bool]] = []

    def record(self, msg: WorkerMessage, prog: Progress, progresses: dict[int, Progress], shutting_down: bool) -> None:
        """Store and publish one message of the run ``msg.run_id`` (kept for later if the database is busy)."""
        rid = msg.run_id
        if isinstance(msg, MetricMsg):
            t = msg.time
            values = {k: v for k, v in msg.values.items() if isinstance(v, (int, float)) and math.isfinite(v)}
            self.rows += [{"run_id": rid, "key": k, "step": msg.step, "value": v, "time": t} for k, v in values.items()]
            if msg.step >= prog.step:
                prog.last_metrics = {**prog.last_metrics, **values} if msg.step == prog.step else dict(values)
                prog.step = msg.step
            prog.dirty = True
            self.publisher.publish(MetricMessage(run_id=rid, step=msg.step, values=values))
            return
        if isinstance(msg, StatusMsg) and msg.status in WORKER_TERMINAL_STATUSES:
            prog.terminal = True  # the worker is done, whenever the database takes the news
        if self.pending:  # keep the order behind messages that still wait for the database
            self._keep(msg, prog, shutting_down)
            return
        try:
            self._store(msg, prog, progresses, shutting_down)
        except OperationalError as exc:
            log.warning("database unavailable, keeping a %s message of run %s for later: %s", type(msg).__name__, rid, exc.orig)
            self._keep(msg, prog, shutting_down)

    def _keep(self, msg: WorkerMessage, prog: Progress, shutting_down: bool) -> None:
        self.pending.append((msg, prog, shutting_down))
        del self.pending[:-MAX_PENDING]

    def _store(self, msg: WorkerMessage, prog: Progress, progresses: dict[int, Progress], shutting_down: bool) -> None:
        rid = msg.run_id
        if isinstance(msg, SnapshotMsg):
            data = jsonable(msg.data)  # the snapshot's JSON object, NaN as null
            with session_scope(self.sessions) as s:
                s.add(Snapshot(run_id=rid, step=msg.step, data=data))
                run = s.get(Run, rid)
                error = msg.data.mean_endpoint_error
                if run is not None and isinstance(error, (int, float)) and math.isfinite(error):
                    run.last_eval_error = float(error)
            self.publisher.publish(SnapshotMessage(run_id=rid, step=msg.step, data=data))
        elif isinstance(msg, CheckpointMsg):
            with session_scope(self.sessions) as s:
                run = s.get(Run, rid)
                if run is not None:
                    run.checkpoint_path, run.checkpoint_step = msg.path, msg.step
        elif isinstance(msg, LogMsg):
            with session_scope(self.sessions) as s:
                s.add(LogEntry(run_id=rid, level=msg.level, message=msg.message, time=msg.time))
            self.publisher.publish(LogMessage(run_id=rid, level=msg.level, message=msg.message, time=msg.time))
        elif isinstance(msg, StatusMsg):
            self._status(msg, prog, progresses, shutting_down)

    def _status(self, msg: StatusMsg, prog: Progress, progresses: dict[int, Progress], shutting_down: bool) -> None:
        terminal = msg.status in WORKER_TERMINAL_STATUSES
        if terminal:
            self._flush_metrics(progresses)  # the run's metrics first (raises while the database is busy)
            prog.terminal = True
        status, error = RunStatus(msg.status), msg.error
        if status == RunStatus.CANCELLED and shutting_down and not prog.cancel_requested:
            status, error = RunStatus.INTERRUPTED, INTERRUPTED  # stopped by the shutdown, not by a user
        with session_scope(self.sessions) as s:
            run = s.get(Run, msg.run_id)
            if run is None:
                return
            before = (run.status, run.device, run.node)
            run.status = status
            if msg.device:
                run.device = msg.device
            if msg.node:
                run.node = msg.node[:128]
            if msg.pid:  # a Ray worker's process id becomes known with its first report
                prog.pid = msg.pid
            if terminal:
                run.finished_at, run.error, run.result = utcnow(), stop_reason(run, status, error), msg.result
                if msg.step is not None:
                    run.step = max(run.step, msg.step)
            message = status_message(run, None if prog.terminal else prog.pid)
            changed = terminal or (run.status, run.device, run.node) != before
        # The manager published "running" when it started the worker; the worker's own "running"
        # report only reaches viewers when it tells them something new (the device it resolved, its node).
        if changed:
            self.publisher.publish(message)

    def finish(self, run_id: int, status: RunStatus, error: str | None) -> None:
        """End a run whose worker could not say so itself."""
        with session_scope(self.sessions) as s:
            run = s.get(Run, run_id)
            if run is None:
                return
            run.status, run.error, run.finished_at = status, stop_reason(run, status, error), utcnow()
            message = status_message(run)
        self.publisher.publish(message)

    def drop(self, run_id: int) -> None:
        """Forget buffered rows of a deleted run."""
        self.rows = [r for r in self.rows if r["run_id"] != run_id]
        self.pending = [p for p in self.pending if p[0].run_id != run_id]

    def flush(self, progresses: dict[int, Progress]) -> bool:
        """Insert buffered metric rows, store each run's step and last metrics, then the messages that
        waited for the database; returns False (keeping what is left) while the database is busy."""
        try:
            self._flush_metrics(progresses)
        except OperationalError as exc:
            log.warning("database unavailable, keeping %d metric rows for the next flush: %s", len(self.rows), exc.orig)
            return False
        while self.pending:
            msg, prog, shutting_down = self.pending[0]
            try:
                self._store(msg, prog, progresses, shutting_down)
            except OperationalError:
                return False
            self.pending.pop(0)
        return True

    def _flush_metrics(self, progresses: dict[int, Progress]) -> None:
        """Insert the buffered metric rows in one batch (kept in the buffer if that fails)."""
        rows, self.rows = self.rows, []
        dirty = {rid: p for rid, p in progresses.items() if p.dirty}
        if not rows and not dirty:
            return
        try:
            with session_scope(self.sessions) as s:
                if rows:
                    s.execute(insert(Metric), rows)
                for run_id, prog in dirty.items():
                    run = s.get(Run, run_id)
                    if run is not None:
                        run.step, run.last_metrics = prog.step, dict(prog.last_metrics)
        except OperationalError:
            self.rows = rows + self.rows
            raise
        for prog in dirty.values():
            prog.dirty = False
