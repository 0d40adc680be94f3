"""Analyses: reach kinematics, unit tuning and PCA, biomechanics, muscle sizing checks, and plotly figure builders."""

from motornet_core.analysis.biomechanics import geometry_over_grid, joint_grid, muscle_curves
from motornet_core.analysis.figures import (
    activation_figure,
    loss_figure,
    moment_arm_figure,
    muscle_curves_figure,
    pca_figure,
    trajectories_figure,
    tuning_figure,
)
from motornet_core.analysis.kinematics import (
    endpoint_error,
    hand_speed,
    lateral_deviation,
    movement_time,
    peak_speed,
    reach_summary,
    reaction_time,
)
from motornet_core.analysis.neural import fit_cosine_tuning, pca, preferred_directions
from motornet_core.analysis.physiology import MusclePhysiology, PhysiologyWarning, muscle_physiology, physiology_warnings
from motornet_core.analysis.summary import analyse_snapshot

__all__ = [
    "MusclePhysiology",
    "PhysiologyWarning",
    "activation_figure",
    "analyse_snapshot",
    "endpoint_error",
    "fit_cosine_tuning",
    "geometry_over_grid",
    "hand_speed",
    "joint_grid",
    "lateral_deviation",
    "loss_figure",
    "moment_arm_figure",
    "movement_time",
    "muscle_curves",
    "muscle_curves_figure",
    "muscle_physiology",
    "pca",
    "pca_figure",
    "peak_speed",
    "physiology_warnings",
    "preferred_directions",
    "reach_summary",
    "reaction_time",
    "trajectories_figure",
    "tuning_figure",
]
