"""What the child-process entries of the workers share (:mod:`.job` for training, :mod:`.study_job` for studies)."""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from backend.app.workers.protocol import CheckpointMsg, LogMsg, MetricMsg, SnapshotMsg
from motornet_core.training.records import Snapshot


class QueueSink:
    """A ``TrainingSink`` that forwards every event to the manager (anything with ``put(message)``)."""

    def __init__(self, run_id: int, queue: Any) -> None:
        self.run_id = run_id
        self.queue = queue

    def on_metric(self, step: int, values: dict[str, float]) -> None:
        clean = {str(k): float(v) for k, v in values.items() if math.isfinite(float(v))}
        self.queue.put(MetricMsg(self.run_id, int(step), clean, time.time()))

    def on_snapshot(self, step: int, snapshot: Snapshot) -> None:
        self.queue.put(SnapshotMsg(self.run_id, int(step), snapshot))

    def on_checkpoint(self, step: int, path: Any) -> None:
        self.queue.put(CheckpointMsg(self.run_id, int(step), str(path)))

    def on_log(self, level: Any, message: str) -> None:
        name = logging.getLevelName(level) if isinstance(level, int) else str(level)
        self.queue.put(LogMsg(self.run_id, str(name).lower(), str(message), time.time()))


class SerialQueue:
    """``put`` from several threads of one worker (the training loop and its stop watcher) onto one pipe."""

    def __init__(self, queue: Any) -> None:
        self.queue = queue
        self._lock = threading.Lock()

    def put(self, message: Any) -> None:
        """Send ``message`` (one sender at a time)."""
        with self._lock:
            self.queue.put(message)


@contextmanager
def checkpoint_on_stop(stop_event: Any, save: Callable[[], None], poll: float = 0.25) -> Iterator[None]:
    """While the block runs, call ``save()`` once (in a thread) as soon as ``stop_event`` is set.

    The training loop notices a stop request only between iterations; an iteration may outlast
    the time the manager gives a stopping worker (its cancel grace, the shutdown window), so the
    last completed iteration is written at once, while the iteration in progress goes on.
    """
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            if stop_event.wait(poll):
                if not done.is_set():
                    try:
                        save()
                    except Exception:  # the loop's own checkpoint may still come
                        logging.getLogger(__name__).exception("checkpoint on stop failed")
                return

    thread = threading.Thread(target=watch, name="checkpoint-on-stop", daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join(poll + 5.0)  # a save in progress finishes (the loop's final checkpoint waits on its lock anyway)


def limit_memory(limit: int | None) -> None:
    """Cap this process's address space at ``limit`` bytes (``RLIMIT_AS``; lowered only, never raised).

    An allocation beyond it then fails inside the worker (``MemoryError`` or torch's "can't allocate
    memory"), which reports the run as failed, instead of the machine running out of memory.
    """
    if not limit:
        return
    try:
        import resource
    except ImportError:  # not on POSIX: no cap
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    new = limit if hard == resource.RLIM_INFINITY else min(limit, hard)
    if soft == resource.RLIM_INFINITY or new < soft:
        resource.setrlimit(resource.RLIMIT_AS, (new, hard))


def out_of_memory_message(exc: BaseException, limit: int | None) -> str | None:
    """A clear reason for a run that ran out of memory (None when ``exc`` is something else)."""
    text = str(exc)
    if not (isinstance(exc, MemoryError) or "can't allocate memory" in text or "Cannot allocate memory" in text):
        return None
    cap = f"its cap of {limit / 1e9:.3g} GB (MOTORNET_STUDIO_WORKER_MEMORY_LIMIT_BYTES)" if limit else "the memory available"
    return (
        f"out of memory: the worker reached {cap}; lower train.batch_size, task.duration or the network size "
        f"({type(exc).__name__}: {text.splitlines()[0][:200] if text else 'no detail'})"
    )
