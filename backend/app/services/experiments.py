"""Experiments: create (a full ExperimentSpec, or a run preset with overrides and a sweep), list,
inspect, rename, cancel, resume, delete, estimate and aggregate.

An experiment's networks are ordinary training runs (one per condition and seed, ``experiment_id``,
``condition_index``, ``replicate_index`` set); the manager trains each condition's queued runs as
one group job (a replicate ensemble). Adaptive (Optuna) searches are refused here: they run from
the command line (``motornet-studio experiment``).
"""

from __future__ import annotations

import math
from typing import Any

from sqlalchemy import and_, delete, func, select
from sqlalchemy.orm import Session

from backend.app import queueing
from backend.app.core.config import Settings
from backend.app.core.errors import Conflict, NotFound, as_rules, spec_error
from backend.app.experiment_state import condition_labels, experiment_runs, experiment_view
from backend.app.models import Experiment, Metric, Run, Snapshot, utcnow
from backend.app.run_specs import TrainingRunSpec
from backend.app.schemas import ExperimentCreate, ExperimentEstimate, ExperimentOut, ExperimentPatch
from backend.app.services import memory
from backend.app.status import ACTIVE_STATUSES, RESUMABLE_STATUSES, RunStatus
from backend.app.workers.manager import RunConflict, WorkerManager
from motornet_core import SpecError
from motornet_core.experiments import Condition, ExperimentSpec, conditions
from motornet_core.experiments.records import FINAL_KEYS, ConditionRecord, SeedRecord, aggregate_experiment
from motornet_core.training.records import dumps

SEARCH_REFUSED = "adaptive searches run from the command line: motornet-studio experiment"

# The estimate's rate model: constants from docs/training.md's measured figures (2-core shared CPU,
# one torch thread): tutorial_point_mass, 32 trials x 100 steps per iteration, trains at 5.8-8.7 it/s,
# i.e. ~0.14 s per iteration or ~4.4e-5 s per trial-step; OVERHEAD_S is the per-iteration cost that
# does not grow with the batch (Python dispatch, optimiser steps, the evaluation rollouts averaged).
# STARTUP_S is a group job's start (spawning the worker, importing torch, building the ensemble), as
# measured on that machine with tiny_point_mass experiments (5-8 s).
SECONDS_PER_TRIAL_STEP = 4.4e-5
OVERHEAD_S = 0.01
STARTUP_S = 6.0


def _relocate(errors: list[dict[str, Any]], overrides: dict[str, Any]) -> list[dict[str, Any]]:
    """Errors of the ExperimentSpec built from a preset request, located in that request's body."""
    out = []
    for e in errors:
        loc = str(e.get("loc", ""))
        if loc.startswith("base."):
            rest = loc[len("base.") :]
            swept = any(rest == k or rest.startswith(f"{k}.") for k in overrides)
            loc = f"overrides.{rest}" if swept else "preset"
        out.append({**e, "loc": loc})
    return out


def resolve_spec(req: ExperimentCreate, settings: Settings) -> tuple[ExperimentSpec, list[Condition]]:
    """The experiment's spec and conditions from the request, within the server's limits.

    Raises:
        SpecError: a bad spec, preset, override or sweep, a search, or a limit exceeded; each error's
            ``loc`` is the path into the request body (``spec.grid.train.lr``, ``grid.train.lr``).
    """
    if req.spec is not None:
        spec, prefix = req.spec, "spec."
    else:
        from motornet_core.run_presets import RUN_PRESETS, run_preset

        prefix = ""
        if req.preset not in RUN_PRESETS:
            raise spec_error("preset", f"unknown run preset; choose one of {sorted(RUN_PRESETS)}", req.preset)
        try:
            base = run_preset(req.preset).with_updates(req.overrides) if req.overrides else run_preset(req.preset)
        except SpecError as exc:
            raise as_rules([{**e, "loc": f"overrides.{e.get('loc', '')}"} for e in exc.errors]) from None
        data: dict[str, Any] = {"name": req.name or f"{req.preset} experiment", "base": base.model_dump(mode="json")}
        data.update({k: v for k in ("grid", "random", "search", "seeds", "notes") if (v := getattr(req, k)) is not None})
        try:
            spec = ExperimentSpec.parse(data)
        except SpecError as exc:
            raise as_rules(_relocate(exc.errors, req.overrides)) from None
    if spec.search is not None:
        raise spec_error(f"{prefix}search", SEARCH_REFUSED, None)
    conds = conditions(spec)
    _check_limits(spec, conds, settings, prefix, req.overrides)
    return spec, conds


def _check_limits(
    spec: ExperimentSpec, conds: list[Condition], settings: Settings, prefix: str, overrides: dict[str, Any]
) -> None:
    def where(path: str) -> str:
        if path in spec.grid:
            return f"{prefix}grid.{path}"
        if spec.random is not None and path in spec.random.params:
            return f"{prefix}random.params.{path}"
        if prefix:
            return f"{prefix}base.{path}"
        return f"overrides.{path}" if path in overrides else "preset"

    for c in conds:
        t = c.spec.train
        if t.n_iterations > settings.max_iterations:
            raise spec_error(where("train.n_iterations"), f"this server allows at most {settings.max_iterations}", t.n_iterations)
        if t.batch_size > settings.max_batch_size:
            raise spec_error(where("train.batch_size"), f"this server allows at most {settings.max_batch_size}", t.batch_size)
    for c in conds:  # a condition's seeds train together as one ensemble: their memory adds up
        try:
            memory.check_run_memory(c.spec, settings, replicates=spec.seeds)
        except SpecError as exc:
            raise SpecError(
                [{**e, "loc": where(e["loc"]) if e["loc"] != "seeds" else f"{prefix}seeds"} for e in exc.errors]
            ) from None
    n = len(conds) * spec.seeds
    if n > settings.max_queued_runs:
        raise spec_error(
            f"{prefix}seeds",
            f"{len(conds)} conditions x {spec.seeds} seeds = {n} networks; this server queues at most {settings.max_queued_runs}",
            spec.seeds,
        )


def create_experiment(session: Session, req: ExperimentCreate, settings: Settings) -> Experiment:
    """Insert the experiment and one queued run per condition and seed (in one transaction).

    Raises:
        SpecError: see :func:`resolve_spec`; Overloaded: the queue cannot take every network now.
    """
    spec, conds = resolve_spec(req, settings)
    n = len(conds) * spec.seeds
    with queueing.ADMISSION:  # count and insert as one step (see backend.app.queueing)
        queueing.ensure_room(session, settings, n, what="network")
        return _insert_experiment(session, req, spec, conds)


def _insert_experiment(session: Session, req: ExperimentCreate, spec: Any, conds: list[Any]) -> Experiment:
    queued_at = utcnow()
    exp = Experiment(name=spec.name, spec=spec.model_dump(mode="json"), status=RunStatus.QUEUED, notes=spec.notes)
    session.add(exp)
    session.flush()
    for c in conds:
        seed = c.spec.train.seed
        for i in range(spec.seeds):
            name = f"{c.spec.name} seed {seed + i}"[:128]
            rep = c.spec.with_updates({"train.seed": seed + i, "train.replicates": 1, "name": name})
            session.add(
                Run(
                    **TrainingRunSpec(spec=rep).columns(),
                    name=name,
                    tags=list(rep.tags),
                    preset=req.preset,
                    status=RunStatus.QUEUED,
                    n_iterations=rep.train.n_iterations,
                    seed=rep.train.seed,
                    device=rep.train.device,
                    experiment_id=exp.id,
                    condition_index=c.index,
                    replicate_index=i,
                    queued_at=queued_at,
                )
            )
    session.commit()
    return exp


def estimate(req: ExperimentCreate, settings: Settings) -> ExperimentEstimate:
    """Conditions, networks, ensemble iterations and a wall-clock estimate (see the rate constants above)."""
    spec, conds = resolve_spec(req, settings)
    seconds = 0.0
    for c in conds:
        t = c.spec.train
        steps = max(1, round(c.spec.task.duration / c.spec.effector.dt))
        seconds += STARTUP_S + t.n_iterations * (OVERHEAD_S + SECONDS_PER_TRIAL_STEP * spec.seeds * t.batch_size * steps)
    parallel = max(1, min(settings.max_workers, len(conds)))
    return ExperimentEstimate(
        n_conditions=len(conds),
        seeds=spec.seeds,
        n_networks=len(conds) * spec.seeds,
        iterations=sum(c.spec.train.n_iterations for c in conds),
        estimated_seconds=round(seconds / parallel, 1),
    )


def get_experiment(session: Session, experiment_id: int) -> Experiment:
    """One experiment.

    Raises:
        NotFound: no such experiment.
    """
    exp = session.get(Experiment, experiment_id)
    if exp is None:
        raise NotFound(f"experiment {experiment_id} not found")
    return exp


def list_experiments(session: Session) -> list[Experiment]:
    """Every experiment, newest first."""
    return list(session.scalars(select(Experiment).order_by(Experiment.id.desc())))


def to_out(session: Session, exp: Experiment, manager: WorkerManager) -> ExperimentOut:
    """The experiment as served (progress includes what the workers reported since the last flush)."""
    return experiment_view(session, exp, manager.steps())


def update_experiment(session: Session, manager: WorkerManager, exp: Experiment, req: ExperimentPatch) -> Experiment:
    """Rename the experiment or edit its notes."""
    if req.name is not None:
        exp.name = req.name
    if req.notes is not None:
        exp.notes = req.notes
    session.commit()
    manager.watcher.touch(exp.id)
    return exp


def cancel_experiment(session: Session, manager: WorkerManager, exp: Experiment) -> None:
    """Cancel every queued or running network (running groups stop within the cancel grace)."""
    manager.cancel_many([r.id for r in experiment_runs(session, exp.id) if r.status in ACTIVE_STATUSES])


def resume_experiment(session: Session, manager: WorkerManager, exp: Experiment) -> None:
    """Queue every interrupted, failed or cancelled network again (from its checkpoint, or from scratch).

    Raises:
        Conflict: nothing to resume (every network is finished or active).
    """
    runs = [r for r in experiment_runs(session, exp.id) if r.status in RESUMABLE_STATUSES]
    if not runs:
        raise Conflict(f"experiment {exp.id} has no interrupted, failed or cancelled network to resume")
    try:
        manager.requeue_many([r.id for r in runs])
    except RunConflict as exc:
        raise Conflict(str(exc)) from None


def delete_experiment(session: Session, manager: WorkerManager, exp: Experiment) -> None:
    """Remove the experiment with its runs, their rows and files (stopping their workers first)."""
    run_ids = [r.id for r in experiment_runs(session, exp.id)]
    exp_id = exp.id
    session.rollback()
    manager.delete_many(run_ids)
    session.execute(delete(Run).where(Run.experiment_id == exp_id))  # any the manager did not know
    session.execute(delete(Experiment).where(Experiment.id == exp_id))
    session.commit()
    manager.watcher.close(exp_id, run_ids)


def aggregates(session: Session, exp: Experiment, keys: list[str], max_points: int) -> str:
    """The core's :func:`aggregate_experiment` of the experiment's networks, as JSON text (NaN as null).

    Each network's ``series`` are its metric rows for ``keys`` (``mean_endpoint_error``: its
    snapshots'); its final values are the last value of each of its metrics and its last snapshot's
    ``mean_endpoint_error``.
    """
    runs = experiment_runs(session, exp.id)
    records = []
    for index, (label, values) in enumerate(condition_labels(exp)):
        seeds = [_seed_record(session, r, keys) for r in runs if r.condition_index == index]
        records.append(ConditionRecord(index, label, values, seeds))
    return dumps(aggregate_experiment(records, keys=keys, max_points=max_points))


def _seed_record(session: Session, run: Run, keys: list[str]) -> SeedRecord:
    series: dict[str, tuple[list[int], list[float]]] = {}
    for key in keys:
        if key in FINAL_KEYS:
            value = Snapshot.data[key].as_float()
            query = select(Snapshot.step, value).where(Snapshot.run_id == run.id).order_by(Snapshot.step, Snapshot.id)
        else:
            query = select(Metric.step, Metric.value).where(Metric.run_id == run.id, Metric.key == key).order_by(Metric.step)
        rows = [(int(s), float(v)) for s, v in session.execute(query) if v is not None and math.isfinite(float(v))]
        if rows:
            series[key] = ([s for s, _ in rows], [v for _, v in rows])
    last = select(Metric.key, func.max(Metric.step).label("step")).where(Metric.run_id == run.id).group_by(Metric.key).subquery()
    finals = session.execute(
        select(Metric.key, Metric.value)
        .join(last, and_(Metric.key == last.c.key, Metric.step == last.c.step))
        .where(Metric.run_id == run.id)
    )
    final = {str(k): float(v) for k, v in finals}
    for key in FINAL_KEYS:
        value = Snapshot.data[key].as_float()
        latest = session.execute(
            select(value).where(Snapshot.run_id == run.id).order_by(Snapshot.step.desc(), Snapshot.id.desc()).limit(1)
        ).scalar()
        if latest is not None:
            final[key] = float(latest)
    return SeedRecord(seed=int(run.seed or 0), series=series, final=final, run_id=run.id)
