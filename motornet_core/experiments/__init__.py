"""Experiments: many networks (conditions x seeds) trained as replicate ensembles and compared with statistics."""

from motornet_core.experiments.aggregate import (
    Comparison,
    PairedComparison,
    Summary,
    compare,
    compare_paired,
    curve,
    summarise,
)
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
    "PairedComparison",
    "RandomSweep",
    "SearchSpec",
    "Summary",
    "UniformParam",
    "compare",
    "compare_paired",
    "condition_of",
    "conditions",
    "curve",
    "grid_points",
    "summarise",
]
