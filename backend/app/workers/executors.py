"""Where a worker job runs: the executor interface and its default, spawned local processes.

The :class:`~backend.app.workers.manager.WorkerManager` starts every job through an
:class:`Executor` and watches it through the :class:`WorkerHandle` it returns; everything else
(the queue, the single database writer, cancel's grace period, restart recovery) is the manager's
and the same for every executor. Two implementations:

- :class:`LocalExecutor` (the default, nothing to start): a spawn-context process per job with its
  own one-way pipe.
- :class:`backend.app.workers.ray_executor.RayExecutor` (``--executor ray``): a Ray task per job on a
  Ray cluster (worker processes reused across jobs), its messages through a shared channel actor, its
  files shipped back to the data dir.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import signal
import socket
from collections.abc import Callable, Sequence
from multiprocessing.connection import wait as wait_connections
from typing import Any, Protocol

from backend.app.core.config import Settings
from backend.app.workers.protocol import Channel, JobSpec, WorkerMessage

JobTarget = Callable[[JobSpec, Any, Any], None]


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
    """A spawned worker process and the manager's (reading) end of its pipe."""

    def __init__(self, process: Any, conn: Any, stop_event: Any) -> None:
        self.process, self.conn, self.stop_event = process, conn, stop_event
        self.pid: int | None = process.pid

    def receive(self, wait: float = 0.0, limit: int = 5000) -> list[WorkerMessage]:
        out: list[WorkerMessage] = []
        for _ in range(limit):
            if self.conn is None:
                break
            try:
                if not self.conn.poll(wait):
                    break
                out.append(self.conn.recv())
            except (EOFError, OSError, ValueError):  # the worker is gone (or died mid-write)
                self._close_pipe()
                break
            wait = 0.0
        return out

    def alive(self) -> bool:
        return bool(self.process.is_alive())

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


class LocalExecutor:
    """Each job in a fresh spawn-context process of this machine (``node`` = its host name)."""

    name = "local"

    def __init__(self, target: JobTarget) -> None:
        self.target = target
        self.ctx = mp.get_context("spawn")
        self.node = f"local ({socket.gethostname()})"

    def open(self) -> None:
        return None

    def start(self, job: JobSpec) -> LocalHandle:
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
        return None


def make_executor(settings: Settings, target: JobTarget) -> Executor:
    """The executor ``settings.executor`` names (``local`` or ``ray``)."""
    if settings.executor == "ray":
        from backend.app.workers.ray_executor import RayExecutor

        return RayExecutor(settings, target)
    return LocalExecutor(target)
