"""Fan-out of run events to any number of websocket subscribers, with a per-run replay buffer.

``publish`` is thread-safe (the manager calls it from its own thread, through its
:class:`~backend.app.workers.publisher.Publisher`, which numbers and encodes each message once);
each subscriber owns a bounded asyncio queue on its event loop. A subscriber too slow to keep up
loses its oldest messages rather than blocking the manager (its viewer sees a hole in ``seq``
and catches up).

Each run also keeps its latest published messages (``replay_messages`` messages and
``replay_bytes`` of text at most, for the ``replay_runs`` runs published to last). A socket that
joins with ``after_step`` gets a copy of that buffer atomically with its subscription, and sends
what the viewer lacks before anything live: rows that were published before it subscribed but
not yet flushed to the database are not lost (docs/server.md, "Catching up"). The buffer spans
far more than one flush interval, so a message that left it is in the database.

``close`` sends a last message to every subscriber of a run and then ends their subscriptions
(a deleted run: its viewers are told and their sockets closed).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections import OrderedDict, defaultdict, deque
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Published:
    """One published message, as the hub keeps and sends it.

    Attributes:
        index: hub-wide publication order (1, 2, ...; every run together).
        seq: the run's sequence number (see :mod:`backend.app.streaming.messages`).
        kind: the message type (``metric``, ``snapshot``, ``log``, ``status``).
        step: the metric's step (None for other messages).
        text: the JSON text sent to viewers.
    """

    index: int
    seq: int
    kind: str
    step: int | None
    text: str


@dataclass(eq=False)
class Subscription:
    """One websocket's view of one run.

    Attributes:
        buffered: the run's buffered messages when subscribing (oldest first; only when asked for).
        last_seq: the run's last ``seq`` when subscribing (0 when it published nothing yet).
        dropped: messages this subscriber lost because its queue was full.
    """

    run_id: int
    loop: asyncio.AbstractEventLoop
    queue: asyncio.Queue[Published | None] = field(default_factory=asyncio.Queue)
    buffered: list[Published] = field(default_factory=list)
    last_seq: int = 0
    dropped: int = 0

    def _deliver(self, message: Published | None) -> bool:
        """Queue ``message``; True when the queue was full and its oldest message was dropped."""
        dropped = False
        if self.queue.full():
            with contextlib.suppress(asyncio.QueueEmpty):
                self.queue.get_nowait()  # drop the oldest
                self.dropped += 1
                dropped = True
        self.queue.put_nowait(message)
        return dropped

    async def get(self) -> Published | None:
        """Wait for the next message; None once the hub closed this subscription."""
        return await self.queue.get()


class Hub:
    """Run id -> subscribers, and run id -> its latest published messages."""

    def __init__(
        self, max_queue: int = 1000, replay_messages: int = 20_000, replay_bytes: int = 16 << 20, replay_runs: int = 32
    ) -> None:
        self.max_queue = max_queue
        self.replay_messages, self.replay_bytes, self.replay_runs = replay_messages, replay_bytes, replay_runs
        self._subs: dict[int, set[Subscription]] = defaultdict(set)
        self._replay: OrderedDict[int, deque[Published]] = OrderedDict()
        self._replay_size: dict[int, int] = {}
        self._last_seq: dict[int, int] = {}
        self._index = 0
        self._dropped = 0
        self._lock = threading.Lock()

    def mark(self) -> int:
        """The index of the last message published so far (any run)."""
        with self._lock:
            return self._index

    def subscribe(self, run_id: int, replay: bool = False) -> Subscription:
        """Register a subscriber; call from the websocket's event loop.

        With ``replay``, ``sub.buffered`` holds the run's buffered messages: together with the queue,
        everything the run published since its buffer's oldest message, each message exactly once.
        """
        sub = Subscription(run_id, asyncio.get_running_loop(), asyncio.Queue(maxsize=self.max_queue))
        with self._lock:
            self._subs[run_id].add(sub)
            sub.last_seq = self._last_seq.get(run_id, 0)
            if replay:
                sub.buffered = list(self._replay.get(run_id, ()))
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        """Forget a subscriber."""
        with self._lock:
            subs = self._subs.get(sub.run_id)
            if subs is not None:
                subs.discard(sub)
                if not subs:
                    del self._subs[sub.run_id]

    def dropped(self) -> int:
        """Messages dropped so far because a subscriber's queue was full (every run and subscriber)."""
        with self._lock:
            return self._dropped

    def subscriber_count(self, run_id: int) -> int:
        """How many sockets follow ``run_id``."""
        with self._lock:
            return len(self._subs.get(run_id, ()))

    def publish(self, run_id: int, seq: int, kind: str, step: int | None, text: str) -> Published:
        """Keep and send one encoded message of ``run_id`` to its subscribers (from any thread)."""
        with self._lock:
            self._index += 1
            entry = Published(self._index, seq, kind, step, text)
            self._last_seq[run_id] = seq
            self._keep(run_id, entry)
            subs = list(self._subs.get(run_id, ()))
        for sub in subs:
            try:
                sub.loop.call_soon_threadsafe(self._deliver, sub, entry)
            except RuntimeError:  # the subscriber's loop is closed
                self.unsubscribe(sub)
        return entry

    def _deliver(self, sub: Subscription, message: Published | None) -> None:
        """Queue ``message`` for ``sub`` (on the subscriber's loop), counting what a full queue drops."""
        if sub._deliver(message):
            with self._lock:
                self._dropped += 1

    def _keep(self, run_id: int, entry: Published) -> None:
        buffer = self._replay.get(run_id)
        if buffer is None:
            buffer = self._replay[run_id] = deque()
            self._replay_size[run_id] = 0
        self._replay.move_to_end(run_id)
        buffer.append(entry)
        self._replay_size[run_id] += len(entry.text)
        while len(buffer) > self.replay_messages or (self._replay_size[run_id] > self.replay_bytes and len(buffer) > 1):
            self._replay_size[run_id] -= len(buffer.popleft().text)
        while len(self._replay) > self.replay_runs:
            old, _ = self._replay.popitem(last=False)
            del self._replay_size[old]

    def reset_replay(self, run_id: int) -> None:
        """Forget the run's buffered messages (a resumed run: its later rows were deleted)."""
        with self._lock:
            self._replay.pop(run_id, None)
            self._replay_size.pop(run_id, None)

    def close(self, run_id: int, seq: int, text: str) -> None:
        """Send ``text`` to every subscriber of ``run_id``, then end their subscriptions and forget the
        run (from any thread)."""
        with self._lock:
            self._index += 1
            entry = Published(self._index, seq, "status", None, text)
            subs = list(self._subs.pop(run_id, ()))
            self._replay.pop(run_id, None)
            self._replay_size.pop(run_id, None)
            self._last_seq.pop(run_id, None)
        for sub in subs:
            with contextlib.suppress(RuntimeError):  # the subscriber's loop is closed
                sub.loop.call_soon_threadsafe(self._deliver, sub, entry)
                sub.loop.call_soon_threadsafe(self._deliver, sub, None)
