"""Population analyses of hidden activity: cosine tuning (preferred movement direction) and PCA."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike


def fit_cosine_tuning(directions: ArrayLike, rates: ArrayLike) -> dict[str, np.ndarray]:
    """Least-squares fit of r = b0 + b1 cos(theta) + b2 sin(theta) for every unit.

    The cosine tuning model of Georgopoulos et al. (1982): r = b0 + d cos(theta - PMD).

    Args:
        directions: (K,) movement directions [rad] (at least 3 distinct).
        rates: (K, N) activity of N units (e.g. the mean over a time window) per direction.

    Returns:
        ``pmd`` (N,) preferred direction [rad] in (-pi, pi], ``depth`` (N,) modulation depth d,
        ``baseline`` (N,) b0, ``r2`` (N,) coefficient of determination (1 for a constant unit
        that the fit explains exactly, 0 when it explains nothing).
    """
    theta = np.asarray(directions, float)
    y = np.asarray(rates, float)
    if y.ndim == 1:
        y = y[:, None]
    if theta.shape[0] != y.shape[0]:
        raise ValueError(f"need one row of rates per direction: {theta.shape[0]} directions, {y.shape[0]} rows")
    if len(np.unique(np.round(np.mod(theta, 2 * np.pi), 9))) < 3:
        raise ValueError("cosine tuning needs at least 3 distinct directions")
    design = np.stack([np.ones_like(theta), np.cos(theta), np.sin(theta)], axis=1)  # (K, 3)
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)  # (3, N)
    fitted = design @ coef
    ss_res = ((y - fitted) ** 2).sum(0)
    ss_tot = ((y - y.mean(0)) ** 2).sum(0)
    with np.errstate(divide="ignore", invalid="ignore"):
        r2 = np.where(ss_tot > 1e-15, 1 - ss_res / np.maximum(ss_tot, 1e-300), 1.0)
    return {
        "pmd": np.arctan2(coef[2], coef[1]),
        "depth": np.hypot(coef[1], coef[2]),
        "baseline": coef[0],
        "r2": r2,
    }


def pca(activity: ArrayLike, n_components: int = 3) -> dict[str, Any]:
    """Principal components of population activity.

    Args:
        activity: (B, T, H) trials x time x units, or (S, H) samples x units.
        n_components: k.

    Returns:
        ``components`` (k, H) unit-norm axes, ``explained_variance_ratio`` (k,), ``mean`` (H,) and
        ``projection`` with the input's leading shape and k last ((B, T, k) or (S, k)).
    """
    x = np.asarray(activity, float)
    lead = x.shape[:-1]
    flat = x.reshape(-1, x.shape[-1])
    mean = flat.mean(0)
    centred = flat - mean
    _, s, vt = np.linalg.svd(centred, full_matrices=False)
    k = min(n_components, vt.shape[0])
    var = s**2
    total = var.sum()
    ratio = var[:k] / total if total > 0 else np.zeros(k)
    comps = vt[:k]
    # a sign convention so that results are reproducible: the largest loading of each axis is positive
    signs = np.sign(comps[np.arange(k), np.abs(comps).argmax(1)])
    comps = comps * np.where(signs == 0, 1, signs)[:, None]
    return {
        "components": comps,
        "explained_variance_ratio": ratio,
        "mean": mean,
        "projection": (centred @ comps.T).reshape(*lead, k),
    }


def preferred_directions(hidden: ArrayLike, directions: ArrayLike, window: slice | None = None) -> dict[str, np.ndarray]:
    """Cosine-tuning fit of hidden activity (B, T, H) averaged over ``window`` of time points."""
    h = np.asarray(hidden, float)
    h = h[:, window] if window is not None else h
    return fit_cosine_tuning(directions, h.mean(axis=1))
