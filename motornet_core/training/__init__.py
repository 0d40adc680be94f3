"""Training: the :class:`Trainer`, its reporting protocol and policy evaluation."""

from motornet_core.training.loop import Trainer, TrainingDiverged, evaluate_policy, learning_rate
from motornet_core.training.rollout import ClosedLoop, build_snapshot, rollout
from motornet_core.training.sinks import ListSink, NullSink, TrainingSink

__all__ = [
    "ClosedLoop",
    "ListSink",
    "NullSink",
    "Trainer",
    "TrainingDiverged",
    "TrainingSink",
    "build_snapshot",
    "evaluate_policy",
    "learning_rate",
    "rollout",
]
