"""Spawns training workers, persists what they report and fans it out to websocket viewers.

Each run trains in a spawn-context process with its own one-way pipe to the manager. The
manager thread waits on every pipe, hands messages to the :class:`Recorder` (the single writer
of worker data), reaps dead workers and starts queued runs while fewer than
``settings.max_workers`` run. All run-state transitions (start, cancel, resume, delete, fail)
happen under one lock so that the API threads and the manager thread never race.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing as mp
import shutil
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import wait as wait_connections
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from backend.app.core.config import Settings
from backend.app.core.db import session_scope
from backend.app.models import LogEntry, Metric, Run, Snapshot, utcnow
from backend.app.run_specs import spec_of
from backend.app.status import RESUMABLE_STATUSES, RunKind, RunStatus
from backend.app.streaming.hub import Hub
from backend.app.streaming.messages import StatusMessage, deleted_message, status_message
from backend.app.workers.job import run_job
from backend.app.workers.protocol import Channel, JobSpec
from backend.app.workers.publisher import Publisher
from backend.app.workers.recorder import INTERRUPTED, INTERRUPTED_EARLY, Progress, Recorder
from motornet_core import SpecError

log = logging.getLogger(__name__)


class RunConflict(Exception):
    """The run is not in a state that allows the requested action."""


@dataclass
class _Worker:
    process: Any
    conn: Any  # the manager's (reading) end of the worker's pipe; None once closed
    stop_event: Any
    progress: Progress
    cancel_at: float | None = None


def _exit_reason(code: int | None) -> str:
    if code is not None and code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"worker process died (killed by {name}) before finishing"
    return f"worker process exited with code {code} without reporting a result"


def latest_eval_error(s: Session, run_id: int) -> float | None:
    """Mean endpoint error [m] of the run's latest stored snapshot (None without one)."""
    error = Snapshot.data["mean_endpoint_error"].as_float()
    value = s.execute(select(error).where(Snapshot.run_id == run_id).order_by(Snapshot.step.desc()).limit(1)).scalar()
    return float(value) if value is not None else None


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
        self.publisher = Publisher(hub)  # numbers and sends every message viewers get
        self.recorder = Recorder(session_factory, self.publisher)
        self.active: dict[int, _Worker] = {}
        self._lock = threading.RLock()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._shutting_down = False
        self._thread: threading.Thread | None = None
        self._last_flush = time.monotonic()
        self._last_dispatch = 0.0

    # -- lifecycle ------------------------------------------------------------------------------------------
    def start(self) -> None:
        """Mark runs left ``running`` as ``interrupted`` and start the manager thread."""
        with session_scope(self.sessions) as s:
            for run in s.scalars(select(Run).where(Run.status == RunStatus.RUNNING)):
                self._sync_with_checkpoint(s, run)
                run.status, run.finished_at = RunStatus.INTERRUPTED, utcnow()
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
            for w in self.active.values():
                w.stop_event.set()
            deadline = time.monotonic() + timeout
            for w in self.active.values():
                while w.process.is_alive() and time.monotonic() < deadline:
                    self._receive(w, wait=0.05)  # keep the pipe flowing so that the worker can finish
                for stop in (w.process.terminate, w.process.kill):
                    if w.process.is_alive():
                        stop()
                        w.process.join(1.0)
                self._receive(w)
            self.recorder.flush(self._progresses())
            with session_scope(self.sessions) as s:
                for run_id, w in self.active.items():
                    run = s.get(Run, run_id)
                    if run is not None and not w.progress.terminal:
                        cancelled = w.progress.cancel_requested
                        run.status, run.error = (RunStatus.CANCELLED, None) if cancelled else (RunStatus.INTERRUPTED, INTERRUPTED)
                        run.finished_at = utcnow()
                    self._close(w)
            self.active.clear()

    def wake(self) -> None:
        """Ask the manager to look for queued runs now."""
        self._wake.set()

    # The two readers below take no lock (a dict copy and a get are atomic in CPython): API requests
    # never wait behind the manager thread while it writes to the database.
    def running_count(self) -> int:
        """Runs whose worker is training now (not counting workers that already reported their end)."""
        return sum(not w.progress.terminal for w in list(self.active.values()))

    def worker_pid(self, run_id: int) -> int | None:
        """The pid of the process training ``run_id``, if any."""
        w = self.active.get(run_id)
        return None if w is None or w.progress.terminal else w.progress.pid

    def _sync_with_checkpoint(self, s: Session, run: Run) -> None:
        """Make a training run's record agree with its checkpoint file, which a resume continues from.

        A worker writes the file before it reports it, so a server stopped in between recorded an
        older checkpoint (or none). The file's step wins, and ``loss`` rows that the database lacks
        up to that step are filled in from the checkpoint's loss history (the other metrics of
        those steps were never stored).
        """
        if run.kind != RunKind.TRAINING:
            return
        path = Path(run.checkpoint_path) if run.checkpoint_path else self.run_dir(run.id) / "checkpoint.pt"
        if not path.is_file():
            return
        try:
            from motornet_core.training import read_checkpoint

            info = read_checkpoint(path)
        except Exception as exc:  # a damaged file is reported when the run resumes from it
            log.warning("run %d: cannot read %s: %s", run.id, path, exc)
            return
        step = info.step
        if run.checkpoint_path == str(path) and run.checkpoint_step == step:
            return
        stored = set(s.scalars(select(Metric.step).where(Metric.run_id == run.id, Metric.key == "loss")))
        now = time.time()
        for k, value in info.loss_rows():
            if k not in stored:
                s.add(Metric(run_id=run.id, key="loss", step=k, value=value, time=now))
        log.info("run %d: checkpoint at step %d (recorded: %s)", run.id, step, run.checkpoint_step)
        run.checkpoint_path, run.checkpoint_step = str(path), step
        run.step = max(run.step or 0, step)

    def run_dir(self, run_id: int) -> Path:
        """The run's artifact directory under the data dir."""
        return self.settings.checkpoint_dir / str(run_id)

    # -- actions requested by the API ---------------------------------------------------------------------
    def cancel(self, run_id: int) -> None:
        """Cancel a queued run at once, or ask a running worker to stop (terminated after a grace period).

        Raises:
            RunConflict: the run is already over.
        """
        with self._lock:
            w = self.active.get(run_id)
            if w is not None and not w.progress.terminal:
                if w.cancel_at is None:
                    w.cancel_at = time.monotonic()
                    w.progress.cancel_requested = True
                    w.stop_event.set()
                return
            with session_scope(self.sessions) as s:
                run = s.get(Run, run_id)
                if run is None:
                    return
                if run.status != RunStatus.QUEUED:
                    raise RunConflict(f"run {run_id} is {run.status}; only queued or running runs can be cancelled")
                run.status, run.finished_at, run.resume_pending = RunStatus.CANCELLED, utcnow(), False
                message = status_message(run)
            self.publisher.publish(message)

    def resume(self, run_id: int) -> None:
        """Queue an interrupted, failed or cancelled run to continue from its last checkpoint.

        Raises:
            RunConflict: the run is active, finished or has no checkpoint.
        """
        with self._lock, session_scope(self.sessions) as s:
            run = s.get(Run, run_id)
            if run is None:
                return
            if run.status not in RESUMABLE_STATUSES:
                raise RunConflict(f"run {run_id} is {run.status}; only interrupted, failed or cancelled runs resume")
            self._sync_with_checkpoint(s, run)
            if not run.checkpoint_path or not Path(run.checkpoint_path).is_file():
                raise RunConflict(f"run {run_id} has no checkpoint to resume from")
            step = run.checkpoint_step or 0
            s.execute(delete(Metric).where(Metric.run_id == run_id, Metric.step > step))
            s.execute(delete(Snapshot).where(Snapshot.run_id == run_id, Snapshot.step > step))
            run.last_eval_error = latest_eval_error(s, run_id)
            run.status, run.error, run.finished_at, run.resume_pending, run.step = RunStatus.QUEUED, None, None, True, step
            message = status_message(run)
        self.publisher.restart(run_id)  # the buffered rows past the checkpoint are gone
        self.publisher.publish(message)
        self.wake()

    def delete(self, run_id: int) -> None:
        """Stop the run's worker if any, remove its rows and files, and tell its websocket viewers
        (``{"type": "status", "status": "deleted"}``, then their sockets close)."""
        with self._lock:
            w = self.active.pop(run_id, None)
            if w is not None:
                w.process.kill()
                w.process.join(2.0)
                self._close(w)
            self.recorder.drop(run_id)
            with session_scope(self.sessions) as s:
                for table in (Metric, Snapshot, LogEntry):
                    s.execute(delete(table).where(table.run_id == run_id))
                s.execute(delete(Run).where(Run.id == run_id))
            self.publisher.close(deleted_message(run_id))
        shutil.rmtree(self.run_dir(run_id), ignore_errors=True)

    # -- the manager thread ---------------------------------------------------------------------------------
    def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                self._tick()
            except Exception:  # keep serving whatever one bad message or query did
                log.exception("worker manager iteration failed")
                time.sleep(0.2)

    def _tick(self) -> None:
        with self._lock:
            conns = [w.conn for w in self.active.values() if w.conn is not None]
        if conns:
            with contextlib.suppress(OSError, ValueError):  # a pipe closed by delete() meanwhile
                wait_connections(conns, timeout=0.1)
        else:
            self._wake.wait(0.1)
        with self._lock:
            for w in list(self.active.values()):
                self._receive(w)
            self._reap()
            self._enforce_cancels()
            if self._wake.is_set() or time.monotonic() - self._last_dispatch >= 1.0:
                self._wake.clear()
                self._dispatch()
            if time.monotonic() - self._last_flush >= self.settings.metric_flush_interval:
                self._flush()

    def _receive(self, w: _Worker, wait: float = 0.0, limit: int = 5000) -> None:
        """Record what the worker's pipe holds; a broken or finished pipe is closed."""
        for _ in range(limit):
            if w.conn is None:
                return
            try:
                if not w.conn.poll(wait):
                    return
                msg = w.conn.recv()
            except (EOFError, OSError, ValueError):  # the worker is gone (or died mid-write)
                self._close_pipe(w)
                return
            if msg.run_id in self.active and self.active[msg.run_id] is w:
                self.recorder.record(msg, w.progress, self._progresses(), self._shutting_down)
            wait = 0.0

    def _reap(self) -> None:
        for run_id, w in list(self.active.items()):
            if w.process.is_alive():
                continue
            self._receive(w)  # its last words
            if not w.progress.terminal:
                self._flush()
                cancelled = w.progress.cancel_requested
                reason = None if cancelled else _exit_reason(w.process.exitcode)
                self.recorder.finish(run_id, RunStatus.CANCELLED if cancelled else RunStatus.FAILED, reason)
            del self.active[run_id]
            self._close(w)
            self._wake.set()  # a slot is free

    def _enforce_cancels(self) -> None:
        now = time.monotonic()
        for w in self.active.values():
            if w.cancel_at is None or not w.process.is_alive():
                continue
            late = now - w.cancel_at
            if late > self.settings.cancel_grace + 2.0:
                w.process.kill()
            elif late > self.settings.cancel_grace:
                w.process.terminate()

    def _dispatch(self) -> None:
        self._last_dispatch = time.monotonic()
        free = self.settings.max_workers - len(self.active)
        if free <= 0 or self._stopping.is_set():
            return
        started: list[StatusMessage] = []
        with session_scope(self.sessions) as s:
            runs = list(s.scalars(select(Run).where(Run.status == RunStatus.QUEUED).order_by(Run.id).limit(free)))
            for run in runs:
                if run.id not in self.active:  # a resumed run whose old worker is still exiting waits
                    started.append(self._start(run))
        # published once committed: a viewer that subscribes now reads "running" from the database
        # or receives this message (or both: the socket drops a repeated status)
        for message in started:
            self.publisher.publish(message)

    def _start(self, run: Run) -> StatusMessage:
        """Spawn the run's worker; returns the status message to publish once the session commits."""
        run_dir = self.run_dir(run.id)
        run_dir.mkdir(parents=True, exist_ok=True)
        resume_from = run.checkpoint_path if run.resume_pending and run.checkpoint_path else None
        try:
            typed = spec_of(run)
        except SpecError as exc:
            run.status, run.error, run.finished_at = RunStatus.FAILED, f"invalid stored spec: {exc}", utcnow()
            return status_message(run)
        artifacts = typed.artifact_dir(run_dir)  # a study's result files
        out_dir = None if artifacts is None else str(artifacts)
        run.artifact_path = out_dir or run.artifact_path
        job = JobSpec(run.id, typed.columns()["spec"], str(run_dir / "checkpoint.pt"), resume_from, typed.kind, out_dir)
        reader, writer = self.ctx.Pipe(duplex=False)
        stop_event = self.ctx.Event()
        process = self.ctx.Process(
            target=self.target, args=(job, Channel(writer), stop_event), name=f"motornet-run-{run.id}", daemon=True
        )
        try:
            process.start()
        except Exception as exc:
            reader.close()
            run.status, run.error, run.finished_at = RunStatus.FAILED, f"could not start a worker: {exc}", utcnow()
            return status_message(run)
        finally:
            writer.close()  # the child holds its own copy; EOF on the reader then means the worker is gone
        self.active[run.id] = _Worker(process, reader, stop_event, Progress(process.pid, step=run.step))
        run.status, run.resume_pending, run.error = RunStatus.RUNNING, False, None
        run.started_at = run.started_at or utcnow()
        run.finished_at = None
        return status_message(run, process.pid)

    def _progresses(self) -> dict[int, Progress]:
        return {rid: w.progress for rid, w in self.active.items()}

    def _flush(self) -> None:
        self._last_flush = time.monotonic()
        self.recorder.flush(self._progresses())

    @staticmethod
    def _close_pipe(w: _Worker) -> None:
        if w.conn is not None:
            with contextlib.suppress(OSError):
                w.conn.close()
            w.conn = None

    @classmethod
    def _close(cls, w: _Worker) -> None:
        """Release the pipe and the (finished) process object."""
        cls._close_pipe(w)
        with contextlib.suppress(ValueError):
            w.process.close()
