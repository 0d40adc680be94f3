"""``motornet-studio experiment SPEC.json --out DIR``: train an experiment's conditions x seeds and aggregate them.

Writes ``DIR/experiment.json`` (the spec), per condition ``DIR/c<index>/condition.json`` (its swept
values) and, per seed, ``DIR/c<index>/seed<seed>/`` as ``motornet-studio train`` writes a run
(``spec.json``, ``metrics.jsonl``, ``snapshots/``, ``checkpoint.pt``, ``summary.json``: each seed is
an ordinary run that ``train --resume`` continues), then ``DIR/aggregates.json``. Each condition's
seeds train together as one replicate ensemble. Run it again on the same DIR to resume: finished
conditions are kept, a condition cut short continues from its seeds' checkpoints. With a ``search``
(Optuna TPE with median pruning), trials are conditions; the study lives in ``DIR/optuna.db``.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from tqdm import tqdm

from motornet_core.errors import MotornetError
from motornet_core.experiments.records import FINAL_KEYS, ConditionRecord, SeedRecord, aggregate_experiment, final_values
from motornet_core.experiments.spec import Condition, ExperimentSpec, IntParam, UniformParam, condition_of, conditions
from motornet_core.open_loop import choose_cpu_kernels
from motornet_core.training.cli import FileSink
from motornet_core.training.ensemble import EnsembleTrainer, replicate_specs
from motornet_core.training.records import Snapshot, dumps

log = logging.getLogger(__name__)


def seed_dirs(out: Path, cond: Condition) -> list[Path]:
    """The run folders of a condition's seeds."""
    return [out / f"c{cond.index:03d}" / f"seed{s.train.seed}" for s in replicate_specs(cond.spec)]


def train_condition(
    out: Path, cond: Condition, bar: tqdm, on_snapshot: Callable[[int, list[Snapshot | None]], bool] | None = None
) -> bool:
    """Train (or resume) a condition's seeds as one ensemble; False when ``on_snapshot`` asked to stop."""
    dirs = seed_dirs(out, cond)
    (out / f"c{cond.index:03d}").mkdir(parents=True, exist_ok=True)
    (out / f"c{cond.index:03d}" / "condition.json").write_text(
        json.dumps({"index": cond.index, "label": cond.label, "values": cond.values}, indent=2), encoding="utf-8"
    )
    if all((d / "summary.json").is_file() for d in dirs):
        bar.update(cond.spec.train.n_iterations)
        return True
    checkpoints = [d / "checkpoint.pt" for d in dirs]
    if all(p.is_file() for p in checkpoints):
        trainer = EnsembleTrainer.from_checkpoints(cond.spec, checkpoints)
        resume_step: int | None = trainer.step
    else:
        trainer, resume_step = EnsembleTrainer(cond.spec), None
    bar.update(trainer.step)
    sinks: list[_Sink] = []
    for d, rep in zip(dirs, trainer.replicates, strict=True):
        d.mkdir(parents=True, exist_ok=True)
        (d / "spec.json").write_text(rep.spec.model_dump_json(indent=2), encoding="utf-8")
        sinks.append(_Sink(d, bar, resume_step, first=not sinks))
    stop = {"flag": False}
    if on_snapshot is not None:
        sinks[-1].after_snapshot = lambda step: stop.__setitem__("flag", not on_snapshot(step, [s.last for s in sinks]))
    try:
        results = trainer.train(sinks, should_stop=lambda: stop["flag"], checkpoint_paths=checkpoints)
    finally:
        for s in sinks:
            s.close()
    if stop["flag"]:
        return False
    for d, res in zip(dirs, results, strict=True):
        (d / "summary.json").write_text(dumps(res, indent=2), encoding="utf-8")
    return True


class _Sink(FileSink):
    """A seed's :class:`FileSink`; only the first seed's advances the bar (the ensemble steps together)."""

    def __init__(self, out: Path, bar: tqdm, resume_step: int | None, first: bool) -> None:
        super().__init__(out, bar if first else None, resume_step)
        self.last: Snapshot | None = None
        self.after_snapshot: Callable[[int], None] | None = None

    def on_snapshot(self, step: int, snapshot: Snapshot) -> None:
        super().on_snapshot(step, snapshot)
        self.last = snapshot
        if self.after_snapshot is not None:
            self.after_snapshot(step)


def load_records(out: Path, spec: ExperimentSpec) -> list[ConditionRecord]:
    """The conditions' per-seed series and final values read back from their run folders."""
    records = []
    for cdir in sorted(p for p in out.glob("c[0-9][0-9][0-9]") if (p / "condition.json").is_file()):
        meta = json.loads((cdir / "condition.json").read_text(encoding="utf-8"))
        seeds = []
        for sdir in sorted(cdir.glob("seed*"), key=lambda p: int(p.name[4:])):
            series: dict[str, tuple[list[int], list[float]]] = {}
            metrics = sdir / "metrics.jsonl"
            for line in metrics.read_text(encoding="utf-8").splitlines() if metrics.is_file() else []:
                row = json.loads(line)
                for key, value in row.items():
                    if key not in ("step", "seconds") and value is not None:
                        steps, values = series.setdefault(key, ([], []))
                        steps.append(int(row["step"]))
                        values.append(float(value))
            snaps = sorted((sdir / "snapshots").glob("step_*.json"))
            last = json.loads(snaps[-1].read_text(encoding="utf-8")) if snaps else None
            seeds.append(SeedRecord(int(sdir.name[4:]), series, final_values(series, last)))
        records.append(ConditionRecord(int(meta["index"]), str(meta["label"]), dict(meta["values"]), seeds))
    return records


def run_search(spec: ExperimentSpec, out: Path, bar: tqdm) -> None:
    """Optuna TPE trials (median pruning on the search's metric), one condition each."""
    import optuna

    search = spec.search
    assert search is not None
    storage = f"sqlite:///{(out / 'optuna.db').resolve()}"
    pruner = optuna.pruners.MedianPruner(n_startup_trials=2) if search.pruning else optuna.pruners.NopPruner()
    study = optuna.create_study(
        study_name=spec.name,
        storage=storage,
        load_if_exists=True,
        direction=search.direction,
        sampler=optuna.samplers.TPESampler(seed=search.seed),
        pruner=pruner,
    )
    done = len([t for t in study.trials if t.state.is_finished()])

    def objective(trial: optuna.Trial) -> float:
        values: dict[str, Any] = {}
        for path, p in search.params.items():
            if isinstance(p, UniformParam):
                values[path] = trial.suggest_float(path, p.low, p.high, log=p.log)
            elif isinstance(p, IntParam):
                values[path] = trial.suggest_int(path, p.low, p.high)
            else:
                values[path] = p.values[trial.suggest_categorical(path, list(range(len(p.values))))]
        cond = condition_of(spec, trial.number, values)

        def report(step: int, snaps: list[Snapshot | None]) -> bool:
            trial.report(_objective(search.metric, cond, out, snaps), step)
            return not trial.should_prune()

        if not train_condition(out, cond, bar, report):
            raise optuna.TrialPruned()
        return _objective(search.metric, cond, out, None)

    study.optimize(objective, n_trials=max(search.n_trials - done, 0))


def _objective(metric: str, cond: Condition, out: Path, snaps: list[Snapshot | None] | None) -> float:
    """Mean over the condition's seeds of ``metric``: a snapshot value (:data:`FINAL_KEYS`) or a metric's last value."""
    values = []
    for d, snap in zip(seed_dirs(out, cond), snaps or [None] * cond.spec.train.replicates, strict=True):
        if metric in FINAL_KEYS:
            if snap is None:
                last = sorted((d / "snapshots").glob("step_*.json"))[-1]
                values.append(float(json.loads(last.read_text(encoding="utf-8"))[metric]))
            else:
                values.append(float(getattr(snap, metric)))
        else:
            rows = (d / "metrics.jsonl").read_text(encoding="utf-8").splitlines()
            values.append(float(json.loads(rows[-1])[metric]))
    return sum(values) / len(values)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``motornet-studio experiment``."""
    p = argparse.ArgumentParser(prog="motornet-studio experiment", description="Train and aggregate an experiment.")
    p.add_argument("spec", help="an ExperimentSpec JSON file")
    p.add_argument("--out", required=True, help="output folder (an existing one is resumed)")
    p.add_argument("--threads", type=int, default=1, help="CPU threads for torch (default 1)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point; 0 on success, 1 if training diverged, 2 for a bad spec or folder."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
    torch.set_num_threads(max(args.threads, 1))
    out = Path(args.out)
    try:
        spec = ExperimentSpec.parse(Path(args.spec).read_text(encoding="utf-8"))
        saved = out / "experiment.json"
        if saved.is_file() and ExperimentSpec.parse(saved.read_text(encoding="utf-8")) != spec:
            sys.stderr.write(f"error: {out} holds another experiment (its experiment.json differs); use another --out\n")
            return 2
        out.mkdir(parents=True, exist_ok=True)
        saved.write_text(spec.model_dump_json(indent=2), encoding="utf-8")
    except (MotornetError, OSError) as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 2
    if spec.base.train.compile is not False:  # "auto" may compile
        choose_cpu_kernels(spec.base.train.batch_size * spec.seeds)
    per = spec.base.train.n_iterations
    total = per * (spec.search.n_trials if spec.search is not None else len(conditions(spec)))
    with tqdm(total=total, disable=args.quiet, desc=spec.name, unit="it", file=sys.stderr) as bar:
        try:
            if spec.search is not None:
                run_search(spec, out, bar)
            else:
                for cond in conditions(spec):
                    bar.set_description(f"{spec.name}: {cond.label}"[:60])
                    train_condition(out, cond, bar)
        except MotornetError as exc:
            sys.stderr.write(f"error: {exc}\n")
            return 1
    aggregates = aggregate_experiment(load_records(out, spec))
    (out / "aggregates.json").write_text(dumps(aggregates, indent=2), encoding="utf-8")
    for c in aggregates["conditions"]:
        final = c["final"].get("loss", {})
        sys.stdout.write(
            f"{c['label']}: n={c['n']} final loss {final.get('mean', float('nan')):.4g} "
            f"[{final.get('low', float('nan')):.4g}, {final.get('high', float('nan')):.4g}]\n"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
