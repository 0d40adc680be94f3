"""Statistics across the seeds of a training study: intervals, direct tests and the claims they support.

Every number a training study reports is one value per seed (one network per seed); this module
turns those into a mean with its 95% interval (BCa bootstrap, :func:`~motornet_core.experiments.aggregate.summarise`)
and tests the comparison the study claims directly (scipy.stats):

* :func:`paired` : condition against reference on the same networks (paired t-test, ``ttest_rel``,
  and an exact sign-flip permutation test of the mean difference).
* :func:`independent` : two groups of networks (permutation test of the difference of means, exact
  for small groups, and Welch's t-test).
* :func:`axial_mean` : the mean axis of axial angles (one per seed) with a percentile bootstrap interval.
* :func:`claim` : one row of a study's ``claims`` table (what is claimed, the number, interval, n,
  test, p, and whether it holds at alpha = 0.05).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats

from motornet_core.experiments.aggregate import summarise

ALPHA = 0.05
N_RESAMPLES = 9999


def _arr(values: ArrayLike) -> np.ndarray:
    a = np.asarray(values, dtype=np.float64).ravel()
    return a[np.isfinite(a)]


def _mean_diff(x: np.ndarray, y: np.ndarray, axis: int = -1) -> np.ndarray:
    return np.mean(x, axis=axis) - np.mean(y, axis=axis)


def describe(values: ArrayLike, seed: int = 0) -> dict[str, Any]:
    """``n``, ``mean``, ``sd``, ``low``, ``high`` (95% BCa bootstrap interval of the mean) of one value per seed."""
    return summarise(list(_arr(values)), seed=seed).to_dict()


def paired(values: ArrayLike, reference: ArrayLike, seed: int = 0) -> dict[str, Any]:
    """Paired comparison of ``values`` against ``reference`` (one pair per seed, same networks).

    Returns:
        ``n``, ``mean`` (mean difference values - reference), ``sd``, ``low``/``high`` (95% bootstrap
        interval of the mean difference), ``t`` and ``p`` (paired t-test, two-sided) and ``p_perm``
        (exact sign-flip permutation test of the mean difference, two-sided; NaN below 2 pairs).
    """
    a, b = np.asarray(values, float).ravel(), np.asarray(reference, float).ravel()
    if a.shape != b.shape:
        raise ValueError(f"paired values need equal lengths: {a.shape} and {b.shape}")
    keep = np.isfinite(a) & np.isfinite(b)
    d = a[keep] - b[keep]
    out = describe(d, seed)
    out.update(t=math.nan, p=math.nan, p_perm=math.nan)
    if d.size >= 2:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            test = stats.ttest_rel(a[keep], b[keep])
            perm = stats.permutation_test(
                (d,), np.mean, permutation_type="samples", n_resamples=N_RESAMPLES, alternative="two-sided", rng=seed
            )
        out.update(t=float(test.statistic), p=float(test.pvalue), p_perm=float(perm.pvalue))
    return out


def independent(values: ArrayLike, reference: ArrayLike, seed: int = 0) -> dict[str, Any]:
    """Two independent groups of networks: ``values`` against ``reference``.

    Returns:
        ``n``, ``n_reference``, ``mean`` (difference of means), ``low``/``high`` (95% bootstrap
        interval of it), ``p_perm`` (permutation test of the difference of means, two-sided, exact
        when the groups are small) and ``t``/``p`` (Welch's t-test).
    """
    a, b = _arr(values), _arr(reference)
    out: dict[str, Any] = {"n": int(a.size), "n_reference": int(b.size), "mean": math.nan, "low": math.nan, "high": math.nan}
    out.update(t=math.nan, p=math.nan, p_perm=math.nan)
    if a.size == 0 or b.size == 0:
        return out
    out["mean"] = float(a.mean() - b.mean())
    if a.size < 2 or b.size < 2:
        return out
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        perm = stats.permutation_test(
            (a, b), _mean_diff, permutation_type="independent", n_resamples=N_RESAMPLES, alternative="two-sided", rng=seed
        )
        boot = stats.bootstrap((a, b), _mean_diff, method="percentile", n_resamples=2000, rng=seed)
        welch = stats.ttest_ind(a, b, equal_var=False)
    out.update(
        low=float(boot.confidence_interval.low),
        high=float(boot.confidence_interval.high),
        p_perm=float(perm.pvalue),
        t=float(welch.statistic),
        p=float(welch.pvalue),
    )
    return out


def axial_mean(axes: ArrayLike, seed: int = 0) -> dict[str, Any]:
    """Mean axis of axial angles [rad] (period pi, one per seed) and its 95% percentile bootstrap interval.

    Returns:
        ``n``, ``axis_deg`` in [0, 180), ``low_deg``/``high_deg`` (the interval's ends, unwrapped around
        the mean: low <= axis <= high, possibly outside [0, 180)), ``r`` (mean resultant length of the
        doubled angles: 1 when every seed has the same axis).
    """
    a = _arr(axes)
    out: dict[str, Any] = {"n": int(a.size), "axis_deg": math.nan, "low_deg": math.nan, "high_deg": math.nan, "r": math.nan}
    if a.size == 0:
        return out
    z = np.exp(2j * a)
    mean = float(np.angle(z.mean()) / 2)
    out.update(axis_deg=float(np.degrees(mean) % 180), r=float(abs(z.mean())))
    if a.size < 2:
        return out
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, a.size, (2000, a.size))
    boot = np.angle(z[idx].mean(1)) / 2
    rel = np.angle(np.exp(2j * (boot - mean))) / 2  # (-pi/2, pi/2] around the mean
    lo, hi = np.percentile(rel, [2.5, 97.5])
    centre = out["axis_deg"]
    out.update(low_deg=centre + float(np.degrees(lo)), high_deg=centre + float(np.degrees(hi)))
    return out


def fisher_combined(pvalues: Sequence[float]) -> float:
    """Fisher's combined p-value of independent tests (one per seed); NaN without any finite p."""
    p = _arr(pvalues)
    if p.size == 0:
        return math.nan
    return float(stats.combine_pvalues(np.clip(p, 1e-300, 1.0), method="fisher").pvalue)


def claim(
    text: str,
    measure: str,
    estimate: dict[str, Any],
    unit: str = "",
    test: str = "",
    p: float | None = None,
    holds: bool | None = None,
) -> dict[str, Any]:
    """One row of a study's ``claims``: the claim, the number (mean and 95% interval across seeds), n, the test and p.

    ``holds`` None: decided from p (< 0.05) when a p-value is given, else left None (a description).
    """
    if holds is None and p is not None and math.isfinite(p):
        holds = bool(p < ALPHA)
    row: dict[str, Any] = {
        "claim": text,
        "measure": measure,
        "unit": unit,
        "n": estimate.get("n"),
        "mean": estimate.get("mean", estimate.get("axis_deg")),
        "low": estimate.get("low", estimate.get("low_deg")),
        "high": estimate.get("high", estimate.get("high_deg")),
        "test": test,
        "p": p,
        "holds": holds,
    }
    return row
