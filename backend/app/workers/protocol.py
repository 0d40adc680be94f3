"""Typed messages a training worker sends to the manager over its own pipe.

Every message is a small frozen dataclass (picklable across the spawn boundary) tagged with the
run id; the manager is the only consumer and the only database writer.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from typing import Any

from backend.app.status import RunKind, RunStatus
from motornet_core.training.records import Snapshot


@dataclass(frozen=True)
class GroupMember:
    """One network of a group job: an experiment condition's replicate, reported as its own run.

    Attributes:
        run_id: database id of the replicate's run.
        spec: its RunSpec as JSON-ready dict (``train.seed`` = base seed + replicate, ``replicates`` 1).
        checkpoint_path: where its checkpoint goes (as a single run's).
        resume_from: its checkpoint to continue from, or None for a fresh start.
    """

    run_id: int
    spec: dict[str, Any]
    checkpoint_path: str
    resume_from: str | None = None


@dataclass(frozen=True)
class JobSpec:
    """What a worker needs to train one run (or to run one study).

    Attributes:
        run_id: database id of the run.
        spec: the RunSpec as JSON-ready dict (a study: ``{"study": name, "params": {...}}``).
        checkpoint_path: where the worker writes its checkpoint.
        resume_from: a checkpoint to continue from, or None for a fresh start.
        kind: ``training`` or ``study``.
        out_dir: a study's artifact directory (figures.json, table.csv, table.json, summary.json).
        members: a group job (an experiment condition's replicates trained as one ensemble): every
            network's run; ``run_id``, ``spec`` and ``checkpoint_path`` are then the first member's.
        memory_limit: the address-space cap [bytes] the worker sets on itself (``RLIMIT_AS``); None: none.
    """

    run_id: int
    spec: dict[str, Any]
    checkpoint_path: str
    resume_from: str | None = None
    kind: RunKind = RunKind.TRAINING
    out_dir: str | None = None
    members: tuple[GroupMember, ...] = ()
    memory_limit: int | None = None


@dataclass(frozen=True)
class StatusMsg:
    """A status change: ``running`` (with the device), or a terminal ``finished|failed|cancelled``.

    ``result``: a training run's ``TrainResult.to_dict()`` or a study's ``StudyResult.headline()``.
    ``node`` and ``pid``: where the worker runs (filled in by its :class:`Channel` on ``running``).
    """

    run_id: int
    status: RunStatus
    error: str | None = None
    device: str | None = None
    step: int | None = None
    result: dict[str, Any] | None = None
    node: str | None = None
    pid: int | None = None


@dataclass(frozen=True)
class MetricMsg:
    """Scalar metrics at one step (keys ``loss``, ``loss/<term>``, ``lr``, ``grad_norm``)."""

    run_id: int
    step: int
    values: dict[str, float]
    time: float


@dataclass(frozen=True)
class SnapshotMsg:
    """An evaluation snapshot at one step."""

    run_id: int
    step: int
    data: Snapshot


@dataclass(frozen=True)
class CheckpointMsg:
    """A checkpoint was written atomically to ``path`` at ``step``."""

    run_id: int
    step: int
    path: str


@dataclass(frozen=True)
class LogMsg:
    """A log line from the worker."""

    run_id: int
    level: str
    message: str
    time: float


WorkerMessage = StatusMsg | MetricMsg | SnapshotMsg | CheckpointMsg | LogMsg


class Channel:
    """The worker's end of its own pipe to the manager: ``put(message)`` sends one message.

    One pipe per worker (not one shared queue): a worker killed halfway through a write can only
    break its own pipe, which the manager discards, never the other workers' reporting.
    """

    def __init__(self, conn: Any, node: str | None = None) -> None:
        self.conn = conn
        self.node = node

    def put(self, message: WorkerMessage) -> None:
        """Send a message (blocks while the pipe is full: back-pressure from a busy manager)."""
        self.conn.send(placed(message, self.node))


def placed(message: WorkerMessage, node: str | None) -> WorkerMessage:
    """``message``, a ``running`` status with this process's node and pid filled in."""
    if isinstance(message, StatusMsg) and message.status == RunStatus.RUNNING and message.node is None:
        return replace(message, node=node, pid=os.getpid())
    return message
