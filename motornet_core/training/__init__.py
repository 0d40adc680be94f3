"""Training: the :class:`Trainer`, its reporting protocol and policy evaluation."""

from motornet_core.training.ensemble import EnsembleTrainer, replicate_specs
from motornet_core.training.loop import (
    CheckpointInfo,
    Trainer,
    TrainingDiverged,
    choose_device,
    evaluate_policy,
    learning_rate,
    read_checkpoint,
)
from motornet_core.training.records import Snapshot, TrainResult, dumps, jsonable
from motornet_core.training.rollout import ClosedLoop, build_snapshot, rollout
from motornet_core.training.sinks import ListSink, NullSink, TrainingSink

__all__ = [
    "CheckpointInfo",
    "ClosedLoop",
    "EnsembleTrainer",
    "ListSink",
    "NullSink",
    "Snapshot",
    "Trainer",
    "TrainingDiverged",
    "TrainResult",
    "TrainingSink",
    "build_snapshot",
    "choose_device",
    "dumps",
    "evaluate_policy",
    "jsonable",
    "learning_rate",
    "read_checkpoint",
    "replicate_specs",
    "rollout",
]
