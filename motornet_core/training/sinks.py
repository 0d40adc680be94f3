"""Where a training run reports: the :class:`TrainingSink` protocol and a do-nothing base."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from motornet_core.training.records import Snapshot


@runtime_checkable
class TrainingSink(Protocol):
    """Receives a run's progress. Subclass :class:`NullSink` and override only what you need.

    * ``on_metric(step, values)``: after every iteration; ``values`` has ``loss``, one
      ``loss/<term>`` per active loss term (weighted contributions that sum to ``loss``), ``lr``
      and ``grad_norm``.
    * ``on_snapshot(step, snapshot)``: every ``eval_every`` iterations and at the end; the
      snapshot is a :class:`~motornet_core.training.Snapshot` (``snapshot.to_dict()`` is its JSON).
    * ``on_checkpoint(step, path)``: after a checkpoint file was written.
    * ``on_log(level, message)``: human-readable events (``"info"``, ``"warning"``, ``"error"``).
    """

    def on_metric(self, step: int, values: dict[str, float]) -> None: ...

    def on_snapshot(self, step: int, snapshot: Snapshot) -> None: ...

    def on_checkpoint(self, step: int, path: str) -> None: ...

    def on_log(self, level: str, message: str) -> None: ...


class NullSink:
    """A sink that ignores everything; the base class of partial sinks."""

    def on_metric(self, step: int, values: dict[str, float]) -> None:
        """Ignore a metric row."""

    def on_snapshot(self, step: int, snapshot: Snapshot) -> None:
        """Ignore a snapshot."""

    def on_checkpoint(self, step: int, path: str) -> None:
        """Ignore a checkpoint."""

    def on_log(self, level: str, message: str) -> None:
        """Ignore a log line."""


class ListSink(NullSink):
    """Keeps everything in lists (handy in tests and notebooks)."""

    def __init__(self) -> None:
        self.metrics: list[tuple[int, dict[str, float]]] = []
        self.snapshots: list[tuple[int, Snapshot]] = []
        self.checkpoints: list[tuple[int, str]] = []
        self.logs: list[tuple[str, str]] = []

    def on_metric(self, step: int, values: dict[str, float]) -> None:
        """Store a metric row."""
        self.metrics.append((step, values))

    def on_snapshot(self, step: int, snapshot: Snapshot) -> None:
        """Store a snapshot."""
        self.snapshots.append((step, snapshot))

    def on_checkpoint(self, step: int, path: str) -> None:
        """Store a checkpoint path."""
        self.checkpoints.append((step, path))

    def on_log(self, level: str, message: str) -> None:
        """Store a log line."""
        self.logs.append((level, message))
