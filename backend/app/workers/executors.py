"""Where a worker job runs: the executor interface and its default, spawned local processes.

The :class:`~backend.app.workers.manager.WorkerManager` starts every job through an
:class:`Executor` and watches it through the :class:`WorkerHandle` it returns; everything else
(the queue, the single database writer, cancel's grace period, restart recovery) is the manager's
and the same for every executor. Two implementations:

- :class:`LocalExecutor` (the default, nothing to start): a spawn-context process per job with its
  own one-way pipe; with ``warm_worker`` the next job's process is started ahead, its imports done,
  and waits for its job (a job still gets a process of its own, which ends with it).
- :class:`backend.app.workers.ray_executor.RayExecutor` (``--executor ray``): a Ray task per job on a
  Ray cluster (worker processes reused across jobs), its messages through a shared channel actor, its
  files shipped back to the data dir.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing as mp
import os
import signal
import socket
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from multiprocessing.connection import wait as wait_connections
from typing import Any, Protocol

from backend.app.core.config import Settings
from backend.app.workers.protocol import Channel, JobSpec, WorkerMessage

JobTarget = Callable[[JobSpec, Any, Any], None]
log = logging.getLogger(__name__)


class WorkerHandle(Protocol):
    """One started job, as the manager sees it."""

    pid: int | None  # the worker process's id once known (a Ray worker reports its own)

    def receive(self, wait: float = 0.0, limit: int = 5000) -> list[WorkerMessage]:
        """The messages that arrived (waiting up to ``wait`` s for the first); ``[]`` once closed."""
        ...

    def alive(self) -> bool:
        """True while the job's worker may still run or report."""
        ...

    def request_stop(self) -> None:
        """Set the job's stop flag (the trainer stops at its next iteration and reports ``cancelled``)."""
        ...

    def terminate(self) -> None:
        """Stop the worker now, politely where the executor can (the grace period is over)."""
        ...

    def kill(self) -> None:
        """Stop the worker now, by force."""
        ...

    def join(self, timeout: float) -> None:
        """Wait up to ``timeout`` s for the worker to be gone."""
        ...

    def exit_reason(self) -> str:
        """Why a worker that ended without reporting its result ended."""
        ...

    def close(self) -> None:
        """Release the handle's resources (pipe, process object, its key on the channel actor)."""
        ...


class Executor(Protocol):
    """Starts jobs; ``open`` before the first, ``close`` after the last."""

    name: str

    def open(self) -> None: ...

    def start(self, job: JobSpec) -> WorkerHandle:
        """Start ``job``; raises when it cannot be started."""
        ...

    def wait(self, handles: Sequence[WorkerHandle], timeout: float) -> None:
        """Block up to ``timeout`` s or until one of ``handles`` may have something to receive."""
        ...

    def close(self) -> None: ...


def _exit_reason(code: int | None) -> str:
    if code is not None and code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"worker process died (killed by {name}) before finishing"
    return f"worker process exited with code {code} without reporting a result"


class LocalHandle:
    """A spawned worker process and the manager's (reading) end of its pipe.

    A job handed to a warm worker (``restart`` given) is the worker's only once the worker says it
    took it (:data:`TOOK_JOB`, its first message). A SIGKILLed worker whose imports started threads
    shows as a zombie while they exit, not yet waitable and its pipes open, so a job can be sent into
    a process that is already dead. EOF before that answer starts the job cold instead
    (``restart()``: another handle, whose process, pipe and stop flag this one takes over).
    """

    def __init__(self, process: Any, conn: Any, stop_event: Any, restart: Callable[[], LocalHandle] | None = None) -> None:
        self.process, self.conn, self.stop_event = process, conn, stop_event
        self.pid: int | None = process.pid
        self.on_close: Callable[[], None] | None = None  # called once, when the handle is closed
        self._restart = restart
        self._inbox: list[WorkerMessage] = []

    def receive(self, wait: float = 0.0, limit: int = 5000) -> list[WorkerMessage]:
        self._read(wait, limit)
        out, self._inbox = self._inbox, []
        return out

    def _read(self, wait: float, limit: int) -> None:
        for _ in range(limit):
            if self.conn is None:
                break
            try:
                if not self.conn.poll(wait):
                    break
                message = self.conn.recv()
            except (EOFError, OSError, ValueError):  # the worker is gone (or died mid-write)
                self._close_pipe()
                if self._restart is None:
                    break
                self._start_cold()
                continue
            wait = 0.0
            if self._restart is not None and message == TOOK_JOB:
                self._restart = None
                continue
            self._inbox.append(message)

    def _start_cold(self) -> None:
        """The warm worker died before it took the job: the job runs in a cold-started process instead."""
        restart, self._restart = self._restart, None
        assert restart is not None
        log.warning("the warm worker %s died before it took its job: starting the job cold", self.pid)
        dead, fresh = self.process, restart()
        if self.stop_event.is_set():  # a stop asked meanwhile holds for the new process too
            fresh.stop_event.set()
        self.process, self.conn, self.stop_event, self.pid = fresh.process, fresh.conn, fresh.stop_event, fresh.pid
        dead.join(2.0)
        with contextlib.suppress(ValueError):
            dead.close()

    def alive(self) -> bool:
        if self._restart is not None:
            self._read(0.0, 5000)  # (a warm worker dead before it took the job: started cold now)
        try:
            return bool(self.process.is_alive())
        except ValueError:  # the handle is closed
            return False

    def request_stop(self) -> None:
        self.stop_event.set()

    def terminate(self) -> None:
        self.process.terminate()

    def kill(self) -> None:
        self.process.kill()

    def join(self, timeout: float) -> None:
        self.process.join(timeout)

    def exit_reason(self) -> str:
        return _exit_reason(self.process.exitcode)

    def _close_pipe(self) -> None:
        if self.conn is not None:
            with contextlib.suppress(OSError):
                self.conn.close()
            self.conn = None

    def close(self) -> None:
        self._close_pipe()
        with contextlib.suppress(ValueError):  # still running (a deleted run's, being killed)
            self.process.close()
        notify, self.on_close = self.on_close, None
        if notify is not None:
            notify()


TOOK_JOB = "motornet-warm-worker-took-its-job"
"""What a warm worker sends first once it has its job."""


def _warm_main(target: JobTarget, jobs: Any, writer: Any, node: str, stop_event: Any) -> None:
    """A worker started ahead of its job: import the training stack, wait for one job, run it, exit.

    The imports are what a cold worker spends most of its first seconds on (torch, the core). The
    job's own set-up (its memory cap, its thread count) is still :func:`run_job`'s, as in a cold
    worker. The server closing ``jobs`` without sending (shutdown) ends the process.
    """
    import torch  # noqa: F401

    import motornet_core.training  # noqa: F401

    try:
        job = jobs.recv()
    except (EOFError, OSError):
        return
    finally:
        jobs.close()
    writer.send(TOOK_JOB)  # before any message of the job's (LocalHandle reads it)
    target(job, Channel(writer, node=node), stop_event)


@dataclass
class _Warm:
    """A started worker waiting for its job: the process, the job pipe's sending end, the message
    pipe's reading end and the job's stop flag."""

    process: Any
    jobs: Any
    reader: Any
    stop_event: Any

    def discard(self) -> None:
        """Stop the waiting process (it holds no job and no state) and release its pipes."""
        for conn in (self.jobs, self.reader):
            with contextlib.suppress(OSError):
                conn.close()
        if self.process.is_alive():
            self.process.kill()
        self.process.join(2.0)


class LocalExecutor:
    """Each job in its own spawn-context process of this machine (``node`` = its host name).

    With ``warm`` one process is kept started ahead, its imports done (~3-5 s of a cold start on a
    2-core VM, ~400 MB idle): a job takes it, and the next one is started while fewer jobs run than
    the machine has cores (so that its imports never compete with training for a core; on a machine
    full of jobs, jobs start cold as without it). A warm process that died meanwhile is replaced by a
    cold start, so a job never waits on it.
    """

    name = "local"

    def __init__(self, target: JobTarget, warm: bool = False) -> None:
        self.target = target
        self.warm = warm
        self.ctx = mp.get_context("spawn")
        self.node = f"local ({socket.gethostname()})"
        self._spare: _Warm | None = None
        self._jobs: list[LocalHandle] = []  # started jobs, pruned at each start and each close
        self.cores = os.cpu_count() or 1
        self._closed = False
        self._lock = threading.Lock()  # the manager's thread starts jobs; close() may come from another

    @property
    def spare_pid(self) -> int | None:
        """The process id of the worker waiting for the next job, if one is."""
        return None if self._spare is None else self._spare.process.pid

    def open(self) -> None:
        with self._lock:
            self._closed = False
            self._refill()

    def _refill(self) -> None:
        """Start a worker for the next job when warm, none waits and a core is free of jobs (a failure
        is logged: jobs then start cold)."""
        self._jobs = [h for h in self._jobs if h.alive()]  # (drops closed handles: no job is kept past its end)
        if not self.warm or self._closed or self._spare is not None or len(self._jobs) >= self.cores:
            return
        reader, writer = self.ctx.Pipe(duplex=False)
        jobs_in, jobs_out = self.ctx.Pipe(duplex=False)
        stop_event = self.ctx.Event()
        process = self.ctx.Process(
            target=_warm_main,
            args=(self.target, jobs_in, writer, self.node, stop_event),
            name="motornet-worker-warm",
            daemon=True,
        )
        try:
            process.start()
        except Exception as exc:
            log.warning("could not start a warm worker (jobs start cold): %s", exc)
            for conn in (reader, jobs_out):
                conn.close()
            return
        finally:
            writer.close()
            jobs_in.close()
        self._spare = _Warm(process, jobs_out, reader, stop_event)

    def _take_spare(self, job: JobSpec) -> LocalHandle | None:
        """The warm worker, given ``job``; None when there is none or it cannot take it."""
        spare, self._spare = self._spare, None
        if spare is None:
            return None
        if spare.process.is_alive():
            try:
                spare.jobs.send(job)
            except (OSError, ValueError) as exc:
                log.warning(
                    "the warm worker %s could not take run %d (%s): starting one cold", spare.process.pid, job.run_id, exc
                )
            else:
                spare.jobs.close()
                log.info("run %d starts in the warm worker %s", job.run_id, spare.process.pid)
                return LocalHandle(spare.process, spare.reader, spare.stop_event, restart=lambda: self._start_cold(job))
        else:
            log.warning(
                "the warm worker %s had exited (%s): run %d starts cold", spare.process.pid, spare.process.exitcode, job.run_id
            )
        spare.discard()
        return None

    def start(self, job: JobSpec) -> LocalHandle:
        with self._lock:
            handle = self._take_spare(job) if self.warm else None
            if handle is None:
                handle = self._start_cold(job)
            self._jobs.append(handle)
            self._refill()
        handle.on_close = self._job_closed
        return handle

    def _job_closed(self) -> None:
        """A job's handle was closed: its core may be free for the next warm worker."""
        with self._lock:
            self._refill()

    def _start_cold(self, job: JobSpec) -> LocalHandle:
        reader, writer = self.ctx.Pipe(duplex=False)
        stop_event = self.ctx.Event()
        process = self.ctx.Process(
            target=self.target,
            args=(job, Channel(writer, node=self.node), stop_event),
            name=f"motornet-run-{job.run_id}",
            daemon=True,
        )
        try:
            process.start()
        except Exception:
            reader.close()
            raise
        finally:
            writer.close()  # the child holds its own copy; EOF on the reader then means the worker is gone
        return LocalHandle(process, reader, stop_event)

    def wait(self, handles: Sequence[WorkerHandle], timeout: float) -> None:
        conns = [h.conn for h in handles if isinstance(h, LocalHandle) and h.conn is not None]
        if not conns:
            return
        with contextlib.suppress(OSError, ValueError):  # a pipe closed by delete() meanwhile
            wait_connections(conns, timeout=timeout)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            spare, self._spare = self._spare, None
        if spare is not None:
            spare.discard()


def make_executor(settings: Settings, target: JobTarget) -> Executor:
    """The executor ``settings.executor`` names (``local`` or ``ray``)."""
    if settings.executor == "ray":
        from backend.app.workers.ray_executor import RayExecutor

        return RayExecutor(settings, target)
    return LocalExecutor(target, warm=settings.warm_worker)
