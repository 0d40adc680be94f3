"""Studies: the catalogue, launching a study as a run, and a finished study's result."""

from __future__ import annotations

from fastapi import APIRouter, status
from fastapi.responses import FileResponse

from backend.app.api.deps import ManagerDep, SessionDep, SettingsDep
from backend.app.schemas import PathId, RunOut, StudyOut, StudyResultOut, StudyRunCreate
from backend.app.services import runs as run_service
from backend.app.services import studies as service

router = APIRouter(prefix="/api", tags=["studies"])

MEDIA = {".json": "application/json", ".csv": "text/csv"}


@router.get("/studies")
def list_studies() -> list[StudyOut]:
    """The paper's experiments: title, description, expected duration, parameter schema and defaults."""
    return service.list_studies()


@router.get("/studies/{name}")
def get_study(name: str) -> StudyOut:
    """One study of the catalogue (404 if unknown)."""
    return service.get_study(name)


@router.post("/studies/{name}/runs", status_code=status.HTTP_201_CREATED)
def run_study(name: str, req: StudyRunCreate, session: SessionDep, settings: SettingsDep, manager: ManagerDep) -> RunOut:
    """Queue a study run with parameter overrides (422 naming ``params.<field>``; 404 unknown study)."""
    run = service.create_study_run(session, name, req, settings)
    manager.wake()
    return run_service.to_out(run, manager)


@router.get("/runs/{run_id}/result")
def get_result(run_id: PathId, session: SessionDep) -> StudyResultOut:
    """A finished study run's figures, table and summary (409 while it has not finished)."""
    return service.result(session, run_id)


@router.get("/runs/{run_id}/result/{filename}", response_class=FileResponse)
def get_result_file(run_id: PathId, filename: str, session: SessionDep) -> FileResponse:
    """One stored result file: figures.json, table.json, table.csv or summary.json."""
    path = service.result_file(session, run_id, filename)
    return FileResponse(path, media_type=MEDIA[path.suffix], filename=f"run-{run_id}-{filename}")
