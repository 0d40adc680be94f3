"""Training runs: create, list, inspect, cancel, resume, delete; metrics, snapshots, checkpoints."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response, status
from fastapi.responses import FileResponse, PlainTextResponse
from starlette.concurrency import run_in_threadpool

from backend.app.api.deps import ManagerDep, RunDep, SessionDep, SettingsDep
from backend.app.schemas import (
    MAX_ID,
    InterventionIn,
    InterventionOut,
    LogOut,
    MetricsOut,
    PathId,
    RunCreate,
    RunOut,
    RunPatch,
    RunSummary,
    SnapshotInfo,
    SnapshotOut,
)
from backend.app.services import dynamics, playground
from backend.app.services import runs as service
from backend.app.status import RunKind, RunStatus
from motornet_core.specs import RunSpec
from motornet_core.training.dynamics import DynamicsParams

router = APIRouter(prefix="/api/runs", tags=["runs"])
# documented (the service checks them, naming the parameter): the run kinds and a comma-separated status list
KINDS = [*(k.value for k in RunKind), "all"]
SORTS = list(service.SORTS)
STATUS_LIST = "^,*(?:(?:" + "|".join(s.value for s in RunStatus) + ")(?:,+|$))*$"


@router.post("", status_code=status.HTTP_201_CREATED)
def create_run(req: RunCreate, session: SessionDep, settings: SettingsDep, manager: ManagerDep) -> RunOut:
    """Queue a run from a full spec or from a preset with dotted overrides."""
    run = service.create_run(session, req, settings)
    manager.wake()
    return service.to_out(run, manager)


@router.get("")
def list_runs(
    session: SessionDep,
    manager: ManagerDep,
    status: Annotated[
        str | None, Query(description="one status or several, comma separated", json_schema_extra={"pattern": STATUS_LIST})
    ] = None,
    tag: str | None = None,
    name: Annotated[str | None, Query(description="substring of the name")] = None,
    sort: Annotated[str, Query(description="column; - for descending", json_schema_extra={"enum": SORTS})] = "-created",
    kind: Annotated[str, Query(description="training (default), study or all", json_schema_extra={"enum": KINDS})] = "training",
    experiment: Annotated[
        int | None, Query(ge=1, le=MAX_ID, description="only the networks of this experiment (its id, 1..2^63-1)")
    ] = None,
) -> list[RunSummary]:
    """Runs, newest first by default (training runs unless ``kind`` says otherwise)."""
    return service.summaries(service.list_runs(session, status, tag, name, sort, kind, experiment), manager)


@router.get("/{run_id}")
def get_run(run: RunDep, manager: ManagerDep) -> RunOut:
    """Status, progress, timings, error, last metrics and the spec."""
    return service.to_out(run, manager)


@router.patch("/{run_id}")
def update_run(req: RunPatch, run: RunDep, session: SessionDep, manager: ManagerDep) -> RunOut:
    """Edit the run's notes or tags."""
    return service.to_out(service.update_run(session, run, req), manager)


@router.get("/{run_id}/spec")
def get_spec(run: RunDep) -> RunSpec:
    """The run's RunSpec (409 for a study run)."""
    return service.run_spec(run)


@router.post("/{run_id}/cancel")
def cancel_run(run_id: PathId, session: SessionDep, manager: ManagerDep) -> RunOut:
    """Cancel a queued run, or stop a running one (its last completed iteration is checkpointed; 503 while the
    database is locked)."""
    service.cancel_run(session, manager, run_id)
    session.expire_all()
    return service.to_out(service.get_run(session, run_id), manager)


@router.post("/{run_id}/resume")
def resume_run(run_id: PathId, session: SessionDep, manager: ManagerDep) -> RunOut:
    """Queue an interrupted, failed or cancelled run to continue from its last checkpoint, at the back of the
    queue (409 otherwise; 429 while the queue is full)."""
    service.resume_run(session, manager, run_id)
    session.expire_all()
    return service.to_out(service.get_run(session, run_id), manager)


@router.delete("/{run_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_run(run_id: PathId, session: SessionDep, manager: ManagerDep) -> Response:
    """Remove a run with its metrics, snapshots and files (a running worker is stopped)."""
    service.delete_run(session, manager, run_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{run_id}/metrics")
def get_metrics(
    run_id: PathId,
    session: SessionDep,
    keys: Annotated[str | None, Query(description="comma-separated keys; default all")] = None,
    max_points: Annotated[int, Query(ge=2, le=100_000)] = 1000,
) -> MetricsOut:
    """Metric series, downsampled to at most ``max_points`` per key."""
    wanted = [k for k in keys.split(",") if k] if keys else None
    return service.metrics(session, run_id, wanted, max_points)


@router.get("/{run_id}/metrics.csv", response_class=PlainTextResponse, responses={200: {"content": {"text/csv": {}}}})
def get_metrics_csv(run_id: PathId, session: SessionDep) -> Response:
    """Every stored metric row as CSV (``step`` then one column per key, no downsampling), as a download."""
    text = service.metrics_csv(session, run_id)
    headers = {"Content-Disposition": f'attachment; filename="run-{run_id}-metrics.csv"'}
    return Response(text, media_type="text/csv; charset=utf-8", headers=headers)


@router.get("/{run_id}/snapshots")
def list_snapshots(run_id: PathId, session: SessionDep) -> list[SnapshotInfo]:
    """Stored evaluation snapshots (index and step)."""
    return service.snapshots(session, run_id)


@router.get("/{run_id}/snapshots/{index}")
def get_snapshot(run_id: PathId, index: int, session: SessionDep) -> SnapshotOut:
    """One snapshot by its index in step order (-1: the latest)."""
    return service.snapshot(session, run_id, index)


@router.get("/{run_id}/logs")
def get_logs(run_id: PathId, session: SessionDep, limit: Annotated[int, Query(ge=1, le=10_000)] = 200) -> list[LogOut]:
    """The worker's latest log lines."""
    return service.logs(session, run_id, limit)


@router.get("/{run_id}/checkpoint", response_class=FileResponse)
def download_checkpoint(run_id: PathId, session: SessionDep) -> FileResponse:
    """The latest checkpoint (``torch.load(weights_only=True)``-loadable)."""
    path = service.checkpoint_file(session, run_id)
    return FileResponse(path, media_type="application/octet-stream", filename=f"run-{run_id}-checkpoint.pt")


@router.post("/{run_id}/interventions")
async def post_interventions(run_id: PathId, req: InterventionIn, session: SessionDep) -> InterventionOut:
    """Evaluate the run's latest checkpoint on its evaluation batch without and with the interventions (silence,
    clamp, scale or drive units, areas or muscles on a time window): hand paths, muscles and population activity."""
    out = await run_in_threadpool(playground.intervene_run, session, run_id, req.interventions, req.targets)
    return InterventionOut(**out)


@router.post("/{run_id}/dynamics")
async def post_dynamics(run_id: PathId, params: DynamicsParams, session: SessionDep) -> dict[str, Any]:
    """Dynamics of the run's latest checkpoint: fixed and slow points with their eigenvalues (Sussillo & Barak
    2013), trajectory tangling (Russo et al. 2018) and population trajectories in PC space, for the whole
    network and per area (docs/analyses.md). 409 before the first checkpoint; 429 while another analysis runs."""
    return await run_in_threadpool(dynamics.analyse_run, session, run_id, params)
