"""Statistics across the seeds of an experiment's conditions (scipy.stats for intervals and tests).

* :func:`summarise`: n, mean, standard deviation (ddof 1) and a 95% bootstrap interval of the mean
  (BCa, ``scipy.stats.bootstrap``) of one value per seed.
* :func:`curve`: the same per training step, for metric series of several seeds (downsampled).
* :func:`compare`: a condition against a reference condition: the difference of means with its
  bootstrap interval and Welch's t-test (``scipy.stats.ttest_ind(equal_var=False)``).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from scipy import stats

CONFIDENCE = 0.95
N_RESAMPLES = 2000


@dataclass(frozen=True)
class Summary:
    """One value per seed, summarised.

    Attributes:
        n: seeds with a finite value.
        mean: their mean (NaN without any).
        sd: their standard deviation (ddof 1; NaN below 2 seeds).
        low: lower end of the 95% bootstrap interval of the mean (NaN below 2 seeds).
        high: upper end of that interval.
    """

    n: int
    mean: float
    sd: float
    low: float
    high: float

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready numbers (NaN stays NaN; encode with :func:`motornet_core.training.dumps`)."""
        return asdict(self)


def _finite(values: Sequence[float]) -> np.ndarray:
    arr = np.asarray(values, dtype=np.float64)
    return arr[np.isfinite(arr)]


def bootstrap_interval(data: np.ndarray, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The 95% BCa bootstrap interval of the mean of each column of ``data`` (n seeds, k quantities).

    Percentile intervals where BCa is degenerate (2-3 seeds can make it so); a column whose values are
    all equal gets (value, value); fewer than 2 seeds give NaN.
    """
    data = np.asarray(data, dtype=np.float64)
    mean = data.mean(axis=0)
    if data.shape[0] < 2:
        return np.full_like(mean, np.nan), np.full_like(mean, np.nan)
    low, high = mean.copy(), mean.copy()
    varying = np.ptp(data, axis=0) > 0
    if bool(varying.any()):
        cols = data[:, varying]
        opts: dict[str, Any] = {"axis": 0, "confidence_level": CONFIDENCE, "n_resamples": N_RESAMPLES, "rng": seed}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ci = stats.bootstrap((cols,), np.mean, method="BCa", **opts).confidence_interval
            lo, hi = np.atleast_1d(ci.low).copy(), np.atleast_1d(ci.high).copy()
            bad = ~(np.isfinite(lo) & np.isfinite(hi))
            if bool(bad.any()):
                pct = stats.bootstrap((cols[:, bad],), np.mean, method="percentile", **opts).confidence_interval
                lo[bad], hi[bad] = pct.low, pct.high
        low[varying], high[varying] = lo, hi
    return low, high


def summarise(values: Sequence[float], seed: int = 0) -> Summary:
    """n, mean, sd and the 95% bootstrap interval of the mean of one value per seed (non-finite values dropped)."""
    arr = _finite(values)
    n = int(arr.size)
    if n == 0:
        return Summary(0, math.nan, math.nan, math.nan, math.nan)
    mean = float(arr.mean())
    if n < 2:
        return Summary(1, mean, math.nan, math.nan, math.nan)
    low, high = bootstrap_interval(arr[:, None], seed=seed)
    return Summary(n, mean, float(arr.std(ddof=1)), float(low[0]), float(high[0]))


def curve(series: Sequence[tuple[Sequence[int], Sequence[float]]], max_points: int = 200, seed: int = 0) -> dict[str, list[Any]]:
    """Mean, sd and 95% interval across seeds at each step that every seed has, downsampled to ``max_points``.

    Args:
        series: per seed, (steps, values) of one metric.

    Returns:
        ``{"step", "mean", "sd", "low", "high", "n"}``, lists of equal length.
    """
    if not series:
        return {k: [] for k in ("step", "mean", "sd", "low", "high", "n")}
    maps = [dict(zip((int(s) for s in steps), (float(v) for v in values), strict=True)) for steps, values in series]
    common = sorted(set.intersection(*(set(m) for m in maps)))
    if len(common) > max_points:
        idx = np.unique(np.round(np.linspace(0, len(common) - 1, max_points)).astype(int))
        common = [common[i] for i in idx]
    if not common:
        return {k: [] for k in ("step", "mean", "sd", "low", "high", "n")}
    data = np.array([[m[s] for s in common] for m in maps], dtype=np.float64)  # (seeds, points)
    n = data.shape[0]
    low, high = bootstrap_interval(data, seed=seed)
    sd = data.std(axis=0, ddof=1) if n > 1 else np.full(len(common), np.nan)
    return {
        "step": common,
        "mean": data.mean(axis=0).tolist(),
        "sd": sd.tolist(),
        "low": low.tolist(),
        "high": high.tolist(),
        "n": [n] * len(common),
    }


@dataclass(frozen=True)
class Comparison:
    """A condition's seeds against a reference condition's.

    Attributes:
        difference: mean(condition) - mean(reference).
        low, high: 95% bootstrap interval of that difference (independent resampling of both groups).
        t: Welch's t statistic; p: its two-sided p-value (NaN below 2 seeds in either group).
        n: seeds in the condition; n_reference: seeds in the reference.
    """

    difference: float
    low: float
    high: float
    t: float
    p: float
    n: int
    n_reference: int

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready numbers."""
        return asdict(self)


def compare(values: Sequence[float], reference: Sequence[float], seed: int = 0) -> Comparison:
    """Difference of means with a bootstrap interval, and Welch's t-test (two-sided)."""
    a, b = _finite(values), _finite(reference)
    if a.size == 0 or b.size == 0:
        return Comparison(math.nan, math.nan, math.nan, math.nan, math.nan, int(a.size), int(b.size))
    diff = float(a.mean() - b.mean())
    if a.size < 2 or b.size < 2:
        return Comparison(diff, math.nan, math.nan, math.nan, math.nan, int(a.size), int(b.size))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        test = stats.ttest_ind(a, b, equal_var=False)
        res = stats.bootstrap(
            (a, b), lambda x, y, axis=-1: np.mean(x, axis=axis) - np.mean(y, axis=axis),
            confidence_level=CONFIDENCE, n_resamples=N_RESAMPLES, method="percentile", rng=seed,
        )  # fmt: skip
    return Comparison(
        diff,
        float(res.confidence_interval.low),
        float(res.confidence_interval.high),
        float(test.statistic),
        float(test.pvalue),
        int(a.size),
        int(b.size),
    )


@dataclass(frozen=True)
class PairedComparison:
    """Paired values (one pair per seed: the same network in two conditions).

    Attributes:
        difference: mean of the per-seed differences (condition - reference).
        low, high: 95% BCa bootstrap interval of that mean (NaN below 2 pairs).
        t: the paired t statistic (``scipy.stats.ttest_rel``); p: its two-sided p-value.
        n: pairs with both values finite.
    """

    difference: float
    low: float
    high: float
    t: float
    p: float
    n: int

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready numbers."""
        return asdict(self)


def compare_paired(values: Sequence[float], reference: Sequence[float], seed: int = 0) -> PairedComparison:
    """Mean per-seed difference with its bootstrap interval, and the paired t-test (two-sided).

    Pairs where either value is not finite are dropped. All differences equal: the interval is that
    value and t, p are NaN (no variance to test against).
    """
    a, b = np.asarray(values, dtype=np.float64), np.asarray(reference, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"paired values need equal lengths, got {a.shape[0]} and {b.shape[0]}")
    keep = np.isfinite(a) & np.isfinite(b)
    d = a[keep] - b[keep]
    n = int(d.size)
    if n == 0:
        return PairedComparison(math.nan, math.nan, math.nan, math.nan, math.nan, 0)
    s = summarise(d.tolist(), seed=seed)
    if n < 2 or np.ptp(d) == 0:
        return PairedComparison(float(d.mean()), s.low, s.high, math.nan, math.nan, n)
    test = stats.ttest_rel(a[keep], b[keep])
    return PairedComparison(float(d.mean()), s.low, s.high, float(test.statistic), float(test.pvalue), n)
