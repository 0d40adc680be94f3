"""Experiments: create, estimate, list, inspect, rename, cancel, resume, delete, aggregate."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from backend.app.api.deps import ExperimentDep, ManagerDep, SessionDep, SettingsDep
from backend.app.schemas import ExperimentCreate, ExperimentEstimate, ExperimentOut, ExperimentPatch
from backend.app.services import experiments as service

router = APIRouter(prefix="/api/experiments", tags=["experiments"])


@router.post("", status_code=status.HTTP_201_CREATED)
def create_experiment(req: ExperimentCreate, session: SessionDep, settings: SettingsDep, manager: ManagerDep) -> ExperimentOut:
    """Queue an experiment: one run per condition and seed, each condition's seeds trained as one group job."""
    exp = service.create_experiment(session, req, settings)
    manager.wake()
    return service.to_out(session, exp, manager)


@router.post("/estimate")
def estimate_experiment(req: ExperimentCreate, settings: SettingsDep) -> ExperimentEstimate:
    """What an experiment would train and roughly how long it would take (same body as create)."""
    return service.estimate(req, settings)


@router.get("")
def list_experiments(session: SessionDep, manager: ManagerDep) -> list[ExperimentOut]:
    """Every experiment, newest first."""
    return [service.to_out(session, e, manager) for e in service.list_experiments(session)]


@router.get("/{experiment_id}")
def get_experiment(exp: ExperimentDep, session: SessionDep, manager: ManagerDep) -> ExperimentOut:
    """Status, progress and conditions (each with its runs) of one experiment."""
    return service.to_out(session, exp, manager)


@router.patch("/{experiment_id}")
def update_experiment(req: ExperimentPatch, exp: ExperimentDep, session: SessionDep, manager: ManagerDep) -> ExperimentOut:
    """Rename the experiment or edit its notes."""
    return service.to_out(session, service.update_experiment(session, manager, exp, req), manager)


@router.post("/{experiment_id}/cancel")
def cancel_experiment(exp: ExperimentDep, session: SessionDep, manager: ManagerDep) -> ExperimentOut:
    """Cancel every queued or running network (running groups stop within the cancel grace)."""
    service.cancel_experiment(session, manager, exp)
    session.expire_all()
    return service.to_out(session, exp, manager)


@router.post("/{experiment_id}/resume")
def resume_experiment(exp: ExperimentDep, session: SessionDep, manager: ManagerDep) -> ExperimentOut:
    """Queue every interrupted, failed or cancelled network again, from its checkpoint (409: nothing to resume)."""
    service.resume_experiment(session, manager, exp)
    session.expire_all()
    return service.to_out(session, exp, manager)


@router.delete("/{experiment_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_experiment(exp: ExperimentDep, session: SessionDep, manager: ManagerDep) -> Response:
    """Remove the experiment with its runs, their metrics, snapshots and files."""
    service.delete_experiment(session, manager, exp)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{experiment_id}/aggregates")
def get_aggregates(
    exp: ExperimentDep,
    session: SessionDep,
    keys: Annotated[
        str, Query(description="comma-separated metric keys (mean_endpoint_error: from snapshots)")
    ] = "loss,mean_endpoint_error",
    max_points: Annotated[int, Query(ge=2, le=10_000)] = 200,
) -> Response:
    """Per condition: n, mean, sd and 95% bootstrap interval of final values and per-step curves, and
    Welch comparisons against condition 0 (the core's ``aggregate_experiment``; NaN as null)."""
    wanted = [k for k in keys.split(",") if k]
    return Response(service.aggregates(session, exp, wanted, max_points), media_type="application/json")
