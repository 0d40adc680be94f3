"""Request dependencies: settings, sessions, the manager, and lookup-or-404."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from backend.app.core.config import Settings
from backend.app.models import Experiment, Run
from backend.app.schemas import PathId
from backend.app.services import experiments as experiment_service
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


def experiment_or_404(experiment_id: PathId, session: SessionDep) -> Experiment:
    """The experiment named in the path (404 if unknown)."""
    return experiment_service.get_experiment(session, experiment_id)


ExperimentDep = Annotated[Experiment, Depends(experiment_or_404)]
