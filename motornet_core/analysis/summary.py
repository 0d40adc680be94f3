"""One call from a training snapshot to JSON-ready analyses (kinematics, tuning, PCA)."""

from __future__ import annotations

from typing import Any

import numpy as np

from motornet_core.analysis.kinematics import reach_summary
from motornet_core.analysis.neural import fit_cosine_tuning, pca


def _json(x: Any) -> Any:
    if isinstance(x, dict):
        return {k: _json(v) for k, v in x.items()}
    if isinstance(x, np.ndarray):
        return np.round(x.astype(float), 6).tolist()
    return x


def analyse_snapshot(snapshot: dict[str, Any], n_components: int = 3) -> dict[str, Any]:
    """Kinematics of every trial, cosine tuning of the hidden units and PCA of their activity.

    Movement directions are those from each trial's start to its target; tuning uses the hidden
    activity averaged over the whole trial and needs at least 3 distinct directions (else
    ``tuning`` is None). Reaction times count from each trial's ``go_time`` (snapshots without
    one, written before it existed: from t = 0).

    Returns:
        ``{"kinematics": reach_summary(...), "directions": [B] rad, "tuning": {"pmd", "depth",
        "baseline", "r2"} | None, "pca": {"explained_variance_ratio", "projection" [B][T][k]}}``.
    """
    hand = np.asarray(snapshot["hand"], float)  # (B, T, 2)
    targets = np.asarray(snapshot["targets"], float)
    time = np.asarray(snapshot["time"], float)
    dt = float(time[1] - time[0]) if len(time) > 1 else float(snapshot["dt"])
    start = hand[:, 0]
    directions = np.arctan2(targets[:, 1] - start[:, 1], targets[:, 0] - start[:, 0])
    go_time = np.asarray(snapshot.get("go_time", 0.0), float)  # (B,) or () [s]
    hidden = np.asarray(snapshot["hidden"], float)  # (B, T, H)
    try:
        tuning = _json(fit_cosine_tuning(directions, hidden.mean(axis=1)))
    except ValueError:
        tuning = None
    components = pca(hidden, n_components)
    return {
        "kinematics": reach_summary(hand, targets, dt, start=start, go_time=go_time),
        "directions": _json(directions),
        "tuning": tuning,
        "pca": {
            "explained_variance_ratio": _json(components["explained_variance_ratio"]),
            "projection": _json(components["projection"]),
        },
    }
