"""The manager's side of the websocket hub: numbers, encodes and publishes every run message.

The manager (its thread, and the API threads that act through it) is the single writer of run
data; every message viewers get goes through one :class:`Publisher`, which stamps the run's next
sequence number and encodes the JSON once, under one lock, so that the order of ``seq`` is the
order of delivery.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace
from typing import TypeVar

from backend.app.streaming.hub import Hub
from backend.app.streaming.messages import DeletedMessage, LiveMessage
from motornet_core.training.records import dumps

M = TypeVar("M", bound=LiveMessage)


class Publisher:
    """Stamps per-run sequence numbers (stream messages count, statuses repeat the last) and publishes."""

    def __init__(self, hub: Hub, observer: Callable[[LiveMessage], None] | None = None) -> None:
        self.hub = hub
        self.observer = observer  # told of every published message (the experiment watcher)
        self._seq: dict[int, int] = {}
        self._lock = threading.Lock()

    def publish(self, message: M) -> M:
        """Send ``message`` to the run's viewers; returns it with its ``seq``."""
        rid = message.run_id
        with self._lock:
            seq = self._seq.get(rid, 0) + (1 if message.stream else 0)
            self._seq[rid] = seq
            stamped = replace(message, seq=seq)
            step = getattr(stamped, "step", None) if stamped.type == "metric" else None
            self.hub.publish(rid, seq, stamped.type, step, dumps(stamped))
        if self.observer is not None:
            self.observer(stamped)
        return stamped

    def restart(self, run_id: int) -> None:
        """A resumed run starts a new segment: the hub forgets what it buffered (``seq`` goes on)."""
        self.hub.reset_replay(run_id)

    def close(self, message: DeletedMessage) -> None:
        """Send the last message of a deleted run and end its viewers' subscriptions."""
        with self._lock:
            seq = self._seq.pop(message.run_id, 0)
            self.hub.close(message.run_id, seq, dumps(replace(message, seq=seq)))
