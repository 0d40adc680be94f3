"""Fan-out of run events to any number of websocket subscribers.

``publish`` is thread-safe (the manager calls it from its own thread); each subscriber owns an
asyncio queue on its event loop. A subscriber too slow to keep up loses its oldest messages
rather than blocking the manager. Each message is encoded to JSON once, in the publishing thread,
however many sockets follow the run (so a large snapshot costs the event loop nothing per viewer).
``close`` sends a last message to every subscriber of a run and then ends their subscriptions
(a deleted run: its viewers are told and their sockets closed).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any


@dataclass(eq=False)
class Subscription:
    """One websocket's view of one run."""

    run_id: int
    loop: asyncio.AbstractEventLoop
    queue: asyncio.Queue[str | None] = field(default_factory=asyncio.Queue)

    def _deliver(self, message: str | None) -> None:
        if self.queue.full():
            with contextlib.suppress(asyncio.QueueEmpty):
                self.queue.get_nowait()  # drop the oldest
        self.queue.put_nowait(message)

    async def get(self) -> str | None:
        """Wait for the next message (its JSON text); None once the hub closed this subscription."""
        return await self.queue.get()


class Hub:
    """Run id -> subscribers."""

    def __init__(self, max_queue: int = 1000) -> None:
        self.max_queue = max_queue
        self._subs: dict[int, set[Subscription]] = defaultdict(set)
        self._lock = threading.Lock()

    def subscribe(self, run_id: int) -> Subscription:
        """Register a subscriber; call from the websocket's event loop."""
        sub = Subscription(run_id, asyncio.get_running_loop(), asyncio.Queue(maxsize=self.max_queue))
        with self._lock:
            self._subs[run_id].add(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        """Forget a subscriber."""
        with self._lock:
            subs = self._subs.get(sub.run_id)
            if subs is not None:
                subs.discard(sub)
                if not subs:
                    del self._subs[sub.run_id]

    def subscriber_count(self, run_id: int) -> int:
        """How many sockets follow ``run_id``."""
        with self._lock:
            return len(self._subs.get(run_id, ()))

    def publish(self, run_id: int, message: dict[str, Any]) -> None:
        """Send ``message`` to every subscriber of ``run_id`` (from any thread)."""
        with self._lock:
            subs = list(self._subs.get(run_id, ()))
        if not subs:
            return
        text = encode(message)
        for sub in subs:
            try:
                sub.loop.call_soon_threadsafe(sub._deliver, text)
            except RuntimeError:  # the subscriber's loop is closed
                self.unsubscribe(sub)

    def close(self, run_id: int, message: dict[str, Any]) -> None:
        """Send ``message`` to every subscriber of ``run_id``, then end their subscriptions (from any thread)."""
        with self._lock:
            subs = list(self._subs.pop(run_id, ()))
        text = encode(message)
        for sub in subs:
            with contextlib.suppress(RuntimeError):  # the subscriber's loop is closed
                sub.loop.call_soon_threadsafe(sub._deliver, text)
                sub.loop.call_soon_threadsafe(sub._deliver, None)


def encode(message: Any) -> str:
    """Strict JSON text of ``message`` (non-finite numbers become null)."""
    try:
        return json.dumps(message, separators=(",", ":"), allow_nan=False, default=str)
    except ValueError:
        return json.dumps(_finite(message), separators=(",", ":"), allow_nan=False, default=str)


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value
