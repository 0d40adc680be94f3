"""Experiment updates for ``/ws/experiments/{id}``, and the stored ``experiments.status`` (manager thread).

The manager's :class:`~backend.app.workers.publisher.Publisher` tells the watcher of every run
message it publishes (:meth:`ExperimentWatcher.note`, any thread); on each manager tick the watcher
finds the experiments whose runs changed status or progress, and at most every ``min_interval``
seconds per experiment (4 a second) stores the status derived from its runs and publishes
``{"type": "experiment", ...ExperimentOut...}`` to the experiment hub. An experiment that ends is
published once more after its last change, so its viewers' last message is the end.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from backend.app.core.db import session_scope
from backend.app.experiment_state import experiment_view, forget
from backend.app.models import Experiment, Run
from backend.app.status import ACTIVE_STATUSES
from backend.app.streaming.hub import Hub
from backend.app.streaming.messages import LiveMessage
from motornet_core.training.records import dumps

log = logging.getLogger(__name__)


class ExperimentWatcher:
    """Run messages in, throttled experiment messages out (one hub channel per experiment id)."""

    def __init__(self, sessions: sessionmaker[Session], hub: Hub, min_interval: float = 0.25) -> None:
        self.sessions, self.hub, self.min_interval = sessions, hub, min_interval
        self._lock = threading.Lock()
        self._runs: set[int] = set()  # runs whose status or progress changed since the last tick
        self._dirty: set[int] = set()  # experiments to publish
        self._experiment_of: dict[int, int | None] = {}
        self._last: dict[int, float] = {}
        self._seq: dict[int, int] = {}

    def note(self, message: LiveMessage) -> None:
        """A run message was published (from any thread)."""
        if message.type in ("status", "metric"):
            with self._lock:
                self._runs.add(message.run_id)

    def touch(self, experiment_id: int) -> None:
        """Publish the experiment on the next tick (its name or notes changed, it was created...)."""
        with self._lock:
            self._dirty.add(experiment_id)

    def touch_unfinished(self) -> None:
        """Recompute every experiment whose stored status is not an end (at start-up)."""
        with session_scope(self.sessions) as s:
            ids = list(s.scalars(select(Experiment.id).where(Experiment.status.in_(list(ACTIVE_STATUSES)))))
        for exp_id in ids:
            self.touch(exp_id)

    def tick(self, steps: Mapping[int, int]) -> None:
        """Publish the experiments that changed (throttled); ``steps``: run id -> in-memory step."""
        with self._lock:
            runs, self._runs = self._runs, set()
        unknown = [r for r in runs if r not in self._experiment_of]
        if unknown:
            with session_scope(self.sessions) as s:
                found = dict(s.execute(select(Run.id, Run.experiment_id).where(Run.id.in_(unknown))).tuples().all())
            for rid in unknown:
                self._experiment_of[rid] = found.get(rid)
        now = time.monotonic()
        with self._lock:
            self._dirty |= {e for r in runs if (e := self._experiment_of.get(r)) is not None}
            due = [e for e in self._dirty if now - self._last.get(e, 0.0) >= self.min_interval]
            self._dirty -= set(due)
        for exp_id in due:
            self._last[exp_id] = now
            self.publish(exp_id, steps)

    def publish(self, experiment_id: int, steps: Mapping[int, int] | None = None) -> None:
        """Store the experiment's derived status and send its state to its viewers."""
        with session_scope(self.sessions) as s:
            exp = s.get(Experiment, experiment_id)
            if exp is None:
                return
            view = experiment_view(s, exp, steps)
            if exp.status != view.status:
                exp.status = view.status
        seq = self._seq.get(experiment_id, 0) + 1
        self._seq[experiment_id] = seq
        self.hub.publish(experiment_id, seq, "experiment", None, dumps({"type": "experiment", **view.model_dump(mode="json")}))

    def close(self, experiment_id: int, run_ids: list[int]) -> None:
        """A deleted experiment: its viewers get ``{"type": "experiment", "id", "status": "deleted"}``, then the end."""
        with self._lock:
            self._dirty.discard(experiment_id)
            for rid in run_ids:
                self._experiment_of.pop(rid, None)
        forget(experiment_id)
        seq = self._seq.pop(experiment_id, 0)
        self.hub.close(experiment_id, seq, dumps({"type": "experiment", "id": experiment_id, "status": "deleted"}))
