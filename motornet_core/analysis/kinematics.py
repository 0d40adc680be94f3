"""Reach kinematics from fingertip trajectories (numpy in, numpy out).

Shapes: hand (B, T, 2) [m] sampled every ``dt`` seconds; start and target (B, 2) [m].
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike


def endpoint_error(hand: ArrayLike, target: ArrayLike) -> np.ndarray:
    """(B,) [m] distance between the final hand position and the target."""
    hand, target = np.asarray(hand, float), np.asarray(target, float)
    return np.linalg.norm(hand[:, -1] - target, axis=-1)


def lateral_deviation(hand: ArrayLike, start: ArrayLike, target: ArrayLike) -> np.ndarray:
    """(B,) [m] signed perpendicular distance from the straight start-target line at its largest.

    Positive is to the left of the movement direction (counter-clockwise).
    """
    hand, start, target = np.asarray(hand, float), np.asarray(start, float), np.asarray(target, float)
    axis = target - start
    axis = axis / np.maximum(np.linalg.norm(axis, axis=-1, keepdims=True), 1e-12)
    normal = np.stack([-axis[:, 1], axis[:, 0]], axis=-1)
    lateral = ((hand - start[:, None, :]) * normal[:, None, :]).sum(-1)  # (B, T)
    idx = np.abs(lateral).argmax(axis=1)
    return lateral[np.arange(len(idx)), idx]


def hand_speed(hand: ArrayLike, dt: float) -> np.ndarray:
    """(B, T) [m/s] speed from central differences of the position."""
    hand = np.asarray(hand, float)
    return np.linalg.norm(np.gradient(hand, dt, axis=1), axis=-1)


def peak_speed(hand: ArrayLike, dt: float) -> np.ndarray:
    """(B,) [m/s] largest speed of each trial."""
    return hand_speed(hand, dt).max(axis=1)


def movement_onset_offset(
    speed: np.ndarray, dt: float, threshold: float = 0.1, go_time: ArrayLike = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """Onset and offset times [s] where the speed crosses ``threshold`` x its peak (NaN when absent).

    Onset: the first sample at or after the go time (a scalar or one per trial, (B,) [s]) above
    threshold, the peak taken after the go time; offset: the first sample after the peak below it.
    """
    n_trials, n_points = speed.shape
    t = np.arange(n_points) * dt
    go = np.broadcast_to(np.asarray(go_time, float), (n_trials,))
    onset, offset = np.full(n_trials, np.nan), np.full(n_trials, np.nan)
    for b in range(n_trials):
        valid = t >= go[b] - 1e-9
        if not valid.any():
            continue
        level = threshold * speed[b, valid].max()
        above = np.nonzero(valid & (speed[b] > level))[0]
        if level <= 0 or not len(above):
            continue
        onset[b] = t[above[0]]
        peak = above[0] + int(np.argmax(speed[b, above[0] :]))
        below = np.nonzero(speed[b, peak:] < level)[0]
        if len(below):
            offset[b] = t[peak + below[0]]
    return onset, offset


def reaction_time(hand: ArrayLike, dt: float, go_time: ArrayLike = 0.0, threshold: float = 0.1) -> np.ndarray:
    """(B,) [s] from the go signal (``go_time``: a scalar or (B,) [s]) to the movement onset."""
    onset, _ = movement_onset_offset(hand_speed(hand, dt), dt, threshold, go_time)
    return onset - np.asarray(go_time, float)


def movement_time(hand: ArrayLike, dt: float, go_time: ArrayLike = 0.0, threshold: float = 0.1) -> np.ndarray:
    """(B,) [s] from the movement onset to its offset."""
    onset, offset = movement_onset_offset(hand_speed(hand, dt), dt, threshold, go_time)
    return offset - onset


def reach_summary(
    hand: ArrayLike, target: ArrayLike, dt: float, start: ArrayLike | None = None, go_time: ArrayLike = 0.0
) -> dict[str, Any]:
    """Per-trial metrics and their means: endpoint error, lateral deviation, peak speed, RT, MT.

    ``go_time`` (a scalar or (B,) [s]) is when each trial's go signal came: RT counts from it.
    """
    hand = np.asarray(hand, float)
    start = hand[:, 0] if start is None else np.asarray(start, float)
    metrics = {
        "endpoint_error": endpoint_error(hand, target),
        "lateral_deviation": lateral_deviation(hand, start, target),
        "peak_speed": peak_speed(hand, dt),
        "reaction_time": reaction_time(hand, dt, go_time),
        "movement_time": movement_time(hand, dt, go_time),
    }
    out: dict[str, Any] = {k: v.tolist() for k, v in metrics.items()}
    out["mean"] = {k: float(np.nanmean(v)) if np.isfinite(v).any() else None for k, v in metrics.items()}
    return out
