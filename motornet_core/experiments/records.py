"""An experiment's results per condition and seed, and the aggregates computed from them.

The command line reads these from its run folders and the studio from its database; both hand the
same :class:`SeedRecord` lists to :func:`aggregate_experiment`, so their aggregates agree.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from motornet_core.experiments.aggregate import compare, curve, summarise

FINAL_KEYS = ("mean_endpoint_error",)  # per-seed values read from the last evaluation snapshot


@dataclass(frozen=True)
class SeedRecord:
    """One network of a condition.

    Attributes:
        seed: its ``train.seed``.
        series: metric key -> (steps, values), e.g. ``{"loss": ([1, 2, ...], [0.9, 0.8, ...])}``.
        final: per-network end values: the last value of every series, plus the last snapshot's
            ``mean_endpoint_error`` [m] where there is one.
        run_id: the studio's run id of this network (None on the command line).
    """

    seed: int
    series: dict[str, tuple[list[int], list[float]]]
    final: dict[str, float]
    run_id: int | None = None


@dataclass(frozen=True)
class ConditionRecord:
    """A condition's seeds.

    Attributes:
        index: the condition's position in the experiment.
        label: ``path=value, ...``.
        values: the swept values.
        seeds: one record per network.
    """

    index: int
    label: str
    values: dict[str, Any]
    seeds: list[SeedRecord] = field(default_factory=list)


def final_values(series: dict[str, tuple[list[int], list[float]]], last_snapshot: dict[str, Any] | None) -> dict[str, float]:
    """The last value of each series, and the snapshot's end values (:data:`FINAL_KEYS`)."""
    out = {key: float(values[-1]) for key, (_, values) in series.items() if values}
    for key in FINAL_KEYS:
        if last_snapshot is not None and last_snapshot.get(key) is not None:
            out[key] = float(last_snapshot[key])
    return out


def aggregate_experiment(
    records: Sequence[ConditionRecord], keys: Sequence[str] | None = None, max_points: int = 200
) -> dict[str, Any]:
    """Per condition: n, mean, sd and 95% bootstrap interval across seeds of every final value and of each
    metric per step (downsampled), and each final value compared with the first condition's.

    Args:
        records: the conditions in experiment order.
        keys: the metric series to aggregate per step (default: every key of the first seed).
        max_points: steps per curve at most.

    Returns:
        ``{"conditions": [{"index", "label", "values", "n", "run_ids", "runs": [{"run_id", "seed",
        "final": {key: value}}] (each network's own final values), "final": {key: Summary},
        "curves": {key: curve}, "vs_reference": {key: Comparison}}], "reference": 0}`` (plain JSON-ready
        dicts; NaN where a statistic does not exist, e.g. an interval of one seed).
    """
    out: list[dict[str, Any]] = []
    reference = records[0] if records else None
    for cond in records:
        seeds = cond.seeds
        series_keys = list(keys) if keys is not None else (list(seeds[0].series) if seeds else [])
        final_keys = sorted({k for s in seeds for k in s.final})
        entry: dict[str, Any] = {
            "index": cond.index,
            "label": cond.label,
            "values": cond.values,
            "n": len(seeds),
            "run_ids": [s.run_id for s in seeds],
            "runs": [{"run_id": s.run_id, "seed": s.seed, "final": dict(s.final)} for s in seeds],
            "final": {k: summarise([s.final.get(k, float("nan")) for s in seeds]).to_dict() for k in final_keys},
            "curves": {k: curve([s.series[k] for s in seeds if k in s.series], max_points=max_points) for k in series_keys},
            "vs_reference": {},
        }
        if reference is not None and cond is not reference:
            entry["vs_reference"] = {
                k: compare(
                    [s.final.get(k, float("nan")) for s in seeds], [s.final.get(k, float("nan")) for s in reference.seeds]
                ).to_dict()
                for k in final_keys
            }
        out.append(entry)
    return {"conditions": out, "reference": 0}
