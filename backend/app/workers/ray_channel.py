"""The Ray executor's channel actor: every job's pending messages and stop flag, by job key.

One long-lived actor (or a small pool) serves many jobs, so that a job costs no actor process of its
own. Kept free of torch and of the studio's other modules (stdlib only): the actor's process starts
in a fraction of a second and holds only opaque batches, pickled by the worker and unpickled by the
server, never looked into here.
"""

from __future__ import annotations

import os


class _Box:
    """One job's batches not yet drained, and its stop flag."""

    __slots__ = ("batches", "stop")

    def __init__(self) -> None:
        self.batches: list[bytes] = []
        self.stop = False


class ChannelActor:
    """The Ray actor class (``ray.remote(ChannelActor)``): per job key, a batch list and a stop flag.

    A key is known from its first ``put`` or ``stop`` until ``close``; a closed key stays closed: a
    late ``put`` from its worker (a force-killed task's last send) is dropped and answered "stop".
    """

    def __init__(self) -> None:
        self.jobs: dict[str, _Box] = {}
        self.closed: set[str] = set()  # one short string per ended job (a few MB after 100,000 jobs)

    def _box(self, key: str) -> _Box | None:
        if key in self.closed:
            return None
        box = self.jobs.get(key)
        if box is None:
            box = self.jobs[key] = _Box()
        return box

    def put(self, key: str, batch: bytes) -> bool:
        """Append a worker's pickled batch; returns the job's stop flag (True once closed)."""
        box = self._box(key)
        if box is None:
            return True
        box.batches.append(batch)
        return box.stop

    def drain(self, key: str, limit: int) -> tuple[list[bytes], bool]:
        """Up to ``limit`` batches of ``key``, oldest first, and whether more are left."""
        box = self._box(key)
        if box is None:
            return [], False
        out, box.batches = box.batches[:limit], box.batches[limit:]
        return out, bool(box.batches)

    def stop(self, key: str) -> None:
        """Set the job's stop flag (its worker reads it with its next send)."""
        box = self._box(key)
        if box is not None:
            box.stop = True

    def close(self, key: str) -> None:
        """Forget the job (its undrained batches included); later sends from its worker are dropped."""
        self.jobs.pop(key, None)
        self.closed.add(key)

    def pid(self) -> int:
        """The actor's process id (a readiness probe)."""
        return os.getpid()
