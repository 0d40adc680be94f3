"""Health, presets, JSON schemas and validation."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Request
from sqlalchemy import func, select

import motornet_core
from backend.app.api.deps import ManagerDep, SessionDep, SettingsDep
from backend.app.models import Run
from backend.app.schemas import HealthOut, PresetsOut, SpecKind, ValidateOut
from backend.app.services import specs
from backend.app.status import RunStatus

router = APIRouter(prefix="/api", tags=["meta"])


@router.get("/health")
def health(request: Request, settings: SettingsDep, session: SessionDep, manager: ManagerDep) -> HealthOut:
    """Liveness, worker capacity, queue length, and the websocket messages dropped for slow viewers."""
    queued = session.scalar(select(func.count()).select_from(Run).where(Run.status == RunStatus.QUEUED)) or 0
    return HealthOut(
        version=motornet_core.__version__,
        max_workers=settings.max_workers,
        active_runs=manager.running_count(),
        queued_runs=queued,
        ws_dropped_messages=request.app.state.hub.dropped(),
    )


@router.get("/presets")
def get_presets() -> PresetsOut:
    """Every effector, task, run and study preset by name."""
    return PresetsOut(**specs.all_presets())


@router.get("/schema/{kind}")
def get_schema(kind: SpecKind) -> dict[str, Any]:
    """The JSON schema of a spec kind (``model_json_schema()``)."""
    return specs.json_schema(kind)


@router.post("/validate/{kind}")
def validate(kind: SpecKind, data: Annotated[Any, Body()]) -> ValidateOut:
    """Validate a spec: 200 with ``valid`` and every error's path, also when invalid."""
    return specs.validate(kind, data)
