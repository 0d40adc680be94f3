"""What the child-process entries of the workers share (:mod:`.job` for training, :mod:`.study_job` for studies)."""

from __future__ import annotations

import logging
import math
import time
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
