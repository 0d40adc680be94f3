"""Circular statistics: the Rayleigh test of uniformity and its axial (bimodal) variant.

No scipy: the p-value uses Zar's (1999, eq. 27.4) approximation, accurate to about 1e-3 for n >= 10.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike


def mean_resultant_length(angles: ArrayLike) -> float:
    """R-bar in [0, 1]: the length of the mean unit vector of ``angles`` [rad]."""
    a = np.asarray(angles, float).ravel()
    if a.size == 0:
        raise ValueError("need at least one angle")
    return float(np.hypot(np.cos(a).mean(), np.sin(a).mean()))


def rayleigh_test(angles: ArrayLike) -> dict[str, float]:
    """Rayleigh test against the uniform distribution on the circle (alternative: unimodal).

    Args:
        angles: (n,) [rad].

    Returns:
        ``n``, ``r`` (mean resultant length), ``z`` = n r^2, ``p`` (small: not uniform) and
        ``mean_angle`` [rad].
    """
    a = np.asarray(angles, float).ravel()
    n = a.size
    r = mean_resultant_length(a)
    z = n * r * r
    big_r = n * r
    p = math.exp(math.sqrt(1 + 4 * n + 4 * (n * n - big_r * big_r)) - (1 + 2 * n))
    mean = math.atan2(float(np.sin(a).mean()), float(np.cos(a).mean()))
    return {"n": float(n), "r": r, "z": z, "p": min(max(p, 0.0), 1.0), "mean_angle": mean}


def axial_rayleigh_test(angles: ArrayLike) -> dict[str, float]:
    """Rayleigh test on doubled angles: detects a bimodal distribution with modes 180 deg apart.

    Returns:
        As :func:`rayleigh_test`; ``mean_angle`` is the axis in (-pi/2, pi/2] [rad].
    """
    out = rayleigh_test(2 * np.asarray(angles, float))
    out["mean_angle"] = out["mean_angle"] / 2
    return out
