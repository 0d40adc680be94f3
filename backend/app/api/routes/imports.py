"""``POST /api/runs/import``: a run rebuilt from an uploaded checkpoint file."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, status
from starlette.concurrency import run_in_threadpool

from backend.app.api.deps import ManagerDep, SessionDep, SettingsDep
from backend.app.schemas import RunOut
from backend.app.services import imports as service
from backend.app.services import runs as run_service

router = APIRouter(prefix="/api/runs", tags=["runs"])

BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
        "description": "the checkpoint file (GET /api/runs/{id}/checkpoint of this or another studio)",
    }
}


@router.post("/import", status_code=status.HTTP_201_CREATED, openapi_extra=BODY)
async def import_run(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    manager: ManagerDep,
    name: Annotated[str | None, Query(min_length=1, max_length=128, description="the new run's name")] = None,
) -> RunOut:
    """Import a checkpoint (the file as the body): weights-only loadable, within ``max_checkpoint_bytes``.

    The run is rebuilt from the checkpoint's embedded RunSpec: ``interrupted`` (resume continues
    training) before its last iteration, ``finished`` after it; 422 naming ``checkpoint`` otherwise.
    """
    data = await request.body()
    run = await run_in_threadpool(service.import_checkpoint, session, settings, data, name)
    return run_service.to_out(run, manager)
