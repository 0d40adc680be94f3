"""Request dependencies: settings, sessions, the manager, and lookup-or-404."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from backend.app.core.config import Settings
from backend.app.models import Run
from backend.app.schemas import PathId
from backend.app.services import runs as run_service
from backend.app.workers.manager import WorkerManager


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_session(request: Request) -> Iterator[Session]:
    session = request.app.state.sessions()
    try:
        yield session
    finally:
        session.close()


def get_manager(request: Request) -> WorkerManager:
    return request.app.state.manager


SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[Session, Depends(get_session)]
ManagerDep = Annotated[WorkerManager, Depends(get_manager)]


def run_or_404(run_id: PathId, session: SessionDep) -> Run:
    """The run named in the path (404 if unknown)."""
    return run_service.get_run(session, run_id)


RunDep = Annotated[Run, Depends(run_or_404)]
