"""Studies: the catalogue, launching a study as a run, and a finished study's result."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, status
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field, create_model

from backend.app.api.deps import ManagerDep, SessionDep, SettingsDep
from backend.app.schemas import PathId, RunOut, StudyOut, StudyResultOut, StudyRunCreate
from backend.app.services import runs as run_service
from backend.app.services import studies as service
from motornet_core.studies import STUDIES

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


def _study_route(name: str, params: type[BaseModel], title: str) -> None:
    """``POST /api/studies/<name>/runs`` with the study's own parameter model in the document."""
    body = create_model(
        "".join(part.title() for part in name.split("_")) + "RunCreate",
        __base__=StudyRunCreate,
        params=(params, Field(default_factory=params, description=f"overrides of {name}'s parameters")),
    )

    def run_this_study(req: Any, session: SessionDep, settings: SettingsDep, manager: ManagerDep) -> RunOut:
        overrides = req.params.model_dump(mode="json", exclude_unset=True)
        generic = StudyRunCreate(params=overrides, name=req.name, tags=req.tags)
        run = service.create_study_run(session, name, generic, settings)
        manager.wake()
        return run_service.to_out(run, manager)

    run_this_study.__annotations__["req"] = body  # FastAPI reads the body's model from here
    router.add_api_route(
        f"/studies/{name}/runs",
        run_this_study,
        methods=["POST"],
        status_code=status.HTTP_201_CREATED,
        summary=f"Run {name}",
        description=f"Queue a run of {title!r} with parameter overrides (422 naming ``params.<field>``).",
        operation_id=f"run_study_{name}",
    )


for _info in STUDIES.values():
    _study_route(_info.name, _info.params, _info.title)


@router.post("/studies/{name}/runs", status_code=status.HTTP_201_CREATED, include_in_schema=False)
def run_study(name: str, req: StudyRunCreate, session: SessionDep, settings: SettingsDep, manager: ManagerDep) -> RunOut:
    """Any other study name: 404 (each study of the catalogue has its own route above)."""
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
