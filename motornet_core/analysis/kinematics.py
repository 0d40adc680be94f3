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


def signed_lateral(hand: ArrayLike, start: ArrayLike, target: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """(B, T) [m] signed perpendicular distance from the start-target line (+ left) and (B, T) [m] progress along it."""
    hand, start, target = np.asarray(hand, float), np.asarray(start, float), np.asarray(target, float)
    axis = target - start
    axis = axis / np.maximum(np.linalg.norm(axis, axis=-1, keepdims=True), 1e-12)
    normal = np.stack([-axis[:, 1], axis[:, 0]], axis=-1)
    rel = hand - start[:, None, :]
    return (rel * normal[:, None, :]).sum(-1), (rel * axis[:, None, :]).sum(-1)


def outward_window(
    hand: ArrayLike, start: ArrayLike, target: ArrayLike, dt: float, threshold: float = 0.1, arrival_radius: float = 0.01
) -> tuple[np.ndarray, np.ndarray]:
    """(B,) sample indices of the outward movement: its onset and its arrival (inclusive).

    Onset: the first sample whose speed exceeds ``threshold`` x the trial's peak speed. Arrival: the
    first sample at or after the onset within ``arrival_radius`` [m] of the target or past the line
    through the target perpendicular to the reach (an overshoot starts there); the last sample when
    the hand gets to neither.
    """
    hand = np.asarray(hand, float)
    speed = hand_speed(hand, dt)
    _, along = signed_lateral(hand, start, target)
    dist = np.linalg.norm(np.asarray(target, float) - np.asarray(start, float), axis=-1)
    to_target = np.linalg.norm(hand - np.asarray(target, float)[:, None, :], axis=-1)
    n_trials, n_points = speed.shape
    onset = np.zeros(n_trials, int)
    arrival = np.full(n_trials, n_points - 1)
    for b in range(n_trials):
        above = np.nonzero(speed[b] > threshold * speed[b].max())[0]
        onset[b] = above[0] if len(above) else 0
        there = np.nonzero((to_target[b] <= arrival_radius) | (along[b] >= dist[b]))[0]
        there = there[there >= onset[b]]
        if len(there):
            arrival[b] = there[0]
    return onset, arrival


def reach_deviations(
    hand: ArrayLike, start: ArrayLike, target: ArrayLike, dt: float, threshold: float = 0.1, arrival_radius: float = 0.01
) -> dict[str, np.ndarray]:
    """Lateral deviation of the outward movement only (onset to arrival, see :func:`outward_window`).

    Returns (B,) arrays: ``outward`` [m] the signed perpendicular distance (+ left) where it is largest
    between onset and arrival, ``at_peak_speed`` [m] the signed perpendicular distance at the largest
    speed of that window, ``whole`` [m] the largest over the whole trial (overshoot and return
    included, as :func:`lateral_deviation`), ``overshoot`` [fraction of the reach distance] the
    largest progress along the reach beyond the target (0 when it never passes it), ``onset`` and
    ``arrival`` [s].
    """
    hand = np.asarray(hand, float)
    lateral, along = signed_lateral(hand, start, target)
    speed = hand_speed(hand, dt)
    onset, arrival = outward_window(hand, start, target, dt, threshold, arrival_radius)
    dist = np.linalg.norm(np.asarray(target, float) - np.asarray(start, float), axis=-1)
    n = len(onset)
    outward, at_peak = np.zeros(n), np.zeros(n)
    for b in range(n):
        win = slice(onset[b], arrival[b] + 1)
        seg = lateral[b, win]
        outward[b] = seg[np.abs(seg).argmax()]
        at_peak[b] = seg[speed[b, win].argmax()]
    whole = lateral[np.arange(n), np.abs(lateral).argmax(axis=1)]
    overshoot = np.maximum(along.max(axis=1) / np.maximum(dist, 1e-12) - 1.0, 0.0)
    return {
        "outward": outward,
        "at_peak_speed": at_peak,
        "whole": whole,
        "overshoot": overshoot,
        "onset": onset * dt,
        "arrival": arrival * dt,
    }
