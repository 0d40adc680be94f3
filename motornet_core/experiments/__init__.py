"""Experiments: many networks (conditions x seeds) trained as replicate ensembles and compared with statistics."""

from motornet_core.experiments.aggregate import Comparison, Summary, compare, curve, summarise
from motornet_core.experiments.spec import (
    ChoiceParam,
    Condition,
    ExperimentSpec,
    IntParam,
    RandomSweep,
    SearchSpec,
    UniformParam,
    condition_of,
    conditions,
    grid_points,
)

__all__ = [
    "ChoiceParam",
    "Comparison",
    "Condition",
    "ExperimentSpec",
    "IntParam",
    "RandomSweep",
    "SearchSpec",
    "Summary",
    "UniformParam",
    "compare",
    "condition_of",
    "conditions",
    "curve",
    "grid_points",
    "summarise",
]
