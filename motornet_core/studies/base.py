"""What every study shares: its catalogue entry, its result, progress reporting and file output."""

from __future__ import annotations

import csv
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from motornet_core.specs.base import SpecModel
from motornet_core.training.records import Snapshot, dumps, jsonable
from motornet_core.training.sinks import NullSink, TrainingSink


class StudyCancelled(Exception):
    """Raised inside a study when ``should_stop()`` returned True; :func:`run_study` turns it into a result."""


@dataclass(frozen=True)
class StudyInfo:
    """A study in the catalogue.

    Attributes:
        name: the key in :data:`~motornet_core.studies.STUDIES` and on the command line.
        title: one line for a menu.
        description: what it reproduces and how to read it (a paragraph).
        params: the pydantic :class:`SpecModel` of its parameters (``params.model_json_schema()``
            builds a form; ``params.parse(dict)`` validates overrides).
        expected_seconds: rough duration with default parameters on a 2-core CPU.
        trains: True when the study trains networks (it then streams progress to the sink).
        run: ``run(params, ctx) -> (figures, table, summary)``.
        quick: parameter overrides of the quick mode (2 seeds, few iterations: a pipeline check in
            seconds, not a result; ``motornet-studio study NAME --quick``).
    """

    name: str
    title: str
    description: str
    params: type[SpecModel]
    expected_seconds: float
    trains: bool
    run: Callable[[Any, StudyContext], tuple[dict[str, dict], list[dict], dict]]
    quick: dict[str, Any] = field(default_factory=dict)


@dataclass
class StudyResult:
    """What a study produced.

    Attributes:
        name: the study.
        params: the validated parameters, as a JSON dict.
        figures: plotly figure dicts (``{"data": [...], "layout": {...}}``, plain lists), by key.
        table: rows of numbers (one dict per row, the same keys in every row).
        summary: headline numbers (p-values, mean deviations, ...).
        seconds: wall-clock duration.
        cancelled: True when ``should_stop()`` ended it early (figures, table and summary then hold
            whatever was finished; usually empty).
    """

    name: str
    params: dict[str, Any]
    figures: dict[str, dict] = field(default_factory=dict)
    table: list[dict[str, Any]] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    cancelled: bool = False

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict of everything (NaN and infinities as None)."""
        return jsonable(
            {
                "name": self.name,
                "params": self.params,
                "figures": self.figures,
                "table": self.table,
                "summary": self.summary,
                "seconds": self.seconds,
                "cancelled": self.cancelled,
            }
        )

    def headline(self) -> dict[str, Any]:
        """The small JSON summary a finished study run keeps: ``{"study", "seconds", "summary"}``."""
        return jsonable({"study": self.name, "seconds": round(self.seconds, 3), "summary": self.summary})

    def write(self, out_dir: str | Path) -> dict[str, Path]:
        """Write ``figures.json``, ``table.csv``, ``table.json`` and ``summary.json`` (with params and seconds)."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        paths = {
            "figures": out / "figures.json",
            "table_csv": out / "table.csv",
            "table_json": out / "table.json",
            "summary": out / "summary.json",
        }
        paths["figures"].write_text(dumps(self.figures), encoding="utf-8")
        paths["table_json"].write_text(dumps(self.table, indent=1), encoding="utf-8")
        write_csv(paths["table_csv"], self.table)
        head = {"study": self.name, "params": self.params, "seconds": round(self.seconds, 2), "cancelled": self.cancelled}
        paths["summary"].write_text(dumps({**head, "summary": self.summary}, indent=2), encoding="utf-8")
        return paths


def write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    """Rows as CSV (the union of keys, in first-seen order)."""
    keys: list[str] = []
    for row in rows:
        keys += [k for k in row if k not in keys]
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=keys)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: _cell(v) for k, v in row.items()})


def _cell(value: Any) -> Any:
    return round(value, 6) if isinstance(value, float) else value


class StudyContext:
    """Progress and cancellation for a running study.

    Training phases report to ``sink`` with a step counter that keeps increasing across phases and
    networks, so a stream of metrics stays monotonic; every phase is announced by an ``on_log``.
    """

    def __init__(self, sink: TrainingSink | None = None, should_stop: Callable[[], bool] | None = None) -> None:
        self.sink: TrainingSink = sink if sink is not None else NullSink()
        self._should_stop = should_stop
        self.step_offset = 0
        self.t0 = time.perf_counter()

    def stopped(self) -> bool:
        """True when the caller asked to stop."""
        return bool(self._should_stop is not None and self._should_stop())

    def check(self) -> None:
        """Raise :class:`StudyCancelled` when the caller asked to stop."""
        if self.stopped():
            raise StudyCancelled

    def log(self, message: str, level: str = "info") -> None:
        """A human-readable progress line."""
        self.sink.on_log(level, message)


class OffsetSink(NullSink):
    """Forwards a trainer's metrics and snapshots to the study's sink, shifted by the context's step offset."""

    def __init__(self, ctx: StudyContext, phase: str) -> None:
        self.ctx = ctx
        self.phase = phase
        self.base = ctx.step_offset

    def on_metric(self, step: int, values: dict[str, float]) -> None:
        """Forward with the global step."""
        self.ctx.step_offset = self.base + step
        self.ctx.sink.on_metric(self.base + step, values)

    def on_snapshot(self, step: int, snapshot: Snapshot) -> None:
        """Forward with the global step and the phase name."""
        self.ctx.sink.on_snapshot(self.base + step, replace(snapshot, phase=self.phase))

    def on_log(self, level: str, message: str) -> None:
        """Forward with the phase name."""
        self.ctx.sink.on_log(level, f"[{self.phase}] {message}")
