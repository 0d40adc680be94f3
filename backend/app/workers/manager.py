"""Starts training workers, persists what they report and fans it out to websocket viewers.

Each run trains in a worker started by the executor (``workers/executors.py``: by default a
spawn-context process with its own one-way pipe; with ``--executor ray`` a Ray task). The
manager thread waits on every worker, hands messages to the :class:`Recorder` (the single writer
of worker data), reaps dead workers and starts queued runs while fewer than
``settings.max_workers`` run. All run-state transitions (start, cancel, resume, delete, fail)
happen under one lock so that the API threads and the manager thread never race.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing as mp
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from backend.app import queueing
from backend.app.core.config import Settings
from backend.app.core.db import session_scope
from backend.app.models import LogEntry, Metric, Run, Snapshot, utcnow
from backend.app.queueing import Lane
from backend.app.run_specs import spec_of
from backend.app.status import RESUMABLE_STATUSES, RunKind, RunStatus
from backend.app.streaming.hub import Hub
from backend.app.streaming.messages import LogMessage, StatusMessage, deleted_message, status_message
from backend.app.workers.executors import Executor, WorkerHandle, make_executor
from backend.app.workers.experiment_watch import ExperimentWatcher
from backend.app.workers.job import run_job
from backend.app.workers.protocol import GroupMember, JobSpec
from backend.app.workers.publisher import Publisher
from backend.app.workers.recorder import Progress, Recorder, stop_reason
from backend.app.workers.warmup import IdleWarmUp
from motornet_core import SpecError

log = logging.getLogger(__name__)


class RunConflict(Exception):
    """The run is not in a state that allows the requested action."""


@dataclass(eq=False)
class _Proc:
    """One started worker (a single run's, or a group job's shared by its member runs)."""

    handle: WorkerHandle
    cancel_at: float | None = None
    lane: Lane = "training"


class _Worker:
    """An active run: the worker that trains it (shared by a group's members) and its own progress."""

    def __init__(self, proc: _Proc, progress: Progress) -> None:
        self.proc, self.progress = proc, progress

    @property
    def handle(self) -> WorkerHandle:
        return self.proc.handle

    @property
    def cancel_at(self) -> float | None:
        return self.proc.cancel_at

    @cancel_at.setter
    def cancel_at(self, value: float | None) -> None:
        self.proc.cancel_at = value


def latest_eval_error(s: Session, run_id: int) -> float | None:
    """Mean endpoint error [m] of the run's latest stored snapshot (None without one)."""
    error = Snapshot.data["mean_endpoint_error"].as_float()
    value = s.execute(select(error).where(Snapshot.run_id == run_id).order_by(Snapshot.step.desc()).limit(1)).scalar()
    return float(value) if value is not None else None


def _same_group(a: Run, b: Run) -> bool:
    """Two runs of one experiment condition (trained together as one group job)."""
    return a.experiment_id == b.experiment_id and a.condition_index == b.condition_index


class WorkerManager:
    """Runs training jobs through an executor (local processes or Ray), at most ``settings.max_workers`` at once."""

    def __init__(
        self,
        settings: Settings,
        session_factory: sessionmaker[Session],
        hub: Hub,
        target: Callable[[JobSpec, Any, Any], None] = run_job,
        experiment_hub: Hub | None = None,
        executor: Executor | None = None,
    ) -> None:
        self.settings = settings
        self.sessions = session_factory
        self.hub = hub
        self.target = target
        self.executor = executor or make_executor(settings, target)
        # experiments' viewers (/ws/experiments/{id}) follow what the watcher derives from run messages
        self.watcher = ExperimentWatcher(session_factory, experiment_hub or Hub(hub.max_queue, replay_messages=1, replay_runs=1))
        self.publisher = Publisher(hub, observer=self.watcher.note)  # numbers and sends every message viewers get
        self.recorder = Recorder(session_factory, self.publisher)
        self.active: dict[int, _Worker] = {}
        self._lock = threading.RLock()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._shutting_down = False
        self._thread: threading.Thread | None = None
        self._last_flush = time.monotonic()
        self._last_dispatch = 0.0
        self._queued = False  # whether the last dispatch saw queued runs
        # the idle warm-up fills this machine's compile cache (a local process, whatever the executor)
        self.warmup = IdleWarmUp(mp.get_context("spawn"), settings.warmup, settings.warmup_idle_s)

    # -- lifecycle ------------------------------------------------------------------------------------------
    def start(self) -> None:
        """Mark runs left ``running`` as ``interrupted``, queue the interrupted networks of experiments
        again (from their checkpoints, or from scratch without one), open the executor (a Ray
        executor connects to its cluster, or starts a local one) and start the manager thread.

        No worker outlives the server that started it (a local process is its child; a Ray task is
        owned by its driver), so every run left ``running`` lost its worker."""
        self.executor.open()
        with session_scope(self.sessions) as s:
            for run in s.scalars(select(Run).where(Run.status == RunStatus.RUNNING)):
                self._sync_with_checkpoint(s, run)
                run.status, run.finished_at = RunStatus.INTERRUPTED, utcnow()
                run.error = stop_reason(run, RunStatus.INTERRUPTED, None)
            s.flush()
            query = select(Run).where(Run.experiment_id.is_not(None), Run.status == RunStatus.INTERRUPTED)
            for run in s.scalars(query):
                self._requeue(s, run)
        self.watcher.touch_unfinished()
        self._thread = threading.Thread(target=self._loop, name="worker-manager", daemon=True)
        self._thread.start()

    def shutdown(self, timeout: float | None = None) -> None:
        """Stop every worker within ``timeout`` seconds (default ``settings.shutdown_grace``); their
        runs become ``interrupted``, resumable from the checkpoint of their last completed iteration
        (each worker writes it as soon as it is asked to stop)."""
        timeout = self.settings.shutdown_grace if timeout is None else timeout
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self.warmup.stop()
        with self._lock:
            self._shutting_down = True
            for w in self.active.values():
                w.handle.request_stop()
            deadline = time.monotonic() + timeout
            for w in self.active.values():
                while w.handle.alive() and time.monotonic() < deadline:
                    self._receive(w, wait=0.05)  # keep the pipe flowing so that the worker can finish
                for stop in (w.handle.terminate, w.handle.kill):
                    if w.handle.alive():
                        stop()
                        w.handle.join(1.0)
                self._receive(w)
            self.recorder.flush(self._progresses())
            with session_scope(self.sessions) as s:
                for run_id, w in self.active.items():
                    run = s.get(Run, run_id)
                    if run is not None and not w.progress.terminal:
                        status = RunStatus.CANCELLED if w.progress.cancel_requested else RunStatus.INTERRUPTED
                        run.status, run.error, run.finished_at = status, stop_reason(run, status, None), utcnow()
                    self._close(w)
            self.active.clear()
        self.executor.close()

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
        # filled in even when the checkpoint itself was recorded: its report goes straight to the
        # database while the metric rows before it wait in the buffer of the next flush
        stored = set(s.scalars(select(Metric.step).where(Metric.run_id == run.id, Metric.key == "loss")))
        now = time.time()
        for k, value in info.loss_rows():
            if k not in stored:
                s.add(Metric(run_id=run.id, key="loss", step=k, value=value, time=now))
        if run.checkpoint_path == str(path) and run.checkpoint_step == step:
            return
        log.info("run %d: checkpoint at step %d (recorded: %s)", run.id, step, run.checkpoint_step)
        run.checkpoint_path, run.checkpoint_step = str(path), step
        run.step = max(run.step or 0, step)

    def run_dir(self, run_id: int) -> Path:
        """The run's artifact directory under the data dir."""
        return self.settings.checkpoint_dir / str(run_id)

    # -- actions requested by the API ---------------------------------------------------------------------
    def cancel(self, run_id: int) -> None:
        """Cancel a queued run at once, or ask a running worker to stop (terminated after a grace period).

        The request is first written to the run's log, before the manager's lock is taken: while the
        database is locked that write fails (``OperationalError``, answered 503 like any write) and
        nothing is cancelled, instead of waiting behind a manager blocked on the same lock.

        Raises:
            RunConflict: the run is already over; OperationalError: the database stays locked.
        """
        self._note_cancel(run_id)
        with self._lock:
            w = self.active.get(run_id)
            if w is not None and not w.progress.terminal:
                if w.cancel_at is None:  # a group's members stop together (they train as one computation)
                    w.cancel_at = time.monotonic()
                    for member in self._members(w.proc):
                        member.progress.cancel_requested = True
                    w.handle.request_stop()
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

    def _note_cancel(self, run_id: int) -> None:
        """Log the cancel request of a queued or running run (its own short transaction)."""
        with session_scope(self.sessions) as s:
            status = s.scalar(select(Run.status).where(Run.id == run_id))
            if status not in (RunStatus.QUEUED, RunStatus.RUNNING):
                return  # gone or over: cancel() answers that
            entry = LogEntry(run_id=run_id, level="info", message="cancel requested", time=time.time())
            s.add(entry)
        self.publisher.publish(LogMessage(run_id=run_id, level=entry.level, message=entry.message, time=entry.time))

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
            with queueing.ADMISSION:  # the queue cap holds for resumes too
                queueing.ensure_room(s, self.settings)
                step = run.checkpoint_step or 0
                s.execute(delete(Metric).where(Metric.run_id == run_id, Metric.step > step))
                s.execute(delete(Snapshot).where(Snapshot.run_id == run_id, Snapshot.step > step))
                run.last_eval_error = latest_eval_error(s, run_id)
                run.status, run.error, run.finished_at, run.resume_pending, run.step = RunStatus.QUEUED, None, None, True, step
                run.queued_at = utcnow()  # queued behind what was queued before this resume
                s.commit()
            message = status_message(run)
        self.publisher.restart(run_id)  # the buffered rows past the checkpoint are gone
        self.publisher.publish(message)
        self.wake()

    def requeue(self, run_id: int, checked: bool = False) -> None:
        """Queue an interrupted, failed or cancelled run again: from its last checkpoint, or from
        scratch (its metrics and snapshots removed) when it has none.

        Args:
            checked: the caller holds :data:`queueing.ADMISSION` and made room for it already.

        Raises:
            RunConflict: the run is active or finished; Overloaded: the queue is full.
        """
        with self._lock, queueing.ADMISSION, session_scope(self.sessions) as s:
            run = s.get(Run, run_id)
            if run is None:
                return
            if run.status not in RESUMABLE_STATUSES:
                raise RunConflict(f"run {run_id} is {run.status}; only interrupted, failed or cancelled runs resume")
            if not checked:
                queueing.ensure_room(s, self.settings)
            self._requeue(s, run)
            message = status_message(run)
        self.publisher.restart(run_id)
        self.publisher.publish(message)
        self.wake()

    def cancel_many(self, run_ids: list[int]) -> None:
        """Cancel runs at once (an experiment's): none of them starts meanwhile; ended ones are skipped."""
        with self._lock:
            for run_id in run_ids:
                with contextlib.suppress(RunConflict):
                    self.cancel(run_id)

    def requeue_many(self, run_ids: list[int]) -> None:
        """Requeue runs at once (an experiment's), so that each condition's members start as one group job.

        Raises:
            RunConflict: one of them is active or finished (those before it stay queued);
            Overloaded: the queue cannot take them all (none is queued).
        """
        with self._lock, queueing.ADMISSION:
            with session_scope(self.sessions) as s:
                queueing.ensure_room(s, self.settings, len(run_ids), what="network")
            for run_id in run_ids:
                self.requeue(run_id, checked=True)

    def _requeue(self, s: Session, run: Run) -> None:
        self._sync_with_checkpoint(s, run)
        resumable = bool(run.checkpoint_path) and Path(run.checkpoint_path or "").is_file()
        step = (run.checkpoint_step or 0) if resumable else 0
        if not resumable:
            run.checkpoint_path, run.checkpoint_step = None, None
        s.execute(delete(Metric).where(Metric.run_id == run.id, Metric.step > step))
        s.execute(delete(Snapshot).where(Snapshot.run_id == run.id, Snapshot.step > step))
        run.last_eval_error = latest_eval_error(s, run.id)
        run.status, run.error, run.finished_at, run.resume_pending, run.step = RunStatus.QUEUED, None, None, resumable, step
        run.queued_at = utcnow()
        if not resumable:
            run.last_metrics, run.result = {}, None

    def steps(self) -> dict[int, int]:
        """Run id -> the step its worker reported last (newer than the rows between flushes)."""
        return {rid: w.progress.step for rid, w in list(self.active.items())}

    def delete_many(self, run_ids: list[int]) -> None:
        """Delete runs that train together (an experiment's), none of them started meanwhile."""
        with self._lock:
            for run_id in run_ids:
                self.delete(run_id, with_group=True)

    def delete(self, run_id: int, with_group: bool = False) -> None:
        """Stop the run's worker if any, remove its rows and files, and tell its websocket viewers
        (``{"type": "status", "status": "deleted"}``, then their sockets close).

        Raises:
            RunConflict: the run trains in a group job with other runs (unless ``with_group``: the
                whole experiment goes, and its other runs are deleted next).
        """
        with self._lock:
            w = self.active.get(run_id)
            if w is not None and not with_group and not w.progress.terminal:
                others = sorted(r for r, m in self.active.items() if m.proc is w.proc and r != run_id)
                if others:
                    raise RunConflict(
                        f"run {run_id} trains together with runs {others} of its experiment; "
                        "cancel or delete the experiment instead"
                    )
            self.active.pop(run_id, None)
            if w is not None:
                w.handle.kill()
                w.handle.join(2.0)
                self._release(w)
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
            handles = [p.handle for p in self._procs()]
        if handles:
            self.executor.wait(handles, timeout=0.1)
        else:
            self._wake.wait(0.1)
        with self._lock:
            for proc in self._procs():
                self._receive(proc)
            self._reap()
            self._enforce_cancels()
            if self._wake.is_set() or time.monotonic() - self._last_dispatch >= 1.0:
                self._wake.clear()
                self._dispatch()
            self.warmup.tick(busy=self._queued or bool(self.active) or self._stopping.is_set())
            if time.monotonic() - self._last_flush >= self.settings.metric_flush_interval:
                self._flush()
            self.watcher.tick(self.steps())

    def _receive(self, w: _Worker | _Proc, wait: float = 0.0, limit: int = 5000) -> None:
        """Record what the worker sent (a group's messages each for its own run)."""
        proc = w.proc if isinstance(w, _Worker) else w
        for msg in proc.handle.receive(wait, limit):
            target = self.active.get(msg.run_id)
            if target is not None and target.proc is proc:
                self.recorder.record(msg, target.progress, self._progresses(), self._shutting_down)

    def _reap(self) -> None:
        for run_id, w in list(self.active.items()):
            if w.handle.alive():
                continue
            self._receive(w)  # its last words
            if not w.progress.terminal:
                self._flush()
                cancelled = w.progress.cancel_requested
                reason = None if cancelled else w.handle.exit_reason()
                self.recorder.finish(run_id, RunStatus.CANCELLED if cancelled else RunStatus.FAILED, reason)
            del self.active[run_id]
            self._release(w)
            self._wake.set()  # a slot is free

    def _enforce_cancels(self) -> None:
        now = time.monotonic()
        for w in self._procs():
            if w.cancel_at is None or not w.handle.alive():
                continue
            late = now - w.cancel_at
            if late > self.settings.cancel_grace + 2.0:
                w.handle.kill()
            elif late > self.settings.cancel_grace:
                w.handle.terminate()

    def _free_slots(self) -> dict[Lane, int]:
        """Worker slots free now per lane: training jobs use at most ``max_workers`` processes, and
        ``quick_workers`` more are kept for quick jobs (which may also take a free training slot)."""
        procs = self._procs()
        quick = sum(p.lane == "quick" for p in procs)
        # quick jobs beyond their own slots occupy training slots
        general_used = len(procs) - quick + max(0, quick - self.settings.quick_workers)
        total_free = self.settings.max_workers + self.settings.quick_workers - len(procs)
        return {"training": max(0, self.settings.max_workers - general_used), "quick": max(0, total_free)}

    def _dispatch(self) -> None:
        self._last_dispatch = time.monotonic()
        if self._stopping.is_set() or not any(self._free_slots().values()):
            return
        started: list[StatusMessage] = []
        with session_scope(self.sessions) as s:
            runs = queueing.queued_runs(s)  # first in, first out by queue time
            self._queued = bool(runs)
            taken: set[int] = set()
            for run in runs:
                if run.id in taken:
                    continue
                group = [run] if run.experiment_id is None else [r for r in runs if _same_group(r, run)]
                taken.update(r.id for r in group)
                lane = queueing.lane_of(run)
                if self._free_slots()[lane] <= 0:
                    continue  # this lane is full; the other may still start its next job
                if any(r.id in self.active for r in group):  # a resumed run whose old worker is still exiting waits
                    continue
                started += self._start(run) if len(group) == 1 and run.experiment_id is None else self._start_group(group)
                if run.id in self.active:
                    self.active[run.id].proc.lane = lane
        # published once committed: a viewer that subscribes now reads "running" from the database
        # or receives this message (or both: the socket drops a repeated status)
        for message in started:
            self.publisher.publish(message)

    def _start(self, run: Run) -> list[StatusMessage]:
        """Spawn the run's worker; returns the status message to publish once the session commits."""
        run_dir = self.run_dir(run.id)
        run_dir.mkdir(parents=True, exist_ok=True)
        resume_from = run.checkpoint_path if run.resume_pending and run.checkpoint_path else None
        try:
            typed = spec_of(run)
        except SpecError as exc:
            run.status, run.error, run.finished_at = RunStatus.FAILED, f"invalid stored spec: {exc}", utcnow()
            return [status_message(run)]
        artifacts = typed.artifact_dir(run_dir)  # a study's result files
        out_dir = None if artifacts is None else str(artifacts)
        run.artifact_path = out_dir or run.artifact_path
        job = JobSpec(
            run.id,
            typed.columns()["spec"],
            str(run_dir / "checkpoint.pt"),
            resume_from,
            typed.kind,
            out_dir,
            memory_limit=self.settings.worker_address_space,
        )
        return self._spawn(job, [run])

    def _start_group(self, runs: list[Run]) -> list[StatusMessage]:
        """Spawn one worker for an experiment condition's queued replicates (one ensemble, one run each)."""
        members = []
        for run in sorted(runs, key=lambda r: (r.replicate_index or 0, r.id)):
            self.run_dir(run.id).mkdir(parents=True, exist_ok=True)
            try:
                spec = spec_of(run).columns()["spec"]
            except SpecError as exc:
                for r in runs:
                    r.status, r.error, r.finished_at = RunStatus.FAILED, f"invalid stored spec of run {run.id}: {exc}", utcnow()
                return [status_message(r) for r in runs]
            resume_from = run.checkpoint_path if run.resume_pending and run.checkpoint_path else None
            members.append(GroupMember(run.id, spec, str(self.run_dir(run.id) / "checkpoint.pt"), resume_from))
        head = members[0]
        job = JobSpec(
            head.run_id,
            head.spec,
            head.checkpoint_path,
            head.resume_from,
            RunKind.TRAINING,
            members=tuple(members),
            memory_limit=self.settings.worker_address_space,
        )
        return self._spawn(job, runs)

    def _spawn(self, job: JobSpec, runs: list[Run]) -> list[StatusMessage]:
        """Start ``job``'s worker for ``runs``; the status messages to publish once the session commits."""
        try:
            handle = self.executor.start(job)
        except Exception as exc:
            log.warning("could not start a worker for run %d: %s", job.run_id, exc)
            for run in runs:
                run.status, run.error, run.finished_at = RunStatus.FAILED, f"could not start a worker: {exc}", utcnow()
            return [status_message(run) for run in runs]
        proc = _Proc(handle)
        for run in runs:
            self.active[run.id] = _Worker(proc, Progress(handle.pid, step=run.step))
            run.status, run.resume_pending, run.error = RunStatus.RUNNING, False, None
            run.started_at = run.started_at or utcnow()
            run.finished_at = None
            run.node = None  # the worker reports where it runs
        return [status_message(run, handle.pid) for run in runs]

    def _procs(self) -> list[_Proc]:
        """The worker processes, each once (a group's members share theirs)."""
        return list({id(w.proc): w.proc for w in list(self.active.values())}.values())

    def _members(self, proc: _Proc) -> list[_Worker]:
        return [w for w in self.active.values() if w.proc is proc]

    def _progresses(self) -> dict[int, Progress]:
        return {rid: w.progress for rid, w in self.active.items()}

    def _flush(self) -> None:
        self._last_flush = time.monotonic()
        self.recorder.flush(self._progresses())

    def _release(self, w: _Worker) -> None:
        """Close the process of a run that left ``active`` once none of its group is left in it."""
        if not any(m.proc is w.proc for m in self.active.values()):
            self._close(w)

    @staticmethod
    def _close(w: _Worker) -> None:
        """Release the worker's pipe and process object (or its Ray channel)."""
        w.handle.close()
