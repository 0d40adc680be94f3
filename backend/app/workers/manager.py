"""Spawns training workers, persists what they report and fans it out to websocket viewers.

The manager thread is the single writer of worker data: it drains the shared queue, inserts
metrics in batches every ``settings.metric_flush_interval`` seconds, stores snapshots, logs and
checkpoint paths at once, reaps dead workers and starts queued runs while fewer than
``settings.max_workers`` run. All run-state transitions (start, cancel, resume, delete, fail)
happen under one lock so that the API threads and the manager thread never race.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing as mp
import queue as queue_mod
import shutil
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session, sessionmaker

from backend.app.core.config import Settings
from backend.app.core.db import session_scope
from backend.app.models import LogEntry, Metric, Run, Snapshot, utcnow
from backend.app.streaming.hub import Hub
from backend.app.streaming.messages import status_message
from backend.app.workers.job import run_job
from backend.app.workers.protocol import CheckpointMsg, JobSpec, LogMsg, MetricMsg, SnapshotMsg, StatusMsg, WorkerMessage

log = logging.getLogger(__name__)

TERMINAL_FROM_WORKER = {"finished", "failed", "cancelled"}
INTERRUPTED = "the server stopped while this run was running; resume it from its last checkpoint"
INTERRUPTED_EARLY = "the server stopped while this run was running (before its first checkpoint)"


class RunConflict(Exception):
    """The run is not in a state that allows the requested action."""


@dataclass
class _Active:
    process: Any
    stop_event: Any
    step: int = 0
    last_metrics: dict[str, float] = field(default_factory=dict)
    dirty: bool = False
    terminal: bool = False
    cancel_requested_at: float | None = None


def _exit_reason(code: int | None) -> str:
    if code is not None and code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"worker process died (killed by {name}) before finishing"
    return f"worker process exited with code {code} without reporting a result"


class WorkerManager:
    """Runs training jobs in spawn-context processes, at most ``settings.max_workers`` at once."""

    def __init__(
        self,
        settings: Settings,
        session_factory: sessionmaker[Session],
        hub: Hub,
        target: Callable[[JobSpec, Any, Any], None] = run_job,
    ) -> None:
        self.settings = settings
        self.sessions = session_factory
        self.hub = hub
        self.target = target
        self.ctx = mp.get_context("spawn")
        self.queue = self.ctx.Queue()
        self.active: dict[int, _Active] = {}
        self._metric_rows: list[dict[str, Any]] = []
        self._lock = threading.RLock()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._shutting_down = False
        self._thread: threading.Thread | None = None
        self._last_flush = time.monotonic()

    # -- lifecycle ------------------------------------------------------------------------------------------
    def start(self) -> None:
        """Mark runs left ``running`` as ``interrupted`` and start the manager thread."""
        with session_scope(self.sessions) as s:
            for run in s.scalars(select(Run).where(Run.status == "running")):
                run.status = "interrupted"
                run.finished_at = utcnow()
                run.error = INTERRUPTED if run.checkpoint_path else INTERRUPTED_EARLY
        self._thread = threading.Thread(target=self._loop, name="worker-manager", daemon=True)
        self._thread.start()

    def shutdown(self, timeout: float = 5.0) -> None:
        """Stop every worker; their runs become ``interrupted`` (resumable from a checkpoint)."""
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
        with self._lock:
            self._shutting_down = True
            for act in self.active.values():
                act.stop_event.set()
            deadline = time.monotonic() + timeout
            for act in self.active.values():
                act.process.join(max(0.0, deadline - time.monotonic()))
                if act.process.is_alive():
                    act.process.terminate()
                    act.process.join(1.0)
                if act.process.is_alive():
                    act.process.kill()
                    act.process.join(1.0)
            self._drain_nowait()
            self._flush()
            with session_scope(self.sessions) as s:
                for run_id, act in self.active.items():
                    run = s.get(Run, run_id)
                    if run is not None and not act.terminal:
                        if act.cancel_requested_at is not None:
                            run.status, run.error = "cancelled", None
                        else:
                            run.status, run.error = "interrupted", INTERRUPTED
                        run.finished_at = utcnow()
                    with contextlib.suppress(ValueError):
                        act.process.close()
            self.active.clear()
        self.queue.close()
        self.queue.join_thread()

    def wake(self) -> None:
        """Ask the manager to look for queued runs now."""
        self._wake.set()

    def running_count(self) -> int:
        """Runs whose worker is training now (not counting workers that already reported their end)."""
        with self._lock:
            return sum(not act.terminal for act in self.active.values())

    def worker_pid(self, run_id: int) -> int | None:
        """The pid of the process training ``run_id``, if any."""
        with self._lock:
            act = self.active.get(run_id)
            return None if act is None or act.terminal else act.process.pid

    # -- actions requested by the API ---------------------------------------------------------------------
    def cancel(self, run_id: int) -> None:
        """Cancel a queued run at once, or ask a running worker to stop (terminated after a grace period).

        Raises:
            RunConflict: the run is already over.
        """
        with self._lock:
            act = self.active.get(run_id)
            if act is not None:
                if act.cancel_requested_at is None:
                    act.cancel_requested_at = time.monotonic()
                    act.stop_event.set()
                return
            with session_scope(self.sessions) as s:
                run = s.get(Run, run_id)
                if run is None:
                    return
                if run.status != "queued":
                    raise RunConflict(f"run {run_id} is {run.status}; only queued or running runs can be cancelled")
                run.status = "cancelled"
                run.finished_at = utcnow()
                run.resume_pending = False
                message = status_message(run)
            self.hub.publish(run_id, message)

    def resume(self, run_id: int) -> None:
        """Queue an interrupted, failed or cancelled run to continue from its last checkpoint.

        Raises:
            RunConflict: the run is active, finished or has no checkpoint.
        """
        with self._lock, session_scope(self.sessions) as s:
            run = s.get(Run, run_id)
            if run is None:
                return
            if run.status not in ("interrupted", "failed", "cancelled"):
                raise RunConflict(f"run {run_id} is {run.status}; only interrupted, failed or cancelled runs resume")
            if not run.checkpoint_path or not Path(run.checkpoint_path).is_file():
                raise RunConflict(f"run {run_id} has no checkpoint to resume from")
            step = run.checkpoint_step or 0
            s.execute(delete(Metric).where(Metric.run_id == run_id, Metric.step > step))
            s.execute(delete(Snapshot).where(Snapshot.run_id == run_id, Snapshot.step > step))
            run.status, run.error, run.finished_at, run.resume_pending, run.step = "queued", None, None, True, step
            message = status_message(run)
        self.hub.publish(run_id, message)
        self.wake()

    def delete(self, run_id: int) -> None:
        """Stop the run's worker if any, then remove its rows and files."""
        with self._lock:
            act = self.active.pop(run_id, None)
            if act is not None:
                act.process.kill()
                act.process.join(2.0)
            self._metric_rows = [r for r in self._metric_rows if r["run_id"] != run_id]
            with session_scope(self.sessions) as s:
                for table in (Metric, Snapshot, LogEntry):
                    s.execute(delete(table).where(table.run_id == run_id))
                s.execute(delete(Run).where(Run.id == run_id))
        shutil.rmtree(self.run_dir(run_id), ignore_errors=True)

    def run_dir(self, run_id: int) -> Path:
        """The run's artifact directory under the data dir."""
        return self.settings.checkpoint_dir / str(run_id)

    # -- the manager thread ---------------------------------------------------------------------------------
    def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                self._tick()
            except Exception:  # keep serving whatever one bad message or query did
                log.exception("worker manager iteration failed")
                time.sleep(0.2)

    def _tick(self) -> None:
        try:
            first = self.queue.get(timeout=0.1)
        except queue_mod.Empty:
            first = None
        with self._lock:
            if first is not None:
                self._handle(first)
                self._drain_nowait(limit=2000)
            self._reap()
            self._enforce_cancels()
            if self._wake.is_set() or len(self.active) < self.settings.max_workers:
                self._wake.clear()
                self._dispatch()
            if time.monotonic() - self._last_flush >= self.settings.metric_flush_interval:
                self._flush()

    def _drain_nowait(self, limit: int = 100_000) -> None:
        for _ in range(limit):
            try:
                msg = self.queue.get_nowait()
            except (queue_mod.Empty, OSError, ValueError):
                return
            self._handle(msg)

    def _handle(self, msg: WorkerMessage) -> None:
        act = self.active.get(msg.run_id)
        if act is None:  # a deleted run's last words
            return
        if isinstance(msg, MetricMsg):
            self._metric_rows += [
                {"run_id": msg.run_id, "key": k, "step": msg.step, "value": v, "time": msg.time} for k, v in msg.values.items()
            ]
            if msg.step >= act.step:
                act.last_metrics = {**act.last_metrics, **msg.values} if msg.step == act.step else dict(msg.values)
                act.step = msg.step
            act.dirty = True
            self.hub.publish(msg.run_id, {"type": "metric", "run_id": msg.run_id, "step": msg.step, "values": msg.values})
        elif isinstance(msg, SnapshotMsg):
            with session_scope(self.sessions) as s:
                s.add(Snapshot(run_id=msg.run_id, step=msg.step, data=msg.data))
            self.hub.publish(msg.run_id, {"type": "snapshot", "run_id": msg.run_id, "step": msg.step, "data": msg.data})
        elif isinstance(msg, CheckpointMsg):
            with session_scope(self.sessions) as s:
                run = s.get(Run, msg.run_id)
                if run is not None:
                    run.checkpoint_path, run.checkpoint_step = msg.path, msg.step
        elif isinstance(msg, LogMsg):
            with session_scope(self.sessions) as s:
                s.add(LogEntry(run_id=msg.run_id, level=msg.level, message=msg.message, time=msg.time))
            self.hub.publish(
                msg.run_id, {"type": "log", "run_id": msg.run_id, "level": msg.level, "message": msg.message, "time": msg.time}
            )
        elif isinstance(msg, StatusMsg):
            self._handle_status(msg, act)

    def _handle_status(self, msg: StatusMsg, act: _Active) -> None:
        if msg.status in TERMINAL_FROM_WORKER:
            self._flush()
            act.terminal = True
        status, error = msg.status, msg.error
        if status == "cancelled" and self._shutting_down and act.cancel_requested_at is None:
            status, error = "interrupted", INTERRUPTED  # stopped by the shutdown, not by a user
        with session_scope(self.sessions) as s:
            run = s.get(Run, msg.run_id)
            if run is None:
                return
            run.status = status
            if msg.device:
                run.device = msg.device
            if msg.status in TERMINAL_FROM_WORKER:
                run.finished_at = utcnow()
                run.error = error
                run.result = msg.result
                if msg.step is not None:
                    run.step = max(run.step, msg.step)
            message = status_message(run, None if act.terminal else act.process.pid)
        self.hub.publish(msg.run_id, message)

    def _reap(self) -> None:
        dead = [rid for rid, act in self.active.items() if not act.process.is_alive()]
        if not dead:
            return
        self._drain_nowait()
        for run_id in dead:
            act = self.active.pop(run_id)
            act.process.join(0.5)
            if not act.terminal:
                self._flush_one(run_id, act)
                cancelled = act.cancel_requested_at is not None
                reason = None if cancelled else _exit_reason(act.process.exitcode)
                self._finish(run_id, "cancelled" if cancelled else "failed", reason)
            with contextlib.suppress(ValueError):
                act.process.close()

    def _flush_one(self, run_id: int, act: _Active) -> None:
        self.active[run_id] = act  # so that _flush updates its progress
        try:
            self._flush()
        finally:
            self.active.pop(run_id, None)

    def _finish(self, run_id: int, status: str, error: str | None) -> None:
        with session_scope(self.sessions) as s:
            run = s.get(Run, run_id)
            if run is None:
                return
            run.status, run.error, run.finished_at = status, error, utcnow()
            message = status_message(run)
        self.hub.publish(run_id, message)

    def _enforce_cancels(self) -> None:
        now = time.monotonic()
        for act in self.active.values():
            if act.cancel_requested_at is None or not act.process.is_alive():
                continue
            late = now - act.cancel_requested_at
            if late > self.settings.cancel_grace + 2.0:
                act.process.kill()
            elif late > self.settings.cancel_grace:
                act.process.terminate()

    def _dispatch(self) -> None:
        free = self.settings.max_workers - len(self.active)
        if free <= 0 or self._stopping.is_set():
            return
        with session_scope(self.sessions) as s:
            runs = list(s.scalars(select(Run).where(Run.status == "queued").order_by(Run.id).limit(free)))
            for run in runs:
                self._start(run)

    def _start(self, run: Run) -> None:
        run_dir = self.run_dir(run.id)
        run_dir.mkdir(parents=True, exist_ok=True)
        resume_from = run.checkpoint_path if run.resume_pending and run.checkpoint_path else None
        job = JobSpec(run.id, run.spec, str(run_dir / "checkpoint.pt"), resume_from)
        stop_event = self.ctx.Event()
        process = self.ctx.Process(
            target=self.target, args=(job, self.queue, stop_event), name=f"motornet-run-{run.id}", daemon=True
        )
        try:
            process.start()
        except Exception as exc:
            run.status, run.error, run.finished_at = "failed", f"could not start a worker: {exc}", utcnow()
            self.hub.publish(run.id, status_message(run))
            return
        self.active[run.id] = _Active(process, stop_event, step=run.step)
        run.status, run.resume_pending, run.error = "running", False, None
        run.started_at = run.started_at or utcnow()
        run.finished_at = None
        self.hub.publish(run.id, status_message(run, process.pid))

    def _flush(self) -> None:
        self._last_flush = time.monotonic()
        rows, self._metric_rows = self._metric_rows, []
        dirty = {rid: act for rid, act in self.active.items() if act.dirty}
        if not rows and not dirty:
            return
        with session_scope(self.sessions) as s:
            if rows:
                s.execute(insert(Metric), rows)
            for run_id, act in dirty.items():
                run = s.get(Run, run_id)
                if run is not None:
                    run.step, run.last_metrics = act.step, dict(act.last_metrics)
                act.dirty = False
