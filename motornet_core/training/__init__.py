"""Training: the :class:`Trainer`, its reporting protocol and policy evaluation."""

from motornet_core.training.ensemble import EnsembleTrainer, replicate_specs
from motornet_core.training.loop import Trainer, TrainingDiverged, evaluate_policy, learning_rate
from motornet_core.training.records import Snapshot, TrainResult, dumps, jsonable
from motornet_core.training.rollout import ClosedLoop, build_snapshot, rollout
from motornet_core.training.sinks import ListSink, NullSink, TrainingSink

__all__ = [
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
    "dumps",
    "evaluate_policy",
    "jsonable",
    "learning_rate",
    "replicate_specs",
    "rollout",
]
